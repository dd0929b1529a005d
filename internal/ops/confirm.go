package ops

import (
	"bytes"
	"io"
	"time"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/confirm"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// ConfirmOptions say how a restore waits for its confirmation (see
// internal/confirm, which runs it).
type ConfirmOptions struct {
	// Timeout is how long the change waits; confirm.DefaultTimeout when 0.
	Timeout time.Duration
	// Dir is the run directory; confirm.Dir() when "".
	Dir string
	// Terminal is where the answer is read from; nil when there is none.
	Terminal io.Reader
	// Log receives the messages and the question; nil: nowhere.
	Log io.Writer
	// After and Event are confirm.Options': a clock tests move, and the
	// steps they wait on.
	After func(time.Duration) <-chan time.Time
	Event func(confirm.Event)
}

// confirmed commits through internal/confirm: once no other change of
// the family is pending, the tables about to be replaced are read once
// more (the restore changed the first copy) and saved in the run
// directory, then put back unless the change is confirmed in time.
func confirmed(opt *RestoreOptions, b kernel.Backend, names []string, commit func() error) error {
	fam := opt.Family
	// The rollback waits for the xtables lock as long as it takes: a
	// lock held for a moment by another tool must not leave the new
	// ruleset, which may lock the administrator out, in place.
	rb, _, err := opt.Open(b.Name(), -1)
	if err != nil {
		return err
	}
	prog := opt.Prog + " --confirm"
	suffix := "v4"
	if fam == table.IPv6 {
		prog += " -6"
		suffix = "v6"
	}
	c := opt.Confirm
	var prev *table.Ruleset
	return confirm.Run(confirm.Options{
		Timeout: c.Timeout,
		Dir:     c.Dir,
		Suffix:  suffix,
		Previous: func() ([]byte, error) {
			cur, err := b.Load(fam, names)
			if err != nil {
				return nil, err
			}
			prev = cur
			var saved bytes.Buffer
			err = format.Encode(&saved, prev, format.EncodeOptions{Counters: true, Program: prog + " v" + opt.Version})
			return saved.Bytes(), err
		},
		Apply:    commit,
		Rollback: func() error { return rb.Commit(prev, kernel.CommitOptions{}) },
		Terminal: c.Terminal,
		Log:      c.Log,
		Prog:     opt.Prog,
		After:    c.After,
		Event:    c.Event,
	})
}
