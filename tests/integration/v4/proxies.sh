#!/bin/bash
# Issue 6, tests 3 and 4: v4 sessions through proxies, ours and Debian's
# uftp 4.10.2 (found as in debian.sh), in network namespaces, sha256-checked:
#
#   3a. Debian uftp -> our uftpproxyd -r (response role) -> our uftpd -r x2,
#       in clear and encrypted (ECDH_ECDSA, AES-256-GCM, SHA-256: our
#       receivers take our proxy's long-lived key with KEY_REQ, fingerprint
#       checked for one, and our proxy re-keys them with the v4 schedule);
#   3b. Debian uftp -> our uftpproxyd -s -> our uftpproxyd -c (client role)
#       -> our uftpd x2, on disjoint networks, in clear and encrypted (the
#       client proxy substitutes its keys into the ANNOUNCE and re-signs it);
#       3a and 3b encrypted also with client authentication (-c: the proxy
#       checks its receivers' v4 CLIENT_KEY and sends its own, issue 15);
#   4.  our uftp --protocol 4 -> Debian uftpproxyd -r -> our uftpd -r x2,
#       in clear and encrypted (our receivers take the 4.x proxy's key with
#       KEY_REQ, spec §1.9 item 4).
#
#   proxies.sh UFTP UFTPD UFTPPROXYD
UFTP=${1:?usage: proxies.sh UFTP UFTPD UFTPPROXYD} UFTPD=${2:?} UFTPPROXYD=${3:?}
DEB=${UFTP_DEBIAN_BIN:-}
if [ -z "$DEB" ]; then
    for d in /opt/uftp-debian/usr/bin /usr/bin; do
        if [ -x "$d/uftpproxyd" ] && "$d/uftp" 2>&1 | grep -q 'keyextype'; then
            DEB=$d
            break
        fi
    done
fi
if [ -z "$DEB" ] || [ ! -x "$DEB/uftpproxyd" ] || [ ! -x "$DEB/uftp" ]; then
    echo "SKIP: Debian's uftp 4.x is not there (/opt/uftp-debian/usr/bin or /usr/bin, or" \
        "UFTP_DEBIAN_BIN); tools/install-deps.sh fetches it"
    exit 77
fi
TEST_TAG=v4proxies
unset UFTP_REF_DIR
. "$(dirname "$0")/../proxy/common.sh"

make_files "$NETNS_TMP/src" 2
NSESS=0
# session HOST BIN WANT_RC ARGS... -- DEST_DIRS...: one v4 session, then the
# files in every destination compared with the source.
session() {
    local host=$1 bin=$2 want=$3 a args=() dirs=() side=args
    shift 3
    for a in "$@"; do
        if [ "$a" = -- ]; then side=dirs; continue; fi
        if [ $side = args ]; then args+=("$a"); else dirs+=("$a"); fi
    done
    NSESS=$((NSESS + 1))
    for a in "${dirs[@]}"; do rm -rf "${a:?}"/*; done
    netns_spawn "$host" "$NETNS_TMP/s$NSESS.log" "$bin" -x 2 -R 100000 -r 0.1 "${args[@]}" \
        "$NETNS_TMP/src"/*
    netns_wait "$NETNS_LAST_PID" 90
    local rc=$?
    printf '  %-6s %-52s rc=%s\n' "$([ "$bin" = "$UFTP" ] && echo ours || echo debian)" \
        "${args[*]}" "$rc"
    [ "$rc" = "$want" ] || fail "session $NSESS (${args[*]}): exit $rc, want $want"
    if [ "$want" = 0 ]; then
        for a in "${dirs[@]}"; do same_files "$NETNS_TMP/src" "$a" "session $NSESS: $a"; done
    fi
}

# ---- 3a and 4: one LAN, the server reaches the clients by multicast.
netns_lan lan 4
PXIP=$(netns_ip4 lan2)
R1=$(id_of "$(netns_ip4 lan3)") R2=$(id_of "$(netns_ip4 lan4)") PXID=0x33000001
echo "$PXID" >"$NETNS_TMP/proxies"
mkdir -p "$NETNS_TMP/d1" "$NETNS_TMP/d2"

echo "3a. Debian uftp -> our uftpproxyd -r -> our uftpd -r x2:"
KEYMGT="$(dirname "$UFTP")/../tools/uftp_keymgt"
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/ourpx.pem" >/dev/null 2>&1 ||
    fail "cannot make the proxy's key"
start_proxy lan2 px -r -U $PXID -k "$NETNS_TMP/ourpx.pem" -e prime256v1
start_uftpd lan3 r1 -D "$NETNS_TMP/d1" -r "$PXIP/$(keyfp "$NETNS_TMP/ourpx.pem")"
start_uftpd lan4 r2 -D "$NETNS_TMP/d2" -r "$PXIP"
wait_log "$NETNS_TMP/r1.log" "received PROXY_KEY" "${DAEMONS[1]}" ||
    fail "r1 got no PROXY_KEY from our proxy"
# One PROXY_KEY per 5 s at most: r2 may need its second KEY_REQ.
wait_log "$NETNS_TMP/r2.log" "received PROXY_KEY" "${DAEMONS[2]}" ||
    wait_log "$NETNS_TMP/r2.log" "received PROXY_KEY" "${DAEMONS[2]}" ||
    fail "r2 got no PROXY_KEY from our proxy"
session lan1 "$DEB/uftp" 0 -H "$R1,$R2" -j "$NETNS_TMP/proxies" -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
grep -q "sent REGISTER upstream for 2 clients" "$NETNS_TMP/px.log" ||
    fail "our response proxy did not aggregate the two registrations"
# Encrypted: our proxy is the server's client and re-keys ours (spec §1.9 item 5).
session lan1 "$DEB/uftp" 0 -H "$R1,$R2" -j "$NETNS_TMP/proxies" -Y aes256-gcm -h sha256 \
    -e ecdh_ecdsa -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
grep -q "encrypted session of server" "$NETNS_TMP/px.log" ||
    fail "our proxy did not take the encrypted v4 session"
grep -q "every client keyed" "$NETNS_TMP/px.log" ||
    fail "our proxy did not re-key both clients"
# Issue 15: with client authentication (-c) too: our proxy checks each
# receiver's v4 CLIENT_KEY and sends its own upstream (spec §1.9).
session lan1 "$DEB/uftp" 0 -H "$R1,$R2" -j "$NETNS_TMP/proxies" -Y aes256-gcm -h sha256 \
    -e ecdh_ecdsa -c -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
[ "$(grep -c "CLIENT_KEY from .* verified" "$NETNS_TMP/px.log")" -ge 2 ] ||
    fail "our response proxy did not check both receivers' CLIENT_KEY"
stop_all

echo "4. our uftp --protocol 4 -> Debian uftpproxyd -r -> our uftpd -r x2:"
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/px.pem" >/dev/null 2>&1
netns_spawn lan2 "$NETNS_TMP/debpx.log" "$DEB/uftpproxyd" -r -d -x 2 -U $PXID \
    -k "$NETNS_TMP/px.pem" -e prime256v1
DEBPX=$NETNS_LAST_PID
sleep 0.3
start_uftpd lan3 r1b -D "$NETNS_TMP/d1" -r "$PXIP/$(keyfp "$NETNS_TMP/px.pem")"
start_uftpd lan4 r2b -D "$NETNS_TMP/d2" -r "$PXIP"
wait_log "$NETNS_TMP/r1b.log" "received PROXY_KEY" "${DAEMONS[0]}" ||
    fail "r1b got no PROXY_KEY from Debian's proxy"
session lan1 "$UFTP" 0 --protocol 4 -Y none -H "$R1,$R2" -j "$NETNS_TMP/proxies" \
    -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
session lan1 "$UFTP" 0 --protocol 4 -Y aes256-gcm -h sha256 -H "$R1,$R2" \
    -j "$NETNS_TMP/proxies" -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
stop_all
netns_stop "$DEBPX"

# ---- 3b: disjoint networks, tunnelled by our server and client proxies.
echo "3b. Debian uftp -> our uftpproxyd -s -> our uftpproxyd -c -> our uftpd x2:"
netns_tunnel 10.96 snd sp cp lanc 3
for i in 1 2; do
    netns_add "c$i"
    netns_link "c$i" lanc eth0 "10.96.3.1$i/24"
done
netns_exec snd ping -c1 -W1 10.96.3.11 >/dev/null 2>&1 && fail "sender reaches a receiver directly"
CPID=$(id_of 10.96.2.3)
echo "$CPID" >"$NETNS_TMP/cproxies"
start_proxy sp sp -s 10.96.2.3
start_proxy cp cp -c -O eth1
start_uftpd c1 c1 -D "$NETNS_TMP/d1"
start_uftpd c2 c2 -D "$NETNS_TMP/d2"
session snd "$DEB/uftp" 0 -H "$(id_of 10.96.3.11),$(id_of 10.96.3.12)" -j "$NETNS_TMP/cproxies" \
    -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
grep -q "sent REGISTER upstream for 2 clients" "$NETNS_TMP/cp.log" ||
    fail "our client proxy did not aggregate the two registrations"
# Encrypted: the client proxy puts its own keys into the ANNOUNCE, signs it,
# and re-keys the clients (spec §1.9 item 5).
session snd "$DEB/uftp" 0 -H "$(id_of 10.96.3.11),$(id_of 10.96.3.12)" -j "$NETNS_TMP/cproxies" \
    -Y aes256-gcm -h sha256 -e ecdh_ecdsa -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
grep -q "every client keyed" "$NETNS_TMP/cp.log" ||
    fail "our client proxy did not re-key both clients"
# Client authentication (issue 15, spec §1.9): CLIENT_KEYs checked by the client proxy.
session snd "$DEB/uftp" 0 -H "$(id_of 10.96.3.11),$(id_of 10.96.3.12)" -j "$NETNS_TMP/cproxies" \
    -Y aes256-gcm -h sha256 -e ecdh_ecdsa -c -- "$NETNS_TMP/d1" "$NETNS_TMP/d2"
[ "$(grep -c "CLIENT_KEY from .* verified" "$NETNS_TMP/cp.log")" -ge 2 ] ||
    fail "our client proxy did not check both receivers' CLIENT_KEY"
stop_all
echo "$NSESS sessions"
finish
