package format

import (
	"strings"
	"sync"

	"github.com/fwkit/fw/table"
)

// The second step of reading a file: each chunk's lines are parsed and
// decoded on their own, by a worker, into items that the merge (merge.go)
// walks in file order. Everything a line means without the lines before
// it is done here: the command line is parsed as iptables parses it (see
// command.go), rules are built with their extensions and digests.

// lineItem is what a worker makes of one line that is not blank or a
// comment. Its errors are kept apart, in the chunk, since few lines
// have any.
type lineItem struct {
	kind LineKind
	ok   bool
	// op is the operation of a chain or command line (valid when ok);
	// for other lines only op.Pos (the line, column 1) and, for a table
	// line, op.Chain (the table's name) are set.
	op table.Op
}

// itemErrs are the errors of one item: perr is a syntax error of the
// line (reported even inside a skipped block, as iptables-restore does);
// errs are the decoding errors, which count only inside a block.
type itemErrs struct {
	item int
	perr *table.Error
	errs []*table.Error
}

// itemPool recycles the items of chunks the merge is done with: it hands
// each operation on before it moves to the next chunk, so only the chunks
// in flight ever hold items.
var itemPool = sync.Pool{New: func() any { return new([]lineItem) }}

// worker parses and decodes chunks with state of its own: the decoder's
// slabs and command state, and the interner that gives the words their
// text.
type worker struct {
	d     *decoder
	words *interner
}

func newWorker(name string, opt DecodeOptions) *worker {
	return &worker{d: newDecoder(&File{Name: name}, opt), words: new(interner)}
}

// decode fills in c.items and c.errs.
func (w *worker) decode(c *chunk) {
	items := *itemPool.Get().(*[]lineItem)
	if cap(items) < c.lines+1 {
		items = make([]lineItem, 0, c.lines+1)
	}
	items = items[:0]
	lines := lineReader{f: w.d.f, src: c.src, num: c.firstLine - 1, words: w.words}
	var l Line
	for {
		ok, perr := lines.next(&l)
		if !ok {
			break
		}
		if perr == nil && (l.Kind == Blank || l.Kind == Comment) {
			continue
		}
		items = append(items, lineItem{kind: l.Kind})
		it := &items[len(items)-1]
		if perr != nil {
			it.op.Pos = w.d.f.Pos(&l, nil)
			c.errs = append(c.errs, itemErrs{item: len(items) - 1, perr: perr})
			continue
		}
		if errs := w.d.line(&l, it); len(errs) > 0 {
			c.errs = append(c.errs, itemErrs{item: len(items) - 1, errs: errs})
		}
	}
	c.items = items
}

// decoder decodes lines one at a time; nothing it keeps points to a line
// or its words, which the caller may reuse.
type decoder struct {
	f    *File
	opt  DecodeOptions
	errs table.ErrorList // every error found, in the order found
	cmd  cmd             // reused for every command line

	ruleSlab    slab[table.Rule]
	rulePtrSlab slab[*table.Rule]
	matchSlab   slab[table.Match]
	jumpSlab    slab[table.Jump]

	// digester is set when opt.Digests is.
	digester *table.Digester
}

func newDecoder(f *File, opt DecodeOptions) *decoder {
	d := &decoder{f: f, opt: opt}
	if opt.Digests {
		d.digester = table.NewStableDigester(opt.Family)
	}
	return d
}

func (d *decoder) errorf(pos table.Pos, format string, args ...any) *table.Error {
	e := table.Errorf(pos, format, args...)
	d.errs = append(d.errs, e)
	return e
}

func (d *decoder) add(e *table.Error) { d.errs = append(d.errs, e) }

// line decodes what l means on its own into it and returns the errors
// found in it.
func (d *decoder) line(l *Line, it *lineItem) []*table.Error {
	mark := len(d.errs)
	*it = lineItem{kind: l.Kind}
	switch l.Kind {
	case TableLine:
		it.op.Chain, it.ok = d.tableLine(l)
	case ChainLine:
		it.op, it.ok = d.chainLine(l)
	case CommandLine:
		it.op, it.ok = d.command(l)
	}
	if it.op.Pos.Line == 0 {
		it.op.Pos = d.f.Pos(l, nil)
	}
	return d.errs[mark:len(d.errs):len(d.errs)]
}

// tableLine returns the name of a "*table" line's table.
func (d *decoder) tableLine(l *Line) (string, bool) {
	if len(l.Words) == 0 || l.Words[0].Off != 1 {
		d.errorf(d.f.Pos(l, nil), "missing table name after '*'")
		return "", false
	}
	name := l.Words[0].Text
	if len(l.Words) > 1 {
		d.errorf(d.f.Pos(l, &l.Words[1]), "unexpected %q after table name", l.Words[1].Text)
	}
	if table.LookupTable(name) == nil {
		e := d.errorf(d.f.Pos(l, &l.Words[0]), "unknown table %q", name)
		e.Hint = "tables are " + strings.Join(table.TableNames(), ", ")
	}
	return name, true
}

func (d *decoder) chainLine(l *Line) (table.Op, bool) {
	pos := d.f.Pos(l, nil)
	if len(l.Words) == 0 || l.Words[0].Off != 1 {
		d.errorf(pos, "missing chain name after ':'")
		return table.Op{}, false
	}
	op := table.Op{Kind: table.OpDeclare, Pos: pos, Chain: l.Words[0].Text}
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
