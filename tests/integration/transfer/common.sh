# shellcheck shell=bash
#
# common.sh — shared by the transfer tests (real uftp / uftpd processes in
# network namespaces, tests/lib/netns.sh). Source it after setting
#   UFTP, UFTPD     the binaries (first two arguments of every test)
# It sources netns.sh, checks for root (exit 77 otherwise) and starts a run.
#
#   fail MSG                    count a failure (the test exits 1 at the end)
#   finish                      print the verdict and exit
#   make_tree DIR MB            a sample tree: a file of MB MiB, an empty file,
#                               an empty dir, nested dirs, a symlink to a
#                               file and one to a dir, an odd-sized file
#   tree_sig DIR                one line per entry: path, type, sha256 / target
#   same_tree A B WHAT          fail unless tree_sig A == tree_sig B
#   start_uftpd HOST NAME ARGS  uftpd -d in HOST, log $NETNS_TMP/NAME.log;
#                               waits until it listens; PID in NETNS_LAST_PID
#   stop_uftpd PID NAME         SIGTERM; fail unless it exits 0 with no
#                               sanitizer report in its log
#   run_uftp HOST NAME SECS ARGS   uftp in HOST (log $NETNS_TMP/NAME.log);
#                               sets UFTP_RC to its exit code
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/netns.sh
. "$here/../../lib/netns.sh"

UFTP=$(readlink -f "$UFTP")
UFTPD=$(readlink -f "$UFTPD")
netns_require_root nft sha256sum
netns_init "${TEST_TAG:-xfer}"

FAILS=0
T0=$(date +%s.%N)
fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

finish() {
    local t
    t=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS failure(s) in ${t}s; logs:"
        for f in "$NETNS_TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $(basename "$f")"
            tail -n 40 "$f"
        done
        exit 1
    fi
    echo "PASS in ${t}s"
    exit 0
}

make_tree() {
    local d=$1 mb=$2
    mkdir -p "$d/sub/deep/deeper" "$d/emptydir" "$d/sub/empty2"
    head -c $((mb * 1048576)) /dev/urandom >"$d/big.bin"
    : >"$d/empty"
    echo "hello, world" >"$d/sub/deep/a.txt"
    head -c 70001 /dev/urandom >"$d/sub/deep/deeper/odd.bin"
    head -c 1300 /dev/urandom >"$d/sub/oneblock.bin"
    ln -s sub/deep/a.txt "$d/link"
    ln -s deep "$d/sub/dirlink"
    touch -d '2001-02-03 04:05:06' "$d/sub/deep/a.txt"
}

tree_sig() {
    (
        cd "$1" || exit 1
        find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
            if [ -L "$p" ]; then
                echo "$p l $(readlink "$p")"
            elif [ -d "$p" ]; then
                echo "$p d"
            else
                echo "$p f $(sha256sum <"$p" | cut -d' ' -f1) $(stat -c %Y "$p")"
            fi
        done
    )
}

same_tree() {
    local a=$1 b=$2 what=$3
    if ! diff <(tree_sig "$a") <(tree_sig "$b") >"$NETNS_TMP/diff.$$" 2>&1; then
        fail "$what: trees differ"
        head -n 20 "$NETNS_TMP/diff.$$"
    fi
}

start_uftpd() {
    local host=$1 name=$2 i
    shift 2
    netns_spawn "$host" "$NETNS_TMP/$name.log" "$UFTPD" -d -x 3 "$@"
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on port" "$NETNS_TMP/$name.log" 2>/dev/null && break
        kill -0 "$NETNS_LAST_PID" 2>/dev/null || break
        sleep 0.05
    done
    if ! kill -0 "$NETNS_LAST_PID" 2>/dev/null; then
        fail "uftpd $name did not start"
        cat "$NETNS_TMP/$name.log"
    fi
}

stop_uftpd() {
    local pid=$1 name=$2 rc
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        fail "uftpd $name died (exit $?)"
        return
    fi
    kill -TERM "$pid"
    netns_wait "$pid" 10
    rc=$?
    [ "$rc" = 0 ] || fail "uftpd $name exited $rc after SIGTERM"
    if grep -q "Sanitizer\|runtime error" "$NETNS_TMP/$name.log"; then
        fail "sanitizer report from uftpd $name"
    fi
}

run_uftp() {
    local host=$1 name=$2 secs=$3
    shift 3
    netns_spawn "$host" "$NETNS_TMP/$name.log" "$UFTP" "$@"
    netns_wait "$NETNS_LAST_PID" "$secs"
    UFTP_RC=$?
    if grep -q "Sanitizer\|runtime error" "$NETNS_TMP/$name.log"; then
        fail "sanitizer report from uftp $name"
    fi
}
