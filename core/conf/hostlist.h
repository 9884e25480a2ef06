/*
 * Host list files shared by the programs (spec §2):
 *
 *   uftp -H @file, -j file    ID_or_IPv4name[|fingerprint]        CONF_HL_IDS
 *   uftpd -S file             serverID|IP|proxyID[|fingerprint]   CONF_HL_SERVERS
 *   uftpd -R file             proxyID|IP[|fingerprint]            CONF_HL_PROXIES
 *   uftpproxyd -S file        serverID|IP[|fingerprint]           CONF_HL_PROXY_SERVERS
 *   uftpproxyd -C file        clientID[|fingerprint]              CONF_HL_CLIENTS
 *   uftp -H id[,id...]        the same IDs, comma-separated, no fingerprints
 *
 * IDs are hex, with or without 0x, 1 to 8 digits; 0 and 0xFFFFFFFF are
 * refused (a proxy ID of 0 means "direct"). In CONF_HL_IDS an entry may
 * also be an IPv4 address (1.2.3.4 is ID 0x01020304) or a host name, which
 * is resolved to IPv4 by the resolver callback. An all-hex-digit entry is
 * always an ID: "cafe" is 0x0000CAFE, never a host named cafe. (5.0.1 tried
 * a DNS / inet_aton lookup first, so "01020304" became an octal address.)
 * IP fields are numeric IPv4/IPv6 addresses, or host names given to the
 * resolver. Fingerprints are 1 to 64 hex bytes separated by ':'.
 *
 * '#' starts a comment, blank lines are skipped, CRLF is accepted, fields
 * are trimmed. A line over 1000 bytes, a bad field, a duplicate ID or more
 * than `max` entries is an error "file:line: ..." (spec §6.9: fixed-size
 * lists overflowed in 5.0.1). Nothing here talks to the network unless the
 * caller's resolver does.
 */
#ifndef UFTP_CONF_HOSTLIST_H
#define UFTP_CONF_HOSTLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/conf/conf.h"

#define CONF_FP_MAX      64   /* bytes in a fingerprint (the reference's HMAC_LEN) */
#define CONF_HL_LINE_MAX 1000 /* the reference's line buffer */
#define CONF_HL_FILE_MAX (64 << 20)

/* spec §4 limits, for the programs' tables. */
#define CONF_HL_MAX_DEST    100000 /* uftp -H / -j */
#define CONF_HL_MAX_SERVERS 100    /* uftpd -S, -R; uftpproxyd -S, -C */

enum conf_hl_kind {
    CONF_HL_IDS,
    CONF_HL_SERVERS,
    CONF_HL_PROXIES,
    CONF_HL_PROXY_SERVERS,
    CONF_HL_CLIENTS,
};

/*
 * Resolves host to an address of family (AF_INET, or AF_UNSPEC for either).
 * Returns 0, or < 0 if it cannot. Tests pass a fake one and stay offline.
 */
typedef int (*conf_resolve_fn)(const char *host, int family, struct sockaddr_storage *out,
                               socklen_t *outlen);

/* getaddrinfo(); the programs' default. */
int conf_resolve_system(const char *host, int family, struct sockaddr_storage *out,
                        socklen_t *outlen);

struct conf_hl_spec {
    enum conf_hl_kind kind;
    size_t max;              /* most entries accepted */
    conf_resolve_fn resolve; /* NULL: numeric addresses only */
};

struct conf_host {
    uint32_t id;                  /* host order */
    uint32_t proxy_id;            /* CONF_HL_SERVERS: the proxy it comes through, 0 = direct */
    char *name;                   /* the ID / name field as written, for logs */
    struct sockaddr_storage addr; /* the IP field, or the resolved -H name */
    socklen_t addrlen;            /* 0 when there is no address */
    uint8_t fp[CONF_FP_MAX];
    size_t fp_len; /* 0: no fingerprint given */
    unsigned line; /* where it was read (0 for -H a,b,c) */
};

struct conf_hostlist {
    struct conf_host *v;
    size_t n;
    char *source; /* the option text it came from ("@hosts", "1,2"), for --check */
};

/*
 * Parses list-file text buf[0..len) (label names it in messages). On
 * success fills *out (free with conf_hostlist_free) and returns 0. On error
 * returns CONF_EVALUE, CONF_ECOUNT or CONF_ENOMEM with "label:line: ..."
 * in msg, and *out is empty.
 */
int conf_hostlist_parse(struct conf_hostlist *out, const struct conf_hl_spec *spec,
                        const char *label, const char *buf, size_t len, char *msg, size_t msglen);
/* The same from a file (at most CONF_HL_FILE_MAX bytes); CONF_EIO if unreadable. */
int conf_hostlist_read(struct conf_hostlist *out, const struct conf_hl_spec *spec, const char *path,
                       char *msg, size_t msglen);
/* uftp -H id[,id...]: CONF_HL_IDS entries without fingerprints. */
int conf_hostlist_parse_ids(struct conf_hostlist *out, const struct conf_hl_spec *spec,
                            const char *text, char *msg, size_t msglen);
void conf_hostlist_free(struct conf_hostlist *l);

/* Hex ID: "0x1234abcd" or "1234abcd"; 0 and 0xFFFFFFFF refused unless allow_zero (0 only). */
int conf_parse_id(const char *s, bool allow_zero, uint32_t *id);

/* Option-table handlers for a uint32_t ID field (-U, spec §0 "IDs"): parse
 * refuses 0 and 0xFFFFFFFF with a message; print leaves 0 unset (returns 1). */
int conf_id_parse(const struct conf_option *o, const char *text, void *dst, char *msg, size_t ml);
int conf_id_print(const struct conf_option *o, const void *src, char *buf, size_t len);
/* "66:1E:C9:...": 1 to CONF_FP_MAX bytes of 1 or 2 hex digits each. */
int conf_parse_fingerprint(const char *s, uint8_t fp[static CONF_FP_MAX], size_t *len);

/*
 * Option-table callbacks for a CONF_CUSTOM row over a struct conf_hostlist
 * field, with .arg pointing at a struct conf_hl_spec. For CONF_HL_IDS the
 * text is "@file" or "id,id,..."; for the other kinds it is a file path.
 */
int conf_hostlist_opt_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                            size_t msglen);
int conf_hostlist_opt_print(const struct conf_option *o, const void *src, char *buf, size_t len);
void conf_hostlist_opt_free(const struct conf_option *o, void *dst);
/* Those callbacks in a CONF_ROW of type CONF_CUSTOM, over the conf_hl_spec `spec`. */
#define CONF_HOSTLIST(spec)                                                                        \
    .parse = conf_hostlist_opt_parse, .print = conf_hostlist_opt_print,                            \
    .free = conf_hostlist_opt_free, .arg = &(spec)

#endif
