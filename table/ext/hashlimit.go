package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Hashlimit is the hashlimit match at revision 3; it mirrors struct
// xt_hashlimit_mtinfo3 (a 255-byte name, struct hashlimit_cfg3, and a
// kernel pointer).
type Hashlimit struct {
	TableName string // name[255], NUL-terminated
	Cfg       HashlimitCfg3
	HInfo     uint64 // kernel-private pointer

	// mult is the seconds per unit of the rate (15 for byte rates), which
	// iptables keeps beside the payload (udata) to default the expiry.
	mult uint32
	// fam decides the default masks, which iptables-save leaves out.
	fam table.Family
}

// HashlimitCfg3 mirrors struct hashlimit_cfg3.
type HashlimitCfg3 struct {
	Avg        uint64 // packet mode: 1e6 × seconds per packet; byte mode: cost
	Burst      uint64
	Mode       uint32
	Size       uint32
	Max        uint32
	GCInterval uint32 // ms
	Expire     uint32 // ms
	Interval   uint32 // s, rate-match only
	SrcMask    uint8
	DstMask    uint8
}

// hashlimit mode bits (XT_HASHLIMIT_*).
const (
	hlHashDIP   = 0x01
	hlHashDPT   = 0x02
	hlHashSIP   = 0x04
	hlHashSPT   = 0x08
	hlInvert    = 0x10
	hlBytes     = 0x20
	hlRateMatch = 0x40
)

const (
	hlScale        = 1000000 // XT_HASHLIMIT_SCALE_v2
	hlNameSize     = 255
	hlDefaultBurst = 5
	hlMaxBurst     = 1000000
	hlGCInterval   = 1000
	hlByteShift    = 4
	hlByteExpire   = 15      // s, byte mode without burst
	hlByteExpireB  = 60      // s, byte mode with burst
	hlMaxSize      = 1048576 // HASHLIMIT_MAX_SIZE: the kernel clamps size and max
)

var hashlimitInfo = &table.ExtInfo{
	Name: "hashlimit", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 3, Size: hashlimitSize,
	Options: opts("!hashlimit-upto=", "|hashlimit", "!hashlimit-above=",
		"hashlimit-srcmask=", "hashlimit-dstmask=", "hashlimit-burst=",
		"hashlimit-htable-size=", "hashlimit-htable-max=", "hashlimit-htable-gcinterval=",
		"hashlimit-htable-expire=", "hashlimit-mode=", "hashlimit-name=",
		"hashlimit-rate-match", "hashlimit-rate-interval="),
	New: func(f table.Family) table.Ext {
		m := &Hashlimit{Cfg: HashlimitCfg3{Burst: hlDefaultBurst, GCInterval: hlGCInterval}, fam: f}
		m.Cfg.SrcMask, m.Cfg.DstMask = uint8(famBits(f)), uint8(famBits(f))
		return m
	},
}

func (m *Hashlimit) Info() *table.ExtInfo { return hashlimitInfo }
func (m *Hashlimit) Name() string         { return "hashlimit" }

func (m *Hashlimit) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "hashlimit-upto", "hashlimit-above":
		// --hashlimit-above is --hashlimit-upto negated, and the other way
		// round.
		if a.Invert != (a.Key() == "hashlimit-above") {
			m.Cfg.Mode |= hlInvert
		}
		isBytes, err := m.parseBytes(a.Arg)
		if err != nil {
			return err
		}
		if isBytes {
			m.Cfg.Mode |= hlBytes
		} else if err := m.parseRate(a.Arg); err != nil {
			return err
		}
	case "hashlimit-mode":
		for _, tok := range strings.FieldsFunc(a.Arg, func(r rune) bool { return r == ',' || r == '|' }) {
			switch tok {
			case "dstip":
				m.Cfg.Mode |= hlHashDIP
			case "srcip":
				m.Cfg.Mode |= hlHashSIP
			case "srcport":
				m.Cfg.Mode |= hlHashSPT
			case "dstport":
				m.Cfg.Mode |= hlHashDPT
			default:
				return table.WithHint("modes are srcip, srcport, dstip and dstport, separated by commas",
					"invalid --hashlimit-mode %q (unknown mode %q)", a.Arg, tok)
			}
		}
	case "hashlimit-srcmask", "hashlimit-dstmask":
		n, err := parsePlen(a.Arg, a.Family)
		if err != nil {
			return err
		}
		if a.Key() == "hashlimit-srcmask" {
			m.Cfg.SrcMask = n
		} else {
			m.Cfg.DstMask = n
		}
	case "hashlimit-burst":
		v, err := hlParseBurst(a.Arg)
		if err != nil {
			return err
		}
		m.Cfg.Burst = v
	case "hashlimit-htable-size", "hashlimit-htable-max", "hashlimit-htable-gcinterval", "hashlimit-htable-expire":
		v, err := parseUint(a.Arg, 0, 0xFFFFFFFF)
		if err != nil {
			return err
		}
		switch a.Key() {
		case "hashlimit-htable-size":
			m.Cfg.Size = uint32(v)
		case "hashlimit-htable-max":
			m.Cfg.Max = uint32(v)
		case "hashlimit-htable-gcinterval":
			m.Cfg.GCInterval = uint32(v)
		default:
			m.Cfg.Expire = uint32(v)
		}
	case "hashlimit-name":
		if a.Arg == "" {
			return fmt.Errorf("--hashlimit-name must not be empty")
		}
		if err := checkNameLen("hashlimit-name", a.Arg, hlNameSize-1); err != nil {
			return err
		}
		m.TableName = a.Keep(a.Arg)
	case "hashlimit-rate-match":
		m.Cfg.Mode |= hlRateMatch
	case "hashlimit-rate-interval":
		// atoi, as iptables reads it: "10s" is 10.
		r := cAtoi(a.Arg)
		if r <= 0 {
			return fmt.Errorf("invalid --hashlimit-rate-interval %q (expected seconds, at least 1)", a.Arg)
		}
		m.Cfg.Interval = uint32(r)
	default:
		return unknownOption(a)
	}
	return nil
}

// parseRate reads a packet rate "N[/unit]".
func (m *Hashlimit) parseRate(s string) error {
	avg, mult, ok, err := hashlimitRateSyntax.parse(s)
	switch {
	case err != nil:
		return err
	case !ok:
		return errRate(s, "write N/sec, N/minute, N/hour, N/day, or a byte rate such as 10kb/s")
	}
	m.Cfg.Avg, m.mult = avg, uint32(mult)
	return nil
}

// parseBytes reads a byte rate "N[k|m]b/s", which the kernel stores as a
// cost per 16-byte chunk. It reports false for anything else.
func (m *Hashlimit) parseBytes(s string) (bool, error) {
	i := strings.Index(s, "b/s")
	if i <= 0 {
		return false, nil
	}
	r := uint64(cAtoll(s))
	if r == 0 {
		return false, nil
	}
	tmp := r * uint64(hlFactor(s[i-1]))
	if uint32(tmp>>hlByteShift) == 0xFFFFFFFF {
		// iptables divides by zero here and dies.
		return false, fmt.Errorf("byte rate %q is too high", s)
	}
	m.Cfg.Avg, m.mult = hlBytesToCost(tmp), hlByteExpire
	return true, nil
}

func hlFactor(c byte) uint32 {
	switch c {
	case 'm':
		return 1024 * 1024
	case 'k':
		return 1024
	}
	return 1
}

func hlBytesToCost(b uint64) uint64 {
	r := uint32(b >> hlByteShift)
	return uint64(0xFFFFFFFF / (r + 1))
}

func hlCostToBytes(cost uint64) uint64 {
	r := uint64(0xFFFFFFFF)
	if cost != 0 {
		r = 0xFFFFFFFF / cost
	}
	return (r - 1) << hlByteShift
}

// hlParseBurst reads --hashlimit-burst: a number, or in byte mode a size
// with a k or m suffix (any other suffix is ignored, as in iptables).
func hlParseBurst(s string) (uint64, error) {
	v, rest, ok := table.StrtoulPrefix(s, 1, 0xFFFFFFFFFFFFFFFF)
	if !ok || (rest == "" && v > hlMaxBurst) {
		return 0, fmt.Errorf("invalid --hashlimit-burst %q (expected 1 to %d, or a byte size such as 100kb)", s, hlMaxBurst)
	}
	if rest != "" {
		v *= uint64(hlFactor(rest[0]))
	}
	return v, nil
}

func (m *Hashlimit) Finish(c *table.FinishContext) error {
	upto, above := c.Seen.Has("hashlimit-upto"), c.Seen.Has("hashlimit-above")
	switch {
	case upto && above:
		return fmt.Errorf("--hashlimit-upto and --hashlimit-above cannot be used together")
	case !upto && !above:
		return table.WithHint("add --hashlimit-upto RATE or --hashlimit-above RATE", "a rate is required")
	case !c.Seen.Has("hashlimit-name"):
		return fmt.Errorf("--hashlimit-name is required")
	}
	cfg := &m.Cfg
	if !c.Seen.Has("hashlimit-htable-expire") {
		cfg.Expire = m.mult * 1000
	}
	if cfg.Mode&hlBytes != 0 {
		// The byte burst becomes a number of rate quanta, in 32 bits.
		var burst uint32
		if c.Seen.Has("hashlimit-burst") {
			quantum := hlCostToBytes(cfg.Avg)
			if cfg.Burst < quantum {
				return fmt.Errorf("--hashlimit-burst cannot be smaller than %db at this rate", quantum)
			}
			burst = uint32(cfg.Burst)
			burst /= uint32(quantum)
			if cfg.Burst%quantum != 0 {
				burst++
			}
			if !c.Seen.Has("hashlimit-htable-expire") {
				cfg.Expire = hlByteExpireB * 1000
			}
		}
		cfg.Burst = uint64(burst)
	} else if cfg.Burst > hlMaxBurst {
		return fmt.Errorf("invalid --hashlimit-burst %d (expected 1 to %d)", cfg.Burst, hlMaxBurst)
	}
	if c.Seen.Has("hashlimit-rate-match") {
		if cfg.Mode&hlBytes == 0 {
			cfg.Avg /= uint64(m.mult)
		}
		if cfg.Interval == 0 {
			cfg.Interval = m.mult
			if cfg.Mode&hlBytes != 0 {
				cfg.Interval = 1
			}
		}
	}
	return m.kernelCheck(c.Family)
}

// kernelCheck is what hashlimit_mt_check refuses (and the clamping it does
// in place, which iptables-save then shows).
func (m *Hashlimit) kernelCheck(f table.Family) error {
	cfg := &m.Cfg
	if err := checkProcName("hashlimit-name", m.TableName); err != nil {
		return err
	}
	if err := checkBareName("hashlimit-name", m.TableName); err != nil {
		return err
	}
	switch {
	case cfg.GCInterval == 0:
		return fmt.Errorf("--hashlimit-htable-gcinterval must not be 0")
	case cfg.Expire == 0:
		return fmt.Errorf("--hashlimit-htable-expire must not be 0")
	}
	cfg.Size = min(cfg.Size, hlMaxSize)
	cfg.Max = min(cfg.Max, hlMaxSize)
	if w := uint8(famBits(f)); cfg.SrcMask > w || cfg.DstMask > w {
		return fmt.Errorf("--hashlimit-srcmask and --hashlimit-dstmask must be at most %d", w)
	}
	switch {
	case cfg.Mode&hlRateMatch != 0:
		if cfg.Avg == 0 || cfg.Avg > 0xFFFFFFFF {
			return fmt.Errorf("rate is out of range for --hashlimit-rate-match")
		}
	case cfg.Mode&hlBytes != 0:
		if uint32((uint64(uint32(cfg.Avg))*kernelHZ*hlCreditsPerJiffyBytes())>>32) == 0 {
			return fmt.Errorf("byte rate is too high")
		}
	case cfg.Burst == 0 || hlCredits(cfg.Avg*cfg.Burst) < hlCredits(cfg.Avg):
		return table.WithHint("use a lower rate or a smaller --hashlimit-burst",
			"rate and burst overflow the kernel's credit counter")
	}
	return nil
}

// Check is the kernel's rule about shared hash tables: hashlimit matches
// of one family that use the same --hashlimit-name share one table in the
// network namespace, created by the first of them, and a later one is
// refused unless it agrees with that table on --hashlimit-rate-match
// (tried: every other parameter may differ, byte or packet rates
// included). fw sees one table at a time; a clash with another table
// (filter and mangle share the hash tables) or with the rules a commit
// replaces shows only when the kernel refuses the commit.
func (m *Hashlimit) Check(c *table.CheckContext) error {
	e, r := earlierConflict(c, m, func(e table.Ext) bool {
		h, ok := e.(*Hashlimit)
		return ok && h.TableName == m.TableName && (h.Cfg.Mode^m.Cfg.Mode)&hlRateMatch != 0
	})
	if e == nil {
		return nil
	}
	with, without := "with", "without"
	if m.Cfg.Mode&hlRateMatch != 0 {
		with, without = without, with
	}
	return table.WithHint("the kernel keeps one hash table per name and will not mix rate-match and plain limits in it; use another name",
		"--hashlimit-name %q was already used %s --hashlimit-rate-match%s, here it is %s", m.TableName, with, ruleWhere(r), without)
}

func hlCreditsPerJiffyBytes() uint64 { return pow2Below(0xFFFFFFFF / kernelHZ) }

// hlCredits is the kernel's user2credits for revision 3, in 64-bit
// arithmetic like the kernel's.
func hlCredits(user uint64) uint64 {
	cpj := pow2Below(0xFFFFFFFFFFFFFFFF / (kernelHZ * 60 * 60 * 24))
	if hlScale >= kernelHZ*cpj {
		return user / (hlScale / (kernelHZ * cpj))
	}
	return user * (kernelHZ * cpj / hlScale)
}

// hlBytesText prints a byte rate and burst as iptables does; it returns
// the expiry iptables considers the default for them.
func hlBytesText(avg, burst uint64) (rate, burstText string, quantum uint32) {
	units := [3]struct {
		name   string
		thresh uint32
	}{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}
	r := hlCostToBytes(avg)
	i := 0
	for ; i < len(units)-1; i++ {
		// The mask is 32 bits wide in iptables, which drops the high half.
		if r >= uint64(units[i].thresh) && hlBytesToCost(r&uint64(^(units[i].thresh-1))) == avg {
			break
		}
	}
	rate = strconv.FormatUint(r/uint64(units[i].thresh), 10) + units[i].name + "b/s"
	if burst == 0 {
		return rate, "", hlByteExpire * 1000
	}
	r *= burst
	for i = 0; i < len(units)-1; i++ {
		if r >= uint64(units[i].thresh) {
			break
		}
	}
	return rate, strconv.FormatUint(r/uint64(units[i].thresh), 10) + units[i].name + "b", hlByteExpireB * 1000
}

func (m *Hashlimit) Print(w *table.Writer) {
	cfg := &m.Cfg
	rateOpt := "hashlimit-upto"
	if cfg.Mode&hlInvert != 0 {
		rateOpt = "hashlimit-above"
	}
	var quantum uint32
	if cfg.Mode&hlBytes != 0 {
		rate, burst, q := hlBytesText(cfg.Avg, cfg.Burst)
		w.Opt(false, rateOpt, rate)
		if burst != "" {
			w.Opt(false, "hashlimit-burst", burst)
		}
		quantum = q
	} else {
		rate, q := rateText(cfg.Avg, hlScale)
		w.Opt(false, rateOpt, rate)
		w.OptUint(false, "hashlimit-burst", cfg.Burst)
		quantum = uint32(q)
	}
	if cfg.Mode&(hlHashSIP|hlHashSPT|hlHashDIP|hlHashDPT) != 0 {
		var modes []string
		for _, b := range []struct {
			bit  uint32
			name string
		}{{hlHashSIP, "srcip"}, {hlHashSPT, "srcport"}, {hlHashDIP, "dstip"}, {hlHashDPT, "dstport"}} {
			if cfg.Mode&b.bit != 0 {
				modes = append(modes, b.name)
			}
		}
		w.Opt(false, "hashlimit-mode", strings.Join(modes, ","))
	}
	w.Opt(false, "hashlimit-name", m.TableName)
	if cfg.Size != 0 {
		w.OptUint(false, "hashlimit-htable-size", uint64(cfg.Size))
	}
	if cfg.Max != 0 {
		w.OptUint(false, "hashlimit-htable-max", uint64(cfg.Max))
	}
	if cfg.GCInterval != hlGCInterval {
		w.OptUint(false, "hashlimit-htable-gcinterval", uint64(cfg.GCInterval))
	}
	if cfg.Expire != quantum {
		w.OptUint(false, "hashlimit-htable-expire", uint64(cfg.Expire))
	}
	full := uint8(famBits(m.fam))
	if cfg.SrcMask != full {
		w.OptUint(false, "hashlimit-srcmask", uint64(cfg.SrcMask))
	}
	if cfg.DstMask != full {
		w.OptUint(false, "hashlimit-dstmask", uint64(cfg.DstMask))
	}
	if cfg.Mode&hlRateMatch != 0 {
		w.Flag(false, "hashlimit-rate-match")
		if cfg.Interval != 1 {
			w.OptUint(false, "hashlimit-rate-interval", uint64(cfg.Interval))
		}
	}
}

// struct xt_hashlimit_mtinfo3: name[255]@0, one byte of padding, cfg
// (struct hashlimit_cfg3) @256: avg u64@256 burst u64@264 mode u32@272
// size@276 max@280 gc_interval@284 expire@288 interval@292 srcmask u8@296
// dstmask u8@297, padding to @304, then the kernel's hinfo pointer @304
// (written zero; the kernel hands back everything before it).
const hashlimitSize = 312

func (m *Hashlimit) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, hlNameSize, m.TableName); err != nil {
		return fmt.Errorf("--hashlimit-name: %w", err)
	}
	c := &m.Cfg
	w.U64(256, c.Avg)
	w.U64(264, c.Burst)
	w.U32(272, c.Mode)
	w.U32(276, c.Size)
	w.U32(280, c.Max)
	w.U32(284, c.GCInterval)
	w.U32(288, c.Expire)
	w.U32(292, c.Interval)
	w.U8(296, c.SrcMask)
	w.U8(297, c.DstMask)
	return nil
}

func (m *Hashlimit) UnmarshalPayload(f table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.TableName = r.String(0, hlNameSize)
	m.Cfg = HashlimitCfg3{
		Avg: r.U64(256), Burst: r.U64(264), Mode: r.U32(272),
		Size: r.U32(276), Max: r.U32(280), GCInterval: r.U32(284), Expire: r.U32(288), Interval: r.U32(292),
		SrcMask: r.U8(296), DstMask: r.U8(297),
	}
	m.HInfo, m.mult, m.fam = 0, 0, f
	needWhole(r, hashlimitSize)
	return r.Err()
}
