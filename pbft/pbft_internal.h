/*
 * pbft_internal.h - the core's state, shared by the files of pbft/.
 * Owned and touched by one thread: whoever calls the pbft_* functions.
 */
#ifndef PBFT_INTERNAL_H
#define PBFT_INTERNAL_H

#include "pbft/pbft.h"

/* A vote held for the in-flight height, one per sender. */
struct pbft_held {
	bool has;
	uint64_t view;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t sig[PBFT_SIG_LEN];
};

/* The height in flight: committed height + 1. */
struct pbft_slot {
	bool has_pp; /* an accepted (validated) PRE-PREPARE of the current view */
	uint64_t view;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t pp_sig[PBFT_SIG_LEN];
	uint8_t *block;
	size_t block_len;
	bool sent_prepare;
	bool sent_commit;
	struct pbft_held prepare[PBFT_MAX_VALIDATORS];
	struct pbft_held commit[PBFT_MAX_VALIDATORS];
};

/* A prepared certificate (TOCS 4.4): kept across view changes until committed. */
struct pbft_prepared {
	bool has;
	uint64_t view;
	uint64_t height;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t pp_sig[PBFT_SIG_LEN];
	uint32_t nprep;
	struct pbft_vote prep[PBFT_MAX_VALIDATORS];
	uint8_t *block;
	size_t block_len;
};

/* The last vote of one kind this replica signed: never sign another for its (view, height). */
struct pbft_signed {
	bool has;
	uint64_t view;
	uint64_t height;
	uint8_t digest[PBFT_HASH_LEN];
};

/* A COMMIT the slot cannot use (later height or another view): evidence of a committed block. */
struct pbft_ahead {
	bool has;
	uint64_t height;
	uint64_t view;
	uint8_t digest[PBFT_HASH_LEN];
	uint8_t sig[PBFT_SIG_LEN];
};

struct pbft_ckpt {
	bool has;
	uint64_t height;
	uint8_t digest[PBFT_HASH_LEN];
};

#define PBFT_FUTURE_PER_VALIDATOR 4

struct pbft {
	struct pbft_config cfg;
	struct pbft_host host;
	uint32_t f, quorum;
	uint64_t end; /* the last height this core's set orders (pbft_set_end) */
	uint64_t now;

	uint64_t view;
	bool in_vc; /* sent VIEW-CHANGE for view, waiting for its NEW-VIEW */
	/*
	 * What this view's NEW-VIEW fixed: no height below nv_height may be
	 * ordered in it (those are committed), and if nv_fixed only nv_digest
	 * at nv_height (the re-proposed prepared block).
	 */
	uint64_t nv_height;
	bool nv_fixed;
	uint8_t nv_digest[PBFT_HASH_LEN];

	/* the committed tip and its certificate */
	uint64_t height;
	uint8_t hash[PBFT_HASH_LEN];
	uint64_t cert_view;
	uint32_t ncert;
	struct pbft_vote cert[PBFT_MAX_VALIDATORS];

	struct pbft_slot slot;
	struct pbft_prepared prepared;
	struct pbft_signed pp_vote, prepare_vote, commit_vote;
	/*
	 * View fencing. Only view entries and COMMIT votes are written to the
	 * record, not PRE-PREPAREs or PREPAREs, so a replica restarted from a
	 * record of view `fence` may have signed either in that view and
	 * forgotten it: it signs none (nor a NEW-VIEW) in views up to fence,
	 * and a view change takes it past. Every view is recorded on entry, so
	 * nothing was ever signed in a view above the record's.
	 */
	bool fenced;
	uint64_t fence;

	/* the latest VIEW-CHANGE of each validator, and the NEW-VIEW of this view */
	bool has_vc[PBFT_MAX_VALIDATORS];
	struct pbft_msg vc[PBFT_MAX_VALIDATORS];
	bool has_nv;
	struct pbft_msg nv;
	uint64_t seen_view[PBFT_MAX_VALIDATORS]; /* highest view in normal-case messages */

	/* messages for heights above the one in flight, verified, bounded */
	struct pbft_msg *future;
	size_t nfuture;
	bool replaying;
	/*
	 * host_behind: a COMMIT action was queued in this call, so the host's
	 * tip (what validate checks against) lags the core's until the host
	 * has carried it out; buffered messages wait for the next call.
	 */
	bool host_behind;
	bool replay_due;

	/* what is known of the others' committed heights (state transfer) */
	uint64_t peer_height[PBFT_MAX_VALIDATORS]; /* lower bounds each one claimed */
	uint64_t goal;                             /* a height known to be committed */
	struct pbft_ahead ahead[PBFT_MAX_VALIDATORS];
	uint64_t last_help[PBFT_MAX_VALIDATORS];

	struct pbft_ckpt ckpt[PBFT_MAX_VALIDATORS];
	uint64_t stable;
	uint8_t stable_digest[PBFT_HASH_LEN];
	bool diverged; /* told the host once */

	/* timers */
	bool pending;
	uint64_t deadline; /* 0: no timer */
	uint32_t backoff;
	uint64_t last_progress;
	uint64_t last_retransmit;
	bool fetching;
	uint64_t fetch_deadline;
	uint32_t fetch_next;

	/* actions, FIFO */
	struct pbft_action *acts;
	size_t nacts, head, cap;
};

/* core.c */
void pbft_emit_msg(struct pbft *p, int type, uint32_t to, struct pbft_msg *m);
void pbft_emit_persist(struct pbft *p);

/* pbft_set_n: the validators of the set that signs commit votes at height (0: none this core knows). */
static inline uint32_t
pbft_set_n(const struct pbft *p, uint64_t height)
{
	uint64_t first = p->cfg.first_height > 1 ? p->cfg.first_height : 1;
	if (height + 1 == first && first > 1)
		return p->cfg.base_n ? p->cfg.base_n : p->cfg.n;
	return height >= first && height <= p->end ? p->cfg.n : 0;
}

/*
 * pbft_ended: has this core committed the last height of its set? It then
 * signs nothing more: a VIEW-CHANGE it made now would name the height the
 * next set's replicas start from, in views of another set.
 */
static inline bool
pbft_ended(const struct pbft *p)
{
	return p->height >= p->end;
}

/* pbft_fenced: may this replica not sign PRE-PREPAREs, PREPAREs or NEW-VIEWs in view? */
static inline bool
pbft_fenced(const struct pbft *p, uint64_t view)
{
	return p->fenced && view <= p->fence;
}
void pbft_emit_view(struct pbft *p);
void pbft_emit_diverged(struct pbft *p, uint64_t height);
void pbft_sign(struct pbft *p, struct pbft_msg *m);
bool pbft_verify(struct pbft *p, const struct pbft_msg *m);
bool pbft_verify_vote(struct pbft *p, uint8_t type, uint32_t from, uint64_t view, uint64_t height,
		      const uint8_t digest[PBFT_HASH_LEN], const uint8_t sig[PBFT_SIG_LEN]);
void pbft_reset_slot(struct pbft *p);
void pbft_dispatch(struct pbft *p, const struct pbft_msg *m);
void pbft_on_preprepare(struct pbft *p, const struct pbft_msg *m);
void pbft_learn_height(struct pbft *p, uint32_t from, uint64_t height, bool proven);
void pbft_help_laggard(struct pbft *p, uint32_t to);
void pbft_commit_known(struct pbft *p, uint64_t height, uint64_t view,
		       const uint8_t digest[PBFT_HASH_LEN], const struct pbft_vote *cert,
		       uint32_t ncert);
void pbft_enter(struct pbft *p, uint64_t now_ms);
void pbft_future_add(struct pbft *p, const struct pbft_msg *m);
void pbft_future_replay(struct pbft *p);
void pbft_arm_timer(struct pbft *p);
void pbft_send_vote(struct pbft *p, uint8_t type, uint64_t view, uint64_t height,
		    const uint8_t digest[PBFT_HASH_LEN]);

/* view_change.c */
void pbft_start_view_change(struct pbft *p, uint64_t view);
void pbft_on_viewchange(struct pbft *p, const struct pbft_msg *m);
void pbft_on_newview(struct pbft *p, const struct pbft_msg *m);
void pbft_retransmit_viewchange(struct pbft *p);
bool pbft_check_cert(struct pbft *p, uint64_t height, uint64_t view,
		     const uint8_t digest[PBFT_HASH_LEN], const struct pbft_vote *v, uint32_t n);

/* checkpoint.c */
void pbft_on_checkpoint(struct pbft *p, const struct pbft_msg *m);

/* record.c */
void pbft_record_encode(const struct pbft *p, struct ch_buf *out);

#endif
