/*
 * engine_impl.h - what an ordering engine implements to sit behind
 * node/engine.h: one table of functions, registered in engine.c.
 */
#ifndef NODE_ENGINE_IMPL_H
#define NODE_ENGINE_IMPL_H

#include "node/engine.h"

struct node_engine_ops {
	const char *name;
	int (*open)(void **out, const struct node_engine_config *cfg,
		    const struct node_engine_host *host, uint64_t now_ms, struct ch_err *err);
	void (*close)(void *impl);
	enum node_engine_input (*receive)(void *impl, const uint8_t *msg, size_t len,
					  uint64_t now_ms);
	void (*tick)(void *impl, uint64_t now_ms);
	void (*set_pending)(void *impl, bool pending, uint64_t now_ms);
	bool (*can_propose)(const void *impl);
	void (*propose)(void *impl, const uint8_t digest[CR_HASH_LEN], const uint8_t *block,
			size_t len, uint64_t now_ms);
	void (*committed)(void *impl, uint64_t height, const uint8_t state_digest[CR_HASH_LEN],
			  uint64_t now_ms);
	void (*set_end)(void *impl, uint64_t last); /* NULL: the set never changes */
	void (*synced)(void *impl, uint64_t height, const uint8_t hash[CR_HASH_LEN],
		       const struct chain_cert *cert, uint64_t now_ms);
	bool (*next_action)(void *impl, struct node_engine_action *a);
	void (*status)(const void *impl, struct node_engine_status *out);
	int (*record_mark)(const uint8_t *rec, size_t len, struct node_engine_mark *out,
			   struct ch_err *err);
	/* what the engine asks of a chain of n validators (no engine needed) */
	void (*rules)(uint32_t n, struct node_engine_rules *out);
	/* the validator whose blocks are accepted in view, or CHAIN_ANY_PROPOSER */
	uint32_t (*proposer)(uint64_t view, uint32_t n);
};

/* What every engine's adapter needs from the seam. */

/* node_engine_sign_bytes signs SHA-256(bytes) with the host's key. */
void node_engine_sign_bytes(const struct node_engine_host *h, const uint8_t *bytes, size_t len,
			    uint8_t sig[CR_SIG_LEN]);

/* node_engine_verify_bytes: is sig validator v's signature of SHA-256(bytes)? */
bool node_engine_verify_bytes(const struct node_engine_host *h, uint32_t v, const uint8_t *bytes,
			      size_t len, const uint8_t sig[CR_SIG_LEN]);

/* node_engine_verify_bytes_at: the same, v numbered in the set in force at height (verify_at). */
bool node_engine_verify_bytes_at(const struct node_engine_host *h, uint64_t height, uint32_t v,
				 const uint8_t *bytes, size_t len, const uint8_t sig[CR_SIG_LEN]);

/*
 * node_engine_cert_new allocates a certificate for (height, view, digest)
 * with no votes yet (add them in ascending order with node_engine_cert_add);
 * aborts when out of memory, since a commit must not be lost.
 */
struct chain_cert *node_engine_cert_new(uint64_t height, uint64_t view,
					const uint8_t digest[CR_HASH_LEN]);
void node_engine_cert_add(struct chain_cert *c, uint32_t from, const uint8_t sig[CR_SIG_LEN]);

extern const struct node_engine_ops node_engine_pbft;
extern const struct node_engine_ops node_engine_raft;
extern const struct node_engine_ops node_engine_multipaxos;

#endif
