package format

import (
	"strings"
	"unsafe"

	"github.com/fwkit/fw/table"
)

// DecodeOptions say how to read a file.
type DecodeOptions struct {
	Family   table.Family
	Registry *table.Registry
	// OnlyTable, when set, skips the lines of every other table's block
	// without looking at them (iptables-restore -T).
	OnlyTable string
	// Digests sets every rule's Digest (table.Rule) as the rule is made,
	// on the decoding goroutines: for a backend that compares rules by
	// digest (nft), at a fraction of the cost of a pass over the ruleset
	// afterwards.
	Digests bool
}

// Decode turns a parsed file into a restore script: every command line is
// parsed as iptables parses it, with the extensions in the registry. All
// errors are collected (up to table.MaxErrors) with their positions.
func Decode(f *File, opt DecodeOptions) (*table.Script, error) {
	d := newDecoder(f, opt, len(f.Lines))
	for _, l := range f.Lines {
		if d.full {
			break
		}
		d.line(l)
	}
	return d.end()
}

type decoder struct {
	f    *File
	opt  DecodeOptions
	s    *table.Script
	errs table.ErrorList
	full bool

	cur  *table.Block
	skip bool
	last int // number of the last line seen
	cmd  cmd // reused for every command line

	// ops backs the Ops of every block: blocks follow each other, so
	// one array sized by the line count serves them all without the
	// repeated copying of growing a 100k-element slice.
	ops []table.Op

	ruleSlab    slab[table.Rule]
	rulePtrSlab slab[*table.Rule]
	matchSlab   slab[table.Match]
	jumpSlab    slab[table.Jump]

	// src is the input text being decoded (the chunk at hand), and kept
	// the arena of the text the ruleset keeps from it: see own.
	src  []byte
	kept arena
	// ownFn is own as a func value, made once.
	ownFn func(string) string
	// digester is set when opt.Digests is.
	digester *table.Digester
}

// own returns s in memory that is not the input's: a string pointing into
// src is copied into the decoder's arena, any other (a quoted word, which
// is unquoted into an arena already) is returned as it is. Every piece of
// text the ruleset keeps goes through own (extensions through
// OptArgs.Keep), so that the input can be released once it is decoded:
// fw-restore does, before the kernel call, which is then made with that
// much less memory held.
func (d *decoder) own(s string) string {
	if len(s) == 0 || len(d.src) == 0 {
		return s
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(d.src)))
	if p < lo || p >= lo+uintptr(len(d.src)) {
		return s
	}
	return d.kept.string(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// newDecoder prepares to decode a file of about lines lines.
func newDecoder(f *File, opt DecodeOptions, lines int) *decoder {
	d := &decoder{f: f, opt: opt, s: &table.Script{Family: opt.Family}, ops: make([]table.Op, 0, lines)}
	d.ownFn = d.own
	if opt.Digests {
		d.digester = table.NewStableDigester(opt.Family)
	}
	return d
}

// addOp appends op to the open block.
func (d *decoder) addOp(op table.Op) {
	d.cur.Ops = append(d.cur.Ops, op)
}

// openBlock starts a block whose Ops use the rest of d.ops.
func (d *decoder) openBlock(b table.Block) {
	b.Ops = d.ops[len(d.ops):len(d.ops)]
	d.s.Blocks = append(d.s.Blocks, b)
	d.cur = &d.s.Blocks[len(d.s.Blocks)-1]
}

// closeBlock caps the block's Ops so that the next block's appends cannot
// reach them.
func (d *decoder) closeBlock() {
	n := len(d.cur.Ops)
	d.cur.Ops = d.cur.Ops[:n:n]
	if n <= cap(d.ops)-len(d.ops) {
		d.ops = d.ops[:len(d.ops)+n]
	}
	d.cur = nil
}

func (d *decoder) errorf(pos table.Pos, format string, args ...any) *table.Error {
	e := table.Errorf(pos, format, args...)
	if d.errs.Add(e) {
		d.full = true
	}
	return e
}

func (d *decoder) add(e *table.Error) {
	if d.errs.Add(e) {
		d.full = true
	}
}

// line decodes one line. The line and its words may be reused by the
// caller afterwards: nothing keeps a pointer to them.
func (d *decoder) line(l *Line) {
	d.last = l.Num
	pos := d.f.Pos(l, nil)
	switch l.Kind {
	case Blank, Comment:
	case TableLine:
		if d.cur != nil || d.skip {
			e := d.errorf(pos, "table line inside a table block")
			e.Hint = "end the previous table with COMMIT first"
			return
		}
		if len(l.Words) == 0 || l.Words[0].Off != 1 {
			d.errorf(pos, "missing table name after '*'")
			return
		}
		name := strings.Clone(l.Words[0].Text)
		if len(l.Words) > 1 {
			d.errorf(d.f.Pos(l, &l.Words[1]), "unexpected %q after table name", l.Words[1].Text)
		}
		if table.LookupTable(name) == nil {
			e := d.errorf(d.f.Pos(l, &l.Words[0]), "unknown table %q", name)
			e.Hint = "tables are " + strings.Join(table.TableNames(), ", ")
		}
		if d.opt.OnlyTable != "" && name != d.opt.OnlyTable {
			d.skip = true
			return
		}
		d.openBlock(table.Block{Table: name, Pos: pos})
	case CommitLine:
		if d.skip {
			d.skip = false
			return
		}
		if d.cur == nil {
			d.errorf(pos, "COMMIT outside a table block")
			return
		}
		d.cur.Commit = pos
		d.closeBlock()
	case ChainLine:
		if d.skip {
			return
		}
		if d.cur == nil {
			e := d.errorf(pos, "chain line outside a table block")
			e.Hint = "start the table with a line such as '*filter'"
			return
		}
		if op, ok := d.chainLine(l); ok {
			d.addOp(op)
		}
	case CommandLine:
		if d.skip {
			return
		}
		if d.cur == nil {
			e := d.errorf(pos, "command outside a table block")
			e.Hint = "start the table with a line such as '*filter'"
			return
		}
		if op, ok := d.command(l); ok {
			d.addOp(op)
		}
	}
}

// end finishes the file: a table block still open is an error.
func (d *decoder) end() (*table.Script, error) {
	if d.cur != nil && !d.full {
		p := table.Pos{File: d.f.Name, Line: max(d.last, 1)}
		e := d.errorf(p, "missing COMMIT for table %q started at line %d", d.cur.Table, d.cur.Pos.Line)
		e.Hint = "end every table block with a line 'COMMIT'"
	}
	if len(d.errs) > 0 {
		d.errs.Sort()
		return d.s, d.errs
	}
	return d.s, nil
}

func (d *decoder) chainLine(l *Line) (table.Op, bool) {
	pos := d.f.Pos(l, nil)
	if len(l.Words) == 0 || l.Words[0].Off != 1 {
		d.errorf(pos, "missing chain name after ':'")
		return table.Op{}, false
	}
	op := table.Op{Kind: table.OpDeclare, Pos: pos, Chain: d.own(l.Words[0].Text)}
	if len(l.Words) < 2 {
		e := d.errorf(pos, "chain line for %q has no policy", op.Chain)
		e.Hint = "write ':CHAIN ACCEPT [0:0]' for a built-in chain or ':CHAIN - [0:0]' for a user chain"
		return op, false
	}
	pw := &l.Words[1]
	switch pw.Text {
	case "-":
	case "ACCEPT":
		op.Policy = table.Accept
	case "DROP":
		op.Policy = table.Drop
	default:
		e := d.errorf(d.f.Pos(l, pw), "invalid policy %q for chain %q", pw.Text, op.Chain)
		e.Hint = "a built-in chain's policy is ACCEPT or DROP; a user chain has '-'"
		return op, false
	}
	if len(l.Words) > 2 {
		cw := &l.Words[2]
		c, ok := parseCounters(cw.Text)
		if !ok {
			d.errorf(d.f.Pos(l, cw), "invalid counters %q", cw.Text).Hint = "counters are written [packets:bytes]"
			return op, false
		}
		op.Counters, op.HasCounters = c, true
	}
	if len(l.Words) > 3 {
		d.errorf(d.f.Pos(l, &l.Words[3]), "unexpected %q after chain counters", l.Words[3].Text)
		return op, false
	}
	return op, true
}

func parseCounters(s string) (table.Counters, bool) {
	if len(s) < 5 || s[0] != '[' || s[len(s)-1] != ']' {
		return table.Counters{}, false
	}
	p, b, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return table.Counters{}, false
	}
	pv, ok1 := parseDecimal(p)
	bv, ok2 := parseDecimal(b)
	return table.Counters{Packets: pv, Bytes: bv}, ok1 && ok2
}

func parseDecimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n := v*10 + uint64(c-'0')
		if n/10 != v {
			return 0, false
		}
		v = n
	}
	return v, true
}

// optID names the built-in options of the iptables command line.
type optID uint8

const (
	oNone optID = iota
	// commands
	oAppend
	oCheck
	oDelete
	oInsert
	oReplace
	oList
	oListRules
	oFlush
	oZero
	oNewChain
	oDeleteChain
	oRename
	oPolicy
	// rule parameters
	oSource
	oDest
	oProto
	oIn
	oOut
	oJump
	oGoto
	oMatch
	oFrag
	oCounters
	// other
	oTable
	oIPv4
	oIPv6
	oNumeric
	oVerbose
	oExact
	oWait
	oWaitInterval
	oLineNumbers
	oModprobe
	oHelp
	oVersion
)

type builtinOpt struct {
	long  string
	short byte
	id    optID
	arg   bool
}

// builtins is iptables' own option table, in its order: getopt prefers an
// exact name and otherwise accepts an unambiguous prefix.
var builtins = []builtinOpt{
	{"append", 'A', oAppend, true},
	{"delete", 'D', oDelete, true},
	{"check", 'C', oCheck, true},
	{"insert", 'I', oInsert, true},
	{"replace", 'R', oReplace, true},
	{"list", 'L', oList, false},
	{"list-rules", 'S', oListRules, false},
	{"flush", 'F', oFlush, false},
	{"zero", 'Z', oZero, false},
	{"new-chain", 'N', oNewChain, true},
	{"delete-chain", 'X', oDeleteChain, false},
	{"rename-chain", 'E', oRename, true},
	{"policy", 'P', oPolicy, true},
	{"source", 's', oSource, true},
	{"src", 0, oSource, true},
	{"destination", 'd', oDest, true},
	{"dst", 0, oDest, true},
	{"protocol", 'p', oProto, true},
	{"in-interface", 'i', oIn, true},
	{"jump", 'j', oJump, true},
	{"table", 't', oTable, true},
	{"match", 'm', oMatch, true},
	{"numeric", 'n', oNumeric, false},
	{"out-interface", 'o', oOut, true},
	{"verbose", 'v', oVerbose, false},
	{"wait", 'w', oWait, false},
	{"wait-interval", 'W', oWaitInterval, false},
	{"exact", 'x', oExact, false},
	{"fragment", 'f', oFrag, false},
	{"version", 'V', oVersion, false},
	{"help", 'h', oHelp, false},
	{"line-numbers", 0, oLineNumbers, false},
	{"modprobe", 'M', oModprobe, true},
	{"set-counters", 'c', oCounters, true},
	{"goto", 'g', oGoto, true},
	{"ipv4", '4', oIPv4, false},
	{"ipv6", '6', oIPv6, false},
}

var builtinByLong = func() map[string]*builtinOpt {
	m := map[string]*builtinOpt{}
	for i := range builtins {
		m[builtins[i].long] = &builtins[i]
	}
	return m
}()

var builtinByShort = func() (m [256]*builtinOpt) {
	for i := range builtins {
		if b := &builtins[i]; b.short != 0 {
			m[b.short] = b
		}
	}
	return m
}()

func builtinName(id optID) string {
	if int(id) < len(builtinNames) && builtinNames[id] != "" {
		return builtinNames[id]
	}
	return "?"
}

// builtinNames is how messages name each option: its short form if it
// has one.
var builtinNames = func() []string {
	names := make([]string, oVersion+1)
	for _, b := range builtins {
		if names[b.id] != "" {
			continue
		}
		if b.short != 0 {
			names[b.id] = "-" + string(b.short)
		} else {
			names[b.id] = "--" + b.long
		}
	}
	return names
}()

// loaded is an extension instance on the rule being parsed.
type loaded struct {
	info   *table.ExtInfo
	val    table.Ext
	pos    table.Pos
	seen   table.OptSet
	target bool
}
