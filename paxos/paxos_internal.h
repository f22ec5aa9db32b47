/*
 * paxos_internal.h - the core's state and the functions the files of paxos/
 * share. Owned and touched by one thread: whoever calls the paxos_* functions.
 *
 * Roles (Lamport, "Paxos Made Simple", sections 2.1 and 3): acceptor.c keeps
 * the promise and the accepted values, proposer.c runs phase 1 and phase 2
 * and the failure detector, learner.c turns chosen values into COMMIT
 * actions and block sync; core.c holds the plumbing they share.
 */
#ifndef PAXOS_INTERNAL_H
#define PAXOS_INTERNAL_H

#include "paxos/paxos.h"

/* ---- messages (msg.c) ---- */

enum paxos_msg_type {
	PAXOS_PREPARE = 1,   /* phase 1a: ballot, slot = first open slot */
	PAXOS_PROMISE = 2,   /* phase 1b: ballot, slot (echo), height, entries */
	PAXOS_ACCEPT = 3,    /* phase 2a: ballot, slot, digest, block */
	PAXOS_ACCEPTED = 4,  /* phase 2b: ballot, slot, digest; sig is the commit vote */
	PAXOS_COMMITTED = 5, /* chosen: ballot, slot, digest, votes (the certificate) */
	PAXOS_HEARTBEAT = 6, /* an idle leader: ballot, height */
	PAXOS_NACK = 7,      /* a refusal: ballot = the refuser's promise, height */
};

/* One accepted value; block is borrowed (a message's bytes or a core's copy). */
struct paxos_entry {
	uint64_t slot;
	uint64_t ballot;
	uint8_t digest[PAXOS_HASH_LEN];
	const uint8_t *block;
	size_t block_len;
};

/*
 * A message. Decoded messages borrow their blocks from the input bytes,
 * which must outlive the structure; nothing in it is allocated.
 */
struct paxos_msg {
	uint8_t type;
	uint32_t from;
	uint64_t ballot;
	uint64_t slot;
	uint64_t height;
	uint8_t digest[PAXOS_HASH_LEN];
	const uint8_t *block;
	size_t block_len;
	uint32_t nentries;
	struct paxos_entry entries[PAXOS_WINDOW];
	uint32_t nvotes;
	struct paxos_vote votes[PAXOS_MAX_VALIDATORS];
	uint8_t sig[PAXOS_SIG_LEN];
};

/* paxos_msg_body appends the encoding of m without its signature. */
void paxos_msg_body(const struct paxos_msg *m, struct ch_buf *out);

/* paxos_msg_signed appends what m's signature covers. */
void paxos_msg_signed(const struct paxos_msg *m, struct ch_buf *out);

/* paxos_vote_preimage appends the commit-vote preimage of (height, ballot, digest). */
void paxos_vote_preimage(uint64_t height, uint64_t ballot, const uint8_t digest[PAXOS_HASH_LEN],
			 struct ch_buf *out);

/*
 * paxos_msg_decode parses exactly len bytes (strict: at most n votes and
 * PAXOS_WINDOW entries, blocks of 1..max_block bytes, no trailing bytes).
 * The sender is not checked against n here. 0 or CH_E_BAD_ENCODING.
 */
int paxos_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block,
		     struct paxos_msg *m);

/* ---- state ---- */

/* A value held by value: the acceptor's accepted values, re-proposals, the leader's proposal. */
struct paxos_value {
	bool has;
	uint64_t slot;
	uint64_t ballot;
	uint8_t digest[PAXOS_HASH_LEN];
	uint8_t *block; /* owned */
	size_t block_len;
};

/* A chosen value the learner knows with its certificate, waiting for its turn to commit. */
struct paxos_chosen {
	bool has;
	uint64_t slot;
	uint64_t ballot;
	uint8_t digest[PAXOS_HASH_LEN];
	uint32_t from; /* who told us: the one to fetch from if the block is missing */
	uint32_t ncert;
	struct paxos_vote cert[PAXOS_MAX_VALIDATORS];
};

/* Phase 1 of one ballot (section 2.2, "Choosing a value"). */
struct paxos_phase1 {
	bool active;
	uint64_t from; /* first slot asked about */
	bool promised[PAXOS_MAX_VALIDATORS];
	uint32_t count;
	uint64_t deadline; /* the attempt fails here */
	uint64_t retry_at; /* PREPARE goes again to those that did not answer */
};

/* The leader's value in phase 2, one slot at a time. */
struct paxos_flight {
	struct paxos_value v; /* v.ballot is the leader's ballot */
	bool chosen;
	uint32_t nvotes;
	bool voted[PAXOS_MAX_VALIDATORS];
	uint8_t sig[PAXOS_MAX_VALIDATORS][PAXOS_SIG_LEN];
	uint64_t retry_at;
};

struct paxos {
	struct paxos_config cfg;
	struct paxos_host host;
	uint32_t quorum;
	uint64_t now;
	uint64_t rng; /* splitmix64 state: timeout jitter */

	/* acceptor */
	uint64_t promised;
	struct paxos_value accepted[PAXOS_WINDOW];

	/* ballots and leaders */
	uint64_t seen;          /* the highest ballot seen anywhere */
	uint64_t follow_ballot; /* the highest ballot heard from its own leader */
	uint64_t follow_deadline;
	uint32_t backoff;

	/* proposer */
	uint64_t mine; /* the ballot of our last phase 1 */
	struct paxos_phase1 p1;
	bool leading; /* phase 1 of promised is done and it is ours */
	uint64_t top_height; /* the highest committed height the promises reported */
	uint32_t top_from;
	struct paxos_value reprop[PAXOS_WINDOW]; /* highest-ballot values above top_height */
	bool fresh;             /* every re-proposal is done: new values from here */
	uint64_t catch_progress; /* the last time catching up to top_height got anywhere */
	struct paxos_flight fly;
	uint64_t last_send;     /* the leader's last broadcast (heartbeats fill silences) */
	uint64_t lead_since;    /* when phase 1 of mine completed */
	uint64_t heard[PAXOS_MAX_VALIDATORS]; /* when each validator's last valid message came */

	/* learner */
	uint64_t height; /* the host's committed height */
	uint64_t emitted; /* COMMIT actions were queued up to here (>= height) */
	struct paxos_chosen chosen[PAXOS_WINDOW];
	uint64_t peer_height[PAXOS_MAX_VALIDATORS];
	uint64_t goal;       /* the highest height known committed elsewhere */
	uint64_t goal_since; /* when goal first went above emitted */
	uint64_t fetch_deadline; /* no new FETCH before this (one outstanding) */
	uint32_t fetch_next;

	/* the last PAXOS_ACT_ROLE told */
	bool role_told;
	uint64_t role_ballot;
	bool role_leading;
	uint32_t role_leader;

	/* actions, FIFO */
	struct paxos_action *acts;
	size_t nacts, head, cap;
};

/* core.c */
struct paxos_action *paxos_push(struct paxos *p, uint8_t type);
void paxos_emit_persist(struct paxos *p);
void paxos_send(struct paxos *p, uint32_t to, struct paxos_msg *m);
void paxos_broadcast(struct paxos *p, struct paxos_msg *m);
void paxos_msg_init(struct paxos *p, struct paxos_msg *m, uint8_t type, uint64_t ballot);
uint64_t paxos_jittered(struct paxos *p);
void *paxos_dup(const void *src, size_t len);
void paxos_value_clear(struct paxos_value *v);
void paxos_value_set(struct paxos_value *v, uint64_t slot, uint64_t ballot,
		     const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block, size_t len);
void paxos_note_ballot(struct paxos *p, uint64_t ballot);
void paxos_sign_vote(struct paxos *p, uint64_t slot, uint64_t ballot,
		     const uint8_t digest[PAXOS_HASH_LEN], uint8_t sig[PAXOS_SIG_LEN]);

/* acceptor.c */
void paxos_on_prepare(struct paxos *p, const struct paxos_msg *m);
void paxos_on_accept(struct paxos *p, const struct paxos_msg *m);
bool paxos_accept_value(struct paxos *p, uint64_t ballot, uint64_t slot,
			const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block, size_t len);
struct paxos_value *paxos_accepted_at(struct paxos *p, uint64_t slot);
void paxos_acceptor_trim(struct paxos *p);

/* proposer.c */
void paxos_start_phase1(struct paxos *p);
void paxos_on_promise(struct paxos *p, const struct paxos_msg *m);
void paxos_on_accepted(struct paxos *p, const struct paxos_msg *m);
void paxos_on_nack(struct paxos *p, const struct paxos_msg *m);
void paxos_heard_leader(struct paxos *p, uint32_t from, uint64_t ballot, bool phase2);
void paxos_higher_ballot(struct paxos *p, uint64_t ballot);
void paxos_lead_step(struct paxos *p);
void paxos_phase2(struct paxos *p, const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block,
		  size_t len);
void paxos_proposer_tick(struct paxos *p);
void paxos_proposer_trim(struct paxos *p);

/* learner.c */
void paxos_on_committed(struct paxos *p, const struct paxos_msg *m);
void paxos_learn_chosen(struct paxos *p, uint64_t slot, uint64_t ballot,
			const uint8_t digest[PAXOS_HASH_LEN], uint32_t from,
			const struct paxos_vote *cert, uint32_t ncert);
void paxos_try_commit(struct paxos *p);
void paxos_note_height(struct paxos *p, uint32_t from, uint64_t height);
void paxos_fetch_check(struct paxos *p, bool urgent);
void paxos_fetch_from(struct paxos *p, uint32_t from);
void paxos_advance(struct paxos *p, uint64_t height);

/* record.c */
void paxos_record_encode(const struct paxos *p, struct ch_buf *out);

#endif
