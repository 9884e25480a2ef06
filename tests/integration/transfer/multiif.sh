#!/bin/bash
# A receiver with two interfaces on two LANs (spec §2.2 -I): by default it
# joins on every multicast interface and takes sessions from both LANs;
# with -I it joins only where told (by name or by address), and its ID
# comes from the first -I interface.
#
#   multiif.sh UFTP UFTPD
UFTP=${1:?usage: multiif.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=multiif
. "$(dirname "$0")/common.sh"

netns_bridge lana
netns_bridge lanb
netns_add sa
netns_link sa lana eth0 10.81.0.1/24
netns_add sb
netns_link sb lanb eth0 10.82.0.1/24
netns_add rx
netns_link rx lana eth0 10.81.0.2/24
netns_link rx lanb eth1 10.82.0.2/24
mkdir -p "$NETNS_TMP/src" "$NETNS_TMP/all" "$NETNS_TMP/one"
head -c 500000 /dev/urandom >"$NETNS_TMP/src/a.bin"
head -c 400000 /dev/urandom >"$NETNS_TMP/src/b.bin"

echo "[default: every interface]"
start_uftpd rx all -D "$NETNS_TMP/all"
p=$NETNS_LAST_PID
grep -q "2 interfaces" "$NETNS_TMP/all.log" || fail "default: not joined on both interfaces"
run_uftp sa uftp1 60 -Y none -R 100000 -H 0x0A510002 "$NETNS_TMP/src/a.bin"
[ "$UFTP_RC" = 0 ] || fail "from LAN a: exit $UFTP_RC"
run_uftp sb uftp2 60 -Y none -R 100000 -H 0x0A510002 "$NETNS_TMP/src/b.bin"
[ "$UFTP_RC" = 0 ] || fail "from LAN b: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src/a.bin" "$NETNS_TMP/all/a.bin" || fail "default: a.bin"
cmp -s "$NETNS_TMP/src/b.bin" "$NETNS_TMP/all/b.bin" || fail "default: b.bin"
stop_uftpd "$p" all

echo "[-I 10.82.0.2: LAN b only, ID from that interface]"
start_uftpd rx one -I 10.82.0.2 -D "$NETNS_TMP/one"
p=$NETNS_LAST_PID
grep -q "ID 0x0A520002, 1 interface" "$NETNS_TMP/one.log" || fail "-I: wrong ID or interface count"
run_uftp sb uftp3 60 -Y none -R 100000 -H 0x0A520002 "$NETNS_TMP/src/b.bin"
[ "$UFTP_RC" = 0 ] || fail "-I, from LAN b: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src/b.bin" "$NETNS_TMP/one/b.bin" || fail "-I: b.bin"
run_uftp sa uftp4 60 -Y none -R 100000 -s 10 -r 0.05 "$NETNS_TMP/src/a.bin"
[ "$UFTP_RC" = 7 ] || fail "-I, from LAN a: exit $UFTP_RC, expected 7 (nobody joined there)"
[ ! -e "$NETNS_TMP/one/a.bin" ] || fail "-I: a.bin arrived through the other interface"
stop_uftpd "$p" one
finish
