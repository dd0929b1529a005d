package nft

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Netlink plumbing: one socket per operation, plain syscalls on a raw
// file descriptor, on the calling thread. A backend call runs on a thread
// locked into a network namespace, where every park in Go's poller costs
// a thread handoff (reading 35000 chains one request each took 15 s that
// way, 3 s this way); the batch needs every error with its sequence
// number, where a generic netlink client stops at the first.

const (
	// nftRuleCompatInv is NFT_RULE_COMPAT_F_INV: the -p of the rule is
	// negated (the kernel hands it to compat extensions' protocol checks).
	nftRuleCompatInv = 2
	// attrChainFlags is NFTA_CHAIN_FLAGS, newer than x/sys's list.
	attrChainFlags = 10
	// Chain policies (NF_DROP, NF_ACCEPT).
	nfDrop   = 0
	nfAccept = 1

	nlmRequest = unix.NLM_F_REQUEST
	nlmDump    = unix.NLM_F_DUMP
	nlmCreate  = unix.NLM_F_CREATE
	nlmExcl    = unix.NLM_F_EXCL
	nlmAppend  = unix.NLM_F_APPEND
	nlmReplace = unix.NLM_F_REPLACE
	nlmNonRec  = 0x100 // NLM_F_NONREC
	nlmEcho    = unix.NLM_F_ECHO
)

// nfproto is the nf_tables family of an iptables family.
func nfproto(f table.Family) uint8 {
	if f == table.IPv6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// conn is a NETLINK_NETFILTER socket in the calling thread's network
// namespace.
type conn struct {
	fd  int
	seq uint32
	buf []byte // receive buffer, reused
	req nlbuf  // request buffer, reused
}

func dial() (*conn, error) {
	// Non-blocking: recv polls when it has to wait, and reads with
	// read(2), which unlike recvfrom(2) makes Go allocate no source
	// address for each of the 100,000 replies of a big save.
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// Errors carry only the header of the refused message, not all of
	// it, so that a refused batch of big rules does not flood the
	// receive buffer; and the kernel's reason in words when it has one.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	c := &conn{fd: fd}
	// The kernel sizes a dump's reply buffers by the biggest read the
	// socket has seen, and a fresh socket has seen none: its first dump
	// is answered in buffers of one page, and a rule that does not fit
	// in one (two u32 matches do not) ends that dump as if the chain had
	// no more rules, silently. One small exchange first makes every
	// reply buffer as big as the kernel allows (32 KiB).
	if _, err := c.genID(); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *conn) close() { unix.Close(c.fd) }

func (c *conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

// nlmsg is one received netlink message; data (after the netlink
// header) aliases the receive buffer.
type nlmsg struct {
	typ, flags uint16
	seq        uint32
	data       []byte
}

func nftType(msg uint16) uint16 { return unix.NFNL_SUBSYS_NFTABLES<<8 | msg }

// request sends one message: type, flags, family and attributes. A
// message written to the unconnected socket goes to the kernel.
func (c *conn) request(typ, flags uint16, fam uint8, attrs []byte) (uint32, error) {
	seq := c.nextSeq()
	w := &c.req
	w.b = w.b[:0]
	o := w.msgBegin(typ, flags, seq, fam, 0)
	w.b = append(w.b, attrs...)
	w.msgEnd(o)
	_, err := unix.Write(c.fd, w.b)
	return seq, err
}

// dump runs a GET request with NLM_F_DUMP for family fam and hands the
// attribute part of every reply to fn. The bytes fn gets alias the
// receive buffer: fn copies what it keeps.
func (c *conn) dump(msg uint16, fam uint8, filter []byte, fn func(attrs []byte) error) error {
	seq, err := c.request(nftType(msg), nlmRequest|nlmDump, fam, filter)
	if err != nil {
		return err
	}
	var ferr error
	intr := false
	err = c.recv(true, func(m nlmsg) bool {
		if m.seq != seq {
			return false
		}
		intr = intr || m.flags&unix.NLM_F_DUMP_INTR != 0
		switch m.typ {
		case unix.NLMSG_DONE:
			return true
		case unix.NLMSG_ERROR:
			if errno := ackErrno(m.data); errno != 0 {
				ferr = errno
			}
			return true
		}
		if len(m.data) < 4 {
			ferr = fmt.Errorf("short nf_tables message of %d bytes", len(m.data))
			return true
		}
		if err := fn(m.data[4:]); err != nil {
			ferr = err
			return true
		}
		return false
	})
	if err == nil {
		err = ferr
	}
	if errors.Is(err, unix.EINTR) || err == nil && intr {
		return errDumpIntr
	}
	return err
}

// ackErrno is the errno of an NLMSG_ERROR message's data, 0 for an ack.
func ackErrno(data []byte) syscall.Errno {
	if len(data) < 4 {
		return syscall.EPROTO
	}
	return syscall.Errno(-int32(ne.Uint32(data[:4])))
}

// ruleExists asks whether chain chain of table tbl has a rule with the
// given handle (a GETRULE for one rule, not a dump).
func (c *conn) ruleExists(fam uint8, tbl, chain string, handle uint64) (bool, error) {
	var w nlbuf
	w.str(unix.NFTA_RULE_TABLE, tbl)
	w.str(unix.NFTA_RULE_CHAIN, chain)
	w.u64(unix.NFTA_RULE_HANDLE, handle)
	seq, err := c.request(nftType(unix.NFT_MSG_GETRULE), nlmRequest, fam, w.b)
	if err != nil {
		return false, err
	}
	found := false
	var errno syscall.Errno
	err = c.recv(true, func(m nlmsg) bool {
		if m.seq != seq {
			return false
		}
		switch m.typ {
		case unix.NLMSG_ERROR:
			errno = ackErrno(m.data)
		case nftType(unix.NFT_MSG_NEWRULE):
			found = true
		}
		return true
	})
	switch {
	case err != nil:
		return false, err
	case errno == syscall.ENOENT:
		return false, nil
	case errno != 0:
		return false, errno
	}
	return found, nil
}

// genID asks the kernel for the ruleset generation: every committed
// batch increments it.
func (c *conn) genID() (uint32, error) {
	seq, err := c.request(nftType(unix.NFT_MSG_GETGEN), nlmRequest, unix.AF_UNSPEC, nil)
	if err != nil {
		return 0, err
	}
	var gen uint32
	var found bool
	var errno syscall.Errno
	err = c.recv(true, func(m nlmsg) bool {
		if m.seq != seq {
			return false
		}
		switch {
		case m.typ == unix.NLMSG_ERROR:
			errno = ackErrno(m.data)
			return true
		case m.typ == nftType(unix.NFT_MSG_NEWGEN) && len(m.data) >= 4:
			a := newAttrs(m.data[4:])
			for a.next() {
				if a.typ == unix.NFTA_GEN_ID {
					gen, found = a.u32(), true
				}
			}
			return true
		}
		return false
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case !found:
		return 0, errors.New("the kernel sent no generation id")
	}
	return gen, nil
}

// batch is a transaction being built: BATCH_BEGIN (carrying the
// generation id), the object messages, and BATCH_END, as a list of
// buffers that one sendmsg hands to the kernel (which needs the whole
// batch in one message). The messages ask for no acknowledgement, as
// iptables-nft's do: the kernel answers only refused messages, so a
// 100k-message batch does not make 100k replies. refAt(i) says what the
// message with sequence number first+i is about.
type batch struct {
	bufs     [][]byte
	size     int
	cur      nlbuf // messages written here, then moved to bufs
	fam      uint8
	beginSeq uint32
	first    uint32
	count    int      // object messages
	segs     []refSeg // what they are about, in order
}

// refSeg says what a run of a batch's messages is about: messages
// written one by one (refs), or n messages about table t that are worked
// out from the table only when one is refused, so that a 100k-rule batch
// keeps no record per rule or chain: the NEWRULE messages of its rules in
// order (a ruleStream's), or with chains >= 0 the NEWCHAIN messages of
// t.Chains[chains:].
type refSeg struct {
	first  int // index of its first message
	refs   []msgRef
	t      *table.Table
	n      int
	chains int
}

const resIDNftables = unix.NFNL_SUBSYS_NFTABLES

func (c *conn) newBatch(fam uint8, genid uint32) *batch {
	b := &batch{fam: fam}
	b.cur.b = make([]byte, 0, 64<<10)
	b.beginSeq = c.nextSeq()
	o := b.cur.msgBegin(unix.NFNL_MSG_BATCH_BEGIN, nlmRequest, b.beginSeq, unix.AF_UNSPEC, resIDNftables)
	b.cur.u32(unix.NFNL_BATCH_GENID, genid)
	b.cur.msgEnd(o)
	return b
}

// msg starts an object message in b.cur; the caller writes its
// attributes there and calls b.cur.msgEnd.
func (b *batch) msg(c *conn, typ, flags uint16, ref msgRef) int {
	b.ref(c.nextSeq(), ref)
	return b.begin(c, typ, flags)
}

// begin starts the message with the sequence number c.seq in b.cur,
// which is a fresh chunk when the current one is nearly full: the 30,000
// chains of a kube-proxy table are a few MiB of messages, written
// without growing (and copying) one buffer.
func (b *batch) begin(c *conn, typ, flags uint16) int {
	if cap(b.cur.b)-len(b.cur.b) < 16<<10 {
		b.flush()
		b.cur.b = make([]byte, 0, chunkSize)
	}
	return b.cur.msgBegin(nftType(typ), nlmRequest|flags, c.seq, b.fam, 0)
}

// counted starts in b.cur a message whose msgRef the batch works out
// when needed (see refSeg).
func (b *batch) counted(c *conn, typ, flags uint16) int {
	b.number(c.nextSeq())
	return b.begin(c, typ, flags)
}

// ref records what the message with sequence number seq is about.
func (b *batch) ref(seq uint32, r msgRef) {
	if n := len(b.segs); n == 0 || b.segs[n-1].t != nil {
		b.segs = append(b.segs, refSeg{first: b.count})
	}
	s := &b.segs[len(b.segs)-1]
	s.refs = append(s.refs, r)
	b.number(seq)
}

// number counts an object message with sequence number seq.
func (b *batch) number(seq uint32) {
	if b.count == 0 {
		b.first = seq
	}
	b.count++
}

// refAt says what the batch's i-th message is about.
func (b *batch) refAt(i int) msgRef {
	k, found := slices.BinarySearchFunc(b.segs, i, func(s refSeg, i int) int { return s.first - i })
	if !found {
		k--
	}
	s := &b.segs[k]
	switch {
	case s.t == nil:
		return s.refs[i-s.first]
	case s.chains >= 0:
		return msgRef{table: s.t.Name, chain: s.t.Chains[s.chains+i-s.first].Name}
	}
	return streamRef(s.t, i-s.first)
}

// refs lists what every message is about (for tests).
func (b *batch) refs() []msgRef {
	out := make([]msgRef, b.count)
	for i := range out {
		out[i] = b.refAt(i)
	}
	return out
}

// flush moves b.cur to the buffer list.
func (b *batch) flush() {
	if len(b.cur.b) > 0 {
		b.bufs = append(b.bufs, b.cur.b)
		b.size += len(b.cur.b)
	}
	b.cur.b = nil
}

// appendStream adds messages encoded ahead of time, numbering them.
func (b *batch) appendStream(c *conn, s *ruleStream) {
	b.flush()
	if s.n == 0 {
		return
	}
	b.segs = append(b.segs, refSeg{first: b.count, t: s.t, n: s.n, chains: -1})
	for _, buf := range s.buffers() {
		for off := 0; off+unix.NLMSG_HDRLEN <= len(buf); {
			l := int(ne.Uint32(buf[off:]))
			seq := c.nextSeq()
			b.number(seq)
			ne.PutUint32(buf[off+8:], seq)
			off += (l + 3) &^ 3
		}
		b.bufs = append(b.bufs, buf)
		b.size += len(buf)
	}
}

// batchResult is what the kernel said about a batch: the refused
// messages (by index into the batch, in order), and an error about the
// batch as a whole (a stale generation, a failed commit).
type batchResult struct {
	Refused  []refusedMsg
	BatchErr syscall.Errno
	// Lost is set when replies overflowed the receive buffer: more
	// messages were refused than Refused lists, or echoes are missing.
	Lost bool
	// Echo holds, by sequence number, the handle of every rule the
	// kernel created for a NEWRULE message sent with NLM_F_ECHO.
	Echo map[uint32]uint64
}

type refusedMsg struct {
	Index int
	Errno syscall.Errno
	// Text is the kernel's extended-ack message, when it sent one.
	Text string
}

// send ends the batch (BATCH_END when commit; without it the kernel
// checks every message and then aborts, changing nothing) and sends it in
// one sendmsg, which the kernel processes entirely before it returns: all
// replies are queued by then.
func (c *conn) send(b *batch, commit bool) (*batchResult, error) {
	if commit {
		if b.cur.b == nil {
			b.cur.b = make([]byte, 0, 64)
		}
		o := b.cur.msgBegin(unix.NFNL_MSG_BATCH_END, nlmRequest, c.nextSeq(), unix.AF_UNSPEC, resIDNftables)
		b.cur.msgEnd(o)
	}
	b.flush()
	c.setBuffers(b.size)
	bufs := b.bufs
	if len(bufs) > 1024 {
		// More buffers than one sendmsg takes (IOV_MAX): join them.
		bufs = [][]byte{bytes.Join(bufs, nil)}
	}
	n, err := unix.SendmsgBuffers(c.fd, bufs, nil, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}, 0)
	if err != nil {
		return nil, err
	}
	if n != b.size {
		return nil, fmt.Errorf("the kernel took %d of %d bytes of the batch", n, b.size)
	}
	res := &batchResult{}
	err = c.recv(false, func(m nlmsg) bool {
		if m.typ == nftType(unix.NFT_MSG_NEWRULE) && len(m.data) >= 4 {
			a := newAttrs(m.data[4:])
			for a.next() {
				if a.typ == unix.NFTA_RULE_HANDLE {
					if res.Echo == nil {
						res.Echo = map[uint32]uint64{}
					}
					res.Echo[m.seq] = a.u64()
				}
			}
			return false
		}
		if m.typ != unix.NLMSG_ERROR || len(m.data) < 4 {
			return false
		}
		errno := ackErrno(m.data)
		if m.seq == b.beginSeq {
			res.BatchErr = errno
			return false
		}
		i := int(m.seq - b.first)
		if errno == 0 || i < 0 || i >= b.count {
			return false
		}
		res.Refused = append(res.Refused, refusedMsg{Index: i, Errno: errno, Text: extAckText(m.data)})
		return false
	})
	if errors.Is(err, unix.ENOBUFS) {
		// Only refusals make replies, and any refusal aborts the
		// batch: the outcome is known even if some were lost.
		res.Lost = true
		if len(res.Refused) == 0 && res.BatchErr == 0 {
			return nil, errors.New("the kernel's replies overflowed the socket buffer; the outcome is unknown")
		}
		err = nil
	}
	return res, err
}

// setBuffers makes the send buffer big enough for a batch of size bytes
// (the kernel refuses a message bigger than it) and the receive buffer
// big enough for many refusals. SO_*BUFFORCE needs CAP_NET_ADMIN, which a
// write needs anyway; without it the defaults are kept and a too big
// batch fails with EMSGSIZE.
func (c *conn) setBuffers(size int) {
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size+64<<10)
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
}

// recv reads replies and hands each message to fn until fn returns
// true. With wait false it stops when nothing is queued; with wait true
// it waits (up to a minute without any reply).
//
// The buffer is 64 KiB on purpose: the kernel sizes the buffers of later
// dumps by the largest read the socket has made (up to 32 KiB), and a
// rule that does not fit in a dump buffer is left out of the dump
// without any error. iptables-nft reads with 32 KiB for the same reason.
func (c *conn) recv(wait bool, fn func(nlmsg) bool) error {
	if c.buf == nil {
		c.buf = make([]byte, 1<<16)
	}
	buf := c.buf
	for {
		n, rerr := unix.Read(c.fd, buf)
		if rerr == unix.EAGAIN || rerr == unix.EWOULDBLOCK {
			if !wait {
				return nil
			}
			pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
			k, perr := unix.Poll(pfd, 60000)
			switch {
			case perr == unix.EINTR:
			case perr != nil:
				return perr
			case k == 0:
				return errors.New("the kernel did not answer within a minute")
			}
			continue
		}
		if rerr == unix.EINTR {
			continue
		}
		if rerr != nil {
			if rerr == unix.ENOBUFS {
				return fmt.Errorf("the kernel's replies overflowed the socket buffer: %w", unix.ENOBUFS)
			}
			return rerr
		}
		b := buf[:n]
		for len(b) >= unix.NLMSG_HDRLEN {
			l := int(ne.Uint32(b[:4]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			m := nlmsg{typ: ne.Uint16(b[4:]), flags: ne.Uint16(b[6:]), seq: ne.Uint32(b[8:]), data: b[unix.NLMSG_HDRLEN:l]}
			if fn(m) {
				return nil
			}
			b = b[min(len(b), (l+3)&^3):]
		}
	}
}

// extAckText pulls NLMSGERR_ATTR_MSG out of an error message that
// carries extended-ack attributes (after the capped original header).
func extAckText(data []byte) string {
	// errno (4) + the original nlmsghdr (16), capped.
	const off = 4 + unix.NLMSG_HDRLEN
	if len(data) <= off {
		return ""
	}
	a := newAttrs(data[off:])
	for a.next() {
		if a.typ == unix.NLMSGERR_ATTR_MSG {
			return a.str()
		}
	}
	return ""
}
