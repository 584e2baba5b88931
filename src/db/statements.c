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
};
