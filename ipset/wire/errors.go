package wire

import (
	"fmt"
	"syscall"

	"github.com/fwkit/fw/ipset"
)

// Error numbers of ipset beyond the system's (enum ipset_errno), and the
// type-specific ones from IPSET_ERR_TYPE_SPECIFIC on, which mean
// different things for hash, bitmap and list types.
const (
	errPrivate       = 4096 // IPSET_ERR_PRIVATE
	errProtocol      = 4097 // IPSET_ERR_PROTOCOL
	errFindType      = 4098 // IPSET_ERR_FIND_TYPE
	errMaxSets       = 4099 // IPSET_ERR_MAX_SETS
	errBusy          = 4100 // IPSET_ERR_BUSY
	errExistSetName2 = 4101 // IPSET_ERR_EXIST_SETNAME2
	errTypeMismatch  = 4102 // IPSET_ERR_TYPE_MISMATCH
	errExist         = 4103 // IPSET_ERR_EXIST
	errInvalidCIDR   = 4104 // IPSET_ERR_INVALID_CIDR
	errInvalidNetmsk = 4105 // IPSET_ERR_INVALID_NETMASK
	errInvalidFamily = 4106 // IPSET_ERR_INVALID_FAMILY
	errTimeout       = 4107 // IPSET_ERR_TIMEOUT
	errReferenced    = 4108 // IPSET_ERR_REFERENCED
	errIPAddrIPv4    = 4109 // IPSET_ERR_IPADDR_IPV4
	errIPAddrIPv6    = 4110 // IPSET_ERR_IPADDR_IPV6
	errCounter       = 4111 // IPSET_ERR_COUNTER
	errComment       = 4112 // IPSET_ERR_COMMENT
	errInvalidMarkM  = 4113 // IPSET_ERR_INVALID_MARKMASK
	errSkbInfo       = 4114 // IPSET_ERR_SKBINFO
	errBitmaskNetmsk = 4115 // IPSET_ERR_BITMASK_NETMASK_EXCL

	errTypeSpecific = 4352 // IPSET_ERR_TYPE_SPECIFIC
)

var errTexts = map[int32]string{
	errProtocol:      "the kernel does not understand the request (ipset protocol)",
	errFindType:      "set type not supported by this kernel",
	errMaxSets:       "the kernel holds as many sets as it can",
	errBusy:          "set is in use (a rule or a list:set refers to it)",
	errExistSetName2: "the second set does not exist, or a set of the new name does",
	errTypeMismatch:  "the sets are of types with other features or of other families",
	errExist:         "it already exists",
	errInvalidCIDR:   "prefix length not taken",
	errInvalidNetmsk: "netmask not taken",
	errInvalidFamily: "family not taken",
	errTimeout:       "the set has no timeout support",
	errReferenced:    "set is referenced and cannot be renamed",
	errIPAddrIPv4:    "an IPv4 address is needed",
	errIPAddrIPv6:    "an IPv6 address is needed",
	errCounter:       "the set has no counters",
	errComment:       "the set has no comments",
	errInvalidMarkM:  "markmask not taken",
	errSkbInfo:       "the set has no skbinfo",
	errBitmaskNetmsk: "netmask and bitmask exclude each other",
}

// Type-specific errors, from IPSET_ERR_TYPE_SPECIFIC on, of the hash
// types (ip_set_hash.h), the bitmaps (ip_set_bitmap.h) and list:set
// (ip_set_list.h).
var (
	hashErrTexts = []string{
		"the set is full (maxelem reached)", // IPSET_ERR_HASH_FULL
		"element not taken",                 // IPSET_ERR_HASH_ELEM
		"protocol not taken",                // IPSET_ERR_INVALID_PROTO
		"the protocol is missing",           // IPSET_ERR_MISSING_PROTO
		"ranges are not taken here",         // IPSET_ERR_HASH_RANGE_UNSUPPORTED
		"range not taken",                   // IPSET_ERR_HASH_RANGE
	}
	bitmapErrTexts = []string{
		"element outside the set's range", // IPSET_ERR_BITMAP_RANGE
		"the range is too large",          // IPSET_ERR_BITMAP_RANGE_SIZE
	}
	listErrTexts = []string{
		"no such set to add to the list",        // IPSET_ERR_NAME
		"a list:set cannot hold a list:set",     // IPSET_ERR_LOOP
		"before or after needs a reference set", // IPSET_ERR_BEFORE
		"the reference set is not in the list",  // IPSET_ERR_NAMEREF
		"the list is full",                      // IPSET_ERR_LIST_FULL
		"the reference set does not exist",      // IPSET_ERR_REF_EXIST
	}
)

// Errno is an error the kernel's ipset answered with: a system errno or
// one of ipset's own numbers.
type Errno struct {
	N int32 // positive
	// Kind is the kind of set the request was about, for the
	// type-specific numbers (0 when none).
	Kind ipset.Kind
}

func (e *Errno) Error() string {
	if t, ok := errTexts[e.N]; ok {
		return t
	}
	if e.N >= errTypeSpecific {
		var l []string
		switch e.Kind {
		case ipset.Hash:
			l = hashErrTexts
		case ipset.Bitmap:
			l = bitmapErrTexts
		case ipset.List:
			l = listErrTexts
		}
		if i := int(e.N - errTypeSpecific); i < len(l) {
			return l[i]
		}
		return fmt.Sprintf("ipset error %d", e.N)
	}
	if e.N > 0 && e.N < errPrivate {
		switch syscall.Errno(e.N) {
		case syscall.ENOENT:
			return "set does not exist"
		case syscall.EEXIST:
			return "a set of that name already exists"
		}
		return syscall.Errno(e.N).Error()
	}
	return fmt.Sprintf("ipset error %d", e.N)
}

// Unwrap gives the system errno, so that errors.Is(err, syscall.ENOENT)
// works.
func (e *Errno) Unwrap() error {
	if e.N > 0 && e.N < errPrivate {
		return syscall.Errno(e.N)
	}
	return nil
}

// IsExist reports whether e says that an element already is in the set
// (IPSET_ERR_EXIST).
func (e *Errno) IsExist() bool { return e.N == errExist }

// IsUnsupportedType reports whether e says that the kernel lacks the set
// type (IPSET_ERR_FIND_TYPE).
func (e *Errno) IsUnsupportedType() bool { return e.N == errFindType }

// IsBusy reports whether e says that the set is referenced
// (IPSET_ERR_BUSY).
func (e *Errno) IsBusy() bool { return e.N == errBusy }
