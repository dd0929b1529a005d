package kernel

import (
	"github.com/fwkit/fw/ipset"
)

// The operations of fw-save and fw-diff on sets. fw-restore's are
// Restore, and NewPlan alone for --test (it checks everything and
// changes nothing).

// SaveSets returns the kernel's sets in ipset save's order for fw-save
// --sets: with all, every set; else those the refs name (RuleRefs of
// the rules saved with them) and the members of the list:sets among
// them.
func SaveSets(c *Conn, refs []Ref, all bool) ([]*ipset.Set, error) {
	sets, err := c.List("")
	if err != nil {
		return nil, err
	}
	if all {
		return sets, nil
	}
	return Referenced(refs, sets), nil
}

// DiffKernel compares the kernel's sets with a file's, for fw-diff
// --sets: the kernel is the old side. With names, only the sets of those
// names are compared (on either side).
func DiffKernel(c *Conn, file []*ipset.Set, names []string) ([]ipset.Change, error) {
	have, err := c.List("")
	if err != nil {
		return nil, err
	}
	if names != nil {
		have, file = ipset.Select(have, names), ipset.Select(file, names)
	}
	return ipset.Diff(have, file), nil
}
