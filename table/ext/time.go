package ext

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fwkit/fw/table"
)

// TimeMatch is the time match; it mirrors struct xt_time_info. Dates are
// Unix seconds, daytimes seconds since midnight, both UTC unless Flags has
// the kernel-timezone bit.
type TimeMatch struct {
	DateStart      uint32
	DateStop       uint32
	DaytimeStart   uint32
	DaytimeStop    uint32
	MonthdaysMatch uint32 // bit d for day d of the month
	WeekdaysMatch  uint8  // bit 1 Monday … bit 7 Sunday
	Flags          uint8
}

const (
	timeLocalTZ    = 0x01
	timeContiguous = 0x02

	timeAllMonthdays = 0xFFFFFFFE
	timeAllWeekdays  = 0xFE
	timeMaxDaytime   = 24*60*60 - 1
	timeMaxDate      = 0x7FFFFFFF // iptables' default stop (INT_MAX)
)

var timeWeekdays = [8]string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

var timeInfo = &table.ExtInfo{
	Name: "time", Kind: table.MatchKind, Family: table.BothFamilies, Size: timeSize,
	Options: opts("datestart=", "datestop=", "timestart=", "timestop=", "contiguous",
		"!weekdays=", "!monthdays=", "localtz", "utc", "kerneltz"),
	New: func(table.Family) table.Ext {
		return &TimeMatch{DateStop: timeMaxDate, DaytimeStop: timeMaxDaytime,
			MonthdaysMatch: timeAllMonthdays, WeekdaysMatch: timeAllWeekdays}
	},
}

func (m *TimeMatch) Info() *table.ExtInfo { return timeInfo }
func (m *TimeMatch) Name() string         { return "time" }

func (m *TimeMatch) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "datestart":
		m.DateStart, err = timeParseDate(a.Arg)
	case "datestop":
		m.DateStop, err = timeParseDate(a.Arg)
	case "timestart":
		m.DaytimeStart, err = timeParseDaytime(a.Arg)
	case "timestop":
		m.DaytimeStop, err = timeParseDaytime(a.Arg)
	case "contiguous":
		m.Flags |= timeContiguous
	case "localtz", "kerneltz":
		// --localtz is the old spelling of --kerneltz.
		m.Flags |= timeLocalTZ
	case "utc":
	case "monthdays":
		m.MonthdaysMatch, err = timeParseMonthdays(a.Arg)
		if a.Invert {
			m.MonthdaysMatch ^= timeAllMonthdays
		}
	case "weekdays":
		m.WeekdaysMatch, err = timeParseWeekdays(a.Arg)
		if a.Invert {
			m.WeekdaysMatch ^= timeAllWeekdays
		}
	default:
		return unknownOption(a)
	}
	return err
}

// timeStrtoul is strtoul(s, &e, 10) assigned to an unsigned int.
func timeStrtoul(s string) (uint32, string) {
	v, rest, _, _ := table.Strtoumax(s, 10)
	return uint32(v), rest
}

// timeParseDate reads YYYY[-MM[-DD[Thh[:mm[:ss]]]]] as libxt_time does:
// an empty field counts as 0, out-of-range days and months roll over
// (mktime normalises them), and the result must not be before 1970.
func timeParseDate(s string) (uint32, error) {
	bad := table.WithHint("write YYYY[-MM[-DD[Thh[:mm[:ss]]]]], between 1970 and 2038",
		"invalid date %q", s)
	f := [6]uint32{0, 1, 1, 0, 0, 0}
	seps := [6]byte{'-', '-', 'T', ':', ':', 0}
	limits := [6]uint32{0, 12, 31, 23, 59, 59}
	rest := s
	for i := 0; i < 6; i++ {
		var v uint32
		v, rest = timeStrtoul(rest)
		if i == 0 && (v < 1970 || v > 2038) || i > 0 && v > limits[i] {
			return 0, bad
		}
		if rest != "" && (seps[i] == 0 || rest[0] != seps[i]) {
			return 0, bad
		}
		f[i] = v
		if rest == "" {
			break
		}
		rest = rest[1:]
	}
	t := time.Date(int(f[0]), time.Month(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5]), 0, time.UTC).Unix()
	if t < 0 {
		return 0, fmt.Errorf("date %q is before 1970", s)
	}
	return uint32(t), nil
}

// timeParseDaytime reads hh:mm[:ss].
func timeParseDaytime(s string) (uint32, error) {
	bad := table.WithHint("write hh:mm[:ss], from 00:00:00 to 23:59:59", "invalid time %q", s)
	h, rest := timeStrtoul(s)
	if rest == "" || rest[0] != ':' || h > 23 {
		return 0, bad
	}
	mi, rest := timeStrtoul(rest[1:])
	if rest != "" && rest[0] != ':' || mi > 59 {
		return 0, bad
	}
	var sec uint32
	if rest != "" {
		sec, rest = timeStrtoul(rest[1:])
		if rest != "" || sec > 59 {
			return 0, bad
		}
	}
	return 3600*h + 60*mi + sec, nil
}

// timeSegments splits a day list as libxt_time's my_strseg does: at each
// comma, each piece cut to size-1 bytes.
func timeSegments(s string, size int) []string {
	var out []string
	for s != "" {
		seg, rest, found := strings.Cut(s, ",")
		out = append(out, truncate(seg, size-1))
		if !found {
			break
		}
		s = rest
	}
	return out
}

func timeParseMonthdays(s string) (uint32, error) {
	var mask uint32
	for _, day := range timeSegments(s, 3) {
		v, rest, _, _ := table.Strtoumax(day, 0)
		if rest != "" || uint32(v) > 31 {
			return 0, table.WithHint("days of the month are 1 to 31", "invalid --monthdays day %q", day)
		}
		mask |= 1 << uint32(v)
	}
	return mask, nil
}

func timeParseWeekdays(s string) (uint8, error) {
	var mask uint32
	for _, day := range timeSegments(s, 4) {
		if v, rest, _, _ := table.Strtoumax(day, 0); rest == "" {
			if uint32(v) == 0 {
				return 0, table.WithHint("weekdays are 1 (Monday) to 7 (Sunday)", "invalid --weekdays day %q", day)
			}
			// iptables shifts by the number unchecked; bits past
			// Sunday fall out of the 8-bit field.
			mask |= 1 << (uint32(v) & 31)
			continue
		}
		valid := false
		for i := 1; i < len(timeWeekdays); i++ {
			// Only the first two letters count, case-sensitively.
			if len(day) >= 2 && day[:2] == timeWeekdays[i][:2] {
				mask |= 1 << i
				valid = true
			}
		}
		if !valid {
			return 0, table.WithHint("weekdays are Mon, Tue, Wed, Thu, Fri, Sat, Sun or 1 to 7", "invalid --weekdays day %q", day)
		}
	}
	return uint8(mask), nil
}

func (m *TimeMatch) Finish(c *table.FinishContext) error {
	switch {
	case c.Seen.Has("utc") && (c.Seen.Has("kerneltz") || c.Seen.Has("localtz")):
		return fmt.Errorf("--utc and --kerneltz cannot be used together")
	case m.Flags&timeContiguous != 0 && m.DaytimeStart < m.DaytimeStop:
		return fmt.Errorf("--contiguous only makes sense when --timestop is before --timestart")
	case m.MonthdaysMatch&timeAllMonthdays == 0:
		// iptables accepts it (and saves an empty --monthdays it cannot
		// read back), but no packet ever matches.
		return fmt.Errorf("--monthdays selects no day of the month, so the rule never matches")
	case m.WeekdaysMatch&timeAllWeekdays == 0:
		return fmt.Errorf("--weekdays selects no day of the week, so the rule never matches")
	}
	return nil
}

func timeDaytimeText(t uint32) string {
	return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
}

func timeDateText(d uint32) string {
	t := time.Unix(int64(d), 0).UTC()
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second())
}

func (m *TimeMatch) Print(w *table.Writer) {
	if m.DaytimeStart != 0 || m.DaytimeStop != timeMaxDaytime {
		w.Opt(false, "timestart", timeDaytimeText(m.DaytimeStart))
		w.Opt(false, "timestop", timeDaytimeText(m.DaytimeStop))
	}
	if m.MonthdaysMatch != timeAllMonthdays {
		var days []string
		for i := 1; i <= 31; i++ {
			if m.MonthdaysMatch&(1<<i) != 0 {
				days = append(days, strconv.Itoa(i))
			}
		}
		w.Opt(false, "monthdays", strings.Join(days, ","))
	}
	if m.WeekdaysMatch != timeAllWeekdays {
		var days []string
		for i := 1; i <= 7; i++ {
			if m.WeekdaysMatch&(1<<i) != 0 {
				days = append(days, timeWeekdays[i])
			}
		}
		w.Opt(false, "weekdays", strings.Join(days, ","))
	}
	// iptables skips dates equal to 0 or LONG_MAX; the default stop is
	// INT_MAX, so it is always printed.
	if m.DateStart != 0 {
		w.Opt(false, "datestart", timeDateText(m.DateStart))
	}
	if m.DateStop != 0 {
		w.Opt(false, "datestop", timeDateText(m.DateStop))
	}
	if m.Flags&timeLocalTZ != 0 {
		w.Flag(false, "kerneltz")
	}
	if m.Flags&timeContiguous != 0 {
		w.Flag(false, "contiguous")
	}
}

// struct xt_time_info: date_start u32@0 date_stop@4 daytime_start@8
// daytime_stop@12 monthdays_match@16 weekdays_match u8@20 flags u8@21, two
// bytes of padding.
const timeSize = 24

func (m *TimeMatch) layout() []field {
	return []field{{0, &m.DateStart}, {4, &m.DateStop}, {8, &m.DaytimeStart}, {12, &m.DaytimeStop}, {16, &m.MonthdaysMatch}, {20, &m.WeekdaysMatch}, {21, &m.Flags}}
}

func (m *TimeMatch) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *TimeMatch) UnmarshalPayload(_ table.Family, data []byte) error {
	return getWhole(data, timeSize, m.layout()...)
}
