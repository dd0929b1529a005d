// Package ops holds what fw does with the kernel: save (Save), restore in
// every mode with its confirmation and fallback (Restore), and the
// comparison of a rules file with the kernel or with another file (Diff).
// Each is a function of a kernel.Backend, reached through an Opener, and
// an options value; the commands only turn flags into options and print
// what comes back, and tests run every operation against the in-memory
// backend of internal/fakekernel.
//
// An operation never asks which backend it has: what differs between
// backends (reading a table in part, a stream that may start again,
// digests) is asked through kernel.Backend itself.
package ops

import (
	"fmt"
	"io"
	"time"

	"github.com/fwkit/fw/kernel"
)

// Opener opens the backend an operation works with. name "" asks for
// the one the command line chose (which may mean detecting it); another
// name asks for that kind of backend, as the rollback of a confirmed
// restore does so as to write where the change went. wait is how long
// the backend's commits wait for the xtables lock (< 0: forever). note
// says why that backend was chosen, for -v.
type Opener func(name string, wait time.Duration) (b kernel.Backend, note string, err error)

// ReadFunc reads a rules file: name "" or "-" is standard input. display
// is what messages call it ("<stdin>").
type ReadFunc func(name string) (display string, text []byte, err error)

// logger writes an operation's messages, prefixed by the program's name.
type logger struct {
	w    io.Writer // nil: nowhere
	prog string
}

func (l logger) say(format string, args ...any) {
	if l.w != nil {
		fmt.Fprintf(l.w, l.prog+": "+format+"\n", args...)
	}
}
