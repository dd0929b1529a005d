package ext

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/fwkit/fw/internal/xtbin"

	"github.com/fwkit/fw/table"
)

// testNames is the resolver of the package's tests: their results never
// depend on the machine's /etc.
var testNames = table.NewHostFiles(fstest.MapFS{
	table.HostsPath: {Data: []byte(`127.0.0.1 localhost
::1 localhost ip6-localhost
10.0.0.1 gw Gateway
10.0.0.2 multi
10.0.0.3 multi
2001:db8::1 multi
10.0.0.9 twice
10.0.0.9 twice
`)},
	table.ServicesPath: {Data: []byte(`ssh 22/tcp
http 80/tcp www
domain 53/tcp
domain 53/udp
udponly 999/udp
sctponly 1000/sctp
`)},
	table.ProtocolsPath:     {Data: []byte("tcp 6 TCP\nipcomp 108 IPCOMP\n")},
	table.Users.Path():      {Data: []byte("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")},
	table.Groups.Path():     {Data: []byte("root:x:0:\nstaff:x:50:alice\n")},
	table.Realms.Path():     {Data: []byte("0 cosmos\n0x10 sixteen\n")},
	table.DevGroups.Path():  {Data: []byte("0 default\n7 lan\n")},
	table.ConnLabels.Path(): {Data: []byte("1 eth0-in\n2 eth0-out\n")},
})

// testRegistry is the registry of the package's tests that parse rules
// offline, with testNames.
func testRegistry() *table.Registry { return Registry().WithNames(testNames) }

// roundTripExt encodes the payload of e (from rule), decodes it the way
// the kernel reader does (lookup by kernel name and revision, New,
// UnmarshalPayload) and checks that the decoded value prints the same,
// under the same name, and encodes to the same bytes. It returns the
// payload, or nil after reporting a failure.
func roundTripExt(t *testing.T, fam table.Family, rule string, e table.Ext) []byte {
	t.Helper()
	info := e.Info()
	p, ok := e.(table.Payload)
	if !ok {
		t.Errorf("%s (%s): %s has no codec", rule, fam, e.Name())
		return nil
	}
	data, err := table.MarshalPayload(p, info, fam)
	if err != nil {
		t.Errorf("%s (%s): marshal %s: %v", rule, fam, e.Name(), err)
		return nil
	}
	if info.Size == 0 || len(data) != xtbin.Align(info.Size) {
		t.Errorf("%s (%s): %s payload is %d bytes, Size %d", rule, fam, e.Name(), len(data), info.Size)
		return nil
	}
	kinfo := testRegistry().ByKernel(info.Kind, info.KernelName(), info.Revision, fam)
	if kinfo == nil || kinfo.TextOnly {
		t.Errorf("%s (%s): no decoder for %s revision %d", rule, fam, info.KernelName(), info.Revision)
		return nil
	}
	back := kinfo.New(fam)
	if err := back.(table.Payload).UnmarshalPayload(fam, data); err != nil {
		t.Errorf("%s (%s): unmarshal %s: %v", rule, fam, e.Name(), err)
		return nil
	}
	want, got := table.Writer{Names: testNames}, table.Writer{Names: testNames}
	e.Print(&want)
	back.Print(&got)
	if back.Name() != e.Name() || back.Info() != info || got.String() != want.String() {
		t.Errorf("%s (%s): decoded as %s%s, want %s%s", rule, fam, back.Name(), got.String(), e.Name(), want.String())
	}
	again, err := table.MarshalPayload(back.(table.Payload), back.Info(), fam)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("%s (%s): re-encoded %s differs (%v)\n got %x\nwant %x", rule, fam, e.Name(), err, again, data)
	}
	return data
}
