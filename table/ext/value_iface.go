package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// The interface value: a device name, as -i/-o, physdev and TEE take it.

// checkIface refuses the names xtables_parse_interface lets through but
// that cannot work: longer than the kernel's IFNAMSIZ-1 bytes (iptables
// refuses those too), empty, or with a character from bad, which why
// explains. iptables merely warns about '/' and ' ', which the kernel
// never has in a name, and saves an empty name in a form it cannot read
// back.
func checkIface(s, bad, why string) error {
	switch {
	case len(s) > table.MaxIfaceName:
		return fmt.Errorf("interface name %q is too long (%d bytes, at most %d)", s, len(s), table.MaxIfaceName)
	case s == "":
		return fmt.Errorf("empty interface name")
	}
	if i := strings.IndexAny(s, bad); i >= 0 {
		return fmt.Errorf("interface name %q contains %q, which %s", s, s[i:i+1], why)
	}
	return nil
}

// parseIface parses an interface name as xtables_parse_interface does:
// the name with a mask covering its bytes and the NUL, or only the bytes
// before a trailing '+' (a prefix of names).
func parseIface(s string) (name, mask [16]byte, err error) {
	if err := checkIface(s, "/ ", "the kernel does not allow"); err != nil {
		return name, mask, err
	}
	copy(name[:], s)
	n := len(s) + 1
	if strings.HasSuffix(s, "+") {
		n = len(s) - 1
	}
	for i := range n {
		mask[i] = 0xff
	}
	return name, mask, nil
}

// cString returns a NUL-terminated byte field as a string.
func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
