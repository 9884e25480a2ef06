#!/bin/bash
# A real transfer on this one machine, from a fresh Debian install:
#   installs the build dependencies, builds uftp and uftpd, starts three
#   receivers and one sender, sends a generated sample tree (a 64 MiB file,
#   small files, nested and empty directories, a symlink) by multicast, and
#   proves the three copies identical with sha256.
#
# It runs in a private network namespace made for the occasion (as root, or
# as a user where unprivileged user namespaces are allowed), so it needs no
# network and touches no interface of the host; failing that, it uses the
# host's own network (multicast looped back on the first interface).
# Everything it starts and writes is removed when it ends, however it ends.
#
#   ./demo.sh            DEMO_MB=200 ./demo.sh for a bigger file
set -eu
cd "$(dirname "$0")"
top=$(pwd)

if [ "${1:-}" != --inside ]; then
    ./tools/install-deps.sh
    echo "== building uftp and uftpd"
    cmake -S . -B build >/dev/null
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target uftp uftpd >/dev/null
    if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
        exec unshare -n "$0" --inside netns
    elif unshare -rn true 2>/dev/null; then
        exec unshare -rn "$0" --inside netns
    fi
    echo "(no private network namespace available: using the host's network)"
    exec "$0" --inside host
fi

UFTP=$top/build/sender/uftp
UFTPD=$top/build/receiver/uftpd
MB=${DEMO_MB:-64}
W=$(mktemp -d "${TMPDIR:-/tmp}/uftp-demo.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$2" = netns ]; then
    # A private network: two ends of a veth pair, multicast routed out of one.
    ip link set lo up
    ip link add demo0 type veth peer name demo1
    ip link set demo1 up
    ip link set demo0 multicast on up
    ip addr add 10.44.0.1/24 dev demo0
    ip route add 224.0.0.0/4 dev demo0
    echo "== private network namespace: interface demo0 (10.44.0.1)"
fi

echo "== sample tree: a ${MB} MiB file, small files, nested and empty dirs, a symlink"
S=$W/send
mkdir -p "$S/docs/2024/q1" "$S/docs/2024/q2" "$S/empty-dir"
head -c $((MB * 1048576)) /dev/urandom >"$S/big.bin"
for i in 1 2 3 4 5; do
    head -c $((i * 7919)) /dev/urandom >"$S/docs/2024/q1/report$i.dat"
done
echo "hello from uftp-ng" >"$S/docs/README.txt"
: >"$S/docs/2024/q2/empty.txt"
ln -s docs/README.txt "$S/latest"

echo "== starting three receivers (uftpd -d, IDs 0x1 0x2 0x3, port 1044)"
for i in 1 2 3; do
    mkdir -p "$W/recv$i"
    "$UFTPD" -d -x 1 -U "0x$i" -D "$W/recv$i" >"$W/uftpd$i.log" 2>&1 &
    pids+=($!)
done
sleep 0.5
for i in 1 2 3; do
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
        echo "uftpd $i did not start:"
        cat "$W/uftpd$i.log"
        exit 1
    fi
done

echo "== sending, encrypted (uftp -R 150000 -H 0x1,0x2,0x3: AES-256-GCM, ECDH P-256, ephemeral EC key)"
rc=0
(cd "$S" && "$UFTP" -R 150000 -H 0x1,0x2,0x3 -S "$W/status" ./*) || rc=$?
if [ "$rc" != 0 ]; then
    echo "uftp failed with exit code $rc"
    for i in 1 2 3; do
        echo "---- uftpd $i"
        tail -n 20 "$W/uftpd$i.log"
    done
    exit 1
fi
grep '^RESULT;.*big.bin' "$W/status" | awk -F';' '{ printf "   receiver %s: %s, %s\n", $2, $5, $6 }'

for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
done
pids=()

echo "== comparing the copies (sha256)"
sums() {
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$1" && find . -type l -printf '%p -> %l\n' -o -type d -empty -printf '%p/ (empty dir)\n' |
        LC_ALL=C sort)
}
sums "$S" >"$W/send.sums"
bad=0
for i in 1 2 3; do
    sums "$W/recv$i" >"$W/recv$i.sums"
    if cmp -s "$W/send.sums" "$W/recv$i.sums"; then
        echo "   receiver $i: $(grep -c . "$W/recv$i.sums") entries, all identical"
    else
        echo "   receiver $i: DIFFERENT"
        diff "$W/send.sums" "$W/recv$i.sums" | head -n 10
        bad=1
    fi
done
head -n 3 "$W/send.sums" | sed 's/^/   /'
echo "   ..."
if [ "$bad" = 0 ]; then
    echo "== demo OK: three identical copies"
else
    echo "== demo FAILED"
    exit 1
fi
