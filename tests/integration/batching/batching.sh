#!/bin/bash
# Issue 8: the batched data path delivers exactly what the one-datagram path
# does. One sender, unpaced (-R -1), to receivers that take data differently:
#   lan2  ours with UDP GRO (coalesced buffers, zero-copy writes)
#   lan3  ours with --no-gro (one datagram per buffer)
#   lan4  a UFTP 5.0.1 uftpd, when UFTP_REF_BIN or UFTP_REF_DIR names a build
# Sessions, each sending its own copy of a tree (big file, empty file, odd
# sizes, dirs, links); every copy must be identical:
#   gso      data in UDP GSO sends (checked in the sender's counters)
#   nogso    uftp --no-gso: sendmmsg only, no GSO send at all
#   gsofail  UFTP_TEST_GSO_FAIL=1: every GSO send refused, sendmmsg fallback,
#            logged once
#   loss     AES-256-GCM with 10 % nftables loss both ways: repair passes
#   jumbo    -b 8800 with AES-256-GCM on MTU 1500: segments above the MTU
#            make the kernel refuse GSO; fragments by sendmmsg instead
#   jumbo9k  the same on MTU 9000: 8836-byte segments, 7 per GSO send
# Finally the GRO receiver must have seen coalesced buffers, the other none.
#
#   batching.sh UFTP UFTPD
UFTP=${1:?usage: batching.sh UFTP UFTPD} UFTPD=${2:?}
REF=${UFTP_REF_BIN:-${UFTP_REF_DIR:-}}
TEST_TAG=batch
. "$(dirname "$0")/../transfer/common.sh"

MB=${BATCH_MB:-8}
SID=0x0A000001
netns_lan lan 4
hosts=(lan2 lan3)
ids=(0x0B000002 0x0B000003)
if [ -n "$REF" ] && [ -x "$REF/uftpd" ]; then
    REF=$(readlink -f "$REF")
    hosts+=(lan4)
    ids+=(0x0B000004)
else
    echo "note: no UFTP_REF_BIN / UFTP_REF_DIR: no 5.0.1 receiver"
    REF=""
fi
H=$(IFS=,; echo "${ids[*]}")

pids=()
for i in "${!hosts[@]}"; do
    mkdir -p "$NETNS_TMP/d$i"
done
start_uftpd lan2 gro -U "${ids[0]}" -D "$NETNS_TMP/d0"
pids+=("$NETNS_LAST_PID")
start_uftpd lan3 nogro -U "${ids[1]}" -D "$NETNS_TMP/d1" --no-gro
pids+=("$NETNS_LAST_PID")
if [ -n "$REF" ]; then
    netns_spawn lan4 "$NETNS_TMP/ref.log" "$REF/uftpd" -d -x 3 -U "${ids[2]}" -D "$NETNS_TMP/d2"
    pids+=("$NETNS_LAST_PID")
    sleep 0.5
fi

# sent NAME: the sender log's counters "D datagrams in C calls (G GSO, F GSO fallbacks)".
counters() {
    sed -n 's/.*send path: \([0-9]*\) datagrams in \([0-9]*\) calls (\([0-9]*\) GSO, \([0-9]*\) GSO fallbacks).*/\1 \2 \3 \4/p' \
        "$NETNS_TMP/$1.log"
}

# session NAME [UFTP ARGS...]: sends tree NAME to every receiver and checks the copies.
session() {
    local name=$1 i
    shift
    make_tree "$NETNS_TMP/src/$name" "$MB"
    head -c 1299 /dev/urandom >"$NETNS_TMP/src/$name/short.bin"
    head -c 130001 /dev/urandom >"$NETNS_TMP/src/$name/odd2.bin"
    run_uftp lan1 "$name" 300 -x 3 -R -1 -U $SID -H "$H" -S "$NETNS_TMP/$name.status" "$@" \
        "$NETNS_TMP/src/$name"
    [ "$UFTP_RC" = 0 ] || fail "$name: uftp exited $UFTP_RC"
    for i in "${!hosts[@]}"; do
        same_tree "$NETNS_TMP/src/$name" "$NETNS_TMP/d$i/$name" "$name: receiver ${hosts[$i]}"
    done
    grep "^RESULT" "$NETNS_TMP/$name.status" | grep -v ";copy;" | sed "s/^/  $name: /"
    echo "  $name: $(grep -h 'session .* ended' "$NETNS_TMP/$name.log" | sed 's/^uftp: //')"
    echo "  $name: send path $(counters "$name") (datagrams, calls, GSO sends, GSO fallbacks)"
}

session gso -Y none
read -r dg calls gso fb <<<"$(counters gso)"
[ "${gso:-0}" -gt 0 ] && [ "${fb:-1}" = 0 ] || fail "gso: expected GSO sends and no fallback: $dg $calls $gso $fb"
[ "${calls:-0}" -lt "${dg:-0}" ] || fail "gso: no fewer send calls ($calls) than datagrams ($dg)"

session nogso -Y none --no-gso
read -r dg calls gso fb <<<"$(counters nogso)"
[ "${gso:-1}" = 0 ] || fail "nogso: $gso GSO sends with --no-gso"

UFTP_TEST_GSO_FAIL=1 session gsofail -Y none
read -r dg calls gso fb <<<"$(counters gsofail)"
[ "${gso:-1}" = 0 ] && [ "${fb:-0}" -gt 0 ] || fail "gsofail: expected fallbacks only: $gso GSO, $fb fallbacks"
n=$(grep -c "UDP GSO refused" "$NETNS_TMP/gsofail.log")
[ "$n" = 1 ] || fail "gsofail: the refusal should be logged once, not $n times"

for h in "${hosts[@]}"; do
    netns_loss_to "$h" 10
    netns_loss_from "$h" 10
done
session loss -Y aes256-gcm
grep -q "NAKs" "$NETNS_TMP/loss.log" || fail "loss: no session summary"
naks=$(sed -n 's/.* \([0-9]*\) NAKs$/\1/p' "$NETNS_TMP/loss.log")
[ "${naks:-0}" -gt 0 ] || fail "loss: 10 % loss but no NAK"
netns_loss_clear

session jumbo -Y aes256-gcm -b 8800
grep -q "UDP GSO refused for [0-9]*-byte segments" "$NETNS_TMP/jumbo.log" ||
    fail "jumbo: no GSO refusal logged for segments above the MTU"

for h in lan1 "${hosts[@]}"; do
    netns_mtu "$h" 9000
done
session jumbo9k -Y aes256-gcm -b 8800
read -r dg calls gso fb <<<"$(counters jumbo9k)"
[ "${gso:-0}" -gt 0 ] && [ "${fb:-1}" = 0 ] || fail "jumbo9k: expected GSO sends: $gso GSO, $fb fallbacks"

for i in "${!pids[@]}"; do
    if [ "${hosts[$i]}" = lan4 ]; then
        netns_stop "${pids[$i]}"
    else
        stop_uftpd "${pids[$i]}" "$([ "$i" = 0 ] && echo gro || echo nogro)"
    fi
done
coalesced() { sed -n 's/.*receive path: .*(\([0-9]*\) coalesced buffers).*/\1/p' "$NETNS_TMP/$1.log"; }
c=$(coalesced gro)
[ "${c:-0}" -gt 0 ] || fail "the GRO receiver saw no coalesced buffer"
c=$(coalesced nogro)
[ "${c:-1}" = 0 ] || fail "the --no-gro receiver saw $c coalesced buffers"
grep -h "receive path" "$NETNS_TMP/gro.log" "$NETNS_TMP/nogro.log" | sed 's/^/  /'
finish
