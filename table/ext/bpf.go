package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// BPF is the bpf match at revision 1; it mirrors struct xt_bpf_info_v1.
// In C the program and the pinned path share a union; Mode says which one
// is meant.
type BPF struct {
	Mode           uint16
	ProgramNumElem uint16
	Fd             int32 // descriptor of the pinned program, opened by iptables at load time
	Program        [bpfMaxInstr]BPFInsn
	Path           string // path[XT_BPF_PATH_MAX = 512]
	Filter         uint64 // kernel-private pointer
}

// BPFInsn mirrors struct sock_filter, one classic BPF instruction.
type BPFInsn struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

const (
	bpfMaxInstr  = 64 // XT_BPF_MAX_NUM_INSTR
	bpfPathSize  = 512
	bpfModeBytes = 0 // XT_BPF_MODE_BYTECODE
	bpfModePin   = 1 // XT_BPF_MODE_FD_PINNED
)

var bpfInfo = &table.ExtInfo{
	Name: "bpf", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: bpfSize,
	Options: opts("bytecode=", "object-pinned="),
	New:     func(table.Family) table.Ext { return &BPF{} },
}

func (m *BPF) Info() *table.ExtInfo { return bpfInfo }
func (m *BPF) Name() string         { return "bpf" }

func (m *BPF) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "bytecode":
		if err := m.parseBytecode(a.Arg); err != nil {
			return err
		}
		m.Mode = bpfModeBytes
	case "object-pinned":
		// iptables opens the pinned object here; offline fw can only keep
		// the path, and the load fails if nothing is pinned there.
		m.Path = a.Keep(truncate(a.Arg, bpfPathSize-1))
		m.Mode = bpfModePin
	default:
		return unknownOption(a)
	}
	return nil
}

// parseBytecode reads "N,code jt jf k,..." (nfbpf_compile's output) the
// way libxt_bpf's sscanf calls do: decimal fields cut to their C widths,
// blanks allowed before each, text after the fourth field ignored.
func (m *BPF) parseBytecode(s string) error {
	n, rest, ok, _ := table.Strtoumax(s, 10)
	if !ok || rest == "" || rest[0] != ',' {
		return table.WithHint(`write the program as "N,code jt jf k,code jt jf k,..."`, "invalid --bytecode %q (no instruction count)", s)
	}
	count := uint16(n)
	switch {
	case count == 0:
		return fmt.Errorf("--bytecode has no instructions")
	case count > bpfMaxInstr:
		return fmt.Errorf("--bytecode has %d instructions, at most %d", count, bpfMaxInstr)
	}
	i := 0
	tok := s
	for {
		c := strings.IndexByte(tok, ',')
		if c < 0 || c+1 == len(tok) {
			break
		}
		tok = tok[c+1:]
		if i >= int(count) {
			return fmt.Errorf("--bytecode has more instructions than its count %d", count)
		}
		var f [4]uint64
		r := tok
		for j := range f {
			var ok bool
			if f[j], r, ok, _ = table.Strtoumax(r, 10); !ok {
				return fmt.Errorf("--bytecode: instruction %d is not \"code jt jf k\"", i)
			}
		}
		m.Program[i] = BPFInsn{Code: uint16(f[0]), Jt: uint8(f[1]), Jf: uint8(f[2]), K: uint32(f[3])}
		i++
	}
	if i != int(count) {
		return fmt.Errorf("--bytecode has fewer instructions than its count %d", count)
	}
	m.ProgramNumElem = count
	return nil
}

func (m *BPF) Finish(c *table.FinishContext) error {
	switch {
	case c.Seen.Has("bytecode") && c.Seen.Has("object-pinned"):
		return fmt.Errorf("--bytecode and --object-pinned cannot be used together")
	case !c.Seen.Has("bytecode") && !c.Seen.Has("object-pinned"):
		return table.WithHint("add --bytecode PROGRAM or --object-pinned PATH", "a program is required")
	case m.Mode == bpfModeBytes:
		return bpfCheckClassic(m.Program[:m.ProgramNumElem])
	}
	return nil
}

// Classic BPF opcode parts (linux/filter.h).
const (
	bpfLD, bpfLDX, bpfST, bpfSTX, bpfALU, bpfJMP, bpfRET, bpfMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07

	bpfW, bpfH, bpfB                               = 0x00, 0x08, 0x10
	bpfIMM, bpfABS, bpfIND, bpfMEM, bpfLEN, bpfMSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xa0
	bpfK, bpfX                                     = 0x00, 0x08

	bpfADD, bpfSUB, bpfMUL, bpfDIV, bpfOR, bpfAND, bpfLSH, bpfRSH, bpfNEG, bpfMOD, bpfXOR = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0

	bpfJA, bpfJEQ, bpfJGT, bpfJGE, bpfJSET = 0x00, 0x10, 0x20, 0x30, 0x40
	bpfA                                   = 0x10
	bpfTAX, bpfTXA                         = 0x00, 0x80

	bpfMemWords = 16
	skfAdOff    = 0xFFFFF000 // SKF_AD_OFF (-0x1000)
	skfAdMax    = 64         // SKF_AD_MAX: ancillary data offsets are below it, in steps of 4
)

// bpfAllowed is the kernel's chk_code_allowed table.
var bpfAllowed = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, op := range []uint16{bpfADD, bpfSUB, bpfMUL, bpfDIV, bpfMOD, bpfAND, bpfOR, bpfXOR, bpfLSH, bpfRSH} {
		m[bpfALU|op|bpfK], m[bpfALU|op|bpfX] = true, true
	}
	for _, c := range []uint16{bpfALU | bpfNEG,
		bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS, bpfLD | bpfW | bpfLEN,
		bpfLD | bpfW | bpfIND, bpfLD | bpfH | bpfIND, bpfLD | bpfB | bpfIND, bpfLD | bpfIMM, bpfLD | bpfMEM,
		bpfLDX | bpfW | bpfLEN, bpfLDX | bpfB | bpfMSH, bpfLDX | bpfIMM, bpfLDX | bpfMEM,
		bpfST, bpfSTX, bpfMISC | bpfTAX, bpfMISC | bpfTXA, bpfRET | bpfK, bpfRET | bpfA, bpfJMP | bpfJA} {
		m[c] = true
	}
	for _, op := range []uint16{bpfJEQ, bpfJGE, bpfJGT, bpfJSET} {
		m[bpfJMP|op|bpfK], m[bpfJMP|op|bpfX] = true, true
	}
	return m
}()

// bpfCheckClassic is the kernel's bpf_check_classic, which the bpf match
// runs on its program at load time: known opcodes only, no division by a
// constant zero, shifts below 32, scratch memory cells below 16 and written
// before read on every path, jumps inside the program, a return at the end.
func bpfCheckClassic(prog []BPFInsn) error {
	n := len(prog)
	for pc, in := range prog {
		if !bpfAllowed[in.Code] {
			return fmt.Errorf("--bytecode: instruction %d has an unknown opcode %d", pc, in.Code)
		}
		switch in.Code {
		case bpfALU | bpfDIV | bpfK, bpfALU | bpfMOD | bpfK:
			if in.K == 0 {
				return fmt.Errorf("--bytecode: instruction %d divides by zero", pc)
			}
		case bpfALU | bpfLSH | bpfK, bpfALU | bpfRSH | bpfK:
			if in.K >= 32 {
				return fmt.Errorf("--bytecode: instruction %d shifts by %d (at most 31)", pc, in.K)
			}
		case bpfLD | bpfMEM, bpfLDX | bpfMEM, bpfST, bpfSTX:
			if in.K >= bpfMemWords {
				return fmt.Errorf("--bytecode: instruction %d uses memory cell %d (at most %d)", pc, in.K, bpfMemWords-1)
			}
		case bpfJMP | bpfJA:
			if in.K >= uint32(n-pc-1) {
				return fmt.Errorf("--bytecode: instruction %d jumps past the end", pc)
			}
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX,
			bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX, bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return fmt.Errorf("--bytecode: instruction %d jumps past the end", pc)
			}
		case bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS:
			if in.K >= skfAdOff {
				if off := in.K - skfAdOff; off >= skfAdMax || off%4 != 0 {
					return fmt.Errorf("--bytecode: instruction %d loads unknown ancillary data", pc)
				}
			}
		}
	}
	if last := prog[n-1].Code; last != bpfRET|bpfK && last != bpfRET|bpfA {
		return fmt.Errorf("--bytecode: the last instruction must be a return")
	}
	// Scratch memory must be written before it is read, on every path.
	masks := make([]uint16, n)
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, in := range prog {
		valid &= masks[pc]
		switch in.Code {
		case bpfST, bpfSTX:
			valid |= 1 << in.K
		case bpfLD | bpfMEM, bpfLDX | bpfMEM:
			if valid&(1<<in.K) == 0 {
				return fmt.Errorf("--bytecode: instruction %d reads memory cell %d before it is written", pc, in.K)
			}
		case bpfJMP | bpfJA:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX,
			bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX, bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
			masks[pc+1+int(in.Jt)] &= valid
			masks[pc+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

func (m *BPF) Print(w *table.Writer) {
	if m.Mode == bpfModePin {
		w.Opt(false, "object-pinned", m.Path)
		return
	}
	var b strings.Builder
	b.WriteString(`"` + strconv.Itoa(int(m.ProgramNumElem)))
	for _, in := range m.Program[:m.ProgramNumElem] {
		fmt.Fprintf(&b, ",%d %d %d %d", in.Code, in.Jt, in.Jf, in.K)
	}
	b.WriteString(`"`)
	w.Opt(false, "bytecode", b.String())
}

// struct xt_bpf_info_v1: mode u16@0 bpf_program_num_elem u16@2 fd s32@4,
// then a union @8 of bpf_program[XT_BPF_MAX_NUM_INSTR = 64] (struct
// sock_filter, 8 bytes each: code u16@0 jt u8@2 jf u8@3 k u32@4) and
// path[XT_BPF_PATH_MAX = 512]; the kernel's filter pointer @520 (written
// zero, not handed back). In pinned mode the kernel takes the program from
// fd, which must be open in the process that loads the rule: iptables
// opens the path itself; fw writes Fd as the value holds it, so loading a
// pinned rule needs a caller that opened the object and set Fd.
const bpfSize = 528

func (m *BPF) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, m.Mode)
	w.U16(2, m.ProgramNumElem)
	w.U32(4, uint32(m.Fd))
	if m.Mode == bpfModePin {
		if err := w.String(8, bpfPathSize, m.Path); err != nil {
			return fmt.Errorf("bpf --object-pinned: %w", err)
		}
		return nil
	}
	for i, in := range m.Program {
		off := 8 + 8*i
		w.U16(off, in.Code)
		w.U8(off+2, in.Jt)
		w.U8(off+3, in.Jf)
		w.U32(off+4, in.K)
	}
	return nil
}

func (m *BPF) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Mode, m.ProgramNumElem, m.Fd = r.U16(0), r.U16(2), int32(r.U32(4))
	m.Program, m.Path, m.Filter = [bpfMaxInstr]BPFInsn{}, "", 0
	if m.Mode == bpfModePin {
		m.Path = r.String(8, bpfPathSize)
	} else {
		if m.ProgramNumElem > bpfMaxInstr {
			return fmt.Errorf("bpf program of %d instructions, at most %d", m.ProgramNumElem, bpfMaxInstr)
		}
		for i := range m.Program {
			off := 8 + 8*i
			m.Program[i] = BPFInsn{Code: r.U16(off), Jt: r.U8(off + 2), Jf: r.U8(off + 3), K: r.U32(off + 4)}
		}
	}
	needWhole(r, bpfSize)
	return r.Err()
}
