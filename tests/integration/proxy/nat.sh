#!/bin/bash
# Issue 5, test 2: the client proxy behind a NAT router (nftables
# masquerade), reachable only because of its heartbeats, with a server
# proxy in fingerprint mode (-s fp=...): the server proxy learns its
# downstream from the authenticated heartbeats. Halfway through the
# transfer the router's outside address changes (its masquerade entries go
# with it): the client proxy comes back from a new address, proves itself
# again, and the server proxy follows it. Unencrypted and encrypted.
#
#   wan   snd 10.95.1.1, sp 10.95.1.2
#   pub   sp 10.95.2.2, nat 10.95.2.254 (later .253)
#   inner nat 10.95.3.254, cp 10.95.3.3 (default route via the nat)
#   lan   cp 10.95.4.3, r1..r4 10.95.4.11-14
#
#   nat.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: nat.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=nat
. "$(dirname "$0")/common.sh"

netns_bridge wan
netns_bridge pub
netns_bridge inner
netns_bridge lan
netns_add snd
netns_link snd wan eth0 10.95.1.1/24
netns_add sp
netns_link sp wan eth0 10.95.1.2/24
netns_link sp pub eth1 10.95.2.2/24
netns_add nat
netns_link nat pub eth0 10.95.2.254/24
netns_link nat inner eth1 10.95.3.254/24
netns_forwarding nat
netns_exec nat nft -f - <<'NFT' || fail "nftables masquerade"
table ip nat {
    chain post {
        type nat hook postrouting priority srcnat;
        oifname "eth0" masquerade
    }
}
NFT
netns_add cp
netns_link cp inner eth0 10.95.3.3/24
netns_link cp lan eth1 10.95.4.3/24
netns_route cp default via 10.95.3.254
ids=""
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.95.4.1$i/24"
    ids="$ids,$(id_of "10.95.4.1$i")"
done
ids=${ids#,}
# The server proxy cannot reach the client proxy: only the reverse, through NAT.
netns_exec sp ping -c1 -W1 10.95.3.3 >/dev/null 2>&1 && fail "the client proxy is reachable from outside"

make_files "$NETNS_TMP/src" "${PROXY_MB:-16}"
make_key "$NETNS_TMP/cp.key"
fp=$(keyfp "$NETNS_TMP/cp.key")
cpid=$(id_of 10.95.4.3)
echo "$cpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.95.1.1)|10.95.1.1|$cpid" >"$NETNS_TMP/servers"

outside=254
for enc in ${PROXY_ENC:-none aes256-gcm}; do
    echo "== $enc"
    start_proxy sp "sp-$enc" -s "fp=$fp"
    start_proxy cp "cp-$enc" -c -O eth1 -U "$cpid" -k "$NETNS_TMP/cp.key" -H 10.95.2.2 -h 1
    for i in 1 2 3 4; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    # Long timeouts (GRTT at least 0.1 s, robustness 50): the address change
    # costs up to a heartbeat interval, which the session must ride out.
    netns_spawn snd "$NETNS_TMP/uftp-$enc.log" "$UFTP" -Y "$enc" -R 16000 -x 3 -s 50 \
        -r 0.5:0.1:15 -H "$ids" -j "$NETNS_TMP/proxies" "$NETNS_TMP/src"/*
    upid=$NETNS_LAST_PID
    # Halfway: the router's outside address changes.
    for ((k = 0; k < 200; k++)); do
        grep -q "big.bin" "$NETNS_TMP/r1-$enc.log" 2>/dev/null && break
        sleep 0.05
    done
    sleep 2
    new=$((outside == 254 ? 253 : 254))
    # Down, readdressed (the old one first: deleting a primary address takes
    # its secondaries along), up: masquerade forgets its mappings with the link.
    netns_exec nat ip link set eth0 down
    netns_exec nat ip addr del "10.95.2.$outside/24" dev eth0
    netns_exec nat ip addr add "10.95.2.$new/24" dev eth0
    netns_exec nat ip link set eth0 up
    outside=$new
    netns_wait "$upid" 180
    UFTP_RC=$?
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    for i in 1 2 3 4; do
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    if ! is_ref "$UFTPPROXYD"; then
        grep -q "using 10.95.2.254:.* as downstream\|using 10.95.2.253:.* as downstream" \
            "$NETNS_TMP/sp-$enc.log" || fail "$enc: no downstream learned from heartbeats"
        grep -q "downstream moved from 10.95.2.25[34]:.* to 10.95.2.25[34]:" \
            "$NETNS_TMP/sp-$enc.log" || fail "$enc: the server proxy did not follow the NAT"
        grep "as downstream\|downstream moved" "$NETNS_TMP/sp-$enc.log" | sed 's/^/  /'
    fi
    stop_all
done
finish
