#!/bin/sh
# The rendered man pages (man/): each one formats without a single groff
# warning, has the sections every page must have, and no placeholder was
# left unrendered. uftp_keymgt.1 is checked for every option it documents.
#
# Usage: manpages.sh PAGE...   (the rendered pages in the build tree)
set -u
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
command -v groff >/dev/null 2>&1 || {
    echo "groff not installed" >&2
    exit 1
}
[ $# -gt 0 ] || {
    echo "usage: manpages.sh PAGE..." >&2
    exit 2
}
for page in "$@"; do
    name=$(basename "$page")
    [ -s "$page" ] || {
        fail "$name: missing or empty"
        continue
    }
    warn=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
    [ -z "$warn" ] || fail "$name: groff warnings: $warn"
    grep -n '@[A-Z]*@' "$page" && fail "$name: unrendered placeholder"
    [ -f "$page.gz" ] && { gzip -dc "$page.gz" | cmp -s - "$page" || fail "$name.gz differs from $name"; }
    text=$(groff -man -Tutf8 -P -cbou "$page" 2>/dev/null)
    for sec in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
        echo "$text" | grep -qx "$sec" || fail "$name: no $sec section"
    done
    prog=${name%.*}
    sec=${name##*.}
    head -5 "$page" | grep -q "^\.TH $(echo "$prog" | tr a-z A-Z) $sec " || fail "$name: .TH line"
    # EXIT STATUS lists exactly the codes the program can exit with (the exit
    # enums in sender/engine.h, receiver/main.c, proxy/engine.h, and what main,
    # the shell and the detaching parent return): no more, no fewer.
    codes=$(echo "$text" | sed -n '/^EXIT STATUS$/,/^[A-Z][A-Z ]*$/p' |
        sed -nE 's/^ +([0-9]+)( .*)?$/\1/p' | tr '\n' ' ')
    case $prog in
    uftp) want="0 1 2 3 4 5 6 7 8 9 10 " ;;
    uftpd | uftpproxyd) want="0 1 2 3 4 5 " ;;
    uftp_keymgt) want="0 1 " ;;
    *) want=$codes ;;
    esac
    [ "$codes" = "$want" ] || fail "$name: EXIT STATUS lists '$codes', the program returns '$want'"
    case $name in
    uftp_keymgt.1)
        for opt in '-g rsa:bits | ec:curve' '-m' '-d' '-h, --help'; do
            echo "$text" | grep -qF -- "$opt" || fail "$name: option '$opt' not documented"
        done
        ;;
    esac
done
if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "man pages: all checks passed"
