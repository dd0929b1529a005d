// Package cliutil holds what the three commands share: reading inputs,
// the family flags, and turning errors into exit statuses.
package cliutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/internal/confirm"
	"github.com/fwkit/fw/internal/ops"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Version is fw's version, printed in save headers and by --version.
var Version = "0.1.0"

// Exit statuses, as iptables-restore uses them.
const (
	ExitOK       = 0
	ExitFailure  = 1 // the kernel or the system refused
	ExitBadInput = 2 // the input or the command line is wrong
	ExitResource = 4 // the lock is held
)

// FamilyFlags are -4 and -6.
var FamilyFlags = []cli.Flag{
	&cli.BoolFlag{Name: "4", Aliases: []string{"ipv4"}, Usage: "IPv4 (the default)"},
	&cli.BoolFlag{Name: "6", Aliases: []string{"ipv6"}, Usage: "IPv6"},
}

// Family returns the family the flags ask for.
func Family(c *cli.Context) (table.Family, error) {
	if c.Bool("4") && c.Bool("6") {
		return 0, Usage("-4 and -6 cannot be given together")
	}
	if c.Bool("6") {
		return table.IPv6, nil
	}
	return table.IPv4, nil
}

// ReadInput reads a file argument into memory of its own; "-" (or "")
// is standard input. The name returned is what error messages call it.
func ReadInput(name string) (display string, text []byte, err error) {
	f, display := os.Stdin, "<stdin>"
	if name != "" && name != "-" {
		if f, err = os.Open(name); err != nil {
			return name, nil, err
		}
		defer f.Close()
		display = name
	}
	// A regular file is read into a buffer of its size (and room to see
	// the end), not grown by doubling.
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = int(fi.Size())
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err = buf.ReadFrom(f)
	return display, buf.Bytes(), err
}

// Terminal is where fw-restore --confirm reads its answer: standard
// input when it is a terminal in the foreground and the rules came from
// a file (file is neither "" nor "-"); otherwise the controlling
// terminal, if there is one and this process is in its foreground, which
// then gets the question and messages too (log). close lets go of it.
func Terminal(file string) (term io.Reader, log io.Writer, close func()) {
	if file != "" && file != "-" && confirm.Foreground(os.Stdin) {
		return os.Stdin, os.Stderr, func() {}
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		if confirm.Foreground(tty) {
			return tty, tty, func() { tty.Close() }
		}
		tty.Close()
	}
	return nil, os.Stderr, func() {}
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Usage returns a command-line error.
func Usage(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// ExitError is an error with a chosen exit status.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs app and exits with the status its error calls for, printing
// the error (every line prefixed with the program name) on stderr.
func Main(app *cli.App) {
	// -v is --verbose in iptables-restore; the version is -V there too.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"}
	app.Version = Version
	app.HideHelpCommand = true
	app.UseShortOptionHandling = false
	stop := startProfile()
	err := app.Run(os.Args)
	stop()
	os.Exit(Report(app.Name, err, os.Stderr))
}

// Report prints err and returns the exit status for it. A restore that
// loaded its fallback (ops.FallbackError) has reported its errors: its
// status is the file's error's.
func Report(prog string, err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var fe *ops.FallbackError
	if errors.As(err, &fe) {
		return Report(prog, fe.Err, io.Discard)
	}
	code := ExitFailure
	var ee *ExitError
	var ue *usageError
	var el table.ErrorList
	var te *table.Error
	var pe *confirm.PendingError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	case errors.As(err, &ue), errors.As(err, &el), errors.As(err, &te):
		code = ExitBadInput
	case errors.Is(err, kernel.ErrLockBusy), errors.As(err, &pe):
		// Another change pending is a resource in use, as a held
		// xtables lock is.
		code = ExitResource
	}
	if errors.As(err, &el) {
		for _, e := range el {
			fmt.Fprintf(w, "%s: %v\n", prog, e)
		}
		if len(el) >= table.MaxErrors {
			fmt.Fprintf(w, "%s: too many errors, stopped looking\n", prog)
		}
		return code
	}
	fmt.Fprintf(w, "%s: %v\n", prog, err)
	return code
}

// BackendFlag is --backend.
var BackendFlag = &cli.StringFlag{Name: "backend", Value: "auto", Usage: "kernel interface: legacy, nft or auto (env FW_BACKEND)"}

// WriteFileAtomic replaces path with what data writes (see AtomicFile).
func WriteFileAtomic(path string, data io.WriterTo, perm os.FileMode) error {
	f, err := CreateAtomic(path, perm)
	if err != nil {
		return err
	}
	if _, err := data.WriteTo(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// WriteOutput runs write into the file path, atomically (see
// AtomicFile), or to standard output when path is "".
func WriteOutput(path string, write func(io.Writer) error) error {
	if path == "" {
		return write(os.Stdout)
	}
	f, err := CreateAtomic(path, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// AtomicFile replaces a file so that readers see the old file or the new
// one, never a part: it is written as a temporary file in the same
// directory, which Commit fsyncs and renames over the old one (then
// fsyncs the directory); Abort, or any error, leaves the old file as it
// was. It can start again (Reset), so that a save that must read the
// kernel again writes the file as it goes instead of holding the text.
type AtomicFile struct {
	path string
	perm os.FileMode
	tmp  *os.File
	w    *bufio.Writer
	err  error // sticky: the first failure of Reset
}

// CreateAtomic starts replacing path; the new file gets path's
// permissions if it exists, perm otherwise.
func CreateAtomic(path string, perm os.FileMode) (*AtomicFile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return &AtomicFile{path: path, perm: perm, tmp: tmp, w: bufio.NewWriterSize(tmp, 1<<16)}, nil
}

func (f *AtomicFile) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.w.Write(p)
}

// Reset forgets everything written.
func (f *AtomicFile) Reset() {
	f.w.Reset(f.tmp)
	if f.err == nil {
		f.err = f.tmp.Truncate(0)
	}
	if f.err == nil {
		_, f.err = f.tmp.Seek(0, io.SeekStart)
	}
}

// Abort removes the new file; path stays as it was.
func (f *AtomicFile) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// Commit puts the new file in place of path.
func (f *AtomicFile) Commit() error {
	err := f.err
	for _, step := range []func() error{f.w.Flush, func() error { return f.tmp.Chmod(f.perm) }, f.tmp.Sync, f.tmp.Close} {
		if err == nil {
			err = step()
		}
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		f.Abort()
		return err
	}
	d, err := os.Open(filepath.Dir(f.path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// startProfile writes a CPU profile to $FW_CPUPROFILE and a heap profile
// to $FW_MEMPROFILE when set: how users send us evidence about a slow
// restore without rebuilding anything.
func startProfile() (stop func()) {
	var f *os.File
	if p := os.Getenv("FW_CPUPROFILE"); p != "" {
		var err error
		if f, err = os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if p := os.Getenv("FW_MEMPROFILE"); p != "" {
			if m, err := os.Create(p); err == nil {
				pprof.WriteHeapProfile(m)
				m.Close()
			}
		}
	}
}
