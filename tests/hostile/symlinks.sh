#!/bin/bash
# Issue 14 item 6: received symlinks and the post-receive command.
#
# Outside the destination lies secret.txt. A hostile session sends a link
# "leak" pointing at it, with uftpd -T (the session dir moved into the
# destination at its end) and a post-receive command (-s) that prints what
# it is given. 5.0.1 and main accept any target and hand the link to -s as
# a received file: the operator's own script reads the secret. Figures:
# with the defaults, whether the link was made and whether the script read
# the secret; with --symlinks any (the reference's behaviour), the link is
# made but never given to -s; an inside link is accepted by default.
#
#   symlinks.sh UFTPD HOSTILE_SENDER
UFTPD=${1:?usage: symlinks.sh UFTPD HOSTILE_SENDER} HOSTILE=${2:?}
TEST_TAG=hlink
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
HOSTILE=$(readlink -f "$HOSTILE")

netns_lan lan 2
O=$NETNS_TMP/outside
mkdir -p "$O"
echo "THE SECRET" >"$O/secret.txt"
cat >"$NETNS_TMP/post.sh" <<EOS
#!/bin/sh
shift 2
for f in "\$@"; do echo "GOT \$f"; cat "\$f" 2>/dev/null; echo; done >>"$NETNS_TMP/post.out"
EOS
chmod 755 "$NETNS_TMP/post.sh"

run() {
    local name=$1 pid
    shift
    rm -f "$NETNS_TMP/post.out"
    mkdir -p "$NETNS_TMP/d-$name" "$NETNS_TMP/t-$name"
    start_daemon lan2 "uftpd-$name" "$UFTPD" -D "$NETNS_TMP/d-$name" -T "$NETNS_TMP/t-$name" \
        -s "$NETNS_TMP/post.sh" "$@"
    pid=$NETNS_LAST_PID
    netns_exec lan1 "$HOSTILE" 230.4.4.1 230.5.5.64 "l:leak:$O/secret.txt" f:ok.txt:fine \
        l:inside:ok.txt >"$NETNS_TMP/h-$name.out" 2>>"$NETNS_TMP/hostile.err"
    sed 's/^/  /' "$NETNS_TMP/h-$name.out"
    for ((i = 0; i < 50; i++)); do
        [ -s "$NETNS_TMP/post.out" ] && break
        sleep 0.1
    done
    sleep 0.3
    stop_daemon "$pid" "uftpd-$name"
    sed 's/^/  post: /' "$NETNS_TMP/post.out" 2>/dev/null
}

run default
made=no
[ -L "$NETNS_TMP/d-default/leak" ] && made=yes
read_=no
grep -q "THE SECRET" "$NETNS_TMP/post.out" 2>/dev/null && read_=yes
figure "defaults: link to a file outside made: $made; the post-receive command read it: $read_"
[ "$made" = no ] || fail "a link to outside the destination was made by default"
[ "$read_" = no ] || fail "the post-receive command was given the link and read the secret"
[ -L "$NETNS_TMP/d-default/inside" ] || fail "a link inside the destination was refused by default"
grep -q "GOT .*ok.txt" "$NETNS_TMP/post.out" 2>/dev/null || fail "ok.txt was not reported to -s"

if "$UFTPD" --help 2>&1 | grep -q -- --symlinks; then
    run any --symlinks any
    made=no
    [ -L "$NETNS_TMP/d-any/leak" ] && made=yes
    read_=no
    grep -q "THE SECRET\|GOT .*leak" "$NETNS_TMP/post.out" 2>/dev/null && read_=yes
    figure "--symlinks any: link made: $made; given to the post-receive command: $read_"
    [ "$made" = yes ] || fail "--symlinks any refused the link"
    [ "$read_" = no ] || fail "--symlinks any: the link was given to -s"
fi
finish
