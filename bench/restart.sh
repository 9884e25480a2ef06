#!/bin/bash
# Restart figures at the issue's size (issue 13; not a test): `kill -9` of
# uftp at ~60 % of a 200 MB file to 4 receivers with -T, then `uftp -F`,
# encrypted (tests/integration/restart/kill.sh: once with the receivers
# left running, once with every uftpd also killed and restarted), and the
# same through our uftpproxyd (tests/integration/restart/proxy.sh: a server
# and a client proxy; a response proxy). Each run checks every copy
# (sha256-exact via cmp) and prints, for the resumed session: the data and
# parity bytes it sent against the bytes the receivers missed (target <=
# 1.1 x plus a fixed overhead), and its time against the time those bytes
# need at -R (target <= 1.2 x), and for kill.sh also at the payload rate
# the first session reached. Needs root (network namespaces).
#
#   bench/restart.sh [--build DIR] [--mb 200] [--rate 80000] [--proxy-mb 200]
#                    [--proxy-rate 40000] [--no-proxy]
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build
mb=200
rate=80000
pmb=200
prate=40000
proxy=1
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$(readlink -f "$2"); shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --proxy-mb) pmb=$2; shift 2 ;;
    --proxy-rate) prate=$2; shift 2 ;;
    --no-proxy) proxy=0; shift ;;
    *) echo "usage: $0 [--build DIR] [--mb N] [--rate KBPS] [--proxy-mb N] [--proxy-rate KBPS] [--no-proxy]" >&2; exit 2 ;;
    esac
done
export UFTP_SRC=$src UFTP_BUILD=$build
rc=0
echo "== direct: $mb MiB at $rate Kbps, 4 receivers, encrypted"
KILL_MB=$mb KILL_RATE=$rate nice -n 5 "$src/tests/integration/restart/kill.sh" \
    "$build/sender/uftp" "$build/receiver/uftpd" | grep -v "^    20"
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
if [ "$proxy" = 1 ]; then
    echo "== through uftpproxyd: $pmb MiB at $prate Kbps, 4 receivers, encrypted"
    RSPROXY_MB=$pmb RSPROXY_RATE=$prate nice -n 5 "$src/tests/integration/restart/proxy.sh" \
        "$build/sender/uftp" "$build/receiver/uftpd" "$build/proxy/uftpproxyd" |
        grep -v "^    20"
    [ "${PIPESTATUS[0]}" = 0 ] || rc=1
fi
exit $rc
