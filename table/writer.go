package table

import (
	"net/netip"
	"strconv"
)

// Writer collects the text of one rule. Every option goes through it so
// that quoting and the place of '!' are decided in one place.
type Writer struct {
	buf []byte
	// Names turns numbers into the names iptables-save prints (protocols,
	// realms, device groups); nil is SystemResolver.
	Names Resolver
}

// Resolver is w.Names, or SystemResolver when it is nil.
func (w *Writer) Resolver() Resolver {
	if w.Names == nil {
		return SystemResolver()
	}
	return w.Names
}

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.buf }

// String returns what was written.
func (w *Writer) String() string { return string(w.buf) }

// Reset empties the writer, keeping its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Raw appends s as is.
func (w *Writer) Raw(s string) { w.buf = append(w.buf, s...) }

// Flag writes " [! ]--name".
func (w *Writer) Flag(inv bool, name string) {
	if inv {
		w.buf = append(w.buf, " !"...)
	}
	w.buf = append(w.buf, " --"...)
	w.buf = append(w.buf, name...)
}

// Opt writes " [! ]--name value", the value bare.
func (w *Writer) Opt(inv bool, name, value string) {
	w.Flag(inv, name)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, value...)
}

// OptUint writes a numeric option in decimal.
func (w *Writer) OptUint(inv bool, name string, v uint64) {
	w.Flag(inv, name)
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendUint(w.buf, v, 10)
}

// The methods below build a value piece by piece after Flag and Space,
// so that printing a 100k-rule ruleset makes no string per option.

// Space appends one blank.
func (w *Writer) Space() { w.buf = append(w.buf, ' ') }

// Byte appends c.
func (w *Writer) Byte(c byte) { w.buf = append(w.buf, c) }

// Uint appends v in decimal.
func (w *Writer) Uint(v uint64) { w.buf = strconv.AppendUint(w.buf, v, 10) }

// Hex appends v as 0x and lower-case hex digits.
func (w *Writer) Hex(v uint64) {
	w.buf = append(w.buf, "0x"...)
	w.buf = strconv.AppendUint(w.buf, v, 16)
}

// Float appends v as strconv.AppendFloat(v, fmt, prec, 64) does.
func (w *Writer) Float(v float64, fmt byte, prec int) {
	w.buf = strconv.AppendFloat(w.buf, v, fmt, prec, 64)
}

// IP appends an address as iptables prints it (see FormatIP).
func (w *Writer) IP(a netip.Addr) { w.buf = AppendIP(w.buf, a) }

// Range appends lo, or "lo:hi" when they differ (port and other ranges).
func (w *Writer) Range(lo, hi uint64) {
	w.Uint(lo)
	if lo != hi {
		w.buf = append(w.buf, ':')
		w.Uint(hi)
	}
}

// OptQuoted writes " [! ]--name value" with the value quoted the way
// iptables quotes comments and log prefixes.
func (w *Writer) OptQuoted(inv bool, name, value string) {
	w.Flag(inv, name)
	w.buf = append(w.buf, ' ')
	w.buf = AppendQuoted(w.buf, value)
}

// AppendQuoted appends s bare when it is non-empty and made only of
// [A-Za-z0-9_-]; otherwise in double quotes with '"', '\' and '\” escaped
// by a backslash. This is iptables' rule for free text (comments, log
// prefixes), and its restore tokenizer reads it back unchanged.
func AppendQuoted(dst []byte, s string) []byte {
	if isBare(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\'':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func isBare(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
