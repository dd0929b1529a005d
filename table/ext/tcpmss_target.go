package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// TCPMSSTarget is the TCPMSS target; it mirrors struct xt_tcpmss_info.
type TCPMSSTarget struct {
	MSS uint16
}

// tcpmssTgClamp is XT_TCPMSS_CLAMP_PMTU, the MSS value that means "clamp to
// the path MTU".
const tcpmssTgClamp = 0xffff

// tcpmssTgClampHooks are the hooks where the kernel knows the route, which
// --clamp-mss-to-pmtu needs.
const tcpmssTgClampHooks = table.HookMask(1<<table.Forward | 1<<table.Output | 1<<table.PostRouting)

var tcpmssTargetInfo = &table.ExtInfo{
	Name: "TCPMSS", Kind: table.TargetKind, Family: table.BothFamilies, Size: tcpmssTgSize,
	Options: opts("set-mss=", "clamp-mss-to-pmtu"),
	New:     func(table.Family) table.Ext { return &TCPMSSTarget{} },
}

func (t *TCPMSSTarget) Info() *table.ExtInfo { return tcpmssTargetInfo }
func (t *TCPMSSTarget) Name() string         { return "TCPMSS" }

func (t *TCPMSSTarget) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "set-mss":
		// The MSS must leave room for the IP header in a 64 KiB packet.
		max := uint64(0xffff - 20)
		if a.Family == table.IPv6 {
			max = 0xffff - 40
		}
		v, err := parseUint(a.Arg, 0, max)
		t.MSS = uint16(v)
		return err
	case "clamp-mss-to-pmtu":
		t.MSS = tcpmssTgClamp
		return nil
	}
	return unknownOption(a)
}

func (t *TCPMSSTarget) Finish(c *table.FinishContext) error {
	return requireOne(c, "set-mss", "clamp-mss-to-pmtu")
}

// Check applies the kernel's rules: the target rewrites a TCP option, so
// the rule must match TCP; clamping needs a route, so only hooks from
// FORWARD on; and it only makes sense on SYN packets, so the rule must
// carry a tcp match whose flag comparison includes SYN and is not negated
// (x_tables only: see NFTCompat).
func (t *TCPMSSTarget) Check(c *table.CheckContext) error {
	if err := needProto(c, "TCPMSS target", 6); err != nil {
		return err
	}
	if t.MSS == tcpmssTgClamp && c.Hooks&^tcpmssTgClampHooks != 0 {
		return fmt.Errorf("TCPMSS --clamp-mss-to-pmtu is only valid in FORWARD, OUTPUT and POSTROUTING, not in %s", hookNames(c.Hooks&^tcpmssTgClampHooks))
	}
	if c.NFTCompat {
		// The kernel cannot see the rule's matches from the compat
		// layer and skips the SYN test (iptables-nft loads such rules).
		return nil
	}
	for _, m := range c.Rule.Matches {
		if tcp, ok := m.(*TCP); ok && tcp.FlgCmp&tcpSYN != 0 && tcp.Invflags&tcpInvFlags == 0 {
			return nil
		}
	}
	return table.WithHint("add '-m tcp --tcp-flags SYN,RST SYN' (or --syn) before -j TCPMSS", "TCPMSS target only works on TCP SYN packets")
}

func (t *TCPMSSTarget) Print(w *table.Writer) {
	if t.MSS == tcpmssTgClamp {
		w.Flag(false, "clamp-mss-to-pmtu")
		return
	}
	w.OptUint(false, "set-mss", uint64(t.MSS))
}

// struct xt_tcpmss_info: mss u16@0 (host order; 0xffff = clamp to PMTU).
const tcpmssTgSize = 2

func (t *TCPMSSTarget) layout() []field { return []field{{0, &t.MSS}} }

func (t *TCPMSSTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *TCPMSSTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
