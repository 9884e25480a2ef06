/*
 * uftp's progress line (sender/progress.c): what it shows while announcing,
 * while the first pass flows (percentage, rate, ETA of the session), after
 * it (no ETA: what it is waiting for), on later passes and at the end.
 */
#include <stdio.h>
#include <string.h>

#include "cu.h"
#include "sender/progress.h"

static char line[256];

static const char *draw(const struct sender_stats *st, uint64_t sent, double rate, uint32_t done,
                        uint32_t failed)
{
    struct progress_in in = {.st = st,
                             .name = "big.iso",
                             .nitems = 3,
                             .sent = sent,
                             .bytes_before = 1000,
                             .total_bytes = 1000 + 2000000 + 500,
                             .rate_Bps = rate,
                             .done = done,
                             .failed = failed};
    int n = progress_line(line, sizeof(line), &in);
    CU_ASSERT(n > 0 && (size_t)n < sizeof(line));
    return line;
}

static struct sender_stats data_stats(void)
{
    struct sender_stats st;
    memset(&st, 0, sizeof(st));
    st.phase = SENDER_PH_DATA;
    st.file_index = 1;
    st.file_size = 2000000;
    st.pass = 1;
    st.active = 2;
    return st;
}

#define HAS(s, sub)                                                                                \
    do {                                                                                           \
        if (strstr(s, sub) == NULL)                                                                \
            printf("\n  no '%s' in '%s'\n", sub, s);                                               \
        CU_ASSERT_PTR_NOT_NULL(strstr(s, sub));                                                    \
    } while (0)
#define HASNT(s, sub)                                                                              \
    do {                                                                                           \
        if (strstr(s, sub) != NULL)                                                                \
            printf("\n  '%s' in '%s'\n", sub, s);                                                  \
        CU_ASSERT_PTR_NULL(strstr(s, sub));                                                        \
    } while (0)

static void test_first_pass(void)
{
    struct sender_stats st = data_stats();
    /* Half the file at 100 kB/s: the rest of it and the last file, 10 s. */
    const char *l = draw(&st, 1000000, 100000, 0, 0);
    HAS(l, "2/3 big.iso  50% 100.0 KB/s ETA 0:10 | receivers: 0 done, 2 active, 0 lost");
}

/* The first pass is out and a receiver stays silent (dead): no ETA, at any rate. */
static void test_waiting(void)
{
    struct sender_stats st = data_stats();
    const char *l = draw(&st, 2000000, 50000, 1, 0);
    HASNT(l, "ETA");
    HAS(l, "2/3 big.iso 100% sent, waiting for 1 receiver | receivers: 1 done, 1 active, 0 lost");
    /* The smoothed rate falls while nothing is sent: still no ETA. */
    l = draw(&st, 2000000, 3, 0, 0);
    HASNT(l, "ETA");
    HAS(l, "100% sent, waiting for 2 receivers |");
    /* An empty file has nothing to send: it is waiting at once. */
    st.file_size = 0;
    l = draw(&st, 0, 80000, 0, 0);
    HASNT(l, "ETA");
    HAS(l, "100% sent, waiting for 2 receivers");
}

static void test_later_passes(void)
{
    struct sender_stats st = data_stats();
    st.pass = 3;
    const char *l = draw(&st, 2600000, 40000, 1, 0);
    HASNT(l, "ETA");
    HAS(l, "2/3 big.iso 100% pass 3 40.0 KB/s | receivers: 1 done, 1 active, 0 lost");
}

static void test_other_phases(void)
{
    struct sender_stats st;
    memset(&st, 0, sizeof(st));
    st.phase = SENDER_PH_ANNOUNCE;
    st.group_id = 0x1234ABCD;
    st.clients = 4;
    HAS(draw(&st, 0, 0, 0, 0), "announcing group 1234ABCD: 4 registered");
    st = data_stats();
    st.phase = SENDER_PH_FILEINFO;
    HAS(draw(&st, 0, 0, 0, 0), "2/3 big.iso   0%");
    HASNT(line, "ETA");
    st.phase = SENDER_PH_COMPLETION;
    st.active = 3;
    HAS(draw(&st, 0, 0, 0, 0), "completing: 3 active");
}

static const struct cu_test progress_tests[] = {
    {"first pass: percentage, rate, ETA", test_first_pass},
    {"after the first pass: no ETA, what it waits for", test_waiting},
    {"later passes", test_later_passes},
    {"announce, FILEINFO, completion", test_other_phases},
    {NULL, NULL},
};

CU_MAIN({"shell/progress", progress_tests})
