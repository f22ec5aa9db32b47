/*
 * raft.h - Raft (Ongaro and Ousterhout, USENIX ATC 2014; Ongaro's thesis,
 * 2014) ordering a chain of blocks, as a pure, deterministic state machine
 * for crash faults. No sockets, clocks, disk or threads: the host feeds it
 * messages, clock readings and "block committed" notices, and carries out
 * the actions it returns, in order.
 *
 * Chain adaptation:
 *  - Log entries are blocks or no-ops. Raft indexes are dense (1, 2, ...);
 *    every entry also carries a height: a block's own, a no-op the height
 *    of the block before it. Block heights in a log are consecutive.
 *  - A leader appends a no-op at the start of its term (thesis 6.4) and
 *    commits entries only by counting replicas of an entry of its own term
 *    (paper 5.4.2, Figure 8); earlier entries commit with it.
 *  - The leader proposes the next block only when every block of its log is
 *    committed and the host has executed it (one block in flight, because
 *    the host builds a block on its executed state); a follower's host
 *    executes a block only once it is committed.
 *  - Commit certificates: a follower that answers an AppendEntries of term
 *    T with success signs, for every block it holds above the commit point
 *    it knows, a commit vote over (height, T, block hash) (the preimage of
 *    chain/block.h). A majority of such votes, the leader's among them, is
 *    the block's certificate; the leader sends certificates to followers
 *    with the commit index.
 *  - Elections use pre-vote (thesis 9.6) so a node back from a partition
 *    does not depose a working leader, and check-quorum: a leader that has
 *    not heard from a majority within an election timeout steps down.
 *  - Followers more than the leader's retained log behind are caught up by
 *    block sync: the core asks the host for committed blocks
 *    (RAFT_ACT_FETCH) and is told of them with raft_synced.
 *  - Every message is signed by its sender (the host's keys), so a peer
 *    cannot speak for another validator; validators are trusted not to lie.
 *
 * Crash safety: term, vote and the log entries above the host's committed
 * tip are durable (RAFT_ACT_PERSIST, one self-contained record) before any
 * message that depends on them leaves.
 *
 * Memory: the core aborts when an allocation fails where it would otherwise
 * lose an action; raft_new and raft_restore return CH_E_NOMEM.
 *
 * Links against libc and common/ alone.
 */
#ifndef RAFT_RAFT_H
#define RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define RAFT_HASH_LEN 32
#define RAFT_SIG_LEN 64
#define RAFT_MAX_VALIDATORS 256

/* raft_quorum returns the majority of n: n / 2 + 1. */
uint32_t raft_quorum(uint32_t n);

/* A signature by one validator (a commit vote in a certificate). */
struct raft_vote {
	uint32_t from;
	uint8_t sig[RAFT_SIG_LEN];
};

/*
 * Callbacks into the host. They must be deterministic for a given input
 * (simulators replay schedules from a seed) and must not call back into the
 * core.
 */
struct raft_host {
	void *arg;
	/* sign: sign bytes with this validator's key. */
	void (*sign)(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[RAFT_SIG_LEN]);
	/* verify: is sig validator's signature of bytes? */
	bool (*verify)(void *arg, uint32_t validator, const uint8_t *bytes, size_t len,
		       const uint8_t sig[RAFT_SIG_LEN]);
	/* block_hash: hash a block encoding; false if it does not decode. */
	bool (*block_hash)(void *arg, const uint8_t *block, size_t len,
			   uint8_t out[RAFT_HASH_LEN]);
};

struct raft_config {
	uint32_t n;                   /* validators (1..RAFT_MAX_VALIDATORS) */
	uint32_t self;                /* this validator's index (< n) */
	uint64_t election_timeout_ms; /* base; each timeout is drawn from [base, 2 * base) */
	uint64_t heartbeat_ms;        /* leader's idle AppendEntries interval (< base) */
	size_t max_block_bytes;       /* the largest block encoding */
	size_t max_msg_bytes;         /* bound on one AppendEntries (at least one block fits) */
	uint32_t max_inflight;        /* AppendEntries in flight per follower (pipelining) */
	uint32_t retain;              /* committed entries kept for lagging followers */
	uint64_t seed;                /* drives the randomized timeouts */
	/*
	 * Test only: commit an earlier term's entry by counting its replicas,
	 * without the current-term rule (the Figure 8 bug). Never set it
	 * outside tests that show the simulator catches it.
	 */
	bool unsafe_commit_old_terms;
};

/* ---- actions ---- */

enum raft_action_type {
	RAFT_ACT_SEND = 1,      /* bytes to validator `to` */
	RAFT_ACT_BROADCAST = 2, /* bytes to every other validator */
	RAFT_ACT_PERSIST = 3,   /* write record durably before the next action */
	RAFT_ACT_COMMIT = 4,    /* execute and store block at height with its certificate */
	RAFT_ACT_FETCH = 5,     /* block sync: committed blocks up to height from `to` */
	RAFT_ACT_ROLE = 6,      /* informational: role, term or leader changed */
};

enum raft_role {
	RAFT_FOLLOWER = 0,
	RAFT_PRE_CANDIDATE = 1,
	RAFT_CANDIDATE = 2,
	RAFT_LEADER = 3,
};

struct raft_action {
	uint8_t type;
	uint32_t to;         /* SEND, FETCH */
	struct ch_buf bytes; /* SEND, BROADCAST: a signed message; PERSIST: the record */
	/* COMMIT: height, term (the certificate's view), digest, block, cert */
	uint64_t height; /* COMMIT, FETCH */
	uint64_t term;   /* COMMIT, ROLE */
	uint8_t digest[RAFT_HASH_LEN];
	uint8_t *block; /* owned */
	size_t block_len;
	uint32_t ncert;
	struct raft_vote *cert; /* owned */
	/* ROLE */
	uint8_t role;
	uint32_t leader; /* RAFT_NO_LEADER if none known */
};

#define RAFT_NO_LEADER UINT32_MAX

void raft_action_close(struct raft_action *a);

/* ---- the core ---- */

struct raft;

/*
 * raft_new makes a core for a validator whose committed chain ends at
 * height (hash digest; zero at height 0). cfg and host are copied.
 * 0, CH_E_INVALID for a bad config, CH_E_NOMEM.
 */
int raft_new(struct raft **out, const struct raft_config *cfg, const struct raft_host *host,
	     uint64_t height, const uint8_t digest[RAFT_HASH_LEN], uint64_t now_ms);
void raft_free(struct raft *r); /* NULL is fine */

/*
 * raft_restore loads the record of the last RAFT_ACT_PERSIST, right after
 * raft_new and before any input. Entries it knows to be committed at or
 * below the host's committed height are skipped (a chain that block sync
 * took past the record's log is fine: the log catches up). A core made at
 * height > 0 without a record holds no log until a leader names a
 * committed entry at that height. CH_E_BAD_ENCODING if the record is damaged,
 * CH_E_INVALID if it starts above the host's committed height (the host
 * lost blocks it had stored).
 */
int raft_restore(struct raft *r, const uint8_t *record, size_t len, struct ch_err *err);

/*
 * raft_record_mark reads, without a core, how far a record had got: *term,
 * *height (the highest block height in its log; with no block above its
 * base, the base's height: the last committed height the host had
 * executed when it was written; 0 for an empty chain) and *voted (it holds
 * a vote in its term). Later records never go back in term.
 */
int raft_record_mark(const uint8_t *record, size_t len, uint64_t *term, uint64_t *height,
		     bool *voted, struct ch_err *err);

/* Results of raft_receive. */
enum raft_input {
	RAFT_ACCEPTED = 0,
	RAFT_MALFORMED = 1,     /* did not decode (strict: lengths bounded, no trailing bytes) */
	RAFT_BAD_SIGNATURE = 2, /* unknown sender or a signature that does not verify */
};

/* raft_receive hands the core a message from the network (any sender). */
enum raft_input raft_receive(struct raft *r, const uint8_t *msg, size_t len, uint64_t now_ms);

/* raft_tick advances the core's clock (elections, heartbeats, retransmissions). */
void raft_tick(struct raft *r, uint64_t now_ms);

/*
 * raft_can_propose: this validator leads, its term's no-op is committed,
 * every block of its log is committed and executed by the host; the host
 * may cut a block for height raft_height(r) + 1 and hand it to
 * raft_propose.
 */
bool raft_can_propose(const struct raft *r);

/* raft_propose appends block (copied), whose hash is digest, and replicates it. */
void raft_propose(struct raft *r, const uint8_t digest[RAFT_HASH_LEN], const uint8_t *block,
		  size_t len, uint64_t now_ms);

/* raft_committed: the host executed and stored the block at height (after a COMMIT). */
void raft_committed(struct raft *r, uint64_t height, uint64_t now_ms);

/*
 * raft_synced: the host committed blocks up to height (hash digest) by block
 * sync, the last with certificate cert_term/cert.
 */
void raft_synced(struct raft *r, uint64_t height, const uint8_t digest[RAFT_HASH_LEN],
		 uint64_t cert_term, const struct raft_vote *cert, uint32_t ncert,
		 uint64_t now_ms);

/* raft_next_action moves the next pending action into a; false if none. */
bool raft_next_action(struct raft *r, struct raft_action *a);

/* ---- introspection (status, tests) ---- */

uint64_t raft_term(const struct raft *r);
enum raft_role raft_role(const struct raft *r);
uint32_t raft_leader(const struct raft *r); /* RAFT_NO_LEADER if none known */
uint64_t raft_height(const struct raft *r); /* the host's committed height, as the core knows it */

/* The log, for invariant checks: entries with index in (raft_log_first(r), raft_log_last(r)]. */
uint64_t raft_log_first(const struct raft *r); /* the index of the last entry no longer held */
uint64_t raft_log_last(const struct raft *r);
uint64_t raft_commit_index(const struct raft *r);

struct raft_entry_info {
	uint64_t index;
	uint64_t term;
	uint64_t height;
	bool is_block;
	uint8_t digest[RAFT_HASH_LEN]; /* block hash; zero for a no-op */
};

/* raft_log_entry describes the held entry at index; false if it is not held. */
bool raft_log_entry(const struct raft *r, uint64_t index, struct raft_entry_info *out);

#endif
