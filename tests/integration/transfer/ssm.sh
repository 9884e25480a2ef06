#!/bin/bash
# Source-specific multicast (uftpd -o with -S server addresses, spec §2.2):
# the receivers join 232.x groups only from the listed server; a second
# sender, not listed, reaches nobody.
#
#   ssm.sh UFTP UFTPD
UFTP=${1:?usage: ssm.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=ssm
. "$(dirname "$0")/common.sh"

netns_lan lan 4
L=$(netns_lan_subnet lan)
SID=$(printf '0x0A%02X0001' "$L")
printf '%s|10.%s.0.1|0\n' "$SID" "$L" >"$NETNS_TMP/servers"
make_tree "$NETNS_TMP/src" 2
mkdir -p "$NETNS_TMP/d2" "$NETNS_TMP/d3"
start_uftpd lan2 uftpd2 -o -S "$NETNS_TMP/servers" -M 232.4.4.1 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd lan3 uftpd3 -o -S "$NETNS_TMP/servers" -M 232.4.4.1 -D "$NETNS_TMP/d3"
p3=$NETNS_LAST_PID

echo "[SSM from the listed server]"
run_uftp lan1 uftp1 60 -Y none -R 100000 -s 10 -M 232.4.4.1 -P 232.5.5.x "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "SSM session: exit $UFTP_RC"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d2" "SSM receiver 2"
same_tree "$NETNS_TMP/src" "$NETNS_TMP/d3" "SSM receiver 3"

echo "[SSM from an unlisted host: nobody hears it]"
mkdir -p "$NETNS_TMP/src2"
echo other >"$NETNS_TMP/src2/other.txt"
run_uftp lan4 uftp2 60 -Y none -R 100000 -s 10 -r 0.1 -M 232.4.4.1 -P 232.5.5.x \
    "$NETNS_TMP/src2/other.txt"
[ "$UFTP_RC" = 7 ] || fail "unlisted SSM sender: exit $UFTP_RC, expected 7 (no client registered)"
[ ! -e "$NETNS_TMP/d2/other.txt" ] || fail "receiver 2 took a session from an unlisted source"

stop_uftpd "$p2" uftpd2
stop_uftpd "$p3" uftpd3
finish
