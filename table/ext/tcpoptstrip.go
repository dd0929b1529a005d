package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// TCPOptStrip is the TCPOPTSTRIP target; it mirrors struct
// xt_tcpoptstrip_target_info: a bitmap of the 256 TCP option kinds.
type TCPOptStrip struct {
	StripBmap [8]uint32
}

var tcpoptstripTargetInfo = &table.ExtInfo{
	Name: "TCPOPTSTRIP", Kind: table.TargetKind, Family: table.BothFamilies, Size: tcpoptstripSize,
	Options: opts("strip-options="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &TCPOptStrip{} },
}

// tcpoptstripNames are the option names iptables accepts (case matters).
var tcpoptstripNames = map[string]uint8{
	"wscale": 3, "mss": 2, "sack-permitted": 4, "sack": 5, "timestamp": 8, "md5": 19,
}

func (t *TCPOptStrip) Info() *table.ExtInfo { return tcpoptstripTargetInfo }
func (t *TCPOptStrip) Name() string         { return "TCPOPTSTRIP" }

func (t *TCPOptStrip) has(k uint8) bool { return t.StripBmap[k/32]&(1<<(k%32)) != 0 }

func (t *TCPOptStrip) Parse(a *table.OptArgs) error {
	if a.Key() != "strip-options" {
		return unknownOption(a)
	}
	for _, item := range strings.Split(a.Arg, ",") {
		k, named := tcpoptstripNames[item]
		if !named {
			v, ok := table.ParseUint(item, 0, 255)
			if !ok {
				return table.WithHint("use a number 2-255 or wscale, mss, sack-permitted, sack, timestamp, md5", "bad TCP option %q", item)
			}
			k = uint8(v)
		}
		if k < 2 {
			// Kinds 0 (end of list) and 1 (no-op) are padding, not
			// options that could be removed.
			return fmt.Errorf("TCP option %q cannot be stripped (0 and 1 are padding)", item)
		}
		if t.has(k) {
			return fmt.Errorf("TCP option %q given twice", item)
		}
		t.StripBmap[k/32] |= 1 << (k % 32)
	}
	return nil
}

func (t *TCPOptStrip) Finish(*table.FinishContext) error { return nil }

// Check: the kernel registers TCPOPTSTRIP for TCP only.
func (t *TCPOptStrip) Check(c *table.CheckContext) error {
	return needProto(c, "TCPOPTSTRIP target", 6)
}

// Print lists the kinds numerically in ascending order; an empty bitmap
// (no --strip-options) prints nothing.
func (t *TCPOptStrip) Print(w *table.Writer) {
	var kinds []string
	for k := 0; k < 256; k++ {
		if t.has(uint8(k)) {
			kinds = append(kinds, strconv.Itoa(k))
		}
	}
	if len(kinds) > 0 {
		w.Opt(false, "strip-options", strings.Join(kinds, ","))
	}
}

// struct xt_tcpoptstrip_target_info: strip_bmap[8] u32@0 (host order; kind
// k is bit k%32 of word k/32).
const tcpoptstripSize = 32

func (t *TCPOptStrip) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	for i, v := range t.StripBmap {
		w.U32(4*i, v)
	}
	return nil
}

func (t *TCPOptStrip) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	for i := range t.StripBmap {
		t.StripBmap[i] = r.U32(4 * i)
	}
	return r.Err()
}
