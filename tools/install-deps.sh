#!/bin/sh
# Installs the Debian packages the build and the tests need. Idempotent and
# non-interactive; does nothing when everything is already there.
set -eu

PKGS="build-essential cmake pkg-config libevent-dev libssl-dev libconfig-dev
libcunit1-dev clang libclang-rt-dev tshark iproute2 nftables procps psmisc iputils-ping"
# systemd: systemd-analyze for tests/appliance (in a container the package only
# adds tools; nothing is started); groff-base: the man page checks.
PKGS="$PKGS systemd groff-base time"

# uftp: Debian's UFTP 4.10.2, the peer of the v4 interoperability tests
# (tests/integration/v4). It is installed without starting its uftpd
# service, and that service is disabled: the tests start their own daemons.
PKGS="$PKGS uftp"

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
# Keep maintainer scripts from starting services (Debian's uftp has one),
# unless a policy-rc.d is there already.
prc=/usr/sbin/policy-rc.d
own_prc=""
if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$prc" >/dev/null
    $SUDO chmod 755 "$prc"
    own_prc=1
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$own_prc" ] && $SUDO rm -f "$prc"
case " $missing " in
*" uftp "*)
    # Never leave the package's daemon enabled or running (by unit name only).
    if command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable --now uftp.service >/dev/null 2>&1 ||
            $SUDO systemctl disable uftp.service >/dev/null 2>&1 || true
    fi
    if [ -x /usr/sbin/update-rc.d ]; then
        $SUDO update-rc.d uftp disable >/dev/null 2>&1 || true
    fi
    ;;
esac
exit $rc
