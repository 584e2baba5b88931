/* SPDX-License-Identifier: MIT */
/* auth/: bcrypt through libcrypt, JWT verification, master token, limiter. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/util.h"
#include "jwt-forge.h"

#define KEY "unit-test-secret"
#define NOW 1758622830000000LL		/* 2025-09-23T10:20:30Z */

static struct auth *a;

static void
setup(void)
{
	ck_assert_int_eq(auth_new(KEY, "HS256", 60, "the-master-token", &a), 0);
}

static void
teardown(void)
{
	a = auth_free(a);
}

START_TEST(test_bcrypt_reference_hashes)
{
	/* made by Python's bcrypt (what the reference uses) and by Apache htpasswd */
	ck_assert_int_eq(auth_password_verify("Test123!",
	    "$2b$12$MVS6KwDsWY3jlc3u4Y1Mw.xzSgRyMpy5Yp9xj6kUmqob1X8VitiCi"), 1);
	ck_assert_int_eq(auth_password_verify("Test123!",
	    "$2y$12$MBH0rEzEXrAq8ukNA1LBKeYPWS2CcvoZeGwEtnuFNk4ONjN9LFpKK"), 1);
	ck_assert_int_eq(auth_password_verify("Test123?",
	    "$2b$12$MVS6KwDsWY3jlc3u4Y1Mw.xzSgRyMpy5Yp9xj6kUmqob1X8VitiCi"), 0);
	/* OpenBSD/Openwall $2a$ vector */
	ck_assert_int_eq(auth_password_verify("U*U",
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"), 1);
	ck_assert_int_eq(auth_password_verify("x", "$1$md5crypt$hash"), -EINVAL);
	ck_assert_int_eq(auth_password_verify("x", "plain"), -EINVAL);
	ck_assert_int_eq(auth_password_verify("x", NULL), -EINVAL);
	/* the timing decoy must be a hash libcrypt accepts */
	ck_assert_int_eq(auth_password_dummy_verify("anything"), 0);
}
END_TEST

START_TEST(test_bcrypt_roundtrip)
{
	char *h = NULL, big[101];

	ck_assert_int_eq(auth_password_hash("s3cret", 4, &h), 0);
	ck_assert(startswith(h, "$2b$04$"));
	ck_assert_int_eq(strlen(h), 60);
	ck_assert_int_eq(auth_password_verify("s3cret", h), 1);
	ck_assert_int_eq(auth_password_verify("s3cre", h), 0);
	free(h);
	/* bcrypt uses the first 72 bytes only */
	memset(big, 'a', 100);
	big[100] = '\0';
	ck_assert_int_eq(auth_password_hash(big, 4, &h), 0);
	big[72] = '\0';
	ck_assert_int_eq(auth_password_verify(big, h), 1);
	big[71] = '\0';
	ck_assert_int_eq(auth_password_verify(big, h), 0);
	free(h);
	ck_assert_int_eq(auth_password_hash("x", 3, &h), -EINVAL);
}
END_TEST

static struct db_user
user(void)
{
	return (struct db_user){ .id = 7, .username = "alice", .role = ROLE_OWNER,
		.created_at_usec = 1758622830123456LL };
}

START_TEST(test_issue_verify)
{
	struct db_user u = user();
	struct identity id;
	int64_t created = 0;
	char *tok = NULL;

	ck_assert_int_eq(auth_token_issue(a, &u, NOW, &tok), 0);
	ck_assert_int_eq(auth_token_verify(a, tok, NOW + 1000000, &id, &created), 0);
	ck_assert_int_eq(id.id, 7);
	ck_assert_str_eq(id.username, "alice");
	ck_assert_int_eq(id.role, ROLE_OWNER);
	ck_assert_str_eq(id.created_at, "2025-09-23T10:20:30.123456Z");
	ck_assert_int_eq(created, 1758622830123456LL);
	ck_assert(!id.system);
	/* expired after 60 minutes */
	ck_assert_int_eq(auth_token_verify(a, tok, NOW + 3600LL * 1000000 + 1, &id, NULL), -ENOKEY);
	free(tok);
}
END_TEST

START_TEST(test_wrong_key_and_tamper)
{
	struct db_user u = user();
	struct auth *other = NULL;
	struct identity id;
	char *tok = NULL;
	size_t l;

	ck_assert_int_eq(auth_new("another-key", "HS256", 60, NULL, &other), 0);
	ck_assert_int_eq(auth_token_issue(other, &u, NOW, &tok), 0);
	ck_assert_int_eq(auth_token_verify(a, tok, NOW, &id, NULL), -ENOKEY);
	free(tok);
	auth_free(other);

	ck_assert_int_eq(auth_token_issue(a, &u, NOW, &tok), 0);
	l = strlen(tok);
	tok[l - 2] = tok[l - 2] == 'A' ? 'B' : 'A';	/* flip the signature */
	ck_assert_int_eq(auth_token_verify(a, tok, NOW, &id, NULL), -ENOKEY);
	free(tok);
}
END_TEST

struct forged {
	const char *header;
	const char *payload;
	const char *alg;
	int expect;
};

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS(exp) "{\"sub\":\"bob\",\"user_id\":3,\"username\":\"bob\",\"role\":\"admin\"," \
	"\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":" exp "}"

static const struct forged forged[] = {
	/* the reference writes exp as a float */
	{ HDR, CLAIMS("1760000000.123456"), "HS256", 0 },
	{ HDR, CLAIMS("1760000000"), "HS256", 0 },
	{ HDR, CLAIMS("1758622830"), "HS256", -ENOKEY },		/* exp == now */
	{ HDR, CLAIMS("1758622829.999"), "HS256", -ENOKEY },		/* past */
	{ HDR, CLAIMS("\"1760000000\""), "HS256", -ENOKEY },		/* string exp */
	{ "{\"alg\":\"none\",\"typ\":\"JWT\"}", CLAIMS("1760000000"), "none", -ENOKEY },
	{ "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", CLAIMS("1760000000"), "HS512", -ENOKEY },
	{ "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", CLAIMS("1760000000"), "HS384", -ENOKEY },
	{ "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", CLAIMS("1760000000"), "HS256", -ENOKEY },
	{ "{\"typ\":\"JWT\"}", CLAIMS("1760000000"), "HS256", -ENOKEY },
	{ HDR, "{\"sub\":\"bob\",\"user_id\":3,\"username\":\"bob\",\"role\":\"admin\","
	  "\"created_at\":\"2025-09-23T10:20:30+00:00\"}", "HS256", -ENOKEY },	/* no exp */
	{ HDR, "{\"sub\":\"bob\",\"user_id\":\"3\",\"username\":\"bob\",\"role\":\"admin\","
	  "\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":1760000000}", "HS256", -ENOKEY },
	{ HDR, "{\"sub\":\"bob\",\"user_id\":3,\"username\":\"bob\",\"role\":\"root\","
	  "\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":1760000000}", "HS256", -ENOKEY },
	{ HDR, "{\"sub\":\"bob\",\"user_id\":3,\"username\":\"bob\",\"role\":\"admin\","
	  "\"created_at\":\"yesterday\",\"exp\":1760000000}", "HS256", -ENOKEY },
	{ HDR, "{\"user_id\":3,\"username\":\"bob\",\"role\":\"admin\","
	  "\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":1760000000}", "HS256", -ENOKEY },
	{ HDR, "[1,2,3]", "HS256", -ENOKEY },
	{ HDR, "not json", "HS256", -ENOKEY },
};

START_TEST(test_forged_tokens)
{
	const struct forged *f = &forged[_i];
	char *tok = jwt_forge(f->header, f->payload, f->alg, KEY);
	struct identity id;

	ck_assert_msg(auth_token_verify(a, tok, NOW, &id, NULL) == f->expect, "case %d", _i);
	if (f->expect == 0) {
		ck_assert_str_eq(id.username, "bob");
		ck_assert_int_eq(id.role, ROLE_ADMIN);
		ck_assert_str_eq(id.created_at, "2025-09-23T10:20:30Z");
	}
	free(tok);
}
END_TEST

START_TEST(test_garbage_tokens)
{
	static const char *const junk[] = { "", ".", "..", "a.b.c", "abc", "eyJ.eyJ.",
		"Bearer x", "\xff\xfe.\x01.\x02" };
	struct identity id;

	for (size_t i = 0; i < ELEMENTSOF(junk); i++)
		ck_assert_int_eq(auth_token_verify(a, junk[i], NOW, &id, NULL), -ENOKEY);
}
END_TEST

START_TEST(test_cache)
{
	struct db_user u = user();
	struct auth_cache *c = NULL;
	struct identity id, id2;
	int64_t created = 0;
	char *tok = NULL, *tok2 = NULL;

	ck_assert_int_eq(auth_cache_new(&c), 0);
	ck_assert_int_eq(auth_token_issue(a, &u, NOW, &tok), 0);
	/* miss, then hit: same identity */
	ck_assert_int_eq(auth_token_verify_cached(a, c, tok, NOW, &id, &created), 0);
	ck_assert_int_eq(auth_token_verify_cached(a, c, tok, NOW, &id2, &created), 0);
	ck_assert_int_eq(memcmp(&id, &id2, sizeof(id)), 0);
	ck_assert_int_eq(created, 1758622830123456LL);
	ck_assert_int_eq(id.expires_usec, NOW + 3600LL * 1000000);
	/* a cached token still expires */
	ck_assert_int_eq(auth_token_verify_cached(a, c, tok, NOW + 3601LL * 1000000, &id, NULL),
	    -ENOKEY);
	/* a token one character off is not a hit */
	tok2 = strdup(tok);
	tok2[strlen(tok2) - 1] ^= 1;
	ck_assert_int_eq(auth_token_verify_cached(a, c, tok2, NOW, &id, NULL), -ENOKEY);
	/* many tokens: the cache stays bounded and still answers right */
	for (int i = 0; i < 40; i++) {
		char *t = NULL;

		u.id = 100 + i;
		ck_assert_int_eq(auth_token_issue(a, &u, NOW, &t), 0);
		ck_assert_int_eq(auth_token_verify_cached(a, c, t, NOW, &id, NULL), 0);
		ck_assert_int_eq(id.id, 100 + i);
		free(t);
	}
	ck_assert_int_eq(auth_token_verify_cached(a, NULL, tok, NOW, &id, NULL), 0);
	free(tok);
	free(tok2);
	auth_cache_free(c);
}
END_TEST

START_TEST(test_master)
{
	struct identity id;

	ck_assert(auth_is_master(a, "the-master-token"));
	ck_assert(!auth_is_master(a, "the-master-toke"));
	ck_assert(!auth_is_master(a, "the-master-token "));
	ck_assert(!auth_is_master(a, ""));
	ck_assert(auth_secret_equal("abc", "abc"));
	ck_assert(!auth_secret_equal("abc", "abcd"));
	auth_identity_system(&id, NOW);
	ck_assert_int_eq(id.id, 0);
	ck_assert_str_eq(id.username, "SYSTEM");
	ck_assert_int_eq(id.role, ROLE_OWNER);
	ck_assert(id.system);
	ck_assert_ptr_null(strchr(id.created_at, 'Z'));	/* naive local time */
	ck_assert_int_eq(auth_new(KEY, "RS256", 60, NULL, &(struct auth *){ NULL }), -EINVAL);
}
END_TEST

START_TEST(test_limiter)
{
	struct login_limiter *l = NULL;
	const int64_t s = 1000000;

	ck_assert_int_eq(login_limiter_new(3, 60, &l), 0);
	ck_assert_int_eq(login_limiter_check(l, "1.2.3.4", NOW), 0);
	login_limiter_fail(l, "1.2.3.4", NOW);
	login_limiter_fail(l, "1.2.3.4", NOW + s);
	ck_assert_int_eq(login_limiter_check(l, "1.2.3.4", NOW + 2 * s), 0);
	login_limiter_fail(l, "1.2.3.4", NOW + 2 * s);
	ck_assert_uint_eq(login_limiter_check(l, "1.2.3.4", NOW + 10 * s), 50);
	ck_assert_uint_eq(login_limiter_check(l, "5.6.7.8", NOW + 10 * s), 0);	/* per client */
	ck_assert_uint_eq(login_limiter_check(l, "1.2.3.4", NOW + 60 * s), 0);	/* window over */
	login_limiter_fail(l, "9.9.9.9", NOW);
	login_limiter_success(l, "9.9.9.9");
	login_limiter_fail(l, "9.9.9.9", NOW);
	login_limiter_fail(l, "9.9.9.9", NOW);
	ck_assert_uint_eq(login_limiter_check(l, "9.9.9.9", NOW), 0);	/* success reset it */
	/* many clients: memory stays bounded, the newest are tracked */
	for (int i = 0; i < 5000; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		login_limiter_fail(l, ip, NOW + i);
	}
	login_limiter_free(l);
	ck_assert_int_eq(login_limiter_new(0, 60, &l), 0);	/* disabled */
	for (int i = 0; i < 10; i++)
		login_limiter_fail(l, "x", NOW);
	ck_assert_uint_eq(login_limiter_check(l, "x", NOW), 0);
	login_limiter_free(l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");
	SRunner *sr;
	int nfailed;

	tcase_set_timeout(tc, 30);	/* bcrypt cost 12 under valgrind */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bcrypt_reference_hashes);
	tcase_add_test(tc, test_bcrypt_roundtrip);
	tcase_add_test(tc, test_issue_verify);
	tcase_add_test(tc, test_wrong_key_and_tamper);
	tcase_add_loop_test(tc, test_forged_tokens, 0, (int)ELEMENTSOF(forged));
	tcase_add_test(tc, test_garbage_tokens);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_master);
	tcase_add_test(tc, test_limiter);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
