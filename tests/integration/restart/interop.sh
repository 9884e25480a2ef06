#!/bin/bash
# Issue 13, restart interop, both ways.
# A: our `uftp -f` is killed (-9) at ~60 % of a
# file to a UFTP 5.0.1 `uftpd -T`; the receiver times out and keeps its
# restart state; our `uftp -F` resumes the session from the restart file
# our -f kept current: same group, next instance, the 5.0.1 receiver
# answers FILEINFO_ACK with PARTIAL (and COMPLETE for the file it had
# whole), our sender starts at the end of the pass and sends only what the
# receiver NAKs. Checks: exit 0, sha256 exact, restart file removed, and
# prints the resumed session's data bytes against the missing bytes
# (target <= 1.1 x + a fixed overhead) and its time against the time the
# missing bytes need at the rate (target <= 1.2 x).
# B: a 5.0.1 `uftp -f` is interrupted (SIGINT: it aborts the receivers and
# writes its restart file) at ~60 % to our `uftpd -T`, which keeps the
# session's files and block record; 5.0.1 `uftp -F` then resumes: our
# receiver answers PARTIAL and NAKs only what it lacks. Exact copies.
#
#   interop.sh UFTP UFTPD
UFTP=${1:?usage: interop.sh UFTP UFTPD} UFTPD=${2:?}
REF=${UFTP_REF_BIN:-${UFTP_REF_DIR:-}}
if [ -z "$REF" ] || [ ! -x "$REF/uftp" ] || [ ! -x "$REF/uftpd" ] || [ ! -x "$REF/uftp_keymgt" ]; then
    echo "SKIP: set UFTP_REF_BIN to a directory with a UFTP 5.0.1 uftp and uftpd"
    exit 77
fi
REF=$(readlink -f "$REF")
TEST_TAG=rsinterop
. "$(dirname "$0")/../transfer/common.sh"

MB=${RESTART_MB:-24}
RATE=${RESTART_RATE:-40000} # Kbps: 5 MiB/s
SID=0x11000001 RID=0x22000002
netns_lan lan 2
mkdir -p "$NETNS_TMP/src" "$NETNS_TMP/tref" "$NETNS_TMP/dref"
head -c 300001 /dev/urandom >"$NETNS_TMP/src/first.bin"
head -c $((MB * 1048576)) /dev/urandom >"$NETNS_TMP/src/big.bin"
SIZE=$((MB * 1048576))

netns_spawn lan2 "$NETNS_TMP/refd.log" "$REF/uftpd" -d -x 3 -U $RID -D "$NETNS_TMP/dref" \
    -T "$NETNS_TMP/tref"
RPID=$NETNS_LAST_PID
sleep 0.3

RS=$NETNS_TMP/restart.txt
netns_spawn lan1 "$NETNS_TMP/s1.log" "$UFTP" -x 2 -U $SID -R "$RATE" -H $RID \
    --restart-file "$RS" "$NETNS_TMP/src/first.bin" "$NETNS_TMP/src/big.bin"
SPID=$NETNS_LAST_PID
netns_wait_file "$RS" 10 || fail "no restart file at the start"
# kill -9 at ~60 % of big.bin as the receiver has it (its temp file grows as it writes).
at=0
for ((i = 0; i < 600; i++)); do
    f=$(find "$NETNS_TMP/tref" -name big.bin 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then
        at=$(stat -c %s "$f")
        [ "$at" -ge $((SIZE * 6 / 10)) ] && break
    fi
    sleep 0.05
done
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
echo "  uftp killed with big.bin at $at of $SIZE bytes at the receiver"
[ "$at" -ge $((SIZE / 2)) ] && [ "$at" -lt "$SIZE" ] || fail "kill point $at not mid-file"
grep -q "^end$" "$RS" || fail "restart file incomplete after kill -9"
sed 's/^/    /' "$RS"
# The 5.0.1 receiver gives up (ROBUST x GRTT) and keeps its restart state.
for ((i = 0; i < 200; i++)); do
    grep -q "Transfer timed out" "$NETNS_TMP/refd.log" && break
    sleep 0.1
done
grep -q "Transfer timed out" "$NETNS_TMP/refd.log" || fail "5.0.1 uftpd did not time out"
sleep 0.5

t0=$(date +%s.%N)
netns_spawn lan1 "$NETNS_TMP/s2.log" "$UFTP" -x 2 -U $SID -R "$RATE" -F "$RS"
netns_wait "$NETNS_LAST_PID" 120
rc=$?
t1=$(date +%s.%N)
[ "$rc" = 0 ] || fail "uftp -F exited $rc"
grep -q "instance 1" "$NETNS_TMP/s2.log" || fail "not the next instance"
[ -e "$RS" ] && fail "restart file still there after every receiver got every file"
for f in first.bin big.bin; do
    cmp -s "$NETNS_TMP/src/$f" "$NETNS_TMP/dref/$f" || fail "$f differs at the 5.0.1 receiver"
done
grep -q "PARTIAL\|partial\|restart" "$NETNS_TMP/refd.log" && grep -i "restart" "$NETNS_TMP/refd.log" | tail -n 3 | sed 's/^/    /'
line=$(grep "ended (exit" "$NETNS_TMP/s2.log")
echo "  $line"
sent=$(sed -n 's/.* (\([0-9]*\) bytes) of data.*/\1/p' <<<"$line")
naks=$(sed -n 's/.* \([0-9]*\) NAKs$/\1/p' <<<"$line")
missing=$((SIZE - at))
awk -v s="$sent" -v n="$naks" -v m="$missing" -v t0="$t0" -v t1="$t1" -v r="$RATE" 'BEGIN {
    need = m / (r * 1024 / 8);
    printf "  resumed: %d data bytes; missing at the kill (receiver file size): %d bytes; NAKed blocks: %d (x1300 = %d)\n", s, m, n, n * 1300;
    printf "  ratio sent / missing: %.3f (target <= 1.1 + overhead); sent / NAKed: %.3f\n", s / m, (n > 0 ? s / (n * 1300) : 0);
    printf "  resumed session %.2f s; the missing bytes need %.2f s at %d Kbps: ratio %.2f (target <= 1.2, plus setup)\n", t1 - t0, need, r, (t1 - t0) / need;
}'
[ -n "$sent" ] && [ "$sent" -lt "$SIZE" ] || fail "resumed session sent $sent bytes: the whole file again?"
netns_stop "$RPID"

# ---- 5.0.1 uftp -f, interrupted at ~60 %, then -F, to our uftpd -T ----
echo "5.0.1 uftp -f / -F -> our uftpd -T"
mkdir -p "$NETNS_TMP/tour" "$NETNS_TMP/dour" "$NETNS_TMP/refsnd"
start_uftpd lan2 ourd -U $RID -D "$NETNS_TMP/dour" -T "$NETNS_TMP/tour"
OPID=$NETNS_LAST_PID
cd "$NETNS_TMP/refsnd" || exit 1
# A key of its own: restart state is resumed only by the same server with the same key.
"$REF/uftp_keymgt" -g ec:prime256v1 "$NETNS_TMP/refsnd/key.pem" >/dev/null 2>&1 ||
    fail "cannot make a key with 5.0.1 uftp_keymgt"
netns_spawn lan1 "$NETNS_TMP/r1.log" "$REF/uftp" -x 2 -U $SID -R "$RATE" -H $RID -f \
    -k "$NETNS_TMP/refsnd/key.pem" \
    "$NETNS_TMP/src/first.bin" "$NETNS_TMP/src/big.bin"
SPID=$NETNS_LAST_PID
at=0
for ((i = 0; i < 600; i++)); do
    f=$(find "$NETNS_TMP/tour" -name big.bin 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then
        at=$(stat -c %s "$f")
        [ "$at" -ge $((SIZE * 6 / 10)) ] && break
    fi
    sleep 0.05
done
kill -INT "$SPID"
netns_wait "$SPID" 20
echo "  5.0.1 uftp interrupted with big.bin at $at of $SIZE bytes at our receiver"
rsf=$(ls "$NETNS_TMP/refsnd"/_group_*_restart 2>/dev/null | head -n 1)
[ -n "$rsf" ] || fail "5.0.1 uftp wrote no restart file"
for ((i = 0; i < 100; i++)); do
    grep -q "kept .* for a restart" "$NETNS_TMP/ourd.log" && break
    sleep 0.1
done
grep -q "kept .* for a restart" "$NETNS_TMP/ourd.log" || fail "our uftpd did not keep the session"
ls "$NETNS_TMP/tour" | sed 's/^/    /'
t0=$(date +%s.%N)
netns_spawn lan1 "$NETNS_TMP/r2.log" "$REF/uftp" -x 2 -U $SID -R "$RATE" -F "$rsf" \
    -k "$NETNS_TMP/refsnd/key.pem"
netns_wait "$NETNS_LAST_PID" 120
rc=$?
t1=$(date +%s.%N)
cd - >/dev/null || exit 1
[ "$rc" = 0 ] || fail "5.0.1 uftp -F exited $rc"
for f in first.bin big.bin; do
    cmp -s "$NETNS_TMP/src/$f" "$NETNS_TMP/dour/$f" || fail "$f differs at our receiver"
done
grep -E "resuming|complete from an earlier|kept" "$NETNS_TMP/ourd.log" | sed 's/^/    /'
kept=$(sed -n 's/.*big.bin: resuming, \([0-9]*\) of \([0-9]*\) blocks kept.*/\1 \2/p' "$NETNS_TMP/ourd.log")
[ -n "$kept" ] || fail "our uftpd did not resume big.bin"
read -r kb nb <<<"${kept:-0 1}"
stop_uftpd "$OPID" ourd
new=$(sed -n 's/.*received: \([0-9]*\) new blocks, \([0-9]*\) duplicates.*/\1 \2/p' "$NETNS_TMP/ourd.log" | tail -n 1)
read -r nnew ndup <<<"${new:-0 0}"
awk -v kb="$kb" -v nb="$nb" -v nnew="$nnew" -v ndup="$ndup" -v t0="$t0" -v t1="$t1" -v r="$RATE" -v at="$at" 'BEGIN {
    miss = (nb - kb) * 1300;
    printf "  our uftpd kept %d of %d blocks of big.bin (%d bytes missing; %d at the interruption by file size)\n", kb, nb, miss, 25165824 - at;
    printf "  resumed session %.2f s; the missing bytes need %.2f s at %d Kbps: ratio %.2f\n", t1 - t0, miss / (r * 128), r, (t1 - t0) / (miss / (r * 128));
    printf "  daemon totals over both sessions: %d new blocks, %d duplicates\n", nnew, ndup;
}'
[ "$ndup" -lt $((nb / 20 + 100)) ] 2>/dev/null || fail "our uftpd got $ndup duplicate blocks: the whole file again?"
finish
