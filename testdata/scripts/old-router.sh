#!/bin/sh
# A router script as older iptables releases accepted it: the negation
# after the option and rule number 0 for the top of a chain. iptables 1.8
# refuses both; fw-save --from-script --fix rewrites them. Written for
# fw's test corpus.

WAN1=ppp0

echo 1 > /proc/sys/net/ipv4/ip_forward

iptables -P FORWARD DROP
iptables -F
iptables -t nat -F

iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A FORWARD -m conntrack --ctstate NEW -i ! $WAN1 -j ACCEPT
iptables -A FORWARD -p tcp --dport ! 25 -o $WAN1 -j ACCEPT
iptables -t nat -A POSTROUTING -o $WAN1 -j MASQUERADE
iptables -I INPUT 0 -i lo -j ACCEPT
