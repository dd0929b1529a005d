// Package archtest holds the dependency rules of docs/ARCHITECTURE.md as a
// test, so that a wrong import fails CI instead of eroding the design.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/fwkit/fw/"

// allowed lists, per package, the packages of this module it may import
// directly. Third-party imports are checked separately.
var allowed = map[string][]string{
	"table":               {},
	"table/ext":           {"table", "internal/xtbin"},
	"table/diff":          {"table", "internal/myers"},
	"format":              {"table"},
	"internal/xtbin":      {},
	"kernel":              {"table"},
	"kernel/kerneltest":   {"kernel", "table"},
	"conformance":         {"table"},
	"internal/cliutil":    {"table", "kernel", "internal/ops", "internal/confirm"},
	"internal/ops":        {"table", "table/diff", "format", "kernel", "internal/confirm"},
	"internal/fakekernel": {"kernel", "table"},
	"internal/backends":   {"kernel", "kernel/legacy", "kernel/nft", "table"},
	"internal/fromscript": {"format", "table"},
	"internal/confirm":    {},
	"kernel/nft":          {"kernel", "table", "internal/myers"},
	"kernel/legacy":       {"kernel", "table", "internal/xtbin"},
	"internal/genrules":   {},
	"internal/myers":      {},
	"ipset":               {"table"},
	"ipset/wire":          {"ipset"},
	"ipset/kernel":        {"ipset", "ipset/wire", "table", "table/ext"},
}

// stdlibOnly are the packages that may import nothing from outside the
// standard library and this module. One exception: table/ext talks to
// ipset over a socket to turn set names into the indexes the kernel
// stores.
var stdlibOnly = map[string]bool{"table": true, "table/ext": true, "format": true, "internal/xtbin": true, "internal/genrules": true, "internal/myers": true, "ipset": true, "ipset/wire": true}

func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "github.com/fwkit/fw/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		ok, known := allowed[rel]
		if !known {
			if strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "internal/archtest") || strings.HasPrefix(rel, "internal/cmd/") {
				continue
			}
			t.Errorf("package %s has no entry in the architecture rules", rel)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				if strings.Contains(imp, ".") && stdlibOnly[rel] && !(rel == "table/ext" && imp == "golang.org/x/sys/unix") {
					t.Errorf("%s imports third-party %s", rel, imp)
				}
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			found := false
			for _, a := range ok {
				found = found || a == dep
			}
			if !found {
				t.Errorf("%s may not import %s", rel, dep)
			}
		}
	}
}
