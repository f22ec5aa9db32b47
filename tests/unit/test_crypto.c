#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/crypto.h"
#include "test.h"
#include "test_p256.h"

static void
hex32(const char *hex, uint8_t out[32])
{
	if (cr_hex_decode_exact(hex, out, 32) != 0)
		abort();
}

static void
test_sha256_vectors(void)
{
	uint8_t h[32], want[32];
	cr_sha256("abc", 3, h);
	hex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	CHECK(memcmp(h, want, 32) == 0);
	cr_sha256("", 0, h);
	hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
	CHECK(memcmp(h, want, 32) == 0);

	struct cr_sha256_ctx c = {0};
	REQUIRE(cr_sha256_init(&c) == 0);
	cr_sha256_update(&c, "a", 1);
	cr_sha256_update(&c, "bc", 2);
	cr_sha256_final(&c, h);
	hex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	CHECK(memcmp(h, want, 32) == 0);
	REQUIRE(cr_sha256_init(&c) == 0); /* reusable */
	cr_sha256_final(&c, h);
	cr_sha256("", 0, want);
	CHECK(memcmp(h, want, 32) == 0);
	cr_sha256_close(&c);
}

static void
test_hex(void)
{
	uint8_t in[4] = {0x00, 0xab, 0xcd, 0xff}, out[8];
	char s[9];
	size_t n = 0;
	cr_hex_encode(in, 4, s);
	CHECK(strcmp(s, "00abcdff") == 0);
	CHECK(cr_hex_decode("00ABcdff", 8, out, sizeof(out), &n) == 0 && n == 4);
	CHECK(memcmp(in, out, 4) == 0);
	CHECK(cr_hex_decode("0x00ab", 6, out, sizeof(out), &n) == 0 && n == 2);
	CHECK(cr_hex_decode("abc", 3, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_hex_decode("zz", 2, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_hex_decode("0g", 2, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_hex_decode("001122", 6, out, 2, &n) == CH_E_TOO_LARGE);
	CHECK(cr_hex_decode_exact("0011", out, 3) == CH_E_BAD_ENCODING);
	CHECK(cr_hex_decode_exact("001122", out, 2) == CH_E_BAD_ENCODING);
	CHECK(cr_hex_decode_exact("", out, 0) == 0);
}

static void
test_base64(void)
{
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char s[16];
		uint8_t out[16];
		size_t n = 99;
		cr_base64_encode(plain[i], strlen(plain[i]), s);
		CHECK(strcmp(s, enc[i]) == 0);
		CHECK(cr_base64_decode(enc[i], strlen(enc[i]), out, sizeof(out), &n) == 0);
		CHECK(n == strlen(plain[i]) && memcmp(out, plain[i], n) == 0);
	}
	uint8_t out[16];
	size_t n;
	CHECK(cr_base64_decode("Zg=", 3, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_base64_decode("Z!==", 4, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_base64_decode("Zm 9", 4, out, sizeof(out), &n) == CH_E_BAD_ENCODING);
	CHECK(cr_base64_decode("Zm9vYmFy", 8, out, 5, &n) == CH_E_TOO_LARGE);
}

static void
test_sign_verify(void)
{
	struct cr_key *k = NULL;
	struct ch_err err;
	REQUIRE(cr_key_generate(&k, &err) == 0);
	uint8_t pub[33], digest[32], sig[64];
	cr_key_pubkey(k, pub);
	CHECK(pub[0] == 0x02 || pub[0] == 0x03);
	cr_sha256("message", 7, digest);
	for (int round = 0; round < 20; round++) {
		REQUIRE(cr_sign(k, digest, sig, &err) == 0);
		CHECK(cr_verify(pub, digest, sig));
		/* low-S always */
		CHECK(sig[32] <= 0x7f);
		uint8_t twin[64];
		memcpy(twin, sig, 64);
		high_s(twin);
		CHECK(!cr_verify(pub, digest, twin));
	}
	for (int i = 0; i < 64; i++) {
		uint8_t bad[64];
		memcpy(bad, sig, 64);
		bad[i] ^= 0x01;
		CHECK(!cr_verify(pub, digest, bad));
	}
	uint8_t other[32];
	cr_sha256("messagf", 7, other);
	CHECK(!cr_verify(pub, other, sig));
	uint8_t zero[64] = {0};
	CHECK(!cr_verify(pub, digest, zero));

	/* another key does not verify */
	struct cr_key *k2 = NULL;
	REQUIRE(cr_key_generate(&k2, &err) == 0);
	uint8_t pub2[33];
	cr_key_pubkey(k2, pub2);
	CHECK(!cr_verify(pub2, digest, sig));

	/* the parsed form gives the same answers */
	struct cr_pubkey *pk = NULL;
	REQUIRE(cr_pubkey_parse(&pk, pub, &err) == 0);
	CHECK(cr_pubkey_verify(pk, digest, sig));
	CHECK(!cr_pubkey_verify(pk, other, sig));
	cr_pubkey_free(pk);

	/* not a point */
	uint8_t badpub[33];
	memset(badpub, 0xff, 33);
	badpub[0] = 0x02;
	CHECK(cr_pubkey_parse(&pk, badpub, &err) == CH_E_BAD_ENCODING);
	badpub[0] = 0x04;
	CHECK(cr_pubkey_parse(&pk, badpub, &err) == CH_E_BAD_ENCODING);
	CHECK(!cr_verify(badpub, digest, sig));

	uint8_t a1[20], a2[20], h[32];
	cr_address(pub, a1);
	cr_sha256(pub, 33, h);
	CHECK(memcmp(a1, h, 20) == 0);
	cr_address(pub2, a2);
	CHECK(memcmp(a1, a2, 20) != 0);
	cr_key_free(k);
	cr_key_free(k2);
	cr_key_free(NULL);
}

static void
test_pem(void)
{
	char dir[] = "/tmp/cr_test_XXXXXX";
	REQUIRE(mkdtemp(dir) != NULL);
	char path[128], path2[128];
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	snprintf(path2, sizeof(path2), "%s/ed.pem", dir);
	struct ch_err err;
	struct cr_key *k = NULL, *k2 = NULL;
	REQUIRE(cr_key_generate(&k, &err) == 0);
	REQUIRE(cr_key_save_pem(k, path, &err) == 0);
	struct stat st;
	REQUIRE(stat(path, &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(cr_key_save_pem(k, path, &err) == CH_E_EXISTS);
	REQUIRE(cr_key_load_pem(&k2, path, &err) == 0);
	uint8_t p1[33], p2[33], d[32], sig[64];
	cr_key_pubkey(k, p1);
	cr_key_pubkey(k2, p2);
	CHECK(memcmp(p1, p2, 33) == 0);
	cr_sha256("x", 1, d);
	REQUIRE(cr_sign(k2, d, sig, &err) == 0);
	CHECK(cr_verify(p1, d, sig));
	cr_key_free(k2);
	k2 = NULL;

	CHECK(cr_key_load_pem(&k2, "/nonexistent/key.pem", &err) == CH_E_IO);
	CHECK(strstr(err.msg, "/nonexistent/key.pem") != NULL);

	/* an Ed25519 key is refused */
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	REQUIRE(ed != NULL);
	FILE *f = fopen(path2, "w");
	REQUIRE(f != NULL);
	PEM_write_PrivateKey(f, ed, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(ed);
	CHECK(cr_key_load_pem(&k2, path2, &err) == CH_E_INVALID);
	CHECK(strstr(err.msg, "P-256") != NULL);

	/* garbage is refused */
	f = fopen(path2, "w");
	fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	CHECK(cr_key_load_pem(&k2, path2, &err) == CH_E_INVALID);
	cr_key_free(k);
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

/* ref_root: RFC 6962 MTH computed from explicit leaf-hash lists. */
static void
ref_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32])
{
	uint8_t buf[65];
	if (n == 1) {
		buf[0] = 0;
		memcpy(buf + 1, leaves[0], 32);
		cr_sha256(buf, 33, out);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	buf[0] = 1;
	ref_root(leaves, k, buf + 1);
	ref_root(leaves + k, n - k, buf + 33);
	cr_sha256(buf, 65, out);
}

static void
test_merkle(void)
{
	uint8_t leaves[40][32];
	for (int i = 0; i < 40; i++)
		cr_sha256(&i, sizeof(i), leaves[i]);
	uint8_t root[32], want[32];
	cr_merkle_root(leaves, 0, root);
	cr_sha256("", 0, want);
	CHECK(memcmp(root, want, 32) == 0);

	/* n = 3 by hand */
	uint8_t buf[65], la[32], lb[32], lc[32], ab[32];
	buf[0] = 0;
	memcpy(buf + 1, leaves[0], 32);
	cr_sha256(buf, 33, la);
	memcpy(buf + 1, leaves[1], 32);
	cr_sha256(buf, 33, lb);
	memcpy(buf + 1, leaves[2], 32);
	cr_sha256(buf, 33, lc);
	buf[0] = 1;
	memcpy(buf + 1, la, 32);
	memcpy(buf + 33, lb, 32);
	cr_sha256(buf, 65, ab);
	memcpy(buf + 1, ab, 32);
	memcpy(buf + 33, lc, 32);
	cr_sha256(buf, 65, want);
	cr_merkle_root(leaves, 3, root);
	CHECK(memcmp(root, want, 32) == 0);

	for (size_t n = 1; n <= 40; n++) {
		cr_merkle_root(leaves, n, root);
		ref_root(leaves, n, want);
		CHECK(memcmp(root, want, 32) == 0);
		for (size_t i = 0; i < n; i++) {
			uint8_t path[CR_MERKLE_MAX_DEPTH][32];
			size_t len = 0;
			REQUIRE(cr_merkle_proof(leaves, n, i, path, &len) == 0);
			CHECK(cr_merkle_verify(leaves[i], i, n, path, len, root));
			/* wrong leaf, wrong index, wrong size, tampered path */
			CHECK(!cr_merkle_verify(leaves[(i + 1) % 40], i, n, path, len, root));
			if (n > 1)
				CHECK(!cr_merkle_verify(leaves[i], (i + 1) % n, n, path, len, root));
			if (len > 0) {
				path[len - 1][0] ^= 1;
				CHECK(!cr_merkle_verify(leaves[i], i, n, path, len, root));
				CHECK(!cr_merkle_verify(leaves[i], i, n, path, len - 1, root));
			}
		}
		uint8_t path[CR_MERKLE_MAX_DEPTH][32];
		size_t len;
		CHECK(cr_merkle_proof(leaves, n, n, path, &len) == CH_E_INVALID);
	}
}

int
main(void)
{
	RUN(test_sha256_vectors);
	RUN(test_hex);
	RUN(test_base64);
	RUN(test_sign_verify);
	RUN(test_pem);
	RUN(test_merkle);
	return TEST_DONE();
}
