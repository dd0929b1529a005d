package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Recent is the recent match at revision 1; it mirrors struct
// xt_recent_mtinfo_v1.
type Recent struct {
	Seconds  uint32
	HitCount uint32
	CheckSet uint8
	Invert   uint8
	// TableName is name[200]. iptables copies "DEFAULT" into the field
	// and the user's name over it, so a shorter name leaves the tail of
	// "DEFAULT" after its NUL; only the string up to the NUL matters.
	TableName string
	Side      uint8
	Mask      [16]byte // union nf_inet_addr; all ones by default, also for IPv4

	fam table.Family // decides how Mask prints
}

// xt_recent check_set bits and sides.
const (
	recentCheck  = 0x01
	recentSet    = 0x02
	recentUpdate = 0x04
	recentRemove = 0x08
	recentTTL    = 0x10
	recentReap   = 0x20

	recentSource = 0
	recentDest   = 1

	recentNameSize  = 200
	recentMaxNStamp = 65536 // XT_RECENT_MAX_NSTAMPS: --hitcount must be below it
)

var recentInfo = &table.ExtInfo{
	Name: "recent", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: recentSize,
	Options: opts("!set", "!rcheck", "!update", "!remove", "seconds=", "reap", "hitcount=",
		"rttl", "name=", "rsource", "rdest", "mask="),
	New: func(f table.Family) table.Ext {
		m := &Recent{TableName: "DEFAULT", Side: recentSource, fam: f}
		for i := range m.Mask {
			m.Mask[i] = 0xff
		}
		return m
	},
}

func (m *Recent) Info() *table.ExtInfo { return recentInfo }
func (m *Recent) Name() string         { return "recent" }

func (m *Recent) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "set", "rcheck", "update", "remove":
		m.CheckSet |= map[string]uint8{"set": recentSet, "rcheck": recentCheck, "update": recentUpdate, "remove": recentRemove}[a.Key()]
		if a.Invert {
			m.Invert = 1
		}
	case "seconds":
		v, err := parseUint(a.Arg, 1, math.MaxUint32)
		if err != nil {
			return err
		}
		m.Seconds = uint32(v)
	case "hitcount":
		v, err := parseUint(a.Arg, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		m.HitCount = uint32(v)
	case "reap":
		m.CheckSet |= recentReap
	case "rttl":
		m.CheckSet |= recentTTL
	case "name":
		if err := checkNameLen("name", a.Arg, recentNameSize-1); err != nil {
			return err
		}
		m.TableName = a.Keep(a.Arg)
	case "rsource":
		m.Side = recentSource
	case "rdest":
		m.Side = recentDest
	case "mask":
		mask, err := parseAddr16(a.Arg, a.Family, viaGetaddrinfo, a.Names)
		if err != nil {
			return err
		}
		m.Mask = mask
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Recent) Finish(c *table.FinishContext) error {
	var ops []string
	for _, o := range []string{"set", "rcheck", "update", "remove"} {
		if c.Seen.Has(o) {
			ops = append(ops, "--"+o)
		}
	}
	switch {
	case len(ops) == 0:
		return table.WithHint("add one of --set, --rcheck, --update or --remove", "an action is required")
	case len(ops) > 1:
		return fmt.Errorf("%s and %s cannot be used together", ops[0], ops[1])
	case c.Seen.Has("reap") && !c.Seen.Has("seconds"):
		return fmt.Errorf("--reap needs --seconds")
	case c.Seen.Has("rttl") && (c.Seen.Has("set") || c.Seen.Has("remove")):
		return fmt.Errorf("--rttl cannot be used with %s", ops[0])
	}
	// The kernel's checks.
	if m.CheckSet&(recentSet|recentRemove) != 0 && (m.Seconds != 0 || m.HitCount != 0 || m.CheckSet&(recentTTL|recentReap) != 0) {
		return fmt.Errorf("%s takes no --seconds, --hitcount, --rttl or --reap", ops[0])
	}
	if m.HitCount >= recentMaxNStamp {
		return fmt.Errorf("--hitcount %d is too large (at most %d)", m.HitCount, recentMaxNStamp-1)
	}
	if m.Seconds > math.MaxInt32 {
		// iptables-save prints it as a negative number, which its restore
		// refuses.
		return table.WithHint("iptables-save would print it as a negative number",
			"--seconds %d is too large to be saved (at most %d)", m.Seconds, math.MaxInt32)
	}
	if err := checkProcName("name", m.TableName); err != nil {
		return err
	}
	return checkBareName("name", m.TableName)
}

func (m *Recent) Print(w *table.Writer) {
	inv := m.Invert != 0
	for _, o := range []struct {
		bit  uint8
		name string
	}{{recentSet, "set"}, {recentCheck, "rcheck"}, {recentUpdate, "update"}, {recentRemove, "remove"}} {
		if m.CheckSet&o.bit != 0 {
			w.Flag(inv, o.name)
			inv = false
		}
	}
	if inv {
		w.Raw(" !")
	}
	if m.Seconds != 0 {
		w.Opt(false, "seconds", fmt.Sprint(int32(m.Seconds)))
	}
	if m.CheckSet&recentReap != 0 {
		w.Flag(false, "reap")
	}
	if m.HitCount != 0 {
		w.Opt(false, "hitcount", fmt.Sprint(int32(m.HitCount)))
	}
	if m.CheckSet&recentTTL != 0 {
		w.Flag(false, "rttl")
	}
	w.Opt(false, "name", m.TableName)
	w.Opt(false, "mask", addr16Text(m.Mask, m.fam))
	switch m.Side {
	case recentSource:
		w.Flag(false, "rsource")
	case recentDest:
		w.Flag(false, "rdest")
	}
}

// struct xt_recent_mtinfo_v1: seconds u32@0 hit_count u32@4 check_set u8@8
// invert u8@9 name[200]@10 side u8@210, one byte of padding, mask@212
// (union nf_inet_addr, 16 bytes). No kernel-private part.
const recentSize = 228

// recentDefaultName is what iptables puts in the name field before it
// copies the user's name over it without clearing the field: a name shorter
// than this one leaves the rest of it behind its NUL ("ssh\0ULT\0"). The
// kernel keeps and returns those bytes, so fw writes them too.
const recentDefaultName = "DEFAULT"

func (m *Recent) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.Seconds)
	w.U32(4, m.HitCount)
	w.U8(8, m.CheckSet)
	w.U8(9, m.Invert)
	w.Bytes(10, []byte(recentDefaultName))
	if err := w.String(10, recentNameSize, m.TableName); err != nil {
		return fmt.Errorf("recent --name: %w", err)
	}
	w.B[10+len(m.TableName)] = 0
	w.U8(210, m.Side)
	w.Bytes(212, m.Mask[:])
	return nil
}

func (m *Recent) UnmarshalPayload(f table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Seconds, m.HitCount = r.U32(0), r.U32(4)
	m.CheckSet, m.Invert = r.U8(8), r.U8(9)
	m.TableName = r.String(10, recentNameSize)
	m.Side = r.U8(210)
	r.Bytes(212, m.Mask[:])
	m.fam = f
	return r.Err()
}

// Normal clears the IPv6 part of an IPv4 rule's mask, which xt_recent
// ignores (without --mask it is all ones, with --mask 255.255.255.255
// zero).
func (m *Recent) Normal(f table.Family) table.Ext {
	if f != table.IPv4 {
		return m
	}
	c := *m
	clear(c.Mask[4:])
	return &c
}
