/* SPDX-License-Identifier: MIT */
#pragma once

#include <sqlite3.h>

#include "db/db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration db_migrations[];
extern const size_t db_n_migrations;

enum stmt_id {
	STMT_USER_BY_NAME,
	STMT_USER_BY_ID,
	STMT_USER_INSERT,
	STMT_USER_DELETE,
	STMT_USER_SET_PASSWORD,
	STMT_USER_LIST,
	/* login codes (issue #4, src/db/login-codes.c) */
	STMT_LOGIN_CODE_CLEAR,
	STMT_LOGIN_CODE_INSERT,
	STMT_LOGIN_CODE_ROTATE,
	STMT_LOGIN_CODE_DELETE,
	STMT_LOGIN_CODE_VERIFY,
	STMT_LOGIN_CODE_VERIFIED,
	STMT_LOGIN_CODE_TAKE,
	/* upload sessions (issue #5, src/db/uploads.c) */
	STMT_UPLOAD_SESSION_PURGE,
	STMT_UPLOAD_SESSION_INSERT,
	STMT_UPLOAD_SESSION_GET,
	STMT_UPLOAD_SESSION_SET_POLICY,
	STMT_UPLOAD_SESSION_DELETE,
	_STMT_MAX,
};

extern const char *const db_statements[_STMT_MAX];

struct db {
	sqlite3 *conn;
	sqlite3_stmt *stmt[_STMT_MAX];
};

/* Translate an SQLite result code into -errno (SQLITE_OK/ROW/DONE → 0). */
int db_errno(int rc);

/*
 * Step a statement that returns no rows, then reset it and clear its
 * bindings. db_step_changes() returns the number of rows changed;
 * db_step_change() returns 0 when a row changed and -ENOENT when none did.
 * Both return -errno on failure (-EEXIST for a unique constraint).
 */
int db_step_changes(struct db *db, sqlite3_stmt *s);
int db_step_change(struct db *db, sqlite3_stmt *s);

/* Reset and clear bindings: use with _cleanup_(stmt_resetp). */
static inline void
stmt_resetp(sqlite3_stmt **s)
{
	if (*s) {
		(void)sqlite3_reset(*s);
		(void)sqlite3_clear_bindings(*s);
	}
}
