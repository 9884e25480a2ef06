#!/bin/bash
# Issue 5, test 4: a chain of two server proxies in front of a client proxy,
# on four disjoint networks:
#   wan  snd 10.97.1.1, sp1 10.97.1.2
#   m1   sp1 10.97.2.2, sp2 10.97.2.3      (5 % loss each way)
#   m2   sp2 10.97.3.3, cp 10.97.3.4
#   lan  cp 10.97.4.4, r1..r4 10.97.4.11-14
# sp1 tunnels to sp2 (-s), sp2 to the client proxy (-s); answers go back the
# same way. Unencrypted and encrypted: every file identical.
#
#   chain.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: chain.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=chain
. "$(dirname "$0")/common.sh"

for b in wan m1 m2 lan; do netns_bridge "$b"; done
netns_add snd
netns_link snd wan eth0 10.97.1.1/24
netns_add sp1
netns_link sp1 wan eth0 10.97.1.2/24
netns_link sp1 m1 eth1 10.97.2.2/24
netns_add sp2
netns_link sp2 m1 eth0 10.97.2.3/24
netns_link sp2 m2 eth1 10.97.3.3/24
netns_loss_to sp2 5 eth0
netns_loss_from sp2 5 eth0
netns_add cp
netns_link cp m2 eth0 10.97.3.4/24
netns_link cp lan eth1 10.97.4.4/24
ids=""
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.97.4.1$i/24"
    ids="$ids,$(id_of "10.97.4.1$i")"
done
ids=${ids#,}
make_files "$NETNS_TMP/src" "${PROXY_MB:-16}"
cpid=$(id_of 10.97.3.4) # its first interface's address, as the reference derives it
echo "$cpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.97.1.1)|10.97.1.1|$cpid" >"$NETNS_TMP/servers"

for enc in ${PROXY_ENC:-none aes256-gcm}; do
    echo "== $enc"
    start_proxy sp1 "sp1-$enc" -s 10.97.2.3
    start_proxy sp2 "sp2-$enc" -s 10.97.3.4
    start_proxy cp "cp-$enc" -c -O eth1
    for i in 1 2 3 4; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    run_uftp snd "uftp-$enc" 180 -Y "$enc" -R 100000 -x 3 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    for i in 1 2 3 4; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    if ! is_ref "$UFTPPROXYD"; then
        for p in sp1 sp2; do
            grep -q "tunnelling to" "$NETNS_TMP/$p-$enc.log" || fail "$enc: $p tunnelled nothing"
        done
    fi
    stop_all
done
finish
