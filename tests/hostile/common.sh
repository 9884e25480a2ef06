# shellcheck shell=bash
#
# common.sh — shared by the hostile-network tests (issue 14). Source it
# after setting TEST_TAG; it sources tests/lib/netns.sh, checks for root
# (exit 77 otherwise) and starts a run.
#
#   fail MSG / finish           as in the integration tests
#   figure TEXT                 prints "FIGURE: TEXT" (the test's measurement)
#   start_daemon HOST NAME BIN ARGS...
#                               BIN -d -x 3 ARGS in HOST, log $NETNS_TMP/NAME.log;
#                               waits until it listens; PID in NETNS_LAST_PID
#   stop_daemon PID NAME        SIGTERM; fails unless it exits (0 for ours) with
#                               no sanitizer report
#   forge HOST ARGS...          hostile_forge ARGS in HOST; sets FORGED_PKTS,
#                               FORGED_BYTES (UDP payload) from its summary
#   cap_start HOST              dumpcap on HOST's eth0 (all UDP); PID in CAP_PID,
#                               file in CAP_FILE
#   cap_stop                    stops it
#   cap_sent IP                 "PACKETS BYTES" of UDP sent from IP in CAP_FILE
#                               (bytes: UDP payload)
#   ratio A B                   A / B with two decimals ("inf" when B is 0)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$here/../lib/netns.sh"

netns_require_root dumpcap tshark
netns_init "${TEST_TAG:-hostile}"

FAILS=0
T0=$(date +%s.%N)
fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

figure() {
    echo "FIGURE: $*"
}

finish() {
    local t
    t=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS failure(s) in ${t}s; logs:"
        for f in "$NETNS_TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $(basename "$f")"
            tail -n 25 "$f"
        done
        exit 1
    fi
    echo "PASS in ${t}s"
    exit 0
}

start_daemon() {
    local host=$1 name=$2 bin=$3 i
    shift 3
    netns_spawn "$host" "$NETNS_TMP/$name.log" "$bin" -d -x "${LOG_LEVEL:-3}" "$@"
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on port" "$NETNS_TMP/$name.log" 2>/dev/null && break
        kill -0 "$NETNS_LAST_PID" 2>/dev/null || break
        sleep 0.05
    done
    if ! kill -0 "$NETNS_LAST_PID" 2>/dev/null; then
        fail "$name did not start"
        cat "$NETNS_TMP/$name.log"
    fi
}

stop_daemon() {
    local pid=$1 name=$2 rc
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        fail "$name died (exit $?)"
        return
    fi
    kill -TERM "$pid"
    netns_wait "$pid" 10
    rc=$?
    [ "$rc" = 0 ] || fail "$name exited $rc after SIGTERM"
    if grep -q "Sanitizer\|runtime error" "$NETNS_TMP/$name.log"; then
        fail "sanitizer report from $name"
    fi
}

forge() {
    local host=$1 out
    shift
    out=$(netns_exec "$host" "$FORGE" "$@" 2>>"$NETNS_TMP/forge.err")
    FORGED_PKTS=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$out")
    FORGED_BYTES=$(sed -n 's/.* payload=\([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$FORGED_PKTS" ] || { fail "forger: $out $(tail -2 "$NETNS_TMP/forge.err")"; FORGED_PKTS=0; FORGED_BYTES=0; }
}

CAP_N=0
cap_start() {
    CAP_N=$((CAP_N + 1))
    CAP_FILE=$NETNS_TMP/cap$CAP_N.pcapng
    netns_capture "$1" eth0 "$CAP_FILE" udp || fail "no capture on $1"
    CAP_PID=$NETNS_LAST_PID
}

cap_stop() {
    netns_capture_stop "$CAP_PID"
}

cap_sent() {
    tshark -r "$CAP_FILE" -Y "ip.src == $1 && udp" -T fields -e udp.length 2>/dev/null |
        awk '{ n++; b += $1 - 8 } END { printf "%d %d\n", n, b }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f\n", a / b }'
}

# at_most X LIMIT: true when X (a ratio, maybe "inf") <= LIMIT
at_most() {
    awk -v x="$1" -v l="$2" 'BEGIN { exit !(x != "inf" && x + 0 <= l + 0) }'
}
