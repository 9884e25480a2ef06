/*
 * uftpd: the receiver daemon (spec §2.2). Reads the options, opens the
 * destination dirs and the socket, daemonises unless -d, and runs the
 * engine's event loop (shell.c) until SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/daemon/daemon.h"
#include "core/daemon/pidfile.h"
#include "core/daemon/sdnotify.h"
#include "core/log.h"
#include "core/net/iface.h"
#include "core/net/resolve.h"
#include "receiver/shell.h"

/* Exit codes (spec §2.2: as for uftp). */
enum { XIT_OK = 0, XIT_PARAM = 1, XIT_SOCKET = 2, XIT_CRYPTO = 3, XIT_LOG = 4, XIT_ALLOC = 5 };

/* ---- addresses, interfaces, socket ---- */

/*
 * -r host[/fp]: the v4 response proxy (spec §1.9 item 4), reached at our
 * own port -p as the reference does; the fingerprint is optional.
 */
static int resp_proxy_parse(struct uftpd *d, const char *text, uint16_t port)
{
    char host[256];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof(host)) {
        log_errx("option -r: '%s' must be host[/fingerprint]", text);
        return XIT_PARAM;
    }
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (net_resolve_host(&d->cfg.resp_proxy, host, port, AF_UNSPEC) < 0) {
        log_errx("option -r: cannot resolve '%s'", host);
        return XIT_PARAM;
    }
    addr_set_port(&d->cfg.resp_proxy, port);
    if (slash != NULL) {
        uint8_t fp[FP_PARSE_MAX];
        size_t fl = 0;
        if (fp_parse(slash + 1, fp, &fl) < 0 || fl == 0 || fl > sizeof(d->cfg.resp_proxy_fp)) {
            log_errx("option -r: '%s' is not a key fingerprint (XX:XX:...)", slash + 1);
            return XIT_PARAM;
        }
        memcpy(d->cfg.resp_proxy_fp, fp, fl);
        d->cfg.resp_proxy_fplen = (uint8_t)fl;
    }
    return 0;
}

static int setup_network(struct uftpd *d)
{
    struct uftpd_settings *s = &d->set;
    uint16_t port = (uint16_t)s->port;
    int rc;

    d->pubs = calloc(s->pub.n ? s->pub.n : 1, sizeof(*d->pubs));
    if (d->pubs == NULL)
        return XIT_ALLOC;
    for (size_t i = 0; i < s->pub.n; i++) {
        rc = net_resolve_host(&d->pubs[i], s->pub.v[i], port, AF_UNSPEC);
        if (rc < 0 || !addr_is_multicast(&d->pubs[i])) {
            log_errx("option -M: '%s' is not a multicast address", s->pub.v[i]);
            return XIT_PARAM;
        }
        addr_set_port(&d->pubs[i], port);
    }

    struct net_iflist ifl;
    rc = net_iflist_load(&ifl);
    if (rc < 0) {
        log_errx("cannot list the network interfaces: %s", strerror(-rc));
        return XIT_SOCKET;
    }
    uint32_t id = s->id;
    if (s->ifaces.n > 0) {
        for (size_t i = 0; i < s->ifaces.n; i++) {
            const struct net_iface *ifc;
            rc = net_iface_resolve(&ifl, s->ifaces.v[i], AF_UNSPEC, &ifc);
            if (rc < 0) {
                log_errx("option -I: no interface '%s': %s", s->ifaces.v[i], strerror(-rc));
                net_iflist_free(&ifl);
                return XIT_PARAM;
            }
            bool dup = false;
            for (size_t j = 0; j < d->nif; j++)
                dup |= d->ifidx[j] == ifc->index;
            if (!dup && d->nif < sizeof(d->ifidx) / sizeof(d->ifidx[0]))
                d->ifidx[d->nif++] = ifc->index;
            /* spec §2.2 -I: the first interface gives the default ID. */
            if (id == 0 && i == 0)
                id = net_iflist_id_of(&ifl, ifc->index);
        }
    } else {
        d->nif =
            net_iflist_default_ifindexes(&ifl, d->ifidx, sizeof(d->ifidx) / sizeof(d->ifidx[0]));
        if (d->nif > sizeof(d->ifidx) / sizeof(d->ifidx[0]))
            d->nif = sizeof(d->ifidx) / sizeof(d->ifidx[0]);
    }
    if (id == 0)
        id = net_iflist_default_id(&ifl);
    net_iflist_free(&ifl);
    if (s->resp_proxy != NULL && (rc = resp_proxy_parse(d, s->resp_proxy, port)) != 0)
        return rc;
    if (d->nif == 0) {
        log_warnx("no multicast-capable interface found; joining by route");
        d->ifidx[0] = 0;
        d->nif = 1;
    }
    if (id == 0) {
        log_errx("no interface address to take the client ID from; give one with -U");
        return XIT_PARAM;
    }
    d->cfg.client_id = id;

    /* Dual-stack, so that IPv4 and IPv6 sessions (and unicast mode) share port -p. */
    struct net_sock_opts so;
    net_sock_opts_init(&so, AF_INET6);
    so.port = port;
    so.reuse = true; /* several daemons on one host (sock.h) */
    so.rcvbuf = (int)s->bufsize;
    so.tos = net_tos((int)s->dscp, false);
    so.gro = s->gro;
    rc = net_sock_open(&d->sock, &so);
    if (rc == -EAFNOSUPPORT) {
        net_sock_opts_init(&so, AF_INET);
        so.port = port;
        so.reuse = true;
        so.rcvbuf = (int)s->bufsize;
        so.tos = net_tos((int)s->dscp, false);
        so.gro = s->gro;
        rc = net_sock_open(&d->sock, &so);
    }
    if (rc < 0) {
        log_errx("cannot open UDP port %u: %s", port, strerror(-rc));
        return XIT_SOCKET;
    }
    /* GRO needs big buffers; without it datagrams are at most 9000 bytes. */
    rc = net_rx_init(&d->rx, UFTPD_RX_BUFS, d->sock.gro ? NET_RX_GRO_BUFSZ : UFTP_MAX_DATAGRAM);
    if (rc < 0)
        return XIT_ALLOC;
    net_tx_init(&d->tx, &d->sock);
    net_mcast_init(&d->mc, &d->sock);
    return 0;
}

/* The signing key for client authentication (spec §2.2 -k, -K). */
static int setup_key(struct uftpd *d)
{
    struct uftpd_settings *s = &d->set;
    int rc;
    const char *what = "loaded";
    if (s->keygen != NULL) {
        int type, param;
        rc = keyfile_parse_spec(s->keygen, &type, &param);
        if (rc < 0) {
            log_errx("option -K: '%s' must be rsa:BITS (2048..3072) or ec:CURVE", s->keygen);
            return XIT_PARAM;
        }
        rc = type == KEYBLOB_RSA ? keyfile_gen_rsa(param, &d->key) : keyfile_gen_ec(param, &d->key);
        if (rc == 0 && s->keyfile != NULL)
            rc = keyfile_write(s->keyfile, d->key);
        what = "generated";
    } else if (s->keyfile != NULL) {
        rc = keyfile_read(s->keyfile, &d->key);
    } else {
        return 0;
    }
    if (rc < 0) {
        log_errx("signing key%s%s: %s", s->keyfile ? " " : "", s->keyfile ? s->keyfile : "",
                 rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc));
        return XIT_CRYPTO;
    }
    size_t bl;
    const uint8_t *b = crypto_key_blob(d->key, &bl);
    uint8_t fp[FP_LEN];
    char txt[FP_STR_LEN];
    if (fp_compute(b, bl, fp) == CRYPTO_OK && fp_format(fp, FP_LEN, txt, sizeof(txt)) > 0)
        log_info("%s %s key with fingerprint %s", what,
                 crypto_key_type(d->key) == KEYBLOB_RSA ? "RSA" : "EC", txt);
    return 0;
}

static int setup_engine(struct uftpd *d)
{
    struct uftpd_settings *s = &d->set;
    struct receiver_config *c = &d->cfg;
    c->pub_addrs = d->pubs;
    c->npub = s->pub.n;
    c->ssm = s->ssm;
    c->encrypted_only = s->encrypted_only;
    c->sigkey = d->key;
    c->dests = (const char *const *)s->dests.v;
    c->ndest = s->dests.n;
    c->temp_dir = s->tempdir != NULL;
    c->link_policy = (unsigned)s->symlinks;
    c->unconfirmed_us = (uint64_t)s->unconfirmed_timeout * 1000000u;
    c->announce_window_us = (uint64_t)s->announce_window * 1000000u;
    if (uftpd_trust_build(s, &d->servers, &d->proxies) < 0)
        return XIT_ALLOC;
    c->servers = d->servers;
    c->nserver = s->servers.n;
    c->proxies = d->proxies;
    c->nproxy = s->proxies.n;
    if (s->hb_hosts.n > 0) {
        /* spec §2.2 -H: heartbeats to proxies, port 1044 unless given. */
        d->hbs = calloc(s->hb_hosts.n, sizeof(*d->hbs));
        if (d->hbs == NULL)
            return XIT_ALLOC;
        for (size_t i = 0; i < s->hb_hosts.n; i++) {
            int rc = net_resolve_host(&d->hbs[i], s->hb_hosts.v[i], UFTP_PORT, AF_UNSPEC);
            if (rc < 0) {
                log_errx("option -H: cannot resolve '%s': %s", s->hb_hosts.v[i], strerror(-rc));
                return XIT_PARAM;
            }
        }
        c->hb_hosts = d->hbs;
        c->nhb = s->hb_hosts.n;
        c->hb_interval_us = (uint64_t)s->hb_interval * 1000000u;
    }
    c->wall_offset_us = daemon_wall_offset_us();

    struct receiver_env env = {
        .ctx = &d->store,
        .rng = daemon_rng,
        .storage = store_callbacks,
        .event = uftpd_event,
        .log = *log_elog(),
    };
    int rc = receiver_new(&d->eng, c, &env);
    if (rc < 0) {
        log_errx("cannot start the receiver: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? XIT_ALLOC : XIT_PARAM;
    }
    return 0;
}

/* ---- start-up, in the order of core/daemon/daemon.h ---- */

/* After daemon_detach(): the waiting parent exits with code, and so do we. */
static int started_failed(bool detached, int code)
{
    if (detached)
        daemon_detach_done(code);
    return code;
}

/* A reference option that means nothing here (CONF_IGNORED): one warning, then on. */
static void warn_ignored(void *arg, const char *msg)
{
    (void)arg;
    log_warnx("%s", msg);
}

int main(int argc, char **argv)
{
    static struct uftpd d;
    struct conf_err e;
    struct conf_cmd cmd;
    char msg[512];
    int rc;

    /* spec §6.13: never world-writable files, whatever the caller's umask. */
    umask(DAEMON_UMASK);
    signal(SIGPIPE, SIG_IGN);
    log_init("uftpd", LL_INFO);
    sdnotify_init(); /* and out of the environment the post-receive command inherits */
    d.sock.fd = -1;
    d.startdir = -1;
    d.argc = argc;
    d.argv = argv;
    receiver_config_defaults(&d.cfg);
    if (conf_table_check(&uftpd_conf_spec, &e) < 0) {
        fprintf(stderr, "uftpd: internal error: %s\n", e.msg);
        return XIT_PARAM;
    }
    rc = conf_load(&uftpd_conf_spec, &d.set, argc, argv, &cmd, &e);
    struct uftpd_settings *s = &d.set;
    if (rc == 0 && cmd.help) {
        conf_help(&uftpd_conf_spec, stdout);
        conf_free(&uftpd_conf_spec, s);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "uftpd: %s\nTry 'uftpd --help' for more information.\n", e.msg);
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }
    if (cmd.optind < argc) {
        fprintf(stderr, "uftpd: unexpected argument '%s'\n", argv[cmd.optind]);
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }
    if (uftpd_settings_explain(s, argc, argv, &cmd, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "uftpd: %s\n", msg);
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }
    (void)conf_ignored(&uftpd_conf_spec, s, warn_ignored, NULL);
    if (cmd.check) {
        rc = conf_print(&uftpd_conf_spec, s, stdout) < 0 ? XIT_PARAM : 0;
        conf_free(&uftpd_conf_spec, s);
        return rc;
    }
    if (uftpd_settings_absolute(s) < 0) {
        fprintf(stderr, "uftpd: out of memory\n");
        conf_free(&uftpd_conf_spec, s);
        return XIT_ALLOC;
    }
    log_set_level(s->log_level);
    struct daemon_log_cfg lc = {.foreground = s->foreground,
                                .logfile = s->logfile,
                                .roll_mb = s->log_roll_mb,
                                .keep = (int)s->log_keep};
    /* In the foreground the log goes where it will stay (stderr, the journal) from now on. */
    if (s->foreground)
        (void)daemon_log_setup(&lc);
    /* Where relative paths in a re-read config (SIGHUP) are resolved after detaching. */
    d.startdir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

    rc = 0;
    if (s->pidfile != NULL) {
        pid_t other = 0;
        int r = pidfile_open(s->pidfile, &d.pidfile, &other);
        if (r == -EEXIST) {
            log_errx("pid file %s: uftpd is already running as pid %ld", s->pidfile, (long)other);
            rc = XIT_PARAM;
        } else if (r < 0) {
            log_errx("pid file %s: %s", s->pidfile, strerror(-r));
            rc = XIT_PARAM;
        }
    }
    if (rc == 0 && (rc = uftpd_life_open(&d)) < 0) {
        log_errx("cannot open status file %s: %s", s->status_file, strerror(-rc));
        rc = XIT_LOG;
    }
    if (rc == 0) {
        rc = store_init(&d.store, (const char *const *)s->dests.v, s->dests.n, s->tempdir,
                        s->tempfiles, (size_t)s->cache, UFTPD_DEF_DEST);
        if (rc == 0)
            d.store.prealloc = (uint64_t)s->preallocate;
        if (rc == 0 && s->backups.n > 0)
            rc = store_set_backups(&d.store, (const char *const *)s->backups.v, s->backups.n);
        if (rc < 0)
            rc = XIT_PARAM;
    }
    if (rc == 0)
        rc = setup_key(&d);
    if (rc == 0)
        rc = setup_network(&d);
    if (rc == 0)
        rc = setup_engine(&d);

    bool detached = false;
    if (rc == 0 && !s->foreground) {
        int r = daemon_detach();
        if (r < 0) {
            log_errx("cannot detach: %s", strerror(-r));
            rc = XIT_ALLOC; /* as 5.0.1 when fork fails, and uftpproxyd */
        }
        detached = r == 0;
    }
    if (rc == 0 && !s->foreground) {
        int dest = daemon_log_setup(&lc);
        if (dest < 0) {
            log_errx("cannot open log file %s: %s", s->logfile, log_file_strerror(dest));
            rc = started_failed(detached, XIT_LOG);
        }
    }
    if (rc == 0 && d.pidfile != NULL && (rc = pidfile_write(d.pidfile)) < 0) {
        log_errx("cannot write pid file %s: %s", s->pidfile, strerror(-rc));
        rc = started_failed(detached, XIT_PARAM);
    }
    if (rc == 0) {
        int r = daemon_set_nice((int)s->nice);
        if (r < 0)
            log_warnx("cannot set nice value %lld: %s", s->nice, strerror(-r));
        daemon_privs_log();
        char ids[16];
        snprintf(ids, sizeof(ids), "0x%08X", d.cfg.client_id);
        log_info("listening on port %u, ID %s, %zu interface%s, dest %s", d.sock.port, ids, d.nif,
                 d.nif == 1 ? "" : "s", s->dests.v[0]);
        /* uftpd_run() calls daemon_detach_done(0) and READY=1 once its loop is set up. */
        rc = uftpd_run(&d);
        if (detached)
            daemon_detach_done(rc);
        struct receiver_stats rs;
        receiver_stats(d.eng, &rs);
        log_verbose("receive path: %" PRIu64 " datagrams in %" PRIu64 " calls (%" PRIu64
                    " coalesced buffers); %" PRIu64 " new blocks, %" PRIu64 " duplicates, %" PRIu64
                    " dropped; %" PRIu64 " block writes in %" PRIu64 " flushes",
                    d.rx.st.dgrams, d.rx.st.syscalls, d.rx.st.gro_bufs, rs.data_packets,
                    rs.dup_packets, rs.dropped, d.store.writes, d.store.flushes);
        if (rs.auth_failed + rs.replayed + rs.cleartext + rs.nokeys + rs.pk_limited > 0)
            log_info("dropped: %" PRIu64 " unauthenticated, %" PRIu64 " replayed, %" PRIu64
                     " cleartext, %" PRIu64 " without keys, %" PRIu64 " over the public-key budget",
                     rs.auth_failed, rs.replayed, rs.cleartext, rs.nokeys, rs.pk_limited);
        if (rs.amp_held + rs.evicted + rs.slots_full + rs.stale > 0)
            log_info("hostile input: %" PRIu64
                     " replies held back (beyond 3 x what came in), %" PRIu64
                     " unconfirmed sessions evicted, %" PRIu64 " ANNOUNCEs refused for want of a "
                     "slot, %" PRIu64 " replayed ANNOUNCEs",
                     rs.amp_held, rs.evicted, rs.slots_full, rs.stale);
        log_info("shut down");
    }

    receiver_free(d.eng);
    uftpd_life_free(&d);
    uftpd_free_loop(&d);
    net_mcast_free(&d.mc);
    net_rx_free(&d.rx);
    net_sock_close(&d.sock);
    store_free(&d.store);
    pidfile_remove(d.pidfile);
    if (d.startdir >= 0)
        close(d.startdir);
    free(d.pubs);
    free(d.servers);
    free(d.proxies);
    free(d.hbs);
    crypto_key_free(d.key);
    conf_free(&uftpd_conf_spec, s);
    log_close();
    return rc;
}
