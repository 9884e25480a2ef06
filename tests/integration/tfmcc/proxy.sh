#!/bin/bash
# Issue 12: TFMCC through a response proxy aggregating 8 receivers (spec
# §1.7, §3.4), one of them behind a 50 Mbit/s tbf bottleneck. The sender
# runs -C tfmcc; the receivers answer the proxy alone. Checked: every copy
# (sha256), nothing from a receiver reaches the sender, and in the clear (a
# capture on the sender's link, read with tshark) the proxy passes few CC_ACKs
# (its own suppression, fwd.c: at most a small number per CONG_CTRL round,
# not one per receiver) and its aggregated STATUS carry TFMCC_ACK_INFO.
# With UFTP_REF_DIR set (interop_tfmcc_proxy), the 5.0.1 uftp and uftpd are
# at the ends and our proxy between them (proxy/common.sh, UFTP_REF_ROLE).
#
#   proxy.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: proxy.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=tfproxy
. "$(dirname "$0")/../proxy/common.sh"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || { echo "SKIP: no dumpcap/tshark" >&2; exit 77; }
netns_require_root tc

netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.97.1.1/24
netns_add rp
netns_link rp lan eth0 10.97.1.2/24
ids=""
for i in 1 2 3 4 5 6 7 8; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.97.1.1$i/24"
    ids="$ids,$(id_of "10.97.1.1$i")"
done
ids=${ids#,}
netns_bottleneck r8 rate 50mbit burst 64kb latency 100ms
make_files "$NETNS_TMP/src" "${PROXY_MB:-16}"
rpid=$(id_of 10.97.1.2)
echo "$rpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.97.1.1)|10.97.1.1|$rpid" >"$NETNS_TMP/servers"

for enc in none aes256-gcm; do
    echo "== $enc"
    start_proxy rp "rp-$enc" -r
    for i in 1 2 3 4 5 6 7 8; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    netns_capture snd eth0 "$NETNS_TMP/snd-$enc.pcap" "udp"
    cap=$NETNS_LAST_PID
    run_uftp snd "uftp-$enc" 180 -Y "$enc" -C tfmcc -x 3 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    sleep 0.3
    netns_capture_stop "$cap"
    for i in 1 2 3 4 5 6 7 8; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    tshark -r "$NETNS_TMP/snd-$enc.pcap" -T fields -e ip.src -e uftp5.func 2>/dev/null |
        sort | uniq -c >"$NETNS_TMP/count-$enc"
    sed 's/^/  on the sender link: /' "$NETNS_TMP/count-$enc"
    n_rx=$(awk '$2 != "10.97.1.2" && $2 != "10.97.1.1" { n += $1 } END { print n + 0 }' \
        "$NETNS_TMP/count-$enc")
    [ "$n_rx" = 0 ] || fail "$enc: the sender heard $n_rx datagrams from receivers"
    if [ "$enc" = none ]; then
        c() { awk -v s="$1" -v f="$2" '$2 == s && $3 == f { n += $1 } END { print n + 0 }' \
            "$NETNS_TMP/count-$enc"; }
        ncc=$(c 10.97.1.1 20) nack=$(c 10.97.1.2 21)
        echo "  CONG_CTRL sent: $ncc, CC_ACK from the proxy: $nack"
        [ "$ncc" -gt 0 ] || fail "no CONG_CTRL from the sender"
        # The CLR answers each CONG_CTRL; the others at most once a round (6 CONG_CTRLs) each,
        # and the proxy passes only lower ones: far fewer than 8 answers per CONG_CTRL.
        [ "$nack" -ge 1 ] && [ "$nack" -le $((2 * ncc + 20)) ] ||
            fail "CC_ACK from the proxy: $nack for $ncc CONG_CTRL"
    fi
    if [ -z "$REF" ] || [ "${UFTP_REF_ROLE:-ends}" = proxy ]; then
        grep -q "CLR" "$NETNS_TMP/uftp-$enc.log" || fail "$enc: our sender never named a CLR"
    else
        grep -q "dynamic via TFMCC" "$NETNS_TMP/uftp-$enc.log" || fail "$enc: 5.0.1 without TFMCC"
    fi
    stop_all
done
finish
