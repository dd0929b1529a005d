package ipset

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/fwkit/fw/table"
)

// word is one argument of a line, as ipset's restore splits a line
// (build_argv): white space separates, a double quote starts or ends a
// quoted stretch anywhere in a word and is dropped, and an empty word
// ("") is no word.
type word struct {
	s   string
	col int // 1-based column where the word starts
}

func splitLine(out []word, line string) ([]word, error) {
	// A word without quotes is a part of line; only a quoted one is
	// built anew.
	var b []byte
	quoted, hadQuote, start := false, false, -1
	flush := func(end int) {
		switch {
		case start < 0:
		case !hadQuote:
			out = append(out, word{line[start:end], start + 1})
		case len(b) > 0:
			out = append(out, word{string(b), start + 1})
		}
		b, start, hadQuote = b[:0], -1, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			quoted = !quoted
			if start < 0 {
				start = i
			}
			if !hadQuote {
				b = append(b[:0], line[start:i]...)
				hadQuote = true
			}
			continue
		case !quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
		if hadQuote {
			b = append(b, c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("missing closing quote")
	}
	flush(len(line))
	return out, nil
}

// matchCommand reports whether w names one of the commands in names the
// way ipset takes a command: two leading dashes dropped, and any prefix
// of a name.
func matchCommand(w string, names ...string) bool {
	w = strings.TrimPrefix(w, "--")
	if w == "" || w == "-" {
		return false
	}
	for _, n := range names {
		if strings.HasPrefix(n, w) {
			return true
		}
	}
	return false
}

// parser holds the sets of a file while it is read.
type parser struct {
	file   string
	sets   []*Set
	byName map[string]*setState
	failed map[string]bool // sets whose create line was refused
	errs   table.ErrorList
	words  []word         // the words of the line being read, reused
	adds   map[string]int // how many add lines each set has, to size it
}

// setState is what the parser keeps per set beyond the Set itself.
type setState struct {
	set  *Set
	seen map[Elem]int32 // element -> line, to refuse one added twice
}

// Parse reads sets written in ipset's save format: "create NAME TYPE
// [options]" and "add NAME ELEMENT [options]" lines, blank lines and
// '#' comments. Every set a file adds to must be created in it: a file
// states whole sets. The sets come back canonical (see Options):
// defaults filled in, sizes rounded as the kernel rounds them, elements
// masked, ranges and networks split into the elements the kernel stores,
// service and protocol names turned into numbers. Errors name the
// file, line and column, several at once.
func Parse(file string, src []byte) ([]*Set, error) {
	p := &parser{file: file, byName: map[string]*setState{}, failed: map[string]bool{}, adds: countAdds(src)}
	lineNo := 0
	for len(src) > 0 {
		lineNo++
		var line string
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = string(src[:i]), src[i+1:]
		} else {
			line, src = string(src), nil
		}
		if p.line(lineNo, line) {
			break
		}
	}
	p.checkLists()
	if len(p.errs) > 0 {
		p.errs.Sort()
		return nil, p.errs
	}
	return p.sets, nil
}

// countAdds counts the lines "add NAME ..." of each set, so that a set
// of many members is sized once instead of growing line by line.
func countAdds(src []byte) map[string]int {
	m := map[string]int{}
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if !bytes.HasPrefix(line, []byte("add ")) {
			continue
		}
		name := line[4:]
		if i := bytes.IndexAny(name, " \t"); i >= 0 {
			name = name[:i]
		}
		m[string(name)]++
	}
	return m
}

// checkLists refuses a list:set member that is itself a list:set of the
// file: the kernel refuses such loops (IPSET_ERR_LOOP). Members that
// name sets the file does not create are checked against the kernel
// when the file is restored.
func (p *parser) checkLists() {
	for _, s := range p.sets {
		if s.Type.Kind != List {
			continue
		}
		for _, m := range s.Members {
			if st := p.byName[m.Name]; st != nil && st.set.Type.Kind == List {
				if p.errorf(int(m.Line), int(m.Col), "a list:set holds sets of the other types", "set %q is a list:set and cannot be a member of %q", m.Name, s.Name) {
					return
				}
			}
		}
	}
}

func (p *parser) pos(line, col int) table.Pos { return table.Pos{File: p.file, Line: line, Col: col} }

// errorf records an error and reports whether to stop.
func (p *parser) errorf(line, col int, hint, format string, args ...any) bool {
	return p.errs.Add(&table.Error{Pos: p.pos(line, col), Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// errAt records err (a table.HintError keeps its hint).
func (p *parser) errAt(line, col int, err error) bool {
	return p.errs.Add(table.At(p.pos(line, col), err))
}

// line reads one line and reports whether to stop.
func (p *parser) line(n int, text string) bool {
	t := strings.TrimLeft(text, " \t\r")
	if t == "" || t[0] == '#' {
		return false
	}
	words, err := splitLine(p.words[:0], text)
	p.words = words
	if err != nil {
		return p.errorf(n, len(text), "close the quote that starts the comment", "%v", err)
	}
	if len(words) == 0 {
		return false
	}
	cmd := words[0]
	switch {
	case matchCommand(cmd.s, "create", "new", "-N"):
		return p.create(n, words)
	case matchCommand(cmd.s, "add", "-A"):
		return p.add(n, words)
	case matchCommand(cmd.s, "del", "-D", "test", "-T", "destroy", "-X", "flush", "-F",
		"rename", "-E", "swap", "-W", "list", "-L", "save", "-S", "restore", "-R"):
		return p.errorf(n, cmd.col, "a set file holds create and add lines; it states whole sets, and fw works out the changes",
			"command %q is not taken in a set file", cmd.s)
	}
	return p.errorf(n, cmd.col, "a set line starts with 'create' or 'add'", "unknown command %q", cmd.s)
}

func checkName(s string) error {
	if s == "" {
		return fmt.Errorf("empty set name")
	}
	if len(s) > MaxNameLen {
		return table.WithHint(fmt.Sprintf("the kernel takes names of up to %d bytes", MaxNameLen), "set name %q is too long", s)
	}
	if !printable(s) {
		return table.WithHint("ipset save writes names without quotes", "set name %q has a blank, a quote or a control character", s)
	}
	return nil
}

// printable reports whether s can be written as one word of a line:
// no blanks, quotes or control characters.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == 0x7f {
			return false
		}
	}
	return true
}

// create reads "create NAME TYPE [options]".
func (p *parser) create(n int, w []word) bool {
	if len(w) < 3 {
		col := w[0].col
		if len(w) == 2 {
			col = w[1].col
		}
		return p.errorf(n, col, "write 'create NAME TYPE [options]'", "create needs a set name and a type")
	}
	name := w[1]
	if err := checkName(name.s); err != nil {
		return p.errAt(n, name.col, err)
	}
	if st, ok := p.byName[name.s]; ok {
		return p.errorf(n, name.col, "", "set %q is already created at line %d", name.s, st.set.Pos.Line)
	}
	tname := w[2].s
	if a, ok := typeAliases[tname]; ok {
		tname = a
	}
	t := Types[tname]
	if t == nil {
		p.failed[name.s] = true
		return p.errorf(n, w[2].col, "the types are "+strings.Join(TypeNames(), ", "), "unknown set type %q", w[2].s)
	}
	s := &Set{Name: name.s, Type: t, Pos: p.pos(n, w[0].col)}
	if err := readCreateOptions(s, w[2].col, w[3:], func(col int, err error) bool { return p.errAt(n, col, err) }); err != nil {
		p.failed[name.s] = true
		return err == errStop
	}
	if n := p.adds[s.Name]; n > 0 {
		s.Members = make([]Entry, 0, n)
	}
	p.sets = append(p.sets, s)
	p.byName[s.Name] = &setState{set: s}
	return false
}

// errStop says the error list is full.
var errStop = fmt.Errorf("too many errors")

// errReported says an error has been recorded.
var errReported = fmt.Errorf("reported")

// rawOpt is a create option as written, read once the family is known.
type rawOpt struct {
	opt Opt
	arg word
	col int
}

// readCreateOptions reads the options of a create line into s and
// makes them canonical; report records an error and says whether to stop.
// An error about the options together points at typeCol, the type's word.
func readCreateOptions(s *Set, typeCol int, w []word, report func(col int, err error) bool) error {
	t := s.Type
	seen := map[Opt]bool{}
	var raw []rawOpt
	fail := func(col int, err error) error {
		if report(col, err) {
			return errStop
		}
		return errReported
	}
	var family Family
	familySet := false
	for i := 0; i < len(w); i++ {
		name := strings.TrimPrefix(w[i].s, "--")
		var o Opt
		switch name {
		case "-4", "-6":
			o = OptFamily
		default:
			for x := OptFamily; x <= OptInitVal; x++ {
				if optNames[x] == name {
					o = x
				}
			}
		}
		if o == 0 || !t.Has(o) {
			return fail(w[i].col, table.WithHint(optionHint(t), "%s takes no option %q", t.Name, w[i].s))
		}
		if seen[o] {
			return fail(w[i].col, fmt.Errorf("option %q given twice", name))
		}
		seen[o] = true
		switch {
		case name == "-4":
			family, familySet = FamilyInet, true
			continue
		case name == "-6":
			family, familySet = FamilyInet6, true
			continue
		}
		switch o {
		case OptCounters, OptComment, OptForceAdd, OptSkbInfo:
			raw = append(raw, rawOpt{opt: o, col: w[i].col})
			continue
		}
		if i+1 >= len(w) {
			return fail(w[i].col, fmt.Errorf("option %q needs a value", name))
		}
		i++
		if o == OptFamily {
			switch w[i].s {
			case "inet", "ipv4", "-4":
				family = FamilyInet
			case "inet6", "ipv6", "-6":
				family = FamilyInet6
			default:
				return fail(w[i].col, table.WithHint("write 'family inet' or 'family inet6'", "unknown family %q", w[i].s))
			}
			familySet = true
			continue
		}
		raw = append(raw, rawOpt{opt: o, arg: w[i], col: w[i-1].col})
	}
	switch {
	case t.Families && !familySet:
		family = FamilyInet
	case !t.Families:
		family = t.Family
	}
	s.Family = family
	o := &s.Opts
	if t.Kind == Hash {
		o.HashSize, o.MaxElem, o.BucketSize = DefaultHashSize, DefaultMaxElem, DefaultBucketSize
	}
	if t.Has(OptMarkMask) {
		o.MarkMask = 0xffffffff
	}
	if t.Kind == List {
		o.Size = DefaultListSize
	}
	hasRange := false
	for _, r := range raw {
		if err := setOption(s, r.opt, r.arg.s); err != nil {
			return fail(r.arg.col, err)
		}
		hasRange = hasRange || r.opt == OptRange
	}
	if t.Kind == Bitmap && !hasRange {
		hint := "write 'range FROM-TO' or 'range NETWORK/PREFIX'"
		if t.Name == "bitmap:port" {
			hint = "write 'range FROM-TO' with the first and the last port"
		}
		return fail(typeCol, table.WithHint(hint, "%s needs a range", t.Name))
	}
	if o.NetMask != 0 && o.HasBitMask {
		return fail(typeCol, fmt.Errorf("netmask and bitmask exclude each other"))
	}
	if t.Name == "bitmap:ip" {
		if err := bitmapIPRange(o); err != nil {
			return fail(typeCol, err)
		}
	}
	return nil
}

func optionHint(t *Type) string {
	var n []string
	for _, o := range t.Opts {
		n = append(n, o.String())
	}
	return t.Name + " takes " + strings.Join(n, ", ")
}

// setOption reads the value of one create option.
func setOption(s *Set, opt Opt, v string) error {
	o := &s.Opts
	u32 := func() (uint32, error) {
		x, ok := table.ParseUint(v, 0, 1<<32-1)
		if !ok {
			return 0, fmt.Errorf("%s %q is not a number from 0 to 4294967295", opt, v)
		}
		return uint32(x), nil
	}
	switch opt {
	case OptCounters:
		o.Counters = true
	case OptComment:
		o.Comment = true
	case OptForceAdd:
		o.ForceAdd = true
	case OptSkbInfo:
		o.SkbInfo = true
	case OptHashSize:
		x, err := u32()
		if err != nil {
			return err
		}
		if x > 1<<31 {
			return table.WithHint("the kernel's largest table has 2147483648 buckets", "hashsize %d is too large", x)
		}
		o.HashSize = roundHashSize(x)
	case OptMaxElem:
		x, err := u32()
		if err != nil {
			return err
		}
		o.MaxElem = x
	case OptBucketSize:
		x, ok := table.ParseUint(v, 0, 255)
		if !ok {
			return fmt.Errorf("bucketsize %q is not a number from 0 to 255", v)
		}
		o.BucketSize = roundBucketSize(uint8(x))
	case OptInitVal:
		x, err := u32()
		if err != nil {
			return err
		}
		o.InitVal, o.HasInitVal = x, true
	case OptMarkMask:
		x, err := u32()
		if err != nil {
			return err
		}
		if x == 0 {
			return fmt.Errorf("markmask 0 would mask every mark away")
		}
		o.MarkMask = x
	case OptSize:
		x, err := u32()
		if err != nil {
			return err
		}
		o.Size = max(x, MinListSize)
	case OptTimeout:
		x, ok := table.ParseUint(v, 0, MaxTimeout)
		if !ok {
			return fmt.Errorf("timeout %q is not a number of seconds from 0 to %d", v, MaxTimeout)
		}
		o.Timeout, o.HasTimeout = uint32(x), true
	case OptNetMask:
		bits := s.Family.hostBits()
		x, ok := table.ParseUint(v, 1, uint64(bits))
		if !ok {
			return fmt.Errorf("netmask %q is not a prefix length from 1 to %d", v, bits)
		}
		if uint8(x) != bits {
			o.NetMask = uint8(x)
		}
	case OptBitMask:
		a, err := ParseAddr(s.Family, v)
		if err != nil {
			return fmt.Errorf("bitmask: %w", err)
		}
		if a.IsZero() {
			return fmt.Errorf("bitmask %s would mask every address away", v)
		}
		if maskLen(a, s.Family) != int(s.Family.hostBits()) {
			o.BitMask, o.HasBitMask = a, true
		}
	case OptRange:
		return setRange(s, v)
	}
	return nil
}

// roundHashSize is the table size the kernel makes for a hashsize: at
// least 64, rounded up to a power of two.
func roundHashSize(x uint32) uint32 {
	x = max(x, MinHashSize)
	n := uint32(1)
	for n < x {
		n <<= 1
	}
	return n
}

// roundBucketSize is the bucket size the kernel keeps: from 2 to 12, even.
func roundBucketSize(x uint8) uint8 {
	switch {
	case x < MinBucketSize:
		return MinBucketSize
	case x > DefaultBucketSize:
		return DefaultBucketSize
	case x%2 == 1:
		return x + 1
	}
	return x
}

// setRange reads the range of a bitmap.
func setRange(s *Set, v string) error {
	o := &s.Opts
	if s.Type.Name == "bitmap:port" {
		pp, err := parsePorts(v, true)
		if err != nil {
			return fmt.Errorf("range: %w", err)
		}
		o.RangeFrom, o.RangeTo = uint32(pp.from), uint32(pp.to)
		return nil
	}
	ip, err := parseIPText(FamilyInet, v)
	if err != nil {
		return fmt.Errorf("range: %w", err)
	}
	switch {
	case ip.hasCIDR:
		if ip.cidr >= 32 {
			return table.WithHint("write a network with a prefix shorter than 32, or a range FROM-TO", "range %s holds one address", v)
		}
		m := v4Mask(ip.cidr)
		o.RangeFrom, o.RangeTo = ip.from.V4()&m, ip.from.V4()|^m
	case ip.isRange:
		a, b := ip.from.V4(), ip.to.V4()
		o.RangeFrom, o.RangeTo = min(a, b), max(a, b)
	default:
		return table.WithHint("write 'range FROM-TO' or 'range NETWORK/PREFIX'", "range %s is one address", v)
	}
	if s.Type.Name == "bitmap:ip,mac" && uint64(o.RangeTo)-uint64(o.RangeFrom)+1 > MaxBitmapRange {
		return table.WithHint("a bitmap holds up to 65536 addresses", "range %s is too large", v)
	}
	return nil
}

// bitmapIPRange widens a bitmap:ip range to its netmask and checks its
// size, as the kernel does when it creates the set.
func bitmapIPRange(o *Options) error {
	from, to := o.RangeFrom, o.RangeTo
	var elements uint64
	if o.NetMask == 0 {
		elements = uint64(to) - uint64(from) + 1
	} else {
		m := v4Mask(o.NetMask)
		from, to = from&m, to|^m
		// The range must be one network wider than the netmask.
		bits := uint8(0)
		for bits < 32 && from&v4Mask(bits+1) == to&v4Mask(bits+1) {
			bits++
		}
		if from != from&v4Mask(bits) || to != to|^v4Mask(bits) || o.NetMask <= bits {
			return table.WithHint("with a netmask, write the range as one network with a shorter prefix than the netmask",
				"range %s-%s does not fit netmask %d", FormatAddr(FamilyInet, AddrV4(from)), FormatAddr(FamilyInet, AddrV4(to)), o.NetMask)
		}
		elements = 1 << (o.NetMask - bits)
	}
	if elements > MaxBitmapRange {
		return table.WithHint("a bitmap holds up to 65536 elements", "range %s-%s is too large",
			FormatAddr(FamilyInet, AddrV4(from)), FormatAddr(FamilyInet, AddrV4(to)))
	}
	o.RangeFrom, o.RangeTo = from, to
	return nil
}

// add reads "add NAME ELEMENT [options]".
func (p *parser) add(n int, w []word) bool {
	if len(w) < 3 {
		col := w[0].col
		if len(w) == 2 {
			col = w[1].col
		}
		return p.errorf(n, col, "write 'add NAME ELEMENT [options]'", "add needs a set name and an element")
	}
	if p.failed[w[1].s] {
		return false
	}
	st := p.byName[w[1].s]
	if st == nil {
		return p.errorf(n, w[1].col, "create the set before its members; a set file states whole sets", "set %q is not created in this file", w[1].s)
	}
	s := st.set
	e, ref, err := readFlags(s, w[3:])
	if err != nil {
		var we *wordError
		if asWordError(err, &we) {
			return p.errAt(n, we.col, we.err)
		}
		return p.errAt(n, w[2].col, err)
	}
	e.Line, e.Col = int32(n), int32(w[2].col)
	elems, err := ParseElem(s, w[2].s)
	if err != nil {
		return p.errAt(n, w[2].col, err)
	}
	if st.seen == nil {
		st.seen = make(map[Elem]int32, cap(s.Members))
	}
	for i := range elems {
		// wildcard is written as a flag but is part of the element.
		elems[i].Wildcard = e.Wildcard
	}
	for _, el := range elems {
		if l, dup := st.seen[el]; dup {
			return p.errorf(n, w[2].col, "", "%s is already in set %q (line %d)", formatElem(s, &el), s.Name, l)
		}
		st.seen[el] = int32(n)
	}
	if err := checkCapacity(s, len(elems)); err != nil {
		return p.errAt(n, w[2].col, err)
	}
	start := len(s.Members)
	for _, el := range elems {
		m := e
		m.Elem = el
		s.Members = append(s.Members, m)
	}
	if ref.name != "" {
		return p.placeInList(n, s, start, ref)
	}
	return false
}

// checkCapacity refuses members beyond what the set can hold.
func checkCapacity(s *Set, more int) error {
	total := len(s.Members) + more
	switch s.Type.Kind {
	case Hash:
		if uint64(total) > uint64(s.Opts.MaxElem) {
			return table.WithHint("raise the set's maxelem", "set %q would hold %d members, more than its maxelem %d", s.Name, total, s.Opts.MaxElem)
		}
	case List:
		if uint64(total) > uint64(s.Opts.Size) {
			return table.WithHint("raise the set's size", "set %q would hold %d members, more than its size %d", s.Name, total, s.Opts.Size)
		}
	}
	return nil
}

// listRef is a list:set member's place: before or after another member.
type listRef struct {
	name   string
	before bool
	col    int
}

// placeInList moves the member just added at index i of list:set s
// before or after the member ref names, as the kernel inserts it.
func (p *parser) placeInList(n int, s *Set, i int, ref listRef) bool {
	m := s.Members[i]
	s.Members = s.Members[:i]
	at := -1
	for j := range s.Members {
		if s.Members[j].Name == ref.name {
			at = j
		}
	}
	if at < 0 {
		return p.errorf(n, ref.col, "add the set it refers to first", "set %q is not a member of %q", ref.name, s.Name)
	}
	if !ref.before {
		at++
	}
	s.Members = append(s.Members, Entry{})
	copy(s.Members[at+1:], s.Members[at:])
	s.Members[at] = m
	return false
}

// wordError is an error about one word of a line.
type wordError struct {
	col int
	err error
}

func (e *wordError) Error() string { return e.err.Error() }
func (e *wordError) Unwrap() error { return e.err }

func asWordError(err error, we **wordError) bool {
	x, ok := err.(*wordError)
	if ok {
		*we = x
	}
	return ok
}

// readFlags reads the options of an add line into an entry, with the
// set's defaults for what is not given.
func readFlags(s *Set, w []word) (Entry, listRef, error) {
	var e Entry
	var ref listRef
	t := s.Type
	o := &s.Opts
	if o.HasTimeout {
		e.Timeout = o.Timeout
	}
	seen := map[string]bool{}
	for i := 0; i < len(w); i++ {
		name := strings.TrimPrefix(w[i].s, "--")
		bad := func(err error) (Entry, listRef, error) {
			return e, ref, &wordError{w[i].col, err}
		}
		if seen[name] || (seen["before"] || seen["after"]) && (name == "before" || name == "after") {
			return bad(fmt.Errorf("option %q given twice", name))
		}
		seen[name] = true
		var f Flag
		for x := FlagTimeout; x <= FlagSkbQueue; x++ {
			if flagNames[x] == name {
				f = x
			}
		}
		if t.Kind == List && (name == "before" || name == "after") {
			if i+1 >= len(w) {
				return bad(fmt.Errorf("%s needs a set name", name))
			}
			i++
			if err := checkName(w[i].s); err != nil {
				return bad(err)
			}
			ref = listRef{name: w[i].s, before: name == "before", col: w[i].col}
			continue
		}
		if f == 0 || !t.HasFlag(f) {
			return bad(table.WithHint(flagHint(t), "%s takes no member option %q", t.Name, w[i].s))
		}
		switch f {
		case FlagNomatch:
			e.Nomatch = true
			continue
		case FlagWildcard:
			e.Wildcard = true
			continue
		}
		if i+1 >= len(w) {
			return bad(fmt.Errorf("option %q needs a value", name))
		}
		i++
		v := w[i].s
		bad = func(err error) (Entry, listRef, error) {
			return e, ref, &wordError{w[i].col, err}
		}
		var need bool
		var what string
		switch f {
		case FlagTimeout:
			need, what = o.HasTimeout, "timeout"
			x, ok := table.ParseUint(v, 0, MaxTimeout)
			if !ok {
				return bad(fmt.Errorf("timeout %q is not a number of seconds from 0 to %d", v, MaxTimeout))
			}
			e.Timeout = uint32(x)
		case FlagPackets, FlagBytes:
			need, what = o.Counters, "counters"
			x, ok := table.ParseUint(v, 0, 1<<64-2)
			if !ok {
				return bad(fmt.Errorf("%s %q is not a number", name, v))
			}
			if f == FlagPackets {
				e.Packets = x
			} else {
				e.Bytes = x
			}
		case FlagComment:
			need, what = o.Comment, "comment"
			if strings.ContainsRune(v, '"') {
				return bad(fmt.Errorf("a comment cannot hold a double quote"))
			}
			if len(v) > MaxCommentLen {
				return bad(table.WithHint("the kernel keeps comments of up to 255 bytes", "comment is %d bytes long", len(v)))
			}
			e.Comment = v
		case FlagSkbMark:
			need, what = o.SkbInfo, "skbinfo"
			mark, mask, err := parseSkbMark(v)
			if err != nil {
				return bad(err)
			}
			e.SkbMark, e.SkbMask = mark, mask
		case FlagSkbPrio:
			need, what = o.SkbInfo, "skbinfo"
			prio, err := parseSkbPrio(v)
			if err != nil {
				return bad(err)
			}
			e.SkbPrio = prio
		case FlagSkbQueue:
			need, what = o.SkbInfo, "skbinfo"
			x, ok := table.ParseUint(v, 0, 65535)
			if !ok {
				return bad(fmt.Errorf("skbqueue %q is not a number from 0 to 65535", v))
			}
			e.SkbQueue = uint16(x)
		}
		if !need {
			return e, ref, &wordError{w[i-1].col, table.WithHint(
				fmt.Sprintf("create the set with %q", what), "set %q has no %s", s.Name, what)}
		}
	}
	return e, ref, nil
}

func flagHint(t *Type) string {
	var n []string
	for _, f := range t.Flags {
		n = append(n, f.String())
	}
	if t.Kind == List {
		n = append(n, "before", "after")
	}
	return t.Name + " members take " + strings.Join(n, ", ")
}

// parseSkbMark reads "0xMARK" or "0xMARK/0xMASK".
func parseSkbMark(v string) (uint32, uint32, error) {
	bad := func() error {
		return table.WithHint("write 0xMARK or 0xMARK/0xMASK in hexadecimal", "skbmark %q is not a mark", v)
	}
	hex := func(s string) (uint32, bool) {
		if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
			return 0, false
		}
		x, ok := table.ParseUint(s, 0, 1<<32-1)
		return uint32(x), ok
	}
	m, k, slash := strings.Cut(v, "/")
	mark, ok := hex(m)
	if !ok {
		return 0, 0, bad()
	}
	mask := uint32(0xffffffff)
	if slash {
		if mask, ok = hex(k); !ok {
			return 0, 0, bad()
		}
	}
	return mark, mask, nil
}

// parseSkbPrio reads "MAJOR:MINOR" in hexadecimal.
func parseSkbPrio(v string) (uint32, error) {
	bad := func() error {
		return table.WithHint("write MAJOR:MINOR in hexadecimal, such as 1:10", "skbprio %q is not a priority", v)
	}
	a, b, ok := strings.Cut(v, ":")
	if !ok {
		return 0, bad()
	}
	hex := func(s string) (uint32, bool) {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		if s == "" {
			return 0, false
		}
		x, ok := table.ParseUint("0x"+s, 0, 0xffff)
		return uint32(x), ok
	}
	maj, ok1 := hex(a)
	min, ok2 := hex(b)
	if !ok1 || !ok2 {
		return 0, bad()
	}
	return maj<<16 | min, nil
}

// SortMembers puts the members of every set but a list:set in a fixed
// order (by Key), so that two listings of equal sets compare equal
// whatever order the kernel's hash gave them.
func SortMembers(s *Set) {
	if s.Type.Kind == List {
		return
	}
	sort.SliceStable(s.Members, func(i, j int) bool { return lessElem(&s.Members[i].Elem, &s.Members[j].Elem) })
}
