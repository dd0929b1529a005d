package ext

// The set match stores a set index in the kernel, and the index only
// exists in a running kernel: this file asks ipset for it over the
// SO_IP_SET socket option, as iptables does. It is the one place where
// table/ext makes system calls, and the only reason it may import
// golang.org/x/sys/unix (internal/archtest allows exactly that). Sets
// belong to a network namespace: the calls see the namespace of the
// calling thread, which is where the kernel backend works.

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// From linux/netfilter/ipset/ip_set.h.
const (
	soIPSet = 83 // SO_IP_SET, at level SOL_IP

	ipsetOpGetByName  = 0x006 // struct ip_set_req_get_set: name in, index out
	ipsetOpGetByIndex = 0x007 // struct ip_set_req_get_set: index in, name out
	ipsetOpGetFName   = 0x008 // struct ip_set_req_get_set_family: also the family
	ipsetOpVersion    = 0x100 // struct ip_set_req_version

	ipsetNameLen   = 32     // IPSET_MAXNAMELEN
	ipsetInvalidID = 0xffff // IPSET_INVALID_ID

	// struct ip_set_req_version {op, version}; struct ip_set_req_get_set
	// {op, version, union {name[32], index u16}}; struct
	// ip_set_req_get_set_family {op, version, family, union}.
	ipsetReqVersionSize   = 8
	ipsetReqGetSetSize    = 8 + ipsetNameLen
	ipsetReqGetFamilySize = 12 + ipsetNameLen

	ipsetProtoUnspec = 0
	ipsetProtoIPv4   = 2
	ipsetProtoIPv6   = 10
)

// ipsetConn is a raw socket that has agreed a protocol version with
// ipset; every get request but the version itself must carry it.
type ipsetConn struct {
	fd      int
	version uint32
}

func ipsetOpen() (*ipsetConn, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("cannot open a socket to ipset: %w", err)
	}
	c := &ipsetConn{fd: fd}
	req := make([]byte, ipsetReqVersionSize)
	xtbin.Native.PutUint32(req, ipsetOpVersion)
	if _, err := c.get(req); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ENOPROTOOPT) {
			return nil, fmt.Errorf("ipset is not available in this kernel (module ip_set not loaded)")
		}
		return nil, fmt.Errorf("cannot ask ipset for its version: %w", err)
	}
	c.version = xtbin.Native.Uint32(req[4:])
	return c, nil
}

func (c *ipsetConn) close() { unix.Close(c.fd) }

// get runs one getsockopt(SOL_IP, SO_IP_SET) on buf, which the kernel
// overwrites with its answer, and returns the answer's length.
func (c *ipsetConn) get(buf []byte) (int, error) {
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), uintptr(unix.SOL_IP), soIPSet,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

// ipsetIndex returns the index of the named set for a rule of family f.
// Like iptables it asks for the set's family too (GET_FNAME) and refuses a
// set of the other family, which the kernel would accept but never match;
// kernels without GET_FNAME answer EBADMSG and get the plain GET_BYNAME.
func ipsetIndex(name string, f table.Family) (uint16, error) {
	if name == "" || len(name) >= ipsetNameLen {
		return 0, fmt.Errorf("invalid set name %q", name)
	}
	c, err := ipsetOpen()
	if err != nil {
		return 0, fmt.Errorf("set %q: %w", name, err)
	}
	defer c.close()
	req := make([]byte, ipsetReqGetFamilySize)
	xtbin.Native.PutUint32(req, ipsetOpGetFName)
	xtbin.Native.PutUint32(req[4:], c.version)
	copy(req[12:], name)
	n, err := c.get(req)
	hasFamily := true
	if errors.Is(err, unix.EBADMSG) {
		req = make([]byte, ipsetReqGetSetSize)
		xtbin.Native.PutUint32(req, ipsetOpGetByName)
		xtbin.Native.PutUint32(req[4:], c.version)
		copy(req[8:], name)
		n, err = c.get(req)
		hasFamily = false
	}
	if err != nil {
		return 0, fmt.Errorf("set %q: ipset lookup failed: %w", name, err)
	}
	if n != len(req) {
		return 0, fmt.Errorf("set %q: ipset answered %d bytes, want %d", name, n, len(req))
	}
	idx := xtbin.Native.Uint16(req[len(req)-ipsetNameLen:])
	if idx == ipsetInvalidID {
		return 0, table.WithHint("create it first, e.g. with ipset create", "set %q does not exist", name)
	}
	if hasFamily {
		want := uint32(ipsetProtoIPv4)
		if f == table.IPv6 {
			want = ipsetProtoIPv6
		}
		if fam := xtbin.Native.Uint32(req[8:]); fam != want && fam != ipsetProtoUnspec {
			return 0, fmt.Errorf("set %q is of family %s, not usable in an %s rule", name, ipsetFamilyName(fam), ipsetFamilyName(want))
		}
	}
	return idx, nil
}

// ipsetName returns the name of the set with the given index.
func ipsetName(idx uint16) (string, error) {
	c, err := ipsetOpen()
	if err != nil {
		return "", fmt.Errorf("set index %d: %w", idx, err)
	}
	defer c.close()
	req := make([]byte, ipsetReqGetSetSize)
	xtbin.Native.PutUint32(req, ipsetOpGetByIndex)
	xtbin.Native.PutUint32(req[4:], c.version)
	xtbin.Native.PutUint16(req[8:], idx)
	n, err := c.get(req)
	if err != nil {
		// EINVAL: the index is beyond the kernel's table of sets.
		return "", fmt.Errorf("set index %d: ipset lookup failed: %w", idx, err)
	}
	if n != len(req) {
		return "", fmt.Errorf("set index %d: ipset answered %d bytes, want %d", idx, n, len(req))
	}
	name := req[8:]
	for i, b := range name {
		if b == 0 {
			name = name[:i]
			break
		}
	}
	if len(name) == 0 || len(name) == ipsetNameLen {
		return "", fmt.Errorf("set index %d: no such set in the kernel", idx)
	}
	return string(name), nil
}

func ipsetFamilyName(f uint32) string {
	switch f {
	case ipsetProtoIPv4:
		return "IPv4"
	case ipsetProtoIPv6:
		return "IPv6"
	}
	return fmt.Sprintf("%d", f)
}
