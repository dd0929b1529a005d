package format

import "hash/maphash"

// internSlots is the size of an interner's table: enough for the words
// that recur within a few thousand lines (options, chain and interface
// names, a service's comment), small enough to stay in cache.
const internSlots = 1 << 12

// interner makes the strings of words. Every word is copied out of the
// input, so whatever the parsed ruleset keeps is its own and the input
// may change or go as soon as it is read; a word seen lately comes back
// as the string made for it then, so repeated words share one copy and
// cost no allocation. The table remembers one string per hash slot.
type interner struct {
	seed  maphash.Seed
	slots []string
}

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), slots: make([]string, internSlots)}
}

// str returns b as a string of its own.
func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := &in.slots[maphash.Bytes(in.seed, b)&(internSlots-1)]
	if *s != string(b) {
		*s = string(b)
	}
	return *s
}
