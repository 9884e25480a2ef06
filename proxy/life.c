/*
 * uftpproxyd's trust lists (-S, -C) and SIGHUP (spec §2.3): the log is
 * reopened and the lists and the log level re-read, as uftpd does; any
 * other setting that changed is named in a warning, as it waits for a
 * restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/net/addr.h"
#include "proxy/uftpproxyd.h"

int uftpproxyd_lists(struct uftpproxyd *d, const struct uftpproxyd_settings *s)
{
    struct proxy_server *sv = NULL;
    struct proxy_client *cl = NULL;
    if (s->servers.n > 0 && (sv = calloc(s->servers.n, sizeof(*sv))) == NULL)
        return -ENOMEM;
    if (s->clients.n > 0 && (cl = calloc(s->clients.n, sizeof(*cl))) == NULL) {
        free(sv);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->servers.n; i++) {
        const struct conf_host *h = &s->servers.v[i];
        sv[i].id = h->id;
        if (h->addrlen > 0)
            (void)net_addr_from_sockaddr(&sv[i].addr, (const struct sockaddr *)&h->addr,
                                         h->addrlen);
        size_t n = h->fp_len < PROXY_FP_MAX ? h->fp_len : PROXY_FP_MAX;
        memcpy(sv[i].fp, h->fp, n);
        sv[i].fplen = (uint8_t)n;
    }
    for (size_t i = 0; i < s->clients.n; i++) {
        const struct conf_host *h = &s->clients.v[i];
        cl[i].id = h->id;
        size_t n = h->fp_len < PROXY_FP_MAX ? h->fp_len : PROXY_FP_MAX;
        memcpy(cl[i].fp, h->fp, n);
        cl[i].fplen = (uint8_t)n;
    }
    /* The engine borrows the arrays: it gets the new ones before the old go. */
    struct proxy_server *osv = d->servers;
    struct proxy_client *ocl = d->clients;
    d->servers = sv;
    d->clients = cl;
    d->cfg.servers = sv;
    d->cfg.nserver = s->servers.n;
    d->cfg.clients = cl;
    d->cfg.nclient = s->clients.n;
    if (d->eng != NULL)
        proxy_set_lists(d->eng, sv, s->servers.n, cl, s->clients.n);
    free(osv);
    free(ocl);
    return 0;
}

/* What a reload applies at once; every other change waits for a restart. */
static const char *const live_settings[] = {"servers", "clients", "log-level", NULL};

/* The live settings of ns into d->set (and d->set's old ones into ns, to be freed). */
static void take_live(struct uftpproxyd *d, struct uftpproxyd_settings *ns)
{
    daemon_swap(&d->set.servers, &ns->servers, sizeof(ns->servers));
    daemon_swap(&d->set.clients, &ns->clients, sizeof(ns->clients));
    daemon_swap(&d->set.log_level, &ns->log_level, sizeof(ns->log_level));
}

void uftpproxyd_reload(struct uftpproxyd *d)
{
    daemon_reload_begin();
    struct uftpproxyd_settings s;
    struct conf_err e;
    struct conf_cmd cmd;
    memset(&s, 0, sizeof(s));
    /* The same sources as at start: the config file, then the command line. */
    if (conf_load(&uftpproxyd_conf_spec, &s, d->argc, d->argv, &cmd, &e) < 0) {
        log_warnx("reload: %s (keeping the current settings)", e.msg);
    } else if (uftpproxyd_lists(d, &s) == 0) {
        daemon_reload_diff(&uftpproxyd_conf_spec, &d->set, &s, live_settings);
        log_set_level(s.log_level);
        /* What is now in effect, so the next reload compares against it. */
        take_live(d, &s);
        log_info("reloaded: %zu server%s and %zu client%s in the trust lists", d->cfg.nserver,
                 d->cfg.nserver == 1 ? "" : "s", d->cfg.nclient, d->cfg.nclient == 1 ? "" : "s");
    } else {
        log_warnx("reload: out of memory (keeping the current settings)");
    }
    conf_free(&uftpproxyd_conf_spec, &s);
    sdnotify_ready("running");
    d->status_line[0] = '\0'; /* the live summary (ops.c) follows at the next tick */
}
