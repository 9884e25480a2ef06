#!/bin/bash
# Issue 14 item 5: -T state belongs to (server, group, instance).
#
# A real session (server 0A0B0C0D, group 5EED5EED) under uftpd -T receives
# victim.txt completely, then pauses before its end. Meanwhile another
# server (66666666) announces the same group ID with instance 1, starts a
# file, and sends ABORT. 5.0.1 and main name the temp dir by group ID only: the attacker's
# aborted session removes it, and the victim's completed file never
# reaches the destination. Figure: whether victim.txt arrived.
#
#   tempdir.sh UFTPD HOSTILE_SENDER HOSTILE_FORGE
UFTPD=${1:?usage: tempdir.sh UFTPD HOSTILE_SENDER HOSTILE_FORGE} HOSTILE=${2:?} FORGE=${3:?}
TEST_TAG=htmp
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
HOSTILE=$(readlink -f "$HOSTILE")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 3
RIP=$(netns_ip4 lan2)
D=$NETNS_TMP/dest T=$NETNS_TMP/temp
mkdir -p "$D" "$T"
start_daemon lan2 uftpd "$UFTPD" -D "$D" -T "$T"
pid=$NETNS_LAST_PID
HOSTILE_GROUP=5EED5EED netns_spawn lan1 "$NETNS_TMP/victim.out" env HOSTILE_GROUP=5EED5EED \
    "$HOSTILE" 230.4.4.1 230.5.5.63 f:victim.txt:precious p:2500
vpid=$NETNS_LAST_PID
for ((i = 0; i < 50; i++)); do
    grep -q "victim.txt" "$NETNS_TMP/victim.out" 2>/dev/null && break
    sleep 0.1
done
ls -R "$T" | sed 's/^/  temp: /'
# The other server: same group, instance 1, a file of its own, then ABORT.
cid=$(printf '%02X%02X%02X%02X' $(echo "$RIP" | tr . ' '))
forge lan3 --to "$RIP:1044" --server 66666666 --group 5EED5EED --inst 1 announce --grtt 50
sleep 0.2
forge lan3 --to "$RIP:1044" --server 66666666 --group 5EED5EED --inst 1 fileinfo --client "$cid" \
    --name junk.bin --size 100 --seq 1
sleep 0.2
ls -R "$T" | sed 's/^/  temp: /'
forge lan3 --to "$RIP:1044" --server 66666666 --group 5EED5EED --inst 1 abort --seq 2
sleep 0.3
netns_wait "$vpid" 30
sed 's/^/  /' "$NETNS_TMP/victim.out"
if [ "$(cat "$D/victim.txt" 2>/dev/null)" = precious ]; then
    figure "another server's ABORT on the same group ID: victim.txt delivered"
else
    figure "another server's ABORT on the same group ID: victim.txt lost"
    fail "victim.txt was not delivered"
fi
stop_daemon "$pid" uftpd
finish
