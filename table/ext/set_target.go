package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// SetTarget is the SET target, revision 3; it mirrors struct
// xt_set_info_target_v3.
type SetTarget struct {
	AddSet, DelSet, MapSet SetTgRef
	Flags                  uint32
	Timeout                uint32
}

// SetTgRef mirrors struct xt_set_info: a set and the packet fields (src or
// dst, one per set dimension) it is keyed on. The kernel knows a set by
// Index, which only a running kernel can give for Name; text keeps the
// name, and Index stays setTgNoSet until a kernel resolves it.
type SetTgRef struct {
	Index uint16
	Dim   uint8
	// Flags has bit i set when dimension i (1-based) is "src".
	Flags uint8
	Name  string
}

const (
	setTgNoSet   = 0xffff // IPSET_INVALID_ID
	setTgDimMax  = 6      // IPSET_DIM_MAX
	setTgNameMax = 31     // IPSET_MAXNAMELEN - 1

	setTgExist    = 1 << 0 // IPSET_FLAG_EXIST
	setTgMapMark  = 1 << 8 // IPSET_FLAG_MAP_SKBMARK
	setTgMapPrio  = 1 << 9 // IPSET_FLAG_MAP_SKBPRIO
	setTgMapQueue = 1 << 10

	setTgNoTimeout = 0xffffffff
)

// setTgMapHooks are where the kernel lets --map-prio and --map-queue change
// the packet: after the routing decision.
const setTgMapHooks = table.HookMask(1<<table.Forward | 1<<table.Output | 1<<table.PostRouting)

// iptables parses SET with old-style getopt code that accepts '!' before
// any option and ignores it, and repeats of the flag options; hence every
// option is negatable and the flags are Multi.
var setTargetInfo = &table.ExtInfo{
	Name: "SET", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 3, Size: setTgSize, NamespaceObjects: true,
	Options: opts("!add-set=", "!del-set=", "!*exist", "!*timeout=", "!map-set=", "!*map-mark", "!*map-prio", "!*map-queue"),
	New: func(table.Family) table.Ext {
		return &SetTarget{
			AddSet: SetTgRef{Index: setTgNoSet}, DelSet: SetTgRef{Index: setTgNoSet}, MapSet: SetTgRef{Index: setTgNoSet},
			Timeout: setTgNoTimeout,
		}
	},
}

func (t *SetTarget) Info() *table.ExtInfo { return setTargetInfo }
func (t *SetTarget) Name() string         { return "SET" }

func (t *SetTarget) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "add-set":
		return parseSetTgRef(a, &t.AddSet)
	case "del-set":
		return parseSetTgRef(a, &t.DelSet)
	case "map-set":
		return parseSetTgRef(a, &t.MapSet)
	case "exist":
		t.Flags |= setTgExist
	case "map-mark":
		t.Flags |= setTgMapMark
	case "map-prio":
		t.Flags |= setTgMapPrio
	case "map-queue":
		t.Flags |= setTgMapQueue
	case "timeout":
		v, ok := table.ParseUint(a.Arg, 0, setTgNoTimeout-1)
		if !ok {
			return fmt.Errorf("invalid timeout %q (expected a number from 0 to %d)", a.Arg, uint32(setTgNoTimeout-1))
		}
		t.Timeout = uint32(v)
	default:
		return unknownOption(a)
	}
	return nil
}

// parseSetTgRef reads "NAME DIRS": the option's argument and the next
// word, a comma-separated list of up to six "src"/"dst".
func parseSetTgRef(a *table.OptArgs, r *SetTgRef) error {
	dirs, ok := a.Next()
	if !ok {
		return table.WithHint("write --"+a.Key()+" NAME src[,dst...]", "--%s needs two arguments, a set name and src/dst flags", a.Key())
	}
	if !isBare(a.Arg) {
		// iptables-save prints the name unquoted.
		return fmt.Errorf("set name %q is empty or contains a blank or a double quote, which iptables-save cannot write back", a.Arg)
	}
	if len(a.Arg) > setTgNameMax {
		return fmt.Errorf("set name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), setTgNameMax)
	}
	r.Name = a.Keep(a.Arg)
	return parseSetTgDirs(dirs, &r.Dim, &r.Flags)
}

// parseSetTgDirs reads the src/dst list of a set reference. iptables
// compares only the first three letters of each item ("srcfoo" is src);
// fw wants the words themselves.
func parseSetTgDirs(s string, dim, flags *uint8) error {
	items := strings.Split(s, ",")
	if len(items) > setTgDimMax {
		return fmt.Errorf("too many src/dst flags in %q (at most %d)", s, setTgDimMax)
	}
	for i, it := range items {
		switch it {
		case "src":
			*flags |= 1 << (i + 1)
		case "dst":
		default:
			return table.WithHint("the flags are a comma-separated list of src and dst, one per dimension of the set", "invalid flag %q in %q", it, s)
		}
	}
	*dim = uint8(len(items))
	return nil
}

func (t *SetTarget) Finish(c *table.FinishContext) error {
	if err := requireOne(c, "add-set", "del-set", "map-set"); err != nil {
		return err
	}
	if !c.Seen.Has("add-set") {
		for _, o := range []string{"exist", "timeout"} {
			if c.Seen.Has(o) {
				return fmt.Errorf("--%s can only be used with --add-set", o)
			}
		}
	}
	if !c.Seen.Has("map-set") {
		for _, o := range []string{"map-mark", "map-prio", "map-queue"} {
			if c.Seen.Has(o) {
				return fmt.Errorf("--%s can only be used with --map-set", o)
			}
		}
	} else if !c.Seen.Has("map-mark") && !c.Seen.Has("map-prio") && !c.Seen.Has("map-queue") {
		return fmt.Errorf("--map-set needs --map-mark, --map-prio or --map-queue")
	}
	return nil
}

// Check applies the kernel's rules for --map-set: it changes packet
// metadata, which only the mangle table may do, and the priority and queue
// only matter once the packet is routed.
func (t *SetTarget) Check(c *table.CheckContext) error {
	if t.MapSet.Dim == 0 {
		return nil
	}
	if c.TableName != "mangle" {
		return fmt.Errorf("SET --map-set is only valid in the mangle table, not in %q", c.TableName)
	}
	if t.Flags&(setTgMapPrio|setTgMapQueue) != 0 && c.Hooks&^setTgMapHooks != 0 {
		return fmt.Errorf("SET --map-prio and --map-queue are only valid in FORWARD, OUTPUT and POSTROUTING, not in %s", hookNames(c.Hooks&^setTgMapHooks))
	}
	return nil
}

func (t *SetTarget) Print(w *table.Writer) {
	printSetTgRef(w, "add-set", &t.AddSet)
	if t.Flags&setTgExist != 0 {
		w.Flag(false, "exist")
	}
	if t.Timeout != setTgNoTimeout {
		w.OptUint(false, "timeout", uint64(t.Timeout))
	}
	printSetTgRef(w, "del-set", &t.DelSet)
	printSetTgRef(w, "map-set", &t.MapSet)
	if t.Flags&setTgMapMark != 0 {
		w.Flag(false, "map-mark")
	}
	if t.Flags&setTgMapPrio != 0 {
		w.Flag(false, "map-prio")
	}
	if t.Flags&setTgMapQueue != 0 {
		w.Flag(false, "map-queue")
	}
}

func printSetTgRef(w *table.Writer, opt string, r *SetTgRef) {
	if r.Dim == 0 {
		return
	}
	dirs := make([]string, r.Dim)
	for i := range dirs {
		dirs[i] = "dst"
		if r.Flags&(1<<(i+1)) != 0 {
			dirs[i] = "src"
		}
	}
	w.Opt(false, opt, r.Name+" "+strings.Join(dirs, ","))
}

// struct xt_set_info_target_v3: add_set@0 del_set@4 map_set@8 (each a
// struct xt_set_info: index u16@0 dim u8@2 flags u8@3), flags u32@12
// timeout u32@16 (host order). An unused reference is index
// IPSET_INVALID_ID with dim and flags 0, as iptables' init leaves it.
const setTgSize = 20

// The ipset lookups of ipset_sock.go, variables so that tests can run
// the codec without a kernel.
var (
	setTgIndexOf = ipsetIndex
	setTgNameOf  = ipsetName
)

// PutPayload asks ipset (in the calling thread's network namespace)
// for the index of each set named: the kernel stores no names.
func (t *SetTarget) PutPayload(f table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	for i, r := range []*SetTgRef{&t.AddSet, &t.DelSet, &t.MapSet} {
		off := 4 * i
		if r.Dim == 0 {
			w.U16(off, setTgNoSet)
			continue
		}
		idx, err := setTgIndexOf(r.Name, f)
		if err != nil {
			return err
		}
		w.U16(off, idx)
		w.U8(off+2, r.Dim)
		w.U8(off+3, r.Flags)
	}
	w.U32(12, t.Flags)
	w.U32(16, t.Timeout)
	return nil
}

// UnmarshalPayload asks ipset for the name of each set referenced. As in
// iptables, a reference whose index is IPSET_INVALID_ID is unused
// whatever its other bytes; a used one with no dimension is refused, as
// iptables would print it without the src/dst list it cannot be restored
// without.
func (t *SetTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	var refs [3]SetTgRef
	for i := range refs {
		off := 4 * i
		refs[i] = SetTgRef{Index: r.U16(off), Dim: r.U8(off + 2), Flags: r.U8(off + 3)}
	}
	t.Flags, t.Timeout = r.U32(12), r.U32(16)
	if err := r.Err(); err != nil {
		return err
	}
	names := map[uint16]string{}
	for i := range refs {
		ref := &refs[i]
		if ref.Index == setTgNoSet {
			*ref = SetTgRef{Index: setTgNoSet}
			continue
		}
		if ref.Dim == 0 || ref.Dim > setTgDimMax {
			return fmt.Errorf("set reference with %d dimensions (want 1 to %d)", ref.Dim, setTgDimMax)
		}
		name, ok := names[ref.Index]
		if !ok {
			var err error
			if name, err = setTgNameOf(ref.Index); err != nil {
				return err
			}
			names[ref.Index] = name
		}
		ref.Name = name
	}
	t.AddSet, t.DelSet, t.MapSet = refs[0], refs[1], refs[2]
	return nil
}
