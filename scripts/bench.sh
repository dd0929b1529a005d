#!/bin/sh
# make bench: fw against the reference tools, side by side, one run.
set -eu
go build -o bin/genrules ./internal/cmd/genrules
go build -o bin/fwbench ./internal/cmd/fwbench
exec bin/fwbench -bin bin -genrules bin/genrules -services "${BENCH_SERVICES:-1000,10000}" -runs "${BENCH_RUNS:-3}"
