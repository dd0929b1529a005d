package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// OSF is the passive OS fingerprint match; it mirrors struct xt_osf_info
// (struct nf_osf_info).
type OSF struct {
	Genre    string // char genre[32]
	Len      uint32 // strlen(genre)
	Flags    uint32
	Loglevel uint32
	TTL      uint32
}

const (
	osfGenreMax = 31 // MAXGENRELEN - 1

	osfTTL    = 0x02
	osfLog    = 0x04
	osfInvert = 0x08
)

// osfInfo: the kernel fingerprints TCP SYNs on the way in.
var osfInfo = &table.ExtInfo{
	Name: "osf", Kind: table.MatchKind, Family: table.IPv4, Size: osfSize,
	Options: opts("!genre=", "ttl=", "log="),
	Hooks:   table.PreRouting.Mask() | table.Input.Mask() | table.Forward.Mask(),
	New:     func(table.Family) table.Ext { return &OSF{} },
}

func (m *OSF) Info() *table.ExtInfo { return osfInfo }
func (m *OSF) Name() string         { return "osf" }

func (m *OSF) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "genre":
		// iptables cuts a longer genre to 31 bytes, which then names no
		// fingerprint; fw refuses it.
		if len(a.Arg) > osfGenreMax {
			return fmt.Errorf("genre %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), osfGenreMax)
		}
		// iptables prints the genre bare, so one with a blank or a quote
		// would not read back.
		if a.Arg == "" || strings.ContainsAny(a.Arg, " \t\"") {
			return fmt.Errorf("invalid genre %q (empty, or with a blank or a quote)", a.Arg)
		}
		m.Genre = a.Keep(a.Arg)
		m.Len = uint32(len(a.Arg))
		if a.Invert {
			m.Flags |= osfInvert
		}
	case "ttl", "log":
		v, err := parseUint(a.Arg, 0, 2)
		if err != nil {
			return err
		}
		if a.Key() == "ttl" {
			m.TTL = uint32(v)
			m.Flags |= osfTTL
		} else {
			m.Loglevel = uint32(v)
			m.Flags |= osfLog
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *OSF) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("genre") {
		return fmt.Errorf("--genre is required")
	}
	return nil
}

func (m *OSF) Check(c *table.CheckContext) error { return needProto(c, "osf match", 6) }

// Print writes the genre bare, as iptables does (it never quotes it).
func (m *OSF) Print(w *table.Writer) {
	w.Opt(m.Flags&osfInvert != 0, "genre", m.Genre)
	if m.Flags&osfTTL != 0 {
		w.OptUint(false, "ttl", uint64(m.TTL))
	}
	if m.Flags&osfLog != 0 {
		w.OptUint(false, "log", uint64(m.Loglevel))
	}
}

// struct xt_osf_info: genre[32]@0 len u32@32 flags u32@36 loglevel u32@40
// ttl u32@44.
const osfSize = 48

func (m *OSF) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	if err := w.String(0, osfGenreMax+1, m.Genre); err != nil {
		return fmt.Errorf("genre: %w", err)
	}
	w.U32(32, m.Len)
	w.U32(36, m.Flags)
	w.U32(40, m.Loglevel)
	w.U32(44, m.TTL)
	return nil
}

func (m *OSF) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Genre = r.String(0, osfGenreMax+1)
	m.Len, m.Flags, m.Loglevel, m.TTL = r.U32(32), r.U32(36), r.U32(40), r.U32(44)
	return r.Err()
}
