package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// TEE is the TEE target at revision 1, the same for IPv4 and IPv6; it
// mirrors struct xt_tee_tginfo: the gateway (an IPv4 one in the first
// four bytes of the union) and oif, a 16-byte NUL-terminated name. The
// kernel pointer that follows is private and always zero from userspace.
type TEE struct {
	Gw  [16]byte
	Oif string
	fam table.Family // which member of the gw union is in use
}

var teeTargetInfo = &table.ExtInfo{
	Name: "TEE", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 1, Size: teeSize,
	Options: opts("gateway=", "oif="),
	New:     func(f table.Family) table.Ext { return &TEE{fam: f} },
}

func (t *TEE) Info() *table.ExtInfo { return teeTargetInfo }
func (t *TEE) Name() string         { return "TEE" }

func (t *TEE) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "gateway":
		t.Gw, err = parseAddr16(a.Arg, a.Family, viaGetaddrinfo, a.Names)
	case "oif":
		// iptables cuts a long name to 15 bytes without a word, and prints
		// the name unquoted, so quotes or spaces would not read back.
		switch {
		case len(a.Arg) > table.MaxIfaceName:
			return fmt.Errorf("interface name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), table.MaxIfaceName)
		case strings.ContainsAny(a.Arg, "/:\"'\\ \t\n\v\f\r"):
			return fmt.Errorf("interface name %q contains a character the kernel or iptables-save cannot take", a.Arg)
		}
		t.Oif = a.Keep(a.Arg)
	default:
		return unknownOption(a)
	}
	return err
}

// Finish requires a gateway and refuses the unspecified address, as the
// kernel does.
func (t *TEE) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("gateway") {
		return table.WithHint("add --gateway ADDR", "--gateway is required")
	}
	if t.Gw == [16]byte{} {
		return fmt.Errorf("--gateway: the unspecified address %s cannot be a gateway", addr16Text(t.Gw, t.fam))
	}
	return nil
}

func (t *TEE) Print(w *table.Writer) {
	w.Opt(false, "gateway", addr16Text(t.Gw, t.fam))
	if t.Oif != "" {
		w.Opt(false, "oif", t.Oif)
	}
}

// PutPayload writes struct xt_tee_tginfo (layout at teeSize); the
// kernel's priv pointer stays zero.
func (t *TEE) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.Bytes(0, t.Gw[:])
	if err := w.String(16, table.MaxIfaceName+1, t.Oif); err != nil {
		return fmt.Errorf("TEE --oif: %w", err)
	}
	return nil
}

func (t *TEE) UnmarshalPayload(f table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.fam = f
	r.Bytes(0, t.Gw[:])
	t.Oif = r.String(16, table.MaxIfaceName+1)
	return r.Err()
}
