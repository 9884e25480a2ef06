#!/bin/bash
# The generated bash completions (man/compgen.c): each script parses, offers
# every option its program's --help lists, and completes values from the
# option table: enumerations, log levels, files, directories, lists entry by
# entry, "--name=VALUE" as bash splits it, operands.
#
#   completion.sh DIR PROG=BINARY...   (DIR holds the generated scripts)
set -u
dir=${1:?usage: completion.sh DIR PROG=BINARY...}
dir=$(cd "$dir" && pwd) || exit 1
shift
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
work=$(mktemp -d "${TMPDIR:-/tmp}/uftpcomp.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree/incoming" "$work/tree/inbox"
touch "$work/tree/key.pem" "$work/tree/keys.list" "$work/tree/notes.txt"

# comp PROG WORD...: runs PROG's completion function as bash would for the
# command line WORD... (the last word is the one being completed) and prints
# COMPREPLY one entry a line, sorted.
comp() {
    local prog=$1
    shift
    (
        cd "$work/tree" || exit 1
        # shellcheck disable=SC1090
        source "$dir/$prog" || exit 1
        COMP_WORDS=("$prog" "$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        fn=$(complete -p "$prog" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
        [ -n "$fn" ] || { echo "no completion registered for $prog" >&2; exit 1; }
        "$fn" "$prog" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
    )
}

# expect PROG "WANTED ENTRIES" WORD...: COMPREPLY is exactly those entries.
expect() {
    local prog=$1 want got
    want=$(printf '%s\n' $2 | sed '/^$/d' | sort)
    shift 2
    got=$(comp "$prog" "$@")
    [ "$got" = "$want" ] ||
        fail "$prog $*: got [$(echo $got)], want [$(echo $want)]"
}

# has PROG ENTRY WORD...: COMPREPLY contains ENTRY.
has() {
    local prog=$1 entry=$2
    shift 2
    comp "$prog" "$@" | grep -qxF -- "$entry" || fail "$prog $*: no '$entry' offered"
}

for pb in "$@"; do
    prog=${pb%%=*} bin=${pb#*=}
    [ -f "$dir/$prog" ] || { fail "no completion script for $prog"; continue; }
    bash -n "$dir/$prog" || fail "$prog: the script does not parse"
    # Every option --help names is offered after '-'.
    "$bin" --help >"$work/help" 2>&1 || fail "$prog --help failed"
    comp "$prog" - >"$work/all"
    # Its option lines: "  -R, --rate=KBPS  ...", "      --gso  ...".
    for o in $(grep -oE -- '^  (-[A-Za-z0-9], )?--[a-z][a-z0-9-]*' "$work/help" | tr -d ','); do
        grep -qxF -- "$o" "$work/all" || fail "$prog: '$o' (in --help) not completed"
    done
    [ "$(wc -l <"$work/all")" -gt 3 ] || fail "$prog: only $(wc -l <"$work/all") options"
done

# Option names.
expect uftp "--log-file --log-level --log-roll-mb --log-keep" --log-
expect uftp "-y" -y
has uftp --machine-store --mach
has uftpd -m -m
expect uftp_keymgt "--help" --he
expect uftp_keymgt "" --con # no settings file: neither --config nor --check
has uftpd --check --ch
# Enumerated values, from the table's words and small ranges.
expect uftp "aes128-gcm aes128-ccm" -Y aes128
expect uftp "none aes128-gcm aes256-gcm aes128-ccm aes256-ccm" --cipher ""
expect uftp "aes256-gcm aes256-ccm" --cipher = aes256
expect uftp "none aes128-gcm aes256-gcm aes128-ccm aes256-ccm" --cipher =
expect uftp "sha256 sha384 sha512" -h ""
expect uftp "auto on off" --progress ""
expect uftp "0 1 2 3 4 5" -x ""
expect uftpd "0 1 2 3 4 5" --log-level ""
expect uftpproxyd "secp256r1 secp384r1 secp521r1" -e secp
expect uftpproxyd "prime256v1" --ecdh-curve p
expect uftp_keymgt "ec:prime256v1 ec:secp256r1 ec:secp384r1 ec:secp521r1" -g ec:
expect uftpproxyd "ec:prime256v1,rsa:2048 ec:prime256v1,rsa:3072" -K ec:prime256v1,rsa
# Files and directories.
expect uftp "key.pem keys.list" -k ke
expect uftp "key.pem keys.list" --key-file = ke
expect uftpd "incoming inbox" -D in
expect uftpd "/x,incoming /x,inbox" --dest /x,in
expect uftpd "notes.txt" -F no
expect uftp "notes.txt" --config no
expect uftpproxyd "a.pem,key.pem a.pem,keys.list" -k a.pem,ke
# Operands: files for uftp and uftp_keymgt; a value without completion offers nothing.
expect uftp "key.pem keys.list" -R 1000 ke
expect uftp_keymgt "key.pem keys.list" ke
expect uftp "" -R ""
expect uftp "" -M ""

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "completion: all checks passed"
