#!/bin/bash
# Issue 14 items 1 and 8: what forged datagrams can make uftpd send.
#
# A LAN of three namespaces: the attacker, uftpd, and a victim whose
# address the attacker claims. For each unauthenticated input type the
# attacker sends datagrams with hostile claims (GRTT code 0 = 1 us,
# robustness 1 or 255, refused servers, junk keys) from the victim's
# address, and a capture on uftpd's interface counts what uftpd sends in
# answer (to anyone), for as long as it keeps answering. Figure: bytes
# sent per byte received from the attacker (UDP payload); target <= 3.
# uftpd is restarted for each case, so each starts from nothing.
#
#   amp_receiver.sh UFTPD HOSTILE_FORGE UFTP_KEYMGT
UFTPD=${1:?usage: amp_receiver.sh UFTPD HOSTILE_FORGE UFTP_KEYMGT} FORGE=${2:?} KEYMGT=${3:?}
TEST_TAG=hamp
. "$(dirname "$0")/common.sh"
UFTPD=$(readlink -f "$UFTPD")
FORGE=$(readlink -f "$FORGE")

netns_lan lan 3
A=lan1 T=lan2 V=lan3
TIP=$(netns_ip4 $T)
VIP=$(netns_ip4 $V)
D=$NETNS_TMP/dest
mkdir -p "$D"
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/attacker.pem" >/dev/null 2>&1 ||
    fail "cannot make a key"
"$KEYMGT" -g ec:prime256v1 "$NETNS_TMP/server.pem" >/dev/null 2>&1
fp=$("$KEYMGT" "$NETNS_TMP/server.pem" 2>&1 | grep -o '[0-9A-F][0-9A-F]\(:[0-9A-F][0-9A-F]\)\{19\}' | head -n1)
# A listed server (with its key's fingerprint) that the attacker is not.
echo "0x01010101|$(netns_ip4 $A)|0|$fp" >"$NETNS_TMP/servers"

# Neighbours resolved first: no forged datagram waits for ARP (and none is lost there).
netns_exec $A ping -c1 -W1 "$TIP" >/dev/null
netns_exec $T ping -c1 -W1 "$VIP" >/dev/null
# case NAME "UFTPD ARGS" FORGE-RUN...: FORGE-RUN is one forger command line
# (its arguments), several separated by "--then".
case_() {
    local name=$1 args=$2 pid sent pkts bytes r fp_ fb_ run
    shift 2
    # shellcheck disable=SC2086
    start_daemon $T "uftpd-$name" "$UFTPD" -D "$D" -I eth0 $args
    pid=$NETNS_LAST_PID
    cap_start $T
    fp_=0
    fb_=0
    run=()
    for a in "$@" --then; do
        if [ "$a" = --then ]; then
            forge $A --to "$TIP:1044" --spoof "$VIP/32" "${run[@]}"
            fp_=$((fp_ + FORGED_PKTS))
            fb_=$((fb_ + FORGED_BYTES))
            run=()
        else
            run+=("$a")
        fi
    done
    sleep "${TAIL:-1.2}"
    cap_stop
    stop_daemon "$pid" "uftpd-$name"
    read -r pkts bytes < <(cap_sent "$TIP")
    r=$(ratio "$bytes" "$fb_")
    figure "uftpd $name: attacker sent $fp_ datagrams, $fb_ bytes; uftpd sent $pkts datagrams, $bytes bytes: ratio $r"
    at_most "$r" 3 || fail "uftpd $name: ratio $r > 3"
}

# 1. The issue's datagram: one cleartext ANNOUNCE claiming GRTT 1 us, robustness 1.
case_ announce-grtt0 "" announce --grtt 0 --robust 1 --count 1
# ... and 300 of them (new sessions), robustness 255.
case_ announce-flood "" announce --grtt 0 --robust 255 --count 300 --rate 1000
# The same with -S lines that carry no fingerprint for the claimed server.
echo "0x0A0B0C0D|10.99.99.99|0" >"$NETNS_TMP/servers-nofp"
case_ announce-listed-nofp "-S $NETNS_TMP/servers-nofp" announce --grtt 0 --robust 1 --count 100 --rate 1000
# 8. Refused ANNOUNCEs (-E -S: an unlisted server, in clear) answered with ABORT.
case_ announce-refused "-E -S $NETNS_TMP/servers" announce --grtt 0 --count 300 --rate 1000
# Encrypted ANNOUNCEs with junk keys and signatures.
case_ announce-junkkey "" announce --junk-key --grtt 0 --robust 1 --count 300 --rate 1000
# REGISTER (a server's input) at a receiver.
case_ register "" register --count 300 --rate 1000 --vary-client --client 0A000100
# KEYINFO and ABORT for a session the attacker opened (signed with its own key).
cid=$(printf '%02X%02X%02X%02X' $(echo "$TIP" | tr . ' '))
case_ keyinfo "" announce --signed "$NETNS_TMP/attacker.pem" --group 7E570001 --grtt 0 --robust 1 \
    --then keyinfo --group 7E570001 --client "$cid" --count 300 --rate 1000
case_ abort "" announce --group 7E570002 --grtt 0 --robust 1 \
    --then abort --group 7E570002 --count 300 --rate 1000 --seq 1
# Heartbeats.
case_ hbreq "" hbreq --count 300 --rate 1000
case_ hbresp "" hbresp --nonce 1 --auth 1 --count 300 --rate 1000
finish
