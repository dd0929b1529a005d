package fromscript

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

var reg = ext.Registry()

func convert(t *testing.T, src string, opt Options) (*Result, error) {
	t.Helper()
	if opt.Family == 0 {
		opt.Family = table.IPv4
	}
	opt.Registry = reg
	return Convert("fw.sh", []byte(src), opt)
}

func encode(t *testing.T, rs *table.Ruleset) string {
	t.Helper()
	var b bytes.Buffer
	if err := format.Encode(&b, rs, format.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// canonical is what a rules file looks like after iptables-save.
func canonical(t *testing.T, rules string, fam table.Family) string {
	t.Helper()
	rs, err := format.Load("want", []byte(rules), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		t.Fatalf("want: %v", err)
	}
	return encode(t, rs)
}

func posStr(p table.Pos) string {
	s := fmt.Sprintf("%s:%d", p.File, p.Line)
	if p.Col > 0 {
		s += fmt.Sprintf(":%d", p.Col)
	}
	return s
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		want   string // a rules file with the same meaning
	}{
		{"plain", "iptables -P INPUT DROP\niptables -A INPUT -i lo -j ACCEPT\n",
			"*filter\n:INPUT DROP\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n"},
		{"single quotes keep blanks", "iptables -A INPUT -j LOG --log-prefix 'in: '\n",
			"*filter\n-A INPUT -j LOG --log-prefix \"in: \"\nCOMMIT\n"},
		{"double quotes expand", "P=fw\niptables -A INPUT -j LOG --log-prefix \"$P: \"\n",
			"*filter\n-A INPUT -j LOG --log-prefix \"fw: \"\nCOMMIT\n"},
		{"escapes", "iptables -A INPUT -j LOG --log-prefix a\\ b\\\"\n",
			"*filter\n-A INPUT -j LOG --log-prefix \"a b\\\"\"\nCOMMIT\n"},
		{"defaults", "LAN=${LAN:-eth1}\nWAN=eth0\niptables -A INPUT -i ${WAN-ppp0} -j ACCEPT\niptables -A INPUT -i $LAN -j ACCEPT\n",
			"*filter\n-A INPUT -i eth0 -j ACCEPT\n-A INPUT -i eth1 -j ACCEPT\nCOMMIT\n"},
		{"bytes beyond ASCII stay as written", "C=\"caf\xc3\xa9 \xff\"\niptables -A INPUT -m comment --comment \"$C\" -j LOG --log-prefix caf\xc3\xa9\\\xc3\xa9\n",
			"*filter\n-A INPUT -m comment --comment \"caf\xc3\xa9 \xff\" -j LOG --log-prefix caf\xc3\xa9\xc3\xa9\nCOMMIT\n"},
		{"variable with options splits", "IPT=\"/usr/sbin/iptables -w 5\"\n$IPT -A INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"which and command -v", "IPT=`which iptables`\nI2=$(command -v iptables)\n$IPT -A INPUT -j ACCEPT\n$I2 -A INPUT -j DROP\n",
			"*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"},
		{"export", "export NET=10.0.0.0/8\niptables -A INPUT -s $NET -j ACCEPT\n",
			"*filter\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n"},
		{"continuation lines", "iptables -A INPUT \\\n  -p tcp \\\n  --dport 22 -j ACCEPT\n",
			"*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
		{"several per line, trailing comment", "iptables -F; iptables -X ; iptables -A INPUT -j ACCEPT # the end\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"or true, redirections", "iptables -N keep 2>/dev/null || true\niptables -A INPUT -j keep >/dev/null 2>&1\n",
			"*filter\n:keep -\n-A INPUT -j keep\nCOMMIT\n"},
		{"tables", "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\niptables --table mangle -F\niptables -A INPUT -j ACCEPT\n",
			"*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*mangle\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"flush, delete, zero run in order", "iptables -N a\niptables -A a -j DROP\niptables -A INPUT -j a\niptables -F\niptables -X\niptables -Z\niptables -A INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"insert numbers", "iptables -A INPUT -j DROP\niptables -I INPUT -j ACCEPT\niptables -I INPUT 2 -s 1.2.3.4 -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\n-A INPUT -s 1.2.3.4 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"},
		{"lock wait and verbose are dropped", "iptables -w -A INPUT -j ACCEPT\niptables -w 3 -v -A INPUT -j DROP\n",
			"*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n"},
		{"listing changes nothing", "iptables -A INPUT -j ACCEPT\niptables -nvL\niptables -L INPUT -n\niptables -S\niptables -C INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"here-document bodies are not commands", "cat > /tmp/x <<EOF\niptables -A INPUT -j DROP\nEOF\ncat <<-'END'\n\tiptables -A INPUT -j DROP\n\tEND\niptables -A INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"exit ends the script", "iptables -A INPUT -j ACCEPT\nexit 0\niptables -A INPUT -j DROP\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"control flow without iptables is skipped", "if [ -e /proc/sys/net/ipv4/ip_forward ]; then\n  echo 1 > /proc/sys/net/ipv4/ip_forward\nfi\nfor f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 1 > $f; done\niptables -A INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
		{"sudo and command", "sudo iptables -A INPUT -j ACCEPT\ncommand iptables -A INPUT -j DROP\nexec iptables -A OUTPUT -j DROP\n",
			"*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\n-A OUTPUT -j DROP\nCOMMIT\n"},
		{"other family skipped", "ip6tables -A INPUT -j DROP\niptables -A INPUT -j ACCEPT\n",
			"*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := convert(t, tc.script, Options{})
			if err != nil {
				t.Fatalf("%v", err)
			}
			if d := cmp.Diff(canonical(t, tc.want, table.IPv4), encode(t, res.Ruleset)); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestConvertIPv6(t *testing.T) {
	res, err := convert(t, "iptables -A INPUT -j ACCEPT\nip6tables -A INPUT -s fe80::/10 -j ACCEPT\n", Options{Family: table.IPv6})
	if err != nil {
		t.Fatal(err)
	}
	want := canonical(t, "*filter\n-A INPUT -s fe80::/10 -j ACCEPT\nCOMMIT\n", table.IPv6)
	if d := cmp.Diff(want, encode(t, res.Ruleset)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if len(res.OtherFamily) != 1 || res.OtherFamily[0].Line != 1 {
		t.Errorf("other family: %v", res.OtherFamily)
	}
}

func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         []string
	}{
		{"unset command variable", "$IPT -A INPUT -j ACCEPT\n",
			[]string{"fw.sh:1:1: cannot tell which command this is: $IPT is not set in the script (hint: set it at the top of the script ('IPT=...') before its first use)"}},
		{"unset argument", "iptables -A INPUT -s $NET -j ACCEPT\n",
			[]string{"fw.sh:1:22: $NET is not set in the script"}},
		{"command substitution", "NET=$(ip route | awk '{print $1}')\niptables -A INPUT -s $NET -j ACCEPT\n",
			[]string{"fw.sh:2:22: $NET cannot be evaluated: the command substitution $(ip route | awk '{print $1}') cannot be evaluated without running it"}},
		{"positional", "iptables -A INPUT -i $1 -j ACCEPT\n",
			[]string{"fw.sh:1:22: $1 cannot be evaluated"}},
		{"set inside if", "if true; then LAN=eth1; fi\niptables -A INPUT -i $LAN -j ACCEPT\n",
			[]string{"fw.sh:2:22: $LAN cannot be evaluated: it is set inside shell control flow"}},
		{"iptables inside if", "if [ -n \"$x\" ]; then\n  iptables -A INPUT -j ACCEPT\nfi\n",
			[]string{"fw.sh:2:3: iptables command inside shell control flow"}},
		{"iptables in a loop", "for p in 22 80; do\n  iptables -A INPUT -p tcp --dport $p -j ACCEPT\ndone\n",
			[]string{"fw.sh:2:3: iptables command inside shell control flow"}},
		{"iptables in a function", "fw() {\n  iptables \"$@\"\n}\nfw -A INPUT -j ACCEPT\n",
			[]string{"fw.sh:2:3: iptables command inside shell control flow"}},
		{"and list", "iptables -A INPUT -j ACCEPT && echo ok\n",
			[]string{"fw.sh:1:1: iptables command in a '&&', '||', '|' or '&' list"}},
		{"check or append", "iptables -C INPUT -j ACCEPT || iptables -A INPUT -j ACCEPT\n",
			[]string{"fw.sh:1:32: iptables command in a '&&', '||', '|' or '&' list"}},
		{"unterminated quote", "iptables -A INPUT -j LOG --log-prefix \"oops\n",
			[]string{"fw.sh:1:39: unterminated double quote"}},
		{"bad option on a continued line", "iptables -A INPUT \\\n    --bogus -j ACCEPT\n",
			[]string{"fw.sh:2:5: unknown option \"--bogus\""}},
		{"no such chain", "iptables -F\niptables -A nosuch -j ACCEPT\n",
			[]string{"fw.sh:2:10: chain \"nosuch\" does not exist in table \"filter\""}},
		{"unknown table", "iptables -t nosuch -F\n",
			[]string{"fw.sh:1:13: unknown table \"nosuch\""}},
		{"old negation", "WAN1=ppp0\niptables -A FORWARD -i ! $WAN1 -j ACCEPT\n",
			[]string{"fw.sh:2:24: '!' after -i (hint: write the negation before the option: '! -i ppp0'; --fix rewrites it)"}},
		{"rule number 0", "iptables -I INPUT 0 -j ACCEPT\n",
			[]string{"fw.sh:1:19: invalid rule number \"0\" (hint: rule numbers start at 1: '-I INPUT 1', or no number, inserts at the top; --fix rewrites it)"}},
		{"control character", "iptables -A INPUT -m comment --comment \"a\nb\"\n",
			[]string{`fw.sh:1:40: control character 0x0a in argument "a\nb", which a rules file cannot hold`}},
		{"every error at once", "iptables -A INPUT -i ! eth0\niptables -A INPUT --bogus\niptables -A INPUT -s $X\n",
			[]string{"fw.sh:1:22:", "fw.sh:2:19:", "fw.sh:3:22:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convert(t, tc.script, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if _, ok := err.(table.ErrorList); !ok {
				t.Errorf("error is a %T, not a table.ErrorList", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestConvertFix(t *testing.T) {
	src := "WAN1=ppp0\niptables -A FORWARD -m conntrack --ctstate NEW -i ! $WAN1 -j ACCEPT\niptables -A FORWARD -p tcp --dport ! 25 -j ACCEPT\niptables -I INPUT 0 -i lo -j ACCEPT\n"
	res, err := convert(t, src, Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	want := canonical(t, "*filter\n-A INPUT -i lo -j ACCEPT\n-A FORWARD -m conntrack --ctstate NEW ! -i ppp0 -j ACCEPT\n-A FORWARD -p tcp ! --dport 25 -j ACCEPT\nCOMMIT\n", table.IPv4)
	if d := cmp.Diff(want, encode(t, res.Ruleset)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, posStr(n.Pos)+": "+n.Msg)
	}
	wantNotes := []string{
		"fw.sh:2:48: rewrote '-i ! ppp0' as '! -i ppp0' (iptables 1.8 takes '!' only before the option)",
		"fw.sh:3:28: rewrote '--dport ! 25' as '! --dport 25' (iptables 1.8 takes '!' only before the option)",
		"fw.sh:4:19: rewrote '-I INPUT 0' as '-I INPUT 1' (the top of the chain: iptables numbers rules from 1)",
	}
	if d := cmp.Diff(wantNotes, notes); d != "" {
		t.Errorf("notes (-want +got)\n%s", d)
	}
}

func TestSkippedAndSettings(t *testing.T) {
	src := `#!/bin/sh
# a comment
modprobe nf_conntrack
echo 1 > /proc/sys/net/ipv4/ip_forward
echo -n "0" >/proc/sys/net/ipv4/conf/eth0.10/rp_filter
sysctl -q -w net.ipv4.tcp_syncookies=1 net.ipv6.conf.all.forwarding=0
sysctl -p /etc/sysctl.conf
echo "done" > /dev/null
iptables-restore < /etc/iptables.rules
iptables -A INPUT -j ACCEPT
`
	res, err := convert(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Skipped {
		got = append(got, posStr(s.Pos)+" "+s.Why+": "+s.Text)
	}
	want := []string{
		"fw.sh:3 not an iptables command: modprobe nf_conntrack",
		"fw.sh:4 kernel setting net.ipv4.ip_forward = 1: echo 1 > /proc/sys/net/ipv4/ip_forward",
		"fw.sh:5 kernel setting net/ipv4/conf/eth0.10/rp_filter = 0: echo -n \"0\" >/proc/sys/net/ipv4/conf/eth0.10/rp_filter",
		"fw.sh:6 kernel setting net.ipv4.tcp_syncookies = 1, net.ipv6.conf.all.forwarding = 0: sysctl -q -w net.ipv4.tcp_syncookies=1 net.ipv6.conf.all.forwarding=0",
		"fw.sh:7 not an iptables command: sysctl -p /etc/sysctl.conf",
		"fw.sh:8 not an iptables command: echo \"done\" > /dev/null",
		"fw.sh:9 iptables-restore is not converted: its rules file already is one (see fw-save --from FILE): iptables-restore < /etc/iptables.rules",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("skipped (-want +got)\n%s", d)
	}
	if res.Comments != 2 || res.Commands != 1 {
		t.Errorf("comments %d, commands %d", res.Comments, res.Commands)
	}
	conf := string(res.SysctlConf("fw.sh"))
	for _, line := range []string{"\nnet.ipv4.ip_forward = 1\n", "\nnet/ipv4/conf/eth0.10/rp_filter = 0\n", "\nnet.ipv4.tcp_syncookies = 1\nnet.ipv6.conf.all.forwarding = 0\n"} {
		if !strings.Contains(conf, line) {
			t.Errorf("sysctl fragment lacks %q:\n%s", line, conf)
		}
	}
}

// TestLexerSpans runs the lexer and the converter over every prefix and
// suffix of a script full of shell syntax, holding them to checkLex and
// checkConvert.
func TestLexerSpans(t *testing.T) {
	src := "A=${B:-\"x y\"}; C=`echo $A`\nD=$((1+2)) E=$(f \"(\" ')')\ncat <<X\nbody\nX\nf() { iptables -A INPUT; }\ncase $1 in a) echo;; esac\n( iptables -F ) &\niptables -A INPUT -j LOG --log-prefix \"a\\\"b\" \\\n -m comment --comment '$x'\n"
	for i := 0; i <= len(src); i++ {
		for _, s := range []string{src[:i], src[i:]} {
			checkLex(t, s)
			checkConvert(t, s, table.IPv4)
		}
	}
}

// checkLex holds the lexer to what the converter relies on: commands and
// their words lie in order inside the source, at the offsets that error
// positions and skipped-command texts are made of; a command lexes from
// its own bytes alone to the same words and redirections (one with a
// here-document is left out: its body lies outside it); and a word
// written without quotes or expansions is its bytes without line
// continuations.
func checkLex(t *testing.T, src string) {
	t.Helper()
	lx := newLexer("x", []byte(src))
	cmds, err := lx.commands()
	if err != nil {
		if err.Pos.Line < 1 || err.Pos.Line > len(lx.lines) || err.Pos.Col < 1 {
			t.Fatalf("%q: error %v at a position outside the source", src, err)
		}
		return
	}
	prev := 0
	for _, c := range cmds {
		if c.off < prev || c.end < c.off || c.end > len(src) {
			t.Fatalf("%q: command at [%d,%d) after one ending at %d", src, c.off, c.end, prev)
		}
		prev = c.end
		at := c.off
		heredoc := false
		for _, w := range c.words {
			if w.off < at || w.end <= w.off || w.end > c.end {
				t.Fatalf("%q: word at [%d,%d) in command [%d,%d) after %d", src, w.off, w.end, c.off, c.end, at)
			}
			at = w.end
			if s, ok := w.plain(); ok && s != strings.ReplaceAll(src[w.off:w.end], "\\\n", "") {
				t.Fatalf("%q: plain word %q written %q", src, s, src[w.off:w.end])
			}
		}
		for _, r := range c.redirs {
			if r.off < c.off || r.target.off < r.off || r.target.end > c.end {
				t.Fatalf("%q: redirection at %d, target [%d,%d), in command [%d,%d)", src, r.off, r.target.off, r.target.end, c.off, c.end)
			}
			heredoc = heredoc || strings.HasPrefix(r.op, "<<")
		}
		if heredoc {
			continue
		}
		alone := newLexer("x", []byte(src[c.off:c.end]))
		again, err := alone.commands()
		if err != nil || len(again) != 1 {
			t.Fatalf("%q: command %q alone lexes to %d commands, error %v", src, src[c.off:c.end], len(again), err)
		}
		want := shiftCommand(c, c.off)
		if d := cmp.Diff(want.words, again[0].words, cmp.AllowUnexported(word{}, part{})); d != "" {
			t.Fatalf("%q: command %q alone lexes to other words (-in the script +alone):\n%s", src, src[c.off:c.end], d)
		}
		if d := cmp.Diff(want.redirs, again[0].redirs, cmp.AllowUnexported(redirect{}, word{}, part{})); d != "" {
			t.Fatalf("%q: command %q alone lexes to other redirections (-in the script +alone):\n%s", src, src[c.off:c.end], d)
		}
	}
}

// shiftCommand is c's words and redirections with offsets relative to base.
func shiftCommand(c *command, base int) *command {
	var shift func(w word) word
	shift = func(w word) word {
		out := word{off: w.off - base, end: w.end - base}
		for _, p := range w.parts {
			if p.arg != nil {
				a := shift(*p.arg)
				p.arg = &a
			}
			out.parts = append(out.parts, p)
		}
		return out
	}
	out := &command{}
	for _, w := range c.words {
		out.words = append(out.words, shift(w))
	}
	for _, r := range c.redirs {
		r.off -= base
		r.target = shift(r.target)
		out.redirs = append(out.redirs, r)
	}
	return out
}

// checkConvert: when a script converts, its rules file loads and prints
// as itself, and the iptables commands that build that file (asScript)
// convert to it again. Tables are compared in name order: a table
// restored or built later is listed first, as the legacy kernel lists
// it.
func checkConvert(t *testing.T, src string, fam table.Family) {
	t.Helper()
	res, err := Convert("fuzz.sh", []byte(src), Options{Family: fam, Registry: reg})
	if err != nil {
		return
	}
	out := encodeByName(t, res.Ruleset)
	rs, err := format.Load("out", []byte(out), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		t.Fatalf("%q converts to a rules file that does not load: %v\n%s", src, err, out)
	}
	if d := cmp.Diff(out, encodeByName(t, rs)); d != "" {
		t.Fatalf("%q converts to a rules file that prints otherwise (-converted +printed):\n%s", src, d)
	}
	script := asScript(t, out, fam)
	back, err := Convert("again.sh", []byte(script), Options{Family: fam, Registry: reg})
	if err != nil {
		t.Fatalf("%q converts to a rules file whose commands do not convert: %v\n%s", src, err, script)
	}
	if d := cmp.Diff(out, encodeByName(t, back.Ruleset)); d != "" {
		t.Fatalf("%q: the commands of its rules file convert to another (-first +again):\n%s\nscript:\n%s", src, d, script)
	}
}

func encodeByName(t *testing.T, rs *table.Ruleset) string {
	t.Helper()
	slices.SortFunc(rs.Tables, func(a, b *table.Table) int { return strings.Compare(a.Name, b.Name) })
	return encode(t, rs)
}

// asScript writes a canonical rules file as the iptables commands that
// build it in empty tables, every argument in single quotes.
func asScript(t *testing.T, rules string, fam table.Family) string {
	t.Helper()
	f, err := format.Parse("rules", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	prog := "iptables"
	if fam == table.IPv6 {
		prog = "ip6tables"
	}
	var b strings.Builder
	tbl := ""
	for _, l := range f.Lines {
		switch l.Kind {
		case format.TableLine:
			tbl = quote(l.Words[0].Text)
		case format.ChainLine:
			if l.Words[1].Text == "-" {
				fmt.Fprintf(&b, "%s -t %s -N %s\n", prog, tbl, quote(l.Words[0].Text))
			} else {
				fmt.Fprintf(&b, "%s -t %s -P %s %s\n", prog, tbl, quote(l.Words[0].Text), quote(l.Words[1].Text))
			}
		case format.CommandLine:
			fmt.Fprintf(&b, "%s -t %s", prog, tbl)
			for _, w := range l.Words {
				b.WriteString(" " + quote(w.Text))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func FuzzConvert(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/scripts/*.sh")
	if len(paths) == 0 {
		f.Fatal("no scripts in testdata/scripts")
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src), false)
		f.Add(string(src), true)
	}
	f.Add("IPT=iptables\n$IPT -A INPUT -i ${LAN:-eth0} -j ACCEPT # x\n", false)
	f.Add("cat <<-E\n\tx\n\tE\nif a; then iptables -F; fi\n", false)
	f.Add("ip6tables -N x\nip6tables -A x -s fe80::/10 -p tcp --dport 22 -m comment --comment \"a 'b'\" -j ACCEPT\nip6tables -I INPUT -j x\n", true)
	f.Add("iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\niptables -P FORWARD DROP\nN=10.0.0.0/8; iptables -A FORWARD -s $N -m conntrack --ctstate NEW,ESTABLISHED -j LOG --log-prefix 'fw: '\n", false)
	f.Fuzz(func(t *testing.T, s string, v6 bool) {
		fam := table.IPv4
		if v6 {
			fam = table.IPv6
		}
		checkLex(t, s)
		checkConvert(t, s, fam)
	})
}
