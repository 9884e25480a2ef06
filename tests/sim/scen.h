/*
 * The scenario harness of tests/sim: what every scenario program
 * (scenarios.c, proxy_scenarios.c, v4_scenarios.c, tests/hostile/
 * sim_hostile.c) shares on top of the virtual network of sim.h (README.md).
 *
 * Writing a scenario: a function void scen_x(uint64_t seed) in a program's
 * table, which builds a run from that seed, runs it and CHECKs the outcome:
 *
 *     static void scen_x(uint64_t seed)
 *     {
 *         struct run *r = run_new(seed);
 *         scen_file(r->s, r->f, "a", 70000);               // the sender's files
 *         struct sim_link lk = {.loss_pct = 5, .delay_us = 500};
 *         run_receivers(r, 3, &lk, NULL);                  // 3 receivers (tweak: NULL)
 *         run_sender(r);                                   // r->sc: defaults; adjust it
 *         run_add_sender(r, NULL);
 *         run_expect(r, 0);                                // finished, exit 0
 *         run_delivered(r);                                // every file, byte for byte
 *         run_free(r);
 *     }
 *
 * Everything random (file contents, loss, jitter, the engines' rng) comes
 * from the seed: the same seed gives the same run. Make every sub-run's
 * seed a function of the scenario's (seed + k), and never compare a file's
 * bytes yourself: check_delivered / scen_holds are the one place contents
 * are compared (a later store keeps a running digest instead of the bytes,
 * for 10,000 receivers, without any scenario changing).
 *
 * Running: PROG runs every scenario with its table seed; PROG NAME runs
 * one, PROG NAME SEED with another seed; -v adds the engines' logs and the
 * traffic summaries, -l lists the scenarios. A failed CHECK prints
 *     FAIL NAME seed=SEED [case] (file:line): message
 * and the scenario's line is followed by how to replay it. SIM_TRACE=1
 * prints every delivery, SIM_TRACE=hash each sim's trace hash (sim.h).
 */
#ifndef UFTP_TEST_SCEN_H
#define UFTP_TEST_SCEN_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "sim.h"

#define SEC      UINT64_C(1000000)
#define LIMIT_US (UINT64_C(3600) * SEC)

/* ------------------------------------------------------------ checks */

extern const char *scen_pcap;   /* --pcap FILE */
extern const char *scen_corpus; /* --corpus DIR */
extern bool scen_verbose;       /* -v or SIM_VERBOSE: figures and traffic summaries */
extern int scen_fails;          /* failed checks so far */

__attribute__((format(printf, 3, 4))) void scen_fail(const char *file, int line, const char *fmt,
                                                     ...);
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            scen_fail(__FILE__, __LINE__, __VA_ARGS__);                                            \
    } while (0)

/* Names the sub-case in later failure messages (a cipher, a variant); NULL clears it. */
__attribute__((format(printf, 1, 2))) void scen_case(const char *fmt, ...);

/* ------------------------------------------------------------ the table and main */

struct scen {
    const char *name;
    void (*fn)(uint64_t seed);
    uint64_t seed; /* its default */
};

struct scen_prog {
    const char *name; /* the program, for usage and replay lines */
    const struct scen *tab;
    size_t n;
    /* --corpus DIR: writes fuzz seeds and exits; NULL: sets scen_corpus and runs as asked. */
    int (*corpus)(const char *dir);
};

#define SCEN_PROG(name, tab, corpus)                                                               \
    {                                                                                              \
        name, tab, sizeof(tab) / sizeof((tab)[0]), corpus                                          \
    }

/* Parses [-v] [-l] [--pcap FILE] [--corpus DIR] [NAME [SEED]], runs, frees the keys. */
int scen_main(const struct scen_prog *p, int argc, char **argv);

/* ------------------------------------------------------------ keys (made once, on first use) */

enum scen_key {
    SK_EC256, /* a server's P-256 key */
    SK_RSA,   /* a server's RSA-2048 key */
    SK_CLIENT0,
    SK_CLIENT1,
    SK_CLIENT2, /* clients: P-384, RSA-2048, P-521 */
    SK_PROXY0,
    SK_PROXY1,
    SK_PROXY2,
    SK_PROXY3, /* proxies: P-256 */
    SK_COUNT
};
struct crypto_key *scen_key(enum scen_key k);
/* A key's fingerprint (-H / -S / -R lists). */
void scen_fp(const struct crypto_key *k, uint8_t *fp, uint8_t *fplen);

/* ------------------------------------------------------------ file sets */

#define SCEN_MAX_FILES 512

/* The sender's files: items, and a regular file's bytes (a blob of the sim). */
struct scen_files {
    struct file_item it[SCEN_MAX_FILES];
    const uint8_t *data[SCEN_MAX_FILES];
    char names[SCEN_MAX_FILES][WIRE_MAX_PATH + 1];
    char paths[SCEN_MAX_FILES][48];
    size_t n;
    int64_t mtime_step; /* seconds between regular files' mtimes (0: 1) */
};

/* A regular file of len pseudo-random bytes (drawn from the sim's PRNG). */
struct file_item *scen_file(struct sim *s, struct scen_files *f, const char *name, size_t len);
/* A directory, link (to link), @DELETE or @FREESPACE entry. */
struct file_item *scen_entry(struct scen_files *f, int type, const char *name, const char *link);
/* n files "dA/subB/fNNN" of up to max-1 bytes (sizes from the sim's PRNG). */
void scen_tree(struct sim *s, struct scen_files *f, int n, size_t max);
/* sim_readback_fn over a struct scen_files (arg): the bytes of the regular file named rel. */
const uint8_t *scen_readback(void *arg, const char *rel, uint64_t size);

/* ------------------------------------------------------------ checks on receivers */

/* Whether m holds exactly data[0..len): bytes, and the store's running digest of them. */
bool scen_same(const struct sim_mfile *m, const uint8_t *data, size_t len);
/* (dest, rel) is a visible regular file of exactly data[0..len). */
bool scen_holds(const struct sim_store *st, size_t dest, const char *rel, const uint8_t *data,
                size_t len);
/*
 * Receiver node rx holds every entry of f under dest 0 exactly: type,
 * contents, mtime, link target (@DELETE and @FREESPACE aside), and its
 * storage saw no bad or repeated write.
 */
void check_delivered(struct sim *s, int rx, const struct scen_files *f);
/* Receiver node rx joined its public group and left every group it joined since. */
void check_balanced(struct sim *s, int rx);

/* ------------------------------------------------------------ on the wire */

#define SCEN_MAX_NODES 512

/* ENCRYPTED datagrams' counters per source ID, for "a nonce is never reused". */
#define SCEN_MAX_SRC 512
struct scen_nonces {
    uint32_t src[SCEN_MAX_SRC];
    uint64_t *ctrs[SCEN_MAX_SRC];
    size_t n[SCEN_MAX_SRC], cap[SCEN_MAX_SRC];
    unsigned nsrc, reused; /* sources seen; counters seen again */
};
void scen_nonce(struct scen_nonces *w, uint32_t src, uint64_t ctr);
void scen_nonces_free(struct scen_nonces *w);

/* ------------------------------------------------------------ traffic at the sender */

/*
 * What the sender sent and what reached it (datagrams to its address),
 * counted by a run from the start; printed by run_free with -v.
 */
struct scen_traffic {
    int node;       /* the sender (run_add_sender) */
    struct addr at; /* its address */
    uint32_t id;    /* a source ID counted apart (a proxy's); 0 = none */
    uint64_t sent, sent_bytes, got, got_bytes;
    unsigned sent_func[32], got_func[32]; /* by message type (ENCRYPTED as one) */
    unsigned got_v4;                      /* with a v4 header */
    unsigned got_id;                      /* with source ID id */
    unsigned got_node[SCEN_MAX_NODES];    /* from each node (the first SCEN_MAX_NODES) */
};

/* ------------------------------------------------------------ a run */

#define SCEN_MAX_RX   1024
#define SCEN_MAX_TAPS 4

/* Sender events of a run, tallied. */
struct scen_events {
    unsigned results[8]; /* by enum sender_result */
    unsigned connects_ok, connects_fail, freespace;
    uint64_t freespace_val;
    uint64_t file_elapsed_us; /* the last file's data phase: its start to its end */
    uint64_t file_end_us;     /* the virtual time of the last file's end (SENDER_EV_FILE) */
};
extern struct scen_events scen_ev; /* the current run's (run_new resets it) */

/*
 * One sim with a sender, receivers and proxies (a topology). Nodes are
 * numbered in the order they are added; sim_set_net() before adding puts
 * them on other networks (sim.h).
 */
struct run {
    struct sim *s;
    struct scen_files *f;    /* the sender's files */
    struct sender_config sc; /* run_sender() */
    struct receiver_config rc[SCEN_MAX_RX];
    struct sender_dest dests[SCEN_MAX_RX]; /* run_closed(): every receiver's ID */
    struct receiver_server srv[1];         /* the sender, once added (a -S entry for tweaks) */
    struct proxy_config pc[4];             /* run_proxy(k) */
    struct sender_dest proxies[4];         /* a -j list for the sender */
    struct addr pub;                       /* public group 0 */
    struct addr hb[4];                     /* heartbeat targets for configs */
    int tx, rx[SCEN_MAX_RX], px[4], nrx;
    struct scen_traffic traffic;
    sim_tap_fn taps[SCEN_MAX_TAPS];
    void *tap_args[SCEN_MAX_TAPS];
    int ntaps;
};

struct run *run_new(uint64_t seed);
void run_free(struct run *r);
/* Makes the network IPv6 (before adding nodes) and recomputes pub. */
void run_ipv6(struct run *r, bool v6);
/* Adds a tap (sim_set_tap's, several per run, called in the order added). */
void run_tap(struct run *r, sim_tap_fn fn, void *arg);

/*
 * Adds n receivers with the link: defaults, dests "/dest0" and "/dest1",
 * public group r->pub; tweak (may be NULL) adjusts each config first.
 */
void run_receivers(struct run *r, int n, const struct sim_link *link,
                   void (*tweak)(struct run *r, int i, struct receiver_config *c));
/* A receiver config with the harness's defaults, for receivers added by hand. */
void scen_receiver_defaults(struct receiver_config *c, const struct addr *pub);

/* Fills c with the defaults (100 Mbit/s; SIM_NOENC set: in clear) sending f. */
void scen_sender_defaults(struct sender_config *c, const struct scen_files *f);
/* r->sc with those defaults and r->f; returns it for adjusting. */
struct sender_config *run_sender(struct run *r);
/* A closed group: r->sc lists every receiver added so far (r->dests). */
void run_closed(struct run *r);
/* Adds the sender of r->sc (events tallied in scen_ev); returns its node. */
int run_add_sender(struct run *r, const struct sim_link *link);

/*
 * Adds proxy k (r->pc[k], filled by the caller after proxy_config_defaults)
 * with role, public group r->pub and key SK_PROXY0 + k unless it has one;
 * its first interface on net a, a second on net b (-1: none). Leaves the
 * sim's current network at a.
 */
int run_proxy(struct run *r, int k, enum proxy_role role, int a, int b,
              const struct sim_link *link);

/* Runs until done (LIMIT_US): CHECKs that it finished and the sender's exit code. */
void run_expect(struct run *r, int exit_code);
/* check_delivered for every receiver of the run and the sender's files. */
void run_delivered(struct run *r);
/* The stats of receiver r->rx[i], the sender, proxy r->px[k]. */
struct receiver_stats rx_stats(struct run *r, int i);
struct sender_stats tx_stats(struct run *r);
struct proxy_stats px_stats(struct run *r, int k);

/* ------------------------------------------------------------ fuzz seeds */

/*
 * The engine fuzz targets' records (tests/fuzz/fuzz_engine.h): [ms step]
 * [tag, if tag >= 0] [length BE16] [bytes], a gap over 255 ms as empty
 * records. last: the time of the previous record.
 */
void scen_seed_put(FILE *f, uint64_t *last, uint64_t t, int tag, const uint8_t *p, size_t len);
/* Opens DIR/SUB/NAME for writing, with a first byte lead (when >= 0); NULL with a message. */
FILE *scen_seed_open(const char *dir, const char *sub, const char *name, int lead);

#endif
