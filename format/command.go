package format

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// cmd parses one command line the way iptables' do_parse does, option by
// option, with getopt's rules for long options (exact name, else an
// unambiguous prefix, "--name=value" allowed) and short ones (clustered,
// argument attached or in the next word).
type cmd struct {
	d     *decoder
	l     *Line
	words []Word
	i     int

	op          table.Op
	command     optID
	cmdPos      table.Pos
	ip          table.IPHeader
	srcs        []table.Addr // nil when not given
	dsts        []table.Addr
	addrBuf     [2][]table.Addr // reused behind srcs and dsts
	exts        []*loaded       // matches in load order, then possibly the target
	target      table.Target
	tgtExt      *loaded
	prefix      table.Counters // leading [p:b], when hasPrefix
	hasPrefix   bool
	counters    table.Counters // -c p b, when hasCounters
	hasCounters bool
	seen        []seenOpt // built-in options given, in order
	invert      bool
	invPos      table.Pos
	protoUse    bool   // the protocol's match was loaded implicitly
	protoArg    string // the -p argument as written, lower-cased
	skip        bool   // -4/-6 for the other family: iptables ignores the line
	err         bool

	// Reused from line to line: a 100k-line file must not allocate maps
	// and argument records per option.
	pool     []*loaded
	args     table.OptArgs
	last     *Word // the last word an option consumed
	nextWord func() (string, bool)
	fctx     table.FinishContext
}

// loaded is an extension instance on the rule being parsed.
type loaded struct {
	info   *table.ExtInfo
	val    table.Ext
	pos    table.Pos
	seen   table.OptSet
	target bool
}

type seenOpt struct {
	id  optID
	pos table.Pos
}

func (c *cmd) seenPos(id optID) (table.Pos, bool) {
	for _, s := range c.seen {
		if s.id == id {
			return s.pos, true
		}
	}
	return table.Pos{}, false
}

// newLoaded returns a cleared loaded record from the pool.
func (c *cmd) newLoaded(info *table.ExtInfo, pos table.Pos, target bool) *loaded {
	n := len(c.exts)
	if n == len(c.pool) {
		c.pool = append(c.pool, &loaded{})
	}
	l := c.pool[n]
	l.seen = l.seen[:0]
	l.info, l.val, l.pos, l.target = info, info.New(c.d.opt.Family), pos, target
	c.exts = append(c.exts, l)
	return l
}

func (d *decoder) command(l *Line) (table.Op, bool) {
	c := &d.cmd
	pool, nextWord, args, addrBuf := c.pool, c.nextWord, c.args, c.addrBuf
	*c = cmd{d: d, l: l, words: l.Words, seen: c.seen[:0], exts: c.exts[:0], pool: pool, nextWord: nextWord, args: args, addrBuf: addrBuf}
	if c.nextWord == nil {
		c.nextWord = c.extraWord
	}
	if l.Counters != nil {
		cs, ok := parseCounters(l.Counters.Text)
		if !ok {
			d.errorf(d.f.Pos(l, l.Counters), "invalid counters %q", l.Counters.Text).Hint = "counters are written [packets:bytes]"
			return table.Op{}, false
		}
		c.prefix, c.hasPrefix = cs, true
	}
	c.run()
	if c.err || c.skip {
		return table.Op{}, false
	}
	return c.op, true
}

func (c *cmd) pos(w *Word) table.Pos { return c.d.f.Pos(c.l, w) }

func (c *cmd) fail(w *Word, format string, args ...any) *table.Error {
	c.err = true
	return c.d.errorf(c.pos(w), format, args...)
}

func (c *cmd) failErr(w *Word, err error) {
	c.err = true
	c.d.add(table.At(c.pos(w), err))
}

// next returns the next word, or nil at the end of the line.
func (c *cmd) next() *Word {
	if c.i >= len(c.words) {
		return nil
	}
	w := &c.words[c.i]
	c.i++
	return w
}

// peekArg takes the next word if it can be an optional argument (does not
// start with '-' or '!'), as iptables does for -I chain [n] and friends.
func (c *cmd) peekArg() *Word {
	if c.i >= len(c.words) {
		return nil
	}
	w := &c.words[c.i]
	if w.Text == "" || w.Text[0] == '-' || w.Text[0] == '!' {
		return nil
	}
	c.i++
	return w
}

func (c *cmd) run() {
	for !c.err {
		w := c.next()
		if w == nil {
			break
		}
		t := w.Text
		switch {
		case t == "!" && !w.Quoted:
			if c.invert {
				c.fail(w, "multiple '!' in a row")
				return
			}
			c.invert, c.invPos = true, c.pos(w)
		case strings.HasPrefix(t, "--") && len(t) > 2 && !w.Quoted:
			c.long(w)
		case strings.HasPrefix(t, "-") && len(t) > 1 && !w.Quoted:
			c.short(w)
		default:
			e := c.fail(w, "unexpected argument %q", t)
			if c.i >= 2 && c.words[c.i-2].Text == "!" {
				e.Hint = "write the negation before the option, as in '! -i eth0'"
			}
			return
		}
	}
	if c.err || c.skip {
		return
	}
	if c.invert {
		c.d.errorf(c.invPos, "'!' at the end of the line negates nothing")
		c.err = true
		return
	}
	c.finish()
}

func (c *cmd) short(w *Word) {
	t := w.Text[1:]
	for len(t) > 0 {
		b := builtinByShort[t[0]]
		if b == nil {
			c.unknown(w, "-"+t[:1])
			return
		}
		t = t[1:]
		if b.arg {
			var arg *Word
			if t != "" {
				e := c.fail(w, "argument attached to -%c", b.short)
				e.Hint = fmt.Sprintf("write '-%c %s': iptables 1.8.9 does not accept an attached argument here", b.short, t)
				return
			} else if arg = c.next(); arg == nil {
				c.fail(w, "option %s needs an argument", "-"+string(b.short))
				return
			}
			c.builtin(b, w, arg)
			return
		}
		c.builtin(b, w, nil)
		if c.err {
			return
		}
	}
}

// candidate is one option that a long option word may name.
type candidate struct {
	b   *builtinOpt
	ext *loaded
	opt *table.Option
}

func (c *cmd) lookupLong(name string) (cand candidate, ambiguous []string) {
	// Exact names first (the common case), without building a prefix list.
	if b, ok := builtinByLong[name]; ok {
		return candidate{b: b}, nil
	}
	for i := len(c.exts) - 1; i >= 0; i-- {
		e := c.exts[i]
		for j := range e.info.Options {
			if o := &e.info.Options[j]; o.Name == name {
				return candidate{ext: e, opt: o}, nil
			}
		}
	}
	var prefix []candidate
	for i := range builtins {
		b := &builtins[i]
		if b.long == name {
			return candidate{b: b}, nil
		}
		if strings.HasPrefix(b.long, name) {
			prefix = append(prefix, candidate{b: b})
		}
	}
	// Newest extension first: iptables merges each loaded extension's
	// options in front of the older ones.
	for i := len(c.exts) - 1; i >= 0; i-- {
		e := c.exts[i]
		for j := range e.info.Options {
			o := &e.info.Options[j]
			if o.Name == name {
				return candidate{ext: e, opt: o}, nil
			}
			if strings.HasPrefix(o.Name, name) {
				prefix = append(prefix, candidate{ext: e, opt: o})
			}
		}
	}
	if len(prefix) == 0 {
		return candidate{}, nil
	}
	first := prefix[0]
	for _, p := range prefix[1:] {
		if p.b != first.b || p.ext != first.ext || p.opt != first.opt {
			for _, q := range prefix {
				if q.b != nil {
					ambiguous = append(ambiguous, "--"+q.b.long)
				} else {
					ambiguous = append(ambiguous, "--"+q.opt.Name)
				}
			}
			return candidate{}, ambiguous
		}
	}
	return first, nil
}

func (c *cmd) long(w *Word) {
	name, value, hasValue := strings.Cut(w.Text[2:], "=")
	cand, amb := c.lookupLong(name)
	if amb != nil {
		e := c.fail(w, "option --%s is ambiguous", name)
		e.Hint = "it could be " + strings.Join(amb, ", ")
		return
	}
	if cand.b == nil && cand.opt == nil && c.loadProto() {
		cand, amb = c.lookupLong(name)
		if amb != nil {
			e := c.fail(w, "option --%s is ambiguous", name)
			e.Hint = "it could be " + strings.Join(amb, ", ")
			return
		}
	}
	var valWord *Word
	if hasValue {
		valWord = &Word{Text: value, Off: w.Off + 3 + len(name), End: w.End}
	}
	switch {
	case cand.b != nil:
		if cand.b.arg && valWord != nil {
			e := c.fail(w, "argument attached to --%s with '='", cand.b.long)
			e.Hint = fmt.Sprintf("write '--%s %s': iptables 1.8.9 does not accept '=' for its own options", cand.b.long, valWord.Text)
			return
		}
		if cand.b.arg && valWord == nil {
			if valWord = c.next(); valWord == nil {
				c.fail(w, "option --%s needs an argument", cand.b.long)
				return
			}
		} else if !cand.b.arg && valWord != nil {
			c.fail(w, "option --%s takes no argument", cand.b.long)
			return
		}
		c.builtin(cand.b, w, valWord)
	case cand.opt != nil:
		c.extOption(cand.ext, cand.opt, w, valWord)
	default:
		c.unknown(w, "--"+name)
	}
}

// loadProto loads the match named after the rule's protocol when an option
// is not known, as iptables does for "-p tcp --dport 22". It reports
// whether a match was loaded.
func (c *cmd) loadProto() bool {
	if c.protoUse || c.ip.Proto == 0 {
		return false
	}
	// iptables looks the match up by the -p word as written; only a
	// number is turned into a name first (-p 6 loads tcp, -p mh loads mh,
	// but -p mobility-header loads nothing).
	name := c.protoArg
	if _, numeric := table.ParseUint(name, 0, 255); numeric {
		name = table.ProtocolMatchName(c.ip.Proto, c.d.opt.Registry.Names())
	}
	info := c.d.opt.Registry.Lookup(table.MatchKind, name, c.d.opt.Family)
	if info == nil {
		return false
	}
	c.protoUse = true
	pos, _ := c.seenPos(oProto)
	c.newLoaded(info, pos, false)
	return true
}

func (c *cmd) unknown(w *Word, opt string) {
	e := c.fail(w, "unknown option %q", opt)
	if !strings.HasPrefix(opt, "--") {
		return
	}
	name := opt[2:]
	var owners []string
	for _, info := range c.d.opt.Registry.All() {
		if !info.Family.Has(c.d.opt.Family) || info.TextOnly && info.Kind == table.TargetKind {
			continue
		}
		for _, o := range info.Options {
			if o.Name == name {
				flag := "-m "
				if info.Kind == table.TargetKind {
					flag = "-j "
				}
				owners = append(owners, "'"+flag+info.Name+"'")
				break
			}
		}
	}
	if len(owners) > 0 {
		e.Hint = fmt.Sprintf("%s belongs to %s; put it after that", opt, strings.Join(dedup(owners), " or "))
		if name == "dport" || name == "sport" || name == "destination-port" || name == "source-port" {
			e.Hint = fmt.Sprintf("%s needs a protocol first, such as '-p tcp' or '-p udp'", opt)
		}
	}
}

func dedup(s []string) []string {
	var out []string
	for _, x := range s {
		found := false
		for _, y := range out {
			if x == y {
				found = true
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

func (c *cmd) takeInvert() bool {
	inv := c.invert
	c.invert = false
	return inv
}

func isCommand(id optID) bool { return id >= oAppend && id <= oPolicy }

func (c *cmd) builtin(b *builtinOpt, w *Word, arg *Word) {
	inv := c.takeInvert()
	name := builtinName(b.id)
	if inv && b.id != oSource && b.id != oDest && b.id != oProto && b.id != oIn && b.id != oOut && b.id != oFrag {
		c.fail(w, "option %s cannot be negated", name)
		return
	}
	if arg != nil && arg.Text == "!" && !arg.Quoted {
		e := c.fail(arg, "'!' after %s", name)
		e.Hint = fmt.Sprintf("write the negation before the option: '! %s VALUE'", name)
		return
	}
	if isCommand(b.id) {
		if c.command != oNone {
			c.fail(w, "only one command per line (%s and %s)", builtinName(c.command), name)
			return
		}
		c.command, c.cmdPos = b.id, c.pos(w)
		c.commandArgs(b.id, w, arg)
		return
	}
	switch b.id {
	case oMatch, oCounters:
	default:
		if p, dup := c.seenPos(b.id); dup {
			e := c.fail(w, "%s given twice", name)
			e.Hint = fmt.Sprintf("the first is at column %d", p.Col)
			return
		}
	}
	c.seen = append(c.seen, seenOpt{b.id, c.pos(w)})
	fam := c.d.opt.Family
	switch b.id {
	case oSource, oDest:
		k := 0
		if b.id == oDest {
			k = 1
		}
		addrs, err := table.AppendAddrList(c.addrBuf[k][:0], arg.Text, fam, c.d.opt.Registry.Names())
		if err != nil {
			c.failErr(arg, err)
			return
		}
		c.addrBuf[k] = addrs
		if b.id == oSource {
			c.srcs, c.ip.InvSrc = addrs, inv
		} else {
			c.dsts, c.ip.InvDst = addrs, inv
		}
	case oProto:
		p, ok := table.ParseProtocol(strings.ToLower(arg.Text), c.d.opt.Registry.Names())
		if !ok {
			c.fail(arg, "unknown protocol %q", arg.Text).Hint = "use a name from /etc/protocols or a number 0-255"
			return
		}
		if p == 0 && inv {
			c.fail(w, "'! -p all' would never match")
			return
		}
		c.ip.Proto, c.ip.InvProto, c.protoArg = p, inv, strings.ToLower(arg.Text)
		c.ip.ProtoFlag = fam == table.IPv6
	case oIn, oOut:
		name := arg.Text
		if err := checkIface(name); err != nil {
			c.failErr(arg, err)
			return
		}
		if b.id == oIn {
			c.ip.In, c.ip.InvIn = name, inv
		} else {
			c.ip.Out, c.ip.InvOut = name, inv
		}
	case oFrag:
		if fam == table.IPv6 {
			c.fail(w, "-f is IPv4 only").Hint = "use -m frag for IPv6 fragments"
			return
		}
		c.ip.Frag, c.ip.InvFrag = true, inv
	case oMatch:
		c.match(w, arg)
	case oJump, oGoto:
		if _, dup := c.seenPos(oJump); dup && b.id == oGoto {
			c.fail(w, "-g and -j given together")
			return
		}
		if _, dup := c.seenPos(oGoto); dup && b.id == oJump {
			c.fail(w, "-g and -j given together")
			return
		}
		c.jump(w, arg, b.id == oGoto)
	case oCounters:
		if c.hasCounters {
			c.fail(w, "-c given twice")
			return
		}
		bw := c.next()
		if bw == nil {
			c.fail(w, "-c needs two arguments, packets and bytes")
			return
		}
		p, ok1 := parseDecimal(arg.Text)
		by, ok2 := parseDecimal(bw.Text)
		if !ok1 || !ok2 {
			c.fail(arg, "invalid counters %q %q", arg.Text, bw.Text)
			return
		}
		c.counters, c.hasCounters = table.Counters{Packets: p, Bytes: by}, true
	case oIPv4:
		if fam != table.IPv4 {
			c.skip = true
			c.i = len(c.words)
		}
	case oIPv6:
		if fam != table.IPv6 {
			c.skip = true
			c.i = len(c.words)
		}
	case oTable:
		c.fail(w, "-t cannot be used in a rules file").Hint = "the table is given by the '*table' line above"
	default:
		c.fail(w, "option %s has no meaning in a rules file", name)
	}
}

func checkIface(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty interface name")
	case len(name) > table.MaxIfaceName:
		return fmt.Errorf("interface name %q is too long (%d bytes, at most %d)", name, len(name), table.MaxIfaceName)
	case strings.ContainsAny(name, "/ "):
		return fmt.Errorf("interface name %q contains '/' or a space, which the kernel does not allow", name)
	}
	return nil
}

func (c *cmd) commandArgs(id optID, w *Word, arg *Word) {
	op := &c.op
	op.Pos = c.pos(w)
	num := func(nw *Word, what string) (int, bool) {
		v, ok := table.ParseUint(nw.Text, 1, 1<<31-1)
		if !ok {
			c.fail(nw, "invalid %s %q", what, nw.Text).Hint = "rule numbers start at 1"
			return 0, false
		}
		return int(v), true
	}
	switch id {
	case oAppend:
		op.Kind, op.Chain = table.OpAppend, arg.Text
	case oInsert:
		op.Kind, op.Chain = table.OpInsert, arg.Text
		if nw := c.peekArg(); nw != nil {
			op.Num, _ = num(nw, "rule number")
		}
	case oDelete:
		op.Kind, op.Chain = table.OpDelete, arg.Text
		if nw := c.peekArg(); nw != nil {
			op.Kind = table.OpDeleteNum
			op.Num, _ = num(nw, "rule number")
		}
	case oReplace:
		op.Kind, op.Chain = table.OpReplace, arg.Text
		nw := c.next()
		if nw == nil {
			c.fail(w, "-R needs a rule number")
			return
		}
		op.Num, _ = num(nw, "rule number")
	case oFlush, oZero, oDeleteChain:
		op.Kind = map[optID]table.OpKind{oFlush: table.OpFlush, oZero: table.OpZero, oDeleteChain: table.OpDeleteChain}[id]
		if arg == nil {
			arg = c.peekArg()
		}
		if arg != nil {
			op.Chain = arg.Text
			if id == oZero {
				if nw := c.peekArg(); nw != nil {
					op.Num, _ = num(nw, "rule number")
				}
			}
		}
	case oNewChain:
		op.Kind, op.Chain = table.OpNewChain, arg.Text
	case oPolicy:
		op.Kind, op.Chain = table.OpPolicy, arg.Text
		vw := c.next()
		if vw == nil {
			c.fail(w, "-P needs a policy").Hint = "ACCEPT or DROP"
			return
		}
		switch vw.Text {
		case "ACCEPT":
			op.Policy = table.Accept
		case "DROP":
			op.Policy = table.Drop
		default:
			c.fail(vw, "invalid policy %q", vw.Text).Hint = "a policy is ACCEPT or DROP"
		}
	case oRename:
		op.Kind, op.Chain = table.OpRename, arg.Text
		nw := c.next()
		if nw == nil {
			c.fail(w, "-E needs the new chain name")
			return
		}
		op.NewName = nw.Text
	default:
		c.fail(w, "%s is not supported in a rules file", builtinName(id))
	}
}

func (c *cmd) match(w *Word, arg *Word) {
	fam := c.d.opt.Family
	reg := c.d.opt.Registry
	name := arg.Text
	info := reg.Lookup(table.MatchKind, name, fam)
	if info == nil {
		if reg.Known(table.MatchKind, name) {
			c.fail(arg, "match %q is not available for %s", name, familyWord(fam))
			return
		}
		c.fail(arg, "unknown match %q", name)
		return
	}
	c.newLoaded(info, c.pos(w), false)
}

func familyWord(f table.Family) string {
	if f == table.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

func (c *cmd) jump(w *Word, arg *Word, isGoto bool) {
	fam := c.d.opt.Family
	reg := c.d.opt.Registry
	name := arg.Text
	if name == "" {
		c.fail(arg, "empty target name")
		return
	}
	if v, ok := table.VerdictByName(name); ok {
		if isGoto {
			c.fail(arg, "-g needs a user chain, not %s", name).Hint = "use -j " + name
			return
		}
		c.target = table.StandardTarget(v)
		return
	}
	if info := reg.Lookup(table.TargetKind, name, fam); info != nil {
		if isGoto {
			c.fail(arg, "-g needs a user chain, not the target %s", name).Hint = "use -j " + name
			return
		}
		l := c.newLoaded(info, c.pos(w), true)
		c.tgtExt = l
		c.target = l.val
		return
	}
	if reg.Known(table.TargetKind, name) {
		c.fail(arg, "target %q is not available for %s", name, familyWord(fam))
		return
	}
	if len(name) > table.MaxChainName {
		c.fail(arg, "target or chain name %q is too long (at most %d bytes)", name, table.MaxChainName)
		return
	}
	j := &c.d.jumpSlab.take(1)[0]
	*j = table.Jump{Chain: name, Goto: isGoto}
	c.target = j
}

func (c *cmd) extOption(e *loaded, o *table.Option, w *Word, val *Word) {
	inv := c.takeInvert()
	if inv && !o.Invert {
		c.fail(w, "option --%s of %s cannot be negated", o.Name, e.info.Name)
		return
	}
	if e.seen.Has(o.Key()) && !o.Multi {
		c.fail(w, "option --%s given twice", o.Key())
		return
	}
	if !e.seen.Has(o.Key()) {
		e.seen = append(e.seen, o.Key())
	}
	argWord := w
	var arg string
	hasArg := false
	switch o.Arg {
	case table.OneArg:
		if val == nil {
			if val = c.next(); val == nil {
				c.fail(w, "option --%s needs an argument", o.Name)
				return
			}
		}
		arg, hasArg, argWord = val.Text, true, val
		if arg == "!" && !val.Quoted {
			e := c.fail(val, "'!' after --%s", o.Name)
			e.Hint = fmt.Sprintf("write the negation before the option: '! --%s VALUE'", o.Name)
			return
		}
	case table.OptionalArg:
		if val == nil {
			val = c.peekArg()
		}
		if val != nil {
			arg, hasArg, argWord = val.Text, true, val
		}
	case table.NoArg:
		if val != nil {
			c.fail(w, "option --%s takes no argument", o.Name)
			return
		}
	}
	c.last = argWord
	c.args.Set(o, inv, c.d.opt.Family, &c.ip, c.d.opt.Registry.Names(), arg, hasArg, c.nextWord)
	if err := e.val.Parse(&c.args); err != nil {
		c.failErr(c.last, fmt.Errorf("%s --%s: %w", e.info.Name, o.Name, err))
	}
}

// extraWord serves OptArgs.Next: the next word, unless it is an option.
func (c *cmd) extraWord() (string, bool) {
	if c.i >= len(c.words) {
		return "", false
	}
	nw := &c.words[c.i]
	if strings.HasPrefix(nw.Text, "-") && len(nw.Text) > 1 && !nw.Quoted || nw.Text == "!" {
		return "", false
	}
	c.i++
	c.last = nw
	return nw.Text, true
}

func (c *cmd) isRuleCommand() bool {
	switch c.command {
	case oAppend, oInsert, oDelete, oReplace:
		return true
	}
	return false
}

func (c *cmd) finish() {
	if c.command == oNone {
		c.d.errorf(c.pos(nil), "no command on this line").Hint = "a rule line starts with -A CHAIN"
		c.err = true
		return
	}
	hasRule := len(c.exts) > 0 || c.target != nil
	for _, s := range c.seen {
		if s.id >= oSource && s.id <= oCounters {
			hasRule = true
		}
	}
	if !c.isRuleCommand() || c.op.Kind == table.OpDeleteNum {
		if hasRule {
			c.d.errorf(c.cmdPos, "%s takes no rule options", builtinName(c.command))
			c.err = true
		}
		return
	}
	fam := c.d.opt.Family
	for _, e := range c.exts {
		c.fctx = table.FinishContext{Family: fam, IP: &c.ip, Seen: e.seen}
		if err := e.val.Finish(&c.fctx); err != nil {
			c.err = true
			c.d.add(table.At(e.pos, fmt.Errorf("%s: %w", e.info.Name, err)))
		}
	}
	if c.err {
		return
	}
	nm := 0
	for _, e := range c.exts {
		if !e.target {
			nm++
		}
	}
	var matches []table.Match
	if nm > 0 {
		matches = c.d.matchSlab.take(nm)[:0]
		for _, e := range c.exts {
			if !e.target {
				matches = append(matches, e.val)
			}
		}
	}
	srcs, dsts := c.srcs, c.dsts
	if srcs == nil {
		srcs = anyAddr[:]
	}
	if dsts == nil {
		dsts = anyAddr[:]
	}
	rules := c.d.ruleSlab.take(len(srcs) * len(dsts))
	c.op.Rules = c.d.rulePtrSlab.take(len(rules))[:0]
	for _, s := range srcs {
		for _, d := range dsts {
			r := &rules[len(c.op.Rules)]
			*r = table.Rule{IP: c.ip, Matches: matches, Target: c.target, Pos: c.cmdPos}
			r.IP.Src, r.IP.Dst = normAddr(s, r.IP.InvSrc), normAddr(d, r.IP.InvDst)
			if r.IP.Src.IsZero() {
				r.IP.InvSrc = false
			}
			if r.IP.Dst.IsZero() {
				r.IP.InvDst = false
			}
			if c.hasCounters {
				r.Counters = c.counters
			}
			if c.d.digester != nil {
				r.Digest = c.d.digester.Digest(r)
			}
			c.op.Rules = append(c.op.Rules, r)
		}
	}
	c.op.Counters, c.op.HasCounters = c.prefix, c.hasPrefix
}

// anyAddr is the one "address" of a rule without -s or -d.
var anyAddr = [1]table.Addr{}

// slab hands out elements of large arrays: a 100k-rule file then makes
// one allocation per thousand rules instead of several per rule. What it
// hands out is never handed out again, so it may live as long as the
// ruleset.
type slab[T any] struct{ buf []T }

func (s *slab[T]) take(n int) []T {
	if len(s.buf) < n {
		s.buf = make([]T, max(n, 1024))
	}
	out := s.buf[:n:n]
	s.buf = s.buf[n:]
	return out
}

// normAddr drops "-s 0.0.0.0/0": the kernel stores nothing for it. Negated
// it stays, since "! -s 0/0" is stored (and matches nothing).
func normAddr(a table.Addr, inv bool) table.Addr {
	if a.IsZero() || inv {
		return a
	}
	if !a.Mask.IsUnspecified() {
		return a
	}
	return table.Addr{}
}
