package diff

import (
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/fwkit/fw/table"
)

// TextOptions control the text rendering.
type TextOptions struct {
	OldName, NewName string
	Color            bool
}

const (
	red   = "\x1b[31m"
	green = "\x1b[32m"
	cyan  = "\x1b[36m"
	bold  = "\x1b[1m"
	reset = "\x1b[0m"
)

// WriteText renders the changes as one unified diff per table and chain
// of canonical rule lines, policy changes as their chain lines, and a
// summary line.
func WriteText(w io.Writer, a, b *table.Ruleset, cs []Change, opt TextOptions) error {
	type key struct{ table, chain string }
	var order []key
	byChain := map[key][]Change{}
	for _, c := range cs {
		k := key{c.Table, c.Chain}
		if _, ok := byChain[k]; !ok {
			order = append(order, k)
		}
		byChain[k] = append(byChain[k], c)
	}
	paint := func(color, s string) string {
		if !opt.Color {
			return s
		}
		return color + s + reset
	}
	for _, k := range order {
		var old, new []string
		if t := a.Table(k.table); t != nil {
			if c := t.Chain(k.chain); c != nil {
				old = chainLines(c)
			}
		}
		if t := b.Table(k.table); t != nil {
			if c := t.Chain(k.chain); c != nil {
				new = chainLines(c)
			}
		}
		ud := difflib.UnifiedDiff{
			A: old, B: new,
			FromFile: opt.OldName + " " + k.table + "/" + k.chain,
			ToFile:   opt.NewName + " " + k.table + "/" + k.chain,
			Context:  2,
		}
		text, err := difflib.GetUnifiedDiffString(ud)
		if err != nil {
			return err
		}
		for _, l := range strings.SplitAfter(text, "\n") {
			switch {
			case l == "":
			case strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++"):
				l = paint(bold, strings.TrimSuffix(l, "\n")) + "\n"
			case strings.HasPrefix(l, "@@"):
				l = paint(cyan, strings.TrimSuffix(l, "\n")) + "\n"
			case strings.HasPrefix(l, "-"):
				l = paint(red, strings.TrimSuffix(l, "\n")) + "\n"
			case strings.HasPrefix(l, "+"):
				l = paint(green, strings.TrimSuffix(l, "\n")) + "\n"
			}
			if _, err := io.WriteString(w, l); err != nil {
				return err
			}
		}
		// A rule whose text is the same on both sides shows in no diff
		// line: say where it is and in what it differs.
		for _, c := range byChain[k] {
			if c.Detail != "" {
				if _, err := fmt.Fprintf(w, "%s rule %d (%s) prints the same on both sides but differs: %s\n",
					paint(bold, k.table+"/"+k.chain), c.NewPos, c.New, c.Detail); err != nil {
					return err
				}
			}
		}
	}
	_, err := fmt.Fprintln(w, Summary(cs))
	return err
}

// chainLines is a chain as diff lines: its declaration line, then its
// rules.
func chainLines(c *table.Chain) []string {
	decl := ":" + c.Name + " -"
	if c.Builtin {
		decl = ":" + c.Name + " " + c.Policy.String()
	}
	lines := append([]string{decl}, ChainRules(c)...)
	for i := range lines {
		lines[i] += "\n"
	}
	return lines
}
