#include "pbft/pbft.h"
#include "test.h"

static void
test_classic_sizes(void)
{
	CHECK_EQ_INT(pbft_faults(1), 0);
	CHECK_EQ_INT(pbft_quorum(1), 1);
	CHECK_EQ_INT(pbft_faults(4), 1);
	CHECK_EQ_INT(pbft_quorum(4), 3);
	CHECK_EQ_INT(pbft_faults(7), 2);
	CHECK_EQ_INT(pbft_quorum(7), 5);
	CHECK_EQ_INT(pbft_quorum(2), 2);
	CHECK_EQ_INT(pbft_quorum(3), 2);
}

/* Any two quorums share at least f + 1 members, and a quorum of honest
 * validators exists when f are silent. */
static void
test_intersection(void)
{
	for (uint32_t n = 1; n <= 200; n++) {
		uint32_t f = pbft_faults(n), q = pbft_quorum(n);
		CHECK(3 * f + 1 <= n);
		CHECK(2 * q - n >= f + 1);
		CHECK(q <= n - f);
	}
}

static void
test_primary(void)
{
	CHECK_EQ_INT(pbft_primary(0, 4), 0);
	CHECK_EQ_INT(pbft_primary(5, 4), 1);
	CHECK_EQ_INT(pbft_primary(UINT64_MAX, 1), 0);
}

int
main(void)
{
	RUN(test_classic_sizes);
	RUN(test_intersection);
	RUN(test_primary);
	return TEST_DONE();
}
