#!/bin/bash
# Issue 15: uftpd's metrics file (--metrics-file) during and after a
# transfer with loss, with forged datagrams mixed in.
#
# One sender (our uftp, an encrypted closed session, 10 % loss on what it
# sends), one receiver (uftpd --metrics-file, rewritten every second), one
# attacker on the same LAN. While the transfer runs, each new version of the
# file must parse with Prometheus's own parser (promtool check metrics) and
# show the session active; the attacker sends NM too-short datagrams and NA
# ENCRYPTED datagrams of junk claiming the live session. After the
# daemon's stop the counters must agree with what was sent: the files and
# their bytes, one completed session, NAKs (there was loss), NM refused as
# malformed and NA as failing authentication.
#
#   metrics.sh UFTP UFTPD HOSTILE_FORGE
# promtool: $PROMTOOL, else on PATH, else /opt/promtool/usr/bin/promtool
# (tools/install-deps.sh unpacks it there from Debian's prometheus package).
UFTP=${1:?usage: metrics.sh UFTP UFTPD HOSTILE_FORGE} UFTPD=${2:?} FORGE=${3:?}
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /opt/promtool/usr/bin/promtool)}
if [ ! -x "$PROMTOOL" ]; then
    echo "SKIP: no promtool (tools/install-deps.sh unpacks it in /opt/promtool)"
    exit 77
fi
TEST_TAG=hmet
. "$(dirname "$0")/common.sh"
UFTP=$(readlink -f "$UFTP")
UFTPD=$(readlink -f "$UFTPD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 3
A=lan1 R=lan2 S=lan3
RIP=$(netns_ip4 $R)
SIP=$(netns_ip4 $S)
hexid() { printf '%02X%02X%02X%02X' $(echo "$1" | tr . ' '); }
RID=$(hexid "$RIP")
SID=$(hexid "$SIP")
netns_exec $A ping -c1 -W1 "$RIP" >/dev/null
netns_exec $S ping -c1 -W1 "$RIP" >/dev/null
# Loss on the sender's frames only: the forged datagrams all arrive.
netns_loss_from $S 10

mkdir -p "$NETNS_TMP/src" "$NETNS_TMP/dest" "$NETNS_TMP/prom"
head -c 6000000 /dev/urandom >"$NETNS_TMP/src/big.bin"
head -c 123457 /dev/urandom >"$NETNS_TMP/src/mid.bin"
printf x >"$NETNS_TMP/src/one.bin"
NFILES=3
NBYTES=$((6000000 + 123457 + 1))
head -c 7 /dev/urandom >"$NETNS_TMP/short.bin"
M=$NETNS_TMP/prom/uftpd.prom

start_daemon $R uftpd "$UFTPD" -D "$NETNS_TMP/dest" -I eth0 --metrics-file "$M" \
    --metrics-interval 1 --liveness 2
pid=$NETNS_LAST_PID

# metric NAME[{LABELS}] [FILE]: its value, or "" when absent.
metric() {
    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "" }' "${2:-$M}"
}
# check FILE WHEN: promtool parses it; its findings are failures too.
check() {
    local out
    if ! out=$("$PROMTOOL" check metrics <"$1" 2>&1) || [ -n "$out" ]; then
        fail "promtool ($2): $out"
        sed 's/^/    /' "$1" | head -20
    fi
}

netns_spawn $S "$NETNS_TMP/uftp.log" "$UFTP" -x 2 -I eth0 -Y aes256-gcm -H "$RID" -R 12000 \
    "$NETNS_TMP/src/big.bin" "$NETNS_TMP/src/mid.bin" "$NETNS_TMP/src/one.bin"
upid=$NETNS_LAST_PID

# During: every new version of the file parses; the session shows active.
# The attacker strikes once the session is under way (its group ID from uftpd's log).
during=0 active=0 forged=0 NM=25 NA=40 last=""
for ((i = 0; i < 600; i++)); do
    kill -0 "$upid" 2>/dev/null || break
    if [ -f "$M" ] && ! cmp -s "$M" "$NETNS_TMP/last.prom"; then
        cp "$M" "$NETNS_TMP/last.prom"
        during=$((during + 1))
        check "$NETNS_TMP/last.prom" "during the transfer, version $during"
        [ "$(metric uftpd_sessions_active "$NETNS_TMP/last.prom")" = 1 ] && active=$((active + 1))
    fi
    if [ "$forged" = 0 ]; then
        gid=$(grep -o "\[[0-9A-F]\{8\}/0\]" "$NETNS_TMP/uftpd.log" | head -n1 | cut -c2-9)
        if [ -n "$gid" ] && grep -q "big.bin" "$NETNS_TMP/uftpd.log"; then
            forge $A --to "$RIP:1044" --replay "$NETNS_TMP/short.bin" --count $NM encrypted
            [ "$FORGED_PKTS" = $NM ] || fail "forger sent $FORGED_PKTS short datagrams, not $NM"
            forge $A --to "$RIP:1044" --server "$SID" --group "$gid" --seq 1000 --count $NA \
                --len 80 encrypted
            [ "$FORGED_PKTS" = $NA ] || fail "forger sent $FORGED_PKTS junk datagrams, not $NA"
            forged=1
        fi
    fi
    sleep 0.1
done
netns_wait "$upid" 120
rc=$?
[ "$rc" = 0 ] || fail "uftp exited $rc"
[ "$forged" = 1 ] || fail "the session was never seen in uftpd's log: nothing forged"
[ "$during" -ge 2 ] || fail "only $during versions of the metrics file during the transfer"
[ "$active" -ge 1 ] || fail "no version showed uftpd_sessions_active 1"
# The session ends when the sender's DONE_CONF arrives, or, should the loss take
# it, when uftpd stops repeating its COMPLETE: --liveness (2 s here) after the
# sender fell silent (spec §1.6 "Liveness"). Then the next write of the file.
for _ in $(seq 100); do
    grep -q "session complete" "$NETNS_TMP/uftpd.log" && break
    sleep 0.1
done
sleep 1.5
stop_daemon "$pid" uftpd
ls -A "$NETNS_TMP/prom" | grep -v '^uftpd.prom$' && fail "temporary files left beside the metrics file"

# After: the last file (written at the stop) agrees with what was sent.
check "$M" "after the stop"
eq() {
    local v
    v=$(metric "$1")
    [ "$v" = "$2" ] || fail "$1 is '$v', expected $2"
}
eq uftpd_files_received_total $NFILES
eq uftpd_received_bytes_total $NBYTES
eq uftpd_sessions_started_total 1
eq uftpd_sessions_completed_total 1
eq uftpd_sessions_active 0
eq 'uftpd_datagrams_refused_total{reason="malformed"}' $NM
eq 'uftpd_datagrams_refused_total{reason="authentication"}' $NA
eq 'uftpd_datagrams_refused_total{reason="replay"}' 0
naks=$(metric uftpd_naks_sent_total)
[ "${naks:-0}" -gt 0 ] || fail "no NAKs counted after a transfer with 10 % loss"
[ -n "$(metric uftpd_socket_drops_total)" ] || fail "no uftpd_socket_drops_total"
cmp -s "$NETNS_TMP/src/big.bin" "$NETNS_TMP/dest/big.bin" || fail "big.bin differs"
figure "metrics file: $during versions during the transfer (all parsed), files=$(metric uftpd_files_received_total) bytes=$(metric uftpd_received_bytes_total) naks=$naks dup=$(metric uftpd_duplicate_datagrams_total) refused malformed=$(metric 'uftpd_datagrams_refused_total{reason="malformed"}')/$NM authentication=$(metric 'uftpd_datagrams_refused_total{reason="authentication"}')/$NA"
finish
