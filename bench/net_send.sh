#!/bin/bash
# Send-path micro-benchmark (not a test): MB/s delivered to each of 1 and 4
# multicast receivers across a bridge, for one datagram per sendmsg, sendmmsg
# batches and UDP GSO, with 1324-byte datagrams (spec §4: the default data
# packet). Receivers have UDP_GRO on, except in the "gso-nogro" rows, where
# the kernel splits each GSO packet again at the receiving socket.
# Runs in throw-away namespaces.
#
#   bench/net_send.sh [BUILD_DIR]     (needs root; a few seconds)
# Environment: DURATION_MS (per run, default 800), LEN (default 1324).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/bench_net_send
[ -x "$bin" ] || { echo "build first: $bin not found" >&2; exit 2; }
# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
netns_require_root ip
netns_init bench

dur=${DURATION_MS:-800}
len=${LEN:-1324}
netns_lan lan 5   # lan1 sends, lan2..lan5 receive
printf '%-7s %-9s %10s %10s %12s %12s\n' receivers mode "tx MB/s" "syscalls" \
    "rx MB/s(avg)" "rx loss %"
run=0
for nrecv in 1 4; do
    for row in single mmsg gso gso-nogro; do
        mode=${row%-nogro}
        gro=-G
        [ "$row" = gso-nogro ] && gro=
        run=$((run + 1))
        d="$NETNS_TMP/run$run"
        mkdir -p "$d"
        pids=()
        for ((i = 2; i <= nrecv + 1; i++)); do
            netns_spawn "lan$i" "$d/rx$i" "$bin" recv -g 230.4.4.1 -p 1044 -i eth0 $gro \
                -r "$d/ready$i"
            pids+=("$NETNS_LAST_PID")
        done
        for ((i = 2; i <= nrecv + 1; i++)); do
            netns_wait_file "$d/ready$i" 10 || exit 1
        done
        netns_exec lan1 "$bin" send -g 230.4.4.1 -p 1044 -i eth0 -m "$mode" -l "$len" \
            -d "$dur" >"$d/tx"
        for p in "${pids[@]}"; do
            netns_wait "$p" 40
        done
        txmb=$(sed -n 's/.*mb_s=\([^ ]*\).*/\1/p' "$d/tx")
        calls=$(sed -n 's/.*calls=\([^ ]*\).*/\1/p' "$d/tx")
        sent=$(sed -n 's/.*dgrams=\([^ ]*\).*/\1/p' "$d/tx")
        # Average receive rate and loss over the receivers.
        read -r rxmb loss < <(cat "$d"/rx* | awk -v sent="$sent" '
            { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
              mb += v["mb_s"]; got += v["dgrams"]; n++ }
            END { printf "%.1f %.1f\n", mb / n, sent ? 100 * (1 - got / n / sent) : 0 }')
        printf '%-7s %-9s %10s %10s %12s %12s\n' "$nrecv" "$row" "$txmb" "$calls" "$rxmb" "$loss"
    done
done
