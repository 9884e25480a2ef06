#!/bin/bash
# Real processes at scale (issue 16; not a test): NS namespaces (default 20)
# on one bridge, PER uftpd in each (default 10: 200 daemons sharing port
# 1044, each with its own -U client ID, destination and log), and one uftp
# sending a file set (a FILE_MB MiB file and three small ones) at a modest
# rate, AES-256-GCM, every receiver listed (-H). Four cases:
#   direct clean, direct with LOSS % loss, then the same two with the 200
#   behind PROXIES response proxies (namespace k's daemons name proxy
#   k mod PROXIES in their -S line; the sender lists the proxies with -j).
# Loss is nftables on the bridge, towards each receiver namespace and from
# it (so the ten daemons of a namespace lose the same datagrams). Every
# received file is compared with the source by sha256. For each case it
# prints: receivers that got every file exactly, the sender's exit code,
# its wall time, what its log says it sent (data and resends) and the
# sender's and a proxy's peak RSS.
#
#   bench/uftpd200.sh [--build DIR] [--ns 20] [--per 10] [--mb 8] [--rate 20000]
#                     [--loss 2] [--proxies 4] [--cases "direct proxied"]
#                     [--timeout 600]
#
# Needs root (namespaces), nft, sha256sum. All processes and namespaces are
# removed on exit (tests/lib/netns.sh). Multicast is one LAN: a proxy's
# downstream multicast reaches all 200 daemons, which ignore sessions of the
# proxies they do not name (the simulator's sites model the wider case).
set -u
build=build
NS=20
PER=10
MB=8
RATE=20000
LOSS=2
NPX=4
CASES="direct proxied"
TIMEOUT=600
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift ;;
    --ns) NS=$2; shift ;;
    --per) PER=$2; shift ;;
    --mb) MB=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --loss) LOSS=$2; shift ;;
    --proxies) NPX=$2; shift ;;
    --cases) CASES=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    *) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    shift
done
src=$(cd "$(dirname "$0")/.." && pwd)
UFTP=$build/sender/uftp UFTPD=$build/receiver/uftpd UFTPPROXYD=$build/proxy/uftpproxyd
for b in "$UFTP" "$UFTPD" "$UFTPPROXYD"; do
    [ -x "$b" ] || { echo "no $b: build first" >&2; exit 2; }
done
TEST_TAG=u200
. "$src/tests/integration/proxy/common.sh"

# 10.81.0.1 the sender, 10.81.0.(11+k) proxy k, 10.81.(1+n).(1+d) daemon d of namespace n
netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.81.0.1/16
for ((k = 0; k < NPX; k++)); do
    netns_add "p$k"
    netns_link "p$k" lan eth0 "10.81.0.$((11 + k))/16"
done
ids=""
for ((n = 0; n < NS; n++)); do
    netns_add "r$n"
    addrs=()
    for ((d = 0; d < PER; d++)); do addrs+=("10.81.$((1 + n)).$((1 + d))/16"); done
    netns_link "r$n" lan eth0 "${addrs[@]}"
    for ((d = 0; d < PER; d++)); do
        ids="$ids${ids:+,}$(id_of "10.81.$((1 + n)).$((1 + d))")"
    done
done
make_files "$NETNS_TMP/src" "$MB"
sid=$(id_of 10.81.0.1)
: >"$NETNS_TMP/proxies"
for ((k = 0; k < NPX; k++)); do
    pid_k=$(id_of "10.81.0.$((11 + k))")
    echo "$pid_k" >>"$NETNS_TMP/proxies"
    echo "$sid|10.81.0.1|$pid_k" >"$NETNS_TMP/servers$k"
done

# peak RSS (kB) of a PID that is still alive, from /proc
rss_of() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "?"; }

# one_case NAME LOSS PROXIED(0|1)
one_case() {
    local name=$1 loss=$2 proxied=$3 n d k t0 t1 ok=0 total=$((NS * PER)) before=$FAILS
    DAEMONS=()
    netns_loss_clear
    if [ "$loss" != 0 ]; then
        for ((n = 0; n < NS; n++)); do
            netns_loss_to "r$n" "$loss"
            netns_loss_from "r$n" "$loss"
        done
    fi
    local pxpid=""
    if [ "$proxied" = 1 ]; then
        for ((k = 0; k < NPX; k++)); do
            PROXY_LOG_LEVEL=2 start_proxy "p$k" "$name-p$k" -r
            [ -n "$pxpid" ] || pxpid=$NETNS_LAST_PID
        done
    fi
    for ((n = 0; n < NS; n++)); do
        for ((d = 0; d < PER; d++)); do
            local dir=$NETNS_TMP/$name-d$n-$d extra=()
            rm -rf "$dir"
            mkdir -p "$dir"
            [ "$proxied" = 1 ] && extra=(-S "$NETNS_TMP/servers$((n % NPX))")
            netns_spawn "r$n" "$NETNS_TMP/$name-r$n-$d.log" "$UFTPD" -d -x 1 -B 2097152 \
                -U "$(id_of "10.81.$((1 + n)).$((1 + d))")" -D "$dir" "${extra[@]}"
            DAEMONS+=("$NETNS_LAST_PID")
            DAEMON_NAME[$NETNS_LAST_PID]=$name-r$n-$d
        done
    done
    sleep 2 # (200 daemons joining; a late one would only be a missing receiver)
    local pargs=()
    [ "$proxied" = 1 ] && pargs=(-j "$NETNS_TMP/proxies")
    t0=$(date +%s.%N)
    netns_spawn snd "$NETNS_TMP/$name-uftp.log" "$UFTP" -Y aes256-gcm -R "$RATE" -x 2 \
        -H "$ids" "${pargs[@]}" "$NETNS_TMP/src"/*
    local upid=$NETNS_LAST_PID rss_s="?" rss_p="?" rc
    while kill -0 "$upid" 2>/dev/null; do
        rss_s=$(rss_of "$upid")
        [ -n "$pxpid" ] && rss_p=$(rss_of "$pxpid")
        sleep 0.5
        awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$TIMEOUT" 'BEGIN { exit !(b - a > l) }' &&
            break
    done
    netns_wait "$upid" 5
    rc=$?
    t1=$(date +%s.%N)
    for ((n = 0; n < NS; n++)); do
        for ((d = 0; d < PER; d++)); do
            local f0=$FAILS
            same_files "$NETNS_TMP/src" "$NETNS_TMP/$name-d$n-$d" "$name: r$n-$d" >/dev/null
            [ "$FAILS" = "$f0" ] && ok=$((ok + 1))
        done
    done
    FAILS=$before
    [ "$ok" = "$total" ] && [ "$rc" = 0 ] || FAILS=$((FAILS + 1))
    stop_all >/dev/null
    printf '%s: loss %s%%, %s: exact %d/%d, uftp exit %s, %.1f s, uftp peak RSS %s kB%s\n' \
        "$name" "$loss" "$([ "$proxied" = 1 ] && echo "$NPX response proxies" || echo direct)" \
        "$ok" "$total" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rss_s" \
        "$([ -n "$pxpid" ] && echo ", proxy peak RSS $rss_p kB")"
    grep -h "session .* ended\|parity (issue 17)" "$NETNS_TMP/$name-uftp.log" | sed "s/^/    /"
}

echo "$((NS * PER)) uftpd in $NS namespaces, ${MB} MiB + 3 small files, -R $RATE, AES-256-GCM"
for c in $CASES; do
    case "$c" in
    direct)
        one_case direct-clean 0 0
        one_case direct-loss "$LOSS" 0
        ;;
    proxied)
        one_case proxied-clean 0 1
        one_case proxied-loss "$LOSS" 1
        ;;
    esac
done
finish
