#!/bin/bash
# Small-files benchmark (not a test, issue 18): one sender and N receivers
# (default 4), each in its own network namespace on one bridge (veth, MTU
# 1500), send a tree of many small files (1 to 64 KiB each, random sizes and
# contents, 20 files per subdirectory) and print the sender's wall time for
# every cell: tree size x loss x cipher, for our build and for every other
# UFTP build named with --ref (a directory holding uftp and uftpd, e.g. the
# reference 5.0.1), interleaved in the same run, then per cell the ratio
# ours / first --ref against the target of issue 18 (at most 0.5). Every
# receiver's copy is compared with the tree (diff -r): a copy that differs,
# or a sender exiting non-zero, fails the run (logs kept, exit 1).
#
#   bench/smallfiles.sh [--build DIR] [--ref DIR]... [--files "200 5000"]
#                       [--loss "0 5"] [--ciphers "none aes256-gcm"]
#                       [--receivers 4] [--rate -1] [--runs N]
#                       [--args "EXTRA UFTP ARGS"] [--dargs "EXTRA UFTPD ARGS"]
#                       [--quiet-wait S] [--seed N] [--timeout S] [--gaps]
#
#   --files      tree sizes (number of files); the trees are made once per run
#                of the script, the same for every build (--seed, default 1)
#   --loss       loss percentages: nftables drops that share of the UDP frames
#                the bridge forwards to each receiver and of those each
#                receiver sends (independently per receiver and direction)
#   --cipher C   same as --ciphers C (one cipher)
#   --rate R     the sender's -R (default -1: unpaced; the files are small)
#   --timeout S  a run taking longer is stopped and counts as failed
#                (default 1800)
#   --gaps       also print, per run, the median, 90th percentile and maximum
#                gap between the first announcement (FILEINFO) of one file and
#                the next, as seen on the wire at the first receiver (dumpcap
#                in its namespace, UFTP header decoded by this script, so it
#                works for every build). Clear cells only: with a cipher the
#                FILEINFO travels inside ENCRYPTED
#   --quiet-wait S  before each run wait up to S seconds (default 30) for a
#                second in which the machine is at least 80 % idle
#
# Wall time is from the sender's start to its exit, as the bash that runs it
# notes them (to the microsecond; it includes its
# announcement and registration phase, the same for every build: -x 1, the
# receivers listed with -H). Each run starts with sync. Needs root
# (namespaces), nft and diff; --gaps needs dumpcap. The 5,000-file cells are
# slow with 5.0.1 (minutes each): pass --files 200 for a quick look.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
refs=()
files_list="200 5000"
losses="0 5"
ciphers="none aes256-gcm"
nrecv=4
rate=-1
runs=1
xargs_s=""
xargs_d=""
quiet_max=30
seed=1
tmo=1800
gaps=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --ref) refs+=("$2"); shift 2 ;;
    --files) files_list=$2; shift 2 ;;
    --loss) losses=$2; shift 2 ;;
    --cipher | --ciphers) ciphers=$2; shift 2 ;;
    --receivers) nrecv=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --args) xargs_s=$2; shift 2 ;;
    --dargs) xargs_d=$2; shift 2 ;;
    --quiet-wait) quiet_max=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --timeout) tmo=$2; shift 2 ;;
    --gaps) gaps=1; shift ;;
    -h | --help) sed -n '2,46p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
ours_s=$build/sender/uftp
ours_d=$build/receiver/uftpd
[ -x "$ours_s" ] && [ -x "$ours_d" ] || { echo "build first: $ours_s not found" >&2; exit 2; }
for r in "${refs[@]}"; do
    [ -x "$r/uftp" ] && [ -x "$r/uftpd" ] || { echo "no uftp/uftpd in $r" >&2; exit 2; }
done
# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
. "$here/lib.sh" # busy_s, quiet
tools=(ip nft diff)
[ "$gaps" = 0 ] || tools+=(dumpcap tshark)
netns_require_root "${tools[@]}"
netns_init bsmall

netns_lan lan $((nrecv + 1)) # lan1 sends, lan2.. receive
L=$(netns_lan_subnet lan)

names=(ours)
sbins=("$ours_s")
dbins=("$ours_d")
for r in "${refs[@]}"; do
    names+=("$(basename "$r")")
    sbins+=("$r/uftp")
    dbins+=("$r/uftpd")
done

now() { date +%s.%N; }

# make_tree DIR N: N files of 1..64 KiB (sizes from bash's RANDOM, seeded),
# 20 to a subdirectory, contents from /dev/urandom.
make_tree() {
    local dir=$1 n=$2 i sz sub
    RANDOM=$seed
    mkdir -p "$dir"
    for ((i = 0; i < n; i++)); do
        sub=$dir/d$((i / 20))
        [ $((i % 20)) = 0 ] && mkdir -p "$sub"
        sz=$((1024 + (RANDOM * 32768 + RANDOM) % (65536 - 1024 + 1)))
        head -c "$sz" /dev/urandom >"$sub/f$i"
    done
}

# fileinfo_gaps PCAP: median, p90 and max seconds between the first FILEINFO
# of consecutive files (v5 header: version 0x50, func 7 = FILEINFO; file id
# at offset 18 of the UDP payload, after the 16-byte header and the 2 bytes
# before it in the body).
fileinfo_gaps() {
    tshark -r "$1" -T fields -e frame.time_epoch -e udp.payload 2>/dev/null | awk '
        { p = $2; if (substr(p, 1, 4) != "5007") next
          id = substr(p, 37, 4); if (id in seen) next; seen[id] = 1
          if (last != "") g[n++] = $1 - last; last = $1 }
        END { if (n == 0) { print "- - -"; exit }
              for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (g[j] < g[i]) { t = g[i]; g[i] = g[j]; g[j] = t }
              printf "%.3f %.3f %.3f\n", g[int(n / 2)], g[int(n * 0.9)], g[n - 1] }'
}

failed_logs=""
declare -A RES
# run_one IMPL TREE CIPHER LOSS KEY
run_one() {
    local k=$1 tree=$2 cipher=$3 loss=$4 key=$5 d i ids="" tpids=() rc t0 t1 ok=0 cap="" g="- - -"
    d=$NETNS_TMP/$key
    mkdir -p "$d"
    sync
    quiet
    netns_loss_clear
    if [ "$loss" -gt 0 ]; then
        for ((i = 2; i <= nrecv + 1; i++)); do
            netns_loss_to "lan$i" "$loss"
            netns_loss_from "lan$i" "$loss"
        done
    fi
    for ((i = 2; i <= nrecv + 1; i++)); do
        mkdir -p "$d/r$i"
        ids+="${ids:+,}$(printf '0x0A%02X%04X' "$L" "$i")"
        # shellcheck disable=SC2086
        netns_spawn "lan$i" "$d/uftpd$i.log" "${dbins[$k]}" -d -x 1 -D "$d/r$i" $xargs_d
        tpids+=("$NETNS_LAST_PID")
    done
    if [ "$gaps" = 1 ]; then
        netns_capture lan2 eth0 "$d/r2.pcap" "udp" && cap=$NETNS_LAST_PID
    fi
    sleep 1
    t0=$(now)
    # The sender runs under a bash that notes its own start and exit
    # ($EPOCHREALTIME, microseconds) in $d/wall: netns_wait polls every 0.1 s,
    # too coarse for runs well under a second. A TERM (netns_stop on timeout)
    # is passed on to the sender.
    # shellcheck disable=SC2086,SC2016
    netns_spawn lan1 "$d/uftp.log" bash -c 'trap "kill \$c 2>/dev/null" TERM
        s=$EPOCHREALTIME; "$@" & c=$!; wait $c; rc=$?; echo "$s $EPOCHREALTIME" >"$0"; exit $rc' \
        "$d/wall" "${sbins[$k]}" -Y "$cipher" -R "$rate" -x 1 -H "$ids" \
        -S "$d/status" $xargs_s "$tree"
    netns_wait "$NETNS_LAST_PID" "$tmo"
    rc=$?
    t1=$(now)
    if [ -s "$d/wall" ]; then read -r t0 t1 <"$d/wall"; fi
    [ -z "$cap" ] || netns_capture_stop "$cap"
    for i in "${tpids[@]}"; do netns_stop "$i"; done
    netns_loss_clear
    for ((i = 2; i <= nrecv + 1; i++)); do
        diff -r -q "$tree" "$d/r$i/$(basename "$tree")" >"$d/diff$i" 2>&1 && ok=$((ok + 1))
    done
    [ -z "$cap" ] || g=$(fileinfo_gaps "$d/r2.pcap")
    if [ "$rc" != 0 ] || [ "$ok" != "$nrecv" ]; then
        [ -n "$failed_logs" ] || failed_logs=$(mktemp -d "${TMPDIR:-/tmp}/bench-failed.XXXXXX")
        for ((i = 2; i <= nrecv + 1; i++)); do rm -rf "$d/r$i"; done
        cp -r "$d" "$failed_logs/"
        echo "run $key failed (exit $rc, $ok of $nrecv copies identical): logs in $failed_logs/$key" >&2
    fi
    rm -rf "$d"
    RES[$key]="$rc|$ok|$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')|$g"
    printf '  %-11s %5s files %3s%% %-10s run %s: %7ss exit %s, %s/%s copies exact%s\n' \
        "${names[$k]}" "$(basename "$tree" | tr -dc 0-9)" "$loss" "$cipher" "${key##*.}" \
        "$(cut -d'|' -f3 <<<"${RES[$key]}")" "$rc" "$ok" "$nrecv" \
        "$([ "$gaps" = 1 ] && echo "; FILEINFO gaps med/p90/max $g")" >&2
}

median() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
              else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Walls of the successful runs of one cell and build.
walls() {
    local key=$1 run rc ok w g vals=""
    for ((run = 1; run <= runs; run++)); do
        IFS='|' read -r rc ok w g <<<"${RES[$key.$run]}"
        [ "$rc" = 0 ] && [ "$ok" = "$nrecv" ] && vals+=" $w"
    done
    echo "${vals# }"
}

for n in $files_list; do
    make_tree "$NETNS_TMP/trees/tree$n" "$n"
done

echo "$(nproc) CPUs; kernel $(uname -r); $nrecv receivers; -R $rate; $runs run(s) each" >&2
for n in $files_list; do
    tree=$NETNS_TMP/trees/tree$n
    for loss in $losses; do
        for cipher in $ciphers; do
            for ((run = 1; run <= runs; run++)); do
                for k in "${!names[@]}"; do
                    run_one "$k" "$tree" "$cipher" "$loss" "s.$n.$loss.$cipher.$k.$run"
                done
            done
        done
    done
done

echo
echo "$(nproc) CPUs; kernel $(uname -r); $nrecv receivers; -R $rate; $runs run(s) each;" \
    "files 1-64 KiB (seed $seed)"
echo "wall seconds, sender start to exit (median of the successful runs; x = failed runs)"
fmt='%6s %5s %-11s'
hdr=$(printf "$fmt" files loss cipher)
for k in "${!names[@]}"; do hdr+=$(printf ' %12s' "${names[$k]}"); done
[ ${#names[@]} -gt 1 ] && hdr+=$(printf ' %7s %-8s' ratio "<= 0.5")
echo "$hdr"
failed_cells=0
for n in $files_list; do
    for loss in $losses; do
        for cipher in $ciphers; do
            # shellcheck disable=SC2059
            line=$(printf "$fmt" "$n" "$loss%" "$cipher")
            meds=()
            for k in "${!names[@]}"; do
                w=$(walls "s.$n.$loss.$cipher.$k")
                m=$(median "$w")
                meds+=("$m")
                nw=$(wc -w <<<"$w")
                bad=""
                [ "$nw" = "$runs" ] || bad=" $(printf 'x%.0s' $(seq $((runs - nw))))"
                [ "$k" = 0 ] && [ "$nw" != "$runs" ] && failed_cells=$((failed_cells + 1))
                line+=$(printf ' %12s' "${m:--}$bad")
            done
            if [ ${#names[@]} -gt 1 ]; then
                r=$(awk -v a="${meds[0]}" -v b="${meds[1]}" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }')
                v=$(awk -v r="$r" 'BEGIN { print (r == "" ? "n/a" : (r <= 0.5 ? "met" : "NOT MET")) }')
                line+=$(printf ' %7s %-8s' "${r:--}" "$v")
            fi
            echo "$line"
        done
    done
done
if [ "$gaps" = 1 ]; then
    echo
    echo "FILEINFO gaps at the first receiver, seconds (median p90 max), per run:"
    for n in $files_list; do for loss in $losses; do for cipher in $ciphers; do
        for ((run = 1; run <= runs; run++)); do for k in "${!names[@]}"; do
            IFS='|' read -r rc ok w g <<<"${RES[s.$n.$loss.$cipher.$k.$run]}"
            printf '  %5s %3s%% %-10s %-11s run %s: %s\n' "$n" "$loss" "$cipher" "${names[$k]}" "$run" "$g"
        done; done
    done; done; done
fi
if [ -n "$failed_logs" ]; then
    echo "logs of failed runs: $failed_logs" >&2
    exit 1
fi
exit 0
