package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Reject is the IPv4 REJECT target; it mirrors struct ipt_reject_info.
type Reject struct {
	With uint32 // enum ipt_reject_with
}

// Reject6 is the IPv6 REJECT target; it mirrors struct ip6t_reject_info.
// Same kernel name and layout as IPv4, different reply types.
type Reject6 struct {
	With uint32 // enum ip6t_reject_with
}

// rejectType is one reply type: the name iptables prints and the alias it
// also accepts. The index in the table is the kernel value.
type rejectType struct{ name, alias string }

// The holes are echo-reply (4, v4) and not-neighbour and echo-reply (2 and
// 5, v6), which the kernel refuses.
var (
	rejectTypes4 = []rejectType{
		{"icmp-net-unreachable", "net-unreach"},
		{"icmp-host-unreachable", "host-unreach"},
		{"icmp-proto-unreachable", "proto-unreach"},
		{"icmp-port-unreachable", "port-unreach"},
		{},
		{"icmp-net-prohibited", "net-prohib"},
		{"icmp-host-prohibited", "host-prohib"},
		{"tcp-reset", "tcp-rst"},
		{"icmp-admin-prohibited", "admin-prohib"},
	}
	rejectTypes6 = []rejectType{
		{"icmp6-no-route", "no-route"},
		{"icmp6-adm-prohibited", "adm-prohibited"},
		{},
		{"icmp6-addr-unreachable", "addr-unreach"},
		{"icmp6-port-unreachable", "port-unreach"},
		{},
		{"tcp-reset", "tcp-reset"},
		{"icmp6-policy-fail", "policy-fail"},
		{"icmp6-reject-route", "reject-route"},
	}
)

const (
	rejectPortUnreach4 = 3
	rejectTCPReset4    = 7
	rejectPortUnreach6 = 4
	rejectTCPReset6    = 6
)

// REJECT is only in the filter table, whose hooks are all allowed.
var (
	rejectTargetInfo = &table.ExtInfo{
		Name: "REJECT", Kind: table.TargetKind, Family: table.IPv4, Size: rejectSize,
		Options: opts("reject-with="),
		Tables:  []string{"filter"},
		New:     func(table.Family) table.Ext { return &Reject{With: rejectPortUnreach4} },
	}
	reject6TargetInfo = &table.ExtInfo{
		Name: "REJECT", Kind: table.TargetKind, Family: table.IPv6, Size: rejectSize,
		Options: opts("reject-with="),
		Tables:  []string{"filter"},
		New:     func(table.Family) table.Ext { return &Reject6{With: rejectPortUnreach6} },
	}
)

// parseRejectWith finds a reply type as iptables does: the first type
// (in kernel order) whose name or alias starts with the argument, ignoring
// case, so "tcp" is tcp-reset and "icmp-h" icmp-host-unreachable.
func parseRejectWith(types []rejectType, s string) (uint32, error) {
	if s != "" {
		for i, t := range types {
			if t.name == "" {
				continue
			}
			if len(s) <= len(t.name) && strings.EqualFold(t.name[:len(s)], s) ||
				len(s) <= len(t.alias) && strings.EqualFold(t.alias[:len(s)], s) {
				return uint32(i), nil
			}
		}
	}
	var names []string
	for _, t := range types {
		if t.name != "" {
			names = append(names, t.name)
		}
	}
	return 0, table.WithHint("types are "+strings.Join(names, ", "), "unknown reject type %q", s)
}

// rejectCheck is the kernel's rule for tcp-reset: the rule must match
// TCP only.
func rejectCheck(c *table.CheckContext, with, tcpReset uint32) error {
	if with != tcpReset {
		return nil
	}
	return needProto(c, "REJECT --reject-with tcp-reset", 6)
}

func (t *Reject) Info() *table.ExtInfo { return rejectTargetInfo }
func (t *Reject) Name() string         { return "REJECT" }

func (t *Reject) Parse(a *table.OptArgs) error {
	if a.Key() != "reject-with" {
		return unknownOption(a)
	}
	v, err := parseRejectWith(rejectTypes4, a.Arg)
	t.With = v
	return err
}

func (t *Reject) Finish(*table.FinishContext) error { return nil }
func (t *Reject) Check(c *table.CheckContext) error {
	return rejectCheck(c, t.With, rejectTCPReset4)
}

func (t *Reject) Print(w *table.Writer) {
	w.Opt(false, "reject-with", rejectName(rejectTypes4, t.With))
}

func (t *Reject6) Info() *table.ExtInfo { return reject6TargetInfo }
func (t *Reject6) Name() string         { return "REJECT" }

func (t *Reject6) Parse(a *table.OptArgs) error {
	if a.Key() != "reject-with" {
		return unknownOption(a)
	}
	v, err := parseRejectWith(rejectTypes6, a.Arg)
	t.With = v
	return err
}

func (t *Reject6) Finish(*table.FinishContext) error { return nil }
func (t *Reject6) Check(c *table.CheckContext) error {
	return rejectCheck(c, t.With, rejectTCPReset6)
}

func (t *Reject6) Print(w *table.Writer) {
	w.Opt(false, "reject-with", rejectName(rejectTypes6, t.With))
}

func rejectName(types []rejectType, with uint32) string {
	if int(with) < len(types) && types[with].name != "" {
		return types[with].name
	}
	return fmt.Sprint(with)
}

// struct ipt_reject_info and struct ip6t_reject_info: with u32@0.
const rejectSize = 4

// putReject writes the struct into dst (zeroed, XT_ALIGN(rejectSize)
// bytes).
func putReject(dst []byte, with uint32) {
	w := xtbin.Writer{B: dst}
	w.U32(0, with)
}

func rejectUnmarshal(data []byte) (uint32, error) {
	r := xtbin.NewReader(data)
	v := r.U32(0)
	return v, r.Err()
}

func (t *Reject) PutPayload(_ table.Family, dst []byte) error {
	putReject(dst, t.With)
	return nil
}
func (t *Reject) UnmarshalPayload(_ table.Family, data []byte) (err error) {
	t.With, err = rejectUnmarshal(data)
	return err
}

func (t *Reject6) PutPayload(_ table.Family, dst []byte) error {
	putReject(dst, t.With)
	return nil
}
func (t *Reject6) UnmarshalPayload(_ table.Family, data []byte) (err error) {
	t.With, err = rejectUnmarshal(data)
	return err
}
