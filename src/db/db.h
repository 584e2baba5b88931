/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store. One struct db is one connection with every statement of
 * statements.c prepared; it belongs to one thread at a time (each FastCGI
 * worker owns one). All SQL is prepared with bound parameters.
 *
 * Errors: -ENOENT (no such row), -EEXIST (unique constraint), -EBUSY (locked
 * past the busy timeout), -EPROTO (schema newer than this binary),
 * -ESTALE (schema older: run "mc-admin db migrate"), -EIO (anything else).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct db;

enum user_role {
	ROLE_ADMIN,
	ROLE_OWNER,
	_ROLE_MAX,
	_ROLE_INVALID = -1,
};

/* "admin"/"owner" (API, JWT) */
const char *user_role_to_string(enum user_role r);
enum user_role user_role_from_string(const char *s);
/* "ADMIN"/"OWNER" (stored) */
const char *user_role_to_db(enum user_role r);
enum user_role user_role_from_db(const char *s);

/* Highest migration this binary knows. */
int db_schema_version_known(void);

/*
 * Open (creating if missing when create is true) and check the schema
 * version: equal → ok; newer → -EPROTO; older → -ESTALE.
 */
int db_open(const char *path, struct db **ret);
struct db *db_close(struct db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct db *, db_close);

/* Apply pending migrations in one transaction. Sets the versions seen. */
int db_migrate(const char *path, int *ret_from, int *ret_to);

struct db_user {
	int64_t id;
	char *username;
	char *hashed_password;
	enum user_role role;
	char *created_at;		/* stored text, "YYYY-MM-DD HH:MM:SS.ffffff" */
	int64_t created_at_usec;	/* parsed; naive means UTC */
};

void db_user_done(struct db_user *u);

int db_user_get_by_name(struct db *db, const char *username, struct db_user *ret);
int db_user_get_by_id(struct db *db, int64_t id, struct db_user *ret);
/* created_at_usec is stored with six fractional digits. -EEXIST on a taken name. */
int db_user_insert(struct db *db, const char *username, const char *hash,
    enum user_role role, int64_t created_at_usec, struct db_user *ret);
int db_user_delete(struct db *db, int64_t id);
int db_user_set_password(struct db *db, const char *username, const char *hash);
/* Calls cb for each user in id order; a negative cb result stops and is returned. */
int db_user_foreach(struct db *db, int (*cb)(const struct db_user *u, void *userdata),
    void *userdata);

/* ---- login codes (API-core §7.2, §17.1; src/db/login-codes.c) ---- */

/* One verified row: the socket (row id) and the user to log in. */
struct db_login_verified {
	int64_t id;
	int64_t user_id;
};

/* Remove every row (mc-admin-ws at start: earlier sockets are gone). */
int db_login_code_clear(struct db *db);
/* A row for a new socket: 0 and *ret_id, -EEXIST when code is taken. */
int db_login_code_insert(struct db *db, const char *code, int64_t expires_usec,
    int64_t *ret_id);
/* Replace the code of row id (a pending verification stays): 0, -ENOENT, -EEXIST. */
int db_login_code_rotate(struct db *db, int64_t id, const char *code, int64_t expires_usec);
/* The socket closed: 0 or -ENOENT. */
int db_login_code_delete(struct db *db, int64_t id);
/*
 * verifyCode: mark the row holding code (not expired at now_usec) with
 * user_id. 0, -ENOENT (no open socket holds that code), -errno.
 */
int db_login_code_verify(struct db *db, const char *code, int64_t user_id, int64_t now_usec);
/*
 * Up to n marked rows into ret; returns how many (0…n) or -errno.
 * db_login_code_take() then clears the mark if it is still that user's:
 * 1 when taken, 0 when it changed meanwhile (a later verification), -errno.
 */
int db_login_code_verified(struct db *db, struct db_login_verified *ret, size_t n);
int db_login_code_take(struct db *db, int64_t id, int64_t user_id);

/* ---- upload sessions (API-core §13.9; src/db/uploads.c) ---- */

struct db_upload_session {
	char *conflicts;	/* JSON array text */
	char *policy;		/* JSON object text, NULL until set */
	bool reusable;
};

void db_upload_session_done(struct db_upload_session *s);
/* Delete sessions expired at now_usec. Returns how many, or -errno. */
int db_upload_session_purge(struct db *db, int64_t now_usec);
/* 0, -EEXIST (id taken), -errno. */
int db_upload_session_insert(struct db *db, const char *id, const char *conflicts_json,
    int64_t created_usec, int64_t expires_usec);
/* The live session id at now_usec: 0 and *ret, -ENOENT (unknown or expired), -errno. */
int db_upload_session_get(struct db *db, const char *id, int64_t now_usec,
    struct db_upload_session *ret);
/* Store the policy (overwrites): 0, -ENOENT (unknown or expired), -errno. */
int db_upload_session_set_policy(struct db *db, const char *id, const char *policy_json,
    bool reusable, int64_t now_usec);
/* Single use: 0 when this call deleted it, -ENOENT when it was gone already. */
int db_upload_session_delete(struct db *db, const char *id);
