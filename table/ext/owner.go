package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/table"
)

// Owner is the owner match, revision 1; it mirrors struct
// xt_owner_match_info.
type Owner struct {
	UIDMin, UIDMax uint32
	GIDMin, GIDMax uint32
	Match, Invert  uint8
}

// xt_owner match/invert bits.
const (
	ownerUID         = 0x1
	ownerGID         = 0x2
	ownerSocket      = 0x4
	ownerSupplGroups = 0x8
)

var ownerInfo = &table.ExtInfo{
	Name: "owner", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: ownerSize,
	Options: opts("!uid-owner=", "!gid-owner=", "!socket-exists", "suppl-groups"),
	// Only locally generated packets have a socket to look at.
	Hooks: table.Output.Mask() | table.PostRouting.Mask(),
	New:   func(table.Family) table.Ext { return &Owner{} },
}

func (m *Owner) Info() *table.ExtInfo { return ownerInfo }
func (m *Owner) Name() string         { return "owner" }

func (m *Owner) Parse(a *table.OptArgs) error {
	var bit uint8
	switch a.Key() {
	case "uid-owner":
		lo, hi, err := parseOwnerID(a.Arg, a.Names, table.Users, "user")
		if err != nil {
			return err
		}
		bit, m.UIDMin, m.UIDMax = ownerUID, lo, hi
	case "gid-owner":
		lo, hi, err := parseOwnerID(a.Arg, a.Names, table.Groups, "group")
		if err != nil {
			return err
		}
		bit, m.GIDMin, m.GIDMax = ownerGID, lo, hi
	case "socket-exists":
		bit = ownerSocket
	case "suppl-groups":
		if m.Match&ownerGID == 0 {
			return table.WithHint("put --gid-owner before it", "--suppl-groups needs --gid-owner first")
		}
		bit = ownerSupplGroups
	default:
		return unknownOption(a)
	}
	m.Match |= bit
	m.Invert |= invBit(a.Invert, bit)
	return nil
}

// parseOwnerID takes a user or group name (getpwnam, getgrnam), or an id,
// or a range "a-b" (also "a:b") of ids. 4294967295 is (uid_t)-1, which is
// no id. The kernel refuses a reversed range.
func parseOwnerID(s string, names table.Resolver, m table.IDMap, what string) (lo, hi uint32, err error) {
	if id, ok := names.ID(m, s); s != "" && ok {
		return id, id, nil
	}
	const max = math.MaxUint32 - 1
	bad := table.WithHint(fmt.Sprintf("write a %s name from /%s, an id of 0 to %d, or a range a-b", what, m.Path(), uint64(max)), "unknown %s or invalid id range %q", what, s)
	v, rest, ok := table.StrtoulPrefix(s, 0, max)
	if !ok {
		return 0, 0, bad
	}
	lo, hi = uint32(v), uint32(v)
	if rest != "" && (rest[0] == '-' || rest[0] == ':') {
		if v, rest, ok = table.StrtoulPrefix(rest[1:], 0, max); !ok {
			return 0, 0, bad
		}
		hi = uint32(v)
	}
	if rest != "" {
		return 0, 0, bad
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("range %q is reversed", s)
	}
	return lo, hi, nil
}

func (m *Owner) Finish(c *table.FinishContext) error {
	if m.Match == 0 {
		return fmt.Errorf("one of --uid-owner, --gid-owner and --socket-exists is required")
	}
	return nil
}

// ownerRangeText prints ids numerically (iptables-save never prints names),
// a range as "a-b".
func ownerRangeText(lo, hi uint32) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

func (m *Owner) Print(w *table.Writer) {
	if m.Match&ownerSocket != 0 {
		w.Flag(m.Invert&ownerSocket != 0, "socket-exists")
	}
	if m.Match&ownerUID != 0 {
		w.Opt(m.Invert&ownerUID != 0, "uid-owner", ownerRangeText(m.UIDMin, m.UIDMax))
	}
	if m.Match&ownerGID != 0 {
		w.Opt(m.Invert&ownerGID != 0, "gid-owner", ownerRangeText(m.GIDMin, m.GIDMax))
	}
	if m.Match&ownerSupplGroups != 0 {
		w.Flag(m.Invert&ownerSupplGroups != 0, "suppl-groups")
	}
}

// struct xt_owner_match_info: uid_min@0 uid_max@4 gid_min@8 gid_max@12
// (u32 host order), match u8@16 invert u8@17, 2 bytes of padding.
const ownerSize = 20

func (m *Owner) layout() []field {
	return []field{{0, &m.UIDMin}, {4, &m.UIDMax}, {8, &m.GIDMin}, {12, &m.GIDMax}, {16, &m.Match}, {17, &m.Invert}}
}

func (m *Owner) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Owner) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
