/*
 * raft_internal.h - the core's state, shared by the files of raft/.
 * Owned and touched by one thread: whoever calls the raft_* functions.
 *
 * The log (log.c) holds entries with index in (base_index, last]; the base
 * is a committed entry whose index, term and height are known ("anchored").
 * The host's chain may run ahead of what the log knows to be committed
 * (block sync); the log stays a valid Raft log and catches up. A core
 * started on a chain with no record knows only its host's tip height: it is
 * unanchored, holds no entries, and waits for a leader to name a committed
 * entry at that height (replication.c, "Rejoining").
 */
#ifndef RAFT_INTERNAL_H
#define RAFT_INTERNAL_H

#include "raft/raft.h"

#define RAFT_MAX_ENTRIES 64    /* entries in one AppendEntries */
#define RAFT_MAX_PENDING 32    /* uncertified block digests in one AppendEntries */
#define RAFT_MAX_CERTS 4       /* certificates in one AppendEntries */
#define RAFT_MAX_RESP_VOTES 32 /* commit votes in one AppendEntries response */
#define RAFT_MAX_INFLIGHT 64   /* cap on cfg.max_inflight */
/* Indexes, terms and heights at or above this do not decode (no overflow below it). */
#define RAFT_MAX_INDEX (UINT64_C(1) << 62)

/* ---- messages (msg.c) ---- */

enum raft_msg_type {
	RAFT_MSG_PREVOTE = 1,      /* thesis 9.6: would you vote for me in term? */
	RAFT_MSG_PREVOTE_RESP = 2, /* granted; term = the asked term, or the voter's if refused */
	RAFT_MSG_VOTE = 3,         /* RequestVote (paper 5.2) */
	RAFT_MSG_VOTE_RESP = 4,
	RAFT_MSG_APPEND = 5, /* AppendEntries (paper 5.3) */
	RAFT_MSG_APPEND_RESP = 6,
};

#define RAFT_APPEND_FETCH 0x01 /* the leader cannot serve the follower from its log: sync */

struct raft_msg_entry {
	uint64_t term;
	uint64_t height;
	bool is_block;
	uint8_t digest[RAFT_HASH_LEN];
	const uint8_t *block; /* borrowed: the log's bytes, or the received message's */
	size_t block_len;
};

struct raft_msg_cert {
	uint64_t height;
	uint64_t term;
	uint32_t nvotes;
	const struct raft_vote *votes; /* encoding: borrowed */
	const uint8_t *raw;            /* decoded: nvotes x (from u16 | sig), in the message */
};

struct raft_msg_pending {
	uint64_t height;
	uint8_t digest[RAFT_HASH_LEN];
};

struct raft_msg_vote {
	uint64_t height;
	uint8_t sig[RAFT_SIG_LEN];
};

/*
 * A message. Every one has type, from and term; then by type:
 *   PREVOTE, VOTE           last_index, last_term (the candidate's log)
 *   PREVOTE_RESP, VOTE_RESP granted
 *   APPEND   prev_index, prev_term, prev_height (the entry before entries),
 *            commit_index, cert_height (blocks above it still want votes),
 *            leader_height (the leader's host tip: what a FETCH can get),
 *            flags, pending (uncertified blocks at or below prev), entries,
 *            certs (for blocks the follower's host lacks)
 *   APPEND_RESP success, index (match on success, else a hint: the last
 *            index worth trying), last_index (its log's), unanchored,
 *            host_height, votes (commit votes in this term, by height)
 * Decoded messages borrow from the bytes they were decoded from.
 */
struct raft_msg {
	uint8_t type;
	uint32_t from;
	uint64_t term;
	uint64_t last_index, last_term;
	bool granted;
	uint64_t prev_index, prev_term, prev_height;
	uint64_t commit_index, cert_height, leader_height;
	uint8_t flags;
	uint32_t npending;
	struct raft_msg_pending pending[RAFT_MAX_PENDING];
	uint32_t nentries;
	struct raft_msg_entry entries[RAFT_MAX_ENTRIES];
	uint32_t ncerts;
	struct raft_msg_cert certs[RAFT_MAX_CERTS];
	bool success, unanchored;
	uint64_t index, host_height;
	uint32_t nvotes;
	struct raft_msg_vote votes[RAFT_MAX_RESP_VOTES];
};

/* raft_msg_encode appends m's encoding without the signature. */
void raft_msg_encode(const struct raft_msg *m, struct ch_buf *out);

/* raft_msg_entry_size is the encoded size of one entry of an AppendEntries. */
size_t raft_msg_entry_size(const struct raft_msg_entry *e);

/*
 * raft_msg_decode parses exactly len bytes (signature last) into m,
 * strictly: counts bounded by n and the RAFT_MAX_* caps, blocks by
 * max_block, trailing bytes rejected. 0 or CH_E_BAD_ENCODING.
 */
int raft_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block,
                    struct raft_msg *m);

/* raft_msg_cert_vote reads vote i of a decoded certificate. */
void raft_msg_cert_vote(const struct raft_msg_cert *c, uint32_t i, struct raft_vote *out);

#define RAFT_VOTE_PREIMAGE_LEN (17 + 8 + 8 + RAFT_HASH_LEN)

/* raft_vote_preimage: "chaind/commit/v1" 0x00 | height | term | digest (chain/block.c). */
void raft_vote_preimage(uint64_t height, uint64_t term, const uint8_t digest[RAFT_HASH_LEN],
                        uint8_t out[RAFT_VOTE_PREIMAGE_LEN]);

/* ---- the log (log.c) ---- */

/* This term's commit vote of one validator for a block (leader only). */
struct raft_vote_slot {
	bool has;
	uint8_t sig[RAFT_SIG_LEN];
};

struct raft_entry {
	uint64_t term;
	uint64_t height; /* a block's own; a no-op's: the block before it */
	bool is_block;
	uint8_t digest[RAFT_HASH_LEN]; /* zero for a no-op */
	uint8_t *block;                /* owned */
	size_t block_len;
	/* the block's certificate, once known */
	uint64_t cert_term;
	uint32_t ncert;
	struct raft_vote *cert; /* owned, ascending validators */
	/* leader: commit votes of its term, n slots (NULL until the first) */
	struct raft_vote_slot *votes;
	uint32_t nvotes;
};

struct raft_log {
	uint64_t base_index, base_term, base_height; /* the last entry no longer held */
	struct raft_entry *e;                        /* e[i] has index base_index + 1 + i */
	size_t len, cap;
};

void raft_log_init(struct raft_log *l, uint64_t index, uint64_t term, uint64_t height);
void raft_log_close(struct raft_log *l);
uint64_t raft_log_last_index(const struct raft_log *l);
/* raft_log_get returns the held entry at index, NULL if not held. */
struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index);
/* raft_log_term_at / height_at: of index in [base, last]; false outside. */
bool raft_log_term_at(const struct raft_log *l, uint64_t index, uint64_t *term);
bool raft_log_height_at(const struct raft_log *l, uint64_t index, uint64_t *height);
uint64_t raft_log_last_term(const struct raft_log *l);
uint64_t raft_log_last_height(const struct raft_log *l);
/* raft_log_append adds a zeroed entry at last + 1 and returns it (aborts on OOM). */
struct raft_entry *raft_log_append(struct raft_log *l);
/* raft_log_truncate drops entries with index >= from (from > base). */
void raft_log_truncate(struct raft_log *l, uint64_t from);
/* raft_log_compact drops entries with index <= upto, which becomes the base. */
void raft_log_compact(struct raft_log *l, uint64_t upto);
/* raft_log_reset drops everything; the base becomes (index, term, height). */
void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term, uint64_t height);
/* raft_log_block returns the held block entry at height and its index, NULL if none. */
struct raft_entry *raft_log_block(const struct raft_log *l, uint64_t height, uint64_t *index);
/* raft_log_last_upto: the last index <= max_index in [base, last] with height <= h. */
uint64_t raft_log_last_upto(const struct raft_log *l, uint64_t h, uint64_t max_index);
/*
 * raft_log_last_at_height finds the last index <= max_index in [base, last]
 * whose entry has height h; false if none.
 */
bool raft_log_last_at_height(const struct raft_log *l, uint64_t h, uint64_t max_index,
                             uint64_t *index);
void raft_entry_clear_votes(struct raft_entry *e);

/* ---- the core ---- */

struct raft_peer {
	uint64_t next, match; /* paper Figure 2: nextIndex, matchIndex */
	uint64_t last_sent, last_heard;
	uint64_t host_height; /* the follower's host tip, as it last said */
	bool probe;           /* after a rejection: one AppendEntries at a time */
	uint32_t ninflight;
	uint64_t inflight_end[RAFT_MAX_INFLIGHT];  /* last index of each, ascending */
	uint64_t inflight_from[RAFT_MAX_INFLIGHT]; /* first index of each */
	uint64_t inflight_at[RAFT_MAX_INFLIGHT];
};

struct raft {
	struct raft_config cfg;
	struct raft_host host;
	uint32_t quorum;
	size_t max_wire;     /* the largest message raft_receive decodes */
	size_t entry_budget; /* entry bytes in one AppendEntries */
	uint64_t now;
	uint64_t rng;

	/* durable (record.c) */
	uint64_t term;
	uint32_t voted_for; /* RAFT_NO_LEADER: none */
	bool anchored;
	struct raft_log log;
	uint64_t commit_index;
	bool dirty;                /* term, vote or log changed since the last PERSIST */
	uint64_t persisted_commit; /* commit index in the last PERSIST */

	/* the host's chain */
	uint64_t host_height; /* its committed tip (raft_committed, raft_synced) */
	uint64_t emitted;     /* highest height handed out in a COMMIT */

	enum raft_role role;
	uint32_t leader;
	bool shown;
	enum raft_role shown_role;
	uint64_t shown_term;
	uint32_t shown_leader;
	uint64_t election_deadline;
	uint64_t leader_contact; /* last AppendEntries from the current leader */
	uint8_t granted[RAFT_MAX_VALIDATORS];
	uint32_t ngranted;

	/* leader */
	uint64_t leader_since;
	uint64_t noop_index;
	struct raft_peer *peers;

	/* block sync */
	bool fetching;
	uint64_t fetch_deadline;

	/* actions, FIFO */
	struct raft_action *acts;
	size_t nacts, head, cap;
};

/* core.c */
struct raft_action *raft_push_action(struct raft *r, uint8_t type);
void raft_flush(struct raft *r);
void raft_persist(struct raft *r);
/* raft_msg_init: an empty message of type in the current term (callers may change term). */
void raft_msg_init(struct raft *r, struct raft_msg *m, uint8_t type);
void raft_send(struct raft *r, uint32_t to, struct raft_msg *m);
void raft_broadcast(struct raft *r, struct raft_msg *m);
void raft_note_role(struct raft *r);
uint64_t raft_random_timeout(struct raft *r);
bool raft_verify_vote(struct raft *r, uint32_t from, uint64_t height, uint64_t term,
                      const uint8_t digest[RAFT_HASH_LEN], const uint8_t sig[RAFT_SIG_LEN]);
void raft_sign_vote(struct raft *r, uint64_t height, uint64_t term,
                    const uint8_t digest[RAFT_HASH_LEN], uint8_t sig[RAFT_SIG_LEN]);

/* election.c */
void raft_last_pos(const struct raft *r, uint64_t *term, uint64_t *index);
void raft_become_follower(struct raft *r, uint64_t term, uint32_t leader);
void raft_election_tick(struct raft *r);
void raft_check_quorum(struct raft *r);
void raft_on_prevote(struct raft *r, const struct raft_msg *m);
void raft_on_prevote_resp(struct raft *r, const struct raft_msg *m);
void raft_on_vote(struct raft *r, const struct raft_msg *m);
void raft_on_vote_resp(struct raft *r, const struct raft_msg *m);

/* commit.c */
void raft_compact(struct raft *r);
void raft_adopt_tip(struct raft *r, uint64_t height);
bool raft_learn_commit(struct raft *r, uint64_t host_height);
void raft_sign_own_votes(struct raft *r);
void raft_record_votes(struct raft *r, const struct raft_msg *m);
void raft_advance(struct raft *r);
void raft_emit_commits(struct raft *r);
uint64_t raft_certified_height(const struct raft *r);

/* replication.c */
void raft_leader_start(struct raft *r);
void raft_leader_stop(struct raft *r);
void raft_replicate_all(struct raft *r, bool force);
void raft_leader_tick(struct raft *r);
void raft_on_append(struct raft *r, const struct raft_msg *m);
void raft_on_append_resp(struct raft *r, const struct raft_msg *m);

/* record.c */
void raft_record_encode(const struct raft *r, struct ch_buf *out);

#endif
