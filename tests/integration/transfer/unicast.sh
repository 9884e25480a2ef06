#!/bin/bash
# Unicast mode (spec §2.1 -M with a unicast address): ANNOUNCE carries no
# addresses, everything goes to the one receiver, which joins nothing;
# with a lossy link; and a -p / -u port pair other than 1044.
#
#   unicast.sh UFTP UFTPD
UFTP=${1:?usage: unicast.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=unicast
. "$(dirname "$0")/common.sh"

netns_lan lan 3
L=$(netns_lan_subnet lan)
make_tree "$NETNS_TMP/src" 4
mkdir -p "$NETNS_TMP/d2" "$NETNS_TMP/d3"
start_uftpd lan2 uftpd2 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd lan3 uftpd3 -D "$NETNS_TMP/d3" -p 2044
p3=$NETNS_LAST_PID
netns_loss_to lan2 5

echo "[unicast to lan2, 5 % loss]"
run_uftp lan1 uftp1 60 -Y none -R 50000 -s 10 -M "10.$L.0.2" "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "unicast session: exit $UFTP_RC"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d2" "unicast receiver"
n=$(find "$NETNS_TMP/d3" -mindepth 1 | wc -l)
[ "$n" = 0 ] || fail "unicast session reached the other receiver"

echo "[unicast to lan3 on port 2044 from source port 3044]"
run_uftp lan1 uftp2 60 -Y none -R 50000 -s 10 -M "10.$L.0.3" -p 2044 -u 3044 "$NETNS_TMP/src/big.bin"
[ "$UFTP_RC" = 0 ] || fail "unicast on port 2044: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src/big.bin" "$NETNS_TMP/d3/big.bin" || fail "port 2044: big.bin"
grep -q "10.$L.0.1:3044" "$NETNS_TMP/uftpd3.log" || fail "the session did not come from port 3044"

stop_uftpd "$p2" uftpd2
stop_uftpd "$p3" uftpd3
finish
