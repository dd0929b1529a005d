// Package backends picks and opens a kernel backend for the commands:
// by name, from FW_BACKEND, or by looking at which interface already holds
// iptables tables.
package backends

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table"
)

// Options say how to open a backend.
type Options struct {
	Name     string // "legacy", "nft" or "auto" ("" = auto, or FW_BACKEND)
	Registry *table.Registry
	LockWait time.Duration
}

// Open returns the backend asked for. With "auto" it returns the one that
// holds iptables tables for family f; the note says why, for -v output and
// warnings.
func Open(opt Options, f table.Family) (b kernel.Backend, note string, err error) {
	name := opt.Name
	if name == "" || name == "auto" {
		if env := os.Getenv("FW_BACKEND"); env != "" {
			name = env
		}
	}
	switch strings.ToLower(name) {
	case "legacy":
		return &legacy.Backend{Registry: opt.Registry, LockWait: opt.LockWait}, "", nil
	case "", "auto":
		names, err := (&legacy.Backend{}).Tables(f)
		if err != nil {
			return nil, "", err
		}
		note = "no iptables tables in the kernel yet; using legacy"
		if len(names) > 0 {
			note = "the legacy x_tables interface holds iptables tables (" + strings.Join(names, ", ") + ")"
		}
		return &legacy.Backend{Registry: opt.Registry, LockWait: opt.LockWait}, note, nil
	case "nft":
		return nil, "", fmt.Errorf("the nft backend is not built in yet; use --backend legacy")
	}
	return nil, "", fmt.Errorf("unknown backend %q (legacy, nft or auto)", name)
}
