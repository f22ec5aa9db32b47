/*
 * node_internal.h - what the node's files share: the node structure, the
 * event queue, and the functions the RPC methods call on the loop thread.
 * Everything here is touched by the loop thread only, except the fields
 * under `mu` (the queue and the stopping flag).
 */
#ifndef NODE_INTERNAL_H
#define NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain/block.h"
#include "chain/mempool.h"
#include "chain/sigcache.h"
#include "chain/state.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "crypto/crypto.h"
#include "node/config.h"
#include "node/vote_file.h"
#include "pbft/pbft.h"
#include "rpc/http_server.h"
#include "rpc/jsonrpc.h"
#include "rpc/peer.h"

/* Peer messages waiting for the loop beyond this many are dropped (and counted). */
#define NODE_MAX_QUEUED_PEER_MSGS 20000
/* ... and beyond this many bytes of them (a message is at most a few MiB). */
#define NODE_MAX_QUEUED_PEER_BYTES (64u << 20)

/*
 * A "txs" gossip message: validators send at most about 1 MiB of text
 * (node_gossip_add), so more than this many bytes or transactions is refused
 * before it is kept parsed (a parsed list of tiny entries is many times
 * larger than its text).
 */
#define NODE_MAX_GOSSIP_BYTES (2u << 20)
#define NODE_MAX_GOSSIP_TXS 8192

/* Signature verdicts remembered: several blocks' worth of transactions. */
#define NODE_SIGCACHE_ENTRIES (1u << 17)

/* An HTTP request or a peer message queued for the loop. */
struct node_event {
	struct node_event *next;
	struct rpc_http_req *req; /* NULL for a peer message */
	const char *body;         /* owned by req, or by the event for a peer message */
	size_t len;
	struct node_pending *pending; /* set by the preparation stage: the parsed request */
	cJSON *root;                  /* set by the preparation stage: the parsed peer message */
	bool refused;                 /* set by the preparation stage: over the gossip limits */
};

/*
 * A queue of events, under its owner's lock. Peer messages beyond
 * NODE_MAX_QUEUED_PEER_MSGS or NODE_MAX_QUEUED_PEER_BYTES are refused, so a
 * flood of many or of large messages cannot grow memory; client requests
 * are bounded by the HTTP server's in-flight limit and body size.
 */
struct node_queue {
	struct node_event *head, *tail;
	size_t peer_msgs;
	size_t peer_bytes; /* the peer messages' text */
};

/* queue.c: push (false: refused, the caller keeps ev), pop one, or take the whole list. */
bool node_queue_push(struct node_queue *q, struct node_event *ev);
struct node_event *node_queue_pop(struct node_queue *q);
struct node_event *node_queue_take_all(struct node_queue *q);

/*
 * A JSON-RPC request being answered. Calls that wait for a commit
 * (broadcast_tx_commit) keep it open; it is rendered and sent when the
 * last one is answered.
 */
struct node_pending {
	struct rpc_http_req *req;
	struct rpc_request rpc;
	struct chain_tx **txs; /* per call, or NULL: transactions the preparation stage decoded */
	size_t waiting;
};

/* A call waiting for its transaction to commit. */
struct node_waiter {
	struct node_waiter *next;
	struct node_pending *pending;
	struct rpc_call *call;
	uint8_t hash[CR_HASH_LEN];
	uint64_t deadline_ms; /* monotonic */
};

/* Recently dropped transactions, so clients learn why. */
#define NODE_DROPPED_RING 1024
struct node_dropped {
	uint8_t hash[CR_HASH_LEN];
	int code;
	char msg[160];
};

struct node {
	struct node_config cfg;
	struct node_genesis genesis;
	struct cr_key *key;
	uint8_t pub_key[CR_PUBKEY_LEN];
	int validator_index; /* -1 if this node is not a validator */
	struct chain_store *store;
	struct chain_mempool *mempool;
	struct chain_sigcache *sigcache; /* shared with the preparation threads */
	struct node_prep *prep;
	struct rpc_http_server *http;
	struct chain_tip tip;
	uint64_t view;
	uint64_t last_block_mono_ms;
	uint64_t started_mono_ms;

	/* consensus */
	struct pbft *pbft;
	struct vote_file *votes; /* the core's vote record, outside the store (vote_file.h) */
	struct rpc_peer_net *peers;
	struct cr_pubkey *pubkeys[CHAIN_MAX_VALIDATORS];
	uint8_t validator_keys[CHAIN_MAX_VALIDATORS][CR_PUBKEY_LEN];
	bool fatal; /* a storage failure: sign nothing more */
	bool has_validated;
	uint8_t validated_hash[CR_HASH_LEN];
	struct chain_exec *validated_exec; /* execution of the block validated last */
	bool sync_pending;
	uint32_t sync_peer;
	uint64_t sync_id;
	uint64_t sync_deadline_ms;
	uint64_t peer_height[CHAIN_MAX_VALIDATORS];
	uint64_t peer_seen_ms[CHAIN_MAX_VALIDATORS];
	/* get_blocks answers to each validator: a token bucket (anyone can ask in its name) */
	double serve_tokens[CHAIN_MAX_VALIDATORS];
	uint64_t serve_ms[CHAIN_MAX_VALIDATORS];
	uint64_t sync_refused; /* get_blocks over that rate, not answered */
	uint64_t peer_bad;     /* undecodable peer messages */
	uint64_t peer_bad_sig; /* consensus messages from unknown keys or with bad signatures */
	uint64_t peer_dropped;
	uint64_t last_status_ms;
	bool ready; /* cached: the mempool holds a transaction for the next block */
	size_t ready_count;
	uint64_t ready_height;
	struct ch_buf gossip;

	struct node_waiter *waiters;
	struct node_dropped dropped[NODE_DROPPED_RING];
	size_t ndropped;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node_queue queue;
	bool stopping;

	struct node_byz *byz; /* chaind-byzantine only (node/byzantine.h); NULL: honest */
	_Atomic(const char *) stop_phase; /* node_run's shutdown step, read by node_stop_phase */
};

/* consensus.c: send a consensus message, or its encoding, to a peer (-1: all). */
void node_send_consensus(struct node *n, int to, const struct pbft_msg *m);
void node_send_encoded(struct node *n, int to, const uint8_t *enc, size_t len);

/* node.c: hand an event to the loop (any thread); answers "shutting down" when stopping. */
void node_event_push(struct node *n, struct node_event *ev);

/* prep.c: the worker threads that parse requests and check signatures before the loop. */
struct node_prep;
int node_prep_start(struct node *n, struct ch_err *err);
void node_prep_stop(struct node_prep *q); /* q may be NULL */
bool node_prep_submit(struct node_prep *q, struct node_event *ev);

/* methods.c: decode params.tx (hex of a signed transaction); any thread. */
int node_param_tx(const struct rpc_call *c, struct chain_tx *tx, struct ch_err *err);

/* methods.c: answer every call of a parsed request (loop thread). */
void node_handle_request(struct node *n, struct node_pending *p);

/* node.c: free p and everything it holds (after its reply is sent). */
void node_pending_free(struct node_pending *p);

/* node.c: finish p if nothing waits any more (render, reply, free). */
void node_pending_maybe_finish(struct node *n, struct node_pending *p);

/*
 * node.c: admit a decoded transaction (hex already decoded) into the
 * mempool after the stateful checks. *known is set if it was already
 * pending or committed (then 0 is returned).
 */
int node_admit_tx(struct node *n, const struct chain_tx *tx, struct ch_err *err);

/* node.c: remember why a transaction was not admitted or was dropped. */
void node_record_dropped(struct node *n, const uint8_t hash[CR_HASH_LEN], const struct ch_err *e);

/* node.c: status lookups by hash. */
int node_tx_committed(struct node *n, const uint8_t hash[CR_HASH_LEN], uint64_t *height,
		      uint32_t *index);
const struct node_dropped *node_tx_dropped(struct node *n, const uint8_t hash[CR_HASH_LEN]);

/*
 * node_max_block_encoding: the largest block encoding the parameters allow
 * (the rule limits the sum of transaction sizes; the header and a 4-byte
 * length per transaction come on top).
 */
static inline size_t
node_max_block_encoding(const struct node_params *p)
{
	return (size_t)p->block_max_bytes + 4 * (size_t)p->block_max_txs + 256;
}

/* consensus.c: the pbft host, its actions, peer protocol and block commits. */
int node_consensus_open(struct node *n, struct ch_err *err);
void node_consensus_close(struct node *n);
void node_drive(struct node *n);
void node_on_peer_message(struct node *n, const uint8_t *data, size_t len);
/* consensus.c: params.txs of a "txs" message, if it is an array within NODE_MAX_GOSSIP_TXS. */
const cJSON *node_peer_txs(const cJSON *params);
void node_on_peer_json(struct node *n, const cJSON *root);
int node_peer_tx_decode(const cJSON *hex, struct chain_tx *tx); /* any thread */
void node_gossip_add(struct node *n, const struct chain_tx *tx);
void node_gossip_flush(struct node *n);
void node_send_status(struct node *n);
int node_check_block(struct node *n, const struct chain_block *b, struct ch_err *err);
int node_commit_block(struct node *n, const struct chain_block *b, const struct chain_cert *cert,
		      struct ch_err *err);
void node_forget_validated(struct node *n);
int node_nonce_of(void *arg, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce);

/* json_view.c: JSON views (new cJSON objects owned by the caller). */
cJSON *node_json_tx(const struct chain_tx *tx);
cJSON *node_json_header(const struct chain_header *h);
cJSON *node_json_cert(const struct chain_cert *c);
cJSON *node_json_hex(const void *data, size_t len);
void node_json_add_hex(cJSON *obj, const char *name, const void *data, size_t len);

#endif
