#!/bin/bash
# Issue 13: a sender and four receivers on one bridge; during the transfer
# the sender's path is blackholed (nftables drops every datagram to and
# from it) 10 s on / 2 s off, three times. With the default timing
# settings (-r, -s, --liveness) every receiver rides the outages out: the
# session ends 0 and every copy is exact (sha256). Before issue 13 both
# sides gave up about 1 s into an outage (exit 9).
#
#   outage.sh UFTP UFTPD
UFTP=${1:?usage: outage.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=outage
. "$(dirname "$0")/common.sh"

MB=${OUTAGE_MB:-8}
# OUTAGE_LIVENESS=1: both sides with --liveness 1 (the old behaviour), to
# see this test fail.
live=()
[ -n "${OUTAGE_LIVENESS:-}" ] && live=(--liveness "$OUTAGE_LIVENESS")
netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.77.0.1/24
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.77.0.1$i/24"
done

make_tree "$NETNS_TMP/src" "$MB"
pids=()
for i in 1 2 3 4; do
    mkdir -p "$NETNS_TMP/d$i"
    start_uftpd "r$i" "uftpd$i" "${live[@]}" -D "$NETNS_TMP/d$i"
    pids+=("$NETNS_LAST_PID")
done

# 2000 Kbps (256 KB/s): the first pass over big.bin takes ~32 s, so the
# outages hit data, the DONEs at the end of the pass and the repairs.
netns_spawn snd "$NETNS_TMP/uftp.log" "$UFTP" "${live[@]}" -R 2000 -x 2 -H \
    0x0A4D000B,0x0A4D000C,0x0A4D000D,0x0A4D000E -S "$NETNS_TMP/status" "$NETNS_TMP/src"/*
upid=$NETNS_LAST_PID
sleep 2
for k in 1 2 3; do
    echo "outage $k: 10 s"
    netns_loss_to snd 100
    netns_loss_from snd 100
    sleep 10
    netns_loss_clear
    sleep 2
done
netns_wait "$upid" 200
rc=$?
[ "$rc" = 0 ] || fail "uftp exited $rc"
for i in 1 2 3 4; do
    same_tree "$NETNS_TMP/src" "$NETNS_TMP/d$i" "receiver $i"
done
grep "big.bin" "$NETNS_TMP/status" | sed 's/^/  /'
grep -h "timed out\|lost\|no response" "$NETNS_TMP"/*.log | sed 's/^/  /'
for i in 1 2 3 4; do
    stop_uftpd "${pids[$((i - 1))]}" "uftpd$i"
done
finish
