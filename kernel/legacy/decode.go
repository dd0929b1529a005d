package legacy

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"

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
	name []byte // in the blob
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
// into the model (DecodeTo with a table.Collector).
func Decode(f table.Family, name string, blob []byte, info *Info, reg *table.Registry) (*table.Table, error) {
	col := table.NewCollector(f)
	if err := DecodeTo(f, name, blob, info, reg, col); err != nil {
		return nil, err
	}
	return col.Ruleset.Tables[0], nil
}

// DecodeTo hands the table in blob to sink, chains in print order
// (built-in chains in hook order, then user chains by name, whatever
// their order in the blob) and each chain's rules in kernel order. Every
// offset is checked: a hostile or corrupt blob gives an error, never a
// panic or a silently dropped rule. An extension fw cannot decode is an
// error naming it and the rule.
//
// It makes two passes: the first finds only where entries and chains
// start, the second decodes each rule in turn into one reused Rule, so
// that a 100k-rule table is never held a second time.
func DecodeTo(f table.Family, name string, blob []byte, info *Info, reg *table.Registry, sink table.Sink) error {
	lay := layouts[f]
	tinfo := table.LookupTable(name)
	if tinfo == nil {
		return fmt.Errorf("unknown table %q", name)
	}
	// A chain starts at a hook entry or right after an ERROR head.
	type start struct {
		idx, head int32 // entry indexes: its first entry, its ERROR head (-1 for built-ins)
		end       int32 // index of its policy or RETURN tail entry
		builtin   bool
		name      string
	}
	var starts []start
	// entry index -> offset; increasing. The kernel's entry count sizes
	// it, within what the blob can hold.
	offsets := make([]int32, 0, min(int(info.NumEntries), len(blob)/lay.size)+1)
	var last string // ERROR name of the last entry
	for off := 0; off < len(blob); {
		fr, err := scanEntry(lay, blob, off)
		if err != nil {
			return fmt.Errorf("table %s: entry at offset %d: %w", name, off, err)
		}
		if fr.errName != "" && fr.next < len(blob) {
			starts = append(starts, start{idx: int32(len(offsets) + 1), name: fr.errName, head: int32(len(offsets))})
		}
		offsets = append(offsets, int32(off))
		off, last = fr.next, fr.errName
	}
	if len(offsets) == 0 || last != "ERROR" {
		return fmt.Errorf("table %s: blob does not end with the ERROR entry", name)
	}
	var e rawEntry
	entryAt := func(off int) (int, bool) {
		return slices.BinarySearch(offsets, int32(off))
	}
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if info.ValidHooks&(1<<h) == 0 {
			continue
		}
		if tinfo.Hooks&h.Mask() == 0 {
			return fmt.Errorf("table %s: kernel reports hook %s, which the table does not have", name, h)
		}
		i, ok := entryAt(int(info.HookEntry[h]))
		if !ok {
			return fmt.Errorf("table %s: hook %s entry offset %d is not an entry", name, h, info.HookEntry[h])
		}
		starts = append(starts, start{idx: int32(i), builtin: true, name: h.String(), head: -1})
	}
	slices.SortStableFunc(starts, func(a, b start) int { return int(a.idx - b.idx) })
	// User chains by the offset of their first entry, for jumps.
	userAt := make([]int32, 0, len(starts))
	userName := make([]string, 0, len(starts))
	for _, s := range starts {
		if !s.builtin {
			userAt = append(userAt, offsets[s.idx])
			userName = append(userName, s.name)
		}
	}
	d := ruleDecoder{f: f, reg: reg, chainAt: func(off int) (string, bool) {
		i, ok := slices.BinarySearch(userAt, int32(off))
		if !ok {
			return "", false
		}
		return userName[i], true
	}}
	t := &table.Table{Name: name, Chains: make([]*table.Chain, len(starts))}
	chains := make([]table.Chain, len(starts))
	for k := range starts {
		s := &starts[k]
		s.end = int32(len(offsets) - 1) // the final ERROR
		if k+1 < len(starts) {
			s.end = starts[k+1].idx
			if starts[k+1].head >= 0 {
				s.end = starts[k+1].head
			}
		}
		// entries [s.idx, s.end) form the chain; the last is its
		// policy or RETURN tail.
		if s.end <= s.idx {
			return fmt.Errorf("table %s: chain %s has no policy or tail entry", name, s.name)
		}
		s.end--
		if err := readEntry(lay, blob, int(offsets[s.end]), &e); err != nil {
			return fmt.Errorf("table %s: entry at offset %d: %w", name, offsets[s.end], err)
		}
		c := &chains[k]
		c.Name, c.Builtin = s.name, s.builtin
		if s.builtin {
			h, _ := table.HookByName(s.name)
			if e.offset != int(info.Underflow[h]) {
				return fmt.Errorf("table %s: chain %s: policy entry at %d, underflow says %d", name, s.name, e.offset, info.Underflow[h])
			}
			switch {
			case len(e.target.name) > 0 || len(e.matches) > 0:
				return fmt.Errorf("table %s: chain %s: policy entry is not a standard verdict", name, s.name)
			case e.verdict == verdictAccept:
				c.Policy = table.Accept
			case e.verdict == verdictDrop:
				c.Policy = table.Drop
			default:
				return fmt.Errorf("table %s: chain %s: policy verdict %d", name, s.name, e.verdict)
			}
			c.Counters = e.counters
		} else if len(e.target.name) > 0 || e.verdict != verdictReturn {
			return fmt.Errorf("table %s: user chain %s does not end with a RETURN tail", name, s.name)
		}
		t.Chains[k] = c
	}
	// Print order; kernels written by iptables already have it.
	order := make([]int, len(starts))
	for k := range order {
		order[k] = k
	}
	cmp := func(a, b int) int { return table.CompareChains(t.Chains[a], t.Chains[b]) }
	if !slices.IsSortedFunc(order, cmp) {
		slices.SortFunc(order, cmp)
		sorted := make([]*table.Chain, len(order))
		for i, k := range order {
			sorted[i] = t.Chains[k]
		}
		t.Chains = sorted
	}
	if err := sink.BeginTable(t); err != nil {
		return &sinkError{err}
	}
	var r table.Rule
	for i, k := range order {
		s, c := &starts[k], t.Chains[i]
		for j := s.idx; j < s.end; j++ {
			if err := readEntry(lay, blob, int(offsets[j]), &e); err != nil {
				return fmt.Errorf("table %s: entry at offset %d: %w", name, offsets[j], err)
			}
			if err := d.rule(&e, &r); err != nil {
				return fmt.Errorf("table %s: chain %s rule %d: %w", name, s.name, int(j-s.idx)+1, err)
			}
			if err := sink.Rule(c, &r); err != nil {
				return &sinkError{err}
			}
		}
	}
	if err := sink.EndTable(); err != nil {
		return &sinkError{err}
	}
	return nil
}

// sinkError is the sink's own failure (a full disk, say), which is no
// fault of the blob and is reported as it is.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

// entryFrame is the part of an entry that locates it and its target:
// all the first pass of DecodeTo needs (where the next entry starts and,
// for an ERROR target, the chain name), and what readEntry builds on.
type entryFrame struct {
	next    int // offset of the next entry in the blob
	toff    int // target_offset, from the entry's start
	target  rawExt
	errName string // the ERROR target's name (a chain head or the end)
}

// scanEntry reads and bounds-checks the frame of the entry at off (struct
// ipt_entry / ip6t_entry: target_offset, next_offset and the target).
func scanEntry(lay *entryLayout, blob []byte, off int) (entryFrame, error) {
	if off < 0 || off+lay.size > len(blob) {
		return entryFrame{}, fmt.Errorf("entry header at %d past the end of the %d-byte table", off, len(blob))
	}
	toff := int(xtbin.Native.Uint16(blob[off+lay.targetOff:]))
	n := int(xtbin.Native.Uint16(blob[off+lay.nextOff:]))
	if n < lay.size+extHeaderSize || n%xtbin.AlignTo != 0 || off+n > len(blob) {
		return entryFrame{}, fmt.Errorf("bad next_offset %d", n)
	}
	if toff < lay.size || toff+extHeaderSize > n {
		return entryFrame{}, fmt.Errorf("bad target_offset %d", toff)
	}
	x, size, err := readExt(blob[off:off+n], toff)
	if err != nil {
		return entryFrame{}, fmt.Errorf("target: %w", err)
	}
	if toff+size != n {
		return entryFrame{}, fmt.Errorf("target of %d bytes does not end the entry", size)
	}
	fr := entryFrame{next: off + n, toff: toff, target: x}
	if string(x.name) == "ERROR" {
		xr := xtbin.Reader{B: x.data}
		if fr.errName = xr.String(0, errorNameLen); xr.Err() != nil {
			return entryFrame{}, fmt.Errorf("error target: %w", xr.Err())
		}
		if fr.errName == "" {
			return entryFrame{}, errors.New("error target without a name")
		}
	}
	return fr, nil
}

// readEntry reads the entry at off into e, reusing e's match slice.
func readEntry(lay *entryLayout, blob []byte, off int, e *rawEntry) error {
	fr, err := scanEntry(lay, blob, off)
	if err != nil {
		return err
	}
	*e = rawEntry{offset: off, next: fr.next, matches: e.matches[:0], errName: fr.errName}
	body := blob[off:fr.next]
	br := xtbin.Reader{B: body}
	e.counters = table.Counters{Packets: br.U64(lay.countersOff), Bytes: br.U64(lay.countersOff + 8)}
	if err := readIP(lay, &br, e); err != nil {
		return err
	}
	for moff := lay.size; moff < fr.toff; {
		x, size, err := readExt(body[:fr.toff], moff)
		if err != nil {
			return fmt.Errorf("match at %d: %w", moff, err)
		}
		e.matches = append(e.matches, x)
		moff += size
	}
	switch string(fr.target.name) {
	case "":
		if size := len(body) - fr.toff; size != standardTargetSize {
			return fmt.Errorf("standard target of %d bytes", size)
		}
		e.verdict = int32(xtbin.Native.Uint32(fr.target.data))
	case "ERROR":
	default:
		e.target = fr.target
	}
	return br.Err()
}

// readExt reads the xt_entry_match/xt_entry_target block at off. The name
// stays in the blob: looking it up needs no string.
func readExt(b []byte, off int) (rawExt, int, error) {
	if off < 0 || off+extHeaderSize > len(b) {
		return rawExt{}, 0, fmt.Errorf("extension header at %d past the end of %d bytes", off, len(b))
	}
	size := int(xtbin.Native.Uint16(b[off:]))
	name := b[off+2 : off+2+extNameLen]
	n := bytes.IndexByte(name, 0)
	if n < 0 {
		return rawExt{}, 0, fmt.Errorf("extension name without NUL")
	}
	if size < extHeaderSize || size%xtbin.AlignTo != 0 || off+size > len(b) {
		return rawExt{}, 0, fmt.Errorf("bad size %d", size)
	}
	return rawExt{name: name[:n], rev: b[off+31], data: b[off+extHeaderSize : off+size]}, size, nil
}

func readIP(lay *entryLayout, r *xtbin.Reader, e *rawEntry) error {
	n := lay.addrLen
	if len(r.B) < lay.size {
		return fmt.Errorf("entry of %d bytes, want at least %d", len(r.B), lay.size)
	}
	b := r.B
	addr := func(off int) netip.Addr {
		if n == 4 {
			return netip.AddrFrom4([4]byte(b[off : off+4]))
		}
		return netip.AddrFrom16([16]byte(b[off : off+16]))
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
	ip.In, ip.InvIn = readIface(b, lay.ifaceOff, lay.ifaceOff+32, ip.InvIn)
	ip.Out, ip.InvOut = readIface(b, lay.ifaceOff+16, lay.ifaceOff+48, ip.InvOut)
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
// no interface at all, as iptables-save prints it; negated, it matches
// none and reads as "! -i +".
func readIface(b []byte, nameOff, maskOff int, inv bool) (string, bool) {
	name, mask := b[nameOff:nameOff+16], b[maskOff:maskOff+16]
	if mask[0] == 0 {
		if inv {
			return "+", true
		}
		return "", false
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
		return string(name[:l]), inv
	}
	return string(name[:n]) + "+", inv
}

// ruleDecoder turns entries into rules, caching extension lookups by
// name (a table uses a handful).
type ruleDecoder struct {
	f       table.Family
	reg     *table.Registry
	chainAt func(off int) (string, bool)

	exts []extCacheEntry
	jump table.Jump
}

type extCacheEntry struct {
	kind table.ExtKind
	name []byte
	rev  uint8
	info *table.ExtInfo
}

// rule decodes e into r, reusing r's match list; r's jump target, if
// any, is d's own and changes with the next rule.
func (d *ruleDecoder) rule(e *rawEntry, r *table.Rule) error {
	*r = table.Rule{IP: e.ip, Counters: e.counters, Matches: r.Matches[:0]}
	for _, m := range e.matches {
		v, err := d.ext(table.MatchKind, m)
		if err != nil {
			return err
		}
		r.Matches = append(r.Matches, v)
	}
	switch {
	case e.errName != "":
		return fmt.Errorf("unexpected ERROR entry %q inside a chain", e.errName)
	case len(e.target.name) > 0:
		v, err := d.ext(table.TargetKind, e.target)
		if err != nil {
			return err
		}
		r.Target = v
	case e.verdict < 0:
		switch e.verdict {
		case verdictAccept:
			r.Target = table.StandardTarget(table.Accept)
		case verdictDrop:
			r.Target = table.StandardTarget(table.Drop)
		case verdictQueue:
			r.Target = table.StandardTarget(table.Queue)
		case verdictReturn:
			r.Target = table.StandardTarget(table.Return)
		default:
			return fmt.Errorf("unknown verdict %d", e.verdict)
		}
	case int(e.verdict) == e.next:
		// falls through to the next entry: no -j
	default:
		c, ok := d.chainAt(int(e.verdict))
		if !ok {
			return fmt.Errorf("jump to offset %d, which starts no chain", e.verdict)
		}
		d.jump = table.Jump{Chain: c, Goto: e.isGoto}
		r.Target = &d.jump
	}
	return nil
}

func (d *ruleDecoder) ext(kind table.ExtKind, x rawExt) (table.Ext, error) {
	var info *table.ExtInfo
	for _, c := range d.exts {
		if c.kind == kind && c.rev == x.rev && bytes.Equal(c.name, x.name) {
			info = c.info
			break
		}
	}
	if info == nil {
		name := string(x.name)
		info = d.reg.ByKernel(kind, name, x.rev, d.f)
		if info == nil {
			if len(d.reg.Revisions(kind, name, d.f)) > 0 {
				return nil, fmt.Errorf("%s %s revision %d is not supported by fw", kind, name, x.rev)
			}
			return nil, fmt.Errorf("unknown %s %s (revision %d): fw cannot decode it and will not drop it", kind, name, x.rev)
		}
		d.exts = append(d.exts, extCacheEntry{kind, []byte(name), x.rev, info})
	}
	v := info.New(d.f)
	p, ok := v.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel decoding", kind, info.Name)
	}
	if len(x.data) < info.Size {
		return nil, fmt.Errorf("%s %s: payload of %d bytes, want %d", kind, x.name, len(x.data), info.Size)
	}
	if err := p.UnmarshalPayload(d.f, x.data); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, x.name, err)
	}
	return v, nil
}
