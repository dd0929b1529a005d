#!/bin/sh
# make demo: the main job in a throwaway network namespace. A real ruleset
# (a Docker host) is restored with fw-restore, saved back with fw-save and
# checked against iptables-save; then someone changes the live ruleset by
# hand and fw-diff shows the drift. Nothing outside the namespace is
# touched.
set -eu
rules=testdata/rulesets/docker.rules
tmp=$(mktemp -d)
ns="fw-demo-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

echo "== fw-save --from $rules: the file as iptables-save would print it"
bin/fw-save --from "$rules" --no-header | tee "$tmp/canonical.rules"

if [ "$(id -u)" != 0 ] || ! command -v iptables-legacy-save >/dev/null; then
	echo "(not root or no iptables: skipping the kernel part of the demo)"
	exit 0
fi
export FW_BACKEND=legacy
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
echo
echo "== fw-restore $rules into namespace $ns, then fw-save"
in_ns bin/fw-restore -v "$rules"
in_ns bin/fw-save --no-header > "$tmp/saved.rules"
in_ns iptables-legacy-save | grep -v '^#' > "$tmp/reference.rules"
if cmp -s "$tmp/saved.rules" "$tmp/reference.rules"; then
	echo "fw-save and iptables-legacy-save print the same, byte for byte ($(wc -l < "$tmp/saved.rules") lines)"
else
	diff -u "$tmp/reference.rules" "$tmp/saved.rules" || true
fi
in_ns bin/fw-diff "$rules" && echo "fw-diff $rules against the kernel: no drift"
echo
echo "== someone changes the live ruleset by hand"
set -x
in_ns iptables-legacy -I DOCKER-USER -s 203.0.113.7 -j DROP
in_ns iptables-legacy -P FORWARD ACCEPT
in_ns iptables-legacy -t nat -D DOCKER ! -i docker0 -p tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
set +x
echo
echo "== fw-diff $rules: what drifted from the file, by meaning"
status=0
in_ns bin/fw-diff --color never "$rules" || status=$?
echo "(fw-diff exit status $status: 0 same, 1 differ, 2 error)"
