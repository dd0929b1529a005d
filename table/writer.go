package table

import "strconv"

// Writer collects the text of one rule. Every option goes through it so
// that quoting and the place of '!' are decided in one place.
type Writer struct {
	buf []byte
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
	w.Opt(inv, name, strconv.FormatUint(v, 10))
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
