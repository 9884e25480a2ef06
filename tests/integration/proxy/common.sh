# shellcheck shell=bash
#
# common.sh — shared by the proxy tests (real uftp / uftpd / uftpproxyd in
# network namespaces, tests/lib/netns.sh). Source it after setting
#   UFTP UFTPD UFTPPROXYD   the binaries (the test's arguments)
# It sources netns.sh, checks for root (exit 77 otherwise) and starts a run.
#
# Networks are truly disjoint: separate bridges, and a proxy host has one
# interface on each side with IP forwarding off (netns_add's default), so
# only the proxies carry a session from one network to another.
#
# Interop runs: UFTP_REF_DIR=/path/to/uftp-5.0.1 (the reference binaries,
# built by hand outside the repository) with UFTP_REF_ROLE=ends (the
# default: the reference uftp and uftpd at the ends, our proxies between
# them), UFTP_REF_ROLE=proxy (the reference uftpproxyd between our ends) or
# UFTP_REF_ROLE=all (only reference binaries: the baseline to compare with).
#
#   fail MSG / finish           as in the transfer tests
#   make_files DIR MB           big.bin (MB MiB), small.txt, empty, sub/odd.bin
#   same_files A B WHAT         sha256 of every file of A equals B's
#   ref_stranded PXLOG RLOG ID  a receiver the 5.0.1 proxy never gave keys (known defect)
#   start_proxy HOST NAME ARGS  uftpproxyd -d in HOST (log NAME.log), waits for it
#   start_uftpd HOST NAME ARGS  uftpd -d in HOST, waits until it listens
#   stop_all                    SIGTERM to every daemon started; fail unless it exits 0
#                               (ours) and its log has no sanitizer report
#   run_uftp HOST NAME SECS ARGS  uftp in HOST; sets UFTP_RC
#   id_of ADDR                  the ID an IPv4 address gives (0x0A5A030B)
#   keyfp KEYFILE               the SHA-1 fingerprint uftp_keymgt prints
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/netns.sh
. "$here/../../lib/netns.sh"

UFTP=$(readlink -f "$UFTP")
UFTPD=$(readlink -f "$UFTPD")
UFTPPROXYD=$(readlink -f "$UFTPPROXYD")
REF=${UFTP_REF_DIR:-}
if [ -n "$REF" ]; then
    if [ "${UFTP_REF_ROLE:-ends}" = proxy ]; then
        UFTPPROXYD=$REF/uftpproxyd
    elif [ "${UFTP_REF_ROLE:-ends}" = all ]; then
        UFTP=$REF/uftp
        UFTPD=$REF/uftpd
        UFTPPROXYD=$REF/uftpproxyd
    else
        UFTP=$REF/uftp
        UFTPD=$REF/uftpd
    fi
    for b in "$UFTP" "$UFTPD" "$UFTPPROXYD"; do
        [ -x "$b" ] || { echo "SKIP: no $b" >&2; exit 77; }
    done
fi
netns_require_root nft sha256sum
netns_init "${TEST_TAG:-proxy}"

FAILS=0
T0=$(date +%s.%N)
declare -a DAEMONS=()
declare -A DAEMON_NAME=()
declare -A DAEMON_REF=()
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
            tail -n 30 "$f"
        done
        exit 1
    fi
    echo "PASS in ${t}s"
    exit 0
}

is_ref() { [ -n "$REF" ] && [ "${1#"$REF"/}" != "$1" ]; }
is_ref_pid() { [ "${DAEMON_REF[$1]:-0}" = 1 ]; }

make_files() {
    local d=$1 mb=$2
    mkdir -p "$d/sub"
    head -c $((mb * 1048576)) /dev/urandom >"$d/big.bin"
    echo "hello, proxies" >"$d/small.txt"
    : >"$d/empty"
    head -c 70001 /dev/urandom >"$d/sub/odd.bin"
}

same_files() {
    local a=$1 b=$2 what=$3 f
    while IFS= read -r f; do
        if [ ! -f "$b/$f" ]; then
            fail "$what: $f missing"
        elif [ "$(sha256sum <"$a/$f")" != "$(sha256sum <"$b/$f")" ]; then
            fail "$what: $f differs"
        fi
    done < <(cd "$a" && find . -type f | sed 's|^\./||')
}

# ref_stranded PROXYLOG RECEIVERLOG ID: true when the 5.0.1 client proxy
# (UFTP_REF_ROLE=proxy) stranded this receiver without keys: it knew the
# client (REGISTER) but sent at most one KEYINFO after that, never repeating
# it. Two known 5.0.1 defects do this under loss: KEYINFO goes out only in
# phase READY (a client whose REGISTER came after the others acknowledged
# gets none, handle_regconf), and its 2·GRTT KEYINFO retry timer restarts on
# every message (set_timeout), so a lost KEYINFO is not repeated once data
# flows. Our proxy repeats KEYINFO until acknowledged.
ref_stranded() {
    local px=$1 rl=$2 id=$3 reg
    is_ref "$UFTPPROXYD" || return 1
    grep -q "keys established\|registration confirmed" "$rl" && return 1
    grep -q "Received KEYINFO_ACK from $id" "$px" && return 1
    reg=$(grep -n "Received REGISTER from $id" "$px" | head -n1 | cut -d: -f1)
    [ -n "$reg" ] || return 1
    [ "$(tail -n +"$reg" "$px" | grep -c "Sending KEYINFO")" -le 1 ]
}

# wait_log FILE PATTERN PID: until the pattern is logged (5 s), or the process died.
wait_log() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

start_proxy() {
    local host=$1 name=$2
    shift 2
    netns_spawn "$host" "$NETNS_TMP/$name.log" "$UFTPPROXYD" -d -x "${PROXY_LOG_LEVEL:-3}" "$@"
    local pid=$NETNS_LAST_PID
    DAEMONS+=("$pid")
    DAEMON_NAME[$pid]=$name
    is_ref "$UFTPPROXYD" && DAEMON_REF[$pid]=1
    if is_ref "$UFTPPROXYD"; then
        sleep 0.3
    elif ! wait_log "$NETNS_TMP/$name.log" "listening on port" "$pid"; then
        fail "uftpproxyd $name did not start"
    fi
    kill -0 "$pid" 2>/dev/null || fail "uftpproxyd $name died at start"
}

start_uftpd() {
    local host=$1 name=$2
    shift 2
    netns_spawn "$host" "$NETNS_TMP/$name.log" "$UFTPD" -d -x 3 "$@"
    local pid=$NETNS_LAST_PID
    DAEMONS+=("$pid")
    DAEMON_NAME[$pid]=$name
    is_ref "$UFTPD" && DAEMON_REF[$pid]=1
    if is_ref "$UFTPD"; then
        sleep 0.2
    elif ! wait_log "$NETNS_TMP/$name.log" "listening on port" "$pid"; then
        fail "uftpd $name did not start"
    fi
}

stop_all() {
    local pid rc name
    for pid in "${DAEMONS[@]}"; do
        name=${DAEMON_NAME[$pid]}
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            fail "$name died (exit $?)"
            continue
        fi
        kill -TERM "$pid"
    done
    for pid in "${DAEMONS[@]}"; do
        name=${DAEMON_NAME[$pid]}
        netns_wait "$pid" 10
        rc=$?
        # The reference daemons exit with their own codes on SIGTERM.
        if ! is_ref_pid "$pid" && [ "$rc" != 0 ]; then
            fail "$name exited $rc after SIGTERM"
        fi
        if grep -q "Sanitizer\|runtime error" "$NETNS_TMP/$name.log"; then
            fail "sanitizer report from $name"
        fi
    done
    DAEMONS=()
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

id_of() {
    local IFS=.
    # shellcheck disable=SC2206
    local o=($1)
    printf '0x%02X%02X%02X%02X' "${o[0]}" "${o[1]}" "${o[2]}" "${o[3]}"
}

# A P-256 key in PEM (SEC1), and its fingerprint as uftp_keymgt prints it.
make_key() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null
    chmod 600 "$1"
}

keyfp() {
    # SHA-1 of the key blob (spec §1.3): 02, curve 23, length 64, X || Y.
    local xy
    xy=$(openssl ec -in "$1" -pubout -outform DER 2>/dev/null | tail -c 64 | od -An -tx1 | tr -d ' \n')
    printf '02170040%s' "$xy" | xxd -r -p | sha1sum | cut -c1-40 | sed 's/../&:/g; s/:$//' |
        tr a-f A-F
}
