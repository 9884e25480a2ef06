#!/bin/bash
# Issue 4: encrypted transfers between our programs in network namespaces.
# One sender, four receivers with their own signing keys (EC P-256, EC
# P-521, RSA-2048, RSA-3072), 5 % loss towards and from every receiver
# (nftables), a small tree per session:
#
#   - every cipher x hash, the curves and client authentication cycling so
#     that each curve runs with and without it, the sender's signing key
#     cycling through ephemeral, EC and RSA key files;
#   - the receivers' -S server list with the sender's fingerprint, -E;
#   - -b 8800 with encryption;
#   - a wrong -H fingerprint under -c refuses exactly that receiver;
#   - one bigger file (BIG_MB, default 24 MiB) with the defaults.
# Every copy identical (sha256, mtimes), every process exits cleanly.
#
#   matrix.sh UFTP UFTPD KEYMGT
UFTP=${1:?usage: matrix.sh UFTP UFTPD KEYMGT} UFTPD=${2:?} KEYMGT=${3:?}
KEYMGT=$(readlink -f "$KEYMGT")
TEST_TAG=encmatrix
. "$(dirname "$0")/../transfer/common.sh"

SID=0x11000001
netns_lan lan 5 # lan1 sends, lan2..lan5 receive
for i in 2 3 4 5; do
    netns_loss_to "lan$i" 5
    netns_loss_from "lan$i" 5
done
K=$NETNS_TMP/keys
mkdir -p "$K" "$NETNS_TMP/src/sub" "$NETNS_TMP/src/emptydir"
head -c 300000 /dev/urandom >"$NETNS_TMP/src/a.bin"
head -c 8801 /dev/urandom >"$NETNS_TMP/src/sub/b.bin"
echo "x" >"$NETNS_TMP/src/sub/c.txt"
: >"$NETNS_TMP/src/empty"
specs=(ec:prime256v1 ec:secp521r1 rsa:2048 rsa:3072)
for i in 2 3 4 5; do
    "$KEYMGT" -g "${specs[$((i - 2))]}" "$K/r$i.pem" 2>/dev/null || fail "keymgt -g ${specs[$((i - 2))]}"
done
"$KEYMGT" -g ec:secp384r1 "$K/s_ec.pem" 2>/dev/null
"$KEYMGT" -g rsa:2048 "$K/s_rsa.pem" 2>/dev/null
"$KEYMGT" -g ec:prime256v1 "$K/other.pem" 2>/dev/null
fp() { "$KEYMGT" "$1" 2>&1 | sed -n 's/.*fingerprint: //p'; }
rid() { printf '0x2200000%d' "$1"; }
: >"$NETNS_TMP/hosts"
for i in 2 3 4 5; do
    echo "$(rid $i)|$(fp "$K/r$i.pem")" >>"$NETNS_TMP/hosts"
done
sed "s/^$(rid 4)|.*/$(rid 4)|$(fp "$K/other.pem")/" "$NETNS_TMP/hosts" >"$NETNS_TMP/hosts_bad"
printf '%s|%s|0|%s\n' $SID "$(netns_ip4 lan1)" "$(fp "$K/s_ec.pem")" >"$NETNS_TMP/servers"

pids=()
start_all() {
    local i
    pids=()
    for i in 2 3 4 5; do
        rm -rf "$NETNS_TMP/d$i"
        mkdir -p "$NETNS_TMP/d$i"
        start_uftpd "lan$i" "uftpd$i" -U "$(rid $i)" -k "$K/r$i.pem" -D "$NETNS_TMP/d$i" "$@"
        pids+=("$NETNS_LAST_PID")
    done
}
stop_all() {
    local i
    for i in 2 3 4 5; do
        stop_uftpd "${pids[$((i - 2))]}" "uftpd$i"
        cat "$NETNS_TMP/uftpd$i.log" >>"$NETNS_TMP/uftpd$i.all.log"
    done
}
N=0
# send WANT ARGS...: WANT lists the receivers that must hold the tree.
send() {
    local want=$1 i
    shift
    for i in 2 3 4 5; do rm -rf "${NETNS_TMP:?}/d$i/"*; done
    N=$((N + 1))
    run_uftp lan1 "uftp$N" 120 -x 2 -U $SID -R 200000 -r 0.1 \
        -H "$(rid 2),$(rid 3),$(rid 4),$(rid 5)" "$@" "$NETNS_TMP/src"/*
    local got=""
    for i in 2 3 4 5; do
        if [ "$(tree_sig "$NETNS_TMP/src")" = "$(tree_sig "$NETNS_TMP/d$i")" ]; then
            got+="$i"
        fi
    done
    printf '  %-62s exit %s, identical at: %s\n' "$*" "$UFTP_RC" "${got:-none}"
    [ "$got" = "$want" ] || fail "uftp $*: identical at '${got}', expected '$want'"
    if [ "$want" = 2345 ] && [ "$UFTP_RC" != 0 ]; then fail "uftp $*: exit $UFTP_RC"; fi
}

echo "cipher x hash, curves, client auth, signing keys:"
start_all
curves=(secp256r1 secp384r1 secp521r1)
keys=("" "-k $K/s_ec.pem" "-k $K/s_rsa.pem")
k=0
for y in aes128-gcm aes256-gcm aes128-ccm aes256-ccm; do
    for h in sha256 sha384 sha512; do
        auth=()
        [ $((k % 2)) = 1 ] && auth=(-c -H @"$NETNS_TMP/hosts")
        # shellcheck disable=SC2086
        send 2345 -Y $y -h $h -e "${curves[$((k % 3))]}" ${keys[$(((k / 2) % 3))]} "${auth[@]}"
        k=$((k + 1))
    done
done
echo "jumbo blocks (5.0.1 crashes at -b >= 8720):"
send 2345 -b 8800 -Y aes256-ccm
echo "a wrong -H fingerprint under -c refuses that receiver only:"
send 235 -c -H @"$NETNS_TMP/hosts_bad" -s 10
stop_all

echo "server list with the sender's fingerprint, encrypted only:"
start_all -S "$NETNS_TMP/servers" -E
send 2345 -k "$K/s_ec.pem"
send "" -k "$K/s_rsa.pem" -s 10
send "" -Y none -s 10
stop_all
grep -q "Failed to verify server key fingerprint\|fingerprint mismatch" "$NETNS_TMP"/uftpd2.all.log ||
    fail "no fingerprint refusal logged"

echo "a bigger file, defaults:"
start_all
BIG_MB=${BIG_MB:-24}
rm -rf "${NETNS_TMP:?}/src/"*
head -c $((BIG_MB * 1048576)) /dev/urandom >"$NETNS_TMP/src/big.bin"
send 2345 -R 400000
grep "session .* ended" "$NETNS_TMP/uftp$N.log" | sed 's/^/  /'
stop_all
finish
