#!/usr/bin/env bash
# Runs iptables' own shell tests (iptables/tests/shell of the iptables
# release Debian 12 ships, fetched from Debian's archive, never kept in this
# repository) with fw-save and fw-restore in place of the save and restore
# commands, on both backends. Every other command ($XT_MULTI iptables ...)
# is the installed reference. Only the test directories that concern save
# and restore are run, and of those only the scripts that call them.
#
#   scripts/shelltests.sh [--ref] [--legacy|--nft] [--loops N] [TEST ...]
#
# --ref runs the reference save and restore instead (the baseline);
# TEST is a path below testcases/ such as ipt-restore/0004-restore-race_0.
# Known failures are listed in scripts/shelltests.known with the reason;
# the script fails when any other test fails, or a known one passes
# (unless its reason starts with "flaky:": it may go either way).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=1.8.9
cache=${FW_CACHE:-$top/.cache}/iptables-src
src=$cache/iptables-$version/iptables/tests/shell
dirs="ipt-restore ipt-save iptables ip6tables nft-only chain firewalld-restore"

ref=no backends="legacy nft" loops=1 only=()
while [ $# -gt 0 ]; do
	case $1 in
	--ref) ref=yes ;;
	--legacy) backends=legacy ;;
	--nft) backends=nft ;;
	--loops) loops=$2; shift ;;
	-*) echo "usage: $0 [--ref] [--legacy|--nft] [--loops N] [TEST ...]" >&2; exit 2 ;;
	*) only+=("$1") ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || { echo "shelltests: needs root (each test runs in a network namespace of its own)" >&2; exit 2; }

if [ ! -d "$src" ]; then
	mkdir -p "$cache"
	tarball=iptables_$version.orig.tar.xz
	url=http://deb.debian.org/debian/pool/main/i/iptables/$tarball
	if ! curl -sSf -o "$cache/$tarball.part" "$url"; then
		echo "shelltests: cannot fetch $url" >&2
		exit 1
	fi
	mv "$cache/$tarball.part" "$cache/$tarball"
	tar -C "$cache" -xf "$cache/$tarball" "iptables-$version/iptables/tests/shell"
fi

make -s -C "$top" build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The tests tell the backends apart by the name of $XT_MULTI.
for b in legacy nft; do
	mkdir -p "$work/$b"
	w=$work/$b/xtables-$b-multi
	if [ $ref = yes ]; then
		ln -s "$(command -v xtables-$b-multi)" "$w"
		continue
	fi
	cat >"$w" <<EOF
#!/bin/sh
cmd=\$1
shift
case \$cmd in
iptables-save|iptables-$b-save) exec "$top/bin/fw-save" --backend $b "\$@" ;;
ip6tables-save|ip6tables-$b-save) exec "$top/bin/fw-save" --backend $b -6 "\$@" ;;
iptables-restore|iptables-$b-restore) exec "$top/bin/fw-restore" --backend $b "\$@" ;;
ip6tables-restore|ip6tables-$b-restore) exec "$top/bin/fw-restore" --backend $b -6 "\$@" ;;
esac
exec xtables-$b-multi "\$cmd" "\$@"
EOF
	chmod +x "$w"
done

tests=()
if [ ${#only[@]} -gt 0 ]; then
	for t in "${only[@]}"; do tests+=("$src/testcases/$t"); done
else
	for d in $dirs; do
		for t in "$src/testcases/$d"/*_[0-9]*; do
			[ -x "$t" ] || continue
			grep -qE -- '-(save|restore)' "$t" || continue
			tests+=("$t")
		done
	done
fi

known=$top/scripts/shelltests.known
failed=0 passed=0 unexpected=0
for b in $backends; do
	for t in "${tests[@]}"; do
		name=${t#"$src/testcases/"}
		want=${t##*_}
		for ((i = 1; i <= loops; i++)); do
			log=$work/log
			rc=0
			(cd "$(dirname "$t")" && XT_MULTI=$work/$b/xtables-$b-multi XTABLES_LOCKFILE=$work/xtables.lock unshare -n "$t") >"$log" 2>&1 || rc=$?
			why=$(grep -E "^$b $name " "$known" 2>/dev/null | cut -d' ' -f3- || true)
			[ $ref = yes ] && why=""
			if [ "$rc" = "$want" ]; then
				passed=$((passed + 1))
				if [ -n "$why" ] && [ "${why#flaky:}" = "$why" ]; then
					echo "PASS (listed as known failure) $b $name"
					unexpected=$((unexpected + 1))
				fi
			else
				failed=$((failed + 1))
				if [ -n "$why" ]; then
					echo "known $b $name: $why"
				else
					echo "FAIL $b $name (run $i): exit $rc, want $want"
					sed 's/^/    /' "$log" | tail -20
					unexpected=$((unexpected + 1))
				fi
			fi
		done
	done
done
what=fw
[ $ref = yes ] && what=reference
echo "shelltests ($what, $backends, iptables $version): $passed passed, $failed failed, $unexpected unexpected"
[ $unexpected = 0 ]
