#!/bin/bash
# Issue 6: UFTP 4.x interoperability with Debian's uftp 4.10.2 (protocol v4).
# Every session goes from one sender to three receivers at once, in network
# namespaces, and every file is checked by sha256:
#
#   1. Debian's uftp  -> three of our uftpd, in clear and encrypted
#      (ECDH, AES-256-GCM, SHA-256), and a v4 session 5.x refuses (RSA key
#      exchange) refused with a log line saying why;
#   2. our uftp --protocol 4 -> three of Debian's uftpd, in clear and encrypted;
#   3. with UFTP_REF_BIN (a UFTP 5.0.1 build, as for tests/integration/encryption):
#      our uftp --protocol 4 -> three 5.0.1 uftpd, which accept v4 sessions too.
#
# Debian's binaries: $UFTP_DEBIAN_BIN if set, else the package unpacked by
# tools/install-deps.sh in /opt/uftp-debian (fetched with apt, not installed:
# see there why), else an installed uftp 4.x package in /usr/bin; without
# them the test is skipped. Nothing here starts, stops or needs the
# package's own uftpd service: every daemon is started by this script, in
# its own namespace, and stopped by PID.
#
#   debian.sh UFTP UFTPD
UFTP=${1:?usage: debian.sh UFTP UFTPD} UFTPD=${2:?}
DEB=${UFTP_DEBIAN_BIN:-}
if [ -z "$DEB" ]; then
    for d in /opt/uftp-debian/usr/bin /usr/bin; do
        if [ -x "$d/uftpd" ] && "$d/uftp" 2>&1 | grep -q 'keyextype'; then
            DEB=$d
            break
        fi
    done
fi
if [ -z "$DEB" ] || [ ! -x "$DEB/uftp" ] || [ ! -x "$DEB/uftpd" ] ||
    ! "$DEB/uftp" 2>&1 | grep -q 'keyextype'; then
    echo "SKIP: Debian's uftp 4.x is not there (/opt/uftp-debian/usr/bin or /usr/bin, or" \
        "UFTP_DEBIAN_BIN); tools/install-deps.sh fetches it"
    exit 77
fi
VER=$(gzip -dc <"$DEB/../share/doc/uftp/changelog.Debian.gz" 2>/dev/null |
    sed -n '1s/.*(\(.*\)).*/\1/p')
TEST_TAG=v4deb
. "$(dirname "$0")/../transfer/common.sh"

SID=0x11000004
RIDS=(0x22000001 0x22000002 0x22000003)
netns_lan lan 4
mkdir -p "$NETNS_TMP/src"
head -c 1500000 /dev/urandom >"$NETNS_TMP/src/data.bin"
head -c 4099 /dev/urandom >"$NETNS_TMP/src/odd.bin"
echo "hello, v4 world" >"$NETNS_TMP/src/small.txt"
: >"$NETNS_TMP/src/empty"

PIDS=()
# start_rx ours|debian ARGS...: three receivers on lan2..lan4.
start_rx() {
    local kind=$1 i
    shift
    PIDS=()
    for i in 0 1 2; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        if [ "$kind" = ours ]; then
            start_uftpd lan$((i + 2)) rx$i -U "${RIDS[$i]}" -D "$NETNS_TMP/d$i" "$@"
        elif [ "$kind" = ref ]; then
            netns_spawn lan$((i + 2)) "$NETNS_TMP/rx$i.log" "$UFTP_REF_BIN/uftpd" -d -x 3 \
                -U "${RIDS[$i]}" -D "$NETNS_TMP/d$i" "$@"
        else
            netns_spawn lan$((i + 2)) "$NETNS_TMP/rx$i.log" "$DEB/uftpd" -d -x 3 \
                -U "${RIDS[$i]}" -D "$NETNS_TMP/d$i" "$@"
        fi
        PIDS+=("$NETNS_LAST_PID")
    done
    sleep 0.3
}
stop_rx() {
    local kind=$1 i
    for i in 0 1 2; do
        if [ "$kind" = ours ]; then
            stop_uftpd "${PIDS[$i]}" rx$i
        else
            netns_stop "${PIDS[$i]}"
        fi
        cat "$NETNS_TMP/rx$i.log" >>"$NETNS_TMP/rx$i.all.log"
    done
}
# sha256 of every source file against each receiver's copy.
got() {
    local f
    for f in data.bin odd.bin small.txt empty; do
        [ -f "$1/$f" ] || return 1
        [ "$(sha256sum <"$NETNS_TMP/src/$f")" = "$(sha256sum <"$1/$f")" ] || return 1
    done
}
NSESS=0
# session SENDER WANT ARGS...: SENDER = ours|debian; WANT = ok|none for all three.
session() {
    local who=$1 want=$2 bin rc i res=""
    shift 2
    for i in 0 1 2; do rm -rf "${NETNS_TMP:?}/d$i/"*; done
    [ "$who" = ours ] && bin=$UFTP || bin=$DEB/uftp
    NSESS=$((NSESS + 1))
    netns_spawn lan1 "$NETNS_TMP/s$NSESS.log" "$bin" -x 2 -U $SID -R 100000 -r 0.1 \
        -H "$(IFS=,; echo "${RIDS[*]}")" "$@" "$NETNS_TMP/src/data.bin" "$NETNS_TMP/src/odd.bin" \
        "$NETNS_TMP/src/small.txt" "$NETNS_TMP/src/empty"
    netns_wait "$NETNS_LAST_PID" 60
    rc=$?
    for i in 0 1 2; do
        if got "$NETNS_TMP/d$i"; then res="$res ok"; else res="$res none"; fi
    done
    printf '  %-6s %-44s rc=%-3s receivers:%s\n' "$who" "$*" "$rc" "$res"
    if [ "$res" != " $want $want $want" ]; then
        fail "$who uftp $*: receivers$res (want $want)"
        tail -n 15 "$NETNS_TMP/s$NSESS.log"
    fi
    if [ "$want" = ok ] && [ "$rc" != 0 ]; then
        fail "$who uftp $*: exit $rc"
    fi
    if grep -q "Sanitizer\|runtime error" "$NETNS_TMP/s$NSESS.log"; then
        fail "sanitizer report (s$NSESS)"
    fi
}

ENC=(-Y aes256-gcm -h sha256)
echo "Debian uftp ${VER:-4.x} ($DEB) -> our uftpd x3:"
start_rx ours
session debian ok
session debian ok "${ENC[@]}" -e ecdh_ecdsa:prime256v1
session debian ok "${ENC[@]}" -e ecdh_rsa -K 2048 -c
# What 5.x refuses from a v4 server (spec §1.9): RSA key exchange, CBC
# ciphers (with HMAC signatures), SHA-1.
session debian none "${ENC[@]}" -e rsa
session debian none -Y aes256-cbc -h sha256 -e ecdh_ecdsa
session debian none -Y aes128-gcm -h sha1 -e ecdh_ecdsa
stop_rx ours
for i in 0 1 2; do
    for why in "Invalid keyextype specified" "Keytype invalid or not supported here" \
        "Hashtype invalid or not supported here"; do
        grep -q "protocol v4): $why" "$NETNS_TMP/rx$i.all.log" ||
            fail "our uftpd rx$i did not log why it refused: $why"
    done
    grep -q "received request from .*protocol v4" "$NETNS_TMP/rx$i.all.log" ||
        fail "our uftpd rx$i did not log a v4 session"
done

if [ -n "${V4_ONLY_RX:-}" ]; then finish; fi
echo "our uftp --protocol 4 -> Debian uftpd x3:"
# 4.x clients need a key of the same type as the server's (ours: EC P-256 by default).
start_rx debian -K ec:prime256v1
session ours ok --protocol 4 -Y none
session ours ok --protocol 4 "${ENC[@]}"
session ours ok --protocol 4 "${ENC[@]}" -c
session ours ok --protocol 4 -Y aes128-ccm -h sha384 -e secp384r1
stop_rx debian
if [ -n "${UFTP_REF_BIN:-}" ] && [ -x "$UFTP_REF_BIN/uftpd" ]; then
    echo "our uftp --protocol 4 -> UFTP 5.0.1 uftpd x3:"
    start_rx ref
    session ours ok --protocol 4 -Y none
    session ours ok --protocol 4 -Y aes128-gcm -h sha512 -c
    stop_rx ref
fi
echo "$NSESS sessions"
finish
