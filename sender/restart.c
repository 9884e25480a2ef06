/* uftp's restart file (restart.h): reading and crash-safe writing of our text format. */
#include "sender/restart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs/fs.h"

/* An item %-escaped: '%', control characters, space and DEL become %XX. */
static void put_escaped(FILE *f, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c <= ' ' || *c == '%' || *c == 0x7F)
            fprintf(f, "%%%02X", *c);
        else
            fputc(*c, f);
    }
}

static int unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        unsigned v;
        if (sscanf(r + 1, "%2x", &v) != 1 || r[1] == '\0' || r[2] == '\0' || v == 0)
            return -1;
        *w++ = (char)v;
        r += 2;
    }
    *w = '\0';
    return 0;
}

int restart_add_client(struct restart *r, uint32_t id, const uint8_t *fp, uint8_t fplen)
{
    if (r->nclients == r->capclients) {
        size_t cap = r->capclients ? r->capclients * 2 : 16;
        struct sender_dest *n = realloc(r->clients, cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        r->clients = n;
        r->capclients = cap;
    }
    struct sender_dest *c = &r->clients[r->nclients++];
    memset(c, 0, sizeof(*c));
    c->id = id;
    if (fp != NULL && fplen > 0 && fplen <= SENDER_FP_MAX) {
        memcpy(c->fp, fp, fplen);
        c->fplen = fplen;
    }
    return 0;
}

void restart_free(struct restart *r)
{
    fs_names_free(r->items, r->nitems);
    free(r->clients);
    memset(r, 0, sizeof(*r));
}

int restart_write(const char *path, const struct restart *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return -errno;
    fprintf(f, "# uftp -F resumes this session (issue 13; spec §2.1 \"Restart file\")\n");
    fprintf(f, "uftp-restart %d\ngroup 0x%08X\ninstance %u\n", RESTART_VERSION, r->group_id,
            (unsigned)r->group_inst);
    if (r->grtt_us > 0)
        fprintf(f, "grtt %llu.%06llu\n", (unsigned long long)(r->grtt_us / 1000000),
                (unsigned long long)(r->grtt_us % 1000000));
    for (size_t i = 0; i < r->nitems; i++) {
        fputs("item ", f);
        put_escaped(f, r->items[i]);
        fputc('\n', f);
    }
    if (r->open)
        fputs("open\n", f);
    for (size_t i = 0; i < r->nclients; i++) {
        const struct sender_dest *c = &r->clients[i];
        fprintf(f, "client 0x%08X", c->id);
        if (c->fplen > 0)
            fputc(' ', f);
        for (size_t k = 0; k < c->fplen; k++)
            fprintf(f, "%02X", c->fp[k]);
        fputc('\n', f);
    }
    fputs("end\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    /* The directory and the leaf: fs_replace renames and syncs within one directory. */
    char dir[4096];
    const char *slash = strrchr(path, '/'), *leaf = path;
    int dfd = AT_FDCWD;
    if (slash != NULL) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        if (dl >= sizeof(dir)) {
            free(buf);
            return -ENAMETOOLONG;
        }
        memcpy(dir, path, dl);
        dir[dl] = '\0';
        leaf = slash + 1;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            free(buf);
            return -errno;
        }
    }
    int rc = fs_replace(dfd, leaf, buf, len);
    if (dfd != AT_FDCWD)
        close(dfd);
    free(buf);
    return rc;
}

static int bad(char *msg, size_t ml, unsigned ln, const char *why)
{
    snprintf(msg, ml, "line %u: %s", ln, why);
    return -1;
}

static int hexbytes(const char *s, uint8_t *out, uint8_t *n)
{
    size_t l = strlen(s);
    if (l == 0 || l % 2 != 0 || l / 2 > SENDER_FP_MAX)
        return -1;
    for (size_t i = 0; i < l / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    *n = (uint8_t)(l / 2);
    return 0;
}

int restart_read(const char *path, struct restart *r, char *msg, size_t ml)
{
    memset(r, 0, sizeof(*r));
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(msg, ml, "%s", strerror(errno));
        return -1;
    }
    char line[8192];
    unsigned ln = 0;
    int rc = 0, have = 0; /* bits: version, group, instance, end */
    unsigned version = 0;
    size_t capitems = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        ln++;
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n') {
            rc = bad(msg, ml, ln, "too long or not terminated");
            break;
        }
        line[--l] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (have & 8) {
            rc = bad(msg, ml, ln, "text after 'end'");
            break;
        }
        char *arg = strchr(line, ' ');
        if (arg != NULL)
            *arg++ = '\0';
        unsigned long long v;
        char *end;
        if (!(have & 1)) {
            /* The first line names the format; anything else is not read further. */
            if (strcmp(line, "uftp-restart") != 0 || arg == NULL) {
                rc = bad(msg, ml, ln, "not a uftp restart file");
                break;
            }
            v = strtoull(arg, &end, 10);
            if (v < RESTART_VERSION_MIN || v > RESTART_VERSION || *end != '\0')
                rc = bad(msg, ml, ln, "unknown version");
            version = (unsigned)v;
            have |= 1;
        } else if (strcmp(line, "group") == 0 && arg != NULL) {
            v = strtoull(arg, &end, 16);
            if (*end != '\0' || v == 0 || v > 0xFFFFFFFEu)
                rc = bad(msg, ml, ln, "bad group ID");
            r->group_id = (uint32_t)v;
            have |= 2;
        } else if (strcmp(line, "instance") == 0 && arg != NULL) {
            v = strtoull(arg, &end, 10);
            if (*end != '\0' || v > 255)
                rc = bad(msg, ml, ln, "bad instance");
            r->group_inst = (uint8_t)v;
            have |= 4;
        } else if (strcmp(line, "grtt") == 0 && arg != NULL && version >= 2) {
            double g = strtod(arg, &end);
            if (*end != '\0' || !(g >= 0.001 && g <= 1000))
                rc = bad(msg, ml, ln, "bad grtt");
            else
                r->grtt_us = (uint64_t)(g * 1e6 + 0.5);
        } else if (strcmp(line, "item") == 0 && arg != NULL) {
            if (unescape(arg) < 0 || arg[0] == '\0') {
                rc = bad(msg, ml, ln, "bad item");
                break;
            }
            if (fs_names_push(&r->items, &r->nitems, &capitems, arg) < 0)
                rc = bad(msg, ml, ln, "out of memory");
        } else if (strcmp(line, "open") == 0 && arg == NULL) {
            r->open = true;
        } else if (strcmp(line, "client") == 0 && arg != NULL) {
            char *fp = strchr(arg, ' ');
            if (fp != NULL)
                *fp++ = '\0';
            v = strtoull(arg, &end, 16);
            uint8_t fpb[SENDER_FP_MAX], fpl = 0;
            if (*end != '\0' || v == 0 || v > 0xFFFFFFFEu)
                rc = bad(msg, ml, ln, "bad client ID");
            else if (fp != NULL && hexbytes(fp, fpb, &fpl) < 0)
                rc = bad(msg, ml, ln, "bad fingerprint");
            else if (restart_add_client(r, (uint32_t)v, fpb, fpl) < 0)
                rc = bad(msg, ml, ln, "out of memory");
        } else if (strcmp(line, "end") == 0 && arg == NULL) {
            have |= 8;
        } else {
            rc = bad(msg, ml, ln, "unknown line");
        }
    }
    fclose(f);
    if (rc == 0 && have != 15)
        rc = bad(msg, ml, ln,
                 !(have & 1)   ? "empty"
                 : !(have & 8) ? "truncated (no 'end')"
                               : "group or instance missing");
    if (rc == 0 && r->nitems == 0)
        rc = bad(msg, ml, ln, "no items");
    if (rc == 0 && !r->open && r->nclients == 0)
        rc = bad(msg, ml, ln, "no receivers");
    if (rc < 0)
        restart_free(r);
    return rc;
}
