// Package nft is fw's nf_tables backend: it reads and writes the
// iptables tables of the nf_tables API exactly as iptables-nft 1.8.9
// does, so that iptables-nft-save prints what fw wrote as if
// iptables-nft-restore had written it, and fw prints what iptables-nft
// wrote as iptables-nft-save does.
//
// The files follow the concerns: netlink.go (socket, dumps, the batch),
// read.go (a consistent snapshot, iptables' shape of a table), lift.go
// (expressions to rules), lower.go (rules to expressions), write.go (the
// commit batch).
package nft

import (
	"errors"
	"fmt"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Backend is the nf_tables backend.
type Backend struct {
	Registry *table.Registry
}

var _ kernel.Backend = (*Backend)(nil)

func (b *Backend) Name() string { return "nft" }

func (b *Backend) opErr(op, tbl string, err error) error {
	return &kernel.OpError{Backend: "nft", Op: op, Table: tbl, Err: err}
}

// Available reports whether the kernel offers nf_tables to this process
// (the module is there and the generation can be read).
func Available() bool {
	c, err := dial()
	if err != nil {
		return false
	}
	defer c.close()
	_, err = c.genID()
	return err == nil
}

// HasTables reports whether nf_tables holds any iptables table of family
// f, which is how iptables tells that the nft backend is in use.
func HasTables(f table.Family) (bool, error) {
	names, err := (&Backend{}).Tables(f)
	return len(names) > 0, err
}

// Tables lists the iptables tables of family f that exist in nf_tables,
// in iptables-nft-save's order (mangle, security, raw, filter, nat).
// Tables with other names (made with nft) are not listed; a table with
// an iptables name that nft made is listed, and Load says what is wrong
// with it.
func (b *Backend) Tables(f table.Family) ([]string, error) {
	c, err := dial()
	if err != nil {
		return nil, b.opErr("open", "", err)
	}
	defer c.close()
	s, err := readSnapshot(c, f, nil, readGate)
	if err != nil {
		return nil, b.opErr("list tables", "", err)
	}
	return s.tableNames(), nil
}

// Load reads the named tables (every existing iptables table when names
// is nil). A named table that does not exist reads as iptables-nft-save
// -t shows it: every built-in chain, ACCEPT, no rules. A table nft made
// in a shape iptables does not use is an error naming the table and the
// reason, never a partial reading.
func (b *Backend) Load(f table.Family, names []string) (*table.Ruleset, error) {
	c, err := dial()
	if err != nil {
		return nil, b.opErr("open", "", err)
	}
	defer c.close()
	rulesOf := allTables
	if names != nil {
		rulesOf = someTables(names...)
	}
	s, err := readSnapshot(c, f, rulesOf, readFull)
	if err != nil {
		return nil, b.opErr("read", "", err)
	}
	if names == nil {
		names = s.tableNames()
	}
	rs := &table.Ruleset{Family: f}
	for _, name := range names {
		if err := validTableName(name); err != nil {
			return nil, b.opErr("read", name, err)
		}
		raw := s.Tables[name]
		if raw == nil {
			rs.Tables = append(rs.Tables, table.NewTable(name))
			continue
		}
		t, err := raw.toTable(f, b.Registry)
		if err != nil {
			return nil, b.opErr("read", name, err)
		}
		rs.Tables = append(rs.Tables, t)
	}
	return rs, nil
}

var _ kernel.SkeletonLoader = (*Backend)(nil)

// Skeleton reads the built-in chains' policies and counters of the named
// tables, without their rules: all a restore without --noflush needs,
// since it replaces everything else. Tables that do not exist come back
// new and empty (nothing is created). A table nft made in another shape
// is an error, as for Load; its rules are checked by the commit.
func (b *Backend) Skeleton(f table.Family, names []string) (*table.Ruleset, error) {
	c, err := dial()
	if err != nil {
		return nil, b.opErr("open", "", err)
	}
	defer c.close()
	s, err := readSnapshot(c, f, nil, readGate)
	if err != nil {
		return nil, b.opErr("read", "", err)
	}
	rs := &table.Ruleset{Family: f}
	for _, name := range names {
		if err := validTableName(name); err != nil {
			return nil, b.opErr("read", name, err)
		}
		t := table.NewTable(name)
		rs.Tables = append(rs.Tables, t)
		raw := s.Tables[name]
		if raw == nil {
			continue
		}
		if why := raw.incompatible(); why != "" {
			return nil, b.opErr("read", name, &IncompatibleError{Table: name, Reason: why})
		}
		for _, c := range raw.Chains {
			if !c.Base {
				continue
			}
			ch := t.Chain(table.Hook(c.Hook).String())
			if c.Policy == nfDrop {
				ch.Policy = table.Drop
			}
			if c.Counters != nil {
				ch.Counters = *c.Counters
			}
		}
	}
	return rs, nil
}

// ErrRulesetChanged is returned by Commit when the nf_tables ruleset
// changed between fw reading it and fw's batch reaching the kernel, twice
// in a row.
var ErrRulesetChanged = errors.New("the ruleset changed while fw was working on it (someone else wrote it); try again")

// ObjectError is a kernel refusal of a table or chain message.
type ObjectError struct {
	What string // "table filter", "chain INPUT"
	Err  error
	Ack  string
	More int
}

func (e *ObjectError) Error() string {
	msg := e.What + ": the kernel refused it: " + kernel.Refusal(e.Err)
	if e.Ack != "" {
		msg += " (kernel: " + e.Ack + ")"
	}
	if e.More > 0 {
		msg += fmt.Sprintf("; %d more refusal(s) followed", e.More)
	}
	return msg
}

func (e *ObjectError) Unwrap() error { return e.Err }
