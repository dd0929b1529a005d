package wire

// Numbers of the kernel's ipset netlink protocol, from the uapi header
// linux/netfilter/ipset/ip_set.h (and, for the type-specific error
// codes, the kernel's ip_set_hash.h, ip_set_bitmap.h and ip_set_list.h),
// under their C names. Only what fw sends or reads is here.

// SubsysIPSet is NFNL_SUBSYS_IPSET: a message's type is SubsysIPSet<<8 |
// command.
const SubsysIPSet = 6

// Protocol versions (IPSET_PROTOCOL, IPSET_PROTOCOL_MIN): fw speaks 7,
// the kernel takes 6 and 7 on every command but IPSET_CMD_PROTOCOL.
const (
	Protocol    = 7
	ProtocolMin = 6
)

// Commands (enum ipset_cmd).
const (
	CmdProtocol = 1  // IPSET_CMD_PROTOCOL: the kernel's protocol versions
	CmdCreate   = 2  // IPSET_CMD_CREATE
	CmdDestroy  = 3  // IPSET_CMD_DESTROY
	CmdFlush    = 4  // IPSET_CMD_FLUSH
	CmdRename   = 5  // IPSET_CMD_RENAME
	CmdSwap     = 6  // IPSET_CMD_SWAP
	CmdList     = 7  // IPSET_CMD_LIST: a dump; its replies are of this type
	CmdSave     = 8  // IPSET_CMD_SAVE: the same dump
	CmdAdd      = 9  // IPSET_CMD_ADD
	CmdDel      = 10 // IPSET_CMD_DEL
	CmdTest     = 11 // IPSET_CMD_TEST
	CmdHeader   = 12 // IPSET_CMD_HEADER
	CmdType     = 13 // IPSET_CMD_TYPE: the revisions the kernel has of a type
)

// Attributes at command level.
const (
	AttrProtocol    = 1  // IPSET_ATTR_PROTOCOL: u8
	AttrSetName     = 2  // IPSET_ATTR_SETNAME: NUL-terminated string
	AttrTypeName    = 3  // IPSET_ATTR_TYPENAME: NUL-terminated string
	AttrSetName2    = 3  // IPSET_ATTR_SETNAME2: the other set of rename and swap
	AttrRevision    = 4  // IPSET_ATTR_REVISION: u8
	AttrFamily      = 5  // IPSET_ATTR_FAMILY: u8, NFPROTO_*
	AttrFlags       = 6  // IPSET_ATTR_FLAGS: be32, enum ipset_cmd_flags
	AttrData        = 7  // IPSET_ATTR_DATA: nested create options or one element
	AttrADT         = 8  // IPSET_ATTR_ADT: nested, several AttrData
	AttrLineNo      = 9  // IPSET_ATTR_LINENO: be32
	AttrProtocolMin = 10 // IPSET_ATTR_PROTOCOL_MIN, IPSET_ATTR_REVISION_MIN: u8
	AttrIndex       = 11 // IPSET_ATTR_INDEX: be16, the set's index (protocol 7)
)

// Attributes inside AttrData: create options and elements (CADT), then
// create-only and element-only ones.
const (
	AttrIP         = 1  // IPSET_ATTR_IP, IPSET_ATTR_IP_FROM: nested AttrIPAddr*
	AttrIPTo       = 2  // IPSET_ATTR_IP_TO: nested
	AttrCIDR       = 3  // IPSET_ATTR_CIDR: u8
	AttrPort       = 4  // IPSET_ATTR_PORT, IPSET_ATTR_PORT_FROM: be16
	AttrPortTo     = 5  // IPSET_ATTR_PORT_TO: be16
	AttrTimeout    = 6  // IPSET_ATTR_TIMEOUT: be32 seconds
	AttrProto      = 7  // IPSET_ATTR_PROTO: u8
	AttrCADTFlags  = 8  // IPSET_ATTR_CADT_FLAGS: be32, enum ipset_cadt_flags
	AttrCADTLineNo = 9  // IPSET_ATTR_CADT_LINENO: be32
	AttrMark       = 10 // IPSET_ATTR_MARK: be32
	AttrMarkMask   = 11 // IPSET_ATTR_MARKMASK: be32
	AttrBitMask    = 12 // IPSET_ATTR_BITMASK: nested like AttrIP

	AttrInitVal    = 17 // IPSET_ATTR_INITVAL: be32
	AttrHashSize   = 18 // IPSET_ATTR_HASHSIZE: be32
	AttrMaxElem    = 19 // IPSET_ATTR_MAXELEM: be32
	AttrNetMask    = 20 // IPSET_ATTR_NETMASK: u8
	AttrBucketSize = 21 // IPSET_ATTR_BUCKETSIZE: u8
	AttrResize     = 22 // IPSET_ATTR_RESIZE: u8
	AttrSize       = 23 // IPSET_ATTR_SIZE: be32
	AttrElements   = 24 // IPSET_ATTR_ELEMENTS: be32, listing only
	AttrReferences = 25 // IPSET_ATTR_REFERENCES: be32, listing only
	AttrMemSize    = 26 // IPSET_ATTR_MEMSIZE: be32, listing only

	AttrEther    = 17 // IPSET_ATTR_ETHER: 6 bytes
	AttrName     = 18 // IPSET_ATTR_NAME: NUL-terminated string (list:set member)
	AttrNameRef  = 19 // IPSET_ATTR_NAMEREF: the member a list:set member goes before or after
	AttrIP2      = 20 // IPSET_ATTR_IP2: nested
	AttrCIDR2    = 21 // IPSET_ATTR_CIDR2: u8
	AttrIP2To    = 22 // IPSET_ATTR_IP2_TO: nested
	AttrIface    = 23 // IPSET_ATTR_IFACE: NUL-terminated string
	AttrBytes    = 24 // IPSET_ATTR_BYTES: be64
	AttrPackets  = 25 // IPSET_ATTR_PACKETS: be64
	AttrComment  = 26 // IPSET_ATTR_COMMENT: NUL-terminated string
	AttrSkbMark  = 27 // IPSET_ATTR_SKBMARK: be64, mark<<32 | mask
	AttrSkbPrio  = 28 // IPSET_ATTR_SKBPRIO: be32
	AttrSkbQueue = 29 // IPSET_ATTR_SKBQUEUE: be16
	AttrPad      = 30 // IPSET_ATTR_PAD
)

// Attributes inside an address (AttrIP, AttrIP2, AttrIPTo, AttrBitMask).
const (
	AttrIPAddrIPv4 = 1 // IPSET_ATTR_IPADDR_IPV4: be32
	AttrIPAddrIPv6 = 2 // IPSET_ATTR_IPADDR_IPV6: 16 bytes
)

// Command-level flags (enum ipset_cmd_flags) in AttrFlags.
const (
	FlagListSetName = 1 << 1 // IPSET_FLAG_LIST_SETNAME: a dump of the names only
	FlagListHeader  = 1 << 2 // IPSET_FLAG_LIST_HEADER: a dump without the members
)

// Flags in AttrCADTFlags (enum ipset_cadt_flags).
const (
	CADTBefore        = 1 << 0 // IPSET_FLAG_BEFORE: list:set member goes before AttrNameRef
	CADTPhysdev       = 1 << 1 // IPSET_FLAG_PHYSDEV
	CADTNomatch       = 1 << 2 // IPSET_FLAG_NOMATCH
	CADTWithCounters  = 1 << 3 // IPSET_FLAG_WITH_COUNTERS
	CADTWithComment   = 1 << 4 // IPSET_FLAG_WITH_COMMENT
	CADTWithForceAdd  = 1 << 5 // IPSET_FLAG_WITH_FORCEADD
	CADTWithSkbInfo   = 1 << 6 // IPSET_FLAG_WITH_SKBINFO
	CADTIfaceWildcard = 1 << 7 // IPSET_FLAG_IFACE_WILDCARD
)

// Netlink framing: struct nlmsghdr, struct nfgenmsg, struct nlattr,
// struct nlmsgerr (its error before the echoed request).
const (
	SizeofNlMsghdr   = 16
	SizeofNfgenmsg   = 4
	SizeofNlattr     = 4
	SizeofNlMsgerr   = 4 + SizeofNlMsghdr
	headerLen        = SizeofNlMsghdr + SizeofNfgenmsg
	nlaFNested       = 0x8000 // NLA_F_NESTED
	nlaFNetByteorder = 0x4000 // NLA_F_NET_BYTEORDER
	nlaTypeMask      = 0x3fff // NLA_TYPE_MASK
	nfnetlinkV0      = 0      // NFNETLINK_V0

	nlmsgError = 2 // NLMSG_ERROR
	nlmsgDone  = 3 // NLMSG_DONE

	// NLM_F_* flags of a request.
	FlagRequest = 0x1   // NLM_F_REQUEST
	FlagMulti   = 0x2   // NLM_F_MULTI
	FlagAck     = 0x4   // NLM_F_ACK
	FlagDump    = 0x300 // NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH)
	FlagExcl    = 0x200 // NLM_F_EXCL: without it the kernel sets IPSET_FLAG_EXIST
)

// MaxNameLen is IPSET_MAXNAMELEN less the NUL.
const MaxNameLen = 31

// familyIPv4 is NFPROTO_IPV4, the family the kernel writes in the
// nfgenmsg of its replies (and ignores in requests).
const familyIPv4 = 2
