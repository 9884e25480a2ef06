#!/bin/bash
# Transfer benchmark (not a test): one sender and N receivers, each in its
# own network namespace on one bridge, send one file unpaced (-R -1,
# unencrypted unless --cipher), and print per receiver the throughput the sender reports
# in its status file (RESULT lines: file size / time from FILEINFO to that
# receiver's COMPLETE), the sender's CPU seconds and wall time, and each
# receiver's peak RSS (GNU time). Other UFTP builds (--ref DIR holding uftp
# and uftpd, e.g. the reference 5.0.1) run on the same topology in the same
# run, and their figures are printed as ratios to ours.
#
#   bench/transfer.sh [--build DIR] [--ref DIR]... [--receivers "1 4 8"]
#                     [--mb 256] [--rate -1] [--args "EXTRA UFTP ARGS"]
#                     [--dargs "EXTRA UFTPD ARGS"] [--runs N] [--cipher aes256-gcm]
#
# MB/s is 10^6 bytes per second. Needs root (namespaces) and /usr/bin/time.
# Everything runs on this machine: the sender, the receivers and the
# kernel's bridge share its CPUs, so the figures measure efficiency.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
refs=()
counts="1 4 8"
mb=256
rate=-1
xargs_s=""
xargs_d=""
runs=1
cipher=none
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --ref) refs+=("$2"); shift 2 ;;
    --receivers) counts=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --args) xargs_s=$2; shift 2 ;;
    --dargs) xargs_d=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cipher) cipher=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
ours_s=$build/sender/uftp
ours_d=$build/receiver/uftpd
[ -x "$ours_s" ] && [ -x "$ours_d" ] || { echo "build first: $ours_s not found" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
for r in "${refs[@]}"; do
    [ -x "$r/uftp" ] && [ -x "$r/uftpd" ] || { echo "no uftp/uftpd in $r" >&2; exit 2; }
done
# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
netns_require_root ip
netns_init bxfer

max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
netns_lan lan $((max + 1)) # lan1 sends, lan2.. receive
L=$(netns_lan_subnet lan)
F=$NETNS_TMP/file.bin
head -c $((mb * 1048576)) /dev/urandom >"$F"

# impl NAME SENDER DAEMON: one row per receiver count.
names=(ours)
sbins=("$ours_s")
dbins=("$ours_d")
for r in "${refs[@]}"; do
    names+=("$(basename "$r")")
    sbins+=("$r/uftp")
    dbins+=("$r/uftpd")
done

declare -A RES
run_one() {
    local k=$1 n=$2 run=$3 d i ids="" tpids=() pid rc
    d=$NETNS_TMP/${names[$k]}.$n.$run
    mkdir -p "$d"
    for ((i = 2; i <= n + 1; i++)); do
        mkdir -p "$d/r$i"
        ids+="${ids:+,}$(printf '0x0A%02X%04X' "$L" "$i")"
        # shellcheck disable=SC2086
        netns_spawn "lan$i" "$d/uftpd$i.log" /usr/bin/time -v -o "$d/time$i" \
            "${dbins[$k]}" -d -x 1 -D "$d/r$i" $xargs_d
        tpids+=("$NETNS_LAST_PID")
    done
    sleep 1
    # shellcheck disable=SC2086
    netns_spawn lan1 "$d/uftp.log" /usr/bin/time -v -o "$d/time.s" "${sbins[$k]}" -Y "$cipher" \
        -R "$rate" -x 1 -H "$ids" -S "$d/status" $xargs_s "$F"
    netns_wait "$NETNS_LAST_PID" 600
    rc=$?
    for pid in "${tpids[@]}"; do
        # Stop the daemon, not GNU time, so that time reports its usage.
        pkill -TERM -P "$pid" 2>/dev/null
    done
    for pid in "${tpids[@]}"; do
        netns_wait "$pid" 10 >/dev/null 2>&1
    done
    local speeds="" ok=0 rss="" s
    for ((i = 2; i <= n + 1; i++)); do
        local id
        id=$(printf '0x0A%02X%04X' "$L" "$i")
        s=$(awk -F';' -v id="$id" '$1 == "RESULT" && $2 == id && $5 == "copy" {
                sub("KB/s", "", $6); printf "%.1f", $6 * 1024 / 1e6 }' "$d/status" 2>/dev/null)
        speeds+="${speeds:+ }${s:-0}"
        cmp -s "$F" "$d/r$i/$(basename "$F")" && ok=$((ok + 1))
        rss+="${rss:+ }$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$d/time$i")"
        rm -rf "$d/r$i"
    done
    local cpu wall
    cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' \
        "$d/time.s")
    wall=$(awk -F': ' '/Elapsed/ { n = split($2, a, ":"); t = 0;
        for (i = 1; i <= n; i++) t = t * 60 + a[i]; printf "%.2f", t }' "$d/time.s")
    RES[$k.$n.$run]="$rc|$ok|$speeds|$cpu|$wall|$rss"
}

for n in $counts; do
    for ((run = 1; run <= runs; run++)); do
        for k in "${!names[@]}"; do
            run_one "$k" "$n" "$run"
        done
    done
done

avg() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", NF ? s / NF : 0 }' <<<"$1"; }
mx() { awk '{ m = 0; for (i = 1; i <= NF; i++) if ($i > m) m = $i; printf "%.1f", m }' <<<"$1"; }

echo
echo "file ${mb} MiB, -R $rate, -Y $cipher; $(nproc) CPUs; kernel $(uname -r)"
printf '%-12s %4s %4s %5s %-48s %9s %8s %8s %9s\n' impl rcv run exit "per-receiver MB/s" "avg MB/s" \
    "tx CPU s" "wall s" "max RSS MB"
for n in $counts; do
    for ((run = 1; run <= runs; run++)); do
        for k in "${!names[@]}"; do
            IFS='|' read -r rc ok speeds cpu wall rss <<<"${RES[$k.$n.$run]}"
            printf '%-12s %4s %4s %5s %-48s %9s %8s %8s %9s\n' "${names[$k]}" "$n" "$run" \
                "$rc$([ "$ok" = "$n" ] || echo "!$ok/$n")" "$speeds" "$(avg "$speeds")" "$cpu" \
                "$wall" "$(mx "$rss")"
        done
    done
done
if [ ${#names[@]} -gt 1 ]; then
    echo
    echo "ratios, ours / other (throughput: higher is better; CPU and RSS: lower is better)"
    for n in $counts; do
        for ((k = 1; k < ${#names[@]}; k++)); do
            t0=0 t1=0 c0=0 c1=0 r0=0 r1=0
            for ((run = 1; run <= runs; run++)); do
                IFS='|' read -r _ _ s0 cp0 _ rs0 <<<"${RES[0.$n.$run]}"
                IFS='|' read -r _ _ s1 cp1 _ rs1 <<<"${RES[$k.$n.$run]}"
                t0=$(awk -v a="$t0" -v b="$(avg "$s0")" 'BEGIN { print a + b }')
                t1=$(awk -v a="$t1" -v b="$(avg "$s1")" 'BEGIN { print a + b }')
                c0=$(awk -v a="$c0" -v b="$cp0" 'BEGIN { print a + b }')
                c1=$(awk -v a="$c1" -v b="$cp1" 'BEGIN { print a + b }')
                r0=$(awk -v a="$r0" -v b="$(mx "$rs0")" 'BEGIN { print a + b }')
                r1=$(awk -v a="$r1" -v b="$(mx "$rs1")" 'BEGIN { print a + b }')
            done
            awk -v n="$n" -v nm="${names[$k]}" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
                -v r0="$r0" -v r1="$r1" 'BEGIN {
                printf "  %d receivers vs %s: throughput x%.2f, sender CPU x%.2f, receiver RSS x%.2f\n",
                    n, nm, (t1 > 0 ? t0 / t1 : 0), (c1 > 0 ? c0 / c1 : 0), (r1 > 0 ? r0 / r1 : 0) }'
        done
    done
fi
