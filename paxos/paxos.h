/*
 * paxos.h - Multi-Paxos (Lamport, "Paxos Made Simple", 2001, section 3)
 * ordering a chain of blocks, as a pure, deterministic state machine for
 * crash faults. Every validator is proposer, acceptor and learner. No
 * sockets, clocks, disk or threads: the host feeds it messages, clock
 * readings and "block committed" notices, and carries out the actions it
 * returns, in order.
 *
 * Chain adaptation:
 *  - A slot is a block height. One slot is open at a time for new values:
 *    the leader proposes height h + 1 only after h is chosen and executed
 *    by its host.
 *  - Ballots are round * n + proposer, so two proposers never share one;
 *    the ballot is the commit certificate's view.
 *  - A validator that has not heard from a leader for a timeout (doubled
 *    after each failed attempt, up to a cap) runs phase 1 once for a higher
 *    ballot over every slot above its committed height: PREPARE, answered
 *    by PROMISE with the acceptor's accepted values above that height.
 *    With a majority of promises, the new leader re-proposes the value of
 *    the highest ballot of every open slot, in slot order, before anything
 *    new (phase 2 with its own ballot); then it proposes fresh blocks.
 *  - ACCEPTED is signed over the commit-vote preimage of chain/block.h
 *    (height, ballot, block hash): a majority of them is the block's
 *    commit certificate. The leader then sends the certificate
 *    (COMMITTED); a validator that lacks the block asks the host for block
 *    sync (PAXOS_ACT_FETCH).
 *  - Every message is signed by its sender; validators are trusted not to
 *    lie (crash faults).
 *
 * Crash safety: the promised ballot and the accepted values above the
 * host's committed tip are durable (PAXOS_ACT_PERSIST, one self-contained
 * record) before a PROMISE or ACCEPTED that depends on them leaves.
 *
 * Memory: the core aborts when an allocation fails where it would otherwise
 * lose an action; paxos_new and paxos_restore return CH_E_NOMEM.
 *
 * Links against libc and common/ alone.
 */
#ifndef PAXOS_PAXOS_H
#define PAXOS_PAXOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define PAXOS_HASH_LEN 32
#define PAXOS_SIG_LEN 64
#define PAXOS_MAX_VALIDATORS 256

/*
 * An acceptor holds accepted values for at most PAXOS_WINDOW slots above
 * its host's committed height, and refuses slots further ahead (it catches
 * up by block sync instead); a PROMISE and the record carry at most that many.
 */
#define PAXOS_WINDOW 2

/* paxos_quorum returns the majority of n: n / 2 + 1. */
uint32_t paxos_quorum(uint32_t n);

/* paxos_ballot_leader returns the proposer that owns ballot (ballot % n). */
uint32_t paxos_ballot_leader(uint64_t ballot, uint32_t n);

/* A signature by one validator (an ACCEPTED vote in a certificate). */
struct paxos_vote {
	uint32_t from;
	uint8_t sig[PAXOS_SIG_LEN];
};

/*
 * Callbacks into the host. They must be deterministic for a given input and
 * must not call back into the core.
 */
struct paxos_host {
	void *arg;
	void (*sign)(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PAXOS_SIG_LEN]);
	bool (*verify)(void *arg, uint32_t validator, const uint8_t *bytes, size_t len,
		       const uint8_t sig[PAXOS_SIG_LEN]);
	bool (*block_hash)(void *arg, const uint8_t *block, size_t len,
			   uint8_t out[PAXOS_HASH_LEN]);
};

struct paxos_config {
	uint32_t n;                /* validators (1..PAXOS_MAX_VALIDATORS) */
	uint32_t self;             /* this validator's index (< n) */
	uint64_t timeout_ms;       /* leader silence before phase 1; also the phase 1/2 retry */
	uint64_t max_timeout_ms;   /* backoff cap */
	uint64_t heartbeat_ms;     /* leader's idle interval (< timeout_ms) */
	size_t max_block_bytes;    /* the largest block encoding */
	uint64_t seed;             /* jitter of the timeouts */
	/*
	 * Test only: a new leader proposes fresh values in open slots instead
	 * of re-proposing the accepted value of the highest ballot. Never set
	 * it outside tests that show the simulator catches it.
	 */
	bool unsafe_skip_reproposal;
};

/*
 * paxos_max_message returns the largest message the core sends or accepts
 * (a PROMISE with PAXOS_WINDOW blocks), and paxos_max_record the largest
 * PAXOS_ACT_PERSIST record, for a configuration's n and max_block_bytes:
 * the transport and the record store must take that much.
 */
size_t paxos_max_message(uint32_t n, size_t max_block_bytes);
size_t paxos_max_record(size_t max_block_bytes);

/* ---- actions ---- */

/*
 * Carrying out actions:
 *  - PERSIST comes before the PROMISE or ACCEPTED that depends on it (in
 *    the same drain): write it durably (replacing the last one) before the
 *    actions after it; a crash before that loses it and everything after.
 *  - COMMIT comes for host tip + 1, in order, once the value is chosen and
 *    this validator holds the block; call paxos_committed after executing.
 *    A COMMIT at or below the tip (a block sync got there first) is the
 *    same block and is skipped.
 *  - FETCH: fetch committed blocks with their certificates from `to`, up
 *    to height (fewer if it has fewer), check and commit them, then call
 *    paxos_synced with the new tip (also when nothing came, so that the
 *    core may ask elsewhere). One is outstanding at a time; the core asks
 *    again after timeout_ms.
 *  - paxos_tick should run several times per heartbeat_ms.
 */
enum paxos_action_type {
	PAXOS_ACT_SEND = 1,      /* bytes to validator `to` */
	PAXOS_ACT_BROADCAST = 2, /* bytes to every other validator */
	PAXOS_ACT_PERSIST = 3,   /* write record durably before the next action */
	PAXOS_ACT_COMMIT = 4,    /* execute and store block at height with its certificate */
	PAXOS_ACT_FETCH = 5,     /* block sync: committed blocks up to height from `to` */
	PAXOS_ACT_ROLE = 6,      /* informational: ballot, leader or leading changed */
};

struct paxos_action {
	uint8_t type;
	uint32_t to;         /* SEND, FETCH */
	struct ch_buf bytes; /* SEND, BROADCAST: a signed message; PERSIST: the record */
	uint64_t height;     /* COMMIT, FETCH */
	uint64_t ballot;     /* COMMIT (the certificate's view), ROLE */
	uint8_t digest[PAXOS_HASH_LEN];
	uint8_t *block; /* COMMIT, owned */
	size_t block_len;
	uint32_t ncert;
	struct paxos_vote *cert; /* COMMIT, owned */
	bool leading;            /* ROLE: this validator leads ballot */
	uint32_t leader;         /* ROLE: the leader this validator follows, PAXOS_NO_LEADER if none */
};

#define PAXOS_NO_LEADER UINT32_MAX

void paxos_action_close(struct paxos_action *a);

/* ---- the core ---- */

struct paxos;

/*
 * paxos_new makes a core for a validator whose committed chain ends at
 * height (hash digest; zero at height 0). cfg and host are copied.
 * 0, CH_E_INVALID for a bad config, CH_E_NOMEM.
 */
int paxos_new(struct paxos **out, const struct paxos_config *cfg, const struct paxos_host *host,
	      uint64_t height, const uint8_t digest[PAXOS_HASH_LEN], uint64_t now_ms);
void paxos_free(struct paxos *p); /* NULL is fine */

/*
 * paxos_restore loads the record of the last PAXOS_ACT_PERSIST, right after
 * paxos_new and before any input. Accepted values at or below the host's
 * committed height are skipped. CH_E_BAD_ENCODING if it is damaged.
 */
int paxos_restore(struct paxos *p, const uint8_t *record, size_t len, struct ch_err *err);

/*
 * paxos_record_mark reads, without a core, how far a record had got:
 * *ballot (promised), *height (the highest slot with an accepted value, 0
 * if none), *voted (it accepted a value). Later records never go back in
 * ballot.
 */
int paxos_record_mark(const uint8_t *record, size_t len, uint64_t *ballot, uint64_t *height,
		      bool *voted, struct ch_err *err);

enum paxos_input {
	PAXOS_ACCEPTED_INPUT = 0,
	PAXOS_MALFORMED = 1,     /* did not decode (strict) */
	PAXOS_BAD_SIGNATURE = 2, /* unknown sender or a signature that does not verify */
};

enum paxos_input paxos_receive(struct paxos *p, const uint8_t *msg, size_t len, uint64_t now_ms);

/* paxos_tick advances the core's clock (failure detection, retries, heartbeats). */
void paxos_tick(struct paxos *p, uint64_t now_ms);

/*
 * paxos_can_propose: this validator leads a ballot whose phase 1 is done,
 * every open slot it found is chosen and executed by the host, and no value
 * of its own is in flight; the host may cut a block for height
 * paxos_height(p) + 1 and hand it to paxos_propose.
 */
bool paxos_can_propose(const struct paxos *p);

void paxos_propose(struct paxos *p, const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block,
		   size_t len, uint64_t now_ms);

/* paxos_committed: the host executed and stored the block at height (after a COMMIT). */
void paxos_committed(struct paxos *p, uint64_t height, uint64_t now_ms);

/* paxos_synced: the host committed blocks up to height by block sync, the last with cert. */
void paxos_synced(struct paxos *p, uint64_t height, const uint8_t digest[PAXOS_HASH_LEN],
		  uint64_t cert_ballot, const struct paxos_vote *cert, uint32_t ncert,
		  uint64_t now_ms);

bool paxos_next_action(struct paxos *p, struct paxos_action *a);

/* ---- introspection (status, tests) ---- */

uint64_t paxos_ballot(const struct paxos *p);   /* the highest ballot promised */
bool paxos_leading(const struct paxos *p);       /* leads paxos_ballot with phase 1 done */
uint32_t paxos_leader(const struct paxos *p);    /* PAXOS_NO_LEADER if none known */
uint64_t paxos_height(const struct paxos *p);    /* the host's committed height, as known */

/* paxos_accepted: the value this acceptor accepted at slot (ballot and hash); false if none held. */
bool paxos_accepted(const struct paxos *p, uint64_t slot, uint64_t *ballot,
		    uint8_t digest[PAXOS_HASH_LEN]);

#endif
