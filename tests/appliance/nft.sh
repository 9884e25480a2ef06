#!/bin/bash
# The example nftables rule sets (etc/nftables/*.nft, issue 7):
#   1. each passes `nft -c -f` (checked in a throw-away network namespace);
#      a broken copy does not, so the check can fail;
#   2. each loads, twice (reloading replaces its own table, nothing else),
#      with the table, policy and UFTP port expected;
#   3. each opens exactly what its role needs: in a two-host network (tests/
#      lib/netns.sh) the role host loads the rule set and datagrams are sent
#      to it that must arrive (the UFTP port on the UFTP groups, unicast from
#      peers, the sender's fixed source port) and that must not (other ports,
#      other groups, peers not in the sets).
#
#   nft.sh TOOL NFT_DIR   (TOOL = net_mcast_tool from tests/integration/net)
# Exit: 0 pass, 1 fail, 77 skipped (not root).
set -u
tool=${1:?usage: nft.sh path/to/net_mcast_tool path/to/etc/nftables}
dir=${2:?usage: nft.sh path/to/net_mcast_tool path/to/etc/nftables}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$here/../lib/netns.sh"

netns_require_root nft
netns_init nftex

fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

declare -A table=([uftpd]=uftpd [uftp-sender]=uftp_sender
    [uftpproxyd-server]=uftpproxyd_server [uftpproxyd-client]=uftpproxyd_client)

# 1 + 2: syntax, loading, reloading.
netns_add check
for role in uftpd uftp-sender uftpproxyd-server uftpproxyd-client; do
    f=$dir/$role.nft
    t=${table[$role]}
    [ -f "$f" ] || {
        fail "$f missing"
        continue
    }
    out=$(netns_exec check nft -c -f "$f" 2>&1) || fail "$role: nft -c: $out"
    sed 's/policy drop;/policy dorp;/' "$f" >"$NETNS_TMP/broken.nft"
    netns_exec check nft -c -f "$NETNS_TMP/broken.nft" >/dev/null 2>&1 &&
        fail "$role: nft -c accepted a broken copy"
    netns_exec check nft -f "$f" 2>&1 || fail "$role: first load"
    netns_exec check nft -f "$f" 2>&1 || fail "$role: reload"
    n=$(netns_exec check nft list tables | grep -c "^table inet $t\$")
    [ "$n" = 1 ] || fail "$role: $n copies of table inet $t after a reload"
    listing=$(netns_exec check nft list table inet "$t")
    echo "$listing" | grep -q 'type filter hook input priority filter; policy drop;' ||
        fail "$role: input chain is not policy drop"
    echo "$listing" | grep -q 'jump uftp_in' || fail "$role: no jump to uftp_in"
    case $role in
    uftp-sender) port=1045 ;;
    *) port=1044 ;;
    esac
    echo "$listing" | grep -q "udp dport $port " || fail "$role: nothing for port $port"
    # Only input is filtered: the table has no output or forward chain.
    echo "$listing" | grep -Eq 'hook (output|forward)' && fail "$role: filters more than input"
done
netns_exec check nft flush ruleset

# 3: what gets through. lan1 sends, lan2 holds the rule set.
netns_lan lan 2
P4=$(netns_ip4 lan1)
R4=$(netns_ip4 lan2)
N=20
case_no=0

# expect ROLE_TABLE WANT DEST PORT [SOURCE_FAMILY]: send N datagrams from lan1 to
# DEST:PORT (a group: lan2 joins it; an address: unicast) and check that lan2
# gets WANT of them.
expect() {
    local what=$1 want=$2 dest=$3 port=$4 d join=()
    case_no=$((case_no + 1))
    d="$NETNS_TMP/c$case_no"
    case $dest in
    2[2-3][0-9].* | ff*) join=(-i eth0) ;;
    *) join=(-N) ;;
    esac
    netns_spawn lan2 "$d.recv" "$tool" recv -g "$dest" -p "$port" "${join[@]}" -n "$want" \
        -t 1000 -r "$d.ready"
    local pid=$NETNS_LAST_PID
    netns_wait_file "$d.ready" 10 || fail "$what: receiver not ready"
    netns_exec lan1 "$tool" send -g "$dest" -p "$port" -i eth0 -n $N -l 200 >"$d.send" 2>&1 ||
        fail "$what: send failed: $(cat "$d.send")"
    netns_wait "$pid" 20
    local rc=$?
    [ $rc -eq 0 ] || fail "$what: to $dest:$port wanted $want of $N, got: $(cat "$d.recv")"
}

load() {
    netns_exec lan2 nft flush ruleset
    netns_exec lan2 nft -f "$dir/$1.nft" || fail "$1: load"
}

load uftpd
expect "uftpd: public group" $N 230.4.4.1 1044
expect "uftpd: private group" $N 230.5.5.77 1044
expect "uftpd: other group" 0 239.9.9.9 1044
expect "uftpd: other port" 0 230.4.4.1 1045
expect "uftpd: unicast from a peer" $N "$R4" 1044
expect "uftpd: unicast, other port" 0 "$R4" 2000
netns_exec lan2 nft flush set inet uftpd uftp_peers4
netns_exec lan2 nft add element inet uftpd uftp_peers4 '{ 10.250.0.1 }'
expect "uftpd: unicast from outside uftp_peers4" 0 "$R4" 1044
netns_exec lan2 nft add element inet uftpd uftp_peers4 "{ $P4 }"
expect "uftpd: unicast once in uftp_peers4" $N "$R4" 1044

load uftp-sender
expect "uftp-sender: answers to -u 1045" $N "$R4" 1045
expect "uftp-sender: other port" 0 "$R4" 1044
expect "uftp-sender: no multicast" 0 230.4.4.1 1045

load uftpproxyd-server
expect "server proxy: public group" $N 230.4.4.1 1044
expect "server proxy: private group" $N 230.5.5.1 1044
expect "server proxy: downstream proxy" $N "$R4" 1044
expect "server proxy: other port" 0 "$R4" 1045

load uftpproxyd-client
expect "client proxy: unknown host" 0 "$R4" 1044
expect "client proxy: no multicast" 0 230.4.4.1 1044
netns_exec lan2 nft add element inet uftpproxyd_client uftp_clients4 "{ $P4 }"
expect "client proxy: a client" $N "$R4" 1044
netns_exec lan2 nft flush set inet uftpproxyd_client uftp_clients4
netns_exec lan2 nft add element inet uftpproxyd_client uftp_upstream4 "{ $P4 }"
expect "client proxy: the upstream proxy" $N "$R4" 1044
expect "client proxy: upstream, other port" 0 "$R4" 1045

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "nft: all checks passed"
