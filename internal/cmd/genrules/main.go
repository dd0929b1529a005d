// Command genrules prints the benchmark ruleset of package genrules.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fwkit/fw/internal/genrules"
)

func main() {
	var o genrules.Options
	flag.IntVar(&o.Services, "services", 10000, "number of services")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.Float64Var(&o.Change, "change", 0, "percentage of services whose endpoints change (0-100)")
	flag.BoolVar(&o.IPv6, "6", false, "IPv6 addresses")
	flag.BoolVar(&o.Partial, "partial", false, "with -change: only what kube-proxy's partial sync restores with --noflush")
	flag.Parse()
	if err := genrules.Write(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "genrules:", err)
		os.Exit(1)
	}
}
