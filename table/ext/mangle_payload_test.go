package ext

import (
	"bytes"
	enchex "encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table"
)

// mgLoadTarget parses one rule of table tbl, chain chain and returns its
// target.
func mgLoadTarget(t *testing.T, fam table.Family, tbl, chain, rule string) table.Ext {
	t.Helper()
	src := "*" + tbl + "\n"
	if _, builtin := table.HookByName(chain); !builtin {
		src += ":" + chain + " - [0:0]\n"
	}
	src += "-A " + chain + " " + rule + "\nCOMMIT\n"
	rs, err := format.Load("test", []byte(src), format.LoadOptions{Family: fam, Registry: testRegistry()})
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	for _, tb := range rs.Tables {
		if c := tb.Chain(chain); c != nil && len(c.Rules) == 1 {
			e, ok := c.Rules[0].Target.(table.Ext)
			if !ok {
				t.Fatalf("%s: target %T is no extension", rule, c.Rules[0].Target)
			}
			return e
		}
	}
	t.Fatalf("%s: rule not found after loading", rule)
	return nil
}

func mgPrint(e table.Ext) string {
	w := table.Writer{Names: testNames}
	e.Print(&w)
	return e.Name() + ":" + w.String()
}

// mgRoundTrip marshals the target of rule, checks the payload's size,
// unmarshals it into a fresh value and checks that both print the same.
// It returns the payload.
func mgRoundTrip(t *testing.T, fam table.Family, tbl, chain, rule string) []byte {
	t.Helper()
	tg := mgLoadTarget(t, fam, tbl, chain, rule)
	p, ok := tg.(table.Payload)
	if !ok {
		t.Fatalf("%s: %T has no payload codec", rule, tg)
	}
	info := tg.Info()
	if info.Size == 0 {
		t.Errorf("%s: ExtInfo.Size is 0", rule)
	}
	b, err := table.MarshalPayload(p, info, fam)
	if err != nil {
		t.Fatalf("%s: marshal: %v", rule, err)
	}
	if len(b) != xtbin.Align(info.Size) {
		t.Errorf("%s: payload of %d bytes, want %d", rule, len(b), xtbin.Align(info.Size))
	}
	back := info.New(fam)
	if err := back.(table.Payload).UnmarshalPayload(fam, b); err != nil {
		t.Fatalf("%s: unmarshal: %v", rule, err)
	}
	if g, w := mgPrint(back), mgPrint(tg); g != w {
		t.Errorf("%s: after the round trip it prints\n%s\nbefore\n%s", rule, g, w)
	}
	b2, err := table.MarshalPayload(back.(table.Payload), back.Info(), fam)
	if err != nil {
		t.Fatalf("%s: marshal again: %v", rule, err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("%s: payload changes on the round trip\n%x\n%x", rule, b, b2)
	}
	return b
}

// TestLEDPayload checks the LED codec without the kernel, which cannot
// load xt_LED here: every accepted rule of the corpus survives marshal
// and unmarshal, and one payload is checked byte by byte.
func TestLEDPayload(t *testing.T) {
	rules := []string{
		`-j LED --led-trigger-id "foo"`,
		`-j LED --led-trigger-id "foo" --led-delay 42 --led-always-blink`,
		`-j LED --led-trigger-id abcdefghijklmnop`,
		`-j LED --led-trigger-id ""`,
		`-j LED --led-trigger-id "a \"b\" \\c"`,
		`-j LED --led-trigger-id x --led-delay 0`,
		`-j LED --led-trigger-id x --led-delay 2147483647`,
		`-j LED --led-always-blink --led-delay 7 --led-trigger-id x`,
	}
	for _, fam := range []table.Family{table.IPv4, table.IPv6} {
		for _, r := range rules {
			mgRoundTrip(t, fam, "filter", "INPUT", r)
		}
	}
	b := mgRoundTrip(t, table.IPv4, "mangle", "PREROUTING", `-j LED --led-trigger-id abcdefghijklmnop --led-delay 0x01020304 --led-always-blink`)
	want := enchex.EncodeToString([]byte("netfilter-abcdefghijklmnop")) + "00" + "01" + "04030201" + "0000000000000000"
	if got := enchex.EncodeToString(b); got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	if xtbin.Align(ledSize) != 40 {
		t.Errorf("xt_led_info is 40 bytes, Size gives %d", xtbin.Align(ledSize))
	}
}

// TestManglePayloadLayouts pins the byte layout of the other targets of
// the group, whose kernel tests compare with the reference anyway; these
// run without a kernel.
func TestManglePayloadLayouts(t *testing.T) {
	cases := []struct {
		fam              table.Family
		tbl, chain, rule string
		want             string
	}{
		{table.IPv4, "filter", "INPUT", "-j MARK --set-xmark 0x01020304/0xf0", "04030201f0000000"},
		{table.IPv4, "mangle", "INPUT", "-j DSCP --set-dscp-class EF", "2e00000000000000"},
		{table.IPv6, "mangle", "INPUT", "-j TOS --set-tos 0x12/0x3f", "123f000000000000"},
		{table.IPv4, "mangle", "INPUT", "-p tcp -j ECN --ecn-tcp-ece 1 --ecn-tcp-cwr 0 --ecn-ip-ect 2", "3102010000000000"},
		{table.IPv4, "mangle", "INPUT", "-j TTL --ttl-dec 3", "0203000000000000"},
		{table.IPv6, "mangle", "INPUT", "-j HL --hl-inc 4", "0104000000000000"},
		{table.IPv4, "filter", "FORWARD", "-p tcp --syn -j TCPMSS --set-mss 1460", "b405000000000000"},
		{table.IPv6, "filter", "FORWARD", "-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu", "ffff000000000000"},
		{table.IPv4, "mangle", "INPUT", "-p tcp -j TCPOPTSTRIP --strip-options 2,8,33,255",
			"04010000" + "02000000" + strings.Repeat("00000000", 5) + "00000080"},
		{table.IPv4, "filter", "INPUT", "-p tcp -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460", "0f07b40500000000"},
		{table.IPv4, "filter", "INPUT", "-j IDLETIMER --timeout 42 --label foo --alarm",
			"2a000000" + "666f6f" + strings.Repeat("00", 25) + "0001" + strings.Repeat("00", 14)},
		{table.IPv4, "filter", "INPUT", "-j RATEEST --rateest-name re --rateest-interval 250ms --rateest-ewmalog 500ms",
			"7265" + strings.Repeat("00", 14) + "fe01" + strings.Repeat("00", 14)},
		{table.IPv4, "filter", "INPUT", "-j HMARK --hmark-src-prefix 16 --hmark-sport-mask 0x1234 --hmark-dport 5 --hmark-proto-mask 0x1ff --hmark-rnd 0x0a0b0c0d --hmark-mod 42 --hmark-offset 7",
			"ffff0000" + strings.Repeat("00", 28) + "12340000" + "00000005" + "610f0000" + "ff010000" + "0d0c0b0a" + "2a000000" + "07000000" + "00000000"},
		{table.IPv6, "filter", "INPUT", "-j HMARK --hmark-tuple src,spi,ct --hmark-rnd 1 --hmark-mod 2",
			strings.Repeat("ff", 16) + strings.Repeat("00", 16) + "ffffffff" + "00000000" + "09160000" + "00000000" + "01000000" + "02000000" + "00000000" + "00000000"},
	}
	for _, c := range cases {
		b := mgRoundTrip(t, c.fam, c.tbl, c.chain, c.rule)
		if got := enchex.EncodeToString(b); got != c.want {
			t.Errorf("%s: payload\n got %s\nwant %s", c.rule, got, c.want)
		}
	}
}

// TestSetTargetPayload checks the SET codec without a kernel: the indexes
// come from the lookup, unused references are IPSET_INVALID_ID.
func TestSetTargetPayload(t *testing.T) {
	oldIndex, oldName := setTgIndexOf, setTgNameOf
	t.Cleanup(func() { setTgIndexOf, setTgNameOf = oldIndex, oldName })
	idx := map[string]uint16{"foo": 2, "bar": 0x0103, "m": 7}
	setTgIndexOf = func(name string, f table.Family) (uint16, error) {
		i, ok := idx[name]
		if !ok {
			t.Fatalf("index asked for %q", name)
		}
		return i, nil
	}
	setTgNameOf = func(i uint16) (string, error) {
		for n, v := range idx {
			if v == i {
				return n, nil
			}
		}
		t.Fatalf("name asked for index %d", i)
		return "", nil
	}
	cases := []struct {
		tbl, chain, rule string
		want             string
	}{
		{"filter", "INPUT", "-j SET --add-set foo src,dst --exist --timeout 10",
			"02000202" + "ffff0000" + "ffff0000" + "01000000" + "0a000000" + "00000000"},
		{"filter", "INPUT", "-j SET --del-set bar dst,src --add-set foo src",
			"02000102" + "03010204" + "ffff0000" + "00000000" + "ffffffff" + "00000000"},
		{"mangle", "OUTPUT", "-j SET --map-set m src,dst,src,src,src,src --map-prio --map-queue --map-mark",
			"ffff0000" + "ffff0000" + "0700067a" + "00070000" + "ffffffff" + "00000000"},
	}
	for _, c := range cases {
		for _, fam := range []table.Family{table.IPv4, table.IPv6} {
			b := mgRoundTrip(t, fam, c.tbl, c.chain, c.rule)
			if got := enchex.EncodeToString(b); got != c.want {
				t.Errorf("%s: payload\n got %s\nwant %s", c.rule, got, c.want)
			}
		}
	}
	// A used reference without dimensions cannot be printed back.
	bad := []byte{2, 0, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	if err := new(SetTarget).UnmarshalPayload(table.IPv4, bad); err == nil {
		t.Error("a set reference with 0 dimensions was accepted")
	}
}

// TestSetTargetKernel runs the SET cases of the corpus, which the corpus
// marks [kernel] because they need sets, against the reference with the
// sets created: fw reads what the reference stores, the reference reads
// what fw stores, and the kernel holds the same bytes either way.
func TestSetTargetKernel(t *testing.T) {
	kerneltest.Need(t, "ipset", "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	refNS, fwNS := kerneltest.NewNetns(t), kerneltest.NewNetns(t)
	// The same sets in the same order in both namespaces, so that the
	// indexes agree; the first ones only move the others off index 0.
	sets := [][]string{
		{"pad0", "hash:ip"},
		{"pad1", "hash:net"},
		{"foo", "hash:ip"},
		{"bar", "hash:ip,port"},
		{"m", "hash:ip", "skbinfo"},
		{"foo6", "hash:ip", "family", "inet6"},
		{"m6", "hash:ip", "family", "inet6", "skbinfo"},
		{"abcdefghijabcdefghijabcdefghijk", "hash:ip"},
	}
	for _, ns := range []*kerneltest.Netns{refNS, fwNS} {
		for _, s := range sets {
			r, err := ns.Run(nil, "ipset", append([]string{"create"}, s...)...)
			if err != nil || r.Code != 0 {
				t.Fatalf("ipset create %v: %v %s", s, err, r.Stderr)
			}
		}
	}
	b := &legacy.Backend{Registry: Registry(), LockWait: 30 * time.Second}
	cases := []struct {
		fam        table.Family
		tbl, chain string
		rule, want string // want "" means rule
	}{
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo src,dst", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo src", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --del-set foo dst", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo src,dst --exist --timeout 10", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --del-set bar dst,src --add-set foo src", "-j SET --add-set foo src --del-set bar dst,src"},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo src,src,src,src,src,src", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo dst --timeout 0", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo dst --timeout 4294967294", ""},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set foo src --timeout 5 --timeout 3 --exist --exist", "-j SET --add-set foo src --exist --timeout 3"},
		{table.IPv4, "filter", "INPUT", "-j SET --add-set abcdefghijabcdefghijabcdefghijk src", ""},
		{table.IPv4, "filter", "INPUT", "-p tcp -j SET --add-set bar src,dst", ""},
		{table.IPv4, "mangle", "PREROUTING", "-j SET --map-set m dst --map-mark", ""},
		{table.IPv4, "mangle", "OUTPUT", "-j SET --map-set m dst --map-prio --map-queue --map-mark", "-j SET --map-set m dst --map-mark --map-prio --map-queue"},
		{table.IPv4, "mangle", "OUTPUT", "-j SET --map-set foo dst --map-queue --add-set foo src --exist --del-set foo dst --map-mark", "-j SET --add-set foo src --exist --del-set foo dst --map-set foo dst --map-mark --map-queue"},
		{table.IPv4, "mangle", "POSTROUTING", "-j SET --map-set m src --map-queue", ""},
		{table.IPv4, "nat", "POSTROUTING", "-j SET --add-set foo src", ""},
		{table.IPv4, "raw", "PREROUTING", "-j SET --del-set foo src", ""},
		{table.IPv6, "filter", "INPUT", "-j SET --add-set foo6 src,dst --exist --timeout 10", ""},
		{table.IPv6, "filter", "INPUT", "-j SET --del-set foo6 dst,src --add-set foo6 src", "-j SET --add-set foo6 src --del-set foo6 dst,src"},
		{table.IPv6, "mangle", "FORWARD", "-j SET --map-set m6 src --map-prio", ""},
		{table.IPv6, "raw", "PREROUTING", "-j SET --del-set foo6 src", ""},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.rule
		}
		input := "*" + c.tbl + "\n-A " + c.chain + " " + c.rule + "\nCOMMIT\n"
		restore, save := "iptables-legacy-restore", "iptables-legacy-save"
		if c.fam == table.IPv6 {
			restore, save = "ip6tables-legacy-restore", "ip6tables-legacy-save"
		}
		r, err := refNS.Run([]byte(input), restore)
		if err != nil || r.Code != 0 {
			t.Errorf("%s: reference restore failed: %v %s", c.rule, err, r.Stderr)
			continue
		}
		ref, _ := refNS.Run(nil, save, "-t", c.tbl)
		refText := kerneltest.DropComments(ref.Stdout)
		if !strings.Contains(refText, "-A "+c.chain+" "+want+"\n") {
			t.Errorf("%s: the reference prints\n%s", c.rule, refText)
		}
		var got string
		rs, err := refNS.Load(b, c.fam, c.tbl)
		if err == nil {
			got, err = format.EncodeString(rs, format.EncodeOptions{})
		}
		if err != nil {
			t.Errorf("%s: fw cannot read what the reference wrote: %v", c.rule, err)
		} else if got != refText {
			t.Errorf("%s: fw reads\n%s\nthe reference\n%s", c.rule, got, refText)
		}
		rs, err = format.Load("test", []byte(input), format.LoadOptions{Family: c.fam, Registry: b.Registry})
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if err := fwNS.Do(func() error { return b.Commit(rs, kernel.CommitOptions{}) }); err != nil {
			t.Errorf("%s: fw restore failed: %v", c.rule, err)
			continue
		}
		back, _ := fwNS.Run(nil, save, "-t", c.tbl)
		if g := kerneltest.DropComments(back.Stdout); g != refText {
			t.Errorf("%s: after fw's restore the reference prints\n%s\nafter its own\n%s", c.rule, g, refText)
		}
		var refBlob, fwBlob []byte
		refNS.Do(func() (err error) { refBlob, _, err = b.Raw(c.fam, c.tbl); return })
		fwNS.Do(func() (err error) { fwBlob, _, err = b.Raw(c.fam, c.tbl); return })
		if !bytes.Equal(refBlob, fwBlob) {
			t.Errorf("%s: kernel entries differ\nreference %x\nfw        %x", c.rule, refBlob, fwBlob)
		}
	}

	// A set of the other family is refused, as by the reference.
	for _, c := range []struct {
		fam  table.Family
		rule string
	}{
		{table.IPv6, "-j SET --add-set foo src"},
		{table.IPv4, "-j SET --del-set foo6 src"},
		{table.IPv4, "-j SET --add-set nosuch src"},
	} {
		input := "*filter\n-A INPUT " + c.rule + "\nCOMMIT\n"
		restore := "iptables-legacy-restore"
		if c.fam == table.IPv6 {
			restore = "ip6tables-legacy-restore"
		}
		if r, err := refNS.Run([]byte(input), restore); err != nil || r.Code == 0 {
			t.Errorf("%s: the reference accepts it (%v)", c.rule, err)
		}
		rs, err := format.Load("test", []byte(input), format.LoadOptions{Family: c.fam, Registry: b.Registry})
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if err := fwNS.Do(func() error { return b.Commit(rs, kernel.CommitOptions{}) }); err == nil {
			t.Errorf("%s: fw accepts it", c.rule)
		}
	}
}
