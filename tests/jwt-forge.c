/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "jwt-forge.h"

static char *
b64(const void *p, size_t n)
{
	char *out = malloc(n * 4 / 3 + 8);

	ck_assert_ptr_nonnull(out);
	base64url_encode(p, n, out);
	return out;
}

char *
jwt_forge(const char *header_json, const char *payload_json, const char *alg, const char *key)
{
	char *h = b64(header_json, strlen(header_json));
	char *p = b64(payload_json, strlen(payload_json));
	char *signing, *sig, *tok;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const EVP_MD *md = NULL;

	ck_assert_int_ge(asprintf(&signing, "%s.%s", h, p), 0);
	if (strcmp(alg, "HS256") == 0)
		md = EVP_sha256();
	else if (strcmp(alg, "HS384") == 0)
		md = EVP_sha384();
	else if (strcmp(alg, "HS512") == 0)
		md = EVP_sha512();
	if (md)
		ck_assert_ptr_nonnull(HMAC(md, key, (int)strlen(key), (unsigned char *)signing,
		    strlen(signing), mac, &maclen));
	sig = b64(mac, maclen);
	ck_assert_int_ge(asprintf(&tok, "%s.%s", signing, sig), 0);
	free(h);
	free(p);
	free(signing);
	free(sig);
	return tok;
}
