/*
 * The mother <-> workspace wire protocol: frames, messages and signed
 * events.
 *
 * Every message is a frame: a 4-byte big-endian length of the payload,
 * a 1-byte type, then the payload (the length does not count the type
 * byte, so a PING is 00 00 00 00 0a). The length is checked against the
 * decoder's limit as soon as the 5 header bytes are in, before anything
 * is buffered for the payload.
 *
 * Session (TCP, one per workspace):
 *
 *   mother                                  workspace
 *     | ---- CHALLENGE (nonce, mother key) ---> |
 *     |                                         | init: ENROLL (token,
 *     | <--- ENROLL or HELLO ------------------ |   key, nonce)
 *     | ---- ENROLLED or ERROR ---------------> |   serve: HELLO (tenant,
 *     |        (enrollment ends here)           |   last applied seq, sig)
 *     | ---- WELCOME (head seq) --------------> |
 *     | ---- EVENT seq n+1, n+2, ... ---------> |  apply each in one
 *     | <--- ACK seq -------------------------- |  transaction, then ACK
 *     | <--- RESUME seq (after a gap) --------- |
 *     | <--- STATS, AUDIT_HEAD (any time) ----- |  signed reports
 *     | <--> PING when idle; silence = drop     |
 *
 * Integers are big-endian. A string is a u16 length and its bytes (no
 * NUL). Decoders reject trailing bytes, over-long fields, ids that are not
 * valid ids and revisions that are not 40 hex digits. Payloads:
 *
 *   CHALLENGE  version u8, nonce[32], mother public key[32]
 *   HELLO      version u8, tenant str, last_seq u64, signature[64]
 *   WELCOME    head_seq u64
 *   EVENT      event length u32, event, signature[64], pack bytes
 *   ACK/RESUME seq u64
 *   ENROLL     token str, workspace public key[32], nonce[32]
 *   ENROLLED   tenant str, signature[64]
 *   ERROR      code u32, message str
 *   PING       (empty)
 *   STATS      version u8, tenant str, counter u64, time i64, body
 *              length u32, body (JSON, see below), signature[64]
 *   AUDIT_HEAD version u8, tenant str, counter u64, seq u64, hash str
 *              (64 hex), time i64, signature[64]
 *
 * The event encoding: version u8, tenant str, seq u64, course str,
 * prev_rev str (empty or 40 hex), new_rev str (40 hex), kind u8, time
 * i64, expiry i64, pack sha256[32], pack length u64. Signatures are
 * Ed25519 over a domain string (ASCII, no NUL) followed by fields:
 *
 *   event     "lms-event"  || event encoding
 *   HELLO     "lms-hello"  || version u8 || mother nonce[32] || tenant str
 *                          || last_seq u64
 *   ENROLLED  "lms-enroll" || workspace nonce[32] || tenant str
 *                          || workspace public key[32]
 *   STATS     "lms-stats"  || version u8 || mother nonce[32] || tenant
 *                          || counter u64 || time i64 || body length
 *                          u32 || body
 *   AUDIT_HEAD "lms-audit-head" || version u8 || mother nonce[32] ||
 *                          tenant str || counter u64 || seq u64 || hash
 *                          str || time i64
 *
 * STATS and AUDIT_HEAD are reports a workspace sends after WELCOME,
 * signed by its own key. The mother nonce of the session's CHALLENGE
 * and a counter that starts at 1 in each session and grows with every
 * report bind a report to one session and one place in it: a report
 * replayed in another session fails its signature, one replayed in the
 * same session has a counter already seen. A STATS body is JSON of
 * aggregate figures only (workspace/analytics.h describes it); an
 * AUDIT_HEAD names the last entry of the workspace's audit chain. A
 * mother older than these frames drops a workspace that sends them:
 * upgrade the mother first.
 *
 * Functions return 0 or a negative PROTO_E* code; proto_strerror() names
 * it. Encoders append a whole frame (header included) to a struct buf.
 */
#ifndef LMS_PROTO_H
#define LMS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/crypto.h"

#define PROTO_VERSION 1
#define PROTO_HEADER_LEN 5
#define PROTO_NONCE_LEN 32
#define PROTO_DEFAULT_MAX_FRAME (256u << 20) /* an EVENT with its pack */
#define PROTO_MAX_CONTROL 4096 /* every frame but EVENT */
#define PROTO_MAX_TOKEN 128
#define PROTO_MAX_MESSAGE 256
#define PROTO_MAX_STATS (64u << 10) /* a STATS frame's payload */
#define PROTO_STATS_OVERHEAD (1 + 2 + 64 + 8 + 8 + 4 + 64)
#define PROTO_MAX_STATS_BODY (PROTO_MAX_STATS - PROTO_STATS_OVERHEAD)
#define PROTO_HASH_HEX 64 /* an audit chain hash, hex */

/* Codes sit below -2000, apart from errno and libuv codes, so that a
 * connection's close reason says which layer failed. */
enum proto_error {
	PROTO_OK = 0,
	PROTO_ETRUNCATED = -2001, /* input ends inside a field */
	PROTO_ETOOBIG = -2002,	  /* frame or field over its limit */
	PROTO_EMALFORMED = -2003, /* bad id, revision, kind, trailing bytes */
	PROTO_EVERSION = -2004,	  /* unknown protocol version */
	PROTO_ESIGNATURE = -2005, /* signature does not verify */
	PROTO_ETYPE = -2006,	  /* unknown or unexpected frame type */
	PROTO_ENOMEM = -2007,
};

const char *proto_strerror(int code);

/* 1 when code is one of the PROTO_E* codes. */
int proto_is_error(int code);

enum proto_type {
	PROTO_CHALLENGE = 1,
	PROTO_HELLO = 2,
	PROTO_WELCOME = 3,
	PROTO_EVENT = 4,
	PROTO_ACK = 5,
	PROTO_RESUME = 6,
	PROTO_ENROLL = 7,
	PROTO_ENROLLED = 8,
	PROTO_ERROR = 9,
	PROTO_PING = 10,
	PROTO_STATS = 11,
	PROTO_AUDIT_HEAD = 12,
};

/* ---- frames ---- */

struct proto_frame {
	uint8_t type;
	const uint8_t *payload; /* borrowed from the decoder */
	size_t len;
};

struct proto_decoder {
	struct buf in;
	size_t max_frame; /* payload limit for EVENT frames */
	size_t head;	  /* first unread byte of in */
	size_t scan;	  /* next frame header not yet checked */
	int error;	  /* sticky: once set, every call returns it */
};

void proto_decoder_init(struct proto_decoder *d, size_t max_frame);
void proto_decoder_release(struct proto_decoder *d);

/* Buffers received bytes. Fails with PROTO_ETOOBIG as soon as a complete
 * header announces a frame over the limit (max_frame for EVENT,
 * PROTO_MAX_STATS for STATS, PROTO_MAX_CONTROL for every other type),
 * without buffering its payload. */
int proto_decoder_feed(struct proto_decoder *d, const void *data,
		       size_t len);

/* 1 and a frame when one is complete (valid until the next call of
 * proto_decoder_next or _feed), 0 when more bytes are needed, or a
 * negative code. */
int proto_decoder_next(struct proto_decoder *d, struct proto_frame *f);

/* Appends a frame header for a payload of len bytes. */
int proto_frame_header(struct buf *out, uint8_t type, size_t len);

/* ---- signed events ---- */

enum proto_event_kind {
	PROTO_KIND_REVISION = 1, /* a course revision: pack prev..new */
};

struct proto_event {
	uint8_t version;
	char tenant[65];
	uint64_t seq;	/* 1, 2, 3 ... per tenant, no gaps */
	char course[65];
	char prev_rev[41]; /* "" when the tenant holds no revision yet */
	char new_rev[41];
	uint8_t kind;
	int64_t time;	/* when the revision was published, unix seconds */
	int64_t expiry; /* refuse after this, unix seconds */
	uint8_t pack_sha256[CRYPTO_SHA256_LEN];
	uint64_t pack_len;
};

/* The canonical encoding of every field above, in order; this is what the
 * signature covers. */
int proto_event_encode(const struct proto_event *ev, struct buf *out);
int proto_event_decode(const uint8_t *p, size_t len,
		       struct proto_event *ev);

int proto_event_sign(const struct proto_event *ev,
		     const struct crypto_key *key,
		     uint8_t sig[CRYPTO_SIG_LEN]);
/* 0 or PROTO_ESIGNATURE. */
int proto_event_verify(const struct proto_event *ev,
		       const uint8_t pub[CRYPTO_PUBKEY_LEN],
		       const uint8_t sig[CRYPTO_SIG_LEN]);

/* An EVENT frame's payload: u32 length of the encoded event, the event,
 * the 64-byte signature, then exactly pack_len bytes of git pack. */
struct proto_event_msg {
	struct proto_event ev;
	uint8_t sig[CRYPTO_SIG_LEN];
	const uint8_t *pack; /* borrowed from the payload */
	size_t pack_len;
};

int proto_write_event(struct buf *out, const struct proto_event *ev,
		      const uint8_t sig[CRYPTO_SIG_LEN], const void *pack,
		      size_t pack_len);
/* Checks the structure and that the pack length matches the event; the
 * signature and the pack hash are the receiver's to verify. */
int proto_read_event(const uint8_t *payload, size_t len,
		     struct proto_event_msg *msg);

/* ---- control messages ---- */

struct proto_challenge {
	uint8_t version;
	uint8_t nonce[PROTO_NONCE_LEN];
	uint8_t mother_pub[CRYPTO_PUBKEY_LEN];
};

struct proto_hello {
	uint8_t version;
	char tenant[65];
	uint64_t last_seq; /* last event applied, 0 for none */
	uint8_t sig[CRYPTO_SIG_LEN];
};

struct proto_welcome {
	uint64_t head_seq; /* last event in the tenant's stream */
};

struct proto_seq { /* ACK and RESUME */
	uint64_t seq;
};

struct proto_enroll {
	char token[PROTO_MAX_TOKEN + 1];
	uint8_t workspace_pub[CRYPTO_PUBKEY_LEN];
	uint8_t nonce[PROTO_NONCE_LEN]; /* chosen by the workspace */
};

struct proto_enrolled {
	char tenant[65];
	uint8_t sig[CRYPTO_SIG_LEN]; /* by the mother's key */
};

enum proto_error_code {
	PROTO_ERR_AUTH = 1,	 /* unknown tenant or bad signature */
	PROTO_ERR_TOKEN = 2,	 /* wrong, used or expired token */
	PROTO_ERR_PROTOCOL = 3,	 /* malformed or unexpected frame */
	PROTO_ERR_INTERNAL = 4,
};

struct proto_errmsg {
	uint32_t code;
	char message[PROTO_MAX_MESSAGE + 1];
};

int proto_write_challenge(struct buf *out, const struct proto_challenge *m);
int proto_read_challenge(const uint8_t *p, size_t len,
			 struct proto_challenge *m);
int proto_write_hello(struct buf *out, const struct proto_hello *m);
int proto_read_hello(const uint8_t *p, size_t len, struct proto_hello *m);
int proto_write_welcome(struct buf *out, const struct proto_welcome *m);
int proto_read_welcome(const uint8_t *p, size_t len,
		       struct proto_welcome *m);
/* type is PROTO_ACK or PROTO_RESUME */
int proto_write_seq(struct buf *out, uint8_t type, const struct proto_seq *m);
int proto_read_seq(const uint8_t *p, size_t len, struct proto_seq *m);
int proto_write_enroll(struct buf *out, const struct proto_enroll *m);
int proto_read_enroll(const uint8_t *p, size_t len, struct proto_enroll *m);
int proto_write_enrolled(struct buf *out, const struct proto_enrolled *m);
int proto_read_enrolled(const uint8_t *p, size_t len,
			struct proto_enrolled *m);
int proto_write_error(struct buf *out, const struct proto_errmsg *m);
int proto_read_error(const uint8_t *p, size_t len, struct proto_errmsg *m);
int proto_write_ping(struct buf *out);

/* HELLO signature: over "lms-hello" || version || mother nonce || tenant
 * || last_seq, by the workspace key. */
int proto_hello_sign(struct proto_hello *m,
		     const uint8_t nonce[PROTO_NONCE_LEN],
		     const struct crypto_key *workspace_key);
int proto_hello_verify(const struct proto_hello *m,
		       const uint8_t nonce[PROTO_NONCE_LEN],
		       const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN]);

/* ENROLLED signature: over "lms-enroll" || workspace nonce || tenant ||
 * workspace public key, by the mother key. */
int proto_enrolled_sign(struct proto_enrolled *m,
			const struct proto_enroll *req,
			const struct crypto_key *mother_key);
int proto_enrolled_verify(const struct proto_enrolled *m,
			  const struct proto_enroll *req,
			  const uint8_t mother_pub[CRYPTO_PUBKEY_LEN]);

/* ---- reports from the workspace ---- */

struct proto_stats {
	uint8_t version;
	char tenant[65];
	uint64_t counter; /* 1, 2, ... in each session */
	int64_t time;	  /* when the figures were taken, unix seconds */
	const uint8_t *body; /* JSON; borrowed (from the payload when read) */
	size_t body_len;     /* 1 to PROTO_MAX_STATS_BODY */
	uint8_t sig[CRYPTO_SIG_LEN];
};

struct proto_audit_head {
	uint8_t version;
	char tenant[65];
	uint64_t counter; /* shares the session's counter with STATS */
	uint64_t seq;	  /* the chain's last entry, 0 when empty */
	char hash[PROTO_HASH_HEX + 1]; /* its hash, 64 lowercase hex */
	int64_t time;	  /* when the head was read, unix seconds */
	uint8_t sig[CRYPTO_SIG_LEN];
};

int proto_write_stats(struct buf *out, const struct proto_stats *m);
/* m->body points into p afterwards. */
int proto_read_stats(const uint8_t *p, size_t len, struct proto_stats *m);
int proto_write_audit_head(struct buf *out, const struct proto_audit_head *m);
int proto_read_audit_head(const uint8_t *p, size_t len,
			  struct proto_audit_head *m);

/* The report signatures above, by the workspace key; nonce is the
 * mother's of the session's CHALLENGE. Verifying returns 0 or
 * PROTO_ESIGNATURE. */
int proto_stats_sign(struct proto_stats *m,
		     const uint8_t nonce[PROTO_NONCE_LEN],
		     const struct crypto_key *workspace_key);
int proto_stats_verify(const struct proto_stats *m,
		       const uint8_t nonce[PROTO_NONCE_LEN],
		       const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN]);
int proto_audit_head_sign(struct proto_audit_head *m,
			  const uint8_t nonce[PROTO_NONCE_LEN],
			  const struct crypto_key *workspace_key);
int proto_audit_head_verify(const struct proto_audit_head *m,
			    const uint8_t nonce[PROTO_NONCE_LEN],
			    const uint8_t workspace_pub[CRYPTO_PUBKEY_LEN]);

#endif
