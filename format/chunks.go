package format

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fwkit/fw/table"
)

// Decoding a big file in parallel. The text is cut into chunks at line
// ends; workers tokenize and decode the lines of each chunk on their own
// (a command line means the same whatever block it is in), and one
// goroutine walks the results in line order, doing what depends on the
// lines before: table blocks, -T skipping, the order of errors, and
// handing each operation on (to a table.Applier or into a Script). For a
// kube-proxy file of 120k lines that is most of the work on every core,
// and nothing ever holds an operation per line of the whole file.

// chunkSize is how much text one worker decodes at a time: big enough
// that handing chunks around costs nothing, small enough that a few of
// them in flight hold little.
const chunkSize = 128 << 10

// chunksAhead bounds how many decoded chunks may wait for the walker.
const chunksAhead = 8

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
// line (reported even inside a skipped block, as the sequential reader
// did); errs are the decoding errors, which count only inside a block.
type itemErrs struct {
	item int
	perr *table.Error
	errs []*table.Error
}

type chunk struct {
	src       []byte
	firstLine int
	lines     int // newlines in src
	items     []lineItem
	errs      []itemErrs
	done      chan struct{}
}

// itemPool recycles the items of chunks the walker is done with: the
// walker hands each operation on before it moves to the next chunk, so
// only the chunks in flight ever hold items.
var itemPool = sync.Pool{New: func() any { return new([]lineItem) }}

// blockSink takes the blocks of a file in order.
type blockSink interface {
	Begin(name string, pos table.Pos)
	Op(op *table.Op)
	Commit(pos table.Pos)
}

// decodeChunks decodes src into sink and returns the errors found, in
// file order, at most table.MaxErrors. After the first error no more
// operations reach the sink.
func decodeChunks(name string, src []byte, opt DecodeOptions, sink blockSink) table.ErrorList {
	chunks := cut(src)
	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	if workers > 1 {
		var next atomic.Int64
		window := make(chan struct{}, chunksAhead)
		quit := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := newWorker(name, opt)
				for {
					select {
					case window <- struct{}{}:
					case <-quit:
						return
					}
					k := int(next.Add(1)) - 1
					if k >= len(chunks) {
						return
					}
					w.decode(chunks[k])
					close(chunks[k].done)
				}
			}()
		}
		defer func() {
			close(quit)
			wg.Wait()
		}()
		return walk(name, chunks, opt, sink, func() { <-window })
	}
	w := newWorker(name, opt)
	for _, c := range chunks {
		w.decode(c)
		close(c.done)
	}
	return walk(name, chunks, opt, sink, func() {})
}

// cut splits src into chunks at line ends and numbers their first lines.
func cut(src []byte) []*chunk {
	var out []*chunk
	line := 1
	for len(src) > 0 {
		n := len(src)
		if n > chunkSize {
			n = chunkSize + bytes.IndexByte(src[chunkSize:], '\n') + 1
			if n == chunkSize { // no newline after the cut: one last chunk
				n = len(src)
			}
		}
		c := &chunk{src: src[:n:n], firstLine: line, done: make(chan struct{})}
		c.lines = bytes.Count(c.src, []byte("\n"))
		out = append(out, c)
		line += c.lines
		src = src[n:]
	}
	if len(out) == 0 {
		out = append(out, &chunk{firstLine: 1, done: make(chan struct{})})
	}
	return out
}

// worker decodes chunks with its own decoder (slabs, string arena,
// command state).
type worker struct {
	d *decoder
	f *File
}

func newWorker(name string, opt DecodeOptions) *worker {
	f := &File{Name: name}
	return &worker{d: newDecoder(f, opt, 0), f: f}
}

func (w *worker) decode(c *chunk) {
	items := *itemPool.Get().(*[]lineItem)
	if cap(items) < c.lines+1 {
		items = make([]lineItem, 0, c.lines+1)
	}
	items = items[:0]
	lines := lineReader{f: w.f, src: c.src, num: c.firstLine - 1}
	w.d.src = c.src
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
			c.errs = append(c.errs, itemErrs{item: len(items) - 1, perr: perr})
			continue
		}
		mark := len(w.d.errs)
		w.d.lineItem(&l, it)
		if it.op.Pos.Line == 0 {
			it.op.Pos = w.f.Pos(&l, nil)
		}
		if len(w.d.errs) > mark {
			c.errs = append(c.errs, itemErrs{item: len(items) - 1, errs: w.d.errs[mark:len(w.d.errs):len(w.d.errs)]})
		}
	}
	c.items = items
}

// lineItem decodes what a line means on its own.
func (d *decoder) lineItem(l *Line, it *lineItem) {
	switch l.Kind {
	case TableLine:
		it.op.Pos = d.f.Pos(l, nil)
		if len(l.Words) == 0 || l.Words[0].Off != 1 {
			d.errorf(it.op.Pos, "missing table name after '*'")
			return
		}
		it.op.Chain = strings.Clone(l.Words[0].Text)
		if len(l.Words) > 1 {
			d.errorf(d.f.Pos(l, &l.Words[1]), "unexpected %q after table name", l.Words[1].Text)
		}
		if table.LookupTable(it.op.Chain) == nil {
			e := d.errorf(d.f.Pos(l, &l.Words[0]), "unknown table %q", it.op.Chain)
			e.Hint = "tables are " + strings.Join(table.TableNames(), ", ")
		}
		it.ok = true
	case ChainLine:
		it.op, it.ok = d.chainLine(l)
	case CommandLine:
		it.op, it.ok = d.command(l)
	}
}

// walk goes through the decoded chunks in order: what the sequential
// reader did with its block state.
func walk(name string, chunks []*chunk, opt DecodeOptions, sink blockSink, consumed func()) table.ErrorList {
	var errs table.ErrorList
	add := func(e *table.Error) bool { return errs.Add(e) }
	var open bool  // inside a block
	var skip bool  // inside a block -T skips
	var start int  // line of the open block
	var sawCR bool // DOS line endings are one mistake, not one per line
	var blockTable string
	last := 0
	for _, c := range chunks {
		<-c.done
		last = c.firstLine + c.lines - 1
		if len(c.src) > 0 && c.src[len(c.src)-1] != '\n' {
			last++
		}
		ei := 0
		for i := range c.items {
			it := &c.items[i]
			var perr *table.Error
			var itErrs []*table.Error
			if ei < len(c.errs) && c.errs[ei].item == i {
				perr, itErrs = c.errs[ei].perr, c.errs[ei].errs
				ei++
			}
			pos := it.op.Pos
			if perr != nil {
				if strings.HasPrefix(perr.Msg, "carriage return") {
					if sawCR {
						continue
					}
					sawCR = true
				}
				if add(perr) {
					return errs
				}
				continue
			}
			switch it.kind {
			case TableLine:
				if open || skip {
					e := table.Errorf(pos, "table line inside a table block")
					e.Hint = "end the previous table with COMMIT first"
					if add(e) {
						return errs
					}
					continue
				}
				for _, e := range itErrs {
					if add(e) {
						return errs
					}
				}
				if !it.ok {
					continue
				}
				if opt.OnlyTable != "" && it.op.Chain != opt.OnlyTable {
					skip = true
					continue
				}
				open, start, blockTable = true, pos.Line, it.op.Chain
				if len(errs) == 0 {
					sink.Begin(it.op.Chain, pos)
				}
			case CommitLine:
				if skip {
					skip = false
					continue
				}
				if !open {
					if add(table.Errorf(pos, "COMMIT outside a table block")) {
						return errs
					}
					continue
				}
				open = false
				if len(errs) == 0 {
					sink.Commit(pos)
				}
			case ChainLine, CommandLine:
				if skip {
					continue
				}
				if !open {
					what := "chain line"
					if it.kind == CommandLine {
						what = "command"
					}
					e := table.Errorf(pos, "%s outside a table block", what)
					e.Hint = "start the table with a line such as '*filter'"
					if add(e) {
						return errs
					}
					continue
				}
				for _, e := range itErrs {
					if add(e) {
						return errs
					}
				}
				if it.ok && len(errs) == 0 {
					sink.Op(&it.op)
				}
			}
		}
		items := c.items[:0]
		itemPool.Put(&items)
		c.items, c.errs = nil, nil
		consumed()
	}
	if open {
		p := table.Pos{File: name, Line: max(last, 1)}
		e := table.Errorf(p, "missing COMMIT for table %q started at line %d", blockTable, start)
		e.Hint = "end every table block with a line 'COMMIT'"
		add(e)
	}
	errs.Sort()
	return errs
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
