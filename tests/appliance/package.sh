#!/bin/sh
# The Debian package (issue 7): builds uftp-ng_*.deb with CPack from a
# separate build tree configured for /usr, then checks
#   - the control fields (name, version, architecture, Conflicts/Replaces
#     uftp, Depends from dpkg-shlibdeps);
#   - the exact list of files: what is always shipped (units, sysusers file,
#     nftables examples, uftp_keymgt and its man page and bash completion,
#     copyright) plus, for each program that is built, its binary, and its man
#     page, bash completion and config
#     file once their sources exist (and uftp's JSON summary schema);
#   - conffiles = exactly the files under /etc; units identical to systemd/;
#   - maintainer scripts that never start or enable a daemon;
#   - an install, a reinstall keeping an edited conffile, a remove that keeps
#     conffiles and a purge that does not, all with dpkg --root into a
#     throw-away root (scripts run chrootless), so the machine is not touched.
#     There the _uftp user is created, and each installed daemon checks the
#     installed config with --check.
# As root the package is then installed on this machine with dpkg -i, each
# program --check reads its installed config by default, and it is purged
# again (UFTP_DEB_INSTALL=0: not; skipped when something could be clobbered).
#
# Usage: package.sh SOURCE_DIR [BUILD_DIR]   (BUILD_DIR is reused if given)
set -u
src=${1:?usage: package.sh SOURCE_DIR [BUILD_DIR]}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build=${2:-$work/build}
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
die() {
    echo "FAIL: $*" >&2
    exit 1
}

for t in cpack dpkg-deb dpkg-shlibdeps dpkg; do
    command -v "$t" >/dev/null 2>&1 || die "$t not installed"
done

# Build and package.
cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DUFTP_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/cmake.log" 2>&1 || die "cmake: $(tail -20 "$work/cmake.log")"
cmake --build "$build" -j2 >"$work/build.log" 2>&1 || die "build: $(tail -20 "$work/build.log")"
rm -f "$build"/uftp-ng_*.deb
(cd "$build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || die "cpack: $(tail -20 "$work/cpack.log")"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb=$build/uftp-ng_${version}-1_${arch}.deb
[ -f "$deb" ] || die "no $deb: $(ls "$build"/*.deb 2>&1)"
echo "built $deb"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = uftp-ng ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version-1" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ "$(field Conflicts)" = uftp ] || fail "Conflicts: $(field Conflicts)"
[ "$(field Replaces)" = uftp ] || fail "Replaces: $(field Replaces)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
deps=$(field Depends)
for d in 'adduser | systemd' 'libc6 (>= ' 'libssl3 (>= '; do
    case $deps in *"$d"*) ;; *) fail "Depends lacks '$d': $deps" ;; esac
done
# Parity repair links Intel ISA-L (core/fec, issue 17): once a program uses
# it, dpkg-shlibdeps must have put its runtime package in Depends.
for b in $(find "$build" -maxdepth 2 -type f \( -name uftp -o -name uftpd -o -name uftpproxyd \)); do
    if readelf -d "$b" 2>/dev/null | grep -q 'libisal\.so'; then
        case $deps in *libisal2*) ;; *) fail "$(basename "$b") needs libisal.so but Depends lacks libisal2: $deps" ;; esac
    fi
done

# Files: exactly what is expected.
dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's|^\./|/|' | LC_ALL=C sort >"$work/files"
{
    echo /usr/bin/uftp_keymgt
    echo /usr/share/man/man1/uftp_keymgt.1.gz
    echo /usr/share/bash-completion/completions/uftp_keymgt
    echo /lib/systemd/system/uftpd.service
    echo /lib/systemd/system/uftpproxyd@.service
    echo /usr/lib/sysusers.d/uftp-ng.conf
    echo /usr/share/doc/uftp-ng/copyright
    for f in "$src"/etc/nftables/*.nft; do
        echo "/etc/uftp/nftables/$(basename "$f")"
    done
    # prog dir bindir section: each program once it is built.
    while read -r prog dir bindir sec; do
        [ -x "$build/$dir/$prog" ] || continue
        echo "/usr/$bindir/$prog"
        [ -f "$src/man/$prog.$sec.in" ] && echo "/usr/share/man/man$sec/$prog.$sec.gz" &&
            echo "/usr/share/bash-completion/completions/$prog"
        [ -f "$src/etc/$prog.conf" ] && echo "/etc/uftp/$prog.conf"
        # uftp --summary-json's schema (issue 15) goes with uftp.
        [ "$prog" = uftp ] && echo /usr/share/doc/uftp-ng/uftp-summary.schema.json
    done <<END
uftp sender bin 1
uftpd receiver sbin 8
uftpproxyd proxy sbin 8
END
} | LC_ALL=C sort >"$work/want"
diff -u "$work/want" "$work/files" >&2 || fail "the package's files differ from the expected list"

# conffiles: every file under /etc, nothing else.
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep '^/etc/' "$work/files" >"$work/etc-files"
LC_ALL=C sort "$work/control/conffiles" >"$work/conffiles"
diff -u "$work/etc-files" "$work/conffiles" >&2 || fail "conffiles is not the list of /etc files"

# Units as written in systemd/ (the /usr layout needs no rewriting).
mkdir "$work/data"
dpkg-deb -x "$deb" "$work/data"
for u in uftpd.service uftpproxyd@.service; do
    cmp -s "$src/systemd/$u" "$work/data/lib/systemd/system/$u" || fail "$u differs from systemd/$u"
done
gzip -t "$work/data/usr/share/man/man1/uftp_keymgt.1.gz" || fail "uftp_keymgt.1.gz is not gzip"
# Bash completions: scripts bash parses, each registering its program.
for f in "$work"/data/usr/share/bash-completion/completions/*; do
    bash -n "$f" || fail "$(basename "$f"): bash cannot parse it"
    grep -q "^complete -F .* $(basename "$f")\$" "$f" || fail "$(basename "$f"): registers no completion"
done

# Maintainer scripts: valid sh, executable, never start or enable a daemon.
for s in postinst prerm postrm; do
    f=$work/control/$s
    [ -x "$f" ] || fail "$s missing or not executable"
    sh -n "$f" || fail "$s: syntax"
done
grep -v '^[[:space:]]*#' "$work/control/postinst" |
    grep -E 'systemctl[^|;]*(start|enable|unmask)|deb-systemd-invoke[^|;]*start|deb-systemd-helper[^|;]*enable' |
    grep -v try-restart && fail "postinst starts or enables a daemon"

# Install, reinstall, remove and purge in a throw-away root.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
rdpkg() {
    dpkg --root="$root" --force-script-chrootless --force-depends --force-confold \
        --log=/dev/null "$@" >>"$work/dpkg.log" 2>&1
}
status() { dpkg-query --root="$root" -W -f='${db:Status-Abbrev}' uftp-ng 2>/dev/null | tr -d ' '; }

rdpkg -i "$deb" || fail "dpkg -i: $(tail -20 "$work/dpkg.log")"
[ "$(status)" = ii ] || fail "not installed: $(status)"
[ -x "$root/usr/bin/uftp_keymgt" ] || fail "uftp_keymgt not installed"
"$root/usr/bin/uftp_keymgt" --help >/dev/null 2>&1 || fail "installed uftp_keymgt --help"
if command -v systemd-sysusers >/dev/null 2>&1; then
    grep -q '^_uftp:x:[0-9]*:[0-9]*:UFTP daemons:/var/lib/uftpd:/usr/sbin/nologin$' \
        "$root/etc/passwd" || fail "no _uftp user: $(cat "$root/etc/passwd" 2>&1)"
fi
# Each daemon reads its installed config.
for prog in uftp uftpd uftpproxyd; do
    for d in bin sbin; do
        bin=$root/usr/$d/$prog
        [ -x "$bin" ] && [ -f "$root/etc/uftp/$prog.conf" ] || continue
        "$bin" --check --config "$root/etc/uftp/$prog.conf" >"$work/check.out" 2>&1 ||
            fail "$prog --check of the installed config: $(cat "$work/check.out")"
    done
done

# An edited conffile survives a reinstall.
nft=$root/etc/uftp/nftables/uftpd.nft
echo "# edited by the admin" >>"$nft"
rdpkg -i "$deb" || fail "reinstall: $(tail -20 "$work/dpkg.log")"
tail -1 "$nft" | grep -qx '# edited by the admin' || fail "reinstall replaced an edited conffile"

rdpkg -r uftp-ng || fail "dpkg -r: $(tail -20 "$work/dpkg.log")"
[ "$(status)" = rc ] || fail "after remove: $(status)"
[ -e "$root/usr/bin/uftp_keymgt" ] && fail "remove left uftp_keymgt"
[ -e "$root/lib/systemd/system/uftpd.service" ] && fail "remove left the unit"
[ -f "$nft" ] || fail "remove deleted a conffile"
rdpkg -P uftp-ng || fail "dpkg -P: $(tail -20 "$work/dpkg.log")"
[ -e "$root/etc/uftp" ] && fail "purge left /etc/uftp: $(find "$root/etc/uftp")"

# The real thing: dpkg -i on this machine, then each program reads its
# installed config by default, then dpkg --purge. On by default when root
# (CI runs in a fresh container); UFTP_DEB_INSTALL=0 turns it off. Skipped
# (not failed) when it could clobber something: another uftp install, or
# an existing /etc/uftp. Nothing is started: the maintainer scripts never
# start a daemon, and the check below would notice a started unit.
real_install() {
    if [ "${UFTP_DEB_INSTALL:-1}" = 0 ]; then
        echo "dpkg -i on this machine: off (UFTP_DEB_INSTALL=0)"
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "dpkg -i on this machine: skipped (not root)"
        return
    fi
    # One run at a time on a shared machine (dpkg has its own lock, but the
    # checks below must not see another run's package).
    exec 9>/tmp/uftp-ng-package-test.lock
    flock -w 600 9 || { fail "another package test holds the lock"; return; }
    for p in uftp-ng uftp; do
        if dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^[ih]i'; then
            echo "dpkg -i on this machine: skipped ($p is installed here)"
            return
        fi
    done
    for f in /etc/uftp /usr/sbin/uftpd /usr/sbin/uftpproxyd /usr/bin/uftp /usr/bin/uftp_keymgt; do
        if [ -e "$f" ]; then
            echo "dpkg -i on this machine: skipped ($f exists)"
            return
        fi
    done
    purge() { dpkg --purge uftp-ng >>"$work/real.log" 2>&1; }
    trap 'purge; rm -rf "$work"' EXIT
    if ! dpkg -i "$deb" >"$work/real.log" 2>&1; then
        fail "dpkg -i: $(cat "$work/real.log")"
        return
    fi
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' uftp-ng | tr -d ' ')" = ii ] || fail "dpkg -i: not installed"
    getent passwd _uftp >/dev/null || fail "no _uftp user after dpkg -i"
    if [ -d /run/systemd/system ]; then
        for u in uftpd.service; do
            systemctl is-active --quiet "$u" && fail "installing started $u"
            systemctl is-enabled --quiet "$u" 2>/dev/null && fail "installing enabled $u"
        done
    fi
    # Without --config each program reads /etc/uftp/<prog>.conf: a harmless
    # setting added there shows in --check (and an error there would name it).
    for prog in uftpd uftp uftpproxyd; do
        bin=$(command -v "/usr/sbin/$prog" || command -v "/usr/bin/$prog")
        [ -n "$bin" ] && [ -f "/etc/uftp/$prog.conf" ] || continue
        "$bin" --check >"$work/check.out" 2>&1 ||
            fail "$prog --check of /etc/uftp/$prog.conf: $(cat "$work/check.out")"
        grep -q '^log-keep = 5;$' "$work/check.out" || fail "$prog --check: $(head -5 "$work/check.out")"
        echo 'log-keep = 7;' >>"/etc/uftp/$prog.conf"
        "$bin" --check >"$work/check.out" 2>&1
        grep -q '^log-keep = 7;$' "$work/check.out" ||
            fail "$prog --check did not read /etc/uftp/$prog.conf: $(head -5 "$work/check.out")"
    done
    if ! purge; then
        fail "dpkg --purge: $(tail -20 "$work/real.log")"
    fi
    trap 'rm -rf "$work"' EXIT
    [ -e /etc/uftp ] && fail "purge left /etc/uftp: $(find /etc/uftp)"
    [ -e /usr/sbin/uftpd ] && fail "purge left /usr/sbin/uftpd"
    echo "dpkg -i on this machine: installed, checked, purged"
}
real_install

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "package: all checks passed"
