#!/bin/bash
# Issue 17, parity repair with real processes: one sender and eight
# receivers, each in its own namespace on one bridge, 3 % independent loss
# towards every receiver (nftables), AES-256-GCM, an 8 MiB file and a small
# tree. Run twice: with parity (the default: every receiver answers DECODE)
# and with --fec off (plain NAK repair). Every copy sha256-exact; with
# parity the sender must have sent FEC_PARITY and the receivers rebuilt
# blocks from it; without, none.
# With UFTP_REF_DIR (a UFTP 5.0.1 build): mixed sessions, (a) our sender
# to seven of ours and a 5.0.1 uftpd (parity for ours, plain resends for
# it), (b) a 5.0.1 uftp to eight of ours (no offer: plain repair).
#
#   engines.sh UFTP UFTPD
UFTP=${1:?usage: engines.sh UFTP UFTPD} UFTPD=${2:?}
TEST_TAG=fecng
. "$(dirname "$0")/../transfer/common.sh"

MB=${FEC_MB:-8}
REF=${UFTP_REF_DIR:-${UFTP_REF_BIN:-}}
netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.79.0.1/24
for i in 1 2 3 4 5 6 7 8; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.79.0.1$i/24"
    netns_loss_to "r$i" 3
done
ids=""
for i in 1 2 3 4 5 6 7 8; do
    ids="$ids${ids:+,}$(printf '0x0A4F00%02X' $((i + 10)))"
done
make_tree "$NETNS_TMP/src" "$MB"

# run_case NAME REFRX(0|1) UFTP-ARGS...: eight receivers (r8 the reference one when REFRX=1)
run_case() {
    local name=$1 refrx=$2 i pids=()
    shift 2
    for i in 1 2 3 4 5 6 7 8; do
        rm -rf "$NETNS_TMP/$name-d$i"
        mkdir -p "$NETNS_TMP/$name-d$i"
        if [ "$refrx" = 1 ] && [ "$i" = 8 ]; then
            netns_spawn "r$i" "$NETNS_TMP/$name-uftpd$i.log" "$REF/uftpd" -d -x 2 \
                -D "$NETNS_TMP/$name-d$i" -L "$NETNS_TMP/$name-uftpd$i.reflog"
            sleep 0.3
        else
            start_uftpd "r$i" "$name-uftpd$i" -D "$NETNS_TMP/$name-d$i"
        fi
        pids+=("$NETNS_LAST_PID")
    done
    run_uftp snd "$name-uftp" 200 -R 50000 -x 2 -H "$ids" "$@" "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$name: uftp exited $UFTP_RC"
    for i in 1 2 3 4 5 6 7 8; do
        same_tree "$NETNS_TMP/src" "$NETNS_TMP/$name-d$i" "$name: receiver $i"
    done
    for i in 1 2 3 4 5 6 7 8; do
        if [ "$refrx" = 1 ] && [ "$i" = 8 ]; then
            kill -TERM "${pids[$((i - 1))]}" 2>/dev/null
            netns_wait "${pids[$((i - 1))]}" 10 >/dev/null
        else
            stop_uftpd "${pids[$((i - 1))]}" "$name-uftpd$i"
        fi
    done
    grep -h "session .* ended\|parity (issue 17)" "$NETNS_TMP/$name-uftp.log" | sed "s/^/  $name: /"
}

# rebuilt BLOCKS summed over our receivers' logs of case NAME
rebuilt() {
    cat "$NETNS_TMP/$1"-uftpd*.log 2>/dev/null |
        sed -n 's/.*parity (issue 17): [0-9]* held, \([0-9]*\) blocks rebuilt.*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }'
}

run_case parity 0
grep -q "FEC_PARITY sent" "$NETNS_TMP/parity-uftp.log" || fail "parity: no FEC_PARITY sent"
n=$(rebuilt parity)
echo "  parity: $n blocks rebuilt from parity by the receivers"
[ "$n" -gt 0 ] || fail "parity: nothing rebuilt"

run_case plain 0 --fec off
grep -q "FEC_PARITY sent" "$NETNS_TMP/plain-uftp.log" && fail "plain: parity sent with --fec off"
[ "$(rebuilt plain)" = 0 ] || fail "plain: blocks rebuilt without parity"

if [ -n "$REF" ] && [ -x "$REF/uftpd" ] && [ -x "$REF/uftp" ]; then
    # (a) a 5.0.1 receiver in a session with parity: it gets plain resends.
    run_case mixedrx 1
    grep -q "8 receivers decoding\|7 receivers decoding" "$NETNS_TMP/mixedrx-uftp.log" ||
        fail "mixedrx: not seven decoders"
    [ "$(rebuilt mixedrx)" -gt 0 ] || fail "mixedrx: nothing rebuilt by ours"
    # (b) a 5.0.1 sender to ours: no offer, plain NAK repair, nothing decoded.
    for i in 1 2 3 4 5 6 7 8; do
        rm -rf "$NETNS_TMP/refsnd-d$i"
        mkdir -p "$NETNS_TMP/refsnd-d$i"
        start_uftpd "r$i" "refsnd-uftpd$i" -D "$NETNS_TMP/refsnd-d$i"
        rpids[i]=$NETNS_LAST_PID
    done
    netns_spawn snd "$NETNS_TMP/refsnd-uftp.log" "$REF/uftp" -R 50000 -x 2 -H "$ids" \
        "$NETNS_TMP/src"/*
    netns_wait "$NETNS_LAST_PID" 200
    rc=$?
    [ "$rc" = 0 ] || fail "refsnd: 5.0.1 uftp exited $rc"
    for i in 1 2 3 4 5 6 7 8; do
        same_tree "$NETNS_TMP/src" "$NETNS_TMP/refsnd-d$i" "refsnd: receiver $i"
        stop_uftpd "${rpids[i]}" "refsnd-uftpd$i"
    done
    [ "$(rebuilt refsnd)" = 0 ] || fail "refsnd: parity from a 5.0.1 sender?"
else
    echo "  (no UFTP_REF_DIR: mixed sessions with 5.0.1 skipped)"
fi
finish
