#!/bin/bash
# Issue 13: ours to ours, four receivers with -T. Encrypted with a key file
# (-k: restart state is resumed only for the same server key).
#   1. `kill -9` of uftp -f at ~60 % of a big file, `uftp -F` at once (the
#      receivers' old sessions are still waiting out --liveness: the
#      confirmed restart supersedes them);
#   2. the same, with every uftpd also killed (-9) and restarted before -F
#      (the state of the sessions they were running is resumed).
# Each: exit 0, every copy sha256-exact, no partial or temp file anywhere,
# the restart file removed; printed: the resumed session's data bytes
# against the bytes missing at the receivers (target <= 1.1 x + a fixed
# overhead) and its time against the time those bytes need at the rate
# (target <= 1.2 x).
#
#   kill.sh UFTP UFTPD        (KILL_MB: the big file's size, default 64; KILL_RATE:
#                              -R, default 80000; KILL_LOG: the resuming uftp's -x, default 2)
UFTP=${1:?usage: kill.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=rskill
. "$(dirname "$0")/../transfer/common.sh"

MB=${KILL_MB:-64}
RATE=${KILL_RATE:-80000} # Kbps: 10 MiB/s
SIZE=$((MB * 1048576))
N=4
netns_lan lan $((N + 1))
mkdir -p "$NETNS_TMP/src"
head -c $SIZE /dev/urandom >"$NETNS_TMP/src/big.bin"
head -c 70001 /dev/urandom >"$NETNS_TMP/src/small.bin"
ids=""
for ((i = 2; i <= N + 1; i++)); do ids+="${ids:+,}0x0A6400$(printf %02X $i)"; done

pids=()
start_all() {
    pids=()
    for ((i = 2; i <= N + 1; i++)); do
        mkdir -p "$NETNS_TMP/d$i" "$NETNS_TMP/t$i"
        start_uftpd "lan$i" "uftpd$i.$1" -D "$NETNS_TMP/d$i" -T "$NETNS_TMP/t$i"
        pids+=("$NETNS_LAST_PID")
    done
}

# kill_at: kill -9 the sender once receiver 2 holds 60 % of big.bin. Sets
# GOODPUT: the bytes per second receiver 2's copy grew by until then (the
# first session's rate as the receivers saw it: payload only).
kill_at() {
    local spid=$1 f at=0 k t0="" a0=0
    for ((k = 0; k < 2000; k++)); do
        f=$(find "$NETNS_TMP/t2" -name big.bin 2>/dev/null | head -n 1)
        if [ -n "$f" ]; then
            at=$(stat -c %s "$f")
            [ -z "$t0" ] && [ "$at" -gt 0 ] && t0=$(date +%s.%N) a0=$at
            [ "$at" -ge $((SIZE * 6 / 10)) ] && break
        fi
        sleep 0.02
    done
    kill -9 "$spid"
    GOODPUT=$(awk -v a="$at" -v a0="$a0" -v t0="${t0:-0}" -v t1="$(date +%s.%N)" \
        'BEGIN { print (t1 > t0 && a > a0) ? (a - a0) / (t1 - t0) : 0 }')
    wait "$spid" 2>/dev/null
    echo "  uftp killed (-9) with big.bin at $at of $SIZE bytes at receiver 2"
}

# kept_missing TAG: "MAX SUM" bytes of big.bin the receivers lacked when the
# restarted session reopened it ("resuming, K of N blocks kept").
kept_missing() {
    cat "$NETNS_TMP"/uftpd*."$1".log | sed -n 's/.*big.bin: resuming, \([0-9]*\) of \([0-9]*\) blocks kept.*/\1 \2/p' |
        awk -v sz="$SIZE" '{ m = sz - $1 * 1300; s += m; if (m > x) x = m; n++ } END { printf "%d %d %d", x, s, n }'
}

check_all() {
    local what=$1 i
    for ((i = 2; i <= N + 1; i++)); do
        for f in big.bin small.bin; do
            cmp -s "$NETNS_TMP/src/$f" "$NETNS_TMP/d$i/$f" || fail "$what: receiver $i: $f differs"
        done
        n=$(find "$NETNS_TMP/d$i" "$NETNS_TMP/t$i" -mindepth 1 -newer "$NETNS_TMP/src/big.bin" \
            ! -name big.bin ! -name small.bin | wc -l)
        [ "$n" = 0 ] || fail "$what: receiver $i: $n stray entries left: $(find "$NETNS_TMP/t$i" "$NETNS_TMP/d$i" -mindepth 1 | head -n 4)"
    done
    [ -e "$NETNS_TMP/rs" ] && fail "$what: restart file still there"
}

figures() {
    local what=$1 miss=$2 t0=$3 t1=$4 line sent par
    line=$(grep "ended (exit" "$NETNS_TMP/$what.log")
    sent=$(sed -n 's/.* (\([0-9]*\) bytes) of data.*/\1/p' <<<"$line")
    # Parity (issue 17) counts as sent too: blocks of 1300 bytes (-b default).
    par=$(sed -n 's/.* \([0-9]*\) FEC_PARITY sent.*/\1/p' "$NETNS_TMP/$what.log")
    # Multicast: a block missing at several receivers goes once, so the sender
    # owes the union of what they lack; they lost the same stretch, so the
    # union is about the largest receiver's share.
    read -r mx sum nr <<<"$miss"
    [ "${nr:-0}" = "$N" ] || fail "$what: ${nr:-0} of $N receivers resumed big.bin"
    awk -v s="${sent:-0}" -v p="${par:-0}" -v m="${mx:-1}" -v sum="${sum:-0}" -v t0="$t0" -v t1="$t1" -v r="$RATE" -v w="$what" -v g="${GOODPUT:-0}" 'BEGIN {
        need = m / (r * 128);
        printf "  %s: resumed session sent %d data + %d parity bytes; missing at the receivers: %d bytes at most, %d in all\n", w, s, p * 1300, m, sum;
        printf "  %s: sent / missing %.3f (target <= 1.1 + overhead)\n", w, (s + p * 1300) / m;
        printf "  %s: %.2f s; the missing bytes need %.2f s at %d Kbps: ratio %.2f (target <= 1.2), fixed overhead %.2f s\n", w, t1 - t0, need, r, (t1 - t0) / need, (t1 - t0) - need;
        if (g > 0)
            printf "  %s: at the first session\x27s payload rate (%.2f MB/s at receiver 2) they need %.2f s: ratio %.2f\n", w, g / 1e6, m / g, (t1 - t0) / (m / g);
    }'
    [ -n "$sent" ] && [ "$sent" -lt "$SIZE" ] || fail "$what: resumed session sent ${sent:-?} bytes"
}

run_first() { # run_first NAME [uftp args]
    local name=$1
    shift
    netns_spawn lan1 "$NETNS_TMP/$name.log" "$UFTP" -x 2 -R "$RATE" -H "$ids" "$@" \
        --restart-file "$NETNS_TMP/rs" "$NETNS_TMP/src/small.bin" "$NETNS_TMP/src/big.bin"
    netns_wait_file "$NETNS_TMP/rs" 10 || fail "$name: no restart file at the start"
    kill_at "$NETNS_LAST_PID"
    grep -q "^end$" "$NETNS_TMP/rs" || fail "$name: restart file incomplete after kill -9"
}

run_resume() { # run_resume NAME -> sets RT0 RT1
    local name=$1 rc
    RT0=$(date +%s.%N)
    netns_spawn lan1 "$NETNS_TMP/$name.log" "$UFTP" -x "${KILL_LOG:-2}" -T -R "$RATE" -k "$NETNS_TMP/key.pem" \
        -F "$NETNS_TMP/rs"
    netns_wait "$NETNS_LAST_PID" 200
    rc=$?
    RT1=$(date +%s.%N)
    [ "$rc" = 0 ] || fail "$name: uftp -F exited $rc"
    grep -q "resuming\|kept" "$NETNS_TMP"/uftpd*.log || fail "$name: no receiver resumed"
}

clean() {
    for ((i = 2; i <= N + 1; i++)); do rm -rf "${NETNS_TMP:?}/d$i" "${NETNS_TMP:?}/t$i"; done
}

echo "[1: uftp killed at 60 %, -F at once]"
start_all a
run_first s1 -K ec:prime256v1 -k "$NETNS_TMP/key.pem"
run_resume s1r
check_all "1"
figures s1r "$(kept_missing a)" "$RT0" "$RT1"
grep -h "superseded\|resuming" "$NETNS_TMP"/uftpd*.a.log | head -n 4 | sed 's/^/    /'
for ((i = 0; i < N; i++)); do stop_uftpd "${pids[$i]}" "uftpd$((i + 2)).a"; done
clean

echo "[2: uftp and every uftpd killed at 60 %, uftpd restarted, -F]"
start_all b
run_first s2 -k "$NETNS_TMP/key.pem"
for p in "${pids[@]}"; do kill -9 "$p"; wait "$p" 2>/dev/null; done
start_all c
run_resume s2r
check_all "2"
figures s2r "$(kept_missing c)" "$RT0" "$RT1"
grep -h "restartable\|kept for a restart\|resuming" "$NETNS_TMP"/uftpd*.c.log | head -n 4 | sed 's/^/    /'
for ((i = 0; i < N; i++)); do stop_uftpd "${pids[$i]}" "uftpd$((i + 2)).c"; done
finish
