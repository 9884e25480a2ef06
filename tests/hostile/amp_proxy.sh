#!/bin/bash
# Issue 14 item 1 at the proxies: what forged datagrams can make uftpproxyd
# send, in each of its three roles.
#
# A LAN of four namespaces: the attacker, the proxy, a victim whose address
# the attacker claims (as the server, port 2000, and as clients, port 3000)
# and, for the server proxy, its downstream. For each role and each
# unauthenticated input type (ANNOUNCE with GRTT 1 us, REGISTER from a crowd
# of clients, KEYINFO, ABORT, heartbeats), a capture on the proxy's
# interface counts everything it sends (forwarded, multicast, answers) for
# as long as it keeps sending. Figure: bytes sent per byte received from
# the attacker; target <= 3. The proxy is restarted for each case.
#
#   amp_proxy.sh UFTPPROXYD HOSTILE_FORGE UFTP_KEYMGT
UFTPPROXYD=${1:?usage: amp_proxy.sh UFTPPROXYD HOSTILE_FORGE UFTP_KEYMGT} FORGE=${2:?} KEYMGT=${3:?}
TEST_TAG=hampp
. "$(dirname "$0")/common.sh"
UFTPPROXYD=$(readlink -f "$UFTPPROXYD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 4
A=lan1 P=lan2 V=lan3 DN=lan4
PIP=$(netns_ip4 $P)
VIP=$(netns_ip4 $V)
DIP=$(netns_ip4 $DN)
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/attacker.pem" >/dev/null 2>&1 || fail "cannot make a key"
# Neighbours resolved first: no datagram waits for ARP (and none is lost there).
netns_exec $A ping -c1 -W1 "$PIP" >/dev/null
netns_exec $P ping -c1 -W1 "$VIP" >/dev/null
netns_exec $P ping -c1 -W1 "$DIP" >/dev/null

# case ROLE NAME FORGE-RUN [--then FORGE-RUN...]
case_() {
    local role=$1 name=$2 pid pkts bytes r fp_=0 fb_=0 run=() args
    shift 2
    case $role in
    server) args=(-s "$DIP" -I eth0) ;;
    client) args=(-c -O eth0) ;;
    response) args=(-r -I eth0) ;;
    esac
    start_daemon $P "$role-$name" "$UFTPPROXYD" "${args[@]}"
    pid=$NETNS_LAST_PID
    cap_start $P
    for a in "$@" --then; do
        if [ "$a" = --then ]; then
            forge $A --to "$PIP:1044" --spoof "$VIP/32" "${run[@]}"
            fp_=$((fp_ + FORGED_PKTS))
            fb_=$((fb_ + FORGED_BYTES))
            run=()
        else
            run+=("$a")
        fi
    done
    sleep "${TAIL:-1.2}"
    cap_stop
    stop_daemon "$pid" "$role-$name"
    read -r pkts bytes < <(cap_sent "$PIP")
    r=$(ratio "$bytes" "$fb_")
    figure "uftpproxyd $role $name: attacker sent $fp_ datagrams, $fb_ bytes; proxy sent $pkts datagrams, $bytes bytes: ratio $r"
    at_most "$r" 3 || fail "uftpproxyd $role $name: ratio $r > 3"
}

G=7E570010
for role in server client response; do
    case_ $role announce-grtt0 announce --sport 2000 --grtt 0 --robust 1 --count 1
    case_ $role announce-junkkey announce --sport 2000 --junk-key --grtt 0 --count 200 --rate 1000
    case_ $role register announce --sport 2000 --group $G --grtt 0 --robust 1 \
        --then register --sport 3000 --group $G --client 0A000100 --vary-client --count 300 --rate 1000
    # Encrypted: the proxy registers its clients upstream again every 2 GRTT until confirmed.
    case_ $role register-enc announce --sport 2000 --signed "$NETNS_TMP/attacker.pem" --group $G \
        --grtt 0 --robust 1 --then register --sport 3000 --group $G --client 0A000100 --dh --count 1
    case_ $role keyinfo announce --sport 2000 --signed "$NETNS_TMP/attacker.pem" --group $G --grtt 0 \
        --robust 1 --then keyinfo --sport 2000 --group $G --client 0A650002 --count 300 --rate 1000
    case_ $role abort announce --sport 2000 --group $G --grtt 0 --robust 1 \
        --then register --sport 3000 --group $G --client 0A000100 --count 1 \
        --then abort --sport 3000 --group $G --client 0A000100 --count 300 --rate 1000 --seq 1
    case_ $role hbreq hbreq --sport 3000 --count 300 --rate 1000
done
finish
