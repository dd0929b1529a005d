package ext

import (
	"bytes"
	enchex "encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// rtParse loads one rule into filter/INPUT and returns its matches.
func rtParse(t *testing.T, fam table.Family, rule string) []table.Ext {
	t.Helper()
	input := fmt.Sprintf("*filter\n-A INPUT %s\nCOMMIT\n", rule)
	rs, err := format.Load("test", []byte(input), format.LoadOptions{Family: fam, Registry: testRegistry()})
	if err != nil {
		t.Fatalf("%s (%s): %v", rule, fam, err)
	}
	return rs.Table("filter").Chain("INPUT").Rules[0].Matches
}

// rtRoundTrip round-trips every match of a rule (roundTripExt) and returns
// the payloads.
func rtRoundTrip(t *testing.T, fam table.Family, rule string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, e := range rtParse(t, fam, rule) {
		if data := roundTripExt(t, fam, rule, e); data != nil {
			out = append(out, data)
		}
	}
	return out
}

// TestRateCodecRoundTrip covers the payloads the kernel here cannot load
// without objects the corpus cannot create: nfacct objects, rate
// estimators outside a prelude, pinned BPF programs, cgroup paths.
func TestRateCodecRoundTrip(t *testing.T) {
	for _, rule := range []string{
		"-m nfacct --nfacct-name test",
		"-m nfacct --nfacct-name \"a b\"",
		"-m nfacct --nfacct-name " + strings.Repeat("x", nfacctNameSize-1),
		"-m rateest --rateest NOPE --rateest-lt --rateest-pps 5",
		"-m rateest --rateest-delta --rateest1 RE1 --rateest-pps1 0 --rateest-lt --rateest-pps2 42 --rateest2 RE2",
		"-m rateest --rateest-delta --rateest RE1 --rateest-bps1 8bit --rateest-gt --rateest-bps2 16bit",
		"-m rateest --rateest1 RE1 ! --rateest-eq --rateest-bps --rateest-pps --rateest2 RE1234567890ABC",
		"-m rateest --rateest RE1 --rateest-lt --rateest-bps 3GiBps",
		"-m bpf --object-pinned /sys/fs/bpf/prog",
		"-m bpf --object-pinned /" + strings.Repeat("p", bpfPathSize-2),
		"-m bpf --bytecode \"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\"",
		"-m cgroup --path /system.slice",
		"-m cgroup ! --path user.slice/x_y-z",
		"-m cgroup --cgroup 0x100001",
		"-m cgroup ! --cgroup 1",
	} {
		for _, f := range []table.Family{table.IPv4, table.IPv6} {
			rtRoundTrip(t, f, rule)
		}
	}
}

// TestRateCodecLayout pins the bytes of one payload per extension the
// kernel tests cannot load, and the residue iptables leaves.
func TestRateCodecLayout(t *testing.T) {
	one := func(rule string, fam table.Family) []byte {
		t.Helper()
		p := rtRoundTrip(t, fam, rule)
		if len(p) != 1 {
			t.Fatalf("%s: %d payloads", rule, len(p))
		}
		return p[0]
	}
	zeros := func(n int) string { return strings.Repeat("00", n) }
	for _, c := range []struct {
		rule string
		want string
	}{
		// name[32]; pointer.
		{"-m nfacct --nfacct-name test", "74657374" + zeros(36)},
		// name1[16] name2[16] flags=DELTA|BPS|ABS mode=LT bps1=1 pps1 bps2=2
		// pps2, padding, two pointers.
		{"-m rateest --rateest-delta --rateest RE1 --rateest-bps1 8bit --rateest-lt --rateest-bps2 16bit",
			"524531" + zeros(13) + zeros(16) + "1a00" + "0200" + "01000000" + "00000000" + "02000000" + zeros(4) + zeros(4) + zeros(16)},
		// mode=pinned, no program, fd 0 (opened at load time), path.
		{"-m bpf --object-pinned /sys/fs/bpf/prog",
			"0100" + "0000" + "00000000" + enchex.EncodeToString([]byte("/sys/fs/bpf/prog")) + zeros(512-16) + zeros(8)},
		// has_path invert_path, path.
		{"-m cgroup ! --path /a", "01000100" + "2f61" + zeros(510) + zeros(4) + zeros(8)},
		// has_classid invert_classid, classid in the union.
		{"-m cgroup ! --cgroup 0x100001", "00010001" + "01001000" + zeros(508) + zeros(4) + zeros(8)},
		// "DEFAULT" under the user's name; the IPv4 default mask is all ones
		// over the whole 16 bytes.
		{"-m recent --set --name ssh", "00000000" + "00000000" + "02" + "00" +
			enchex.EncodeToString([]byte("ssh\x00ULT")) + zeros(193) + "00" + "00" + strings.Repeat("ff", 16) + zeros(4)},
		// statistic nth: every-1, packet, count = every-1-packet.
		{"-m statistic --mode nth ! --every 10 --packet 3", "0100" + "0100" + "09000000" + "03000000" + "06000000" + zeros(8)},
		// statistic random: count repeats the probability.
		{"-m statistic --mode random --probability 0.5", "0000" + "0000" + "00000040" + "00000000" + "00000040" + zeros(8)},
	} {
		if got := enchex.EncodeToString(one(c.rule, table.IPv4)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.rule, got, c.want)
		}
	}
}

// TestRateCodecDecodeErrors: short payloads and counts that would make
// printing index past the fixed arrays are errors, not panics.
func TestRateCodecDecodeErrors(t *testing.T) {
	for _, info := range []*table.ExtInfo{limitInfo, hashlimitInfo, recentInfo, statisticInfo, timeInfo, quotaInfo,
		nfacctInfo, rateestInfo, cpuInfo, cgroupInfo, bpfInfo, stringInfo, u32Info, lengthInfo} {
		v := info.New(table.IPv4).(table.Payload)
		if err := v.UnmarshalPayload(table.IPv4, make([]byte, info.Size-1)); err == nil {
			t.Errorf("%s accepted a %d-byte payload", info.Name, info.Size-1)
		}
	}
	u := make([]byte, xtbin.Align(u32Size))
	u[1980] = u32MaxSize + 2
	if err := new(U32).UnmarshalPayload(table.IPv4, u); err == nil {
		t.Error("u32 accepted 12 tests")
	}
	u[1980], u[176] = 1, u32MaxSize+2
	if err := new(U32).UnmarshalPayload(table.IPv4, u); err == nil {
		t.Error("u32 accepted 12 numbers in a test")
	}
	// A test without numbers prints its first location, as iptables does.
	u[176], u[177] = 0, 1
	m := new(U32)
	if err := m.UnmarshalPayload(table.IPv4, u); err != nil {
		t.Fatal(err)
	}
	w := table.Writer{Names: testNames}
	m.Print(&w)
	if got := w.String(); got != ` --u32 "0x0=0x0"` {
		t.Errorf("u32 without numbers prints %q", got)
	}
	b := make([]byte, xtbin.Align(bpfSize))
	b[2] = bpfMaxInstr + 1
	if err := new(BPF).UnmarshalPayload(table.IPv4, b); err == nil {
		t.Error("bpf accepted 65 instructions")
	}
	s := make([]byte, xtbin.Align(stringSize))
	s[148] = stringMaxPattern + 1
	if err := new(StringMatch).UnmarshalPayload(table.IPv4, s); err == nil {
		t.Error("string accepted a 129-byte pattern")
	}
	// A name field without its NUL.
	h := bytes.Repeat([]byte{'a'}, xtbin.Align(hashlimitSize))
	if err := new(Hashlimit).UnmarshalPayload(table.IPv4, h); err == nil {
		t.Error("hashlimit accepted a name without NUL")
	}
	// Names too long for their fields cannot be encoded.
	r := &Recent{TableName: strings.Repeat("r", recentNameSize)}
	if _, err := table.MarshalPayload(r, r.Info(), table.IPv4); err == nil {
		t.Error("recent encoded a 200-byte name")
	}
}

// TestRateSharedObjects: of two rules that give one kernel object
// (hashlimit table, idle timer, estimator) different parameters, the one
// the kernel checks second is refused, whatever the file order: built-in
// chains come before user chains.
func TestRateSharedObjects(t *testing.T) {
	for _, c := range []struct {
		first, second string // rules for user chain zzz and for INPUT
		line          int    // line refused, 0 for none
	}{
		{"-m hashlimit --hashlimit-upto 1/s --hashlimit-name a", "-m hashlimit --hashlimit-upto 1/s --hashlimit-name a --hashlimit-rate-match", 4},
		{"-m hashlimit --hashlimit-upto 1/s --hashlimit-name a", "-m hashlimit --hashlimit-upto 5/min --hashlimit-name a", 0},
		{"-m hashlimit --hashlimit-upto 1/s --hashlimit-name a", "-m hashlimit --hashlimit-upto 1/s --hashlimit-name b --hashlimit-rate-match", 0},
		{"-j IDLETIMER --timeout 1 --label a --alarm", "-j IDLETIMER --timeout 1 --label a", 4},
		{"-j IDLETIMER --timeout 1 --label a", "-j IDLETIMER --timeout 9 --label a", 0},
		{"-j RATEEST --rateest-name a --rateest-interval 1s --rateest-ewmalog 4s", "-j RATEEST --rateest-name a --rateest-interval 1s --rateest-ewmalog 8s", 4},
		{"-j RATEEST --rateest-name a --rateest-interval 1s --rateest-ewmalog 4s", "-j RATEEST --rateest-name a --rateest-interval 1s --rateest-ewmalog 5s", 0},
	} {
		input := fmt.Sprintf("*filter\n:zzz - [0:0]\n-A INPUT -j zzz\n-A zzz %s\n-A INPUT %s\nCOMMIT\n", c.first, c.second)
		_, err := format.Load("test", []byte(input), format.LoadOptions{Family: table.IPv4, Registry: testRegistry()})
		switch {
		case c.line == 0 && err != nil:
			t.Errorf("%s / %s: %v", c.first, c.second, err)
		case c.line != 0 && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("test:%d:", c.line)) || strings.Contains(err.Error(), "test:5:")):
			t.Errorf("%s / %s: want line %d refused, got %v", c.first, c.second, c.line, err)
		}
	}
}
