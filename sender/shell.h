/*
 * uftp's shell: the libevent program around the sender engine
 * (DESIGN.md "Engines without I/O"). main.c reads the options and builds
 * the engine's configuration; shell.c owns the socket, the timer, the
 * signals, the file reads, the progress line and the status file.
 */
#ifndef UFTP_SENDER_SHELL_H
#define UFTP_SENDER_SHELL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/fs/walk.h"
#include "core/net/batch.h"
#include "core/net/sock.h"
#include "sender/engine/engine.h"
#include "sender/opts.h"

struct event_base;
struct event;
struct status_sink;

/* One receiver's results over the session (spec §2.1 STATS; the final summary). */
struct shell_client {
    uint32_t id;
    const char *name; /* the -H entry as written, or NULL: "0x%08X" */
    bool connected;   /* registered */
    int ncopy, nover, nskip, nfail;
    uint64_t bytes;    /* copied or overwritten */
    double secs;       /* their transfer times */
    int last;          /* enum sender_result of its last file, -1 before any */
    int64_t freespace; /* @FREESPACE answer not yet written after its RESULT, -1 = none */
};

/* In order of appearance, with an ID index (open addressing; up to SENDER_MAX_DEST). */
struct shell_clients {
    struct shell_client *v;
    size_t n, cap;
    uint32_t *slot; /* index + 1, 0 = empty */
    size_t nslot;
};

/* Batches sent before the shell goes back to its event loop (unpaced sending). */
#define SHELL_BURST 8

struct uftp {
    struct uftp_settings set;
    struct sender_config cfg;
    struct sender_dest *dests;   /* -H */
    struct sender_dest *proxies; /* -j */
    struct crypto_key *key;      /* -k / -K, or NULL: the engine makes an ephemeral one */
    struct file_item *items;     /* the files, strings owned */
    size_t nitems;

    struct net_sock sock;
    struct net_tx tx;
    struct net_rx rx;
    struct sender *eng;

    struct event_base *base;
    struct event *ev_read, *ev_write, *ev_timer, *ev_kick, *ev_int, *ev_term, *ev_progress;

    /* One output buffer; while a batch is held (EAGAIN) the engine is not polled. */
    uint8_t *buf;
    size_t cap;
    struct eng_out out;
    size_t max_seg; /* datagrams per data batch (batch_size()); 0 = ENG_MAX_SEG */
    bool held;
    size_t held_sent; /* segments of the held batch already sent */
    bool interrupted;
    bool finished;
    int exit_code;

    /* Progress and results. */
    bool progress; /* a status line on the terminal */
    bool progress_shown;
    uint64_t start_us;
    uint64_t last_tick_us, last_tick_bytes;
    double rate_Bps;    /* smoothed data rate */
    uint32_t cur_index; /* file index file_start_bytes belongs to */
    uint64_t file_start_bytes;
    uint32_t res_index;            /* file index the result counters belong to */
    uint32_t cur_done, cur_failed; /* clients finished / failed for that file */
    unsigned plain_ticks;          /* progress ticks without a terminal */
    uint64_t files_ok, bytes_ok;   /* files that reached someone */
    struct status_sink *status;    /* -S, or NULL */
    struct shell_clients clients;  /* per-receiver results: -S STATS, the summary */
    uint64_t total_bytes;          /* of the regular files to send (the ETA) */
};

/* Runs the session to its end; returns the exit code (spec §2.1). */
int shell_run(struct uftp *u);
/* Frees what shell_run allocated (the engine, the loop, the buffers). */
void shell_free(struct uftp *u);

/* The storage and rng callbacks the engine is given. */
extern const struct sender_storage shell_storage;
void shell_event(void *ctx, const struct sender_event *ev);

#endif
