#!/bin/bash
# Issue 8: the proxies forward data in UDP GSO sends. The tunnel of the
# proxy tests (sender -> server proxy -> client proxy -> 2 receivers on
# three disjoint networks), unpaced (-R -1), in the clear and with
# AES-256-GCM: every file identical, and each proxy's send path (its log at
# SIGTERM) shows GSO sends carrying several datagrams each, no fallback.
#
#   proxy.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: proxy.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=bproxy
unset UFTP_REF_DIR # ours at every hop: the counters are ours
. "$(dirname "$0")/../proxy/common.sh"

netns_tunnel 10.95 snd sp cp lan 3
ids=""
for i in 1 2; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.95.3.1$i/24"
    ids="$ids,$(id_of "10.95.3.1$i")"
done
ids=${ids#,}

make_files "$NETNS_TMP/src" "${BATCH_MB:-16}"
cpid=$(id_of 10.95.2.3)
echo "$cpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.95.1.1)|10.95.1.1|$cpid" >"$NETNS_TMP/servers"

# send_path LOG: "datagrams calls gso fallbacks" from a proxy's last send-path line.
send_path() {
    sed -n 's/.*send path: \([0-9]*\) datagrams in \([0-9]*\) calls (\([0-9]*\) GSO, \([0-9]*\) GSO fallbacks).*/\1 \2 \3 \4/p' \
        "$1" | tail -1
}

for enc in none aes256-gcm; do
    echo "== $enc"
    start_proxy sp "sp-$enc" -s 10.95.2.3
    start_proxy cp "cp-$enc" -c -O eth1
    for i in 1 2; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    run_uftp snd "uftp-$enc" 180 -Y "$enc" -R -1 -x 2 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    for i in 1 2; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    stop_all
    for p in sp cp; do
        read -r dg calls gso fb <<<"$(send_path "$NETNS_TMP/$p-$enc.log")"
        echo "  $p: ${dg:-?} datagrams in ${calls:-?} calls, ${gso:-?} GSO sends, ${fb:-?} fallbacks"
        [ "${gso:-0}" -gt 0 ] || fail "$enc: $p forwarded without a GSO send"
        [ "${fb:-1}" = 0 ] || fail "$enc: $p fell back from GSO $fb times"
        # Most of the file's ~13000 data datagrams left in trains.
        [ "${calls:-0}" -gt 0 ] && [ $((dg / calls)) -ge 4 ] ||
            fail "$enc: $p made $calls send calls for $dg datagrams"
    done
done
finish
