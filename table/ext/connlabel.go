package ext

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Connlabel is the connlabel match; it mirrors struct xt_connlabel_mtinfo.
type Connlabel struct {
	Bit     uint16
	Options uint16
}

// xt_connlabel options.
const (
	connlabelInvert = 1 << 0
	connlabelSet    = 1 << 1

	connlabelMaxBit = 127 // XT_CONNLABEL_MAXBIT
)

// ConnlabelFile is where label names are defined (libnetfilter_conntrack's
// connlabel.conf); iptables reads it to turn names into bits and to print
// bits back as names.
var ConnlabelFile = "/etc/xtables/connlabel.conf"

var connlabelInfo = &table.ExtInfo{
	Name: "connlabel", Kind: table.MatchKind, Family: table.BothFamilies, Size: connlabelSize,
	Options: opts("!label=", "set"),
	New:     func(table.Family) table.Ext { return &Connlabel{} },
}

func (m *Connlabel) Info() *table.ExtInfo { return connlabelInfo }
func (m *Connlabel) Name() string         { return "connlabel" }

func (m *Connlabel) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "label":
		bit, err := connlabelParse(a.Arg)
		if err != nil {
			return err
		}
		m.Bit = bit
		if a.Invert {
			m.Options |= connlabelInvert
		}
	case "set":
		m.Options |= connlabelSet
	default:
		return unknownOption(a)
	}
	return nil
}

// connlabelParse turns a label into its bit: a C number, else a name from
// ConnlabelFile. iptables truncates a large number to an int and then to
// 16 bits (so 4294967296 is bit 0); fw refuses any number above 127, the
// kernel's limit.
func connlabelParse(s string) (uint16, error) {
	if v, rest, ok := xtStrtoulPrefix(s, 0, math.MaxUint64); ok && rest == "" {
		if v > connlabelMaxBit {
			return 0, fmt.Errorf("label bit %q is out of range (0-%d)", s, connlabelMaxBit)
		}
		return uint16(v), nil
	}
	names, err := connlabelNames()
	if err != nil {
		return 0, table.WithHint("define it in "+ConnlabelFile+" or give the bit number", "label %q not found: %v", s, err)
	}
	for bit, n := range names {
		if n != s {
			continue
		}
		if bit > connlabelMaxBit {
			return 0, fmt.Errorf("label %q is bit %d, above the kernel's limit of %d", s, bit, connlabelMaxBit)
		}
		return uint16(bit), nil
	}
	return 0, table.WithHint("define it in "+ConnlabelFile+" or give the bit number", "label %q not found", s)
}

// connlabelNames reads ConnlabelFile as libnetfilter_conntrack does: lines
// "BIT NAME", '#' lines skipped, bits below 1024, the first line for a bit
// or a name winning, names only of letters, digits, '-' and ' '.
func connlabelNames() (map[int]string, error) {
	fh, err := os.Open(ConnlabelFile)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	names := map[int]string{}
	used := map[string]bool{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		v, rest, ok := xtStrtoulPrefix(line, 0, math.MaxUint64)
		if !ok || v >= 1024 {
			continue
		}
		if _, dup := names[int(v)]; dup {
			continue
		}
		name := strings.Trim(rest, " \t\v\f\r")
		if name == "" || used[name] || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789- ") != "" {
			continue
		}
		names[int(v)] = name
		used[name] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no labels found in %s", ConnlabelFile)
	}
	return names, nil
}

func (m *Connlabel) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("label") {
		return table.WithHint("e.g. --label 3", "--label is required")
	}
	return nil
}

func (m *Connlabel) Print(w *table.Writer) {
	label := fmt.Sprint(m.Bit)
	if names, err := connlabelNames(); err == nil && names[int(m.Bit)] != "" {
		label = names[int(m.Bit)]
	}
	// iptables always quotes the label, and never escapes it (names
	// cannot hold quotes).
	w.Opt(m.Options&connlabelInvert != 0, "label", `"`+label+`"`)
	if m.Options&connlabelSet != 0 {
		w.Flag(false, "set")
	}
}

// struct xt_connlabel_mtinfo: bit@0 options@2 (u16 host order).
const connlabelSize = 4

func (m *Connlabel) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, m.Bit)
	w.U16(2, m.Options)
	return nil
}

func (m *Connlabel) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Bit, m.Options = r.U16(0), r.U16(2)
	return r.Err()
}
