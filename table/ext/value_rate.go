package ext

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// The packet rate value of the limit and hashlimit matches: "N[/unit]",
// stored as the time between packets in units of 1/scale second. The two
// matches carry their own copy of parse_rate, which differ in how N is
// read and in the scale; a rateSyntax names the one an option mirrors.

// rateSyntax is the upstream parse_rate a rate option mirrors.
type rateSyntax struct {
	scale uint64
	// atoll: N is read with atoll (libxt_hashlimit) rather than atoi
	// (libxt_limit, where "-1" wraps to 4294967295 through a uint32).
	atoll bool
}

var (
	// limitRateSyntax is libxt_limit's parse_rate, XT_LIMIT_SCALE.
	limitRateSyntax = rateSyntax{scale: limitScale}
	// hashlimitRateSyntax is libxt_hashlimit's parse_rate,
	// XT_HASHLIMIT_SCALE_v2.
	hashlimitRateSyntax = rateSyntax{scale: hlScale, atoll: true}
)

// parse reads "N[/unit]": N through atoi or atoll (so "5x" is 5), the
// unit any case-insensitive prefix of second, minute, hour or day (none
// is per second). It returns the period and the unit in seconds; ok is
// false for a unit it does not know or an N of zero, for which the caller
// words the error.
func (r rateSyntax) parse(s string) (period, unit uint64, ok bool, err error) {
	unit, ok = rateUnit(s)
	n := uint64(cAtoll(s))
	if !r.atoll {
		n = uint64(uint32(cAtoi(s)))
	}
	if !ok || n == 0 {
		return 0, 0, false, nil
	}
	if r.atoll {
		period = r.scale * unit / n
	} else {
		period = uint64(uint32(r.scale*unit) / uint32(n))
	}
	if period == 0 {
		return 0, 0, true, fmt.Errorf("rate %q is too fast (at most %d/second)", s, r.scale)
	}
	return period, unit, true, nil
}

// rateUnit reads the "/unit" of a rate: any case-insensitive prefix of
// second, minute, hour or day; none means per second.
func rateUnit(rate string) (uint64, bool) {
	i := strings.IndexByte(rate, '/')
	if i < 0 {
		return 1, true
	}
	u := rate[i+1:]
	if u == "" {
		return 0, false
	}
	for _, c := range []struct {
		name string
		mult uint64
	}{{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}} {
		if len(u) <= len(c.name) && cHasPrefixFold(c.name, u) {
			return c.mult, true
		}
	}
	return 0, false
}

// rateText prints a period as iptables' print_rate does: the largest unit
// that still shows the rate exactly enough. It also returns that unit in
// milliseconds (hashlimit's default expiry).
func rateText(period, scale uint64) (string, uint64) {
	if period == 0 {
		return "inf", 0
	}
	mults := [4]uint64{scale * 86400, scale * 3600, scale * 60, scale}
	names := [4]string{"day", "hour", "min", "sec"}
	i := 1
	for ; i < len(mults); i++ {
		if period > mults[i] || mults[i]/period < mults[i]%period {
			break
		}
	}
	return strconv.FormatUint(mults[i-1]/period, 10) + "/" + names[i-1], mults[i-1] / scale * 1000
}

// errRate is the error of a rate parse reported not ok.
func errRate(s, hint string) error {
	return table.WithHint(hint, "invalid rate %q", s)
}

// kernelHZ is the tick rate of the reference kernel (CONFIG_HZ=250). The
// limit and hashlimit matches check in the kernel that rate × burst does
// not overflow their credit counters, and the credit scale depends on HZ,
// so a few extreme rate/burst pairs are accepted or refused depending on
// the kernel fw's output is loaded into. fw follows the reference.
const kernelHZ = 250

// pow2Below is the kernel's POW2_BELOW macros: the largest power of two
// not above x.
func pow2Below(x uint64) uint64 {
	if x == 0 {
		return 1
	}
	return 1 << (bits.Len64(x) - 1)
}
