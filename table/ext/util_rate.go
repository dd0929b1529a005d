package ext

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Helpers of the rate group (limit, hashlimit, recent, statistic, time,
// quota, nfacct, rateest, cpu, cgroup, bpf, string, u32, length). Many of
// these extensions parse their arguments with bare C library calls (atoi,
// strtoul with trailing text allowed, strtod, sscanf, inet_aton) instead of
// libxtables' checked helpers, so accepting exactly what iptables accepts
// means reproducing those calls, quirks included.

// kernelHZ is the tick rate of the reference kernel (CONFIG_HZ=250). The
// limit and hashlimit matches check in the kernel that rate × burst does
// not overflow their credit counters, and the credit scale depends on HZ,
// so a few extreme rate/burst pairs are accepted or refused depending on
// the kernel fw's output is loaded into. fw follows the reference.
const kernelHZ = 250

// rtUint parses an integer option the way libxtables' XTTYPE_UINT* do, with
// iptables' range in the message.
func rtUint(opt, s string, min, max uint64) (uint64, error) {
	v, ok := table.ParseUint(s, min, max)
	if !ok {
		return 0, fmt.Errorf("invalid value %q for --%s (expected a number from %d to %d)", s, opt, min, max)
	}
	return v, nil
}

// rtAtoll is C's atoll (strtol base 10, saturating).
func rtAtoll(s string) int64 {
	i, neg := cSign(s)
	var v uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		v = v*10 + uint64(s[i]-'0')
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(v)
	case over || v > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(v)
}

// rtAtoi is glibc's atoi: (int)strtol, so an out-of-range value is the
// saturated long cut to 32 bits.
func rtAtoi(s string) int32 { return int32(rtAtoll(s)) }

// rtNumericHost parses a numeric address of the family as getaddrinfo does
// (inet_aton forms for IPv4, an IPv6 literal for IPv6), into
// the 16-byte nf_inet_addr layout (IPv4 in the first 4 bytes).
func rtNumericHost(s string, f table.Family) ([16]byte, bool) {
	var out [16]byte
	if f == table.IPv6 {
		// getaddrinfo accepts a scope (fe80::1%eth0) and drops it.
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() {
			return out, false
		}
		return a.As16(), true
	}
	a, ok := inetAton(s, true)
	copy(out[:], a[:])
	return out, ok
}

// rtHost resolves the argument of an XTTYPE_HOST option: a numeric address,
// else a name from /etc/hosts (fw never asks DNS). A name with several
// addresses is an error, as in iptables.
func rtHost(s string, f table.Family) ([16]byte, error) {
	if a, ok := rtNumericHost(s, f); ok {
		return a, nil
	}
	var out [16]byte
	if s == "" || strings.ContainsAny(s, "/ ") {
		return out, fmt.Errorf("invalid address %q", s)
	}
	addrs, err := table.ParseAddr(s, f)
	if err != nil {
		return out, err
	}
	if len(addrs) != 1 {
		return out, fmt.Errorf("%q resolves to more than one address", s)
	}
	b := addrs[0].IP.AsSlice()
	copy(out[:], b)
	return out, nil
}

// rtPrefixLen parses an XTTYPE_PLEN argument: a prefix length up to the
// family's width, or a contiguous netmask in address form.
func rtPrefixLen(opt, s string, f table.Family) (uint8, error) {
	width := uint64(32)
	if f == table.IPv6 {
		width = 128
	}
	if v, ok := table.ParseUint(s, 0, width); ok {
		return uint8(v), nil
	}
	if a, ok := rtNumericHost(s, f); ok {
		m := a[:4]
		if f == table.IPv6 {
			m = a[:]
		}
		// A non-contiguous mask becomes length 255, which the kernel
		// refuses.
		if n := table.MaskPrefixLen(m); n >= 0 {
			return uint8(n), nil
		}
		return 0, fmt.Errorf("--%s %q is not a contiguous netmask", opt, s)
	}
	return 0, fmt.Errorf("invalid value %q for --%s (neither a netmask nor a prefix length 0-%d)", s, opt, width)
}

// rtProcName is the kernel's xt_check_proc_name, which hashlimit and recent
// apply to their table names (they become /proc file names).
func rtProcName(opt, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("--%s must not be empty", opt)
	case name == "." || name == "..":
		return fmt.Errorf("--%s %q is not a valid /proc file name", opt, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("--%s %q contains '/', which the kernel refuses", opt, name)
	}
	return nil
}

// rtBareName refuses names that iptables-save prints without quoting but
// that its restore cannot read back (a blank or a double quote would split
// or open a word): the kernel takes them, but the saved rule is lost on the
// next restore.
func rtBareName(opt, name string) error {
	if i := strings.IndexAny(name, " \t\n\v\f\r\""); i >= 0 {
		return table.WithHint("iptables-save prints this name unquoted, so the saved rule cannot be restored",
			"--%s %q contains %q", opt, name, name[i:i+1])
	}
	return nil
}

// rtTruncate cuts s to the n bytes a fixed-size field keeps (libxtables
// copies string options with strncpy and a terminating NUL).
func rtTruncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// rtNameLen refuses a name longer than the max bytes its kernel field
// holds. iptables cuts such a name without a word, so two names meant to
// be distinct can end up as the same kernel object (hash table, list,
// estimator); fw says so instead.
func rtNameLen(opt, s string, max int) error {
	if len(s) > max {
		return table.WithHint(fmt.Sprintf("the kernel keeps at most %d bytes; iptables would cut the name", max),
			"--%s %q is too long (%d bytes, at most %d)", opt, s, len(s), max)
	}
	return nil
}

// rtRateUnit reads the "/unit" of a limit or hashlimit rate: any
// case-insensitive prefix of second, minute, hour or day; none means per
// second.
func rtRateUnit(rate string) (uint64, bool) {
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

// rtRateText prints a limit/hashlimit period (scale × seconds per packet)
// as iptables does: the largest unit that still shows the rate exactly
// enough. It also returns that unit in milliseconds (hashlimit's default
// expiry).
func rtRateText(period, scale uint64) (string, uint64) {
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

// rtPow2Below is the kernel's POW2_BELOW macros: the largest power of two
// not above x.
func rtPow2Below(x uint64) uint64 {
	if x == 0 {
		return 1
	}
	return 1 << (bits.Len64(x) - 1)
}

// rtRangeList parses libxtables' XTTYPE_UINT*RC syntax: up to n numbers
// separated by ':', where an empty first field is 0 and an empty second
// field is max ("4:" is 4:max, ":" is 0:max, "" is 0).
func rtRangeList(opt, s string, max uint64, n int) ([]uint64, error) {
	var vals []uint64
	arg := s
	for {
		if len(vals) == n {
			return nil, fmt.Errorf("--%s %q has more than %d ':'-separated fields", opt, s, n)
		}
		var v uint64
		end := arg
		if arg != "" && arg[0] != ':' {
			var ok bool
			v, end, ok = xtStrtoulPrefix(arg, 0, max)
			if !ok {
				return nil, fmt.Errorf("invalid --%s %q (values are 0 to %d)", opt, s, max)
			}
			if end != "" && end[0] != ':' {
				return nil, fmt.Errorf("invalid --%s %q (unexpected %q)", opt, s, end)
			}
		} else if len(vals) == 1 {
			v = max
		}
		vals = append(vals, v)
		if end == "" {
			return vals, nil
		}
		arg = end[1:]
	}
}

// rtWhole makes r fail unless its buffer holds a whole struct of size
// bytes, for decoders that do not read up to the struct's last field (its
// tail is kernel-private).
func rtWhole(r *xtbin.Reader, size int) {
	r.U8(size - 1)
}

// rtEarlier finds the first extension that the kernel checks before self
// (entries in blob order: built-in chains in hook order, user chains by
// name; within an entry the matches in order, then the target) and for
// which conflict is true, with the rule that holds it. Kernel objects
// shared by name (hashlimit tables, estimators, idle timers) are created
// by the first rule that names them; a later rule whose parameters do not
// fit is the one the kernel refuses. Without the whole table it looks at
// the rule alone.
func rtEarlier(c *table.CheckContext, self table.Ext, conflict func(table.Ext) bool) (table.Ext, *table.Rule) {
	var rules []*table.Rule
	if c.Table == nil {
		rules = []*table.Rule{c.Rule}
	} else {
		chains := slices.Clone(c.Table.Chains)
		slices.SortStableFunc(chains, func(a, b *table.Chain) int {
			ha, aBuiltin := table.HookByName(a.Name)
			hb, bBuiltin := table.HookByName(b.Name)
			aBuiltin, bBuiltin = aBuiltin && a.Builtin, bBuiltin && b.Builtin
			switch {
			case aBuiltin && bBuiltin:
				return int(ha) - int(hb)
			case aBuiltin != bBuiltin:
				if aBuiltin {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Name, b.Name)
		})
		for _, ch := range chains {
			rules = append(rules, ch.Rules...)
		}
	}
	for _, r := range rules {
		t, _ := r.Target.(table.Ext)
		for i := 0; i <= len(r.Matches); i++ {
			e := t
			if i < len(r.Matches) {
				e = r.Matches[i]
			}
			switch {
			case e == nil:
			case e == self:
				return nil, nil
			case conflict(e):
				return e, r
			}
		}
	}
	return nil, nil
}

// rtWhere names the rule of an earlier conflicting extension for a
// message: its line when it came from a file.
func rtWhere(r *table.Rule) string {
	if r != nil && r.Pos.IsValid() {
		return fmt.Sprintf(" (line %d)", r.Pos.Line)
	}
	return ""
}
