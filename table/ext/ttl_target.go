package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// TTLTarget is the IPv4 TTL target; it mirrors struct ipt_TTL_info.
type TTLTarget struct {
	Mode uint8
	TTL  uint8
}

// Modes of ipt_TTL_info and ip6t_HL_info (the same values).
const (
	ttlTgSet = 0
	ttlTgInc = 1
	ttlTgDec = 2
)

var ttlTargetInfo = &table.ExtInfo{
	Name: "TTL", Kind: table.TargetKind, Family: table.IPv4, Size: ttlTgSize,
	Options: opts("ttl-set=", "ttl-dec=", "ttl-inc="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &TTLTarget{} },
}

func (t *TTLTarget) Info() *table.ExtInfo { return ttlTargetInfo }
func (t *TTLTarget) Name() string         { return "TTL" }

func (t *TTLTarget) Parse(a *table.OptArgs) error {
	var err error
	t.Mode, t.TTL, err = parseTTLTgOption(a, "ttl")
	return err
}

// parseTTLTgOption parses PREFIX-set (0-255) and PREFIX-inc/-dec (1-255:
// the kernel refuses a change by zero).
func parseTTLTgOption(a *table.OptArgs, prefix string) (mode, v uint8, err error) {
	min := uint64(1)
	switch a.Key() {
	case prefix + "-set":
		mode, min = ttlTgSet, 0
	case prefix + "-inc":
		mode = ttlTgInc
	case prefix + "-dec":
		mode = ttlTgDec
	default:
		return 0, 0, unknownOption(a)
	}
	n, err := parseUint(a.Arg, min, 255)
	return mode, uint8(n), err
}

func (t *TTLTarget) Finish(c *table.FinishContext) error {
	return finishTTLTg(c, "ttl")
}

func finishTTLTg(c *table.FinishContext, prefix string) error {
	names := []string{prefix + "-set", prefix + "-dec", prefix + "-inc"}
	if err := requireOne(c, names...); err != nil {
		return err
	}
	return onlyOne(c, names...)
}

func (t *TTLTarget) Print(w *table.Writer) { printTTLTg(w, "ttl", t.Mode, t.TTL) }

func printTTLTg(w *table.Writer, prefix string, mode, v uint8) {
	name := prefix + "-set"
	switch mode {
	case ttlTgInc:
		name = prefix + "-inc"
	case ttlTgDec:
		name = prefix + "-dec"
	}
	w.OptUint(false, name, uint64(v))
}

// struct ipt_TTL_info: mode u8@0 ttl u8@1. struct ip6t_HL_info has the
// same layout (mode@0 hop_limit@1).
const ttlTgSize = 2

func (t *TTLTarget) PutPayload(_ table.Family, dst []byte) error {
	putTTLTg(dst, t.Mode, t.TTL)
	return nil
}

func (t *TTLTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	var err error
	t.Mode, t.TTL, err = unmarshalTTLTg(data)
	return err
}

// putTTLTg writes the struct into dst (zeroed, XT_ALIGN(ttlTgSize)
// bytes).
func putTTLTg(dst []byte, mode, v uint8) {
	w := xtbin.Writer{B: dst}
	w.U8(0, mode)
	w.U8(1, v)
}

// unmarshalTTLTg refuses a mode past DEC: printTTLTg would print it as a
// set, and the kernel's checkentry refuses it anyway.
func unmarshalTTLTg(data []byte) (mode, v uint8, err error) {
	r := xtbin.NewReader(data)
	mode, v = r.U8(0), r.U8(1)
	if err := r.Err(); err != nil {
		return 0, 0, err
	}
	if mode > ttlTgDec {
		return 0, 0, fmt.Errorf("unknown mode %d", mode)
	}
	return mode, v, nil
}
