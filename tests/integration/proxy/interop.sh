#!/bin/bash
# Runs one proxy test (tunnel, nat, response, chain) against the UFTP 5.0.1
# reference binaries in $UFTP_REF_DIR (built by hand outside the repository;
# skipped when unset): UFTP_REF_ROLE=ends puts the reference uftp and uftpd
# at the ends of our proxies, UFTP_REF_ROLE=proxy the reference uftpproxyd
# between our ends.
#
#   interop.sh TEST UFTP UFTPD UFTPPROXYD
t=${1:?usage: interop.sh TEST UFTP UFTPD UFTPPROXYD}
shift
if [ -z "${UFTP_REF_DIR:-}" ]; then
    echo "SKIP: set UFTP_REF_DIR to the UFTP 5.0.1 binaries" >&2
    exit 77
fi
exec "$(dirname "$0")/$t.sh" "$@"
