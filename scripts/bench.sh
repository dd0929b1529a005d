#!/bin/sh
# make bench: fw against the reference tools, side by side, on generated
# rulesets of about 1k, 10k and 100k+ lines, in a throwaway network
# namespace. Markdown on stdout, progress on stderr. The environment
# selects what runs (read by fwbench itself):
#   BENCH_SERVICES  service counts, about 12 lines each (default 100,1000,10000)
#   BENCH_RUNS      runs per figure, the median is reported (default 3)
#   BENCH_ROWS      regexp over row ids (parse, legacy-restore, legacy-save,
#                   nft-restore, nft-save, diff, nft-incremental, nft-incremental-cold,
#                   nft-noflush, nft-noflush-cold,
#                   legacy-reapply)
# make bench has built bin/ already; fwbench generates the rulesets itself.
set -eu
go build -o bin/fwbench ./internal/cmd/fwbench
exec bin/fwbench -bin bin "$@"
