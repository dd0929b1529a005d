package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// portResult is what a port parser gives: the range, or that it refused.
type portResult struct {
	R   [2]uint16
	Err bool
}

func portOutcome(r [2]uint16, err error) portResult {
	if err != nil {
		return portResult{Err: true}
	}
	return portResult{R: r}
}

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in, proto string
		want      portResult
	}{
		{"22", "tcp", portResult{R: [2]uint16{22, 22}}},
		{"0x16", "tcp", portResult{R: [2]uint16{22, 22}}}, // a C number
		{"026", "tcp", portResult{R: [2]uint16{22, 22}}},
		{"ssh", "tcp", portResult{R: [2]uint16{22, 22}}},
		{"www", "tcp", portResult{R: [2]uint16{80, 80}}},
		{"ssh", "udp", portResult{Err: true}},
		{"udponly", "udp", portResult{R: [2]uint16{999, 999}}},
		{"65536", "tcp", portResult{Err: true}},
		{"", "tcp", portResult{Err: true}},
	} {
		p, err := parsePort(tc.in, tc.proto, testNames)
		if d := cmp.Diff(tc.want, portOutcome([2]uint16{p, p}, err)); d != "" {
			t.Errorf("parsePort(%q, %q) (-want +got):\n%s", tc.in, tc.proto, d)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want portResult
	}{
		{"22", portResult{R: [2]uint16{22, 22}}},
		{"ssh:http", portResult{R: [2]uint16{22, 80}}},
		{":1024", portResult{R: [2]uint16{0, 1024}}},
		{"1024:", portResult{R: [2]uint16{1024, 0xffff}}},
		{":", portResult{R: [2]uint16{0, 0xffff}}},
		{"80:22", portResult{Err: true}},
		{"1:2:3", portResult{Err: true}},
		{"", portResult{Err: true}},
	} {
		r, err := parsePortRange(tc.in, "tcp", testNames)
		if d := cmp.Diff(tc.want, portOutcome(r, err)); d != "" {
			t.Errorf("parsePortRange(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestParseServicePort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want portResult
	}{
		{"22", portResult{R: [2]uint16{22, 22}}},
		{"022", portResult{R: [2]uint16{22, 22}}}, // decimal, not octal
		{" +22", portResult{R: [2]uint16{22, 22}}},
		{"0x16", portResult{Err: true}}, // a name, and none such
		{"ssh", portResult{R: [2]uint16{22, 22}}},
		{"udponly", portResult{R: [2]uint16{999, 999}}},
		{"sctponly", portResult{R: [2]uint16{1000, 1000}}},
		{"65535", portResult{R: [2]uint16{0xffff, 0xffff}}},
		{"65536", portResult{Err: true}}, // iptables keeps the low 16 bits
		{"", portResult{Err: true}},      // iptables reads port 0
		{"-1", portResult{Err: true}},
		{"22 ", portResult{Err: true}},
	} {
		p, err := parseServicePort(tc.in, testNames)
		if d := cmp.Diff(tc.want, portOutcome([2]uint16{p, p}, err)); d != "" {
			t.Errorf("parseServicePort(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestParseServicePortRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want portResult
	}{
		{"22", portResult{R: [2]uint16{22, 22}}},
		{"ssh:http", portResult{R: [2]uint16{22, 80}}},
		{"80:22", portResult{R: [2]uint16{80, 22}}}, // the caller decides
		{":", portResult{R: [2]uint16{0, 0xffff}}},
		{"", portResult{R: [2]uint16{0, 0}}},
		{"1:2:3", portResult{Err: true}},
		{"1:nosuch", portResult{Err: true}},
	} {
		r, err := parseServicePortRange(tc.in, testNames)
		if d := cmp.Diff(tc.want, portOutcome(r, err)); d != "" {
			t.Errorf("parseServicePortRange(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}
