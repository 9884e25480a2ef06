#!/bin/sh
# Parity repair benchmark (not a test; issue 17): the simulator's sessions
# (tests/sim/fec_scenarios.c, fec_measure) with and without FEC in one run,
# 600 ms RTT (300 ms each way on every receiver's link), AES-256-GCM, the
# default 1300-byte blocks and 100 Mbit/s (-R 100000). For each case it
# prints:
#   sent/file      FILESEG + FEC_PARITY payload bytes per byte of file
#   datagrams      every byte the sender put in UDP datagrams (headers,
#                  ANNOUNCE, KEYINFO for every receiver, DONE...) per byte
#   passes         passes over the file (1 = no repair)
#   data / min     the data phase in virtual time against the minimum. The
#                  data phase runs from the first FILESEG leaving the sender
#                  to the file's end at the sender (the last receiver's
#                  COMPLETE in, SENDER_EV_FILE); the minimum is the file's
#                  size at the sender's rate (-R), file bytes only.
#   time:          the data phase split: pass 1's sending (first to last
#                  data/parity datagram), then per repair pass the wait
#                  before it (DONE, the receivers' STATUS, the rewind) and
#                  its sending, then the tail from the last data/parity
#                  datagram to the last COMPLETE.
# Modes: off (plain NAK repair, as 5.0.1), on (reactive parity, the
# default), PCT[:K] (--fec PCT[:K]: proactive parity in the first pass).
#
#   bench/fec.sh [--build DIR] [--quick] [--no-proxies] [--seed N]
#
# Receivers keep only a digest of each file and read back from the
# sender's copy to decode (sim_set_digest_readback: reads of blocks a
# receiver never wrote fail), so the issue's 20 MB fit at 1,000 receivers:
# about 0.9 GB and 35 s of CPU per case (the wall time is printed).
# --quick runs only the 100-receiver cases.
#
# Then 10,000 receivers behind 10 response proxies (1,000 each), 1% and 5% loss,
# 600 ms RTT, a 2 MB file and a 1,000-byte one (tests/sim/sim_scale --bench,
# closed group; 20 MB does not fit: the 2 MB run takes about 100 s of CPU
# and 3.5 GB, most of it the receivers' decoding buffers), with parity
# (receivers decode, the proxies send count reports) and without:
#   parity ...     FILESEG + FEC_PARITY payload per byte of the two files
# --no-proxies leaves it out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
quick=0
proxies=1
seed=1799
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift ;;
    --quick) quick=1 ;;
    --no-proxies) proxies=0 ;;
    --seed) seed=$2; shift ;;
    *) echo "usage: $0 [--build DIR] [--quick] [--no-proxies] [--seed N]" >&2; exit 2 ;;
    esac
    shift
done
bin=$build/tests/sim/sim_fec
[ -x "$bin" ] || { echo "build first: $bin not found" >&2; exit 2; }

# GNU time (Debian "time") for the cost line, when installed.
timed() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "  cost: %e s wall, %U s CPU, %M KB peak RSS" "$@"
    else
        "$@"
    fi
}

run() { # RX LOSS KB MODE
    FEC_RX=$1 FEC_LOSS=$2 FEC_KB=$3 FEC_MODE=$4 timed nice -n 5 "$bin" fec_measure "$seed" 2>&1 |
        grep -E '^rx=|^  time:|^  cost:|FAIL' || echo "rx=$1 loss=$2% kb=$3 fec=$4: no result"
}

echo "sim: 600 ms RTT, AES-256-GCM, 1300-byte blocks, 100 Mbit/s, seed $seed"
echo "data = virtual time from the first FILESEG leaving the sender to the file's end at the"
echo "sender (the last receiver's COMPLETE in); min = file size / rate (-R); time: = its split"
for loss in 0 1 5; do
    for mode in off on 10; do
        run 100 $loss 8192 $mode
    done
done
[ $quick = 1 ] && exit 0
for loss in 0 1 5; do
    for mode in off on 10; do
        run 1000 $loss 20480 $mode
    done
done
[ $proxies = 1 ] || exit 0
scale=$build/tests/sim/sim_scale
[ -x "$scale" ] || { echo "build first: $scale not found" >&2; exit 2; }
for loss in 1 5; do
    for mode in nofec fec; do
        echo "rx=10000 via 10 response proxies loss=$loss% 2 MB + 1000 B fec=$mode:"
        timed nice -n 5 "$scale" --bench 10000 10 $loss 300000 2097152 closed $mode 2>&1 |
            grep -E '^N=|parity|^  cost:|FAIL' | sed 's/^/  /'
    done
done
