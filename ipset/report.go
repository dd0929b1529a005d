package ipset

import (
	"fmt"
	"io"
	"strings"
)

// The renderings of a Diff for fw-diff: text, counts per set, and
// records for its JSON report.

// ChangeKinds are the kinds of set changes in the order they are
// counted.
var ChangeKinds = []ChangeKind{SetAdded, SetRemoved, SetChanged, MemberAdded, MemberRemoved}

// WriteText writes the changes as diff lines under a header naming both
// sides: "+create ..." and "-create ..." for sets added and removed,
// "~create ... (what)" for a changed definition, "+add ..." and
// "-add ..." for members.
func WriteText(w io.Writer, oldName, newName string, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "--- %s sets\n+++ %s sets\n", oldName, newName); err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := io.WriteString(w, c.String()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Counts counts the changes by kind.
func Counts(cs []Change) map[ChangeKind]int {
	m := map[ChangeKind]int{}
	for _, c := range cs {
		m[c.Kind]++
	}
	return m
}

// Summary is a one-line count of the changes.
func Summary(cs []Change) string {
	if len(cs) == 0 {
		return "no set differences"
	}
	m := Counts(cs)
	var parts []string
	for _, k := range ChangeKinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return fmt.Sprintf("%d set changes: %s", len(cs), strings.Join(parts, ", "))
}

// WriteStat writes the counts per set, like diff --stat, then the
// summary.
func WriteStat(w io.Writer, cs []Change) error {
	var order []string
	by := map[string]map[ChangeKind]int{}
	for _, c := range cs {
		if by[c.Set] == nil {
			by[c.Set] = map[ChangeKind]int{}
			order = append(order, c.Set)
		}
		by[c.Set][c.Kind]++
	}
	for _, name := range order {
		line := "set " + name + ":"
		for _, k := range ChangeKinds {
			if n := by[name][k]; n > 0 {
				line += fmt.Sprintf(" %d %s", n, k)
			}
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, Summary(cs))
	return err
}

// JSONChange is a set change in fw-diff's JSON report:
//
//	{"kind": "member-added", "set": "blocklist", "new": "add blocklist 192.0.2.7", "new_line": 12}
//	{"kind": "set-changed", "set": "blocklist", "old": "create ...", "new": "create ...", "what": ["maxelem 65536 -> 1000"]}
//
// kind is one of set-added, set-removed, set-changed, member-added,
// member-removed; old and new are create or add lines; *_line are line
// numbers when that side is a file.
type JSONChange struct {
	Kind    ChangeKind `json:"kind"`
	Set     string     `json:"set"`
	Old     string     `json:"old,omitempty"`
	New     string     `json:"new,omitempty"`
	What    []string   `json:"what,omitempty"`
	OldLine int        `json:"old_line,omitempty"`
	NewLine int        `json:"new_line,omitempty"`
}

// JSONChanges turns changes into their JSON records.
func JSONChanges(cs []Change) []JSONChange {
	out := make([]JSONChange, 0, len(cs))
	line := func(b []byte) string { return strings.TrimSuffix(string(b), "\n") }
	for _, c := range cs {
		j := JSONChange{Kind: c.Kind, Set: c.Set, What: c.What}
		switch c.Kind {
		case SetAdded:
			j.New, j.NewLine = line(AppendCreate(nil, c.New)), c.New.Pos.Line
		case SetRemoved:
			j.Old, j.OldLine = line(AppendCreate(nil, c.Old)), c.Old.Pos.Line
		case SetChanged:
			j.Old, j.OldLine = line(AppendCreate(nil, c.Old)), c.Old.Pos.Line
			j.New, j.NewLine = line(AppendCreate(nil, c.New)), c.New.Pos.Line
		case MemberAdded:
			j.New, j.NewLine = line(AppendAdd(nil, c.New, c.Member)), int(c.Member.Line)
		case MemberRemoved:
			j.Old, j.OldLine = line(AppendAdd(nil, c.Old, c.Member)), int(c.Member.Line)
		}
		out = append(out, j)
	}
	return out
}

// Select returns the sets of sets named in names, in the order of sets.
func Select(sets []*Set, names []string) []*Set {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*Set
	for _, s := range sets {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
