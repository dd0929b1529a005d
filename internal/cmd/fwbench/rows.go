package main

import "path/filepath"

// step is one unmeasured command that puts the namespace into a known
// state: its argv and what to feed it on standard input.
type step func(d *dataset) (argv []string, stdin string)

// commands are what a row measures: fw, the reference, and optionally a
// third figure (fw doing the same job another way).
type commands struct{ fw, ref, alt []string }

// rowDef is one kind of measurement, repeated at every size.
type rowDef struct {
	id    string // for -rows
	title string
	// wallTarget is the fw/reference wall ratio issue 7 asks for (at
	// most); 0 when the issue sets none.
	wallTarget float64
	targetNote string // how the target reads in the table, when not "≤0.4x"
	// floor marks rows whose reference does the same kernel work as fw,
	// so that max(ref sys, fw sys) is a fair floor for fw's wall time
	// (kernel work cannot be optimised away in user space). altFloor is
	// the same for the third figure.
	floor, altFloor bool
	altTitle        string
	exit1OK         bool // diff tools exit 1 on a difference
	// prepare runs once before the row, setup before every measured run
	// (of fw, the reference and the third figure alike); neither is
	// measured.
	prepare, setup []step
	cmds           func(b *bench, d *dataset) commands
}

// resetLegacy empties the legacy nat and filter tables (rules and user
// chains; the generated files only use those two tables, with ACCEPT
// policies), the known legacy state rows start from.
func resetLegacy(*dataset) ([]string, string) {
	return []string{"iptables-legacy-restore"}, "*nat\nCOMMIT\n*filter\nCOMMIT\n"
}

// resetNft deletes every nf_tables table of the namespace.
func resetNft(*dataset) ([]string, string) {
	return []string{"nft", "flush", "ruleset"}, ""
}

// The start states are loaded by the reference tools, as a system where
// fw replaces iptables would have them.
func loadLegacy(d *dataset) ([]string, string) {
	return []string{"iptables-legacy-restore", d.file}, ""
}

func loadNft(d *dataset) ([]string, string) {
	return []string{"iptables-nft-restore", d.file}, ""
}

// fwLoadNft puts ORIGINAL back with fw --incremental, as a user who
// re-applies with fw does; fw leaves its state file behind.
func fwLoadNft(d *dataset) ([]string, string) {
	return []string{filepath.Join(absBin, "fw-restore"), "--backend", "nft", "--incremental", d.file}, ""
}

func (b *bench) fw(tool string, args ...string) []string {
	return append([]string{filepath.Join(b.bin, tool)}, args...)
}

// rowDefs are the rows of issue 7, in the order they are measured and
// printed. Each row starts from a known state: both interfaces empty,
// unless prepare says otherwise. The other interface is emptied too, so
// that a row never runs next to a 100k-rule ruleset left by the row
// before it.
var rowDefs = []rowDef{
	{
		id: "parse", title: "parse only: restore --test (legacy)",
		wallTarget: 0.1,
		prepare:    []step{resetNft, resetLegacy},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "legacy", "--test", d.file),
				ref: []string{"iptables-legacy-restore", "--test", d.file},
			}
		},
	},
	{
		// Emptied before every run: restoring over the same file again
		// is the legacy-reapply row, where fw skips unchanged tables.
		id: "legacy-restore", title: "legacy restore (into empty tables)",
		wallTarget: 0.4, floor: true,
		prepare: []step{resetNft},
		setup:   []step{resetLegacy},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "legacy", d.file),
				ref: []string{"iptables-legacy-restore", d.file},
			}
		},
	},
	{
		// Saving changes nothing: one load serves every run.
		// The reference makes the same one IPT_SO_GET_ENTRIES call per
		// table, on one thread, as fw does: a fair floor.
		id: "legacy-save", title: "legacy save",
		wallTarget: 0.4, floor: true,
		prepare: []step{resetNft, resetLegacy, loadLegacy},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-save", "--backend", "legacy"),
				ref: []string{"iptables-legacy-save"},
			}
		},
	},
	{
		id: "nft-restore", title: "nft restore (into an empty ruleset)",
		wallTarget: 0.6, floor: true,
		prepare: []step{resetLegacy},
		setup:   []step{resetNft},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "nft", d.file),
				ref: []string{"iptables-nft-restore", d.file},
			}
		},
	},
	{
		id: "nft-save", title: "nft save",
		wallTarget: 0.5,
		prepare:    []step{resetLegacy, resetNft, loadNft},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-save", "--backend", "nft"),
				ref: []string{"iptables-nft-save"},
			}
		},
	},
	{
		id: "diff", title: "diff ORIGINAL CHANGED (fw-diff --format stat vs diff -u)",
		exit1OK: true,
		prepare: []step{resetLegacy, resetNft},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-diff", "--format", "stat", d.file, d.changed),
				ref: []string{"diff", "-u", d.file, d.changed},
			}
		},
	},
	{
		// The steady state of a user who re-applies with fw: ORIGINAL
		// is put back with fw before every run (every run leaves
		// CHANGED behind), so fw finds its state file and reads
		// nothing back from the kernel.
		id: "nft-incremental", title: "nft CHANGED over ORIGINAL: fw --incremental vs reference full restore",
		wallTarget: 0.1, targetNote: "≤0.1x (10x faster)", altFloor: true,
		altTitle: "↳ third figure: fw full restore of CHANGED over ORIGINAL",
		prepare:  []step{resetLegacy, resetNft},
		setup:    []step{fwLoadNft},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "nft", "--incremental", d.changed),
				ref: []string{"iptables-nft-restore", d.changed},
				alt: b.fw("fw-restore", "--backend", "nft", d.changed),
			}
		},
	},
	{
		// ORIGINAL written by iptables-nft-restore: no state file
		// describes it, so fw reads the tables back from the kernel.
		id: "nft-incremental-cold", title: "nft CHANGED over ORIGINAL written by iptables-nft: fw --incremental (reads the kernel) vs reference full restore",
		prepare: []step{resetLegacy},
		setup:   []step{resetNft, loadNft},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "nft", "--incremental", d.changed),
				ref: []string{"iptables-nft-restore", d.changed},
			}
		},
	},
	{
		// kube-proxy's partial sync: ORIGINAL put back with fw before
		// every run (fw finds its state file), then the --noflush file
		// that declares and refills the top-level KUBE-SERVICES chain
		// and the chains of the changed services. The issue sets no
		// target of its own for this row.
		id: "nft-noflush", title: "nft kube-proxy partial sync: restore --noflush of PARTIAL over ORIGINAL",
		prepare: []step{resetLegacy, resetNft},
		setup:   []step{fwLoadNft},
		cmds:    partialSync,
	},
	{
		// The same with ORIGINAL written by iptables-nft-restore (a
		// host where kube-proxy ran with iptables-nft until now): no
		// state file, so fw reads back the rules of the chains the file
		// refills.
		id: "nft-noflush-cold", title: "nft kube-proxy partial sync over ORIGINAL written by iptables-nft (fw reads the kernel)",
		prepare: []step{resetLegacy},
		setup:   []step{resetNft, loadNft},
		cmds:    partialSync,
	},
	{
		// Every run leaves the file loaded, so one load serves all.
		// The issue sets no target of its own for this row; it is a
		// legacy restore, so that target applies.
		id: "legacy-reapply", title: "legacy re-apply of the loaded file (fw skips unchanged tables)",
		wallTarget: 0.4, targetNote: "≤0.4x (as restore)",
		prepare: []step{resetNft, resetLegacy, loadLegacy},
		cmds: func(b *bench, d *dataset) commands {
			return commands{
				fw:  b.fw("fw-restore", "--backend", "legacy", d.file),
				ref: []string{"iptables-legacy-restore", d.file},
			}
		},
	},
}

func rowIDs() []string {
	var ids []string
	for _, r := range rowDefs {
		ids = append(ids, r.id)
	}
	return ids
}

// partialSync is kube-proxy's partial sync, the --noflush restore of
// PARTIAL, for both tools.
func partialSync(b *bench, d *dataset) commands {
	return commands{
		fw:  b.fw("fw-restore", "--backend", "nft", "--noflush", d.partial),
		ref: []string{"iptables-nft-restore", "--noflush", d.partial},
	}
}
