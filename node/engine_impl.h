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
	void (*synced)(void *impl, uint64_t height, const uint8_t hash[CR_HASH_LEN],
		       const struct chain_cert *cert, uint64_t now_ms);
	bool (*next_action)(void *impl, struct node_engine_action *a);
	uint32_t (*proposer)(const void *impl, uint64_t view);
	uint32_t (*cert_quorum)(const void *impl);
	void (*status)(const void *impl, struct node_engine_status *out);
	int (*record_mark)(const uint8_t *rec, size_t len, struct node_engine_mark *out,
			   struct ch_err *err);
};

extern const struct node_engine_ops node_engine_pbft;

#endif
