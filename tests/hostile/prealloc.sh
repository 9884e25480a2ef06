#!/bin/bash
# Issue 14 item 7: disk reserved as data arrives, not for a claimed size.
#
# One forged FILEINFO (about 70 bytes, after an ANNOUNCE) declares a 1 GiB
# file; uftpd (-t: a visible temp file) opens it. 5.0.1 and main reserve
# the whole declared size at once (fallocate). Figure: the space the temp
# file holds before any data arrived (target: at most --preallocate,
# 16 MiB by default).
#
#   prealloc.sh UFTPD HOSTILE_FORGE
UFTPD=${1:?usage: prealloc.sh UFTPD HOSTILE_FORGE} FORGE=${2:?}
TEST_TAG=hpre
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 2
RIP=$(netns_ip4 lan2)
cid=$(printf '%02X%02X%02X%02X' $(echo "$RIP" | tr . ' '))
D=$NETNS_TMP/dest
mkdir -p "$D"
start_daemon lan2 uftpd "$UFTPD" -D "$D" -t
pid=$NETNS_LAST_PID
forge lan1 --to "$RIP:1044" --group 5EED0007 announce --grtt 50
sleep 0.2
forge lan1 --to "$RIP:1044" --group 5EED0007 fileinfo --client "$cid" --name claimed.bin \
    --size 1073741824 --seq 1
fibytes=$FORGED_BYTES
sleep 0.5
tmp=$(ls "$D"/claimed.bin.~uftp-* 2>/dev/null | head -n1)
if [ -z "$tmp" ]; then
    fail "no temp file (the FILEINFO was refused?)"
    held=0
else
    held=$(($(stat -c %b "$tmp") * $(stat -c %B "$tmp")))
fi
figure "a $fibytes-byte FILEINFO declaring 1 GiB: $((held / 1048576)) MiB reserved on disk"
[ "$held" -le $((16 * 1048576)) ] || fail "$held bytes reserved for a file of which nothing arrived"
stop_daemon "$pid" uftpd
[ -z "$(ls "$D")" ] || fail "something was left in the destination: $(ls "$D")"
finish
