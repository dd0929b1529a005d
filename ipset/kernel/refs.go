package kernel

import (
	"fmt"
	"sort"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// Ref is a rule's use of a set: the set match (--match-set) or the SET
// target (--add-set, --del-set, --map-set).
type Ref struct {
	Set    string
	Family table.Family
	// Dim is how many src/dst flags the rule gives: the kernel matches
	// (and adds) only when it is at least the set type's dimension.
	Dim   int
	Table string
	Chain string
	Pos   table.Pos
	// Option is how the rule names the set ("--match-set", "--add-set",
	// ...), for messages.
	Option string
}

// RuleRefs returns the uses of sets in the rulesets, in rule order. This
// is the one place outside table/ext that knows the set extensions.
func RuleRefs(rulesets ...*table.Ruleset) []Ref {
	var refs []Ref
	for _, rs := range rulesets {
		if rs == nil {
			continue
		}
		for _, tb := range rs.Tables {
			for _, ch := range tb.Chains {
				for _, r := range ch.Rules {
					add := func(name string, dim uint8, opt string) {
						if name != "" {
							refs = append(refs, Ref{Set: name, Family: rs.Family, Dim: int(dim), Table: tb.Name, Chain: ch.Name, Pos: r.Pos, Option: opt})
						}
					}
					for _, m := range r.Matches {
						if s, ok := m.(*ext.Set); ok {
							add(s.MatchSet.Name, s.MatchSet.Dim, "--match-set")
						}
					}
					if t, ok := r.Target.(*ext.SetTarget); ok {
						add(t.AddSet.Name, t.AddSet.Dim, "--add-set")
						add(t.DelSet.Name, t.DelSet.Dim, "--del-set")
						add(t.MapSet.Name, t.MapSet.Dim, "--map-set")
					}
				}
			}
		}
	}
	return refs
}

// CheckRefs checks every use of a set against the sets it will meet:
// those of the file (file), else those of the kernel (kernel). A set
// must exist, be of the rule's family (or of none, as list:set), and
// have no more parts than the rule gives src/dst flags for; the kernel
// takes the last two wrongs and the rule then never matches. The errors
// name the rule's position.
func CheckRefs(refs []Ref, file, kernel []*ipset.Set) error {
	by := map[string]*ipset.Set{}
	for _, s := range kernel {
		by[s.Name] = s
	}
	for _, s := range file {
		by[s.Name] = s
	}
	var errs table.ErrorList
	for _, r := range refs {
		s := by[r.Set]
		var err error
		switch {
		case s == nil:
			err = table.WithHint("add the set to the set file, or create it first", "%s: set %q does not exist", r.Option, r.Set)
		default:
			err = checkRef(r, s, by)
		}
		if err != nil && errs.Add(table.At(r.Pos, err)) {
			break
		}
	}
	errs.Sort()
	return errs.Err()
}

func checkRef(r Ref, s *ipset.Set, by map[string]*ipset.Set) error {
	want := ipset.FamilyInet
	if r.Family == table.IPv6 {
		want = ipset.FamilyInet6
	}
	if s.Family != ipset.FamilyNone && s.Family != want {
		return fmt.Errorf("%s: set %q is of family %s, an %s rule never matches it", r.Option, r.Set, s.Family, want)
	}
	members := []*ipset.Set{s}
	if s.Type.Kind == ipset.List {
		// A list:set matches with its members, each with its own parts.
		members = members[:0]
		for _, m := range s.Members {
			if x := by[m.Name]; x != nil {
				members = append(members, x)
			}
		}
	}
	for _, x := range members {
		if x.Family != ipset.FamilyNone && x.Family != want && x != s {
			return fmt.Errorf("%s: set %q holds set %q of family %s, which an %s rule never matches", r.Option, r.Set, x.Name, x.Family, want)
		}
		if n := len(x.Type.Dims); r.Dim < n {
			what := fmt.Sprintf("set %q", r.Set)
			if x != s {
				what = fmt.Sprintf("set %q (in list %q)", x.Name, r.Set)
			}
			return table.WithHint(fmt.Sprintf("give %d flags, such as %s", n, dirsHint(n)),
				"%s: %s is of type %s with %d parts, the rule gives %d src/dst flags and never matches", r.Option, what, x.Type.Name, n, r.Dim)
		}
	}
	return nil
}

func dirsHint(n int) string {
	s := "src"
	for i := 1; i < n; i++ {
		s += ",dst"
	}
	return s
}

// Referenced returns the sets of sets that the refs name, with the
// members of the list:sets among them, in the order of sets.
func Referenced(refs []Ref, sets []*ipset.Set) []*ipset.Set {
	by := map[string]*ipset.Set{}
	for _, s := range sets {
		by[s.Name] = s
	}
	want := map[string]bool{}
	for _, r := range refs {
		want[r.Set] = true
		if s := by[r.Set]; s != nil && s.Type.Kind == ipset.List {
			for _, m := range s.Members {
				want[m.Name] = true
			}
		}
	}
	var out []*ipset.Set
	for _, s := range sets {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// Missing returns the names the refs use that none of sets has, sorted.
func Missing(refs []Ref, sets []*ipset.Set) []string {
	have := map[string]bool{}
	for _, s := range sets {
		have[s.Name] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		if !have[r.Set] && !seen[r.Set] {
			seen[r.Set] = true
			out = append(out, r.Set)
		}
	}
	sort.Strings(out)
	return out
}
