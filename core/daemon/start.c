/*
 * The daemons' shared start-up (start.h), in the order daemon.h gives.
 */
#include "core/daemon/start.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/daemon/pidfile.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/net/resolve.h"
#include "core/wire/wire.h"

void daemon_warn_ignored(void *arg, const char *msg)
{
    (void)arg;
    log_warnx("%s", msg);
}

int daemon_options(const struct daemon_prog *p, int argc, char **argv, struct conf_cmd *cmd)
{
    /* spec §6.13: never world-writable files, whatever the caller's umask. */
    umask(DAEMON_UMASK);
    signal(SIGPIPE, SIG_IGN);
    log_init(p->name, LL_INFO);
    sdnotify_init(); /* and out of the environment the children inherit */
    struct conf_err e;
    if (conf_table_check(p->spec, &e) < 0) {
        fprintf(stderr, "%s: internal error: %s\n", p->name, e.msg);
        return DAEMON_EXIT_PARAM;
    }
    char msg[640];
    int rc = -1;
    if (conf_load(p->spec, p->settings, argc, argv, cmd, &e) < 0) {
        fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", p->name, e.msg, p->name);
        rc = DAEMON_EXIT_PARAM;
    } else if (cmd->help) {
        conf_help(p->spec, stdout);
        rc = 0;
    } else if (cmd->optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", p->name, argv[cmd->optind]);
        rc = DAEMON_EXIT_PARAM;
    } else if (p->explain != NULL &&
               p->explain(p->settings, argc, argv, cmd, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "%s: %s\n", p->name, msg);
        rc = DAEMON_EXIT_PARAM;
    } else {
        (void)conf_ignored(p->spec, p->settings, daemon_warn_ignored, NULL);
        if (cmd->check)
            rc = conf_print(p->spec, p->settings, stdout) < 0 ? DAEMON_EXIT_PARAM : 0;
    }
    if (rc >= 0)
        conf_free(p->spec, p->settings);
    return rc;
}

static struct daemon_log_cfg log_cfg(const struct daemon_start *d)
{
    return (struct daemon_log_cfg){
        .foreground = d->foreground, .logfile = d->logfile, .roll_mb = d->roll_mb, .keep = d->keep};
}

int daemon_start_begin(struct daemon_start *d)
{
    log_set_level(d->log_level);
    /* In the foreground the log goes where it will stay (stderr, the journal) from now on. */
    if (d->foreground) {
        struct daemon_log_cfg lc = log_cfg(d);
        (void)daemon_log_setup(&lc);
    }
    if (d->pidfile == NULL)
        return 0;
    pid_t other = 0;
    int r = pidfile_open(d->pidfile, &d->pf, &other);
    if (r == -EEXIST) {
        log_errx("pid file %s: %s is already running as pid %ld", d->pidfile, d->name, (long)other);
        return DAEMON_EXIT_PARAM;
    }
    if (r < 0) {
        log_errx("pid file %s: %s", d->pidfile, strerror(-r));
        return DAEMON_EXIT_PARAM;
    }
    return 0;
}

/* After daemon_detach(): the waiting parent exits with code, and so do we. */
static int failed(struct daemon_start *d, int code)
{
    if (d->detached)
        daemon_detach_done(code);
    return code;
}

int daemon_start_detach(struct daemon_start *d)
{
    if (!d->foreground) {
        int r = daemon_detach();
        if (r < 0) {
            log_errx("cannot detach: %s", strerror(-r));
            return DAEMON_EXIT_ALLOC; /* as 5.0.1 when fork fails */
        }
        d->detached = true;
        struct daemon_log_cfg lc = log_cfg(d);
        int dest = daemon_log_setup(&lc);
        if (dest < 0) {
            log_errx("cannot open log file %s: %s", d->logfile, log_file_strerror(dest));
            return failed(d, DAEMON_EXIT_LOG);
        }
    }
    int r;
    if (d->pf != NULL && (r = pidfile_write(d->pf)) < 0) {
        log_errx("cannot write pid file %s: %s", d->pidfile, strerror(-r));
        return failed(d, DAEMON_EXIT_PARAM);
    }
    r = daemon_set_nice((int)d->nice);
    if (r < 0)
        log_warnx("cannot set nice value %lld: %s", d->nice, strerror(-r));
    daemon_privs_log();
    return 0;
}

void daemon_start_ready(struct daemon_start *d, const char *status)
{
    (void)d;
    daemon_detach_done(0);
    sdnotify_ready(status);
}

void daemon_start_end(struct daemon_start *d, int rc)
{
    if (d->detached)
        daemon_detach_done(rc); /* a no-op once it was told */
    pidfile_remove(d->pf);
    d->pf = NULL;
}

/* ---- the network ---- */

/* A message into msg; -1. */
__attribute__((format(printf, 3, 4))) static int say(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

int daemon_publics(const struct conf_list *names, uint16_t port, bool ssm, const char *note,
                   struct addr *out, char *msg, size_t len)
{
    for (size_t i = 0; i < names->n; i++) {
        const char *n = names->v[i];
        struct addr a;
        int rc = net_resolve_host(&a, n, port, AF_UNSPEC);
        if (rc < 0)
            return say(msg, len, "'public' entry '%s': %s", n,
                       rc == -ENOENT ? "no such host" : strerror(-rc));
        if (!addr_is_multicast(&a))
            return say(msg, len, "'public' must be multicast addresses, not '%s'%s", n, note);
        if (ssm && !addr_is_ssm(&a))
            return say(msg, len,
                       "'public' must be source-specific multicast addresses with -o (ssm), not "
                       "'%s'",
                       n);
        addr_set_port(&a, port);
        if (out != NULL)
            out[i] = a;
    }
    return 0;
}

int daemon_hosts(const struct conf_list *names, uint16_t defport, struct addr **out)
{
    struct addr *a = *out = calloc(names->n ? names->n : 1, sizeof(*a));
    if (a == NULL)
        return DAEMON_EXIT_ALLOC;
    for (size_t i = 0; i < names->n; i++) {
        int rc = net_resolve_host(&a[i], names->v[i], defport, AF_UNSPEC);
        if (rc < 0) {
            log_errx("option -H: cannot resolve '%s': %s", names->v[i], strerror(-rc));
            return DAEMON_EXIT_PARAM;
        }
    }
    return 0;
}

int daemon_ifaces(const struct net_iflist *ifl, const struct conf_list *names, unsigned int *idx,
                  size_t cap, size_t *n, uint32_t *id)
{
    *n = 0;
    for (size_t i = 0; i < names->n; i++) {
        const struct net_iface *ifc;
        int rc = net_iface_resolve(ifl, names->v[i], AF_UNSPEC, &ifc);
        if (rc < 0) {
            log_errx("option -I: no interface '%s': %s", names->v[i], strerror(-rc));
            return DAEMON_EXIT_PARAM;
        }
        bool dup = false;
        for (size_t j = 0; j < *n; j++)
            dup |= idx[j] == ifc->index;
        if (!dup && *n < cap)
            idx[(*n)++] = ifc->index;
        /* spec §2.2 -I: the first interface gives the default ID. */
        if (*id == 0 && i == 0)
            *id = net_iflist_id_of(ifl, ifc->index);
    }
    if (names->n == 0) {
        *n = net_iflist_default_ifindexes(ifl, idx, cap);
        if (*n > cap)
            *n = cap;
    }
    if (*id == 0)
        *id = net_iflist_default_id(ifl);
    if (*n == 0) {
        log_warnx("no multicast-capable interface found; joining by route");
        idx[(*n)++] = 0;
    }
    return 0;
}

int daemon_socket(struct net_sock *s, struct net_sock_opts *o)
{
    /* Dual-stack, so that IPv4 and IPv6 sessions (and unicast mode) share the port. */
    o->family = AF_INET6;
    int rc = net_sock_open(s, o);
    if (rc == -EAFNOSUPPORT) {
        o->family = AF_INET;
        rc = net_sock_open(s, o);
    }
    if (rc < 0) {
        log_errx("cannot open UDP port %u: %s", o->port, strerror(-rc));
        return DAEMON_EXIT_SOCKET;
    }
    return 0;
}

int daemon_key(const char *keyfile, const char *keygen, struct crypto_key **out, const char **step)
{
    int rc = 0, type, param;
    *out = NULL;
    if (keygen != NULL) {
        *step = "generate";
        rc = keyfile_parse_spec(keygen, &type, &param);
        if (rc == 0)
            rc = type == KEYBLOB_RSA ? keyfile_gen_rsa(param, out) : keyfile_gen_ec(param, out);
        if (rc == 0 && keyfile != NULL) {
            *step = "write";
            rc = keyfile_write(keyfile, *out);
        }
    } else if (keyfile != NULL) {
        *step = "read";
        rc = keyfile_read(keyfile, out);
    }
    return rc;
}

void daemon_log_key(const char *what, const struct crypto_key *k)
{
    size_t bl;
    const uint8_t *b = crypto_key_blob(k, &bl);
    uint8_t fp[FP_LEN];
    char txt[FP_STR_LEN];
    if (fp_compute(b, bl, fp) != CRYPTO_OK || fp_format(fp, FP_LEN, txt, sizeof(txt)) <= 0)
        return;
    if (crypto_key_type(k) == KEYBLOB_RSA)
        log_info("%s RSA-%d key with fingerprint %s", what, crypto_key_bits(k), txt);
    else
        log_info("%s EC %s key with fingerprint %s", what, keyblob_curve_name(crypto_key_curve(k)),
                 txt);
}

void daemon_reload_begin(void)
{
    sdnotify_reloading();
    /* First what logrotate sent SIGHUP for, whatever the config says. */
    int rc = log_reopen();
    if (rc < 0)
        log_warnx("cannot reopen the log file: %s", strerror(-rc));
}

void daemon_swap(void *a, void *b, size_t n)
{
    unsigned char t[64];
    while (n > 0) {
        size_t k = n < sizeof(t) ? n : sizeof(t);
        memcpy(t, a, k);
        memcpy(a, b, k);
        memcpy(b, t, k);
        a = (unsigned char *)a + k;
        b = (unsigned char *)b + k;
        n -= k;
    }
}

static void changed(const struct conf_option *o, void *arg)
{
    for (const char *const *l = arg; *l != NULL; l++)
        if (strcmp(*l, o->name) == 0)
            return;
    log_warnx("reload: '%s' changed; it takes effect at the next restart", o->name);
}

void daemon_reload_diff(const struct conf_spec *spec, const void *was, const void *now,
                        const char *const *live)
{
    (void)conf_diff(spec, was, now, changed, (void *)live);
}

int daemon_keygen_check(const struct conf_option *o, const void *val, char *msg, size_t ml)
{
    const char *one;
    const char *const *v = &one;
    size_t n;
    if (o->type == CONF_LIST) {
        v = (const char *const *)((const struct conf_list *)val)->v;
        n = ((const struct conf_list *)val)->n;
    } else {
        memcpy(&one, val, sizeof(one));
        n = one != NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int type, param;
        if (keyfile_parse_spec(v[i], &type, &param) != 0) {
            snprintf(msg, ml, "must be rsa:BITS (%d..%d) or ec:CURVE, not '%s'", KEYFILE_RSA_MIN,
                     KEYFILE_RSA_MAX, v[i]);
            return CONF_EVALUE;
        }
    }
    return 0;
}
