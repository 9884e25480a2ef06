#!/bin/bash
# Issue 6: v4 sessions through response proxies, against Debian's uftp
# 4.10.2 (found as in debian.sh), in network namespaces, sha256-checked:
#
#   - Debian uftp -> Debian uftpproxyd -r -> our uftpd -r proxy[/fp] x2, in
#     clear and encrypted: our receivers ask the 4.x proxy for its key
#     (KEY_REQ), check its PROXY_KEY (fingerprint, signature) and answer
#     through it (spec §1.9 item 4);
#   - a receiver pinning the wrong fingerprint refuses the proxy's key.
#
#   debian_proxy.sh UFTP UFTPD [UFTP_KEYMGT]
UFTP=${1:?usage: debian_proxy.sh UFTP UFTPD [UFTP_KEYMGT]} UFTPD=${2:?}
KEYMGT=${3:-$(dirname "$UFTP")/../tools/uftp_keymgt}
DEB=${UFTP_DEBIAN_BIN:-}
if [ -z "$DEB" ]; then
    for d in /opt/uftp-debian/usr/bin /usr/bin; do
        if [ -x "$d/uftpproxyd" ] && "$d/uftp" 2>&1 | grep -q 'keyextype'; then
            DEB=$d
            break
        fi
    done
fi
if [ -z "$DEB" ] || [ ! -x "$DEB/uftpproxyd" ] || [ ! -x "$DEB/uftp" ]; then
    echo "SKIP: Debian's uftp 4.x is not there (/opt/uftp-debian/usr/bin or /usr/bin, or" \
        "UFTP_DEBIAN_BIN); tools/install-deps.sh fetches it"
    exit 77
fi
KEYMGT=$(readlink -f "$KEYMGT")
TEST_TAG=v4px
. "$(dirname "$0")/../transfer/common.sh"

SID=0x11000004 PXID=0x33000001
RIDS=(0x22000001 0x22000002)
netns_lan lan 4
mkdir -p "$NETNS_TMP/src"
head -c 1000000 /dev/urandom >"$NETNS_TMP/src/data.bin"
head -c 4099 /dev/urandom >"$NETNS_TMP/src/odd.bin"
: >"$NETNS_TMP/src/empty"
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/px.pem" >/dev/null 2>&1
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/other.pem" >/dev/null 2>&1
fp() { "$KEYMGT" "$1" 2>&1 | sed -n 's/.*fingerprint: //p'; }
FP=$(fp "$NETNS_TMP/px.pem")
[ -n "$FP" ] || fail "no fingerprint for the proxy key"
PXIP=$(netns_ip4 lan2)
echo "$PXID|$FP" >"$NETNS_TMP/proxies"

got() {
    local f
    for f in data.bin odd.bin empty; do
        [ -f "$1/$f" ] || return 1
        [ "$(sha256sum <"$NETNS_TMP/src/$f")" = "$(sha256sum <"$1/$f")" ] || return 1
    done
}
NSESS=0
# session WANT0 WANT1 ARGS...: Debian's uftp to both receivers (closed group, proxy in -j).
session() {
    local w0=$1 w1=$2 rc i res=""
    shift 2
    for i in 0 1; do rm -rf "${NETNS_TMP:?}/d$i/"*; done
    NSESS=$((NSESS + 1))
    netns_spawn lan1 "$NETNS_TMP/s$NSESS.log" "$DEB/uftp" -x 2 -U $SID -R 100000 -r 0.1 \
        -H "${RIDS[0]},${RIDS[1]}" -j "$NETNS_TMP/proxies" "$@" "$NETNS_TMP/src/data.bin" \
        "$NETNS_TMP/src/odd.bin" "$NETNS_TMP/src/empty"
    netns_wait "$NETNS_LAST_PID" 60
    rc=$?
    for i in 0 1; do
        if got "$NETNS_TMP/d$i"; then res="$res ok"; else res="$res none"; fi
    done
    printf '  debian %-40s rc=%-3s receivers:%s\n' "$*" "$rc" "$res"
    [ "$res" = " $w0 $w1" ] || fail "debian uftp $*: receivers$res (want $w0 $w1)"
    if [ "$w0$w1" = okok ] && [ "$rc" != 0 ]; then fail "debian uftp $*: exit $rc"; fi
}

echo "Debian uftp -> Debian uftpproxyd -r ($DEB) -> our uftpd -r x2:"
netns_spawn lan2 "$NETNS_TMP/px.log" "$DEB/uftpproxyd" -r -d -x 2 -U $PXID -k "$NETNS_TMP/px.pem" \
    -e prime256v1
PXPID=$NETNS_LAST_PID
mkdir -p "$NETNS_TMP/d0" "$NETNS_TMP/d1"
start_uftpd lan3 rx0 -U "${RIDS[0]}" -D "$NETNS_TMP/d0" -r "$PXIP/$FP"
R0=$NETNS_LAST_PID
start_uftpd lan4 rx1 -U "${RIDS[1]}" -D "$NETNS_TMP/d1" -r "$PXIP"
R1=$NETNS_LAST_PID
for ((i = 0; i < 100; i++)); do
    grep -q "received PROXY_KEY" "$NETNS_TMP/rx0.log" && grep -q "received PROXY_KEY" \
        "$NETNS_TMP/rx1.log" && break
    sleep 0.1
done
session ok ok
session ok ok -Y aes256-gcm -h sha256 -e ecdh_ecdsa
# A receiver pinning a fingerprint the proxy's key does not have refuses
# its PROXY_KEY and keeps asking. (No session through it here: its
# refusal ABORT sometimes crashes Debian's 4.10.2 uftpproxyd, which 5.0.1
# receivers would trigger the same way; the refusal itself is in sim_v4.)
start_uftpd lan4 rx2 -U 0x22000003 -D "$NETNS_TMP/d1" -r "$PXIP/$(fp "$NETNS_TMP/other.pem")"
R2=$NETNS_LAST_PID
for ((i = 0; i < 50; i++)); do
    grep -q "rejecting PROXY_KEY" "$NETNS_TMP/rx2.log" && break
    sleep 0.1
done
stop_uftpd "$R2" rx2
stop_uftpd "$R0" rx0
stop_uftpd "$R1" rx1
netns_stop "$PXPID"
grep -q "sent KEY_REQ" "$NETNS_TMP/rx0.log" || fail "rx0 sent no KEY_REQ"
grep -q "rejecting PROXY_KEY .*fingerprint" "$NETNS_TMP/rx2.log" ||
    fail "rx2 did not log the fingerprint refusal"
grep -q "received PROXY_KEY" "$NETNS_TMP/rx2.log" && fail "rx2 took a key with the wrong fingerprint"
echo "$NSESS sessions"
finish
