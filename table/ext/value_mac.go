package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// The MAC address value, libxtables' XTTYPE_ETHERMAC.

// parseMAC reads six colon-separated bytes as xtopt_parse_ethermac does:
// each part is strtoul base 16 of at most two characters, so "4" and even
// an empty part (0) or "-1" (0xff) are accepted.
func parseMAC(s string) ([6]byte, bool) {
	var out [6]byte
	for i := range out {
		v, rest, _, _ := table.Strtoumax(s, 16)
		n := len(s) - len(rest)
		if n > 2 {
			return out, false
		}
		out[i] = byte(v)
		s = s[n:]
		if i < len(out)-1 {
			if s == "" || s[0] != ':' {
				return out, false
			}
			s = s[1:]
		}
	}
	return out, s == ""
}

// macText prints an address as xtables_print_mac does.
func macText(a [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5])
}
