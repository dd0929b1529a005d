#!/bin/sh
# A small server in the style of the BLFS "BusyBox" example: a few
# services open to everyone, ssh only from the admin network, pings
# rate-limited, everything else rejected politely. Written for fw's test
# corpus.

IPT=`which iptables`
ADMIN="10.20.0.0/16"
TCP_OPEN="25 80 443"

set -e

$IPT -P INPUT ACCEPT
$IPT -P OUTPUT ACCEPT
$IPT -F; $IPT -X
$IPT -N services
$IPT -N reject-nicely

# Bookkeeping first: loopback, answers, broken packets.
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate INVALID -j DROP
$IPT -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
$IPT -A INPUT -j services
$IPT -A INPUT -j reject-nicely

for port in $TCP_OPEN; do
	echo "opening $port"
done
$IPT -A services -p tcp -m multiport --dports 25,80,443 -j ACCEPT
$IPT -A services -p tcp --dport 22 -s $ADMIN -j ACCEPT
$IPT -A services -p udp --dport 123 -j ACCEPT
$IPT -A services -p icmp --icmp-type 8 -m limit --limit 2/s --limit-burst 10 -j ACCEPT

# Say no instead of letting the other side time out.
$IPT -A reject-nicely -p tcp -j REJECT --reject-with tcp-reset
$IPT -A reject-nicely -p udp -j REJECT --reject-with icmp-port-unreachable
$IPT -A reject-nicely -j REJECT --reject-with icmp-proto-unreachable

# The chain may exist from an earlier run.
$IPT -N counters 2>/dev/null || true
$IPT -I INPUT 1 -j counters

$IPT -nvL > /dev/null
exit 0
