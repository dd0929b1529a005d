package legacy

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Socket option numbers (linux/netfilter_ipv4/ip_tables.h,
// linux/netfilter_ipv6/ip6_tables.h). The IPv6 revision queries are
// base+4/+5, not +2/+3.
const (
	soSetReplace     = 64
	soSetAddCounters = 65
	soGetInfo        = 64
	soGetEntries     = 65
)

type famSock struct {
	domain    int
	level     int
	revMatch  int
	revTarget int
	namesFile string
}

var socks = map[table.Family]*famSock{
	table.IPv4: {unix.AF_INET, unix.IPPROTO_IP, 66, 67, "ip_tables_names"},
	table.IPv6: {unix.AF_INET6, unix.IPPROTO_IPV6, 68, 69, "ip6_tables_names"},
}

// Sizes of the sockopt argument structs.
const (
	getInfoSize      = 84 // struct ipt_getinfo
	getEntriesHeader = 40 // struct ipt_get_entries before entrytable
	replaceHeader    = 96 // struct ipt_replace before entries
	countersHeader   = 40 // struct xt_counters_info before counters
	countersSize     = 16 // struct xt_counters
	getRevisionSize  = 30 // struct xt_get_revision
	tableNameLen     = 32
)

// conn is an open raw socket for one family.
type conn struct {
	fd int
	s  *famSock
}

func open(f table.Family) (*conn, error) {
	s := socks[f]
	fd, err := unix.Socket(s.domain, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	return &conn{fd: fd, s: s}, nil
}

func (c *conn) close() { unix.Close(c.fd) }

func (c *conn) getsockopt(opt int, buf []byte) (int, error) {
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), uintptr(c.s.level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

func (c *conn) setsockopt(opt int, buf []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(c.fd), uintptr(c.s.level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// info runs IPT_SO_GET_INFO. Note that asking creates the table in the
// kernel if it did not exist yet.
func (c *conn) info(name string) (*Info, error) {
	w := xtbin.NewWriter(getInfoSize)
	if err := w.String(0, tableNameLen, name); err != nil {
		return nil, err
	}
	if _, err := c.getsockopt(soGetInfo, w.B); err != nil {
		return nil, err
	}
	r := xtbin.NewReader(w.B)
	in := &Info{ValidHooks: r.U32(32), NumEntries: r.U32(76), Size: r.U32(80)}
	for h := 0; h < int(table.NumHooks); h++ {
		in.HookEntry[h] = r.U32(36 + 4*h)
		in.Underflow[h] = r.U32(56 + 4*h)
	}
	return in, r.Err()
}

// entries runs IPT_SO_GET_ENTRIES for a table whose info was just read.
// The entries come back behind replaceHeader bytes of room (see
// Blob.raw), so that writing them back costs no copy.
//
// A big table is read into memory of its own, outside the Go heap, which
// Blob.release gives back: the tens of megabytes of a kube-proxy table
// then neither count towards the heap the garbage collector paces itself
// by nor wait for a collection to be returned.
func (c *conn) entries(name string, in *Info) (*Blob, error) {
	raw, free := blobMem(replaceHeader + int(in.Size))
	buf := raw[replaceHeader-getEntriesHeader:]
	w := &xtbin.Writer{B: buf}
	w.String(0, tableNameLen, name)
	w.U32(32, in.Size)
	if _, err := c.getsockopt(soGetEntries, buf); err != nil {
		free()
		return nil, err
	}
	return &Blob{raw: raw, Entries: raw[replaceHeader:], NumEntries: int(in.NumEntries),
		ValidHooks: in.ValidHooks, HookEntry: in.HookEntry, Underflow: in.Underflow, free: free}, nil
}

// bigBlob is the size from which blobMem maps memory of its own.
const bigBlob = 4 << 20

// blobMem returns n zeroed bytes and the function that gives them back:
// anonymous memory, huge-page backed where the system allows it, for big
// tables; the Go heap for the others.
func blobMem(n int) ([]byte, func()) {
	if n >= bigBlob {
		b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err == nil {
			_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
			return b, func() { unix.Munmap(b) }
		}
	}
	return make([]byte, n), func() {}
}

// replace runs IPT_SO_SET_REPLACE. oldCount must be the kernel's current
// number of entries (else EAGAIN: someone changed the table meanwhile);
// the kernel hands back the old entries' counters, which fw has no use
// for.
func (c *conn) replace(name string, b *Blob, oldCount uint32) error {
	old := make([]byte, countersSize*max(int(oldCount), 1))
	buf := b.raw
	if len(buf) != replaceHeader+len(b.Entries) {
		buf = make([]byte, replaceHeader+len(b.Entries))
		copy(buf[replaceHeader:], b.Entries)
	}
	w := &xtbin.Writer{B: buf[:replaceHeader]}
	w.String(0, tableNameLen, name)
	w.U32(32, b.ValidHooks)
	w.U32(36, uint32(b.NumEntries))
	w.U32(40, uint32(len(b.Entries)))
	for h := 0; h < int(table.NumHooks); h++ {
		w.U32(44+4*h, b.HookEntry[h])
		w.U32(64+4*h, b.Underflow[h])
	}
	w.U32(84, oldCount)
	w.U64(88, uint64(uintptr(unsafe.Pointer(&old[0]))))
	err := c.setsockopt(soSetReplace, buf)
	runtime.KeepAlive(old)
	return err
}

// addCounters runs IPT_SO_SET_ADD_COUNTERS with the counters b's entries
// carry, in entry order: the only way counters get into a freshly
// replaced table (the kernel zeroes those of the entries it is given).
// Each entry's struct xt_counters is copied as it lies in the blob.
func (c *conn) addCounters(name string, lay *entryLayout, b *Blob) error {
	if b.zeroCounters {
		return nil
	}
	var buf []byte // made at the first counter that is not zero
	i := 0
	for off := 0; off < len(b.Entries); i++ {
		fr, err := scanEntry(lay, b.Entries, off)
		if err != nil {
			return fmt.Errorf("entry %d at offset %d: %w", i, off, err)
		}
		if i >= b.NumEntries {
			return fmt.Errorf("more entries than the %d the table header says", b.NumEntries)
		}
		cnt := b.Entries[off+lay.countersOff : off+lay.countersOff+countersSize]
		if buf == nil && slices.ContainsFunc(cnt, func(x byte) bool { return x != 0 }) {
			buf = make([]byte, countersHeader+countersSize*b.NumEntries)
		}
		if buf != nil {
			copy(buf[countersHeader+i*countersSize:], cnt)
		}
		off = fr.next
	}
	if i != b.NumEntries {
		return fmt.Errorf("%d entries, the table header says %d", i, b.NumEntries)
	}
	if buf == nil {
		return nil // adding zeros changes nothing; skip the kernel's walk
	}
	w := &xtbin.Writer{B: buf}
	w.String(0, tableNameLen, name)
	w.U32(32, uint32(b.NumEntries))
	return c.setsockopt(soSetAddCounters, buf)
}

// revisionSupported asks the kernel whether it has an extension in a
// revision (0 success; EPROTONOSUPPORT: other revisions only; ENOENT:
// unknown extension).
func (c *conn) revisionSupported(kind table.ExtKind, name string, rev uint8) error {
	opt := c.s.revMatch
	if kind == table.TargetKind {
		opt = c.s.revTarget
	}
	w := xtbin.NewWriter(getRevisionSize)
	if err := w.String(0, extNameLen, name); err != nil {
		return err
	}
	w.U8(29, rev)
	_, err := c.getsockopt(opt, w.B)
	return err
}

// tableNames lists the tables the kernel has instantiated, newest first
// (the order iptables-legacy-save prints them). It reads /proc through
// thread-self so that a thread moved into another network namespace sees
// its own list.
func tableNames(f table.Family) ([]string, error) {
	s := socks[f]
	b, err := os.ReadFile("/proc/thread-self/net/" + s.namesFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // module not loaded: no tables
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}
