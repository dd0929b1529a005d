package format

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

const (
	// internBits sizes an interner's table (1<<internBits slots): enough
	// for the words that recur within a few thousand lines (options,
	// chain and interface names, a service's comment), small enough to
	// stay in cache.
	internBits = 12
	// internBlock is how much text an interner's strings share one
	// allocation for.
	internBlock = 32 << 10
)

// interner makes the strings of words. Every word is copied out of the
// input, so whatever the parsed ruleset keeps is its own and the input
// may change or go as soon as it is read. A word seen lately comes back
// as the string made for it then (the table remembers one string per
// slot), so repeated words share one copy; new words are appended to a
// block that their strings share, so that they cost no allocation of
// their own.
type interner struct {
	slots [1 << internBits]string
	// text is the current block. A strings.Builder only ever appends, so
	// the strings cut from it stay as they are when it grows.
	text strings.Builder
}

// str returns b as a string of its own.
func (in *interner) str(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case len(b) == 2 && b[0] == '-':
		return shortOptions[b[1]]
	}
	s := &in.slots[slot(b)]
	if *s == string(b) {
		return *s
	}
	if in.text.Cap()-in.text.Len() < len(b) {
		in.text.Reset()
		in.text.Grow(max(len(b), internBlock))
	}
	start := in.text.Len()
	in.text.Write(b)
	*s = in.text.String()[start:]
	return *s
}

// slot picks a word's slot from its length and its first and last eight
// bytes: cheap, and different for the words that differ in a rules file
// (chain names that share a prefix, addresses, comments). Words that
// share a slot only take turns in it.
func slot(b []byte) uint {
	n := len(b)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 31)
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h = (h + uint64(n)) * 0x9e3779b97f4a7c15
	return uint(h >> (64 - internBits))
}

// shortOptions are the words of a dash and one byte: a third of the words
// of a typical rule (-A, -m, -j, -p, ...), which need no table.
var shortOptions = func() (o [256]string) {
	for c := range o {
		o[c] = string([]byte{'-', byte(c)})
	}
	return o
}()
