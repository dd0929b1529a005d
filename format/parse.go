// Package format reads and writes the iptables-save / iptables-restore text
// format. Load and ApplySource read a file the way the commands do (see
// load.go: split into chunks, parse and decode each chunk, merge in file
// order); Parse builds a lossless syntax tree (Print gives back the input
// byte for byte) and Decode turns such a tree into a table.Script; Encode
// prints a table.Ruleset exactly as iptables-save does. Whatever the
// reader returns owns its text: no string or slice of it points into the
// caller's input.
package format

import (
	"bytes"
	"io"
	"strings"

	"github.com/fwkit/fw/table"
)

// LineKind classifies a line the way iptables-restore does: by its first
// byte.
type LineKind uint8

const (
	Blank       LineKind = iota // empty line
	Comment                     // starts with '#'
	TableLine                   // "*name"
	ChainLine                   // ":name policy [p:b]"
	CommitLine                  // "COMMIT"
	CommandLine                 // anything else: an iptables command
)

// File is the syntax tree of a rules file: its lines, in order. Every byte
// of the input belongs to exactly one line.
type File struct {
	Name  string
	Lines []*Line
}

// Line is one line of input. Raw holds its bytes including the newline (the
// last line may lack one). Words are the tokens of table, chain and command
// lines; the bytes between words (blanks, quotes) belong to the line itself.
type Line struct {
	Kind LineKind
	Num  int
	Raw  []byte
	// Counters is the leading "[p:b]" of a command line, if any.
	Counters *Word
	Words    []Word

	counters Word // what Counters points to
}

// Word is one token: its text after quote removal and where its raw
// spelling starts and ends in the line.
type Word struct {
	Text     string
	Off, End int // byte offsets into Line.Raw
	Quoted   bool
}

// Col is the 1-based column of the word in its line.
func (w Word) Col() int { return w.Off + 1 }

// Pos returns the position of a word in the file.
func (f *File) Pos(l *Line, w *Word) table.Pos {
	p := table.Pos{File: f.Name, Line: l.Num, Col: 1}
	if w != nil {
		p.Col = w.Col()
	}
	return p
}

// Print writes the file back exactly as it was read.
func (f *File) Print(w io.Writer) error {
	for _, l := range f.Lines {
		if _, err := w.Write(l.Raw); err != nil {
			return err
		}
	}
	return nil
}

// Bytes returns the file as it was read.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	f.Print(&b)
	return b.Bytes()
}

// Parse splits src into lines and words. The File keeps a copy of src, so
// src may change once Parse returns. It fails only on what no later stage
// could make sense of: NUL and control bytes, unterminated quotes,
// over-long lines and words, malformed counters. All such errors are
// collected.
func Parse(name string, src []byte) (*File, error) {
	f := &File{Name: name}
	var errs table.ErrorList
	lines := lineReader{f: f, src: bytes.Clone(src), words: new(interner)}
	for {
		l := &Line{}
		ok, err := lines.next(l)
		if !ok {
			break
		}
		f.Lines = append(f.Lines, l)
		if err != nil && errs.Add(err) {
			break
		}
	}
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// lineReader hands out the lines of a source one by one, parsed. Raw
// points into src; the words' text is copied out of it (see interner).
type lineReader struct {
	f       *File
	src     []byte
	num     int
	sawCR   bool
	words   *interner
	scratch []byte // a quoted word being unquoted
}

// next parses the next line into l, reusing l's word slice. It returns
// false at the end of the input; err is the line's syntax error, if any.
func (r *lineReader) next(l *Line) (bool, *table.Error) {
	if len(r.src) > 0 {
		r.num++
		n := bytes.IndexByte(r.src, '\n') + 1
		if n == 0 {
			n = len(r.src)
		}
		*l = Line{Num: r.num, Raw: r.src[:n:n], Words: l.Words[:0]}
		r.src = r.src[n:]
		err := r.parseLine(l)
		if err != nil && strings.HasPrefix(err.Msg, "carriage return") {
			// DOS line endings are one mistake, not one per line.
			if r.sawCR {
				err = nil
				l.Kind = Blank
			}
			r.sawCR = true
		}
		return true, err
	}
	return false, nil
}

func (r *lineReader) parseLine(l *Line) *table.Error {
	raw := l.Raw
	body := bytes.TrimSuffix(raw, []byte("\n"))
	at := wordPos{r.f.Name, l.Num}
	if len(body) > table.MaxLineLen {
		return table.Errorf(at.at(table.MaxLineLen), "line is too long (%d bytes, at most %d)", len(body), table.MaxLineLen)
	}
	if len(body) == 0 {
		l.Kind = Blank
		return nil
	}
	if body[0] == '#' {
		l.Kind = Comment
		return nil
	}
	start := 0
	switch body[0] {
	case '*':
		l.Kind = TableLine
		start = 1
	case ':':
		l.Kind = ChainLine
		start = 1
	case '[':
		l.Kind = CommandLine
		end := bytes.IndexByte(body, ']')
		if end < 0 {
			return firstBadByte(body, at, table.Errorf(at.at(0), "counters '[' without closing ']'"))
		}
		if err := firstBadByte(body[:end+1], at, nil); err != nil {
			return err
		}
		l.counters = Word{Text: r.words.str(body[:end+1]), Off: 0, End: end + 1}
		l.Counters = &l.counters
		start = end + 1
	default:
		l.Kind = CommandLine
	}
	words, err := r.splitWords(l.Words, body, start, at)
	if err != nil {
		return err
	}
	l.Words = words
	if l.Kind == CommandLine && l.Counters == nil && len(words) == 1 && words[0].Text == "COMMIT" && !words[0].Quoted {
		if words[0].Off != 0 || words[0].End != len(body) {
			return table.Errorf(at.at(0), "COMMIT must stand alone on its line")
		}
		l.Kind = CommitLine
	}
	return nil
}

// Byte classes for splitWords: every byte of a line is looked at once,
// so the check for bytes no rules file may hold is part of cutting it
// into words.
const (
	byteWord  = iota // part of a word
	byteBlank        // space or tab: ends a word
	byteQuote        // '"'
	byteBad          // a control character other than tab, or DEL
)

var byteClass = func() (c [256]uint8) {
	for i := range 0x20 {
		c[i] = byteBad
	}
	c[0x7f] = byteBad
	c[' '], c['\t'], c['"'] = byteBlank, byteBlank, byteQuote
	return c
}()

// badByteErr is the error for a byte no line may hold, at offset i.
func badByteErr(at wordPos, i int, c byte) *table.Error {
	switch c {
	case 0:
		return table.Errorf(at.at(i), "NUL byte in line")
	case '\r':
		e := table.Errorf(at.at(i), "carriage return in line")
		e.Hint = "the file has DOS line endings; convert it with dos2unix"
		return e
	}
	return table.Errorf(at.at(i), "control character 0x%02x in line", c)
}

// firstBadByte returns the error for the first byte of b no line may
// hold, or else err: such a byte is reported before any other fault of
// the line, wherever it stands.
func firstBadByte(b []byte, at wordPos, err *table.Error) *table.Error {
	for i, c := range b {
		if byteClass[c] == byteBad {
			return badByteErr(at, i, c)
		}
	}
	return err
}

// splitWords tokenizes like iptables-restore: words are separated by space,
// tab or newline; a double quote anywhere starts a quoted part in which a
// backslash takes the next byte literally and blanks are kept; the closing
// quote ends the word. Outside quotes backslashes and single quotes are
// ordinary bytes. A control character anywhere in body is an error, and
// the one reported first.
func (r *lineReader) splitWords(words []Word, body []byte, start int, pos wordPos) ([]Word, *table.Error) {
	words = words[:0]
	i := start
	buf := r.scratch
	// fail reports err unless the line holds a bad byte, which comes
	// first whatever else is wrong.
	fail := func(err *table.Error) ([]Word, *table.Error) {
		return nil, firstBadByte(body, pos, err)
	}
	for i < len(body) {
		for i < len(body) && byteClass[body[i]] == byteBlank {
			i++
		}
		if i >= len(body) {
			break
		}
		off := i
		// Most words are unquoted: they are exactly their source bytes.
		for i < len(body) && byteClass[body[i]] == byteWord {
			i++
		}
		if i < len(body) && byteClass[body[i]] == byteBad {
			return nil, badByteErr(pos, i, body[i])
		}
		if i == len(body) || body[i] != '"' {
			if i-off > table.MaxWordLen {
				return fail(table.Errorf(pos.at(off), "word is too long (%d bytes, at most %d)", i-off, table.MaxWordLen))
			}
			words = append(words, Word{Text: r.words.str(body[off:i]), Off: off, End: i})
			continue
		}
		buf = append(buf[:0], body[off:i]...)
		quoted := false
	word:
		for i < len(body) {
			c := body[i]
			switch byteClass[c] {
			case byteBlank:
				break word
			case byteBad:
				return nil, badByteErr(pos, i, c)
			case byteQuote:
				quoted = true
				q := i
				i++
				for {
					if i >= len(body) {
						return fail(table.Errorf(pos.at(q), "unterminated quote"))
					}
					c := body[i]
					if byteClass[c] == byteBad {
						return nil, badByteErr(pos, i, c)
					}
					if c == '\\' && i+1 < len(body) {
						if byteClass[body[i+1]] == byteBad {
							return nil, badByteErr(pos, i+1, body[i+1])
						}
						buf = append(buf, body[i+1])
						i += 2
						continue
					}
					if c == '"' {
						i++
						break word
					}
					buf = append(buf, c)
					i++
				}
			default:
				buf = append(buf, c)
				i++
			}
		}
		if len(buf) > table.MaxWordLen {
			return fail(table.Errorf(pos.at(off), "word is too long (%d bytes, at most %d)", len(buf), table.MaxWordLen))
		}
		words = append(words, Word{Text: r.words.str(buf), Off: off, End: i, Quoted: quoted})
		r.scratch = buf
		if quoted && i < len(body) && byteClass[body[i]] != byteBlank {
			return fail(table.Errorf(pos.at(i), "text right after a closing quote").Hinted("iptables ends a word at its closing quote; put a space after it or move the quote"))
		}
	}
	return words, nil
}

// wordPos turns an offset in a line into a file position, for errors.
type wordPos struct {
	file string
	line int
}

func (p wordPos) at(off int) table.Pos { return table.Pos{File: p.file, Line: p.line, Col: off + 1} }

// String describes a line kind for messages.
func (k LineKind) String() string {
	return [...]string{"blank line", "comment", "table line", "chain line", "COMMIT", "command"}[k]
}
