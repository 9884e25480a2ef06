/*
 * A hostile UFTP sender for tests/integration/transfer/escape.sh: it runs
 * an unencrypted v5 session with one uftpd and offers it crafted FILEINFO
 * names (spec §6 items 1, 2) that the real sender would never produce.
 *
 *   hostile_sender PUBLIC PRIVATE ITEM...
 *
 * ITEM is  f:NAME:CONTENT  a regular file (CONTENT fits one 1300-byte block)
 *          l:NAME:TARGET   a symlink
 *          d:NAME          an empty directory
 *          x:NAME          @DELETE of NAME
 *          p:MS            a pause of MS milliseconds, the session kept alive
 *                          (an ANNOUNCE every 200 ms)
 * HOSTILE_GROUP=hex in the environment fixes the group ID (default random).
 * In NAME, %XX is the byte with hex value XX (%00 puts a NUL in the name:
 * the codec refuses to encode one, so it is patched in afterwards).
 *
 * For each item it prints one line "ITEM-INDEX NAME-AS-GIVEN RESULT", RESULT
 * being "accepted" (FILEINFO_ACK, data sent, COMPLETE normal), "complete-N"
 * (COMPLETE with status N straight away: 0 normal, 1 skipped, 3 rejected)
 * or "timeout". Exit 0 when every item got an answer, 1 otherwise, 2 on
 * a usage or socket error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net/batch.h"
#include "core/net/sock.h"
#include "core/base/quant.h"
#include "core/wire/msg.h"

#define SERVER_ID 0x0A0B0C0Du
#define BLOCK     1300
#define TIMEOUT   5000 /* ms per step */
#define RESEND    150  /* ms */

static struct net_sock sock;
static struct net_tx tx;
static struct addr pub, priv, client;
static uint32_t group_id, client_id;
static uint16_t seq;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Encodes and sends one message; nul_at (if >= 0) patches a NUL into a FILEINFO name. */
static void send_msg(const struct addr *dst, const struct wire_msg *m, int nul_at)
{
    uint8_t buf[UFTP_MAX_DATAGRAM];
    struct wire_datagram d;
    memset(&d, 0, sizeof(d));
    d.hdr.version = UFTP_VER5;
    d.hdr.func = m->func;
    d.hdr.seq = seq++;
    d.hdr.src_id = SERVER_ID;
    d.hdr.group_id = group_id;
    d.hdr.grtt = quant_rtt_encode(0.05);
    d.hdr.gsize = quant_gsize_encode(1);
    d.msg = *m;
    ssize_t n = wire_datagram_encode(buf, sizeof(buf), &d);
    if (n < 0) {
        fprintf(stderr, "hostile_sender: cannot encode %s: %d\n", wire_func_name(m->func), (int)n);
        exit(2);
    }
    if (nul_at >= 0)
        buf[UFTP_HDR_LEN + 28 + nul_at] = '\0';
    struct net_dgram dg = {.dst = dst, .buf = buf, .len = (size_t)n};
    if (net_tx_send(&tx, &dg, 1) < 0)
        fprintf(stderr, "hostile_sender: send failed\n");
}

/* Waits up to ms for a message of func (file_id match when >= 0); fills *out. */
static bool wait_for(uint8_t func, int file_id, int ms, struct wire_msg *out, uint8_t *store)
{
    uint64_t end = mono_ms() + (uint64_t)ms;
    for (;;) {
        uint64_t t = mono_ms();
        if (t >= end)
            return false;
        struct pollfd pfd = {sock.fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(end - t)) <= 0)
            continue;
        struct addr from;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        ssize_t n = recvfrom(sock.fd, store, UFTP_MAX_DATAGRAM, 0, (struct sockaddr *)&ss, &sl);
        if (n <= 0 || net_addr_from_sockaddr(&from, (struct sockaddr *)&ss, sl) < 0)
            continue;
        addr_unmap(&from);
        struct wire_datagram d;
        if (wire_datagram_decode(&d, store, (size_t)n) < 0 || d.hdr.group_id != group_id ||
            d.hdr.src_id == SERVER_ID)
            continue;
        if (d.msg.func == ABORT) {
            fprintf(stderr, "hostile_sender: client aborted: %.300s\n", d.msg.u.abort.text);
            return false;
        }
        if (d.msg.func != func)
            continue;
        if (file_id >= 0 && func == FILEINFO_ACK && d.msg.u.fileinfo_ack.file_id != file_id)
            continue;
        if (file_id >= 0 && func == COMPLETE && d.msg.u.complete.file_id != file_id)
            continue;
        if (!addr_is_set(&client)) {
            client = from;
            client_id = d.hdr.src_id;
        }
        *out = d.msg;
        return true;
    }
}

/* Either FILEINFO_ACK or COMPLETE for file_id: returns the func, 0 on timeout. */
static uint8_t wait_answer(int file_id, struct wire_msg *out, uint8_t *store)
{
    uint64_t end = mono_ms() + RESEND;
    while (mono_ms() < end) {
        struct pollfd pfd = {sock.fd, POLLIN, 0};
        if (poll(&pfd, 1, RESEND) <= 0)
            continue;
        ssize_t n = recv(sock.fd, store, UFTP_MAX_DATAGRAM, 0);
        struct wire_datagram d;
        if (n <= 0 || wire_datagram_decode(&d, store, (size_t)n) < 0 ||
            d.hdr.group_id != group_id || d.hdr.src_id == SERVER_ID)
            continue;
        if (d.msg.func == FILEINFO_ACK && d.msg.u.fileinfo_ack.file_id == file_id) {
            *out = d.msg;
            return FILEINFO_ACK;
        }
        if (d.msg.func == COMPLETE && d.msg.u.complete.file_id == file_id) {
            *out = d.msg;
            return COMPLETE;
        }
    }
    return 0;
}

static size_t unescape(const char *in, char *out, size_t cap, int *nul_at)
{
    size_t n = 0;
    *nul_at = -1;
    for (const char *p = in; *p && n + 1 < cap; p++) {
        unsigned v;
        if (p[0] == '%' && p[1] && p[2] && sscanf(p + 1, "%2x", &v) == 1) {
            if (v == 0) {
                *nul_at = (int)n;
                v = 'X';
            }
            out[n++] = (char)v;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: hostile_sender PUBLIC PRIVATE ITEM...\n");
        return 2;
    }
    log_init("hostile_sender", LL_WARN);
    if (net_addr_parse(&pub, argv[1], UFTP_PORT) < 0 ||
        net_addr_parse(&priv, argv[2], UFTP_PORT) < 0) {
        fprintf(stderr, "hostile_sender: bad address\n");
        return 2;
    }
    struct net_sock_opts so;
    net_sock_opts_init(&so, net_addr_af(&pub));
    if (net_sock_open(&sock, &so) < 0) {
        fprintf(stderr, "hostile_sender: socket: %s\n", strerror(errno));
        return 2;
    }
    net_tx_init(&tx, &sock);
    if (getenv("HOSTILE_GROUP") != NULL)
        group_id = (uint32_t)strtoul(getenv("HOSTILE_GROUP"), NULL, 16);
    while (group_id == 0)
        if (getrandom(&group_id, sizeof(group_id), 0) < 0)
            return 2;
    uint8_t store[UFTP_MAX_DATAGRAM];
    struct wire_msg m, r;

    /* Announce (open group) until a client registers. */
    memset(&m, 0, sizeof(m));
    m.func = ANNOUNCE;
    m.u.announce.ver = UFTP_VER5;
    m.u.announce.robust = 10;
    m.u.announce.blocksize = BLOCK;
    addr_get_ip(&pub, m.u.announce.pub_addr);
    addr_get_ip(&priv, m.u.announce.priv_addr);
    if (net_addr_af(&pub) == AF_INET6)
        m.u.announce.flags = FLAG_IPV6;
    bool reg = false;
    for (uint64_t end = mono_ms() + TIMEOUT; !reg && mono_ms() < end;) {
        m.u.announce.tstamp = now_us();
        send_msg(&pub, &m, -1);
        reg = wait_for(REGISTER, -1, RESEND, &r, store);
    }
    if (!reg) {
        fprintf(stderr, "hostile_sender: nobody registered\n");
        return 1;
    }
    uint32_t ids[1] = {client_id};
    memset(&m, 0, sizeof(m));
    m.func = REG_CONF;
    m.u.reg_conf.ver = UFTP_VER5;
    m.u.reg_conf.ids = wire_ids_of(ids, 1);
    send_msg(&priv, &m, -1);

    int unanswered = 0;
    for (int i = 3; i < argc; i++) {
        uint16_t fid = (uint16_t)(i - 2);
        char kind = argv[i][0];
        char *name = argv[i] + 2, *extra = "";
        char namebuf[400], *c;
        if (argv[i][1] != ':' ||
            (kind != 'f' && kind != 'l' && kind != 'd' && kind != 'x' && kind != 'p')) {
            fprintf(stderr, "hostile_sender: bad item '%s'\n", argv[i]);
            return 2;
        }
        if (kind == 'p') {
            /* A pause: the session stays alive on repeated ANNOUNCEs. */
            struct wire_msg a;
            memset(&a, 0, sizeof(a));
            a.func = ANNOUNCE;
            a.u.announce.ver = UFTP_VER5;
            a.u.announce.robust = 10;
            a.u.announce.blocksize = BLOCK;
            addr_get_ip(&pub, a.u.announce.pub_addr);
            addr_get_ip(&priv, a.u.announce.priv_addr);
            for (uint64_t end = mono_ms() + (uint64_t)atoi(name); mono_ms() < end;) {
                a.u.announce.tstamp = now_us();
                send_msg(&pub, &a, -1);
                usleep(200000);
            }
            printf("%d pause\n", i - 2);
            fflush(stdout);
            continue;
        }
        if (kind != 'd' && kind != 'x' && (c = strchr(name, ':')) != NULL) {
            *c = '\0';
            extra = c + 1;
        }
        int nul_at;
        size_t nlen = unescape(name, namebuf, sizeof(namebuf), &nul_at);
        memset(&m, 0, sizeof(m));
        m.func = FILEINFO;
        m.u.fileinfo.ver = UFTP_VER5;
        m.u.fileinfo.file_id = fid;
        m.u.fileinfo.ftype = kind == 'f'   ? FTYPE_REG
                             : kind == 'l' ? FTYPE_LINK
                             : kind == 'x' ? FTYPE_DELETE
                                           : FTYPE_DIR;
        m.u.fileinfo.mtime = (uint64_t)time(NULL);
        m.u.fileinfo.size = kind == 'f' ? strlen(extra) : 0;
        m.u.fileinfo.name = namebuf;
        m.u.fileinfo.name_len = nlen;
        if (kind == 'l') {
            m.u.fileinfo.link = extra;
            m.u.fileinfo.link_len = strlen(extra);
        }
        m.u.fileinfo.ids = wire_ids_of(ids, 1);
        uint8_t got = 0;
        for (uint64_t end = mono_ms() + TIMEOUT; !got && mono_ms() < end;) {
            m.u.fileinfo.tstamp = now_us();
            send_msg(&priv, &m, nul_at);
            got = wait_answer(fid, &r, store);
        }
        if (got == COMPLETE) {
            printf("%d %s complete-%u\n", i - 2, name, r.u.complete.status);
            fflush(stdout);
            continue;
        }
        if (got == 0) {
            printf("%d %s timeout\n", i - 2, name);
            fflush(stdout);
            unanswered++;
            continue;
        }
        /* Accepted: send the one block, then DONE until COMPLETE. */
        bool done = false;
        for (uint64_t end = mono_ms() + TIMEOUT; !done && mono_ms() < end;) {
            if (strlen(extra) > 0) {
                struct wire_msg s;
                memset(&s, 0, sizeof(s));
                s.func = FILESEG;
                s.u.fileseg.ver = UFTP_VER5;
                s.u.fileseg.file_id = fid;
                s.u.fileseg.data = (const uint8_t *)extra;
                s.u.fileseg.data_len = strlen(extra);
                send_msg(&priv, &s, -1);
            }
            struct wire_msg dn;
            memset(&dn, 0, sizeof(dn));
            dn.func = DONE;
            dn.u.done.ver = UFTP_VER5;
            dn.u.done.file_id = fid;
            dn.u.done.ids = wire_ids_of(ids, 1);
            send_msg(&priv, &dn, -1);
            done = wait_for(COMPLETE, fid, RESEND, &r, store);
        }
        printf("%d %s %s\n", i - 2, name,
               !done                      ? "timeout"
               : r.u.complete.status == 0 ? "accepted"
                                          : "accepted-then-failed");
        fflush(stdout);
        unanswered += !done;
    }

    /* End of session: DONE(0) until COMPLETE(0), then DONE_CONF. */
    bool fin = false;
    for (uint64_t end = mono_ms() + TIMEOUT; !fin && mono_ms() < end;) {
        memset(&m, 0, sizeof(m));
        m.func = DONE;
        m.u.done.ver = UFTP_VER5;
        m.u.done.ids = wire_ids_of(ids, 1);
        send_msg(&priv, &m, -1);
        fin = wait_for(COMPLETE, 0, RESEND, &r, store);
    }
    memset(&m, 0, sizeof(m));
    m.func = DONE_CONF;
    m.u.done_conf.ver = UFTP_VER5;
    m.u.done_conf.ids = wire_ids_of(ids, 1);
    for (int k = 0; k < 3; k++)
        send_msg(&priv, &m, -1);
    net_sock_close(&sock);
    return unanswered == 0 && fin ? 0 : 1;
}
