#!/bin/bash
# Daemon life (issue 7) for a daemon built on core/daemon: readiness, reload
# and stop notification, foreground and daemon modes, the pid file, the log
# file and its rotation, logging to the journal. It runs against
# tests/appliance/minid now and against uftpd and uftpproxyd once they
# exist: they share the letters used here (-d foreground, -P pid file,
# -L log file; spec §2.2, §2.3). Each run happens in a network namespace of
# its own (root) so a daemon's port never meets another's.
#
#   daemon_life.sh NOTIFY_LISTEN PROG [ARGS...]
#     NOTIFY_LISTEN  tests/appliance/notify_listen (a stand-in notify socket)
#     ARGS           what PROG needs besides those letters, e.g. --config FILE
# Exit: 0 pass, 1 fail.
set -u
listen=${1:?usage: daemon_life.sh NOTIFY_LISTEN PROG [ARGS...]}
prog=${2:?usage: daemon_life.sh NOTIFY_LISTEN PROG [ARGS...]}
shift 2
args=("$@")
name=$(basename "$prog")
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    [ -f "$work/daemon.pid" ] && kill -KILL "$(cat "$work/daemon.pid")" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
netns=()
[ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null && netns=(unshare --net)

# wait_for FILE PATTERN SECONDS: until grep -Eq PATTERN FILE.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
# wait_exit PID SECONDS: the exit status, or 124 (then it is killed).
wait_exit() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || {
            wait "$1"
            return $?
        }
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 124
}
count() { grep -c -- "$2" "$1" 2>/dev/null; }

# ---- foreground under a notify socket: READY, RELOADING+READY, STOPPING ----
sock=$work/notify.sock
"$listen" "$sock" "$work/notify" &
disown
pids+=($!)

for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$sock "${netns[@]}" "$prog" -d "${args[@]}" >"$work/fg.out" 2>"$work/fg.err" &
fg=$!
pids+=($fg)
wait_for "$work/notify" '^READY=1$' 10 || fail "foreground: no READY=1: $(cat "$work/notify" "$work/fg.err")"
# The live one-line summary (issue 15): STATUS= from the daemon's tick, at
# most once a second. LIFE_STATUS_RE (from CMake) is what it must say.
if [ -n "${LIFE_STATUS_RE:-}" ]; then
    wait_for "$work/notify" "^STATUS=${LIFE_STATUS_RE}" 5 ||
        fail "no live STATUS= matching '$LIFE_STATUS_RE': $(cat "$work/notify")"
    n0=$(count "$work/notify" '^STATUS=')
    sleep 3
    n1=$(count "$work/notify" '^STATUS=')
    [ $((n1 - n0)) -le 3 ] || fail "STATUS= more than once a second: $((n1 - n0)) in 3 s"
fi
kill -HUP "$fg"
wait_for "$work/notify" '^RELOADING=1$' 5 || fail "SIGHUP: no RELOADING=1"
grep -Eq '^MONOTONIC_USEC=[0-9]+$' "$work/notify" || fail "RELOADING=1 without MONOTONIC_USEC"
for ((i = 0; i < 100; i++)); do [ "$(count "$work/notify" '^READY=1$')" -ge 2 ] && break; sleep 0.05; done
[ "$(count "$work/notify" '^READY=1$')" = 2 ] || fail "SIGHUP: no READY=1 after the reload: $(cat "$work/notify")"
# The order: READY, RELOADING, READY.
order=$(grep -E '^(READY|RELOADING|STOPPING)=1$' "$work/notify" | tr '\n' ' ')
[ "$order" = "READY=1 RELOADING=1 READY=1 " ] || fail "notification order: $order"
kill -0 "$fg" 2>/dev/null || fail "SIGHUP ended the daemon"
kill -TERM "$fg"
wait_exit "$fg" 15
st=$?
[ $st = 0 ] || fail "SIGTERM: exit status $st: $(tail -5 "$work/fg.err")"
# The daemon may be gone before the listener has written what it sent last.
wait_for "$work/notify" '^STOPPING=1$' 5 || fail "SIGTERM: no STOPPING=1"
# The notify socket is not handed down: nothing else speaks for the daemon.
[ -s "$work/fg.err" ] || fail "foreground: nothing logged to stderr"

# ---- logging to the journal: JOURNAL_STREAM names stderr ----
: >"$work/journal"
exec 7>>"$work/journal"
js=$(stat -c '%d:%i' "$work/journal")
JOURNAL_STREAM=$js "${netns[@]}" "$prog" -d "${args[@]}" 2>&7 >/dev/null &
jp=$!
pids+=($jp)
exec 7>&-
wait_for "$work/journal" . 10 || fail "journal: nothing logged"
kill -TERM "$jp"
wait_exit "$jp" 15 >/dev/null
bad=$(grep -Ev '^<[0-7]>' "$work/journal" | head -3)
[ -z "$bad" ] || fail "journal lines without a <priority> prefix: $bad"
grep -Eq '^<[0-7]>[0-9]{4}/' "$work/journal" && fail "journal lines carry their own timestamps"

# ---- daemon mode: detached, pid file, log file, rotation, stop ----
pidf=$work/daemon.pid
log=$work/daemon.log
"${netns[@]}" "$prog" -P "$pidf" -L "$log" "${args[@]}" >"$work/start.out" 2>&1
st=$?
[ $st = 0 ] || fail "daemon start: exit $st: $(cat "$work/start.out")"
pid=$(cat "$pidf" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    fail "daemon mode: no running daemon in the pid file ($pid)"
else
    [ "$(stat -c %a "$pidf")" = 644 ] || fail "pid file mode $(stat -c %a "$pidf")"
    [ "$(readlink "/proc/$pid/cwd")" = / ] || fail "daemon cwd $(readlink "/proc/$pid/cwd")"
    grep -q '^Umask:[[:space:]]*0027$' "/proc/$pid/status" || fail "daemon umask: $(grep Umask "/proc/$pid/status")"
    [ "$(readlink "/proc/$pid/fd/0")" = /dev/null ] || fail "daemon stdin $(readlink "/proc/$pid/fd/0")"
    [ "$(readlink "/proc/$pid/fd/2")" = /dev/null ] || fail "daemon stderr $(readlink "/proc/$pid/fd/2")"
    sid=$(awk '{print $6}' "/proc/$pid/stat")
    [ "$sid" != "$pid" ] || fail "the daemon is a session leader"
    [ "$(stat -c %a "$log")" = 640 ] || fail "log file mode $(stat -c %a "$log")"
    # A second one is refused and names the first.
    "${netns[@]}" "$prog" -P "$pidf" -L "$log.2" "${args[@]}" >"$work/second.out" 2>&1 &&
        fail "a second daemon started on the same pid file"
    grep -q "$pid" "$work/second.out" || fail "the refusal does not name pid $pid: $(cat "$work/second.out")"
    [ "$(cat "$pidf")" = "$pid" ] || fail "the refused start changed the pid file"
    # logrotate: move the file, SIGHUP, a new file is written.
    mv "$log" "$log.1"
    kill -HUP "$pid"
    wait_for "$log" . 10 || fail "SIGHUP: no new log file after rotation"
    kill -0 "$pid" 2>/dev/null || fail "SIGHUP ended the daemon"
    kill -TERM "$pid"
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the daemon"
    [ -e "$pidf" ] && fail "pid file left behind"
fi

# ---- a stale pid file (a dead daemon's) is taken over ----
echo 999999 >"$pidf"
"${netns[@]}" "$prog" -P "$pidf" -L "$log" "${args[@]}" >"$work/stale.out" 2>&1 ||
    fail "start over a stale pid file: $(cat "$work/stale.out")"
pid=$(cat "$pidf" 2>/dev/null)
if [ -n "$pid" ] && [ "$pid" != 999999 ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
else
    fail "stale pid file not replaced: $(cat "$pidf" 2>&1)"
fi

if [ "$fails" -ne 0 ]; then
    echo "$name: $fails failure(s)" >&2
    exit 1
fi
echo "$name: daemon life: all checks passed"
