package diff

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/fwkit/fw/table"
)

// explain says in what two rules that print the same text differ: the
// fields of the IP header, of a match or of the target, with both values.
// The text alone would show a change with nothing changed.
func explain(a, b *table.Rule) string {
	var out []string
	out = append(out, fieldDiffs("", reflect.ValueOf(a.IP), reflect.ValueOf(b.IP))...)
	if len(a.Matches) != len(b.Matches) {
		out = append(out, fmt.Sprintf("%d matches, now %d", len(a.Matches), len(b.Matches)))
	} else {
		for i := range a.Matches {
			out = append(out, extDiffs("match "+a.Matches[i].Name(), a.Matches[i], b.Matches[i])...)
		}
	}
	out = append(out, extDiffs("target", a.Target, b.Target)...)
	if len(out) == 0 {
		return "the kernel's bytes differ where fw sees no field"
	}
	return strings.Join(out, "; ")
}

// extDiffs compares two extensions (or targets) field by field.
func extDiffs(what string, a, b any) []string {
	if a == nil || b == nil {
		if a == b {
			return nil
		}
		return []string{fmt.Sprintf("%s: %v, now %v", what, a, b)}
	}
	ea, ok1 := a.(table.Ext)
	eb, ok2 := b.(table.Ext)
	if ok1 && ok2 && (ea.Info().KernelName() != eb.Info().KernelName() || ea.Info().Revision != eb.Info().Revision) {
		return []string{fmt.Sprintf("%s: %s revision %d, now %s revision %d", what,
			ea.Info().KernelName(), ea.Info().Revision, eb.Info().KernelName(), eb.Info().Revision)}
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return []string{fmt.Sprintf("%s: %T, now %T", what, a, b)}
	}
	return fieldDiffs(what, va, vb)
}

// fieldDiffs lists the fields of two values of one struct type (through
// pointers) that differ, as "what.Field: old, now new".
func fieldDiffs(what string, a, b reflect.Value) []string {
	for a.Kind() == reflect.Pointer && !a.IsNil() && !b.IsNil() {
		a, b = a.Elem(), b.Elem()
	}
	if a.Kind() != reflect.Struct {
		if show(a) == show(b) {
			return nil
		}
		return []string{fmt.Sprintf("%s: %s, now %s", what, show(a), show(b))}
	}
	var out []string
	for i := range a.NumField() {
		name := a.Type().Field(i).Name
		if what != "" {
			name = what + "." + name
		}
		fa, fb := a.Field(i), b.Field(i)
		if fa.Kind() == reflect.Struct {
			out = append(out, fieldDiffs(name, fa, fb)...)
			continue
		}
		if sa, sb := show(fa), show(fb); sa != sb {
			out = append(out, fmt.Sprintf("%s: %s, now %s", name, sa, sb))
		}
	}
	return out
}

// show prints a field's value; byte arrays and slices in hex.
func show(v reflect.Value) string {
	if (v.Kind() == reflect.Array || v.Kind() == reflect.Slice) && v.Type().Elem().Kind() == reflect.Uint8 {
		b := make([]byte, v.Len())
		for i := range b {
			b[i] = byte(v.Index(i).Uint())
		}
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%v", v)
}
