/*
 * uftpproxyd: the proxy daemon (spec §2.3). Reads the options, the keys and
 * the trust lists, opens the socket, starts the daemon the core/daemon way
 * (pid file before detaching, log destination, nice, privileges, systemd
 * notification) and runs the engine's event loop (shell.c) until SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/ecdh.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/daemon/daemon.h"
#include "core/daemon/pidfile.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/net/iface.h"
#include "core/net/resolve.h"
#include "proxy/shell.h"

static enum proxy_role role_of(const struct uftpproxyd_settings *s, const char **err)
{
    int n = (s->server != NULL) + s->client + s->response;
    if (n != 1) {
        *err = n == 0 ? "one of -s, -c, -r is required" : "only one of -s, -c, -r may be given";
        return 0;
    }
    return s->server ? PROXY_SERVER : s->client ? PROXY_CLIENT : PROXY_RESPONSE;
}

/*
 * Combinations no single option can check, named where the setting came
 * from ("FILE:LINE" or "option -c"), as uftpd does. Returns 0, or -1 with
 * the message in msg.
 */
/*
 * spec §2.3 -M: the public addresses a server or response proxy listens on
 * are multicast groups, source-specific ones with -o (5.0.1 refuses a
 * non-SSM address with -o at once, and a unicast one when it fails to join
 * it). A client proxy does not use them. Names are resolved, as at start-up.
 * Returns 0, or -1 with the predicate in m.
 */
static int public_check(const struct uftpproxyd_settings *s, char *m, size_t len)
{
    if (s->client)
        return 0;
    for (size_t i = 0; i < s->pub.n; i++) {
        struct addr a;
        int rc = net_resolve_host(&a, s->pub.v[i], (uint16_t)s->port, AF_UNSPEC);
        if (rc < 0) {
            snprintf(m, len, "'public' entry '%s': %s", s->pub.v[i],
                     rc == -ENOENT ? "no such host" : strerror(-rc));
            return -1;
        }
        if (!addr_is_multicast(&a)) {
            snprintf(m, len,
                     "'public' must be multicast addresses, not '%s' (a server or response proxy "
                     "listens on them)",
                     s->pub.v[i]);
            return -1;
        }
        if (s->ssm && !addr_is_ssm(&a)) {
            snprintf(m, len,
                     "'public' must be source-specific multicast addresses with -o (ssm), "
                     "not '%s'",
                     s->pub.v[i]);
            return -1;
        }
    }
    return 0;
}

static int settings_explain(const struct uftpproxyd_settings *s, int argc, char **argv,
                            const struct conf_cmd *cmd, char *msg, size_t len)
{
    const char *what = NULL, *m = NULL;
    char pm[400];
    if ((s->server != NULL) + s->client + s->response > 1) {
        /* The last of them in the table's order names the conflict. */
        what = s->response ? "response-proxy" : "client-proxy";
        m = "only one of -s, -c, -r may be given";
    } else if (s->ssm && !s->client && s->servers.n == 0) {
        what = "ssm";
        m = "-o (SSM) needs -S with the servers' addresses";
    } else if (public_check(s, pm, sizeof(pm)) < 0) {
        what = "public";
        m = pm;
    } else {
        return 0;
    }
    char where[320] = "";
    (void)conf_origin(&uftpproxyd_conf_spec, argc, argv, cmd, what, where, sizeof(where));
    snprintf(msg, len, "%s%s%s", where, where[0] ? ": " : "", m);
    return -1;
}

/* ---- trust lists ---- */

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
        int rc;
        if (ng > 0) {
            int type, param;
            rc = keyfile_parse_spec(s->keygen.v[i], &type, &param);
            if (rc == 0)
                rc = type == KEYBLOB_RSA ? keyfile_gen_rsa(param, &d->keys[i])
                                         : keyfile_gen_ec(param, &d->keys[i]);
            if (rc == 0 && nk > 0) {
                rc = keyfile_write(s->keyfiles.v[i], d->keys[i]);
                if (rc < 0) {
                    log_errx("cannot save the key to %s: %s", s->keyfiles.v[i],
                             rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc));
                    return PROXY_EXIT_CRYPTO;
                }
            }
        } else {
            rc = keyfile_read(s->keyfiles.v[i], &d->keys[i]);
        }
        if (rc < 0) {
            log_errx("key %s: %s", ng > 0 ? s->keygen.v[i] : s->keyfiles.v[i],
                     rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc));
            return PROXY_EXIT_CRYPTO;
        }
        d->nkeys++;
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

/* The keys in the log (once it goes where it should: after detaching). */
static void log_keys(const struct uftpproxyd *d)
{
    for (size_t i = 0; i < d->nkeys; i++) {
        size_t bl;
        const uint8_t *b = crypto_key_blob(d->keys[i], &bl);
        uint8_t fp[FP_LEN];
        char txt[FP_STR_LEN];
        if (fp_compute(b, bl, fp) == 0 && fp_format(fp, FP_LEN, txt, sizeof(txt)) > 0) {
            if (crypto_key_type(d->keys[i]) == KEYBLOB_RSA)
                log_info("loaded %d bit RSA key with fingerprint %s", crypto_key_bits(d->keys[i]),
                         txt);
            else
                log_info("loaded ECDSA key with curve %s and fingerprint %s",
                         keyblob_curve_name(crypto_key_curve(d->keys[i])), txt);
        }
    }
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
        d->hbs = calloc(s->hb_hosts.n, sizeof(*d->hbs));
        if (d->hbs == NULL)
            return PROXY_EXIT_ALLOC;
        for (size_t i = 0; i < s->hb_hosts.n; i++) {
            rc = net_resolve_host(&d->hbs[i], s->hb_hosts.v[i], UFTP_PORT, AF_UNSPEC);
            if (rc < 0) {
                log_errx("option -H: cannot resolve '%s': %s", s->hb_hosts.v[i], strerror(-rc));
                return PROXY_EXIT_PARAM;
            }
        }
        c->hb_hosts = d->hbs;
        c->nhb = s->hb_hosts.n;
        c->hb_interval_us = (uint64_t)s->hb_interval * 1000000u;
    }
    if (c->role != PROXY_CLIENT) {
        d->pubs = calloc(s->pub.n ? s->pub.n : 1, sizeof(*d->pubs));
        if (d->pubs == NULL)
            return PROXY_EXIT_ALLOC;
        for (size_t i = 0; i < s->pub.n; i++) {
            rc = net_resolve_host(&d->pubs[i], s->pub.v[i], port, AF_UNSPEC);
            if (rc < 0 || !addr_is_multicast(&d->pubs[i])) {
                log_errx("option -M: '%s' is not a multicast address", s->pub.v[i]);
                return PROXY_EXIT_PARAM;
            }
            if (s->ssm && !addr_is_ssm(&d->pubs[i])) {
                log_errx("option -M: '%s' is not a source-specific address (-o)", s->pub.v[i]);
                return PROXY_EXIT_PARAM;
            }
            addr_set_port(&d->pubs[i], port);
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
    for (size_t i = 0; i < s->ifaces.n; i++) {
        const struct net_iface *ifc;
        rc = net_iface_resolve(&ifl, s->ifaces.v[i], AF_UNSPEC, &ifc);
        if (rc < 0) {
            log_errx("option -I: no interface '%s': %s", s->ifaces.v[i], strerror(-rc));
            net_iflist_free(&ifl);
            return PROXY_EXIT_PARAM;
        }
        bool dup = false;
        for (size_t j = 0; j < d->nif; j++)
            dup |= d->ifidx[j] == ifc->index;
        if (!dup && d->nif < sizeof(d->ifidx) / sizeof(d->ifidx[0]))
            d->ifidx[d->nif++] = ifc->index;
        if (id == 0 && i == 0)
            id = net_iflist_id_of(&ifl, ifc->index);
    }
    if (s->ifaces.n == 0) {
        d->nif =
            net_iflist_default_ifindexes(&ifl, d->ifidx, sizeof(d->ifidx) / sizeof(d->ifidx[0]));
        if (d->nif > sizeof(d->ifidx) / sizeof(d->ifidx[0]))
            d->nif = sizeof(d->ifidx) / sizeof(d->ifidx[0]);
    }
    if (!addr_is_set(&out_addr)) {
        const struct net_iface *f = net_iflist_first(&ifl, AF_INET);
        if (f != NULL)
            out_addr = f->addr;
    }
    /* The reference's rule: the first -I interface, else the first non-loopback one (not -O). */
    if (id == 0)
        id = net_iflist_default_id(&ifl);
    net_iflist_free(&ifl);
    if (d->nif == 0) {
        d->ifidx[0] = 0;
        d->nif = 1;
    }
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
    for (int fam = AF_INET6;; fam = AF_INET) {
        net_sock_opts_init(&so, fam);
        so.port = port;
        so.reuse = true;
        so.rcvbuf = (int)s->bufsize;
        so.sndbuf = (int)s->bufsize;
        so.ttl = (int)s->ttl;
        so.tos = net_tos((int)s->dscp, false);
        so.mcast_if = out_idx;
        so.mcast_loop = false;
        so.gro = true;
        rc = net_sock_open(&d->sock, &so);
        if (rc != -EAFNOSUPPORT || fam == AF_INET)
            break;
    }
    if (rc < 0) {
        log_errx("cannot open UDP port %u: %s", port, strerror(-rc));
        return PROXY_EXIT_SOCKET;
    }
    rc =
        net_rx_init(&d->rx, UFTPPROXYD_RX_BUFS, d->sock.gro ? NET_RX_GRO_BUFSZ : UFTP_MAX_DATAGRAM);
    if (rc < 0)
        return PROXY_EXIT_ALLOC;
    net_tx_init(&d->tx, &d->sock);
    net_mcast_init(&d->mc, &d->sock);
    return 0;
}

static int setup_engine(struct uftpproxyd *d)
{
    struct proxy_config *c = &d->cfg;
    c->ssm = d->set.ssm;
    c->wall_offset_us = daemon_wall_offset_us();
    c->unconfirmed_us = (uint64_t)d->set.unconfirmed_timeout * 1000000u;
    c->announce_window_us = (uint64_t)d->set.announce_window * 1000000u;
    struct proxy_env env = {.ctx = d, .rng = daemon_rng, .log = *log_elog()};
    int rc = proxy_new(&d->eng, c, &env);
    if (rc < 0) {
        log_errx("cannot start the proxy: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? PROXY_EXIT_ALLOC : PROXY_EXIT_PARAM;
    }
    return 0;
}

/* A reference option that means nothing here (CONF_IGNORED): one warning, then on. */
static void warn_ignored(void *arg, const char *msg)
{
    (void)arg;
    log_warnx("%s", msg);
}

int main(int argc, char **argv)
{
    static struct uftpproxyd d;
    struct conf_err e;
    struct conf_cmd cmd;
    int rc;

    umask(DAEMON_UMASK);
    signal(SIGPIPE, SIG_IGN);
    log_init("uftpproxyd", LL_INFO);
    sdnotify_init();
    d.sock.fd = -1;
    d.argc = argc;
    d.argv = argv;
    proxy_config_defaults(&d.cfg);
    if (conf_table_check(&uftpproxyd_conf_spec, &e) < 0) {
        fprintf(stderr, "uftpproxyd: internal error: %s\n", e.msg);
        return PROXY_EXIT_PARAM;
    }
    if (conf_load(&uftpproxyd_conf_spec, &d.set, argc, argv, &cmd, &e) < 0) {
        fprintf(stderr, "uftpproxyd: %s\nTry 'uftpproxyd --help' for more information.\n", e.msg);
        conf_free(&uftpproxyd_conf_spec, &d.set);
        return PROXY_EXIT_PARAM;
    }
    struct uftpproxyd_settings *s = &d.set;
    const char *err = NULL;
    enum proxy_role role = role_of(s, &err);
    char why[640];
    bool bad = !cmd.help && settings_explain(s, argc, argv, &cmd, why, sizeof(why)) < 0;
    if (!cmd.help && !bad)
        (void)conf_ignored(&uftpproxyd_conf_spec, s, warn_ignored, NULL);
    if (cmd.help || cmd.check) {
        rc = 0;
        if (cmd.help) {
            conf_help(&uftpproxyd_conf_spec, stdout);
        } else if (bad) {
            fprintf(stderr, "uftpproxyd: %s\n", why);
            rc = PROXY_EXIT_PARAM;
        } else if (conf_print(&uftpproxyd_conf_spec, s, stdout) < 0) {
            rc = PROXY_EXIT_PARAM;
        }
        if (rc == 0 && cmd.check && role == 0)
            fprintf(stderr, "uftpproxyd: note: no role chosen yet (one of -s, -c, -r is needed "
                            "to run)\n");
        conf_free(&uftpproxyd_conf_spec, s);
        return rc;
    }
    if (cmd.optind < argc) {
        fprintf(stderr, "uftpproxyd: unexpected argument '%s'\n", argv[cmd.optind]);
        conf_free(&uftpproxyd_conf_spec, s);
        return PROXY_EXIT_PARAM;
    }
    if (bad || role == 0) {
        fprintf(stderr, "uftpproxyd: %s\nTry 'uftpproxyd --help' for more information.\n",
                bad ? why : err);
        conf_free(&uftpproxyd_conf_spec, s);
        return PROXY_EXIT_PARAM;
    }
    d.cfg.role = role;
    log_set_level(s->log_level);

    struct pidfile *pf = NULL;
    if (s->pidfile != NULL) {
        pid_t other = 0;
        rc = pidfile_open(s->pidfile, &pf, &other);
        if (rc == -EEXIST) {
            fprintf(stderr, "uftpproxyd: %s: already running as pid %ld\n", s->pidfile,
                    (long)other);
            conf_free(&uftpproxyd_conf_spec, s);
            return PROXY_EXIT_PARAM;
        }
        if (rc < 0) {
            fprintf(stderr, "uftpproxyd: pid file %s: %s\n", s->pidfile, strerror(-rc));
            conf_free(&uftpproxyd_conf_spec, s);
            return PROXY_EXIT_PARAM;
        }
    }
    rc = uftpproxyd_lists(&d, s) < 0 ? PROXY_EXIT_ALLOC : 0;
    if (rc == 0)
        rc = setup_keys(&d);
    if (rc == 0)
        rc = setup_network(&d);
    bool detached = false;
    if (rc == 0 && !s->foreground) {
        if (daemon_detach() < 0) {
            log_errx("cannot detach: %s", strerror(errno));
            rc = PROXY_EXIT_ALLOC;
        } else {
            detached = true;
        }
    }
    if (rc == 0) {
        struct daemon_log_cfg lc = {.foreground = s->foreground,
                                    .logfile = s->logfile,
                                    .roll_mb = s->log_roll_mb,
                                    .keep = (int)s->log_keep};
        int dest = daemon_log_setup(&lc);
        if (dest < 0) {
            log_errx("cannot open log file %s: %s", s->logfile, log_file_strerror(dest));
            rc = PROXY_EXIT_LOGGING;
        }
    }
    if (rc == 0)
        log_keys(&d);
    if (rc == 0 && pf != NULL && pidfile_write(pf) < 0)
        log_warn("cannot write the pid file %s", s->pidfile);
    if (rc == 0) {
        int r = daemon_set_nice((int)s->nice);
        if (r < 0)
            log_warnx("cannot set nice value %lld: %s", s->nice, strerror(-r));
        daemon_privs_log();
        rc = setup_engine(&d);
    }
    if (detached)
        daemon_detach_done(rc);
    if (rc == 0) {
        char ab[ADDR_STRLEN];
        log_info("%s %08X listening on port %u%s%s", proxy_role_name(role), d.cfg.proxy_id,
                 d.sock.port, role == PROXY_SERVER ? ", downstream " : "",
                 role != PROXY_SERVER       ? ""
                 : addr_is_set(&d.cfg.down) ? addr_str(&d.cfg.down, ab)
                                            : "learned from heartbeats");
        sdnotify_ready("running");
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

    proxy_free(d.eng);
    uftpproxyd_free_loop(&d);
    net_mcast_free(&d.mc);
    net_rx_free(&d.rx);
    net_sock_close(&d.sock);
    for (size_t i = 0; i < d.nkeys; i++)
        crypto_key_free(d.keys[i]);
    crypto_key_free(d.dh4);
    pidfile_remove(pf);
    free(d.pubs);
    free(d.hbs);
    free(d.servers);
    free(d.clients);
    conf_free(&uftpproxyd_conf_spec, s);
    log_close();
    return rc;
}
