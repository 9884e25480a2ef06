# shellcheck shell=bash
#
# netns.sh — network-namespace topologies for the integration tests.
#
# Source it from a bash test script; it builds throw-away networks of
# namespaces joined by bridges, runs programs inside them, injects loss with
# nftables, captures traffic, and removes everything again — processes by
# PID, then the namespaces — on any exit, failure or signal.
#
# Nothing is created in the caller's namespace: every bridge lives in a
# private "hub" namespace, so names and addresses never collide with the
# host or with other test runs, and parallel ctest runs are independent
# (every namespace name carries a per-run prefix, NETNS_ID).
#
# Quick start:
#
#   . "$UFTP_SRC/tests/lib/netns.sh"
#   netns_require_root                # exit 77 (ctest: skipped) unless root
#   netns_init mytest                 # prefix, temp dir, cleanup trap
#   netns_lan lan 3                   # bridge "lan", hosts lan1..lan3 on it:
#                                     #   eth0 10.<L>.0.<i>/24, fd00:<L>::<i>/64
#   netns_exec lan1 ip addr           # run something in host lan1
#   netns_spawn lan2 "$NETNS_TMP/r.log" ./receiver ...
#   pid=$NETNS_LAST_PID               # (never call netns_spawn inside $(...))
#   netns_loss_to lan3 20             # drop 20 % of UDP frames towards lan3
#   netns_wait "$pid" 10 || fail ...  # exit code of the program (124 on timeout)
#
# Building blocks (for proxies, routers, several LANs):
#
#   netns_add NAME                      new host namespace (lo up, DAD off)
#   netns_bridge BR                     new bridge in the hub (multicast snooping
#                                       off, so every port sees all multicast)
#   netns_link NAME BR IF [ADDR/LEN...] veth from host NAME (interface IF) to
#                                       bridge BR, with addresses; IPv4 multicast
#                                       (224/4) is routed out of the first link
#   netns_tunnel P SND SP CP LAN L      the proxies' three networks: bridges wan,
#                                       mid and LAN; SND on wan (P.1.1), server
#                                       proxy SP on wan (P.1.2) and mid (P.2.2),
#                                       client proxy CP on mid (P.2.3) and LAN
#                                       (P.L.3); P is "10.N", all /24
#   netns_forwarding NAME               make NAME a router (IPv4 + IPv6)
#   netns_route NAME ROUTE...           "ip route add ROUTE..." in NAME
#   netns_lan_subnet BR                 the L of a netns_lan's 10.L.0.0/24, fd00:L::/64
#   netns_ip4 NAME [IF] / netns_ip6 NAME [IF]
#                                       first address of NAME's interface (eth0)
#   netns_ns NAME                       the real namespace name (for ip -n / nsenter)
#
# Processes:
#
#   netns_exec NAME CMD...              run in NAME, in the foreground
#   netns_spawn NAME LOG CMD...         run in the background (stdout+stderr to
#                                       LOG); the PID is left in NETNS_LAST_PID
#                                       and recorded for cleanup. Call it in the
#                                       main shell, not in $(...): a subshell's
#                                       child can be neither waited for nor
#                                       cleaned up
#   netns_wait PID [SECONDS]            wait for a spawned PID; its exit code, or
#                                       124 after SECONDS (default 30; it is killed)
#   netns_stop PID                      SIGTERM, then SIGKILL after 2 s
#   netns_wait_file FILE [SECONDS]      wait until FILE exists (readiness flags)
#
# Loss (nftables, bridge family, in the hub; there is no netem here):
#
#   netns_loss_to NAME PCT [IF] [MATCH...]    frames forwarded towards NAME
#   netns_loss_from NAME PCT [IF] [MATCH...]  frames coming from NAME
#   netns_loss_bridge BR PCT [MATCH...]       every frame forwarded on BR
#   netns_loss_clear                          remove all loss rules
#   MATCH is extra nft match syntax, default "meta l4proto udp"; e.g.
#   "udp dport 1044". Each rule is "MATCH numgen random mod 100 < PCT drop".
#
# WAN emulation (the user-space relay tests/tools/wanrelay; there is no netem):
#
#   netns_relay_link BR1 BR2 [OPT...]   new host relayK (K = 1, 2, ...) with
#                                       interface wana in bridge BR1 and wanb in
#                                       BR2, running wanrelay between them: the
#                                       two bridges become one L2 segment (one
#                                       subnet, multicast, ARP/ND) through an
#                                       emulated WAN. OPTs are wanrelay's:
#                                       --delay MS --jitter MS --no-reorder
#                                       --loss PCT --dup PCT --queue-limit N
#                                       --queue-bytes N --seed N; a value is for
#                                       both directions, "X:Y" is X for BR1->BR2
#                                       and Y for BR2->BR1. Offloads are off on
#                                       its links (the relay sees wire frames,
#                                       not GSO super-frames) and their MTU is
#                                       9000 (the hosts' links decide). Name in
#                                       NETNS_LAST_RELAY, PID in NETNS_LAST_PID.
#                                       Binary: $NETNS_WANRELAY, by default
#                                       $UFTP_BUILD/tests/tools/wanrelay
#   netns_relay_set RELAY [OPT...]      restart RELAY's wanrelay with new OPTs
#                                       (queued frames are dropped)
#   netns_relay_stats RELAY             its counters, one line per direction:
#                                       "wanrelay a>b rx=N tx=N lost=N dup=N
#                                       qdrop=N kdrop=N ... late_max_us=N ..."
#                                       (a>b is BR1->BR2; kdrop > 0: the relay
#                                       itself was too slow)
#   netns_mtu NAME MTU [IF]             MTU of NAME's link IF (default eth0),
#                                       both ends
#   netns_bottleneck NAME TBF_ARGS...   a tc tbf on the bridge port towards
#                                       NAME's eth0 (what NAME receives), e.g.
#                                       "rate 50mbit burst 64kb latency 100ms";
#                                       "none" removes it
#
#   e.g. sender on one LAN, four receivers 50 ms away on another:
#     netns_bridge wan; netns_bridge lan
#     netns_add s; netns_link s wan eth0 10.9.0.1/24
#     for i in 1 2 3 4; do netns_add r$i; netns_link r$i lan eth0 10.9.0.1$i/24; done
#     netns_relay_link wan lan --delay 50 --loss 10
#
# Capture (tshark cannot capture live here; dumpcap can):
#
#   netns_capture NAME IF FILE [FILTER]  start dumpcap (default filter
#                                        "udp port 1044"); PID in NETNS_LAST_PID
#   netns_capture_stop PID               stop it so FILE is complete; read FILE
#                                        with tshark -r
#
# Environment: NETNS_KEEP=1 keeps the temp dir (logs) after the run;
# NETNS_DEBUG=1 traces the library's commands.
#
# Cleanup runs from an EXIT trap set by netns_init (and on INT/TERM/HUP, which
# exit). If the test script sets its own EXIT trap, it must call
# netns_cleanup from it.

NETNS_ID=""
NETNS_TMP=""
NETNS_LAST_PID=""
NETNS_HUB=""
declare -a NETNS_PIDS=()
declare -a NETNS_NAMES=()
declare -A NETNS_HUBPORT=()   # "NAME/IF" -> veth name in the hub
declare -A NETNS_MCROUTE=()   # NAME -> 1 once 224/4 is routed
declare -A NETNS_LANIDX=()    # bridge -> subnet number used by netns_lan
NETNS_NPORTS=0
NETNS_NLANS=0
NETNS_LOSS_READY=0
NETNS_CLEANED=0
NETNS_NRELAYS=0
NETNS_LAST_RELAY=""
declare -A NETNS_RELAY_PID=() # relay host -> PID of its wanrelay
declare -A NETNS_RELAY_RUNS=() # relay host -> number of starts (log names)

_netns_log() { [ "${NETNS_DEBUG:-0}" = 1 ] && echo "netns: $*" >&2; return 0; }
_netns_die() { echo "netns: $*" >&2; exit 1; }
_netns_run() { _netns_log "$*"; "$@"; }

# Exits 77 (ctest SKIP_RETURN_CODE) with a reason unless namespaces can be used.
netns_require_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (network namespaces)" >&2
        exit 77
    fi
    local t="uftpchk$$"
    if ! ip netns add "$t" 2>/dev/null; then
        echo "SKIP: cannot create network namespaces" >&2
        exit 77
    fi
    ip netns del "$t" 2>/dev/null
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: needs $tool" >&2; exit 77; }
    done
}

# netns_init [TAG]: per-run prefix "u<TAG>-<pid>-<random>", temp dir, traps, hub.
netns_init() {
    local tag=${1:-t} rnd
    rnd=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    NETNS_ID="u${tag:0:8}-$$-$rnd"
    NETNS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/netns-${tag:0:8}.XXXXXX")
    NETNS_HUB="$NETNS_ID-hub"
    trap netns_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    _netns_run ip netns add "$NETNS_HUB" || _netns_die "cannot create $NETNS_HUB"
    NETNS_NAMES+=("$NETNS_HUB")
    ip -n "$NETNS_HUB" link set lo up
}

netns_ns() { echo "$NETNS_ID-$1"; }

netns_add() {
    local name=$1 ns
    ns=$(netns_ns "$name")
    _netns_run ip netns add "$ns" || _netns_die "cannot create $ns"
    NETNS_NAMES+=("$ns")
    ip -n "$ns" link set lo up
    # Addresses are usable at once (no duplicate address detection delay).
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0 >/dev/null
}

netns_bridge() {
    local br=$1
    _netns_run ip -n "$NETNS_HUB" link add "$br" type bridge mcast_snooping 0 ||
        _netns_die "cannot create bridge $br"
    ip netns exec "$NETNS_HUB" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" >/dev/null 2>&1
    ip -n "$NETNS_HUB" link set "$br" up
}

netns_link() {
    local name=$1 br=$2 ifn=$3 ns port a
    shift 3
    ns=$(netns_ns "$name")
    NETNS_NPORTS=$((NETNS_NPORTS + 1))
    port="p$NETNS_NPORTS"
    _netns_run ip -n "$NETNS_HUB" link add "$port" type veth peer name "$ifn" netns "$ns" ||
        _netns_die "cannot link $name/$ifn to $br"
    ip netns exec "$NETNS_HUB" sysctl -qw "net.ipv6.conf.$port.disable_ipv6=1" >/dev/null 2>&1
    ip -n "$NETNS_HUB" link set "$port" master "$br"
    ip -n "$NETNS_HUB" link set "$port" up
    NETNS_HUBPORT["$name/$ifn"]=$port
    for a in "$@"; do
        case $a in
        *:*) _netns_run ip -n "$ns" addr add "$a" dev "$ifn" nodad ;;
        *) _netns_run ip -n "$ns" addr add "$a" dev "$ifn" ;;
        esac
    done
    ip -n "$ns" link set "$ifn" up
    if [ -z "${NETNS_MCROUTE[$name]:-}" ]; then
        ip -n "$ns" route add 224.0.0.0/4 dev "$ifn"
        NETNS_MCROUTE[$name]=1
    fi
}

# netns_tunnel P SND SP CP LAN L (see the building blocks above).
netns_tunnel() {
    local p=$1 snd=$2 sp=$3 cp=$4 lan=$5 l=$6
    netns_bridge wan
    netns_bridge mid
    netns_bridge "$lan"
    netns_add "$snd"
    netns_link "$snd" wan eth0 "$p.1.1/24"
    netns_add "$sp"
    netns_link "$sp" wan eth0 "$p.1.2/24"
    netns_link "$sp" mid eth1 "$p.2.2/24"
    netns_add "$cp"
    netns_link "$cp" mid eth0 "$p.2.3/24"
    netns_link "$cp" "$lan" eth1 "$p.$l.3/24"
}

# netns_lan BR N [PREFIX]: bridge BR and hosts PREFIX1..PREFIXN (PREFIX defaults
# to BR), each with eth0 = 10.<L>.0.<i>/24 and fd00:<L>::<i>/64, where L is
# 100 + the number of LANs made before (so several LANs never overlap).
netns_lan() {
    local br=$1 n=$2 prefix=${3:-$1} i l
    NETNS_NLANS=$((NETNS_NLANS + 1))
    l=$((99 + NETNS_NLANS))
    NETNS_LANIDX[$br]=$l
    netns_bridge "$br"
    for ((i = 1; i <= n; i++)); do
        netns_add "$prefix$i"
        netns_link "$prefix$i" "$br" eth0 "10.$l.0.$i/24" "fd00:$l::$i/64"
    done
}

netns_lan_subnet() {
    echo "${NETNS_LANIDX[$1]:?no LAN $1}"
}

netns_forwarding() {
    netns_exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
}

netns_route() {
    local name=$1
    shift
    _netns_run ip -n "$(netns_ns "$name")" route add "$@"
}

netns_ip4() {
    ip -n "$(netns_ns "$1")" -4 -o addr show dev "${2:-eth0}" |
        awk '{ split($4, a, "/"); print a[1]; exit }'
}

netns_ip6() {
    ip -n "$(netns_ns "$1")" -6 -o addr show dev "${2:-eth0}" scope global |
        awk '{ split($4, a, "/"); print a[1]; exit }'
}

netns_exec() {
    local name=$1
    shift
    ip netns exec "$(netns_ns "$name")" "$@"
}

# "ip netns exec" execs the command, so the PID is the program's own.
netns_spawn() {
    local name=$1 log=$2
    shift 2
    if [ "$BASH_SUBSHELL" != 0 ]; then
        echo "netns: netns_spawn called in a subshell; its process would escape cleanup" >&2
        return 1
    fi
    ip netns exec "$(netns_ns "$name")" "$@" >"$log" 2>&1 &
    NETNS_LAST_PID=$!
    NETNS_PIDS+=("$NETNS_LAST_PID")
    _netns_log "spawned $NETNS_LAST_PID in $name: $*"
}

netns_wait() {
    local pid=$1 secs=${2:-30} i rc
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            rc=$?
            return $rc
        fi
        sleep 0.1
    done
    echo "netns: PID $pid still running after ${secs}s; stopping it" >&2
    netns_stop "$pid"
    return 124
}

netns_stop() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

netns_wait_file() {
    local f=$1 secs=${2:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        [ -e "$f" ] && return 0
        sleep 0.05
    done
    echo "netns: $f did not appear within ${secs}s" >&2
    return 1
}

_netns_loss_setup() {
    [ "$NETNS_LOSS_READY" = 1 ] && return 0
    ip netns exec "$NETNS_HUB" nft -f - <<'EOF' || _netns_die "nft setup failed"
table bridge uftploss {
    chain loss {
        type filter hook forward priority 0; policy accept;
    }
}
EOF
    NETNS_LOSS_READY=1
}

_netns_loss_rule() {
    local dir=$1 port=$2 pct=$3 match
    shift 3
    match=${*:-meta l4proto udp}
    case $pct in '' | *[!0-9]*) _netns_die "loss must be a percentage: $pct" ;; esac
    [ "$pct" -le 100 ] || _netns_die "loss above 100%: $pct"
    _netns_loss_setup
    # 100 %: a blackhole (nft refuses "numgen random mod 100 < 100").
    local rnd="numgen random mod 100 < $pct"
    [ "$pct" = 100 ] && rnd=
    # shellcheck disable=SC2086 # $dir, $match and $rnd are nft words on purpose
    _netns_run ip netns exec "$NETNS_HUB" nft add rule bridge uftploss loss \
        $dir "\"$port\"" $match $rnd drop ||
        _netns_die "nft rule failed"
}

netns_loss_to() {
    local name=$1 pct=$2 ifn=${3:-eth0} port
    shift 2
    [ $# -gt 0 ] && shift
    port=${NETNS_HUBPORT["$name/$ifn"]:-}
    [ -n "$port" ] || _netns_die "no link $name/$ifn"
    _netns_loss_rule oifname "$port" "$pct" "$@"
}

netns_loss_from() {
    local name=$1 pct=$2 ifn=${3:-eth0} port
    shift 2
    [ $# -gt 0 ] && shift
    port=${NETNS_HUBPORT["$name/$ifn"]:-}
    [ -n "$port" ] || _netns_die "no link $name/$ifn"
    _netns_loss_rule iifname "$port" "$pct" "$@"
}

netns_loss_bridge() {
    local br=$1 pct=$2
    shift 2
    _netns_loss_rule "meta ibrname" "$br" "$pct" "$@"
}

netns_loss_clear() {
    [ "$NETNS_LOSS_READY" = 1 ] || return 0
    ip netns exec "$NETNS_HUB" nft flush chain bridge uftploss loss
}

netns_mtu() {
    local name=$1 mtu=$2 ifn=${3:-eth0} port
    port=${NETNS_HUBPORT["$name/$ifn"]:-}
    [ -n "$port" ] || _netns_die "no link $name/$ifn"
    _netns_run ip -n "$NETNS_HUB" link set "$port" mtu "$mtu" || _netns_die "mtu $mtu on $port"
    _netns_run ip -n "$(netns_ns "$name")" link set "$ifn" mtu "$mtu" ||
        _netns_die "mtu $mtu on $name/$ifn"
}

netns_bottleneck() {
    local name=$1 port
    shift
    port=${NETNS_HUBPORT["$name/eth0"]:-}
    [ -n "$port" ] || _netns_die "no link $name/eth0"
    if [ "$*" = none ]; then
        tc -n "$NETNS_HUB" qdisc del dev "$port" root 2>/dev/null
        return 0
    fi
    _netns_run tc -n "$NETNS_HUB" qdisc replace dev "$port" root tbf "$@" ||
        _netns_die "tbf $* on $port"
}

_netns_wanrelay() {
    local bin=${NETNS_WANRELAY:-${UFTP_BUILD:+$UFTP_BUILD/tests/tools/wanrelay}}
    if [ -z "$bin" ] || [ ! -x "$bin" ]; then
        _netns_die "wanrelay not found: set NETNS_WANRELAY"
    fi
    echo "$bin"
}

_netns_forget_pid() {
    local p keep=()
    for p in "${NETNS_PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    NETNS_PIDS=("${keep[@]}")
}

# Starts wanrelay in relay host NAME and waits until it has both interfaces.
_netns_relay_start() {
    local name=$1 bin run log ready i
    shift
    bin=$(_netns_wanrelay) || exit 1
    run=$((${NETNS_RELAY_RUNS[$name]:-0} + 1))
    NETNS_RELAY_RUNS[$name]=$run
    log="$NETNS_TMP/$name.$run.log"
    ready="$NETNS_TMP/$name.ready"
    rm -f "$ready"
    netns_spawn "$name" "$log" "$bin" --ready "$ready" --stats "$NETNS_TMP/$name.stats" \
        "$@" wana wanb || _netns_die "cannot start wanrelay in $name"
    NETNS_RELAY_PID[$name]=$NETNS_LAST_PID
    for ((i = 0; i < 200; i++)); do
        [ -e "$ready" ] && return 0
        kill -0 "$NETNS_LAST_PID" 2>/dev/null || break
        sleep 0.05
    done
    _netns_die "wanrelay in $name did not start: $(cat "$log")"
}

netns_relay_link() {
    local br1=$1 br2=$2 name ns bin
    shift 2
    bin=$(_netns_wanrelay) || exit 1
    NETNS_NRELAYS=$((NETNS_NRELAYS + 1))
    name="relay$NETNS_NRELAYS"
    netns_add "$name"
    ns=$(netns_ns "$name")
    # The relay host's own stack stays silent on the segment (no RS, MLD).
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null
    netns_link "$name" "$br1" wana
    netns_link "$name" "$br2" wanb
    netns_mtu "$name" 9000 wana
    netns_mtu "$name" 9000 wanb
    # Without checksum offload on the bridge ports the bridge checksums and
    # segments GSO frames before they reach the relay.
    _netns_run ip netns exec "$NETNS_HUB" "$bin" --offloads-off \
        "${NETNS_HUBPORT[$name/wana]}" "${NETNS_HUBPORT[$name/wanb]}" ||
        _netns_die "cannot turn offloads off on $name's bridge ports"
    _netns_run ip netns exec "$ns" "$bin" --offloads-off wana wanb ||
        _netns_die "cannot turn offloads off in $name"
    _netns_relay_start "$name" "$@"
    # shellcheck disable=SC2034 # for the caller
    NETNS_LAST_RELAY=$name
}

netns_relay_set() {
    local name=$1 pid
    shift
    pid=${NETNS_RELAY_PID[$name]:-}
    [ -n "$pid" ] || _netns_die "no relay $name"
    netns_stop "$pid"
    _netns_forget_pid "$pid"
    _netns_relay_start "$name" "$@"
}

netns_relay_stats() {
    local name=$1 pid f
    pid=${NETNS_RELAY_PID[$name]:-}
    [ -n "$pid" ] || _netns_die "no relay $name"
    f="$NETNS_TMP/$name.stats"
    rm -f "$f"
    kill -USR1 "$pid" 2>/dev/null || { echo "netns: relay $name is not running" >&2; return 1; }
    netns_wait_file "$f" 5 || return 1
    cat "$f"
}

netns_capture() {
    local name=$1 ifn=$2 file=$3 filter=${4:-udp port 1044} i
    netns_spawn "$name" "$file.log" dumpcap -q -i "$ifn" -f "$filter" -w "$file" || return 1
    # dumpcap writes the file header once it is capturing.
    for ((i = 0; i < 100; i++)); do
        [ -s "$file" ] && return 0
        sleep 0.05
    done
    echo "netns: dumpcap on $name/$ifn did not start" >&2
    return 1
}

netns_capture_stop() {
    local pid=$1 i
    kill -INT "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    netns_stop "$pid"
}

# Stops every recorded process, then anything still inside our namespaces
# (all started by this run), then deletes the namespaces. Idempotent.
netns_cleanup() {
    local rc=$? pid ns left
    [ "$NETNS_CLEANED" = 1 ] && return $rc
    NETNS_CLEANED=1
    set +e
    for pid in "${NETNS_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${NETNS_PIDS[@]}"; do
        netns_stop "$pid"
    done
    for ns in "${NETNS_NAMES[@]}"; do
        left=$(ip netns pids "$ns" 2>/dev/null)
        for pid in $left; do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    for ns in "${NETNS_NAMES[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    if [ -n "$NETNS_TMP" ] && [ "${NETNS_KEEP:-0}" != 1 ]; then
        rm -rf "$NETNS_TMP"
    elif [ -n "$NETNS_TMP" ]; then
        echo "netns: logs kept in $NETNS_TMP" >&2
    fi
    return $rc
}
