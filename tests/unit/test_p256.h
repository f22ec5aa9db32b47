/* test_p256.h - P-256 helpers shared by the crypto unit tests. */
#ifndef TEST_P256_H
#define TEST_P256_H

#include <stdint.h>

/* high_s turns a low-S signature into its high-S twin (s' = n - s). */
static inline void
high_s(uint8_t sig[64])
{
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
		0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int d = order[i] - sig[32 + i] - borrow;
		borrow = d < 0;
		sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

#endif
