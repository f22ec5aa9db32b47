/*
 * peer_msg.h - the peer protocol between validators: typed messages with one
 * encoder and one decoder, used by the node, the test validators and tools.
 *
 * A message is one JSON-RPC 2.0 object, as for clients, whose payload is a
 * single base64 member "msg" holding a versioned canonical binary encoding:
 *   {"jsonrpc":"2.0","method":"consensus","params":{"msg":B64}}
 *   {"jsonrpc":"2.0","method":"txs","params":{"msg":B64}}
 *   {"jsonrpc":"2.0","method":"status","params":{"msg":B64}}
 *   {"jsonrpc":"2.0","id":ID,"method":"get_blocks","params":{"msg":B64}}
 *   {"jsonrpc":"2.0","id":ID,"result":{"msg":B64}}        (the blocks asked for)
 * ID is a whole number below 2^53. The payload (integers big-endian):
 *   version u8 (= 1) | type u8 | body
 *   consensus  1  the ordering engine's own message (node/engine.h), opaque here
 *   txs        2  count u32 (1..PEER_MAX_TXS) | count x (len u16 | transaction)
 *   status     3  from u16 | height u64 | view u64
 *   get_blocks 4  from u16 | min_height u64 | max_height u64
 *                 [| pub_key[33] when from = PEER_FROM_KEY: a node that has
 *                 no slot yet (added by a vote it has not synced to) asks,
 *                 and is answered at the slot its key has in the sender's set]
 *   blocks     5  height u64 | count u16 (0..PEER_MAX_BLOCKS)
 *                 | count x (len u32 | block | len u32 | commit certificate)
 *                 (blocks of at most one largest block's worth of bytes in all)
 * Transactions, blocks and certificates are in their canonical encodings
 * (chain/tx.h, chain/block.h). The method and the type byte must agree; the
 * decoder refuses anything else, every length over its bound (checked before
 * anything is allocated) and trailing bytes.
 */
#ifndef NODE_PEER_MSG_H
#define NODE_PEER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"
#include "common/buf.h"
#include "common/err.h"

#define PEER_MSG_VERSION 1
#define PEER_MAX_TXS 8192               /* transactions in one txs message */
#define PEER_MAX_TXS_BYTES (2u << 20)   /* ... and the bytes of their encodings */
#define PEER_MAX_BLOCKS 64              /* blocks in one answer */
#define PEER_MAX_ID (UINT64_C(1) << 53) /* JSON-RPC ids stay exact in a double */
#define PEER_FROM_KEY 0xFFFF              /* get_blocks: the asker is named by its key */

enum peer_msg_type {
	PEER_CONSENSUS = 1,
	PEER_TXS = 2,
	PEER_STATUS = 3,
	PEER_GET_BLOCKS = 4,
	PEER_BLOCKS = 5,
};

/* One block of an answer, in its canonical encoding, with its certificate. */
struct peer_block {
	const uint8_t *block;
	size_t block_len;
	const uint8_t *cert;
	size_t cert_len;
};

/*
 * A message. Which fields count depends on type:
 *   CONSENSUS   engine/engine_len
 *   TXS         txs[ntxs]
 *   STATUS      from, height, view
 *   GET_BLOCKS  id, from, min_height, max_height (pub if from is PEER_FROM_KEY)
 *   BLOCKS      id, height (the sender's), blocks[nblocks]
 * To encode, fill them in (the pointers are borrowed). A decoded message
 * owns everything they point to; release it with peer_msg_close.
 */
struct peer_msg {
	uint8_t type;
	uint64_t id;
	const uint8_t *engine;
	size_t engine_len;
	struct chain_tx *txs;
	uint32_t ntxs;
	uint32_t from;
	uint8_t pub[CR_PUBKEY_LEN]; /* GET_BLOCKS from PEER_FROM_KEY */
	uint64_t height, view;
	uint64_t min_height, max_height;
	struct peer_block *blocks;
	uint32_t nblocks;
	/* decoded only: the binary payload the slices point into, and the bytes held in all */
	uint8_t *payload;
	size_t mem;
};

/* What a decoder accepts, from the chain's parameters. */
struct peer_msg_limits {
	uint32_t nvalidators;
	size_t max_engine; /* an engine message */
	size_t max_block;  /* a block encoding */
};

/*
 * peer_msg_max_len returns the length of the longest message text that can
 * pass the decoder under lim: what the transport should accept.
 */
size_t peer_msg_max_len(const struct peer_msg_limits *lim);

/*
 * peer_msg_encode appends m's text to out. ch_buf_ok(out) is false if memory
 * ran out or m cannot be encoded (a count, length or id over its bound).
 */
void peer_msg_encode(const struct peer_msg *m, struct ch_buf *out);

/*
 * peer_msg_encode is these two steps, for tools that craft payloads (fuzzing,
 * attack tests): peer_msg_encode_payload appends m's binary payload
 * (version, type, body) to out; peer_msg_wrap appends the text around any
 * payload of len bytes, with the method type calls for (an unknown type is
 * sent as "consensus") and id for get_blocks and blocks.
 */
void peer_msg_encode_payload(const struct peer_msg *m, struct ch_buf *out);
void peer_msg_wrap(uint8_t type, uint64_t id, const uint8_t *payload, size_t len,
		   struct ch_buf *out);

/*
 * peer_msg_decode parses len bytes of text into m: 0, or CH_E_BAD_ENCODING /
 * CH_E_TOO_LARGE with a message saying what is wrong (m is then empty), or
 * CH_E_NOMEM. Any thread.
 */
int peer_msg_decode(const uint8_t *text, size_t len, const struct peer_msg_limits *lim,
		    struct peer_msg *m, struct ch_err *err);

void peer_msg_close(struct peer_msg *m); /* NULL is fine */

/* peer_msg_type_name: "consensus", "txs", ... or "unknown". */
const char *peer_msg_type_name(uint8_t type);

#endif
