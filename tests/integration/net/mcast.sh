#!/bin/bash
# core/net in network namespaces: multicast from one host to receivers on
# two others over a bridge, two of them sharing a port in one namespace and
# one more there that did not join; ASM and SSM, IPv4 and IPv6, dual-stack
# receivers; sendmmsg, GSO (with and without GRO at the receivers), the
# forced and the real (MTU) GSO fallback, ENOBUFS back-pressure with
# IP_RECVERR, DF off and the TOS byte on the wire (dumpcap), and the loss
# helper of tests/lib/netns.sh.
#
#   mcast.sh TOOL      (TOOL = the net_mcast_tool binary)
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -u
tool=${1:?usage: mcast.sh path/to/net_mcast_tool}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/netns.sh
. "$here/../../lib/netns.sh"

netns_require_root nft tc dumpcap tshark
netns_init mcast

fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

netns_lan lan 3
S4=$(netns_ip4 lan1)
S6=$(netns_ip6 lan1)
N=400
case_no=0

# field KEY FILE: value of KEY=... in the tool's output line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | head -n1; }

# run_case TITLE GROUP "SOURCE|" "RECV_OPTS" "SEND_OPTS"
# Receivers: r1 (lan2), r2 (lan2, same port, GRO), r3 (lan2, not joined),
# r4 (lan3); for SSM also r5 (lan3, joined for another source: gets nothing).
run_case() {
    local title=$1 group=$2 src=$3 ropts=$4 sopts=$5 d pids=() names=() i rc
    case_no=$((case_no + 1))
    d="$NETNS_TMP/case$case_no"
    mkdir -p "$d"
    local sarg=()
    [ -n "$src" ] && sarg=(-s "$src")
    # shellcheck disable=SC2086
    {
        netns_spawn lan2 "$d/r1" "$tool" recv -g "$group" -p 1044 "${sarg[@]}" -i eth0 -n $N -r "$d/r1.ready" $ropts
        pids+=("$NETNS_LAST_PID") names+=(r1)
        netns_spawn lan2 "$d/r2" "$tool" recv -g "$group" -p 1044 "${sarg[@]}" -i eth0 -n $N -G -r "$d/r2.ready" $ropts
        pids+=("$NETNS_LAST_PID") names+=(r2)
        netns_spawn lan2 "$d/r3" "$tool" recv -g "$group" -p 1044 -N -t 1000 -r "$d/r3.ready" $ropts
        pids+=("$NETNS_LAST_PID") names+=(r3)
        netns_spawn lan3 "$d/r4" "$tool" recv -g "$group" -p 1044 "${sarg[@]}" -i eth0 -n $N -r "$d/r4.ready" $ropts
        pids+=("$NETNS_LAST_PID") names+=(r4)
        if [ -n "$src" ]; then
            local other=10.0.0.99
            case $src in *:*) other=fd00::99 ;; esac
            netns_spawn lan3 "$d/r5" "$tool" recv -g "$group" -p 1044 -s $other -i eth0 -n 0 -t 1000 -r "$d/r5.ready" $ropts
            pids+=("$NETNS_LAST_PID") names+=(r5)
        fi
    }
    for i in "${names[@]}"; do
        netns_wait_file "$d/$i.ready" 10 || fail "$title: $i not ready"
    done
    # shellcheck disable=SC2086
    netns_exec lan1 "$tool" send -g "$group" -p 1044 -i eth0 -n $N $sopts >"$d/send" 2>&1
    rc=$?
    echo "[$title] $(cat "$d/send")"
    [ $rc = 0 ] || fail "$title: sender exit $rc"
    for i in "${!pids[@]}"; do
        netns_wait "${pids[$i]}" 20
        rc=$?
        echo "[$title] ${names[$i]}: $(cat "$d/${names[$i]}")"
        [ $rc = 0 ] || fail "$title: receiver ${names[$i]} exit $rc"
    done
    LAST="$d"
}

# Capture on a receiver's link: DF must be off (IP_PMTUDISC_DONT, spec §0)
# and the TOS byte as set (DSCP 46 + ECT(0) = 0xba).
netns_capture lan3 eth0 "$NETNS_TMP/tos.pcapng" "udp port 1044" || fail "dumpcap did not start"
cap=$NETNS_LAST_PID
run_case "v4 ASM sendmmsg, TOS" 230.4.4.1 "" "" "-m mmsg -T 186"
netns_capture_stop "$cap"
wire=$(tshark -r "$NETNS_TMP/tos.pcapng" -T fields -e ip.flags.df -e ip.dsfield 2>/dev/null |
    sort | uniq -c | awk '{ print $1, $2, $3 }')
echo "[wire] count DF TOS: $wire"
[ "$wire" = "$N 0 0xba" ] || fail "on the wire: expected $N datagrams with DF=0, TOS 0xba"
for r in r1 r2 r4; do
    [ "$(field tos "$LAST/$r")" = 186 ] || fail "TOS not reported as 186 by $r"
    [ "$(field src "$LAST/$r")" = "$S4:$(field src "$LAST/$r" | sed 's/.*://')" ] ||
        fail "source address of $r is not the sender"
done
run_case "v4 ASM one per send" 230.4.4.1 "" "" "-m single"
run_case "v4 ASM GSO, odd last" 230.4.4.1 "" "" "-m gso -x 777"
[ "$(field gso "$LAST/send")" -gt 0 ] || fail "GSO was not used"
[ "$(field fallbacks "$LAST/send")" = 0 ] || fail "unexpected GSO fallback"
echo "GRO over veth+bridge: r2 (GRO) took $(field bufs "$LAST/r2") buffers for $N datagrams," \
    "r1 (no GRO) $(field bufs "$LAST/r1")"
[ "$(field gro_bufs "$LAST/r1")" = 0 ] || fail "coalesced buffers without GRO"
run_case "v4 SSM GSO" 232.4.4.1 "$S4" "" "-m gso"
run_case "v6 ASM sendmmsg" ff15::4:1 "" "" "-m mmsg -T 186"
[ "$(field tos "$LAST/r4")" = 186 ] || fail "IPv6 traffic class not reported"
run_case "v6 SSM GSO" ff3e::4:1 "$S6" "" "-m gso -x 13"
run_case "v4 into dual-stack receivers" 230.4.4.1 "" "-f 6" "-m gso"
run_case "v4 via dual-stack sender" 230.4.4.1 "" "" "-m gso -f 6"
run_case "GSO forced fallback" 230.4.4.1 "" "" "-m gso -F"
[ "$(field gso "$LAST/send")" = 0 ] || fail "forced fallback still used GSO"
[ "$(field fallbacks "$LAST/send")" -gt 0 ] || fail "no fallback counted"

# Segments above the veth MTU (1500): the kernel refuses GSO (EINVAL), the
# sender falls back to sendmmsg for that size, IP fragments, nothing is lost.
run_case "GSO refused above MTU" 230.4.4.1 "" "" "-m gso -l 2000"
[ "$(field gso "$LAST/send")" = 0 ] || fail "GSO above the MTU was accepted?"
[ "$(field gso_seg_limit "$LAST/send")" = 2000 ] || fail "refusal not remembered for 2000"

# Back-pressure: a slow qdisc on the sender's link makes the device queue
# overflow. With IP_RECVERR that is -ENOBUFS (retried), not a silent drop.
# The bucket holds a whole GSO packet (64 KiB): tbf cuts larger ones itself
# and then reports success when any segment fit, losing the rest silently.
# For sendmmsg a queue shorter than one call's batch (~57 x 1324 bytes)
# overflows however slowly the sender is scheduled on a loaded host.
netns_exec lan1 tc qdisc add dev eth0 root tbf rate 40mbit burst 8kb limit 24kb
run_case "ENOBUFS retried, sendmmsg" 230.4.4.1 "" "" "-m mmsg"
[ "$(field blocked "$LAST/send")" -gt 0 ] || fail "no ENOBUFS seen (recverr?)"
netns_exec lan1 tc qdisc replace dev eth0 root tbf rate 40mbit burst 80kb limit 100kb
run_case "ENOBUFS retried, GSO" 230.4.4.1 "" "" "-m gso"
[ "$(field blocked "$LAST/send")" -gt 0 ] || fail "no ENOBUFS seen with GSO"
netns_exec lan1 tc qdisc del dev eth0 root

# The loss helper: 50 % towards lan3 only.
netns_loss_to lan3 50
d="$NETNS_TMP/loss"
mkdir -p "$d"
netns_spawn lan2 "$d/r2" "$tool" recv -g 230.4.4.1 -p 1044 -i eth0 -n $N -r "$d/r2.ready"
p2=$NETNS_LAST_PID
netns_spawn lan3 "$d/r3" "$tool" recv -g 230.4.4.1 -p 1044 -i eth0 -n $N -t 1000 -r "$d/r3.ready"
p3=$NETNS_LAST_PID
netns_wait_file "$d/r2.ready" && netns_wait_file "$d/r3.ready"
netns_exec lan1 "$tool" send -g 230.4.4.1 -p 1044 -i eth0 -n $N -m mmsg >/dev/null
netns_wait "$p2" 20 || fail "loss: lan2 should see everything"
netns_wait "$p3" 20 && fail "loss: lan3 saw everything despite 50% loss"
got=$(field dgrams "$d/r3")
echo "[loss 50% towards lan3] lan2: $(field dgrams "$d/r2")/$N, lan3: $got/$N"
{ [ "$got" -gt $((N / 4)) ] && [ "$got" -lt $((N * 3 / 4)) ]; } || fail "loss: lan3 got $got of $N"
netns_loss_clear

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all multicast cases passed"
