/*
 * byzantine.h - misbehaviours of a Byzantine validator, for tests. They are
 * compiled only into the chaind-byzantine executable, and only when CMake's
 * CHAIN_BYZANTINE option is on (off by default): chaind itself never holds
 * this code. chaind-byzantine is chaind with a hook on everything its core
 * sends (node_set_send_hook): it takes the behaviour from the environment,
 * CHAIND_BYZANTINE=<name>, and otherwise runs the honest protocol:
 *   silent        sends no consensus message at all
 *   equivocate    as primary, a second valid block for the same height (one
 *                 millisecond later) to the upper half of the validators
 *   votes         to the upper half, PREPAREs and COMMITs for a random digest
 *   replay        with every consensus message, three old ones again
 *   bad-sig       as primary, proposes blocks with a broken transaction signature
 *   wrong-parent  as primary, proposes blocks on a wrong parent hash
 *   overspend     as primary, adds a signed transfer from an empty account
 *   stale-nonce   as primary, adds a transaction committed before
 *   oversized     as primary, proposes blocks of block_max_txs + 1 transactions
 *   forge         with every consensus message, copies in the names of the
 *                 two validators after it (votes for a random digest),
 *                 which it can only sign with its own key
 *   flood         with every consensus message, 1,500 junk messages to each
 *                 peer (random bytes, bad JSON-RPC, garbled consensus)
 * Every misbehaviour is signed with the validator's own key, so it is what a
 * compromised validator could do (forge claims another's name as well). Each act is logged ("byzantine: ...") so
 * that tests can count them.
 */
#ifndef BYZANTINE_H
#define BYZANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "node/io.h"
#include "node/node.h"

struct node_byz;

/*
 * node_byz_new parses a behaviour's name (CH_E_CONFIG with the list if
 * unknown) for the validator id (borrowed: it must outlive b).
 */
int node_byz_new(struct node_byz **out, const char *name, const struct node_identity *id,
		 struct ch_err *err);
void node_byz_free(struct node_byz *b); /* NULL is fine */
const char *node_byz_name(const struct node_byz *b);

/*
 * node_byz_send is the send hook (node_send_hook_fn, arg a struct node_byz):
 * it sends the peer message msg to `to` (-1: every peer) with io as the
 * behaviour would.
 */
void node_byz_send(void *arg, const struct node_io *io, int to, const uint8_t *msg, size_t len);

#endif
