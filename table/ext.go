package table

import (
	"fmt"
	"sort"
)

// ExtKind tells matches from targets.
type ExtKind uint8

const (
	MatchKind ExtKind = iota
	TargetKind
)

func (k ExtKind) String() string {
	if k == TargetKind {
		return "target"
	}
	return "match"
}

// ArgKind says whether an option takes an argument word.
type ArgKind uint8

const (
	NoArg ArgKind = iota
	OneArg
	// OptionalArg takes the next word as argument when it does not start
	// with '-' (what iptables does by hand for options such as --log-level
	// in some extensions).
	OptionalArg
)

// Option is one command-line option of an extension, spelled without the
// leading "--".
type Option struct {
	Name string
	// Alias names the option this one is another spelling of (sport for
	// source-port); Parse sees the option through Key either way.
	Alias  string
	Arg    ArgKind
	Invert bool // may be preceded by '!'
	// Multi allows the option more than once; without it a repeated
	// option is an error, as in iptables (XTOPT_MULTI).
	Multi bool
}

// ExtInfo is the static description of an extension: its names, revision,
// options, and the kernel's constraints on where it may appear.
type ExtInfo struct {
	// Name is what the user writes after -m or -j, and what the registry
	// keys text lookups on.
	Name string
	// Aliases are other names iptables accepts for this extension after
	// -m/-p (icmp6: icmpv6, ipv6-icmp).
	Aliases []string
	// Kernel is the name stored in the kernel (conntrack for -m state, CT
	// for -j NOTRACK); empty means Name.
	Kernel string
	// TextOnly marks an alias extension (state, NOTRACK) that the binary
	// side never looks up: the kernel decoder of its real extension
	// produces it from a flag in the payload.
	TextOnly bool
	Revision uint8
	Kind     ExtKind
	Family   Family
	Options  []Option
	// Tables lists the tables the kernel accepts the extension in; nil
	// means every table.
	Tables []string
	// Hooks is the set of hooks from which a rule using the extension may
	// be reached; 0 means every hook.
	Hooks HookMask
	// New returns a zero value for the given family, ready for Parse.
	New func(f Family) Ext
	// Size is sizeof the kernel struct the payload mirrors (before
	// XT_ALIGN padding); the kernel refuses any other size.
	Size int
	// NamespaceObjects marks an extension whose payload refers to objects
	// that live in a network namespace (ipsets): its rules cannot be tried
	// out in a scratch namespace.
	NamespaceObjects bool
}

// KernelName is the name the extension has in the kernel.
func (e *ExtInfo) KernelName() string {
	if e.Kernel != "" {
		return e.Kernel
	}
	return e.Name
}

// Ext is a parsed match or target extension. Its fields mirror the kernel
// payload, because iptables prints from that payload: two spellings that
// encode the same bytes are the same value, which is what makes the printed
// form canonical.
type Ext interface {
	Info() *ExtInfo
	// Name is the name printed after -m or -j; it differs from Info().Name
	// for values that carry an alias flag.
	Name() string
	// Parse consumes one option. The option has already been found in
	// Info().Options; a negation has been checked against Option.Invert.
	Parse(a *OptArgs) error
	// Finish runs once all options were seen: required options, conflicts,
	// defaults, normalisation.
	Finish(c *FinishContext) error
	// Print writes the options in iptables-save order.
	Print(w *Writer)
}

// Payload is the kernel side of an extension value: the bytes after the
// 32-byte xt_entry_match / xt_entry_target header, per family.
//
// Encoding writes into a buffer the caller owns rather than returning a
// new slice: a kernel encoder puts every payload of a 100k-rule table
// straight into the blob or message it is building (or into one scratch
// buffer it reuses), with no allocation per rule.
type Payload interface {
	// PutPayload writes the payload into dst, which is exactly
	// XT_ALIGN(Info().Size) bytes long and all zero on entry (the
	// kernel's struct with its padding), so an implementation need not
	// write zero fields. It writes nothing past len(dst), assumes nothing
	// else about dst, and must not keep it. On error dst's content is
	// unspecified; the caller discards it.
	PutPayload(f Family, dst []byte) error
	// UnmarshalPayload fills the value from a payload as the kernel
	// returns it (at least Info().Size bytes; kernel-private parts zero).
	// It must not keep data: decoders hand over slices of the kernel's
	// reply (a table blob, a netlink dump buffer) that are reused or
	// unmapped next.
	UnmarshalPayload(f Family, data []byte) error
}

// MarshalPayload returns p's payload in a new slice of XT_ALIGN(info.Size)
// bytes, for callers that want a slice of their own (tests, rare paths);
// encoders of whole tables call PutPayload into their own buffers.
func MarshalPayload(p Payload, info *ExtInfo, f Family) ([]byte, error) {
	b := make([]byte, xtAlign(info.Size))
	if err := p.PutPayload(f, b); err != nil {
		return nil, err
	}
	return b, nil
}

// xtAlign rounds n up to XT_ALIGN, 8 bytes (internal/xtbin.Align, which
// package table may not import).
func xtAlign(n int) int { return (n + 7) &^ 7 }

// Aliased is implemented by values whose alias flag changes only how they
// are printed (-m state is conntrack, -j NOTRACK is CT --notrack): the
// kernel matches them exactly like the plain form, so the semantic diff
// compares Unaliased() instead.
type Aliased interface {
	Unaliased() Ext
}

// Checker is implemented by extensions whose validity depends on the rule
// around them or on where the rule is reachable from (the kernel's
// checkentry). It runs when the whole table is known.
type Checker interface {
	Check(c *CheckContext) error
}

// OptArgs is what an extension's Parse sees for one option.
type OptArgs struct {
	Opt    *Option
	Invert bool
	Family Family
	IP     *IPHeader // the rule's header as parsed so far
	// Names resolves the names an argument may hold (services, hosts,
	// users, ...): the Registry's resolver.
	Names Resolver
	// Arg is the option's argument (empty for NoArg options).
	Arg string
	// HasArg tells an empty argument from an absent one (OptionalArg).
	HasArg bool
	// extra serves Next: the words after the argument.
	extra func() (string, bool)
}

// Keep returns s. The argument and the words from Next are strings of
// their own (the parser copies every word out of its input), so an
// extension may keep any of them, or a part of one, in its value as it
// is; Keep has nothing left to do and goes once no extension calls it.
func (a *OptArgs) Keep(s string) string { return s }

// Key is the option's main name: its own, or the one it is an alias of.
func (o *Option) Key() string {
	if o.Alias != "" {
		return o.Alias
	}
	return o.Name
}

// Key is the main name of the option being parsed.
func (a *OptArgs) Key() string { return a.Opt.Key() }

// Set refills a for the next option; parsers reuse one OptArgs, so an
// extension must not keep the pointer.
func (a *OptArgs) Set(opt *Option, invert bool, fam Family, ip *IPHeader, names Resolver, arg string, hasArg bool, next func() (string, bool)) {
	*a = OptArgs{Opt: opt, Invert: invert, Family: fam, IP: ip, Names: names, Arg: arg, HasArg: hasArg, extra: next}
}

// Next takes one more word from the rule (for options such as --tcp-flags
// MASK COMP). It returns false when the rule has no more words or the next
// one is an option.
func (a *OptArgs) Next() (string, bool) {
	if a.extra == nil {
		return "", false
	}
	return a.extra()
}

// FinishContext is what an extension's Finish sees.
type FinishContext struct {
	Family Family
	IP     *IPHeader
	// Seen holds the options given, by main name, for "required" checks.
	Seen OptSet
}

// OptSet is the set of options given to one extension on a rule, by main
// name: a handful at most, for which a slice is much cheaper than a map
// on a 100k-rule file.
type OptSet []string

// Has reports whether the option was given.
func (s OptSet) Has(name string) bool {
	for _, x := range s {
		if x == name {
			return true
		}
	}
	return false
}

// CheckContext is what a Checker sees.
type CheckContext struct {
	Family    Family
	TableName string
	Chain     string
	// Hooks is the set of hooks the rule's chain is reachable from.
	Hooks HookMask
	Rule  *Rule
	// Table is the whole table, for the kernel checks that compare rules
	// with each other (one hashlimit name with two configurations, one
	// IDLETIMER label with two timer types).
	Table *Table
	// NFTCompat says the rule goes to nf_tables' compat layer
	// (iptables-nft), whose checkentry calls set par->nft_compat: some
	// extensions skip checks that need a whole x_tables entry then.
	NFTCompat bool
}

// Normalizer is an extension whose payload can hold bytes the kernel
// ignores for a family (the IPv6 part of an address or mask in an IPv4
// rule), so that two payloads that match the same packets differ. Digests,
// and so fw-diff and the incremental commit, compare its Normal form.
type Normalizer interface {
	Normal(f Family) Ext
}

// Registry holds every extension fw knows. Text lookups go by user name
// and pick the newest revision for the family; binary lookups go by kernel
// name and revision.
type Registry struct {
	// Indexed by ExtKind: the parser looks an extension up for every -m
	// and -j, and an array index costs nothing next to a map's hash.
	byName   [2]map[string][]*ExtInfo
	byKernel [2]map[string][]*ExtInfo
	all      []*ExtInfo
	names    Resolver
}

// NewRegistry returns a registry holding infos.
func NewRegistry(infos ...*ExtInfo) *Registry {
	r := &Registry{
		byName:   [2]map[string][]*ExtInfo{MatchKind: {}, TargetKind: {}},
		byKernel: [2]map[string][]*ExtInfo{MatchKind: {}, TargetKind: {}},
	}
	for _, e := range infos {
		r.add(e)
	}
	return r
}

// WithNames returns a registry of the same extensions that resolves names
// through names instead of SystemResolver.
func (r *Registry) WithNames(names Resolver) *Registry {
	c := *r
	c.names = names
	return &c
}

// Names is the resolver that arguments are parsed with: the one given to
// WithNames, else SystemResolver.
func (r *Registry) Names() Resolver {
	if r.names == nil {
		return SystemResolver()
	}
	return r.names
}

func (r *Registry) add(e *ExtInfo) {
	if e.New == nil || e.Name == "" || e.Family == 0 {
		panic(fmt.Sprintf("table: incomplete extension %q", e.Name))
	}
	r.all = append(r.all, e)
	for _, n := range append([]string{e.Name}, e.Aliases...) {
		r.byName[e.Kind][n] = insertByRev(r.byName[e.Kind][n], e)
	}
	if !e.TextOnly {
		k := e.KernelName()
		r.byKernel[e.Kind][k] = insertByRev(r.byKernel[e.Kind][k], e)
	}
}

func insertByRev(list []*ExtInfo, e *ExtInfo) []*ExtInfo {
	list = append(list, e)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Revision > list[j].Revision })
	return list
}

// Lookup returns the newest revision of the extension a user calls name,
// for family f, or nil.
func (r *Registry) Lookup(kind ExtKind, name string, f Family) *ExtInfo {
	for _, e := range r.byName[kind][name] {
		if e.Family.Has(f) {
			return e
		}
	}
	return nil
}

// Known reports whether name is an extension of that kind for any family,
// to tell "unknown match" from "match not available for IPv6".
func (r *Registry) Known(kind ExtKind, name string) bool {
	return len(r.byName[kind][name]) > 0
}

// ByKernel returns the extension stored in the kernel as name at revision
// rev for family f, or nil.
func (r *Registry) ByKernel(kind ExtKind, name string, rev uint8, f Family) *ExtInfo {
	for _, e := range r.byKernel[kind][name] {
		if e.Revision == rev && e.Family.Has(f) {
			return e
		}
	}
	return nil
}

// Revisions lists the revisions known for a kernel name and family, newest
// first, for revision negotiation.
func (r *Registry) Revisions(kind ExtKind, name string, f Family) []*ExtInfo {
	var out []*ExtInfo
	for _, e := range r.byKernel[kind][name] {
		if e.Family.Has(f) {
			out = append(out, e)
		}
	}
	return out
}

// All returns every registered extension in registration order.
func (r *Registry) All() []*ExtInfo { return r.all }

// Match is a match extension value.
type Match = Ext
