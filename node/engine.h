/*
 * engine.h - the seam between the node and the protocol that orders its
 * blocks. The node feeds an engine messages, clock readings, proposals and
 * commit notices, and carries out the actions it returns, in order; the
 * engine never touches a socket, a clock or the disk. The genesis names the
 * engine ("engine" in its params): PBFT (node/engine_pbft.c over pbft/,
 * Byzantine faults), Raft (node/engine_raft.c over raft/) or Multi-Paxos
 * (node/engine_paxos.c over paxos/), the last two for crash faults only.
 *
 * The contract, for every engine:
 *   - Calls are made from one thread. After each call the host takes every
 *     action out with node_engine_next_action and carries it out before it
 *     makes the next call (an engine never sees a call while its actions are
 *     queued).
 *   - PERSIST comes before any action that sends what it records: the host
 *     writes the record durably before it carries out the actions after it,
 *     and gives the last record back to node_engine_open after a restart, so
 *     a validator never signs two conflicting messages.
 *   - COMMIT hands over a block with its commit certificate, for the height
 *     after the host's committed tip; the host executes and stores it and
 *     reports the state with node_engine_committed. FETCH asks the host to
 *     fetch committed blocks up to a height from a validator (state
 *     transfer); what it commits that way it reports with node_engine_synced.
 *   - Engine messages are bytes to the node; the engine decodes, checks and
 *     signs them, through the host's sign and verify.
 */
#ifndef NODE_ENGINE_H
#define NODE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/store.h"
#include "common/buf.h"
#include "common/err.h"

struct node_engine;

/* What an engine needs from its host. Callbacks must not call back into the engine. */
struct node_engine_host {
	void *arg;
	/* sign: sign a digest with this validator's key (a validator that cannot sign stops) */
	void (*sign)(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN]);
	/* verify: is sig validator v's signature of digest? */
	bool (*verify)(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN],
		       const uint8_t sig[CR_SIG_LEN]);
	/*
	 * verify_at: is sig the signature of digest by validator v of the set
	 * in force at height (an engine whose set changes: pbft)?
	 */
	bool (*verify_at)(void *arg, uint64_t height, uint32_t v, const uint8_t digest[CR_HASH_LEN],
			  const uint8_t sig[CR_SIG_LEN]);
	/*
	 * validate: is block (len bytes) a valid block at height whose hash is
	 * digest, proposed by validator proposer, on top of the host's
	 * committed tip, height - 1? May be called while the engine opens.
	 */
	bool (*validate)(void *arg, uint64_t height, uint32_t proposer,
			 const uint8_t digest[CR_HASH_LEN], const uint8_t *block, size_t len);
	/* block_hash: the hash of a block encoding; false if it does not decode. */
	bool (*block_hash)(void *arg, const uint8_t *block, size_t len, uint8_t out[CR_HASH_LEN]);
};

/* Where an engine starts. */
struct node_engine_config {
	uint32_t n;    /* validators */
	uint32_t self; /* this validator */
	struct chain_params params;
	size_t max_block;   /* the largest block encoding */
	struct chain_tip tip;
	const struct chain_cert *tip_cert; /* the tip block's certificate; NULL at height 0 */
	const uint8_t *record;             /* the record last persisted; NULL: none */
	size_t record_len;
	/*
	 * The validator set the engine runs rules heights first_height..
	 * last_height (0: no end known yet; node_engine_set_end); the tip's
	 * certificate, at first_height - 1, may be by the set before, of base_n.
	 * Only an engine whose rules allow set changes (pbft) reads these.
	 */
	uint64_t first_height;
	uint64_t last_height;
	uint32_t base_n;
};

enum node_engine_action_type {
	NODE_ENGINE_SEND = 1,      /* bytes to validator `to` */
	NODE_ENGINE_BROADCAST = 2, /* bytes to every other validator */
	NODE_ENGINE_PERSIST = 3,   /* bytes durably, before the next action */
	NODE_ENGINE_COMMIT = 4,    /* block (with cert) at height */
	NODE_ENGINE_FETCH = 5,     /* committed blocks up to height from `to` */
	NODE_ENGINE_VIEW = 6,      /* informational: entered view (in_view_change) */
	NODE_ENGINE_DIVERGED = 7,  /* a quorum certified another state at height: stop */
};

struct node_engine_action {
	uint8_t type;
	uint32_t to;
	struct ch_buf bytes;         /* SEND, BROADCAST, PERSIST */
	uint64_t height;             /* COMMIT, FETCH, DIVERGED */
	uint64_t view;               /* VIEW */
	bool in_view_change;         /* VIEW */
	uint8_t *block;              /* COMMIT: the block's encoding, owned */
	size_t block_len;
	struct chain_cert *cert;     /* COMMIT: owned */
};

/* The engine's state, for status and metrics. */
struct node_engine_status {
	const char *name;    /* "pbft", "raft", "multipaxos" */
	const char *role;    /* this validator's: "primary", "backup", "leader", "follower", ... */
	uint64_t height;     /* committed, as the engine knows it */
	uint64_t view;       /* PBFT's view, Raft's term, Multi-Paxos's ballot */
	uint32_t leader;     /* the validator that proposes in view; NODE_ENGINE_NO_LEADER if unknown */
	bool in_view_change; /* a view change or an election is under way */
	uint64_t stable_checkpoint;
	uint32_t faults; /* how many faulty validators the engine tolerates (its rules) */
	uint32_t quorum; /* votes a commit certificate needs (its rules) */
};

#define NODE_ENGINE_NO_LEADER UINT32_MAX

/* What an engine asks of a chain's certificates and proposers. */
struct node_engine_rules {
	uint32_t faults;     /* faulty validators tolerated */
	uint32_t quorum;     /* votes a commit certificate needs */
	bool byzantine;      /* tolerates lying validators (pbft), or crashes only */
	bool fixed_proposer; /* the proposer of a view follows from the view */
};

/*
 * node_engine_rules_of fills out for the engine called name and n
 * validators, without starting it (chain-audit, tools). CH_E_CONFIG for an
 * unknown name.
 */
int node_engine_rules_of(const char *name, uint32_t n, struct node_engine_rules *out,
			 struct ch_err *err);

/*
 * node_engine_proposer_of: the validator whose blocks engine name accepts in
 * view, or CHAIN_ANY_PROPOSER where any leader may propose (or for an
 * unknown name).
 */
uint32_t node_engine_proposer_of(const char *name, uint64_t view, uint32_t n);

/*
 * node_engine_open starts the engine called name from cfg (copied;
 * cfg->record and tip_cert are read during the call). CH_E_CONFIG for an
 * unknown name, CH_E_BAD_ENCODING for a damaged record, CH_E_NOMEM.
 */
int node_engine_open(struct node_engine **out, const char *name,
		     const struct node_engine_config *cfg, const struct node_engine_host *host,
		     uint64_t now_ms, struct ch_err *err);
void node_engine_close(struct node_engine *e); /* NULL is fine */

/* Results of node_engine_receive. */
enum node_engine_input {
	NODE_ENGINE_ACCEPTED = 0,
	NODE_ENGINE_MALFORMED,     /* did not decode */
	NODE_ENGINE_BAD_SIGNATURE, /* unknown sender or a signature that does not verify */
};

/* node_engine_receive hands the engine a message from a peer. */
enum node_engine_input node_engine_receive(struct node_engine *e, const uint8_t *msg, size_t len,
					   uint64_t now_ms);

/* node_engine_tick lets time pass (timeouts, retransmissions). */
void node_engine_tick(struct node_engine *e, uint64_t now_ms);

/* node_engine_set_pending says whether transactions wait to be ordered (a backup then expects progress). */
void node_engine_set_pending(struct node_engine *e, bool pending, uint64_t now_ms);

/* node_engine_can_propose: this validator may hand a block for the next height to node_engine_propose now. */
bool node_engine_can_propose(const struct node_engine *e);

/* node_engine_propose offers block (copied), whose hash is digest, for the next height. */
void node_engine_propose(struct node_engine *e, const uint8_t digest[CR_HASH_LEN],
			 const uint8_t *block, size_t len, uint64_t now_ms);

/* node_engine_committed: the host committed the block at height, leaving state_digest. */
void node_engine_committed(struct node_engine *e, uint64_t height,
			   const uint8_t state_digest[CR_HASH_LEN], uint64_t now_ms);

/* node_engine_set_end: the engine's validator set orders no height above last. */
void node_engine_set_end(struct node_engine *e, uint64_t last);

/* node_engine_synced: the host committed block `hash` at height by state transfer, with cert. */
void node_engine_synced(struct node_engine *e, uint64_t height, const uint8_t hash[CR_HASH_LEN],
			const struct chain_cert *cert, uint64_t now_ms);

/* node_engine_next_action moves the next action into a (release it with node_engine_action_close). */
bool node_engine_next_action(struct node_engine *e, struct node_engine_action *a);
void node_engine_action_close(struct node_engine_action *a);

/* node_engine_proposer: the validator whose blocks are accepted in view, or CHAIN_ANY_PROPOSER. */
uint32_t node_engine_proposer(const struct node_engine *e, uint64_t view);

/* node_engine_cert_quorum: the votes a commit certificate needs. */
uint32_t node_engine_cert_quorum(const struct node_engine *e);

void node_engine_status(const struct node_engine *e, struct node_engine_status *out);

/* How far a persisted record had got, for tools that move a validator's record. */
struct node_engine_mark {
	bool voted;      /* it holds a signed vote or a view change */
	uint64_t height; /* the highest height it signed a vote for (0: none) */
	uint64_t view;   /* in the validator set of epoch */
	uint64_t epoch;  /* the first height of that set (0: an engine whose set never changes) */
};

/*
 * node_engine_record_mark reads a record engine name persisted (the vote
 * record) without starting the engine. A validator's later records are
 * behind its earlier ones in neither epoch nor, within one, height and view. CH_E_CONFIG for an
 * unknown name, CH_E_BAD_ENCODING for a damaged record.
 */
int node_engine_record_mark(const char *name, const uint8_t *rec, size_t len,
			    struct node_engine_mark *out, struct ch_err *err);

#endif
