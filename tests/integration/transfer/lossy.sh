#!/bin/bash
# Issue 3, test 1: one sender and four receivers 50 ms away (wanrelay
# between two bridges), 10 % independent loss towards and from every
# receiver (nftables), a tree with a 50 MiB file, an empty file, an empty
# dir, nested dirs and symlinks: every copy identical (sha256, mtimes,
# link targets), every process exits cleanly.
#
#   lossy.sh UFTP UFTPD
UFTP=${1:?usage: lossy.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=lossy
. "$(dirname "$0")/common.sh"

MB=${LOSSY_MB:-50}
netns_bridge wan
netns_bridge lan
netns_add snd
netns_link snd wan eth0 10.77.0.1/24
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.77.0.1$i/24"
done
netns_relay_link wan lan --delay 50
for i in 1 2 3 4; do
    netns_loss_to "r$i" 10
    netns_loss_from "r$i" 10
done

make_tree "$NETNS_TMP/src" "$MB"
pids=()
for i in 1 2 3 4; do
    mkdir -p "$NETNS_TMP/d$i"
    start_uftpd "r$i" "uftpd$i" -D "$NETNS_TMP/d$i"
    pids+=("$NETNS_LAST_PID")
done

# A closed group (its announce phase ends once all four registered; an open
# one always takes ROBUST rounds). 10 MB/s: the relay and four receivers
# share two CPUs with the sender.
run_uftp snd uftp 150 -Y none -R 80000 -x 2 -T -H 0x0A4D000B,0x0A4D000C,0x0A4D000D,0x0A4D000E \
    -S "$NETNS_TMP/status" "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "uftp exited $UFTP_RC"
for i in 1 2 3 4; do
    same_tree "$NETNS_TMP/src" "$NETNS_TMP/d$i" "receiver $i"
done
n=$(grep -c "^RESULT;" "$NETNS_TMP/status")
bad=$(grep "^RESULT;" "$NETNS_TMP/status" | grep -vc ";copy;")
[ "$n" -ge 36 ] && [ "$bad" = 0 ] || fail "status file: $n results, $bad not copied"
grep "big.bin" "$NETNS_TMP/status" | sed 's/^/  /'
grep "session .* ended" "$NETNS_TMP/uftp.log" | sed 's/^/  /'
netns_relay_stats "$NETNS_LAST_RELAY" | sed 's/^/  /'
for i in 1 2 3 4; do
    stop_uftpd "${pids[$((i - 1))]}" "uftpd$i"
done
finish
