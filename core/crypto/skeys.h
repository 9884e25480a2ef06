/*
 * Session keys: everything cryptographic about one UFTP v5 session
 * (spec §1.8), behind one object per role, so that the engines only say
 * "sign this ANNOUNCE", "wrap the group master for this client", "seal this
 * message", "open that datagram" and never touch the key schedule.
 *
 *   struct skeys_server   the sender's side: signing key, ECDH key, rand1,
 *                         group master, S_ctx, the server application key
 *                         (sealing), and per client a struct skeys_peer
 *                         (handshake keys, the client's application key for
 *                         opening, verify data, replay window).
 *   struct skeys_client   a receiver's side of one session: the server's
 *                         keys, our ECDH key and rand2, S_ctx / P_ctx /
 *                         C_ctx1 / C_ctx2, handshake keys, then the server
 *                         application key (opening, replay window) and our
 *                         application key (sealing).
 *   struct skeys_dir      one key in one direction with its usage count.
 *
 * Issue 5 (proxies) adds P_ctx on the client side (skeys_client_handshake
 * takes it, and the peer ECDH key may be a proxy's) and a proxy role built
 * from the same pieces.
 *
 * v4 sessions (spec §1.9, issue 6) use the same objects: a server made with
 * cfg.ver = UFTP_VER4, or a client whose ANNOUNCE is a v4 one, runs the v4
 * schedule (ks4.h): SHA-1 premaster, TLS 1.2 PRF, one handshake key both
 * ways, the CBC-wrapped 48-byte group master, one group key for every member
 * and direction, the 12-byte finished value, cleartext CLIENT_KEY signed
 * over the v4 verify data, unsigned KEYINFO. A skeys_dir then carries
 * ver = UFTP_VER4 and builds nonces as (salt XOR src_id) || ctr from the
 * datagram's own header (aead_nonce_v4).
 *
 * ENCRYPTED framing (spec §1.4, §1.8): a datagram is the 16-byte UFTP header
 * (func = ENCRYPTED), the 12-byte ENCRYPTED header (counter, reserved,
 * payload length), then the sealed message and its 16-byte tag. The AAD is
 * the first 28 bytes, the nonce the key's iv XOR the counter. Engines encode
 * a message at offset SKEYS_MSG_OFF and seal it in place.
 *
 * Usage limits (issue 4): a key counts the AES blocks it has processed,
 * ceil(len/16) + 3 per packet as in aead_limits (core/crypto/aead.h), and
 * refuses to seal past the confidentiality limit. Failed opens (forgeries)
 * are counted apart, against the forgery limit, and never against the
 * usage (issue 14 item 10): otherwise forged traffic spends the key its
 * peer is using. The forgery limit is SKEYS_FORGE_SLACK times aead_limits'
 * integrity figure: UFTP has no key update, so a key retired by forgeries
 * ends the session, and at 2^-57 (RFC 9001's target) an AES-CCM session
 * ends after ~194 GB of forged datagrams; 1024 times that keeps an
 * attacker's chance of one accepted forgery below 2^-39 (the CCM bound
 * (2 l (v + q))^2 / 2^128 grows with v^2) and asks for ~200 TB. Limits in
 * blocks are exact for every packet size: aead_limits' q <= C / l is
 * q * l <= C.
 *
 * Secrets are wiped (crypto_wipe / OPENSSL_cleanse in aead_free) on every
 * free and as soon as they are no longer needed (handshake keys and the
 * group master once the announce phase ends).
 */
#ifndef UFTP_CRYPTO_SKEYS_H
#define UFTP_CRYPTO_SKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/crypto/aead.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ks4.h"
#include "core/crypto/ks5.h"
#include "core/proto/replay.h"
#include "core/wire/announce.h"
#include "core/wire/encrypted.h"

struct crypto_key;

/* Bytes ENCRYPTED adds to a message: its header and the tag. */
#define SKEYS_OVERHEAD (WIRE_ENCRYPTED_HDR_LEN + AEAD_TAG_LEN)
/* Where the plaintext message starts in an ENCRYPTED datagram. */
#define SKEYS_MSG_OFF (UFTP_HDR_LEN + WIRE_ENCRYPTED_HDR_LEN)

/* Errors besides enum crypto_err (negative). */
enum skeys_err {
    SKEYS_EREPLAY = -40, /* counter already seen from this sender */
    SKEYS_EOLD = -41,    /* counter behind the replay window */
    SKEYS_ELIMIT = -42,  /* key spent (usage or forgery limit) or counter exhausted */
    SKEYS_EFRAME = -43,  /* ENCRYPTED framing malformed (lengths, version) */
    SKEYS_EFP = -44,     /* key fingerprint does not match the configured one */
    SKEYS_ETYPE = -45,   /* cipher, hash, curve or key type not acceptable */
    SKEYS_ESTATE = -46,  /* the needed key does not exist (yet, or any more) */
    SKEYS_ENOENT = -47,  /* KEYINFO does not list us */
};

/* A message for skeys_err and crypto_err codes. */
const char *skeys_strerror(int err);

/* The forgery limit is this many times aead_limits' 2^-57 integrity figure (see above). */
#define SKEYS_FORGE_SLACK 1024u

/* AES blocks one packet of plaintext length len costs (aead_limits' l). */
uint64_t skeys_blocks(size_t len);

/* ------------------------------------------------------------ one key */

struct skeys_dir {
    struct aead *aead; /* NULL: no key */
    uint8_t iv[AEAD_NONCE_LEN];
    uint8_t ver;          /* UFTP_VER5, or UFTP_VER4: iv[0..4) is the v4 salt */
    uint64_t used;        /* blocks sealed or opened */
    uint64_t limit;       /* blocks a sealing key may seal before it is retired */
    uint64_t forged;      /* blocks of failed opens (forgeries), counted apart */
    uint64_t forge_limit; /* forged blocks an opening key tolerates before it is retired */
    uint64_t ok, failed;  /* packets sealed or opened / failed opens */
};

/*
 * Keys d from a derived key and iv for sealing (AEAD_DIR_SEAL) or opening
 * (AEAD_DIR_OPEN): limit is the confidentiality limit, forge_limit the
 * forgery one (an opening key's limit only counts: the peer enforces it).
 * Errors: CRYPTO_EINVAL, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_dir_init(struct skeys_dir *d, int keytype, const struct ks5_dir *k, int dir);
/* The same from v4 keys (spec §1.9): nonces (salt XOR src_id) || ctr. */
int skeys_dir_init4(struct skeys_dir *d, int keytype, const struct ks4_keys *k, int dir);
/* Frees the context and wipes the iv. A zeroed or cleared dir is fine. */
void skeys_dir_clear(struct skeys_dir *d);
static inline bool skeys_dir_ready(const struct skeys_dir *d)
{
    return d->aead != NULL;
}
/* Blocks still allowed (0 when retired or absent). */
uint64_t skeys_dir_left(const struct skeys_dir *d);

/*
 * Seals in place. dg[0..16) is the message's UFTP header (its func byte is
 * set to ENCRYPTED here), the plaintext is dg[SKEYS_MSG_OFF ..
 * SKEYS_MSG_OFF + msglen), and cap is the room at dg. *ctr is the sender's
 * counter: incremented, then used (spec §1.8: from 1). Returns the datagram
 * length, SKEYS_MSG_OFF + msglen + 16.
 * Errors: SKEYS_ELIMIT (the key or the counter is spent: nothing is
 * written and the counter is unchanged), CRYPTO_ENOSPC, CRYPTO_EINVAL (no
 * key, or a message over 65535 - 16 bytes), CRYPTO_ELIB.
 */
ssize_t skeys_seal(struct skeys_dir *d, uint64_t *ctr, uint8_t *dg, size_t msglen, size_t cap);

/*
 * Opens an ENCRYPTED datagram dg[0..len) with the first of keys[0..n) that
 * authenticates it (only keys of the datagram's version are tried). The
 * counter is checked against win (if not NULL) before any decryption and
 * recorded there only after success. With one key the message is decrypted
 * in place; with several into scratch (which needs len bytes), since a
 * failed open destroys its output. On success *msg / *msglen are the
 * plaintext message (starting at its func byte) and *which the index of
 * the key that opened it. A failed authentication counts as a forgery
 * against every key tried (in forged, not used); a key past its forgery
 * limit is skipped.
 * Errors: SKEYS_EFRAME, SKEYS_EREPLAY, SKEYS_EOLD, CRYPTO_EAUTH (no key
 * opened it), SKEYS_ELIMIT (every key retired), SKEYS_ESTATE (no key),
 * CRYPTO_ELIB.
 */
int skeys_open(struct skeys_dir *const *keys, size_t n, struct replay *win, uint8_t *dg, size_t len,
               uint8_t *scratch, const uint8_t **msg, size_t *msglen, size_t *which);

/*
 * Signatures over pre[0..npre) || dg[0..len) with the signature field sig
 * (inside dg, siglen bytes) zeroed (spec §1.4, §1.8), npre at most 3:
 * verify restores the field, sign writes the signature there.
 * Errors: CRYPTO_ESIG (the field out of dg), and sig_verify's or sig_sign's.
 */
int skeys_verify_in_place(const struct crypto_key *k, int hashtype, const struct crypto_iov *pre,
                          size_t npre, uint8_t *dg, size_t len, uint8_t *sig, size_t siglen);
int skeys_sign_in_place(const struct crypto_key *k, int hashtype, const struct crypto_iov *pre,
                        size_t npre, uint8_t *dg, size_t len, uint8_t *sig, size_t siglen);

/* ------------------------------------------------------------ the server */

struct skeys_server_cfg {
    int keytype;  /* KEY_AES128_GCM .. KEY_AES256_CCM */
    int hashtype; /* HASH_SHA256 .. HASH_SHA512 */
    int curve;    /* ECDH curve, CURVE_P256 .. CURVE_P521 */
    bool client_auth;
    const struct crypto_key *sigkey; /* private RSA or EC key; borrowed */
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    uint8_t rand1[WIRE_RAND_LEN];
    uint8_t group_master[KS5_GM_LEN];
    /* Known-answer tests only: a fixed ECDH key pair, taken over (freed
     * with the server, also on error). NULL: a fresh one is generated. */
    struct crypto_key *dh;
    /* v4 (spec §1.9): ver = UFTP_VER4 (0 or UFTP_VER5: v5). Then the group
     * master is group_master4 (its byte 0 is set to 0x40 here), and addr
     * (addrlen 4 or 16) is ANNOUNCE's private address field for the verify data. */
    uint8_t ver;
    uint8_t group_master4[KS4_GM_LEN];
    uint8_t addr[16];
    size_t addrlen;
};

struct skeys_server;
struct skeys_peer;

/*
 * Generates the ECDH key, builds EXT_ENC_INFO and S_ctx and derives the
 * server application key. The config's secrets are copied; wipe yours.
 * Errors: SKEYS_ETYPE (type, hash, curve or signing key unusable),
 * CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_server_new(struct skeys_server **out, const struct skeys_server_cfg *c);
/* Frees everything and wipes every secret; peers must be freed first. NULL is fine. */
void skeys_server_free(struct skeys_server *s);

/* The EXT_ENC_INFO for ANNOUNCE (signature zeroed; valid while s lives). */
const struct wire_enc_info *skeys_server_enc_info(const struct skeys_server *s);

/*
 * Signs an encoded ANNOUNCE datagram dg[0..len) (spec §1.4: over the
 * whole datagram with the signature field zeroed), writing the signature
 * in place. Every copy is signed on its own (seq, grtt and lists change).
 * Errors: SKEYS_EFRAME (not an ANNOUNCE with our EXT_ENC_INFO), CRYPTO_ELIB.
 */
int skeys_server_sign_announce(struct skeys_server *s, uint8_t *dg, size_t len);

/* The server application key (FILEINFO, FILESEG, DONE, DONE_CONF, ABORT, ...). */
struct skeys_dir *skeys_server_tx(struct skeys_server *s);
/* The server's one counter, for ENCRYPTED and KEYINFO alike (spec §1.8). */
uint64_t *skeys_server_ctr(struct skeys_server *s);

/*
 * A client's REGISTER: imports its ECDH key (EC, on our curve), computes
 * the premaster, C_ctx1 and the handshake keys; without client
 * authentication also C_ctx2, the client's application key and the verify
 * data. On success *out is the new peer.
 * Errors: SKEYS_ETYPE (blob not an EC key on our curve), CRYPTO_EBLOB,
 * SKEYS_ESTATE (the handshake is over), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_server_register(struct skeys_server *s, uint32_t client_id, const uint8_t *dh,
                          size_t dhlen, const uint8_t rand2[static WIRE_RAND_LEN],
                          struct skeys_peer **out);

/*
 * A decrypted CLIENT_KEY message (msg[0..len), from its func byte) of peer
 * p: checks the key's fingerprint against fp[0..fplen) when fplen > 0,
 * verifies the signature over "UFTP 5, CLIENT_KEY" || C_ctx1, then derives
 * C_ctx2, the client's application key and the verify data. v4: the
 * message comes in clear and signs the v4 verify data (spec §1.9).
 * Errors: SKEYS_EFRAME (malformed), CRYPTO_EBLOB, SKEYS_EFP, CRYPTO_ESIG,
 * SKEYS_ESTATE (not expected: no client auth, or already done), CRYPTO_ENOMEM,
 * CRYPTO_ELIB.
 */
int skeys_server_client_key(struct skeys_server *s, struct skeys_peer *p, const uint8_t *msg,
                            size_t len, const uint8_t *fp, size_t fplen);

/* True once p's application keys exist (after REGISTER, or a valid CLIENT_KEY with client auth). */
bool skeys_peer_keyed(const struct skeys_peer *p);

/*
 * The next KEYINFO IV counter (from the server counter).
 * Errors: SKEYS_ELIMIT (counter exhausted).
 */
int skeys_server_keyinfo_ctr(struct skeys_server *s, uint64_t *ctr);
/* p's KEYINFO entry: the group master wrapped under its s_hs key with ctr. Errors: SKEYS_ESTATE. */
int skeys_server_wrap(struct skeys_server *s, const struct skeys_peer *p, uint64_t ctr,
                      uint8_t out[static KS5_GM_ENC_LEN]);
/*
 * Signs an encoded KEYINFO datagram in place: over "UFTP 5, KEYINFO" ||
 * S_ctx || the datagram with the signature zeroed (spec §1.8). v4 KEYINFO
 * is not signed: nothing to do.
 * Errors: SKEYS_EFRAME, CRYPTO_ELIB.
 */
int skeys_server_sign_keyinfo(struct skeys_server *s, uint8_t *dg, size_t len);
/* The signature length (ANNOUNCE's; KEYINFO's siglen is 0 in v4). */
size_t skeys_server_siglen(const struct skeys_server *s);

/* Constant-time check of a KEYINFO_ACK's verify data. */
bool skeys_peer_verify(const struct skeys_peer *p, const uint8_t *v, size_t len);

/*
 * Opens an ENCRYPTED datagram from p: with its c_hs key (only when hs is
 * true and client auth is on: CLIENT_KEY), then its application key.
 * *under_hs tells which one. scratch: len bytes (used when two keys are
 * tried). Errors: as skeys_open.
 */
int skeys_peer_open(struct skeys_peer *p, bool hs, uint8_t *dg, size_t len, uint8_t *scratch,
                    const uint8_t **msg, size_t *msglen, bool *under_hs);

/* Usage of p's keys, for logs and tests. */
const struct skeys_dir *skeys_peer_rx(const struct skeys_peer *p);

/* The announce phase is over: wipes p's handshake keys and contexts. */
void skeys_peer_end_handshake(struct skeys_peer *p);
/* ... and the server's group master and handshake state. */
void skeys_server_end_handshake(struct skeys_server *s);
void skeys_peer_free(struct skeys_peer *p);

/* ------------------------------------------------------------ a client */

struct skeys_client_cfg {
    uint32_t group_id;
    uint8_t group_inst;
    uint32_t server_id;
    uint32_t client_id;
    uint8_t rand2[WIRE_RAND_LEN];
    /* The -S fingerprint of the server's signing key; fplen 0 = any key. */
    const uint8_t *fp;
    size_t fplen;
    /* Our signing key for CLIENT_KEY (client authentication); borrowed. */
    const struct crypto_key *sigkey;
    /* v4 sessions (spec §1.9): ANNOUNCE's private address field (addrlen 4
     * or 16; all zero in unicast mode), part of the v4 verify data. */
    uint8_t addr[16];
    size_t addrlen;
    /* v4 through a response proxy (uftpd -r, spec §1.9 item 4): its
     * long-lived ECDH key, used instead of the server's (copied). */
    const struct crypto_key *peer_dh4;
    /* A proxy's upstream side (issues 5, 6): it re-keys its clients with the
     * group master, so keep it (wiped when freed) for skeys_client_gm; and
     * (spec §3.5) its upstream proxy's PROXY_KEY may move a handshake
     * already made, after which CLIENT_KEY goes whatever the session's
     * client authentication (it is how that proxy checks our fingerprint). */
    bool proxy;
};

struct skeys_client;

/*
 * Checks an encrypted ANNOUNCE: cipher and hash acceptable, the signing
 * key's fingerprint (when configured), the key blobs, and the signature
 * over dg[0..len) (which must be writable: the signature field is zeroed
 * while verifying and restored). e is the decoded EXT_ENC_INFO pointing
 * into dg. No key exchange yet (skeys_client_handshake). The session's
 * version is dg[0]; from a v4 server only ECDH_RSA / ECDH_ECDSA key
 * exchange with AUTHENC signatures is accepted (spec §1.9 item 2).
 * Errors: SKEYS_ETYPE, SKEYS_EFP, CRYPTO_EBLOB, CRYPTO_ESIG, SKEYS_EFRAME,
 * CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_client_new(struct skeys_client **out, const struct skeys_client_cfg *c,
                     const struct wire_enc_info *e, uint8_t *dg, size_t len);
void skeys_client_free(struct skeys_client *c);

/* Verifies another copy of the session's ANNOUNCE with the key we hold. Errors: as above. */
int skeys_client_verify_announce(struct skeys_client *c, const struct wire_enc_info *e, uint8_t *dg,
                                 size_t len);

/* Whether the session asks for client authentication. */
bool skeys_client_auth(const struct skeys_client *c);

/*
 * A session through a proxy (issue 5; spec §1.8 "Proxy re-keying"): the
 * proxy's PROXY_KEY message msg[0..len) (from its func byte). Checks its
 * signing key against fp[0..fplen) (the -R list) when fplen > 0, builds
 * P_ctx and verifies the signature over "UFTP 5, PROXY_KEY" || S_ctx ||
 * P_ctx. From then on the key exchange is with the proxy's ECDH key, C_ctx1
 * holds P_ctx, and KEYINFO is verified with the proxy's key. Call before
 * skeys_client_handshake (cfg.proxy: a handshake made already is undone,
 * to be made again).
 * Errors: SKEYS_ESTATE (handshake done, or a proxy already set),
 * SKEYS_EFRAME, SKEYS_EFP, CRYPTO_EBLOB, SKEYS_ETYPE (not on the curve of
 * our ECDH key), CRYPTO_ESIG, CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_client_proxy_key(struct skeys_client *c, uint32_t proxy_id, const uint8_t *msg,
                           size_t len, const uint8_t *fp, size_t fplen);

/*
 * The key exchange: an ECDH key on the peer's curve (the server's, or the
 * proxy's), the premaster, C_ctx1 (with P_ctx when there is a proxy), the
 * handshake keys and, with client authentication, the signed CLIENT_KEY
 * message and C_ctx2.
 * Errors: SKEYS_ESTATE (done already, or client auth without a key),
 * CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_client_handshake(struct skeys_client *c);

/*
 * Known-answer tests only: use this ECDH key pair (taken over) instead of
 * generating one in skeys_client_handshake. Call before it.
 */
void skeys_client_set_dh(struct skeys_client *c, struct crypto_key *dh);

/* REGISTER's ECDH blob (after the handshake). */
const uint8_t *skeys_client_dh(const struct skeys_client *c, size_t *len);
/* REGISTER's client random (rand2). */
void skeys_client_rand2(const struct skeys_client *c, uint8_t out[static WIRE_RAND_LEN]);
/* The plaintext CLIENT_KEY message to seal with skeys_client_hs_tx (v4: sent in clear), or NULL. */
const uint8_t *skeys_client_client_key(const struct skeys_client *c, size_t *len);

/*
 * A KEYINFO datagram dg[0..len) (writable; k decoded from it): replay
 * check of its counter, signature (with the server's key, or the proxy's),
 * our entry, the group master, then the application keys and
 * verify data. The handshake keys are wiped afterwards. v4: no signature
 * and no replay check (KEYINFO is unsigned, so its counter must not move
 * the window); the entry is CBC-unwrapped with the IV from the KEYINFO's
 * own src_id (spec §1.9).
 * Errors: SKEYS_ENOENT (we are not listed: nothing was checked),
 * SKEYS_EREPLAY/SKEYS_EOLD, CRYPTO_ESIG, CRYPTO_EAUTH (our entry does not
 * open), SKEYS_ESTATE (no handshake yet), CRYPTO_ENOMEM, CRYPTO_ELIB.
 */
int skeys_client_keyinfo(struct skeys_client *c, uint8_t *dg, size_t len,
                         const struct wire_keyinfo *k);
/* Just the replay check and signature of a KEYINFO (a resend once keyed; v4: nothing). */
int skeys_client_keyinfo_verify(struct skeys_client *c, uint8_t *dg, size_t len,
                                const struct wire_keyinfo *k);
bool skeys_client_keyed(const struct skeys_client *c);
/* KEYINFO_ACK's verify data. */
const uint8_t *skeys_client_verify_data(const struct skeys_client *c, size_t *len);
/* The group master (v5: its first KS5_GM_LEN bytes), once keyed with cfg.proxy. Errors:
 * SKEYS_ESTATE. */
int skeys_client_gm(const struct skeys_client *c, uint8_t out[static KS4_GM_LEN]);

/* Our handshake key (CLIENT_KEY), our application key, the server's application key. */
struct skeys_dir *skeys_client_hs_tx(struct skeys_client *c);
struct skeys_dir *skeys_client_app_tx(struct skeys_client *c);
/* Our one counter for everything we seal (spec §1.8). */
uint64_t *skeys_client_ctr(struct skeys_client *c);

/* Opens an ENCRYPTED datagram from the server (application key, replay window). */
int skeys_client_open(struct skeys_client *c, uint8_t *dg, size_t len, const uint8_t **msg,
                      size_t *msglen);
const struct skeys_dir *skeys_client_rx(const struct skeys_client *c);

/*
 * A v4 response proxy's PROXY_KEY (spec §1.9 item 4), msg[0..len) from its
 * func byte: both keys present, the signing key's fingerprint against
 * fp[0..fplen) when fplen > 0, and its SHA-1 signature over the 4-byte
 * nonce. On success *sig and *dh are the proxy's keys (the caller's).
 * Errors: SKEYS_EFRAME, SKEYS_EFP, CRYPTO_EBLOB, CRYPTO_ESIG, CRYPTO_ENOMEM,
 * CRYPTO_ELIB.
 */
int skeys_proxy4_key(const uint8_t *msg, size_t len, const uint8_t *fp, size_t fplen,
                     struct crypto_key **sig, struct crypto_key **dh);

/*
 * The v4 key exchange (spec §1.9) of every role: the premaster SHA-1(ECDH secret of priv and
 * peer) into pm (20 bytes), and from it the handshake key hs. Errors: CRYPTO_ELIB, CRYPTO_EINVAL.
 */
int skeys_v4_handshake(int hashtype, int keytype, const struct crypto_key *priv,
                       const struct crypto_key *peer, const uint8_t *rand1, const uint8_t *rand2,
                       uint8_t pm[static 20], struct ks4_keys *hs);

/* ------------------------------------------------------------ costs */

/*
 * Rough CPU cost in µs (on a 2020s x86 core, rounded up) of the public-key
 * work an unauthenticated packet can trigger, for the engines' rate
 * limiters: verifying a signature by the key in blob (its type and size
 * read from the blob header), and an ECDH key generation plus agreement on
 * curve. Unknown inputs cost the maximum.
 */
uint32_t skeys_cost_verify(const uint8_t *blob, size_t len);
uint32_t skeys_cost_ecdh(int curve);

/*
 * The checks of an encrypted ANNOUNCE that cost no public-key work (issue
 * 14 item 3): cipher and hash, the key and ECDH blobs' structure
 * (keyblob_check), and the key's fingerprint against fp[0..fplen) when
 * fplen > 0 (one SHA-1). On success *cost is the µs of public-key work
 * accepting it takes (a signature check by the key as it really is, an
 * ECDH key generation and agreement on the ECDH blob's curve), for the
 * engine's budget. Errors: SKEYS_ETYPE, SKEYS_EFP, CRYPTO_EBLOB.
 */
int skeys_announce_check(const struct wire_enc_info *e, const uint8_t *fp, size_t fplen,
                         uint32_t *cost);

#endif
