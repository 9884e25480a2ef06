/*
 * uftp's restart file (sender/restart.c, issue 13): what is written reads
 * back the same (items with spaces, '%' and control bytes, fingerprints,
 * the open marker), the write replaces the old file and leaves no .tmp,
 * and a truncated, unknown-version, out-of-range or foreign file is
 * refused with the line that is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"
#include "sender/restart.h"

static char dir[64], path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/uftp-restart-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rs", dir);
}

static void teardown(void)
{
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    unlink(path);
    rmdir(dir);
}

static void put(const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void)
{
    setup();
    struct restart w = {.group_id = 0x1234ABCD, .group_inst = 7, .grtt_us = 12345};
    char *items[] = {"/a b/c%d", "rel/\tx", "plain"};
    w.items = items;
    w.nitems = 3;
    uint8_t fp[20];
    for (int i = 0; i < 20; i++)
        fp[i] = (uint8_t)(i * 13);
    CU_ASSERT_EQUAL(restart_add_client(&w, 0x0A000002, NULL, 0), 0);
    CU_ASSERT_EQUAL(restart_add_client(&w, 0x0A000003, fp, 20), 0);
    CU_ASSERT_EQUAL(restart_write(path, &w), 0);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);

    struct restart r;
    char msg[128];
    CU_ASSERT_EQUAL_FATAL(restart_read(path, &r, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(r.group_id, 0x1234ABCD);
    CU_ASSERT_EQUAL(r.group_inst, 7);
    CU_ASSERT_EQUAL(r.grtt_us, 12345);
    CU_ASSERT_EQUAL_FATAL(r.nitems, 3);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(r.items[i], items[i]);
    CU_ASSERT_FALSE(r.open);
    CU_ASSERT_EQUAL_FATAL(r.nclients, 2);
    CU_ASSERT_EQUAL(r.clients[0].id, 0x0A000002);
    CU_ASSERT_EQUAL(r.clients[0].fplen, 0);
    CU_ASSERT_EQUAL(r.clients[1].id, 0x0A000003);
    CU_ASSERT_EQUAL(r.clients[1].fplen, 20);
    CU_ASSERT_EQUAL(memcmp(r.clients[1].fp, fp, 20), 0);
    restart_free(&r);

    /* Replaced: an open group with nobody known yet, no GRTT measured. */
    w.grtt_us = 0;
    w.nclients = 0;
    w.open = true;
    w.nitems = 1;
    CU_ASSERT_EQUAL(restart_write(path, &w), 0);
    CU_ASSERT_EQUAL_FATAL(restart_read(path, &r, msg, sizeof(msg)), 0);
    CU_ASSERT_TRUE(r.open);
    CU_ASSERT_EQUAL(r.grtt_us, 0);
    CU_ASSERT_EQUAL(r.nclients, 0);
    CU_ASSERT_EQUAL(r.nitems, 1);
    restart_free(&r);
    free(w.clients);
    teardown();
}

static void refused(const char *text, const char *why)
{
    struct restart r;
    char msg[128] = "";
    put(text);
    CU_ASSERT_EQUAL(restart_read(path, &r, msg, sizeof(msg)), -1);
    if (strstr(msg, why) == NULL)
        fprintf(stderr, "\n  wanted '%s', got '%s'\n", why, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, why));
    CU_ASSERT_EQUAL(r.nitems, 0);
    CU_ASSERT_PTR_NULL(r.clients);
}

static void test_refused(void)
{
    setup();
    const char *head = "uftp-restart 1\ngroup 0x12345678\ninstance 0\nitem /x\n";
    char buf[512];
    refused("", "empty");
    refused("\x7f"
            "ELF\n",
            "line 1: not a uftp restart file");
    refused("uftp-restart 3\n", "line 1: unknown version");
    refused("uftp-restart 0\n", "line 1: unknown version");
    /* grtt is version 2's: in a version 1 file it is an unknown line. */
    snprintf(buf, sizeof(buf), "%sgrtt 0.5\nopen\nend\n", head);
    refused(buf, "line 5: unknown line");
    refused("uftp-restart 2\ngroup 0x1\ninstance 1\ngrtt 0\nitem /x\nopen\nend\n",
            "line 4: bad grtt");
    refused("uftp-restart 2\ngroup 0x1\ninstance 1\ngrtt 1e9\nitem /x\nopen\nend\n",
            "line 4: bad grtt");
    refused("uftp-restart 2\ngroup 0x1\ninstance 1\ngrtt 0.5s\nitem /x\nopen\nend\n",
            "line 4: bad grtt");
    snprintf(buf, sizeof(buf), "%sclient 0x0A000002\n", head);
    refused(buf, "truncated");
    snprintf(buf, sizeof(buf), "%sclient 0x0A000002\nend", head);
    refused(buf, "line 6: too long or not terminated");
    snprintf(buf, sizeof(buf), "%send\n", head);
    refused(buf, "no receivers");
    refused("uftp-restart 1\ngroup 0\ninstance 0\nitem /x\nopen\nend\n", "line 2: bad group ID");
    refused("uftp-restart 1\ngroup 0x1\ninstance 256\nitem /x\nopen\nend\n",
            "line 3: bad instance");
    refused("uftp-restart 1\ngroup 0x1\ninstance 1\nitem /x%0\nopen\nend\n", "line 4: bad item");
    refused("uftp-restart 1\ngroup 0x1\ninstance 1\nitem /x%00\nopen\nend\n", "line 4: bad item");
    refused("uftp-restart 1\ngroup 0x1\ninstance 1\nopen\nend\n", "no items");
    snprintf(buf, sizeof(buf), "%sclient 0xFFFFFFFF\nend\n", head);
    refused(buf, "line 5: bad client ID");
    snprintf(buf, sizeof(buf), "%sclient 0x0A000002 ABC\nend\n", head);
    refused(buf, "line 5: bad fingerprint");
    snprintf(buf, sizeof(buf), "%sopen\nend\nopen\n", head);
    refused(buf, "line 7: text after 'end'");
    snprintf(buf, sizeof(buf), "%sbogus 1\nend\n", head);
    refused(buf, "line 5: unknown line");
    teardown();
}

/* A version 1 file (no grtt line) is read as before: no GRTT, -r's INIT applies. */
static void test_version1(void)
{
    setup();
    put("uftp-restart 1\ngroup 0x12345678\ninstance 3\nitem /x\nclient 0x0A000002\nend\n");
    struct restart r;
    char msg[128];
    CU_ASSERT_EQUAL_FATAL(restart_read(path, &r, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(r.group_inst, 3);
    CU_ASSERT_EQUAL(r.grtt_us, 0);
    CU_ASSERT_EQUAL(r.nclients, 1);
    restart_free(&r);
    put("uftp-restart 2\ngroup 0x12345678\ninstance 3\ngrtt 2.5\nitem /x\nopen\nend\n");
    CU_ASSERT_EQUAL_FATAL(restart_read(path, &r, msg, sizeof(msg)), 0);
    CU_ASSERT_EQUAL(r.grtt_us, 2500000);
    restart_free(&r);
    teardown();
}

static const struct cu_test restart_tests[] = {
    {"written, read back, replaced", test_round_trip},
    {"refused: truncated, versions, ranges, foreign", test_refused},
    {"version 1 read (no GRTT); version 2's grtt", test_version1},
    {NULL, NULL},
};

CU_MAIN({"shell/restart", restart_tests})
