package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/table"
)

// The value/mask value: libxtables' XTTYPE_MARKMASK32 and
// xtables_parse_val_mask, which mark, connmark, MARK, CONNMARK, TPROXY,
// realm and devgroup parse their "value[/mask]" with.

// lmap is an id/name file whose names a value may be written as (the
// lmap argument of xtables_parse_val_mask), and what its names name, for
// messages.
type lmap struct {
	m    table.IDMap
	what string
}

var (
	realmMap    = &lmap{table.Realms, "realm"}
	devGroupMap = &lmap{table.DevGroups, "device group"}
)

// parseMarkMask parses "value[/mask]" of 32-bit C numbers as
// xtables_parse_val_mask does; the mask defaults to all ones. With a map,
// text that is not a number (or a number followed by anything but
// "/mask") is looked up as a name.
func parseMarkMask(s string, names table.Resolver, l *lmap) (v, m uint32, err error) {
	n, rest, ok := table.StrtoulPrefix(s, 0, math.MaxUint32)
	switch {
	case ok && rest == "":
		return uint32(n), math.MaxUint32, nil
	case ok && rest[0] == '/':
		mk, ok := table.ParseUint(rest[1:], 0, math.MaxUint32)
		if !ok {
			return 0, 0, fmt.Errorf("invalid mask in %q (expected a number from 0 to 4294967295)", s)
		}
		return uint32(n), uint32(mk), nil
	case l == nil && ok:
		return 0, 0, fmt.Errorf("trailing garbage in %q", s)
	case l == nil:
		return 0, 0, fmt.Errorf("invalid value %q (expected a number from 0 to 4294967295, optionally /mask)", s)
	}
	id, found := names.ID(l.m, s)
	if !found {
		return 0, 0, table.WithHint(l.what+" names are read from /"+l.m.Path(), "unknown %s %q", l.what, s)
	}
	return id, math.MaxUint32, nil
}

// markMaskText is xtables_print_val_mask: "0xV/0xM" with a mask, else the
// name from the map, else "0xV".
func markMaskText(v, m uint32, names table.Resolver, l *lmap) string {
	if m != math.MaxUint32 {
		return hex(uint64(v)) + "/" + hex(uint64(m))
	}
	if l != nil {
		if n, ok := names.IDName(l.m, v); ok {
			return n
		}
	}
	return hex(uint64(v))
}
