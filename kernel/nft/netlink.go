package nft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Netlink plumbing: one socket per operation; messages and attributes
// are mdlayher/netlink's, the batch (BEGIN ... END) goes out in one
// datagram. Sending and receiving are plain syscalls on the socket, on
// the calling thread: a backend call runs on a thread locked into a
// network namespace, where every park in Go's poller costs a thread
// handoff (reading 35000 chains one request each took 15 s that way, 3 s
// this way), and netlink.Conn.Receive would also stop at the first error, where the
// batch needs every error with its sequence number.

const (
	// nftRuleCompatInv is NFT_RULE_COMPAT_F_INV: the -p of the rule is
	// negated (the kernel hands it to compat extensions' protocol checks).
	nftRuleCompatInv = 2
	// attrChainFlags is NFTA_CHAIN_FLAGS, newer than x/sys's list.
	attrChainFlags = 10
	// Chain policies (NF_DROP, NF_ACCEPT).
	nfDrop   = 0
	nfAccept = 1
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
	nl  *netlink.Conn
	seq uint32
	buf []byte // receive buffer, reused
}

func dial() (*conn, error) {
	nl, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, unwrapErrno(err)
	}
	// Errors carry only the header of the refused message, not all of
	// it, so that a refused batch of big rules does not flood the
	// receive buffer.
	_ = nl.SetOption(netlink.CapAcknowledge, true)
	_ = nl.SetOption(netlink.ExtendedAcknowledge, true)
	return &conn{nl: nl}, nil
}

func (c *conn) close() { c.nl.Close() }

func (c *conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

// nfgenmsg is the 4-byte header of every nfnetlink message: family,
// version 0, resource id (big-endian).
func nfgenmsg(family uint8, resID uint16) []byte {
	return []byte{family, unix.NFNETLINK_V0, byte(resID >> 8), byte(resID)}
}

func nftType(msg uint16) netlink.HeaderType {
	return netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | msg)
}

// newEncoder returns an attribute encoder for nf_tables, whose integers
// are big-endian.
func newEncoder() *netlink.AttributeEncoder {
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	return ae
}

type (
	netlinkDecoder = netlink.AttributeDecoder
	netlinkEncoder = netlink.AttributeEncoder
)

func newDecoder(b []byte) (*netlink.AttributeDecoder, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, err
	}
	ad.ByteOrder = binary.BigEndian
	return ad, nil
}

// dump runs a GET request with NLM_F_DUMP for family fam and returns the
// attribute part of every reply.
func (c *conn) dump(msg uint16, fam uint8, attrs []byte) ([][]byte, error) {
	seq := c.nextSeq()
	req := netlink.Message{
		Header: netlink.Header{Type: nftType(msg), Flags: netlink.Request | netlink.Dump, Sequence: seq},
		Data:   append(nfgenmsg(fam, 0), attrs...),
	}
	if err := c.send(req); err != nil {
		return nil, err
	}
	var out [][]byte
	var ferr error
	err := c.recv(true, func(m netlink.Message) bool {
		if m.Header.Sequence != seq {
			return false
		}
		switch m.Header.Type {
		case netlink.Done:
			return true
		case netlink.Error:
			if errno := ackErrno(m); errno != 0 {
				ferr = errno
			}
			return true
		}
		if len(m.Data) < 4 {
			ferr = fmt.Errorf("short nf_tables message of %d bytes", len(m.Data))
			return true
		}
		// m.Data points into the receive buffer, which the next read
		// overwrites.
		out = append(out, bytes.Clone(m.Data[4:]))
		return false
	})
	if err == nil {
		err = ferr
	}
	if errors.Is(err, unix.EINTR) {
		// The dump was interrupted by a change; the caller's generation
		// check starts again.
		return out, nil
	}
	return out, err
}

// ackErrno is the errno of an NLMSG_ERROR message, 0 for an ack.
func ackErrno(m netlink.Message) syscall.Errno {
	if len(m.Data) < 4 {
		return syscall.EPROTO
	}
	return syscall.Errno(-int32(binary.NativeEndian.Uint32(m.Data[:4])))
}

// genID asks the kernel for the ruleset generation: every committed
// batch increments it.
func (c *conn) genID() (uint32, error) {
	seq := c.nextSeq()
	req := netlink.Message{
		Header: netlink.Header{Type: nftType(unix.NFT_MSG_GETGEN), Flags: netlink.Request, Sequence: seq},
		Data:   nfgenmsg(unix.AF_UNSPEC, 0),
	}
	if err := c.send(req); err != nil {
		return 0, err
	}
	var gen uint32
	var found bool
	var errno syscall.Errno
	err := c.recv(true, func(m netlink.Message) bool {
		if m.Header.Sequence != seq {
			return false
		}
		switch {
		case m.Header.Type == netlink.Error:
			errno = ackErrno(m)
			return true
		case m.Header.Type == nftType(unix.NFT_MSG_NEWGEN) && len(m.Data) >= 4:
			ad, err := newDecoder(m.Data[4:])
			if err != nil {
				return true
			}
			for ad.Next() {
				if ad.Type() == unix.NFTA_GEN_ID {
					gen, found = ad.Uint32(), true
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

// send writes messages to the kernel in one datagram.
func (c *conn) send(msgs ...netlink.Message) error {
	size := 0
	for _, m := range msgs {
		size += unix.NLMSG_HDRLEN + (len(m.Data)+3)&^3
	}
	buf := make([]byte, 0, size)
	for _, m := range msgs {
		m.Header.Length = uint32(unix.NLMSG_HDRLEN + (len(m.Data)+3)&^3)
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		buf = append(buf, b...)
	}
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.Sendto(int(fd), buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	}); err != nil {
		return err
	}
	return serr
}

// batchMsg is one object message of a batch: its type, flags, family
// and attributes. Seq is filled in when the batch is sent.
type batchMsg struct {
	Type  uint16 // NFT_MSG_*
	Flags netlink.HeaderFlags
	Attrs []byte
	Seq   uint32
}

// batchResult is what the kernel said about a batch: an errno per
// refused message (by index into the batch), and an error about the
// batch as a whole (a stale generation, a failed commit).
type batchResult struct {
	MsgErr map[int]syscall.Errno
	// MsgText is the kernel's extended-ack message for a refused
	// message, when it sent one.
	MsgText  map[int]string
	BatchErr syscall.Errno
	Acked    int
}

// sendBatch sends msgs between BATCH_BEGIN (carrying genid) and
// BATCH_END in one datagram and collects the replies. With commit false
// no BATCH_END is sent: the kernel checks every message and then aborts,
// changing nothing. Every message asks for an acknowledgement, so that a
// result is known for each; the kernel processes the whole batch inside
// sendmsg, so all replies are queued when it returns.
func (c *conn) sendBatch(fam uint8, genid uint32, msgs []batchMsg, commit bool) (*batchResult, error) {
	resID := uint16(unix.NFNL_SUBSYS_NFTABLES)
	begin := newEncoder()
	begin.Uint32(unix.NFNL_BATCH_GENID, genid)
	beginAttrs, err := begin.Encode()
	if err != nil {
		return nil, err
	}
	beginSeq := c.nextSeq()
	out := []netlink.Message{{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), Flags: netlink.Request, Sequence: beginSeq},
		Data:   append(nfgenmsg(unix.AF_UNSPEC, resID), beginAttrs...),
	}}
	bySeq := map[uint32]int{}
	for i := range msgs {
		m := &msgs[i]
		m.Seq = c.nextSeq()
		bySeq[m.Seq] = i
		out = append(out, netlink.Message{
			Header: netlink.Header{Type: nftType(m.Type), Flags: netlink.Request | netlink.Acknowledge | m.Flags, Sequence: m.Seq},
			Data:   append(nfgenmsg(fam, 0), m.Attrs...),
		})
	}
	if commit {
		out = append(out, netlink.Message{
			Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_END), Flags: netlink.Request, Sequence: c.nextSeq()},
			Data:   nfgenmsg(unix.AF_UNSPEC, resID),
		})
	}
	size := 0
	for i := range out {
		size += unix.NLMSG_HDRLEN + (len(out[i].Data)+3)&^3
	}
	if err := c.setBuffers(size, len(msgs)); err != nil {
		return nil, err
	}
	if err := c.send(out...); err != nil {
		return nil, err
	}
	res := &batchResult{MsgErr: map[int]syscall.Errno{}, MsgText: map[int]string{}}
	err = c.drain(func(m netlink.Message) {
		if m.Header.Type != netlink.Error || len(m.Data) < 4 {
			return
		}
		errno := ackErrno(m)
		if m.Header.Sequence == beginSeq {
			res.BatchErr = errno
			return
		}
		i, ok := bySeq[m.Header.Sequence]
		if !ok {
			return
		}
		res.Acked++
		if errno != 0 {
			res.MsgErr[i] = errno
			if txt := extAckText(m.Data); txt != "" {
				res.MsgText[i] = txt
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if res.BatchErr == 0 && res.Acked < len(msgs) {
		return res, fmt.Errorf("the kernel acknowledged %d of %d messages; the outcome is unknown", res.Acked, len(msgs))
	}
	return res, nil
}

// setBuffers makes the socket buffers big enough for a batch of size
// bytes and for one reply per message. SO_*BUFFORCE needs CAP_NET_ADMIN,
// which a write needs anyway; without it the defaults are kept and a too
// big batch fails with EMSGSIZE.
func (c *conn) setBuffers(size, nmsgs int) error {
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return err
	}
	snd := size + 64<<10
	rcv := nmsgs*2048 + 256<<10
	return rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, snd)
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcv)
	})
}

// drain reads every queued reply without waiting and hands each message
// to fn.
func (c *conn) drain(fn func(netlink.Message)) error {
	return c.recv(false, func(m netlink.Message) bool { fn(m); return false })
}

// recv reads replies and hands each message to fn until fn returns
// true. With wait false it stops when nothing is queued; with wait true
// it waits (up to a minute without any reply).
//
// The buffer is 64 KiB on purpose: the kernel sizes the buffers of later
// dumps by the largest read the socket has made (up to 32 KiB), and a
// rule that does not fit in a dump buffer is left out of the dump
// without any error. iptables-nft reads with 32 KiB for the same reason.
func (c *conn) recv(wait bool, fn func(netlink.Message) bool) error {
	rc, err := c.nl.SyscallConn()
	if err != nil {
		return err
	}
	if c.buf == nil {
		c.buf = make([]byte, 1<<16)
	}
	buf := c.buf
	for {
		var n int
		var rerr error
		cerr := rc.Control(func(fd uintptr) {
			for {
				n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
				if !wait || !(errors.Is(rerr, unix.EAGAIN) || errors.Is(rerr, unix.EWOULDBLOCK)) {
					return
				}
				pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				k, perr := unix.Poll(pfd, 60000)
				if errors.Is(perr, unix.EINTR) {
					continue
				}
				if perr != nil {
					rerr = perr
					return
				}
				if k == 0 {
					rerr = errors.New("the kernel did not answer within a minute")
					return
				}
			}
		})
		if cerr != nil {
			return cerr
		}
		if errors.Is(rerr, unix.EAGAIN) || errors.Is(rerr, unix.EWOULDBLOCK) {
			return nil
		}
		if errors.Is(rerr, unix.EINTR) {
			continue
		}
		if rerr != nil {
			if errors.Is(rerr, unix.ENOBUFS) {
				return errors.New("the kernel's replies overflowed the socket buffer; the outcome is unknown")
			}
			return rerr
		}
		b := buf[:n]
		for len(b) >= unix.NLMSG_HDRLEN {
			l := int(binary.NativeEndian.Uint32(b[:4]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			var m netlink.Message
			if err := m.UnmarshalBinary(b[:l]); err == nil && fn(m) {
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
	ad, err := netlink.NewAttributeDecoder(data[off:])
	if err != nil {
		return ""
	}
	for ad.Next() {
		if ad.Type() == unix.NLMSGERR_ATTR_MSG {
			return ad.String()
		}
	}
	return ""
}

// unwrapErrno digs the errno out of mdlayher's OpError so that callers
// (and kernel.Explain) see a syscall.Errno.
func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
