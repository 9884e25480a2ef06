#!/bin/bash
# Issue 3, test 3: a hostile sender (hostile_sender.c) offers uftpd names
# that try to escape the destination (spec §6 items 1, 2): "..", the
# reference's "a..b/../../x" hole, absolute names outside every -D, NUL,
# empty and "." components, backslashes, a symlink to the outside and then
# files through it or in its place. Nothing may appear or change outside
# the destination; every refusal is logged; uftpd stays up and serves a
# normal session afterwards.
#
#   escape.sh UFTP UFTPD HOSTILE_SENDER
UFTP=${1:?usage: escape.sh UFTP UFTPD HOSTILE} UFTPD=${2:?} HOSTILE=${3:?}
TEST_TAG=escape
. "$(dirname "$0")/common.sh"

netns_lan lan 2
D=$NETNS_TMP/dest
O=$NETNS_TMP/outside
mkdir -p "$D" "$O/sub"
echo "original" >"$O/victim"
before=$(cd "$NETNS_TMP" && find . -path ./dest -prune -o -print | LC_ALL=C sort | grep -v '\.log$')
osum=$(cat "$O/victim")

# --symlinks any: links with any target are accepted, as 5.0.1 does, so that
# what follows shows that even then nothing is written through them (the
# default, --symlinks beneath, refuses "evil" and "trap" outright:
# tests/hostile/symlinks.sh).
start_uftpd lan2 uftpd -D "$D" -x 3 --symlinks any
pid=$NETNS_LAST_PID

# index name -> expected: r = refused (COMPLETE rejected), a = accepted,
# (5.0.1 takes a name with a NUL inside as the part before the NUL; we
# refuse it: the field holds two strings.)
items=(
    "f:../x:escape1"                 r
    "f:a..b/../../x:escape2"         r
    "f:$O/abs.txt:escape3"           r
    "f:/etc/uftp-escape-test:escape4" r
    "f:$D:isdest"                    r
    "f:ok%00/../../x:nul"            r
    "f:a//b:empty"                   r
    "f:./dot:dot"                    r
    "f:a/./b:dot2"                   r
    "f:back%5c..%5cx:backslash"      r
    "f:%0a:ctrl"                     r
    "d:../escdir"                    r
    "l:../esclink:/etc/passwd"       r
    "l:evil:$O"                      a
    "f:evil/planted.txt:through-link" r
    "f:evil/sub/planted.txt:deep-through-link" r
    "d:evil/newdir"                  r
    "l:evil/l2:x"                    r
    "l:trap:$O/victim"               a
    "f:trap:replaced-not-followed"   a
    "f:good.txt:hello"               a
    "f:$D/abs_ok.txt:inside"         a
    "f:deep/er/file.txt:nested"      a
)
args=()
for ((i = 0; i < ${#items[@]}; i += 2)); do
    args+=("${items[$i]}")
done
netns_exec lan1 "$HOSTILE" 230.4.4.1 230.5.5.77 "${args[@]}" >"$NETNS_TMP/hostile.out" \
    2>"$NETNS_TMP/hostile.log"
rc=$?
[ "$rc" = 0 ] || fail "hostile sender: exit $rc (some names got no answer)"
cat "$NETNS_TMP/hostile.out" | sed 's/^/  /'

k=0
for ((i = 0; i < ${#items[@]}; i += 2)); do
    k=$((k + 1))
    want=${items[$((i + 1))]}
    got=$(awk -v k=$k '$1 == k { print $NF }' "$NETNS_TMP/hostile.out")
    case $want:$got in
    r:complete-3 | a:accepted | a:complete-0) ;;
    *) fail "item $k '${items[$i]}': got '$got', expected $([ "$want" = r ] && echo refused || echo accepted)" ;;
    esac
done

# Nothing outside the destination appeared or changed.
after=$(cd "$NETNS_TMP" && find . -path ./dest -prune -o -print | LC_ALL=C sort | grep -v '\.log$\|hostile.out')
if [ "$before" != "$after" ]; then
    fail "the tree outside the destination changed"
    diff <(echo "$before") <(echo "$after")
fi
[ "$(cat "$O/victim")" = "$osum" ] || fail "outside/victim was modified"
[ ! -e /etc/uftp-escape-test ] || { fail "/etc/uftp-escape-test written"; rm -f /etc/uftp-escape-test; }
[ ! -e "$D/a..b" ] || fail "dest/a..b left behind (5.0.1's half-refusal)"
# What the accepted items made, and only that.
[ "$(cat "$D/good.txt")" = hello ] || fail "good.txt not written"
[ "$(cat "$D/abs_ok.txt")" = inside ] || fail "abs_ok.txt not written"
[ "$(cat "$D/deep/er/file.txt")" = nested ] || fail "deep/er/file.txt not written"
[ -L "$D/evil" ] || fail "the evil link was not kept as a link"
[ -f "$D/trap" ] && [ ! -L "$D/trap" ] && [ "$(cat "$D/trap")" = replaced-not-followed ] ||
    fail "trap: the link was not replaced by a regular file"
leftover=$(find "$D" -name '.~uftp-*' | wc -l)
[ "$leftover" = 0 ] || fail "$leftover temp files left in the destination"

# Every refusal was logged, and the daemon is still there.
nref=$(grep -c "rejecting file\|refused\|cannot open\|cannot create\|rejected" "$NETNS_TMP/uftpd.log")
nwant=$(printf '%s\n' "${items[@]}" | grep -cx r)
[ "$nref" -ge "$nwant" ] || fail "only $nref refusals logged for $nwant hostile names"
grep -i "reject\|refus" "$NETNS_TMP/uftpd.log" | head -n 30 | sed 's/^/  log: /'
kill -0 "$pid" 2>/dev/null || fail "uftpd died"

# And it still works for an honest sender.
mkdir -p "$NETNS_TMP/src"
echo "after the attack" >"$NETNS_TMP/src/honest.txt"
run_uftp lan1 uftp 60 -Y none -R 100000 -s 10 "$NETNS_TMP/src/honest.txt"
[ "$UFTP_RC" = 0 ] || fail "honest session after the attack: exit $UFTP_RC"
cmp -s "$NETNS_TMP/src/honest.txt" "$D/honest.txt" || fail "honest.txt not received"
stop_uftpd "$pid" uftpd
finish
