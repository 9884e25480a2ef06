/*
 * uftp --summary-json FILE (issue 15): the session's result per receiver
 * as one JSON document, for scripts that would otherwise parse the log.
 * Its schema is docs/uftp-summary.schema.json; keep the two together.
 * Written once, at the end, whatever the exit code, and atomically
 * (textfile_write: a script polling for the file never reads half of it).
 */
#include "sender/jsonsum.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/daemon/metrics.h"

/* By exit code (spec §2.1, SENDER_EXIT_*). */
static const char *const exit_words[] = {
    "ok",          "parameters",  "socket",      "crypto",  "logging",  "memory",
    "interrupted", "no_register", "no_fileinfo", "dropped", "no_files",
};

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k;
    uint32_t c;
    if (p[0] < 0xC2 || p[0] > 0xF4)
        return 0;
    k = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    if (k > n)
        return 0;
    c = p[0] & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return k;
}

/* A JSON string: quotes, backslashes and controls escaped; invalid UTF-8 as U+FFFD. */
static void jstr(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            size_t k = utf8_len(p + i, n - i);
            if (k == 0) {
                fputs("\\ufffd", f);
                i++;
            } else {
                fwrite(p + i, 1, k, f);
                i += k;
            }
        }
    }
    fputc('"', f);
}

static void jtime(FILE *f, int64_t unix_us)
{
    time_t t = (time_t)(unix_us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[40];
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "\"%s.%03dZ\"", b, (int)(unix_us % 1000000 / 1000));
}

/* "no reply" is two words in the table; one token here. */
static const char *state_token(const char *state)
{
    return strcmp(state, "no reply") == 0 ? "no_reply" : state;
}

static void receiver(FILE *f, const struct result_row *c, bool last)
{
    char nb[11], id[11];
    snprintf(id, sizeof(id), "0x%08X", c->id);
    const char *state = results_state(c);
    fprintf(f, "    {\"id\": \"%s\", \"name\": ", id);
    jstr(f, results_name(c, nb));
    fprintf(f, ", \"state\": \"%s\", \"registered\": %s,\n", state_token(state),
            c->connected ? "true" : "false");
    fprintf(f,
            "     \"files\": {\"copied\": %d, \"overwritten\": %d, \"skipped\": %d, \"failed\": "
            "%d},\n",
            c->ncopy, c->nover, c->nskip, c->nfail);
    fprintf(f, "     \"bytes\": %" PRIu64 ", \"time_s\": %.3f, \"rate_bytes_per_s\": %.0f,\n",
            c->bytes, c->secs, c->secs > 0 ? (double)c->bytes / c->secs : 0.0);
    /* Why it did not finish: its own words, else what the state says. */
    char why[64];
    const char *reason = NULL;
    if (c->reason[0] != '\0') {
        reason = c->reason;
    } else if (!c->connected) {
        reason = "no reply to the announcement";
    } else if (c->nfail > 0) {
        snprintf(why, sizeof(why), "%d file%s not received", c->nfail, c->nfail == 1 ? "" : "s");
        reason = why;
    } else if (strcmp(state, "done") != 0) {
        reason = state; /* the schema: every other state says why */
    }
    fputs("     \"reason\": ", f);
    jstr(f, reason);
    fprintf(f, "}%s\n", last ? "" : ",");
}

int jsonsum_write(const char *path, const struct result_table *t, const struct jsonsum_info *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return -errno;
    fputs("{\n  \"format\": \"uftp-summary\",\n  \"version\": 1,\n", f);
    if (in->have_group)
        fprintf(f, "  \"group_id\": \"%08X\",\n", in->group_id);
    else
        fputs("  \"group_id\": null,\n", f);
    int code = in->exit_code;
    fprintf(f, "  \"exit_code\": %d,\n  \"exit\": \"%s\",\n", code,
            code >= 0 && (size_t)code < sizeof(exit_words) / sizeof(exit_words[0])
                ? exit_words[code]
                : "other");
    fputs("  \"started\": ", f);
    jtime(f, in->start_unix_us);
    fputs(",\n  \"ended\": ", f);
    jtime(f, in->end_unix_us);
    fprintf(f, ",\n  \"duration_s\": %.3f,\n", (double)(in->end_unix_us - in->start_unix_us) / 1e6);
    fprintf(f, "  \"files\": {\"count\": %zu, \"bytes\": %" PRIu64 "},\n", in->nfiles,
            in->total_bytes);
    fputs("  \"receivers\": [\n", f);
    for (size_t i = 0; t != NULL && i < t->n; i++)
        receiver(f, &t->v[i], i + 1 == t->n);
    fputs("  ]\n}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    /* As any file the user makes: the umask decides. */
    mode_t um = umask(0);
    umask(um);
    int rc = textfile_write(path, buf, len, 0666 & ~(unsigned)um);
    free(buf);
    return rc;
}
