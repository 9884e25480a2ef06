#!/bin/bash
# A full disk: uftpd's destination is an 8 MiB tmpfs. A file larger than
# the free space is refused up front; of two 5 MiB files sent at the same
# time by two senders one is refused: by the free-space check when the
# other's space is already reserved (uftpd fallocates each file when it
# opens it), or when its own reservation or a write runs out of space. The
# one that fails is discarded (no complete-looking corrupt file, no temp
# file), the other is intact, uftpd goes on.
#
#   diskfull.sh UFTP UFTPD
UFTP=${1:?usage: diskfull.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=diskfull
. "$(dirname "$0")/common.sh"

D=$NETNS_TMP/small
mkdir -p "$D"
mount -t tmpfs -o size=8m uftptest "$D" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
cleanup() {
    umount -l "$D" 2>/dev/null
    netns_cleanup
}
trap cleanup EXIT

netns_lan lan 3
L=$(netns_lan_subnet lan)
ID=$(printf '0x0A%02X0003' "$L")
start_uftpd lan3 uftpd -D "$D"
pr=$NETNS_LAST_PID
mkdir -p "$NETNS_TMP/s1" "$NETNS_TMP/s2"

echo "[a file larger than the free space]"
head -c 10000000 /dev/urandom >"$NETNS_TMP/s1/huge.bin"
run_uftp lan1 uftp1 60 -Y none -R 100000 -H "$ID" -S "$NETNS_TMP/status1" "$NETNS_TMP/s1/huge.bin"
grep -q "RESULT;.*huge.bin;.*rejected" "$NETNS_TMP/status1" || fail "huge.bin was not rejected"
[ ! -e "$D/huge.bin" ] || fail "huge.bin exists"
rm -f "$NETNS_TMP/s1/huge.bin"

echo "[two files that fit one at a time, written at once]"
head -c 5000000 /dev/urandom >"$NETNS_TMP/s1/a.bin"
head -c 5000000 /dev/urandom >"$NETNS_TMP/s2/b.bin"
netns_spawn lan1 "$NETNS_TMP/uftp2.log" "$UFTP" -Y none -R 20000 -H "$ID" \
    -S "$NETNS_TMP/status2" "$NETNS_TMP/s1/a.bin"
pa=$NETNS_LAST_PID
netns_spawn lan2 "$NETNS_TMP/uftp3.log" "$UFTP" -Y none -R 20000 -H "$ID" \
    -S "$NETNS_TMP/status3" "$NETNS_TMP/s2/b.bin"
pb=$NETNS_LAST_PID
netns_wait "$pa" 60
netns_wait "$pb" 60
ok=0
for f in a.bin:s1 b.bin:s2; do
    n=${f%%:*} s=${f##*:}
    if [ -e "$D/$n" ]; then
        if cmp -s "$NETNS_TMP/$s/$n" "$D/$n"; then
            ok=$((ok + 1))
        else
            fail "$n is present but corrupt ($(stat -c %s "$D/$n") bytes)"
        fi
    fi
done
[ "$ok" -ge 1 ] || fail "neither file made it"
[ "$ok" -le 1 ] || fail "both files fit: the test did not fill the disk"
cat "$NETNS_TMP/status2" "$NETNS_TMP/status3" | grep RESULT | sed 's/^/  /'
grep -h "No space\|ENOSPC\|space" "$NETNS_TMP/uftpd.log" | head -n 5 | sed 's/^/  log: /'
grep -q "No space left\|out of space\|not enough disk space" "$NETNS_TMP/uftpd.log" ||
    fail "no space failure logged"
n=$(find "$D" -name '.~uftp-*' | wc -l)
[ "$n" = 0 ] || fail "$n temp files left"

echo "[after the failure, space is free again]"
rm -f "$D"/*.bin
run_uftp lan1 uftp4 60 -Y none -R 100000 -H "$ID" "$NETNS_TMP/s1/a.bin"
[ "$UFTP_RC" = 0 ] || fail "session after the failure: exit $UFTP_RC"
cmp -s "$NETNS_TMP/s1/a.bin" "$D/a.bin" || fail "a.bin after the failure"

stop_uftpd "$pr" uftpd
finish
