#!/bin/bash
# Command lines written for UFTP 5.0.1 (the reference man pages' examples and
# synopses, and spec §2's option rows) run through our programs, as listed
# with their expected outcome in refcmds.txt: uftp, uftpd and uftpproxyd
# with --check (an empty --config, so that an installed /etc/uftp changes
# nothing), uftp_keymgt for real in a scratch directory. Also: every letter
# of the reference's getopt strings is one of ours, taking an argument
# exactly where the reference's does.
#
#   refcmds.sh LIST PROG=BINARY...
# With UFTP_REF_BIN (a directory with the 5.0.1 programs), the lines the
# reference refuses ("ref-no") are run through it too: it must exit 1.
set -u
list=${1:?usage: refcmds.sh LIST PROG=BINARY...}
shift
declare -A bin
for pb in "$@"; do
    bin[${pb%%=*}]=$(readlink -f "${pb#*=}")
done
fails=0 checked=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
work=$(mktemp -d "${TMPDIR:-/tmp}/uftprefcmds.XXXXXX")
trap 'rm -rf "$work"' EXIT
W=$work/cwd
mkdir -p "$W/dir_1" "$W/dir_2" "$W/dest_dir"
: >"$work/empty.conf"

# The files the lines name, in the directory they run in.
(
    cd "$W" || exit 1
    for f in the_file file file_1 file_2 file_3 file_to_send key_file_or_container; do
        echo "$f" >"$f"
    done
    printf '0x0A000001\n0x0A000002\n' >file_containing_list_of_clients
    printf 'the_file\nfile_1\n' >list_file
    printf 'dir_1/x\n' >exclude.list
    printf '0x0A000005\n' >proxies.list
    # uftpd -S: serverID|IP|proxyID[|fingerprint]; -R: proxyID|IP[|fingerprint]
    printf '0x0A0B0C0D|192.0.2.1|0\n' >servers.list
    printf '0x0A000005|192.0.2.5\n' >proxies-r.list
    # uftpproxyd -S: serverID|IP[|fingerprint]; -C: clientID[|fingerprint]
    printf '0x0A0B0C0D|192.0.2.1\n' >proxy-servers.list
    printf '0x0A000001\n0x0A000002\n' >clients.list
) || exit 1
"${bin[uftp_keymgt]}" -g ec:prime256v1 "$W/key.pem" 2>/dev/null || fail "cannot make key.pem"

# Our letters and whether each takes an argument, from --help ("-R, --rate=KBPS").
our_letters() {
    "$1" --help 2>/dev/null | sed -nE 's/^  -([A-Za-z0-9]), --[a-z0-9-]+(=?).*/\1\2/p' |
        sed 's/=$/:/' | tr -d '\n'
}

declare -A subst
while IFS= read -r line; do
    case $line in '' | '#'*) continue ;; esac
    if [[ $line == getopt\ * ]]; then
        read -r _ prog ref <<<"$line"
        [ -n "${bin[$prog]:-}" ] || continue
        ours=$(our_letters "${bin[$prog]}")
        for ((i = 0; i < ${#ref}; i++)); do
            c=${ref:i:1}
            [ "$c" = : ] && continue
            want=$c
            [ "${ref:i+1:1}" = : ] && want=$c:
            if [[ $ours != *"$c"* ]]; then
                fail "$prog: the reference's -$c is not ours"
            elif [[ $want == *: && $ours != *"$c:"* ]] || [[ $want != *: && $ours == *"$c:"* ]]; then
                fail "$prog -$c: the reference ${want#?} takes an argument iff ours does ($ours)"
            fi
            checked=$((checked + 1))
        done
        continue
    fi
    if [[ $line == '= '* ]]; then
        read -r _ word repl <<<"$line"
        subst[$word]=$repl
        continue
    fi
    src=${line%% | *}
    rest=${line#* | }
    expect=${rest%% | *}
    cmdline=${rest#* | }
    # shellcheck disable=SC2206
    words=($cmdline)
    for i in "${!words[@]}"; do
        w=${words[i]}
        for k in "${!subst[@]}"; do
            w=${w//$k/${subst[$k]}}
        done
        words[i]=$w
    done
    prog=${words[0]}
    exe=${bin[$prog]:-}
    [ -n "$exe" ] || { fail "$src: no binary for $prog"; continue; }
    if [ "$prog" = uftp_keymgt ]; then
        (cd "$W" && "$exe" "${words[@]:1}") >"$work/out" 2>&1
    else
        (cd "$W" && "$exe" --check --config "$work/empty.conf" "${words[@]:1}") >"$work/out" 2>&1
    fi
    rc=$?
    checked=$((checked + 1))
    case $expect in
    ok)
        [ "$rc" = 0 ] || fail "$src: '${words[*]}' refused (exit $rc): $(head -n 3 "$work/out")"
        ;;
    no:* | ref-no:*)
        [ "$rc" = 1 ] || fail "$src: '${words[*]}' exit $rc, wanted 1 (${expect#*: })"
        if [[ $expect == ref-no:* && -n ${UFTP_REF_BIN:-} && -x $UFTP_REF_BIN/$prog ]]; then
            (cd "$W" && timeout 10 "$UFTP_REF_BIN/$prog" "${words[@]:1}") >/dev/null 2>&1
            r=$?
            [ "$r" = 1 ] || fail "$src: the reference exits $r on '${words[*]}', not 1"
        fi
        ;;
    *)
        fail "$src: unknown expectation '$expect'"
        ;;
    esac
done <"$list"

[ "$checked" -gt 100 ] || fail "only $checked checks: is $list complete?"
if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s) in $checked checks"
    exit 1
fi
echo "reference command lines: $checked checks passed"
