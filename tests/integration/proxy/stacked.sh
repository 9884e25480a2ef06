#!/bin/bash
# Issue 16, spec §3.5 [EXT]: aggregating proxies stacked two deep. One upper
# response proxy (--downstream: the two lower ones) and two lower response
# proxies (--upstream-proxy: the upper one), two receivers behind each lower
# proxy (their -S names it). A cleartext session, then an AES-256-GCM one (the
# lower proxies keyed by the upper one). A capture on the sender's link proves
# the sender hears the upper proxy alone: no datagram from a lower proxy or a
# receiver, and one REGISTER for all four receivers (a second on a busy host).
# Interop (UFTP_REF_ROLE=ends): the 5.0.1 uftp and uftpd at the ends, which
# see ordinary proxies; the reference uftpproxyd does not stack (skipped).
#
#   stacked.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: stacked.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=stacked
. "$(dirname "$0")/common.sh"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || { echo "SKIP: no dumpcap/tshark" >&2; exit 77; }
if is_ref "$UFTPPROXYD"; then
    echo "SKIP: the reference uftpproxyd does not stack proxies" >&2
    exit 77
fi

netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.96.2.1/24
for h in u:2 l1:3 l2:4; do
    netns_add "${h%%:*}"
    netns_link "${h%%:*}" lan eth0 "10.96.2.${h##*:}/24"
done
ids=""
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.96.2.1$i/24"
    ids="$ids,$(id_of "10.96.2.1$i")"
done
ids=${ids#,}
make_files "$NETNS_TMP/src" "${PROXY_MB:-4}"
uid=$(id_of 10.96.2.2)
echo "$uid" >"$NETNS_TMP/proxies"
printf '%s\n%s\n' "$(id_of 10.96.2.3)" "$(id_of 10.96.2.4)" >"$NETNS_TMP/downs"
for l in 1 2; do
    echo "$(id_of 10.96.2.1)|10.96.2.1|$(id_of "10.96.2.$((l + 2))")" >"$NETNS_TMP/servers$l"
done

start_proxy u u -r --downstream "$NETNS_TMP/downs"
start_proxy l1 l1 -r --upstream-proxy "$uid"
start_proxy l2 l2 -r --upstream-proxy "$uid"
for i in 1 2 3 4; do
    mkdir -p "$NETNS_TMP/d$i"
    start_uftpd "r$i" "r$i" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers$(((i + 1) / 2))"
done
# Cleartext, then AES-256-GCM (spec §3.5: the lower proxies keyed by the upper one).
for cipher in none aes256-gcm; do
    rm -rf "$NETNS_TMP"/d[1-4]/*
    netns_capture snd eth0 "$NETNS_TMP/snd-$cipher.pcap" "udp and dst host 10.96.2.1"
    cap=$NETNS_LAST_PID
    run_uftp snd "uftp-$cipher" 120 -Y "$cipher" -R 100000 -x 3 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$cipher: uftp exited $UFTP_RC"
    sleep 0.3
    netns_capture_stop "$cap"
    for i in 1 2 3 4; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$cipher: receiver $i"
    done
    tshark -r "$NETNS_TMP/snd-$cipher.pcap" -T fields -e ip.src -e uftp5.func 2>/dev/null |
        sort | uniq -c >"$NETNS_TMP/count"
    sed "s/^/  $cipher, to the sender: /" "$NETNS_TMP/count"
    others=$(awk '$2 != "10.96.2.2" { n += $1 } END { print n + 0 }' "$NETNS_TMP/count")
    [ "$others" = 0 ] || fail "$cipher: the sender heard $others datagrams from lower proxies or receivers"
    reg=$(awk '$2 == "10.96.2.2" && $3 == 2 { n += $1 } END { print n + 0 }' "$NETNS_TMP/count")
    # One REGISTER round; a late receiver on a busy host may make a second one.
    [ "$reg" -ge 1 ] && [ "$reg" -le 2 ] || fail "$cipher: REGISTER: $reg aggregates from the upper proxy"
done
grep -q "upstream proxy ${uid#0x}" "$NETNS_TMP/l1.log" || fail "l1 never heard its upstream proxy"
stop_all
finish
