package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// ConnmarkTarget is the CONNMARK target; it mirrors struct
// xt_connmark_tginfo2. Every operation is stored as one of three modes;
// --set-mark, --and-mark and friends are spellings of a value/mask pair.
type ConnmarkTarget struct {
	CtMark, CtMask, NfMask uint32
	ShiftDir               uint8
	ShiftBits              uint8
	Mode                   uint8
}

// CONNMARK modes and shift directions.
const (
	connmarkSet     = 0
	connmarkSave    = 1
	connmarkRestore = 2

	connmarkShiftLeft  = 0
	connmarkShiftRight = 1
)

// connmarkOps are the options that choose the operation; exactly one is
// allowed.
var connmarkOps = []string{"set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark", "save-mark", "restore-mark"}

var connmarkTargetInfo = &table.ExtInfo{
	Name: "CONNMARK", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 2, Size: connmarkTargetSize,
	Options: opts("set-xmark=", "set-mark=", "and-mark=", "or-mark=", "xor-mark=", "save-mark", "restore-mark",
		"left-shift-mark=", "right-shift-mark=", "ctmask=", "nfmask=", "mask="),
	New: func(table.Family) table.Ext { return &ConnmarkTarget{CtMask: 0xffffffff, NfMask: 0xffffffff} },
}

func (t *ConnmarkTarget) Info() *table.ExtInfo { return connmarkTargetInfo }
func (t *ConnmarkTarget) Name() string         { return "CONNMARK" }

func (t *ConnmarkTarget) Parse(a *table.OptArgs) error {
	k := a.Key()
	var v uint64
	var mask uint32
	var err error
	switch k {
	case "set-xmark", "set-mark":
		var v32 uint32
		v32, mask, err = parseMarkMask(a.Arg, nil, nil)
		v = uint64(v32)
	case "and-mark", "or-mark", "xor-mark", "ctmask", "nfmask", "mask":
		v, err = parseUint(a.Arg, 0, 0xffffffff)
	case "left-shift-mark", "right-shift-mark":
		// iptables takes up to 32, but the kernel refuses a shift of 32.
		v, err = parseUint(a.Arg, 0, 31)
	}
	if err != nil {
		return err
	}
	val := uint32(v)
	switch k {
	case "set-xmark":
		t.Mode, t.CtMark, t.CtMask = connmarkSet, val, mask
	case "set-mark":
		t.Mode, t.CtMark, t.CtMask = connmarkSet, val, val|mask
	case "and-mark":
		t.Mode, t.CtMark, t.CtMask = connmarkSet, 0, ^val
	case "or-mark":
		t.Mode, t.CtMark, t.CtMask = connmarkSet, val, val
	case "xor-mark":
		t.Mode, t.CtMark, t.CtMask = connmarkSet, val, 0
	case "save-mark":
		t.Mode = connmarkSave
	case "restore-mark":
		t.Mode = connmarkRestore
	case "ctmask":
		t.CtMask = val
	case "nfmask":
		t.NfMask = val
	case "mask":
		t.CtMask, t.NfMask = val, val
	case "left-shift-mark":
		t.ShiftDir, t.ShiftBits = connmarkShiftLeft, uint8(val)
	case "right-shift-mark":
		t.ShiftDir, t.ShiftBits = connmarkShiftRight, uint8(val)
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *ConnmarkTarget) Finish(c *table.FinishContext) error {
	var ops []string
	for _, o := range connmarkOps {
		if c.Seen.Has(o) {
			ops = append(ops, "--"+o)
		}
	}
	switch {
	case len(ops) == 0:
		return table.WithHint("use --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark, --save-mark or --restore-mark", "no operation given")
	case len(ops) > 1:
		return fmt.Errorf("only one operation may be given (%s)", strings.Join(ops, " and "))
	case c.Seen.Has("mask") && (c.Seen.Has("ctmask") || c.Seen.Has("nfmask")):
		return fmt.Errorf("--mask cannot be used together with --ctmask or --nfmask")
	}
	return nil
}

func (t *ConnmarkTarget) Print(w *table.Writer) {
	switch t.Mode {
	case connmarkSet:
		w.Opt(false, "set-xmark", hex(uint64(t.CtMark))+"/"+hex(uint64(t.CtMask)))
	case connmarkSave, connmarkRestore:
		op := "save-mark"
		if t.Mode == connmarkRestore {
			op = "restore-mark"
		}
		w.Flag(false, op)
		w.Opt(false, "nfmask", hex(uint64(t.NfMask)))
		w.Opt(false, "ctmask", hex(uint64(t.CtMask)))
	default:
		w.Raw(" ERROR: UNKNOWN CONNMARK MODE")
	}
	if t.Mode <= connmarkRestore && t.ShiftBits != 0 {
		op := "left-shift-mark"
		if t.ShiftDir == connmarkShiftRight {
			op = "right-shift-mark"
		}
		w.OptUint(false, op, uint64(t.ShiftBits))
	}
}

// struct xt_connmark_tginfo2: ctmark@0 ctmask@4 nfmask@8 (u32),
// shift_dir@12 shift_bits@13 mode@14 (u8), 1 byte of tail padding.
const connmarkTargetSize = 16

func (t *ConnmarkTarget) layout() []field {
	return []field{{0, &t.CtMark}, {4, &t.CtMask}, {8, &t.NfMask}, {12, &t.ShiftDir}, {13, &t.ShiftBits}, {14, &t.Mode}}
}

func (t *ConnmarkTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *ConnmarkTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}

// Normal sets the nfmask of --set-xmark to its default: xt_CONNMARK uses
// it only to save or restore a mark.
func (t *ConnmarkTarget) Normal(table.Family) table.Ext {
	if t.Mode != connmarkSet {
		return t
	}
	c := *t
	c.NfMask = 0xffffffff
	return &c
}
