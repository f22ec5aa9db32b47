/*
 * pbft.h - the consensus core: PBFT (Castro & Liskov, OSDI '99 and TOCS
 * 2002) adapted to a chain of blocks, as a pure, deterministic state
 * machine. No sockets, clocks, disk or threads: the host feeds it messages,
 * clock readings and "block committed" notices, and carries out the actions
 * it returns, in order.
 *
 * Chain adaptation:
 *  - The sequence number is the block height. One height is in flight at a
 *    time: the primary proposes height h + 1 only after committing h, and a
 *    backup prepares h + 1 only on top of its own committed block h, so every
 *    prepared block names the committed parent (no gaps, no forks).
 *  - COMMIT signatures are commit votes (chain/block.h), so 2f+1 COMMITs are
 *    the block's commit certificate, checkable by anyone.
 *  - A VIEW-CHANGE carries the sender's last committed height with its
 *    commit certificate (a stronger proof than a checkpoint: it certifies
 *    the block itself) and, if it prepared the next height, the prepared
 *    certificate (PRE-PREPARE digest and 2f PREPARE signatures). The new
 *    primary re-proposes the prepared block of the highest view at the
 *    highest committed height + 1 (TOCS section 4.4), or a fresh block.
 *  - Checkpoints every K blocks carry state digests; 2f+1 matching make a
 *    checkpoint stable. A replica whose own digest at a stable checkpoint
 *    differs from the quorum's has diverged (PBFT_ACT_DIVERGED) and must
 *    stop. With one height in flight the message log is a single slot, so
 *    there is no watermark window to bound.
 *  - Validator sets change by the chain's own rules (chain/valset.h); a core
 *    runs one set, from cfg.first_height to the end the host sets
 *    (pbft_set_end), and signs nothing once it has committed that end: the
 *    host starts a core for the next set, whose views start at 0 again. The
 *    certificate of the height before first_height, which its VIEW-CHANGEs
 *    carry, is the set before's (cfg.base_n validators); messages about
 *    heights of another set are dropped.
 *  - A replica that learns of committed heights above its own asks the host
 *    for state transfer (PBFT_ACT_FETCH); the host fetches blocks with
 *    certificates, checks them against the validator set, commits them and
 *    reports back with pbft_synced().
 *
 * Calls: every call takes the host's clock reading; after each one the host
 * takes every action out (pbft_next_action) and carries it out before it
 * calls again. A call made while actions are still queued is a host bug
 * (asserted): the core's view of the host's tip would be wrong.
 *
 * Memory: the core aborts when an allocation fails where it would otherwise
 * lose an action or a vote (it cannot stay safe without them); it drops a
 * buffered future message it cannot copy (the sender retransmits), and
 * pbft_new and pbft_restore return CH_E_NOMEM.
 *
 * Crash safety: the core emits PBFT_ACT_PERSIST with its vote record when
 * it enters a view (before its VIEW-CHANGE or anything else in that view
 * leaves) and before each COMMIT (with the prepared certificate); the host
 * must write it durably before carrying out the actions that follow, and
 * give it back with pbft_restore() after a restart. PRE-PREPAREs and
 * PREPAREs are not recorded, one synced write per height instead of three:
 * a restarted replica instead signs no PRE-PREPARE, PREPARE or NEW-VIEW in
 * any view up to the recorded one (view fencing), so it never signs two
 * different blocks for one (view, height).
 *
 * Links against libc and common/ alone.
 */
#ifndef PBFT_PBFT_H
#define PBFT_PBFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define PBFT_HASH_LEN 32
#define PBFT_SIG_LEN 64
#define PBFT_MAX_VALIDATORS 256

/* pbft_faults returns f, the number of Byzantine validators n tolerates. */
uint32_t pbft_faults(uint32_t n);

/*
 * pbft_quorum returns ceil((n + f + 1) / 2): any two quorums intersect in
 * at least f + 1 validators, one of them honest. For n = 3f + 1 it is 2f + 1.
 */
uint32_t pbft_quorum(uint32_t n);

/* pbft_primary returns the index of view's primary among n validators. */
uint32_t pbft_primary(uint64_t view, uint32_t n);

/* ---- messages ---- */

enum pbft_msg_type {
	PBFT_PREPREPARE = 1,
	PBFT_PREPARE = 2,
	PBFT_COMMIT = 3,
	PBFT_CHECKPOINT = 4,
	PBFT_VIEWCHANGE = 5,
	PBFT_NEWVIEW = 6,
};

/* A signature by one validator. */
struct pbft_vote {
	uint32_t from;
	uint8_t sig[PBFT_SIG_LEN];
};

/*
 * A decoded message. Which fields are meaningful depends on type:
 *   PREPREPARE  view, height, digest (block hash), block/block_len
 *   PREPARE     view, height, digest
 *   COMMIT      view, height, digest      (sig is a commit vote)
 *   CHECKPOINT  height, digest (state digest after the block at height)
 *   VIEWCHANGE  view (the new view), height (committed height C),
 *               digest (hash of block C, zero if C = 0), cert_view and
 *               cert[ncert] (commit votes for C); if has_prepared:
 *               p_view, digest of the prepared block p_digest, the
 *               primary's PRE-PREPARE signature p_sig and 2f PREPARE
 *               votes prep[nprep] for height C + 1; block/block_len may
 *               carry the prepared block (not covered by the signature,
 *               checked against p_digest by the host).
 *   NEWVIEW     view, vcs[nvcs] (the VIEW-CHANGE messages, blocks
 *               stripped), and, when a prepared block is re-proposed,
 *               height, digest, block/block_len and p_sig, the new
 *               primary's PRE-PREPARE signature.
 * Every message carries its sender `from` and signature `sig`. The
 * structure owns block, cert, prep and vcs (free with pbft_msg_close).
 */
struct pbft_msg {
	uint8_t type;
	uint32_t from;
	uint64_t view;
	uint64_t height;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t *block;
	size_t block_len;
	/* VIEWCHANGE */
	uint64_t cert_view;
	uint32_t ncert;
	struct pbft_vote *cert;
	bool has_prepared;
	uint64_t p_view;
	uint8_t p_digest[PBFT_HASH_LEN];
	uint8_t p_sig[PBFT_SIG_LEN];
	uint32_t nprep;
	struct pbft_vote *prep;
	/* NEWVIEW */
	uint32_t nvcs;
	struct pbft_msg *vcs;
	uint8_t sig[PBFT_SIG_LEN];
};

void pbft_msg_close(struct pbft_msg *m);

/* pbft_msg_copy deep-copies src into dst. 0 or CH_E_NOMEM. */
int pbft_msg_copy(struct pbft_msg *dst, const struct pbft_msg *src);

/* pbft_msg_encode appends the wire encoding of m (with signature) to out. */
void pbft_msg_encode(const struct pbft_msg *m, struct ch_buf *out);

/*
 * pbft_msg_decode parses exactly len bytes into m (strict: lengths
 * bounded by n validators and max_block, trailing bytes rejected).
 * Signatures are not checked here. CH_E_BAD_ENCODING with a message.
 */
int pbft_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block,
		    struct pbft_msg *m, struct ch_err *err);

/*
 * pbft_msg_signed_bytes appends what m's signature covers. For COMMIT it is
 * the commit-vote preimage "chaind/commit/v1" 0x00 | height | view | digest
 * (chain/block.h), for the others "chaind/pbft/v1" 0x00 | type | fields.
 */
void pbft_msg_signed_bytes(const struct pbft_msg *m, struct ch_buf *out);

/* The bytes a PREPARE or PRE-PREPARE signature of (type, view, height, digest) covers. */
void pbft_vote_bytes(uint8_t type, uint64_t view, uint64_t height,
		     const uint8_t digest[PBFT_HASH_LEN], struct ch_buf *out);

/* ---- the host interface ---- */

/*
 * Callbacks into the host. They must be deterministic for a given input
 * (the simulator replays schedules from a seed) and must not call back
 * into the core.
 */
struct pbft_host {
	void *arg;
	/* sign: sign bytes with this validator's key. */
	void (*sign)(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PBFT_SIG_LEN]);
	/*
	 * verify: is sig the signature of bytes by validator, numbered in the
	 * set that orders height? (A commit vote names its own height, which
	 * may be the one before cfg.first_height; every other message one of
	 * the heights this core orders.)
	 */
	bool (*verify)(void *arg, uint64_t height, uint32_t validator, const uint8_t *bytes,
		       size_t len, const uint8_t sig[PBFT_SIG_LEN]);
	/*
	 * validate: is block a valid block at height whose hash is digest,
	 * proposed by validator proposer (the primary of the PRE-PREPARE's
	 * view), on top of the host's committed block height - 1? Checks
	 * everything (encoding, hash, parent, proposer, time, signatures,
	 * execution). May be called from pbft_open (a single validator
	 * resumes by completing a view change on its own).
	 */
	bool (*validate)(void *arg, uint64_t height, uint32_t proposer,
			 const uint8_t digest[PBFT_HASH_LEN], const uint8_t *block, size_t len);
	/* block_hash: hash a block encoding; false if it does not decode. */
	bool (*block_hash)(void *arg, const uint8_t *block, size_t len,
			   uint8_t out[PBFT_HASH_LEN]);
};

struct pbft_config {
	uint32_t n;                   /* validators */
	uint32_t self;                /* this validator's index (< n) */
	uint64_t view_timeout_ms;     /* base request / view-change timeout */
	uint64_t max_view_timeout_ms; /* backoff cap */
	uint64_t checkpoint_interval; /* K */
	size_t max_block_bytes;
	/*
	 * The validator set this core runs rules from first_height (0 or 1:
	 * from genesis) until pbft_set_end; the commit certificate of
	 * first_height - 1, which its VIEW-CHANGEs carry, is by the set before,
	 * of base_n validators (0: n).
	 */
	uint64_t first_height;
	uint32_t base_n;
};

/* ---- actions ---- */

enum pbft_action_type {
	PBFT_ACT_SEND = 1,      /* msg to validator `to` */
	PBFT_ACT_BROADCAST = 2, /* msg to every other validator */
	PBFT_ACT_PERSIST = 3,   /* write record durably before the next action */
	PBFT_ACT_COMMIT = 4,    /* execute and store block at height with cert */
	PBFT_ACT_FETCH = 5,     /* state transfer: get committed blocks up to height from `to` */
	PBFT_ACT_VIEW = 6,      /* informational: entered view (view, in_view_change) */
	PBFT_ACT_DIVERGED = 7,  /* 2f+1 certified another state digest at height than ours */
};

struct pbft_action {
	uint8_t type;
	uint32_t to;
	struct pbft_msg msg; /* SEND, BROADCAST */
	/* COMMIT: height, view, digest, block/block_len, cert votes; DIVERGED: height */
	uint64_t height;
	uint64_t view;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t *block;
	size_t block_len;
	uint32_t ncert;
	struct pbft_vote *cert; /* owned */
	/* PERSIST */
	struct ch_buf record;
	bool in_view_change; /* VIEW */
};

/* The host takes actions out with pbft_next_action; each must be released. */
void pbft_action_close(struct pbft_action *a);

/* ---- the core ---- */

struct pbft;

/*
 * pbft_new makes a core for a replica whose committed chain ends at
 * height (hash digest; zero digest at height 0). host and cfg are copied.
 */
int pbft_new(struct pbft **out, const struct pbft_config *cfg, const struct pbft_host *host,
	     uint64_t height, const uint8_t digest[PBFT_HASH_LEN], uint64_t now_ms);
void pbft_free(struct pbft *p);

/*
 * pbft_set_tip_cert gives the core the commit certificate of its committed
 * tip (after pbft_new on a restart), which its VIEW-CHANGE messages carry.
 */
void pbft_set_tip_cert(struct pbft *p, uint64_t cert_view, const struct pbft_vote *cert,
		       uint32_t ncert);

/*
 * pbft_restore loads a record written by an earlier PBFT_ACT_PERSIST.
 * Call right after pbft_new, before any input. CH_E_BAD_ENCODING if the
 * record is corrupt.
 */
int pbft_restore(struct pbft *p, const uint8_t *record, size_t len, struct ch_err *err);

/*
 * pbft_record_mark reads, without a core, how far a record had got: view,
 * its view, and height, the highest height of a PRE-PREPARE, PREPARE or
 * COMMIT it signed or of its prepared certificate (0 if none); voted is
 * false when it holds no signed vote and no view change. A replica's later
 * records are never behind its earlier ones in either, so tools that move a
 * validator's files can tell an older copy. commit is the last COMMIT vote
 * it recorded (the simulator checks that every COMMIT leaves only after
 * this says so). CH_E_BAD_ENCODING if corrupt.
 */
struct pbft_record_mark {
	uint64_t view;
	uint64_t height;
	bool voted;
	struct {
		bool has;
		uint64_t view, height;
		uint8_t digest[PBFT_HASH_LEN];
	} commit;
};
int pbft_record_mark(const uint8_t *record, size_t len, struct pbft_record_mark *out,
		     struct ch_err *err);

/*
 * pbft_resume finishes opening the core. On a first start (no record) it
 * persists the record of the initial view, so that a crash before any
 * other record still fences that view. After pbft_restore, a primary may
 * not propose (nor send a NEW-VIEW) in the view it recorded, so it starts
 * a view change to the next instead of stalling.
 */
void pbft_resume(struct pbft *p, uint64_t now_ms);

/*
 * pbft_receive hands the core a message from the network (decoded, any
 * sender). Returns false if it was dropped for an unknown sender or a bad
 * signature (the host counts those), true otherwise. A vote that could
 * change nothing (beyond a quorum, or for the height just committed) is
 * dropped unchecked.
 */
bool pbft_receive(struct pbft *p, const struct pbft_msg *m, uint64_t now_ms);

/* pbft_tick advances the core's clock (timeouts). */
void pbft_tick(struct pbft *p, uint64_t now_ms);

/*
 * pbft_set_pending tells the core whether the host holds transactions that
 * wait to be ordered; a backup with pending work and no progress for a
 * timeout suspects the primary.
 */
void pbft_set_pending(struct pbft *p, bool pending, uint64_t now_ms);

/*
 * pbft_can_propose returns true when this replica is the primary of a view
 * that is running and no block is in flight; the host may then cut a block
 * for height pbft_height(p) + 1 and hand it to pbft_propose.
 */
bool pbft_can_propose(const struct pbft *p);

/* pbft_propose: the primary proposes block (copied) with hash digest. */
void pbft_propose(struct pbft *p, const uint8_t digest[PBFT_HASH_LEN], const uint8_t *block,
		  size_t len, uint64_t now_ms);

/*
 * pbft_synced tells the core the host committed blocks up to height (hash
 * digest) by state transfer, with certificate cert_view/cert for the last.
 */
void pbft_synced(struct pbft *p, uint64_t height, const uint8_t digest[PBFT_HASH_LEN],
		 uint64_t cert_view, const struct pbft_vote *cert, uint32_t ncert,
		 uint64_t now_ms);

/*
 * pbft_set_end tells the core that its validator set orders no height
 * above last (another set rules from last + 1): it proposes, prepares and
 * takes no message for a later height, and the host starts a core for the
 * next set once it has committed last. Messages of a set before
 * first_height (a VIEW-CHANGE of a replica still below it) are dropped too:
 * the set of a height is the host's to know, and replicas of different sets
 * number validators differently.
 */
void pbft_set_end(struct pbft *p, uint64_t last);

/* pbft_checkpoint_digest gives the core the state digest after committed block height. */
void pbft_checkpoint_digest(struct pbft *p, uint64_t height,
			    const uint8_t state_digest[PBFT_HASH_LEN], uint64_t now_ms);

/* pbft_next_action moves the next pending action into a; false if none. */
bool pbft_next_action(struct pbft *p, struct pbft_action *a);

/* Introspection (status, tests). */
uint64_t pbft_view(const struct pbft *p);
uint64_t pbft_height(const struct pbft *p); /* committed height */
bool pbft_in_view_change(const struct pbft *p);
uint64_t pbft_stable_checkpoint(const struct pbft *p);

#endif
