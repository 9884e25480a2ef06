/*
 * uftp_keymgt's option table (spec §2.4): the command line, --help, the
 * bash completion. No settings file: it has no --config or --check.
 */
#ifndef UFTP_TOOLS_KEYMGT_OPTS_H
#define UFTP_TOOLS_KEYMGT_OPTS_H

#include <stdbool.h>

#include "core/conf/conf.h"

struct uftp_keymgt_settings {
    char *generate;        /* -g rsa:BITS | ec:CURVE */
    bool machine_store;    /* -m: accepted and ignored */
    bool delete_container; /* -d: accepted and ignored */
};

extern const struct conf_spec uftp_keymgt_conf_spec;

#endif
