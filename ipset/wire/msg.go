package wire

import (
	"fmt"
)

// Message is one netlink message of a reply: its header and its body
// (what follows struct nlmsghdr), aliasing the receive buffer.
type Message struct {
	Type  uint16 // nlmsg_type
	Flags uint16 // nlmsg_flags
	Seq   uint32 // nlmsg_seq
	Body  []byte
}

// SplitMessages calls fn with each message in b, a buffer the kernel
// filled, in order; it stops at the first error of fn.
func SplitMessages(b []byte, fn func(Message) error) error {
	for len(b) > 0 {
		if len(b) < SizeofNlMsghdr {
			return fmt.Errorf("netlink message of %d bytes, shorter than its header", len(b))
		}
		l := int(ne.Uint32(b))
		if l < SizeofNlMsghdr || l > len(b) {
			return fmt.Errorf("netlink message length %d does not fit the %d bytes received", l, len(b))
		}
		m := Message{Type: ne.Uint16(b[4:]), Flags: ne.Uint16(b[6:]), Seq: ne.Uint32(b[8:]), Body: b[SizeofNlMsghdr:l]}
		if err := fn(m); err != nil {
			return err
		}
		b = b[min(len(b), (l+3)&^3):]
	}
	return nil
}

// IsDone reports whether m ends a dump (NLMSG_DONE).
func (m Message) IsDone() bool { return m.Type == nlmsgDone }

// IsError reports whether m is an acknowledgement or an error
// (NLMSG_ERROR).
func (m Message) IsError() bool { return m.Type == nlmsgError }

// Cmd is the ipset command of m, or -1 when m is of another subsystem.
func (m Message) Cmd() int {
	if m.Type>>8 != SubsysIPSet {
		return -1
	}
	return int(m.Type & 0xff)
}

// attrs are m's attributes, after struct nfgenmsg.
func (m Message) attrs() (attrs, error) {
	if len(m.Body) < SizeofNfgenmsg {
		return attrs{}, fmt.Errorf("ipset message of %d bytes, shorter than struct nfgenmsg", len(m.Body))
	}
	return newAttrs(m.Body[SizeofNfgenmsg:]), nil
}

// Ack reads an NLMSG_ERROR: the error (0 for an acknowledgement, else a
// negative errno or IPSET_ERR_*) and, when the kernel failed an element
// of a request with several (AttrADT), the AttrLineNo it wrote into the
// echoed request: the AttrCADTLineNo of the element that failed.
func (m Message) Ack() (errno int32, lineno uint32, err error) {
	if len(m.Body) < 4 {
		return 0, 0, fmt.Errorf("netlink error message of %d bytes", len(m.Body))
	}
	errno = int32(ne.Uint32(m.Body))
	echo := m.Body[4:]
	if errno == 0 || len(echo) < headerLen {
		return errno, 0, nil
	}
	l := int(ne.Uint32(echo))
	if l < headerLen || l > len(echo) {
		// The kernel echoes the request's header only (NETLINK_CAP_ACK,
		// or extended acks after it): no line to read.
		return errno, 0, nil
	}
	a := newAttrs(echo[headerLen:l])
	for a.next() {
		if a.typ == AttrLineNo {
			lineno = a.u32()
		}
	}
	return errno, lineno, nil
}

// Protocols reads the reply to a ProtocolRequest: the kernel's protocol
// version and the oldest it still takes.
func (m Message) Protocols() (proto, protoMin uint8, err error) {
	a, err := m.attrs()
	if err != nil {
		return 0, 0, err
	}
	for a.next() {
		switch a.typ {
		case AttrProtocol:
			proto = a.u8()
		case AttrProtocolMin:
			protoMin = a.u8()
		}
	}
	if protoMin == 0 {
		protoMin = proto
	}
	return proto, protoMin, a.err
}

// Revisions reads the reply to a TypeRequest: the newest and the oldest
// revision of the type the kernel has.
func (m Message) Revisions() (rev, revMin uint8, err error) {
	a, err := m.attrs()
	if err != nil {
		return 0, 0, err
	}
	found := false
	for a.next() {
		switch a.typ {
		case AttrRevision:
			rev, found = a.u8(), true
		case AttrProtocolMin:
			revMin = a.u8()
		}
	}
	if a.err == nil && !found {
		return 0, 0, fmt.Errorf("type reply without a revision")
	}
	return rev, revMin, a.err
}

// SetName reads the set name of a message of a dump.
func (m Message) SetName() (string, error) {
	a, err := m.attrs()
	if err != nil {
		return "", err
	}
	for a.next() {
		if a.typ == AttrSetName {
			return a.str(MaxNameLen), a.err
		}
	}
	if a.err != nil {
		return "", a.err
	}
	return "", fmt.Errorf("ipset message without a set name")
}
