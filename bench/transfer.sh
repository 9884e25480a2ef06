#!/bin/bash
# Transfer benchmark (not a test, issue 8): one sender and N receivers, each
# in its own network namespace on one bridge (veth, MTU 1500), send one file
# unpaced (-R -1) in the clear and with AES-256-GCM, and print per receiver
# the throughput the sender reports in its status file (RESULT lines: file
# size / time from FILEINFO to that receiver's COMPLETE), the CPU seconds
# (user + system, GNU time) of the sender and of each receiver, the same per
# GiB of file, each receiver's peak RSS, and the bytes the sender put on the
# wire per byte of file (its interface's tx_bytes: about 1.03 without repair
# passes, more with them). Other UFTP builds (--ref DIR holding uftp and uftpd,
# e.g. the reference 5.0.1) run on the same topology in the same run,
# interleaved with ours; the summary compares medians over the runs with
# the targets of issue 8 (throughput x10 in the clear, x5 encrypted, sender
# CPU per GiB at most 0.2x, and receiver peak RSS the same for a --mb file
# and a 4 GiB one: one receiver, in the clear, ours only unless --rss-ref;
# the big file is sparse, its blocks are zeros on the wire like any others).
#
#   bench/transfer.sh [--build DIR] [--ref DIR]... [--receivers "1 4 8"]
#                     [--mb 256] [--rate -1] [--ciphers "none aes256-gcm"]
#                     [--runs N] [--args "EXTRA UFTP ARGS"]
#                     [--dargs "EXTRA UFTPD ARGS"] [--quiet-wait S]
#                     [--rss-mb MB | --no-rss] [--rss-ref] [--rss-check [MB]]
#
#   --cipher C       same as --ciphers C (one cipher)
#   --quiet-wait S   before each run wait up to S seconds (default 60) for a
#                    second in which the machine is at least 80 % idle
#   --rss-mb MB      size of the big file of the RSS check (default 4096)
#   --no-rss         no RSS check
#   --rss-ref        the RSS check runs the --ref builds too (slow: at their
#                    speed a 4 GiB file takes a minute or more each)
#   --rss-check [MB] only the RSS check (MB as --rss-mb). It runs at
#                    -R 1000000 (128 MB/s, so without loss: the figures then
#                    compare the data path, not how much of the block map a
#                    repair keeps). Needs room for the big file once under
#                    $TMPDIR (default /tmp): the receiver writes it.
#
# A failed run (exit code not 0, or a copy not identical) keeps its logs in
# a directory named on stderr, and the script then exits 1. ctest runs a
# smoke test of a few seconds (integration_batching_bench_smoke: 2 MiB, one
# receiver); its figures mean nothing.
#
# MB/s is 10^6 bytes per second. Each run starts with sync, so that dirty
# pages of the previous one do not throttle it. Needs root (namespaces) and
# /usr/bin/time. Everything runs on this machine: the sender, the
# receivers and the kernel's bridge share its CPUs, so the figures measure
# efficiency; a machine shared with other work makes them noisy: use --runs.
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
ciphers="none aes256-gcm"
rss_mb=4096
rss_only=0
rss_ref=0
quiet_max=60
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
    --cipher | --ciphers) ciphers=$2; shift 2 ;;
    --quiet-wait) quiet_max=$2; shift 2 ;;
    --rss-mb) rss_mb=$2; shift 2 ;;
    --no-rss) rss_mb=0; shift ;;
    --rss-ref) rss_ref=1; shift ;;
    --rss-check)
        rss_only=1
        if [ $# -gt 1 ] && [[ $2 =~ ^[0-9]+$ ]]; then rss_mb=$2; shift; fi
        shift ;;
    -h | --help) sed -n '2,46p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ "$rss_only" = 0 ] || [ "$rss_mb" -gt 0 ] || { echo "--rss-check needs a size" >&2; exit 2; }
ours_s=$build/sender/uftp
ours_d=$build/receiver/uftpd
[ -x "$ours_s" ] && [ -x "$ours_d" ] || { echo "build first: $ours_s not found" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
for r in "${refs[@]}"; do
    [ -x "$r/uftp" ] && [ -x "$r/uftpd" ] || { echo "no uftp/uftpd in $r" >&2; exit 2; }
done
# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
. "$here/lib.sh" # busy_s, quiet
netns_require_root ip
netns_init bxfer

max=1
if [ "$rss_only" = 0 ]; then
    for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
fi
netns_lan lan $((max + 1)) # lan1 sends, lan2.. receive
L=$(netns_lan_subnet lan)

names=(ours)
sbins=("$ours_s")
dbins=("$ours_d")
for r in "${refs[@]}"; do
    names+=("$(basename "$r")")
    sbins+=("$r/uftp")
    dbins+=("$r/uftpd")
done

# GNU time's report: user + system seconds, and peak RSS in MB.
cpu_of() { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$1"; }
rss_of() { awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$1"; }

failed_logs=""
declare -A RES
# run_one IMPL N CIPHER FILE KEY RATE
run_one() {
    local k=$1 n=$2 cipher=$3 F=$4 key=$5 r=$6 d i ids="" tpids=() pid rc out tx0 b0 b1
    d=$NETNS_TMP/$key
    mkdir -p "$d"
    sync
    quiet
    for ((i = 2; i <= n + 1; i++)); do
        mkdir -p "$d/r$i"
        ids+="${ids:+,}$(printf '0x0A%02X%04X' "$L" "$i")"
        # shellcheck disable=SC2086
        netns_spawn "lan$i" "$d/uftpd$i.log" /usr/bin/time -v -o "$d/time$i" \
            "${dbins[$k]}" -d -x 1 -D "$d/r$i" $xargs_d
        tpids+=("$NETNS_LAST_PID")
    done
    sleep 1
    local udp0=()
    for ((i = 2; i <= n + 1; i++)); do udp0[i]=$(udp_counts "lan$i"); done
    tx0=$(netns_exec lan1 cat /sys/class/net/eth0/statistics/tx_bytes)
    b0=$(busy_s)
    # shellcheck disable=SC2086
    netns_spawn lan1 "$d/uftp.log" /usr/bin/time -v -o "$d/time.s" "${sbins[$k]}" -Y "$cipher" \
        -R "$r" -x 1 -H "$ids" -S "$d/status" $xargs_s "$F"
    netns_wait "$NETNS_LAST_PID" 900
    rc=$?
    b1=$(busy_s)
    out=$(($(netns_exec lan1 cat /sys/class/net/eth0/statistics/tx_bytes) - tx0))
    # Share of the datagrams (GRO buffers for ours) reaching the receivers'
    # sockets that were dropped for want of buffer space during this run
    # (each namespace counts its own, from its creation).
    local rxd="" i2 c0 c1
    for ((i2 = 2; i2 <= n + 1; i2++)); do
        read -r c0 c1 <<<"${udp0[$i2]}"
        rxd+=" $(udp_counts "lan$i2" | awk -v i0="$c0" -v d0="$c1" '{ i = $1 - i0; d = $2 - d0
            printf "%.1f", (i + d > 0 ? 100 * d / (i + d) : 0) }')"
    done
    for pid in "${tpids[@]}"; do
        # Stop the daemon, not GNU time, so that time reports its usage.
        pkill -TERM -P "$pid" 2>/dev/null
    done
    for pid in "${tpids[@]}"; do
        netns_wait "$pid" 10 >/dev/null 2>&1
    done
    local speeds="" ok=0 rss="" rcpu="" s sz
    sz=$(stat -c %s "$F")
    for ((i = 2; i <= n + 1; i++)); do
        local id
        id=$(printf '0x0A%02X%04X' "$L" "$i")
        s=$(awk -F';' -v id="$id" '$1 == "RESULT" && $2 == id && $5 == "copy" {
                sub("KB/s", "", $6); printf "%.1f", $6 * 1024 / 1e6 }' "$d/status" 2>/dev/null)
        speeds+="${speeds:+ }${s:-0}"
        cmp -s "$F" "$d/r$i/$(basename "$F")" && ok=$((ok + 1))
        rss+="${rss:+ }$(rss_of "$d/time$i")"
        rcpu+="${rcpu:+ }$(cpu_of "$d/time$i")"
        rm -rf "$d/r$i"
    done
    if [ "$rc" != 0 ] || [ "$ok" != "$n" ]; then
        # Keep the logs of a failed run (the temp dir goes at exit).
        [ -n "$failed_logs" ] || failed_logs=$(mktemp -d "${TMPDIR:-/tmp}/bench-failed.XXXXXX")
        cp -r "$d" "$failed_logs/"
        echo "run $key failed (exit $rc, $ok of $n copies identical): logs in $failed_logs/$key" >&2
    fi
    local cpu wall
    cpu=$(cpu_of "$d/time.s")
    wall=$(awk -F': ' '/Elapsed/ { n = split($2, a, ":"); t = 0;
        for (i = 1; i <= n; i++) t = t * 60 + a[i]; printf "%.2f", t }' "$d/time.s")
    local sent
    sent=$(awk -v o="${out:-0}" -v b="$sz" 'BEGIN { printf "%.2f", (b ? o / b : 0) }')
    # Other work: busy CPU seconds during the sender's run beyond our processes'
    # (the receivers' CPU counts whole: their start and end lie outside).
    local other
    other=$(awk -v b="$(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }')" -v c="$cpu" \
        -v r="$rcpu" 'BEGIN { n = split(r, v, " "); for (i = 1; i <= n; i++) c += v[i];
        o = b - c; printf "%.1f", (o < 0 ? 0 : o) }')
    RES[$key]="$rc|$ok|$speeds|$cpu|$wall|$rss|$rcpu|$sent|$sz|$other|$(avg "$rxd")"
}

# UDP datagrams received and dropped for want of buffer space in namespace $1, so far.
udp_counts() {
    netns_exec "$1" awk '/^Udp: / && $2 ~ /^[0-9]/ { i += $2; d += $6 }
        /^Udp6InDatagrams/ { i += $2 } /^Udp6RcvbufErrors/ { d += $2 }
        END { print i + 0, d + 0 }' /proc/net/snmp /proc/net/snmp6
}


# Statistics over space-separated numbers.
avg() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", NF ? s / NF : 0 }' <<<"$1"; }
avg2() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", NF ? s / NF : 0 }' <<<"$1"; }
mx() { awk '{ m = 0; for (i = 1; i <= NF; i++) if ($i > m) m = $i; printf "%.1f", m }' <<<"$1"; }
median() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
              else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
per_gib() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? c / (s / 1073741824) : 0) }'; }

# Medians over the runs of one implementation: MB/s (per-receiver average),
# tx CPU, rx CPU, RSS; "ok" lists an x per failed run.
med_of() {
    local key=$1 field=$2 n=$3 run vals="" rc ok speeds cpu wall rss rcpu sent sz other drop
    for ((run = 1; run <= runs; run++)); do
        IFS='|' read -r rc ok speeds cpu wall rss rcpu sent sz other drop <<<"${RES[$key.$run]}"
        # A failed run (exit code, or a copy not identical) counts only as a failure.
        if [ "$rc" != 0 ] || [ "$ok" != "$n" ]; then
            [ "$field" = ok ] && vals+=" x"
            continue
        fi
        case $field in
        mbs) vals+=" $(avg "$speeds")" ;;
        cpu) vals+=" $cpu" ;;
        rcpu) vals+=" $(avg2 "$rcpu")" ;;
        rss) vals+=" $(mx "$rss")" ;;
        sent) vals+=" $sent" ;;
        ok) ;;
        esac
    done
    echo "${vals# }"
}

f=$NETNS_TMP/file$mb.bin
head -c $((mb * 1048576)) /dev/urandom >"$f"
small=$f

# ---- throughput and CPU: every cipher, receiver count and build, interleaved ----
if [ "$rss_only" = 0 ]; then
    for cipher in $ciphers; do
        for n in $counts; do
            for ((run = 1; run <= runs; run++)); do
                for k in "${!names[@]}"; do
                    run_one "$k" "$n" "$cipher" "$small" "t.$cipher.$k.$n.$run" "$rate"
                done
            done
        done
    done

    echo
    echo "$(nproc) CPUs; kernel $(uname -r); file $mb MiB; -R $rate; $runs run(s) each"
    hdr='%-11s %3s %3s %6s %-30s %8s %7s %7s %7s %7s %7s %5s %5s %5s\n'
    # shellcheck disable=SC2059
    for cipher in $ciphers; do
        echo
        echo "-Y $cipher"
        printf "$hdr" impl rcv run exit "per-receiver MB/s" "avg MB/s" "tx CPU" "tx s/GiB" \
            "rx CPU" "rx s/GiB" "max RSS" "sent" "drop%" other
        for n in $counts; do
            for ((run = 1; run <= runs; run++)); do
                for k in "${!names[@]}"; do
                    IFS='|' read -r rc ok speeds cpu wall rss rcpu sent sz other drop <<<"${RES[t.$cipher.$k.$n.$run]}"
                    sp=$speeds
                    [ "${#sp}" -gt 30 ] && sp="${sp:0:27}..."
                    printf "$hdr" "${names[$k]}" "$n" "$run" \
                        "$rc$([ "$ok" = "$n" ] || echo "!$ok/$n")" "$sp" "$(avg "$speeds")" "$cpu" \
                        "$(per_gib "$cpu" "$sz")" "$(avg2 "$rcpu")" "$(per_gib "$(avg2 "$rcpu")" "$sz")" \
                        "$(mx "$rss")" "$sent" "$drop" "$other"
                done
            done
        done
    done
    echo
    echo "(tx/rx CPU: user+system seconds of the sender / of one receiver (average); s/GiB: per GiB"
    echo " of file; max RSS: the largest receiver's peak, MB; sent: bytes sent per byte of file;"
    echo " drop%: share of the datagrams (GRO buffers for ours) reaching a receiver's socket that"
    echo " it dropped for want of buffer space, average over the receivers;"
    echo " other: busy CPU seconds of the machine during the run beyond our processes: the"
    echo " kernel's own threads, and other work on a shared machine)"
fi

# ---- receiver peak RSS: the same file size and a big (sparse) one ----
rssk=()
if [ "$rss_mb" -gt 0 ]; then
    big=$NETNS_TMP/file$rss_mb.bin
    truncate -s $((rss_mb * 1048576)) "$big"
    rssk=(0)
    if [ "$rss_ref" = 1 ]; then rssk=("${!names[@]}"); fi
    for k in "${rssk[@]}"; do
        run_one "$k" 1 none "$small" "rss.$mb.$k.1" 1000000
        run_one "$k" 1 none "$big" "rss.$rss_mb.$k.1" 1000000
    done
    rm -f "$big"
    echo
    echo "receiver peak RSS, one receiver, in the clear, -R 1000000:"
    for k in "${rssk[@]}"; do
        line=$(printf '  %-11s' "${names[$k]}")
        for s in "$mb" "$rss_mb"; do
            IFS='|' read -r rc ok speeds cpu wall rss rcpu sent sz other drop <<<"${RES[rss.$s.$k.1]}"
            line+=$(printf '  %5s MiB: %6s MB (exit %s%s)' "$s" "$(mx "$rss")" "$rc" \
                "$([ "$ok" = 1 ] || echo ", copy differs")")
        done
        echo "$line"
    done
fi
rm -f "$small"

# ---- targets of issue 8 ----
echo
echo "targets (issue 8), ours / ${names[1]:-(no --ref)}, medians over $runs run(s):"
tfmt='  %-42s %9s %9s %8s %8s  %s\n'
# shellcheck disable=SC2059
printf "$tfmt" target ours ref ratio limit met
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    print (v == "" ? "n/a" : (op == ">=" ? (v >= t) : (v <= t)) ? "met" : "NOT MET") }'; }
cname() { case $1 in none) echo "clear" ;; aes256-gcm) echo "AES-256-GCM" ;; *) echo "$1" ;; esac; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b }'; }
if [ "$rss_only" = 0 ] && [ ${#names[@]} -gt 1 ]; then
    for cipher in $ciphers; do
        target=10
        [ "$cipher" = none ] || target=5
        for n in $counts; do
            m0=$(median "$(med_of "t.$cipher.0.$n" mbs "$n")")
            m1=$(median "$(med_of "t.$cipher.1.$n" mbs "$n")")
            bad=$(med_of "t.$cipher.0.$n" ok "$n")
            tr=$(ratio "$m0" "$m1")
            v=$(verdict "$tr" ">=" "$target")
            [ -z "$bad" ] || v="$v; $(wc -w <<<"$bad") run(s) failed"
            # shellcheck disable=SC2059
            printf "$tfmt" "$(cname "$cipher"), $n rcv: MB/s per receiver" "$m0" "$m1" "x$tr" ">= x$target" "$v"
        done
    done
    for cipher in $ciphers; do
        for n in $counts; do
            c0=$(median "$(med_of "t.$cipher.0.$n" cpu "$n")")
            c1=$(median "$(med_of "t.$cipher.1.$n" cpu "$n")")
            g0=$(per_gib "$c0" $((mb * 1048576)))
            g1=$(per_gib "$c1" $((mb * 1048576)))
            cr=$(ratio "$g0" "$g1")
            # shellcheck disable=SC2059
            printf "$tfmt" "$(cname "$cipher"), $n rcv: sender CPU s/GiB" "$g0" "$g1" "x$cr" "<= x0.2" \
                "$(verdict "$cr" "<=" 0.2)"
        done
    done
elif [ "$rss_only" = 0 ]; then
    echo "  (throughput and CPU targets need --ref DIR)"
fi
if [ "$rss_mb" -gt 0 ]; then
    # "The same": within 1 MB (the whole block map of a 4 GiB file is 0.4 MB).
    IFS='|' read -r rc ok _ _ _ rs _ <<<"${RES[rss.$mb.0.1]}"
    IFS='|' read -r rc2 ok2 _ _ _ rb _ <<<"${RES[rss.$rss_mb.0.1]}"
    v=$(awk -v a="$(mx "$rs")" -v b="$(mx "$rb")" 'BEGIN { print (b <= a + 1.0) ? "met" : "NOT MET" }')
    [ "$rc$ok$rc2$ok2" = 0101 ] || v="$v (a run failed)"
    a=$(mx "$rs")
    b=$(mx "$rb")
    printf '  receiver peak RSS (ours, 1 rcv): %s MB for %s MiB, %s MB for %s MiB: %+.1f MB (limit +1 MB)  %s\n' \
        "$a" "$mb" "$b" "$rss_mb" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')" "$v"
fi
if [ -n "$failed_logs" ]; then
    echo "logs of failed runs: $failed_logs" >&2
    exit 1
fi
exit 0
