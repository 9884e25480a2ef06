/*
 * The cryptography of an encrypted session at a client or response proxy
 * (spec §1.8 "Proxy re-keying"), built from core/crypto and the context
 * strings of core/proto/keysched:
 *
 *   upstream    the proxy is a client of the server (a core/crypto
 *               skeys_client made with cfg.proxy, v5 and v4): it checks the
 *               ANNOUNCE (cipher, hash, -S fingerprint, signature), makes
 *               its ECDH key, derives its handshake with an empty P_ctx,
 *               sends its own CLIENT_KEY under client authentication, takes
 *               its own KEYINFO entry (server signature, group master), and
 *               seals everything it sends upstream under its own c_app key.
 *   downstream  the proxy is the "server" of its clients, with its own ECDH
 *               key (in PROXY_KEY) and P_ctx in every client context: it
 *               signs PROXY_KEY and KEYINFO (with P_ctx), derives each
 *               client's handshake and application keys, checks CLIENT_KEY
 *               and KEYINFO_ACK, wraps the same group master for each
 *               client, and opens the clients' answers.
 *
 * Counters and nonces. Upstream the proxy has one counter of its own for
 * its c_app and c_hs keys, as every client does. Downstream the only thing
 * it seals is its own ABORT, under the server application key (the one key
 * clients use for everything that is not theirs: 5.0.1's client decrypts
 * every ENCRYPTED datagram of a session with it, whatever the source). The
 * server numbers that key's nonces 1, 2, 3...; a proxy takes counters
 * 2^63 | proxy_id << 31 | n instead, so its nonces never meet the server's
 * nor another proxy's (IDs are unique in a session). Each client's replay
 * window covers its one counter.
 *
 * Every key is a core/crypto skeys_dir, retired at its AEAD usage limit or
 * after too many failed opens. Secrets are wiped when freed.
 *
 * v4 sessions (spec §1.9 item 5), with or without client authentication: upstream
 * the proxy is a v4 client of the server; downstream its clients exchange keys with a
 * response proxy's long-lived ECDH key (-e, advertised in the v4
 * PROXY_KEY), or with the key a client proxy writes into the forwarded
 * ANNOUNCE with its own signing key (keys_announce4): SHA-1 premaster, TLS 1.2 PRF handshake key,
 * under client authentication each client's cleartext v4 CLIENT_KEY checked and its key blob in
 * its finished value, ours sent upstream in clear;
 * the server's group master CBC-wrapped for each with the server's ID in the IV (v4 KEYINFO carries
 * the server's src_id and no signature), the 12-byte finished value. There is one group key for
 * everyone: the clients' answers open under it (a replay window per client) and the proxy seals
 * under it too, with its own ID in the nonce.
 */
#ifndef UFTP_PROXY_KEYS_H
#define UFTP_PROXY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/crypto/aead.h"
#include "core/crypto/keyblob.h"
#include "core/crypto/ks5.h"
#include "core/crypto/skeys.h"
#include "core/proto/replay.h"
#include "core/wire/announce.h"
#include "core/wire/encrypted.h"

struct crypto_key;

/* Errors: enum crypto_err, enum skeys_err (core/crypto/skeys.h) and these. */
enum keys_err {
    KEYS_ETYPE = SKEYS_ETYPE,   /* cipher, hash, curve or key type not acceptable */
    KEYS_EFP = SKEYS_EFP,       /* fingerprint mismatch */
    KEYS_EFRAME = SKEYS_EFRAME, /* malformed message or framing */
    KEYS_ELIMIT = SKEYS_ELIMIT, /* key spent */
    KEYS_ESTATE = SKEYS_ESTATE, /* the key needed does not exist yet */
    KEYS_ENOENT = SKEYS_ENOENT, /* KEYINFO does not list us */
    KEYS_ENOKEY = -49,          /* v4 client proxy: no -k key like the server's */
};

const char *keys_strerror(int err);

/* What a session's keys are made from. */
struct ksess_params {
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    uint32_t proxy_id;
    const struct crypto_key *sigkey; /* our signing key (-k), borrowed */
    const uint8_t *server_fp;        /* -S fingerprint; NULL/0 = any key */
    size_t server_fplen;
    uint8_t rand2[WIRE_RAND_LEN]; /* from the engine's rng */
    /* v4 sessions (spec §1.9 item 5): the response proxy's long-lived
     * ECDH key (its clients' key exchange; NULL: v4 is refused) and
     * ANNOUNCE's private address field (addrlen 4 or 16). */
    const struct crypto_key *dh4;
    uint8_t addr[16];
    size_t addrlen;
    /* v4 client proxy (subst4): our -k keys, one of which must have the
     * server's key type and size; it and a fresh ECDH key on the server's
     * curve replace the server's in every forwarded ANNOUNCE (keys_announce4). */
    bool subst4;
    const struct crypto_key *const *sigkeys;
    size_t nsigkeys;
};

struct ksess;
struct kpeer;

/*
 * Checks an encrypted ANNOUNCE dg[0..len) (writable: the signature field is
 * zeroed while verifying) whose EXT_ENC_INFO e was decoded from it, and
 * sets up both sides: our ECDH keys, S_ctx, our handshake with the server,
 * PROXY_KEY and P_ctx, and (client authentication) our CLIENT_KEY.
 * Errors: KEYS_ETYPE, KEYS_EFP, CRYPTO_EBLOB, CRYPTO_ESIG, KEYS_EFRAME,
 * CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keys_new(struct ksess **out, const struct ksess_params *kp, const struct wire_enc_info *e,
             uint8_t *dg, size_t len);
void keys_free(struct ksess *k);
/*
 * v4 client proxy (spec §1.9 item 5): verifies an ANNOUNCE dg[0..len) of
 * the session with the server's key (e decoded from it, pointing into it),
 * writes our signing key and our downstream ECDH key over the server's and
 * signs it again, so that the clients exchange keys with us. The sizes are
 * the server's.
 * Errors: KEYS_ESTATE (not a substituting session), KEYS_EFRAME (sizes
 * differ), CRYPTO_ESIG (not the server's), CRYPTO_ELIB.
 */
int keys_announce4(struct ksess *k, uint8_t *dg, size_t len, const struct wire_enc_info *e);
/* Rough µs of CPU keys_new costs for this ANNOUNCE (the engine's budget). */
uint32_t keys_cost_new(const struct wire_enc_info *e);
/* ... and one client's key exchange (REGISTER). */
uint32_t keys_cost_peer(const struct ksess *k);

bool keys_client_auth(const struct ksess *k);
/* The signed PROXY_KEY message (from its func byte), for every copy. */
const uint8_t *keys_proxy_key(const struct ksess *k, size_t *len);
/* REGISTER's ECDH blob and rand2. */
const uint8_t *keys_dh_up(const struct ksess *k, size_t *len);
const uint8_t *keys_rand2(const struct ksess *k);
/* Our CLIENT_KEY message (plaintext, from func), or NULL without client auth (and not stacked). */
const uint8_t *keys_client_key(const struct ksess *k, size_t *len);

/*
 * spec §3.5: a lower proxy's handshake moves from the server to its
 * upstream proxy up_id, from that proxy's v5 PROXY_KEY msg[0..len) (from
 * its func byte; fp/fplen: its fingerprint, 0 = any): signature checked,
 * premaster with its ECDH key, its P_ctx in our C_ctx1, our CLIENT_KEY
 * (sent whatever the session's client authentication) in C_ctx2; our
 * KEYINFO then comes from it (keys_keyinfo checks its signature). Once.
 * Errors: KEYS_ESTATE (v4, keyed or done already), KEYS_EFRAME, KEYS_EFP,
 * KEYS_ETYPE, CRYPTO_EBLOB, CRYPTO_ESIG, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keys_upstream_proxy(struct ksess *k, uint32_t up_id, const uint8_t *msg, size_t len,
                        const uint8_t *fp, size_t fplen);
bool keys_stacked(const struct ksess *k);

/*
 * Our KEYINFO entry in a server KEYINFO dg[0..len) (writable): signature
 * by the server, then the group master; derives the server application key
 * and ours, and our verify data.
 * Errors: KEYS_ENOENT (not listed: nothing checked), CRYPTO_ESIG,
 * CRYPTO_EAUTH, KEYS_EFRAME, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keys_keyinfo(struct ksess *k, uint8_t *dg, size_t len, const struct wire_keyinfo *ki);
bool keys_keyed(const struct ksess *k);
/* Our KEYINFO_ACK verify data. */
const uint8_t *keys_verify_data(const struct ksess *k, size_t *len);

/*
 * Seals the message at dg[SKEYS_MSG_OFF .. +msglen) in place into an
 * ENCRYPTED datagram whose UFTP header dg[0..16) is already written (its
 * func byte becomes ENCRYPTED). cap is the room at dg. Returns the
 * datagram length. up: our c_app key (hs: our c_hs key, for CLIENT_KEY);
 * down: the server application key with our own counter range.
 * Errors: KEYS_ESTATE (no such key yet), KEYS_ELIMIT, CRYPTO_ENOSPC, CRYPTO_ELIB.
 */
ssize_t keys_seal_up(struct ksess *k, bool hs, uint8_t *dg, size_t msglen, size_t cap);
ssize_t keys_seal_down(struct ksess *k, uint8_t *dg, size_t msglen, size_t cap);

/*
 * Opens an ENCRYPTED datagram from the server (application key, replay
 * window) in place; *msg / *msglen are the plaintext message.
 * Errors: KEYS_ESTATE, KEYS_EFRAME, KEYS_EREPLAY, CRYPTO_EAUTH, KEYS_ELIMIT.
 */
int keys_open_server(struct ksess *k, uint8_t *dg, size_t len, const uint8_t **msg, size_t *msglen);

/*
 * A client's REGISTER: imports its ECDH key (EC, our curve), computes the
 * premaster with our downstream key, C_ctx1 (with P_ctx) and the handshake
 * keys. Errors: KEYS_ETYPE, CRYPTO_EBLOB, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keys_peer_new(struct ksess *k, struct kpeer **out, uint32_t id, const uint8_t *dh, size_t dhlen,
                  const uint8_t rand2[static WIRE_RAND_LEN]);
void keys_peer_free(struct kpeer *c);
/* spec §3.5: the peer is a downstream proxy: its CLIENT_KEY is required (v5). */
int keys_peer_require_auth(struct ksess *k, struct kpeer *c);
/* True once the peer's handshake is complete (REGISTER, + CLIENT_KEY under client auth). */
bool keys_peer_registered(const struct ksess *k, const struct kpeer *c);
bool keys_peer_has_app(const struct kpeer *c);

/*
 * A decrypted CLIENT_KEY msg[0..len): -C fingerprint (fplen 0: any),
 * signature over "UFTP 5, CLIENT_KEY" || C_ctx1, then C_ctx2.
 * Errors: KEYS_EFRAME, KEYS_EFP, CRYPTO_EBLOB, CRYPTO_ESIG, KEYS_ESTATE
 * (no client authentication, or already done).
 */
int keys_peer_client_key(struct ksess *k, struct kpeer *c, uint32_t id, const uint8_t *msg,
                         size_t len, const uint8_t *fp, size_t fplen);

/*
 * Opens an ENCRYPTED datagram from a client in place: with its c_hs key
 * when hs is allowed (client auth, handshake not done), else / then its
 * c_app key. *under_hs tells which. scratch: len bytes.
 * Errors: KEYS_ESTATE, KEYS_EFRAME, KEYS_EREPLAY, CRYPTO_EAUTH, KEYS_ELIMIT.
 */
int keys_peer_open(struct ksess *k, struct kpeer *c, bool hs, uint8_t *dg, size_t len,
                   uint8_t *scratch, const uint8_t **msg, size_t *msglen, bool *under_hs);

/*
 * Wraps the group master for the client (its KEYINFO entry) with KEYINFO
 * counter ctr, deriving its application keys and verify data on first use.
 * Errors: KEYS_ESTATE (no group master, or the handshake is not done),
 * CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int keys_peer_wrap(struct ksess *k, struct kpeer *c, uint32_t id, uint64_t ctr,
                   uint8_t out[static KS5_GM_ENC_LEN]);
/* Constant-time check of the client's KEYINFO_ACK verify data. */
bool keys_peer_verify(const struct ksess *k, const struct kpeer *c, const uint8_t *v, size_t len);
/* The handshake is over for this client: its handshake keys and contexts go. NULL: a no-op. */
void keys_peer_end_handshake(struct kpeer *c);

/*
 * A v4 response proxy's PROXY_KEY (spec §1.9 item 5), the answer to
 * KEY_REQ: the message from its func byte into out[0..cap), carrying the
 * blob of sigkey (our first -k key), our long-lived ECDH key dh (-e) and
 * the SHA-1 signature by sigkey over the 4-byte nonce as it travels
 * (network order), which is what 4.x and 5.x clients verify. Returns the
 * message length.
 * Errors: KEYS_ETYPE (no private signing key, or dh not an EC key),
 * KEYS_EFRAME (does not fit), CRYPTO_ELIB.
 */
ssize_t keys_proxy4_key_build(uint8_t *out, size_t cap, const struct crypto_key *sigkey,
                              const struct crypto_key *dh, uint32_t nonce);

/* The next KEYINFO counter (downstream). */
uint64_t keys_keyinfo_ctr(struct ksess *k);
/* KEYINFO signature length, and signing one (dg[0..len), in place). */
size_t keys_siglen(const struct ksess *k);
int keys_sign_keyinfo(struct ksess *k, uint8_t *dg, size_t len);

#endif
