package wire

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The golden files of the requests (testdata/requests/*.txt) show every
// message fw sends for a golden input, attribute by attribute, under the
// names of the uapi header, so that they can be read against it; the
// names here are the test's own table, not the codec's constants.
var (
	cmdNames = map[int]string{1: "IPSET_CMD_PROTOCOL", 2: "IPSET_CMD_CREATE", 3: "IPSET_CMD_DESTROY",
		4: "IPSET_CMD_FLUSH", 5: "IPSET_CMD_RENAME", 6: "IPSET_CMD_SWAP", 7: "IPSET_CMD_LIST",
		8: "IPSET_CMD_SAVE", 9: "IPSET_CMD_ADD", 13: "IPSET_CMD_TYPE"}
	cmdAttrNames = map[uint16]string{1: "IPSET_ATTR_PROTOCOL", 2: "IPSET_ATTR_SETNAME",
		3: "IPSET_ATTR_TYPENAME", 4: "IPSET_ATTR_REVISION", 5: "IPSET_ATTR_FAMILY", 6: "IPSET_ATTR_FLAGS",
		7: "IPSET_ATTR_DATA", 8: "IPSET_ATTR_ADT", 9: "IPSET_ATTR_LINENO", 10: "IPSET_ATTR_PROTOCOL_MIN",
		11: "IPSET_ATTR_INDEX"}
	createAttrNames = map[uint16]string{1: "IPSET_ATTR_IP", 2: "IPSET_ATTR_IP_TO", 3: "IPSET_ATTR_CIDR",
		4: "IPSET_ATTR_PORT", 5: "IPSET_ATTR_PORT_TO", 6: "IPSET_ATTR_TIMEOUT", 7: "IPSET_ATTR_PROTO",
		8: "IPSET_ATTR_CADT_FLAGS", 9: "IPSET_ATTR_CADT_LINENO", 10: "IPSET_ATTR_MARK",
		11: "IPSET_ATTR_MARKMASK", 12: "IPSET_ATTR_BITMASK", 17: "IPSET_ATTR_INITVAL",
		18: "IPSET_ATTR_HASHSIZE", 19: "IPSET_ATTR_MAXELEM", 20: "IPSET_ATTR_NETMASK",
		21: "IPSET_ATTR_BUCKETSIZE", 22: "IPSET_ATTR_RESIZE", 23: "IPSET_ATTR_SIZE",
		24: "IPSET_ATTR_ELEMENTS", 25: "IPSET_ATTR_REFERENCES", 26: "IPSET_ATTR_MEMSIZE"}
	adtAttrNames = map[uint16]string{1: "IPSET_ATTR_IP", 2: "IPSET_ATTR_IP_TO", 3: "IPSET_ATTR_CIDR",
		4: "IPSET_ATTR_PORT", 5: "IPSET_ATTR_PORT_TO", 6: "IPSET_ATTR_TIMEOUT", 7: "IPSET_ATTR_PROTO",
		8: "IPSET_ATTR_CADT_FLAGS", 9: "IPSET_ATTR_CADT_LINENO", 10: "IPSET_ATTR_MARK",
		17: "IPSET_ATTR_ETHER", 18: "IPSET_ATTR_NAME", 19: "IPSET_ATTR_NAMEREF", 20: "IPSET_ATTR_IP2",
		21: "IPSET_ATTR_CIDR2", 22: "IPSET_ATTR_IP2_TO", 23: "IPSET_ATTR_IFACE", 24: "IPSET_ATTR_BYTES",
		25: "IPSET_ATTR_PACKETS", 26: "IPSET_ATTR_COMMENT", 27: "IPSET_ATTR_SKBMARK",
		28: "IPSET_ATTR_SKBPRIO", 29: "IPSET_ATTR_SKBQUEUE"}
	ipAttrNames = map[uint16]string{1: "IPSET_ATTR_IPADDR_IPV4", 2: "IPSET_ATTR_IPADDR_IPV6"}
)

// renderAttrs writes the attributes in b, one a line, nests indented.
// names gives the names at this level; sub the names inside a nest.
func renderAttrs(w *strings.Builder, b []byte, depth int, names map[uint16]string, sub func(uint16) map[uint16]string) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			fmt.Fprintf(w, "%s<malformed %x>\n", strings.Repeat("  ", depth), b)
			return
		}
		data := b[4:l]
		b = b[min(len(b), (l+3)&^3):]
		t := typ & 0x3fff
		name := names[t]
		if name == "" {
			name = fmt.Sprintf("attr%d", t)
		}
		ind := strings.Repeat("  ", depth)
		var flags []string
		if typ&0x8000 != 0 {
			flags = append(flags, "NLA_F_NESTED")
		}
		if typ&0x4000 != 0 {
			flags = append(flags, "NLA_F_NET_BYTEORDER")
		}
		fl := ""
		if len(flags) > 0 {
			fl = " [" + strings.Join(flags, "|") + "]"
		}
		if typ&0x8000 != 0 {
			fmt.Fprintf(w, "%s%s%s\n", ind, name, fl)
			renderAttrs(w, data, depth+1, sub(t), sub)
			continue
		}
		fmt.Fprintf(w, "%s%s%s %s\n", ind, name, fl, renderValue(data))
	}
}

// renderValue shows a value as text when it is a NUL-terminated string
// of printable bytes, else in hexadecimal.
func renderValue(d []byte) string {
	if len(d) > 1 && d[len(d)-1] == 0 {
		s := string(d[:len(d)-1])
		ok := true
		for _, c := range []byte(s) {
			ok = ok && c >= 0x20 && c < 0x7f
		}
		if ok {
			return fmt.Sprintf("%q", s)
		}
	}
	return hex.EncodeToString(d)
}

func renderMessages(t *testing.T, b []byte) string {
	var w strings.Builder
	err := SplitMessages(b, func(m Message) error {
		fmt.Fprintf(&w, "%s flags %#x seq %d family %d\n", cmdNames[m.Cmd()], m.Flags, m.Seq, m.Body[0])
		renderAttrs(&w, m.Body[SizeofNfgenmsg:], 1, cmdAttrNames, func(t uint16) map[uint16]string {
			switch t {
			case 1, 2, 12, 20, 22: // the address nests, at every level
				return ipAttrNames
			case 7:
				return createAttrNames
			}
			return map[uint16]string{7: "IPSET_ATTR_DATA"}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w.String()
}

// TestRequestsGolden renders the CREATE and ADD requests of every golden
// input (testdata/requests/*.txt, rewritten with -update).
func TestRequestsGolden(t *testing.T) {
	sets := goldenSets(t)
	files := make([]string, 0, len(sets))
	for f := range sets {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		var b Builder
		for _, s := range sets[f] {
			b.CreateRequest(1, s.Name, s, s.Type.Revision)
			if len(s.Members) > 0 {
				b.AddRequest(2, s.Name, s, 0, 1<<16)
			}
		}
		got := renderMessages(t, b.B)
		// An element nests its attributes under IPSET_ATTR_DATA inside
		// IPSET_ATTR_ADT; name them as element attributes.
		got = renameElementAttrs(got)
		path := filepath.Join("testdata", "requests", strings.TrimSuffix(f, ".in")+".txt")
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(want), got); d != "" {
			t.Errorf("%s (-want +got):\n%s", path, d)
		}
	}
}

// renameElementAttrs renames the attributes of elements (three levels
// deep, under IPSET_ATTR_ADT) from the create names to the element
// names where the two enums differ.
func renameElementAttrs(s string) string {
	var out []string
	inADT := false
	for _, l := range strings.Split(s, "\n") {
		trim := strings.TrimLeft(l, " ")
		depth := (len(l) - len(trim)) / 2
		if depth <= 1 {
			inADT = strings.HasPrefix(trim, "IPSET_ATTR_ADT")
		}
		if inADT && depth == 3 {
			name, rest, _ := strings.Cut(trim, " ")
			var num uint16
			for k, v := range createAttrNames {
				if v == name {
					num = k
				}
			}
			if n, ok := adtAttrNames[num]; ok && num != 0 {
				l = strings.Repeat("  ", depth) + n + " " + rest
				l = strings.TrimSuffix(l, " ")
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
