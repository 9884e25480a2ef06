/*
 * uftp_keymgt's option table (spec §2.4). -m and -d are Windows-only in the
 * reference (CNG key stores and containers); its Linux build accepts them and
 * does nothing, and so do we, with a warning.
 */
#include "tools/keymgt_opts.h"

#include <stddef.h>

#define S struct uftp_keymgt_settings

static const struct conf_option opts[] = {
    CONF_ROW("generate", 'g', CONF_STRING, .section = "Options", .argname = "rsa:BITS|ec:CURVE",
             .flags = CONF_NOFILE,
             .help =
                 "generate a key into the one keyfile given (PEM, mode 0600, never overwritten): "
                 "rsa:2048 to rsa:3072, ec:prime256v1 (= secp256r1), ec:secp384r1 or ec:secp521r1",
             .complete = "rsa:2048 rsa:3072 ec:prime256v1 ec:secp256r1 ec:secp384r1 ec:secp521r1",
             CONF_FIELD(S, generate)),
    CONF_ROW(
        "machine-store", 'm', CONF_BOOL, .section = "Options", .flags = CONF_IGNORED | CONF_NOFILE,
        .help = "Windows machine key store (accepted for the reference's command lines; none here)",
        CONF_FIELD(S, machine_store)),
    CONF_ROW("delete", 'd', CONF_BOOL, .section = "Options", .flags = CONF_IGNORED | CONF_NOFILE,
             .help = "delete a Windows key container (accepted for the reference's command lines, "
                     "deletes nothing: there are none here)",
             CONF_FIELD(S, delete_container)),
    {.name = NULL},
};

const struct conf_spec uftp_keymgt_conf_spec = {
    .prog = "uftp_keymgt",
    .usage = "[keyfile ...]\n"
             "Without -g, prints the type and SHA-1 fingerprint of each private key.",
    .opts = opts,
    .default_file = NULL,
    .flags = CONF_SPEC_NOCONFIG | CONF_SPEC_HELP_H,
};
