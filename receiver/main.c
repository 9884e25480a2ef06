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
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/fp.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/keyfile.h"
#include "core/log.h"
#include "core/net/iface.h"
#include "core/net/resolve.h"
#include "receiver/shell.h"

/* Exit codes (spec §2.2: as for uftp). */
enum { XIT_OK = 0, XIT_PARAM = 1, XIT_SOCKET = 2, XIT_CRYPTO = 3, XIT_LOG = 4, XIT_ALLOC = 5 };

static char *abs_path(const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *r = malloc(n);
    if (r != NULL)
        snprintf(r, n, "%s/%s", cwd, p);
    return r;
}

/* ---- addresses, interfaces, socket ---- */

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
        if (rc < 0 || !net_addr_is_multicast(&d->pubs[i])) {
            log_errx("option -M: '%s' is not a multicast address", s->pub.v[i]);
            return XIT_PARAM;
        }
        net_addr_set_port(&d->pubs[i], port);
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
    if (s->servers.n > 0) {
        d->servers = calloc(s->servers.n, sizeof(*d->servers));
        if (d->servers == NULL)
            return XIT_ALLOC;
        for (size_t i = 0; i < s->servers.n; i++) {
            const struct conf_host *h = &s->servers.v[i];
            struct receiver_server *r = &d->servers[i];
            r->id = h->id;
            r->proxy_id = h->proxy_id;
            if (h->addrlen > 0)
                (void)net_addr_from_sockaddr(&r->addr, (const struct sockaddr *)&h->addr,
                                             h->addrlen);
            size_t n = h->fp_len < RECEIVER_FP_MAX ? h->fp_len : RECEIVER_FP_MAX;
            memcpy(r->fp, h->fp, n);
            r->fplen = (uint8_t)n;
        }
        c->servers = d->servers;
        c->nserver = s->servers.n;
    }
    if (s->proxies.n > 0) {
        d->proxies = calloc(s->proxies.n, sizeof(*d->proxies));
        if (d->proxies == NULL)
            return XIT_ALLOC;
        for (size_t i = 0; i < s->proxies.n; i++) {
            const struct conf_host *h = &s->proxies.v[i];
            struct receiver_proxy *r = &d->proxies[i];
            r->id = h->id;
            if (h->addrlen > 0)
                (void)net_addr_from_sockaddr(&r->addr, (const struct sockaddr *)&h->addr,
                                             h->addrlen);
            size_t n = h->fp_len < RECEIVER_FP_MAX ? h->fp_len : RECEIVER_FP_MAX;
            memcpy(r->fp, h->fp, n);
            r->fplen = (uint8_t)n;
        }
        c->proxies = d->proxies;
        c->nproxy = s->proxies.n;
    }
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    c->wall_offset_us = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 - (int64_t)uftpd_mono_us();

    struct receiver_env env = {
        .ctx = &d->store,
        .rng = uftpd_rng,
        .storage = store_callbacks,
        .event = NULL,
    };
    int rc = receiver_new(&d->eng, c, &env);
    if (rc < 0) {
        log_errx("cannot start the receiver (%d)", rc);
        return rc == ENG_ENOMEM ? XIT_ALLOC : XIT_PARAM;
    }
    return 0;
}

/* ---- daemon ---- */

/*
 * Classic double fork: the parent exits 0 once the child runs (spec §2.2),
 * the daemon has no controlling terminal and its stdio is /dev/null.
 */
static int daemonise(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

static int write_pidfile(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    char b[32];
    int n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
    int rc = write(fd, b, (size_t)n) == n ? 0 : -EIO;
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    static struct uftpd d;
    struct conf_err e;
    struct conf_cmd cmd;
    int rc;

    /* spec §6.13: never world-writable files, whatever the caller's umask. */
    umask(027);
    signal(SIGPIPE, SIG_IGN);
    log_init("uftpd", LL_INFO);
    d.sock.fd = -1;
    receiver_config_defaults(&d.cfg);
    if (conf_table_check(&uftpd_conf_spec, &e) < 0) {
        fprintf(stderr, "uftpd: internal error: %s\n", e.msg);
        return XIT_PARAM;
    }
    if (conf_load(&uftpd_conf_spec, &d.set, argc, argv, &cmd, &e) < 0) {
        fprintf(stderr, "uftpd: %s\nTry 'uftpd --help' for more information.\n", e.msg);
        conf_free(&uftpd_conf_spec, &d.set);
        return XIT_PARAM;
    }
    struct uftpd_settings *s = &d.set;
    if (cmd.help || cmd.check) {
        rc = 0;
        if (cmd.help)
            conf_help(&uftpd_conf_spec, stdout);
        else if (conf_print(&uftpd_conf_spec, s, stdout) < 0)
            rc = XIT_PARAM;
        conf_free(&uftpd_conf_spec, s);
        return rc;
    }
    if (cmd.optind < argc) {
        fprintf(stderr, "uftpd: unexpected argument '%s'\n", argv[cmd.optind]);
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }
    if (s->tempdir != NULL && s->dests.n > 1) {
        fprintf(stderr, "uftpd: -T cannot be used with more than one -D\n");
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }
    if (s->ssm && s->servers.n == 0) {
        fprintf(stderr, "uftpd: -o (SSM) needs -S with the servers' addresses\n");
        conf_free(&uftpd_conf_spec, s);
        return XIT_PARAM;
    }

    log_set_level(s->log_level);
    if (!s->foreground && s->logfile != NULL) {
        char *p = abs_path(s->logfile);
        if (p == NULL ||
            (rc = log_open_file(p, s->log_roll_mb * 1024 * 1024, (int)s->log_keep)) < 0) {
            fprintf(stderr, "uftpd: cannot open log file %s: %s\n", s->logfile,
                    p ? strerror(-rc) : "out of memory");
            free(p);
            conf_free(&uftpd_conf_spec, s);
            return XIT_LOG;
        }
        free(s->logfile);
        s->logfile = p;
    }
    if (s->nice != 0 && setpriority(PRIO_PROCESS, 0, (int)s->nice) < 0)
        log_warn("cannot set priority %lld", s->nice);

    rc = store_init(&d.store, (const char *const *)s->dests.v, s->dests.n, s->tempdir, s->tempfiles,
                    (size_t)s->cache, UFTPD_DEF_DEST);
    if (rc < 0)
        rc = XIT_PARAM;
    if (rc == 0)
        rc = setup_key(&d);
    if (rc == 0)
        rc = setup_network(&d);
    if (rc == 0 && !s->foreground) {
        int r = daemonise();
        if (r < 0) {
            log_errx("cannot daemonise: %s", strerror(-r));
            rc = XIT_PARAM;
        } else if (s->logfile == NULL) {
            log_use_syslog();
        }
    }
    bool pid_written = false;
    if (rc == 0 && s->pidfile != NULL) {
        int r = write_pidfile(s->pidfile);
        if (r < 0)
            log_warnx("cannot write pid file %s: %s", s->pidfile, strerror(-r));
        pid_written = r == 0;
    }
    if (rc == 0)
        rc = setup_engine(&d);
    if (rc == 0) {
        char ids[16];
        snprintf(ids, sizeof(ids), "0x%08X", d.cfg.client_id);
        log_info("listening on port %u, ID %s, %zu interface%s, dest %s", d.sock.port, ids, d.nif,
                 d.nif == 1 ? "" : "s", s->dests.v[0]);
        rc = uftpd_run(&d);
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
        log_info("shut down");
    }

    receiver_free(d.eng);
    uftpd_free_loop(&d);
    net_mcast_free(&d.mc);
    net_rx_free(&d.rx);
    net_sock_close(&d.sock);
    store_free(&d.store);
    if (pid_written)
        (void)unlink(s->pidfile);
    free(d.pubs);
    free(d.servers);
    free(d.proxies);
    crypto_key_free(d.key);
    conf_free(&uftpd_conf_spec, s);
    log_close();
    return rc;
}
