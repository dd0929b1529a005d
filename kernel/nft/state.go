package nft

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// The state file: what an incremental restore needs to know of the
// kernel without reading it.
//
// Reading a 100k-rule ruleset back from nf_tables costs the kernel about
// as much as writing it (a dump per chain, every expression serialised),
// which would leave a restore that sends 1% of the rules no faster than
// half a full one. So after every commit fw writes down, for the tables
// it committed, each chain (its kind, hook, policy) and each rule as its
// handle and the stable digest of the rule it wrote, together with the
// ruleset generation the commit produced. The next incremental restore
// that finds the kernel at exactly that generation knows the kernel holds
// exactly that: nothing can change an nf_tables ruleset without bumping
// the generation. It then diffs against the file instead of a dump, and
// its batch carries that generation, so a change that slips in between
// is refused by the kernel (and fw falls back to reading the kernel).
//
// The file is one per network namespace, named by the namespace's cookie
// (unique for the boot, never reused), in $FW_RUNDIR (/run/fw by
// default, which a reboot empties). A missing, unreadable, foreign or
// stale file only means the slow path; it is never trusted beyond the
// generation check.

type nftState struct {
	Family table.Family
	Gen    uint32
	Tables []*stTable
}

type stTable struct {
	Name   string
	Chains []*stChain
}

type stChain struct {
	Name     string
	Base     bool
	Hook     uint32
	Policy   uint32
	Counters bool // created with NFTA_CHAIN_COUNTERS
	Rules    []stRule
}

type stRule struct {
	Handle uint64
	Key    table.Digest
}

func (s *nftState) table(name string) *stTable {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// stateMagic starts a state file; the digest version follows it.
const stateMagic = "fw-nft-state\n"

// stateDir is where state files live.
func stateDir() string {
	if d := os.Getenv("FW_RUNDIR"); d != "" {
		return d
	}
	return "/run/fw"
}

// statePath is the state file of the namespace c's socket is in, for
// family f; "" when the kernel cannot name the namespace.
func statePath(c *conn, f table.Family) string {
	cookie, err := unix.GetsockoptUint64(c.fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return ""
	}
	return filepath.Join(stateDir(), fmt.Sprintf("nft-%s-%x.state", f, cookie))
}

// loadState reads a state file; nil when there is none usable.
func loadState(path string, f table.Family) *nftState {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s, err := decodeState(b)
	if err != nil || s.Family != f {
		return nil
	}
	return s
}

// stateGen reads just the generation a state file is at, from its head
// (magic, digest version, family, generation).
func stateGen(path string, f table.Family) (uint32, bool) {
	if path == "" {
		return 0, false
	}
	fd, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer fd.Close()
	head := make([]byte, len(stateMagic)+12)
	if _, err := io.ReadFull(fd, head); err != nil || !bytes.HasPrefix(head, []byte(stateMagic)) {
		return 0, false
	}
	r := &stateReader{b: head[len(stateMagic):]}
	if r.u32() != table.DigestVersion || table.Family(r.u32()) != f {
		return 0, false
	}
	return r.u32(), r.err == nil
}

// stateReader reads the file's fields with a sticky error.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *stateReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *stateReader) str() string { return string(r.take(int(r.u32()))) }

// count reads a length and checks it against what is left, each element
// needing at least min bytes, so that a corrupt file cannot make fw
// allocate without bound.
func (r *stateReader) count(min int) int {
	n := int(r.u32())
	if r.err == nil && n*min > len(r.b) {
		r.err = errors.New("count beyond the end of the file")
	}
	if r.err != nil {
		return 0
	}
	return n
}

func decodeState(b []byte) (*nftState, error) {
	if !bytes.HasPrefix(b, []byte(stateMagic)) {
		return nil, errors.New("not a state file")
	}
	r := &stateReader{b: b[len(stateMagic):]}
	if v := r.u32(); v != table.DigestVersion {
		return nil, fmt.Errorf("digest version %d", v)
	}
	s := &nftState{Family: table.Family(r.u32()), Gen: r.u32()}
	// Every rule in one slice and every chain in another: a kube-proxy
	// state is tens of thousands of chains.
	rules := make([]stRule, len(r.b)/24)
	nt := r.count(8)
	for range nt {
		t := &stTable{Name: r.str()}
		nc := r.count(20)
		chains := make([]stChain, nc)
		t.Chains = make([]*stChain, nc)
		for ci := range nc {
			c := &chains[ci]
			c.Name = r.str()
			flags := r.u32()
			c.Base, c.Counters = flags&1 != 0, flags&2 != 0
			c.Hook, c.Policy = r.u32(), r.u32()
			nr := r.count(24)
			if r.err != nil {
				break
			}
			c.Rules = rules[:nr:nr]
			rules = rules[nr:]
			for i := range c.Rules {
				c.Rules[i] = stRule{Handle: r.u64(), Key: table.Digest{r.u64(), r.u64()}}
			}
			t.Chains[ci] = c
		}
		s.Tables = append(s.Tables, t)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("trailing bytes")
	}
	return s, r.err
}

// encode writes s to w, chain by chain through a small buffer: the
// state of a kube-proxy table is megabytes, not worth holding whole.
func (s *nftState) encode(w *bufio.Writer) error {
	var b []byte
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	str := func(v string) { u32(uint32(len(v))); b = append(b, v...) }
	flush := func() {
		w.Write(b) // a bufio.Writer keeps its first error for Flush
		b = b[:0]
	}
	b = append(b, stateMagic...)
	u32(table.DigestVersion)
	u32(uint32(s.Family))
	u32(s.Gen)
	u32(uint32(len(s.Tables)))
	for _, t := range s.Tables {
		str(t.Name)
		u32(uint32(len(t.Chains)))
		for _, c := range t.Chains {
			str(c.Name)
			var flags uint32
			if c.Base {
				flags |= 1
			}
			if c.Counters {
				flags |= 2
			}
			u32(flags)
			u32(c.Hook)
			u32(c.Policy)
			u32(uint32(len(c.Rules)))
			for _, r := range c.Rules {
				u64(r.Handle)
				u64(r.Key[0])
				u64(r.Key[1])
				if len(b) >= 4096 {
					flush()
				}
			}
			flush()
		}
	}
	flush()
	return w.Flush()
}

// maxStateFiles bounds the state files kept: one per network namespace
// fw committed to, and namespaces come and go (containers, tests).
const maxStateFiles = 64

// saveState writes s to path atomically, and prunes the oldest state
// files beyond maxStateFiles. Failing to write only costs the next
// incremental restore its shortcut, so errors are not reported beyond
// removing what could be stale.
func saveState(path string, s *nftState) {
	if path == "" {
		return
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".nft-state-*")
	if err != nil {
		os.Remove(path)
		return
	}
	werr := s.encode(bufio.NewWriterSize(tmp, 1<<16))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
		os.Remove(path)
		return
	}
	pruneStates(dir)
}

// dropState removes a state file that no longer describes the kernel.
func dropState(path string) {
	if path != "" {
		os.Remove(path)
	}
}

func pruneStates(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type file struct {
		name string
		mod  int64
	}
	var files []file
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "nft-") || !strings.HasSuffix(e.Name(), ".state") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			files = append(files, file{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	if len(files) <= maxStateFiles {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return int(b.mod - a.mod) })
	for _, f := range files[maxStateFiles:] {
		os.Remove(filepath.Join(dir, f.name))
	}
}
