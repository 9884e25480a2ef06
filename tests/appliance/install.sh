#!/bin/sh
# `cmake --install` into a staging directory (DESTDIR) puts everything in the
# standard places for the build's prefix: binaries, units, the sysusers file,
# the man pages, the bash completions, the nftables examples and configs
# under <sysconfdir>/uftp.
#
# Usage: install.sh BUILD_DIR
set -u
build=${1:?usage: install.sh BUILD_DIR}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
unitdir=$(cache UFTP_SYSTEMD_UNITDIR)
sysusersdir=$(cache UFTP_SYSUSERSDIR)
DESTDIR=$stage cmake --install "$build" >"$stage.log" 2>&1 || fail "cmake --install: $(tail "$stage.log")"
rm -f "$stage.log"
case $prefix in /usr) etc=/etc ;; *) etc=$prefix/etc ;; esac
for f in "$prefix/bin/uftp_keymgt" "$prefix/share/man/man1/uftp_keymgt.1.gz" \
    "$unitdir/uftpd.service" "$unitdir/uftpproxyd@.service" "$sysusersdir/uftp-ng.conf" \
    "$etc/uftp/nftables/uftpd.nft" "$etc/uftp/nftables/uftp-sender.nft" \
    "$etc/uftp/nftables/uftpproxyd-server.nft" "$etc/uftp/nftables/uftpproxyd-client.nft" \
    "$prefix/share/doc/uftp-ng/copyright" "$prefix/share/bash-completion/completions/uftp" \
    "$prefix/share/bash-completion/completions/uftpd" \
    "$prefix/share/bash-completion/completions/uftpproxyd" \
    "$prefix/share/bash-completion/completions/uftp_keymgt"; do
    [ -f "$stage$f" ] || fail "not installed: $f"
done
# The installed units run this prefix's binaries with this prefix's configs.
grep -qxF "ExecStart=$prefix/sbin/uftpd -d --config $etc/uftp/uftpd.conf" "$stage$unitdir/uftpd.service" ||
    fail "uftpd.service ExecStart: $(grep ExecStart= "$stage$unitdir/uftpd.service")"
grep -qxF "ExecStart=$prefix/sbin/uftpproxyd -d --config $etc/uftp/uftpproxyd-%i.conf" \
    "$stage$unitdir/uftpproxyd@.service" || fail "uftpproxyd@.service ExecStart"
# Nothing lands outside the prefix but the sysconf, unit and sysusers dirs.
find "$stage" -type f | sed "s|^$stage||" | while read -r f; do
    case $f in
    "$prefix"/* | "$etc"/* | "$unitdir"/* | "$sysusersdir"/*) ;;
    *) echo "outside: $f" ;;
    esac
done >"$stage.outside"
[ -s "$stage.outside" ] && fail "installed outside the standard directories: $(cat "$stage.outside")"
rm -f "$stage.outside"
if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "install ($prefix): all checks passed"
