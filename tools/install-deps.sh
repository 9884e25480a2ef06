#!/bin/sh
# Installs the Debian packages the build and the tests need. Idempotent and
# non-interactive; does nothing when everything is already there.
set -eu

PKGS="build-essential cmake pkg-config libevent-dev libssl-dev libconfig-dev
libcunit1-dev clang libclang-rt-dev tshark iproute2 nftables procps psmisc iputils-ping"
# systemd: systemd-analyze for tests/appliance (in a container the package only
# adds tools; nothing is started); groff-base: the man page checks.
PKGS="$PKGS systemd groff-base time"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# dumpcap stays root-only; tests that capture run as root anyway.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
echo "installing:$missing" >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
