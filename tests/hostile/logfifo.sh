#!/bin/bash
# Issue 14 item 11: -L naming a FIFO must not hang start-up.
#
# uftpd and uftpproxyd are started as daemons (not -d) with -L pointing at
# a FIFO nobody reads. 5.0.1 and main block in open(2) for ever, after
# detaching: start-up never completes. Figure: each daemon's exit code and
# how long start-up took (target: a clear error, exit 4, at once).
#
#   logfifo.sh UFTPD UFTPPROXYD
UFTPD=${1:?usage: logfifo.sh UFTPD UFTPPROXYD} UFTPPROXYD=${2:?}
TEST_TAG=hfifo
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
UFTPPROXYD=$(readlink -f "$UFTPPROXYD")

netns_add h # the daemons run here, so that cleanup finds any left behind
mkfifo "$NETNS_TMP/log.fifo"
mkdir -p "$NETNS_TMP/dest"
try() {
    local name=$1 t0 rc secs
    shift
    t0=$(date +%s.%N)
    netns_exec h timeout 5 "$@" -L "$NETNS_TMP/log.fifo" >"$NETNS_TMP/$name.out" 2>&1
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    figure "$name -L FIFO: exit $rc after $secs s: $(grep -m1 'log file' "$NETNS_TMP/$name.out" || echo 'no message')"
    [ "$rc" = 4 ] || fail "$name: exit $rc (want 4: the log cannot be opened)"
    grep -q "not a regular file" "$NETNS_TMP/$name.out" || fail "$name: no clear error"
}
try uftpd "$UFTPD" -D "$NETNS_TMP/dest" -p 31044 -U 0x0A000001
try uftpproxyd "$UFTPPROXYD" -r -p 31045 -U 0x0A000002
finish
