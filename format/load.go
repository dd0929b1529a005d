package format

import (
	"runtime"
	"sync"

	"github.com/fwkit/fw/table"
)

// Reading a file is one path in three steps, one file each: split.go cuts
// the text into chunks at line ends; decode.go parses and decodes the
// lines of each chunk on their own, on every core; merge.go walks the
// results in file order and hands the operations on. For a kube-proxy
// file of 120k lines most of the work is in the middle step, and nothing
// ever holds an operation per line of the whole file.

// chunksAhead bounds how many chunks may wait for the merge.
const chunksAhead = 4

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

// LoadOptions say how to read a rules file into a ruleset.
type LoadOptions struct {
	Family   table.Family
	Registry *table.Registry
	Apply    table.ApplyOptions
}

// Load parses, decodes and applies a rules file to an empty ruleset: the
// ruleset iptables-legacy-save would show after iptables-legacy-restore of
// the file into a fresh network namespace. It streams (see ApplySource).
// The ruleset owns its text: src may change or go once Load returns.
func Load(name string, src []byte, opt LoadOptions) (*table.Ruleset, error) {
	a := table.NewApplier(opt.Family, opt.Apply, nil)
	if err := ApplySource(name, src, DecodeOptions{Family: opt.Family, Registry: opt.Registry}, a); err != nil {
		return nil, err
	}
	rs := &table.Ruleset{Family: opt.Family}
	if err := a.Finish(rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// ApplySource reads src and hands every block and operation to a as it
// goes: no syntax tree and no list of operations of the file is ever
// held, and nothing handed to a points into src. It returns the errors
// of reading; once there is one, a gets nothing more, and the errors of
// applying are a's, for a.Finish to report.
func ApplySource(name string, src []byte, opt DecodeOptions, a *table.Applier) error {
	return read(name, src, opt, applySink{a}).Err()
}

// Decode turns a parsed file into a restore script, as ApplySource
// reads a file but from its syntax tree. All errors are collected (up to
// table.MaxErrors) with their positions.
func Decode(f *File, opt DecodeOptions) (*table.Script, error) {
	s := &table.Script{Family: opt.Family}
	d := newDecoder(f, opt)
	m := newMerger(f.Name, opt, &scriptSink{s: s})
	var it lineItem
	for _, l := range f.Lines {
		m.last = l.Num
		if l.Kind == Blank || l.Kind == Comment {
			continue
		}
		if m.item(&it, nil, d.line(l, &it)) {
			break
		}
	}
	errs := m.end()
	if len(errs) > 0 {
		errs.Sort()
		return s, errs
	}
	return s, nil
}

// read is the path: split, decode each chunk, merge. It returns the
// errors found, at most table.MaxErrors.
func read(name string, src []byte, opt DecodeOptions, sink blockSink) table.ErrorList {
	split := newSplitter(src)
	m := newMerger(name, opt, sink)
	workers := min(runtime.GOMAXPROCS(0), len(src)/chunkSize+1)
	if workers == 1 {
		w := newWorker(name, opt)
		for c := split.next(); c != nil; c = split.next() {
			w.decode(c)
			if m.chunk(c) {
				break
			}
		}
		return m.end()
	}
	// The split runs ahead of the merge by at most chunksAhead chunks;
	// the workers take them in turn.
	order := make(chan *chunk, chunksAhead)
	todo := make(chan *chunk, chunksAhead)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		defer close(order)
		for c := split.next(); c != nil; c = split.next() {
			select {
			case order <- c:
			case <-quit:
				return
			}
			select {
			case todo <- c:
			case <-quit:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(name, opt)
			for c := range todo {
				select {
				case <-quit:
					return
				default:
				}
				w.decode(c)
				close(c.done)
			}
		}()
	}
	for c := range order {
		<-c.done
		if m.chunk(c) {
			break
		}
	}
	close(quit)
	wg.Wait()
	return m.end()
}
