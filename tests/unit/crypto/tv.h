/*
 * Test-vector helpers for the crypto suites: hex decoding and a small
 * reader for the vector files under tests/unit/crypto/vectors/.
 *
 * Vector file format: "[title]" starts a case; "name = value" lines follow;
 * '#' starts a comment line. Values are hex unless a test says otherwise.
 */
#ifndef UFTP_TEST_TV_H
#define UFTP_TEST_TV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

#define TV_MAX_ENTRIES 64
#define TV_MAX_CASES   16

struct tv_entry {
    const char *name;
    const char *value;
};

struct tv_case {
    const char *title;
    struct tv_entry e[TV_MAX_ENTRIES];
    size_t n;
};

struct tv_file {
    char *buf;
    struct tv_case c[TV_MAX_CASES];
    size_t n;
};

/* Decodes hex (whitespace ignored) into out; returns the byte count or -1. */
static inline long tv_hex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else if (*p == ' ' || *p == '\n' || *p == '\t')
            continue;
        else
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi < 0 ? (long)n : -1;
}

/* True when p[0..n) equals the hex string exactly. */
static inline bool tv_eq(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t buf[16384];
    long l = tv_hex(buf, sizeof(buf), hex);
    if (l != (long)n || memcmp(buf, p, n) != 0) {
        fprintf(stderr, "\n  want %s\n  got  ", hex);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02x", p[i]);
        fprintf(stderr, "\n");
        return false;
    }
    return true;
}

static inline void tv_free(struct tv_file *f)
{
    free(f->buf);
    f->buf = NULL;
    f->n = 0;
}

/* Loads a vector file relative to the source tree; false on any error. */
static inline bool tv_load(struct tv_file *f, const char *rel)
{
    memset(f, 0, sizeof(*f));
    FILE *fp = fopen(cu_srcpath(rel), "r");
    if (!fp)
        return false;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = calloc(1, (size_t)sz + 1);
    if (!f->buf || fread(f->buf, 1, (size_t)sz, fp) != (size_t)sz) {
        fclose(fp);
        tv_free(f);
        return false;
    }
    fclose(fp);
    struct tv_case *c = NULL;
    for (char *line = strtok(f->buf, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ')
            line++;
        if (*line == '#' || *line == '\0')
            continue;
        if (*line == '[') {
            if (f->n == TV_MAX_CASES)
                return false;
            c = &f->c[f->n++];
            c->title = line + 1;
            char *e = strchr(line, ']');
            if (e)
                *e = '\0';
            continue;
        }
        char *eq = strchr(line, '=');
        if (!c || !eq || c->n == TV_MAX_ENTRIES)
            return false;
        char *end = eq;
        while (end > line && end[-1] == ' ')
            end--;
        *end = '\0';
        char *v = eq + 1;
        while (*v == ' ')
            v++;
        c->e[c->n].name = line;
        c->e[c->n].value = v;
        c->n++;
    }
    return f->n > 0;
}

/* The value of name in case c, or "" (and a test failure) when missing. */
static inline const char *tv_get(const struct tv_case *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].name, name))
            return c->e[i].value;
    fprintf(stderr, "\n  vector '%s' lacks '%s'\n", c->title, name);
    CU_FAIL("missing vector entry");
    return "";
}

/* Decodes entry name of case c into out; returns its length (or -1). */
static inline long tv_bytes(const struct tv_case *c, const char *name, uint8_t *out, size_t cap)
{
    long n = tv_hex(out, cap, tv_get(c, name));
    CU_ASSERT_TRUE(n >= 0);
    return n;
}

#endif
