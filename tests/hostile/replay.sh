#!/bin/bash
# Issue 14 item 9: a captured signed ANNOUNCE must not start a session again.
#
# uftpd -E -S names the server (ID, address, key fingerprint). The attacker
# holds a signed ANNOUNCE of that server (written by the forger with the
# server's key, as a capture would give it) and replays it from the
# server's address: (1) once the session it started has ended, within the
# window; (2) one stamped an hour ago. 5.0.1 and main never look at the
# timestamp: each replay starts a phantom session (a key exchange, a
# REGISTER to the real server). Figure: phantom sessions from replays
# (target 0).
#
#   replay.sh UFTPD HOSTILE_FORGE UFTP_KEYMGT
UFTPD=${1:?usage: replay.sh UFTPD HOSTILE_FORGE UFTP_KEYMGT} FORGE=${2:?} KEYMGT=${3:?}
TEST_TAG=hrep
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 3
A=lan1 R=lan2 S=lan3
RIP=$(netns_ip4 $R)
SIP=$(netns_ip4 $S)
SID=$(printf '%02X%02X%02X%02X' $(echo "$SIP" | tr . ' '))
netns_exec $A ping -c1 -W1 "$RIP" >/dev/null
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/server.pem" >/dev/null 2>&1 || fail "cannot make a key"
fp=$("$KEYMGT" "$NETNS_TMP/server.pem" 2>&1 | grep -o '[0-9A-F][0-9A-F]\(:[0-9A-F][0-9A-F]\)\{19\}' | head -n1)
echo "0x$SID|$SIP|0|$fp" >"$NETNS_TMP/servers"
mkdir -p "$NETNS_TMP/dest"
"$FORGE" --corpus "$NETNS_TMP/cap" --signed "$NETNS_TMP/server.pem" --server "$SID" \
    --group 5EED0009 --grtt 50 announce
"$FORGE" --corpus "$NETNS_TMP/old" --signed "$NETNS_TMP/server.pem" --server "$SID" \
    --group 5EED000A --grtt 50 --tstamp-offset -3600 announce

start_daemon $R uftpd "$UFTPD" -D "$NETNS_TMP/dest" -I eth0 -E -S "$NETNS_TMP/servers"
pid=$NETNS_LAST_PID
sessions() { grep -c "received request from $SID" "$NETNS_TMP/uftpd.log"; }
# The genuine ANNOUNCE, then its session ends (ABORT before keys, in clear).
forge $A --to "$RIP:1044" --spoof "$SIP/32" --replay "$NETNS_TMP/cap/announce-0" announce
sleep 0.3
forge $A --to "$RIP:1044" --spoof "$SIP/32" --server "$SID" --group 5EED0009 abort --seq 1
sleep 0.5
first=$(sessions)
[ "$first" = 1 ] || fail "the genuine ANNOUNCE started $first sessions"
# (1) The same datagram again, within the window.
forge $A --to "$RIP:1044" --spoof "$SIP/32" --replay "$NETNS_TMP/cap/announce-0" announce
sleep 0.3
# (2) An hour-old signed ANNOUNCE.
forge $A --to "$RIP:1044" --spoof "$SIP/32" --replay "$NETNS_TMP/old/announce-0" announce
sleep 0.3
phantoms=$(($(sessions) - first))
figure "replayed signed ANNOUNCEs (one within the window after its session ended, one an hour old): $phantoms phantom sessions"
[ "$phantoms" = 0 ] || fail "$phantoms phantom sessions from replayed ANNOUNCEs"
stop_daemon "$pid" uftpd
finish
