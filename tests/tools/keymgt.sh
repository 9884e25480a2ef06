#!/bin/sh
# End-to-end test of uftp_keymgt (spec §2.4): generation of every key type,
# mode 0600, refusal to overwrite or follow symlinks, the output lines, and
# fingerprints of known keys (the values the 5.0.1 reference tool prints).
# Usage: keymgt.sh PATH_TO_UFTP_KEYMGT TEST_KEY_DIR
set -u
km=$1
keys=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run EXPECTED_STATUS ARGS...: runs the tool, output in $work/out
run() {
    want=$1
    shift
    "$km" "$@" >"$work/out" 2>&1
    st=$?
    [ "$st" -eq "$want" ] || fail "uftp_keymgt $* exited $st, wanted $want: $(cat "$work/out")"
}

mode() {
    stat -c %a "$1"
}

# Generation, each type, under a permissive umask.
umask 000
for spec in rsa:2048 rsa:3072 ec:prime256v1 ec:secp256r1 ec:secp384r1 ec:secp521r1; do
    f="$work/$(echo "$spec" | tr : _).pem"
    run 0 -g "$spec" "$f"
    [ "$(mode "$f")" = 600 ] || fail "$spec: mode $(mode "$f")"
    gen=$(cat "$work/out")
    case $spec in
    rsa:*)
        bits=${spec#rsa:}
        echo "$gen" | grep -Eq "^$f: RSA, $bits bits, fingerprint: ([0-9A-F]{2}:){19}[0-9A-F]{2}\$" ||
            fail "$spec: output '$gen'"
        head -1 "$f" | grep -qx -- '-----BEGIN RSA PRIVATE KEY-----' || fail "$spec: not PKCS#1"
        ;;
    ec:*)
        curve=${spec#ec:}
        [ "$curve" = secp256r1 ] && curve=prime256v1
        echo "$gen" | grep -Eq "^$f: ECDSA, curve $curve, fingerprint: ([0-9A-F]{2}:){19}[0-9A-F]{2}\$" ||
            fail "$spec: output '$gen'"
        head -1 "$f" | grep -qx -- '-----BEGIN EC PRIVATE KEY-----' || fail "$spec: not SEC1"
        ;;
    esac
    # Listing the file prints the same line.
    run 0 "$f"
    [ "$(cat "$work/out")" = "$gen" ] || fail "$spec: listing differs: $(cat "$work/out")"
done
umask 022

# Never overwrite, never follow a symlink.
f="$work/ec_prime256v1.pem"
sum=$(cksum <"$f")
run 1 -g ec:secp384r1 "$f"
grep -q 'Error generating/storing key' "$work/out" || fail "overwrite: $(cat "$work/out")"
[ "$(cksum <"$f")" = "$sum" ] || fail "existing key file was changed"
ln -s "$work/target.pem" "$work/link.pem"
run 1 -g ec:prime256v1 "$work/link.pem"
[ -e "$work/target.pem" ] && fail "followed a dangling symlink"

# Bad parameters.
run 1 -g rsa:1024 "$work/x.pem"
grep -q 'Invalid key size' "$work/out" || fail "rsa:1024: $(cat "$work/out")"
run 1 -g rsa:4096 "$work/x.pem"
run 1 -g ec:secp256k1 "$work/x.pem"
grep -q 'Invalid curve' "$work/out" || fail "secp256k1: $(cat "$work/out")"
run 1 -g dsa:1024 "$work/x.pem"
grep -q 'Invalid key specification' "$work/out" || fail "dsa: $(cat "$work/out")"
run 1 -g ec:prime256v1
grep -q 'No keyfile specified' "$work/out" || fail "no file: $(cat "$work/out")"
[ -e "$work/x.pem" ] && fail "a key file was left behind"
run 1 -x
run 0 -h
grep -q '^Usage: uftp_keymgt' "$work/out" || fail "-h: $(cat "$work/out")"
run 0 --help
grep -q -- '-g, --generate=rsa:BITS|ec:CURVE' "$work/out" || fail "--help: $(cat "$work/out")"
run 1 --check
# -m and -d are Windows-only in the reference, whose Linux build takes them
# and does nothing: one warning each, otherwise as without them (-d lists nothing).
run 0 -m "$keys/ec256_a.pem"
[ "$(grep -c 'warning: option -m ignored' "$work/out")" -eq 1 ] || fail "-m: $(cat "$work/out")"
grep -q 'ec256_a.pem: ECDSA, curve prime256v1' "$work/out" || fail "-m: key not listed"
run 0 -d "$keys/ec256_a.pem"
[ "$(grep -c 'warning: option -d ignored' "$work/out")" -eq 1 ] || fail "-d: $(cat "$work/out")"
grep -q 'fingerprint' "$work/out" && fail "-d listed a key: $(cat "$work/out")"
[ -f "$keys/ec256_a.pem" ] || fail "-d removed a file"
run 1 -d
grep -q 'No keyfile specified' "$work/out" || fail "-d without a file: $(cat "$work/out")"
run 1 -d -g ec:prime256v1 "$work/y.pem"
grep -q "Can't specify both -g and -d" "$work/out" || fail "-d -g: $(cat "$work/out")"
[ -e "$work/y.pem" ] && fail "-d -g generated a key"
run 0 -m -g ec:secp384r1 "$work/m.pem"
grep -q 'm.pem: ECDSA, curve secp384r1' "$work/out" || fail "-m -g: $(cat "$work/out")"

# Known keys: the fingerprints the 5.0.1 uftp_keymgt prints for these files.
run 0 "$keys/ec256_a.pem" "$keys/ec256_a_pkcs8.pem" "$keys/ec384_a.pem" "$keys/ec521_a.pem" \
    "$keys/rsa1024.pem" "$keys/rsa2048.pem"
cat >"$work/want" <<END
$keys/ec256_a.pem: ECDSA, curve prime256v1, fingerprint: 2A:61:6A:37:81:15:A6:7E:ED:72:27:1F:50:4D:21:31:B6:8C:0E:04
$keys/ec256_a_pkcs8.pem: ECDSA, curve prime256v1, fingerprint: 2A:61:6A:37:81:15:A6:7E:ED:72:27:1F:50:4D:21:31:B6:8C:0E:04
$keys/ec384_a.pem: ECDSA, curve secp384r1, fingerprint: 9A:36:92:01:11:D6:6E:12:B5:30:86:50:80:60:FA:81:3D:3E:AF:8B
$keys/ec521_a.pem: ECDSA, curve secp521r1, fingerprint: D3:B8:3D:7A:AB:FA:C8:2A:58:96:C8:76:0A:5A:58:6F:BB:3E:30:6E
$keys/rsa1024.pem: RSA, 1024 bits, fingerprint: FF:49:61:A3:50:16:0E:77:C0:9E:53:FE:3D:D7:03:09:B5:85:B0:C8
$keys/rsa2048.pem: RSA, 2048 bits, fingerprint: B5:7E:C7:A0:16:A9:A0:6A:5B:57:4D:05:7D:76:1B:09:3B:B1:79:D5
END
diff "$work/want" "$work/out" >&2 || fail "fingerprints of known keys"

# Unreadable or unusable keys: "no such key", exit 1, but the rest is listed.
run 1 "$work/missing.pem" "$keys/ec256_a_encrypted.pem" "$keys/ed25519.pem" "$keys/ec256_b.pem"
[ "$(grep -c ': no such key$' "$work/out")" -eq 3 ] || fail "bad keys: $(cat "$work/out")"
grep -q 'ec256_b.pem: ECDSA, curve prime256v1, fingerprint: ED:08:0C:D3' "$work/out" ||
    fail "good key after bad ones not listed"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "keymgt: all checks passed"
