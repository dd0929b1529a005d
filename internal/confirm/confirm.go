// Package confirm applies a ruleset the way iptables-apply does: keep a
// copy of what the kernel has, make the new ruleset live, and put the copy
// back unless someone confirms the change in time. A rule that cuts the
// administrator's own connection then undoes itself.
//
// Confirmation comes from the terminal (an answer "yes"), from a file
// (touch RUNDIR/confirm, for sessions without a terminal) or from a signal
// (kill -USR1 PID, the PID being the first line of RUNDIR/pending.v4 or
// .v6). The previous ruleset comes back when the time runs out, when the
// answer is anything but yes, and when the session dies: the terminal
// closes (end of input), SIGHUP, SIGTERM, SIGINT, or a broken output pipe.
// The previous ruleset is also kept in RUNDIR/previous.v4 (or .v6), for a
// manual restore should fw itself be killed before it can roll back.
//
// One change per family waits at a time: while one is pending, a second
// is refused with the PID of the pending run. Chaining the second one's
// rollback to what the first replaced was the other way; but then
// confirming either would keep the other's unconfirmed rules, and the
// first run's rollback would undo the second change under it. The
// pending record, RUNDIR/pending.SUFFIX, holds the run's PID and its
// start time (field 22 of /proc/PID/stat), and is taken under an flock on
// RUNDIR/pending.lock so that of two runs starting at once one is
// refused. A record whose process is gone, or whose PID now belongs to a
// process started at another time, is stale: its run ended without
// rolling back (it was killed, or putting the previous ruleset back
// failed), so the kernel may still hold that run's unconfirmed ruleset.
// The new run says so, keeps the stale run's previous.SUFFIX as
// previous.stale-PID.SUFFIX, the ruleset from before it, and goes on.
package confirm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultTimeout is how long a change waits for its confirmation.
const DefaultTimeout = 10 * time.Second

// DefaultDir is where the files of a pending change live.
const DefaultDir = "/run/fw"

// Dir returns the run directory: $FW_RUNDIR, else DefaultDir.
func Dir() string {
	if d := os.Getenv("FW_RUNDIR"); d != "" {
		return d
	}
	return DefaultDir
}

// Options describe one confirmed change.
type Options struct {
	Timeout time.Duration // DefaultTimeout when 0
	Dir     string        // Dir() when ""
	// Suffix names this change's files: "v4" or "v6".
	Suffix string
	// Previous returns the ruleset the kernel has now, in iptables-save
	// format. It is called once this change is the only one pending for
	// its family (read earlier, it could miss a change confirmed in
	// between); what it returns is written to Dir/previous.SUFFIX before
	// anything changes.
	Previous func() ([]byte, error)
	// Apply makes the new ruleset live; when it fails nothing changed and
	// Run returns its error. Rollback puts the previous ruleset back.
	Apply, Rollback func() error
	// Terminal is where the answer is read from; nil when there is no
	// terminal (confirmation then comes from the file or the signal).
	Terminal io.Reader
	// Log receives the messages and the question (standard error).
	Log  io.Writer
	Prog string // prefixes the messages
	// After times the wait for a confirmation: time.After when nil.
	// Tests give a clock they move themselves.
	After func(time.Duration) <-chan time.Time
	// Event, when not nil, is called on Run's goroutine at each step a
	// test may wait on.
	Event func(Event)
}

// Event is a step of a change.
type Event int

const (
	// Pending: this run's pending record is written; nothing has
	// changed yet.
	Pending Event = iota + 1
	// Waiting: the new ruleset is live and the time to confirm it runs;
	// a confirmation from now on counts.
	Waiting
)

// NotConfirmedError means the change was rolled back.
type NotConfirmedError struct {
	Reason string // "no confirmation within 10s", "SIGHUP", ...
}

func (e *NotConfirmedError) Error() string {
	return e.Reason + "; the previous ruleset is back"
}

// PendingError means another change of the same family waits for its
// confirmation; nothing was changed.
type PendingError struct {
	PID     int
	Record  string // the pending record naming PID
	Confirm string // the file that confirms it
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("another change waits for its confirmation (PID %d, in %s); nothing was changed: confirm it ('touch %s' or 'kill -USR1 %d') or wait until it is rolled back, then try again",
		e.PID, e.Record, e.Confirm, e.PID)
}

// Paths of the files of a change with the given suffix.
func Paths(dir, suffix string) (previous, pending, confirmFile string) {
	return filepath.Join(dir, "previous."+suffix), filepath.Join(dir, "pending."+suffix), filepath.Join(dir, "confirm")
}

// Run applies the change and waits for its confirmation. It returns nil
// when the change was confirmed, a *NotConfirmedError when it was rolled
// back, a *PendingError when another change of the family is pending, and
// another error when applying failed (nothing changed) or when rolling
// back failed (the message says where the previous ruleset is).
func Run(opt Options) error {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Dir == "" {
		opt.Dir = Dir()
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.After == nil {
		opt.After = time.After
	}
	event := func(e Event) {
		if opt.Event != nil {
			opt.Event(e)
		}
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(opt.Log, opt.Prog+": "+format+"\n", args...)
	}
	prevPath, pendingPath, confirmPath := Paths(opt.Dir, opt.Suffix)
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return err
	}
	self, err := thisRun()
	if err != nil {
		return err
	}
	stale, err := claim(opt.Dir, opt.Suffix, self)
	if err != nil {
		return err
	}
	// A run that could not roll back leaves its record, so that the
	// next one finds it stale and keeps this previous ruleset.
	removeRecord := true
	defer func() {
		if removeRecord {
			os.Remove(pendingPath)
		}
	}()
	if stale != nil {
		say("%s", stale)
	}
	event(Pending)
	prev, err := opt.Previous()
	if err != nil {
		return err
	}
	if err := writeFile(prevPath, prev); err != nil {
		return fmt.Errorf("saving the current ruleset: %w", err)
	}
	// A confirmation left from an earlier change must not confirm this
	// one.
	if err := os.Remove(confirmPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// Signals are caught before the change: a hangup while it is being
	// applied rolls it back too.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPIPE, syscall.SIGTSTP)
	defer signal.Stop(sigs)
	if err := opt.Apply(); err != nil {
		return err
	}

	secs := int((opt.Timeout + time.Second - 1) / time.Second)
	within := fmt.Sprintf("%d seconds", secs)
	if secs == 1 {
		within = "1 second"
	}
	say("the new ruleset is live; without a confirmation within %s the previous one comes back", within)
	say("confirm with: 'touch %s' or 'kill -USR1 %d'", confirmPath, self.pid)
	// Lines and the end of input come in order on one channel; the
	// end (err != nil) means the terminal is gone.
	type answer struct {
		line string
		err  error
	}
	answers := make(chan answer, 1)
	if opt.Terminal != nil {
		fmt.Fprintf(opt.Log, "Keep the new ruleset? Type yes within %s: ", within)
		go func() {
			r := bufio.NewReader(opt.Terminal)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					answers <- answer{err: err}
					return
				}
				answers <- answer{line: strings.TrimSpace(line)}
			}
		}()
	}
	timeout := opt.After(opt.Timeout)
	// How often the confirm file is looked for; this does not time the
	// change, so it stays on the real clock.
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	event(Waiting)
	how, reason := "", ""
	for how == "" && reason == "" {
		select {
		case <-timeout:
			reason = "no confirmation within " + within
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				how = "by SIGUSR1"
			case syscall.SIGPIPE:
				reason = "the output pipe closed"
			case syscall.SIGTSTP:
				// Stopping would stop the clock too: keep waiting.
			default:
				reason = "got " + unix.SignalName(s.(syscall.Signal))
			}
		case a := <-answers:
			switch strings.ToLower(a.line) {
			case "yes", "y":
				how = "on the terminal"
			case "":
				if a.err != nil {
					reason = "the terminal closed"
				}
				// An empty line is not an answer.
			default:
				reason = fmt.Sprintf("the answer was %q, not yes", a.line)
			}
		case <-poll.C:
			if _, err := os.Stat(confirmPath); err == nil {
				how = "by " + confirmPath
			}
		}
	}
	if how != "" {
		if opt.Terminal != nil && how != "on the terminal" {
			fmt.Fprintln(opt.Log)
		}
		say("confirmed %s: keeping the new ruleset (the previous one is in %s)", how, prevPath)
		return nil
	}
	if opt.Terminal != nil {
		fmt.Fprintln(opt.Log)
	}
	if err := opt.Rollback(); err != nil {
		removeRecord = false
		return fmt.Errorf("%s, and putting the previous ruleset back failed: %w (it is saved in %s: load it with '%s')",
			reason, err, prevPath, restoreCommand(opt.Suffix, prevPath))
	}
	return &NotConfirmedError{Reason: reason}
}

// restoreCommand is how to load a saved ruleset by hand.
func restoreCommand(suffix, path string) string {
	if suffix == "v6" {
		return "fw-restore -6 -c " + path
	}
	return "fw-restore -c " + path
}

// record is what a pending record holds: the PID of the run waiting for
// its confirmation, then that process's start time, which tells it apart
// from a later process given the same PID. One number a line, so that
// the first line alone is the PID to signal.
type record struct {
	pid   int
	start uint64
}

func (r record) bytes() []byte {
	return []byte(fmt.Sprintf("%d\n%d\n", r.pid, r.start))
}

func parseRecord(b []byte) (record, bool) {
	f := strings.Split(string(b), "\n")
	if len(f) != 3 || f[2] != "" {
		return record{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	return record{pid, start}, err1 == nil && err2 == nil && pid > 0
}

// thisRun is the record of this process.
func thisRun() (record, error) {
	pid := os.Getpid()
	start, alive, err := startTime(pid)
	if err == nil && !alive {
		err = errors.New("no such process")
	}
	if err != nil {
		return record{}, fmt.Errorf("reading the start time of this process: %w", err)
	}
	return record{pid, start}, nil
}

// startTime returns the start time of process pid: field 22 of
// /proc/PID/stat, in clock ticks after boot. alive is false when there is
// no such process or it is a zombie, which can roll nothing back.
func startTime(pid int) (start uint64, alive bool, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	start, state, err := parseStat(b)
	if err != nil {
		return 0, false, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return start, state != "Z" && state != "X", nil
}

// parseStat returns the state (field 3) and the start time (field 22) of
// a /proc/PID/stat line.
func parseStat(b []byte) (start uint64, state string, err error) {
	// Field 2, the command name in parentheses, may hold spaces and
	// parentheses itself: the fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, "", errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:])) // fields 3 on
	if len(f) < 20 {
		return 0, "", fmt.Errorf("%d fields, want at least 22", len(f)+2)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("start time: %w", err)
	}
	return start, f[0], nil
}

// staleRecord describes a pending record whose run is gone.
type staleRecord struct {
	record string // its path
	why    string
	kept   string // the stale run's previous ruleset, now here; "" when it had none
	suffix string
}

func (s *staleRecord) String() string {
	msg := fmt.Sprintf("found a stale pending record, %s: its run (%s) ended without rolling back, so the kernel may still hold that run's unconfirmed ruleset", s.record, s.why)
	if s.kept == "" {
		return msg + "; no ruleset from before it was saved"
	}
	return msg + fmt.Sprintf("; the ruleset from before it is in %s (load it with '%s')", s.kept, restoreCommand(s.suffix, s.kept))
}

// claim makes self the pending change of its family. Under an flock on
// dir/pending.lock, so that two runs cannot both find no record, it reads
// the record an earlier run left: a live run there is a *PendingError; a
// record whose run is gone is stale and is replaced, its previous ruleset
// kept under another name and described in the returned staleRecord.
func claim(dir, suffix string, self record) (*staleRecord, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "pending.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close() // releases the flock
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	prevPath, pendingPath, confirmPath := Paths(dir, suffix)
	var stale *staleRecord
	switch b, err := os.ReadFile(pendingPath); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		r, ok := parseRecord(b)
		why := fmt.Sprintf("PID %d is gone", r.pid)
		if !ok {
			why = fmt.Sprintf("it does not read as a PID and a start time: %q", b)
		} else if start, alive, err := startTime(r.pid); err != nil {
			return nil, fmt.Errorf("checking the pending record %s: %w", pendingPath, err)
		} else if alive && start == r.start {
			return nil, &PendingError{PID: r.pid, Record: pendingPath, Confirm: confirmPath}
		} else if alive {
			why = fmt.Sprintf("PID %d is now another process", r.pid)
		}
		stale = &staleRecord{record: pendingPath, why: why, suffix: suffix}
		kept := filepath.Join(dir, fmt.Sprintf("previous.stale-%d.%s", r.pid, suffix))
		// This run writes its own previous ruleset there, which is the
		// stale run's unconfirmed one.
		if err := os.Rename(prevPath, kept); err == nil {
			stale.kept = kept
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("keeping the previous ruleset of a stale run: %w", err)
		}
	}
	if err := writeFile(pendingPath, self.bytes()); err != nil {
		return nil, fmt.Errorf("writing the pending record: %w", err)
	}
	return stale, nil
}

// Foreground reports whether f is a terminal on which this process is in
// the foreground: reading it then cannot stop the process (a background
// read would stop it with SIGTTIN, and its timer with it).
func Foreground(f *os.File) bool {
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return false
	}
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// writeFile replaces path with data, readable by root only: a temporary
// file in the same directory, then a rename.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
