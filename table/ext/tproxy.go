package ext

import (
	"github.com/fwkit/fw/table"
)

// TPROXY is the TPROXY target at revision 1, the same for IPv4 and IPv6;
// it mirrors struct xt_tproxy_target_info_v1 (an IPv4 laddr sits in the
// first four bytes of its union). Without --on-ip the address is all
// zero and without --tproxy-mark the mark and mask are 0/0; iptables-save
// prints all three options either way.
type TPROXY struct {
	MarkMask  uint32
	MarkValue uint32
	Laddr     [16]byte
	Lport     uint16       // big-endian in the kernel
	fam       table.Family // which member of the laddr union is in use
}

var tproxyTargetInfo = &table.ExtInfo{
	Name: "TPROXY", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 1, Size: tproxySize,
	Options: opts("on-port=", "on-ip=", "tproxy-mark="),
	Tables:  []string{"mangle"},
	Hooks:   table.PreRouting.Mask(),
	New:     func(f table.Family) table.Ext { return &TPROXY{fam: f} },
}

func (t *TPROXY) Info() *table.ExtInfo { return tproxyTargetInfo }
func (t *TPROXY) Name() string         { return "TPROXY" }

func (t *TPROXY) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "on-port":
		t.Lport, err = parseServicePort(a.Arg, a.Names)
	case "on-ip":
		t.Laddr, err = parseAddr16(a.Arg, a.Family, viaGetaddrinfo, a.Names)
	case "tproxy-mark":
		t.MarkValue, t.MarkMask, err = parseMarkMask(a.Arg, nil, nil)
	default:
		return unknownOption(a)
	}
	return err
}

func (t *TPROXY) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("on-port") {
		return table.WithHint("add --on-port PORT (0 keeps the original port)", "--on-port is required")
	}
	return nil
}

// Check is the kernel's: TPROXY only makes sense for TCP and UDP.
func (t *TPROXY) Check(c *table.CheckContext) error {
	return needProto(c, "TPROXY target", 6, 17)
}

func (t *TPROXY) Print(w *table.Writer) {
	w.OptUint(false, "on-port", uint64(t.Lport))
	w.Opt(false, "on-ip", addr16Text(t.Laddr, t.fam))
	w.Opt(false, "tproxy-mark", hex(uint64(t.MarkValue))+"/"+hex(uint64(t.MarkMask)))
}

// layout is struct xt_tproxy_target_info_v1 (see tproxySize), the same
// for either family.
func (t *TPROXY) layout() []field {
	return []field{{0, &t.MarkMask}, {4, &t.MarkValue}, {8, &t.Laddr}, {24, (*bigEndian16)(&t.Lport)}}
}

func (t *TPROXY) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *TPROXY) UnmarshalPayload(f table.Family, data []byte) error {
	t.fam = f
	return getFields(data, t.layout()...)
}
