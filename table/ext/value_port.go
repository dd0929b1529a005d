package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// The port and port range values. Two upstream parsers read ports, with
// different syntaxes: xtables_parse_port, which the tcp, sctp and
// multiport matches call, and xtables_getportbyname (getaddrinfo), behind
// libxtables' XTTYPE_PORT and XTTYPE_PORTRC.

// parsePort parses a port as xtables_parse_port does: a C number from 0
// to 65535, else a service name of proto (getservbyname).
func parsePort(s, proto string, names table.Resolver) (uint16, error) {
	if v, ok := table.ParseUint(s, 0, 0xffff); ok {
		return uint16(v), nil
	}
	if p, ok := names.Service(s, proto); ok {
		return p, nil
	}
	return 0, fmt.Errorf("invalid port/service %q specified", s)
}

// parsePortRange parses "port", "a:b", ":b" or "a:" as libxt_tcp's
// parse_tcp_ports does (libxt_sctp's is the same), each end with
// parsePort: an empty end is 0 or 65535, and a reversed range is refused.
func parsePortRange(s, proto string, names table.Resolver) ([2]uint16, error) {
	a, b, isRange := strings.Cut(s, ":")
	if !isRange {
		p, err := parsePort(s, proto, names)
		return [2]uint16{p, p}, err
	}
	r := [2]uint16{0, 0xffff}
	var err error
	if a != "" {
		if r[0], err = parsePort(a, proto, names); err != nil {
			return r, err
		}
	}
	if b != "" {
		if r[1], err = parsePort(b, proto, names); err != nil {
			return r, err
		}
	}
	if r[0] > r[1] {
		return r, fmt.Errorf("invalid port range %q (min > max)", s)
	}
	return r, nil
}

// parseServicePort parses a port as xtables_getportbyname does, through
// getaddrinfo(NULL, s): a decimal number (after optional blanks and one
// '+'; leading zeros are not octal, "0x10" is a name), else a service name
// of the first of the protocols glibc tries, in its order (the port of the
// first address getaddrinfo returns). getaddrinfo keeps only the low 16
// bits of a larger number and reads an empty argument as port 0; fw
// refuses both.
func parseServicePort(s string, names table.Resolver) (uint16, error) {
	t := strings.TrimPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "+")
	if t != "" && strings.Trim(t, "0123456789") == "" {
		v, err := strconv.ParseUint(t, 10, 16)
		if err != nil {
			return 0, table.WithHint("iptables would keep only the low 16 bits of the number", "port %q is out of range (0-65535)", s)
		}
		return uint16(v), nil
	}
	for _, proto := range [...]string{"tcp", "udp", "dccp", "udplite", "sctp"} {
		if p, ok := names.Service(s, proto); ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("invalid port/service %q specified", s)
}

// parseServicePortRange parses an XTTYPE_PORTRC argument as
// xtopt_parse_mport does: "port", "a:b", ":b", "a:" or ":", each end with
// parseServicePort; an empty end is 0 or 65535, and the empty argument is
// port 0. The order of the ends is not checked: extensions differ.
func parseServicePortRange(s string, names table.Resolver) ([2]uint16, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return [2]uint16{}, fmt.Errorf("invalid port range %q (at most two ports, \"min:max\")", s)
	}
	r := [2]uint16{0, 0xffff}
	for i, p := range parts {
		if p == "" {
			continue
		}
		v, err := parseServicePort(p, names)
		if err != nil {
			return r, err
		}
		r[i] = v
	}
	if len(parts) == 1 {
		r[1] = r[0]
	}
	return r, nil
}

func portRangeText(r [2]uint16) string { return rangeText(uint64(r[0]), uint64(r[1])) }

// printPorts writes " [! ]--name lo[:hi]".
func printPorts(w *table.Writer, inv bool, name string, r [2]uint16) {
	w.Flag(inv, name)
	w.Space()
	w.Range(uint64(r[0]), uint64(r[1]))
}
