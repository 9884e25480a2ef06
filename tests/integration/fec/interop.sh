#!/bin/bash
# Issue 17, interoperability groundwork: what the reference receivers do with
# what the FEC design puts on the wire. fecprobe (our encoders, a real
# session with real parity from core/fec) sends one file to two reference
# receivers at once, which stay up for every case; each case must end as
# the design relies on (the file arrives, sha256-exact) or as the spec says
# it must (FILEINFO with an extension: the receiver aborts), and a plain
# session at the end proves the daemons still work. What each receiver
# logged about the case is printed (docs/DESIGN.md "Parity repair" has the
# table these lines prove).
#
#   5.0.1 uftpd x2, protocol v5, in clear and encrypted (AES-256-GCM):
#     ANNOUNCE with EXT_FEC_INFO after EXT_ENC_INFO     -> completes
#     ANNOUNCE with EXT_FEC_INFO first                   -> clear: completes;
#                                                          encrypted: the ENC_INFO is missed
#     FEC_PARITY among the FILESEGs (sealed / in clear)  -> completes
#     EXT_FEC_INFO in FILESEG, in DONE                   -> completes
#     EXT_FEC_INFO in FILEINFO                           -> aborts ("invalid message size")
#   5.0.1 uftpd x2 and Debian 4.10.2 uftpd x2, protocol v4: the same for
#     ANNOUNCE, FEC_PARITY and FILEINFO.
#
# The reference binaries come from UFTP_REF_DIR (or UFTP_REF_BIN), a UFTP
# 5.0.1 build outside this tree; without it the test is skipped. Debian's
# uftp 4.10.2 (unpacked by tools/install-deps.sh) is optional.
#
#   interop.sh FECPROBE
PROBE=${1:?usage: interop.sh FECPROBE}
REF=${UFTP_REF_DIR:-${UFTP_REF_BIN:-}}
if [ -z "$REF" ] || [ ! -x "$REF/uftpd" ]; then
    echo "SKIP: set UFTP_REF_DIR to a directory with a UFTP 5.0.1 uftpd"
    exit 77
fi
REF=$(readlink -f "$REF")
PROBE=$(readlink -f "$PROBE")
DEB=${UFTP_DEBIAN_BIN:-/opt/uftp-debian/usr/bin}
# common.sh wants UFTP / UFTPD; this test starts only reference daemons.
UFTP=$PROBE UFTPD=$PROBE
TEST_TAG=fecx
. "$(dirname "$0")/../transfer/common.sh"

RIDS=(0x22000011 0x22000012)
netns_lan lan 3
mkdir -p "$NETNS_TMP/src"
head -c 300000 /dev/urandom >"$NETNS_TMP/src/data.bin" # 231 blocks: 28 FEC blocks of 8 + 7

PIDS=()
# start_rx BINDIR ARGS...: two receivers (lan2, lan3) that stay up for every case.
start_rx() {
    local bin=$1 i
    shift
    PIDS=()
    for i in 0 1; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        : >"$NETNS_TMP/rx$i.log"
        netns_spawn lan$((i + 2)) "$NETNS_TMP/rx$i.log" "$bin/uftpd" -d -x 4 -U "${RIDS[$i]}" \
            -D "$NETNS_TMP/d$i" "$@"
        PIDS+=("$NETNS_LAST_PID")
    done
    sleep 0.5
}
stop_rx() {
    local i
    for i in 0 1; do
        kill -0 "${PIDS[$i]}" 2>/dev/null || fail "$RXNAME rx$i died"
        netns_stop "${PIDS[$i]}"
    done
}
NCASE=0
# probe WANT ARGS...: WANT = complete (both receive the file) | aborted (both
# send ABORT and have no file) | none (no file, whatever the reason).
probe() {
    local want=$1 i out res="" lines
    shift
    NCASE=$((NCASE + 1))
    for i in 0 1; do
        rm -rf "${NETNS_TMP:?}/d$i/"*
        lines[$i]=$(wc -l <"$NETNS_TMP/rx$i.log")
    done
    out=$(netns_exec lan1 timeout 90 "$PROBE" -n 2 "$@" 230.4.4.1 230.5.5.$((40 + NCASE)) \
        "$NETNS_TMP/src/data.bin" 2>"$NETNS_TMP/probe$NCASE.log")
    for i in 0 1; do
        if [ "$want" = complete ]; then
            if cmp -s "$NETNS_TMP/src/data.bin" "$NETNS_TMP/d$i/data.bin" &&
                grep -q "$(printf %08X "${RIDS[$i]}") complete" <<<"$out"; then
                res="$res complete"
            else
                res="$res FAILED"
            fi
        elif [ "$want" = none ]; then
            if [ ! -s "$NETNS_TMP/d$i/data.bin" ]; then res="$res none"; else res="$res FAILED"; fi
        else
            if grep -q "$(printf %08X "${RIDS[$i]}") aborted" <<<"$out" &&
                [ ! -s "$NETNS_TMP/d$i/data.bin" ]; then
                res="$res aborted"
            else
                res="$res FAILED"
            fi
        fi
        kill -0 "${PIDS[$i]}" 2>/dev/null || res="$res(died)"
    done
    printf '  %-7s %-36s receivers:%s\n' "$RXNAME" "$*" "$res"
    for i in 0 1; do
        tail -n +"$((lines[i] + 1))" "$NETNS_TMP/rx$i.log" |
            grep -E "UNKNOWN|Expected|Rejecting|nvalid|bort|not encrypted|No unencrypted" |
            sed 's/^[^]]*\] *//; s/^[0-9\/: ]*//' | sort | uniq -c | head -n 4 |
            sed "s/^/             rx$i logged: /"
    done
    if [ "$res" != " $want $want" ]; then
        fail "$RXNAME fecprobe $*: receivers$res (want $want)"
        echo "$out"
        tail -n 5 "$NETNS_TMP/probe$NCASE.log"
    fi
}

# parity_seen CASE UDPLEN: the FEC_PARITY datagrams (UDP length UDPLEN)
# that reached receiver 0's interface during the last case: all 58 (231
# blocks in 29 FEC blocks, 2 parity each), so "completes" means "completes
# with the parity delivered", not "the parity never arrived".
parity_seen() {
    local n
    n=$(tshark -r "$NETNS_TMP/$1.pcap" -Y "udp.length == $2" 2>/dev/null | wc -l)
    echo "             rx0 received $n FEC_PARITY datagrams ($2-byte UDP payloads)"
    [ "$n" -ge 58 ] || fail "$1: only $n FEC_PARITY datagrams reached the receiver"
}
CAP=0
command -v dumpcap >/dev/null && command -v tshark >/dev/null && CAP=1

# v5 against 5.0.1: every case in clear and encrypted.
RXNAME=5.0.1
echo "fecprobe (v5) -> UFTP 5.0.1 uftpd x2:"
start_rx "$REF"
for e in "" -e; do
    probe complete $e
    probe complete $e -x announce-ext
    if [ "$CAP" = 1 ]; then
        netns_capture lan2 eth0 "$NETNS_TMP/par$e.pcap" "udp"
        cap=$NETNS_LAST_PID
    fi
    probe complete $e -x parity
    if [ "$CAP" = 1 ]; then
        sleep 0.3
        netns_capture_stop "$cap"
        # clear: 16 + 12 + 1300 (+ 8 UDP); sealed: 16 + 12 + 12 + 1300 + 16 (+ 8)
        if [ -z "$e" ]; then parity_seen par 1336; else parity_seen par-e 1364; fi
    fi
    probe complete $e -x fileseg-ext
    probe complete $e -x done-ext
    probe complete $e -x announce-ext -x parity -x fileseg-ext -x done-ext
    probe aborted $e -x fileinfo-ext
done
probe complete -x announce-first
probe complete -e -x parity-clear
# Our extension first hides EXT_ENC_INFO (the reference reads only the first
# extension): the receivers take the session for a clear one and never key.
probe none -e -x announce-first
probe complete -e
stop_rx

# v4 sessions (spec §1.9): 5.0.1, then Debian's 4.10.2.
for rx in ref deb; do
    if [ "$rx" = ref ]; then
        RXNAME=5.0.1/v4 bin=$REF
    else
        [ -x "$DEB/uftpd" ] || { echo "(Debian uftp 4.10.2 not found in $DEB: its cases skipped)"; continue; }
        RXNAME=4.10.2 bin=$DEB
    fi
    echo "fecprobe -4 -> $RXNAME uftpd x2:"
    # 4.x clients need a key of the server's type for ECDH_ECDSA (P-256 here).
    if [ "$rx" = deb ]; then start_rx "$bin" -K ec:prime256v1; else start_rx "$bin"; fi
    for e in "" -e; do
        probe complete -4 $e -x announce-ext
        probe complete -4 $e -x parity
        probe complete -4 $e -x done-ext -x fileseg-ext
        probe aborted -4 $e -x fileinfo-ext
    done
    probe complete -4 -e
    stop_rx
done
echo "$NCASE cases"
finish
