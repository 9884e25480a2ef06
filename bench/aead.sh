#!/bin/sh
# AEAD per-packet micro-benchmark (not a test; issue 18): core/crypto's seal
# and open of one UFTP data packet (1300- and 8800-byte blocks) for each AEAD
# key type, against the cipher's own cost for the same bytes, and the CPU
# seconds per GiB of file data that gives.
#
#   bench/aead.sh [BUILD_DIR] [SECONDS_PER_CASE]   (default 0.5 s a case)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$build/bench/bench_aead
[ -x "$bin" ] || { echo "build first: $bin not found" >&2; exit 2; }
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "openssl: $(openssl version 2>/dev/null || echo unknown)"
exec "$bin" "${2:-0.5}"
