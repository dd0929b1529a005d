#!/bin/sh
# A masquerading router in the style of the BLFS example: the LAN behind
# $LAN_IF reaches the internet through $WAN_IF (a PPP link), sharing its
# address. Written for fw's test corpus.

LAN_IF=eth1
WAN_IF="ppp+"
LAN_NET=192.168.0.0/24
IPT=/sbin/iptables

modprobe nf_conntrack
modprobe iptable_nat

# Routing between the interfaces, with the usual protections.
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 0 > /proc/sys/net/ipv4/conf/all/accept_redirects
echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter
echo 2 > /proc/sys/net/ipv4/ip_dynaddr

$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -P OUTPUT ACCEPT
$IPT -F
$IPT -t nat -F
$IPT -t mangle -F
$IPT -X
$IPT -Z

# The router itself: loopback, the LAN, and answers from outside.
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -i $LAN_IF -s $LAN_NET -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
$IPT -A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/second -j ACCEPT

# Forward new connections only from the LAN side; answers in both
# directions.
$IPT -A FORWARD -m conntrack --ctstate NEW ! -i $WAN_IF -j ACCEPT
$IPT -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT

# A web server on the LAN, reachable from outside.
$IPT -t nat -A PREROUTING -i $WAN_IF -p tcp --dport 80 \
     -j DNAT --to-destination 192.168.0.10:80
$IPT -A FORWARD -i $WAN_IF -d 192.168.0.10 -p tcp --dport 80 -j ACCEPT

# Share the uplink's address.
$IPT -t nat -A POSTROUTING -o $WAN_IF -j MASQUERADE

# PPP links often need a clamped MSS.
$IPT -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

# Log what the policies drop, but not too much of it.
$IPT -A INPUT -m limit --limit 10/minute -j LOG --log-prefix "router:INPUT "
$IPT -A FORWARD -m limit --limit 10/minute -j LOG --log-prefix "router:FORWARD "
