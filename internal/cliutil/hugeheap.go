package cliutil

import (
	"errors"
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PrimeHeap asks the kernel to back the next n bytes of Go heap with
// transparent huge pages, where the system allows it (THP in "madvise"
// mode, Debian's default).
//
// Why: the commands touch tens of megabytes for a big ruleset, and every
// fresh 4 KiB page costs a fault; with huge pages the kernel faults 2 MiB
// at a time. That pays only when fw itself is the main consumer of the
// run's time. It does not pay before a big kernel write: measured on the
// bench VM (2026-12-03, median of 6, 85k rules), a legacy restore took
// 0.64 s wall / 0.56 s system with huge pages against 0.44 s / 0.29 s
// without, an nf_tables restore 2.32 s against 2.01 s, while fw-save,
// fw-diff and --test were level or slightly faster with them and an
// nf_tables --incremental restore (a small write) faster, 0.44 s against
// 0.50 s. So fw-restore primes only for --test and --incremental;
// fw-save and fw-diff always do.
//
// How: Go's heap takes its memory with mmap and never asks for huge
// pages itself. PrimeHeap allocates one n-byte block, which the runtime
// maps fresh and does not touch, marks that range MADV_HUGEPAGE and frees
// it again; the runtime then carves later allocations out of the same
// range, which keeps the advice. If anything here does not hold (THP off,
// a different runtime), nothing changes but speed. FW_HUGEHEAP=0 turns
// it off, for comparisons. A big input file read after it (readBig) gets
// huge pages too, and only then.
func PrimeHeap(n int) {
	const huge = 2 << 20
	if n < 8*huge || os.Getenv("FW_HUGEHEAP") == "0" {
		return
	}
	n = min(n, 4<<30)
	prime(n)
	runtime.GC()
	primed = true
}

// primed says PrimeHeap has asked for huge pages in this run.
var primed bool

// prime is apart so that the block is unreachable when PrimeHeap collects.
func prime(n int) {
	const huge = 2 << 20
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg := (p + huge - 1) &^ (huge - 1)
	end := (p + uintptr(n)) &^ (huge - 1)
	if beg < end {
		_ = unix.Madvise(b[beg-p:end-p], unix.MADV_HUGEPAGE)
	}
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

// Heap sizes the commands prime for: per byte of rules text read, and
// for a ruleset read from the kernel, whose size is not known ahead.
const (
	HeapPerInputByte = 24
	HeapForKernel    = 256 << 20
)

// bigInput is the size from which an input file is read into memory of
// its own (readBig) rather than the Go heap.
const bigInput = 1 << 20

// readBig reads a regular file of size bytes into fresh anonymous memory
// outside the Go heap, huge-page backed when the heap was primed, and
// returns the mapping and how much of it the file filled. A heap buffer
// of that size would be zeroed by the runtime first (the primed heap is
// not known to be zero) and then overwritten; fresh pages come zeroed
// from the kernel, and the caller can unmap them at once, where the
// garbage collector would keep them. (Mapping the file itself would save
// the copy but turn a file truncated meanwhile into a crash.)
func readBig(f *os.File, size int64) (mapping []byte, filled int, err error) {
	const huge = 2 << 20
	// Room for one more byte: EOF is seen, not assumed.
	n := int((size + huge) &^ (huge - 1))
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, 0, err
	}
	if primed {
		_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	}
	got := 0
	for {
		k, err := f.Read(b[got:])
		got += k
		if err == io.EOF || k == 0 && err == nil {
			break
		}
		if err != nil {
			unix.Munmap(b)
			return nil, 0, err
		}
		if got == len(b) {
			// The file grew while it was read: read it the usual way.
			unix.Munmap(b)
			return nil, 0, errors.New("file grew")
		}
	}
	return b, got, nil
}
