package ipset

// Family is the address family of a set, with the kernel's NFPROTO_*
// values: IPv4 and IPv6 sets hold addresses of that family; a set of a
// type without addresses (bitmap:port, hash:mac, list:set) has none.
type Family uint8

const (
	FamilyNone  Family = 0  // NFPROTO_UNSPEC
	FamilyInet  Family = 2  // NFPROTO_IPV4
	FamilyInet6 Family = 10 // NFPROTO_IPV6
)

// String is the family's name in ipset's text ("inet", "inet6", "any").
func (f Family) String() string {
	switch f {
	case FamilyInet:
		return "inet"
	case FamilyInet6:
		return "inet6"
	}
	return "any"
}

// hostBits is the length of an address of the family.
func (f Family) hostBits() uint8 {
	if f == FamilyInet6 {
		return 128
	}
	return 32
}

// Kind is the storage of a set type: the kernel keeps bitmaps over a
// fixed range, hash tables that grow, and ordered lists of other sets.
type Kind uint8

const (
	Bitmap Kind = iota + 1
	Hash
	List
)

// Dim is what one part of an element is ("hash:ip,port" has an IP
// part and a port part).
type Dim uint8

const (
	DimIP    Dim = iota + 1 // an address; IPv4 input may be a range or a network, added as its addresses
	DimIP2                  // the second address of hash:ip,port,ip: one address
	DimNet                  // address/prefix; IPv4 input may be a range, added as the networks that cover it
	DimNet2                 // the second network of hash:net,net, hash:ip,port,net, hash:net,port,net
	DimPort                 // [proto:]port; input may be a range of ports
	DimMAC                  // an Ethernet address
	DimMark                 // a 32-bit mark
	DimIface                // [physdev:]interface
	DimName                 // a set name (list:set)
)

// Opt is a create option, in the spelling of ipset's text.
type Opt uint8

const (
	OptFamily Opt = iota + 1
	OptHashSize
	OptMaxElem
	OptNetMask
	OptBitMask
	OptMarkMask
	OptRange
	OptSize
	OptTimeout
	OptCounters
	OptComment
	OptForceAdd
	OptSkbInfo
	OptBucketSize
	OptInitVal
)

var optNames = [...]string{
	OptFamily: "family", OptHashSize: "hashsize", OptMaxElem: "maxelem",
	OptNetMask: "netmask", OptBitMask: "bitmask", OptMarkMask: "markmask",
	OptRange: "range", OptSize: "size", OptTimeout: "timeout",
	OptCounters: "counters", OptComment: "comment", OptForceAdd: "forceadd",
	OptSkbInfo: "skbinfo", OptBucketSize: "bucketsize", OptInitVal: "initval",
}

func (o Opt) String() string { return optNames[o] }

// Flag is an option of an add line, in the spelling of ipset's text.
type Flag uint8

const (
	FlagTimeout Flag = iota + 1
	FlagNomatch
	FlagWildcard
	FlagPackets
	FlagBytes
	FlagComment
	FlagSkbMark
	FlagSkbPrio
	FlagSkbQueue
)

var flagNames = [...]string{
	FlagTimeout: "timeout", FlagNomatch: "nomatch", FlagWildcard: "wildcard",
	FlagPackets: "packets", FlagBytes: "bytes", FlagComment: "comment",
	FlagSkbMark: "skbmark", FlagSkbPrio: "skbprio", FlagSkbQueue: "skbqueue",
}

func (f Flag) String() string { return flagNames[f] }

// Kernel feature bits of a set type (enum ip_set_feature). The kernel
// swaps two sets only when their types have the same features and the
// sets the same family.
const (
	FeatureIP      = 1 << 0 // IPSET_TYPE_IP
	FeaturePort    = 1 << 1 // IPSET_TYPE_PORT
	FeatureMAC     = 1 << 2 // IPSET_TYPE_MAC
	FeatureIP2     = 1 << 3 // IPSET_TYPE_IP2
	FeatureName    = 1 << 4 // IPSET_TYPE_NAME
	FeatureIface   = 1 << 5 // IPSET_TYPE_IFACE
	FeatureMark    = 1 << 6 // IPSET_TYPE_MARK
	FeatureNomatch = 1 << 7 // IPSET_TYPE_NOMATCH
	FeatureDumpEnd = 1 << 8 // IPSET_DUMP_LAST: listed after the other sets
)

// Type is a set type as the kernel offers it and ipset writes it.
type Type struct {
	Name string
	Kind Kind
	Dims []Dim
	// Family is the one family the type has (bitmap:ip: inet; bitmap:port,
	// hash:mac, list:set: none), or FamilyNone with Families true for the
	// types that are created for inet or inet6.
	Family   Family
	Families bool
	// Opts are the create options in the order ipset's save writes them;
	// Flags the add options likewise.
	Opts  []Opt
	Flags []Flag
	// Revision is the newest revision of the type that ipset 7.17 knows:
	// the one fw creates (or the kernel's newest, if that is older), so
	// that a set fw creates reads back as one ipset created.
	Revision uint8
	// Features are the kernel's feature bits of the type.
	Features uint32
	// OptionalLast: the last part of an element may be left out
	// (bitmap:ip,mac: the MAC is learnt from the first packet).
	OptionalLast bool
}

// Has reports whether the type takes create option o.
func (t *Type) Has(o Opt) bool {
	for _, x := range t.Opts {
		if x == o {
			return true
		}
	}
	return false
}

// HasFlag reports whether the type's add lines take flag f.
func (t *Type) HasFlag(f Flag) bool {
	for _, x := range t.Flags {
		if x == f {
			return true
		}
	}
	return false
}

func (t *Type) hasDim(d Dim) bool {
	for _, x := range t.Dims {
		if x == d {
			return true
		}
	}
	return false
}

// The option and flag lists follow the newest revision of each type in
// ipset's lib/ipset_*.c (the order its save writes them in); the
// extensions every type shares come in one order.
var (
	extFlags     = []Flag{FlagTimeout, FlagPackets, FlagBytes, FlagComment, FlagSkbMark, FlagSkbPrio, FlagSkbQueue}
	extFlagsNM   = []Flag{FlagTimeout, FlagNomatch, FlagPackets, FlagBytes, FlagComment, FlagSkbMark, FlagSkbPrio, FlagSkbQueue}
	extFlagsNMWC = []Flag{FlagTimeout, FlagNomatch, FlagWildcard, FlagPackets, FlagBytes, FlagComment, FlagSkbMark, FlagSkbPrio, FlagSkbQueue}

	hashOpts = []Opt{OptFamily, OptHashSize, OptMaxElem, OptTimeout, OptCounters, OptComment, OptForceAdd, OptSkbInfo, OptBucketSize, OptInitVal}
)

// Types are the set types of the kernel's ipset, by name.
var Types = map[string]*Type{}

// typeList is the types in the order ipset lists them in its help.
var typeList = []*Type{
	{Name: "bitmap:ip", Kind: Bitmap, Dims: []Dim{DimIP}, Family: FamilyInet,
		Opts:  []Opt{OptRange, OptNetMask, OptTimeout, OptCounters, OptComment, OptSkbInfo},
		Flags: extFlags, Revision: 3, Features: FeatureIP},
	{Name: "bitmap:ip,mac", Kind: Bitmap, Dims: []Dim{DimIP, DimMAC}, Family: FamilyInet, OptionalLast: true,
		Opts:  []Opt{OptRange, OptTimeout, OptCounters, OptComment, OptSkbInfo},
		Flags: extFlags, Revision: 3, Features: FeatureIP | FeatureMAC},
	{Name: "bitmap:port", Kind: Bitmap, Dims: []Dim{DimPort},
		Opts:  []Opt{OptRange, OptTimeout, OptCounters, OptComment, OptSkbInfo},
		Flags: extFlags, Revision: 3, Features: FeaturePort},
	{Name: "hash:ip", Kind: Hash, Dims: []Dim{DimIP}, Families: true,
		Opts:  []Opt{OptFamily, OptHashSize, OptMaxElem, OptNetMask, OptBitMask, OptTimeout, OptCounters, OptComment, OptForceAdd, OptSkbInfo, OptBucketSize, OptInitVal},
		Flags: extFlags, Revision: 6, Features: FeatureIP},
	{Name: "hash:mac", Kind: Hash, Dims: []Dim{DimMAC},
		Opts:  []Opt{OptHashSize, OptMaxElem, OptTimeout, OptCounters, OptComment, OptForceAdd, OptSkbInfo, OptBucketSize, OptInitVal},
		Flags: extFlags, Revision: 1, Features: FeatureMAC},
	{Name: "hash:ip,mac", Kind: Hash, Dims: []Dim{DimIP, DimMAC}, Families: true,
		Opts: hashOpts, Flags: extFlags, Revision: 1, Features: FeatureIP | FeatureMAC},
	{Name: "hash:net", Kind: Hash, Dims: []Dim{DimNet}, Families: true,
		Opts: hashOpts, Flags: extFlagsNM, Revision: 7, Features: FeatureIP | FeatureNomatch},
	{Name: "hash:net,net", Kind: Hash, Dims: []Dim{DimNet, DimNet2}, Families: true,
		Opts:  append(append([]Opt{}, hashOpts...), OptBitMask, OptNetMask),
		Flags: extFlagsNM, Revision: 4, Features: FeatureIP | FeatureIP2 | FeatureNomatch},
	{Name: "hash:ip,port", Kind: Hash, Dims: []Dim{DimIP, DimPort}, Families: true,
		Opts:  append(append([]Opt{}, hashOpts...), OptNetMask, OptBitMask),
		Flags: extFlags, Revision: 7, Features: FeatureIP | FeaturePort},
	{Name: "hash:net,port", Kind: Hash, Dims: []Dim{DimNet, DimPort}, Families: true,
		Opts: hashOpts, Flags: extFlagsNM, Revision: 8, Features: FeatureIP | FeaturePort | FeatureNomatch},
	{Name: "hash:ip,port,ip", Kind: Hash, Dims: []Dim{DimIP, DimPort, DimIP2}, Families: true,
		Opts: hashOpts, Flags: extFlags, Revision: 6, Features: FeatureIP | FeaturePort | FeatureIP2},
	{Name: "hash:ip,port,net", Kind: Hash, Dims: []Dim{DimIP, DimPort, DimNet2}, Families: true,
		Opts: hashOpts, Flags: extFlagsNM, Revision: 8, Features: FeatureIP | FeaturePort | FeatureIP2 | FeatureNomatch},
	{Name: "hash:ip,mark", Kind: Hash, Dims: []Dim{DimIP, DimMark}, Families: true,
		Opts:  []Opt{OptFamily, OptMarkMask, OptHashSize, OptMaxElem, OptTimeout, OptCounters, OptComment, OptForceAdd, OptSkbInfo, OptBucketSize, OptInitVal},
		Flags: extFlags, Revision: 3, Features: FeatureIP | FeatureMark},
	{Name: "hash:net,port,net", Kind: Hash, Dims: []Dim{DimNet, DimPort, DimNet2}, Families: true,
		Opts: hashOpts, Flags: extFlagsNM, Revision: 3, Features: FeatureIP | FeaturePort | FeatureIP2 | FeatureNomatch},
	{Name: "hash:net,iface", Kind: Hash, Dims: []Dim{DimNet, DimIface}, Families: true,
		Opts: hashOpts, Flags: extFlagsNMWC, Revision: 8, Features: FeatureIP | FeatureIface | FeatureNomatch},
	{Name: "list:set", Kind: List, Dims: []Dim{DimName},
		Opts:  []Opt{OptSize, OptTimeout, OptCounters, OptComment, OptSkbInfo},
		Flags: extFlags, Revision: 3, Features: FeatureName | FeatureDumpEnd},
}

// TypeNames are the names of the set types in ipset's order.
func TypeNames() []string {
	n := make([]string, len(typeList))
	for i, t := range typeList {
		n[i] = t.Name
	}
	return n
}

// typeAliases are the names ipset 4's text used, which ipset still
// takes in a create line.
var typeAliases = map[string]string{
	"ipmap": "bitmap:ip", "macipmap": "bitmap:ip,mac", "portmap": "bitmap:port",
	"iphash": "hash:ip", "machash": "hash:mac", "ipmachash": "hash:ip,mac",
	"nethash": "hash:net", "netnethash": "hash:net,net", "ipporthash": "hash:ip,port",
	"netporthash": "hash:net,port", "ipportiphash": "hash:ip,port,ip",
	"ipportnethash": "hash:ip,port,net", "ipmarkhash": "hash:ip,mark",
	"netportnethash": "hash:net,port,net", "netifacehash": "hash:net,iface",
	"setlist": "list:set",
}

func init() {
	for _, t := range typeList {
		Types[t.Name] = t
	}
}
