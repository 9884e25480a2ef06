/*
 * uftpd: the receiver daemon (spec §2.2). Reads the options, opens the
 * destination dirs and the socket, daemonises unless -d (core/daemon/start.h),
 * and runs the engine in the service runner (shell.c) until SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/log.h"
#include "core/net/resolve.h"
#include "core/wire/wire.h"
#include "receiver/uftpd.h"

/* Exit codes (spec §2.2: as for uftp). */
enum { XIT_PARAM = 1, XIT_SOCKET = 2, XIT_CRYPTO = 3, XIT_LOG = 4, XIT_ALLOC = 5 };

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
    char msg[512];
    d->pubs = calloc(s->pub.n ? s->pub.n : 1, sizeof(*d->pubs));
    if (d->pubs == NULL)
        return XIT_ALLOC;
    if (daemon_publics(&s->pub, port, s->ssm, "", d->pubs, msg, sizeof(msg)) < 0) {
        log_errx("%s", msg);
        return XIT_PARAM;
    }
    struct net_iflist ifl;
    int rc;
    rc = net_iflist_load(&ifl);
    if (rc < 0) {
        log_errx("cannot list the network interfaces: %s", strerror(-rc));
        return XIT_SOCKET;
    }
    uint32_t id = s->id;
    rc = daemon_ifaces(&ifl, &s->ifaces, d->ifidx, sizeof(d->ifidx) / sizeof(d->ifidx[0]), &d->nif,
                       &id);
    net_iflist_free(&ifl);
    if (rc != 0)
        return rc;
    if (s->resp_proxy != NULL && (rc = resp_proxy_parse(d, s->resp_proxy, port)) != 0)
        return rc;
    if (id == 0) {
        log_errx("no interface address to take the client ID from; give one with -U");
        return XIT_PARAM;
    }
    d->cfg.client_id = id;

    struct net_sock_opts so;
    net_sock_opts_init(&so, AF_INET6);
    so.port = port;
    so.reuse = true; /* several daemons on one host (sock.h) */
    so.rcvbuf = (int)s->bufsize;
    so.tos = net_tos((int)s->dscp, false);
    so.gro = s->gro;
    return daemon_socket(&d->sock, &so);
}

/* The signing key for client authentication (spec §2.2 -k, -K). */
static int setup_key(struct uftpd *d)
{
    struct uftpd_settings *s = &d->set;
    const char *step;
    int rc = daemon_key(s->keyfile, s->keygen, &d->key, &step);
    if (rc < 0) {
        log_errx("signing key%s%s: %s", s->keyfile ? " " : "", s->keyfile ? s->keyfile : "",
                 rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc));
        return XIT_CRYPTO;
    }
    if (d->key != NULL)
        daemon_log_key(s->keygen != NULL ? "generated" : "loaded", d->key);
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
    c->liveness_us = (uint64_t)s->liveness * 1000000u;
    c->announce_window_us = (uint64_t)s->announce_window * 1000000u;
    if (uftpd_trust_build(s, &d->servers, &d->proxies) < 0)
        return XIT_ALLOC;
    c->servers = d->servers;
    c->nserver = s->servers.n;
    c->proxies = d->proxies;
    c->nproxy = s->proxies.n;
    if (s->hb_hosts.n > 0) {
        /* spec §2.2 -H: heartbeats to proxies, port 1044 unless given. */
        int rc = daemon_hosts(&s->hb_hosts, UFTP_PORT, &d->hbs);
        if (rc != 0)
            return rc;
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
    /* Parity decoding reads blocks back through /proc/self/fd (store.c):
     * without it, never offer to decode (issue 17). */
    if (access("/proc/self/fd", R_OK) != 0) {
        log_warnx("no /proc: parity repair off (lost blocks are sent again instead)");
        env.storage.read = NULL;
    }
    int rc = receiver_new(&d->eng, c, &env);
    if (rc < 0) {
        log_errx("cannot start the receiver: %s", eng_strerror(rc));
        return rc == ENG_ENOMEM ? XIT_ALLOC : XIT_PARAM;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct uftpd d;
    struct uftpd_settings *s = &d.set;
    struct conf_cmd cmd;
    d.sock.fd = -1;
    d.startdir = -1;
    d.argc = argc;
    d.argv = argv;
    receiver_config_defaults(&d.cfg);
    const struct daemon_prog prog = {"uftpd", &uftpd_conf_spec, s, uftpd_settings_explain};
    int rc = daemon_options(&prog, argc, argv, &cmd);
    if (rc >= 0)
        return rc;
    if (uftpd_settings_absolute(s) < 0) {
        fprintf(stderr, "uftpd: out of memory\n");
        conf_free(&uftpd_conf_spec, s);
        return XIT_ALLOC;
    }
    d.start = (struct daemon_start){.name = "uftpd",
                                    .foreground = s->foreground,
                                    .pidfile = s->pidfile,
                                    .log_level = s->log_level,
                                    .logfile = s->logfile,
                                    .roll_mb = s->log_roll_mb,
                                    .keep = (int)s->log_keep,
                                    .nice = s->nice};
    rc = daemon_start_begin(&d.start);
    /* Where relative paths in a re-read config (SIGHUP) are resolved after detaching. */
    d.startdir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rc == 0) {
        rc = store_init(&d.store, (const char *const *)s->dests.v, s->dests.n, s->tempdir,
                        s->tempfiles, (size_t)s->cache, UFTPD_DEF_DEST);
        if (rc == 0) {
            d.store.prealloc = (uint64_t)s->preallocate;
            d.store.restart_keep_s = s->tempdir != NULL ? s->restart_keep : 0;
            store_reclaim(&d.store); /* issue 13: what a killed daemon left */
        }
        if (rc == 0 && s->backups.n > 0)
            rc = store_set_backups(&d.store, (const char *const *)s->backups.v, s->backups.n);
        if (rc < 0)
            rc = XIT_PARAM;
    }
    if (rc == 0)
        rc = uftpd_life_open(&d); /* after store_init: it hooks the store */
    if (rc == 0)
        rc = uftpd_ops_open(&d);
    if (rc == 0)
        rc = setup_key(&d);
    if (rc == 0)
        rc = setup_network(&d);
    if (rc == 0)
        rc = setup_engine(&d);
    if (rc == 0)
        rc = daemon_start_detach(&d.start);
    if (rc == 0) {
        log_info("listening on port %u, ID 0x%08X, %zu interface%s, dest %s", d.sock.port,
                 d.cfg.client_id, d.nif, d.nif == 1 ? "" : "s", s->dests.v[0]);
        /* uftpd_run() tells the waiting parent and systemd once its loop is set up. */
        rc = uftpd_run(&d);
        struct receiver_stats rs;
        receiver_stats(d.eng, &rs);
        log_verbose("received: %" PRIu64 " new blocks, %" PRIu64 " duplicates, %" PRIu64
                    " dropped; %" PRIu64 " block writes in %" PRIu64 " flushes",
                    rs.data_packets, rs.dup_packets, rs.dropped, d.store.writes, d.store.flushes);
        if (rs.fec_parity + rs.fec_dropped > 0)
            log_verbose("parity (issue 17): %" PRIu64 " held, %" PRIu64 " blocks rebuilt, %" PRIu64
                        " refused",
                        rs.fec_parity, rs.fec_decoded, rs.fec_dropped);
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
    daemon_start_end(&d.start, rc);
    receiver_free(d.eng);
    uftpd_life_free(&d);
    net_sock_close(&d.sock);
    store_free(&d.store);
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
