#!/bin/bash
# Issue 12, TFMCC interoperability (spec §1.7): a sender with -C tfmcc and
# three receivers on one LAN: a 5.0.1 uftpd (lan2), ours (lan3) and ours
# behind a 50 Mbit/s tbf bottleneck on its bridge port (lan4). Sessions in
# clear (-Y none) and with AES-256-GCM (the default); every receiver must get
# every file byte for byte (sha256), and the sender must exit 0.
#
#   5.0.1 uftp -C tfmcc -> 5.0.1 uftpd, our uftpd, our uftpd behind the bottleneck
#   our uftp -C tfmcc   -> the same three
# and protocol v4 (spec §1.9 item 6), with Debian's uftp 4.10.2 when it is
# there (/opt/uftp-debian/usr/bin, or UFTP_DEBIAN_BIN; tools/install-deps.sh):
#   Debian uftp -C tfmcc              -> Debian uftpd, our uftpd x2 (one behind the bottleneck)
#   our uftp --protocol 4 -C tfmcc    -> the same three
#
# The reference is not part of this tree: UFTP_REF_BIN (or UFTP_REF_DIR) names
# a directory with its uftp and uftpd; without it the test is skipped.
#
#   interop.sh UFTP UFTPD
UFTP=${1:?usage: interop.sh UFTP UFTPD} UFTPD=${2:?}
REF=${UFTP_REF_BIN:-${UFTP_REF_DIR:-}}
if [ -z "$REF" ] || [ ! -x "$REF/uftp" ] || [ ! -x "$REF/uftpd" ]; then
    echo "SKIP: set UFTP_REF_BIN to a directory with a UFTP 5.0.1 uftp and uftpd"
    exit 77
fi
REF=$(readlink -f "$REF")
TEST_TAG=tfmcc
. "$(dirname "$0")/../transfer/common.sh"
netns_require_root tc

SID=0x11000001 RID_REF=0x22000002 RID_OUR=0x22000003 RID_NECK=0x22000004
netns_lan lan 4
netns_bottleneck lan4 rate 50mbit burst 64kb latency 100ms
mkdir -p "$NETNS_TMP/src"
head -c $((${TFMCC_MB:-12} * 1048576)) /dev/urandom >"$NETNS_TMP/src/data.bin"
head -c 70001 /dev/urandom >"$NETNS_TMP/src/odd.bin"
echo "hello, congested world" >"$NETNS_TMP/src/small.txt"

rm -rf "$NETNS_TMP/dref" "$NETNS_TMP/dour" "$NETNS_TMP/dneck"
mkdir -p "$NETNS_TMP/dref" "$NETNS_TMP/dour" "$NETNS_TMP/dneck"
PEER="5.0.1 uftpd"
netns_spawn lan2 "$NETNS_TMP/refd.log" "$REF/uftpd" -d -x 3 -U $RID_REF -D "$NETNS_TMP/dref"
RPID=$NETNS_LAST_PID
start_uftpd lan3 ourd -U $RID_OUR -D "$NETNS_TMP/dour"
OPID=$NETNS_LAST_PID
start_uftpd lan4 neckd -U $RID_NECK -D "$NETNS_TMP/dneck"
NPID=$NETNS_LAST_PID
sleep 0.3

got() { # got DIR: the three files arrived intact
    local f
    for f in data.bin odd.bin small.txt; do
        [ "$(sha256sum <"$NETNS_TMP/src/$f")" = "$(sha256sum <"$1/$f" 2>/dev/null)" ] || return 1
    done
}
NSESS=0
# session WHO ARGS...: WHO = our|ref|deb sends the files with -C tfmcc to the three receivers.
session() {
    local who=$1 bin rc t0 t1
    shift
    rm -rf "${NETNS_TMP:?}/dref/"* "${NETNS_TMP:?}/dour/"* "${NETNS_TMP:?}/dneck/"*
    case $who in our) bin=$UFTP ;; ref) bin=$REF/uftp ;; *) bin=$DEB/uftp ;; esac
    NSESS=$((NSESS + 1))
    t0=$(date +%s.%N)
    netns_spawn lan1 "$NETNS_TMP/s$NSESS.log" "$bin" -x 2 -U $SID -C tfmcc -r 0.05 \
        -H "$RID_REF,$RID_OUR,$RID_NECK" "$@" "$NETNS_TMP/src/data.bin" "$NETNS_TMP/src/odd.bin" \
        "$NETNS_TMP/src/small.txt"
    netns_wait "$NETNS_LAST_PID" 120
    rc=$?
    t1=$(date +%s.%N)
    local a=ok b=ok c=ok
    got "$NETNS_TMP/dref" || a=none
    got "$NETNS_TMP/dour" || b=none
    got "$NETNS_TMP/dneck" || c=none
    printf '  %-4s -C tfmcc %-30s rc=%s %5.1fs  %s: %-4s ours: %-4s ours behind 50 Mbit/s: %s\n' \
        "$who" "$*" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$PEER" "$a" "$b" "$c"
    if [ "$a$b$c" != okokok ] || [ "$rc" != 0 ]; then
        fail "$who uftp -C tfmcc $*: exit $rc, receivers $a $b $c"
        tail -n 15 "$NETNS_TMP/s$NSESS.log"
    fi
    grep -q "Sanitizer\|runtime error" "$NETNS_TMP/s$NSESS.log" && fail "sanitizer report (s$NSESS)"
    # Ours ran TFMCC: its progress lines name the CLR (the first file takes seconds at 50 Mbit/s).
    if [ "$who" = our ] && ! grep -q "CLR" "$NETNS_TMP/s$NSESS.log"; then
        fail "our uftp -C tfmcc $*: no CLR named"
    fi
}

for who in ref our; do
    session $who -Y none
    session $who -Y aes256-gcm
done
netns_stop "$RPID"

DEB=${UFTP_DEBIAN_BIN:-/opt/uftp-debian/usr/bin}
if [ -x "$DEB/uftp" ] && [ -x "$DEB/uftpd" ] && "$DEB/uftp" 2>&1 | grep -q 'keyextype'; then
    # 4.x clients need a key of the type of the server's (ours: EC P-256 by default).
    PEER="4.10.2 uftpd"
    netns_spawn lan2 "$NETNS_TMP/debd.log" "$DEB/uftpd" -d -x 3 -U $RID_REF -D "$NETNS_TMP/dref" \
        -K ec:prime256v1
    RPID=$NETNS_LAST_PID
    sleep 0.3
    session deb -Y none
    session deb -Y aes256-gcm -h sha256 -e ecdh_ecdsa:prime256v1
    session our --protocol 4 -Y none
    session our --protocol 4 -Y aes256-gcm -h sha256
    netns_stop "$RPID"
else
    echo "  (no Debian uftp 4.x: the v4 sessions are skipped)"
fi
stop_uftpd "$OPID" ourd
stop_uftpd "$NPID" neckd
# Our receivers took part in congestion control: they sent CC_ACKs or STATUS with TFMCC info.
grep -q "Congestion control not supported" "$NETNS_TMP"/s*.log && fail "a receiver refused TFMCC"
echo "$NSESS sessions"
finish
