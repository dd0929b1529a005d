#!/bin/sh
# A single-host firewall in the style of the BLFS "Personal Firewall":
# everything the host starts may go out, nothing may come in unless it
# answers something the host started. Written for fw's test corpus.

# Connection tracking and the LOG target, in case they are modules.
modprobe nf_conntrack
modprobe xt_LOG

# Kernel hardening that has nothing to do with the packet filter.
echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_broadcasts
echo 0 > /proc/sys/net/ipv4/conf/all/accept_source_route
echo 0 > /proc/sys/net/ipv4/conf/default/accept_source_route
echo 1 > /proc/sys/net/ipv4/tcp_syncookies
echo 0 > /proc/sys/net/ipv4/conf/default/accept_redirects
echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects
echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter
echo 1 > /proc/sys/net/ipv4/conf/default/rp_filter
echo 1 > /proc/sys/net/ipv4/conf/all/log_martians

# Start from a known state: drop by default, and clear whatever an
# earlier run of this script left behind.
iptables -P INPUT   DROP
iptables -P FORWARD DROP
iptables -P OUTPUT  DROP

iptables -F
iptables -X
iptables -Z
iptables -t nat -F

# The loopback interface is trusted.
iptables -A INPUT  -i lo -j ACCEPT

# The host may talk to anyone (the same as an ACCEPT policy on OUTPUT).
iptables -A OUTPUT -j ACCEPT

# Answers to what the host started, and connections related to them
# (an FTP data channel, ICMP errors).
iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT

# Anything else is logged before the policy drops it.
iptables -A INPUT -j LOG --log-prefix "FIREWALL:INPUT "

# End of the personal firewall
