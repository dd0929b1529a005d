// Package fromscript turns a shell script of iptables commands (the kind
// the BLFS book and many hand-written firewalls install) into the ruleset
// it would leave in empty tables, without running anything.
//
// The script is read as sh reads it (quotes, backslash-newline
// continuations, comments, $VAR and ${VAR:-default} expansions of
// variables the script sets, here-documents), but nothing is executed:
// iptables and ip6tables commands become restore-file commands, /proc/sys
// writes become sysctl settings, and everything else is listed as
// skipped. What fw cannot know statically (a variable the script does not
// set, iptables inside if/for/while or a function, "iptables ... && ...")
// is an error naming the line, never a guess.
package fromscript

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
)

// Options say how to convert a script.
type Options struct {
	Family   table.Family // which commands to convert: iptables (IPv4) or ip6tables (IPv6)
	Registry *table.Registry
	// Fix rewrites what iptables 1.8 refuses but old scripts contain
	// ("-i ! eth0", "-I INPUT 0") into the modern spelling, with a note,
	// instead of failing.
	Fix bool
	// Counters makes "-c packets bytes" on rules count, as fw-save -c.
	Counters bool
}

// Skipped is a command of the script that is not converted.
type Skipped struct {
	Pos  table.Pos
	Text string // the command as written, on one line
	Why  string
}

// Note says what --fix rewrote.
type Note struct {
	Pos table.Pos
	Msg string
}

// Setting is a kernel setting the script writes to /proc/sys, or sets
// with sysctl.
type Setting struct {
	Pos        table.Pos
	Key, Value string // sysctl.d spelling: net.ipv4.ip_forward, "1"
}

// Result is what a script converts to.
type Result struct {
	Ruleset  *table.Ruleset
	Commands int // iptables commands converted
	Skipped  []Skipped
	Notes    []Note
	Settings []Setting
	Comments int // comment lines
	// OtherFamily holds the positions of the commands for the other
	// family (ip6tables commands when converting IPv4, and the reverse).
	OtherFamily []table.Pos
}

// Convert reads the script src (called name in messages) and returns the
// ruleset it builds. Errors are a table.ErrorList with file:line:col
// positions in the script.
func Convert(name string, src []byte, opt Options) (*Result, error) {
	lx := newLexer(name, src)
	cmds, err := lx.commands()
	res := &Result{Comments: lx.comments}
	if err != nil {
		return res, table.ErrorList{err}
	}
	cv := &converter{opt: opt, lx: lx, name: name, src: src, vars: map[string]value{}, res: res,
		file: &format.File{Name: name}}
	for i := 0; i < len(cmds); i++ {
		if cv.command(cmds, &i) {
			for _, c := range cmds[i+1:] {
				if len(c.words) > 0 {
					cv.skip(c, "after 'exit': never runs")
				}
			}
			break
		}
	}
	cv.closeBlock()
	script, derr := format.Decode(cv.file, format.DecodeOptions{Family: opt.Family, Registry: opt.Registry})
	if el, ok := derr.(table.ErrorList); ok {
		for _, e := range el {
			e.Pos = cv.realPos(e.Pos)
			cv.errs.Add(e)
		}
	} else if derr != nil {
		return res, derr
	}
	if len(cv.errs) > 0 {
		cv.errs.Sort()
		if len(cv.errs) > table.MaxErrors {
			cv.errs = cv.errs[:table.MaxErrors]
		}
		return res, cv.errs
	}
	for bi := range script.Blocks {
		b := &script.Blocks[bi]
		b.Pos, b.Commit = cv.realPos(b.Pos), cv.realPos(b.Commit)
		for oi := range b.Ops {
			op := &b.Ops[oi]
			op.Pos = cv.realPos(op.Pos)
			for _, r := range op.Rules {
				r.Pos = cv.realPos(r.Pos)
			}
		}
	}
	rs := &table.Ruleset{Family: opt.Family}
	// Every command runs against what the commands before it left: no
	// table is flushed by being named.
	if err := script.Apply(rs, table.ApplyOptions{NoFlush: true, Counters: opt.Counters}); err != nil {
		return res, err
	}
	res.Ruleset = rs
	return res, nil
}

// SysctlConf returns the settings as a sysctl.d fragment.
func (r *Result) SysctlConf(source string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Kernel settings from %s, written by fw-save --from-script.\n", source)
	b.WriteString("# Install as /etc/sysctl.d/50-fw.conf: systemd-sysctl (or 'sysctl --system') applies it at boot.\n")
	for _, s := range r.Settings {
		fmt.Fprintf(&b, "%s = %s\n", s.Key, s.Value)
	}
	return []byte(b.String())
}

type value struct {
	s       string
	unknown string // why the value cannot be known; "" when it is
}

type field struct {
	text string
	off  int
}

type converter struct {
	opt   Options
	lx    *lexer
	name  string
	src   []byte
	vars  map[string]value
	res   *Result
	errs  table.ErrorList
	depth int // shell control flow nesting

	file     *format.File
	lineOff  []int // source offset of each synthesized command line, by line number - 1
	curTable string
}

var (
	v4Names = []string{"iptables", "iptables-legacy", "iptables-nft"}
	v6Names = []string{"ip6tables", "ip6tables-legacy", "ip6tables-nft"}
	// Tools that take or print whole rulesets: their input is a rules
	// file already.
	restoreNames = []string{"iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save",
		"iptables-legacy-restore", "ip6tables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-save",
		"iptables-nft-restore", "ip6tables-nft-restore", "iptables-nft-save", "ip6tables-nft-save",
		"iptables-apply", "ip6tables-apply"}
)

func (cv *converter) errorf(off int, hint string, format string, args ...any) {
	e := table.Errorf(cv.lx.pos(off), format, args...)
	e.Hint = hint
	cv.errs.Add(e)
}

// text is a command as written, on one line.
func (cv *converter) text(c *command) string {
	s := strings.ReplaceAll(string(cv.src[c.off:c.end]), "\\\n", " ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func (cv *converter) skip(c *command, why string) {
	p := cv.lx.pos(c.off)
	p.Col = 0
	cv.res.Skipped = append(cv.res.Skipped, Skipped{Pos: p, Text: cv.text(c), Why: why})
}

// command handles cmds[*i]. It reports whether the script ends there
// (exit at the top level).
func (cv *converter) command(cmds []*command, i *int) bool {
	c := cmds[*i]
	ws := c.words
	inside := cv.depth > 0 || c.paren
	if len(ws) > 0 {
		kw, _ := ws[0].plain()
		switch kw {
		case "for", "case", "select":
			cv.depth++
			cv.skip(c, "shell control flow")
			return false
		case "if", "while", "until", "{":
			cv.depth++
			inside = true
			ws = ws[1:]
		case "then", "else", "elif", "do":
			ws = ws[1:]
		case "fi", "done", "esac", "}":
			cv.depth = max(cv.depth-1, 0)
			return false
		case "function":
			inside = true
		case "!":
			// A negated pipeline is a condition.
			inside = true
			ws = ws[1:]
		}
	}
	if c.paren || slices.ContainsFunc(ws, func(w word) bool { s, _ := w.plain(); return s == "function" }) {
		// A function definition or a subshell: its body is not
		// straight-line code.
		for _, w := range ws {
			if s, _ := w.plain(); s == "{" {
				cv.depth++
			}
		}
		inside = true
	}
	if len(ws) == 0 {
		return false
	}
	// Leading assignments: on their own they set variables; before a
	// command they only set its environment.
	n := 0
	for n < len(ws) && isAssignment(&ws[n]) {
		n++
	}
	if n == len(ws) {
		for k := range ws {
			cv.assign(&ws[k], inside)
		}
		return false
	}
	ws = ws[n:]
	first, _ := ws[0].plain()
	switch first {
	case "export", "readonly", "local", "declare", "typeset":
		for k := 1; k < len(ws); k++ {
			if isAssignment(&ws[k]) {
				cv.assign(&ws[k], inside)
			}
		}
		return false
	case "unset":
		for _, w := range ws[1:] {
			if s, ok := w.plain(); ok {
				delete(cv.vars, s)
			}
		}
		return false
	case "exit":
		if !inside {
			cv.skip(c, "end of the script")
			return true
		}
	}
	var head []field
	for len(ws) > 0 && len(head) == 0 {
		fs, err := cv.expand(&ws[0])
		if err != nil {
			if inside {
				cv.skip(c, "shell control flow")
			} else {
				err.Msg = "cannot tell which command this is: " + err.Msg
				cv.errs.Add(err)
			}
			return false
		}
		head, ws = fs, ws[1:]
	}
	if len(head) == 0 {
		return false
	}
	prog := path.Base(head[0].text)
	// "sudo iptables ...", "command iptables ...": the program is the
	// next word.
	for (prog == "sudo" || prog == "command" || prog == "exec") && !inside {
		if len(head) == 1 && len(ws) > 0 {
			fs, err := cv.expand(&ws[0])
			if err != nil || len(fs) == 0 {
				break
			}
			head, ws = append(head, fs...), ws[1:]
		}
		if len(head) < 2 || strings.HasPrefix(head[1].text, "-") {
			break
		}
		head = head[1:]
		prog = path.Base(head[0].text)
	}
	fam := table.Family(0)
	switch {
	case slices.Contains(v4Names, prog):
		fam = table.IPv4
	case slices.Contains(v6Names, prog):
		fam = table.IPv6
	case slices.Contains(restoreNames, prog):
		cv.skip(c, prog+" is not converted: its rules file already is one (see fw-save --from FILE)")
		return false
	case prog == "." || prog == "source":
		cv.skip(c, "a sourced file is not read: variables it sets are not known")
		return false
	case prog == "echo" || prog == "sysctl":
		cv.setting(c, prog, head[1:], ws, inside)
		return false
	default:
		why := "not an iptables command"
		if inside {
			why = "shell control flow"
		}
		cv.skip(c, why)
		return false
	}
	if inside {
		cv.errorf(c.off, "fw converts scripts that run from top to bottom; write out the commands this host runs",
			"%s command inside shell control flow (if, while, for, case, a function or a subshell) cannot be converted", prog)
		return false
	}
	if fam != cv.opt.Family {
		cv.res.OtherFamily = append(cv.res.OtherFamily, cv.lx.pos(c.off))
		cv.consumeTrue(cmds, i)
		return false
	}
	args := head[1:]
	for k := range ws {
		fs, err := cv.expand(&ws[k])
		if err != nil {
			cv.errs.Add(err)
			return false
		}
		args = append(args, fs...)
	}
	if slices.ContainsFunc(args, func(f field) bool { return isListing(f.text) }) {
		cv.skip(c, "lists or checks rules; changes nothing")
		cv.consumeTrue(cmds, i)
		return false
	}
	joined := c.prevSep == "&&" || c.prevSep == "||" || c.prevSep == "|" ||
		c.sep == "&&" || c.sep == "|" || c.sep == "&" || c.sep == "||" && !cv.consumeTrue(cmds, i)
	if joined {
		cv.errorf(c.off, "write it on a line of its own ('|| true' after it is fine)",
			"%s command in a '&&', '||', '|' or '&' list: fw cannot know whether it runs", prog)
		return false
	}
	cv.iptables(c, prog, args)
	return false
}

// consumeTrue takes a "|| true" (or "|| :") after cmds[*i], which only
// hides the command's failure, and reports whether there was one.
func (cv *converter) consumeTrue(cmds []*command, i *int) bool {
	c := cmds[*i]
	if c.sep != "||" || *i+1 >= len(cmds) {
		return false
	}
	next := cmds[*i+1]
	if len(next.words) != 1 || next.sep == "&&" || next.sep == "||" || next.sep == "|" {
		return false
	}
	if s, ok := next.words[0].plain(); !ok || s != "true" && s != ":" {
		return false
	}
	*i++
	return true
}

func isAssignment(w *word) bool {
	if len(w.parts) == 0 || w.parts[0].kind != litPart || w.parts[0].quoted {
		return false
	}
	name, _, ok := strings.Cut(w.parts[0].text, "=")
	if !ok || name == "" || !isNameStart(name[0]) {
		return false
	}
	for k := 0; k < len(name); k++ {
		if !isNameByte(name[k]) {
			return false
		}
	}
	return true
}

func (cv *converter) assign(w *word, inside bool) {
	name, rest, _ := strings.Cut(w.parts[0].text, "=")
	vw := word{off: w.off, end: w.end, parts: slices.Clone(w.parts)}
	vw.parts[0].text = rest
	if inside {
		cv.vars[name] = value{unknown: "it is set inside shell control flow (if, while, for, case or a function)"}
		return
	}
	s, err := cv.expandString(&vw)
	if err != nil {
		cv.vars[name] = value{unknown: err.Msg}
		return
	}
	cv.vars[name] = value{s: s}
}

func isIFS(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

// expand expands a word into fields, as sh does (without globbing).
func (cv *converter) expand(w *word) ([]field, *table.Error) {
	var fields []field
	var cur strings.Builder
	has := false
	emit := func() {
		if has {
			fields = append(fields, field{cur.String(), w.off})
			cur.Reset()
			has = false
		}
	}
	for k := range w.parts {
		p := &w.parts[k]
		if p.kind == litPart {
			cur.WriteString(p.text)
			has = true
			continue
		}
		v, err := cv.value(p, w.off)
		if err != nil {
			return nil, err
		}
		if p.quoted {
			cur.WriteString(v)
			has = true
			continue
		}
		if v == "" {
			continue
		}
		if isIFS(rune(v[0])) {
			emit()
		}
		for n, piece := range strings.FieldsFunc(v, isIFS) {
			if n > 0 {
				emit()
			}
			cur.WriteString(piece)
			has = true
		}
		if isIFS(rune(v[len(v)-1])) {
			emit()
		}
	}
	emit()
	return fields, nil
}

// expandString expands a word without splitting it (an assignment's value,
// a redirection target).
func (cv *converter) expandString(w *word) (string, *table.Error) {
	var b strings.Builder
	for k := range w.parts {
		p := &w.parts[k]
		if p.kind == litPart {
			b.WriteString(p.text)
			continue
		}
		v, err := cv.value(p, w.off)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func (cv *converter) value(p *part, off int) (string, *table.Error) {
	fail := func(hint, format string, args ...any) (string, *table.Error) {
		e := table.Errorf(cv.lx.pos(off), format, args...)
		e.Hint = hint
		return "", e
	}
	switch p.kind {
	case arithPart:
		return fail("", "arithmetic $((%s)) is not evaluated", p.text)
	case substPart:
		if prog := whichProgram(p.text); prog != "" {
			return prog, nil
		}
		return fail("replace it with its value", "the command substitution $(%s) cannot be evaluated without running it", strings.TrimSpace(p.text))
	}
	name := p.text
	if name == "" || !isNameStart(name[0]) {
		return fail("the script's arguments and shell state are not known when converting", "$%s cannot be evaluated", name)
	}
	v, set := cv.vars[name]
	if set && v.unknown != "" {
		return fail("set it to a plain value at the top level of the script", "$%s cannot be evaluated: %s", name, v.unknown)
	}
	arg := func() (string, *table.Error) {
		if p.arg == nil {
			return "", nil
		}
		return cv.expandString(p.arg)
	}
	switch p.op {
	case "":
		if !set {
			return fail(fmt.Sprintf("set it at the top of the script ('%s=...') before its first use", name), "$%s is not set in the script", name)
		}
		return v.s, nil
	case ":-", ":=", "-", "=":
		if !set || v.s == "" && p.op[0] == ':' {
			s, err := arg()
			if err == nil && (p.op == ":=" || p.op == "=") {
				cv.vars[name] = value{s: s}
			}
			return s, err
		}
		return v.s, nil
	case ":+", "+":
		if set && (v.s != "" || p.op == "+") {
			return arg()
		}
		return "", nil
	case ":?", "?":
		if !set || v.s == "" && p.op == ":?" {
			return fail("", "$%s is not set in the script", name)
		}
		return v.s, nil
	case "#":
		if !set {
			return fail("", "$%s is not set in the script", name)
		}
		return fmt.Sprint(len(v.s)), nil
	}
	return fail("write a plain ${NAME} or ${NAME:-default}", "the expansion ${%s...} is not supported", name)
}

// whichProgram recognises "which iptables", "command -v iptables" and
// "type -p iptables", which scripts use to find the binary: the value is
// the program's name.
func whichProgram(s string) string {
	var f []string
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, "2>") || strings.HasPrefix(w, ">") || w == "/dev/null" {
			continue
		}
		f = append(f, w)
	}
	switch {
	case len(f) == 2 && f[0] == "which":
		return f[1]
	case len(f) == 3 && f[0] == "command" && f[1] == "-v":
		return f[2]
	case len(f) == 3 && f[0] == "type" && (f[1] == "-p" || f[1] == "-P"):
		return f[2]
	}
	return ""
}

// setting handles echo VALUE > /proc/sys/... and sysctl -w KEY=VALUE.
func (cv *converter) setting(c *command, prog string, head []field, rest []word, inside bool) {
	why := "not an iptables command"
	var out []Setting
	// args is the command's words expanded, or false when one cannot be
	// (the command is then skipped and reported).
	args := func() ([]field, bool) {
		args := head
		for k := range rest {
			fs, err := cv.expand(&rest[k])
			if err != nil {
				cv.skip(c, "a kernel setting fw cannot evaluate: "+err.Msg)
				return nil, false
			}
			args = append(args, fs...)
		}
		return args, true
	}
	if prog == "echo" {
		for _, r := range c.redirs {
			if r.op != ">" && r.op != ">>" && r.op != ">|" || r.fd != "" && r.fd != "1" {
				continue
			}
			target, err := cv.expandString(&r.target)
			if err != nil || !strings.HasPrefix(path.Clean(target), "/proc/sys/") {
				continue
			}
			args, ok := args()
			if !ok {
				return
			}
			for len(args) > 0 && (args[0].text == "-n" || args[0].text == "-e" || args[0].text == "-E") {
				args = args[1:]
			}
			var vals []string
			for _, a := range args {
				vals = append(vals, a.text)
			}
			out = append(out, Setting{Key: sysctlKey(strings.TrimPrefix(path.Clean(target), "/proc/sys/")), Value: strings.Join(vals, " ")})
		}
	} else {
		args, ok := args()
		if !ok {
			return
		}
		for _, a := range args {
			if a.text == "-p" || a.text == "--load" || a.text == "--system" {
				out = nil
				break
			}
			if k, v, ok := strings.Cut(a.text, "="); ok && !strings.HasPrefix(k, "-") {
				out = append(out, Setting{Key: sysctlKey(strings.ReplaceAll(strings.TrimSpace(k), ".", "/")), Value: strings.TrimSpace(v)})
			}
		}
	}
	if len(out) == 0 {
		cv.skip(c, why)
		return
	}
	if inside {
		cv.skip(c, "a kernel setting inside shell control flow, not converted")
		return
	}
	var descr []string
	for _, s := range out {
		s.Pos = cv.lx.pos(c.off)
		cv.res.Settings = append(cv.res.Settings, s)
		descr = append(descr, s.Key+" = "+s.Value)
	}
	cv.skip(c, "kernel setting "+strings.Join(descr, ", "))
}

// sysctlKey turns a path under /proc/sys into the sysctl.d spelling: dots,
// unless a component has a dot of its own (an interface such as eth0.10),
// in which case the slashes stay (sysctl.d accepts both).
func sysctlKey(p string) string {
	comps := strings.Split(p, "/")
	for _, c := range comps {
		if strings.Contains(c, ".") {
			return p
		}
	}
	return strings.Join(comps, ".")
}

// iptables converts one iptables command into a line of the synthesized
// restore file.
func (cv *converter) iptables(c *command, prog string, args []field) {
	tbl := "filter"
	var out []field
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch a.text {
		case "-t", "--table":
			if k+1 >= len(args) {
				cv.errorf(a.off, "", "option %s needs a table name", a.text)
				return
			}
			tbl = args[k+1].text
			if table.LookupTable(tbl) == nil {
				cv.errorf(args[k+1].off, "tables are "+strings.Join(table.TableNames(), ", "), "unknown table %q", tbl)
				return
			}
			k++
			continue
		case "-w", "--wait":
			// The lock wait matters to a running script, not to the
			// ruleset.
			if k+1 < len(args) {
				if _, ok := table.ParseUint(args[k+1].text, 0, 1<<31); ok {
					k++
				}
			}
			continue
		case "-W", "--wait-interval", "-M", "--modprobe":
			k++
			continue
		case "-v", "--verbose":
			continue
		}
		out = append(out, a)
	}
	bad := false
	for _, f := range out {
		// A rules file is lines of text: the converted command has to
		// be one.
		if i := strings.IndexFunc(f.text, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }); i >= 0 {
			cv.errorf(f.off, "", "control character 0x%02x in argument %q, which a rules file cannot hold", f.text[i], f.text)
			bad = true
		}
	}
	for k := 1; k+1 < len(out); k++ {
		if out[k].text != "!" || !isOption(out[k-1].text) || strings.HasPrefix(out[k+1].text, "-") || out[k+1].text == "!" {
			continue
		}
		opt, val := out[k-1].text, out[k+1].text
		if cv.opt.Fix {
			cv.note(out[k-1].off, "rewrote '%s ! %s' as '! %s %s' (iptables 1.8 takes '!' only before the option)", opt, val, opt, val)
			out[k-1], out[k] = out[k], out[k-1]
			continue
		}
		cv.errorf(out[k].off, fmt.Sprintf("write the negation before the option: '! %s %s'; --fix rewrites it", opt, val), "'!' after %s", opt)
		bad = true
	}
	for k := 0; k+2 < len(out); k++ {
		if out[k].text != "-I" && out[k].text != "--insert" || out[k+2].text != "0" {
			continue
		}
		chain := out[k+1].text
		if cv.opt.Fix {
			cv.note(out[k+2].off, "rewrote '-I %s 0' as '-I %s 1' (the top of the chain: iptables numbers rules from 1)", chain, chain)
			out[k+2].text = "1"
			continue
		}
		cv.errorf(out[k+2].off, fmt.Sprintf("rule numbers start at 1: '-I %s 1', or no number, inserts at the top; --fix rewrites it", chain), "invalid rule number %q", "0")
		bad = true
	}
	if bad {
		return
	}
	if tbl != cv.curTable {
		cv.closeBlock()
		cv.curTable = tbl
		cv.addLine(c.off, format.TableLine, []format.Word{{Text: tbl, Off: 1, End: 1 + len(tbl)}})
	}
	words := make([]format.Word, len(out))
	for k, f := range out {
		off := f.off - c.off
		words[k] = format.Word{Text: f.text, Off: off, End: off + len(f.text)}
	}
	cv.addLine(c.off, format.CommandLine, words)
	cv.res.Commands++
}

func (cv *converter) note(off int, format string, args ...any) {
	cv.res.Notes = append(cv.res.Notes, Note{Pos: cv.lx.pos(off), Msg: fmt.Sprintf(format, args...)})
}

func (cv *converter) addLine(off int, kind format.LineKind, words []format.Word) {
	cv.lineOff = append(cv.lineOff, off)
	cv.file.Lines = append(cv.file.Lines, &format.Line{Kind: kind, Num: len(cv.lineOff), Words: words})
}

func (cv *converter) closeBlock() {
	if cv.curTable == "" {
		return
	}
	cv.addLine(cv.lineOff[len(cv.lineOff)-1], format.CommitLine, nil)
	cv.curTable = ""
}

// realPos maps a position in the synthesized restore file back to the
// script.
func (cv *converter) realPos(p table.Pos) table.Pos {
	if p.File != cv.name || p.Line < 1 || p.Line > len(cv.lineOff) {
		return p
	}
	return cv.lx.pos(cv.lineOff[p.Line-1] + max(p.Col, 1) - 1)
}

func isOption(s string) bool {
	return len(s) > 1 && s[0] == '-' && (s[1] < '0' || s[1] > '9')
}

// isListing reports whether a word is a command that changes nothing:
// -L, -S, -C, -h, -V, also clustered with -n, -v, -x ("-nvL").
func isListing(s string) bool {
	switch s {
	case "-L", "--list", "-S", "--list-rules", "-C", "--check", "-h", "--help", "-V", "--version":
		return true
	}
	if len(s) < 3 || s[0] != '-' || s[1] == '-' {
		return false
	}
	return strings.Trim(s[1:], "nvxLS") == "" && strings.ContainsAny(s, "LS")
}
