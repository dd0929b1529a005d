// Package cliutil holds what the three commands share: reading inputs,
// the family flags, and turning errors into exit statuses.
package cliutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

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

// ReadInput reads a file argument; "-" (or "") is standard input. The name
// returned is what error messages call it.
func ReadInput(name string) (string, []byte, error) {
	display, b, _, err := ReadInputReleasable(name)
	return display, b, err
}

// ReadInputReleasable is ReadInput that also returns release, which gives
// the memory of a big file back at once (a no-op for one read into the
// heap; calling it again does nothing). No slice of the text and no
// string pointing into it may be used after: a ruleset format decoded
// owns its text (conformance tests that for every extension), so
// fw-restore releases its input as soon as the file is decoded, and the
// kernel call that follows, with its tens of megabytes of encoded table,
// is made without the text held too.
func ReadInputReleasable(name string) (display string, text []byte, release func(), err error) {
	f, display := os.Stdin, "<stdin>"
	if name != "" && name != "-" {
		if f, err = os.Open(name); err != nil {
			return name, nil, nil, err
		}
		defer f.Close()
		display = name
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() >= bigInput {
		if m, n, err := readBig(f, fi.Size()); err == nil {
			return display, m[:n:n], func() {
				if m != nil {
					unix.Munmap(m)
					m = nil
				}
			}, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return display, nil, nil, err
		}
	}
	b, err := io.ReadAll(f)
	return display, b, func() {}, err
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
	// The heap of these short runs is almost all live data (the
	// ruleset), which the default GOGC=100 would mark again and again as
	// it grows; collecting at 4x the live heap instead costs little
	// memory and saves most of that work. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	stop := startProfile()
	err := app.Run(os.Args)
	stop()
	os.Exit(Report(app.Name, err, os.Stderr))
}

// SetGCPercent sets the garbage collector's target for a phase that
// wants another trade between memory and CPU than Main's, unless GOGC is
// set in the environment.
func SetGCPercent(p int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p)
	}
}

// CollectOnlyNear turns the garbage collector off for a run that builds
// one big live structure and exits, with a soft memory limit of limit
// bytes that turns it back on when the heap gets near: a restore's heap
// is almost all live data (94 of 100 MB at its second collection, for
// 85,000 rules), so collecting it finds little, and its write barriers
// and marking cost a fifth of a legacy restore's user time (measured:
// 345 -> 275 ms). A file that makes more garbage than usual is still
// collected, near the limit. GOGC or GOMEMLIMIT in the environment win.
func CollectOnlyNear(limit int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(-1)
}

// Report prints err and returns the exit status for it.
func Report(prog string, err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *ExitError
	var ue *usageError
	var el table.ErrorList
	var te *table.Error
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	case errors.As(err, &ue), errors.As(err, &el), errors.As(err, &te):
		code = ExitBadInput
	case errors.Is(err, kernel.ErrLockBusy):
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

// Chunks is an in-memory file of fixed-size pieces: unlike a bytes.Buffer
// it never copies what it holds to grow, so holding a 12 MB save costs
// 12 MB, not twice that.
type Chunks struct {
	full [][]byte
	cur  []byte
}

const chunkLen = 1 << 20

func (c *Chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.cur) == cap(c.cur) {
			if c.cur != nil {
				c.full = append(c.full, c.cur)
			}
			c.cur = make([]byte, 0, chunkLen)
		}
		k := copy(c.cur[len(c.cur):cap(c.cur)], p)
		c.cur = c.cur[:len(c.cur)+k]
		p = p[k:]
	}
	return n, nil
}

// Reset forgets everything written.
func (c *Chunks) Reset() { *c = Chunks{} }

// WriteTo writes everything to w.
func (c *Chunks) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, b := range append(c.full, c.cur) {
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
