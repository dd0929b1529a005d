package ext

import (
	"fmt"
	"math"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// RateEstTarget is the RATEEST target; it mirrors struct
// xt_rateest_target_info (without the kernel's private pointer): the
// estimator's name and its interval and averaging constant as the kernel's
// generic estimator wants them, both as powers of two.
type RateEstTarget struct {
	EstName  string // char name[IFNAMSIZ]
	Interval int8   // the interval is 2^Interval seconds, -2..3
	EwmaLog  uint8  // the averaging time constant is 2^EwmaLog intervals

	// The times as given, in microseconds: libxtables' udata, only
	// needed until Finish turns them into the two fields above.
	interval, ewma uint32
}

const rateestTgNameMax = 15 // IFNAMSIZ - 1

var rateestTargetInfo = &table.ExtInfo{
	Name: "RATEEST", Kind: table.TargetKind, Family: table.BothFamilies, Size: rateestTgSize,
	Options: opts("rateest-name=", "rateest-interval=", "rateest-ewmalog="),
	New:     func(table.Family) table.Ext { return &RateEstTarget{} },
}

func (t *RateEstTarget) Info() *table.ExtInfo { return rateestTargetInfo }
func (t *RateEstTarget) Name() string         { return "RATEEST" }

func (t *RateEstTarget) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "rateest-name":
		// iptables cuts longer names to 15 bytes without a word and
		// prints the name bare; fw refuses what would not come back
		// unchanged.
		switch {
		case len(a.Arg) > rateestTgNameMax:
			return fmt.Errorf("estimator name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), rateestTgNameMax)
		case !isBare(a.Arg):
			return fmt.Errorf("estimator name %q is empty or contains a blank or a double quote, which iptables-save cannot write back", a.Arg)
		}
		t.EstName = a.Keep(a.Arg)
	case "rateest-interval":
		t.interval, err = parseRateEstTime(a.Arg)
	case "rateest-ewmalog":
		t.ewma, err = parseRateEstTime(a.Arg)
	default:
		return unknownOption(a)
	}
	return err
}

// parseRateEstTime reads a time in the iproute2 syntax iptables copied: a C
// floating-point number with an optional unit s/sec/secs, ms/msec/msecs or
// us/usec/usecs (case-insensitive; none means microseconds). iptables
// then stores it in an unsigned int as C converts it, which turns negative,
// infinite and huge times into unrelated values; fw refuses those.
func parseRateEstTime(s string) (uint32, error) {
	v, unit, ok := cStrtod(s)
	if !ok {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	switch strings.ToLower(unit) {
	case "":
	case "s", "sec", "secs":
		v *= 1e6
	case "ms", "msec", "msecs":
		v *= 1e3
	case "us", "usec", "usecs":
	default:
		return 0, table.WithHint("units are s, ms and us", "invalid time %q (unknown unit %q)", s, unit)
	}
	if math.IsNaN(v) || v < 0 || v >= 1<<32 {
		return 0, fmt.Errorf("time %q is out of range (0 to 4294.967295 seconds)", s)
	}
	return cDoubleToU32(v), nil
}

// Finish derives the kernel's fields as iptables does: the interval is
// rounded up to the next of 1/4, 1/2, 1, 2, 4 or 8 seconds, and EwmaLog is
// the largest power of two of intervals whose averaging weight keeps
// interval/-ln(1-2^-n) at or below the requested time constant.
func (t *RateEstTarget) Finish(c *table.FinishContext) error {
	for _, o := range []string{"rateest-name", "rateest-interval", "rateest-ewmalog"} {
		if !c.Seen.Has(o) {
			return fmt.Errorf("--%s is required", o)
		}
	}
	i := 0
	for ; i <= 5; i++ {
		if uint64(t.interval) <= uint64(1)<<i*250000 {
			break
		}
	}
	if i > 5 {
		return table.WithHint("the longest interval is 8s", "--rateest-interval is too large")
	}
	t.Interval = int8(i - 2)
	e := 1
	for ; e < 32; e++ {
		// 1 << 31 is INT_MIN in iptables' C: the weight is then above
		// one and the test fails.
		if e == 31 {
			continue
		}
		w := 1.0 - 1.0/float64(int(1)<<e)
		if float64(t.interval)/(-math.Log(w)) > float64(t.ewma) {
			break
		}
	}
	e--
	if e == 0 || e >= 31 {
		return table.WithHint("the time constant must be longer than the interval and at most about 2^30 intervals", "--rateest-ewmalog is out of range")
	}
	t.EwmaLog = uint8(e)
	return nil
}

// Check is the kernel's rule about shared estimators: RATEEST targets
// with the same name share one estimator in the network namespace, created
// by the first of them, and a later one is refused unless its interval and
// time constant, as stored, are the same (so 4s and 5s, which both store
// the same power of two, agree). Estimators are shared across tables and
// families; fw sees one table, so a clash outside it shows only when the
// kernel refuses the commit.
func (t *RateEstTarget) Check(c *table.CheckContext) error {
	e, r := earlierConflict(c, t, func(e table.Ext) bool {
		o, ok := e.(*RateEstTarget)
		return ok && o.EstName == t.EstName && (o.Interval != t.Interval || o.EwmaLog != t.EwmaLog)
	})
	if e == nil {
		return nil
	}
	var was table.Writer
	e.Print(&was)
	return table.WithHint("the kernel keeps one estimator per name and will not change its parameters; use the same ones or another name",
		"estimator %q was already defined with other parameters%s:%s", t.EstName, ruleWhere(r), was.String())
}

func (t *RateEstTarget) Print(w *table.Writer) {
	iv := uint32(1000000 / 4)
	if t.Interval > -2 {
		iv <<= t.Interval + 2
	}
	w.Opt(false, "rateest-name", t.EstName)
	w.Opt(false, "rateest-interval", rateestTimeText(iv))
	// Computed in 32 bits, as iptables does, overflow included.
	w.Opt(false, "rateest-ewmalog", rateestTimeText(iv<<t.EwmaLog))
}

func rateestTimeText(us uint32) string {
	switch {
	case us >= 1000000:
		return fmt.Sprintf("%.1fs", float64(us)/1e6)
	case us >= 1000:
		return fmt.Sprintf("%.1fms", float64(us)/1e3)
	}
	return fmt.Sprintf("%dus", us)
}

// struct xt_rateest_target_info: name[16]@0 interval s8@16 ewma_log u8@17,
// 6 bytes padding, then the kernel's est pointer @24 (aligned(8)), written
// zero and returned zeroed (the kernel's usersize stops before it).
const rateestTgSize = 32

func (t *RateEstTarget) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, rateestTgNameMax+1, t.EstName); err != nil {
		return fmt.Errorf("RATEEST name: %w", err)
	}
	w.U8(16, uint8(t.Interval))
	w.U8(17, t.EwmaLog)
	return nil
}

func (t *RateEstTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	t.EstName = r.String(0, rateestTgNameMax+1)
	t.Interval = int8(r.U8(16))
	t.EwmaLog = r.U8(17)
	return r.Err()
}
