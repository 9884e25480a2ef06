/*
 * uftp: the sender (spec §2.1). Reads the options, walks the files, opens
 * the socket and hands everything to the engine in the runner (shell.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto/crypto.h"
#include "core/crypto/keyblob.h"
#include "core/daemon/start.h"
#include "core/daemon/status.h"
#include "core/fs/walk.h"
#include "core/log.h"
#include "core/net/iface.h"
#include "core/net/resolve.h"
#include "core/wire/wire.h"
#include "sender/jsonsum.h"
#include "sender/uftp.h"

static void usage_hint(void)
{
    fprintf(stderr, "Try 'uftp --help' for more information.\n");
}

/* ---- the files to send ---- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (d == NULL)
        fatalx(SENDER_EXIT_ALLOC, "out of memory");
    return d;
}

static int collect_files(struct uftp *u, char **args, size_t nargs)
{
    struct uftp_settings *s = &u->set;
    struct fs_list list = {0}, excl = {0};
    char msg[512];
    int rc;

    if (s->restart_file != NULL) {
        /* -F: the items of the restart file (spec §2.1: positional files are ignored). */
        args = u->rs.items;
        nargs = u->rs.nitems;
    } else if (s->list_file != NULL) {
        rc = fs_list_read(&list, s->list_file, FS_MAX_FILES, msg, sizeof(msg));
        if (rc < 0) {
            log_errx("%s", msg);
            return SENDER_EXIT_PARAM;
        }
        args = list.v;
        nargs = list.n;
    }
    if (nargs == 0) {
        log_errx("no files to send");
        usage_hint();
        fs_list_free(&list);
        return SENDER_EXIT_PARAM;
    }
    if (nargs > FS_MAX_FILES) {
        log_errx("at most %d files may be given", FS_MAX_FILES);
        fs_list_free(&list);
        return SENDER_EXIT_PARAM;
    }
    if (u->rs_path != NULL && s->restart_file == NULL) {
        /* -f: the items as given, for a later -F. */
        u->rs.items = calloc(nargs, sizeof(char *));
        if (u->rs.items == NULL)
            fatalx(SENDER_EXIT_ALLOC, "out of memory");
        for (size_t i = 0; i < nargs; i++)
            u->rs.items[u->rs.nitems++] = xstrdup(args[i]);
    }
    if (s->exclude_file != NULL) {
        rc = fs_list_read(&excl, s->exclude_file, FS_MAX_EXCLUDES, msg, sizeof(msg));
        if (rc < 0) {
            log_errx("%s", msg);
            fs_list_free(&list);
            return SENDER_EXIT_PARAM;
        }
    }
    struct fs_walk_opts wo = {
        .dest_name = s->dest_name,
        .dest_is_dir = s->dest_is_dir,
        .base_dirs = (const char *const *)s->base_dirs.v,
        .nbase = s->base_dirs.n,
        .excludes = (const char *const *)excl.v,
        .nexclude = excl.n,
        .follow_links = s->follow_links,
    };
    struct fs_walk *w;
    rc = fs_walk_new(&w, &wo, (const char *const *)args, nargs);
    fs_list_free(&list);
    fs_list_free(&excl);
    if (rc < 0) {
        log_errx("cannot walk the files: %s", strerror(-rc));
        return SENDER_EXIT_PARAM;
    }
    size_t cap = 0;
    struct file_item it;
    while ((rc = fs_walk_next(w, &it)) != 0) {
        if (rc < 0) {
            log_warnx("%s", fs_walk_msg(w)); /* "skipping ...: why" */
            continue;
        }
        if (u->nitems == cap) {
            cap = cap ? cap * 2 : 64;
            struct file_item *n = realloc(u->items, cap * sizeof(*n));
            if (n == NULL)
                fatalx(SENDER_EXIT_ALLOC, "out of memory");
            u->items = n;
        }
        struct file_item *d = &u->items[u->nitems++];
        *d = it;
        d->path = xstrdup(it.path);
        d->name = xstrdup(it.name);
        d->link = xstrdup(it.link);
    }
    fs_walk_free(w);
    if (u->nitems == 0) {
        log_errx("nothing to send");
        return SENDER_EXIT_PARAM;
    }
    return 0;
}

static void free_files(struct uftp *u)
{
    for (size_t i = 0; i < u->nitems; i++) {
        free((char *)u->items[i].path);
        free((char *)u->items[i].name);
        free((char *)u->items[i].link);
    }
    free(u->items);
    u->items = NULL;
    u->nitems = 0;
}

/* ---- addresses, interface, socket ---- */

static struct sender_dest *dest_array(const struct conf_hostlist *l)
{
    if (l->n == 0)
        return NULL;
    struct sender_dest *d = calloc(l->n, sizeof(*d));
    if (d == NULL)
        fatalx(SENDER_EXIT_ALLOC, "out of memory");
    for (size_t i = 0; i < l->n; i++) {
        d[i].id = l->v[i].id;
        size_t n = l->v[i].fp_len < SENDER_FP_MAX ? l->v[i].fp_len : SENDER_FP_MAX;
        memcpy(d[i].fp, l->v[i].fp, n);
        d[i].fplen = (uint8_t)n;
    }
    return d;
}

/* -M and -P (spec §2.1): resolved into c->pub and c->priv, and checked. */
static int resolve_addresses(const struct uftp_settings *s, struct sender_config *c)
{
    uint16_t port = (uint16_t)s->port;
    int rc = net_resolve_host(&c->pub, s->pub, port, AF_UNSPEC);
    if (rc < 0) {
        log_errx("option -M: cannot use '%s': %s", s->pub, strerror(-rc));
        return SENDER_EXIT_PARAM;
    }
    addr_set_port(&c->pub, port);
    int family = net_addr_af(&c->pub);
    bool unicast = !addr_is_multicast(&c->pub);
    if (!unicast) {
        rc = net_addr_template(&c->priv, s->priv, port);
        if (rc < 0) {
            log_errx("option -P: '%s' is not an address template", s->priv);
            return SENDER_EXIT_PARAM;
        }
        if (net_addr_af(&c->priv) != family) {
            log_errx("option -P: '%s' must be of the same IP version as -M '%s'%s", s->priv, s->pub,
                     family == AF_INET6 ? " (give an IPv6 -P, e.g. ff15::x)" : "");
            return SENDER_EXIT_PARAM;
        }
        if (!addr_is_multicast(&c->priv)) {
            log_errx("option -P: '%s' is not a multicast address", s->priv);
            return SENDER_EXIT_PARAM;
        }
    }
    return 0;
}

/*
 * What no single option can check (spec §2.1), before anything is opened:
 * by --check and by a session alike.
 */
static int check_settings(const struct uftp_settings *s)
{
    if (s->keytype == KEY_NONE && s->client_auth) {
        log_errx("option -c needs encryption (-Y)");
        return SENDER_EXIT_PARAM;
    }
    if (s->max_time != 0 && s->rate < 0) {
        log_errx("option -W needs a fixed rate (-R)");
        return SENDER_EXIT_PARAM;
    }
    /* spec §1.6 step 7: -W bounds a file by the time its fixed rate needs; under TFMCC
     * there is none, and 5.0.1 ignores -W silently. Said once here, not per file. */
    if (s->max_time != 0 && s->cc.type == CC_TFMCC)
        log_warnx("option -W applies to a fixed rate only: ignored with -C tfmcc");
    /* spec §2.1: -F takes its receivers from the restart file, and not in sync mode. */
    if (s->restart_file != NULL && s->dests.n > 0) {
        log_errx("options -H and -F cannot be combined");
        return SENDER_EXIT_PARAM;
    }
    if ((s->restart_file != NULL || s->restartable || s->restart_path != NULL) &&
        (s->sync || s->sync_preview)) {
        log_errx("restart mode (-f, -F) cannot be combined with sync mode (-z, -Z)");
        return SENDER_EXIT_PARAM;
    }
    struct sender_config c;
    sender_config_defaults(&c);
    return resolve_addresses(s, &c);
}

static int setup_network(struct uftp *u)
{
    struct uftp_settings *s = &u->set;
    struct sender_config *c = &u->cfg;
    int rc = resolve_addresses(s, c);
    if (rc != 0)
        return rc;
    int family = net_addr_af(&c->pub);
    bool unicast = !addr_is_multicast(&c->pub);

    struct net_iflist ifl;
    rc = net_iflist_load(&ifl);
    if (rc < 0) {
        log_errx("cannot list the network interfaces: %s", strerror(-rc));
        return SENDER_EXIT_SOCKET;
    }
    const struct net_iface *ifc = NULL;
    if (s->iface != NULL) {
        rc = net_iface_resolve(&ifl, s->iface, AF_UNSPEC, &ifc);
        if (rc < 0) {
            log_errx("option -I: no interface '%s': %s", s->iface, strerror(-rc));
            net_iflist_free(&ifl);
            return SENDER_EXIT_PARAM;
        }
    } else {
        ifc = net_iflist_first(&ifl, family);
        if (ifc == NULL)
            ifc = net_iflist_first(&ifl, AF_UNSPEC);
    }
    unsigned int ifindex = 0;
    if (ifc != NULL &&
        (s->iface != NULL || ((ifc->flags & NET_IF_MULTICAST) && !(ifc->flags & NET_IF_LOOPBACK))))
        ifindex = ifc->index;
    c->server_id = s->id;
    if (c->server_id == 0 && ifc != NULL)
        c->server_id = net_iflist_id_of(&ifl, ifc->index);
    if (c->server_id == 0)
        c->server_id = net_iflist_default_id(&ifl);
    net_iflist_free(&ifl);
    if (c->server_id == 0) {
        log_errx("no interface address to take the server ID from; give one with -U");
        return SENDER_EXIT_PARAM;
    }

    struct net_sock_opts so;
    net_sock_opts_init(&so, net_sock_family_for(&c->pub, 1));
    so.port = (uint16_t)s->src_port;
    so.rcvbuf = (int)s->bufsize;
    so.sndbuf = (int)s->bufsize;
    so.ttl = (int)s->ttl;
    so.tos = net_tos((int)s->dscp, s->cc.type == CC_TFMCC); /* ECT(0) under TFMCC (spec §1.7) */
    so.mcast_if = ifindex;
    so.mcast_loop = true;
    rc = net_sock_open(&u->sock, &so);
    if (rc < 0) {
        log_errx("cannot open the socket: %s", strerror(-rc));
        return SENDER_EXIT_SOCKET;
    }
    char pa[ADDR_STRLEN], qa[ADDR_STRLEN];
    if (unicast)
        log_verbose("unicast mode to %s, ID 0x%08X, port %u", addr_str(&c->pub, pa), c->server_id,
                    u->sock.port);
    else
        log_verbose("announcing on %s, data on %s, ID 0x%08X, port %u", addr_str(&c->pub, pa),
                    addr_str(&c->priv, qa), c->server_id, u->sock.port);
    return 0;
}

/* ---- the signing key (spec §2.1 -k, -K) ---- */

static int setup_key(struct uftp *u)
{
    struct uftp_settings *s = &u->set;
    if (s->keytype == KEY_NONE)
        return 0;
    const char *step;
    int rc = daemon_key(s->keyfile, s->keygen, &u->key, &step);
    const char *why = rc == CRYPTO_EIO ? strerror(errno) : crypto_strerror(rc);
    if (rc < 0 && strcmp(step, "generate") != 0)
        log_errx("cannot %s key file %s: %s", step, s->keyfile, why);
    else if (rc < 0)
        log_errx("cannot generate a key: %s", why);
    else if (u->key != NULL)
        daemon_log_key(s->keygen != NULL ? "generated" : "loaded", u->key);
    return rc < 0 ? SENDER_EXIT_CRYPTO : 0;
}

/* ---- restart (issue 13: -f, -F, restart.h) ---- */

static int setup_restart(struct uftp *u)
{
    struct uftp_settings *s = &u->set;
    char msg[256];
    if (s->restart_file != NULL) {
        if (restart_read(s->restart_file, &u->rs, msg, sizeof(msg)) < 0) {
            log_errx("restart file %s: %s", s->restart_file, msg);
            return SENDER_EXIT_PARAM;
        }
        if (u->rs.group_inst == 0xFF) {
            log_errx("restart file %s: maximum number of restarts reached", s->restart_file);
            return SENDER_EXIT_PARAM;
        }
        /* The file stays current for this session (and a further -F). */
        u->rs_path = xstrdup(s->restart_path ? s->restart_path : s->restart_file);
        log_info("resuming group %08X (instance %u) for %s", u->rs.group_id,
                 (unsigned)u->rs.group_inst + 1,
                 u->rs.open ? "an open group" : "the receivers listed");
    } else if (s->restartable || s->restart_path != NULL) {
        u->rs_path = s->restart_path ? xstrdup(s->restart_path) : NULL; /* named at start */
        if (u->rs_path == NULL)
            u->rs_path = xstrdup(""); /* resume_start names it after the group */
    }
    return 0;
}

static struct sender_dest *restart_dests(const struct restart *r)
{
    struct sender_dest *d = calloc(r->nclients ? r->nclients : 1, sizeof(*d));
    if (d == NULL)
        fatalx(SENDER_EXIT_ALLOC, "out of memory");
    memcpy(d, r->clients, r->nclients * sizeof(*d)); /* -F: never none (restart_read) */
    return d;
}

/* ---- configuration ---- */

static int build_config(struct uftp *u)
{
    struct uftp_settings *s = &u->set;
    struct sender_config *c = &u->cfg;
    c->blocksize = (uint16_t)s->blocksize;
    c->rate_kbps = s->rate;
    c->grtt_init_us = (uint64_t)(s->grtt.init * 1e6 + 0.5);
    c->grtt_min_us = (uint64_t)(s->grtt.min * 1e6 + 0.5);
    c->grtt_max_us = (uint64_t)(s->grtt.max * 1e6 + 0.5);
    c->robust = (uint8_t)s->robust;
    c->liveness_us = (uint64_t)s->liveness * 1000000u;
    c->cc_type = (uint8_t)s->cc.type;
    /* spec §1.7: K Kbps = K·1024/8 B/s. */
    c->cc_min_Bps = (uint64_t)s->cc.min * 128;
    c->cc_init_Bps = (uint64_t)s->cc.init * 128;
    c->cc_max_Bps = (uint64_t)s->cc.max * 128;
    c->nak_pct = (uint8_t)s->nak_pct;
    c->nak_strikes = (uint16_t)s->nak_strikes;
    c->max_passes = (uint16_t)s->max_passes;
    c->fec_off = s->fec.off;
    c->fec_pct = (uint8_t)s->fec.pct;
    c->fec_k = (uint8_t)s->fec.k;
    c->max_time_pct = (uint16_t)s->max_time;
    c->quit_on_error = s->quit_on_error;
    c->sync_preview = s->sync_preview;
    c->sync_mode = s->sync || s->sync_preview;
    c->version = (uint8_t)s->protocol;
    if (c->version == UFTP_VER4)
        log_info("speaking protocol v4, for UFTP 4.x receivers (--protocol 4)");
    c->keytype = (uint8_t)s->keytype;
    c->hashtype = (uint8_t)s->hashtype;
    c->curve = (uint8_t)s->curve;
    c->client_auth = s->client_auth;
    c->sigkey = u->key;
    u->dests = dest_array(&s->dests);
    c->dests = u->dests;
    c->ndest = s->dests.n;
    if (s->restart_file != NULL) {
        /* -F: the same group, its next instance, the receivers still owed files. */
        c->group_id = u->rs.group_id;
        c->group_inst = (uint8_t)(u->rs.group_inst + 1);
        /* Issue 13: from the GRTT the failed session measured (within -r's MIN..MAX), not
         * -r's INIT: its rounds (a proxy's aggregation hold, spec §3.4) start at their
         * real length. */
        if (u->rs.grtt_us > 0) {
            uint64_t g = u->rs.grtt_us;
            g = g < c->grtt_min_us ? c->grtt_min_us : g > c->grtt_max_us ? c->grtt_max_us : g;
            c->grtt_init_us = g;
            log_info("starting from the GRTT the failed session measured: %.3f s", (double)g / 1e6);
        }
        if (!u->rs.open) {
            free(u->dests);
            u->dests = restart_dests(&u->rs);
            c->dests = u->dests;
            c->ndest = u->rs.nclients;
        }
    }
    u->proxies = dest_array(&s->proxies);
    c->proxies = u->proxies;
    c->nproxy = s->proxies.n;
    c->files = u->items;
    c->nfiles = u->nitems;
    return 0;
}

/* --summary-json (issue 15): written whatever the exit code; a failure is only logged. */
static void write_summary_json(struct uftp *u, int code, int64_t start_us)
{
    struct jsonsum_info in = {.exit_code = code,
                              .start_unix_us = start_us,
                              .end_unix_us = daemon_mono_us() + daemon_wall_offset_us(),
                              .nfiles = u->nitems};
    for (size_t i = 0; i < u->nitems; i++)
        if (u->items[i].type == FTYPE_REG)
            in.total_bytes += u->items[i].size;
    if (u->eng != NULL) {
        struct sender_stats st;
        sender_stats(u->eng, &st);
        in.have_group = true;
        in.group_id = st.group_id;
    }
    int rc = jsonsum_write(u->set.summary_json, &u->summary.res, &in);
    if (rc < 0)
        log_errx("cannot write the JSON summary %s: %s", u->set.summary_json, strerror(-rc));
}

static int setup_logging(struct uftp *u)
{
    struct uftp_settings *s = &u->set;
    log_set_level(s->log_level);
    log_set_timestamps(s->timestamps);
    if (s->logfile != NULL) {
        int rc = log_open_file(s->logfile, s->log_roll_mb * 1024 * 1024, (int)s->log_keep);
        if (rc < 0) {
            fprintf(stderr, "uftp: cannot open log file %s: %s\n", s->logfile, strerror(-rc));
            return SENDER_EXIT_LOGGING;
        }
    }
    if (s->status_file != NULL) {
        /* Appended to, as 5.0.1 does (spec §2.1); @LOG mixes the lines into the log. */
        int rc = status_sink_open(s->status_file, &u->summary.status);
        if (rc < 0) {
            log_errx("cannot open status file %s: %s", s->status_file, strerror(-rc));
            return SENDER_EXIT_LOGGING;
        }
    }
    bool tty = isatty(STDERR_FILENO) && s->logfile == NULL;
    u->tty_progress = s->progress == UFTP_PROGRESS_ON ||
                      (s->progress == UFTP_PROGRESS_AUTO && tty && s->log_level <= LL_INFO);
    return 0;
}

int main(int argc, char **argv)
{
    static struct uftp u;
    struct conf_err e;
    struct conf_cmd cmd;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    log_init("uftp", LL_INFO);
    u.sock.fd = -1;
    if (conf_table_check(&uftp_conf_spec, &e) < 0) {
        fprintf(stderr, "uftp: internal error: %s\n", e.msg);
        return SENDER_EXIT_PARAM;
    }
    if (conf_load(&uftp_conf_spec, &u.set, argc, argv, &cmd, &e) < 0) {
        fprintf(stderr, "uftp: %s\n", e.msg);
        usage_hint();
        conf_free(&uftp_conf_spec, &u.set);
        return SENDER_EXIT_PARAM;
    }
    if (cmd.help) {
        conf_help(&uftp_conf_spec, stdout);
        conf_free(&uftp_conf_spec, &u.set);
        return 0;
    }
    (void)conf_ignored(&uftp_conf_spec, &u.set, daemon_warn_ignored, NULL);
    rc = check_settings(&u.set);
    if (rc != 0 || cmd.check) {
        if (rc == 0 && conf_print(&uftp_conf_spec, &u.set, stdout) < 0)
            rc = SENDER_EXIT_PARAM;
        conf_free(&uftp_conf_spec, &u.set);
        return rc;
    }
    int64_t start_us = daemon_mono_us() + daemon_wall_offset_us();
    rc = setup_logging(&u);
    if (rc == 0)
        rc = setup_restart(&u);
    if (rc == 0)
        rc = setup_key(&u);
    if (rc == 0)
        rc = collect_files(&u, argv + cmd.optind, (size_t)(argc - cmd.optind));
    if (rc == 0) {
        sender_config_defaults(&u.cfg);
        rc = setup_network(&u);
    }
    if (rc == 0)
        rc = build_config(&u);
    if (rc == 0)
        rc = shell_run(&u);
    if (u.set.summary_json != NULL)
        write_summary_json(&u, rc, start_us);

    sender_free(u.eng);
    results_free(&u.summary.res);
    net_sock_close(&u.sock);
    free(u.dests);
    free(u.proxies);
    crypto_key_free(u.key);
    free_files(&u);
    restart_free(&u.rs);
    free(u.rs_path);
    status_sink_close(u.summary.status);
    conf_free(&uftp_conf_spec, &u.set);
    log_close();
    return rc;
}
