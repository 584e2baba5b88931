/* SPDX-License-Identifier: MIT */
/*
 * The login_code table (sql/002-login-codes.sql): written by mc-admin-ws
 * (insert, rotate, delete, take) and by verifyCode in mc-admin-api (verify).
 */
#include "autoconf.h"

#include <errno.h>

#include "db/db-internal.h"

int
db_login_code_clear(struct db *db)
{
	int r = db_step_change(db, db->stmt[STMT_LOGIN_CODE_CLEAR]);

	return r == -ENOENT ? 0 : r;
}

int
db_login_code_insert(struct db *db, const char *code, int64_t expires_usec, int64_t *ret_id)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_INSERT];
	int64_t id;
	int rc;

	if (sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, expires_usec) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return db_errno(rc == SQLITE_DONE ? SQLITE_ERROR :
		    sqlite3_extended_errcode(db->conn));
	id = sqlite3_column_int64(s, 0);
	/* run RETURNING to completion so the insert is done before we answer */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		return db_errno(sqlite3_extended_errcode(db->conn));
	*ret_id = id;
	return 0;
}

int
db_login_code_rotate(struct db *db, int64_t id, const char *code, int64_t expires_usec)
{
	sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_ROTATE];

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, expires_usec) != SQLITE_OK) {
		stmt_resetp(&s);
		return -EIO;
	}
	return db_step_change(db, s);
}

int
db_login_code_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_DELETE];

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		stmt_resetp(&s);
		return -EIO;
	}
	return db_step_change(db, s);
}

int
db_login_code_verify(struct db *db, const char *code, int64_t user_id, int64_t now_usec)
{
	sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_VERIFY];

	if (sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, user_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, now_usec) != SQLITE_OK) {
		stmt_resetp(&s);
		return -EIO;
	}
	return db_step_change(db, s);
}

int
db_login_code_verified(struct db *db, struct db_login_verified *ret, size_t n)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_VERIFIED];
	size_t i = 0;
	int rc = SQLITE_DONE;

	while (i < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret[i].id = sqlite3_column_int64(s, 0);
		ret[i].user_id = sqlite3_column_int64(s, 1);
		i++;
	}
	if (i < n && rc != SQLITE_DONE)
		return db_errno(sqlite3_extended_errcode(db->conn));
	return (int)i;
}

int
db_login_code_take(struct db *db, int64_t id, int64_t user_id)
{
	sqlite3_stmt *s = db->stmt[STMT_LOGIN_CODE_TAKE];
	int r;

	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, user_id) != SQLITE_OK) {
		stmt_resetp(&s);
		return -EIO;
	}
	r = db_step_change(db, s);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}
