package ext

import (
	"fmt"
	"math"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// U32 is the u32 match; it mirrors struct xt_u32: up to 11 tests (of which
// iptables fills at most 10), each a location expression and value ranges.
type U32 struct {
	Tests  [u32MaxSize + 1]U32Test
	NTests uint8
	Invert uint8
}

// U32Test mirrors struct xt_u32_test.
type U32Test struct {
	Location [u32MaxSize + 1]U32LocationElement
	Value    [u32MaxSize + 1]U32ValueElement
	NNums    uint8
	NValues  uint8
}

// U32LocationElement mirrors struct xt_u32_location_element: the operator
// that joins the number to what came before, and the number.
type U32LocationElement struct {
	Number uint32
	NextOp uint8
}

// U32ValueElement mirrors struct xt_u32_value_element.
type U32ValueElement struct {
	Min, Max uint32
}

const (
	u32MaxSize = 10 // XT_U32_MAXSIZE

	u32And    = 0 // XT_U32_AND
	u32LeftSh = 1
	u32RightS = 2
	u32At     = 3
)

var u32Info = &table.ExtInfo{
	Name: "u32", Kind: table.MatchKind, Family: table.BothFamilies, Size: u32Size,
	Options: opts("!u32="),
	New:     func(table.Family) table.Ext { return &U32{} },
}

func (m *U32) Info() *table.ExtInfo { return u32Info }
func (m *U32) Name() string         { return "u32" }

func (m *U32) Parse(a *table.OptArgs) error {
	if a.Key() != "u32" {
		return unknownOption(a)
	}
	if a.Invert {
		m.Invert = 1
	}
	return m.parse(a.Arg)
}

// parse reads "location=value[,value]&&..." with libxt_u32's scanner:
// locations are numbers joined by &, <<, >> and @; values are numbers or
// min:max ranges; numbers are C numbers; blanks may separate tokens.
func (m *U32) parse(s string) error {
	arg := s
	pos := func() int { return len(s) - len(arg) }
	fail := func(format string, args ...any) error {
		return fmt.Errorf("--u32 %q: at char %d: %s", s, pos(), fmt.Sprintf(format, args...))
	}
	number := func() (uint32, error) {
		v, rest, ok := table.StrtoulPrefix(arg, 0, math.MaxUint32)
		if !ok || rest == arg {
			return 0, fail("not a number or out of range")
		}
		arg = rest
		return uint32(v), nil
	}
	skip := func() { arg = strings.TrimLeft(arg, " \t\n\v\f\r") }
	test, loc, val := 0, 0, 0
	readingValues := false
	for {
		skip()
		if arg == "" {
			if !readingValues {
				return fail("the location has no '=' and value")
			}
			if val == 0 {
				return fail("the test has no value")
			}
			m.Tests[test].NNums, m.Tests[test].NValues = uint8(loc), uint8(val)
			test++
			if test > u32MaxSize {
				return fail("too many \"&&\" (at most %d tests)", u32MaxSize)
			}
			m.NTests = uint8(test)
			return nil
		}
		ct := &m.Tests[test]
		if !readingValues {
			if arg[0] == '=' {
				if loc == 0 {
					return fail("the location is missing")
				}
				arg = arg[1:]
				readingValues = true
				continue
			}
			if loc != 0 {
				switch {
				case arg[0] == '&':
					ct.Location[loc].NextOp = u32And
				case arg[0] == '<':
					if arg = arg[1:]; arg == "" || arg[0] != '<' {
						return fail("a second '<' was expected")
					}
					ct.Location[loc].NextOp = u32LeftSh
				case arg[0] == '>':
					if arg = arg[1:]; arg == "" || arg[0] != '>' {
						return fail("a second '>' was expected")
					}
					ct.Location[loc].NextOp = u32RightS
				case arg[0] == '@':
					ct.Location[loc].NextOp = u32At
				default:
					return fail("an operator (&, <<, >>, @) was expected")
				}
				arg = arg[1:]
			}
			n, err := number()
			if err != nil {
				return err
			}
			ct.Location[loc].Number = n
			if loc++; loc > u32MaxSize {
				return fail("too many operators (at most %d numbers in a location)", u32MaxSize)
			}
			continue
		}
		if arg[0] == '&' {
			if arg = arg[1:]; arg == "" || arg[0] != '&' {
				return fail("a second '&' was expected")
			}
			if val == 0 {
				return fail("the value is missing")
			}
			ct.NNums, ct.NValues = uint8(loc), uint8(val)
			if test++; test > u32MaxSize {
				return fail("too many \"&&\" (at most %d tests)", u32MaxSize)
			}
			arg = arg[1:]
			readingValues, loc, val = false, 0, 0
			continue
		}
		if val > 0 {
			if arg[0] != ',' {
				return fail("',' or \"&&\" was expected")
			}
			arg = arg[1:]
		}
		lo, err := number()
		if err != nil {
			return err
		}
		hi := lo
		skip()
		if arg != "" && arg[0] == ':' {
			arg = arg[1:]
			if hi, err = number(); err != nil {
				return err
			}
		}
		ct.Value[val] = U32ValueElement{Min: lo, Max: hi}
		if val++; val > u32MaxSize {
			return fail("too many ',' (at most %d values)", u32MaxSize)
		}
	}
}

func (m *U32) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("u32") {
		return table.WithHint(`add --u32 "LOCATION=VALUE"`, "--u32 is required")
	}
	return nil
}

func (m *U32) Print(w *table.Writer) {
	var b strings.Builder
	b.WriteByte('"')
	for i, t := range m.Tests[:m.NTests] {
		if i > 0 {
			b.WriteString("&&")
		}
		fmt.Fprintf(&b, "0x%x", t.Location[0].Number)
		for _, l := range t.Location[1:max(t.NNums, 1)] {
			b.WriteString([4]string{"&", "<<", ">>", "@"}[l.NextOp&3])
			fmt.Fprintf(&b, "0x%x", l.Number)
		}
		b.WriteByte('=')
		for j, v := range t.Value[:t.NValues] {
			if j > 0 {
				b.WriteByte(',')
			}
			if v.Min == v.Max {
				fmt.Fprintf(&b, "0x%x", v.Min)
			} else {
				fmt.Fprintf(&b, "0x%x:0x%x", v.Min, v.Max)
			}
		}
	}
	b.WriteByte('"')
	w.Opt(m.Invert != 0, "u32", b.String())
}

// struct xt_u32: tests[XT_U32_MAXSIZE+1 = 11]@0, 180 bytes each (struct
// xt_u32_test: location[11]@0, 8 bytes each {number u32@0 nextop u8@4};
// value[11]@88, 8 bytes each {min u32@0 max u32@4}; nnums u8@176 nvalues
// u8@177; padding), ntests u8@1980 invert u8@1981, padding.
const (
	u32Size     = 1984
	u32TestSize = 180
)

func (m *U32) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	for i, t := range m.Tests {
		base := i * u32TestSize
		for j, l := range t.Location {
			w.U32(base+8*j, l.Number)
			w.U8(base+8*j+4, l.NextOp)
		}
		for j, v := range t.Value {
			w.U32(base+88+8*j, v.Min)
			w.U32(base+88+8*j+4, v.Max)
		}
		w.U8(base+176, t.NNums)
		w.U8(base+177, t.NValues)
	}
	w.U8(1980, m.NTests)
	w.U8(1981, m.Invert)
	return nil
}

func (m *U32) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	for i := range m.Tests {
		t := &m.Tests[i]
		base := i * u32TestSize
		for j := range t.Location {
			t.Location[j] = U32LocationElement{Number: r.U32(base + 8*j), NextOp: r.U8(base + 8*j + 4)}
		}
		for j := range t.Value {
			t.Value[j] = U32ValueElement{Min: r.U32(base + 88 + 8*j), Max: r.U32(base + 88 + 8*j + 4)}
		}
		t.NNums, t.NValues = r.U8(base+176), r.U8(base+177)
	}
	m.NTests, m.Invert = r.U8(1980), r.U8(1981)
	needWhole(r, u32Size)
	if err := r.Err(); err != nil {
		return err
	}
	// Print walks these counts over fixed arrays; the kernel refuses
	// larger ones too.
	if m.NTests > u32MaxSize+1 {
		return fmt.Errorf("u32 with %d tests, at most %d", m.NTests, u32MaxSize+1)
	}
	for _, t := range m.Tests[:m.NTests] {
		if t.NNums > u32MaxSize+1 || t.NValues > u32MaxSize+1 {
			return fmt.Errorf("u32 test with %d numbers and %d values, at most %d", t.NNums, t.NValues, u32MaxSize+1)
		}
	}
	return nil
}
