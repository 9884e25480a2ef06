#!/bin/bash
# Scale benchmark (not a test, issue 16): one sender and N receivers in the
# simulator (tests/sim/sim_scale --bench), AES-256-GCM with P-256, 100 Mbit/s,
# 1 ms links, receivers keeping only a digest of each file (checked against
# the sender's). For each N it prints one line: receivers that got every file
# exactly, the sender's exit code, the virtual session time split into
# registration (until the first FILEINFO), data (until COMPLETION) and
# completion, the datagrams reaching the sender in all and per receiver (and
# per proxy through proxies), by message type, the sender engine's CPU per
# receiver, the simulator's wall time and its peak RSS. Behind response
# proxies each proxy and its receivers are a site of their own (a network
# the sender's multicast reaches and the proxy's own multicast does not
# leave, sim_set_site), as such a deployment is wired. Through proxies it
# also prints the aggregates per proxy per round and their packing floor at
# the block size used (ceil(clients per proxy / IDs per aggregate) a round).
# --tunnels runs proxies two deep: each aggregating proxy a client proxy
# behind a server proxy of its own. --stacked runs aggregating proxies two
# deep (spec §3.5 [EXT], cleartext sessions only, so those runs are clear):
# P upper response proxies, Q lower ones behind each, N / (P x Q) receivers
# behind each lower one, all on one network; "per proxy" is per upper proxy,
# and a line says how many datagrams from lower proxies reached the sender
# (0: the tree held).
#
#   bench/scale.sh [--build DIR] [--mb 20] [--n "1000 10000"] [--proxied "100000:100"]
#                  [--tunnels "10000:10"] [--closed] [--loss PCT] [--delay US]
#                  [--block BYTES] [--stacked "10000:10x10"] [--clear]
#
#   --n LIST        direct sessions of these sizes (default "1000 10000")
#   --proxied LIST  N:P sessions through P response proxies (default "100000:100";
#                   "" for none)
#   --tunnels LIST  N:P sessions through P client proxies, each behind its own
#                   server proxy (default "" for none)
#   --stacked LIST  N:PxQ sessions through P upper x Q lower response proxies,
#                   cleartext (default "" for none)
#   --clear         no encryption in every run (compare --proxied with --stacked)
#   --closed        closed groups (every receiver listed)
#   --block BYTES   the sender's -b (default 1300); through proxies the packing
#                   floor is ceil(clients per proxy / IDs per aggregate) a round
#
# Targets (issue 16): every receiver exact; registration <= 10 s virtual at
# 10,000 (closed group, 1 ms links); <= 3 datagrams into the sender per
# receiver in a clean session; <= 1 aggregate per proxy per round through
# proxies; the 10,000-receiver run in <= 60 s wall and <= 2 GB.
set -u
build=build
mb=20
ns="1000 10000"
proxied="100000:100"
tunnels=""
stacked=""
extra=""
loss=0
delay=1000
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift ;;
    --mb) mb=$2; shift ;;
    --n) ns=$2; shift ;;
    --proxied) proxied=$2; shift ;;
    --tunnels) tunnels=$2; shift ;;
    --stacked) stacked=$2; shift ;;
    --clear) extra="$extra clear" ;;
    --closed) extra="$extra closed" ;;
    --block) extra="$extra block=$2"; shift ;;
    --loss) loss=$2; shift ;;
    --delay) delay=$2; shift ;;
    *) echo "usage: $0 [--build DIR] [--mb MB] [--n LIST] [--proxied N:P LIST] [--tunnels N:P LIST] [--closed] [--loss PCT] [--delay US] [--block BYTES] [--stacked N:PxQ LIST] [--clear]" >&2; exit 2 ;;
    esac
    shift
done
prog=$build/tests/sim/sim_scale
[ -x "$prog" ] || { echo "no $prog: build first (cmake --build $build --target sim_scale)" >&2; exit 2; }
bytes=$((mb * 1000000))
rc=0
for n in $ns; do
    "$prog" --bench "$n" 0 "$loss" "$delay" "$bytes" $extra || rc=1
done
for np in $proxied; do
    "$prog" --bench "${np%%:*}" "${np##*:}" "$loss" "$delay" "$bytes" $extra || rc=1
done
for np in $tunnels; do
    "$prog" --bench "${np%%:*}" "${np##*:}" "$loss" "$delay" "$bytes" tunnels $extra || rc=1
done
for npq in $stacked; do
    n=${npq%%:*} pq=${npq##*:}
    "$prog" --bench "$n" "${pq%%x*}" "$loss" "$delay" "$bytes" onenet clear "stacked=${pq##*x}" $extra || rc=1
done
exit $rc
