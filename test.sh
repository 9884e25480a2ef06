#!/bin/sh
# The whole test suite, from a fresh Debian machine:
#   installs the build and test dependencies, builds a normal and an
#   ASan/UBSan variant with -Werror, runs every test suite on both, and runs
#   the fuzz targets under ASan/UBSan.
# Environment knobs: FUZZ_SECONDS (default 60, 0 skips fuzzing),
#   SKIP_ASAN=1, CTEST_ARGS (extra ctest arguments, e.g. "-L unit").
set -eu
cd "$(dirname "$0")"
top=$(pwd)

./tools/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-60}
ctest_args=${CTEST_ARGS:-}

step() { printf '\n=== %s\n' "$*"; }

step "build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DUFTP_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

step "tests"
# shellcheck disable=SC2086
(cd build && ctest --output-on-failure -j "$jobs" $ctest_args)

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    step "build (ASan + UBSan)"
    cmake -S . -B build-asan -DUFTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-asan -j "$jobs"
    step "tests under ASan + UBSan"
    # shellcheck disable=SC2086
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$jobs" -LE nosan $ctest_args)
fi

if [ "$fuzz_seconds" -gt 0 ]; then
    step "fuzz targets under ASan + UBSan (${fuzz_seconds}s for the datagram decoder)"
    CC=clang cmake -S . -B build-fuzz -DUFTP_FUZZ=ON -DUFTP_TESTS=ON \
        -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-fuzz -j "$jobs" --target fuzz_all
    "$top/tests/fuzz/run.sh" "$top/build-fuzz" "$fuzz_seconds"
fi

step "all tests passed"
