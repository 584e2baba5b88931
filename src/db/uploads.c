/* SPDX-License-Identifier: MIT */
/*
 * The upload_session table (sql/003-upload-sessions.sql) behind the
 * multi-file upload protocol (API-core §13.9).
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/db-internal.h"

void
db_upload_session_done(struct db_upload_session *s)
{
	if (!s)
		return;
	free(s->conflicts);
	free(s->policy);
	*s = (struct db_upload_session){ 0 };
}

int
db_upload_session_purge(struct db *db, int64_t now_usec)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_SESSION_PURGE];

	if (sqlite3_bind_int64(s, 1, now_usec) != SQLITE_OK)
		return -EIO;
	return db_step_changes(db, s);
}

int
db_upload_session_insert(struct db *db, const char *id, const char *conflicts_json,
    int64_t created_usec, int64_t expires_usec)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_SESSION_INSERT];
	int r;

	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, conflicts_json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, created_usec) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, expires_usec) != SQLITE_OK) {
		(void)sqlite3_clear_bindings(s);
		return -EIO;
	}
	r = db_step_changes(db, s);
	return r < 0 ? r : 0;
}

int
db_upload_session_get(struct db *db, const char *id, int64_t now_usec,
    struct db_upload_session *ret)
{
	_cleanup_(stmt_resetp) sqlite3_stmt *s = db->stmt[STMT_UPLOAD_SESSION_GET];
	struct db_upload_session u = { 0 };
	const unsigned char *t;
	int rc;

	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, now_usec) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return db_errno(sqlite3_extended_errcode(db->conn));
	t = sqlite3_column_text(s, 0);
	u.conflicts = strdup(t ? (const char *)t : "[]");
	if (!u.conflicts)
		return -ENOMEM;
	t = sqlite3_column_text(s, 1);
	if (t) {
		u.policy = strdup((const char *)t);
		if (!u.policy) {
			db_upload_session_done(&u);
			return -ENOMEM;
		}
	}
	u.reusable = sqlite3_column_int(s, 2) != 0;
	*ret = u;
	return 0;
}

int
db_upload_session_set_policy(struct db *db, const char *id, const char *policy_json,
    bool reusable, int64_t now_usec)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_SESSION_SET_POLICY];
	int r;

	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, policy_json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(s, 3, reusable ? 1 : 0) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, now_usec) != SQLITE_OK) {
		(void)sqlite3_clear_bindings(s);
		return -EIO;
	}
	r = db_step_changes(db, s);
	if (r < 0)
		return r;
	return r > 0 ? 0 : -ENOENT;
}

int
db_upload_session_delete(struct db *db, const char *id)
{
	sqlite3_stmt *s = db->stmt[STMT_UPLOAD_SESSION_DELETE];
	int r;

	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	r = db_step_changes(db, s);
	if (r < 0)
		return r;
	return r > 0 ? 0 : -ENOENT;
}
