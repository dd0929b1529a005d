package table

import "strings"

// DeepJump looks for a way through the table's jumps and gotos, from a
// built-in chain, that takes limit or more of them, which nf_tables refuses
// (NFT_JUMP_STACK_SIZE: the kernel keeps a stack of limit chains). It
// returns the rule making the limit-th jump, and the chains on the way
// there, or nil. Loops are Validate's to report: DeepJump ignores them.
// Chains whose rules were not read count as having no jumps.
func (t *Table) DeepJump(limit int) (*Rule, []string) {
	const unknown = -1
	depth := make([]int, len(t.Chains))
	for i := range depth {
		depth[i] = unknown
	}
	onPath := make([]bool, len(t.Chains))
	var longest func(i int) int
	longest = func(i int) int {
		if depth[i] != unknown {
			return depth[i]
		}
		if onPath[i] {
			return 0
		}
		onPath[i] = true
		d := 0
		for _, r := range t.Chains[i].Rules {
			if j, ok := r.Target.(*Jump); ok {
				if k := t.JumpIndex(j); k >= 0 {
					d = max(d, 1+longest(k))
				}
			}
		}
		onPath[i] = false
		depth[i] = d
		return d
	}
	for i, c := range t.Chains {
		if !c.Builtin || longest(i) < limit {
			continue
		}
		// Follow the deepest way down to its limit-th jump.
		path := []string{c.Name}
		at := i
		for {
			var next *Rule
			nk := -1
			for _, r := range t.Chains[at].Rules {
				if j, ok := r.Target.(*Jump); ok {
					if k := t.JumpIndex(j); k >= 0 && 1+depth[k] == depth[at] {
						next, nk = r, k
						break
					}
				}
			}
			if next == nil {
				return nil, nil // a loop broke the depths; Validate reports it
			}
			path = append(path, t.Chains[nk].Name)
			if len(path)-1 == limit {
				return next, path
			}
			at = nk
		}
	}
	return nil, nil
}

// JumpPath prints a way through chains as DeepJump returns it.
func JumpPath(path []string) string { return strings.Join(path, " -> ") }
