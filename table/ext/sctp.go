package ext

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// SCTP is the sctp match; it mirrors struct xt_sctp_info. Note the
// destination ports come first, and the chunk map is 64 words although
// only the first 8 hold chunk types (the header sizes it 256/sizeof(u32)).
type SCTP struct {
	Dpts, Spts     [2]uint16
	Chunkmap       [64]uint32
	ChunkMatchType uint32
	FlagInfo       [4]SCTPFlagInfo
	FlagCount      int32
	Flags          uint32
	Invflags       uint32
}

// SCTPFlagInfo mirrors struct xt_sctp_flag_info: the flags a chunk type
// must have (Flag) among those tested (FlagMask).
type SCTPFlagInfo struct {
	ChunkType, Flag, FlagMask uint8
}

// xt_sctp_info flags and invflags, and chunk_match_type values.
const (
	sctpSrcPorts   = 0x01
	sctpDestPorts  = 0x02
	sctpChunkTypes = 0x04

	sctpMatchAny  = 1
	sctpMatchAll  = 2
	sctpMatchOnly = 4
)

var sctpInfo = &table.ExtInfo{
	Name: "sctp", Kind: table.MatchKind, Family: table.BothFamilies, Size: sctpSize,
	Options: opts("!source-port=", "|sport", "!destination-port=", "|dport", "!chunk-types="),
	New: func(table.Family) table.Ext {
		m := &SCTP{}
		// libxt_sctp marks unused flag slots with chunk type -1.
		for i := range m.FlagInfo {
			m.FlagInfo[i].ChunkType = 0xff
		}
		return m
	},
}

// sctpChunks is libxt_sctp's chunk table in its order. flags names the
// flag bits from bit 7 down to bit 0; '-' is an unnamed bit, which
// iptables nevertheless accepts as a flag letter (it is bit 7).
var sctpChunks = []struct {
	name  string
	typ   uint8
	flags string
}{
	{"DATA", 0, "----IUBE"},
	{"INIT", 1, "--------"},
	{"INIT_ACK", 2, "--------"},
	{"SACK", 3, "--------"},
	{"HEARTBEAT", 4, "--------"},
	{"HEARTBEAT_ACK", 5, "--------"},
	{"ABORT", 6, "-------T"},
	{"SHUTDOWN", 7, "--------"},
	{"SHUTDOWN_ACK", 8, "--------"},
	{"ERROR", 9, "--------"},
	{"COOKIE_ECHO", 10, "--------"},
	{"COOKIE_ACK", 11, "--------"},
	{"ECN_ECNE", 12, "--------"},
	{"ECN_CWR", 13, "--------"},
	{"SHUTDOWN_COMPLETE", 14, "-------T"},
	{"I_DATA", 64, "----IUBE"},
	{"RE_CONFIG", 130, "--------"},
	{"PAD", 132, "--------"},
	{"ASCONF", 193, "--------"},
	{"ASCONF_ACK", 128, "--------"},
	{"FORWARD_TSN", 192, "--------"},
	{"I_FORWARD_TSN", 194, "--------"},
}

func (m *SCTP) Info() *table.ExtInfo { return sctpInfo }
func (m *SCTP) Name() string         { return "sctp" }

// Parse reads ports with the ordinary port parser (C numbers, sctp
// service names) and --chunk-types MATCH LIST, whose list is its second
// word.
func (m *SCTP) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "source-port", "destination-port":
		r, err := parsePortRange(a.Arg, "sctp", a.Names)
		if err != nil {
			return err
		}
		if err := checkLiveRange(a.Opt.Name, uint64(r[0]), uint64(r[1]), 0xffff, a.Invert); err != nil {
			return err
		}
		bit := uint32(sctpSrcPorts)
		if a.Key() == "source-port" {
			m.Spts = r
		} else {
			m.Dpts, bit = r, sctpDestPorts
		}
		m.Flags |= bit
		if a.Invert {
			m.Invflags |= bit
		}
	case "chunk-types":
		list, ok := a.Next()
		if !ok || strings.HasPrefix(list, "-") || strings.HasPrefix(list, "!") {
			return table.WithHint("write --chunk-types all|any|only LIST, e.g. --chunk-types any INIT,DATA", "--chunk-types needs two arguments")
		}
		switch strings.ToLower(a.Arg) {
		case "any":
			m.ChunkMatchType = sctpMatchAny
		case "all":
			m.ChunkMatchType = sctpMatchAll
		case "only":
			m.ChunkMatchType = sctpMatchOnly
		default:
			return fmt.Errorf("invalid chunk match type %q (expected all, any or only)", a.Arg)
		}
		if err := m.parseChunks(list); err != nil {
			return err
		}
		m.Flags |= sctpChunkTypes
		if a.Invert {
			m.Invflags |= sctpChunkTypes
		}
	default:
		return unknownOption(a)
	}
	return nil
}

// parseChunks reads "ALL", "NONE" or a comma-separated list of
// NAME[:FLAGS] (empty items are skipped). A flag letter in upper case
// must be set, in lower case must be clear.
func (m *SCTP) parseChunks(s string) error {
	if strings.EqualFold(s, "ALL") {
		for i := range m.Chunkmap {
			m.Chunkmap[i] = ^uint32(0)
		}
		return nil
	}
	if strings.EqualFold(s, "NONE") {
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		name, flags, hasFlags := strings.Cut(item, ":")
		idx := -1
		for i, c := range sctpChunks {
			if strings.EqualFold(c.name, name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return table.WithHint("chunk types are DATA, INIT, INIT_ACK, SACK, HEARTBEAT, HEARTBEAT_ACK, ABORT, SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO, COOKIE_ACK, ECN_ECNE, ECN_CWR, SHUTDOWN_COMPLETE, I_DATA, RE_CONFIG, PAD, ASCONF, ASCONF_ACK, FORWARD_TSN, I_FORWARD_TSN, or ALL or NONE alone", "unknown chunk type %q", name)
		}
		c := sctpChunks[idx]
		m.Chunkmap[c.typ/32] |= 1 << (c.typ % 32)
		if !hasFlags || flags == "" {
			continue
		}
		// libxt_sctp files the flags under the chunk's index in its
		// table rather than its type; the two differ from I_DATA on,
		// so the kernel would test the flags on another chunk type
		// and iptables-save would drop them.
		if int(c.typ) != idx {
			return fmt.Errorf("flags on chunk type %s are not supported (iptables files them under chunk type %d)", c.name, idx)
		}
		for i := 0; i < len(flags); i++ {
			pos := strings.IndexByte(c.flags, byte(unicode.ToUpper(rune(flags[i]))))
			if pos < 0 || flags[i] >= 0x80 {
				return table.WithHint(fmt.Sprintf("the flags of %s are %q (upper case: set, lower case: clear)", c.name, strings.ReplaceAll(c.flags, "-", "")), "invalid flag %q for chunk type %s", flags[i], c.name)
			}
			if err := m.addFlag(uint8(idx), uint8(7-pos), flags[i] >= 'A' && flags[i] <= 'Z'); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *SCTP) addFlag(typ, bit uint8, set bool) error {
	n := int(m.FlagCount)
	i := 0
	for i < n && m.FlagInfo[i].ChunkType != typ {
		i++
	}
	if i == n {
		if n == len(m.FlagInfo) {
			return fmt.Errorf("flags on more than %d chunk types", len(m.FlagInfo))
		}
		m.FlagInfo[i].ChunkType = typ
		m.FlagCount++
	}
	m.FlagInfo[i].FlagMask |= 1 << bit
	if set {
		m.FlagInfo[i].Flag |= 1 << bit
	}
	return nil
}

func (m *SCTP) Finish(*table.FinishContext) error { return nil }

func (m *SCTP) Check(c *table.CheckContext) error { return needProto(c, "sctp match", protoSCTP) }

// Print writes ports whenever they were given, even as the full range.
func (m *SCTP) Print(w *table.Writer) {
	if m.Flags&sctpSrcPorts != 0 {
		w.Opt(m.Invflags&sctpSrcPorts != 0, "sport", portRangeText(m.Spts))
	}
	if m.Flags&sctpDestPorts != 0 {
		w.Opt(m.Invflags&sctpDestPorts != 0, "dport", portRangeText(m.Dpts))
	}
	if m.Flags&sctpChunkTypes != 0 {
		w.Opt(m.Invflags&sctpChunkTypes != 0, "chunk-types", m.chunksText())
	}
}

func (m *SCTP) chunksText() string {
	var b strings.Builder
	switch m.ChunkMatchType {
	case sctpMatchAny:
		b.WriteString("any")
	case sctpMatchAll:
		b.WriteString("all")
	case sctpMatchOnly:
		b.WriteString("only")
	}
	clear, all := true, true
	for _, w := range m.Chunkmap {
		clear = clear && w == 0
		all = all && w == ^uint32(0)
	}
	switch {
	case clear:
		b.WriteString(" NONE")
		return b.String()
	case all:
		b.WriteString(" ALL")
		return b.String()
	}
	sep := " "
	for t := 0; t < 256; t++ {
		if m.Chunkmap[t/32]&(1<<(t%32)) == 0 {
			continue
		}
		b.WriteString(sep)
		sep = ","
		for _, c := range sctpChunks {
			if int(c.typ) == t {
				b.WriteString(c.name)
			}
		}
		for _, fi := range m.FlagInfo[:min(max(int(m.FlagCount), 0), len(m.FlagInfo))] {
			if int(fi.ChunkType) != t || fi.FlagMask == 0 {
				continue
			}
			// The letters come from the table entry at index t, as
			// libxt_sctp looks them up.
			letters := "--------"
			if t < len(sctpChunks) {
				letters = sctpChunks[t].flags
			}
			b.WriteByte(':')
			for bit := 7; bit >= 0; bit-- {
				if fi.FlagMask&(1<<bit) == 0 {
					continue
				}
				l := letters[7-bit]
				if fi.Flag&(1<<bit) == 0 {
					l = byte(unicode.ToLower(rune(l)))
				}
				b.WriteByte(l)
			}
		}
	}
	return b.String()
}

// struct xt_sctp_info: dpts[2]@0 spts[2]@4 (host order, destination
// first) chunkmap[64] u32@8 chunk_match_type u32@264 flag_info[4]@268
// (struct xt_sctp_flag_info {chunktype, flag, flag_mask}, 3 bytes each)
// flag_count s32@280 flags u32@284 invflags u32@288; 292 bytes. The flag
// slots iptables leaves unused keep the chunk type 0xff its init writes,
// which New reproduces.
const sctpSize = 292

func (m *SCTP) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, m.Dpts[0])
	w.U16(2, m.Dpts[1])
	w.U16(4, m.Spts[0])
	w.U16(6, m.Spts[1])
	for i, c := range m.Chunkmap {
		w.U32(8+4*i, c)
	}
	w.U32(264, m.ChunkMatchType)
	for i, fi := range m.FlagInfo {
		w.U8(268+3*i, fi.ChunkType)
		w.U8(269+3*i, fi.Flag)
		w.U8(270+3*i, fi.FlagMask)
	}
	w.U32(280, uint32(m.FlagCount))
	w.U32(284, m.Flags)
	w.U32(288, m.Invflags)
	return nil
}

// UnmarshalPayload refuses a chunk match type other than any, all and
// only when chunk types are tested: iptables-save would print no word for
// it, and the line would not parse back.
func (m *SCTP) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Dpts = [2]uint16{r.U16(0), r.U16(2)}
	m.Spts = [2]uint16{r.U16(4), r.U16(6)}
	for i := range m.Chunkmap {
		m.Chunkmap[i] = r.U32(8 + 4*i)
	}
	m.ChunkMatchType = r.U32(264)
	for i := range m.FlagInfo {
		m.FlagInfo[i] = SCTPFlagInfo{ChunkType: r.U8(268 + 3*i), Flag: r.U8(269 + 3*i), FlagMask: r.U8(270 + 3*i)}
	}
	m.FlagCount = int32(r.U32(280))
	m.Flags, m.Invflags = r.U32(284), r.U32(288)
	if err := r.Err(); err != nil {
		return err
	}
	if m.Flags&sctpChunkTypes != 0 {
		switch m.ChunkMatchType {
		case sctpMatchAny, sctpMatchAll, sctpMatchOnly:
		default:
			return fmt.Errorf("sctp: unknown chunk match type %d", m.ChunkMatchType)
		}
	}
	return nil
}
