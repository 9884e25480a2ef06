#!/bin/sh
# Runs every fuzz target built in BUILD_DIR under ASan/UBSan.
# The datagram decoder (fuzz_datagram) gets SECONDS; every other target a
# quarter of that (at least 10 s). Any crash, leak or sanitizer report fails.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -eu
build=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
other=$((secs / 4))
[ "$other" -ge 10 ] || other=10
for exe in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$exe" ] || continue
    name=$(basename "$exe" | sed 's/^fuzz_//')
    t=$other
    [ "$name" = datagram ] && t=$secs
    mkdir -p "$work/$name"
    seeds="$here/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    echo "fuzz_$name: ${t}s"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$exe" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/$name" $seeds >"$work/$name.log" 2>&1 || {
        tail -60 "$work/$name.log"
        echo "fuzz_$name FAILED" >&2
        exit 1
    }
    grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" || true
done
