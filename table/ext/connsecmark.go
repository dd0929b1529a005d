package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Connsecmark is the CONNSECMARK target; it mirrors struct
// xt_connsecmark_target_info.
type Connsecmark struct {
	Mode uint8
}

const (
	connsecmarkSave    = 1
	connsecmarkRestore = 2
)

var connsecmarkTargetInfo = &table.ExtInfo{
	Name: "CONNSECMARK", Kind: table.TargetKind, Family: table.BothFamilies, Size: connsecmarkSize,
	Options: opts("save", "restore"),
	// The kernel refuses it elsewhere: security marks belong to the
	// tables that run before and after the security decisions.
	Tables: []string{"mangle", "security"},
	New:    func(table.Family) table.Ext { return &Connsecmark{} },
}

func (t *Connsecmark) Info() *table.ExtInfo { return connsecmarkTargetInfo }
func (t *Connsecmark) Name() string         { return "CONNSECMARK" }

func (t *Connsecmark) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "save":
		t.Mode = connsecmarkSave
	case "restore":
		t.Mode = connsecmarkRestore
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *Connsecmark) Finish(c *table.FinishContext) error {
	switch {
	case c.Seen.Has("save") && c.Seen.Has("restore"):
		return fmt.Errorf("--save and --restore cannot be used together")
	case !c.Seen.Has("save") && !c.Seen.Has("restore"):
		return table.WithHint("use --save or --restore", "an operation is required")
	}
	return nil
}

func (t *Connsecmark) Print(w *table.Writer) {
	switch t.Mode {
	case connsecmarkSave:
		w.Flag(false, "save")
	case connsecmarkRestore:
		w.Flag(false, "restore")
	}
}

// struct xt_connsecmark_target_info: mode@0 (u8).
const connsecmarkSize = 1

func (t *Connsecmark) layout() []field { return []field{{0, &t.Mode}} }

func (t *Connsecmark) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *Connsecmark) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
