// Package kernel reads and changes the kernel's IP sets over nfnetlink
// (the codec is ipset/wire): listing them as ipset save does, creating,
// filling, swapping, renaming and destroying them, and restoring a file
// of sets as one change (Plan, Apply) beside a restore of the rules.
// Sets belong to a network namespace: a Conn works in the namespace of
// the thread that opened it.
package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/ipset/wire"
)

var ne = binary.NativeEndian

// Conn is a netlink socket to the kernel's ipset.
type Conn struct {
	fd   int
	seq  uint32
	rbuf []byte
	req  wire.Builder
	// revs caches the type revisions the kernel has, by type and family.
	revs map[revKey]typeRevs
}

type revKey struct {
	name   string
	family ipset.Family
}

type typeRevs struct{ max, min uint8 }

// Sizes of what fw sends at once: one ADD message holds members up to
// msgLimit bytes, one write up to batchLimit bytes of messages. The
// kernel handles the messages of a write one after the other before the
// write returns, and answers each with an acknowledgement.
const (
	msgLimit   = 32 << 10
	batchLimit = 1 << 20
	recvSize   = 1 << 20
)

// Open opens a connection in the calling thread's network namespace and
// checks that the kernel speaks ipset's protocol.
func Open() (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("ipset: open netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ipset: bind netlink socket: %w", err)
	}
	// A refused request comes back with its header only, not all of it
	// (the kernel still sends all of an ADD whose element failed, for
	// the line); the buffers hold a batch and its answers (FORCE needs
	// CAP_NET_ADMIN, which changing sets needs anyway); a kernel that
	// stops answering is an error after a minute, not a hang.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, batchLimit+64<<10)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	tv := unix.NsecToTimeval(int64(time.Minute))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	c := &Conn{fd: fd, rbuf: make([]byte, recvSize), revs: map[revKey]typeRevs{}}
	// The first exchange also makes the kernel size its dump buffers by
	// this socket's large reads.
	if err := c.checkProtocol(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return unix.Close(c.fd) }

func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

// Error is a request the kernel refused: the operation, the set, the
// member when one was refused, and the kernel's reason.
type Error struct {
	Op     string // "create", "add", "destroy", "flush", "rename", "swap", "list", "type"
	Set    string
	Set2   string // rename and swap: the other set
	Member string // add: the member refused, as ipset writes it
	// Where is where the member is written, when it was read from a
	// file ("file:line:col").
	Where string
	Err   error
}

func (e *Error) Error() string {
	s := "ipset: " + e.Op
	if e.Set != "" {
		s += fmt.Sprintf(" set %q", e.Set)
	}
	if e.Set2 != "" {
		s += fmt.Sprintf(" and %q", e.Set2)
	}
	if e.Member != "" {
		s += ": member " + e.Member
	}
	if e.Where != "" {
		s += " (" + e.Where + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// send writes the messages in buf to the kernel.
func (c *Conn) send(buf []byte) error {
	for {
		_, err := unix.Write(c.fd, buf)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// recv reads replies and hands each message to fn until fn says it is
// done.
func (c *Conn) recv(fn func(wire.Message) (bool, error)) error {
	for {
		n, _, err := unix.Recvfrom(c.fd, c.rbuf, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return errors.New("the kernel did not answer within a minute")
		case err == unix.ENOBUFS:
			return fmt.Errorf("the kernel's answers overflowed the socket buffer: %w", err)
		case err != nil:
			return err
		}
		done := false
		err = wire.SplitMessages(c.rbuf[:n], func(m wire.Message) error {
			if done {
				return nil
			}
			var err error
			done, err = fn(m)
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// ack is the kernel's answer to one request.
type ack struct {
	errno  int32
	lineno uint32
}

// exchange sends the requests in c.req (seqs first to last) and waits
// for the acknowledgement of each; data is called with the other
// messages of those requests. It returns the answers by seq.
func (c *Conn) exchange(first, last uint32, data func(wire.Message) error) (map[uint32]ack, error) {
	if err := c.send(c.req.B); err != nil {
		return nil, err
	}
	acks := make(map[uint32]ack, last-first+1)
	err := c.recv(func(m wire.Message) (bool, error) {
		if m.Seq < first || m.Seq > last {
			return false, nil // a late answer to an earlier request
		}
		if !m.IsError() {
			if data != nil {
				return false, data(m)
			}
			return false, nil
		}
		errno, line, err := m.Ack()
		if err != nil {
			return false, err
		}
		acks[m.Seq] = ack{errno: -errno, lineno: line}
		return len(acks) == int(last-first+1), nil
	})
	return acks, err
}

// simple runs one request built by build and returns its refusal.
func (c *Conn) simple(kind ipset.Kind, build func(seq uint32), data func(wire.Message) error) error {
	c.req.B = c.req.B[:0]
	seq := c.nextSeq()
	build(seq)
	acks, err := c.exchange(seq, seq, data)
	if err != nil {
		return err
	}
	if a := acks[seq]; a.errno != 0 {
		return &wire.Errno{N: a.errno, Kind: kind}
	}
	return nil
}

func (c *Conn) checkProtocol() error {
	var proto, protoMin uint8
	err := c.simple(0, c.req.ProtocolRequest, func(m wire.Message) error {
		if m.Cmd() != wire.CmdProtocol {
			return nil
		}
		var err error
		proto, protoMin, err = m.Protocols()
		return err
	})
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("ipset is not available in this kernel (module ip_set not loaded): %w", err)
		}
		return fmt.Errorf("ipset: ask the kernel for its protocol: %w", err)
	}
	if proto < wire.ProtocolMin || protoMin > wire.Protocol {
		return fmt.Errorf("ipset: the kernel speaks protocol %d to %d, fw speaks %d", protoMin, proto, wire.Protocol)
	}
	return nil
}

// revision returns the revision of t to create a set of family f with:
// the newest that both the kernel and fw know.
func (c *Conn) revision(t *ipset.Type, f ipset.Family) (uint8, error) {
	k := revKey{t.Name, f}
	r, ok := c.revs[k]
	if !ok {
		var got bool
		err := c.simple(t.Kind, func(seq uint32) { c.req.TypeRequest(seq, t.Name, f) }, func(m wire.Message) error {
			if m.Cmd() != wire.CmdType {
				return nil
			}
			var err error
			r.max, r.min, err = m.Revisions()
			got = err == nil
			return err
		})
		if err != nil {
			return 0, &Error{Op: "type", Set: t.Name, Err: err}
		}
		if !got {
			return 0, &Error{Op: "type", Set: t.Name, Err: errors.New("no answer")}
		}
		c.revs[k] = r
	}
	rev := min(r.max, t.Revision)
	if rev < r.min {
		return 0, &Error{Op: "type", Set: t.Name, Err: fmt.Errorf("the kernel has revisions %d to %d, fw knows up to %d", r.min, r.max, t.Revision)}
	}
	return rev, nil
}
