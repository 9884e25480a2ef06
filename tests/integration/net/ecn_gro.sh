#!/bin/bash
# ECN marks per datagram under UDP GRO (spec §1.7, issue 12): a sender sets
# ECT(0) or CE per datagram (IP_TOS / IPV6_TCLASS control messages) in
# sendmmsg bursts over a veth whose receiving end has GRO on; the receiver
# (core/net, UDP_GRO, IP_RECVTOS / IPV6_RECVTCLASS) must report each
# datagram's own ECN field. The kernel only coalesces datagrams whose IP
# headers agree in TOS / traffic class (inet_gro_receive and
# ipv6_gro_receive flush on a difference), so a coalesced buffer has one
# ECN field and the per-buffer TOS is exact for each of its datagrams (that
# is from the kernel source: on the 6.18 test kernel the bridged veth path
# did not coalesce at all, gro_bufs = 0, so the mixed-buffer check is there
# for kernels that do).
set -u
tool=$1
. "$(dirname "$0")/../../lib/netns.sh"
netns_require_root
command -v ethtool >/dev/null || { echo "skip: no ethtool"; exit 77; }
netns_init ecngro
netns_lan lan 2
netns_exec lan2 ethtool -K eth0 gro on >/dev/null 2>&1 ||
    { echo "skip: veth GRO cannot be enabled"; exit 77; }
N=20000
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$2" | tail -1; }
# Every CE sent and received is reported CE, and there were some: the tool
# checks each datagram's own field (wrong=0); a few datagrams lost to a
# full socket buffer on a loaded host are reported, not failed (<= 5%).
ce_ok() {
    local f="$NETNS_TMP/$1"
    [ "$(field ce "$f")" = "$(field want_ce "$f")" ] && [ "$(field ce "$f")" -ge "$2" ]
}

# case NAME RECV_OPTS SEND_OPTS DEST
run() {
    local name=$1 ropts=$2 sopts=$3 dst=$4 out="$NETNS_TMP/$1"
    rm -f "$out.ready"
    # shellcheck disable=SC2086
    netns_spawn lan2 "$out" "$tool" recv -p 5555 -n $N $ropts -r "$out.ready"
    local pid=$NETNS_LAST_PID
    netns_wait_file "$out.ready" 5 || fail "$name: receiver not ready"
    # shellcheck disable=SC2086
    netns_exec lan1 "$tool" send -a "$dst" -p 5555 -n $N $sopts >/dev/null
    netns_wait "$pid" 20
    local rc=$?
    echo "$name: $(cat "$out")"
    [ $rc = 0 ] || fail "$name: receiver exit $rc"
}

# Whether this kernel's veth coalesces at all is reported, not required
# (gro_bufs); what is required is each datagram's own ECN field.
run "v4 all ECT(0)" "" "" 10.100.0.2
run "v4 all CE" "-c" "-c" 10.100.0.2
ce_ok "v4 all CE" $((N - N / 20)) || fail "CE lost"
run "v4 every 5th CE" "-k 5" "-k 5" 10.100.0.2
ce_ok "v4 every 5th CE" $((N / 5 - N / 20)) || fail "CE count"
[ "$(field mixed "$NETNS_TMP/v4 every 5th CE")" = 0 ] || fail "GRO merged different ECN fields"
run "v4 every 2nd CE" "-k 2" "-k 2" 10.100.0.2
run "v6 every 5th CE" "-6 -k 5" "-k 5" fd00:100::2
ce_ok "v6 every 5th CE" $((N / 5 - N / 20)) || fail "v6 CE count"
run "v6 all CE" "-6 -c" "-c" fd00:100::2
ce_ok "v6 all CE" $((N - N / 20)) || fail "v6 CE lost"

[ $fails = 0 ] && echo "ecn_gro: ok"
exit $((fails > 0))
