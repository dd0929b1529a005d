package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// TTL is the IPv4 ttl match; it mirrors struct ipt_ttl_info.
type TTL struct {
	Mode uint8
	TTL  uint8
}

// Comparison modes of the ttl and hl matches (IPT_TTL_*, IP6T_HL_*).
const (
	ttlEq = 0
	ttlNe = 1
	ttlLt = 2
	ttlGt = 3
)

var ttlInfo = &table.ExtInfo{
	Name: "ttl", Kind: table.MatchKind, Family: table.IPv4, Size: ttlSize,
	// --ttl is an old spelling of --ttl-eq; iptables gives it the
	// properties of --ttl-eq, negation included.
	Options: opts("ttl-lt=", "ttl-gt=", "!ttl-eq=", "|ttl"),
	New:     func(table.Family) table.Ext { return &TTL{} },
}

func (m *TTL) Info() *table.ExtInfo { return ttlInfo }
func (m *TTL) Name() string         { return "ttl" }

func (m *TTL) Parse(a *table.OptArgs) error {
	mode, v, err := parseTTLMode(a, "ttl")
	m.Mode, m.TTL = mode, v
	return err
}

// parseTTLMode parses one comparison option of the ttl or hl match
// (prefix "ttl" or "hl"). Only one comparison may be given.
func parseTTLMode(a *table.OptArgs, prefix string) (mode, v uint8, err error) {
	switch a.Key() {
	case prefix + "-eq":
		mode = ttlEq
		if a.Invert {
			mode = ttlNe
		}
	case prefix + "-lt":
		mode = ttlLt
	case prefix + "-gt":
		mode = ttlGt
	default:
		return 0, 0, unknownOption(a)
	}
	n, err := parseUint(a.Arg, 0, 255)
	return mode, uint8(n), err
}

// finishTTLMode checks that exactly one comparison was given.
func finishTTLMode(c *table.FinishContext, prefix string) error {
	var given []string
	for _, o := range []string{"-eq", "-lt", "-gt"} {
		if c.Seen.Has(prefix + o) {
			given = append(given, "--"+prefix+o)
		}
	}
	switch len(given) {
	case 0:
		return fmt.Errorf("one of --%s-eq, --%s-lt and --%s-gt is required", prefix, prefix, prefix)
	case 1:
		return nil
	}
	return fmt.Errorf("%s and %s cannot be used together", given[0], given[1])
}

func (m *TTL) Finish(c *table.FinishContext) error { return finishTTLMode(c, "ttl") }

func printTTLMode(w *table.Writer, prefix string, mode, v uint8) {
	switch mode {
	case ttlEq:
		w.OptUint(false, prefix+"-eq", uint64(v))
	case ttlNe:
		w.OptUint(true, prefix+"-eq", uint64(v))
	case ttlLt:
		w.OptUint(false, prefix+"-lt", uint64(v))
	case ttlGt:
		w.OptUint(false, prefix+"-gt", uint64(v))
	}
}

func (m *TTL) Print(w *table.Writer) { printTTLMode(w, "ttl", m.Mode, m.TTL) }

// struct ipt_ttl_info: mode u8@0 ttl u8@1.
const ttlSize = 2

func (m *TTL) layout() []field { return []field{{0, &m.Mode}, {1, &m.TTL}} }

func (m *TTL) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *TTL) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
