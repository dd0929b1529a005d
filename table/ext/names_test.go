package ext

import (
	"testing/fstest"

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
