package ipset

import (
	"sort"
	"strings"
)

// ChangeKind is what a Change does, in the words of fw-diff's JSON.
type ChangeKind string

const (
	SetAdded      ChangeKind = "set-added"
	SetRemoved    ChangeKind = "set-removed"
	SetChanged    ChangeKind = "set-changed"
	MemberAdded   ChangeKind = "member-added"
	MemberRemoved ChangeKind = "member-removed"
)

// Change is one difference between two states of the sets.
type Change struct {
	Kind ChangeKind
	Set  string
	// Old and New are the set before and after: Old is nil for
	// set-added, New for set-removed.
	Old, New *Set
	// Member is the member added (of New) or removed (of Old).
	Member *Entry
	// What says what changed in a set-changed: the options that differ,
	// or that a list:set's members are in another order.
	What []string
}

// String is the change as a line of a diff: the create or add line
// with '+' or '-', and '~' with what changed for a set-changed.
func (c Change) String() string {
	switch c.Kind {
	case SetAdded:
		return "+" + strings.TrimSuffix(string(AppendCreate(nil, c.New)), "\n")
	case SetRemoved:
		return "-" + strings.TrimSuffix(string(AppendCreate(nil, c.Old)), "\n")
	case SetChanged:
		return "~" + strings.TrimSuffix(string(AppendCreate(nil, c.New)), "\n") + " (" + strings.Join(c.What, ", ") + ")"
	case MemberAdded:
		return "+" + strings.TrimSuffix(string(AppendAdd(nil, c.New, c.Member)), "\n")
	case MemberRemoved:
		return "-" + strings.TrimSuffix(string(AppendAdd(nil, c.Old, c.Member)), "\n")
	}
	return string(c.Kind)
}

// Diff compares two states of the sets by name. Definitions compare as
// SameDefinition does (the kernel's own tuning, hashsize, bucketsize and
// initval, is no change); members compare as sets of their Key, so
// their order is no change (but in a list:set, where the kernel matches
// members in order), nor are their timeouts and counters, which run on
// in the kernel. A set whose type or family changed is one set-changed;
// its members are not compared. The changes come by set name, each
// set's own change first, then its members removed, then added.
func Diff(old, new []*Set) []Change {
	oldBy := map[string]*Set{}
	for _, s := range old {
		oldBy[s.Name] = s
	}
	newBy := map[string]*Set{}
	names := make([]string, 0, len(old)+len(new))
	for _, s := range new {
		newBy[s.Name] = s
		names = append(names, s.Name)
	}
	for _, s := range old {
		if newBy[s.Name] == nil {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	var out []Change
	for _, name := range names {
		a, b := oldBy[name], newBy[name]
		switch {
		case a == nil:
			out = append(out, Change{Kind: SetAdded, Set: name, New: b})
			continue
		case b == nil:
			out = append(out, Change{Kind: SetRemoved, Set: name, Old: a})
			continue
		}
		what := definitionChanges(a, b)
		if a.Type != b.Type || a.Family != b.Family {
			out = append(out, Change{Kind: SetChanged, Set: name, Old: a, New: b, What: what})
			continue
		}
		removed, added := memberChanges(a, b)
		if len(removed) == 0 && len(added) == 0 && a.Type.Kind == List && !sameOrder(a, b) {
			what = append(what, "member order")
		}
		if len(what) > 0 {
			out = append(out, Change{Kind: SetChanged, Set: name, Old: a, New: b, What: what})
		}
		for _, e := range removed {
			out = append(out, Change{Kind: MemberRemoved, Set: name, Old: a, New: b, Member: e})
		}
		for _, e := range added {
			out = append(out, Change{Kind: MemberAdded, Set: name, Old: a, New: b, Member: e})
		}
	}
	return out
}

// definitionChanges names what differs in the definitions of a and b.
func definitionChanges(a, b *Set) []string {
	var what []string
	if a.Type != b.Type {
		what = append(what, "type "+a.Type.Name+" -> "+b.Type.Name)
	}
	if a.Family != b.Family {
		what = append(what, "family "+a.Family.String()+" -> "+b.Family.String())
	}
	if len(what) > 0 || SameDefinition(a, b) {
		return what
	}
	// Compare option by option through the printer's words, so that a
	// change reads as the options a create line would have.
	wa, wb := optionWords(a), optionWords(b)
	for _, o := range b.Type.Opts {
		switch o {
		case OptHashSize, OptBucketSize, OptInitVal, OptFamily:
			continue
		}
		if wa[o] != wb[o] {
			switch {
			case wa[o] == "":
				what = append(what, "+"+wb[o])
			case wb[o] == "":
				what = append(what, "-"+wa[o])
			default:
				what = append(what, wa[o]+" -> "+wb[o])
			}
		}
	}
	return what
}

// optionWords are the words each option of s prints as.
func optionWords(s *Set) map[Opt]string {
	m := map[Opt]string{}
	for _, o := range s.Type.Opts {
		m[o] = strings.TrimPrefix(string(appendOpt(nil, s, o)), " ")
	}
	return m
}

// memberChanges returns the members of a that b lacks and those of b
// that a lacks, each in its set's order.
func memberChanges(a, b *Set) (removed, added []*Entry) {
	in := make(map[Key]struct{}, len(b.Members))
	for i := range b.Members {
		in[b.Members[i].Key()] = struct{}{}
	}
	had := make(map[Key]struct{}, len(a.Members))
	for i := range a.Members {
		k := a.Members[i].Key()
		had[k] = struct{}{}
		if _, ok := in[k]; !ok {
			removed = append(removed, &a.Members[i])
		}
	}
	for i := range b.Members {
		if _, ok := had[b.Members[i].Key()]; !ok {
			added = append(added, &b.Members[i])
		}
	}
	return removed, added
}

func sameOrder(a, b *Set) bool {
	if len(a.Members) != len(b.Members) {
		return false
	}
	for i := range a.Members {
		if a.Members[i].Key() != b.Members[i].Key() {
			return false
		}
	}
	return true
}

// Equal reports whether a and b are the same set for Diff: same
// definition, same members.
func Equal(a, b *Set) bool { return len(Diff([]*Set{a}, []*Set{b})) == 0 }
