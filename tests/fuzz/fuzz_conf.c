/*
 * Fuzzes the libconfig-file loader over a table with every option type.
 * Property: whatever loads prints (--check) to text that loads back and
 * prints identically.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 leaks its string buffer on some syntax errors after a
 * string token (`x = 5; "ab"`). A failed config load ends the program, so
 * only the fuzzer ever sees it; our own allocations stay checked.
 */
const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

struct pair {
    long long a, b;
};

struct fz {
    bool flag;
    int small;
    long long big;
    long long size;
    double real;
    char *str;
    int word;
    struct conf_list list;
    struct pair pair;
};

/* A custom value "A:B" with A <= B. */
static int pair_parse(const struct conf_option *o, const char *text, void *dst, char *msg,
                      size_t ml)
{
    struct pair *p = dst;
    char a[32];
    const char *c = strchr(text, ':');
    if (!c || (size_t)(c - text) >= sizeof(a))
        goto bad;
    memcpy(a, text, (size_t)(c - text));
    a[c - text] = '\0';
    if (conf_parse_ll(a, -1000, 1000, &p->a) < 0 || conf_parse_ll(c + 1, -1000, 1000, &p->b) < 0 ||
        p->a > p->b)
        goto bad;
    return 0;
bad:
    snprintf(msg, ml, "must be A:B");
    return CONF_EVALUE;
}

static int pair_print(const struct conf_option *o, const void *src, char *buf, size_t len)
{
    const struct pair *p = src;
    snprintf(buf, len, "%lld:%lld", p->a, p->b);
    return 0;
}

static const struct conf_word words[] = {{"one", 1}, {"uno", 1}, {"two", 2}, {NULL, 0}};

#define F struct fz
static const struct conf_option opts[] = {
    {.name = "flag", .short_name = 'f', .type = CONF_BOOL, CONF_FIELD(F, flag)},
    {.name = "small", .type = CONF_INT, .min = -5, .max = 500, .def = "7", CONF_FIELD(F, small)},
    {.name = "big", .type = CONF_INT, CONF_FIELD(F, big)},
    {.name = "size", .type = CONF_SIZE, .min = 0, .max = 1LL << 40, CONF_FIELD(F, size)},
    {.name = "real", .type = CONF_DOUBLE, .def = "0.5", CONF_FIELD(F, real)},
    {.name = "str", .type = CONF_STRING, CONF_FIELD(F, str)},
    {.name = "word", .type = CONF_ENUM, .words = words, .def = "two", CONF_FIELD(F, word)},
    {.name = "list", .type = CONF_LIST, .list_max = 8, CONF_FIELD(F, list)},
    {.name = "pair",
     .type = CONF_CUSTOM,
     .parse = pair_parse,
     .print = pair_print,
     .def = "1:2",
     CONF_FIELD(F, pair)},
    {.name = NULL},
};
#undef F

static const struct conf_spec spec = {"fuzz", NULL, opts, NULL, 0};

static char *print(const struct fz *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    if (conf_print(&spec, s, f) != 0)
        __builtin_trap();
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz s, t;
    struct conf_err e;
    memset(&s, 0, sizeof(s));
    memset(&t, 0, sizeof(t));
    if (conf_defaults(&spec, &s, &e) != 0)
        __builtin_trap();
    int rc = conf_load_buffer(&spec, &s, "fuzz.conf", (const char *)data, size, &e);
    if (rc < 0 && (strncmp(e.msg, "fuzz.conf", 9) != 0 || e.code != rc))
        __builtin_trap();
    if (rc == 0) {
        char *one = print(&s);
        conf_defaults(&spec, &t, &e);
        if (!one || conf_load_buffer(&spec, &t, "again", one, strlen(one), &e) != 0)
            __builtin_trap();
        char *two = print(&t);
        if (!two || strcmp(one, two) != 0)
            __builtin_trap();
        free(one);
        free(two);
    }
    conf_free(&spec, &s);
    conf_free(&spec, &t);
    return 0;
}
