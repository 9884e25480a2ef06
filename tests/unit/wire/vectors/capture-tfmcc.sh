#!/bin/bash
# Records a UFTP 5.0.1 -C tfmcc session in namespaces (spec §1.7): the 5.0.1
# sender on lan1, 5.0.1 receivers on lan2 (fast) and lan3, whose bridge port
# has a bottleneck (default: tbf rate 50mbit burst 64kb latency 100ms).
# Writes OUT/sender.pcapng (the sender's side), OUT/slow.pcapng (lan3's
# side), the programs' logs at -x 4 (the sender logs every rate change), and
# the qdisc counters. uftp5-tfmcc.pcapng beside this script holds 13 frames
# of such a run, cut with editcap -r.
#
# Usage (root): UFTP_SRC=. UFTP_REF_BIN=/path/to/uftp-5.0.1 OUT=/tmp/cap \
#   [SIZE_MB=60] [QDISC="tbf ..."] [SARGS="-C tfmcc:max=40000 ..."] capture-tfmcc.sh
set -u
. "$UFTP_SRC/tests/lib/netns.sh"
netns_require_root
REF=${UFTP_REF_BIN:?UFTP_REF_BIN names a 5.0.1 build}
OUT=${OUT:-/tmp/tfmcc-cap}
SIZE_MB=${SIZE_MB:-60}
QDISC=${QDISC:-tbf rate 50mbit burst 64kb latency 100ms}
mkdir -p "$OUT"
netns_init tfcap
netns_lan lan 3
port=${NETNS_HUBPORT[lan3/eth0]}
# shellcheck disable=SC2086
ip netns exec "$NETNS_HUB" tc qdisc add dev "$port" root $QDISC
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$NETNS_TMP/file.bin"
for i in 2 3; do
    mkdir -p "$NETNS_TMP/d$i"
    netns_spawn lan$i "$OUT/uftpd$i.log" "$REF/uftpd" -d -x "${RLOG:-4}" -D "$NETNS_TMP/d$i" \
        -L "$OUT/uftpd$i.log"
done
sleep 0.5
netns_capture lan1 eth0 "$OUT/sender.pcapng" udp
cap1=$NETNS_LAST_PID
netns_capture lan3 eth0 "$OUT/slow.pcapng" udp
cap3=$NETNS_LAST_PID
t0=$(date +%s.%N)
# shellcheck disable=SC2086
netns_exec lan1 "$REF/uftp" -Y none -x "${SLOG:-4}" -C tfmcc ${SARGS:-} \
    -H "10.100.0.2,10.100.0.3" -I eth0 "$NETNS_TMP/file.bin" >"$OUT/uftp.log" 2>&1
echo "uftp exit $?" >>"$OUT/uftp.log"
t1=$(date +%s.%N)
echo "elapsed $(echo "$t1 - $t0" | bc)" >>"$OUT/uftp.log"
sleep 0.5
netns_capture_stop "$cap1"
netns_capture_stop "$cap3"
ip netns exec "$NETNS_HUB" tc -s qdisc show dev "$port" >>"$OUT/uftp.log"
for i in 2 3; do
    cmp "$NETNS_TMP/file.bin" "$NETNS_TMP/d$i/file.bin" && echo "receiver $i: identical" >>"$OUT/uftp.log"
done
tail -8 "$OUT/uftp.log"
