/* Hex and base64 text encodings of byte strings. */
#include <string.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"

void
cr_hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cr_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *outlen)
{
	if (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
		hex += 2;
		hexlen -= 2;
	}
	if (hexlen % 2 != 0)
		return CH_E_BAD_ENCODING;
	if (hexlen / 2 > cap)
		return CH_E_TOO_LARGE;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return CH_E_BAD_ENCODING;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen != NULL)
		*outlen = hexlen / 2;
	return 0;
}

int
cr_hex_decode_exact(const char *hex, uint8_t *out, size_t n)
{
	size_t len = 0;
	int rc = cr_hex_decode(hex, strlen(hex), out, n, &len);
	if (rc == CH_E_TOO_LARGE || (rc == 0 && len != n))
		return CH_E_BAD_ENCODING;
	return rc;
}

void
cr_base64_encode(const void *data, size_t len, char *out)
{
	if (len == 0) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

static bool
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int
cr_base64_decode(const char *b64, size_t b64len, uint8_t *out, size_t cap, size_t *outlen)
{
	if (b64len % 4 != 0 || b64len > (size_t)INT32_MAX)
		return CH_E_BAD_ENCODING;
	size_t pad = 0;
	if (b64len > 0 && b64[b64len - 1] == '=')
		pad++;
	if (b64len > 1 && b64[b64len - 2] == '=')
		pad++;
	for (size_t i = 0; i < b64len - pad; i++)
		if (!b64_char(b64[i]))
			return CH_E_BAD_ENCODING;
	size_t n = b64len / 4 * 3 - pad;
	if (n > cap)
		return CH_E_TOO_LARGE;
	if (b64len > 0) {
		/* EVP_DecodeBlock writes whole groups of three, padding included. */
		uint8_t tmp[3];
		size_t whole = b64len - (pad ? 4 : 0);
		if (whole > 0 && EVP_DecodeBlock(out, (const unsigned char *)b64, (int)whole) < 0)
			return CH_E_BAD_ENCODING;
		if (pad) {
			if (EVP_DecodeBlock(tmp, (const unsigned char *)b64 + whole, 4) < 0)
				return CH_E_BAD_ENCODING;
			memcpy(out + whole / 4 * 3, tmp, 3 - pad);
		}
	}
	if (outlen != NULL)
		*outlen = n;
	return 0;
}
