#include "common/buf.h"
#include "common/err.h"
#include "test.h"

static void
test_roundtrip(void)
{
	struct ch_buf b;
	ch_buf_init(&b);
	ch_buf_u8(&b, 0xab);
	ch_buf_u16(&b, 0x1234);
	ch_buf_u32(&b, 0xdeadbeef);
	ch_buf_u64(&b, 0x0102030405060708ull);
	ch_buf_put(&b, "xyz", 3);
	REQUIRE(ch_buf_ok(&b));
	CHECK_EQ_INT(b.len, 1 + 2 + 4 + 8 + 3);

	struct ch_rd r;
	ch_rd_init(&r, b.data, b.len);
	CHECK_EQ_INT(ch_rd_u8(&r), 0xab);
	CHECK_EQ_INT(ch_rd_u16(&r), 0x1234);
	CHECK(ch_rd_u32(&r) == 0xdeadbeefu);
	CHECK(ch_rd_u64(&r) == 0x0102030405060708ull);
	char s[3];
	ch_rd_copy(&r, s, 3);
	CHECK(memcmp(s, "xyz", 3) == 0);
	CHECK(ch_rd_done(&r));
	ch_buf_close(&b);
}

static void
test_short_read_is_sticky(void)
{
	uint8_t in[3] = {1, 2, 3};
	struct ch_rd r;
	ch_rd_init(&r, in, sizeof(in));
	CHECK_EQ_INT(ch_rd_u16(&r), 0x0102);
	CHECK_EQ_INT(ch_rd_u32(&r), 0); /* only one byte left */
	CHECK(r.bad);
	CHECK_EQ_INT(ch_rd_u8(&r), 0); /* stays bad */
	CHECK(!ch_rd_done(&r));
	CHECK(ch_rd_ptr(&r, 0) == NULL);
}

static void
test_trailing_bytes_not_done(void)
{
	uint8_t in[2] = {1, 2};
	struct ch_rd r;
	ch_rd_init(&r, in, sizeof(in));
	(void)ch_rd_u8(&r);
	CHECK(!ch_rd_done(&r));
	CHECK_EQ_INT(ch_rd_left(&r), 1);
}

static void
test_errors(void)
{
	struct ch_err e;
	ch_err_clear(&e);
	CHECK_EQ_INT(ch_errf(&e, CH_E_NONCE_TOO_LOW, "nonce %d below %d", 3, 5), CH_E_NONCE_TOO_LOW);
	CHECK(strcmp(e.msg, "nonce 3 below 5") == 0);
	CHECK_EQ_INT(ch_rpc_code(CH_E_NONCE_TOO_LOW), -32004);
	CHECK_EQ_INT(ch_err_from_rpc(-32004), CH_E_NONCE_TOO_LOW);
	CHECK_EQ_INT(ch_err_from_rpc(-32601), CH_E_INVALID);
	CHECK(strcmp(ch_errname(CH_E_MEMPOOL_FULL), "MEMPOOL_FULL") == 0);
	CHECK(strcmp(ch_strerror(9999), "unknown error") == 0);
	ch_err_clear(&e);
	e.code = CH_E_IO;
	CHECK(strcmp(ch_err_msg(&e), "I/O error") == 0);
}

int
main(void)
{
	RUN(test_roundtrip);
	RUN(test_short_read_is_sticky);
	RUN(test_trailing_bytes_not_done);
	RUN(test_errors);
	return TEST_DONE();
}
