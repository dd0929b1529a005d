package kernel

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/ipset/wire"
)

// ErrNotExist is the error of List for a set the kernel does not have.
var ErrNotExist = errors.New("set does not exist")

// dump runs a SAVE dump of one set (name) or all and hands its messages
// to fn.
func (c *Conn) dump(name string, flags uint32, fn func(wire.Message) error) error {
	c.req.B = c.req.B[:0]
	seq := c.nextSeq()
	c.req.ListRequest(seq, name, flags)
	if err := c.send(c.req.B); err != nil {
		return err
	}
	return c.recv(func(m wire.Message) (bool, error) {
		if m.Seq != seq {
			return false, nil
		}
		switch {
		case m.IsDone():
			return true, doneError(m)
		case m.IsError():
			errno, _, err := m.Ack()
			if err != nil {
				return false, err
			}
			if errno != 0 {
				return true, &wire.Errno{N: -errno}
			}
			return false, nil
		}
		return false, fn(m)
	})
}

// doneError reads the error a dump ended with (the int after NLMSG_DONE's
// header).
func doneError(m wire.Message) error {
	if len(m.Body) < 4 {
		return nil
	}
	if errno := int32(ne.Uint32(m.Body)); errno < 0 {
		return &wire.Errno{N: -errno}
	}
	return nil
}

// List returns the sets the kernel has, with their members, in the order
// ipset save lists them (by index, list:set ones last; members in the
// kernel's order), or with name the one set of that name (ErrNotExist
// when there is none).
func (c *Conn) List(name string) ([]*ipset.Set, error) {
	var d wire.SetDecoder
	err := c.dump(name, 0, d.Message)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			err = ErrNotExist
		}
		return nil, &Error{Op: "list", Set: name, Err: err}
	}
	return d.Sets(), nil
}

// Headers returns the sets the kernel has without their members: their
// definitions and reference counts.
func (c *Conn) Headers() ([]*ipset.Set, error) {
	var d wire.SetDecoder
	if err := c.dump("", wire.FlagListHeader, d.Message); err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	return d.Sets(), nil
}

// Create creates set s (its definition, not its members) under name.
func (c *Conn) Create(name string, s *ipset.Set) error {
	rev, err := c.revision(s.Type, s.Family)
	if err != nil {
		return err
	}
	err = c.simple(s.Type.Kind, func(seq uint32) { c.req.CreateRequest(seq, name, s, rev) }, nil)
	if err != nil {
		return &Error{Op: "create", Set: name, Err: err}
	}
	return nil
}

// Add adds the members of s to the set called name, many to a message
// and many messages to a write. The first member refused is reported
// with where it is written; the members before it are in the set.
func (c *Conn) Add(name string, s *ipset.Set) error {
	for i := 0; i < len(s.Members); {
		c.req.B = c.req.B[:0]
		first := c.seq + 1
		for i < len(s.Members) && len(c.req.B) < batchLimit-msgLimit {
			i = c.req.AddRequest(c.nextSeq(), name, s, i, msgLimit)
		}
		last := c.seq
		acks, err := c.exchange(first, last, nil)
		if err != nil {
			return &Error{Op: "add", Set: name, Err: err}
		}
		for seq := first; seq <= last; seq++ {
			a := acks[seq]
			if a.errno == 0 {
				continue
			}
			e := &Error{Op: "add", Set: name, Err: &wire.Errno{N: a.errno, Kind: s.Type.Kind}}
			if k := int(a.lineno) - 1; k >= 0 && k < len(s.Members) {
				m := &s.Members[k]
				e.Member = string(ipset.AppendElem(nil, s, &m.Elem))
				if m.Line > 0 && s.Pos.File != "" {
					e.Where = fmt.Sprintf("%s:%d:%d", s.Pos.File, m.Line, m.Col)
				}
			}
			return e
		}
	}
	return nil
}

// Destroy destroys the set called name.
func (c *Conn) Destroy(name string) error {
	return whileListed(func() error { return c.byName("destroy", wire.CmdDestroy, name) })
}

// Flush removes every member of the set called name.
func (c *Conn) Flush(name string) error {
	return c.byName("flush", wire.CmdFlush, name)
}

func (c *Conn) byName(op string, cmd uint8, name string) error {
	err := c.simple(0, func(seq uint32) { c.req.NameRequest(seq, cmd, name) }, nil)
	if err != nil {
		return &Error{Op: op, Set: name, Err: err}
	}
	return nil
}

// Rename gives the set called from the name to. The kernel refuses to
// rename a set a rule refers to.
func (c *Conn) Rename(from, to string) error {
	err := c.simple(0, func(seq uint32) { c.req.PairRequest(seq, wire.CmdRename, from, to) }, nil)
	if err != nil {
		return &Error{Op: "rename", Set: from, Set2: to, Err: err}
	}
	return nil
}

// Swap exchanges the contents of two sets, atomically for the rules
// that use them (they refer to sets by index, and the indexes swap).
// The kernel swaps sets whose types have the same features, of the same
// family.
func (c *Conn) Swap(a, b string) error {
	return whileListed(func() error {
		err := c.simple(0, func(seq uint32) { c.req.PairRequest(seq, wire.CmdSwap, a, b) }, nil)
		if err != nil {
			return &Error{Op: "swap", Set: a, Set2: b, Err: err}
		}
		return nil
	})
}

// whileListed runs fn again while the kernel answers that a set is
// busy, for up to two seconds: the kernel refuses to swap or destroy a
// set while someone (ipset list, another fw) is dumping it, which lasts
// as long as the dump. A set a rule refers to stays busy, and fn's error
// then comes back.
func whileListed(fn func() error) error {
	deadline := time.Now().Add(2 * time.Second)
	pause := time.Millisecond
	for {
		err := fn()
		var e *wire.Errno
		busy := errors.As(err, &e) && (e.IsBusy() || e.N == int32(syscall.EBUSY))
		if !busy || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
