/*
 * uftpproxyd: the proxy daemon (spec §2.3). Reads the options, the keys and
 * the trust lists, opens the socket, starts the daemon (core/daemon/start.h:
 * pid file before detaching, log destination, nice, privileges, systemd
 * notification) and runs the engine in the service runner (shell.c) until
 * SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/log.h"
#include "core/net/iface.h"
#include "core/net/resolve.h"
#include "core/wire/wire.h"
#include "proxy/uftpproxyd.h"

static enum proxy_role role_of(const struct uftpproxyd_settings *s, const char **err)
{
    int n = (s->server != NULL) + s->client + s->response;
    if (n != 1) {
        *err = n == 0 ? "one of -s, -c, -r is required" : "only one of -s, -c, -r may be given";
        return 0;
    }
    return s->server ? PROXY_SERVER : s->client ? PROXY_CLIENT : PROXY_RESPONSE;
}

/* spec §2.3 -M: a client proxy does not use them. */
static const char public_note[] = " (a server or response proxy listens on them)";

/*
 * Combinations no single option can check, named where the setting came
 * from ("FILE:LINE" or "option -c"), as uftpd does. Returns 0, or -1 with
 * the message in msg. --check without a role only notes it.
 */
static int settings_explain(const void *settings, int argc, char **argv, const struct conf_cmd *cmd,
                            char *msg, size_t len)
{
    const struct uftpproxyd_settings *s = settings;
    const char *what = NULL, *m = NULL;
    char pm[400];
    int rc;
    if ((s->server != NULL) + s->client + s->response > 1) {
        /* The last of them in the table's order names the conflict. */
        what = s->response ? "response-proxy" : "client-proxy";
        m = "only one of -s, -c, -r may be given";
    } else if (s->server != NULL && (s->up_proxy != 0 || s->downs.n > 0)) {
        what = s->up_proxy != 0 ? "upstream-proxy" : "downstream";
        m = "stacked proxies (spec §3.5) are response or client proxies, not server proxies";
    } else if (s->ssm && !s->client && s->servers.n == 0) {
        what = "ssm";
        m = "-o (SSM) needs -S with the servers' addresses";
    } else if (!s->client && daemon_publics(&s->pub, (uint16_t)s->port, s->ssm, public_note, NULL,
                                            pm, sizeof(pm)) < 0) {
        what = "public";
        m = pm;
    } else if (s->metrics_file != NULL && (rc = metrics_path_check(s->metrics_file)) < 0) {
        what = "metrics-file";
        snprintf(pm, sizeof(pm), "'metrics-file' needs an existing directory: '%s': %s",
                 s->metrics_file, rc == -EINVAL ? "not a file name" : strerror(-rc));
        m = pm;
    } else {
        if (cmd->check && (s->server != NULL) + s->client + s->response == 0)
            fprintf(stderr, "uftpproxyd: note: no role chosen yet (one of -s, -c, -r is needed "
                            "to run)\n");
        return 0;
    }
    char where[320] = "";
    (void)conf_origin(&uftpproxyd_conf_spec, argc, argv, cmd, what, where, sizeof(where));
    snprintf(msg, len, "%s%s%s", where, where[0] ? ": " : "", m);
    return -1;
}

/* ---- keys: -k files, -K generation, or one ephemeral EC P-256 key ---- */

static int setup_keys(struct uftpproxyd *d)
{
    const struct uftpproxyd_settings *s = &d->set;
    size_t nk = s->keyfiles.n, ng = s->keygen.n;
    if (nk > 0 && ng > 0 && nk != ng) {
        log_errx("-k and -K must list the same number of keys (%zu and %zu)", nk, ng);
        return PROXY_EXIT_PARAM;
    }
    size_t n = nk > ng ? nk : ng;
    for (size_t i = 0; i < n; i++) {
        const char *file = nk > 0 ? s->keyfiles.v[i] : NULL, *spec = ng > 0 ? s->keygen.v[i] : NULL;
        const char *step;
        int rc = daemon_key(file, spec, &d->keys[i], &step);
        const char *why = rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc);
        if (d->keys[i] != NULL)
            d->nkeys++;
        if (rc < 0 && strcmp(step, "write") == 0)
            log_errx("cannot save the key to %s: %s", file, why);
        else if (rc < 0)
            log_errx("key %s: %s", spec != NULL ? spec : file, why);
        if (rc < 0)
            return PROXY_EXIT_CRYPTO;
    }
    if (d->nkeys == 0) {
        if (keyfile_gen_ephemeral(&d->keys[0]) < 0) {
            log_errx("cannot generate a signing key");
            return PROXY_EXIT_CRYPTO;
        }
        d->nkeys = 1;
    }
    d->cfg.key = d->keys[0];
    d->cfg.keys = (const struct crypto_key *const *)d->keys;
    d->cfg.nkeys = d->nkeys;
    /* spec §1.9 item 5: a response proxy's long-lived ECDH key for v4 clients (-e). */
    if (d->cfg.role == PROXY_RESPONSE) {
        int curve = keyblob_curve_by_name(d->set.curve ? d->set.curve : "secp256r1");
        if (curve == 0 || ecdh_keygen(curve, &d->dh4) != CRYPTO_OK) {
            log_errx("cannot generate the v4 ECDH key (-e %s)", d->set.curve ? d->set.curve : "");
            return PROXY_EXIT_CRYPTO;
        }
        d->cfg.dh4 = d->dh4;
    }
    return 0;
}

/* ---- addresses, interfaces, socket ---- */

static int setup_network(struct uftpproxyd *d)
{
    struct uftpproxyd_settings *s = &d->set;
    struct proxy_config *c = &d->cfg;
    uint16_t port = (uint16_t)s->port;
    int rc;

    /* spec §2.3: a response proxy's clients listen on its own port (-p). */
    c->client_port = c->role == PROXY_RESPONSE ? port : (uint16_t)s->out_port;
    if (c->role == PROXY_SERVER) {
        if (strncmp(s->server, "fp=", 3) == 0) {
            uint8_t fp[FP_PARSE_MAX];
            size_t n;
            if (fp_parse(s->server + 3, fp, &n) != 0) {
                log_errx("option -s: bad fingerprint '%s'", s->server + 3);
                return PROXY_EXIT_PARAM;
            }
            n = n < PROXY_FP_MAX ? n : PROXY_FP_MAX;
            memcpy(c->down_fp, fp, n);
            c->down_fplen = (uint8_t)n;
        } else if ((rc = net_resolve_host(&c->down, s->server, (uint16_t)s->out_port, AF_UNSPEC)) <
                   0) {
            log_errx("option -s: cannot resolve '%s': %s", s->server, strerror(-rc));
            return PROXY_EXIT_PARAM;
        }
    }
    if (s->hb_hosts.n > 0) {
        if ((rc = daemon_hosts(&s->hb_hosts, UFTP_PORT, &d->hbs)) != 0)
            return rc;
        c->hb_hosts = d->hbs;
        c->nhb = s->hb_hosts.n;
        c->hb_interval_us = (uint64_t)s->hb_interval * 1000000u;
    }
    if (c->role != PROXY_CLIENT) {
        char msg[512];
        if ((d->pubs = calloc(s->pub.n ? s->pub.n : 1, sizeof(*d->pubs))) == NULL)
            return PROXY_EXIT_ALLOC;
        if (daemon_publics(&s->pub, port, s->ssm, public_note, d->pubs, msg, sizeof(msg)) < 0) {
            log_errx("%s", msg);
            return PROXY_EXIT_PARAM;
        }
        c->pub_addrs = d->pubs;
        c->npub = s->pub.n;
    }

    struct net_iflist ifl;
    rc = net_iflist_load(&ifl);
    if (rc < 0) {
        log_errx("cannot list the network interfaces: %s", strerror(-rc));
        return PROXY_EXIT_SOCKET;
    }
    uint32_t id = s->id;
    unsigned int out_idx = 0;
    struct addr out_addr;
    addr_clear(&out_addr);
    if (s->out_if != NULL) {
        const struct net_iface *ifc;
        rc = net_iface_resolve(&ifl, s->out_if, AF_UNSPEC, &ifc);
        if (rc < 0) {
            log_errx("option -O: no interface '%s': %s", s->out_if, strerror(-rc));
            net_iflist_free(&ifl);
            return PROXY_EXIT_PARAM;
        }
        out_idx = ifc->index;
        out_addr = ifc->addr;
    }
    if (!addr_is_set(&out_addr)) {
        const struct net_iface *f = net_iflist_first(&ifl, AF_INET);
        if (f != NULL)
            out_addr = f->addr;
    }
    /* The reference's rule: the first -I interface, else the first non-loopback one (not -O). */
    rc = daemon_ifaces(&ifl, &s->ifaces, d->ifidx, sizeof(d->ifidx) / sizeof(d->ifidx[0]), &d->nif,
                       &id);
    net_iflist_free(&ifl);
    if (rc != 0)
        return rc;
    if (id == 0) {
        log_errx("no interface address to take the proxy ID from; give one with -U");
        return PROXY_EXIT_PARAM;
    }
    c->proxy_id = id;
    /* Our own multicast, should the host loop it back (spec: "packet from self"). */
    if (addr_is_set(&out_addr)) {
        d->self[0] = out_addr;
        addr_set_port(&d->self[0], port);
        c->self = d->self;
        c->nself = 1;
    }

    struct net_sock_opts so;
    net_sock_opts_init(&so, AF_INET6);
    so.port = port;
    so.reuse = true;
    so.rcvbuf = (int)s->bufsize;
    so.sndbuf = (int)s->bufsize;
    so.ttl = (int)s->ttl;
    so.tos = net_tos((int)s->dscp, false);
    so.mcast_if = out_idx;
    so.mcast_loop = false;
    so.gro = true;
    return daemon_socket(&d->sock, &so);
}

static int setup_engine(struct uftpproxyd *d)
{
    struct proxy_config *c = &d->cfg;
    c->ssm = d->set.ssm;
    c->wall_offset_us = daemon_wall_offset_us();
    c->unconfirmed_us = (uint64_t)d->set.unconfirmed_timeout * 1000000u;
    c->liveness_us = (uint64_t)d->set.liveness * 1000000u;
    c->announce_window_us = (uint64_t)d->set.announce_window * 1000000u;
    struct proxy_env env = {.ctx = d, .rng = daemon_rng, .log = *log_elog()};
    int rc = proxy_new(&d->eng, c, &env);
    if (rc < 0) {
        log_errx("cannot start the proxy: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? PROXY_EXIT_ALLOC : PROXY_EXIT_PARAM;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct uftpproxyd d;
    struct uftpproxyd_settings *s = &d.set;
    struct conf_cmd cmd;
    d.sock.fd = -1;
    d.argc = argc;
    d.argv = argv;
    const struct daemon_prog prog = {"uftpproxyd", &uftpproxyd_conf_spec, s, settings_explain};
    int rc = daemon_options(&prog, argc, argv, &cmd);
    if (rc >= 0)
        return rc;
    const char *err = NULL;
    proxy_config_defaults(&d.cfg);
    d.cfg.role = role_of(s, &err);
    if (d.cfg.role == 0) {
        fprintf(stderr, "uftpproxyd: %s\nTry 'uftpproxyd --help' for more information.\n", err);
        conf_free(&uftpproxyd_conf_spec, s);
        return PROXY_EXIT_PARAM;
    }
    d.start = (struct daemon_start){.name = "uftpproxyd",
                                    .foreground = s->foreground,
                                    .pidfile = s->pidfile,
                                    .log_level = s->log_level,
                                    .logfile = s->logfile,
                                    .roll_mb = s->log_roll_mb,
                                    .keep = (int)s->log_keep,
                                    .nice = s->nice};
    rc = daemon_start_begin(&d.start);
    if (rc == 0)
        rc = uftpproxyd_lists(&d, s) < 0 ? PROXY_EXIT_ALLOC : 0;
    if (rc == 0 && s->downs.n > 0) {
        /* spec §3.5: read at start only (a reload does not change them). */
        if ((d.downs = calloc(s->downs.n, sizeof(*d.downs))) == NULL)
            rc = PROXY_EXIT_ALLOC;
        for (size_t i = 0; rc == 0 && i < s->downs.n; i++) {
            const struct conf_host *h = &s->downs.v[i];
            size_t n = h->fp_len < PROXY_FP_MAX ? h->fp_len : PROXY_FP_MAX;
            d.downs[i].id = h->id;
            memcpy(d.downs[i].fp, h->fp, n);
            d.downs[i].fplen = (uint8_t)n;
        }
        d.cfg.downs = d.downs;
        d.cfg.ndown = s->downs.n;
    }
    d.cfg.up_proxy = s->up_proxy;
    if (rc == 0)
        rc = setup_keys(&d);
    if (rc == 0)
        rc = setup_network(&d);
    if (rc == 0)
        rc = daemon_start_detach(&d.start);
    if (rc == 0) {
        /* The keys in the log once it goes where it should: after detaching. */
        for (size_t i = 0; i < d.nkeys; i++)
            daemon_log_key("loaded", d.keys[i]);
        rc = setup_engine(&d);
    }
    if (rc == 0) {
        char ab[ADDR_STRLEN];
        log_info("%s %08X listening on port %u%s%s", proxy_role_name(d.cfg.role), d.cfg.proxy_id,
                 d.sock.port, d.cfg.role == PROXY_SERVER ? ", downstream " : "",
                 d.cfg.role != PROXY_SERVER ? ""
                 : addr_is_set(&d.cfg.down) ? addr_str(&d.cfg.down, ab)
                                            : "learned from heartbeats");
        rc = uftpproxyd_run(&d);
        struct proxy_stats st;
        proxy_stats(d.eng, &st);
        log_verbose("proxy: %llu sessions, %llu datagrams forwarded, %llu answers merged into "
                    "%llu, %llu dropped, %llu queue drops, %llu refused at limits",
                    (unsigned long long)st.sessions_seen, (unsigned long long)st.forwarded,
                    (unsigned long long)st.aggregated_in, (unsigned long long)st.aggregated_out,
                    (unsigned long long)st.dropped, (unsigned long long)st.queue_drops,
                    (unsigned long long)st.refused);
        if (st.amp_held + st.evicted + st.expired + st.stale > 0)
            log_info("hostile input: %llu datagrams held back (beyond 3 x what came in), %llu "
                     "unconfirmed sessions evicted, %llu ended unconfirmed, %llu replayed "
                     "ANNOUNCEs",
                     (unsigned long long)st.amp_held, (unsigned long long)st.evicted,
                     (unsigned long long)st.expired, (unsigned long long)st.stale);
        log_info("shut down");
    }
    daemon_start_end(&d.start, rc);
    proxy_free(d.eng);
    net_sock_close(&d.sock);
    for (size_t i = 0; i < d.nkeys; i++)
        crypto_key_free(d.keys[i]);
    crypto_key_free(d.dh4);
    free(d.pubs);
    free(d.hbs);
    free(d.servers);
    free(d.clients);
    free(d.downs);
    conf_free(&uftpproxyd_conf_spec, s);
    log_close();
    return rc;
}
