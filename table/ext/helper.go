package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Helper is the helper match; it mirrors struct xt_helper_info (an int
// invert flag and a 30-byte NUL-terminated name).
type Helper struct {
	Invert     int32
	HelperName string // name[30]
}

const helperNameMax = 29

var helperInfo = &table.ExtInfo{
	Name: "helper", Kind: table.MatchKind, Family: table.BothFamilies, Size: helperSize,
	Options: opts("!helper="),
	New:     func(table.Family) table.Ext { return &Helper{} },
}

func (m *Helper) Info() *table.ExtInfo { return helperInfo }
func (m *Helper) Name() string         { return "helper" }

func (m *Helper) Parse(a *table.OptArgs) error {
	if a.Key() != "helper" {
		return unknownOption(a)
	}
	// iptables cuts a longer name to 29 bytes without a word, and the cut
	// name matches no helper.
	if len(a.Arg) > helperNameMax {
		return fmt.Errorf("helper name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), helperNameMax)
	}
	m.HelperName = a.Keep(a.Arg)
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Helper) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("helper") {
		return table.WithHint("e.g. --helper ftp", "--helper is required")
	}
	return nil
}

func (m *Helper) Print(w *table.Writer) { w.OptQuoted(m.Invert != 0, "helper", m.HelperName) }

// struct xt_helper_info: invert@0 (int), name[30]@4, 2 bytes of tail
// padding.
const (
	helperSize    = 36
	helperNameLen = 30
)

func (m *Helper) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, uint32(m.Invert))
	if err := w.String(4, helperNameLen, m.HelperName); err != nil {
		return fmt.Errorf("helper name: %w", err)
	}
	return nil
}

func (m *Helper) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Invert = int32(r.U32(0))
	m.HelperName = r.String(4, helperNameLen)
	return r.Err()
}
