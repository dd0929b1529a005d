package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// NFAcct is the nfacct match at revision 1; it mirrors struct
// xt_nfacct_match_info_v1. The named accounting object must exist in the
// kernel (nfacct add NAME) when the rule is loaded.
type NFAcct struct {
	AcctName string // name[NFACCT_NAME_MAX = 32], NUL-terminated
	NFAcct   uint64 // kernel-private pointer
}

const nfacctNameSize = 32

var nfacctInfo = &table.ExtInfo{
	Name: "nfacct", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: nfacctSize,
	Options: opts("nfacct-name="),
	New:     func(table.Family) table.Ext { return &NFAcct{} },
}

func (m *NFAcct) Info() *table.ExtInfo { return nfacctInfo }
func (m *NFAcct) Name() string         { return "nfacct" }

func (m *NFAcct) Parse(a *table.OptArgs) error {
	if a.Key() != "nfacct-name" {
		return unknownOption(a)
	}
	switch {
	case a.Arg == "":
		return fmt.Errorf("--nfacct-name must not be empty")
	case strings.Contains(a.Arg, "\n"):
		return fmt.Errorf("--nfacct-name must not contain a newline")
	}
	if err := checkNameLen("nfacct-name", a.Arg, nfacctNameSize-1); err != nil {
		return err
	}
	m.AcctName = a.Keep(a.Arg)
	return nil
}

func (m *NFAcct) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("nfacct-name") {
		return table.WithHint("add --nfacct-name NAME", "--nfacct-name is required")
	}
	return nil
}

func (m *NFAcct) Print(w *table.Writer) {
	// iptables prints a blank of its own before the quoted name, hence
	// two blanks.
	w.Flag(false, "nfacct-name")
	w.Raw("  " + string(table.AppendQuoted(nil, m.AcctName)))
}

// struct xt_nfacct_match_info_v1: name[NFACCT_NAME_MAX = 32]@0, the
// kernel's nfacct pointer @32 (written zero, not handed back).
const nfacctSize = 40

func (m *NFAcct) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, nfacctNameSize, m.AcctName); err != nil {
		return fmt.Errorf("--nfacct-name: %w", err)
	}
	return nil
}

func (m *NFAcct) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.AcctName = r.String(0, nfacctNameSize)
	m.NFAcct = 0
	needWhole(r, nfacctSize)
	return r.Err()
}
