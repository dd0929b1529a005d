package table

import (
	"net/netip"
	"strconv"
)

// Target is what a rule does on a match: a standard verdict, a jump or goto
// to a user chain, or a target extension (an Ext of TargetKind).
type Target interface {
	// Name is the word after -j (or -g).
	Name() string
	Print(w *Writer)
}

// Standard is a built-in verdict: ACCEPT, DROP, QUEUE or RETURN.
type Standard struct {
	Verdict Verdict
}

func (s *Standard) Name() string { return s.Verdict.String() }

// standardTargets are shared by every rule: targets are values that
// nothing changes in place, and a 100k-rule table needs no 100k copies of
// ACCEPT.
var standardTargets = [...]Standard{Accept: {Accept}, Drop: {Drop}, Queue: {Queue}, Return: {Return}}

// StandardTarget returns the shared target of verdict v.
func StandardTarget(v Verdict) *Standard {
	if v > 0 && int(v) < len(standardTargets) {
		return &standardTargets[v]
	}
	return &Standard{Verdict: v}
}
func (s *Standard) Print(*Writer) {}

// Jump sends the packet to a user chain; with Goto it does not come back
// to the calling chain.
type Jump struct {
	Chain string
	Goto  bool

	// to is the chain Chain named in the table that checked the jump
	// (checkJumps), so that validating a table of tens of thousands of
	// chains needs no second lookup by name. It may be stale (the rule
	// was copied into another table, or the chain renamed); users check.
	to *Chain
}

func (j *Jump) Name() string  { return j.Chain }
func (j *Jump) Print(*Writer) {}

// RuleText writes the iptables-save form of a rule's body, everything after
// "-A CHAIN": the IP header options, the matches with their options, and
// the target. protoName turns a protocol number into text; nil prints the
// name iptables-save prints, through w's resolver.
func RuleText(w *Writer, r *Rule, protoName func(uint8) string) {
	ip := &r.IP
	writeAddr(w, ip.InvSrc, "-s", ip.Src)
	writeAddr(w, ip.InvDst, "-d", ip.Dst)
	writeIface(w, ip.InvIn, "-i", ip.In)
	writeIface(w, ip.InvOut, "-o", ip.Out)
	if ip.Proto != 0 || ip.InvProto {
		writeShortFlag(w, ip.InvProto, "-p")
		if protoName != nil {
			w.Raw(protoName(ip.Proto))
		} else {
			w.Raw(ProtocolName(ip.Proto, w.Resolver()))
		}
	}
	if ip.Frag {
		if ip.InvFrag {
			w.Raw(" !")
		}
		w.Raw(" -f")
	}
	for _, m := range r.Matches {
		w.Raw(" -m ")
		w.Raw(m.Name())
		m.Print(w)
	}
	switch t := r.Target.(type) {
	case nil:
	case *Jump:
		if t.Goto {
			w.Raw(" -g ")
		} else {
			w.Raw(" -j ")
		}
		w.Raw(t.Chain)
	default:
		w.Raw(" -j ")
		w.Raw(t.Name())
		t.Print(w)
	}
}

func writeAddr(w *Writer, inv bool, flag string, a Addr) {
	if a.IsZero() {
		return
	}
	writeShortFlag(w, inv, flag)
	w.buf = a.AppendTo(w.buf)
}

// writeShortFlag writes " [! ]flag " for the one-dash options of the IP
// header (-s, -i, ...), which Writer.Flag, made for "--name", cannot.
func writeShortFlag(w *Writer, inv bool, flag string) {
	if inv {
		w.Raw(" !")
	}
	w.Raw(" ")
	w.Raw(flag)
	w.Raw(" ")
}

// String prints the address the way iptables-save does: the address, then
// "/len" for a contiguous mask, else "/" and the mask itself.
func (a Addr) String() string { return string(a.AppendTo(nil)) }

// AppendTo appends what String returns.
func (a Addr) AppendTo(b []byte) []byte {
	if a.IsZero() {
		return b
	}
	b = AppendIP(b, a.IP)
	b = append(b, '/')
	if n := a.PrefixLen(); n >= 0 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return AppendIP(b, a.Mask)
}

// FormatIP prints an address as glibc's inet_ntop does, which is what
// iptables prints. It differs from netip only for IPv4-compatible IPv6
// addresses (twelve zero bytes, then not 0.0.x.x), which glibc writes in
// dotted form: ::1.2.3.4.
func FormatIP(a netip.Addr) string { return string(AppendIP(nil, a)) }

// AppendIP appends what FormatIP returns.
func AppendIP(b []byte, a netip.Addr) []byte {
	if a.Is6() {
		ab := a.As16()
		zero := true
		for _, c := range ab[:12] {
			zero = zero && c == 0
		}
		if zero && (ab[12] != 0 || ab[13] != 0) {
			return netip.AddrFrom4([4]byte(ab[12:])).AppendTo(append(b, ':', ':'))
		}
	}
	return a.AppendTo(b)
}

func writeIface(w *Writer, inv bool, flag, name string) {
	// "+" alone matches every interface and is not printed. Negated, it
	// matches nothing, and is printed (as iptables-nft-save does, and
	// legacy from 1.8.11 on): iptables-legacy-save 1.8.9 drops it, so its
	// output matches every packet where the rule matched none.
	if name == "" || name == "+" && !inv {
		return
	}
	writeShortFlag(w, inv, flag)
	w.Raw(name)
}
