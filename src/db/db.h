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
