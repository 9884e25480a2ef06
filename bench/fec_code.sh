#!/bin/sh
# Erasure-code micro-benchmark (not a test; issue 17): core/fec encode,
# incremental encode and decode throughput over Intel ISA-L, for 1300- and
# 8800-byte blocks and FEC blocks of k = 32..200 with m = 4..32 parity
# (decode: m source blocks lost). MB/s are source bytes of the FEC block
# per second; "decode us" is one whole decode, matrix work included.
#
#   bench/fec_code.sh [BUILD_DIR] [SECONDS_PER_CASE]   (default 0.3 s a case)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/bench_fec_code
[ -x "$bin" ] || { echo "build first: $bin not found" >&2; exit 2; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
exec "$bin" "${2:-0.3}"
