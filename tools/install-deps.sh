#!/bin/sh
# Installs the Debian packages the build and the tests need. Idempotent and
# non-interactive; does nothing when everything is already there.
set -eu

# What the build, ./test.sh, ./demo.sh and bench/ run, by package. A Debian 12
# "minbase" root (debootstrap --variant=minbase: ../shared/tools/fresh-debian.sh)
# has only the Essential set: coreutils (od, sha256sum, sha1sum, cksum,
# truncate, timeout, mktemp, stat, ...), diffutils (cmp, diff), findutils
# (find, xargs), grep, sed, mawk, gzip, tar, util-linux and bsdutils (mount,
# unshare, flock, script), libc-bin (getent), dpkg (dpkg-deb). Everything
# else is here:
#   build-essential  cc, make, dpkg-shlibdeps (dpkg-dev, for the .deb)
#   cmake pkg-config libevent-dev libssl-dev libconfig-dev libcunit1-dev
#   libisal-dev      Intel ISA-L: the Reed-Solomon code of core/fec
#   clang libclang-rt-dev   the fuzz targets (libFuzzer, ASan/UBSan runtime)
#   tshark           tshark and dumpcap (captures, the dissector checks)
#   iproute2         ip, tc, bridge (network namespaces)
#   nftables         nft (loss, the example rule sets)
#   procps psmisc    ps, sysctl, pkill
#   iputils-ping     ping (tests/integration/relay, proxy)
#   ethtool          ethtool (tests/integration/net/ecn_gro.sh: GRO on a test link)
#   systemd          systemd-analyze, systemd-sysusers (tests/appliance; in a
#                    container the package only adds tools, nothing is started)
#   groff-base       groff (the man page checks)
#   time             /usr/bin/time (bench/)
#   iperf3           the competing TCP flow of bench/tfmcc.sh (issue 12)
#   file             CPackDeb needs it to build the .deb (tests/appliance/package.sh)
#   openssl xxd      the independent key fingerprints of tests/integration/proxy
#                    (Debian 12 ships xxd on its own, not in vim-common)
#   python3-jsonschema  validates uftp --summary-json against its schema
#                    (tests/integration/transfer/summary.sh)
PKGS="build-essential cmake pkg-config libevent-dev libssl-dev libconfig-dev
libcunit1-dev libisal-dev clang libclang-rt-dev tshark iproute2 nftables procps psmisc iputils-ping
ethtool"
PKGS="$PKGS systemd groff-base time file openssl xxd python3-jsonschema iperf3"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# Debian's uftp 4.10.2, the peer of the v4 interoperability tests
# (tests/integration/v4), fetched with apt and unpacked in UFTP4_DIR rather
# than installed: an installed uftp would conflict with our own package
# (tests/appliance/package.sh installs uftp-ng, which Conflicts: uftp, and
# skips that when uftp is installed), and its maintainer scripts enable a
# uftpd service. Unpacked, nothing is registered, enabled or started.
UFTP4_DIR=${UFTP4_DIR:-/opt/uftp-debian}
uftp4() {
    [ -x "$UFTP4_DIR/usr/bin/uftpd" ] && return 0
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    (cd "$tmp" && $SUDO apt-get download -qq uftp >/dev/null 2>&1) ||
        { $SUDO apt-get update -qq && (cd "$tmp" && $SUDO apt-get download -qq uftp >/dev/null); } ||
        { echo "warning: cannot fetch Debian's uftp; the v4 interop tests will be skipped" >&2; rm -rf "$tmp"; return 0; }
    $SUDO mkdir -p "$UFTP4_DIR"
    $SUDO dpkg-deb -x "$tmp"/uftp_*.deb "$UFTP4_DIR"
    echo "unpacked $(basename "$tmp"/uftp_*.deb) in $UFTP4_DIR" >&2
    rm -rf "$tmp"
}

# promtool (Prometheus's own parser: tests/hostile/metrics.sh checks the
# daemons' metrics files with `promtool check metrics`), from Debian's
# prometheus package, unpacked in PROMTOOL_DIR rather than installed: the
# package would add a prometheus user and a server that its maintainer
# scripts enable, and 19 web-UI packages, for one static binary.
PROMTOOL_DIR=${PROMTOOL_DIR:-/opt/promtool}
promtool() {
    [ -x "$PROMTOOL_DIR/usr/bin/promtool" ] && return 0
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    (cd "$tmp" && $SUDO apt-get download -qq prometheus >/dev/null 2>&1) ||
        { $SUDO apt-get update -qq && (cd "$tmp" && $SUDO apt-get download -qq prometheus >/dev/null); } ||
        { echo "warning: cannot fetch Debian's prometheus; the metrics test will be skipped" >&2; rm -rf "$tmp"; return 0; }
    $SUDO dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
    $SUDO mkdir -p "$PROMTOOL_DIR/usr/bin"
    $SUDO cp "$tmp/x/usr/bin/promtool" "$PROMTOOL_DIR/usr/bin/promtool"
    echo "unpacked promtool from $(basename "$tmp"/prometheus_*.deb) in $PROMTOOL_DIR" >&2
    $SUDO rm -rf "$tmp"
}

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    uftp4
    promtool
    exit 0
fi

# dumpcap stays root-only; tests that capture run as root anyway.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
echo "installing:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
uftp4
promtool
