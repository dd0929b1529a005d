package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// Report is the JSON form of a comparison. The schema is stable: fields
// are only ever added.
//
//	{
//	  "old": "rules.v4", "new": "kernel",
//	  "equal": false,
//	  "summary": {"changes": 2, "rule-added": 1, "policy": 1},
//	  "changes": [
//	    {"table": "filter", "chain": "INPUT", "kind": "rule-added",
//	     "new": "-A INPUT -p udp -m udp --dport 53 -j ACCEPT", "new_pos": 2, "new_line": 4},
//	    {"table": "filter", "chain": "INPUT", "kind": "policy", "old": "ACCEPT", "new": "DROP"}
//	  ]
//	}
//
// kind is one of policy, chain-added, chain-removed, rule-added,
// rule-removed, rule-changed, rule-moved, counters. old/new hold canonical
// rule lines (or policies, or "[packets:bytes]"); *_pos are 1-based rule
// numbers in the chain; *_line are line numbers in the file, when that
// side is a file.
type Report struct {
	Old     string         `json:"old"`
	New     string         `json:"new"`
	Equal   bool           `json:"equal"`
	Summary map[string]int `json:"summary"`
	Changes []Change       `json:"changes"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, oldName, newName string, cs []Change) error {
	r := Report{Old: oldName, New: newName, Equal: len(cs) == 0, Summary: map[string]int{"changes": len(cs)}, Changes: cs}
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	for _, c := range cs {
		r.Summary[string(c.Kind)]++
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteStat writes counts per table and chain, like diff --stat.
func WriteStat(w io.Writer, cs []Change) error {
	type key struct{ table, chain string }
	counts := map[key]map[Kind]int{}
	var keys []key
	for _, c := range cs {
		k := key{c.Table, c.Chain}
		if counts[k] == nil {
			counts[k] = map[Kind]int{}
			keys = append(keys, k)
		}
		counts[k][c.Kind]++
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].table != keys[j].table {
			return keys[i].table < keys[j].table
		}
		return keys[i].chain < keys[j].chain
	})
	for _, k := range keys {
		m := counts[k]
		line := fmt.Sprintf("%s/%s:", k.table, k.chain)
		for _, kind := range []Kind{ChainAdded, ChainRemoved, PolicyChanged, RuleAdded, RuleRemoved, RuleChanged, RuleMoved, CountersDiff} {
			if m[kind] > 0 {
				line += fmt.Sprintf(" %d %s", m[kind], kind)
			}
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, Summary(cs))
	return err
}
