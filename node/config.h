/*
 * config.h - config.json, one node's settings (paths relative to the node's
 * home directory): parsing with clear messages, writing, and the defaults.
 * The chain's own settings are in genesis.json (chain/genesis.h).
 *
 *   {"moniker": "node0", "genesis_file": "../genesis.json",
 *    "key_file": "validator.pem", "data_dir": "data",
 *    "rpc_listen": "http://127.0.0.1:26601", "p2p_listen": "tcp://127.0.0.1:26600",
 *    "rpc_max_body_bytes": 1048576, "rpc_max_inflight": 1024,
 *    "mempool_max_txs": 50000, "mempool_max_bytes": 67108864,
 *    "mempool_ttl_ms": 600000, "mempool_max_nonce_gap": 1000,
 *    "commit_timeout_ms": 10000, "verify_threads": 0,
 *    "peer_max_connections": 0, "peer_max_msgs_per_s": 1000,
 *    "peer_max_bytes_per_s": 67108864, "min_free_disk_mb": 64,
 *    "rpc_max_streams": 64, "log_level": "info", "log_format": "text",
 *    "p2p_tls": false, "allow_plaintext_peers": false}
 * and, for HTTPS, "rpc_tls_cert", "rpc_tls_key", "rpc_tls_client_ca".
 * verify_threads: threads that check transaction signatures (0: one per core).
 * peer_*: inbound validator connections at once (0: 2 per validator + 8),
 * and each one's message rate and byte rate, with a burst of two seconds'
 * worth (the byte rate is raised to the largest message if below it).
 * min_free_disk_mb: the node refuses to start when the file system holding
 * data_dir has less free space than this (0: never); running, it pauses
 * (takes no part in consensus, refuses transactions, answers /readyz 503)
 * until space is freed.
 * rpc_max_streams: event streams (GET /events) open at once.
 * log_level: error, warn, info or debug; log_format: text or json (one
 * object per line); both may be overridden on chaind's command line.
 * p2p_tls: mutual TLS on every peer link, each side proving with a
 * certificate issued by its validator key that it is a validator of the
 * genesis (rpc/tls.h); the same on every validator of a network. Without
 * it, a p2p_listen or peer address that is not loopback is refused unless
 * allow_plaintext_peers is set (and then warned about).
 * rpc_tls_cert, rpc_tls_key: PEM files that make rpc_listen https:// (both,
 * or neither); rpc_tls_client_ca makes it demand client certificates
 * issued by that CA.
 * Optional "peer_addresses": {"node1": "tcp://10.0.0.7:26600", ...} dials the
 * named validators at these addresses instead of genesis's p2p_address (a
 * different route to a peer, e.g. through NAT or a proxy).
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "common/err.h"

#define NODE_MAX_PATH 1024
#define NODE_MAX_ADDR CHAIN_MAX_ADDR
#define NODE_MAX_PEER_ADDRESSES 64

struct node_config {
	char home[NODE_MAX_PATH];
	char moniker[64];
	char genesis_file[NODE_MAX_PATH]; /* resolved against home */
	char key_file[NODE_MAX_PATH];
	char data_dir[NODE_MAX_PATH];
	char rpc_listen[NODE_MAX_ADDR];
	char p2p_listen[NODE_MAX_ADDR];
	uint32_t rpc_max_body_bytes;
	uint32_t rpc_max_inflight;
	uint32_t mempool_max_txs;
	uint64_t mempool_max_bytes;
	uint64_t mempool_ttl_ms;
	uint64_t mempool_max_nonce_gap;
	uint32_t commit_timeout_ms;
	uint32_t verify_threads; /* 0: one per core */
	uint32_t peer_max_connections; /* 0: 2 per validator + 8 */
	uint32_t peer_max_msgs_per_s;
	uint64_t peer_max_bytes_per_s;
	uint32_t min_free_disk_mb; /* 0: no check */
	uint32_t rpc_max_streams;
	char log_level[8];
	char log_format[8];
	bool p2p_tls;
	bool allow_plaintext_peers;
	char rpc_tls_cert[NODE_MAX_PATH]; /* resolved against home; "" if none */
	char rpc_tls_key[NODE_MAX_PATH];
	char rpc_tls_client_ca[NODE_MAX_PATH];
	size_t npeer_addresses;
	struct node_peer_address {
		char id[64]; /* a validator's id in genesis */
		char address[NODE_MAX_ADDR];
	} peer_addresses[NODE_MAX_PEER_ADDRESSES];
};

/* node_config_default fills a node's defaults for home directory home. */
void node_config_default(struct node_config *c, const char *home);

/* node_config_load reads home/config.json over the defaults. */
int node_config_load(struct node_config *c, const char *home, struct ch_err *err);

/* node_config_save writes c to home/config.json (refuses to overwrite). */
int node_config_save(const struct node_config *c, struct ch_err *err);

#endif
