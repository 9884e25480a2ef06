#!/bin/bash
# uftpd's ways of writing (receiver/store.h): the default (unnamed temp
# files linked in when complete), -t (visible NAME.~uftp-GROUP-FILE temp
# files), -T (a session temp dir moved into place at the end); a complete
# session leaves exactly the sent tree, and a session interrupted in the
# middle of a file leaves no partial file at its name, no temp file, an
# older version of the file intact, and with -T only the session's temp dir
# and its restart record (issue 13).
#
#   tempmodes.sh UFTP UFTPD
UFTP=${1:?usage: tempmodes.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=tempmodes
. "$(dirname "$0")/common.sh"

netns_lan lan 4
make_tree "$NETNS_TMP/src" 2
mkdir -p "$NETNS_TMP/d2" "$NETNS_TMP/d3" "$NETNS_TMP/d4" "$NETNS_TMP/tmp4"
start_uftpd lan2 uftpd2 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd lan3 uftpd3 -D "$NETNS_TMP/d3" -t
p3=$NETNS_LAST_PID
start_uftpd lan4 uftpd4 -D "$NETNS_TMP/d4" -T "$NETNS_TMP/tmp4"
p4=$NETNS_LAST_PID

echo "[complete session: default, -t, -T]"
run_uftp lan1 uftp1 60 -Y none -R 100000 -s 10 "$NETNS_TMP/src"/*
[ "$UFTP_RC" = 0 ] || fail "session: exit $UFTP_RC"
for i in 2 3 4; do
    same_tree "$NETNS_TMP/src" "$NETNS_TMP/d$i" "receiver $i"
done
n=$(find "$NETNS_TMP/tmp4" -mindepth 1 | wc -l)
[ "$n" = 0 ] || fail "-T: $n entries left in the temp dir"
grep -q "moved .* into" "$NETNS_TMP/uftpd4.log" || fail "-T: no move logged"

echo "[interrupted session]"
# An old version at the final name must survive a failed update.
for i in 2 3; do
    echo "old version" >"$NETNS_TMP/d$i/slow.bin"
done
mkdir -p "$NETNS_TMP/src2"
head -c 8000000 /dev/urandom >"$NETNS_TMP/src2/slow.bin"
netns_spawn lan1 "$NETNS_TMP/uftp2.log" "$UFTP" -Y none -R 8000 -s 10 "$NETNS_TMP/src2/slow.bin"
ps=$NETNS_LAST_PID
# Wait until the data flows (-t's temp file shows it), look, then interrupt.
for ((k = 0; k < 200; k++)); do
    ls -A "$NETNS_TMP/d3" | grep -q '\.~uftp-' && break
    sleep 0.05
done
sleep 0.5
ls -A "$NETNS_TMP/d3" | grep -q '\.~uftp-' || fail "-t: no visible temp file during the transfer"
ls -A "$NETNS_TMP/d2" | grep -q '\.~uftp-' && fail "default mode: a named temp file is visible"
find "$NETNS_TMP/tmp4" -name 'slow.bin' | grep -q . || fail "-T: the file is not being received in the temp dir"
[ ! -e "$NETNS_TMP/d4/slow.bin" ] || fail "-T: slow.bin in the destination before the end"
kill -INT "$ps"
netns_wait "$ps" 20
rc=$?
[ "$rc" = 6 ] || fail "interrupted uftp: exit $rc, expected 6"
sleep 1
for i in 2 3; do
    [ "$(cat "$NETNS_TMP/d$i/slow.bin")" = "old version" ] || fail "receiver $i: old slow.bin not intact"
    n=$(find "$NETNS_TMP/d$i" -name '.~uftp-*' | wc -l)
    [ "$n" = 0 ] || fail "receiver $i: $n temp files left"
done
[ ! -e "$NETNS_TMP/d4/slow.bin" ] || fail "-T: partial slow.bin moved into the destination"
# Issue 13: -T keeps the failed session for a restart: its dir with the
# partial file, and the record naming it (uftpd --restart-keep), nothing else.
n=$(find "$NETNS_TMP/tmp4" -mindepth 1 | wc -l)
[ "$n" = 3 ] || fail "-T: $n entries in the temp dir after the abort, expected 3 (dir, slow.bin, record)"
ls "$NETNS_TMP/tmp4"/_group_*_*_*/slow.bin >/dev/null 2>&1 || fail "-T: partial slow.bin not kept"
grep -q "^file slow.bin 8000000 " "$NETNS_TMP/tmp4"/_group_*.restart 2>/dev/null ||
    fail "-T: no restart record naming slow.bin"
grep -qi "abort" "$NETNS_TMP/uftpd2.log" || fail "receiver 2 logged no abort"

stop_uftpd "$p2" uftpd2
stop_uftpd "$p3" uftpd3
stop_uftpd "$p4" uftpd4
finish
