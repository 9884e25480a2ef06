#!/bin/sh
# The layer check must fail on a forbidden include: plants one per rule in
# a copy of the source tree and checks that tools/check-layers.sh names
# each (file:line and rule) and exits 1. The clean copy must pass first, so
# that the failure is the plants' doing.
#   planted.sh SRCDIR WORKDIR
set -eu
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
for d in core sender receiver proxy tools man; do
    cp -R "$src/$d" "$work/$d"
done
check="$src/tools/check-layers.sh"

echo "--- the clean copy"
sh "$check" "$work"

# file | include line to plant | what the check must say about it
plants='core/base/addr.h|#include <sys/socket.h>|include no socket or network header
core/base/fsm.c|#include <sys/random.h>|core/base makes no system call
core/base/quant.c|#include "core/wire/wire.h"|core/base includes nothing of the project outside core/base
core/wire/wire.h|#include "core/net/addr.h"|do not include core/net, core/fs, core/daemon, core/conf or core/log.h
core/proto/pace.c|#include <event2/event.h>|do not use libevent
core/fec/fec.c|#include <sys/socket.h>|include no socket or network header
core/crypto/aead.c|#include "core/log.h"|do not include core/net, core/fs, core/daemon, core/conf or core/log.h
core/net/sock.c|#include "sender/uftp.h"|core must not include a service
receiver/shell.c|#include "proxy/opts.h"|a service must not include another service
sender/engine/session.c|#include "core/net/sock.h"|an engine includes only core/base, core/wire, core/proto, core/fec, core/crypto
proxy/engine/fwd.c|#include "proxy/uftpproxyd.h"|an engine includes only core/base, core/wire, core/proto, core/fec, core/crypto
receiver/engine/session.c|#include <event2/event.h>|an engine does not use libevent
sender/main.c|#include <openssl/evp.h>|OpenSSL is used in core/crypto only
proxy/shell.c|#include <event2/event.h>|libevent is used in core/loop only'

# Each plant goes on line 1 of its file.
echo "$plants" | while IFS='|' read -r f inc why; do
    printf '%s\n' "$inc" | cat - "$work/$f" > "$work/$f.new"
    mv "$work/$f.new" "$work/$f"
done

echo "--- with $(echo "$plants" | wc -l) planted forbidden includes"
rc=0
sh "$check" "$work" > "$work/out.txt" 2>&1 || rc=$?
cat "$work/out.txt"
if [ "$rc" -ne 1 ]; then
    echo "FAIL: the check exited $rc, not 1" >&2
    exit 1
fi
missing=$(echo "$plants" | while IFS='|' read -r f inc why; do
    grep -F "$f:1: $inc: " "$work/out.txt" | grep -qF "$why" || echo "$f: $inc ($why)"
done)
if [ -n "$missing" ]; then
    echo "FAIL: not reported:" >&2
    echo "$missing" >&2
    exit 1
fi
echo "--- every planted include was reported; the check fails as it should"
rm -rf "$work"
