package cliutil

import (
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Workload says what a run will hold in memory. Each command describes
// its run once and calls Tune: this file is the one place that sets the
// garbage collector and the heap, so that a trade made for one kind of
// run is seen beside the others. The figures behind each choice are in
// docs/performance.md and the commit messages that made them.
type Workload struct {
	// Input is the size in bytes of the rules text the run reads (the
	// sum over its files); < 0 when a size cannot be known ahead (a
	// pipe).
	Input int
	// KernelRead says the run also reads a whole ruleset from the
	// kernel, whose size is not known ahead (fw-save, fw-diff FILE).
	KernelRead bool
	// Streams says a ruleset read from the kernel goes straight to text
	// (fw-save): little stays live, and garbage is made rule after rule.
	Streams bool
	// Builds says the run builds one big ruleset that lives until it
	// exits (fw-restore): collecting finds little until near the end.
	Builds bool
	// FromKernel says the restore starts from the kernel's tables
	// (--noflush, --keep-chains), read as the file needs them: little
	// of what it allocates stays live.
	FromKernel bool
	// WritesAll says the run writes a whole ruleset to the kernel (a
	// restore other than --test or --incremental, or --test
	// --check-kernel).
	WritesAll bool
}

// Heap sizes Tune prepares for: per byte of rules text read, and for a
// ruleset read from the kernel.
const (
	heapPerInputByte = 24
	heapForKernel    = 256 << 20
)

// Tune sets the garbage collector and the heap for w. GOGC and
// GOMEMLIMIT in the environment win over what it would set;
// FW_HUGEHEAP=0 leaves huge pages alone, for comparisons.
//
//   - The heap of these short runs is almost all live data, which the
//     default GOGC=100 would mark again and again as it grows: collecting
//     at 4x the live heap costs little memory and saves most of that.
//   - A run that streams, or a restore that reads the kernel as it goes,
//     makes garbage rather than live data: it is collected as usual.
//   - A restore of a file of known size builds one ruleset and exits: the
//     collector is off until the heap nears a limit that leaves room for
//     twice what a restore holds (about 8 bytes per byte of the file;
//     at least 256 MiB), so a file that makes more garbage than usual is
//     still collected, near the limit.
//   - Huge pages (primeHeap) spare the page faults of tens of megabytes
//     of fresh heap when fw itself is the main cost of the run, but slow
//     down a run that then writes a whole ruleset to the kernel.
func Tune(w Workload) {
	if os.Getenv("GOGC") == "" {
		gc := 400
		if w.Streams || w.FromKernel {
			gc = 100
		}
		if w.Builds && w.Input >= 0 && os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(max(256<<20, 16*int64(w.Input)))
			if !w.FromKernel {
				gc = -1
			}
		}
		debug.SetGCPercent(gc)
	}
	if !w.WritesAll && os.Getenv("FW_HUGEHEAP") != "0" {
		n := heapPerInputByte * max(w.Input, 0)
		if w.KernelRead {
			n += heapForKernel
		}
		primeHeap(n)
	}
}

// primeHeap asks the kernel to back the next n bytes of Go heap with
// transparent huge pages, where the system allows it (THP in "madvise"
// mode, Debian's default). Go's heap takes its memory with mmap and never
// asks for huge pages itself; primeHeap allocates one n-byte block, which
// the runtime maps fresh and does not touch, marks it MADV_HUGEPAGE and
// frees it again; the runtime then carves later allocations out of the
// same range, which keeps the advice (the kernel uses huge pages for the
// 2 MiB-aligned stretches inside it). If anything here does not hold
// (THP off, a different runtime), nothing changes but speed.
func primeHeap(n int) {
	const huge = 2 << 20
	if n < 8*huge {
		return
	}
	advise(min(n, 4<<30))
	runtime.GC()
}

// advise is apart so that the block is unreachable when primeHeap
// collects.
func advise(n int) {
	_ = unix.Madvise(make([]byte, n), unix.MADV_HUGEPAGE)
}

// InputSize is the size of a file argument ("-" or "": standard input),
// or def when it cannot be known ahead (a pipe).
func InputSize(name string, def int) int {
	var fi os.FileInfo
	var err error
	if name == "" || name == "-" {
		fi, err = os.Stdin.Stat()
	} else {
		fi, err = os.Stat(name)
	}
	if err != nil || !fi.Mode().IsRegular() {
		return def
	}
	return int(fi.Size())
}
