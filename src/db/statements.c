/* SPDX-License-Identifier: MIT */
/* Every SQL statement of the program, prepared once per connection at open,
 * so a bad statement stops the boot instead of a request. */
#include "autoconf.h"

#include "db/db-internal.h"

#define USER_COLS "id, username, hashed_password, role, created_at"

const char *const db_statements[_STMT_MAX] = {
	[STMT_USER_BY_NAME] = "SELECT " USER_COLS " FROM user WHERE username = ?1",
	[STMT_USER_BY_ID] = "SELECT " USER_COLS " FROM user WHERE id = ?1",
	[STMT_USER_INSERT] = "INSERT INTO user (username, hashed_password, role, created_at) "
	    "VALUES (?1, ?2, ?3, ?4) RETURNING " USER_COLS,
	[STMT_USER_DELETE] = "DELETE FROM user WHERE id = ?1",
	[STMT_USER_SET_PASSWORD] = "UPDATE user SET hashed_password = ?2 WHERE username = ?1",
	[STMT_USER_LIST] = "SELECT " USER_COLS " FROM user ORDER BY id",
	/* login codes (issue #4): rows belong to mc-admin-ws, verifyCode marks them */
	[STMT_LOGIN_CODE_CLEAR] = "DELETE FROM login_code",
	[STMT_LOGIN_CODE_INSERT] = "INSERT INTO login_code (code, expires_at) VALUES (?1, ?2) "
	    "RETURNING id",
	[STMT_LOGIN_CODE_ROTATE] = "UPDATE login_code SET code = ?2, expires_at = ?3 WHERE id = ?1",
	[STMT_LOGIN_CODE_DELETE] = "DELETE FROM login_code WHERE id = ?1",
	[STMT_LOGIN_CODE_VERIFY] = "UPDATE login_code SET user_id = ?2 "
	    "WHERE code = ?1 AND expires_at > ?3",
	[STMT_LOGIN_CODE_VERIFIED] = "SELECT id, user_id FROM login_code WHERE user_id IS NOT NULL",
	[STMT_LOGIN_CODE_TAKE] = "UPDATE login_code SET user_id = NULL WHERE id = ?1 AND user_id = ?2",
	/* upload sessions (issue #5): §13.9's three steps, expiry fixed at creation */
	[STMT_UPLOAD_SESSION_PURGE] = "DELETE FROM upload_session WHERE expires_at <= ?1",
	[STMT_UPLOAD_SESSION_INSERT] = "INSERT INTO upload_session (id, conflicts, created_at, "
	    "expires_at) VALUES (?1, ?2, ?3, ?4)",
	[STMT_UPLOAD_SESSION_GET] = "SELECT conflicts, policy, reusable FROM upload_session "
	    "WHERE id = ?1 AND expires_at > ?2",
	[STMT_UPLOAD_SESSION_SET_POLICY] = "UPDATE upload_session SET policy = ?2, reusable = ?3 "
	    "WHERE id = ?1 AND expires_at > ?4",
	[STMT_UPLOAD_SESSION_DELETE] = "DELETE FROM upload_session WHERE id = ?1",
};
