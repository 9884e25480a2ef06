#!/bin/bash
# Proxy forwarding benchmark (not a test, issue 18): one sender -> server
# proxy -> client proxy -> N receivers, on three disjoint networks as in
# tests/integration/proxy/tunnel.sh (wan: sender + server proxy; mid: the
# two proxies; lan: client proxy + receivers). One file is sent unpaced (-R
# -1 unless --rate) in the clear and with AES-256-GCM. The sender and the
# receivers are always ours (--build); only the two proxies change between
# the builds compared (--proxy "NAME=PATH [ARGS]", repeatable: ARGS go to
# both proxies of that entry; default: ours = BUILD/proxy/uftpproxyd),
# interleaved run by run.
#
# In a v5 session neither proxy decrypts or re-encrypts data (spec §3.1,
# §3.4: the server proxy forwards every datagram unchanged by unicast, the
# client proxy re-multicasts it unchanged; only the clients' answers are
# opened and sealed again), so AES-256-GCM costs the proxies nothing per
# data datagram; it is run to show that.
#
# Printed per run: each receiver's MB/s (the sender's RESULT lines), the
# CPU seconds (user + system, /proc/PID/stat at the end of the run) of each
# proxy and the same per GiB of file, the proxies' syscalls during the
# sender's run (perf stat -e raw_syscalls:sys_enter, --syscalls) and the
# datagrams forwarded per syscall (ours: its "datagrams forwarded" at
# shutdown, counted twice: one receive and one send each; other builds:
# not known, "-"), and bytes the sender put on the wire per byte of file.
#
#   bench/proxy.sh [--build DIR] [--proxy NAME=PATH]... [--receivers N]
#                  [--mb 256] [--rate -1] [--ciphers "none aes256-gcm"]
#                  [--runs N] [--syscalls] [--perf DIR] [--quiet-wait S]
#                  [--pargs "EXTRA UFTPPROXYD ARGS"] (both proxies, every build)
#
#   --perf DIR   perf record -g the client proxy (and --perf-sp: the server
#                proxy) of each run into DIR/NAME.CIPHER.RUN.{cp,sp}.data
#
# Needs root (namespaces). Runs under the load of the machine: use --runs
# and compare the builds of the same run only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
proxies=()
n=4
mb=256
rate=-1
runs=1
ciphers="none aes256-gcm"
syscalls=0
perfdir=""
perf_sp=0
quiet_max=30
pargs=""
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --proxy) proxies+=("$2"); shift 2 ;;
    --receivers) n=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cipher | --ciphers) ciphers=$2; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --perf) perfdir=$2; shift 2 ;;
    --perf-sp) perf_sp=1; shift ;;
    --quiet-wait) quiet_max=$2; shift 2 ;;
    --pargs) pargs=$2; shift 2 ;;
    -h | --help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
S=$build/sender/uftp
D=$build/receiver/uftpd
[ -x "$S" ] && [ -x "$D" ] || { echo "build first: $S not found" >&2; exit 2; }
[ ${#proxies[@]} -gt 0 ] || proxies=("ours=$build/proxy/uftpproxyd")
names=()
bins=()
pxargs=()
for p in "${proxies[@]}"; do
    names+=("${p%%=*}")
    p=${p#*=}
    bins+=("$(readlink -f "${p%% *}")")
    pxargs+=("$([ "${p#* }" = "$p" ] || echo "${p#* }")")
    [ -x "${bins[-1]}" ] || { echo "no proxy ${p%% *}" >&2; exit 2; }
done
if [ "$syscalls" = 1 ] || [ -n "$perfdir" ]; then
    command -v perf >/dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 2; }
fi
[ -z "$perfdir" ] || mkdir -p "$perfdir"

# shellcheck source=SCRIPTDIR/../tests/lib/netns.sh
. "$here/../tests/lib/netns.sh"
. "$here/lib.sh" # busy_s, quiet
netns_require_root ip
netns_init bproxy

netns_tunnel 10.95 snd sp cp lan 3
id_of() {
    local IFS=.
    # shellcheck disable=SC2206
    local o=($1)
    printf '0x%02X%02X%02X%02X' "${o[0]}" "${o[1]}" "${o[2]}" "${o[3]}"
}
ids=""
for ((i = 1; i <= n; i++)); do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.95.3.$((10 + i))/24"
    ids+="${ids:+,}$(id_of "10.95.3.$((10 + i))")"
done
cpid=$(id_of 10.95.2.3)
echo "$cpid" >"$NETNS_TMP/proxies"
echo "$(id_of 10.95.1.1)|10.95.1.1|$cpid" >"$NETNS_TMP/servers"
f=$NETNS_TMP/file.bin
head -c $((mb * 1048576)) /dev/urandom >"$f"
sz=$(stat -c %s "$f")
hz=$(getconf CLK_TCK)

# cpu_s PID: user + system seconds so far.
cpu_s() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
# UDP datagrams dropped for want of socket buffer in namespace $1 so far.
rcvbuf_errs() {
    netns_exec "$1" awk '/^Udp: / && $2 ~ /^[0-9]/ { d += $6 } END { print d + 0 }' /proc/net/snmp
}
# user_s PID: user seconds so far.
user_s() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", $12 / hz }' "/proc/$1/stat"; }
wait_up() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on port" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    sleep 0.3 # another build: it may say nothing at its log level
}
# s per GiB forwarded: CPU seconds $1 over bytes $2 out of the proxy's downstream interface.
per_fwd() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? c / (s / 1073741824) : 0) }'; }
per_gib() { awk -v c="$1" -v s="$sz" 'BEGIN { printf "%.2f", c / (s / 1073741824) }'; }

declare -A RES MIX
sysev=raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_recvmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_select
# "name=count ..." of the syscalls counted in perf stat's output $1 (none of 0).
sys_mix() {
    awk -F, '$3 ~ /sys_enter_/ && $1 + 0 > 0 { sub(/.*sys_enter_/, "", $3); printf "%s%s=%s", sep, $3, $1; sep = " " }' "$1"
}
failed=0
# run_one K CIPHER RUN
run_one() {
    local k=$1 cipher=$2 run=$3 key="${names[$1]}.$2.$3" d i pids=() sp cp rc lvl ok=0
    d=$NETNS_TMP/$key
    mkdir -p "$d"
    sync
    quiet
    lvl=2
    [ "${names[$k]}" = "${names[$k]#ref}" ] && lvl=3 # ours: the stats line at shutdown
    # shellcheck disable=SC2086
    netns_spawn sp "$d/sp.log" "${bins[$k]}" -d -x $lvl -s 10.95.2.3 $pargs ${pxargs[$k]}
    sp=$NETNS_LAST_PID
    # shellcheck disable=SC2086
    netns_spawn cp "$d/cp.log" "${bins[$k]}" -d -x $lvl -c -O eth1 $pargs ${pxargs[$k]}
    cp=$NETNS_LAST_PID
    wait_up "$d/sp.log"
    wait_up "$d/cp.log"
    for ((i = 1; i <= n; i++)); do
        mkdir -p "$d/r$i"
        netns_spawn "r$i" "$d/r$i.log" "$D" -d -x 1 -D "$d/r$i" -S "$NETNS_TMP/servers"
        pids+=("$NETNS_LAST_PID")
    done
    sleep 1
    local c0s c0c perfs=() tx0 tx
    c0s=$(cpu_s "$sp")
    c0c=$(cpu_s "$cp")
    local u0s u0c
    u0s=$(user_s "$sp")
    u0c=$(user_s "$cp")
    if [ "$syscalls" = 1 ]; then
        perf stat -e "$sysev" -x, -o "$d/sys.sp" -p "$sp" &
        perfs+=($!)
        perf stat -e "$sysev" -x, -o "$d/sys.cp" -p "$cp" &
        perfs+=($!)
    fi
    if [ -n "$perfdir" ]; then
        perf record -g -o "$perfdir/$key.cp.data" -p "$cp" >/dev/null 2>&1 &
        perfs+=($!)
        if [ "$perf_sp" = 1 ]; then
            perf record -g -o "$perfdir/$key.sp.data" -p "$sp" >/dev/null 2>&1 &
            perfs+=($!)
        fi
    fi
    tx0=$(netns_exec snd cat /sys/class/net/eth0/statistics/tx_bytes)
    local e0s e0c e0r=0 o0s o0c
    o0s=$(netns_exec sp cat /sys/class/net/eth1/statistics/tx_bytes)
    o0c=$(netns_exec cp cat /sys/class/net/eth1/statistics/tx_bytes)
    e0s=$(rcvbuf_errs sp)
    e0c=$(rcvbuf_errs cp)
    for ((i = 1; i <= n; i++)); do e0r=$((e0r + $(rcvbuf_errs "r$i"))); done
    netns_spawn snd "$d/uftp.log" "$S" -Y "$cipher" -R "$rate" -x 1 -H "$ids" \
        -j "$NETNS_TMP/proxies" -S "$d/status" "$f"
    netns_wait "$NETNS_LAST_PID" 900
    rc=$?
    tx=$(($(netns_exec snd cat /sys/class/net/eth0/statistics/tx_bytes) - tx0))
    for p in "${perfs[@]}"; do kill -INT "$p" 2>/dev/null; done
    local drops e1r=0 osp ocp
    osp=$(($(netns_exec sp cat /sys/class/net/eth1/statistics/tx_bytes) - o0s))
    ocp=$(($(netns_exec cp cat /sys/class/net/eth1/statistics/tx_bytes) - o0c))
    for ((i = 1; i <= n; i++)); do e1r=$((e1r + $(rcvbuf_errs "r$i"))); done
    drops="$(($(rcvbuf_errs sp) - e0s))/$(($(rcvbuf_errs cp) - e0c))/$((e1r - e0r))"
    for p in "${perfs[@]}"; do wait "$p" 2>/dev/null; done
    local csp ccp usp ucp
    usp=$(awk -v a="$u0s" -v b="$(user_s "$sp")" 'BEGIN { printf "%.2f", b - a }')
    ucp=$(awk -v a="$u0c" -v b="$(user_s "$cp")" 'BEGIN { printf "%.2f", b - a }')
    csp=$(awk -v a="$c0s" -v b="$(cpu_s "$sp")" 'BEGIN { printf "%.2f", b - a }')
    ccp=$(awk -v a="$c0c" -v b="$(cpu_s "$cp")" 'BEGIN { printf "%.2f", b - a }')
    for p in "${pids[@]}" "$sp" "$cp"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}" "$sp" "$cp"; do netns_wait "$p" 10 >/dev/null 2>&1; done
    local speeds="" s id
    for ((i = 1; i <= n; i++)); do
        id=$(id_of "10.95.3.$((10 + i))")
        s=$(awk -F';' -v id="$id" '$1 == "RESULT" && $2 == id && $5 == "copy" {
                sub("KB/s", "", $6); printf "%.1f", $6 * 1024 / 1e6 }' "$d/status" 2>/dev/null)
        speeds+="${speeds:+ }${s:-0}"
        cmp -s "$f" "$d/r$i/$(basename "$f")" && ok=$((ok + 1))
        rm -rf "$d/r$i"
    done
    local sys_sp=- sys_cp=- fw_sp=- fw_cp=-
    if [ "$syscalls" = 1 ]; then
        sys_sp=$(awk -F, '/raw_syscalls/ { print $1 }' "$d/sys.sp")
        sys_cp=$(awk -F, '/raw_syscalls/ { print $1 }' "$d/sys.cp")
    fi
    fw_sp=$(sed -n 's/.* \([0-9]*\) datagrams forwarded.*/\1/p' "$d/sp.log" | tail -n1)
    fw_cp=$(sed -n 's/.* \([0-9]*\) datagrams forwarded.*/\1/p' "$d/cp.log" | tail -n1)
    if [ "$rc" != 0 ] || [ "$ok" != "$n" ]; then
        failed=1
        mkdir -p /tmp/bench-proxy-failed
        cp -r "$d" /tmp/bench-proxy-failed/
        echo "run $key failed (exit $rc, $ok of $n copies identical): logs in /tmp/bench-proxy-failed/$key" >&2
    fi
    [ "$syscalls" = 1 ] && MIX[$key]="sp: $(sys_mix "$d/sys.sp"); cp: $(sys_mix "$d/sys.cp")"
    RES[$key]="$rc|$ok|$speeds|$csp|$ccp|${sys_sp:--}|${sys_cp:--}|${fw_sp:--}|${fw_cp:--}|$tx|$drops|$osp|$ocp|$usp|$ucp"
}

for cipher in $ciphers; do
    for ((run = 1; run <= runs; run++)); do
        for k in "${!names[@]}"; do
            run_one "$k" "$cipher" "$run"
        done
    done
done

avg() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", NF ? s / NF : 0 }' <<<"$1"; }
dps() { awk -v f="$1" -v s="$2" 'BEGIN { if (f ~ /^[0-9]+$/ && s ~ /^[0-9]+$/ && s > 0)
    printf "%.2f", 2 * f / s; else print "-" }'; }
echo
echo "$(nproc) CPUs; kernel $(uname -r); file $mb MiB; $n receivers; -R $rate; $runs run(s) each"
hdr='%-8s %3s %5s %-24s %6s %9s %7s %9s %7s %6s %6s %8s %8s %6s %6s %5s %s\n'
for cipher in $ciphers; do
    echo
    echo "-Y $cipher"
    # shellcheck disable=SC2059
    printf "$hdr" proxy run exit "per-receiver MB/s" "avg" "sp s/user" "sp s/GiB" "cp s/user" "cp s/GiB" "sp fwd" "cp fwd" \
        "sp sysc" "cp sysc" "sp d/s" "cp d/s" sent "rcvbuf drops sp/cp/rcv"
    for ((run = 1; run <= runs; run++)); do
        for k in "${!names[@]}"; do
            IFS='|' read -r rc ok speeds csp ccp ssp scp fsp fcp tx drops osp ocp usp ucp <<<"${RES[${names[$k]}.$cipher.$run]}"
            # shellcheck disable=SC2059
            printf "$hdr" "${names[$k]}" "$run" "$rc$([ "$ok" = "$n" ] || echo "!$ok")" "$speeds" \
                "$(avg "$speeds")" "$csp/$usp" "$(per_gib "$csp")" "$ccp/$ucp" "$(per_gib "$ccp")" \
                "$(per_fwd "$csp" "$osp")" "$(per_fwd "$ccp" "$ocp")" "$ssp" \
                "$scp" "$(dps "$fsp" "$ssp")" "$(dps "$fcp" "$scp")" \
                "$(awk -v o="$tx" -v b="$sz" 'BEGIN { printf "%.2f", o / b }')" "$drops"
        done
    done
done
if [ "$syscalls" = 1 ]; then
    echo
    echo "syscalls by kind during the sender's run:"
    for cipher in $ciphers; do
        for ((run = 1; run <= runs; run++)); do
            for k in "${!names[@]}"; do
                echo "  ${names[$k]} $cipher $run: ${MIX[${names[$k]}.$cipher.$run]}"
            done
        done
    done
fi
echo
echo "(sp/cp: server/client proxy; s/user: its user+system / user CPU seconds during the run; s/GiB: per"
echo " GiB of file; fwd: per GiB it sent downstream (its eth1 tx_bytes: repairs count); sysc: its"
echo " syscalls during the sender's run (--syscalls); d/s: datagrams it forwarded x 2 per"
echo " syscall (ours only); sent: bytes the sender put on the wire per byte of file;"
echo " rcvbuf drops: UDP datagrams (GRO buffers for ours) dropped for want of socket buffer"
echo " at the server proxy / client proxy / all receivers during the run)"
exit "$failed"
