package table

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is a problem with a rules file or script, tied to where it was
// written. Messages are lower case and quote names; Hint says how to fix
// the input when there is one obvious fix.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
	Err  error // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" || e.Pos.IsValid() {
		if e.Pos.File != "" {
			b.WriteString(e.Pos.File)
		} else {
			b.WriteString("<input>")
		}
		if e.Pos.IsValid() {
			fmt.Fprintf(&b, ":%d", e.Pos.Line)
			if e.Pos.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Pos.Col)
			}
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// HintError is returned by extensions to attach a hint to a message; the
// parser turns it into an *Error at the right position.
type HintError struct {
	Msg, Hint string
}

func (e *HintError) Error() string { return e.Msg }

// WithHint returns an error carrying msg and a hint.
func WithHint(hint, format string, args ...any) error {
	return &HintError{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// At turns any error into an *Error at pos: an *Error keeps its own
// position if it has one, a HintError keeps its hint.
func At(pos Pos, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if !e.Pos.IsValid() {
			c := *e
			c.Pos = pos
			return &c
		}
		return e
	}
	var h *HintError
	if errors.As(err, &h) {
		// err.Error() keeps the context wrapped around the hint error.
		return &Error{Pos: pos, Msg: err.Error(), Hint: h.Hint, Err: err}
	}
	return &Error{Pos: pos, Msg: err.Error(), Err: err}
}

// MaxErrors is how many errors a run collects before it stops looking.
const MaxErrors = 20

// ErrorList is several errors, reported together in file order.
type ErrorList []*Error

// Add appends err (if not nil) and reports whether the list is full.
func (l *ErrorList) Add(err *Error) bool {
	if err != nil {
		*l = append(*l, err)
	}
	return len(*l) >= MaxErrors
}

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	if len(l) >= MaxErrors {
		b.WriteString("\ntoo many errors")
	}
	return b.String()
}

// Sort orders the list by position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns nil for an empty list, else the list.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
