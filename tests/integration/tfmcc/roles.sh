#!/bin/bash
# Issue 12: TFMCC (-C tfmcc, spec §1.7) through every proxy role (spec §3),
# one receiver behind a 50 Mbit/s tbf bottleneck on its bridge port. Every
# copy must be byte-exact (sha256) and the sender must exit 0.
#
#   roles.sh tunnel UFTP UFTPD UFTPPROXYD
#     our uftp -> our server proxy -> our client proxy -> 4 of our uftpd, on
#     three disjoint networks (wan: snd, sp; mid: sp, cp; lan: cp, r1..r4; r4
#     behind the bottleneck), clear and AES-256-GCM. The CLR must be one of
#     the receivers (never a proxy: spec §1.7) and the sender must have heard
#     TFMCC feedback through both proxies.
#   roles.sh ref UFTP UFTPD UFTPPROXYD
#     our uftp and uftpd with the 5.0.1 uftpproxyd between them (UFTP_REF_BIN
#     or UFTP_REF_DIR: a directory with a 5.0.1 uftpproxyd built outside this
#     tree; skipped without it): as a response proxy for 4 receivers on the
#     sender's LAN, then as server proxy and client proxy in the tunnel
#     topology above. Clear only: encrypted, 5.0.1's client and response
#     proxies forward CC_ACK sealed under the client's key, which no sender
#     can read (spec §6 item 7): no CLR feedback, the rate halves to the
#     floor, with 5.0.1's sender as with ours. The encrypted paths through
#     them without TFMCC are covered by interop_proxy_*.
mode=${1:?usage: roles.sh tunnel|ref UFTP UFTPD UFTPPROXYD}
shift
UFTP=${1:?usage: roles.sh tunnel|ref UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
case $mode in
tunnel)
    unset UFTP_REF_DIR UFTP_REF_ROLE
    ;;
ref)
    r=${UFTP_REF_BIN:-${UFTP_REF_DIR:-}}
    if [ -z "$r" ] || [ ! -x "$r/uftpproxyd" ]; then
        echo "SKIP: set UFTP_REF_BIN to a directory with a UFTP 5.0.1 uftpproxyd"
        exit 77
    fi
    export UFTP_REF_DIR=$r UFTP_REF_ROLE=proxy
    ;;
*)
    echo "roles.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
TEST_TAG=tfroles
. "$(dirname "$0")/../proxy/common.sh"
netns_require_root tc

MB=${TFMCC_MB:-8}
make_files "$NETNS_TMP/src" "$MB"

# session NAME SNDHOST RXPREFIX PROXYLIST ENC: our uftp -C tfmcc from SNDHOST to the
# four receivers RXPREFIX1..4 ($ids); checks every copy.
session() {
    local name=$1 snd=$2 rx=$3 proxies=$4 enc=$5 i t0 t1 clr p
    t0=$(date +%s.%N)
    run_uftp "$snd" "uftp-$name" 90 -Y "$enc" -C tfmcc -x 5 -H "$ids" -j "$proxies" \
        "$NETNS_TMP/src"/*
    t1=$(date +%s.%N)
    printf '  %-20s rc=%s %5.1fs\n' "$name" "$UFTP_RC" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
    [ "$UFTP_RC" = 0 ] || fail "$name: uftp exited $UFTP_RC"
    for i in 1 2 3 4; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/$rx$i" "$name: receiver $i"
    done
    # Our sender ran TFMCC on its receivers' feedback, carried by the proxies (spec §1.7,
    # §3): at -x 5 it logs every report it takes (sender/engine/cc.c) and every CLR it
    # picks. Reports must arrive and name receivers; no proxy is ever picked as CLR.
    local rep who
    rep=$(grep -c "TFMCC: [0-9A-F]* reports" "$NETNS_TMP/uftp-$name.log")
    who=$(grep -o "TFMCC: [0-9A-F]* reports" "$NETNS_TMP/uftp-$name.log" | awk '{ print $2 }' |
        sort | uniq -c | awk '{ printf " %s:%s", $2, $1 }')
    echo "  $name: $rep TFMCC reports at the sender:$who"
    [ "$rep" -gt 0 ] || fail "$name: no TFMCC feedback reached the sender"
    for p in $(cat "$proxies"); do
        ! grep -q "TFMCC: CLR ${p#0x}\|TFMCC: ${p#0x} reports" "$NETNS_TMP/uftp-$name.log" ||
            fail "$name: the proxy $p taken as a TFMCC receiver"
    done
    for p in $(echo "$ids" | tr , ' '); do
        clr=${p#0x}
        echo "$who" | grep -q " $clr:" && return 0
    done
    fail "$name: no report names a receiver"
}

start_receivers() { # start_receivers RXPREFIX TAG
    local i
    for i in 1 2 3 4; do
        rm -rf "${NETNS_TMP:?}/$1$i"
        mkdir -p "$NETNS_TMP/$1$i"
        start_uftpd "$1$i" "$1$i-$2" -D "$NETNS_TMP/$1$i" -S "$NETNS_TMP/servers-$1"
    done
}

# wan: tsnd 10.98.1.1, tsp .2 | mid: tsp 10.98.2.2, tcp .3 | lan: tcp 10.98.3.3, t1..t4 .11-.14
tunnel() {
    local enc i
    netns_tunnel 10.98 tsnd tsp tcp lan 3
    ids=""
    for i in 1 2 3 4; do
        netns_add "t$i"
        netns_link "t$i" lan eth0 "10.98.3.1$i/24"
        ids="$ids,$(id_of "10.98.3.1$i")"
    done
    ids=${ids#,}
    netns_bottleneck t4 rate 50mbit burst 64kb latency 100ms
    id_of 10.98.2.3 >"$NETNS_TMP/proxies-t" # its first interface's address, as 5.0.1 derives it
    echo "$(id_of 10.98.1.1)|10.98.1.1|$(id_of 10.98.2.3)" >"$NETNS_TMP/servers-t"
    for enc in "$@"; do
        start_proxy tsp "sp-$enc" -s 10.98.2.3
        start_proxy tcp "cp-$enc" -c -O eth1
        start_receivers t "$enc"
        session "tunnel-$enc" tsnd t "$NETNS_TMP/proxies-t" "$enc"
        if ! is_ref "$UFTPPROXYD"; then
            # Our client proxy aggregated its four clients' answers (spec §3.4).
            grep -q "upstream for 4 clients" "$NETNS_TMP/cp-$enc.log" ||
                fail "tunnel-$enc: the client proxy never aggregated its 4 clients"
        fi
        stop_all
    done
}

# rlan: rsnd 10.98.5.1, rrp .2, q1..q4 .11-.14 (q4 behind the bottleneck)
response() {
    local enc i
    netns_bridge rlan
    netns_add rsnd
    netns_link rsnd rlan eth0 10.98.5.1/24
    netns_add rrp
    netns_link rrp rlan eth0 10.98.5.2/24
    ids=""
    for i in 1 2 3 4; do
        netns_add "q$i"
        netns_link "q$i" rlan eth0 "10.98.5.1$i/24"
        ids="$ids,$(id_of "10.98.5.1$i")"
    done
    ids=${ids#,}
    netns_bottleneck q4 rate 50mbit burst 64kb latency 100ms
    id_of 10.98.5.2 >"$NETNS_TMP/proxies-q"
    echo "$(id_of 10.98.5.1)|10.98.5.1|$(id_of 10.98.5.2)" >"$NETNS_TMP/servers-q"
    for enc in "$@"; do
        start_proxy rrp "rp-$enc" -r
        start_receivers q "$enc"
        session "response-$enc" rsnd q "$NETNS_TMP/proxies-q" "$enc"
        stop_all
    done
}

if [ "$mode" = tunnel ]; then
    tunnel none aes256-gcm
else
    response none
    tunnel none
fi
finish
