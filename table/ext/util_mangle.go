package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// Helpers of the mangle group (MARK, DSCP, TOS, ECN, TTL, HL, TCPMSS,
// TCPOPTSTRIP, SET, SYNPROXY, IDLETIMER, LED, HMARK, RATEEST): the bits of
// libxtables' C parsing that these targets depend on and util.go does not
// cover.

// mgOnlyOne reports an error when more than one of the options in names
// was given: libxtables' .excl masks, checked once all options are known,
// which refuses the same rules as checking them option by option.
func mgOnlyOne(c *table.FinishContext, names ...string) error {
	var seen []string
	for _, n := range names {
		if c.Seen.Has(n) {
			seen = append(seen, "--"+n)
		}
	}
	if len(seen) > 1 {
		return fmt.Errorf("%s cannot be used together", strings.Join(seen, " and "))
	}
	return nil
}

// mgRequireOne is the usual "an action is required" check.
func mgRequireOne(c *table.FinishContext, names ...string) error {
	for _, n := range names {
		if c.Seen.Has(n) {
			return nil
		}
	}
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = "--" + n
	}
	if len(list) == 1 {
		return fmt.Errorf("%s is required", list[0])
	}
	return fmt.Errorf("one of %s is required", strings.Join(list, ", "))
}

// mgInetAton parses an IPv4 address the way inet_aton does (what
// getaddrinfo with AI_NUMERICHOST accepts): one to four parts, each a C
// number; the last part fills the remaining bytes. Unlike inetAton it
// reads each part with table.ParseUint, so a part may carry blanks and a
// '+' (" 10.+1"); HMARK has always accepted those, so it keeps its own.
func mgInetAton(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var v uint32
	for i, p := range parts {
		last := i == len(parts)-1
		max := uint64(255)
		if last {
			max = 0xffffffff >> (8 * uint(i))
		}
		n, ok := table.ParseUint(p, 0, max)
		if !ok {
			return 0, false
		}
		if last {
			v |= uint32(n)
		} else {
			v |= uint32(n) << (24 - 8*uint(i))
		}
	}
	return v, true
}

// mgBareOK reports whether a string that iptables-save prints bare (with
// "%s", unquoted) reads back as the same single word; an empty string or
// one with a blank or a double quote does not, so the saved file would not
// restore the same rule.
func mgBareOK(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n\v\f\r\"")
}

// mgHookNames names the hooks of a mask for messages.
func mgHookNames(m table.HookMask) string {
	var names []string
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if m&h.Mask() != 0 {
			names = append(names, h.String())
		}
	}
	return strings.Join(names, ", ")
}
