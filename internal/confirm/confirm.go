// Package confirm applies a ruleset the way iptables-apply does: keep a
// copy of what the kernel has, make the new ruleset live, and put the copy
// back unless someone confirms the change in time. A rule that cuts the
// administrator's own connection then undoes itself.
//
// Confirmation comes from the terminal (an answer "yes"), from a file
// (touch RUNDIR/confirm, for sessions without a terminal) or from a signal
// (kill -USR1 PID, the PID being in RUNDIR/pending.v4 or .v6). The
// previous ruleset comes back when the time runs out, when the answer is
// anything but yes, and when the session dies: the terminal closes (end of
// input), SIGHUP, SIGTERM, SIGINT, or a broken output pipe. The previous
// ruleset is also kept in RUNDIR/previous.v4 (or .v6), for a manual
// restore should fw itself be killed before it can roll back.
package confirm

import (
	"bufio"
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
	// Previous is the ruleset the kernel has now, in iptables-save
	// format; it is written to Dir/previous.SUFFIX before anything
	// changes.
	Previous []byte
	// Apply makes the new ruleset live; when it fails nothing changed and
	// Run returns its error. Rollback puts the previous ruleset back.
	Apply, Rollback func() error
	// Terminal is where the answer is read from; nil when there is no
	// terminal (confirmation then comes from the file or the signal).
	Terminal io.Reader
	// Log receives the messages and the question (standard error).
	Log  io.Writer
	Prog string // prefixes the messages
}

// NotConfirmedError means the change was rolled back.
type NotConfirmedError struct {
	Reason string // "no confirmation within 10s", "SIGHUP", ...
}

func (e *NotConfirmedError) Error() string {
	return e.Reason + "; the previous ruleset is back"
}

// Paths of the files of a change with the given suffix.
func Paths(dir, suffix string) (previous, pending, confirmFile string) {
	return filepath.Join(dir, "previous."+suffix), filepath.Join(dir, "pending."+suffix), filepath.Join(dir, "confirm")
}

// Run applies the change and waits for its confirmation. It returns nil
// when the change was confirmed, a *NotConfirmedError when it was rolled
// back, and another error when applying failed (nothing changed) or when
// rolling back failed (the message says where the previous ruleset is).
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
	say := func(format string, args ...any) {
		fmt.Fprintf(opt.Log, opt.Prog+": "+format+"\n", args...)
	}
	prevPath, pendingPath, confirmPath := Paths(opt.Dir, opt.Suffix)
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return err
	}
	if err := writeFile(prevPath, opt.Previous); err != nil {
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
	if err := writeFile(pendingPath, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		say("warning: %v", err)
	}
	defer os.Remove(pendingPath)

	secs := int((opt.Timeout + time.Second - 1) / time.Second)
	within := fmt.Sprintf("%d seconds", secs)
	if secs == 1 {
		within = "1 second"
	}
	say("the new ruleset is live; without a confirmation within %s the previous one comes back", within)
	say("confirm with: 'touch %s' or 'kill -USR1 %d'", confirmPath, os.Getpid())
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
	timer := time.NewTimer(opt.Timeout)
	defer timer.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	how, reason := "", ""
	for how == "" && reason == "" {
		select {
		case <-timer.C:
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
		fam := ""
		if opt.Suffix == "v6" {
			fam = "-6 "
		}
		return fmt.Errorf("%s, and putting the previous ruleset back failed: %w (it is saved in %s: load it with 'fw-restore %s-c %s')",
			reason, err, prevPath, fam, prevPath)
	}
	return &NotConfirmedError{Reason: reason}
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
