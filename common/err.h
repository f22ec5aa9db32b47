/*
 * err.h - error codes and messages shared by every module.
 *
 * Functions return 0 on success or a positive code from CH_ERRORS. Where a
 * caller passes a struct ch_err, the failing function writes a message with
 * context into it ("nonce 7 is below the account nonce 9"). The X-macro list
 * is the single source of codes, default messages and JSON-RPC error codes,
 * so they never drift apart.
 */
#ifndef CH_ERR_H
#define CH_ERR_H

#include <stddef.h>

/* X(name, json-rpc code, default message) */
#define CH_ERRORS(X)                                                           \
	X(OK, 0, "ok")                                                         \
	X(NOMEM, -32603, "out of memory")                                      \
	X(INVALID, -32602, "invalid argument")                                 \
	X(IO, -32603, "I/O error")                                             \
	X(INTERNAL, -32603, "internal error")                                  \
	X(CRYPTO, -32603, "cryptography library error")                        \
	X(DB, -32603, "database error")                                        \
	X(CONFIG, -32602, "invalid configuration")                             \
	X(EXISTS, -32602, "already exists")                                    \
	X(BAD_ENCODING, -32001, "malformed encoding")                          \
	X(BAD_SIGNATURE, -32002, "signature does not verify")                  \
	X(WRONG_CHAIN, -32003, "transaction is for another chain")             \
	X(NONCE_TOO_LOW, -32004, "nonce already used")                         \
	X(NONCE_TOO_HIGH, -32005, "nonce too far ahead of the account nonce")  \
	X(INSUFFICIENT_FUNDS, -32006, "insufficient balance")                  \
	X(MEMPOOL_FULL, -32007, "mempool is full")                             \
	X(TOO_LARGE, -32008, "too large")                                      \
	X(NOT_FOUND, -32009, "not found")                                      \
	X(TIMEOUT, -32010, "timed out")                                        \
	X(UNAVAILABLE, -32011, "node is shutting down or not ready")           \
	X(TX_INVALID, -32012, "transaction breaks a chain rule")               \
	X(KNOWN, -32013, "transaction already known")                          \
	X(BLOCK_INVALID, -32014, "block breaks a chain rule")                  \
	X(CORRUPT, -32603, "stored data is damaged")

enum {
#define CH_ERR_ENUM(name, rpc, msg) CH_E_##name,
	CH_ERRORS(CH_ERR_ENUM)
#undef CH_ERR_ENUM
	CH_E__COUNT
};

#define CH_ERRMSG_MAX 256

/* Caller-owned error record. code is 0 until a failure is recorded. */
struct ch_err {
	int code;
	char msg[CH_ERRMSG_MAX];
};

/* ch_strerror returns the default message of code (static storage). */
const char *ch_strerror(int code);

/* ch_errname returns the symbolic name of code, e.g. "NONCE_TOO_LOW". */
const char *ch_errname(int code);

/* ch_rpc_code returns the JSON-RPC error code for code. */
int ch_rpc_code(int code);

/*
 * ch_errf records code and a printf-style message in err (which may be
 * NULL) and returns code, so that callers can write
 * `return ch_errf(err, CH_E_INVALID, "bad %s", what);`.
 */
int ch_errf(struct ch_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * ch_err_wrap sets err's code and puts a printf-style context before the
 * message it holds: after a failed chain_exec_apply, `ch_err_wrap(err,
 * CH_E_BLOCK_INVALID, "tx %u", i)` turns "nonce 7 already used" into
 * "tx 3: nonce 7 already used". err may be NULL. Returns code.
 */
int ch_err_wrap(struct ch_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ch_err_from_rpc maps a JSON-RPC error code back to a code (CH_E_INTERNAL if unknown). */
int ch_err_from_rpc(int rpc_code);

/* ch_err_clear resets err to "no error". err may be NULL. */
void ch_err_clear(struct ch_err *err);

/* ch_err_msg returns err's message, or the default message of its code. */
const char *ch_err_msg(const struct ch_err *err);

#endif
