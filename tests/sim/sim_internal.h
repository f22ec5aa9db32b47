/*
 * sim_internal.h - what the simulator's files share: sim.c (the fixture:
 * events, network, validators, invariants), sim_chain.c (the chain the
 * validators run: keys, genesis, transactions, the reference replay) and
 * sim_byz.c (the Byzantine behaviours).
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim.h"

#include "chain/genesis.h"
#include "chain/rules.h"
#include "chain/sigcache.h"
#include "chain/store.h"
#include "chain/valset.h"
#include "node/core.h"
#include "node/engine.h"
#include "node/peer_msg.h"
#include "pbft/pbft.h"

#define SIM_ACCOUNTS 8
#define SIM_MAX_TXS 64
#define SIM_REPLAY_MAX 64

struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi); /* uniform in [lo, hi] */
bool rng_chance(struct rng *r, double p);
uint64_t sim_mix64(uint64_t z);

struct sim_raw {
	uint8_t *data;
	size_t len;
};

struct sim_node {
	struct sim *s;
	uint32_t id;
	struct node_core *core;    /* NULL while crashed */
	struct chain_store *store; /* open while running */
	char dir[32];              /* the store's directory on the simulation's file system */
	struct cr_key *key;        /* borrowed from the world (a re-key switches it) */
	bool absent;               /* a joiner no change adds: never started */
	bool byz;
	unsigned kind;             /* SIM_BYZ_* of a Byzantine validator */
	uint8_t *record;           /* the vote record on "disk" */
	size_t record_len;
	int torn;      /* >= 0: the process dies at its torn-th next send or record write */
	bool dead;     /* died in the call under way: the rest of its actions never happen */
	uint64_t epoch;
	/* what the invariants have checked of its chain */
	uint64_t checked;
	uint8_t tip_hash[CR_HASH_LEN];
	uint8_t *done; /* per transaction: committed on this chain */
	uint32_t ndone;
	/* Byzantine state */
	struct sim_raw replay[SIM_REPLAY_MAX];
	size_t nreplay;
	bool has_vc[SIM_MAX_N]; /* the latest VIEW-CHANGE of each, kept by a faulty new primary */
	struct pbft_msg vc[SIM_MAX_N];
};

/* The chain every run of a process shares: keys, genesis and signed transactions per n. */
struct sim_chain {
	uint32_t n;
	struct chain_genesis genesis;
	struct cr_key *validator[SIM_MAX_N];
	struct chain_sigcache *sigcache; /* the transactions' verdicts: the same in every run */
	struct cr_key *account[SIM_ACCOUNTS];
	uint8_t account_addr[SIM_ACCOUNTS][CR_ADDR_LEN];
	struct chain_tx txs[SIM_MAX_TXS]; /* tx k: account k % A pays account k % A + 1, nonce k / A */
};

/* Signature verdicts remembered across the validators of a run (each checks the same messages). */
#define SIM_VERDICTS (1u << 14)
struct sim_verdict {
	uint64_t key;
	bool used, ok;
	uint8_t pub[CR_PUBKEY_LEN];
	uint8_t digest[CR_HASH_LEN];
	uint8_t sig[CR_SIG_LEN];
};

/* What an honest validator signed, for the equivocation check. */
struct sim_signed {
	bool used;
	uint8_t type;
	uint32_t node;
	uint64_t view, height;
	uint8_t digest[PBFT_HASH_LEN];
};

struct sim_event {
	uint64_t at, seq;
	uint8_t type;
	uint32_t to, from;
	uint64_t arg;
	uint8_t *data;
	size_t len;
};

struct sim {
	struct sim_opts o;
	uint64_t seed;
	struct rng rng;
	uint64_t now;
	FILE *trace;
	uint32_t n, f, quorum; /* of the genesis set */
	uint32_t total;        /* nodes: the n genesis validators, then the joiners */
	struct sim_gov *gov;   /* sim_gov.c (NULL: the set never changes) */
	struct sim_sets *sets; /* sim_gov.c: the sets of heights, cached */
	bool pbft; /* the engine is PBFT: its messages are checked for equivocation */
	bool keyed_sigs; /* validators sign with sim_keyed_sig, not P-256 (crash-fault engines) */
	uint32_t ntx, block_max;
	const struct sim_chain *chain;
	struct chain_genesis genesis; /* the chain's, with this run's parameters */
	struct chain_rules rules;
	struct peer_msg_limits limits;
	struct chain_mem_env *env;
	struct sim_verdict *verdicts;
	struct sim_node nodes[SIM_MAX_N];

	struct sim_event *heap;
	size_t nheap, capheap;
	uint64_t seq;

	/* the chain honest validators agreed on, replayed on a reference store */
	struct chain_store *reference;
	uint8_t (*agreed)[2][CR_HASH_LEN]; /* agreed[h - 1]: block hash and state digest after it */
	size_t nagreed, capagreed;

	struct sim_signed *sigs;
	size_t nsigs, capsigs;

	int group[SIM_MAX_N];
	bool split;
	double drop;
	bool faults_over;
	bool finished;
	bool failed;
	char err[1024];
	struct sim_stats st;
};

/* sim.c */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define TRACE(s, ...)                                 \
	do {                                          \
		if ((s)->trace != NULL)               \
			sim_trace((s), __VA_ARGS__);  \
	} while (0)
const char *sim_hex8(const uint8_t *d);
void sim_send_raw(struct sim *s, uint32_t from, uint32_t to, const uint8_t *data, size_t len,
		  uint64_t extra_ms);
bool sim_linked(const struct sim *s, uint32_t a, uint32_t b);

/* sim_chain.c */
const struct sim_chain *sim_chain_get(uint32_t n); /* made once per n, kept for the process */
int sim_reference_commit(struct sim *s, const uint8_t *block, size_t len,
			 const struct chain_cert *cert, uint64_t height);
/*
 * sim_keyed_sig: the signature of digest by the validator with key pub in
 * runs with keyed_sigs, a keyed SHA-256 (cheap, deterministic, and forgeable
 * by anyone who knows pub: enough where no validator lies).
 */
void sim_keyed_sig(const uint8_t pub[CR_PUBKEY_LEN], const uint8_t digest[CR_HASH_LEN],
		   uint8_t sig[CR_SIG_LEN]);
bool sim_verify(struct sim *s, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
		const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);

/* sim_gov.c */
struct sim_set;
const struct sim_set *sim_set_at(struct sim *s, struct chain_store *store, uint64_t height);
uint32_t sim_set_n(const struct sim_set *set);
bool sim_set_check(struct sim *s, const struct sim_set *set, uint32_t v,
		   const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);
int sim_cert_check(struct sim *s, const struct sim_set *set, const struct chain_cert *cert,
		   struct ch_err *err);
uint32_t sim_index_of(const struct sim_set *set, const struct cr_key *key);
void sim_gov_init(struct sim *s);
void sim_gov_free(struct sim *s);
bool sim_gov_done(const struct sim *s);
void sim_gov_step(struct sim *s, uint64_t *first, uint64_t *end);
const struct chain_tx *sim_gov_tx(const struct sim *s, uint64_t k);

/* sim_byz.c: a faulty validator's core wants msg sent; byz_in: it received m. */
void sim_byz_out(struct sim_node *nd, int to, const uint8_t *msg, size_t len);
void sim_byz_in(struct sim_node *nd, const struct peer_msg *m, const uint8_t *raw, size_t len);
void sim_byz_tick(struct sim_node *nd);
void sim_byz_free(struct sim_node *nd);
/* sim_send_pbft signs nothing: it wraps m in a peer message and sends it from nd (to < 0: all). */
void sim_send_pbft(struct sim_node *nd, int to, const struct pbft_msg *m);
void sim_sign_pbft(const struct sim_node *nd, struct pbft_msg *m);

#endif
