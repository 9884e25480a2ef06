/* uftpd -T restart records (rstate.h): written crash-safely, read back strictly. */
#include "receiver/rstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs/beneath.h"
#include "core/fs/fs.h"

int rstate_name(char *out, size_t cap, uint32_t server_id, uint32_t group_id, uint8_t inst)
{
    char s[64];
    int rc = fs_session_name(s, sizeof(s), server_id, group_id, inst);
    if (rc < 0)
        return rc;
    return snprintf(out, cap, "%s.restart", s) < (int)cap ? 0 : -ENAMETOOLONG;
}

void rstate_free(struct rstate *r)
{
    free(r->map);
    r->map = NULL;
}

static size_t map_bytes(const struct rstate *r)
{
    return ((size_t)r->blocks + 7) / 8;
}

int rstate_write(int tempfd, const struct rstate *r)
{
    char leaf[96];
    int rc = rstate_name(leaf, sizeof(leaf), r->server_id, r->group_id, r->group_inst);
    if (rc < 0)
        return rc;
    size_t cap = 1024 + 3 * strlen(r->rel) + (r->has_file ? 2 * map_bytes(r) : 0);
    char *b = malloc(cap);
    if (b == NULL)
        return -ENOMEM;
    size_t n = (size_t)snprintf(b, cap,
                                "uftpd-restart %d\nserver 0x%08X\ngroup 0x%08X\ninstance %u\n"
                                "fingerprint ",
                                RSTATE_VERSION, r->server_id, r->group_id, (unsigned)r->group_inst);
    if (r->fplen == 0)
        b[n++] = '-';
    for (size_t i = 0; i < r->fplen; i++)
        n += (size_t)snprintf(b + n, cap - n, "%02X", r->fp[i]);
    n += (size_t)snprintf(b + n, cap - n, "\nfailed %" PRId64 "\nfile ", r->failed);
    if (!r->has_file) {
        n += (size_t)snprintf(b + n, cap - n, "-\n");
    } else {
        for (const unsigned char *c = (const unsigned char *)r->rel; *c; c++)
            n += (size_t)(*c <= ' ' || *c == '%' || *c == 0x7F
                              ? snprintf(b + n, cap - n, "%%%02X", *c)
                              : snprintf(b + n, cap - n, "%c", *c));
        n += (size_t)snprintf(b + n, cap - n, " %" PRIu64 " %" PRIu32 " %" PRIu32 "\nmap ", r->size,
                              r->blocksize, r->blocks);
        static const char hx[] = "0123456789ABCDEF";
        for (size_t i = 0; i < map_bytes(r); i++) {
            b[n++] = hx[r->map[i] >> 4];
            b[n++] = hx[r->map[i] & 15];
        }
        b[n++] = '\n';
    }
    n += (size_t)snprintf(b + n, cap - n, "end\n");
    rc = fs_replace(tempfd, leaf, b, n);
    free(b);
    return rc;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* n bytes from 2n upper-case hex digits; -1 on any other character. */
static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (h < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | lo);
    }
    return 0;
}

/* The whole file (at most 64 MiB: a map for 2^32 blocks is 1 GiB of hex, refused). */
static char *slurp(int tempfd, const char *leaf, size_t *len)
{
    int fd = openat(tempfd, leaf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct stat st;
    char *b = NULL;
    if (fstat(fd, &st) == 0 && st.st_size < (64 << 20) &&
        (b = malloc((size_t)st.st_size + 1)) != NULL) {
        *len = (size_t)st.st_size;
        b[*len] = '\0';
        if (fread(b, 1, *len, f) != *len) {
            free(b);
            b = NULL;
        }
    }
    fclose(f);
    return b;
}

int rstate_read(int tempfd, const char *leaf, struct rstate *r)
{
    memset(r, 0, sizeof(*r));
    size_t len;
    char *b = slurp(tempfd, leaf, &len);
    if (b == NULL || strlen(b) != len) {
        free(b);
        return -1;
    }
    int rc = -1, have = 0;
    char *save = NULL;
    unsigned long long v;
    char *end;
    for (char *line = strtok_r(b, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *arg = strchr(line, ' ');
        if (arg != NULL)
            *arg++ = '\0';
        if (arg == NULL && strcmp(line, "end") == 0) {
            have |= 64;
            break;
        }
        if (arg == NULL)
            goto out;
        if (have == 0) {
            if (strcmp(line, "uftpd-restart") != 0 || strtoull(arg, &end, 10) != RSTATE_VERSION ||
                *end != '\0')
                goto out;
            have |= 1;
        } else if (strcmp(line, "server") == 0 || strcmp(line, "group") == 0) {
            v = strtoull(arg, &end, 16);
            if (*end != '\0' || v == 0 || v > 0xFFFFFFFFu)
                goto out;
            if (line[0] == 's')
                r->server_id = (uint32_t)v;
            else
                r->group_id = (uint32_t)v;
            have |= line[0] == 's' ? 2 : 4;
        } else if (strcmp(line, "instance") == 0) {
            v = strtoull(arg, &end, 10);
            if (*end != '\0' || v > 255)
                goto out;
            r->group_inst = (uint8_t)v;
            have |= 8;
        } else if (strcmp(line, "fingerprint") == 0) {
            if (strcmp(arg, "-") != 0) {
                size_t l = strlen(arg);
                if (l % 2 || l / 2 > RSTATE_FP_MAX || l == 0 || unhex(arg, r->fp, l / 2) < 0)
                    goto out;
                r->fplen = (uint8_t)(l / 2);
            }
            have |= 16;
        } else if (strcmp(line, "failed") == 0) {
            long long t = strtoll(arg, &end, 10);
            if (*end != '\0' || t < 0)
                goto out;
            r->failed = t;
            have |= 32;
        } else if (strcmp(line, "file") == 0) {
            if (strcmp(arg, "-") == 0)
                continue;
            char *sz = strchr(arg, ' ');
            if (sz == NULL)
                goto out;
            *sz++ = '\0';
            size_t w = 0;
            for (char *c = arg; *c; c++) {
                int hi = 0, lo = 0;
                if (*c == '%' &&
                    ((hi = hexval(c[1])) < 0 || (lo = hexval(c[2])) < 0 || (hi | lo) == 0))
                    goto out;
                if (w + 1 >= sizeof(r->rel))
                    goto out;
                r->rel[w++] = *c == '%' ? (char)(hi << 4 | lo) : *c;
                if (*c == '%')
                    c += 2;
            }
            r->rel[w] = '\0';
            unsigned long long size, bs, nb;
            char tail;
            if (w == 0 || sscanf(sz, "%llu %llu %llu%c", &size, &bs, &nb, &tail) != 3 || bs == 0 ||
                bs > 65535 || nb > UINT32_MAX || nb != (size + bs - 1) / bs)
                goto out;
            r->size = size;
            r->blocksize = (uint32_t)bs;
            r->blocks = (uint32_t)nb;
            r->has_file = true;
        } else if (strcmp(line, "map") == 0 && r->has_file && r->map == NULL) {
            size_t mb = map_bytes(r);
            if (strlen(arg) != 2 * mb || (r->map = calloc(mb ? mb : 1, 1)) == NULL ||
                unhex(arg, r->map, mb) < 0)
                goto out;
        } else {
            goto out;
        }
    }
    if (have == 127 && (!r->has_file || r->map != NULL))
        rc = 0;
out:
    free(b);
    if (rc < 0)
        rstate_free(r);
    return rc;
}
