#!/bin/bash
# Issue 5, test 1: sender → server proxy → client proxy → 4 receivers, on
# three disjoint networks (wan: sender + server proxy; mid: the two proxies;
# lan: client proxy + receivers), with 5 % loss towards the receivers, once
# unencrypted and once with AES-256-GCM: every file identical (sha256).
# Then SIGHUP to our client proxy (started with --config): a client list
# added to its config applies at once, a changed ttl is only reported.
#
#   tunnel.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: tunnel.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
TEST_TAG=tunnel
. "$(dirname "$0")/common.sh"

netns_tunnel 10.94 snd sp cp lan 3
ids=""
for i in 1 2 3 4; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.94.3.1$i/24"
    netns_loss_to "r$i" 5
    ids="$ids,$(id_of "10.94.3.1$i")"
done
ids=${ids#,}
for h in sp cp; do
    [ "$(netns_exec "$h" sysctl -n net.ipv4.ip_forward)" = 0 ] || fail "$h forwards IP"
done
# The networks are disjoint: the sender cannot reach a receiver at all.
netns_exec snd ping -c1 -W1 10.94.3.11 >/dev/null 2>&1 && fail "sender reaches a receiver directly"

make_files "$NETNS_TMP/src" "${PROXY_MB:-20}"
cpid=$(id_of 10.94.2.3) # its first interface's address, as the reference derives it
echo "$cpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.94.1.1)|10.94.1.1|$cpid" >"$NETNS_TMP/servers"

for enc in ${PROXY_ENC:-none aes256-gcm}; do
    echo "== $enc"
    start_proxy sp "sp-$enc" -s 10.94.2.3
    echo "# the client proxy's config: edited before SIGHUP below" >"$NETNS_TMP/cp.conf"
    cpconf=()
    is_ref "$UFTPPROXYD" || cpconf=(--config "$NETNS_TMP/cp.conf")
    start_proxy cp "cp-$enc" -c -O eth1 "${cpconf[@]}"
    cppid=$NETNS_LAST_PID
    for i in 1 2 3 4; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "r$i" "r$i-$enc" -D "$NETNS_TMP/d$i" -S "$NETNS_TMP/servers"
    done
    run_uftp snd "uftp-$enc" 180 -Y "$enc" -R 100000 -x 3 -H "$ids" -j "$NETNS_TMP/proxies" \
        "$NETNS_TMP/src"/*
    [ "$UFTP_RC" = 0 ] || fail "$enc: uftp exited $UFTP_RC"
    for i in 1 2 3 4; do
        if [ "$enc" != none ] && ref_stranded "$NETNS_TMP/cp-$enc.log" "$NETNS_TMP/r$i-$enc.log" \
            "$(id_of "10.94.3.1$i")"; then
            echo "  KNOWN 5.0.1 DEFECT: the proxy never repeated KEYINFO for receiver $i"
            continue
        fi
        same_files "$NETNS_TMP/src" "$NETNS_TMP/d$i" "$enc: receiver $i"
    done
    if ! is_ref "$UFTPPROXYD"; then
        n=$(grep -c "sent .* upstream for 4 clients" "$NETNS_TMP/cp-$enc.log")
        echo "  client proxy: $n aggregates for all 4 clients"
        [ "$n" -ge 4 ] || fail "$enc: the client proxy aggregated only $n times for 4 clients"
        id_of 10.94.3.11 >"$NETNS_TMP/clients"
        printf 'clients = "%s";\nttl = 2;\n' "$NETNS_TMP/clients" >>"$NETNS_TMP/cp.conf"
        kill -HUP "$cppid"
        wait_log "$NETNS_TMP/cp-$enc.log" "reloaded: 0 servers and 1 client in" "$cppid" ||
            fail "$enc: SIGHUP did not apply the client list: $(tail -3 "$NETNS_TMP/cp-$enc.log")"
        grep -q "reload: 'ttl' changed; it takes effect at the next restart" "$NETNS_TMP/cp-$enc.log" ||
            fail "$enc: SIGHUP: no restart-only warning for ttl"
        [ "$(grep -c "changed; it takes effect" "$NETNS_TMP/cp-$enc.log")" = 1 ] ||
            fail "$enc: SIGHUP: live settings reported as restart-only"
    fi
    stop_all
done
finish
