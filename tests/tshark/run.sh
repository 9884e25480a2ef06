#!/bin/sh
# Independent check of the codec against Wireshark's uftp5/uftp4 dissectors.
# gen_pcap writes one datagram of every message type and the field values
# tshark must show; this runs tshark once over the pcap and compares, and
# fails on any malformed packet or expert info.
# Usage: run.sh GEN_PCAP WORKDIR      Exit 77 (skip) when tshark is missing.
set -eu
gen=$1
work=$2
command -v tshark >/dev/null 2>&1 || { echo "tshark not installed: skipped"; exit 77; }
mkdir -p "$work"
pcap=$work/uftp.pcap
exp=$work/uftp.expect
out=$work/uftp.fields
"$gen" "$pcap" "$exp"

# A private, empty configuration: no user preferences, plugins or Lua scripts
# can change the dissection or its formatting; fixed locale and time zone.
conf=$work/wsconf
rm -rf "$conf"
mkdir -p "$conf"
export WIRESHARK_CONFIG_DIR="$conf" XDG_CONFIG_HOME="$conf" HOME="$conf"
export LC_ALL=C TZ=UTC
unset WIRESHARK_DEBUG_WMEM_OVERRIDE || true

fields=$(cut -f2 "$exp" | grep -v '^!' | sort -u)
set -- -n -r "$pcap" -T fields -E header=y -E separator=/t -E occurrence=a -E aggregator=, \
    -e frame.number -e frame.protocols -e _ws.malformed -e _ws.expert.message
for f in $fields; do
    set -- "$@" -e "$f"
done
# Port 1044 is the dissector's default; say so anyway, in case it is ever not.
tshark -d udp.port==1044,uftp "$@" >"$out" 2>"$work/tshark.err" || {
    cat "$work/tshark.err" >&2
    echo "tshark failed" >&2
    exit 1
}

awk -F '\t' -v expfile="$exp" '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
    f = $1; frames[f] = 1
    for (name in col) val[f, name] = $(col[name])
}
END {
    bad = 0; checked = 0
    while ((getline line < expfile) > 0) {
        split(line, e, "\t")
        fr = e[1]; fld = e[2]; want = e[3]
        if (fld == "!malformed") { tolerated[fr] = want; continue }
        if (!(fr in frames)) { print "frame " fr " missing"; bad++; continue }
        got = val[fr, fld]
        checked++
        if (got != want) {
            printf "frame %s %s: tshark \"%s\", ours \"%s\"\n", fr, fld, substr(got, 1, 200), substr(want, 1, 200)
            bad++
        }
        want_frames[fr] = 1
    }
    for (fr in want_frames) {
        if (val[fr, "_ws.malformed"] != "" || val[fr, "_ws.expert.message"] != "") {
            if (fr in tolerated) {
                printf "frame %s: malformed (tolerated: %s)\n", fr, tolerated[fr]
            } else {
                printf "frame %s: malformed/expert: %s %s\n", fr, val[fr, "_ws.malformed"], val[fr, "_ws.expert.message"]
                bad++
            }
        }
        p = val[fr, "frame.protocols"]
        if (p !~ /:uftp[45]$/) { printf "frame %s: dissected as %s\n", fr, p; bad++ }
    }
    n = 0; for (fr in want_frames) n++
    printf "tshark: %d packets, %d field values compared, %d mismatches\n", n, checked, bad
    exit bad ? 1 : 0
}' "$out"
