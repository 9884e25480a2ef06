#!/bin/sh
# The layering rules of docs/DESIGN.md ("The house"), checked on every
# #include of the project's own sources (core/, the services, tools/, man/).
#
#   tools/check-layers.sh [ROOT]        (ROOT: the source tree, default .)
#
# Prints one line per forbidden arrow, "file:line: #include X: rule", and
# exits 1 if there is any, 0 otherwise (with a count of what was read).
# POSIX sh and awk only: CI's machine need not have anything else.
#
# The rules, by the directory of the including file:
#   anything but core/crypto -> OpenSSL (EVP lives in core/crypto only)
#   anything but core/loop   -> libevent (the service runner is its only user)
#   core/*       -> a service (sender, receiver, proxy, tools, man)
#   a service    -> another service
#   core/base, core/wire, core/proto, core/fec, core/crypto
#                -> libevent, libconfig, socket/network headers, or core/net,
#                   core/fs, core/daemon, core/conf, core/log.h
#   core/base    -> anything of the project outside core/base; system calls'
#                   headers (file I/O, getrandom, threads, syslog)
#   */engine/    -> anything of the project but core/base, core/wire,
#                   core/proto, core/fec, core/crypto and its own engine/
#                   directory;
#                   libevent, libconfig, socket/network headers
set -eu
root=${1:-.}
cd "$root"

files=$(find core sender receiver proxy tools man -type f \( -name '*.c' -o -name '*.h' \) \
        2>/dev/null | LC_ALL=C sort)
if [ -z "$files" ]; then
    echo "check-layers: no sources under $(pwd)" >&2
    exit 2
fi

# shellcheck disable=SC2086
awk '
function dirof(p) { sub(/\/[^\/]*$/, "", p); return p }
function top(p,   a) { split(p, a, "/"); return a[1] }
function layer(p) {
    if (p ~ /^core\/base\//) return "base"
    if (p ~ /^core\/(wire|proto|fec)\//) return "wireproto"
    if (p ~ /^core\/crypto\//) return "crypto"
    if (p ~ /^core\//) return "coreio"
    if (p ~ /^(sender|receiver|proxy)\/engine\//) return "engine"
    if (p ~ /^(sender|receiver|proxy|tools|man)\//) return "service"
    return "other"
}
function bad(rule) {
    printf "%s:%d: #include %s: %s\n", FILENAME, FNR, shown, rule
    nbad++
}
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
    line = $0
    sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
    q = substr(line, 1, 1)
    h = substr(line, 2)
    if (q == "<") sub(/>.*$/, "", h)
    else sub(/".*$/, "", h)
    shown = q h (q == "<" ? ">" : "\"")
    nincl++
    L = layer(FILENAME)

    proj = ""
    if (q == "\"") {
        if (h ~ /^(core|sender|receiver|proxy|tools|man)\//) proj = h
        else if (h !~ /\//) proj = dirof(FILENAME) "/" h
    }
    sock = (q == "<" && h ~ /^(sys\/socket\.h|sys\/un\.h|netinet\/|arpa\/|netdb\.h|ifaddrs\.h|net\/|linux\/|poll\.h|sys\/epoll\.h|sys\/select\.h)/)
    libevent = (q == "<" && h ~ /^(event2\/|event\.h|evdns\.h|evhttp\.h|evutil\.h)/)
    libconfig = (q == "<" && h ~ /^libconfig\.h/)
    openssl = (q == "<" && h ~ /^openssl\//)
    sysio = (q == "<" && h ~ /^(sys\/random\.h|fcntl\.h|unistd\.h|sys\/stat\.h|dirent\.h|sys\/mman\.h|syslog\.h|pthread\.h|sys\/file\.h)$/)
    coreio = (proj ~ /^core\/(net|fs|daemon|conf)\// || proj == "core/log.h")

    if (openssl && L != "crypto")
        bad("OpenSSL is used in core/crypto only")
    if (libevent && FILENAME !~ /^core\/loop\//)
        bad("libevent is used in core/loop only (the service runner)")
    if (L ~ /^(base|wireproto|crypto|coreio)$/ && proj ~ /^(sender|receiver|proxy|tools|man)\//)
        bad("core must not include a service")
    if ((L == "service" || L == "engine") && proj != "" && top(proj) != "core" && top(proj) != top(FILENAME))
        bad("a service must not include another service")
    if (L ~ /^(base|wireproto|crypto)$/) {
        if (sock) bad("core/base, core/wire, core/proto, core/fec and core/crypto include no socket or network header")
        if (libevent) bad("core/base, core/wire, core/proto, core/fec and core/crypto do not use libevent")
        if (libconfig) bad("core/base, core/wire, core/proto, core/fec and core/crypto do not use libconfig")
        if (coreio) bad("core/base, core/wire, core/proto, core/fec and core/crypto do not include core/net, core/fs, core/daemon, core/conf or core/log.h")
    }
    if (L == "base") {
        if (proj != "" && proj !~ /^core\/base\//)
            bad("core/base includes nothing of the project outside core/base")
        if (sysio)
            bad("core/base makes no system call (no file I/O, getrandom, threads or syslog headers)")
    }
    if (L == "engine") {
        own = top(FILENAME) "/engine/"
        if (proj != "" && proj !~ /^core\/(base|wire|proto|fec|crypto)\// && index(proj, own) != 1)
            bad("an engine includes only core/base, core/wire, core/proto, core/fec, core/crypto and its own engine/ files")
        if (sock) bad("an engine includes no socket or network header")
        if (libevent) bad("an engine does not use libevent")
        if (libconfig) bad("an engine does not use libconfig")
    }
}
END {
    if (nbad > 0) {
        printf "check-layers: %d forbidden include(s) (rules: tools/check-layers.sh, docs/DESIGN.md \"The house\")\n", nbad
        exit 1
    }
    printf "check-layers: %d includes in %d files follow the layering rules\n", nincl, nfiles
}
FNR == 1 { nfiles++ }
' $files
