// Package legacy is the x_tables backend: a table travels to and from the
// kernel as one blob of entries (IPT_SO_SET_REPLACE / IPT_SO_GET_ENTRIES
// and their IPv6 twins). This file is the pure codec of that blob; the
// few system calls live in sockopt.go.
package legacy

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Struct sizes and offsets (amd64, checked by the size tests).
const (
	// struct ipt_entry: ip (struct ipt_ip, 84) nfcache@84 target_offset@88
	// next_offset@90 comefrom@92 counters@96, matches at 112.
	ipv4EntrySize = 112
	// struct ip6t_entry: ipv6 (struct ip6t_ip6, 136) nfcache@136
	// target_offset@140 next_offset@142 comefrom@144 counters@152,
	// matches at 168.
	ipv6EntrySize = 168
	// struct xt_entry_match / xt_entry_target header: size u16@0,
	// name[29]@2, revision u8@31.
	extHeaderSize = 32
	extNameLen    = 29
	// struct xt_standard_target: header + int verdict, aligned.
	standardTargetSize = 40
	// struct xt_error_target: header + char errorname[30], aligned.
	errorTargetSize = 64
	errorNameLen    = 30
)

// Standard verdicts as the kernel stores them (-NF_x - 1).
const (
	verdictDrop   = -1
	verdictAccept = -2
	verdictQueue  = -4
	verdictReturn = -5
)

// Flag bits of ipt_ip / ip6t_ip6.
const (
	ipv4FlagFrag  = 0x01
	ipv4FlagGoto  = 0x02
	ipv6FlagProto = 0x01
	ipv6FlagGoto  = 0x04

	invVia   = 0x01
	invViaO  = 0x02
	invSrcIP = 0x08
	invDstIP = 0x10
	invFrag  = 0x20
	invProto = 0x40
)

// entryLayout holds the family-specific offsets of struct ipt_entry /
// ip6t_entry.
type entryLayout struct {
	size                       int
	targetOff, nextOff, cfOff  int
	countersOff                int
	addrLen                    int // 4 or 16
	ifaceOff                   int // iniface; outiface, masks follow at 16-byte steps
	protoOff, flagsOff, invOff int
	gotoFlag                   uint8
}

var layouts = map[table.Family]*entryLayout{
	table.IPv4: {size: ipv4EntrySize, targetOff: 88, nextOff: 90, cfOff: 92, countersOff: 96,
		addrLen: 4, ifaceOff: 16, protoOff: 80, flagsOff: 82, invOff: 83, gotoFlag: ipv4FlagGoto},
	table.IPv6: {size: ipv6EntrySize, targetOff: 140, nextOff: 142, cfOff: 144, countersOff: 152,
		addrLen: 16, ifaceOff: 64, protoOff: 128, flagsOff: 131, invOff: 132, gotoFlag: ipv6FlagGoto},
}

// Blob is an encoded table: the entries and what struct ipt_replace needs
// besides them.
type Blob struct {
	Entries    []byte
	NumEntries int
	ValidHooks uint32
	HookEntry  [table.NumHooks]uint32
	Underflow  [table.NumHooks]uint32
	// Exts lists the extensions the table uses, each once: the
	// revisions to ask the kernel about.
	Exts []*table.ExtInfo

	// raw is Entries with replaceHeader bytes of room in front, when the
	// blob was made with it: the replace call then needs no copy.
	raw []byte
	// free gives back memory that is not the Go heap's (see entries).
	free func()
	// zeroCounters says every entry's counters are zero: known of a blob
	// fw encoded, and then addCounters has nothing to add.
	zeroCounters bool
}

// release gives back the memory of a blob read from the kernel; the
// blob, and every slice of it, must not be used after.
func (b *Blob) release() {
	if b != nil && b.free != nil {
		b.free()
		b.free, b.raw, b.Entries = nil, nil, nil
	}
}

// Encode lays out a table as iptables' libiptc does: built-in chains in
// hook order, each ending in its policy entry; user chains in byte order,
// each an ERROR head, its rules and a RETURN tail; a final ERROR entry.
// It works in two passes straight into the blob: sizes and offsets first
// (so every jump's target offset is known), then the bytes. A 100k-rule
// table thus costs one buffer, not an object per entry.
func Encode(f table.Family, t *table.Table) (*Blob, error) { return encode(f, t, false) }

// CheckEncode does all the work of Encode, every check included, without
// keeping the blob: what --test needs, at a fraction of the memory.
func CheckEncode(f table.Family, t *table.Table) (*Blob, error) { return encode(f, t, true) }

func encode(f table.Family, t *table.Table, dry bool) (*Blob, error) {
	lay := layouts[f]
	info := table.LookupTable(t.Name)
	if info == nil {
		return nil, fmt.Errorf("unknown table %q", t.Name)
	}
	b := &Blob{ValidHooks: uint32(info.Hooks)}
	var chains []*table.Chain
	var hooks []table.Hook
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if info.Hooks&h.Mask() == 0 {
			continue
		}
		c := t.Chain(h.String())
		if c == nil {
			c = &table.Chain{Name: h.String(), Builtin: true, Policy: table.Accept}
		}
		chains = append(chains, c)
		hooks = append(hooks, h)
	}
	nb := len(chains)
	for _, c := range t.Chains {
		if !c.Builtin {
			chains = append(chains, c)
		}
	}
	user := chains[nb:]
	byName := func(a, b *table.Chain) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(user, byName) {
		slices.SortFunc(user, byName)
	}

	// Pass 1: where every entry goes. starts[i] is where chain i's
	// entries begin (its ERROR head included) and how many rules come
	// before it.
	type start struct{ off, rule int }
	starts := make([]start, len(chains)+1)
	// layout[k] is what pass 2 needs of the k-th rule in blob order,
	// worked out once, on one goroutine.
	type ruleLayout struct {
		size uint16
		jump int32 // the position in t.Chains of a jump's chain
	}
	nrules := 0
	for _, c := range chains {
		nrules += len(c.Rules)
	}
	layout := make([]ruleLayout, 0, nrules)
	// startOf[k] is where the rules of t.Chains[k] start (0: not a user
	// chain), for jumps.
	startOf := make([]uint32, len(t.Chains))
	off, n, biggest := 0, 0, lay.size+errorTargetSize
	for i, c := range chains {
		starts[i] = start{off, len(layout)}
		if i < nb {
			b.HookEntry[hooks[i]] = uint32(off)
		} else {
			if len(c.Name) >= errorNameLen {
				return nil, fmt.Errorf("chain %s: %q is longer than %d bytes", c.Name, c.Name, errorNameLen-1)
			}
			off += lay.size + errorTargetSize
			n++
			if k := t.ChainIndex(c); k >= 0 {
				startOf[k] = uint32(off)
			}
		}
		for ri, r := range c.Rules {
			size, err := ruleSize(lay, r)
			if err != nil {
				return nil, ruleErr(c, ri, r, err)
			}
			off += size
			n++
			rl := ruleLayout{size: uint16(size), jump: -1}
			if j, ok := r.Target.(*table.Jump); ok {
				if rl.jump = int32(t.JumpIndex(j)); rl.jump < 0 {
					return nil, ruleErr(c, ri, r, fmt.Errorf("jump to missing chain %q", j.Chain))
				}
			}
			layout = append(layout, rl)
			biggest = max(biggest, size)
			for _, m := range r.Matches {
				b.addExt(m.Info())
			}
			if e, ok := r.Target.(table.Ext); ok {
				b.addExt(e.Info())
			}
		}
		if i < nb {
			b.Underflow[hooks[i]] = uint32(off)
		}
		off += lay.size + standardTargetSize // policy, or the RETURN tail
		n++
	}
	starts[len(chains)] = start{off, len(layout)}
	off += lay.size + errorTargetSize
	n++

	// Pass 2: the bytes, the chains shared out between as many
	// goroutines as there are CPUs, each writing its own part of the
	// blob (a dry run writes every entry into scratch space of its own).
	var raw, buf []byte
	if !dry {
		raw = make([]byte, replaceHeader+off)
		buf = raw[replaceHeader:]
	}
	var anyCounters [2]bool // per goroutine of pass 2
	write := func(lo, hi int, anyCounters *bool) error {
		layout := layout[starts[lo].rule:]
		var scratch []byte
		if dry {
			scratch = make([]byte, biggest)
		}
		at := starts[lo].off
		// Each entry carries its counters, as libiptc's do: the kernel
		// zeroes them on replace, and addCounters adds them back.
		put := func(size int, cnt table.Counters) []byte {
			var e []byte
			if dry {
				e = scratch[:size]
				clear(e)
			} else {
				e = buf[at : at+size]
				if cnt != (table.Counters{}) {
					xtbin.Native.PutUint64(e[lay.countersOff:], cnt.Packets)
					xtbin.Native.PutUint64(e[lay.countersOff+8:], cnt.Bytes)
					*anyCounters = true
				}
			}
			at += size
			return e
		}
		for i := lo; i < hi; i++ {
			c := chains[i]
			if i >= nb {
				writeMarker(lay, put(lay.size+errorTargetSize, table.Counters{}), c.Name)
			}
			for ri, r := range c.Rules {
				rl := layout[0]
				layout = layout[1:]
				var to uint32
				if rl.jump >= 0 {
					if to = startOf[rl.jump]; to == 0 {
						return ruleErr(c, ri, r, fmt.Errorf("jump to %q, which is not a user chain", r.Target.(*table.Jump).Chain))
					}
				}
				start := at
				if err := writeRule(f, lay, put(int(rl.size), r.Counters), start, r, to); err != nil {
					return ruleErr(c, ri, r, err)
				}
			}
			v, cnt := int32(verdictReturn), table.Counters{}
			if i < nb {
				v, cnt = verdictAccept, c.Counters
				if c.Policy == table.Drop {
					v = verdictDrop
				}
			}
			writeStandard(lay, put(lay.size+standardTargetSize, cnt), v)
		}
		return nil
	}
	// Split where about half of the bytes are written.
	workers := 1
	if off > 1<<20 && runtime.GOMAXPROCS(0) > 1 {
		workers = 2
	}
	split := len(chains)
	if workers == 2 {
		split, _ = slices.BinarySearchFunc(starts[:len(chains)], off/2, func(s start, o int) int { return s.off - o })
	}
	errs := make([]error, 2)
	if split < len(chains) && split > 0 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[1] = write(split, len(chains), &anyCounters[1])
		}()
		errs[0] = write(0, split, &anyCounters[0])
		wg.Wait()
	} else {
		errs[0] = write(0, len(chains), &anyCounters[0])
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if !dry {
		e := buf[starts[len(chains)].off:]
		writeMarker(lay, e, "ERROR")
	}
	b.Entries, b.raw = buf, raw
	b.NumEntries = n
	b.zeroCounters = !anyCounters[0] && !anyCounters[1]
	return b, nil
}

// addExt adds info to b.Exts unless it is there already (a table uses a
// handful of extensions, so a list beats a map).
func (b *Blob) addExt(info *table.ExtInfo) {
	if len(b.Exts) > 0 && b.Exts[len(b.Exts)-1] == info {
		return
	}
	if !slices.Contains(b.Exts, info) {
		b.Exts = append(b.Exts, info)
	}
}

func ruleErr(c *table.Chain, i int, r *table.Rule, err error) error {
	if r.Pos.IsValid() {
		return fmt.Errorf("%s:%d: chain %s rule %d: %w", r.Pos.File, r.Pos.Line, c.Name, i+1, err)
	}
	return fmt.Errorf("chain %s rule %d: %w", c.Name, i+1, err)
}

// ruleSize is the size of a rule's entry: the header, each extension
// block (its header and XT_ALIGNed payload) and the target.
func ruleSize(lay *entryLayout, r *table.Rule) (int, error) {
	size := lay.size
	for _, m := range r.Matches {
		size += extHeaderSize + xtbin.Align(m.Info().Size)
	}
	switch t := r.Target.(type) {
	case nil, *table.Standard, *table.Jump:
		size += standardTargetSize
	case table.Ext:
		size += extHeaderSize + xtbin.Align(t.Info().Size)
	default:
		return 0, fmt.Errorf("unknown target type %T", t)
	}
	if size > 0xffff {
		return 0, fmt.Errorf("a rule of %d bytes is too big for the kernel", size)
	}
	return size, nil
}

// writeMarker writes an entry whose target is an ERROR target named name:
// the head of a user chain, or the end of the table.
func writeMarker(lay *entryLayout, e []byte, name string) {
	w := xtbin.Writer{B: e}
	w.U16(lay.targetOff, uint16(lay.size))
	w.U16(lay.nextOff, uint16(len(e)))
	t := xtbin.Writer{B: e[lay.size:]}
	t.U16(0, errorTargetSize)
	t.String(2, extNameLen, "ERROR")
	t.String(extHeaderSize, errorNameLen, name) // length checked in pass 1
}

// writeStandard writes an entry with no match and a standard target.
func writeStandard(lay *entryLayout, e []byte, v int32) {
	w := xtbin.Writer{B: e}
	w.U16(lay.targetOff, uint16(lay.size))
	w.U16(lay.nextOff, uint16(len(e)))
	putStandard(e[lay.size:], v)
}

func putStandard(t []byte, v int32) {
	xtbin.Native.PutUint16(t, standardTargetSize)
	xtbin.Native.PutUint32(t[extHeaderSize:], uint32(v))
}

// writeRule writes r into e, the entry's bytes at offset start of the
// blob; to is where a jump's chain starts.
func writeRule(f table.Family, lay *entryLayout, e []byte, start int, r *table.Rule, to uint32) error {
	w := xtbin.Writer{B: e}
	j, isJump := r.Target.(*table.Jump)
	if err := writeIP(lay, &w, &r.IP, isJump && j.Goto); err != nil {
		return err
	}
	off := lay.size
	for _, m := range r.Matches {
		n, err := writeExt(e[off:], m, f)
		if err != nil {
			return err
		}
		off += n
	}
	w.U16(lay.targetOff, uint16(off))
	w.U16(lay.nextOff, uint16(len(e)))
	switch t := r.Target.(type) {
	case nil:
		putStandard(e[off:], int32(start+len(e))) // fall through to the next entry
	case *table.Standard:
		var v int32
		switch t.Verdict {
		case table.Accept:
			v = verdictAccept
		case table.Drop:
			v = verdictDrop
		case table.Queue:
			v = verdictQueue
		case table.Return:
			v = verdictReturn
		default:
			return fmt.Errorf("unknown verdict %d", t.Verdict)
		}
		putStandard(e[off:], v)
	case *table.Jump:
		putStandard(e[off:], int32(to))
	case table.Ext:
		if _, err := writeExt(e[off:], t, f); err != nil {
			return err
		}
	}
	return nil
}

// writeExt writes an xt_entry_match / xt_entry_target block at the start
// of dst (sized by ruleSize, and zero: a fresh blob, or the dry run's
// cleared scratch) and returns its length. The payload is written in
// place, after the header, with no copy.
func writeExt(dst []byte, e table.Ext, f table.Family) (int, error) {
	info := e.Info()
	p, ok := e.(table.Payload)
	if !ok {
		return 0, fmt.Errorf("%s %s has no kernel encoding", info.Kind, e.Name())
	}
	size := extHeaderSize + xtbin.Align(info.Size)
	if err := p.PutPayload(f, dst[extHeaderSize:size:size]); err != nil {
		return 0, fmt.Errorf("%s %s: %w", info.Kind, e.Name(), err)
	}
	w := xtbin.Writer{B: dst[:size]}
	w.U16(0, uint16(size))
	if err := w.String(2, extNameLen, info.KernelName()); err != nil {
		return 0, err
	}
	w.U8(31, info.Revision)
	return size, nil
}

func writeIP(lay *entryLayout, w *xtbin.Writer, ip *table.IPHeader, isGoto bool) error {
	n := lay.addrLen
	put := func(off int, a netip.Addr) {
		switch {
		case !a.IsValid():
		case n == 4:
			b := a.As4()
			copy(w.B[off:off+4], b[:])
		default:
			b := a.As16()
			copy(w.B[off:off+16], b[:])
		}
	}
	put(0, ip.Src.IP)
	put(n, ip.Dst.IP)
	put(2*n, ip.Src.Mask)
	put(3*n, ip.Dst.Mask)
	if err := writeIface(w, lay.ifaceOff, lay.ifaceOff+32, ip.In); err != nil {
		return err
	}
	if err := writeIface(w, lay.ifaceOff+16, lay.ifaceOff+48, ip.Out); err != nil {
		return err
	}
	w.U16(lay.protoOff, uint16(ip.Proto))
	var flags, inv uint8
	if lay.addrLen == 4 && ip.Frag {
		flags |= ipv4FlagFrag
	}
	if lay.addrLen == 16 && (ip.ProtoFlag || ip.Proto != 0 || ip.InvProto) {
		flags |= ipv6FlagProto
	}
	if isGoto {
		flags |= lay.gotoFlag
	}
	bit := func(on bool, b uint8) {
		if on {
			inv |= b
		}
	}
	bit(ip.InvIn, invVia)
	bit(ip.InvOut, invViaO)
	bit(ip.InvSrc, invSrcIP)
	bit(ip.InvDst, invDstIP)
	bit(ip.InvFrag, invFrag)
	bit(ip.InvProto, invProto)
	w.U8(lay.flagsOff, flags)
	w.U8(lay.invOff, inv)
	return nil
}

// writeIface stores an interface as iptables does: "eth0" matches the name
// and its NUL; "eth+" keeps the '+' in the name but masks only "eth";
// "+" matches everything (all-zero mask).
func writeIface(w *xtbin.Writer, nameOff, maskOff int, name string) error {
	if name == "" {
		return nil
	}
	if err := w.String(nameOff, 16, name); err != nil {
		return fmt.Errorf("interface %w", err)
	}
	n := len(name) + 1
	if name[len(name)-1] == '+' {
		n = len(name) - 1
	}
	for i := 0; i < n; i++ {
		w.B[maskOff+i] = 0xff
	}
	return nil
}
