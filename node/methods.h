/*
 * methods.h - what the two files of JSON-RPC methods share (methods.c:
 * dispatch and transaction submission; methods_query.c: the reads).
 */
#ifndef NODE_METHODS_H
#define NODE_METHODS_H

#include "node/rpc_env.h"

void node_fail(struct rpc_call *c, const struct ch_err *e);
void node_fail_code(struct rpc_call *c, int code, const char *msg);
cJSON *node_hash_result(const uint8_t hash[CR_HASH_LEN]);

/* methods_query.c */
void node_m_status(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_health(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_validators(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_validator_changes(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_net_info(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_tx(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_block(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_blockchain(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_account(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_get(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_values(const struct node_rpc_env *env, struct rpc_call *c);
void node_m_num_unconfirmed_txs(const struct node_rpc_env *env, struct rpc_call *c);

/* methods_events.c */
void node_m_events(const struct node_rpc_env *env, struct node_pending *p, struct rpc_call *c);

#endif
