package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// ECN is the ecn match; it mirrors struct xt_ecn_info. TCPECT is the
// proto.tcp.ect byte, which iptables never sets.
type ECN struct {
	Operation uint8
	Invert    uint8
	IPECT     uint8
	TCPECT    uint8
}

// xt_ecn operation bits.
const (
	ecnMatchIP  = 0x01
	ecnMatchECE = 0x10
	ecnMatchCWR = 0x20
)

var ecnInfo = &table.ExtInfo{
	Name: "ecn", Kind: table.MatchKind, Family: table.BothFamilies, Size: ecnSize,
	Options: opts("!ecn-tcp-cwr", "!ecn-tcp-ece", "!ecn-ip-ect="),
	New:     func(table.Family) table.Ext { return &ECN{} },
}

func (m *ECN) Info() *table.ExtInfo { return ecnInfo }
func (m *ECN) Name() string         { return "ecn" }

func (m *ECN) Parse(a *table.OptArgs) error {
	var bit uint8
	switch a.Key() {
	case "ecn-tcp-cwr":
		bit = ecnMatchCWR
	case "ecn-tcp-ece":
		bit = ecnMatchECE
	case "ecn-ip-ect":
		v, err := parseUint(a.Arg, 0, 3)
		if err != nil {
			return err
		}
		bit, m.IPECT = ecnMatchIP, uint8(v)
	default:
		return unknownOption(a)
	}
	m.Operation |= bit
	m.Invert |= invBit(a.Invert, bit)
	return nil
}

func (m *ECN) Finish(c *table.FinishContext) error {
	if m.Operation == 0 {
		return fmt.Errorf("one of --ecn-tcp-cwr, --ecn-tcp-ece and --ecn-ip-ect is required")
	}
	return nil
}

// Check: the TCP bits live in the TCP header, so the kernel wants -p tcp.
func (m *ECN) Check(c *table.CheckContext) error {
	if m.Operation&(ecnMatchECE|ecnMatchCWR) != 0 {
		return needProto(c, "ecn --ecn-tcp-cwr/--ecn-tcp-ece", 6)
	}
	return nil
}

func (m *ECN) Print(w *table.Writer) {
	if m.Operation&ecnMatchECE != 0 {
		w.Flag(m.Invert&ecnMatchECE != 0, "ecn-tcp-ece")
	}
	if m.Operation&ecnMatchCWR != 0 {
		w.Flag(m.Invert&ecnMatchCWR != 0, "ecn-tcp-cwr")
	}
	if m.Operation&ecnMatchIP != 0 {
		w.OptUint(m.Invert&ecnMatchIP != 0, "ecn-ip-ect", uint64(m.IPECT))
	}
}

// struct xt_ecn_info: operation u8@0 invert u8@1 ip_ect u8@2
// proto.tcp.ect u8@3.
const ecnSize = 4

func (m *ECN) layout() []field {
	return []field{{0, &m.Operation}, {1, &m.Invert}, {2, &m.IPECT}, {3, &m.TCPECT}}
}

func (m *ECN) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *ECN) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
