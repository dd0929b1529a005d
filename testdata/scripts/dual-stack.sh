#!/bin/sh
# Both families in one script, as many hand-written firewalls do it: the
# same policy for iptables and ip6tables, ICMPv6 left open for neighbour
# discovery. Written for fw's test corpus.

for ipt in iptables ip6tables; do
	echo "resetting $ipt"
done

iptables -P INPUT DROP
ip6tables -P INPUT DROP
iptables -F
ip6tables -F

iptables -A INPUT -i lo -j ACCEPT
ip6tables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables -A INPUT -s fe80::/10 -p udp --dport 546 -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT

echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
sysctl -w net.ipv6.conf.default.accept_ra=0
