/* SPDX-License-Identifier: MIT */
/*
 * Credentials: bcrypt password hashes (libcrypt), HS256/384/512 JWTs
 * (libjwt), the master token, and a per-client login attempt limiter.
 * jwt.h and crypt.h are included only in this module.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define AUTH_BCRYPT_COST 12
#define AUTH_USERNAME_MAX 255

/* Who a request runs as (API-core §4). */
struct identity {
	int64_t id;				/* 0 for SYSTEM */
	char username[AUTH_USERNAME_MAX + 1];
	enum user_role role;
	char created_at[40];			/* API form: "…Z", or naive local for SYSTEM */
	bool system;				/* master token */
	int64_t expires_usec;			/* JWT exp; 0 for SYSTEM */
};

struct auth;

/* secret/master are copied. alg: "HS256", "HS384" or "HS512". */
int auth_new(const char *jwt_secret, const char *alg, int64_t expire_minutes,
    const char *master_token, struct auth **ret);
struct auth *auth_free(struct auth *a);

/* Constant-time comparison of two NUL-terminated secrets of any lengths. */
bool auth_secret_equal(const char *a, const char *b);
bool auth_is_master(const struct auth *a, const char *token);
void auth_identity_system(struct identity *ret, int64_t now_usec);

/* bcrypt "$2b$<cost>$…". *ret is malloc'd. 0, -EINVAL (cost), -ENOMEM, -EIO. */
int auth_password_hash(const char *password, unsigned cost, char **ret);
/* 1 when password matches hash ($2a$/$2b$/$2y$), 0 when not, -EINVAL for a bad hash. */
int auth_password_verify(const char *password, const char *hash);
/* Burn the time of one verification (unknown users), so timing tells nothing.
 * Returns what auth_password_verify() returned (0 unless something is broken). */
int auth_password_dummy_verify(const char *password);

/*
 * Issue a JWT with the claims of API-core §4.4 for user u (created_at from
 * the row), expiring now + expire_minutes. *ret is malloc'd.
 */
int auth_token_issue(const struct auth *a, const struct db_user *u, int64_t now_usec,
    char **ret);

/*
 * Verify signature (configured algorithm only), claim presence and types,
 * role, created_at and exp (> now). Returns 0 and fills *ret, or -ENOKEY for
 * any invalid token (never anything else: library failures are "invalid").
 * *ret_created_usec receives the created_at claim for the database check.
 */
int auth_token_verify(const struct auth *a, const char *token, int64_t now_usec,
    struct identity *ret, int64_t *ret_created_usec);

/*
 * A small cache of verified tokens, owned by one worker thread (no locking).
 * The frontend sends the same token with every request; a hit skips the
 * signature and JSON work but still honours exp. The caller still checks
 * the user row (revocation) every time.
 */
struct auth_cache;

int auth_cache_new(struct auth_cache **ret);
struct auth_cache *auth_cache_free(struct auth_cache *c);
/* auth_token_verify() through the cache (c may be NULL). Same results. */
int auth_token_verify_cached(const struct auth *a, struct auth_cache *c, const char *token,
    int64_t now_usec, struct identity *ret, int64_t *ret_created_usec);

/*
 * The credential check of the API's bearer tokens and the console's token
 * (API-core §4.1, §4.6): the master token gives SYSTEM; otherwise the JWT
 * is verified (through cache, which may be NULL), and its user must still
 * exist with the same id, name and creation time, so that deleting a user
 * revokes their tokens even when a later user gets the same id. Returns 0
 * and fills *ret, -EKEYREJECTED for a token that does not pass, or another
 * -errno from the database (the caller maps -EKEYREJECTED to its status).
 */
int auth_credential_check(const struct auth *a, struct auth_cache *cache, struct db *db,
    const char *token, int64_t now_usec, struct identity *ret);

/* ---- login attempt limiter ---- */

struct login_limiter;

/* attempts == 0 disables the limiter. */
int login_limiter_new(unsigned attempts, unsigned window_seconds, struct login_limiter **ret);
struct login_limiter *login_limiter_free(struct login_limiter *l);
/* 0 when client may try; otherwise the seconds to wait (Retry-After). */
unsigned login_limiter_check(struct login_limiter *l, const char *client, int64_t now_usec);
void login_limiter_fail(struct login_limiter *l, const char *client, int64_t now_usec);
void login_limiter_success(struct login_limiter *l, const char *client);
