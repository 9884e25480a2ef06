#!/bin/bash
# IPv6 transfers: an all-IPv6 session (-M / -P IPv6 multicast), a receiver
# joined to IPv4 and IPv6 public addresses at once (-M list, one dual-stack
# socket) taking an IPv4 and an IPv6 session, and IPv6 unicast mode.
#
#   ipv6.sh UFTP UFTPD
UFTP=${1:?usage: ipv6.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=ipv6
. "$(dirname "$0")/common.sh"

netns_lan lan 3
L=$(netns_lan_subnet lan)
make_tree "$NETNS_TMP/src" 3
mkdir -p "$NETNS_TMP/d2" "$NETNS_TMP/d3"
start_uftpd lan2 uftpd2 -M ff15::4:1 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd lan3 uftpd3 -M 230.4.4.1,ff15::4:1 -D "$NETNS_TMP/d3"
p3=$NETNS_LAST_PID

echo "[IPv6 multicast, two receivers]"
run_uftp lan1 uftp1 60 -Y none -R 100000 -s 10 -M ff15::4:1 -P ff15::5:x "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "IPv6 session: exit $UFTP_RC"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d2" "IPv6 receiver 2"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d3" "IPv6 receiver 3 (dual)"
grep -q "REGISTER from client" "$NETNS_TMP/uftp1.log" || fail "no REGISTER logged"

echo "[IPv4 session to the dual-stack receiver]"
mkdir -p "$NETNS_TMP/src4"
head -c 200000 /dev/urandom >"$NETNS_TMP/src4/v4.bin"
run_uftp lan1 uftp2 60 -Y none -R 100000 -s 10 "$NETNS_TMP/src4/v4.bin"
[ "$UFTP_RC" = 0 ] || fail "IPv4 session to the dual-stack receiver: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src4/v4.bin" "$NETNS_TMP/d3/v4.bin" || fail "dual-stack receiver: v4.bin"
[ ! -e "$NETNS_TMP/d2/v4.bin" ] || fail "the IPv6-only receiver took an IPv4 session"

echo "[IPv6 unicast]"
head -c 300000 /dev/urandom >"$NETNS_TMP/src4/u6.bin"
run_uftp lan1 uftp3 60 -Y none -R 100000 -s 10 -M "fd00:$L::2" "$NETNS_TMP/src4/u6.bin"
[ "$UFTP_RC" = 0 ] || fail "IPv6 unicast: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src4/u6.bin" "$NETNS_TMP/d2/u6.bin" || fail "IPv6 unicast: u6.bin"
[ ! -e "$NETNS_TMP/d3/u6.bin" ] || fail "IPv6 unicast reached another host"

stop_uftpd "$p2" uftpd2
stop_uftpd "$p3" uftpd3
finish
