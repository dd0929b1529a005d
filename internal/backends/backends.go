// Package backends picks and opens a kernel backend for the commands:
// by name, from FW_BACKEND, or by looking at which interface already holds
// iptables tables.
package backends

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/kernel/nft"
	"github.com/fwkit/fw/table"
)

// Options say how to open a backend.
type Options struct {
	Name     string // "legacy", "nft" or "auto" ("" = auto, or FW_BACKEND)
	Registry *table.Registry
	LockWait time.Duration
	// Warn receives the warning printed when both interfaces hold
	// iptables tables (nil: no warning).
	Warn io.Writer
}

// IptablesLink is the command whose Debian alternative says which
// backend the system's own iptables uses.
var IptablesLink = "/usr/sbin/iptables"

// Open returns the backend asked for. "auto" picks the interface that
// already holds iptables tables for family f: the nft one when only it
// does, legacy when only legacy does; when both do, the one the system's
// iptables command uses (the Debian alternative), with a warning, since
// rules in the other one are still active and invisible to that tool;
// when neither does, nf_tables, the kernel's current interface. The note
// says why, for -v output.
func Open(opt Options, f table.Family) (b kernel.Backend, note string, err error) {
	name := opt.Name
	if name == "" || name == "auto" {
		if env := os.Getenv("FW_BACKEND"); env != "" {
			name = env
		}
	}
	lb := &legacy.Backend{Registry: opt.Registry, LockWait: opt.LockWait}
	nb := &nft.Backend{Registry: opt.Registry}
	switch strings.ToLower(name) {
	case "legacy":
		return lb, "", nil
	case "nft":
		return nb, "", nil
	case "", "auto":
	default:
		return nil, "", fmt.Errorf("unknown backend %q (legacy, nft or auto)", name)
	}
	ltabs, err := lb.Tables(f)
	if err != nil {
		return nil, "", err
	}
	var ntabs []string
	if nft.Available() {
		if ntabs, err = nb.Tables(f); err != nil {
			return nil, "", err
		}
	}
	switch {
	case len(ltabs) > 0 && len(ntabs) > 0:
		pick, other := Backend(nb), Backend(lb)
		if systemUsesLegacy() {
			pick, other = lb, nb
		}
		msg := fmt.Sprintf("both interfaces hold iptables tables (legacy: %s; nft: %s); using %s like this system's iptables command; the %s rules stay active",
			strings.Join(ltabs, ", "), strings.Join(ntabs, ", "), pick.Name(), other.Name())
		if opt.Warn != nil {
			fmt.Fprintln(opt.Warn, "warning: "+msg)
		}
		return pick, msg, nil
	case len(ltabs) > 0:
		return lb, "the legacy x_tables interface holds iptables tables (" + strings.Join(ltabs, ", ") + ")", nil
	case len(ntabs) > 0:
		return nb, "nf_tables holds iptables tables (" + strings.Join(ntabs, ", ") + ")", nil
	}
	if !nft.Available() {
		return lb, "no iptables tables yet and no nf_tables support: using legacy", nil
	}
	return nb, "no iptables tables yet: using nf_tables", nil
}

// Opener returns a function that opens backends for family f as an
// operation asks (internal/ops.Opener): name "" is the backend opt names
// (or detects), with its warning; another name is that backend. The
// lock wait is the caller's.
func Opener(opt Options, f table.Family) func(name string, wait time.Duration) (kernel.Backend, string, error) {
	return func(name string, wait time.Duration) (kernel.Backend, string, error) {
		o := Options{Name: name, Registry: opt.Registry, LockWait: wait}
		if name == "" {
			o.Name, o.Warn = opt.Name, opt.Warn
		}
		return Open(o, f)
	}
}

// Backend is kernel.Backend, named here for the picking code.
type Backend = kernel.Backend

func systemUsesLegacy() bool {
	p, err := filepath.EvalSymlinks(IptablesLink)
	return err == nil && strings.Contains(filepath.Base(p), "legacy")
}
