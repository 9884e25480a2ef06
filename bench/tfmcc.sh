#!/bin/bash
# TFMCC benchmark (not a test; issue 12). The topology of the issue: a
# sender (lan1) and two receivers on one bridge, one of them (lan3) behind a
# bottleneck, tc tbf on its bridge port (default rate 50mbit burst 64kb
# latency 100ms). Each build (ours, and every --ref DIR holding uftp and
# uftpd, e.g. the reference 5.0.1) sends one file with -C tfmcc, in the same
# run, with its own uftpd on both receivers, twice:
#
#   alone      the file alone on the path
#   with TCP   one iperf3 TCP flow (lan4 -> lan3) through the same bottleneck,
#              started with the transfer and running until it ends; lan4 is a
#              host of its own on the bridge so that the sender's interface
#              carries only the transfer (sent/B)
#
# and prints, per build and case:
#   goodput   file bytes / time from FILEINFO to the bottleneck receiver's
#             COMPLETE (the sender's -S status file), in Mbit/s and as a share
#             of the bottleneck rate
#   t80       seconds from the first data through the bottleneck to the first
#             0.5 s window delivering >= 80 % of the bottleneck rate ("-" never)
#   sent/B    bytes the sender put on the wire (its tx_bytes) per byte of file
#   TCP       (with TCP) the TCP flow's mean delivered rate while the transfer's
#             data flowed, and our/TCP: the transfer's mean delivered UDP rate
#             over the same window divided by TCP's
#   series    UDP Mbit/s delivered to the bottleneck receiver, per 0.5 s
#             (counted by nftables at that receiver's IP input)
#   queue     the tbf's backlog (tc -s) sampled every 0.5 s while data flowed,
#             mean and max in ms at the bottleneck rate, and its drops
# Every copy is checked (cmp) on both receivers; a failed run says so.
#
#   bench/tfmcc.sh [--build DIR] [--ref DIR]... [--mb 60] [--rate 50mbit]
#                  [--tbf "burst 64kb latency 100ms"] [--cipher none]
#                  [--runs N] [--no-tcp] [--tcp-cc ALGO] [--args "EXTRA UFTP ARGS"]
#                  [--tcp-vs ALGO[,ALGO...]] [--tcp-secs 20] [--keep DIR]
#
#   --tcp-cc ALGO  the competing flow's TCP congestion control (iperf3 -C:
#                  cubic, reno, bbr; see net.ipv4.tcp_available_congestion_control);
#                  default: the system's (net.ipv4.tcp_congestion_control),
#                  printed in the header. Our receivers' rate is the larger
#                  of Reno's and CUBIC's response (DESIGN.md); BBR,
#                  with the ~10 us minimum RTT of a namespace, keeps only a
#                  few segments in flight and yields to any standing queue.
#   --tcp-vs ALGO[,ALGO...]
#                  the baseline of "fair" on this path: per run and per ALGO,
#                  one more case (build "tcp:ALGO"), no UFTP: an iperf3 flow
#                  with ALGO from the sender's host (lan1) in place of the
#                  transfer, against the competing flow (lan4, --tcp-cc) for
#                  --tcp-secs seconds (default 20); its row gives ALGO's Mbit/s
#                  in the goodput column and ALGO/TCP over the whole run in
#                  the our/TCP column (e.g. --tcp-cc cubic --tcp-vs cubic,bbr)
#   --keep DIR     copy every run's logs, status file and samples into DIR
#
# Targets (issue 12): goodput alone >= 85 % of the bottleneck and >= 1.5 x the
# reference's in the same run; with TCP, our/TCP between 0.5 and 2; no
# receiver or byte lost. Needs root, tc, nft and iperf3 (tools/install-deps.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
refs=()
mb=60
rate=50mbit
tbf="burst 64kb latency 100ms"
cipher=none
runs=1
tcp=1
xargs_s=""
keep=""
tcpcc=""
tcpvs=""
tcpsecs=20
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --ref) refs+=("$2"); shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --tbf) tbf=$2; shift 2 ;;
    --cipher) cipher=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-tcp) tcp=0; shift ;;
    --args) xargs_s=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --tcp-cc) tcpcc=$2; shift 2 ;;
    --tcp-vs) tcpvs=${2//,/ }; shift 2 ;;
    --tcp-secs) tcpsecs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
ours_s=$build/sender/uftp
ours_d=$build/receiver/uftpd
[ -x "$ours_s" ] && [ -x "$ours_d" ] || { echo "build first: $ours_s not found" >&2; exit 2; }
for r in "${refs[@]}"; do
    [ -x "$r/uftp" ] && [ -x "$r/uftpd" ] || { echo "no uftp/uftpd in $r" >&2; exit 2; }
done
[ -n "$tcpvs" ] && [ "$tcp" = 0 ] && { echo "--tcp-vs needs the competing flow (no --no-tcp)" >&2; exit 2; }
if [ "$tcp" = 1 ] && ! command -v iperf3 >/dev/null; then
    echo "needs iperf3 (tools/install-deps.sh), or --no-tcp" >&2
    exit 2
fi
# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
netns_require_root tc nft
netns_init btfmcc

netns_lan lan 4 # lan1 sends, lan2 fast, lan3 behind the bottleneck, lan4 the TCP flow
L=$(netns_lan_subnet lan)
# shellcheck disable=SC2086
netns_bottleneck lan3 rate "$rate" $tbf
qport=${NETNS_HUBPORT["lan3/eth0"]}
rate_bps=$(awk -v r="$rate" 'BEGIN { n = r + 0; u = tolower(r); sub(/^[0-9.]+/, "", u)
    m = u == "kbit" ? 1e3 : u == "mbit" ? 1e6 : u == "gbit" ? 1e9 : u == "bit" ? 1 : 0
    if (m == 0) { print "bad --rate " r > "/dev/stderr"; exit 1 } printf "%.0f", n * m }') || exit 2
# Delivered bytes at the bottleneck receiver's IP input, UDP and TCP apart.
netns_exec lan3 nft -f - <<'EOF'
table inet bench {
    chain input {
        type filter hook input priority 0; policy accept;
        meta l4proto udp counter
        meta l4proto tcp counter
        tcp dport 5202 counter
    }
}
EOF
qstat() { # "backlog_bytes drops" of the bottleneck's tbf
    tc -n "$NETNS_HUB" -s qdisc show dev "$qport" |
        awk '/dropped/ { for (i = 1; i < NF; i++) if ($i == "(dropped") { d = $(i + 1); sub(",", "", d) } }
             /backlog/ { b = $2; m = 1; if (b ~ /Mb$/) m = 1048576; else if (b ~ /Kb$/) m = 1024
                         b = b + 0; b *= m }
             END { printf "%.0f %d\n", b, d }'
}
counters() { # "udp_bytes tcp_bytes tcp_bytes_to_5202" (5202: the --tcp-vs flow)
    netns_exec lan3 nft list chain inet bench input |
        awk '/l4proto udp/ { for (i = 1; i < NF; i++) if ($i == "bytes") u = $(i + 1) }
             /l4proto tcp/ { for (i = 1; i < NF; i++) if ($i == "bytes") t = $(i + 1) }
             /dport 5202/ { for (i = 1; i < NF; i++) if ($i == "bytes") v = $(i + 1) }
             END { print u + 0, t + 0, v + 0 }'
}

names=(ours)
sbins=("$ours_s")
dbins=("$ours_d")
for r in "${refs[@]}"; do
    names+=("$(basename "$r")")
    sbins+=("$r/uftp")
    dbins+=("$r/uftpd")
done
F=$NETNS_TMP/file.bin
head -c $((mb * 1048576)) /dev/urandom >"$F"
size=$(stat -c %s "$F")
id2=$(printf '0x0A%02X%04X' "$L" 2)
id3=$(printf '0x0A%02X%04X' "$L" 3)
if [ "$tcp" = 1 ]; then
    netns_spawn lan3 "$NETNS_TMP/iperf3s.log" iperf3 -s
    [ -n "$tcpvs" ] && netns_spawn lan3 "$NETNS_TMP/iperf3s2.log" iperf3 -s -p 5202
    sleep 0.5
fi

failed=0
summary=()
# run_one K CASE RUN: build K sends the file; CASE = alone | tcp.
run_one() {
    local k=$1 case=$2 run=$3 d pid2 pid3 spid ipid="" rc tx0 tx1 i
    d=$NETNS_TMP/${names[$k]}.$case.$run
    mkdir -p "$d/r2" "$d/r3"
    netns_spawn lan2 "$d/uftpd2.log" "${dbins[$k]}" -d -x 1 -D "$d/r2"
    pid2=$NETNS_LAST_PID
    netns_spawn lan3 "$d/uftpd3.log" "${dbins[$k]}" -d -x 1 -D "$d/r3"
    pid3=$NETNS_LAST_PID
    sleep 1
    tx0=$(netns_exec lan1 cat /sys/class/net/eth0/statistics/tx_bytes)
    local t0 c0 q0
    t0=$(date +%s.%N)
    c0=$(counters)
    q0=$(qstat)
    # shellcheck disable=SC2086
    netns_spawn lan1 "$d/uftp.log" "${sbins[$k]}" -C tfmcc -Y "$cipher" -x 2 -H "$id2,$id3" \
        -S "$d/status" $xargs_s "$F"
    spid=$NETNS_LAST_PID
    if [ "$case" = tcp ]; then
        netns_spawn lan4 "$d/iperf3.log" iperf3 -c "10.$L.0.3" -t 600 -i 0 -f m ${tcpcc:+-C "$tcpcc"}
        ipid=$NETNS_LAST_PID
    fi
    # Sample the counters every 0.5 s while the sender runs.
    : >"$d/samples"
    while kill -0 "$spid" 2>/dev/null; do
        echo "$(date +%s.%N) $(counters) $(qstat)" >>"$d/samples"
        sleep 0.5
    done
    wait "$spid"
    rc=$?
    [ -n "$ipid" ] && netns_stop "$ipid"
    tx1=$(netns_exec lan1 cat /sys/class/net/eth0/statistics/tx_bytes)
    netns_stop "$pid2"
    netns_stop "$pid3"
    local ok=0
    for i in 2 3; do
        cmp -s "$F" "$d/r$i/$(basename "$F")" && ok=$((ok + 1))
    done
    # Goodput to the bottleneck receiver: the status file's RESULT (KB/s = 1024 B/s).
    local kbs
    kbs=$(awk -F';' -v id="$id3" '$1 == "RESULT" && tolower($2) == tolower(id) {
        v = $6; sub("KB/s", "", v); print v + 0 }' "$d/status" 2>/dev/null)
    # Rates per 0.5 s, the time to 80 %, the UDP/TCP ratio over the data window.
    local stats qline
    qline=$(awk -v q0="$q0" -v bps="$rate_bps" 'BEGIN { split(q0, q, " "); d0 = q[2] }
        { if (NR > 1 && $2 - pu > 0 && ($1 - pt) > 0 && ($2 - pu) * 8 / ($1 - pt) > 1e6) {
              ms = $5 * 8 / bps * 1e3; s += ms; n++; if (ms > mx) mx = ms }
          pu = $2; pt = $1; d1 = $6 }
        END { printf "mean %.0f ms, max %.0f ms while data flowed; tbf drops %d", n ? s / n : 0, mx, d1 - d0 }' \
        "$d/samples")
    stats=$(awk -v t0="$t0" -v c0="$c0" -v bps="$rate_bps" '
        BEGIN { split(c0, c, " "); pu = c[1]; pt = c[2]; pt0 = t0; first = -1 }
        { dt = $1 - pt0; if (dt <= 0) next
          ru = ($2 - pu) * 8 / dt; rt = ($3 - pt) * 8 / dt
          pu = $2; pt = $3; pt0 = $1; n++
          ser = ser sprintf("%s%.0f", n > 1 ? " " : "", ru / 1e6)
          if (first < 0 && ru > 1e6) first = $1
          if (first >= 0 && t80 == "" && ru >= 0.8 * bps) t80 = sprintf("%.1f", $1 - first)
          if (ru > 1e6) { su += ru * dt; st += rt * dt; w += dt } }
        END { if (t80 == "") t80 = "-"
              printf "%s|%.1f|%.1f|%s\n", t80, w ? su / w / 1e6 : 0, w ? st / w / 1e6 : 0, ser }' \
        "$d/samples")
    local t80 udpm tcpm ser
    IFS='|' read -r t80 udpm tcpm ser <<<"$stats"
    local gp share sent ratio
    gp=$(awk -v k="${kbs:-0}" 'BEGIN { printf "%.1f", k * 1024 * 8 / 1e6 }')
    share=$(awk -v g="$gp" -v b="$rate_bps" 'BEGIN { printf "%.0f", 100 * g * 1e6 / b }')
    sent=$(awk -v a="$tx0" -v b="$tx1" -v s="$size" 'BEGIN { printf "%.2f", (b - a) / s }')
    ratio="-"
    [ "$case" = tcp ] && ratio=$(awk -v u="$udpm" -v t="$tcpm" 'BEGIN {
        if (t > 0) printf "%.2f", u / t; else print "inf" }')
    local verdict="ok"
    if [ "$rc" != 0 ] || [ "$ok" != 2 ]; then
        verdict="FAILED (exit $rc, $ok/2 copies)"
        failed=1
        cp -r "$d" "${TMPDIR:-/tmp}/" && echo "logs kept in ${TMPDIR:-/tmp}/$(basename "$d")" >&2
    fi
    printf '%-12s %-6s %3s  %7s %5s%%  %5s  %6s  %8s  %6s  %s\n' "${names[$k]}" "$case" "$run" \
        "$gp" "$share" "$t80" "$sent" "$([ "$case" = tcp ] && echo "$tcpm" || echo -)" "$ratio" \
        "$verdict"
    printf '    series (Mbit/s per 0.5 s): %s\n' "$ser"
    printf '    queue: %s\n' "$qline"
    summary+=("${names[$k]}|$case|$gp|$ratio")
    rm -rf "$d/r2" "$d/r3"
    if [ -n "$keep" ]; then mkdir -p "$keep" && cp -r "$d" "$keep/"; fi
}

# run_vs ALGO RUN: the TCP baseline, one iperf3 flow with ALGO (lan1 -> lan3:5202)
# against the competing flow (lan4 -> lan3:5201), started together, for
# $tcpsecs s; delivered bytes counted at lan3 as for the transfer.
run_vs() {
    local algo=$1 run=$2 d pa pb t0 c0 c1 t1 q0
    d=$NETNS_TMP/tcp-$algo.$run
    mkdir -p "$d"
    t0=$(date +%s.%N)
    c0=$(counters)
    q0=$(qstat)
    netns_spawn lan1 "$d/iperf3a.log" iperf3 -c "10.$L.0.3" -p 5202 -t "$tcpsecs" -i 0 -f m -C "$algo"
    pa=$NETNS_LAST_PID
    netns_spawn lan4 "$d/iperf3b.log" iperf3 -c "10.$L.0.3" -t "$tcpsecs" -i 0 -f m ${tcpcc:+-C "$tcpcc"}
    pb=$NETNS_LAST_PID
    : >"$d/samples"
    while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
        echo "$(date +%s.%N) $(counters) $(qstat)" >>"$d/samples"
        sleep 0.5
    done
    local rca=0 rcb=0
    wait "$pa" || rca=$?
    wait "$pb" || rcb=$?
    t1=$(date +%s.%N)
    c1=$(counters)
    # A = the 5202 flow, B = all other TCP (the competing flow).
    local a b ratio share ser
    read -r a b < <(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN {
        split(c0, x, " "); split(c1, y, " "); va = y[3] - x[3]; vb = y[2] - x[2] - va
        printf "%.1f %.1f\n", va * 8 / (t1 - t0) / 1e6, vb * 8 / (t1 - t0) / 1e6 }')
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
    share=$(awk -v g="$a" -v r="$rate_bps" 'BEGIN { printf "%.0f", 100 * g * 1e6 / r }')
    ser=$(awk -v t0="$t0" -v c0="$c0" 'BEGIN { split(c0, c, " "); pa = c[3]; pb = c[2] - c[3]; pt = t0 }
        { dt = $1 - pt; if (dt <= 0) next; va = $4 - pa; vb = $3 - $4 - pb
          ser = ser sprintf("%s%.0f/%.0f", n++ ? " " : "", va * 8 / dt / 1e6, vb * 8 / dt / 1e6)
          pa = $4; pb = $3 - $4; pt = $1 } END { print ser }' "$d/samples")
    local verdict=ok
    if [ "$rca" != 0 ] || [ "$rcb" != 0 ]; then
        verdict="FAILED (iperf3 exit $rca/$rcb)"
        failed=1
    fi
    printf '%-12s %-6s %3s  %7s %5s%%  %5s  %6s  %8s  %6s  %s\n' "tcp:$algo" tcp "$run" \
        "$a" "$share" - - "$b" "$ratio" "$verdict"
    printf '    series (Mbit/s per 0.5 s, %s/TCP): %s\n' "$algo" "$ser"
    printf '    queue: %s\n' "$(awk -v q0="$q0" -v bps="$rate_bps" 'BEGIN { split(q0, q, " "); d0 = q[2] }
        { ms = $5 * 8 / bps * 1e3; s += ms; n++; if (ms > mx) mx = ms; d1 = $6 }
        END { printf "mean %.0f ms, max %.0f ms; tbf drops %d", n ? s / n : 0, mx, d1 - d0 }' "$d/samples")"
    summary+=("tcp:$algo|tcp|$a|$ratio")
    if [ -n "$keep" ]; then mkdir -p "$keep" && cp -r "$d" "$keep/"; fi
}

echo "bottleneck: tbf rate $rate $tbf on lan3's port; file $mb MiB; -Y $cipher; $runs run(s)"
[ "$tcp" = 1 ] && echo "competing TCP: iperf3, congestion control ${tcpcc:-$(netns_exec lan4 cat /proc/sys/net/ipv4/tcp_congestion_control) (system default)}"
echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
printf '%-12s %-6s %3s  %7s %6s  %5s  %6s  %8s  %6s  %s\n' build case run "goodput" share t80 \
    "sent/B" "TCP Mb/s" "our/TCP" result
cases="alone"
[ "$tcp" = 1 ] && cases="alone tcp"
for ((r = 1; r <= runs; r++)); do
    for c in $cases; do
        for ((k = 0; k < ${#names[@]}; k++)); do
            run_one "$k" "$c" "$r"
        done
    done
    for a in $tcpvs; do
        run_vs "$a" "$r"
    done
done

# Medians and the targets.
echo
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for ((k = 0; k < ${#names[@]}; k++)); do
    g=$(printf '%s\n' "${summary[@]}" | awk -F'|' -v n="${names[$k]}" '$1 == n && $2 == "alone" { print $3 }' | med)
    line="${names[$k]}: median goodput alone $g Mbit/s ($(awk -v g="$g" -v b="$rate_bps" 'BEGIN { printf "%.0f", 100 * g * 1e6 / b }')% of the bottleneck)"
    if [ "$tcp" = 1 ]; then
        rt=$(printf '%s\n' "${summary[@]}" | awk -F'|' -v n="${names[$k]}" '$1 == n && $2 == "tcp" { print $4 }' | med)
        line+=", median our/TCP $rt"
    fi
    echo "$line"
    [ "$k" = 0 ] && g0=$g
    [ "$k" -gt 0 ] && echo "  ours / ${names[$k]}: $(awk -v a="$g0" -v b="$g" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }') x (target >= 1.5)"
done
for a in $tcpvs; do
    rt=$(printf '%s\n' "${summary[@]}" | awk -F'|' -v n="tcp:$a" '$1 == n { print $4 }' | med)
    echo "tcp:$a (baseline, no UFTP): median $a/TCP $rt"
done
echo "targets: goodput alone >= 85 % of the bottleneck; with TCP, our/TCP in 0.5..2; nothing lost"
exit $failed
