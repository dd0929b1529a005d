package fromscript

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// This file reads just enough of POSIX sh to follow a firewall script:
// words with their quoting, parameter expansions, command substitutions,
// redirections, the operators that end a command, comments, line
// continuations and here-documents (whose bodies are skipped). Nothing is
// executed.

type partKind uint8

const (
	litPart   partKind = iota // literal text
	paramPart                 // $NAME, ${NAME}, ${NAME:-word}, $1, $@ ...
	substPart                 // $(...) or `...`
	arithPart                 // $((...))
)

// part is one piece of a word.
type part struct {
	kind   partKind
	text   string // literal text, parameter name or substitution body
	quoted bool   // inside quotes or escaped: no field splitting
	op     string // parameter operator: "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "#"
	arg    *word  // the word after op
}

// word is one shell word: its parts and where it is in the source.
type word struct {
	parts    []part
	off, end int
}

// literal returns the word's text when it has no expansions, and whether
// any of it was quoted.
func (w *word) literal() (text string, quoted, ok bool) {
	var b strings.Builder
	for _, p := range w.parts {
		if p.kind != litPart {
			return "", false, false
		}
		b.WriteString(p.text)
		quoted = quoted || p.quoted
	}
	return b.String(), quoted, true
}

// plain returns the word's text when it is written without quotes or
// expansions: how keywords and assignments must be written.
func (w *word) plain() (string, bool) {
	s, quoted, ok := w.literal()
	return s, ok && !quoted
}

type redirect struct {
	fd     string // the digits before the operator, if any
	op     string // ">", ">>", "<", "<<", "<<-", ">&", "<&", "<>", ">|"
	target word
	off    int
}

// command is a simple command: words and redirections up to an operator.
type command struct {
	words    []word
	redirs   []redirect
	off, end int    // its bytes in the source
	sep      string // what ended it: ";", ";;", "&", "&&", "||", "|", "\n" or "" at the end
	prevSep  string // what ended the command before it
	paren    bool   // '(' or ')' inside: a subshell, a function definition or a case pattern
}

type heredoc struct {
	delim string
	strip bool // <<-: leading tabs are stripped
}

type lexer struct {
	src      []byte
	i        int
	limit    int // end of the region being read (len(src), or less for ${x:-word})
	pending  []heredoc
	name     string
	lines    []int // offsets where lines start
	err      *table.Error
	comments int
}

func newLexer(name string, src []byte) *lexer {
	lx := &lexer{src: src, limit: len(src), name: name, lines: []int{0}}
	for i, c := range src {
		if c == '\n' {
			lx.lines = append(lx.lines, i+1)
		}
	}
	return lx
}

// pos turns a byte offset into a file position.
func (lx *lexer) pos(off int) table.Pos {
	lo, hi := 0, len(lx.lines)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if lx.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return table.Pos{File: lx.name, Line: lo + 1, Col: off - lx.lines[lo] + 1}
}

func (lx *lexer) fail(off int, format string, args ...any) {
	if lx.err == nil {
		lx.err = table.Errorf(lx.pos(off), format, args...)
	}
}

func (lx *lexer) peek(k int) byte {
	if lx.i+k < lx.limit {
		return lx.src[lx.i+k]
	}
	return 0
}

func (lx *lexer) skipBlanks() {
	for lx.i < lx.limit {
		switch {
		case lx.src[lx.i] == ' ' || lx.src[lx.i] == '\t':
			lx.i++
		case lx.src[lx.i] == '\\' && lx.peek(1) == '\n':
			lx.i += 2
		default:
			return
		}
	}
}

// commands splits the whole script into simple commands.
func (lx *lexer) commands() ([]*command, *table.Error) {
	var out []*command
	prev := "\n"
	for lx.i < lx.limit && lx.err == nil {
		c := lx.command()
		c.prevSep = prev
		prev = c.sep
		if len(c.words) > 0 || len(c.redirs) > 0 || c.paren {
			out = append(out, c)
		}
	}
	return out, lx.err
}

func (lx *lexer) command() *command {
	c := &command{off: -1}
	mark := func() {
		if c.off < 0 {
			c.off = lx.i
		}
	}
	for lx.err == nil {
		lx.skipBlanks()
		if lx.i >= lx.limit {
			break
		}
		ch := lx.src[lx.i]
		switch ch {
		case '#':
			if len(c.words) == 0 && len(c.redirs) == 0 && c.off < 0 {
				lx.comments++
			}
			for lx.i < lx.limit && lx.src[lx.i] != '\n' {
				lx.i++
			}
			continue
		case '\n':
			c.end = lx.i
			lx.i++
			c.sep = "\n"
			lx.heredocBodies()
			return lx.finish(c)
		case ';', '&', '|':
			c.end = lx.i
			op := string(ch)
			if lx.peek(1) == ch {
				op += op
			}
			lx.i += len(op)
			c.sep = op
			return lx.finish(c)
		case '(', ')':
			mark()
			c.paren = true
			lx.i++
			continue
		case '<', '>':
			mark()
			lx.redirect(c, "")
			continue
		}
		mark()
		w := lx.word()
		if lx.i < lx.limit && (lx.src[lx.i] == '<' || lx.src[lx.i] == '>') {
			if s, ok := w.plain(); ok && s != "" && strings.Trim(s, "0123456789") == "" {
				lx.redirect(c, s)
				continue
			}
		}
		c.words = append(c.words, w)
	}
	c.end = lx.i
	return lx.finish(c)
}

func (lx *lexer) finish(c *command) *command {
	if c.off < 0 {
		c.off = c.end
	}
	return c
}

func (lx *lexer) redirect(c *command, fd string) {
	off := lx.i
	if fd != "" {
		off -= len(fd)
	}
	op := string(lx.src[lx.i])
	lx.i++
	switch n := lx.peek(0); {
	case op == "<" && n == '<':
		op = "<<"
		lx.i++
		if lx.peek(0) == '-' {
			op = "<<-"
			lx.i++
		}
	case op == ">" && (n == '>' || n == '&' || n == '|'), op == "<" && (n == '&' || n == '>'):
		op += string(n)
		lx.i++
	}
	lx.skipBlanks()
	if lx.i >= lx.limit || strings.IndexByte(" \t\n;&|()<>", lx.src[lx.i]) >= 0 {
		lx.fail(off, "redirection %s without a target", op)
		return
	}
	t := lx.word()
	c.redirs = append(c.redirs, redirect{fd: fd, op: op, target: t, off: off})
	if op == "<<" || op == "<<-" {
		d, _, _ := t.literal()
		if d == "" {
			// A here-document delimiter with expansions: take its
			// spelling without quotes.
			d = strings.Trim(string(lx.src[t.off:t.end]), `'"`)
		}
		lx.pending = append(lx.pending, heredoc{delim: d, strip: op == "<<-"})
	}
}

// heredocBodies skips the bodies of the here-documents started on the
// line just ended.
func (lx *lexer) heredocBodies() {
	for _, h := range lx.pending {
		start := lx.i
		for {
			if lx.i >= lx.limit {
				lx.fail(start, "here-document without its closing line %q", h.delim)
				return
			}
			end := lx.i
			for end < lx.limit && lx.src[end] != '\n' {
				end++
			}
			line := string(lx.src[lx.i:end])
			if h.strip {
				line = strings.TrimLeft(line, "\t")
			}
			lx.i = min(end+1, lx.limit)
			if line == h.delim {
				break
			}
		}
	}
	lx.pending = nil
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// word reads one word at lx.i.
func (lx *lexer) word() word {
	w := word{off: lx.i}
	lit := func(s string, quoted bool) {
		if n := len(w.parts); n > 0 && w.parts[n-1].kind == litPart && w.parts[n-1].quoted == quoted {
			w.parts[n-1].text += s
			return
		}
		w.parts = append(w.parts, part{kind: litPart, text: s, quoted: quoted})
	}
	for lx.i < lx.limit && lx.err == nil {
		c := lx.src[lx.i]
		switch {
		case strings.IndexByte(" \t\n;&|()<>", c) >= 0:
			w.end = lx.i
			return w
		case c == '\\':
			switch {
			case lx.peek(1) == '\n':
				lx.i += 2
			case lx.i+1 < lx.limit:
				lit(string(lx.src[lx.i+1:lx.i+2]), true)
				lx.i += 2
			default:
				lit(`\`, false)
				lx.i++
			}
		case c == '\'':
			end := strings.IndexByte(string(lx.src[lx.i+1:lx.limit]), '\'')
			if end < 0 {
				lx.fail(lx.i, "unterminated single quote")
				lx.i = lx.limit
				break
			}
			lit(string(lx.src[lx.i+1:lx.i+1+end]), true)
			lx.i += end + 2
		case c == '"':
			lx.dquote(&w, lit)
		case c == '$':
			lx.dollar(&w, false, lit)
		case c == '`':
			lx.backtick(&w, false)
		default:
			lit(string(lx.src[lx.i:lx.i+1]), false)
			lx.i++
		}
	}
	w.end = lx.i
	return w
}

func (lx *lexer) dquote(w *word, lit func(string, bool)) {
	start := lx.i
	lx.i++
	lit("", true) // "" is an empty word, not nothing
	for lx.i < lx.limit && lx.err == nil {
		c := lx.src[lx.i]
		switch c {
		case '"':
			lx.i++
			return
		case '\\':
			switch n := lx.peek(1); n {
			case '\n':
				lx.i += 2
			case '$', '`', '"', '\\':
				lit(string(n), true)
				lx.i += 2
			default:
				lit(`\`, true)
				lx.i++
			}
		case '$':
			lx.dollar(w, true, lit)
		case '`':
			lx.backtick(w, true)
		default:
			lit(string(lx.src[lx.i:lx.i+1]), true)
			lx.i++
		}
	}
	lx.fail(start, "unterminated double quote")
}

func (lx *lexer) dollar(w *word, quoted bool, lit func(string, bool)) {
	start := lx.i
	n := lx.peek(1)
	switch {
	case n == '{':
		end := lx.closing(lx.i+2, '{', '}')
		if end < 0 {
			lx.fail(start, "unterminated ${")
			lx.i = lx.limit
			return
		}
		p := part{kind: paramPart, quoted: quoted}
		j := lx.i + 2
		if j < end && lx.src[j] == '#' && j+1 < end {
			p.op = "#"
			j++
		}
		k := j
		if k < end && isNameStart(lx.src[k]) {
			for k < end && isNameByte(lx.src[k]) {
				k++
			}
		} else if k < end {
			k++ // a special or positional parameter
		}
		p.text = string(lx.src[j:k])
		if k < end && p.op == "" {
			for _, op := range []string{":-", ":=", ":+", ":?", "-", "=", "+", "?"} {
				if strings.HasPrefix(string(lx.src[k:end]), op) {
					p.op = op
					sub := &lexer{src: lx.src, i: k + len(op), limit: end, name: lx.name, lines: lx.lines}
					a := sub.word()
					for sub.i < end && sub.err == nil {
						// Blanks inside ${x:-a b} belong to the word.
						a.parts = append(a.parts, part{kind: litPart, text: string(lx.src[sub.i : sub.i+1]), quoted: true})
						sub.i++
						more := sub.word()
						a.parts = append(a.parts, more.parts...)
					}
					if sub.err != nil && lx.err == nil {
						lx.err = sub.err
					}
					p.arg = &a
					break
				}
			}
			if p.op == "" {
				p.op = "?unsupported"
			}
		}
		w.parts = append(w.parts, p)
		lx.i = end + 1
	case n == '(' && lx.peek(2) == '(':
		end := lx.closing(lx.i+2, '(', ')')
		if end < 0 || end+1 >= lx.limit || lx.src[end+1] != ')' {
			lx.fail(start, "unterminated $((")
			lx.i = lx.limit
			return
		}
		w.parts = append(w.parts, part{kind: arithPart, text: string(lx.src[lx.i+3 : end]), quoted: quoted})
		lx.i = end + 2
	case n == '(':
		end := lx.closing(lx.i+2, '(', ')')
		if end < 0 {
			lx.fail(start, "unterminated $(")
			lx.i = lx.limit
			return
		}
		w.parts = append(w.parts, part{kind: substPart, text: string(lx.src[lx.i+2 : end]), quoted: quoted})
		lx.i = end + 1
	case isNameStart(n):
		j := lx.i + 1
		for j < lx.limit && isNameByte(lx.src[j]) {
			j++
		}
		w.parts = append(w.parts, part{kind: paramPart, text: string(lx.src[lx.i+1 : j]), quoted: quoted})
		lx.i = j
	case n != 0 && strings.IndexByte("0123456789@*#?$!-", n) >= 0:
		w.parts = append(w.parts, part{kind: paramPart, text: string(n), quoted: quoted})
		lx.i += 2
	default:
		lit("$", quoted)
		lx.i++
	}
}

// closing finds the byte that closes an opening bracket whose content
// starts at from, skipping quoted text; -1 if there is none.
func (lx *lexer) closing(from int, open, close byte) int {
	depth := 1
	for j := from; j < lx.limit; j++ {
		switch c := lx.src[j]; c {
		case '\\':
			j++
		case '\'':
			k := strings.IndexByte(string(lx.src[j+1:lx.limit]), '\'')
			if k < 0 {
				return -1
			}
			j += k + 1
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

func (lx *lexer) backtick(w *word, quoted bool) {
	start := lx.i
	var b strings.Builder
	for j := lx.i + 1; j < lx.limit; j++ {
		c := lx.src[j]
		if c == '\\' && j+1 < lx.limit {
			b.WriteByte(lx.src[j+1])
			j++
			continue
		}
		if c == '`' {
			w.parts = append(w.parts, part{kind: substPart, text: b.String(), quoted: quoted})
			lx.i = j + 1
			return
		}
		b.WriteByte(c)
	}
	lx.fail(start, "unterminated backquote")
	lx.i = lx.limit
}
