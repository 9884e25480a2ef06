#!/bin/bash
# Several receivers on one host (port 1044 shared, IDs from -U): a sender
# on another host, then a sender on the same host (multicast loopback),
# then two sessions at once into the three daemons.
#
#   samehost.sh UFTP UFTPD
UFTP=${1:?usage: samehost.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=samehost
. "$(dirname "$0")/common.sh"

netns_lan lan 2
make_tree "$NETNS_TMP/src" 3
pids=()
for i in 1 2 3; do
    mkdir -p "$NETNS_TMP/d$i"
    start_uftpd lan2 "uftpd$i" -U "0x0000000$i" -D "$NETNS_TMP/d$i"
    pids+=("$NETNS_LAST_PID")
done

echo "[sender on another host]"
run_uftp lan1 uftp1 60 -Y none -R 100000 -H 0x1,0x2,0x3 "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "remote sender: exit $UFTP_RC"
for i in 1 2 3; do
    same_tree "$NETNS_TMP/src" "$NETNS_TMP/d$i" "receiver $i (remote sender)"
    rm -rf "${NETNS_TMP:?}/d$i"/*
done

echo "[sender on the same host]"
run_uftp lan2 uftp2 60 -Y none -R 100000 -U 0x10 -H 0x1,0x2,0x3 "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "local sender: exit $UFTP_RC"
for i in 1 2 3; do
    same_tree "$NETNS_TMP/src" "$NETNS_TMP/d$i" "receiver $i (local sender)"
done

echo "[two sessions at once]"
mkdir -p "$NETNS_TMP/a" "$NETNS_TMP/b"
head -c 3000000 /dev/urandom >"$NETNS_TMP/a/one.bin"
head -c 2000000 /dev/urandom >"$NETNS_TMP/b/two.bin"
netns_spawn lan1 "$NETNS_TMP/uftp3.log" "$UFTP" -Y none -R 20000 -H 0x1,0x2,0x3 "$NETNS_TMP/a/one.bin"
pa=$NETNS_LAST_PID
netns_spawn lan2 "$NETNS_TMP/uftp4.log" "$UFTP" -Y none -R 20000 -U 0x11 -H 0x1,0x2,0x3 \
    "$NETNS_TMP/b/two.bin"
pb=$NETNS_LAST_PID
netns_wait "$pa" 60 || fail "concurrent sender 1: exit $?"
netns_wait "$pb" 60 || fail "concurrent sender 2: exit $?"
for i in 1 2 3; do
    cmp -s "$NETNS_TMP/a/one.bin" "$NETNS_TMP/d$i/one.bin" || fail "receiver $i: one.bin"
    cmp -s "$NETNS_TMP/b/two.bin" "$NETNS_TMP/d$i/two.bin" || fail "receiver $i: two.bin"
done

for i in 1 2 3; do
    stop_uftpd "${pids[$((i - 1))]}" "uftpd$i"
done
finish
