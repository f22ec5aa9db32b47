/*
 * io.h - the seam between a validator's deterministic core (node/core.h) and
 * the world. The core reads no clock, opens no socket and writes no file of
 * its own: time comes in with every call, and everything else goes through
 * a struct node_io. In the node (node/runtime.c) these are nng, the vote
 * files, the validator's key and stderr; in the simulator (tests/sim) a
 * simulated network, memory, and a trace.
 *
 * Every function is called on the core's thread, may not call back into the
 * core, and must not block for long (send never blocks).
 */
#ifndef NODE_IO_H
#define NODE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/crypto.h"

enum node_log_level { NODE_LOG_DEBUG, NODE_LOG_INFO, NODE_LOG_WARN, NODE_LOG_ERROR };

/* A clock reading: monotonic for timers, wall-clock for block times. */
struct node_time {
	uint64_t mono_ms;
	uint64_t wall_ms; /* milliseconds since the Unix epoch */
};

struct node_io {
	void *arg;
	/*
	 * send hands an encoded peer message (node/peer_msg.h) to validator
	 * `to`, or to every other validator when to < 0 (msg is copied). It may
	 * drop it: peers retransmit and catch up.
	 */
	void (*send)(void *arg, int to, const uint8_t *msg, size_t len);
	/*
	 * save_votes writes the ordering engine's record durably and returns
	 * once it is (0), or fails: then the core signs nothing more.
	 */
	int (*save_votes)(void *arg, const uint8_t *rec, size_t len, struct ch_err *err);
	/* sign signs digest with this validator's key; false if it cannot (the core then stops). */
	bool (*sign)(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN]);
	/*
	 * verify: is sig a signature of digest by the key pub, parsed as pk?
	 * (cr_pubkey_verify in the node; the simulator remembers verdicts,
	 * since each of its replicas checks every message the others get.)
	 */
	bool (*verify)(void *arg, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
		       const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);
	/* random returns 64 unpredictable bits (request ids). */
	uint64_t (*random)(void *arg);
	/* log records one line (without a newline) at level. */
	void (*log)(void *arg, enum node_log_level level, const char *line);
	/*
	 * may_write (optional; NULL in the node) is asked before each write to
	 * the store. false means the process died in the call under way (the
	 * simulator's crash between two writes): that write and everything
	 * after it in the call do not happen.
	 */
	bool (*may_write)(void *arg);
};

/* node_io_verify is the plain verify hook: cr_pubkey_verify, arg unused. */
bool node_io_verify(void *arg, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
		    const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);

#endif
