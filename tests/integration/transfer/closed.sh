#!/bin/bash
# Issue 3, test 2: a closed group (-H) with a member that never shows up.
# As the reference does (spec §1.6, §2.1), the session goes on with the
# members present, which get every file, and exits 0; the status file says
# which member failed to connect. With -q (quit on error) the missing
# member aborts everyone at the end of the announce phase: exit 7 (no
# client registered) and nothing is written anywhere.
#
#   closed.sh UFTP UFTPD
UFTP=${1:?usage: closed.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=closed
. "$(dirname "$0")/common.sh"

netns_lan lan 3
L=$(netns_lan_subnet lan)
ID2=$(printf '0x0A%02X0002' "$L")
ID3=$(printf '0x0A%02X0003' "$L")
GHOST=0x0A0B0C0D
make_tree "$NETNS_TMP/src" 2
mkdir -p "$NETNS_TMP/d2" "$NETNS_TMP/d3"
start_uftpd lan2 uftpd2 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd lan3 uftpd3 -D "$NETNS_TMP/d3"
p3=$NETNS_LAST_PID

echo "[closed group, one member missing]"
run_uftp lan1 uftp1 60 -Y none -R 100000 -H "$ID2,$ID3,$GHOST" -S "$NETNS_TMP/status1" \
    "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "closed group with a missing member: exit $UFTP_RC, expected 0"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d2" "member 2"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d3" "member 3"
grep -q "^CONNECT;failed;$GHOST" "$NETNS_TMP/status1" || fail "no CONNECT;failed line for $GHOST"
grep -q "^CONNECT;success;$ID2" "$NETNS_TMP/status1" || fail "no CONNECT;success line for $ID2"
grep "^CONNECT" "$NETNS_TMP/status1" | sed 's/^/  /'

echo "[closed group, one member missing, -q]"
rm -rf "$NETNS_TMP/d2"/* "$NETNS_TMP/d3"/*
run_uftp lan1 uftp2 60 -Y none -R 100000 -q -H "$ID2,$ID3,$GHOST" "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 7 ] || fail "-q with a missing member: exit $UFTP_RC, expected 7"
sleep 0.5
n=$(find "$NETNS_TMP/d2" "$NETNS_TMP/d3" -mindepth 1 | wc -l)
[ "$n" = 0 ] || fail "-q: $n entries written although the session was aborted"

echo "[closed group, everyone present]"
run_uftp lan1 uftp3 60 -Y none -R 100000 -H "$ID2,$ID3" "$NETNS_TMP/src/big.bin"
[ "$UFTP_RC" = 0 ] || fail "complete closed group: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src/big.bin" "$NETNS_TMP/d2/big.bin" || fail "member 2: big.bin differs"

stop_uftpd "$p2" uftpd2
stop_uftpd "$p3" uftpd3
finish
