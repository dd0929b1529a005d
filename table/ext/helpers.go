package ext

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Helpers of the extension files that are not values: option tables,
// the usual checks, and the kernel's rules several extensions share.

// opts builds an option list tersely: each spec is "name", "name=" (takes
// an argument), a leading "!" for negatable, and "|alias" entries for other
// spellings of the previous option.
func opts(specs ...string) []table.Option {
	var out []table.Option
	for _, s := range specs {
		alias := ""
		if strings.HasPrefix(s, "|") {
			alias = out[len(out)-1].Key()
			s = s[1:]
		}
		o := table.Option{Alias: alias}
		if strings.HasPrefix(s, "!") {
			o.Invert, s = true, s[1:]
		}
		if strings.HasPrefix(s, "*") {
			o.Multi, s = true, s[1:]
		}
		switch {
		case strings.HasSuffix(s, "=?"):
			o.Arg, s = table.OptionalArg, strings.TrimSuffix(s, "=?")
		case strings.HasSuffix(s, "="):
			o.Arg, s = table.OneArg, strings.TrimSuffix(s, "=")
		}
		if alias != "" {
			prev := out[len(out)-1]
			o.Invert, o.Arg, o.Multi = prev.Invert, prev.Arg, prev.Multi
		}
		o.Name = s
		out = append(out, o)
	}
	return out
}

// unknownOption is what Parse returns for an option it was given but does
// not handle; it means the option table and the switch disagree.
func unknownOption(a *table.OptArgs) error {
	return fmt.Errorf("internal error: option --%s not handled", a.Opt.Name)
}

// needProto is the usual check of protocol matches: the kernel accepts them
// only when the rule's protocol is theirs and not negated.
func needProto(c *table.CheckContext, match string, protos ...uint8) error {
	ip := &c.Rule.IP
	for _, p := range protos {
		if ip.Proto == p && !ip.InvProto {
			return nil
		}
	}
	names := make([]string, len(protos))
	for i, p := range protos {
		names[i] = "-p " + protoName(p)
	}
	return table.WithHint("add '"+strings.Join(names, "' or '")+"' before it", "%s needs %s", match, strings.Join(names, " or "))
}

// needL4Proto is the kernel's rule for CT helpers and timeouts: the rule
// must name a layer 4 protocol, not negated.
func needL4Proto(c *table.CheckContext, what string) error {
	ip := &c.Rule.IP
	if ip.Proto == 0 || ip.InvProto {
		return table.WithHint("add '-p tcp' or '-p udp' before it", "%s needs a layer 4 protocol (-p, not negated)", what)
	}
	return nil
}

// onlyOne reports an error when more than one of the options in names
// was given: libxtables' .excl masks, checked once all options are known,
// which refuses the same rules as checking them option by option.
func onlyOne(c *table.FinishContext, names ...string) error {
	var seen []string
	for _, n := range names {
		if c.Seen.Has(n) {
			seen = append(seen, "--"+n)
		}
	}
	if len(seen) > 1 {
		return fmt.Errorf("%s cannot be used together", strings.Join(seen, " and "))
	}
	return nil
}

// requireOne is the usual "an action is required" check.
func requireOne(c *table.FinishContext, names ...string) error {
	for _, n := range names {
		if c.Seen.Has(n) {
			return nil
		}
	}
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = "--" + n
	}
	if len(list) == 1 {
		return fmt.Errorf("%s is required", list[0])
	}
	return fmt.Errorf("one of %s is required", strings.Join(list, ", "))
}

// hookNames names the hooks of a mask for messages.
func hookNames(m table.HookMask) string {
	var names []string
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if m&h.Mask() != 0 {
			names = append(names, h.String())
		}
	}
	return strings.Join(names, ", ")
}

// hooksOnly reports whether every hook in have is in allowed.
func hooksOnly(have table.HookMask, allowed ...table.Hook) bool {
	var m table.HookMask
	for _, h := range allowed {
		m |= h.Mask()
	}
	return have&^m == 0
}

// prefixFold reports whether word is a non-empty, case-insensitive
// prefix of keyword, the way strncasecmp(word, keyword, len(word)) is used
// by the state parsers: "est" and "E" both mean ESTABLISHED.
func prefixFold(word, keyword string) bool {
	return word != "" && len(word) <= len(keyword) && strings.EqualFold(word, keyword[:len(word)])
}

// flagNames is a name table for a bit mask printed as a comma list.
type flagNames []struct {
	name string
	bit  uint32
}

// text lists the names of the bits set in mask in table order.
func (t flagNames) text(mask uint32) string {
	var out []string
	for _, n := range t {
		if mask&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

// checkProcName is the kernel's xt_check_proc_name, which hashlimit and recent
// apply to their table names (they become /proc file names).
func checkProcName(opt, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("--%s must not be empty", opt)
	case name == "." || name == "..":
		return fmt.Errorf("--%s %q is not a valid /proc file name", opt, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("--%s %q contains '/', which the kernel refuses", opt, name)
	}
	return nil
}

// notBare are the bytes that keep a name iptables-save prints without
// quoting from reading back as the same word: blanks and the double quote.
const notBare = " \t\n\v\f\r\""

// isBare reports whether a non-empty name reads back as printed.
func isBare(s string) bool { return s != "" && !strings.ContainsAny(s, notBare) }

// checkBareName refuses names that iptables-save prints without quoting but
// that its restore cannot read back (a blank or a double quote would split
// or open a word): the kernel takes them, but the saved rule is lost on the
// next restore.
func checkBareName(opt, name string) error {
	if i := strings.IndexAny(name, notBare); i >= 0 {
		return table.WithHint("iptables-save prints this name unquoted, so the saved rule cannot be restored",
			"--%s %q contains %q", opt, name, name[i:i+1])
	}
	return nil
}

// truncate cuts s to the n bytes a fixed-size field keeps (libxtables
// copies string options with strncpy and a terminating NUL).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkNameLen refuses a name longer than the max bytes its kernel field
// holds. iptables cuts such a name without a word, so two names meant to
// be distinct can end up as the same kernel object (hash table, list,
// estimator); fw says so instead.
func checkNameLen(opt, s string, max int) error {
	if len(s) > max {
		return table.WithHint(fmt.Sprintf("the kernel keeps at most %d bytes; iptables would cut the name", max),
			"--%s %q is too long (%d bytes, at most %d)", opt, s, len(s), max)
	}
	return nil
}

// needWhole makes r fail unless its buffer holds a whole struct of size
// bytes, for decoders that do not read up to the struct's last field (its
// tail is kernel-private).
func needWhole(r *xtbin.Reader, size int) {
	r.U8(size - 1)
}

// earlierConflict finds the first extension that the kernel checks before self
// (entries in blob order: built-in chains in hook order, user chains by
// name; within an entry the matches in order, then the target) and for
// which conflict is true, with the rule that holds it. Kernel objects
// shared by name (hashlimit tables, estimators, idle timers) are created
// by the first rule that names them; a later rule whose parameters do not
// fit is the one the kernel refuses. Without the whole table it looks at
// the rule alone.
func earlierConflict(c *table.CheckContext, self table.Ext, conflict func(table.Ext) bool) (table.Ext, *table.Rule) {
	var rules []*table.Rule
	if c.Table == nil {
		rules = []*table.Rule{c.Rule}
	} else {
		chains := slices.Clone(c.Table.Chains)
		slices.SortStableFunc(chains, func(a, b *table.Chain) int {
			ha, aBuiltin := table.HookByName(a.Name)
			hb, bBuiltin := table.HookByName(b.Name)
			aBuiltin, bBuiltin = aBuiltin && a.Builtin, bBuiltin && b.Builtin
			switch {
			case aBuiltin && bBuiltin:
				return int(ha) - int(hb)
			case aBuiltin != bBuiltin:
				if aBuiltin {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Name, b.Name)
		})
		for _, ch := range chains {
			rules = append(rules, ch.Rules...)
		}
	}
	for _, r := range rules {
		t, _ := r.Target.(table.Ext)
		for i := 0; i <= len(r.Matches); i++ {
			e := t
			if i < len(r.Matches) {
				e = r.Matches[i]
			}
			switch {
			case e == nil:
			case e == self:
				return nil, nil
			case conflict(e):
				return e, r
			}
		}
	}
	return nil, nil
}

// ruleWhere names the rule of an earlier conflicting extension for a
// message: its line when it came from a file.
func ruleWhere(r *table.Rule) string {
	if r != nil && r.Pos.IsValid() {
		return fmt.Sprintf(" (line %d)", r.Pos.Line)
	}
	return ""
}

// Protocol numbers of the protocol matches.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoESP     = 50
	protoAH      = 51
	protoICMPv6  = 58
	protoComp    = 108
	protoSCTP    = 132
	protoMH      = 135
	protoUDPLite = 136
)

// protoName names the protocols of the protocol matches for messages,
// the way one writes them after -p.
func protoName(p uint8) string {
	switch p {
	case protoDCCP:
		return "dccp"
	case protoComp:
		return "ipcomp"
	}
	return table.ProtocolName(p, nil)
}
