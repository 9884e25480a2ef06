#!/bin/bash
# uftp / uftpd command lines and config files (no network, no root): the
# option tables drive --help, --check and libconfig files; reserved letters
# keep their reference meaning and say "not supported yet", letters that mean
# nothing here are accepted with a warning; bad values and
# unknown keys are reported with file:line; defaults are spec §2's.
#
#   cli.sh UFTP UFTPD
set -u
UFTP=${1:?usage: cli.sh UFTP UFTPD} UFTPD=${2:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/uftpcli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
# expect RC PATTERN CMD...: exit code RC and PATTERN (grep -E) in stdout+stderr.
expect() {
    local want=$1 pat=$2 rc
    shift 2
    "$@" >"$T/out" 2>&1
    rc=$?
    if [ "$rc" != "$want" ]; then
        fail "'$*': exit $rc, expected $want"
        sed 's/^/    /' "$T/out" | head -n 5
    elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/out"; then
        fail "'$*': no '$pat' in:"
        sed 's/^/    /' "$T/out" | head -n 5
    fi
}

echo x >"$T/f"
expect 0 "-R, --rate=KBPS" "$UFTP" --help
expect 0 "-D, --dest=DIR" "$UFTPD" --help
# Defaults (spec §2.1, §2.2; uftpd's dest and log per §6.13).
expect 0 'rate = 1000;' "$UFTP" --check
expect 0 'block-size = 1300;' "$UFTP" --check
expect 0 'public = "230.4.4.1";' "$UFTP" --check
expect 0 'private = "230.5.5.x";' "$UFTP" --check
expect 0 'grtt = "0.5:0.01:15(.0)?";' "$UFTP" --check
expect 0 'robust = 20;' "$UFTP" --check
expect 0 'cipher = "aes256-gcm";' "$UFTP" --check
expect 0 'dest = \[ "/var/lib/uftpd/incoming" \];' "$UFTPD" --check
expect 0 'cache = 1048576;' "$UFTPD" --check
expect 0 'port = 1044;' "$UFTPD" --check
# Restart (issue 13): -f / -F, the restart file's checks, the refused combinations.
expect 0 'restartable = true;' "$UFTP" -Y none -f --check
expect 1 "restart file $T/none: No such file" "$UFTP" -Y none -F "$T/none"
expect 1 "options -H and -F cannot be combined" "$UFTP" -Y none -H 0x01020304 -F "$T/none"
expect 1 "cannot be combined with sync mode" "$UFTP" -Y none -f -z "$T/f"
expect 1 "cannot be combined with sync mode" "$UFTP" -Y none -F "$T/none" -Z
printf 'uftp-restart 1\ngroup 0x12345678\ninstance 0\nitem %s\nclient 0x0A000002\n' "$T/f" >"$T/rs"
expect 1 "restart file $T/rs: .*truncated" "$UFTP" -Y none -F "$T/rs"
printf 'uftp-restart 3\n' >"$T/rs"
expect 1 "restart file $T/rs: line 1: unknown version" "$UFTP" -Y none -F "$T/rs"
printf 'uftp-restart 1\ngroup 0x12345678\ninstance 255\nitem %s\nopen\nend\n' "$T/f" >"$T/rs"
expect 1 "maximum number of restarts reached" "$UFTP" -Y none -F "$T/rs"
# Letters the reference takes for what has no meaning here (Windows key
# stores): accepted, one warning each.
expect 0 "option -y ignored: Windows machine key store" "$UFTP" -Y none -y --check
expect 0 "option -m ignored: Windows machine key store" "$UFTPD" -m --check
[ "$(grep -c "ignored" "$T/out")" = 1 ] || fail "uftpd -m: not exactly one warning: $(cat "$T/out")"
# Heartbeats (issue 5): hosts must resolve, the interval is 1..3600 s.
expect 1 "option -H: cannot resolve 'no.such.host.invalid'" "$UFTPD" -d -H no.such.host.invalid
expect 1 "option -h: 'heartbeat-interval' must be 1..3600" "$UFTPD" -d -h 0
# -C tfmcc (issue 12, spec §1.7): the forms of the option, and what it refuses.
expect 0 'congestion-control = "tfmcc";' "$UFTP" -C tfmcc --check
expect 0 'congestion-control = "tfmcc:min=100:init=1000:max=10000";' "$UFTP" \
    -C tfmcc:max=10000:min=100:init=1000 --check
expect 0 'congestion-control = "tfmcc:max=5000";' "$UFTP" -C tfmcc:5000 --check
expect 1 "tfmcc needs min <= init <= max" "$UFTP" -C tfmcc:min=10:max=5 --check
expect 1 "option -C: .*pgmcc is not supported" "$UFTP" -C pgmcc --check
expect 1 "option -C: .*tfmcc takes" "$UFTP" -C tfmcc:max=0 --check
# v4 (issue 6): uftp --protocol 5|4, uftpd -r host[/fingerprint].
expect 1 "option --protocol: 'protocol' must be one of" "$UFTP" --protocol 3 "$T/f"
expect 0 'protocol = "4";' "$UFTP" --protocol 4 --check
expect 1 "option -r: 'ZZ' is not a key fingerprint" "$UFTPD" -d -r 127.0.0.1/ZZ
expect 1 "option -r: cannot resolve 'no.such.host.invalid'" "$UFTPD" -d -r no.such.host.invalid
# Encryption (spec §2.1, §2.2): values, keys, key files.
expect 1 "option -Y: 'cipher' must be one of" "$UFTP" -Y aes256-cbc "$T/f"
expect 1 "option -h: 'hash' must be one of" "$UFTP" -h sha1 "$T/f"
expect 1 "option -e: 'curve' must be one of" "$UFTP" -e secp256k1 "$T/f"
expect 1 "option -c needs encryption" "$UFTP" -Y none -c "$T/f"
expect 3 "cannot read key file $T/nokey.pem" "$UFTP" -k "$T/nokey.pem" "$T/f"
expect 1 "option -K: 'key-generate' must be rsa:BITS \(2048..3072\) or ec:CURVE, not 'rsa:512'" "$UFTP" -K rsa:512 "$T/f"
expect 1 "option -K: 'key-generate' must be rsa:BITS \(2048..3072\) or ec:CURVE, not 'dsa:1'" "$UFTPD" --check -K dsa:1
echo junk >"$T/junk.pem"
expect 3 "cannot read key file .*junk.pem" "$UFTP" -k "$T/junk.pem" "$T/f"
expect 3 "signing key .*nokey.pem" "$UFTPD" -d -k "$T/nokey.pem"
# -K with -k writes the key (mode 0600) and refuses to overwrite it.
expect 1 "no files to send" "$UFTP" -K ec:secp384r1 -k "$T/gen.pem"
[ "$(stat -c %a "$T/gen.pem" 2>/dev/null)" = 600 ] || fail "uftp -K -k: key file not 0600"
expect 3 "cannot write key file .*gen.pem" "$UFTP" -K ec:secp384r1 -k "$T/gen.pem" "$T/f"
# Ranges and values.
expect 1 "option -R: 'rate' must be" "$UFTP" -Y none -R 0 "$T/f"
expect 1 "option -b: 'block-size' must be 512..8800" "$UFTP" -Y none -b 100 "$T/f"
expect 1 "option -s: 'robust' must be 10..50" "$UFTP" -Y none -s 5 "$T/f"
expect 1 "option -r: 'grtt' must have min <= init <= max" "$UFTP" -Y none -r 1:2:3 "$T/f"
expect 1 "option -U: 'id' must be a hex ID" "$UFTP" -Y none -U 0 "$T/f"
expect 1 "option -W: 'max-time' must be 0 \(none\) or 110..10000" "$UFTP" -Y none -W 50 "$T/f"
expect 1 "unknown option '-w'" "$UFTP" -w
expect 1 "must be absolute" "$UFTPD" -d -D relative/dir
expect 1 "option -c: 'cache' must be" "$UFTPD" -d -c 100
expect 1 "option -T: 'temp-dir' allows only one dest \(-D\), not 2" "$UFTPD" -d -T /tmp -D /a,/b
expect 1 "option -o: 'ssm' needs servers \(-S\)" "$UFTPD" -d -o
# Daemon options (issue 7): checked before anything starts, and by --check.
expect 1 "option -s: 'post-receive' must be an absolute path" "$UFTPD" -d -s true
expect 1 "option -s: 'post-receive' '$T/none': No such file" "$UFTPD" --check -s "$T/none"
expect 1 "option -s: 'post-receive' '$T': Is a directory" "$UFTPD" --check -s "$T"
expect 0 "post-receive = \"/bin/true\";" "$UFTPD" --check -s /bin/true
expect 1 "option -i: 'move-each' needs temp-dir \(-T\)" "$UFTPD" --check -i
expect 1 "option -t: 'temp-files' cannot be used with temp-dir \(-T\)" "$UFTPD" --check -t -T /tmp
expect 1 "option -A: 'backup-dirs' needs one dir per dest \(-D\): 1 given for 2" "$UFTPD" --check -D /a,/b -A /c
expect 1 "option -A: 'backup-dirs' cannot be used with temp-dir \(-T\)" "$UFTPD" --check -T /t -A /c
printf 'temp-dir = "/t";\ndest = [ "/a", "/b" ];\n' >"$T/combo.conf"
expect 1 "combo.conf:1: 'temp-dir' allows only one dest" "$UFTPD" --check --config "$T/combo.conf"
expect 1 "option -T: 'temp-dir' allows only one dest" "$UFTPD" --check --config "$T/combo.conf" -T /u
expect 1 "option -A: 'backup-dirs' must be absolute" "$UFTPD" --check -A rel
expect 1 "option --post-receive-timeout: 'post-receive-timeout' must be 1..86400" "$UFTPD" --check --post-receive-timeout 0
expect 0 "status-file = \"@LOG\";" "$UFTPD" --check -F @LOG
# Metrics (issue 15): off by default; a file in an existing directory.
expect 0 "metrics-interval = 5;" "$UFTPD" --check
expect 1 "'metrics-file' must be an absolute path" "$UFTPD" --check --metrics-file rel.prom
expect 1 "'metrics-file' needs an existing directory: '/nonexistent-uftp/m.prom'" "$UFTPD" --check --metrics-file /nonexistent-uftp/m.prom
expect 0 "metrics-file = \"$T/m.prom\";" "$UFTPD" --check --metrics-file "$T/m.prom" --metrics-interval 2
expect 1 "no files to send" "$UFTP" -Y none
expect 1 "nothing to send" "$UFTP" -Y none "$T/does-not-exist"
# Each skipped item once, in the walk's words (5.0.1 logs it the same way).
expect 1 "^uftp: skipping '$T/does-not-exist': No such file or directory$" "$UFTP" -Y none "$T/does-not-exist"
expect 1 "option -P: .* same IP version" "$UFTP" -Y none -M ff15::1 "$T/f"
# --summary-json is written whatever the exit (issue 15): no session here.
expect 1 "nothing to send" "$UFTP" -Y none --summary-json "$T/sum.json" "$T/does-not-exist"
if ! grep -q '"exit_code": 1,' "$T/sum.json" 2>/dev/null ||
    ! grep -q '"group_id": null,' "$T/sum.json" || ! grep -q '"receivers": \[' "$T/sum.json"; then
    fail "--summary-json after a failed start: $(cat "$T/sum.json" 2>&1)"
fi
for py in /usr/bin/python3 python3; do
    command -v "$py" >/dev/null && "$py" -c 'import jsonschema' 2>/dev/null || continue
    "$py" -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
        "$(dirname "$0")/../../../docs/uftp-summary.schema.json" "$T/sum.json" ||
        fail "--summary-json after a failed start does not validate"
    break
done
# uftp --check checks what a session would refuse before it opens anything.
expect 1 "option -P: .* same IP version" "$UFTP" --check -M ff15::1
expect 1 "option -c needs encryption" "$UFTP" --check -Y none -c
expect 1 "option -W needs a fixed rate" "$UFTP" --check -R -1 -W 200
expect 1 "option -M: cannot use 'no.such.host.invalid'" "$UFTP" --check -M no.such.host.invalid
# Config files: settings by long name, errors with file:line.
printf 'rate = 5000;\nblock-size = 8800;\ncipher = "none";\n' >"$T/ok.conf"
expect 0 "rate = 5000;" "$UFTP" --config "$T/ok.conf" --check
expect 0 "rate = 42;" "$UFTP" --config "$T/ok.conf" -R 42 --check
printf 'rate = 5000;\n\nfrobnicate = 1;\n' >"$T/bad1.conf"
expect 1 "bad1.conf:3: unknown setting 'frobnicate'" "$UFTP" --config "$T/bad1.conf" --check
printf 'port = 1044;\nbuffer = "lots";\n' >"$T/bad2.conf"
expect 1 "bad2.conf:2: .*buffer" "$UFTPD" --config "$T/bad2.conf" --check
printf 'backup-dirs = [ "/b", "/c" ];\n' >"$T/bad3.conf"
expect 1 "bad3.conf:1: 'backup-dirs' needs one dir per dest \(-D\): 2 given for 1" "$UFTPD" --config "$T/bad3.conf" --check
# --check output reads back to the same settings.
"$UFTPD" -M 230.4.4.1,ff15::1 -D /srv/a,/srv/b -c 2M -x 4 --check >"$T/c1.conf" 2>&1
"$UFTPD" --config "$T/c1.conf" --check >"$T/c2.conf" 2>&1
cmp -s "$T/c1.conf" "$T/c2.conf" || fail "uftpd --check does not round-trip"
"$UFTP" -H 0x1,0x2 -r 0.2:0.05:5 -R -1 --check >"$T/s1.conf" 2>&1
"$UFTP" --config "$T/s1.conf" --check >"$T/s2.conf" 2>&1
cmp -s "$T/s1.conf" "$T/s2.conf" || fail "uftp --check does not round-trip"

if [ "$fails" -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo PASS
