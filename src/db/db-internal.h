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
	_STMT_MAX,
};

extern const char *const db_statements[_STMT_MAX];

struct db {
	sqlite3 *conn;
	sqlite3_stmt *stmt[_STMT_MAX];
};

/* Translate an SQLite result code into -errno (SQLITE_OK/ROW/DONE → 0). */
int db_errno(int rc);

/* Reset and clear bindings: use with _cleanup_(stmt_resetp). */
static inline void
stmt_resetp(sqlite3_stmt **s)
{
	if (*s) {
		(void)sqlite3_reset(*s);
		(void)sqlite3_clear_bindings(*s);
	}
}
