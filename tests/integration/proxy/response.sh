#!/bin/bash
# Issue 5, test 3: a response proxy aggregating 8 receivers. The sender
# reaches the receivers by multicast itself; the receivers name the proxy in
# their server list (-S), wait for its PROXY_KEY and answer it alone. A
# capture on the sender's link (dumpcap, read with tshark) proves that the
# sender hears one aggregated message per proxy per round, not eight: no
# datagram from a receiver at all, one REGISTER, one FILEINFO_ACK and one
# COMPLETE per file (give or take one when a receiver is late on a busy host). Unencrypted (every type visible) and encrypted.
# Our proxy also writes its metrics (issue 15): the file parses with
# promtool (when installed: tools/install-deps.sh) and its aggregation
# counts agree with the capture.
#
#   response.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: response.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=response
. "$(dirname "$0")/common.sh"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || { echo "SKIP: no dumpcap/tshark" >&2; exit 77; }

netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.96.1.1/24
netns_add rp
netns_link rp lan eth0 10.96.1.2/24
ids=""
for i in 1 2 3 4 5 6 7 8; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.96.1.1$i/24"
    ids="$ids,$(id_of "10.96.1.1$i")"
done
ids=${ids#,}
make_files "$NETNS_TMP/src" "${PROXY_MB:-8}"
nfiles=$(find "$NETNS_TMP/src" -type f | wc -l)
rpid=$(id_of 10.96.1.2)
echo "$rpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.96.1.1)|10.96.1.1|$rpid" >"$NETNS_TMP/servers"

PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /opt/promtool/usr/bin/promtool)}
metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

for enc in ${PROXY_ENC:-none aes256-gcm}; do
    echo "== $enc"
    met=()
    is_ref "$UFTPPROXYD" || met=(--metrics-file "$NETNS_TMP/rp-$enc.prom" --metrics-interval 1)
    start_proxy rp "rp-$enc" -r "${met[@]}"
    for i in 1 2 3 4 5 6 7 8; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    netns_capture snd eth0 "$NETNS_TMP/snd-$enc.pcap" "udp and dst host 10.96.1.1"
    cap=$NETNS_LAST_PID
    run_uftp snd "uftp-$enc" 120 -Y "$enc" -R 100000 -x 3 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    sleep 0.3
    netns_capture_stop "$cap"
    for i in 1 2 3 4 5 6 7 8; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    tshark -r "$NETNS_TMP/snd-$enc.pcap" -T fields -e ip.src -e uftp5.func 2>/dev/null |
        sort | uniq -c >"$NETNS_TMP/count-$enc"
    sed 's/^/  to the sender: /' "$NETNS_TMP/count-$enc"
    n_rx=$(awk '$2 != "10.96.1.2" { n += $1 } END { print n + 0 }' "$NETNS_TMP/count-$enc")
    n_px=$(awk '$2 == "10.96.1.2" { n += $1 } END { print n + 0 }' "$NETNS_TMP/count-$enc")
    [ "$n_rx" = 0 ] || fail "$enc: the sender heard $n_rx datagrams from receivers"
    # 8 receivers answering each round alone would be 8 x (1 + 2 x files + 1).
    [ "$n_px" -ge 1 ] && [ "$n_px" -le $((2 * (2 + 2 * nfiles))) ] ||
        fail "$enc: $n_px datagrams from the proxy"
    if [ "$enc" = none ]; then
        c() { awk -v f="$1" '$2 == "10.96.1.2" && $3 == f { n += $1 } END { print n + 0 }' \
            "$NETNS_TMP/count-$enc"; }
        # One per round; a receiver delayed past the hold time (1 GRTT) on a
        # busy host may make a second one, never eight.
        [ "$(c 2)" -ge 1 ] && [ "$(c 2)" -le 2 ] || fail "REGISTER: $(c 2) aggregates"
        [ "$(c 8)" -ge "$nfiles" ] && [ "$(c 8)" -le $((nfiles + 2)) ] ||
            fail "FILEINFO_ACK: $(c 8) aggregates for $nfiles files"
        [ "$(c 12)" -ge $((nfiles + 1)) ] && [ "$(c 12)" -le $((nfiles + 3)) ] ||
            fail "COMPLETE: $(c 12) aggregates for $nfiles files and the session"
    fi
    stop_all
    if [ ${#met[@]} -gt 0 ]; then
        m=$NETNS_TMP/rp-$enc.prom
        if [ -x "$PROMTOOL" ]; then
            out=$("$PROMTOOL" check metrics <"$m" 2>&1) && [ -z "$out" ] ||
                fail "$enc: promtool on the proxy's metrics: $out"
        fi
        a_in=$(metric uftpproxyd_aggregated_answers_total "$m")
        a_out=$(metric uftpproxyd_aggregates_sent_total "$m")
        echo "  proxy metrics: ${a_in:-?} answers merged into ${a_out:-?} aggregates," \
            "$(metric uftpproxyd_forwarded_datagrams_total "$m") forwarded"
        # Every receiver's REGISTER and COMPLETEs at least went into aggregates,
        # and each aggregate reached the sender (the capture's n_px).
        [ "${a_in:-0}" -ge $((8 * (nfiles + 2))) ] || fail "$enc: ${a_in:-no} answers aggregated"
        [ "${a_out:-0}" -ge 1 ] && [ "${a_out:-0}" -le "$n_px" ] ||
            fail "$enc: ${a_out:-no} aggregates sent, $n_px datagrams from the proxy captured"
    fi
done
finish
