#!/bin/bash
# Issue 14 item 4: -A backups that never overwrite, and no @DELETE
# without its backup.
#
# The destination holds victim.txt ("original"). A hostile session sends
# victim.txt twice and then @DELETE victim.txt: 5.0.1 and main back up
# "original", then overwrite that backup with the first replacement's, then
# with the second's: the original is gone. Then, with the backup dir's
# date directory made unusable, a session deletes keep.txt: 5.0.1 and main
# fall back to a real delete. Figure: whether each original can still be
# found (in the destination or under the backup dir).
#
#   backups.sh UFTPD HOSTILE_SENDER
UFTPD=${1:?usage: backups.sh UFTPD HOSTILE_SENDER} HOSTILE=${2:?}
TEST_TAG=hbak
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
HOSTILE=$(readlink -f "$HOSTILE")

netns_lan lan 2
D=$NETNS_TMP/dest B=$NETNS_TMP/backup
mkdir -p "$D" "$B"
echo original >"$D/victim.txt"
echo original2 >"$D/keep.txt"

# find_content DIR TEXT: a file under DIR holding exactly TEXT?
find_content() {
    grep -rlx --include='*' "$2" "$1" 2>/dev/null | head -n1
}

start_daemon lan2 uftpd "$UFTPD" -D "$D" -A "$B"
pid=$NETNS_LAST_PID
netns_exec lan1 "$HOSTILE" 230.4.4.1 230.5.5.61 f:victim.txt:evil1 f:victim.txt:evil2 \
    x:victim.txt >"$NETNS_TMP/h1.out" 2>>"$NETNS_TMP/hostile.err"
cat "$NETNS_TMP/h1.out" | sed 's/^/  /'
where=$(find_content "$B" original)
if [ -n "$where" ]; then
    figure "same name replaced twice, then deleted, with -A: the original is in ${where#"$NETNS_TMP"/}"
else
    figure "same name replaced twice, then deleted, with -A: the original is gone"
    fail "the original victim.txt was lost"
fi
[ -n "$(find_content "$B" evil1)" ] || fail "the first replacement's backup was lost"

# The backup dir's date directory is a file: no backup can be made today.
today=$(date +%Y%m%d)
[ -d "$B/$today" ] && mv "$B/$today" "$B/moved-$today"
echo blocker >"$B/$today"
netns_exec lan1 "$HOSTILE" 230.4.4.1 230.5.5.62 x:keep.txt >"$NETNS_TMP/h2.out" \
    2>>"$NETNS_TMP/hostile.err"
sed 's/^/  /' "$NETNS_TMP/h2.out"
if [ -f "$D/keep.txt" ] && [ "$(cat "$D/keep.txt")" = original2 ]; then
    figure "@DELETE with -A when no backup can be made: keep.txt is still there"
else
    figure "@DELETE with -A when no backup can be made: keep.txt was deleted without a backup"
    fail "keep.txt was deleted without its backup"
fi
stop_daemon "$pid" uftpd
finish
