package ext

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// Helpers shared by the extension files: the number, port and list syntax
// libxtables gives every extension.

// parseUint parses a C-style number (decimal, 0x hex, 0 octal) in [min,max].
func parseUint(s string, min, max uint64) (uint64, error) {
	v, ok := table.ParseUint(s, min, max)
	if !ok {
		return 0, fmt.Errorf("invalid value %q (expected a number from %d to %d)", s, min, max)
	}
	return v, nil
}

// parsePort parses a port number or service name.
func parsePort(s, proto string) (uint16, error) {
	p, ok := table.ParsePort(s, proto)
	if !ok {
		return 0, fmt.Errorf("invalid port/service %q specified", s)
	}
	return p, nil
}

// parsePortRange parses "port", "a:b", ":b" or "a:" with service names.
func parsePortRange(s, proto string) ([2]uint16, error) {
	a, b, isRange := strings.Cut(s, ":")
	if !isRange {
		p, err := parsePort(s, proto)
		return [2]uint16{p, p}, err
	}
	r := [2]uint16{0, 0xffff}
	var err error
	if a != "" {
		if r[0], err = parsePort(a, proto); err != nil {
			return r, err
		}
	}
	if b != "" {
		if r[1], err = parsePort(b, proto); err != nil {
			return r, err
		}
	}
	if r[0] > r[1] {
		return r, fmt.Errorf("invalid port range %q (min > max)", s)
	}
	return r, nil
}

// gaiPort resolves a port as getaddrinfo(NULL, s) does for libxtables:
// decimal digits only (after one optional '+'; so "010" is 10 and "0x10"
// is a name), otherwise a service name known for tcp or, failing that,
// udp. getaddrinfo silently keeps only the low 16 bits of a larger number;
// fw refuses it. numeric tells the callers, which word their errors
// differently, whether s was a number out of range or an unknown name.
func gaiPort(s string) (port uint16, numeric, ok bool) {
	t := strings.TrimPrefix(s, "+")
	if t != "" && strings.Trim(t, "0123456789") == "" {
		v, err := strconv.ParseUint(t, 10, 64)
		if err != nil || v > 0xffff {
			return 0, true, false
		}
		return uint16(v), true, true
	}
	for _, proto := range []string{"tcp", "udp"} {
		if p, ok := table.ServicePort(s, proto); ok {
			return p, false, true
		}
	}
	return 0, false, false
}

// rangeText prints a range as iptables does: "a" when both ends are equal,
// else "a:b".
func rangeText(lo, hi uint64) string {
	if lo == hi {
		return strconv.FormatUint(lo, 10)
	}
	return strconv.FormatUint(lo, 10) + ":" + strconv.FormatUint(hi, 10)
}

func portRangeText(r [2]uint16) string { return rangeText(uint64(r[0]), uint64(r[1])) }

// printPorts writes " [! ]--name lo[:hi]".
func printPorts(w *table.Writer, inv bool, name string, r [2]uint16) {
	w.Flag(inv, name)
	w.Space()
	w.Range(uint64(r[0]), uint64(r[1]))
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// parseValueMask parses "value[/mask]" with C numbers; the mask defaults to
// all ones of the width.
func parseValueMask(s string, max uint64) (v, m uint64, err error) {
	a, b, hasMask := strings.Cut(s, "/")
	if v, err = parseUint(a, 0, max); err != nil {
		return
	}
	m = max
	if hasMask {
		m, err = parseUint(b, 0, max)
	}
	return
}

// needProto is the usual check of protocol matches: the kernel accepts them
// only when the rule's protocol is theirs and not negated.
func needProto(c *table.CheckContext, match string, protos ...uint8) error {
	ip := &c.Rule.IP
	for _, p := range protos {
		if ip.Proto == p && !ip.InvProto {
			return nil
		}
	}
	names := make([]string, len(protos))
	for i, p := range protos {
		names[i] = "-p " + table.ProtocolName(p)
	}
	return table.WithHint("add '"+strings.Join(names, "' or '")+"' before it", "%s needs %s", match, strings.Join(names, " or "))
}

// opts builds an option list tersely: each spec is "name", "name=" (takes
// an argument), a leading "!" for negatable, and "|alias" entries for other
// spellings of the previous option.
func opts(specs ...string) []table.Option {
	var out []table.Option
	for _, s := range specs {
		alias := ""
		if strings.HasPrefix(s, "|") {
			alias = out[len(out)-1].Key()
			s = s[1:]
		}
		o := table.Option{Alias: alias}
		if strings.HasPrefix(s, "!") {
			o.Invert, s = true, s[1:]
		}
		if strings.HasPrefix(s, "*") {
			o.Multi, s = true, s[1:]
		}
		switch {
		case strings.HasSuffix(s, "=?"):
			o.Arg, s = table.OptionalArg, strings.TrimSuffix(s, "=?")
		case strings.HasSuffix(s, "="):
			o.Arg, s = table.OneArg, strings.TrimSuffix(s, "=")
		}
		if alias != "" {
			prev := out[len(out)-1]
			o.Invert, o.Arg, o.Multi = prev.Invert, prev.Arg, prev.Multi
		}
		o.Name = s
		out = append(out, o)
	}
	return out
}

// unknownOption is what Parse returns for an option it was given but does
// not handle; it means the option table and the switch disagree.
func unknownOption(a *table.OptArgs) error {
	return fmt.Errorf("internal error: option --%s not handled", a.Opt.Name)
}

// addr16 reads a 16-byte kernel address field (union nf_inet_addr: an
// IPv4 address in the first four bytes) for the family.
func addr16(b [16]byte, fam table.Family) netip.Addr {
	if fam == table.IPv6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

// addr16Text prints a 16-byte address field as iptables does (glibc's
// inet_ntop, see table.FormatIP).
func addr16Text(b [16]byte, fam table.Family) string {
	return table.FormatIP(addr16(b, fam))
}

// ipv6Literal parses a numeric IPv6 address as inet_pton(AF_INET6) does:
// no zone, and no IPv4 address in IPv4 form.
func ipv6Literal(s string) ([16]byte, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return [16]byte{}, false
	}
	return a.As16(), true
}
