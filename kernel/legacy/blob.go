// Package legacy is the x_tables backend: a table travels to and from the
// kernel as one blob of entries (IPT_SO_SET_REPLACE / IPT_SO_GET_ENTRIES
// and their IPv6 twins). This file is the pure codec of that blob; the
// few system calls live in sockopt.go.
package legacy

import (
	"fmt"
	"net/netip"
	"sort"

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
	// Counters has one element per entry, in entry order: what
	// IPT_SO_SET_ADD_COUNTERS installs after the replace.
	Counters []table.Counters
	// Rules maps entry index to the rule it encodes (nil for heads,
	// policies, tails), so kernel errors can name a rule.
	Rules []*table.Rule
}

// entry is one rule as the encoder lays it out.
type entry struct {
	ip      *table.IPHeader
	goto_   bool
	matches [][]byte // full xt_entry_match blocks
	target  []byte   // full target block, verdict patched later for jumps
	jump    string   // target chain for a jump, "" otherwise
	fall    bool     // standard target whose verdict is the next entry
	rule    *table.Rule
	counter table.Counters
	offset  int
	size    int
}

// Encode lays out a table as iptables' libiptc does: built-in chains in
// hook order, each ending in its policy entry; user chains in byte order,
// each an ERROR head, its rules and a RETURN tail; a final ERROR entry.
// rev returns the revision to store for an extension (the newest the
// kernel supports); nil means the registered one.
func Encode(f table.Family, t *table.Table) (*Blob, error) {
	lay := layouts[f]
	info := table.LookupTable(t.Name)
	if info == nil {
		return nil, fmt.Errorf("unknown table %q", t.Name)
	}
	var entries []*entry
	b := &Blob{ValidHooks: uint32(info.Hooks)}
	chainStart := map[string]int{} // user chain -> index of first entry after its head
	hookFirst := map[table.Hook]int{}
	hookPolicy := map[table.Hook]int{}
	addRules := func(c *table.Chain) error {
		for i, r := range c.Rules {
			e, err := encodeRule(f, r)
			if err != nil {
				if r.Pos.IsValid() {
					return fmt.Errorf("%s:%d: chain %s rule %d: %w", r.Pos.File, r.Pos.Line, c.Name, i+1, err)
				}
				return fmt.Errorf("chain %s rule %d: %w", c.Name, i+1, err)
			}
			entries = append(entries, e)
		}
		return nil
	}
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if info.Hooks&h.Mask() == 0 {
			continue
		}
		c := t.Chain(h.String())
		if c == nil {
			c = &table.Chain{Name: h.String(), Builtin: true, Policy: table.Accept}
		}
		hookFirst[h] = len(entries)
		if err := addRules(c); err != nil {
			return nil, err
		}
		hookPolicy[h] = len(entries)
		v := int32(verdictAccept)
		if c.Policy == table.Drop {
			v = verdictDrop
		}
		entries = append(entries, &entry{ip: &table.IPHeader{}, target: standardTarget(v), counter: c.Counters})
	}
	var user []*table.Chain
	for _, c := range t.Chains {
		if !c.Builtin {
			user = append(user, c)
		}
	}
	sort.Slice(user, func(i, j int) bool { return user[i].Name < user[j].Name })
	for _, c := range user {
		head, err := errorTarget(c.Name)
		if err != nil {
			return nil, fmt.Errorf("chain %s: %w", c.Name, err)
		}
		entries = append(entries, &entry{ip: &table.IPHeader{}, target: head})
		chainStart[c.Name] = len(entries)
		if err := addRules(c); err != nil {
			return nil, err
		}
		entries = append(entries, &entry{ip: &table.IPHeader{}, target: standardTarget(verdictReturn)})
	}
	final, _ := errorTarget("ERROR")
	entries = append(entries, &entry{ip: &table.IPHeader{}, target: final})

	off := 0
	for _, e := range entries {
		e.offset = off
		e.size = lay.size + len(e.target)
		for _, m := range e.matches {
			e.size += len(m)
		}
		off += e.size
		if e.size > 0xffff {
			return nil, fmt.Errorf("a rule of %d bytes is too big for the kernel", e.size)
		}
	}
	for h, i := range hookFirst {
		b.HookEntry[h] = uint32(entries[i].offset)
		b.Underflow[h] = uint32(entries[hookPolicy[h]].offset)
	}
	buf := make([]byte, off)
	for i, e := range entries {
		switch {
		case e.jump != "":
			start, ok := chainStart[e.jump]
			if !ok {
				return nil, fmt.Errorf("jump to missing chain %q", e.jump)
			}
			setVerdict(e.target, int32(entries[start].offset))
		case e.fall:
			setVerdict(e.target, int32(e.offset+e.size))
		}
		if err := writeEntry(lay, buf[e.offset:e.offset+e.size], e); err != nil {
			return nil, err
		}
		b.Counters = append(b.Counters, e.counter)
		b.Rules = append(b.Rules, e.rule)
		_ = i
	}
	b.Entries = buf
	b.NumEntries = len(entries)
	return b, nil
}

func setVerdict(target []byte, v int32) { xtbin.Native.PutUint32(target[extHeaderSize:], uint32(v)) }

func standardTarget(v int32) []byte {
	w := xtbin.NewWriter(standardTargetSize)
	w.U16(0, standardTargetSize)
	w.U32(extHeaderSize, uint32(v))
	return w.B
}

func errorTarget(name string) ([]byte, error) {
	w := xtbin.NewWriter(errorTargetSize)
	w.U16(0, errorTargetSize)
	w.String(2, extNameLen, "ERROR")
	if err := w.String(extHeaderSize, errorNameLen, name); err != nil {
		return nil, err
	}
	return w.B, nil
}

func extBlock(e table.Ext, f table.Family) ([]byte, error) {
	p, ok := e.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel encoding", e.Info().Kind, e.Name())
	}
	data, err := p.MarshalPayload(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", e.Info().Kind, e.Name(), err)
	}
	if len(data) != xtbin.Align(e.Info().Size) {
		return nil, fmt.Errorf("%s %s: payload of %d bytes, want %d", e.Info().Kind, e.Name(), len(data), xtbin.Align(e.Info().Size))
	}
	w := xtbin.NewWriter(extHeaderSize + len(data))
	w.U16(0, uint16(extHeaderSize+len(data)))
	if err := w.String(2, extNameLen, e.Info().KernelName()); err != nil {
		return nil, err
	}
	w.U8(31, e.Info().Revision)
	w.Bytes(extHeaderSize, data)
	return w.B, nil
}

func encodeRule(f table.Family, r *table.Rule) (*entry, error) {
	e := &entry{ip: &r.IP, rule: r, counter: r.Counters}
	for _, m := range r.Matches {
		blk, err := extBlock(m, f)
		if err != nil {
			return nil, err
		}
		e.matches = append(e.matches, blk)
	}
	switch t := r.Target.(type) {
	case nil:
		e.target, e.fall = standardTarget(0), true
	case *table.Standard:
		v := map[table.Verdict]int32{table.Accept: verdictAccept, table.Drop: verdictDrop, table.Queue: verdictQueue, table.Return: verdictReturn}[t.Verdict]
		e.target = standardTarget(v)
	case *table.Jump:
		e.target, e.jump, e.goto_ = standardTarget(0), t.Chain, t.Goto
	case table.Ext:
		blk, err := extBlock(t, f)
		if err != nil {
			return nil, err
		}
		e.target = blk
	default:
		return nil, fmt.Errorf("unknown target type %T", t)
	}
	return e, nil
}

func writeEntry(lay *entryLayout, buf []byte, e *entry) error {
	w := &xtbin.Writer{B: buf}
	if err := writeIP(lay, w, e.ip, e.goto_); err != nil {
		return err
	}
	toff := lay.size
	for _, m := range e.matches {
		toff += len(m)
	}
	w.U16(lay.targetOff, uint16(toff))
	w.U16(lay.nextOff, uint16(len(buf)))
	// Counters in a replace blob are ignored by the kernel; they travel
	// in IPT_SO_SET_ADD_COUNTERS.
	off := lay.size
	for _, m := range e.matches {
		w.Bytes(off, m)
		off += len(m)
	}
	w.Bytes(off, e.target)
	return nil
}

func writeIP(lay *entryLayout, w *xtbin.Writer, ip *table.IPHeader, isGoto bool) error {
	n := lay.addrLen
	put := func(off int, a netip.Addr) {
		if a.IsValid() {
			w.Bytes(off, a.AsSlice())
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
	for _, b := range []struct {
		on  bool
		bit uint8
	}{{ip.InvIn, invVia}, {ip.InvOut, invViaO}, {ip.InvSrc, invSrcIP}, {ip.InvDst, invDstIP}, {ip.InvFrag, invFrag}, {ip.InvProto, invProto}} {
		if b.on {
			inv |= b.bit
		}
	}
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
