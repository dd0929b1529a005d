package format

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// The last step of reading a file: the decoded lines, walked in file
// order, doing what depends on the lines before: table blocks, -T
// skipping, which errors count, and handing each operation on (to a
// table.Applier or into a Script).

// blockSink takes the blocks of a file in order.
type blockSink interface {
	Begin(name string, pos table.Pos)
	Op(op *table.Op)
	Commit(pos table.Pos)
}

// merger holds the state of the walk. After the first error no more
// operations reach the sink.
type merger struct {
	name string
	only string // DecodeOptions.OnlyTable
	sink blockSink
	errs table.ErrorList

	open       bool   // inside a block
	skip       bool   // inside a block -T skips
	start      int    // line of the open block
	blockTable string // table of the open block
	sawCR      bool   // DOS line endings are one mistake, not one per line
	last       int    // number of the last line seen
	full       bool   // the error list is full: the walk stopped
}

func newMerger(name string, opt DecodeOptions, sink blockSink) *merger {
	return &merger{name: name, only: opt.OnlyTable, sink: sink}
}

// add records an error and reports whether the list is full.
func (m *merger) add(e *table.Error) bool {
	m.full = m.errs.Add(e)
	return m.full
}

// chunk merges the items of a decoded chunk and recycles them. It
// reports whether so many errors were found that the rest of the file
// does not matter.
func (m *merger) chunk(c *chunk) (full bool) {
	m.last = c.lastLine()
	ei := 0
	for i := range c.items {
		var e itemErrs
		if ei < len(c.errs) && c.errs[ei].item == i {
			e = c.errs[ei]
			ei++
		}
		if m.item(&c.items[i], e.perr, e.errs) {
			return true
		}
	}
	items := c.items[:0]
	itemPool.Put(&items)
	c.items, c.errs = nil, nil
	return false
}

// item merges one line: perr is its syntax error, errs the errors of
// decoding it. It reports whether the error list is full.
func (m *merger) item(it *lineItem, perr *table.Error, errs []*table.Error) (full bool) {
	pos := it.op.Pos
	if perr != nil {
		if strings.HasPrefix(perr.Msg, "carriage return") {
			if m.sawCR {
				return false
			}
			m.sawCR = true
		}
		return m.add(perr)
	}
	switch it.kind {
	case TableLine:
		if m.open || m.skip {
			e := table.Errorf(pos, "table line inside a table block")
			e.Hint = "end the previous table with COMMIT first"
			return m.add(e)
		}
		if m.addAll(errs) {
			return true
		}
		if !it.ok {
			return false
		}
		if m.only != "" && it.op.Chain != m.only {
			m.skip = true
			return false
		}
		m.open, m.start, m.blockTable = true, pos.Line, it.op.Chain
		if len(m.errs) == 0 {
			m.sink.Begin(it.op.Chain, pos)
		}
	case CommitLine:
		if m.skip {
			m.skip = false
			return false
		}
		if !m.open {
			return m.add(table.Errorf(pos, "COMMIT outside a table block"))
		}
		m.open = false
		if len(m.errs) == 0 {
			m.sink.Commit(pos)
		}
	case ChainLine, CommandLine:
		if m.skip {
			return false
		}
		if !m.open {
			what := "chain line"
			if it.kind == CommandLine {
				what = "command"
			}
			e := table.Errorf(pos, "%s outside a table block", what)
			e.Hint = "start the table with a line such as '*filter'"
			return m.add(e)
		}
		if m.addAll(errs) {
			return true
		}
		if it.ok && len(m.errs) == 0 {
			m.sink.Op(&it.op)
		}
	}
	return false
}

func (m *merger) addAll(errs []*table.Error) bool {
	for _, e := range errs {
		if m.add(e) {
			return true
		}
	}
	return false
}

// end finishes the file: a table block still open is an error. It
// returns the errors found: sorted by position, or, when the walk
// stopped at a full list, in the order found.
func (m *merger) end() table.ErrorList {
	if m.full {
		return m.errs
	}
	if m.open {
		p := table.Pos{File: m.name, Line: max(m.last, 1)}
		e := table.Errorf(p, "missing COMMIT for table %q started at line %d", m.blockTable, m.start)
		e.Hint = "end every table block with a line 'COMMIT'"
		m.add(e)
	}
	m.errs.Sort()
	return m.errs
}

// scriptSink collects the blocks into a Script.
type scriptSink struct {
	s   *table.Script
	cur *table.Block
}

func (b *scriptSink) Begin(name string, pos table.Pos) {
	b.s.Blocks = append(b.s.Blocks, table.Block{Table: name, Pos: pos})
	b.cur = &b.s.Blocks[len(b.s.Blocks)-1]
}

func (b *scriptSink) Op(op *table.Op) { b.cur.Ops = append(b.cur.Ops, *op) }

func (b *scriptSink) Commit(pos table.Pos) {
	b.cur.Commit = pos
	b.cur = nil
}

// applySink hands the blocks to a table.Applier.
type applySink struct{ a *table.Applier }

func (s applySink) Begin(name string, pos table.Pos) { s.a.Begin(name, pos) }
func (s applySink) Op(op *table.Op)                  { s.a.Op(op) }
func (s applySink) Commit(table.Pos)                 { s.a.Commit() }
