#!/bin/sh
# Installs the reference tools the tests compare against (Debian packages
# iptables, nftables and ipset, which the set match tests use to create
# sets) when they are missing and this runs as root.
set -e
missing=""
for t in iptables-legacy-restore iptables-legacy-save ip6tables-legacy-restore iptables-nft-restore nft ipset ip systemd-analyze; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing$missing; install the Debian packages iptables, nftables, ipset, iproute2 and systemd (kernel tests will skip)" >&2
	exit 0
fi
echo "deps: installing iptables nftables ipset iproute2 systemd (missing:$missing)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq iptables nftables ipset iproute2 systemd >/dev/null
