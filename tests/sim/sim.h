/*
 * A virtual network with virtual time for the engines (DESIGN.md "Engines
 * without I/O", tests/sim).
 *
 * One process, one event queue: senders and receivers are engines; every
 * datagram they emit is delivered to its unicast target or to every member
 * of its multicast group (memberships follow the engines' JOIN / LEAVE,
 * with source filtering for SSM), each copy independently lost, delayed
 * (with jitter, so reordered) or duplicated according to both ends' link
 * parameters. Randomness comes from one xoshiro256** seeded from the
 * scenario seed: the same seed gives the same trace, whose hash is kept.
 * With SIM_TRACE=1 in the environment every delivery is printed to stderr,
 * and when a sim is freed its end time, deliveries and trace hash; with
 * SIM_TRACE=hash only the latter (compare two builds' runs with it).
 *
 * Storage is in memory: the sender reads registered blobs; each receiver
 * keeps a table of visible files (only completed ones) and in-progress
 * handles, with optional write-failure and free-space injection; with
 * sim_set_digest_only a receiver keeps no bytes, only each file's digest.
 */
#ifndef UFTP_TEST_SIM_H
#define UFTP_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/wire/fileinfo.h"
#include "proxy/engine/engine.h"
#include "receiver/engine/engine.h"
#include "sender/engine/engine.h"

/* Link behaviour of a node, applied to every packet it sends or receives. */
struct sim_link {
    unsigned loss_pct;  /* 0..100, each direction */
    unsigned dup_pct;   /* 0..100 */
    uint64_t delay_us;  /* one-way base delay */
    uint64_t jitter_us; /* extra uniform 0..jitter: reorders */
};

/*
 * A bottleneck in front of a node (its access link, receive direction):
 * every datagram towards the node, after the propagation delays of both
 * links, passes one FIFO served at rate_Bps (bytes of UDP payload + 28 per
 * datagram, as the NIC model counts). A datagram that finds more than
 * qlimit bytes queued ahead of it is dropped (drop-tail); with ecn_thresh > 0
 * an ECN-capable one (its sender's TOS has ECT set, sim_set_tos) that finds
 * more than ecn_thresh bytes queued is delivered with CE (TOS | 3) instead.
 * Queueing delay and loss are thus those of a real path with a slow hop.
 * No randomness is drawn: traces stay as they were without one. The FIFO
 * serves datagrams in the order they are routed (exact for one sender
 * without jitter; an approximation when jittered copies overtake).
 */
struct sim_bneck {
    uint64_t rate_Bps;   /* 0 = no bottleneck */
    uint64_t qlimit;     /* bytes */
    uint64_t ecn_thresh; /* bytes; 0 = never mark */
};

struct sim_bneck_stats {
    uint64_t pkts, bytes;       /* datagrams and bytes that went through */
    uint64_t drops, marks;      /* dropped at a full queue; CE-marked */
    uint64_t max_backlog;       /* bytes queued ahead of a datagram, at most */
    uint64_t max_delay_us;      /* queueing + service delay, at most */
    uint64_t first_us, last_us; /* first and last departure */
    uint64_t max_10ms;          /* most bytes that left in one aligned 10-ms window */
    uint64_t win, win_bytes;    /* (the current window) */
};

/* A file in a receiver's memory store. */
struct sim_mfile {
    size_t dest;
    char rel[WIRE_MAX_PATH + 64];
    int type; /* FTYPE_REG / _DIR / _LINK */
    uint8_t *data;
    uint64_t size;
    uint64_t written;
    uint64_t digest; /* the sum of sim_digest over every write */
    int64_t mtime;
    char link[WIRE_MAX_PATH + 1];
    bool visible; /* completed (or created) at its name */
    bool in_use;
    /* Restart (issue 13, sim_store.restart): who wrote it, and a kept partial file's blocks. */
    uint32_t server_id, group_id;
    uint8_t group_inst;
    uint8_t fp[20], fplen;
    bool kept; /* its session failed: hidden, resumable by the same server and key */
    /* Its session has not ended yet: as receiver/store.c, whose record says "failed" only at
     * the session's end, nothing of it is resumed or answered COMPLETE before. */
    bool live;
    uint32_t blocksize;
    uint8_t *map; /* blocks written, 1 bit each */
    /* Digest-only with sim_set_digest_readback: the sender's bytes, and the blocks written. */
    const uint8_t *ref;
    uint8_t *wmap;
};

struct sim_store {
    struct sim_mfile *f;
    size_t n, cap;
    uint64_t free_space; /* reported free bytes */
    uint64_t
        fail_after_bytes; /* the write crossing this many bytes fails once (-ENOSPC); 0 = never */
    unsigned write_failures;
    uint64_t bytes_written;
    unsigned opens, closes_done, closes_abort, dup_writes, bad_writes;
    unsigned session_ends, session_ends_ok;
    uint64_t ended_us; /* sim time of the last session end (receiver) or ENG_DONE */
    /* Issue 13: keep failed sessions' files for a restart, as uftpd -T does (off by default). */
    bool restart;
    unsigned resumed, completed_early; /* opens answered PARTIAL / COMPLETE from kept state */
    bool digest_only; /* keeps no bytes, only each file's running digest (sim_set_digest_only) */
};

enum sim_kind { SIM_SENDER, SIM_RECEIVER, SIM_PROXY };

struct sim;

struct sim *sim_new(uint64_t seed);
void sim_free(struct sim *s);
uint64_t sim_rand(struct sim *s);
/* Engine log lines at or below level go to stderr, stamped with the
 * virtual time and the node (default: none; the scenarios' -v). */
void sim_set_log_level(int level);

/* Makes the network IPv6 (call before adding nodes). */
void sim_set_ipv6(struct sim *s, bool v6);
/* The sender's NIC rate in bytes/s (models -R -1): default 125 MB/s. */
void sim_set_nic_rate(struct sim *s, uint64_t Bps);
/*
 * Receivers added from now on keep no file bytes, only each file's running
 * digest (sim_digest; data NULL): 10,000 receivers of a 20 MB file fit in
 * memory, and check_delivered compares digests (issue 16).
 */
void sim_set_digest_only(struct sim *s, bool on);
/*
 * What a digest-only receiver reads back to decode parity (issue 17):
 * src(arg, rel, size) returns the sender's bytes of the file (NULL: none),
 * and a read is served from them, but only for blocks the receiver wrote
 * (a read of any other block fails and counts in bad_writes); the digest
 * check at the end proves that what it wrote was these bytes. Without it a
 * digest-only receiver has nothing to read back and does not offer to
 * decode. Call before adding receivers.
 */
typedef const uint8_t *(*sim_readback_fn)(void *arg, const char *rel, uint64_t size);
void sim_set_digest_readback(struct sim *s, sim_readback_fn src, void *arg);
/* Counts the thread CPU time senders and proxies spend in their engines (sim_node_cpu_ns;
 * receivers are not clocked: a system call per datagram would cost more than they do). */
void sim_set_cpu_clock(struct sim *s, bool on);
uint64_t sim_node_cpu_ns(struct sim *s, int i);
/* The number of nodes (no fixed limit: memory is the only one). */
int sim_node_count(struct sim *s);

/* A blob the senders can send; `path` is what file_item.path names. */
void sim_add_blob(struct sim *s, const char *path, const uint8_t *data, size_t len);
/* Makes a blob of pseudo-random bytes (from the sim's PRNG) and returns it. */
const uint8_t *sim_make_blob(struct sim *s, const char *path, size_t len);

/*
 * Addresses the sim uses. node_addr: the unicast address of node i (port
 * 1044 for receivers, an ephemeral one for senders). group: the k-th
 * public (0) or private (1) group, SSM-range when ssm.
 */
void sim_node_addr(struct sim *s, int i, struct addr *out);
void sim_group_addr(struct sim *s, int which, int k, bool ssm, struct addr *out);

/*
 * Adds a sender whose config the caller filled (except addresses left
 * unset: pub/priv default to the sim groups, server_id to the node's
 * address). event (may be NULL) receives the sender's events. Returns the
 * node index, or -1 (sender_new failed).
 */
int sim_add_sender(struct sim *s, struct sender_config *cfg, const struct sim_link *link,
                   void (*event)(void *ctx, const struct sender_event *ev));
/* Adds a receiver; the config's arrays must outlive the sim. Returns the node index or -1. */
int sim_add_receiver(struct sim *s, struct receiver_config *cfg, const struct sim_link *link);

/*
 * Networks (for proxies, issue 5). Every node has one interface on a
 * network, net 0 unless sim_set_net() chose another for the nodes added
 * after it; a proxy may get a second one (sim_add_if). Networks are
 * disjoint: multicast stays on the network it was sent on (a node sends
 * its multicast on its "multicast network", its first interface's unless
 * sim_set_mcast_net says otherwise, and hears groups it joined on every
 * network it is on); unicast reaches an address only from a node on the
 * same network, or through a NAT. Net 0 addresses are as before; net k > 0
 * gives 10.(100+k).x.y.
 */
void sim_set_net(struct sim *s, int net);
/* Gives node i a second interface on net; returns its address in out (may be NULL). */
void sim_add_if(struct sim *s, int i, int net, struct addr *out);
void sim_set_mcast_net(struct sim *s, int i, int net);
/*
 * Makes net a site of parent (issue 16), as a deployment behind response
 * proxies is wired: multicast sent on parent reaches the site's members
 * too (a router forwards it down), multicast sent on the site stays there
 * (scoped, so a site's proxy reaches only its own receivers), and unicast
 * is routed between the site, its parent and the parent's other sites.
 * Without sites nothing changes: networks stay disjoint.
 */
void sim_set_site(struct sim *s, int net, int parent);
/* Node i's address on net (its first interface's when it has none there). */
void sim_node_addr_on(struct sim *s, int i, int net, struct addr *out);

/*
 * A NAT router from inside net to outside net (masquerade): a datagram from
 * an inside node to an outside address leaves from the NAT's public
 * address with a mapped port; answers to that port go back in while the
 * mapping lives. Mappings expire after timeout_us without outgoing traffic
 * (0 = never). Returns the NAT's index; its public address in pub.
 */
int sim_add_nat(struct sim *s, int inside, int outside, uint64_t timeout_us, struct addr *pub);
/* Forgets every mapping (a NAT reboot): new flows get new ports. */
void sim_nat_rebind(struct sim *s, int nat);
/* Datagrams the NAT dropped (no mapping for them). */
uint64_t sim_nat_drops(struct sim *s, int nat);

/* Adds a proxy; the config's arrays and key must outlive the sim. Returns its index or -1. */
int sim_add_proxy(struct sim *s, struct proxy_config *cfg, const struct sim_link *link);
struct proxy *sim_proxy(struct sim *s, int i);

/* Puts a bottleneck in front of node i (NULL or rate 0 removes it); stats reset. */
void sim_set_bottleneck(struct sim *s, int i, const struct sim_bneck *b);
void sim_bottleneck_stats(struct sim *s, int i, struct sim_bneck_stats *out);
/* The TOS byte of everything node i sends (what its shell sets on the socket, net_tos()). */
void sim_set_tos(struct sim *s, int i, uint8_t tos);

/* Node i never answers (drops everything it receives) from virtual time t on. */
void sim_kill_at(struct sim *s, int i, uint64_t t_us);
/* Node i receives nothing in [from, until): a stall (a full socket, a descheduled process). */
void sim_deaf(struct sim *s, int i, uint64_t from_us, uint64_t until_us);
/* Receiver i's daemon is killed and started again now: its sessions vanish without a word, its
 * store stays (files being received are kept for a restart, as uftpd -T's records keep them). */
void sim_restart_receiver(struct sim *s, int i, const struct receiver_config *cfg);
/* Interrupts sender i (SIGINT) / shuts receiver i down at virtual time t. */
void sim_interrupt_at(struct sim *s, int i, uint64_t t_us);

/*
 * Runs until every sender reported ENG_DONE and every receiver holds no
 * session (or has shut down), or until limit_us of virtual time.
 * Returns true when it finished before the limit.
 */
bool sim_run(struct sim *s, uint64_t limit_us);

/*
 * Every datagram a node sends (after its own death check, before loss) is
 * shown to the tap: the sending node, addresses, bytes, virtual time.
 */
typedef void (*sim_tap_fn)(void *arg, int from, const struct addr *src, const struct addr *dst,
                           const uint8_t *p, size_t len, uint64_t t);
void sim_set_tap(struct sim *s, sim_tap_fn fn, void *arg);
/* A datagram the filter returns true for (seen by the tap) is lost on every link. */
typedef bool (*sim_drop_fn)(void *arg, int from, const struct addr *dst, const uint8_t *p,
                            size_t len);
void sim_set_drop(struct sim *s, sim_drop_fn fn, void *arg);
/* Writes every datagram sent into a pcap (LINKTYPE_RAW, IPv4/IPv6 + UDP). 0 or -1. */
int sim_pcap_open(struct sim *s, const char *path);

/* Calls fn(s, arg) at virtual time t (from inside sim_run). */
void sim_call_at(struct sim *s, uint64_t t, void (*fn)(struct sim *s, void *arg), void *arg);
/* Sends a forged datagram as node `from` would, now: routed, lossy like any other. */
void sim_inject(struct sim *s, int from, const struct addr *dst, const uint8_t *p, size_t len);

/* Results. */
int sim_exit_code(struct sim *s, int i); /* sender: ENG_DONE code, -1 if none */
struct sim_store *sim_store(struct sim *s, int i);
struct sender *sim_sender(struct sim *s, int i);
struct receiver *sim_receiver(struct sim *s, int i);
uint64_t sim_now(struct sim *s);
uint64_t sim_trace_hash(struct sim *s);
uint64_t sim_packets(struct sim *s); /* datagrams delivered */
/* Joins / leaves seen from node i (balance check). */
void sim_membership_counts(struct sim *s, int i, unsigned *joins, unsigned *leaves,
                           unsigned *ssm_joins);

/* Puts a visible file into a store (pre-existing content for sync mode / @DELETE). */
void sim_store_put(struct sim_store *st, size_t dest, const char *rel, int type,
                   const uint8_t *data, size_t len, int64_t mtime);
/*
 * The digest of len bytes at offset off of a file: additive, so the sum
 * over a file's writes in any order is the digest of its whole contents
 * (sim_digest(0, bytes, size)), which can stand for the bytes themselves.
 */
uint64_t sim_digest(uint64_t off, const uint8_t *p, size_t len);
/* sim_digest(0, data, len), remembered for the sim's own blobs (the sender's files). */
uint64_t sim_blob_digest(struct sim *s, const uint8_t *data, size_t len);
/* The number of visible entries in a store. */
size_t sim_store_count(const struct sim_store *st);

/* The visible file (dest, rel) in a store, or NULL. */
const struct sim_mfile *sim_store_find(const struct sim_store *st, size_t dest, const char *rel);

#endif
