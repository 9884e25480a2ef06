/*
 * Key-schedule inputs, with no cryptography: the constant strings and the
 * byte-exact context strings of the v5 schedule (spec §1.8) and of the v4
 * "verify data" (spec §1.9). core/crypto/ks5.h and ks4.h turn them into keys.
 *
 * All integers are big-endian and the pieces are concatenated without
 * padding. Signature fields inside the copied headers are zeroed, so a
 * context is the same before and after the message is signed.
 *
 * Errors (negative, from core/wire/wire.h): WIRE_EHLEN when a copied header
 * is inconsistent (type byte, hlen, or a length field running past it),
 * WIRE_ENOSPC when out is too small, WIRE_EINVAL for a bad argument.
 */
#ifndef UFTP_PROTO_KEYSCHED_H
#define UFTP_PROTO_KEYSCHED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Signature and AAD prefixes (spec §1.8). */
#define KEYSCHED_SIG_CLIENT_KEY   "UFTP 5, CLIENT_KEY"
#define KEYSCHED_SIG_KEYINFO      "UFTP 5, KEYINFO"
#define KEYSCHED_SIG_PROXY_KEY    "UFTP 5, PROXY_KEY"
#define KEYSCHED_AAD_GROUP_MASTER "UFTP 5, group master"

/* Expand-Label labels (spec §1.8, §7 items 1-2: the code's spelling). */
#define KEYSCHED_LABEL_S_HS     "s hs traffic"
#define KEYSCHED_LABEL_C_HS     "c hs traffic"
#define KEYSCHED_LABEL_S_APP    "s app traffic"
#define KEYSCHED_LABEL_C_APP    "c app traffic"
#define KEYSCHED_LABEL_KEY      "key"
#define KEYSCHED_LABEL_IV       "iv"
#define KEYSCHED_LABEL_FINISHED "finished"

/* v4 PRF labels (spec §1.9). */
#define KEYSCHED_V4_MASTER    "master secret"
#define KEYSCHED_V4_EXPANSION "key expansion"
#define KEYSCHED_V4_FINISHED  "client finished"

#define KEYSCHED_RAND_LEN 32
/* A message header is at most hlen = 255 words. */
#define KEYSCHED_HDR_MAX   1020
#define KEYSCHED_S_CTX_MAX (4 + 1 + 4 + KEYSCHED_HDR_MAX)
#define KEYSCHED_P_CTX_MAX (4 + KEYSCHED_HDR_MAX)
#define KEYSCHED_C_CTX1_MAX                                                                        \
    (KEYSCHED_S_CTX_MAX + KEYSCHED_P_CTX_MAX + 4 + KEYSCHED_HDR_MAX + KEYSCHED_RAND_LEN)
#define KEYSCHED_C_CTX2_MAX (KEYSCHED_C_CTX1_MAX + KEYSCHED_HDR_MAX)
/* group_id, IPv6 address, rand1, rand2, premaster, RSA-3072 blob, group master. */
#define KEYSCHED_V4_CTX_MAX (4 + 16 + 32 + 32 + 64 + 392 + 48)

/*
 * S_ctx = group_id (4) || group_inst (1) || server_id (4) || EXT_ENC_INFO
 * (the extlen*4 bytes as on the wire, signature zeroed). ext/extlen are the
 * whole extension; its own length fields locate the signature.
 */
ssize_t keysched_s_ctx(uint8_t *out, size_t cap, uint32_t group_id, uint8_t group_inst,
                       uint32_t server_id, const uint8_t *ext, size_t extlen);

/*
 * P_ctx = proxy_id (4) || PROXY_KEY message header (hlen*4 bytes: fixed
 * part, key blob, ECDH blob, signature zeroed). Only in proxy sessions.
 */
ssize_t keysched_p_ctx(uint8_t *out, size_t cap, uint32_t proxy_id, const uint8_t *hdr,
                       size_t hdrlen);

/*
 * C_ctx1 = S_ctx || P_ctx || client_id (4) || client ECDH blob || rand2 (32).
 * p_ctx may be NULL with plen 0.
 */
ssize_t keysched_c_ctx1(uint8_t *out, size_t cap, const uint8_t *s_ctx, size_t slen,
                        const uint8_t *p_ctx, size_t plen, uint32_t client_id, const uint8_t *dh,
                        size_t dhlen, const uint8_t rand2[static KEYSCHED_RAND_LEN]);

/*
 * C_ctx2 = C_ctx1 || CLIENT_KEY message header (hlen*4 bytes, signature
 * zeroed) when one was sent; just C_ctx1 when ckhdr is NULL / cklen 0.
 */
ssize_t keysched_c_ctx2(uint8_t *out, size_t cap, const uint8_t *c_ctx1, size_t c1len,
                        const uint8_t *ckhdr, size_t cklen);

/*
 * v4 verify data (spec §1.9): group_id (4) || private multicast address
 * (4 or 16) || rand1 || rand2 || premaster || [client key blob] ||
 * [group master (48)]. The CLIENT_KEY signature covers it without blob and
 * group master; the KEYINFO_ACK finished value hashes it with the blob (when
 * client auth is on; pass NULL/0 otherwise) and the group master.
 */
ssize_t keysched_v4_verify_ctx(uint8_t *out, size_t cap, uint32_t group_id, const uint8_t *addr,
                               size_t addrlen, const uint8_t rand1[static KEYSCHED_RAND_LEN],
                               const uint8_t rand2[static KEYSCHED_RAND_LEN],
                               const uint8_t *premaster, size_t plen, const uint8_t *blob,
                               size_t bloblen, const uint8_t *gm48);

#endif
