package ext

import (
	"bytes"
	enchex "encoding/hex"
	"fmt"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
)

// ctRoundTrip parses one rule in table tbl, and for every extension in it
// encodes the payload, decodes it the way the kernel reader does (lookup by
// kernel name and revision, New, UnmarshalPayload) and checks that the
// decoded value prints the same, under the same name, and encodes to the
// same bytes.
func ctRoundTrip(t *testing.T, fam table.Family, tbl, chain, rule string) {
	t.Helper()
	reg := testRegistry()
	input := fmt.Sprintf("*%s\n-A %s %s\nCOMMIT\n", tbl, chain, rule)
	rs, err := format.Load("test", []byte(input), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		t.Errorf("%s (%s): %v", rule, fam, err)
		return
	}
	r := rs.Table(tbl).Chain(chain).Rules[0]
	exts := append([]table.Ext(nil), r.Matches...)
	if x, ok := r.Target.(table.Ext); ok {
		exts = append(exts, x)
	}
	if len(exts) == 0 {
		t.Errorf("%s (%s): no extension", rule, fam)
	}
	for _, e := range exts {
		roundTripExt(t, fam, rule, e)
	}
}

// TestCTCodecRoundTrip covers the payloads the reference kernel cannot
// load (ipvs: no CONFIG_IP_VS; SECMARK: no SELinux policy), and the alias
// values, without a kernel.
func TestCTCodecRoundTrip(t *testing.T) {
	both := []table.Family{table.IPv4, table.IPv6}
	cases := []struct {
		fams             []table.Family
		tbl, chain, rule string
	}{
		{both, "filter", "INPUT", "-m ipvs --ipvs"},
		{both, "filter", "INPUT", "-m ipvs ! --ipvs"},
		{both, "filter", "INPUT", "-m ipvs ! --vproto 6"},
		{both, "filter", "INPUT", "-m ipvs --vport 80"},
		{both, "filter", "INPUT", "-m ipvs ! --vport 443"},
		{both, "filter", "INPUT", "-m ipvs --vdir REPLY"},
		{both, "filter", "INPUT", "-m ipvs --vdir ORIGINAL"},
		{both, "filter", "INPUT", "-m ipvs ! --vmethod IPIP"},
		{both, "filter", "INPUT", "-m ipvs --vmethod MASQ"},
		{both, "filter", "INPUT", "-m ipvs ! --vportctl 21"},
		{both, "filter", "INPUT", "-m ipvs --vproto 6 --vport 80 --vdir REPLY --vmethod GATE --vportctl 21"},
		{[]table.Family{table.IPv4}, "filter", "INPUT", "-m ipvs ! --vaddr 1.2.3.4/24"},
		{[]table.Family{table.IPv4}, "filter", "INPUT", "-m ipvs --vproto 6 --vaddr 1.2.3.4/16 --vport 22 --vdir ORIGINAL --vmethod GATE"},
		{[]table.Family{table.IPv6}, "filter", "INPUT", "-m ipvs ! --vaddr 2001:db8::/64"},
		{[]table.Family{table.IPv6}, "filter", "INPUT", "-m ipvs --vaddr 2001:db8::1"},
		{both, "security", "INPUT", "-j SECMARK --selctx system_u:object_r:firewalld_exec_t:s0"},
		{both, "mangle", "PREROUTING", "-j SECMARK --selctx " + string(bytes.Repeat([]byte{'x'}, secmarkCtxMax))},
		{both, "mangle", "PREROUTING", "-j CONNSECMARK --save"},
		{both, "mangle", "PREROUTING", "-m state ! --state INVALID,UNTRACKED -m conntrack --ctstate NEW --ctproto 6 --ctorigdstport 80:90 --ctexpire 5:7 --ctdir REPLY"},
		{[]table.Family{table.IPv4}, "filter", "INPUT", "-m conntrack ! --ctorigsrc 10.0.0.0/8 --ctrepldst 1.2.3.4 --ctstatus ASSURED"},
		{[]table.Family{table.IPv6}, "filter", "INPUT", "-m conntrack --ctreplsrc 2001:db8::/48 ! --ctorigdst ::1"},
		{both, "raw", "PREROUTING", "-j NOTRACK"},
		{both, "raw", "PREROUTING", "-p tcp -j CT --notrack --helper ftp --timeout abcdefghijklmnopqrstuvwxyz01234 --ctevents new,mark --expevents new --zone-orig mark"},
		{both, "mangle", "PREROUTING", "-m connmark ! --mark 0x5/0xff -m connbytes ! --connbytes 10:20 --connbytes-mode avgpkt --connbytes-dir both -j CONNMARK --restore-mark --nfmask 0xf --ctmask 0xf0 --right-shift-mark 3"},
		{both, "mangle", "PREROUTING", "-m cluster --cluster-total-nodes 4 ! --cluster-local-node 3 --cluster-hash-seed 0xfeedcafe -m connlabel ! --label 41 --set -m helper ! --helper \"a b\""},
		{[]table.Family{table.IPv4}, "filter", "INPUT", "-m connlimit --connlimit-upto 5 --connlimit-mask 24 --connlimit-daddr"},
		{[]table.Family{table.IPv6}, "filter", "INPUT", "-m connlimit --connlimit-above 5 --connlimit-mask 64"},
	}
	for _, c := range cases {
		for _, f := range c.fams {
			ctRoundTrip(t, f, c.tbl, c.chain, c.rule)
		}
	}
}

// TestCTCodecLayout pins the bytes of the payloads no kernel test checks.
func TestCTCodecLayout(t *testing.T) {
	m := &IPVS{
		VAddr:     [16]byte{1, 2, 3, 4},
		VMask:     [16]byte{0xff, 0xff, 0xff},
		VPort:     0x0102,
		L4Proto:   6,
		FwdMethod: ipvsDRoute,
		VPortCtl:  21,
		Invert:    ipvsVAddr,
		Bitmask:   ipvsProperty | ipvsVAddr | ipvsVPort | ipvsMethod | ipvsVPortCtl,
	}
	b, err := table.MarshalPayload(m, m.Info(), table.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	want := "01020304000000000000000000000000" + "ffffff00000000000000000000000000" +
		"0102" + "06" + "03" + "0015" + "04" + "6d"
	if got := enchex.EncodeToString(b); got != want {
		t.Errorf("ipvs payload\n got %s\nwant %s", got, want)
	}

	s := &Secmark{Mode: secmarkModeSel, SecCtx: "ab"}
	b, err = table.MarshalPayload(s, s.Info(), table.IPv6)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 264 || b[0] != 1 || b[1] != 'a' || b[2] != 'b' || !bytes.Equal(b[3:], make([]byte, 261)) {
		t.Errorf("SECMARK payload %x", b)
	}
	// A context that fills the field leaves no room for its NUL.
	s.SecCtx = string(bytes.Repeat([]byte{'x'}, secmarkCtxLen))
	if _, err := table.MarshalPayload(s, s.Info(), table.IPv4); err == nil {
		t.Errorf("SECMARK accepted a %d-byte context", secmarkCtxLen)
	}
	// The kernel hands back only 4 bytes of a CT timeout name.
	ct := &CT{}
	data := make([]byte, 72)
	copy(data[28:], "abcd")
	if err := ct.UnmarshalPayload(table.IPv4, data); err != nil || ct.Timeout != "abcd" {
		t.Errorf("CT timeout %q, %v", ct.Timeout, err)
	}
	// Short payloads are errors, not zero values.
	if err := new(IPVS).UnmarshalPayload(table.IPv4, make([]byte, 39)); err == nil {
		t.Error("ipvs accepted a 39-byte payload")
	}
	if err := new(Secmark).UnmarshalPayload(table.IPv4, make([]byte, 200)); err == nil {
		t.Error("SECMARK accepted a 200-byte payload")
	}
}
