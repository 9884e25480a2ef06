#!/bin/bash
# Issue 15: uftp --summary-json for a session with one receiver lost and
# one refused. A closed group of three: r1 receives everything; r2 is
# killed (SIGKILL) once it has started receiving, so the sender loses it;
# r3 runs with -E (encrypted sessions only) and refuses the unencrypted
# session with an ABORT. The document must validate against
# docs/uftp-summary.schema.json (python3-jsonschema) and tell each
# receiver's story: r1 done with every file and byte, r2 lost, r3 refused
# in its own words; its exit code is uftp's. A document the schema must
# refuse (a state it does not know) is refused, so the validation can fail.
#
#   summary.sh UFTP UFTPD
UFTP=${1:?usage: summary.sh UFTP UFTPD} UFTPD=${2:?}
PY=""
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then
        PY=$p
        break
    fi
done
if [ -z "$PY" ]; then
    echo "SKIP: no python3 with jsonschema (Debian: python3-jsonschema, tools/install-deps.sh)"
    exit 77
fi
TEST_TAG=summary
. "$(dirname "$0")/common.sh"
SCHEMA=${UFTP_SRC:-$(dirname "$0")/../../..}/docs/uftp-summary.schema.json
[ -f "$SCHEMA" ] || { echo "no schema at $SCHEMA"; exit 1; }

netns_bridge lan
netns_add snd
netns_link snd lan eth0 10.78.0.1/24
for i in 1 2 3; do
    netns_add "r$i"
    netns_link "r$i" lan eth0 "10.78.0.1$i/24"
done
mkdir -p "$NETNS_TMP/src"
head -c 4000000 /dev/urandom >"$NETNS_TMP/src/big.bin"
echo "a small one" >"$NETNS_TMP/src/small.txt"
NBYTES=$((4000000 + 12))
for i in 1 2 3; do mkdir -p "$NETNS_TMP/d$i"; done
start_uftpd r1 uftpd1 -D "$NETNS_TMP/d1"
p1=$NETNS_LAST_PID
start_uftpd r2 uftpd2 -D "$NETNS_TMP/d2"
p2=$NETNS_LAST_PID
start_uftpd r3 uftpd3 -D "$NETNS_TMP/d3" -E
p3=$NETNS_LAST_PID

J=$NETNS_TMP/summary.json
netns_spawn snd "$NETNS_TMP/uftp.log" "$UFTP" -x 3 -Y none -R 6000 -s 10 \
    -H 0x0A4E000B,0x0A4E000C,0x0A4E000D --summary-json "$J" \
    "$NETNS_TMP/src/big.bin" "$NETNS_TMP/src/small.txt"
upid=$NETNS_LAST_PID
# r2 dies once it is receiving big.bin.
for ((i = 0; i < 200; i++)); do
    grep -q "big.bin" "$NETNS_TMP/uftpd2.log" 2>/dev/null && break
    sleep 0.05
done
sleep 0.3
kill -KILL "$p2"
wait "$p2" 2>/dev/null
[ -e "$J" ] && fail "the summary was written before the end"
netns_wait "$upid" 200
rc=$?
echo "  uftp exited $rc"
[ -f "$J" ] || fail "no summary written"
sed 's/^/  /' "$J"

"$PY" - "$SCHEMA" "$J" "$rc" "$NBYTES" <<'EOF' || fail "the summary does not tell the session as it went"
import json, sys, copy
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
rc, nbytes = int(sys.argv[3]), int(sys.argv[4])
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema, format_checker=cls.FORMAT_CHECKER)
errs = sorted(v.iter_errors(doc), key=str)
for e in errs:
    print("  schema:", e.message, "at", list(e.path))
bad = 0 if not errs else 1
def want(cond, what):
    global bad
    if not cond:
        print("  wrong:", what)
        bad = 1
# A document the schema must refuse.
wrong = copy.deepcopy(doc)
wrong["receivers"][0]["state"] = "bogus"
want(not v.is_valid(wrong), "the schema accepts an unknown state")
wrong = copy.deepcopy(doc)
del wrong["receivers"][0]["reason"]
want(not v.is_valid(wrong), "the schema accepts a receiver without a reason field")
want(doc["exit_code"] == rc, "exit_code %s, uftp exited %d" % (doc["exit_code"], rc))
want(doc["files"] == {"count": 2, "bytes": nbytes}, "files %s" % doc["files"])
r = {x["id"]: x for x in doc["receivers"]}
want(list(r) == ["0x0A4E000B", "0x0A4E000C", "0x0A4E000D"], "receivers %s" % list(r))
r1, r2, r3 = r.get("0x0A4E000B", {}), r.get("0x0A4E000C", {}), r.get("0x0A4E000D", {})
want(r1.get("state") == "done" and r1.get("reason") is None, "r1: %s" % r1)
want(r1.get("files", {}).get("copied") == 2 and r1.get("bytes") == nbytes, "r1 files/bytes: %s" % r1)
want(r1.get("time_s", 0) > 0 and r1.get("rate_bytes_per_s", 0) > 0, "r1 time/rate: %s" % r1)
want(r2.get("name") == "0x0A4E000C", "r2's name: %s" % r2.get("name"))
want(r2.get("registered") is True and r2.get("state") == "lost", "r2: %s" % r2)
want(bool(r2.get("reason")), "r2 without a reason")
want(r3.get("state") == "refused" and r3.get("registered") is False, "r3: %s" % r3)
want("aborted by the receiver" in (r3.get("reason") or ""), "r3's reason: %s" % r3.get("reason"))
sys.exit(bad)
EOF
cmp -s "$NETNS_TMP/src/big.bin" "$NETNS_TMP/d1/big.bin" || fail "r1's big.bin differs"
stop_uftpd "$p1" uftpd1
stop_uftpd "$p3" uftpd3
finish
