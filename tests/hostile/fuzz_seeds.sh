#!/bin/bash
# Writes hostile seeds for the engine fuzz targets (issue 14): sequences of
# the forger's datagrams in the record formats of tests/fuzz/fuzz_receiver.c,
# fuzz_receiver_enc.c and fuzz_proxy.c (see tests/fuzz/corpus/README.md).
#
#   fuzz_seeds.sh HOSTILE_FORGE CORPUS_DIR     (e.g. tests/fuzz/corpus)
set -eu
FORGE=${1:?usage: fuzz_seeds.sh HOSTILE_FORGE CORPUS_DIR}
OUT=${2:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# dg NAME FORGE-ARGS...: one datagram into $tmp/NAME
dg() {
    local name=$1
    shift
    rm -rf "$tmp/c"
    "$FORGE" --corpus "$tmp/c" --quiet "$@"
    mv "$tmp/c/"* "$tmp/$name"
}

byte() { printf "\\$(printf '%03o' "$1")"; }
be16() { byte $(($1 >> 8)); byte $(($1 & 255)); }

# rec STEP_MS FILE [PEER]: a record (with a peer byte for the proxy format)
rec() {
    byte "$1"
    [ $# -ge 3 ] && byte "$3"
    be16 "$(stat -c %s "$2")"
    cat "$2"
}

# msg STEP FLAGS FILE: a receiver_enc record: the datagram without its header
msg() {
    local len
    len=$(($(stat -c %s "$3") - 16))
    byte "$1"
    byte "$2"
    be16 "$len"
    tail -c "$len" "$3"
}

G=5EED0002 # the group of the fuzz targets' seeds
CL=0A000202 # receiver 0 of the sims, the fuzz targets' client
SRV=0A000105

dg ann0 announce --group $G --server $SRV --grtt 0 --robust 1
dg annbig announce --group $G --server $SRV --grtt 255 --robust 255
dg annx announce --group 0 --server $SRV --grtt 255 --robust 255
dg annjunk announce --group $G --server $SRV --junk-key
dg annenc0 announce --group 0 --server 66666666 --junk-key --grtt 0 --robust 1
dg regconf regconf --group $G --server $SRV --client $CL
dg fibig fileinfo --group $G --server $SRV --client $CL --size 2147483648 --name big.bin
dg fihuge fileinfo --group $G --server $SRV --client $CL --size 281474976710655 --name huge.bin
dg filink fileinfo --group $G --server $SRV --client $CL --ftype 2 --name evil --link /etc
dg filink2 fileinfo --group $G --server $SRV --client $CL --ftype 2 --name a/l --link ../../x
dg fidel fileinfo --group $G --server $SRV --client $CL --ftype 3 --name victim.txt --file 2
dg done0 done --group $G --server $SRV --client $CL --file 1 --section 65535
dg doneall done --group $G --server $SRV --client $CL --file 0
dg abort abort --group $G --server $SRV
dg abortc abort --group $G --server $SRV --host $CL
dg keyinfo keyinfo --group $G --server $SRV --client $CL
dg hbresp hbresp --nonce 7 --auth 1
dg pkey proxykey --group $G --server 0A650002
dg keyreq keyreq
dg enc encrypted --group $G --server $SRV --len 1324
dg reg register --group $G --server $SRV --client 0A670001
dg reg2 register --group $G --server $SRV --client 0A670002
dg hbreq hbreq --nonce 0
dg hbreq2 hbreq --nonce 1515870810

write() {
    cat >"$OUT/$1/hostile-$2"
}

mkdir -p "$OUT/receiver" "$OUT/receiver_enc" "$OUT/proxy"

# receiver: [ms][len][datagram]
{ rec 0 "$tmp/ann0"; for i in 1 2 3 4 5 6 7 8; do rec 200 "$tmp/ann0"; done; rec 1 "$tmp/regconf"
  rec 1 "$tmp/fibig"; rec 50 "$tmp/done0"; rec 255 "$tmp/fihuge"; rec 1 "$tmp/abort"; } |
    write receiver amplify
{ for i in $(seq 12); do rec 1 "$tmp/annx"; done; rec 0 "$tmp/annbig"; rec 255 "$tmp/annbig"
  rec 255 "$tmp/regconf"; rec 255 "$tmp/doneall"; } | write receiver slots
{ rec 0 "$tmp/annbig"; rec 1 "$tmp/regconf"; rec 1 "$tmp/filink"; rec 1 "$tmp/filink2"
  rec 1 "$tmp/fidel"; rec 1 "$tmp/abortc"; } | write receiver links
{ rec 0 "$tmp/annjunk"; rec 1 "$tmp/annenc0"; rec 1 "$tmp/keyinfo"; rec 1 "$tmp/enc"
  rec 1 "$tmp/hbresp"; rec 1 "$tmp/pkey"; rec 1 "$tmp/keyreq"; rec 255 "$tmp/abort"; } |
    write receiver unauth

# receiver_enc: [ms][flags][len][message], sealed by the harness (flags 1: raw)
{ msg 0 0 "$tmp/fibig"; msg 10 0 "$tmp/done0"; msg 10 0 "$tmp/fihuge"; msg 255 0 "$tmp/doneall"; } |
    write receiver_enc sizes
{ msg 0 0 "$tmp/filink"; msg 1 0 "$tmp/filink2"; msg 1 0 "$tmp/fidel"; msg 1 1 "$tmp/abort"
  msg 1 2 "$tmp/abortc"; msg 1 0 "$tmp/abortc"; } | write receiver_enc links

# proxy: a role byte, then [ms][peer][len][datagram]; peer 0 server, 1 downstream, 2..5 clients
for role in 0 1 2 3; do
    { byte $role; rec 0 "$tmp/ann0" 0; rec 1 "$tmp/annx" 3; rec 1 "$tmp/annx" 4
      rec 1 "$tmp/reg" 2; rec 1 "$tmp/reg2" 3; rec 1 "$tmp/hbreq" 1; rec 1 "$tmp/hbreq2" 5
      rec 1 "$tmp/keyinfo" 0; rec 1 "$tmp/regconf" 0; rec 50 "$tmp/abort" 4
      for i in 1 2 3 4 5 6; do rec 200 "$tmp/ann0" 0; done
      rec 255 "$tmp/annbig" 0; rec 1 "$tmp/annenc0" 2; rec 1 "$tmp/keyreq" 5; rec 1 "$tmp/enc" 1; } |
        write proxy "role$role"
done
echo "wrote $(ls "$OUT"/receiver/hostile-* "$OUT"/receiver_enc/hostile-* "$OUT"/proxy/hostile-* | wc -l) hostile seeds into $OUT"
