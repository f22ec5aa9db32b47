/*
 * test.h - a minimal unit-test harness. Each test file defines test
 * functions and lists them in main with RUN(name), or RUN_WITH(name, setup,
 * teardown) for a test that takes a fixture: setup returns it (NULL fails
 * the test), the test gets it, teardown releases it. CHECK records a failure
 * with its location and goes on; REQUIRE returns from the test. main
 * returns TEST_DONE(): non-zero if any check failed, after printing
 * "N passed, N failed".
 */
#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int test_passed, test_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			test_failed_checks++;                                  \
		}                                                              \
	} while (0)

#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n",         \
				__FILE__, __LINE__, #cond);                    \
			test_failed_checks++;                                  \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                     \
	do {                                                                   \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);  \
		if (test_a_ != test_b_) {                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, test_a_, test_b_); \
			test_failed_checks++;                                  \
		}                                                              \
	} while (0)

/* TEST_REPORT_ counts and prints the outcome of test fn, failed if checks failed since before_. */
#define TEST_REPORT_(fn, before_)                                              \
	do {                                                                   \
		if (test_failed_checks == (before_)) {                         \
			test_passed++;                                         \
			printf("ok   %s\n", #fn);                              \
		} else {                                                       \
			test_failed++;                                         \
			printf("FAIL %s\n", #fn);                              \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = test_failed_checks;                              \
		fn();                                                          \
		TEST_REPORT_(fn, before_);                                     \
	} while (0)

#define RUN_WITH(fn, setup, teardown)                                          \
	do {                                                                   \
		int before_ = test_failed_checks;                              \
		void *fx_ = setup();                                           \
		if (fx_ == NULL) {                                             \
			fprintf(stderr, "%s: setup %s failed\n", #fn, #setup); \
			test_failed_checks++;                                  \
		} else {                                                       \
			fn(fx_);                                               \
			teardown(fx_);                                         \
		}                                                              \
		TEST_REPORT_(fn, before_);                                     \
	} while (0)

#define TEST_DONE()                                                            \
	(printf("%d passed, %d failed\n", test_passed, test_failed),           \
	 test_failed ? 1 : 0)

#endif
