package ipset

import "github.com/fwkit/fw/table"

// MaxNameLen is the longest set name the kernel takes (IPSET_MAXNAMELEN
// less its NUL).
const MaxNameLen = 31

// MaxCommentLen is the longest comment the kernel keeps
// (IPSET_MAX_COMMENT_SIZE).
const MaxCommentLen = 255

// MaxTimeout is the longest timeout in seconds ipset takes: the kernel
// keeps timeouts in milliseconds in 31 bits.
const MaxTimeout = (1<<31 - 1) / 1000

// Defaults of the kernel (ip_set_hash.h, ip_set_list.h, the hash and list
// create functions).
const (
	DefaultHashSize   = 1024
	MinHashSize       = 64
	DefaultMaxElem    = 65536
	DefaultBucketSize = 12 // AHASH_MAX_SIZE
	MinBucketSize     = 2  // AHASH_INIT_SIZE
	DefaultListSize   = 8
	MinListSize       = 4
	// MaxBitmapRange is how many elements a bitmap may hold
	// (IPSET_BITMAP_MAX_RANGE + 1).
	MaxBitmapRange = 1 << 16
)

// Set is one set: its definition and its members.
type Set struct {
	Name   string
	Type   *Type
	Family Family
	Opts   Options
	// Members in order: the kernel's listing order for a set read from
	// the kernel, the file's for a parsed one. Order is part of a
	// list:set (the kernel matches its members in turn), of no other.
	Members []Entry

	// Revision is the type revision the kernel reports; 0 for a parsed
	// set.
	Revision uint8
	// References is how many references the kernel counts on the set:
	// rules (iptables' set match and SET target, nft compat) and list:set
	// sets that name it. Read from the kernel only.
	References uint32
	// Pos is where a parsed set is created (the create line).
	Pos table.Pos
}

// Options are the create options of a set. Numbers the kernel always
// reports are kept canonical (as the kernel reports them): a parsed set
// gets the kernel's defaults and roundings.
type Options struct {
	HashSize uint32 // hash: the table size, a power of two
	MaxElem  uint32 // hash
	// BucketSize is reported by sets of a type revision that has it; 0
	// for older ones.
	BucketSize uint8
	// InitVal is the hash seed; the kernel picks one at random unless
	// the create line gives it.
	InitVal    uint32
	HasInitVal bool
	// NetMask is the prefix the addresses are masked to (hash:ip,
	// hash:ip,port, hash:net,net, bitmap:ip); 0 when none (the host
	// length).
	NetMask uint8
	// BitMask is an arbitrary mask of the addresses instead (hash:ip,
	// hash:ip,port, hash:net,net).
	BitMask    Addr
	HasBitMask bool
	MarkMask   uint32 // hash:ip,mark; the kernel's default is all ones
	// RangeFrom and RangeTo bound a bitmap: IPv4 addresses as numbers
	// (bitmap:ip, bitmap:ip,mac) or ports (bitmap:port).
	RangeFrom, RangeTo uint32
	Size               uint32 // list:set

	Timeout    uint32 // the default timeout of the members, with HasTimeout
	HasTimeout bool
	Counters   bool
	Comment    bool
	SkbInfo    bool
	ForceAdd   bool
}

// Addr is an address of a set's family: IPv4 in the first four bytes.
type Addr [16]byte

// Elem is what identifies a member: the kernel stores each element once,
// whatever its flags. Only the parts of the set's type are used.
type Elem struct {
	IP, IP2     Addr
	CIDR, CIDR2 uint8 // prefix lengths of DimNet and DimNet2
	Proto       uint8 // DimPort: the protocol (0 for bitmap:port)
	Port        uint16
	MAC         [6]byte
	HasMAC      bool // bitmap:ip,mac: the MAC may be unknown yet
	Mark        uint32
	Iface       string
	Physdev     bool
	Wildcard    bool // hash:net,iface: Iface is a prefix of interface names
	Name        string
}

// Entry is a member: the element and its flags.
type Entry struct {
	Elem
	Nomatch bool
	// Timeout is the member's remaining seconds in a set with timeouts (0:
	// it never expires); Packets and Bytes its counters in a set with
	// counters.
	Timeout        uint32
	Packets, Bytes uint64
	Comment        string
	// SkbMark and SkbMask are the mark (and the mask of its bits) the
	// SET target gives a packet that matches, SkbPrio its priority
	// (major<<16 | minor) and SkbQueue its queue, in a set with skbinfo.
	SkbMark, SkbMask uint32
	SkbPrio          uint32
	SkbQueue         uint16

	// Line and Col are where a parsed member is written (0 when read
	// from the kernel).
	Line, Col int32
}

// Key is what a member is compared by: its element and the flags that
// are part of its definition. Timeouts and counters are not (they run
// on in the kernel).
type Key struct {
	Elem
	Nomatch          bool
	Comment          string
	SkbMark, SkbMask uint32
	SkbPrio          uint32
	SkbQueue         uint16
}

// Key returns e's Key.
func (e *Entry) Key() Key {
	return Key{Elem: e.Elem, Nomatch: e.Nomatch, Comment: e.Comment,
		SkbMark: e.SkbMark, SkbMask: e.SkbMask, SkbPrio: e.SkbPrio, SkbQueue: e.SkbQueue}
}

// SameDefinition reports whether a and b define the same set apart from
// its members: name, type, family and every option but the ones the
// kernel tunes by itself (hashsize and bucketsize grow with a set, and
// initval is a random seed unless given).
func SameDefinition(a, b *Set) bool {
	if a.Name != b.Name || a.Type != b.Type || a.Family != b.Family {
		return false
	}
	x, y := a.Opts, b.Opts
	x.HashSize, y.HashSize = 0, 0
	x.BucketSize, y.BucketSize = 0, 0
	x.InitVal, y.InitVal = 0, 0
	x.HasInitVal, y.HasInitVal = false, false
	return x == y
}

// ReplacesInPlace reports whether a set defined as b can take the
// place of a by the kernel's swap: the kernel swaps only sets whose types
// have the same features, of the same family.
func ReplacesInPlace(a, b *Set) bool {
	return a.Type.Features == b.Type.Features && a.Family == b.Family
}
