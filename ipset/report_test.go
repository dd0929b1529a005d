package ipset

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, name, src string) []*Set {
	t.Helper()
	s, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDiffReports compares two states of the sets and renders the
// changes: members compare as sets (order and timeouts are no change),
// definitions by option.
func TestDiffReports(t *testing.T) {
	old := mustParse(t, "old", `create gone hash:ip
create keep hash:ip timeout 60
add keep 10.0.0.1 timeout 5
add keep 10.0.0.2
create grow hash:net maxelem 100
add grow 10.0.0.0/8
add grow 192.0.2.0/24
create lst list:set
add lst keep
add lst grow
`)
	new := mustParse(t, "new", `create keep hash:ip timeout 60
add keep 10.0.0.2 timeout 30
add keep 10.0.0.1
create grow hash:net maxelem 200 counters
add grow 10.0.0.0/8
add grow 198.51.100.0/24
create lst list:set
add lst grow
add lst keep
create fresh hash:ip,port
`)
	cs := Diff(old, new)
	var text bytes.Buffer
	if err := WriteText(&text, "old", "new", cs); err != nil {
		t.Fatal(err)
	}
	wantText := `--- old sets
+++ new sets
+create fresh hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12
-create gone hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12
~create grow hash:net family inet hashsize 1024 maxelem 200 counters bucketsize 12 (maxelem 100 -> maxelem 200, +counters)
-add grow 192.0.2.0/24
+add grow 198.51.100.0/24 packets 0 bytes 0
~create lst list:set size 8 (member order)
`
	if d := cmp.Diff(wantText, text.String()); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	var stat bytes.Buffer
	if err := WriteStat(&stat, cs); err != nil {
		t.Fatal(err)
	}
	wantStat := `set fresh: 1 set-added
set gone: 1 set-removed
set grow: 1 set-changed 1 member-added 1 member-removed
set lst: 1 set-changed
6 set changes: 1 set-added, 1 set-removed, 2 set-changed, 1 member-added, 1 member-removed
`
	if d := cmp.Diff(wantStat, stat.String()); d != "" {
		t.Errorf("stat (-want +got):\n%s", d)
	}
	js, err := json.Marshal(JSONChanges(cs[3:5]))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `[{"kind":"member-removed","set":"grow","old":"add grow 192.0.2.0/24","old_line":7},` +
		`{"kind":"member-added","set":"grow","new":"add grow 198.51.100.0/24 packets 0 bytes 0","new_line":6}]`
	if d := cmp.Diff(wantJSON, string(js)); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}
	if d := Diff(new, new); len(d) != 0 {
		t.Errorf("a state differs from itself: %v", d)
	}
}
