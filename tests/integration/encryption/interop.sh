#!/bin/bash
# Issue 4, interoperability: our uftp / uftpd against a UFTP 5.0.1 build, in
# both directions, with encryption. Every session goes from one sender (ours,
# then the reference) to two receivers at once, a 5.0.1 uftpd and ours, so
# each session checks ours->theirs and ours->ours, or theirs->ours and
# theirs->theirs:
#
#   - default settings (aes256-gcm, sha256, P-256, ephemeral EC P-256 key)
#   - every cipher x hash, the curves cycling through them
#   - RSA and EC signing keys from key files, ours read by theirs and theirs by ours
#   - client authentication (-c with -H @file fingerprints), and a wrong
#     fingerprint refusing that receiver
#   - the receivers' server list (-S) with the sender's key fingerprint, and a
#     wrong one refusing the session
#
# The reference is not part of this tree: point UFTP_REF_BIN (or UFTP_REF_DIR)
# at a directory holding its uftp, uftpd and uftp_keymgt; without it the test
# is skipped.
#
#   interop.sh UFTP UFTPD KEYMGT
UFTP=${1:?usage: interop.sh UFTP UFTPD KEYMGT} UFTPD=${2:?} KEYMGT=${3:?}
REF=${UFTP_REF_BIN:-${UFTP_REF_DIR:-}}
if [ -z "$REF" ] || [ ! -x "$REF/uftp" ] || [ ! -x "$REF/uftpd" ] || [ ! -x "$REF/uftp_keymgt" ]; then
    echo "SKIP: set UFTP_REF_BIN to a directory with a UFTP 5.0.1 uftp, uftpd and uftp_keymgt"
    exit 77
fi
REF=$(readlink -f "$REF")
KEYMGT=$(readlink -f "$KEYMGT")
TEST_TAG=interop
. "$(dirname "$0")/../transfer/common.sh"

SID=0x11000001 RID_REF=0x22000002 RID_OUR=0x22000003
netns_lan lan 3
netns_loss_to lan2 3
netns_loss_to lan3 3
K=$NETNS_TMP/keys
mkdir -p "$K" "$NETNS_TMP/src"
head -c 1500000 /dev/urandom >"$NETNS_TMP/src/data.bin"
head -c 4099 /dev/urandom >"$NETNS_TMP/src/odd.bin"
echo "hello, encrypted world" >"$NETNS_TMP/src/small.txt"

# Keys: each tool makes some, the other side reads them.
"$REF/uftp_keymgt" -g rsa:2048 "$K/ref_rsa.pem" 2>/dev/null
"$REF/uftp_keymgt" -g ec:secp384r1 "$K/ref_ec.pem" 2>/dev/null
"$KEYMGT" -g rsa:3072 "$K/our_rsa.pem" 2>/dev/null
"$KEYMGT" -g ec:secp521r1 "$K/our_ec.pem" 2>/dev/null
"$KEYMGT" -g ec:prime256v1 "$K/our_rcv.pem" 2>/dev/null
"$REF/uftp_keymgt" -g rsa:2048 "$K/ref_rcv.pem" 2>/dev/null
"$KEYMGT" -g ec:prime256v1 "$K/other.pem" 2>/dev/null
fp() { "$KEYMGT" "$1" 2>&1 | sed -n 's/.*fingerprint: //p'; }
for k in ref_rsa ref_ec our_rsa our_ec our_rcv ref_rcv other; do
    [ -n "$(fp "$K/$k.pem")" ] || fail "key $k.pem not made or unreadable"
    [ "$(fp "$K/$k.pem")" = "$("$REF/uftp_keymgt" "$K/$k.pem" 2>&1 | sed -n 's/.*fingerprint: //p')" ] ||
        fail "fingerprints of $k.pem differ between the two key tools"
done

RPID="" OPID=""
# start_rx [REF_ARGS] [-- OUR_ARGS]: a 5.0.1 uftpd on lan2 and ours on lan3.
start_rx() {
    local refargs=() ourargs=() a side=ref
    for a in "$@"; do
        if [ "$a" = -- ]; then side=our; continue; fi
        if [ $side = ref ]; then refargs+=("$a"); else ourargs+=("$a"); fi
    done
    rm -rf "$NETNS_TMP/dref" "$NETNS_TMP/dour"
    mkdir -p "$NETNS_TMP/dref" "$NETNS_TMP/dour"
    netns_spawn lan2 "$NETNS_TMP/refd.log" "$REF/uftpd" -d -x 3 -U $RID_REF -D "$NETNS_TMP/dref" \
        "${refargs[@]}"
    RPID=$NETNS_LAST_PID
    start_uftpd lan3 ourd -U $RID_OUR -D "$NETNS_TMP/dour" "${ourargs[@]}"
    OPID=$NETNS_LAST_PID
    sleep 0.3
}
stop_rx() {
    netns_stop "$RPID"
    stop_uftpd "$OPID" ourd
    cat "$NETNS_TMP/refd.log" >>"$NETNS_TMP/refd.all.log"
    cat "$NETNS_TMP/ourd.log" >>"$NETNS_TMP/ourd.all.log"
}
got() { # got DIR: the three files arrived intact
    cmp -s "$NETNS_TMP/src/data.bin" "$1/data.bin" && cmp -s "$NETNS_TMP/src/odd.bin" "$1/odd.bin" &&
        cmp -s "$NETNS_TMP/src/small.txt" "$1/small.txt"
}
# session WHO WANT_REF WANT_OUR ARGS...: WHO = our|ref sends the files.
NSESS=0
session() {
    local who=$1 want_ref=$2 want_our=$3 bin rc
    shift 3
    rm -rf "${NETNS_TMP:?}/dref/"* "${NETNS_TMP:?}/dour/"*
    [ "$who" = our ] && bin=$UFTP || bin=$REF/uftp
    NSESS=$((NSESS + 1))
    # One -H only: 5.0.1 adds up repeated -H lists (the first entry for an ID wins).
    local hosts=(-H "$RID_REF,$RID_OUR")
    case " $* " in *" -H "*) hosts=() ;; esac
    if [ "${1:-}" = OPEN ]; then
        hosts=() # an open group
        shift
    fi
    netns_spawn lan1 "$NETNS_TMP/s$NSESS.log" "$bin" -x 2 -U $SID -R 200000 -r 0.1 \
        "${hosts[@]}" "$@" "$NETNS_TMP/src/data.bin" "$NETNS_TMP/src/odd.bin" \
        "$NETNS_TMP/src/small.txt"
    netns_wait "$NETNS_LAST_PID" 90
    rc=$?
    local r=ok o=ok
    got "$NETNS_TMP/dref" || r=none
    got "$NETNS_TMP/dour" || o=none
    printf '  %-4s %-52s rc=%s  5.0.1 uftpd: %-4s ours: %s\n' "$who" "$*" "$rc" "$r" "$o"
    if [ "$r" != "$want_ref" ] || [ "$o" != "$want_our" ]; then
        fail "$who uftp $*: 5.0.1 receiver $r (want $want_ref), ours $o (want $want_our)"
        tail -n 15 "$NETNS_TMP/s$NSESS.log"
    fi
    if [ "$want_ref$want_our" = okok ] && [ "$rc" != 0 ]; then
        fail "$who uftp $*: exit $rc"
    fi
    grep -q "Sanitizer\|runtime error" "$NETNS_TMP/s$NSESS.log" && fail "sanitizer report (s$NSESS)"
}

echo "defaults, every cipher x hash (curves cycling), signing keys from files:"
start_rx
for who in our ref; do
    session $who ok ok
    i=0
    for y in aes128-gcm aes256-gcm aes128-ccm aes256-ccm; do
        for h in sha256 sha384 sha512; do
            curves=(secp256r1 secp384r1 secp521r1)
            session $who ok ok -Y $y -h $h -e "${curves[$((i % 3))]}"
            i=$((i + 1))
        done
    done
done
# Ours signs with keys 5.0.1's tool made, and 5.0.1 with ours.
session our ok ok -k "$K/ref_rsa.pem"
session our ok ok -k "$K/ref_ec.pem" -Y aes128-ccm -h sha384
session ref ok ok -k "$K/our_rsa.pem"
session ref ok ok -k "$K/our_ec.pem" -Y aes256-ccm -h sha512 -e secp384r1
session our ok ok -Y none
session ref ok ok -Y none
# Client authentication without fingerprints (any key; ours makes an ephemeral one), open groups.
session our ok ok -c
session ref ok ok -c
session our ok ok OPEN -s 10
session ref ok ok OPEN -s 10
stop_rx

echo "client authentication (-c, -H @file with fingerprints):"
start_rx -k "$K/ref_rcv.pem" -- -k "$K/our_rcv.pem"
printf '%s|%s\n%s|%s\n' $RID_REF "$(fp "$K/ref_rcv.pem")" $RID_OUR "$(fp "$K/our_rcv.pem")" \
    >"$NETNS_TMP/hosts"
printf '%s|%s\n%s|%s\n' $RID_REF "$(fp "$K/other.pem")" $RID_OUR "$(fp "$K/our_rcv.pem")" \
    >"$NETNS_TMP/hosts_bad_ref"
printf '%s|%s\n%s|%s\n' $RID_REF "$(fp "$K/ref_rcv.pem")" $RID_OUR "$(fp "$K/other.pem")" \
    >"$NETNS_TMP/hosts_bad_our"
for who in our ref; do
    session $who ok ok -c -H @"$NETNS_TMP/hosts"
    session $who ok ok -c -H @"$NETNS_TMP/hosts" -k "$K/our_ec.pem" -Y aes128-gcm -h sha512
    session $who none ok -c -H @"$NETNS_TMP/hosts_bad_ref" -s 10
    session $who ok none -c -H @"$NETNS_TMP/hosts_bad_our" -s 10
done
stop_rx

echo "receivers' server list (-S) with the sender's key fingerprint:"
printf '%s|%s|0|%s\n' $SID "$(netns_ip4 lan1)" "$(fp "$K/our_ec.pem")" >"$NETNS_TMP/servers"
printf '%s|%s|0|%s\n' $SID "$(netns_ip4 lan1)" "$(fp "$K/other.pem")" >"$NETNS_TMP/servers_bad"
start_rx -S "$NETNS_TMP/servers" -- -S "$NETNS_TMP/servers"
for who in our ref; do
    session $who ok ok -k "$K/our_ec.pem"
    session $who none none -k "$K/ref_ec.pem" -s 10
done
stop_rx
start_rx -S "$NETNS_TMP/servers_bad" -- -S "$NETNS_TMP/servers_bad" -E
for who in our ref; do
    session $who none none -k "$K/our_ec.pem" -s 10
done
stop_rx
grep -q "fingerprint" "$NETNS_TMP/ourd.all.log" || fail "our uftpd did not log the fingerprint refusal"
echo "$NSESS sessions"
finish
