package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// SynProxy is the SYNPROXY target; it mirrors struct xt_synproxy_info.
type SynProxy struct {
	Options uint8
	Wscale  uint8
	MSS     uint16
}

// xt_synproxy_info options.
const (
	synproxyMSS      = 0x01
	synproxyWscale   = 0x02
	synproxySackPerm = 0x04
	synproxyTimestmp = 0x08
	synproxyECN      = 0x10
)

// synproxyHooks: the target answers SYNs addressed to or through this
// host, so the kernel accepts it only where such packets arrive.
const synproxyHooks = table.HookMask(1<<table.Input | 1<<table.Forward)

var synproxyTargetInfo = &table.ExtInfo{
	Name: "SYNPROXY", Kind: table.TargetKind, Family: table.BothFamilies, Size: synproxySize,
	Options: opts("sack-perm", "timestamp", "wscale=", "mss=", "ecn"),
	Hooks:   synproxyHooks,
	New:     func(table.Family) table.Ext { return &SynProxy{} },
}

func (t *SynProxy) Info() *table.ExtInfo { return synproxyTargetInfo }
func (t *SynProxy) Name() string         { return "SYNPROXY" }

func (t *SynProxy) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "sack-perm":
		t.Options |= synproxySackPerm
	case "timestamp":
		t.Options |= synproxyTimestmp
	case "ecn":
		t.Options |= synproxyECN
	case "wscale", "mss":
		// iptables reads both as 32-bit numbers and stores them in a
		// byte and a 16-bit field, silently keeping the low bits
		// (--wscale 300 becomes 44); fw refuses what does not fit.
		max := uint64(0xff)
		if a.Key() == "mss" {
			max = 0xffff
		}
		v, err := parseUint(a.Arg, 0, max)
		if err != nil {
			if _, ok := table.ParseUint(a.Arg, 0, 0xffffffff); ok {
				return fmt.Errorf("value %q does not fit the kernel's field (at most %d)", a.Arg, max)
			}
			return err
		}
		if a.Key() == "mss" {
			t.Options |= synproxyMSS
			t.MSS = uint16(v)
		} else {
			t.Options |= synproxyWscale
			t.Wscale = uint8(v)
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *SynProxy) Finish(*table.FinishContext) error { return nil }

// Check: the kernel registers SYNPROXY for TCP only.
func (t *SynProxy) Check(c *table.CheckContext) error {
	return needProto(c, "SYNPROXY target", 6)
}

func (t *SynProxy) Print(w *table.Writer) {
	if t.Options&synproxySackPerm != 0 {
		w.Flag(false, "sack-perm")
	}
	if t.Options&synproxyTimestmp != 0 {
		w.Flag(false, "timestamp")
	}
	if t.Options&synproxyWscale != 0 {
		w.OptUint(false, "wscale", uint64(t.Wscale))
	}
	if t.Options&synproxyMSS != 0 {
		w.OptUint(false, "mss", uint64(t.MSS))
	}
	if t.Options&synproxyECN != 0 {
		w.Flag(false, "ecn")
	}
}

// struct xt_synproxy_info: options u8@0 wscale u8@1 mss u16@2 (host
// order).
const synproxySize = 4

func (t *SynProxy) layout() []field { return []field{{0, &t.Options}, {1, &t.Wscale}, {2, &t.MSS}} }

func (t *SynProxy) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *SynProxy) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
