package legacy

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// rawEntry is one entry of a blob as read, before chains are known.
type rawEntry struct {
	offset   int
	ip       table.IPHeader
	isGoto   bool
	counters table.Counters
	matches  []rawExt
	target   rawExt
	verdict  int32  // standard target
	errName  string // ERROR target
	next     int
}

type rawExt struct {
	name string
	rev  uint8
	data []byte
}

// Info is what IPT_SO_GET_INFO says about a table.
type Info struct {
	ValidHooks uint32
	HookEntry  [table.NumHooks]uint32
	Underflow  [table.NumHooks]uint32
	NumEntries uint32
	Size       uint32
}

// Decode turns the entries of a table, as IPT_SO_GET_ENTRIES returns them,
// into the model. Every offset is checked: a hostile or corrupt blob gives
// an error, never a panic or a silently dropped rule. An extension fw
// cannot decode is an error naming it and the rule.
func Decode(f table.Family, name string, blob []byte, info *Info, reg *table.Registry) (*table.Table, error) {
	lay := layouts[f]
	var raws []*rawEntry
	byOffset := map[int]int{}
	for off := 0; off < len(blob); {
		e, err := readEntry(lay, blob, off)
		if err != nil {
			return nil, fmt.Errorf("table %s: entry at offset %d: %w", name, off, err)
		}
		byOffset[off] = len(raws)
		raws = append(raws, e)
		off = e.next
	}
	if len(raws) == 0 || raws[len(raws)-1].errName != "ERROR" {
		return nil, fmt.Errorf("table %s: blob does not end with the ERROR entry", name)
	}
	tinfo := table.LookupTable(name)
	if tinfo == nil {
		return nil, fmt.Errorf("unknown table %q", name)
	}
	// A chain starts at a hook entry or right after an ERROR head.
	type start struct {
		idx     int
		builtin bool
		name    string
		head    int // index of the head entry, -1 for built-ins
	}
	var starts []start
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if info.ValidHooks&(1<<h) == 0 {
			continue
		}
		if tinfo.Hooks&h.Mask() == 0 {
			return nil, fmt.Errorf("table %s: kernel reports hook %s, which the table does not have", name, h)
		}
		i, ok := byOffset[int(info.HookEntry[h])]
		if !ok {
			return nil, fmt.Errorf("table %s: hook %s entry offset %d is not an entry", name, h, info.HookEntry[h])
		}
		starts = append(starts, start{idx: i, builtin: true, name: h.String(), head: -1})
	}
	for i, e := range raws[:len(raws)-1] {
		if e.errName != "" {
			starts = append(starts, start{idx: i + 1, name: e.errName, head: i})
		}
	}
	sort.SliceStable(starts, func(i, j int) bool { return starts[i].idx < starts[j].idx })
	chainAt := map[int]string{} // offset of first entry after a head -> user chain
	for _, s := range starts {
		if !s.builtin {
			chainAt[raws[s.idx].offset] = s.name
		}
	}
	t := &table.Table{Name: name}
	for k, s := range starts {
		end := len(raws) - 1 // the final ERROR
		if k+1 < len(starts) {
			end = starts[k+1].idx
			if starts[k+1].head >= 0 {
				end = starts[k+1].head
			}
		}
		// entries [s.idx, end) form the chain; the last is its policy or
		// RETURN tail.
		if end <= s.idx {
			return nil, fmt.Errorf("table %s: chain %s has no policy or tail entry", name, s.name)
		}
		last := raws[end-1]
		c := &table.Chain{Name: s.name, Builtin: s.builtin}
		if s.builtin {
			h, _ := table.HookByName(s.name)
			if last.offset != int(info.Underflow[h]) {
				return nil, fmt.Errorf("table %s: chain %s: policy entry at %d, underflow says %d", name, s.name, last.offset, info.Underflow[h])
			}
			switch {
			case last.target.name != "" || len(last.matches) > 0:
				return nil, fmt.Errorf("table %s: chain %s: policy entry is not a standard verdict", name, s.name)
			case last.verdict == verdictAccept:
				c.Policy = table.Accept
			case last.verdict == verdictDrop:
				c.Policy = table.Drop
			default:
				return nil, fmt.Errorf("table %s: chain %s: policy verdict %d", name, s.name, last.verdict)
			}
			c.Counters = last.counters
		} else if last.target.name != "" || last.verdict != verdictReturn {
			return nil, fmt.Errorf("table %s: user chain %s does not end with a RETURN tail", name, s.name)
		}
		for i := s.idx; i < end-1; i++ {
			r, err := decodeRule(f, raws[i], chainAt, reg)
			if err != nil {
				return nil, fmt.Errorf("table %s: chain %s rule %d: %w", name, s.name, i-s.idx+1, err)
			}
			c.Rules = append(c.Rules, r)
		}
		t.Chains = append(t.Chains, c)
	}
	t.SortChains()
	return t, nil
}

func readEntry(lay *entryLayout, blob []byte, off int) (*rawEntry, error) {
	if off < 0 || off > len(blob) {
		return nil, fmt.Errorf("offset %d outside the %d-byte table", off, len(blob))
	}
	r := xtbin.NewReader(blob[off:])
	e := &rawEntry{offset: off}
	toff := int(r.U16(lay.targetOff))
	next := int(r.U16(lay.nextOff))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if next < lay.size+extHeaderSize || next%xtbin.AlignTo != 0 || off+next > len(blob) {
		return nil, fmt.Errorf("bad next_offset %d", next)
	}
	if toff < lay.size || toff+extHeaderSize > next {
		return nil, fmt.Errorf("bad target_offset %d", toff)
	}
	e.next = off + next
	body := blob[off : off+next]
	br := xtbin.NewReader(body)
	e.counters = table.Counters{Packets: br.U64(lay.countersOff), Bytes: br.U64(lay.countersOff + 8)}
	if err := readIP(lay, br, e); err != nil {
		return nil, err
	}
	for moff := lay.size; moff < toff; {
		x, size, err := readExt(body[:toff], moff)
		if err != nil {
			return nil, fmt.Errorf("match at %d: %w", moff, err)
		}
		e.matches = append(e.matches, x)
		moff += size
	}
	x, size, err := readExt(body, toff)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if toff+size != next {
		return nil, fmt.Errorf("target of %d bytes does not end the entry", size)
	}
	switch x.name {
	case "":
		if size != standardTargetSize {
			return nil, fmt.Errorf("standard target of %d bytes", size)
		}
		e.verdict = int32(xtbin.Native.Uint32(x.data))
	case "ERROR":
		xr := xtbin.NewReader(x.data)
		e.errName = xr.String(0, errorNameLen)
		if err := xr.Err(); err != nil {
			return nil, fmt.Errorf("error target: %w", err)
		}
	default:
		e.target = x
	}
	return e, br.Err()
}

func readExt(b []byte, off int) (rawExt, int, error) {
	r := xtbin.NewReader(b)
	size := int(r.U16(off))
	name := r.String(off+2, extNameLen)
	rev := r.U8(off + 31)
	if err := r.Err(); err != nil {
		return rawExt{}, 0, err
	}
	if size < extHeaderSize || size%xtbin.AlignTo != 0 || off+size > len(b) {
		return rawExt{}, 0, fmt.Errorf("bad size %d", size)
	}
	return rawExt{name: name, rev: rev, data: b[off+extHeaderSize : off+size]}, size, nil
}

func readIP(lay *entryLayout, r *xtbin.Reader, e *rawEntry) error {
	n := lay.addrLen
	addr := func(off int) netip.Addr {
		b := make([]byte, n)
		r.Bytes(off, b)
		a, _ := netip.AddrFromSlice(b)
		return a
	}
	ip := &e.ip
	flags, inv := r.U8(lay.flagsOff), r.U8(lay.invOff)
	ip.InvIn, ip.InvOut = inv&invVia != 0, inv&invViaO != 0
	ip.InvSrc, ip.InvDst = inv&invSrcIP != 0, inv&invDstIP != 0
	ip.InvProto = inv&invProto != 0
	src, dst, smsk, dmsk := addr(0), addr(n), addr(2*n), addr(3*n)
	if !smsk.IsUnspecified() || ip.InvSrc {
		ip.Src = table.Addr{IP: src, Mask: smsk}
	}
	if !dmsk.IsUnspecified() || ip.InvDst {
		ip.Dst = table.Addr{IP: dst, Mask: dmsk}
	}
	ip.In = readIface(r, lay.ifaceOff, lay.ifaceOff+32)
	ip.Out = readIface(r, lay.ifaceOff+16, lay.ifaceOff+48)
	if ip.In == "" {
		ip.InvIn = false
	}
	if ip.Out == "" {
		ip.InvOut = false
	}
	proto := r.U16(lay.protoOff)
	if proto > 255 {
		return fmt.Errorf("protocol %d out of range", proto)
	}
	ip.Proto = uint8(proto)
	if n == 4 {
		ip.Frag, ip.InvFrag = flags&ipv4FlagFrag != 0, inv&invFrag != 0
	} else {
		ip.ProtoFlag = flags&ipv6FlagProto != 0
	}
	e.isGoto = flags&lay.gotoFlag != 0
	return r.Err()
}

// readIface recovers the written interface from name and mask: as many
// bytes as the mask covers, plus '+' when the mask stops before the name
// does (a wildcard). An all-zero mask matches every interface and reads as
// no interface at all, as iptables-save prints it.
func readIface(r *xtbin.Reader, nameOff, maskOff int) string {
	var name, mask [16]byte
	r.Bytes(nameOff, name[:])
	r.Bytes(maskOff, mask[:])
	if mask[0] == 0 {
		return ""
	}
	n := 0
	for n < 16 && mask[n] != 0 {
		n++
	}
	l := 0
	for l < 16 && name[l] != 0 {
		l++
	}
	if n > l {
		return string(name[:l])
	}
	return string(name[:n]) + "+"
}

func decodeRule(f table.Family, e *rawEntry, chainAt map[int]string, reg *table.Registry) (*table.Rule, error) {
	r := &table.Rule{IP: e.ip, Counters: e.counters}
	for _, m := range e.matches {
		v, err := decodeExt(f, table.MatchKind, m, reg)
		if err != nil {
			return nil, err
		}
		r.Matches = append(r.Matches, v)
	}
	switch {
	case e.errName != "":
		return nil, fmt.Errorf("unexpected ERROR entry %q inside a chain", e.errName)
	case e.target.name != "":
		v, err := decodeExt(f, table.TargetKind, e.target, reg)
		if err != nil {
			return nil, err
		}
		r.Target = v
	case e.verdict < 0:
		switch e.verdict {
		case verdictAccept:
			r.Target = &table.Standard{Verdict: table.Accept}
		case verdictDrop:
			r.Target = &table.Standard{Verdict: table.Drop}
		case verdictQueue:
			r.Target = &table.Standard{Verdict: table.Queue}
		case verdictReturn:
			r.Target = &table.Standard{Verdict: table.Return}
		default:
			return nil, fmt.Errorf("unknown verdict %d", e.verdict)
		}
	case int(e.verdict) == e.next:
		// falls through to the next entry: no -j
	default:
		c, ok := chainAt[int(e.verdict)]
		if !ok {
			return nil, fmt.Errorf("jump to offset %d, which starts no chain", e.verdict)
		}
		r.Target = &table.Jump{Chain: c, Goto: e.isGoto}
	}
	return r, nil
}

func decodeExt(f table.Family, kind table.ExtKind, x rawExt, reg *table.Registry) (table.Ext, error) {
	info := reg.ByKernel(kind, x.name, x.rev, f)
	if info == nil {
		if len(reg.Revisions(kind, x.name, f)) > 0 {
			return nil, fmt.Errorf("%s %s revision %d is not supported by fw", kind, x.name, x.rev)
		}
		return nil, fmt.Errorf("unknown %s %s (revision %d): fw cannot decode it and will not drop it", kind, x.name, x.rev)
	}
	v := info.New(f)
	p, ok := v.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel decoding", kind, x.name)
	}
	if len(x.data) < info.Size {
		return nil, fmt.Errorf("%s %s: payload of %d bytes, want %d", kind, x.name, len(x.data), info.Size)
	}
	if err := p.UnmarshalPayload(f, x.data); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, x.name, err)
	}
	return v, nil
}
