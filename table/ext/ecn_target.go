package ext

import (
	"github.com/fwkit/fw/table"
)

// ECNTarget is the IPv4 ECN target; it mirrors struct ipt_ECN_info. TCP
// holds the one-bit fields of proto.tcp: ece in bit 0, cwr in bit 1.
type ECNTarget struct {
	Operation uint8
	IPECT     uint8
	TCP       uint8
}

// ipt_ECN_info operations and proto.tcp bits.
const (
	ecnTgOpSetIP  = 0x01
	ecnTgOpSetECE = 0x10
	ecnTgOpSetCWR = 0x20

	ecnTgECE = 0x01
	ecnTgCWR = 0x02
)

var ecnTargetInfo = &table.ExtInfo{
	Name: "ECN", Kind: table.TargetKind, Family: table.IPv4, Size: ecnTgSize,
	Options: opts("ecn-tcp-remove", "ecn-tcp-cwr=", "ecn-tcp-ece=", "ecn-ip-ect="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &ECNTarget{} },
}

func (t *ECNTarget) Info() *table.ExtInfo { return ecnTargetInfo }
func (t *ECNTarget) Name() string         { return "ECN" }

func (t *ECNTarget) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "ecn-tcp-remove":
		// Replaces the operation set so far, as iptables does: a
		// preceding --ecn-ip-ect is dropped (its value stays in the
		// payload, unused).
		t.Operation = ecnTgOpSetECE | ecnTgOpSetCWR
		t.TCP = 0
	case "ecn-tcp-cwr", "ecn-tcp-ece":
		v, err := parseUint(a.Arg, 0, 1)
		if err != nil {
			return err
		}
		op, bit := uint8(ecnTgOpSetCWR), uint8(ecnTgCWR)
		if a.Key() == "ecn-tcp-ece" {
			op, bit = ecnTgOpSetECE, ecnTgECE
		}
		t.Operation |= op
		t.TCP &^= bit
		if v == 1 {
			t.TCP |= bit
		}
	case "ecn-ip-ect":
		v, err := parseUint(a.Arg, 0, 3)
		if err != nil {
			return err
		}
		t.Operation |= ecnTgOpSetIP
		t.IPECT = uint8(v)
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *ECNTarget) Finish(c *table.FinishContext) error {
	if err := requireOne(c, "ecn-tcp-remove", "ecn-tcp-cwr", "ecn-tcp-ece", "ecn-ip-ect"); err != nil {
		return err
	}
	if err := onlyOne(c, "ecn-tcp-remove", "ecn-tcp-cwr"); err != nil {
		return err
	}
	return onlyOne(c, "ecn-tcp-remove", "ecn-tcp-ece")
}

// Check refuses TCP header changes on a rule that does not match only TCP,
// as the kernel's ECN checkentry does.
func (t *ECNTarget) Check(c *table.CheckContext) error {
	if t.Operation&(ecnTgOpSetECE|ecnTgOpSetCWR) == 0 {
		return nil
	}
	return needProto(c, "ECN target with --ecn-tcp-remove, --ecn-tcp-cwr or --ecn-tcp-ece", 6)
}

func (t *ECNTarget) Print(w *table.Writer) {
	if t.Operation == ecnTgOpSetECE|ecnTgOpSetCWR && t.TCP == 0 {
		w.Flag(false, "ecn-tcp-remove")
		return
	}
	if t.Operation&ecnTgOpSetECE != 0 {
		w.OptUint(false, "ecn-tcp-ece", uint64(t.TCP&ecnTgECE))
	}
	if t.Operation&ecnTgOpSetCWR != 0 {
		w.OptUint(false, "ecn-tcp-cwr", uint64(t.TCP&ecnTgCWR>>1))
	}
	if t.Operation&ecnTgOpSetIP != 0 {
		w.OptUint(false, "ecn-ip-ect", uint64(t.IPECT))
	}
}

// struct ipt_ECN_info: operation u8@0 ip_ect u8@1 proto.tcp u8@2 (bit
// fields: ece bit 0, cwr bit 1, as GCC lays them out on little-endian
// machines). After --ecn-ip-ect N --ecn-tcp-remove, iptables leaves N in
// ip_ect although the operation no longer uses it; the value keeps it, so
// the bytes match.
const ecnTgSize = 3

func (t *ECNTarget) layout() []field { return []field{{0, &t.Operation}, {1, &t.IPECT}, {2, &t.TCP}} }

func (t *ECNTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *ECNTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
