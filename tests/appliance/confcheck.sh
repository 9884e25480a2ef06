#!/bin/sh
# A shipped config file against its program (issue 7):
#   1. it is exactly what the option table generates (mangen --conf), so the
#      file and the command line cannot drift apart;
#   2. `PROG --check --config FILE` accepts it, and the effective settings it
#      prints parse back (--check of that output prints the same again);
#   3. every broken config CASES/PROG/NAME.conf is refused by --check with
#      the message in CASES/PROG/NAME.err (file:line and what is allowed) as
#      the first line of its error output.
#
# Usage: confcheck.sh MANGEN PROG CONF CASES_DIR
set -u
mangen=$1 conf=$3 cases=$4
prog=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
name=$(basename "$prog")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

"$mangen" --conf "$work/generated.conf" || fail "mangen --conf failed"
diff -u "$conf" "$work/generated.conf" >&2 ||
    fail "$conf differs from the option table (cmake --build BUILD --target update-etc-conf)"

"$prog" --check --config "$conf" >"$work/eff1.conf" 2>"$work/err" ||
    fail "$name --check $conf: $(cat "$work/err")"
"$prog" --check --config "$work/eff1.conf" >"$work/eff2.conf" 2>"$work/err" ||
    fail "$name --check of its own output: $(cat "$work/err")"
cmp -s "$work/eff1.conf" "$work/eff2.conf" || {
    diff -u "$work/eff1.conf" "$work/eff2.conf" >&2
    fail "the effective settings do not parse back to themselves"
}

if [ -d "$cases/$name" ]; then
    for c in "$cases/$name"/*.conf; do
        [ -f "$c" ] || continue
        want=$(cat "${c%.conf}.err")
        got=$(cd "$(dirname "$c")" && "$prog" --check --config "$(basename "$c")" 2>&1 >/dev/null)
        st=$?
        [ $st -ne 0 ] || fail "$(basename "$c"): accepted"
        [ "$(echo "$got" | head -n1)" = "$want" ] ||
            fail "$(basename "$c"): wanted '$want', got '$got'"
    done
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "$name config: all checks passed"
