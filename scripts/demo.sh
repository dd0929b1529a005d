#!/bin/sh
# make demo: the main job in a throwaway network namespace. A real ruleset
# (a Docker host) is restored, saved back, and then changed behind our
# back; fw-diff shows the drift. Nothing outside the namespace is touched.
set -eu
rules=testdata/rulesets/docker.rules
tmp=$(mktemp -d)
ns="fw-demo-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

echo "== fw-save --from $rules: the file as iptables-save would print it"
bin/fw-save --from "$rules" --no-header | tee "$tmp/canonical.rules"

if [ "$(id -u)" != 0 ] || ! command -v iptables-legacy-restore >/dev/null; then
	echo "(not root or no iptables: skipping the namespace part of the demo)"
	exit 0
fi
ip netns add "$ns"
echo
echo "== restore it into namespace $ns and save it back with the reference tools"
ip netns exec "$ns" iptables-legacy-restore < "$rules"
ip netns exec "$ns" iptables-legacy-save | grep -v '^#' > "$tmp/live.rules"
if cmp -s "$tmp/canonical.rules" "$tmp/live.rules"; then
	echo "fw's canonical output and iptables-legacy-save agree byte for byte"
else
	diff -u "$tmp/canonical.rules" "$tmp/live.rules" || true
fi
echo
echo "== someone changes the live ruleset by hand"
set -x
ip netns exec "$ns" iptables-legacy -I DOCKER-USER -s 203.0.113.7 -j DROP
ip netns exec "$ns" iptables-legacy -P FORWARD ACCEPT
ip netns exec "$ns" iptables-legacy -t nat -D DOCKER ! -i docker0 -p tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
set +x
ip netns exec "$ns" iptables-legacy-save > "$tmp/drifted.rules"
echo
echo "== fw-diff $rules <live>: what drifted, by meaning"
status=0
bin/fw-diff --color never "$rules" "$tmp/drifted.rules" || status=$?
echo "(fw-diff exit status $status: 0 same, 1 differ, 2 error)"
