#!/bin/bash
# Issue 14 item 3: junk ANNOUNCEs must not starve a real encrypted session
# of public-key work.
#
# uftpd runs with -E and a -S line naming the real server with its address
# and key fingerprint. For 12 s the attacker sends 20,000 encrypted junk
# ANNOUNCEs a second from spoofed sources: a third claim the real server's
# ID with junk RSA-1024 keys (the cheapest key to claim, and the wrong
# fingerprint), a third carry the real server's
# key with signatures that do not verify (so only verifying tells them
# apart), a third come from unlisted servers. Meanwhile the real server
# (our uftp, AES-256-GCM, ECDSA key) sends a file. Figures: seconds until
# uftpd confirms the real session (target: at its first attempt, well under
# 2 s; with one global budget charged before the cheap checks, as on main,
# each attempt has a few per cent chance: seconds to minutes, or exit 7),
# uftp's exit code, and how much junk uftpd checked or refused.
#
#   keywork.sh UFTP UFTPD HOSTILE_FORGE UFTP_KEYMGT
UFTP=${1:?usage: keywork.sh UFTP UFTPD HOSTILE_FORGE UFTP_KEYMGT} UFTPD=${2:?} FORGE=${3:?}
KEYMGT=${4:?}
TEST_TAG=hkey
. "$(dirname "$0")/common.sh"
UFTP=$(readlink -f "$UFTP")
UFTPD=$(readlink -f "$UFTPD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 3
A=lan1 R=lan2 S=lan3
RIP=$(netns_ip4 $R)
SIP=$(netns_ip4 $S)
L=$(netns_lan_subnet lan)
hexid() { printf '%02X%02X%02X%02X' $(echo "$1" | tr . ' '); }
RID=$(hexid "$RIP")
SID=$(hexid "$SIP")
netns_exec $A ping -c1 -W1 "$RIP" >/dev/null
netns_exec $S ping -c1 -W1 "$RIP" >/dev/null
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/server.pem" >/dev/null 2>&1 || fail "cannot make a key"
fp=$("$KEYMGT" "$NETNS_TMP/server.pem" 2>&1 | grep -o '[0-9A-F][0-9A-F]\(:[0-9A-F][0-9A-F]\)\{19\}' | head -n1)
[ -n "$fp" ] || fail "no fingerprint"
echo "0x$SID|$SIP|0|$fp" >"$NETNS_TMP/servers"
mkdir -p "$NETNS_TMP/src" "$NETNS_TMP/dest"
head -c 2000000 /dev/urandom >"$NETNS_TMP/src/file.bin"

start_daemon $R uftpd "$UFTPD" -D "$NETNS_TMP/dest" -I eth0 -E -S "$NETNS_TMP/servers"
rpid=$NETNS_LAST_PID
pids=()
[ "${NO_JUNK:-0}" = 1 ] ||
for kind in "--junk-rsa --server $SID" "--copy-key $NETNS_TMP/server.pem --server $SID" \
    "--junk-key --server 66666666"; do
    # shellcheck disable=SC2086
    netns_spawn $A "$NETNS_TMP/forge-${#pids[@]}.log" "$FORGE" --to "$RIP:1044" \
        --spoof "10.$L.0.128/25" announce $kind --rate 6667 --duration 12
    pids+=("$NETNS_LAST_PID")
done
sleep 1
t0=$(date +%s.%N)
netns_spawn $S "$NETNS_TMP/uftp.log" "$UFTP" -x 3 -I eth0 -Y aes256-gcm -k "$NETNS_TMP/server.pem" \
    -H "$RID" -R 20000 "$NETNS_TMP/src/file.bin"
netns_wait "$NETNS_LAST_PID" 60
rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
stamp() { date -d "$(cut -c1-23 <<<"$1" | tr / -)" +%s.%N; }
line=$(grep -m1 "received request from $SID at $SIP" "$NETNS_TMP/uftpd.log")
grp=${line#*\[}
grp=${grp%%/*}
reg=$(grep -m1 "\[$grp/0\] registration confirmed" "$NETNS_TMP/uftpd.log")
regsecs=never
[ -n "$line" ] && [ -n "$reg" ] &&
    regsecs=$(awk -v a="$t0" -v b="$(stamp "$reg")" 'BEGIN { printf "%.2f", b - a }')
sent=0
for p in "${pids[@]}"; do
    netns_wait "$p" 30 >/dev/null
done
for f in "$NETNS_TMP"/forge-*.log; do
    n=$(sed -n 's/.* sent=\([0-9]*\).* secs=\([0-9.]*\).*/\1/p' "$f")
    sent=$((sent + ${n:-0}))
done
figure "real encrypted session under $(awk -v n="$sent" 'BEGIN { printf "%.0f", n / 12 }') junk ANNOUNCEs/s: registered after $regsecs s, uftp exit $rc after $secs s"
[ "$rc" = 0 ] || fail "the real session failed (uftp exit $rc)"
at_most "${regsecs/never/inf}" 2 || fail "the real session registered after $regsecs s (> 2 s)"
cmp -s "$NETNS_TMP/src/file.bin" "$NETNS_TMP/dest/file.bin" || fail "file not delivered"
stop_daemon "$rpid" uftpd
grep "dropped: " "$NETNS_TMP/uftpd.log" | tail -n1 | sed 's/^.*uftpd: /  uftpd /'
finish
