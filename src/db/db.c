/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "db/db-internal.h"

#define BUSY_TIMEOUT_MS 5000

static const char *const role_api[_ROLE_MAX] = { [ROLE_ADMIN] = "admin", [ROLE_OWNER] = "owner" };
static const char *const role_db[_ROLE_MAX] = { [ROLE_ADMIN] = "ADMIN", [ROLE_OWNER] = "OWNER" };

const char *
user_role_to_string(enum user_role r)
{
	return r >= 0 && r < _ROLE_MAX ? role_api[r] : NULL;
}

enum user_role
user_role_from_string(const char *s)
{
	for (int i = 0; s && i < _ROLE_MAX; i++)
		if (streq(s, role_api[i]))
			return (enum user_role)i;
	return _ROLE_INVALID;
}

const char *
user_role_to_db(enum user_role r)
{
	return r >= 0 && r < _ROLE_MAX ? role_db[r] : NULL;
}

enum user_role
user_role_from_db(const char *s)
{
	for (int i = 0; s && i < _ROLE_MAX; i++)
		if (streq(s, role_db[i]))
			return (enum user_role)i;
	return _ROLE_INVALID;
}

int
db_schema_version_known(void)
{
	return (int)db_n_migrations;
}

int
db_errno(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_BUSY_SNAPSHOT:
	case SQLITE_BUSY_TIMEOUT:
		return -EBUSY;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_READONLY:
		return -EROFS;
	default:
		return -EIO;
	}
}

/* One statement with no parameters and no rows we care about. */
static int
exec_one(sqlite3 *conn, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(conn, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		do
			rc = sqlite3_step(s);
		while (rc == SQLITE_ROW);
	}
	if (rc != SQLITE_DONE)
		log_debug("sqlite: '%s': %s", sql, sqlite3_errmsg(conn));
	(void)sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_errno(sqlite3_extended_errcode(conn));
}

static int
user_version(sqlite3 *conn, int *ret)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(conn, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(s, 0);
	(void)sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_errno(rc);
}

static int
connect(const char *path, sqlite3 **ret)
{
	static const char *const pragmas[] = {
		"PRAGMA foreign_keys = ON",
		"PRAGMA synchronous = NORMAL",	/* safe with WAL: durable at checkpoints */
	};
	sqlite3 *conn = NULL;
	int rc, r;

	rc = sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = db_errno(rc);
		log_debug("sqlite: cannot open '%s': %s", path, conn ? sqlite3_errmsg(conn) : "");
		(void)sqlite3_close_v2(conn);
		return r;
	}
	(void)sqlite3_extended_result_codes(conn, 1);
	(void)sqlite3_busy_timeout(conn, BUSY_TIMEOUT_MS);
	(void)sqlite3_db_config(conn, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(conn, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* WAL is persistent in the file; setting it needs write access once. */
	r = exec_one(conn, "PRAGMA journal_mode = WAL");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(pragmas); i++)
		r = exec_one(conn, pragmas[i]);
	if (r < 0) {
		(void)sqlite3_close_v2(conn);
		return r;
	}
	*ret = conn;
	return 0;
}

struct db *
db_close(struct db *db)
{
	if (!db)
		return NULL;
	for (size_t i = 0; i < _STMT_MAX; i++)
		(void)sqlite3_finalize(db->stmt[i]);
	(void)sqlite3_close_v2(db->conn);
	free(db);
	return NULL;
}

int
db_open(const char *path, struct db **ret)
{
	_cleanup_(db_closep) struct db *db = NULL;
	int version, r;

	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	r = connect(path, &db->conn);
	if (r < 0)
		return r;
	r = user_version(db->conn, &version);
	if (r < 0)
		return r;
	if (version > db_schema_version_known())
		return -EPROTO;
	if (version < db_schema_version_known())
		return -ESTALE;
	for (size_t i = 0; i < _STMT_MAX; i++) {
		int rc = sqlite3_prepare_v3(db->conn, db_statements[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &db->stmt[i], NULL);

		if (rc != SQLITE_OK) {
			log_error("cannot prepare statement %zu: %s", i, sqlite3_errmsg(db->conn));
			return -EIO;
		}
	}
	*ret = TAKE_PTR(db);
	return 0;
}

int
db_migrate(const char *path, int *ret_from, int *ret_to)
{
	sqlite3 *conn = NULL;
	int from = 0, r;

	r = connect(path, &conn);
	if (r < 0)
		return r;
	/* IMMEDIATE: two processes migrating at once serialise here */
	r = exec_one(conn, "BEGIN IMMEDIATE");
	if (r < 0)
		goto out;
	r = user_version(conn, &from);
	if (r < 0)
		goto rollback;
	if (from > db_schema_version_known()) {
		r = -EPROTO;
		goto rollback;
	}
	for (size_t i = (size_t)from; i < db_n_migrations; i++) {
		char *err = NULL, pragma[64];

		/* migrations are trusted multi-statement files from sql/, not input */
		if (sqlite3_exec(conn, db_migrations[i].sql, NULL, NULL, &err) != SQLITE_OK) {
			log_error("migration %s failed: %s", db_migrations[i].name, err ? err : "?");
			sqlite3_free(err);
			r = -EIO;
			goto rollback;
		}
		(void)snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    db_migrations[i].version);
		r = exec_one(conn, pragma);
		if (r < 0)
			goto rollback;
	}
	r = exec_one(conn, "COMMIT");
	if (r < 0)
		goto rollback;
	if (ret_from)
		*ret_from = from;
	if (ret_to)
		*ret_to = from > db_schema_version_known() ? from : db_schema_version_known();
	goto out;
rollback:
	(void)exec_one(conn, "ROLLBACK");
out:
	(void)sqlite3_close_v2(conn);
	return r;
}

/* ---- users -------------------------------------------------------------- */

void
db_user_done(struct db_user *u)
{
	if (!u)
		return;
	free(u->username);
	if (u->hashed_password)
		explicit_bzero(u->hashed_password, strlen(u->hashed_password));
	free(u->hashed_password);
	free(u->created_at);
	*u = (struct db_user){ 0 };
}

static char *
col_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return strdup(t ? (const char *)t : "");
}

static int
user_from_row(sqlite3_stmt *s, struct db_user *ret)
{
	struct db_user u = { 0 };

	u.id = sqlite3_column_int64(s, 0);
	u.username = col_strdup(s, 1);
	u.hashed_password = col_strdup(s, 2);
	u.role = user_role_from_db((const char *)sqlite3_column_text(s, 3));
	u.created_at = col_strdup(s, 4);
	if (!u.username || !u.hashed_password || !u.created_at) {
		db_user_done(&u);
		return -ENOMEM;
	}
	if (u.role == _ROLE_INVALID || parse_iso_datetime(u.created_at, &u.created_at_usec) < 0) {
		log_debug("user %lld has an invalid role or created_at, ignoring it",
		    (long long)u.id);
		db_user_done(&u);
		return -EIO;
	}
	*ret = u;
	return 0;
}

static int
user_get(struct db *db, sqlite3_stmt *s, struct db_user *ret)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *st = s;
	int rc;

	(void)db;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return db_errno(rc);
	return user_from_row(st, ret);
}

int
db_user_get_by_name(struct db *db, const char *username, struct db_user *ret)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_BY_NAME];

	if (sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	return user_get(db, s, ret);
}

int
db_user_get_by_id(struct db *db, int64_t id, struct db_user *ret)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_BY_ID];

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
		return -EIO;
	return user_get(db, s, ret);
}

int
db_user_insert(struct db *db, const char *username, const char *hash, enum user_role role,
    int64_t created_at_usec, struct db_user *ret)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *s = db->stmt[STMT_USER_INSERT];
	char created[40];
	struct db_user u;
	int rc, r;

	if (fmt_db_utc(created, sizeof(created), created_at_usec) < 0)
		return -EINVAL;
	if (sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, user_role_to_db(role), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, created, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return db_errno(rc == SQLITE_DONE ? SQLITE_ERROR : sqlite3_extended_errcode(db->conn));
	r = user_from_row(s, &u);
	if (r < 0)
		return r;
	/* finish the statement so the insert is committed before we return */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		db_user_done(&u);
		return db_errno(sqlite3_extended_errcode(db->conn));
	}
	if (ret)
		*ret = u;
	else
		db_user_done(&u);
	return 0;
}

int
db_step_changes(struct db *db, sqlite3_stmt *s)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *st = s;
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		return db_errno(sqlite3_extended_errcode(db->conn));
	return sqlite3_changes(db->conn);
}

int
db_step_change(struct db *db, sqlite3_stmt *s)
{
	int r = db_step_changes(db, s);

	if (r < 0)
		return r;
	return r > 0 ? 0 : -ENOENT;
}

int
db_user_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_DELETE];

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
		return -EIO;
	return db_step_change(db, s);
}

int
db_user_set_password(struct db *db, const char *username, const char *hash)
{
	sqlite3_stmt *s = db->stmt[STMT_USER_SET_PASSWORD];

	if (sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	return db_step_change(db, s);
}

int
db_user_foreach(struct db *db, int (*cb)(const struct db_user *u, void *userdata),
    void *userdata)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *s = db->stmt[STMT_USER_LIST];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_user u;
		int r = user_from_row(s, &u);

		if (r == -EIO)
			continue;	/* a row the reference could not have written */
		if (r < 0)
			return r;
		r = cb(&u, userdata);
		db_user_done(&u);
		if (r < 0)
			return r;
	}
	return rc == SQLITE_DONE ? 0 : db_errno(sqlite3_extended_errcode(db->conn));
}
