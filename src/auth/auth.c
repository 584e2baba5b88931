/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <crypt.h>
#include <errno.h>
#include <jwt.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

struct auth {
	unsigned char *key;
	size_t key_len;
	jwt_alg_t alg;
	int64_t expire_usec;
	char *master;
	unsigned char master_digest[32];	/* SHA-256 of master, compared per request */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(jwt_t *, jwt_free);

int
auth_new(const char *jwt_secret, const char *alg, int64_t expire_minutes,
    const char *master_token, struct auth **ret)
{
	struct auth *a;
	jwt_alg_t al = jwt_str_alg(alg);

	if (al != JWT_ALG_HS256 && al != JWT_ALG_HS384 && al != JWT_ALG_HS512)
		return -EINVAL;
	if (!jwt_secret || !*jwt_secret || expire_minutes <= 0)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->key_len = strlen(jwt_secret);
	a->key = (unsigned char *)strdup(jwt_secret);
	a->master = master_token ? strdup(master_token) : NULL;
	a->alg = al;
	a->expire_usec = expire_minutes * 60 * 1000000;
	if (!a->key || (master_token && !a->master) ||
	    (a->master && !SHA256((const unsigned char *)a->master, strlen(a->master),
	    a->master_digest))) {
		auth_free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

struct auth *
auth_free(struct auth *a)
{
	if (!a)
		return NULL;
	if (a->key)
		explicit_bzero(a->key, a->key_len);
	if (a->master)
		explicit_bzero(a->master, strlen(a->master));
	free(a->key);
	free(a->master);
	explicit_bzero(a, sizeof(*a));
	free(a);
	return NULL;
}

bool
auth_secret_equal(const char *a, const char *b)
{
	unsigned char da[32], db[32];

	/* compare digests of equal length in constant time: the time tells
	 * neither where the secrets differ nor how long they are */
	if (!a || !b || !SHA256((const unsigned char *)a, strlen(a), da) ||
	    !SHA256((const unsigned char *)b, strlen(b), db))
		return false;
	return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

bool
auth_is_master(const struct auth *a, const char *token)
{
	unsigned char d[32];

	if (!a->master || !*a->master || !token)
		return false;
	/* digests of equal length, compared in constant time: neither the
	 * master token's length nor its content shows in the timing */
	if (!SHA256((const unsigned char *)token, strlen(token), d))
		return false;
	return CRYPTO_memcmp(d, a->master_digest, sizeof(d)) == 0;
}

void
auth_identity_system(struct identity *ret, int64_t now_usec)
{
	*ret = (struct identity){ .id = 0, .role = ROLE_OWNER, .system = true };
	memcpy(ret->username, "SYSTEM", sizeof("SYSTEM"));
	(void)fmt_iso_local(ret->created_at, sizeof(ret->created_at), now_usec);
}

/* ---- passwords ---------------------------------------------------------- */

int
auth_password_hash(const char *password, unsigned cost, char **ret)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *out;
	char *h;

	if (cost < 4 || cost > 31)
		return -EINVAL;
	/* rbytes == NULL: libcrypt takes the salt from the kernel CSPRNG */
	if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)))
		return -EIO;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	out = crypt_rn(password, salt, cd, sizeof(*cd));
	if (!out || out[0] != '$') {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
		return -EIO;
	}
	h = strdup(out);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (!h)
		return -ENOMEM;
	*ret = h;
	return 0;
}

int
auth_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	int r;

	if (!hash || !(startswith(hash, "$2a$") || startswith(hash, "$2b$") ||
	    startswith(hash, "$2y$")))
		return -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	out = crypt_rn(password, hash, cd, sizeof(*cd));
	if (!out || out[0] != '$')
		r = -EINVAL;
	else
		r = strlen(out) == strlen(hash) &&
		    CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int
auth_password_dummy_verify(const char *password)
{
	/* a valid cost-12 hash of a random string nobody knows */
	static const char dummy[] =
	    "$2b$12$C6UzMDM.H6dfI/f/IKxGhuSj6R3OKJkPxzNCj0ciT9ZyrxHB0rTJ2";

	return auth_password_verify(password, dummy);
}

/* ---- tokens ------------------------------------------------------------- */

int
auth_token_issue(const struct auth *a, const struct db_user *u, int64_t now_usec, char **ret)
{
	_cleanup_(jwt_freep) jwt_t *jwt = NULL;
	char created[48], expjson[64], expnum[40];
	int64_t exp = now_usec + a->expire_usec;
	char *tok, *copy;

	if (fmt_iso_utc_offset(created, sizeof(created), u->created_at_usec) < 0)
		return -EINVAL;
	/* the reference writes exp as a float with microseconds */
	(void)snprintf(expnum, sizeof(expnum), "%lld.%06lld", (long long)(exp / 1000000),
	    (long long)(exp % 1000000));
	(void)snprintf(expjson, sizeof(expjson), "{\"exp\":%s}", expnum);
	if (jwt_new(&jwt) != 0)
		return -ENOMEM;
	if (jwt_add_grant(jwt, "sub", u->username) != 0 ||
	    jwt_add_grant_int(jwt, "user_id", (long)u->id) != 0 ||
	    jwt_add_grant(jwt, "username", u->username) != 0 ||
	    jwt_add_grant(jwt, "role", user_role_to_string(u->role)) != 0 ||
	    jwt_add_grant(jwt, "created_at", created) != 0 ||
	    jwt_add_grants_json(jwt, expjson) != 0 ||
	    jwt_set_alg(jwt, a->alg, a->key, (int)a->key_len) != 0)
		return -EIO;
	tok = jwt_encode_str(jwt);
	if (!tok)
		return -EIO;
	copy = strdup(tok);
	free(tok);	/* libjwt 1.10 allocates with the default allocator */
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

/* The header's "alg" must be ours before any signature work (no alg:none,
 * no HS/RS confusion); libjwt checks the signature after. */
static bool
header_alg_ok(const struct auth *a, const char *token)
{
	_cleanup_(json_object_putp) json_object *h = NULL;
	const char *dot = strchr(token, '.');
	json_object *alg;
	size_t n, o = 0;
	char *buf;
	bool ok;

	if (!dot || dot == token || (size_t)(dot - token) > 1024)
		return false;
	n = (size_t)(dot - token);
	buf = malloc(n + 4);
	if (!buf)
		return false;
	/* base64url → base64 with padding, then decode */
	for (size_t i = 0; i < n; i++)
		buf[o++] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
	while (o % 4)
		buf[o++] = '=';
	{
		unsigned char out[1024];
		int l = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)o);

		free(buf);
		if (l < 0)
			return false;
		/* EVP_DecodeBlock counts padding bytes as zeros: trim them */
		while (l > 0 && out[l - 1] == '\0')
			l--;
		h = json_tokener_parse(strndupa((const char *)out, (size_t)l));
	}
	if (!h || !json_object_object_get_ex(h, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string))
		return false;
	ok = streq(json_object_get_string(alg), jwt_alg_str(a->alg));
	return ok;
}

int
auth_token_verify(const struct auth *a, const char *token, int64_t now_usec,
    struct identity *ret, int64_t *ret_created_usec)
{
	_cleanup_(jwt_freep) jwt_t *jwt = NULL;
	_cleanup_(json_object_putp) json_object *claims = NULL;
	json_object *sub, *uid, *uname, *role, *created, *exp;
	struct identity id = { 0 };
	int64_t created_usec;
	char *grants;
	double expv;

	if (!token || strlen(token) > 8192 || !header_alg_ok(a, token))
		return -ENOKEY;
	if (jwt_decode(&jwt, token, a->key, (int)a->key_len) != 0 || !jwt)
		return -ENOKEY;
	if (jwt_get_alg(jwt) != a->alg)
		return -ENOKEY;
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants)
		return -ENOKEY;
	claims = json_tokener_parse(grants);
	free(grants);
	if (!claims || !json_object_is_type(claims, json_type_object))
		return -ENOKEY;

	if (!json_object_object_get_ex(claims, "sub", &sub) ||
	    !json_object_object_get_ex(claims, "user_id", &uid) ||
	    !json_object_object_get_ex(claims, "username", &uname) ||
	    !json_object_object_get_ex(claims, "role", &role) ||
	    !json_object_object_get_ex(claims, "created_at", &created) ||
	    !json_object_object_get_ex(claims, "exp", &exp))
		return -ENOKEY;
	if (!json_object_is_type(sub, json_type_string) ||
	    !json_object_is_type(uid, json_type_int) ||
	    !json_object_is_type(uname, json_type_string) ||
	    !json_object_is_type(role, json_type_string) ||
	    !json_object_is_type(created, json_type_string) ||
	    !(json_object_is_type(exp, json_type_int) || json_object_is_type(exp, json_type_double)))
		return -ENOKEY;

	expv = json_object_get_double(exp);
	if (!isfinite(expv) || expv * 1e6 <= (double)now_usec)
		return -ENOKEY;
	if (parse_iso_datetime(json_object_get_string(created), &created_usec) < 0)
		return -ENOKEY;
	id.role = user_role_from_string(json_object_get_string(role));
	if (id.role == _ROLE_INVALID)
		return -ENOKEY;
	if (json_object_get_string_len(uname) > AUTH_USERNAME_MAX)
		return -ENOKEY;
	id.id = json_object_get_int64(uid);
	memcpy(id.username, json_object_get_string(uname),
	    (size_t)json_object_get_string_len(uname) + 1);
	if (fmt_iso_utc_z(id.created_at, sizeof(id.created_at), created_usec) < 0)
		return -ENOKEY;
	id.expires_usec = expv >= 9.2e12 ? INT64_MAX : (int64_t)(expv * 1e6);
	*ret = id;
	if (ret_created_usec)
		*ret_created_usec = created_usec;
	return 0;
}

/* ---- per-thread cache of verified tokens -------------------------------- */

#define AUTH_CACHE_SLOTS 16

struct cache_slot {
	uint64_t hash;
	char *token;
	size_t len;
	struct identity id;
	int64_t created_usec;
};

struct auth_cache {
	struct cache_slot slots[AUTH_CACHE_SLOTS];
	unsigned next;		/* round-robin replacement */
};

int
auth_cache_new(struct auth_cache **ret)
{
	struct auth_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

struct auth_cache *
auth_cache_free(struct auth_cache *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		free(c->slots[i].token);
	free(c);
	return NULL;
}

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

int
auth_token_verify_cached(const struct auth *a, struct auth_cache *c, const char *token,
    int64_t now_usec, struct identity *ret, int64_t *ret_created_usec)
{
	struct cache_slot *slot;
	int64_t created;
	size_t len;
	uint64_t h;
	char *copy;
	int r;

	if (!c || !token)
		return auth_token_verify(a, token, now_usec, ret, ret_created_usec);
	len = strlen(token);
	h = fnv1a(token, len);
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
		slot = &c->slots[i];
		/* the hash only picks the slot; the comparison is constant-time */
		if (!slot->token || slot->hash != h || slot->len != len ||
		    CRYPTO_memcmp(slot->token, token, len) != 0)
			continue;
		if (slot->id.expires_usec <= now_usec)
			return -ENOKEY;
		*ret = slot->id;
		if (ret_created_usec)
			*ret_created_usec = slot->created_usec;
		return 0;
	}
	r = auth_token_verify(a, token, now_usec, ret, &created);
	if (r < 0)
		return r;
	if (ret_created_usec)
		*ret_created_usec = created;
	copy = strndup(token, len);
	if (!copy)
		return 0;	/* verified; just not cached */
	slot = &c->slots[c->next++ % AUTH_CACHE_SLOTS];
	free(slot->token);
	*slot = (struct cache_slot){ .hash = h, .token = copy, .len = len, .id = *ret,
		.created_usec = created };
	return 0;
}

int
auth_credential_check(const struct auth *a, struct auth_cache *cache, struct db *db,
    const char *token, int64_t now_usec, struct identity *ret)
{
	struct db_user u = { 0 };
	struct identity id;
	int64_t created;
	int r;

	if (auth_is_master(a, token)) {
		auth_identity_system(ret, now_usec);
		return 0;
	}
	if (auth_token_verify_cached(a, cache, token, now_usec, &id, &created) < 0)
		return -EKEYREJECTED;
	r = db_user_get_by_id(db, id.id, &u);
	if (r == -ENOENT)
		return -EKEYREJECTED;
	if (r < 0)
		return r;
	/* a later user got the id of a deleted one */
	r = streq(u.username, id.username) && u.created_at_usec == created ? 0 : -EKEYREJECTED;
	db_user_done(&u);
	if (r < 0)
		return r;
	*ret = id;
	return 0;
}
