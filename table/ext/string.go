package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// StringMatch is the string match at revision 1; it mirrors struct
// xt_string_info.
type StringMatch struct {
	FromOffset uint16
	ToOffset   uint16
	Algo       string // algo[XT_STRING_MAX_ALGO_NAME_SIZE = 16]
	Pattern    [stringMaxPattern]byte
	Patlen     uint8
	Flags      uint8  // u.v1.flags: INVERT, IGNORECASE
	Config     uint64 // kernel-private pointer
}

const (
	stringMaxPattern = 128 // XT_STRING_MAX_PATTERN_SIZE
	stringAlgoSize   = 16
	stringInvert     = 0x01
	stringIgnoreCase = 0x02
)

var stringInfo = &table.ExtInfo{
	Name: "string", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: stringSize,
	Options: opts("from=", "to=", "algo=", "!string=", "!hex-string=", "icase"),
	New:     func(table.Family) table.Ext { return &StringMatch{ToOffset: 0xFFFF} },
}

func (m *StringMatch) Info() *table.ExtInfo { return stringInfo }
func (m *StringMatch) Name() string         { return "string" }

func (m *StringMatch) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "from", "to":
		v, err := parseUint(a.Arg, 0, 0xFFFF)
		if err != nil {
			return err
		}
		if a.Key() == "from" {
			m.FromOffset = uint16(v)
		} else {
			m.ToOffset = uint16(v)
		}
	case "algo":
		if err := checkNameLen("algo", a.Arg, stringAlgoSize-1); err != nil {
			return err
		}
		m.Algo = a.Keep(a.Arg)
	case "string":
		if len(a.Arg) > stringMaxPattern {
			return fmt.Errorf("--string is too long (%d bytes, at most %d)", len(a.Arg), stringMaxPattern)
		}
		m.Patlen = uint8(copy(m.Pattern[:], a.Arg))
	case "hex-string":
		if err := m.parseHex(a.Arg); err != nil {
			return err
		}
	case "icase":
		m.Flags |= stringIgnoreCase
	default:
		return unknownOption(a)
	}
	if a.Invert {
		m.Flags |= stringInvert
	}
	return nil
}

// parseHex reads the --hex-string syntax: literal bytes, "|..|" blocks of
// hex pairs (blanks allowed after the opening bar and after each pair), and
// "\c" for a literal c outside a block. It follows libxt_string's scanner,
// including what it tolerates (an unterminated block at the very end).
func (m *StringMatch) parseHex(s string) error {
	if s == "" {
		return fmt.Errorf("--hex-string must not be empty")
	}
	n := len(s)
	i, idx := 0, 0
	inHex, literal := false, false
scan:
	for i < n {
		if idx >= stringMaxPattern {
			return fmt.Errorf("--hex-string is too long (at most %d bytes)", stringMaxPattern)
		}
		switch {
		case s[i] == '\\' && !inHex:
			literal = true
		case s[i] == '\\':
			return fmt.Errorf("--hex-string: no literals (\\) inside a |hex| block")
		case s[i] == '|':
			if inHex {
				inHex = false
			} else {
				inHex = true
				for i+1 < n && s[i+1] == ' ' {
					i++
				}
			}
			if i+1 >= n {
				break scan
			}
			i++
		}
		switch {
		case literal:
			if i+1 >= n {
				return fmt.Errorf("--hex-string: a backslash at the end quotes nothing")
			}
			m.Pattern[idx] = s[i+1]
			i += 2
			literal = false
		case inHex:
			if i+1 >= n {
				return fmt.Errorf("--hex-string: odd number of hex digits")
			}
			if i+2 >= n {
				return fmt.Errorf("--hex-string: a |hex| block must end with '|'")
			}
			hi, lo := table.DigitVal(s[i]), table.DigitVal(s[i+1])
			if hi >= 16 || lo >= 16 {
				return fmt.Errorf("--hex-string: invalid hex digits %q", s[i:i+2])
			}
			m.Pattern[idx] = byte(hi<<4 | lo)
			if s[i+2] == ' ' {
				i += 3
			} else {
				i += 2
			}
		default:
			m.Pattern[idx] = s[i]
			i++
		}
		idx++
	}
	m.Patlen = uint8(idx)
	return nil
}

func (m *StringMatch) Finish(c *table.FinishContext) error {
	switch {
	case c.Seen.Has("string") && c.Seen.Has("hex-string"):
		return fmt.Errorf("--string and --hex-string cannot be used together")
	case !c.Seen.Has("string") && !c.Seen.Has("hex-string"):
		return table.WithHint("add --string TEXT or --hex-string |HEX|", "a pattern is required")
	case !c.Seen.Has("algo"):
		return table.WithHint("add --algo bm or --algo kmp", "--algo is required")
	}
	// The kernel's checks: a textsearch algorithm it has (fsm is not
	// built on current kernels), a non-empty pattern, an ordered window.
	switch {
	case m.Algo != "bm" && m.Algo != "kmp":
		return table.WithHint("use --algo bm or --algo kmp", "unknown --algo %q", m.Algo)
	case m.Patlen == 0:
		return fmt.Errorf("the pattern is empty")
	case m.FromOffset > m.ToOffset:
		return fmt.Errorf("--from %d is after --to %d", m.FromOffset, m.ToOffset)
	}
	return nil
}

func (m *StringMatch) Print(w *table.Writer) {
	pat := m.Pattern[:m.Patlen]
	inv := m.Flags&stringInvert != 0
	hex := len(pat) > 0 && pat[len(pat)-1] == '\\'
	for _, c := range pat {
		if c < 0x20 || c > 0x7e {
			hex = true
		}
	}
	var b strings.Builder
	b.WriteByte('"')
	if hex {
		b.WriteByte('|')
		fmt.Fprintf(&b, "%x", pat)
		b.WriteByte('|')
	} else {
		for _, c := range pat {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	if hex {
		w.Opt(inv, "hex-string", b.String())
	} else {
		w.Opt(inv, "string", b.String())
	}
	w.Opt(false, "algo", m.Algo)
	if m.FromOffset != 0 {
		w.OptUint(false, "from", uint64(m.FromOffset))
	}
	if m.ToOffset != 0xFFFF {
		w.OptUint(false, "to", uint64(m.ToOffset))
	}
	if m.Flags&stringIgnoreCase != 0 {
		w.Flag(false, "icase")
	}
}

// struct xt_string_info: from_offset u16@0 to_offset u16@2
// algo[XT_STRING_MAX_ALGO_NAME_SIZE = 16]@4
// pattern[XT_STRING_MAX_PATTERN_SIZE = 128]@20 patlen u8@148, u.v1.flags
// u8@149, padding, the kernel's config pointer @152 (written zero, not
// handed back).
const stringSize = 160

func (m *StringMatch) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, m.FromOffset)
	w.U16(2, m.ToOffset)
	if err := w.String(4, stringAlgoSize, m.Algo); err != nil {
		return fmt.Errorf("string --algo: %w", err)
	}
	w.Bytes(20, m.Pattern[:])
	w.U8(148, m.Patlen)
	w.U8(149, m.Flags)
	return nil
}

func (m *StringMatch) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.FromOffset, m.ToOffset = r.U16(0), r.U16(2)
	m.Algo = r.String(4, stringAlgoSize)
	r.Bytes(20, m.Pattern[:])
	m.Patlen, m.Flags = r.U8(148), r.U8(149)
	m.Config = 0
	needWhole(r, stringSize)
	if err := r.Err(); err != nil {
		return err
	}
	if m.Patlen > stringMaxPattern {
		return fmt.Errorf("string pattern of %d bytes, at most %d", m.Patlen, stringMaxPattern)
	}
	return nil
}
