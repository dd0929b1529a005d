package ext

import (
	"fmt"
	"strconv"

	"github.com/fwkit/fw/table"
)

// The number and range values: libxtables' XTTYPE_UINT8 to XTTYPE_UINT64
// (xtopt_parse_int) and XTTYPE_UINT8RC to XTTYPE_UINT64RC
// (xtopt_parse_mint), which every extension parses its integers with.

// parseUint parses a C number (decimal, 0x hex, 0 octal, after optional
// blanks and '+') in [min,max], as xtables_strtoul does for the whole
// argument.
func parseUint(s string, min, max uint64) (uint64, error) {
	v, ok := table.ParseUint(s, min, max)
	if !ok {
		return 0, fmt.Errorf("invalid value %q (expected a number from %d to %d)", s, min, max)
	}
	return v, nil
}

// parseUintRange parses a range as xtopt_parse_mint does: one or two C
// numbers in [0,max] separated by ':', where an empty first field is 0
// and an empty second field is max ("4:" is 4:max, ":" is 0:max, "" is
// 0). n is the number of fields given, which some extensions look at ("4"
// is not a range, "4:" is); with one, hi is lo. A reversed range is
// returned as given: extensions differ in what they do with it.
func parseUintRange(s string, max uint64) (lo, hi uint64, n int, err error) {
	var v [2]uint64
	arg := s
	for {
		if n == 2 {
			return 0, 0, 0, fmt.Errorf("invalid range %q (at most two numbers, \"min:max\")", s)
		}
		end := arg
		switch {
		case arg != "" && arg[0] != ':':
			var ok bool
			if v[n], end, ok = table.StrtoulPrefix(arg, 0, max); !ok {
				return 0, 0, 0, fmt.Errorf("invalid value %q in %q (expected a number from 0 to %d)", arg, s, max)
			}
			if end != "" && end[0] != ':' {
				return 0, 0, 0, fmt.Errorf("unexpected characters %q in %q", end, s)
			}
		case n == 1:
			v[n] = max
		}
		n++
		if end == "" {
			break
		}
		arg = end[1:]
	}
	if n == 1 {
		v[1] = v[0]
	}
	return v[0], v[1], n, nil
}

// errReversed is what the extensions whose kernel compares lo <= x <= hi
// say of a reversed range: iptables 1.8.9 stores it, and it never
// matches (or, negated, always does).
func errReversed(s string) error {
	return table.WithHint("write the lower end first", "invalid range %q (min > max)", s)
}

// checkLiveRange refuses the ranges iptables accepts but that can never
// match anything: reversed ones, and the whole range negated.
func checkLiveRange(opt string, lo, hi, max uint64, inv bool) error {
	if lo > hi {
		return table.WithHint(fmt.Sprintf("write %d:%d", hi, lo), "--%s range %d:%d has min > max and would never match", opt, lo, hi)
	}
	if inv && lo == 0 && hi == max {
		return table.WithHint("drop the option (or the '!')", "! --%s %d:%d would never match", opt, lo, hi)
	}
	return nil
}

// rangeText prints a range as iptables does: "a" when both ends are equal,
// else "a:b".
func rangeText(lo, hi uint64) string {
	if lo == hi {
		return strconv.FormatUint(lo, 10)
	}
	return strconv.FormatUint(lo, 10) + ":" + strconv.FormatUint(hi, 10)
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// parseSPIRange reads the SPI range of esp, ah and ipcomp (XTTYPE_UINT32RC:
// C numbers, "a", "a:b", ":b", "a:"). Reversed ranges and the negated full
// range never match; the latter is also saved without its '!'.
func parseSPIRange(a *table.OptArgs) ([2]uint32, error) {
	lo, hi, _, err := parseUintRange(a.Arg, 0xffffffff)
	if err != nil {
		return [2]uint32{}, err
	}
	if err := checkLiveRange(a.Opt.Name, lo, hi, 0xffffffff, a.Invert); err != nil {
		return [2]uint32{}, err
	}
	return [2]uint32{uint32(lo), uint32(hi)}, nil
}

// spiText prints a 32-bit range the way the IPsec matches save it: "a"
// when both ends are equal, else "a:b".
func spiText(r [2]uint32) string { return rangeText(uint64(r[0]), uint64(r[1])) }
