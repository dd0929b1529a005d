package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/fwkit/fw/ipset"
)

// RestoreOptions tune a restore of sets.
type RestoreOptions struct {
	// Prune destroys, at the end, the kernel's sets that the file does
	// not state and that nothing refers to (no rule, no list:set). Sets
	// something refers to are kept and named in Result.Kept.
	Prune bool
	// Refs are the uses of sets by the rules restored with them
	// (RuleRefs): each must resolve to a set of the file or, failing
	// that, of the kernel, of the rule's family and dimension, or
	// nothing changes.
	Refs []Ref
}

// Action is what a restore does with one set.
type Action int

const (
	Keep     Action = iota // the kernel's set is the file's: nothing to do
	Create                 // the kernel lacks it: created and filled under its name
	Swap                   // changed: a copy is built under a temporary name and swapped in
	Recreate               // changed to a type or family the kernel cannot swap, and unreferenced: built aside, then renamed in place of the old one
	Destroy                // Prune: not in the file, unreferenced
)

func (a Action) String() string {
	return [...]string{"keep", "create", "swap", "recreate", "destroy"}[a]
}

// Step is one set of a Plan.
type Step struct {
	Action Action
	Set    *ipset.Set // the file's set (the kernel's for Destroy)
	Old    *ipset.Set // the kernel's set, for Swap, Recreate and Destroy
	temp   string     // where the new set is built (Swap, Recreate)
	aside  string     // Recreate: where the old set goes
	// progress, for Rollback
	created, swapped, renamed, movedAside bool
}

// Plan is what a restore of sets will do: the file's sets against the
// kernel's, each with its action. Nothing changes until Prepare.
type Plan struct {
	c     *Conn
	Steps []*Step
	// Kernel is what the kernel held when the plan was made.
	Kernel []*ipset.Set
	// Kept names the sets Prune leaves because something refers to them.
	Kept []string
	done bool
}

// NewPlan reads the kernel's sets and plans how to make them what want
// states, in the order sets must be built: sets before the list:sets
// that hold them. It refuses, before any change, a set whose type or
// family changes (the kernel swaps only sets of the same kind) while
// something refers to it.
func (c *Conn) NewPlan(want []*ipset.Set, opt RestoreOptions) (*Plan, error) {
	have, err := c.List("")
	if err != nil {
		return nil, err
	}
	if err := CheckRefs(opt.Refs, want, have); err != nil {
		return nil, err
	}
	p := &Plan{c: c, Kernel: have}
	by := map[string]*ipset.Set{}
	for _, s := range have {
		by[s.Name] = s
	}
	inFile := map[string]bool{}
	// Sets first, then list:sets: a list:set's members must exist when
	// it is filled.
	ordered := make([]*ipset.Set, 0, len(want))
	for _, s := range want {
		if s.Type.Kind != ipset.List {
			ordered = append(ordered, s)
		}
	}
	for _, s := range want {
		if s.Type.Kind == ipset.List {
			ordered = append(ordered, s)
		}
	}
	var refused []string
	for _, s := range ordered {
		inFile[s.Name] = true
		old := by[s.Name]
		st := &Step{Set: s, Old: old}
		switch {
		case old == nil:
			st.Action = Create
		case ipset.Equal(old, s):
			st.Action = Keep
		case ipset.ReplacesInPlace(old, s):
			st.Action = Swap
		case old.References == 0:
			st.Action = Recreate
		default:
			refused = append(refused, fmt.Sprintf("set %q is %s %s in the kernel and %s %s in the file, and %d references (rules, list:sets) hold it: the kernel swaps only sets of the same kind",
				s.Name, old.Type.Name, old.Family, s.Type.Name, s.Family, old.References))
		}
		p.Steps = append(p.Steps, st)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("ipset: %s (remove the rules that use it first, or give the new set another name)", strings.Join(refused, "; "))
	}
	if opt.Prune {
		for _, s := range have {
			if inFile[s.Name] {
				continue
			}
			if s.References > 0 {
				p.Kept = append(p.Kept, s.Name)
				continue
			}
			p.Steps = append(p.Steps, &Step{Action: Destroy, Set: s, Old: s})
		}
	}
	return p, nil
}

// Changed reports whether the plan changes anything.
func (p *Plan) Changed() bool {
	for _, st := range p.Steps {
		if st.Action != Keep {
			return true
		}
	}
	return false
}

// tempName returns a set name that is free in the kernel and in the plan.
func (p *Plan) tempName(taken map[string]bool) (string, error) {
	for i := 0; i < 100; i++ {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		n := "fw-tmp-" + hex.EncodeToString(b[:])
		if !taken[n] {
			taken[n] = true
			return n, nil
		}
	}
	return "", errors.New("no free temporary set name")
}

// Prepare builds every new set: the missing ones under their names, the
// changed ones under temporary names, filled. Rules see nothing of it:
// a new name is not used by any rule yet, and the sets rules use are
// untouched. On failure it undoes what it did.
func (p *Plan) Prepare() error {
	taken := map[string]bool{}
	for _, s := range p.Kernel {
		taken[s.Name] = true
	}
	for _, st := range p.Steps {
		taken[st.Set.Name] = true
	}
	for _, st := range p.Steps {
		name := st.Set.Name
		switch st.Action {
		case Keep, Destroy:
			continue
		case Swap, Recreate:
			t, err := p.tempName(taken)
			if err != nil {
				return p.fail(err)
			}
			st.temp, name = t, t
			if st.Action == Recreate {
				if st.aside, err = p.tempName(taken); err != nil {
					return p.fail(err)
				}
			}
		}
		if err := p.c.Create(name, st.Set); err != nil {
			return p.fail(err)
		}
		st.created = true
		if err := p.c.Add(name, st.Set); err != nil {
			return p.fail(err)
		}
	}
	return nil
}

// Commit puts the new sets in place: each changed set is swapped with
// its copy (rules refer to sets by index, and a swap exchanges what two
// indexes hold, so a rule sees the old set or the new one, never a part
// of it), and a recreated set takes the old one's name. On failure it
// undoes what it did.
func (p *Plan) Commit() error {
	for _, st := range p.Steps {
		switch st.Action {
		case Swap:
			if err := p.c.Swap(st.temp, st.Set.Name); err != nil {
				return p.fail(err)
			}
			st.swapped = true
		case Recreate:
			if err := p.c.Rename(st.Set.Name, st.aside); err != nil {
				return p.fail(err)
			}
			st.movedAside = true
			if err := p.c.Rename(st.temp, st.Set.Name); err != nil {
				return p.fail(err)
			}
			st.renamed = true
		}
	}
	return nil
}

// Finish destroys what the restore left aside: the old contents of the
// swapped sets, the old recreated sets, and with Prune the sets nothing
// uses. list:sets go first, so that the sets they hold are free. The
// restore has happened by then; an error here leaves a set behind and
// says which.
func (p *Plan) Finish() error {
	p.done = true
	var errs []error
	for pass := 0; pass < 2; pass++ {
		for _, st := range p.Steps {
			old := st.Old
			if old == nil || (old.Type.Kind == ipset.List) != (pass == 0) {
				continue
			}
			var name string
			switch st.Action {
			case Swap:
				name = st.temp
			case Recreate:
				name = st.aside
			case Destroy:
				name = old.Name
			default:
				continue
			}
			if err := p.c.Destroy(name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Rollback undoes Prepare and Commit: swaps back, renames back, and
// destroys what the restore created (list:sets first). Call it when the
// rules could not be loaded; after Finish there is nothing to undo.
func (p *Plan) Rollback() error {
	if p.done {
		return nil
	}
	p.done = true
	var errs []error
	for i := len(p.Steps) - 1; i >= 0; i-- {
		st := p.Steps[i]
		if st.swapped {
			if err := p.c.Swap(st.temp, st.Set.Name); err != nil {
				errs = append(errs, err)
			} else {
				st.swapped = false
			}
		}
		if st.renamed {
			if err := p.c.Rename(st.Set.Name, st.temp); err != nil {
				errs = append(errs, err)
			} else {
				st.renamed = false
			}
		}
		if st.movedAside && !st.renamed {
			if err := p.c.Rename(st.aside, st.Set.Name); err != nil {
				errs = append(errs, err)
			} else {
				st.movedAside = false
			}
		}
	}
	for pass := 0; pass < 2; pass++ {
		for _, st := range p.Steps {
			if !st.created || (st.Set.Type.Kind == ipset.List) != (pass == 0) {
				continue
			}
			name := st.Set.Name
			if st.temp != "" {
				name = st.temp
			}
			if err := p.c.Destroy(name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// fail undoes what the plan did and returns err with what the undo
// could not do.
func (p *Plan) fail(err error) error {
	if rerr := p.Rollback(); rerr != nil {
		return fmt.Errorf("%w; and undoing it failed: %v", err, rerr)
	}
	return err
}

// Restore makes the kernel's sets what want states, as one change with
// the rules that use them: it plans (refusing what it cannot do before
// any change), builds the new sets aside, swaps them in, calls rules
// (the load of the rules; nil when there are none), and destroys what it
// left aside. If rules fails, the sets are put back as they were and
// rules' error is returned: rules must have undone its own change.
func Restore(c *Conn, want []*ipset.Set, opt RestoreOptions, rules func() error) (*Plan, error) {
	p, err := c.NewPlan(want, opt)
	if err != nil {
		return nil, err
	}
	if err := p.Prepare(); err != nil {
		return p, err
	}
	if err := p.Commit(); err != nil {
		return p, err
	}
	if rules != nil {
		if err := rules(); err != nil {
			return p, p.fail(err)
		}
	}
	return p, p.Finish()
}
