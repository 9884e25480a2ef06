#!/bin/bash
# Daemon life with real processes (issue 7): uftpd's status file (-F), the
# post-receive command (-s: per file, with -T -i per moved file, with -T
# alone once with the top-level entries), backup dirs (-A), the sender's
# status file (-S) and summary; SIGHUP in the middle of a transfer (the
# session goes on and the file arrives intact; a changed log level, trust
# list and post-receive command apply to what follows); SIGTERM in the
# middle of a transfer (ABORT on the wire, seen by the sender; no partial
# file; a running post-receive command is stopped; exit 0).
#
#   life.sh UFTP UFTPD
UFTP=${1:?usage: life.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=life
. "$(dirname "$0")/common.sh"
netns_require_root dumpcap tshark script

netns_lan lan 4
T=$NETNS_TMP
hexid() { printf '0x%02X%02X%02X%02X' $(echo "$1" | tr . ' '); }
SID=$(hexid "$(netns_ip4 lan1)")
AID=$(hexid "$(netns_ip4 lan2)")
mkdir -p "$T/da" "$T/ba" "$T/db" "$T/tb" "$T/dc" "$T/tc"

# Post-receive commands: each records its arguments in <script>.out.
for n in a b c; do
    printf '#!/bin/sh\necho "$*" >>"$0.out"\n' >"$T/post-$n.sh"
    chmod 755 "$T/post-$n.sh"
done
# One that hangs (SIGTERM must stop it).
printf '#!/bin/sh\necho $$ >"$0.pid"\nsleep 60\n' >"$T/slow.sh"
chmod 755 "$T/slow.sh"

cat >"$T/a.conf" <<EOF
# receiver A: changed on SIGHUP below
dest = [ "$T/da" ];
backup-dirs = [ "$T/ba" ];
status-file = "$T/a.status";
post-receive = "$T/post-a.sh";
log-level = 2;
EOF

# start_daemon HOST NAME ARGS: uftpd -d with only ARGS (no -x: the config decides).
start_daemon() {
    local host=$1 name=$2 i
    shift 2
    netns_spawn "$host" "$T/$name.log" "$UFTPD" -d "$@"
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on port" "$T/$name.log" 2>/dev/null && break
        kill -0 "$NETNS_LAST_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$NETNS_LAST_PID" 2>/dev/null || fail "uftpd $name did not start: $(cat "$T/$name.log")"
}
group_of() { sed -n 's/.*starting session \([0-9A-F]\{8\}\).*/\1/p' "$T/$1.log" | head -1; }

start_daemon lan2 uftpda --config "$T/a.conf"
pa=$NETNS_LAST_PID
start_uftpd lan3 uftpdb -D "$T/db" -T "$T/tb" -i -s "$T/post-b.sh"
pb=$NETNS_LAST_PID
start_uftpd lan4 uftpdc -D "$T/dc" -T "$T/tc" -s "$T/post-c.sh"
pc=$NETNS_LAST_PID

echo "[status files, post-receive, -T -i, -T]"
make_tree "$T/src" 1
run_uftp lan1 uftp1 60 -Y none -R 50000 -s 10 -S "$T/snd.status" "$T/src"/*
[ "$UFTP_RC" = 0 ] || fail "session 1: exit $UFTP_RC"
G1=$(group_of uftp1)
for r in a b c; do same_tree "$T/src" "$T/d$r" "receiver $r"; done
sleep 0.5 # the post-receive commands run asynchronously

# uftpd -F (spec §2.2): CONNECT;time;server;group;ip;name, RESULT;time;server;group;file;KB;word
ts='[0-9]{4}/[0-9]{2}/[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}'
sid=${SID#0x} ip=$(netns_ip4 lan1)
grep -Eqx "CONNECT;$ts;$sid;$G1;$ip;$ip" "$T/a.status" || fail "-F: no CONNECT line: $(cat "$T/a.status")"
grep -Eqx "RESULT;$ts;$sid;$G1;big.bin;1024KB;copied" "$T/a.status" ||
    fail "-F: no RESULT line for big.bin: $(cat "$T/a.status")"
grep -Eqx "RESULT;$ts;$sid;$G1;sub/deep/deeper/odd.bin;68KB;copied" "$T/a.status" ||
    fail "-F: no RESULT line for odd.bin"
nitems=$(grep -c "^RESULT;$AID;" "$T/snd.status")
[ "$(grep -c '^RESULT;' "$T/a.status")" = "$nitems" ] ||
    fail "-F: $(grep -c '^RESULT;' "$T/a.status") RESULT lines for $nitems items"
[ "$(stat -c %a "$T/a.status")" = 640 ] || fail "-F: mode $(stat -c %a "$T/a.status")"

# uftpd -s without -T: once per received regular file, `cmd -I GROUP path`.
nreg=$(find "$T/src" -type f | wc -l)
[ "$(wc -l <"$T/post-a.sh.out")" = "$nreg" ] || fail "-s: $(wc -l <"$T/post-a.sh.out") runs for $nreg files: $(cat "$T/post-a.sh.out")"
grep -qx -- "-I $G1 $T/da/big.bin" "$T/post-a.sh.out" || fail "-s: no run for big.bin: $(cat "$T/post-a.sh.out")"
grep -qx -- "-I $G1 $T/da/sub/deep/deeper/odd.bin" "$T/post-a.sh.out" || fail "-s: no run for odd.bin"
# -T -i: once per moved file, and per empty dir; never for a symlink (issue 14 item 6).
grep -qx -- "-I $G1 $T/db/sub/deep/a.txt" "$T/post-b.sh.out" || fail "-T -i: no run for a.txt: $(cat "$T/post-b.sh.out")"
grep -qx -- "-I $G1 $T/db/emptydir" "$T/post-b.sh.out" || fail "-T -i: no run for the empty dir"
grep -q -- "$T/db/link\|$T/db/sub/dirlink" "$T/post-b.sh.out" && fail "-T -i: a symlink was given to -s"
[ -L "$T/db/link" ] || fail "-T -i: the link did not arrive"
nb=$(find "$T/src" -type f | wc -l)
nd=$(find "$T/src" -mindepth 1 -type d -empty | wc -l)
[ "$(wc -l <"$T/post-b.sh.out")" = $((nb + nd)) ] || fail "-T -i: $(wc -l <"$T/post-b.sh.out") runs, expected $((nb + nd))"
# -T alone: one run with the top-level entries, but symlinks (issue 14 item 6).
top=$(cd "$T/src" && find . -mindepth 1 -maxdepth 1 ! -type l | sed 's|^\./||' | LC_ALL=C sort | sed "s|^|$T/dc/|" | tr '\n' ' ')
[ "$(cat "$T/post-c.sh.out")" = "-I $G1 ${top% }" ] || fail "-T: wanted one run '-I $G1 ${top% }', got '$(cat "$T/post-c.sh.out")'"

# uftp -S (spec §2.1): CONNECT, RESULT per receiver and file, HSTATS, STATS per receiver.
grep -qx "CONNECT;success;$AID" "$T/snd.status" || fail "-S: no CONNECT for $AID: $(head -5 "$T/snd.status")"
grep -Eqx "RESULT;$AID;big.bin;1024KB;copy;[0-9]+\.[0-9]{2}KB/s" "$T/snd.status" || fail "-S: no RESULT for big.bin"
grep -qx "RESULT;$AID;emptydir;0KB;copy;0.00KB/s" "$T/snd.status" || fail "-S: no RESULT for emptydir"
grep -qx 'HSTATS;target;copy;overwrite;skip;totalMB;time;speedKB/s' "$T/snd.status" || fail "-S: no HSTATS"
grep -Eqx "STATS;$AID;[0-9]+;0;0;1MB;[0-9]+\.[0-9]{3};[0-9]+\.[0-9]{2}KB/s" "$T/snd.status" ||
    fail "-S: no STATS for $AID: $(grep STATS "$T/snd.status")"
[ "$(grep -c '^STATS;' "$T/snd.status")" = 3 ] || fail "-S: $(grep -c '^STATS;' "$T/snd.status") STATS lines"
grep -q "3 receivers: 3 done" "$T/uftp1.log" || fail "uftp: no summary: $(tail -5 "$T/uftp1.log")"

echo "[uftp on a terminal: progress line and summary table]"
mkdir -p "$T/src3"
head -c 2500000 /dev/urandom >"$T/src3/tty.bin"
script -q -e -c "ip netns exec $(netns_ns lan1) $UFTP -Y none -R 8000 -s 10 -H $AID,0x0A0B0C0D $T/src3/tty.bin" \
    "$T/tty.out" >/dev/null 2>&1
rc=$?
[ "$rc" = 0 ] || fail "uftp on a terminal: exit $rc"
tr '\r' '\n' <"$T/tty.out" >"$T/tty.lines"
grep -Eq '^1/1 tty\.bin +[0-9]+% [0-9.]+ [KM]B/s ETA [0-9]+:[0-9]{2} \| receivers: 0 done, 1 active, 0 lost' \
    "$T/tty.lines" || fail "no progress line: $(grep -a 'tty.bin' "$T/tty.lines" | head -3)"
grep -Eq '^receiver +status +files +data +speed' "$T/tty.lines" || fail "no summary table"
grep -Eq "^$AID +done +1/1 +2\.5 MB +[0-9.]+ [KM]B/s" "$T/tty.lines" || fail "no summary row for $AID"
grep -Eq '^0x0A0B0C0D +no reply +0/1 ' "$T/tty.lines" || fail "no summary row for the silent receiver"
grep -q '^2 receivers: 1 done, 1 no reply' "$T/tty.lines" || fail "no tally"

echo "[-A: a replaced file moves to the backup dir]"
mkdir -p "$T/src2"
echo "version 1" >"$T/src2/f.txt"
run_uftp lan1 uftp2 30 -Y none -R 50000 -s 10 -H "$AID" "$T/src2/f.txt"
[ "$UFTP_RC" = 0 ] || fail "backup session 1: exit $UFTP_RC"
echo "version 2" >"$T/src2/f.txt"
run_uftp lan1 uftp3 30 -Y none -R 50000 -s 10 -H "$AID" "$T/src2/f.txt"
[ "$UFTP_RC" = 0 ] || fail "backup session 2: exit $UFTP_RC"
[ "$(cat "$T/da/f.txt")" = "version 2" ] || fail "-A: f.txt not replaced"
bk=$(find "$T/ba" -type f -path "*${T#/}/da/f.txt")
[ -n "$bk" ] && [ "$(cat "$bk")" = "version 1" ] || fail "-A: no backup of version 1: $(find "$T/ba")"
echo "$bk" | grep -Eq "^$T/ba/[0-9]{8}/[0-9]{6}/" || fail "-A: backup path $bk"

echo "[SIGHUP in the middle of a transfer]"
head -c 3000000 /dev/urandom >"$T/src2/slow.bin"
netns_spawn lan1 "$T/uftp4.log" "$UFTP" -Y none -R 5000 -s 10 -H "$AID" "$T/src2/slow.bin"
ps=$NETNS_LAST_PID
for ((k = 0; k < 100; k++)); do grep -q "received request" "$T/uftpda.log" && break; sleep 0.05; done
sleep 1
grep -q "using private multicast address" "$T/uftpda.log" && fail "log level 2 logged a level-3 line"
# Level 3 now, a server list with this sender, a new post-receive command.
echo "$SID|$(netns_ip4 lan1)|0" >"$T/servers"
sed -i -e 's/^log-level = 2;/log-level = 3;/' -e "s|post-a.sh|post-a2.sh|" "$T/a.conf"
echo "servers = \"$T/servers\";" >>"$T/a.conf"
echo "cache = 2097152;" >>"$T/a.conf" # needs a restart: only logged
printf '#!/bin/sh\necho "$*" >>"$0.out"\n' >"$T/post-a2.sh"
chmod 755 "$T/post-a2.sh"
kill -HUP "$pa"
netns_wait "$ps" 60
rc=$?
[ "$rc" = 0 ] || fail "session across SIGHUP: exit $rc"
cmp -s "$T/src2/slow.bin" "$T/da/slow.bin" || fail "slow.bin damaged or missing after SIGHUP"
grep -q "configuration re-read; 1 session in progress" "$T/uftpda.log" || fail "no reload logged: $(tail -5 "$T/uftpda.log")"
grep -q "reload: 1 allowed server" "$T/uftpda.log" || fail "the trust list was not applied"
grep -q "reload: 'cache' changed; it takes effect at the next restart" "$T/uftpda.log" ||
    fail "no restart-only warning for cache"
[ "$(grep -c "changed; it takes effect" "$T/uftpda.log")" = 1 ] || fail "live settings reported as restart-only"
grep -q -- "-I .* $T/da/slow.bin" "$T/post-a2.sh.out" 2>/dev/null || fail "the new post-receive command did not run"
run_uftp lan1 uftp5 30 -Y none -R 50000 -s 10 -H "$AID" "$T/src2/f.txt"
[ "$UFTP_RC" = 0 ] || fail "session after SIGHUP: exit $UFTP_RC"
grep -q "using private multicast address" "$T/uftpda.log" || fail "log level 3 not applied"
# A list without this sender: refused from now on.
echo "0x01020304|10.9.9.9|0" >"$T/servers"
kill -HUP "$pa"
for ((k = 0; k < 100; k++)); do [ "$(grep -c 'configuration re-read' "$T/uftpda.log")" = 2 ] && break; sleep 0.05; done
run_uftp lan1 uftp6 30 -Y none -R 50000 -s 10 -H "$AID" "$T/src2/f.txt"
[ "$UFTP_RC" = 0 ] && fail "a server removed from the list was still accepted"
grep -q "server not in server list" "$T/uftpda.log" || fail "no refusal logged"
# A broken config is refused and the running one kept.
sed -i 's/^log-level = 3;/log-level = 9;/' "$T/a.conf"
kill -HUP "$pa"
for ((k = 0; k < 100; k++)); do grep -q "keeping the running configuration" "$T/uftpda.log" && break; sleep 0.05; done
grep -q "a.conf:6: 'log-level' must be 0..5; keeping the running configuration" "$T/uftpda.log" ||
    fail "broken config on SIGHUP: $(tail -3 "$T/uftpda.log")"
kill -0 "$pa" 2>/dev/null || fail "a broken config on SIGHUP stopped uftpd"
# Back to a list with this sender.
sed -i 's/^log-level = 9;/log-level = 3;/' "$T/a.conf"
echo "$SID|$(netns_ip4 lan1)|0" >"$T/servers"
kill -HUP "$pa"
for ((k = 0; k < 100; k++)); do [ "$(grep -c 'configuration re-read' "$T/uftpda.log")" = 3 ] && break; sleep 0.05; done

echo "[SIGTERM in the middle of a transfer]"
netns_capture lan1 eth0 "$T/term.pcapng" || fail "no capture"
cap=$NETNS_LAST_PID
echo "old" >"$T/da/slow2.bin"
head -c 3000000 /dev/urandom >"$T/src2/slow2.bin"
netns_spawn lan1 "$T/uftp7.log" "$UFTP" -Y none -R 5000 -s 10 -H "$AID" "$T/src2/slow2.bin"
ps=$NETNS_LAST_PID
for ((k = 0; k < 100; k++)); do grep -q "slow2.bin" "$T/uftpda.log" && break; sleep 0.05; done
sleep 1
kill -TERM "$pa"
netns_wait "$pa" 15
rc=$?
[ "$rc" = 0 ] || fail "uftpd after SIGTERM: exit $rc"
netns_wait "$ps" 30
rc=$?
[ "$rc" = 9 ] || fail "the sender did not end with 'all receivers aborted' (9): exit $rc"
grep -q "aborted by client ${AID#0x}: Client shutting down" "$T/uftp7.log" || fail "the sender did not see the ABORT: $(tail -5 "$T/uftp7.log")"
sleep 0.3
netns_capture_stop "$cap"
n=$(tshark -r "$T/term.pcapng" -Y "uftp5.func == 19 && uftp5.src_id == $AID" 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "no ABORT from $AID on the wire"
[ "$(cat "$T/da/slow2.bin")" = old ] || fail "the old slow2.bin was not kept"
n=$(find "$T/da" -name '.~uftp-*' | wc -l)
[ "$n" = 0 ] || fail "$n temp files left after SIGTERM"
grep -q "^RESULT;.*;slow2.bin;2929KB;rejected$" "$T/a.status" || fail "-F: no rejected line for the aborted file"

echo "[SIGTERM stops a running post-receive command]"
start_daemon lan2 uftpda2 -D "$T/da" -s "$T/slow.sh" --post-receive-timeout 120
pa=$NETNS_LAST_PID
run_uftp lan1 uftp8 30 -Y none -R 50000 -s 10 -H "$AID" "$T/src2/f.txt"
[ "$UFTP_RC" = 0 ] || fail "session with a slow post-receive command: exit $UFTP_RC"
netns_wait_file "$T/slow.sh.pid" 5 || fail "the slow command did not start"
sp=$(cat "$T/slow.sh.pid" 2>/dev/null)
t0=$(date +%s)
kill -TERM "$pa"
netns_wait "$pa" 15
rc=$?
[ "$rc" = 0 ] || fail "uftpd with a running command, after SIGTERM: exit $rc"
[ $(($(date +%s) - t0)) -le 8 ] || fail "uftpd took $(($(date +%s) - t0)) s to stop"
[ -n "$sp" ] && kill -0 "$sp" 2>/dev/null && fail "the post-receive command $sp still runs"

stop_uftpd "$pb" uftpdb
stop_uftpd "$pc" uftpdc
for f in "$T"/uftpda*.log; do
    grep -q "Sanitizer\|runtime error" "$f" && fail "sanitizer report in $(basename "$f")"
done
finish
