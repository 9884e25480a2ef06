#!/bin/bash
# Issue 13: restart through our uftpproxyd, real processes in namespaces.
# Four receivers with -T; `kill -9` of uftp -f at ~60 % of big.bin, then
# `uftp -F` through the same proxy (it stays up: its sessions of the dead
# sender wait out --liveness, the restarted instance is a new session):
#   1. through a client proxy, as tunnel.sh (wan: sender, server proxy; mid:
#      server proxy, client proxy; lan: client proxy, receivers; disjoint
#      networks, no IP forwarding), AES-256-GCM: the client proxy holds the
#      receivers' keys, so they resume for its key fingerprint;
#   2. response proxy (one LAN: the sender multicasts to the receivers, they
#      answer the proxy alone, which aggregates FILEINFO_ACK PARTIAL and the
#      NAK maps), AES-256-GCM.
# Each: exit 0, every copy sha256-exact, no partial or temp file left, the
# restart file removed, every receiver resumed big.bin; printed: the resumed
# session's data + parity bytes against the bytes the receivers missed, and
# its time against the time those bytes need at the rate (-R).
#
#   proxy.sh UFTP UFTPD UFTPPROXYD   (RSPROXY_MB: big.bin's size, default 24;
#                                     RSPROXY_RATE: -R, default 40000)
UFTP=${1:?usage: proxy.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=rsproxy
unset UFTP_REF_DIR # ours at every end: proxy/common.sh would swap in the reference
. "$(dirname "$0")/../proxy/common.sh"

MB=${RSPROXY_MB:-24}
RATE=${RSPROXY_RATE:-40000} # Kbps: 5 MiB/s
SIZE=$((MB * 1048576))
mkdir -p "$NETNS_TMP/src"
head -c $SIZE /dev/urandom >"$NETNS_TMP/src/big.bin"
head -c 70001 /dev/urandom >"$NETNS_TMP/src/small.bin"
make_key "$NETNS_TMP/snd.key"

# 1: wan 10.93.1.0/24 (snd .1, sp .2), mid 10.93.2.0/24 (sp .2, cp .3),
#    lan 10.93.4.0/24 (cp .3, c1..c4 .11-.14)
netns_tunnel 10.93 snd sp cp lan 4
cids=""
for i in 1 2 3 4; do
    netns_add "c$i"
    netns_link "c$i" lan eth0 "10.93.4.1$i/24"
    cids+="${cids:+,}$(id_of "10.93.4.1$i")"
done
netns_exec snd ping -c1 -W1 10.93.4.11 >/dev/null 2>&1 && fail "sender reaches a receiver directly"
# 2: flat 10.93.3.0/24 (snd2 .1, rp .2, r1..r4 .11-.14)
netns_bridge flat
netns_add snd2
netns_link snd2 flat eth0 10.93.3.1/24
netns_add rp
netns_link rp flat eth0 10.93.3.2/24
rids=""
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" flat eth0 "10.93.3.1$i/24"
    rids+="${rids:+,}$(id_of "10.93.3.1$i")"
done

# kill_at SPID TEMPDIR: kill -9 the sender once TEMPDIR holds 60 % of big.bin.
kill_at() {
    local spid=$1 t=$2 f at=0 k
    for ((k = 0; k < 3000; k++)); do
        f=$(find "$t" -name big.bin 2>/dev/null | head -n 1)
        if [ -n "$f" ]; then
            at=$(stat -c %s "$f")
            [ "$at" -ge $((SIZE * 6 / 10)) ] && break
        fi
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.02
    done
    kill -9 "$spid" 2>/dev/null || fail "the sender ended before the kill point ($at bytes)"
    wait "$spid" 2>/dev/null
    echo "  uftp killed (-9) with big.bin at $at of $SIZE bytes at the first receiver"
}

# check NAME HOSTPREFIX: copies exact, nothing stray, every receiver resumed;
# then the figures of the resumed session (log NAME-F.log, timed RT0..RT1).
check() {
    local name=$1 h=$2 i f n line sent par miss
    for i in 1 2 3 4; do
        for f in big.bin small.bin; do
            cmp -s "$NETNS_TMP/src/$f" "$NETNS_TMP/d-$h$i/$f" || fail "$name: receiver $h$i: $f differs"
        done
        n=$(find "$NETNS_TMP/d-$h$i" "$NETNS_TMP/t-$h$i" -mindepth 1 ! -name big.bin ! -name small.bin | wc -l)
        [ "$n" = 0 ] || fail "$name: receiver $h$i: $n stray entries: $(find "$NETNS_TMP/t-$h$i" -mindepth 1 | head -n 3)"
        grep -q "big.bin: resuming, [0-9]* of [0-9]* blocks kept" "$NETNS_TMP/$h$i-$name.log" ||
            fail "$name: receiver $h$i did not resume big.bin"
    done
    [ -e "$NETNS_TMP/rs-$name" ] && fail "$name: restart file still there"
    line=$(grep "ended (exit" "$NETNS_TMP/$name-F.log")
    sent=$(sed -n 's/.* (\([0-9]*\) bytes) of data.*/\1/p' <<<"$line")
    par=$(sed -n 's/.* \([0-9]*\) FEC_PARITY sent.*/\1/p' "$NETNS_TMP/$name-F.log")
    # What the receivers lacked when the resumed session reopened big.bin: the
    # sender owes the union, about the worst-off receiver's share.
    miss=$(cat "$NETNS_TMP"/"$h"?-"$name".log | sed -n 's/.*big.bin: resuming, \([0-9]*\) of [0-9]* blocks kept.*/\1/p' |
        awk -v sz="$SIZE" '{ m = sz - $1 * 1300; if (m > x) x = m } END { print x + 0 }')
    [ -n "$sent" ] && [ "$sent" -lt "$SIZE" ] || fail "$name: resumed session sent ${sent:-?} data bytes of $SIZE"
    awk -v s="${sent:-0}" -v p="${par:-0}" -v m="$miss" -v t0="$RT0" -v t1="$RT1" -v r="$RATE" -v w="$name" 'BEGIN {
        need = m / (r * 128);
        if (m == 0) m = 1;
        printf "  %s: resumed session sent %d data + %d parity bytes for %d missing: %.3f (target <= 1.1 + overhead)\n", w, s, p * 1300, m, (s + p * 1300) / m;
        printf "  %s: %.2f s; the missing bytes need %.2f s at %d Kbps: ratio %.2f (target <= 1.2)\n", w, t1 - t0, need, r, (t1 - t0) / need;
    }'
    sed 's/^[0-9/]* [0-9:.]* uftp: /    /' <<<"$line"
    # A resumed session sends what is missing, never what the receivers kept
    # again: at most 1.5 x (repairs of a lossy pass on a loaded host) + 64 blocks.
    [ -n "$sent" ] && [ "$((sent + ${par:-0} * 1300))" -le $((miss + miss / 2 + 64 * 1300)) ] ||
        fail "$name: resumed session sent $sent bytes + ${par:-0} parity blocks for $miss missing"
}

# run NAME SNDHOST HOSTPREFIX IDS FIRSTTEMP [uftp args]: the killed session and the resumed one.
run() {
    local name=$1 host=$2 h=$3 ids=$4 t=$5 rc
    shift 5
    netns_spawn "$host" "$NETNS_TMP/$name-f.log" "$UFTP" -x 2 -T -R "$RATE" -k "$NETNS_TMP/snd.key" \
        -H "$ids" "$@" --restart-file "$NETNS_TMP/rs-$name" "$NETNS_TMP/src/small.bin" \
        "$NETNS_TMP/src/big.bin"
    local spid=$NETNS_LAST_PID
    netns_wait_file "$NETNS_TMP/rs-$name" 10 || fail "$name: no restart file at the start"
    kill_at "$spid" "$t"
    grep -q "^end$" "$NETNS_TMP/rs-$name" || fail "$name: restart file incomplete after kill -9"
    RT0=$(date +%s.%N)
    netns_spawn "$host" "$NETNS_TMP/$name-F.log" "$UFTP" -x 2 -T -R "$RATE" -k "$NETNS_TMP/snd.key" \
        "$@" -F "$NETNS_TMP/rs-$name"
    netns_wait "$NETNS_LAST_PID" 60
    rc=$?
    RT1=$(date +%s.%N)
    [ "$rc" = 0 ] || fail "$name: uftp -F exited $rc"
    grep -h "superseded\|resuming" "$NETNS_TMP"/"$h"1-"$name".log | head -n 3 | sed 's/^/    /'
}

echo "[1: server proxy -> client proxy, encrypted]"
cpid=$(id_of 10.93.2.3) # its first interface's address, as the reference derives it
echo "$cpid" >"$NETNS_TMP/proxies-cp"
echo "$(id_of 10.93.1.1)|10.93.1.1|$cpid" >"$NETNS_TMP/servers-cp"
start_proxy sp sp -s 10.93.2.3
start_proxy cp cp -c -O eth1
for i in 1 2 3 4; do
    mkdir -p "$NETNS_TMP/d-c$i" "$NETNS_TMP/t-c$i"
    start_uftpd "c$i" "c$i-cp" -D "$NETNS_TMP/d-c$i" -T "$NETNS_TMP/t-c$i" -S "$NETNS_TMP/servers-cp"
done
run cp snd c "$cids" "$NETNS_TMP/t-c1" -Y aes256-gcm -j "$NETNS_TMP/proxies-cp"
check cp c
stop_all

echo "[2: response proxy, encrypted]"
rpid=$(id_of 10.93.3.2)
echo "$rpid" >"$NETNS_TMP/proxies-rp"
echo "$(id_of 10.93.3.1)|10.93.3.1|$rpid" >"$NETNS_TMP/servers-rp"
start_proxy rp rp -r
for i in 1 2 3 4; do
    mkdir -p "$NETNS_TMP/d-r$i" "$NETNS_TMP/t-r$i"
    start_uftpd "r$i" "r$i-rp" -D "$NETNS_TMP/d-r$i" -T "$NETNS_TMP/t-r$i" -S "$NETNS_TMP/servers-rp"
done
run rp snd2 r "$rids" "$NETNS_TMP/t-r1" -Y aes256-gcm -j "$NETNS_TMP/proxies-rp"
check rp r
stop_all
finish
