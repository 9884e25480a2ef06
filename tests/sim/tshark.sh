#!/bin/sh
# Wire check of what the engines emit: runs the wire_check scenario (in
# clear) and the enc_wire scenario (encrypted, client authentication) with a
# pcap of every datagram sent, then has Wireshark's uftp5 dissector read
# them. Fails on any packet not dissected as UFTP v5, any malformed packet
# or expert info, or when a message type of the session is missing. Our
# FEC_PARITY (func 241, spec §9.3) is unknown to the dissector: allowed.
# Usage: tshark.sh SIM_SCENARIOS WORKDIR      Exit 77 (skip) without tshark.
set -eu
sim=$1
work=$2
command -v tshark >/dev/null 2>&1 || { echo "tshark not installed: skipped"; exit 77; }
mkdir -p "$work"
conf=$work/wsconf
rm -rf "$conf"
mkdir -p "$conf"
export WIRESHARK_CONFIG_DIR="$conf" XDG_CONFIG_HOME="$conf" HOME="$conf" LC_ALL=C TZ=UTC

# check SCENARIO "TYPES...": every datagram dissected cleanly, every type seen.
check() {
    pcap=$work/$1.pcap
    "$sim" --pcap "$pcap" "$1"
    tshark -n -r "$pcap" -d udp.port==1044,uftp -T fields -E separator=/t \
        -e frame.number -e frame.protocols -e _ws.malformed -e _ws.expert.message -e uftp5.func \
        >"$work/$1.fields" 2>"$work/tshark.err" || { cat "$work/tshark.err" >&2; exit 1; }
    awk -F '\t' -v want_list="$2" -v scen="$1" '
    {
        n++
        if ($2 !~ /:uftp:uftp5$/) { printf "frame %s dissected as %s\n", $1, $2; bad++ }
        # FEC_PARITY (func 241) is ours (spec §9.3): Wireshark does not know it.
        if ($5 == "241" && $4 == "Function unknown: 241") { seen[$5] = 1; next }
        if ($3 != "" || $4 != "") { printf "frame %s: malformed/expert: %s %s\n", $1, $3, $4; bad++ }
        seen[$5] = 1
    }
    END {
        split(want_list, want, " ")
        for (i in want) if (!(want[i] in seen)) { printf "no message type %s\n", want[i]; bad++ }
        printf "tshark (%s): %d datagrams from the engines, %d problems\n", scen, n, bad
        exit bad ? 1 : 0
    }' "$work/$1.fields"
}

check wire_check "1 2 4 7 8 9 10 11 12 13"
# Encrypted: ANNOUNCE (signed), REGISTER, KEYINFO, ENCRYPTED; nothing else in clear.
check enc_wire "1 2 5 18"
