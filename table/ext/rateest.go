package ext

import (
	"fmt"
	"math"
	"strconv"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// RateEst is the rateest match; it mirrors struct xt_rateest_match_info.
// Rates are bytes (bps) or packets (pps) per second. The named estimators
// are created by RATEEST targets and must exist when the rule is loaded.
type RateEst struct {
	Name1 string // name1[IFNAMSIZ]
	Name2 string // name2[IFNAMSIZ]
	Flags uint16
	Mode  uint16
	BPS1  uint32
	PPS1  uint32
	BPS2  uint32
	PPS2  uint32
	Est1  uint64 // kernel-private pointer
	Est2  uint64 // kernel-private pointer
}

// XT_RATEEST_MATCH_* flags and modes.
const (
	reInvert = 0x01
	reAbs    = 0x02
	reRel    = 0x04
	reDelta  = 0x08
	reBPS    = 0x10
	rePPS    = 0x20

	reModeNone = 0
	reModeEq   = 1
	reModeLt   = 2
	reModeGt   = 3

	reNameSize = 16
)

var rateestInfo = &table.ExtInfo{
	Name: "rateest", Kind: table.MatchKind, Family: table.BothFamilies, Size: rateestSize,
	// The rate after --rateest-bps1 and friends is optional: iptables takes
	// the next word unless it starts with '-' or '!'.
	Options: opts("rateest1=", "|rateest", "rateest2=",
		"rateest-bps1=?", "rateest-pps1=?", "rateest-bps2=?", "|rateest-bps", "rateest-pps2=?", "|rateest-pps",
		"rateest-delta", "!rateest-lt", "!rateest-gt", "!rateest-eq"),
	New: func(table.Family) table.Ext { return &RateEst{} },
}

func (m *RateEst) Info() *table.ExtInfo { return rateestInfo }
func (m *RateEst) Name() string         { return "rateest" }

func (m *RateEst) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "rateest1":
		if err := checkNameLen(a.Opt.Name, a.Arg, reNameSize-1); err != nil {
			return err
		}
		m.Name1 = a.Keep(a.Arg)
	case "rateest2":
		if err := checkNameLen(a.Opt.Name, a.Arg, reNameSize-1); err != nil {
			return err
		}
		m.Name2 = a.Keep(a.Arg)
		m.Flags |= reRel
	case "rateest-bps1", "rateest-bps2":
		m.Flags |= reBPS
		if !a.HasArg {
			break
		}
		v, err := reParseRate(a.Arg)
		if err != nil {
			return err
		}
		if a.Key() == "rateest-bps1" {
			m.BPS1 = v
		} else {
			m.BPS2 = v
		}
	case "rateest-pps1", "rateest-pps2":
		m.Flags |= rePPS
		if !a.HasArg {
			break
		}
		v, ok := table.ParseUint(a.Arg, 0, math.MaxUint32)
		if !ok {
			return fmt.Errorf("invalid packet rate %q (expected 0 to %d)", a.Arg, uint64(math.MaxUint32))
		}
		if a.Key() == "rateest-pps1" {
			m.PPS1 = uint32(v)
		} else {
			m.PPS2 = uint32(v)
		}
	case "rateest-delta":
		m.Flags |= reDelta
	case "rateest-lt", "rateest-gt", "rateest-eq":
		// A later comparison replaces an earlier one, as in iptables; a
		// negation stays.
		m.Mode = map[string]uint16{"rateest-eq": reModeEq, "rateest-lt": reModeLt, "rateest-gt": reModeGt}[a.Key()]
		if a.Invert {
			m.Flags |= reInvert
		}
	default:
		return unknownOption(a)
	}
	return nil
}

// reUnits are iproute's rate suffixes, matched case-insensitively.
var reUnits = []struct {
	name  string
	scale float64
}{
	{"bit", 1}, {"Kibit", 1024}, {"kbit", 1000}, {"Mibit", 1024 * 1024}, {"mbit", 1000000},
	{"Gibit", 1024 * 1024 * 1024}, {"gbit", 1000000000}, {"Tibit", 1024 * 1024 * 1024 * 1024}, {"tbit", 1000000000000},
	{"Bps", 8}, {"KiBps", 8 * 1024}, {"KBps", 8000}, {"MiBps", 8 * 1024 * 1024}, {"MBps", 8000000},
	{"GiBps", 8 * 1024 * 1024 * 1024}, {"GBps", 8000000000}, {"TiBps", 8 * 1024 * 1024 * 1024 * 1024}, {"TBps", 8000000000000},
}

// reParseRate reads a byte rate: a number with an optional unit; a bare
// number is taken as bits per second and stored in bytes.
func reParseRate(s string) (uint32, error) {
	bps, rest, ok := cStrtod(s)
	if !ok {
		return 0, table.WithHint("write a rate such as 8bit, 5kbit, 1mbit or 100KBps", "invalid rate %q", s)
	}
	if rest == "" {
		return cDoubleToU32(bps / 8), nil
	}
	for _, u := range reUnits {
		if len(rest) == len(u.name) && cHasPrefixFold(rest, u.name) {
			return cDoubleToU32(bps * u.scale / 8), nil
		}
	}
	return 0, table.WithHint("units are bit, kbit, mbit, gbit, tbit, Kibit…, Bps, KBps, KiBps…", "invalid rate %q (unknown unit %q)", s, rest)
}

// Finish applies iptables' defaulting and the kernel's checks; whether
// the estimators exist is only known where the rule is loaded.
func (m *RateEst) Finish(*table.FinishContext) error {
	if m.Flags&reRel == 0 {
		m.Flags |= reAbs
	}
	switch {
	case m.Name1 == "":
		// The kernel looks the estimator up by name; there is none
		// without one.
		return table.WithHint("add --rateest NAME (or --rateest1 NAME)", "an estimator name is required")
	case m.Flags&reRel != 0 && m.Name2 == "":
		return fmt.Errorf("--rateest2 needs an estimator name")
	case m.Flags&(reBPS|rePPS) == 0:
		return table.WithHint("add --rateest-bps or --rateest-pps", "a rate to compare is required")
	case m.Mode == reModeNone:
		return table.WithHint("add --rateest-lt, --rateest-gt or --rateest-eq", "a comparison is required")
	}
	if err := checkBareName("rateest1", m.Name1); err != nil {
		return err
	}
	return checkBareName("rateest2", m.Name2)
}

// reRateText prints a byte rate as bits per second, as iptables-save does.
func reRateText(rate uint32) string {
	bits := float64(rate) * 8
	switch {
	case bits >= 1000*1000000:
		return strconv.FormatFloat(bits/1000000, 'f', 0, 64) + "Mbit"
	case bits >= 1000*1000:
		return strconv.FormatFloat(bits/1000, 'f', 0, 64) + "Kbit"
	}
	return strconv.FormatFloat(bits, 'f', 0, 64) + "bit"
}

func (m *RateEst) printMode(w *table.Writer) {
	w.Flag(m.Flags&reInvert != 0, "rateest-"+[4]string{"", "eq", "lt", "gt"}[m.Mode&3])
}

func (m *RateEst) printRates(w *table.Writer, name string, r1, r2 string) {
	if m.Flags&reDelta != 0 {
		w.Opt(false, "rateest-"+name+"1", r1)
		m.printMode(w)
		w.Flag(false, "rateest-"+name+"2")
	} else {
		m.printMode(w)
		w.Flag(false, "rateest-"+name)
	}
	if m.Flags&(reAbs|reDelta) != 0 {
		w.Raw(" " + r2)
	}
}

func (m *RateEst) Print(w *table.Writer) {
	if m.Flags&reDelta != 0 {
		w.Flag(false, "rateest-delta")
	}
	if m.Flags&reRel != 0 {
		w.Opt(false, "rateest1", m.Name1)
	} else {
		w.Opt(false, "rateest", m.Name1)
	}
	if m.Flags&reBPS != 0 {
		m.printRates(w, "bps", reRateText(m.BPS1), reRateText(m.BPS2))
	}
	if m.Flags&rePPS != 0 {
		m.printRates(w, "pps", strconv.FormatUint(uint64(m.PPS1), 10), strconv.FormatUint(uint64(m.PPS2), 10))
	}
	if m.Flags&reRel != 0 {
		w.Opt(false, "rateest2", m.Name2)
	}
}

// struct xt_rateest_match_info: name1[IFNAMSIZ = 16]@0 name2[16]@16 flags
// u16@32 mode u16@34 bps1 u32@36 pps1@40 bps2@44 pps2@48, padding, the
// kernel's est1 pointer @56 and est2 @64 (written zero, not handed back).
const rateestSize = 72

func (m *RateEst) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, reNameSize, m.Name1); err != nil {
		return fmt.Errorf("--rateest1: %w", err)
	}
	if err := w.String(16, reNameSize, m.Name2); err != nil {
		return fmt.Errorf("--rateest2: %w", err)
	}
	w.U16(32, m.Flags)
	w.U16(34, m.Mode)
	w.U32(36, m.BPS1)
	w.U32(40, m.PPS1)
	w.U32(44, m.BPS2)
	w.U32(48, m.PPS2)
	return nil
}

func (m *RateEst) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Name1, m.Name2 = r.String(0, reNameSize), r.String(16, reNameSize)
	m.Flags, m.Mode = r.U16(32), r.U16(34)
	m.BPS1, m.PPS1, m.BPS2, m.PPS2 = r.U32(36), r.U32(40), r.U32(44), r.U32(48)
	m.Est1, m.Est2 = 0, 0
	needWhole(r, rateestSize)
	return r.Err()
}
