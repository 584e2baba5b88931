/* SPDX-License-Identifier: MIT */
/* db/: migrations on a real SQLite file, every statement prepared, user rows. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "db/db-internal.h"
#include "helpers.h"

static struct tmpdir *td;
static char *dbpath;

static void
setup(void)
{
	td = tmpdir_new();
	dbpath = tmpdir_join(td, "db.sqlite3");
}

static void
teardown(void)
{
	free(dbpath);
	td = tmpdir_free(td);
}

/* Run raw SQL with the sqlite3 API (test setup only). */
static void
raw_sql(const char *sql)
{
	sqlite3 *c;

	ck_assert_int_eq(sqlite3_open(dbpath, &c), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(c);
}

static int
raw_int(const char *sql)
{
	sqlite3 *c;
	sqlite3_stmt *s;
	int v;

	ck_assert_int_eq(sqlite3_open(dbpath, &c), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(c, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(c);
	return v;
}

START_TEST(test_migrate_from_empty_and_rerun)
{
	int from = -1, to = -1;
	struct db *db = NULL;

	ck_assert_int_eq(db_open(dbpath, &db), -ESTALE);	/* empty file: version 0 */
	ck_assert_int_eq(db_migrate(dbpath, &from, &to), 0);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(to, db_schema_version_known());
	ck_assert_int_eq(db_migrate(dbpath, &from, &to), 0);
	ck_assert_int_eq(from, to);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), db_schema_version_known());
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'ix_user_username'"),
	    1);
	/* WAL is persistent in the file */
	ck_assert_int_eq(raw_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	/* db_open prepares every statement of statements.c: a bad one fails here */
	ck_assert_int_eq(db_open(dbpath, &db), 0);
	for (size_t i = 0; i < _STMT_MAX; i++)
		ck_assert_ptr_nonnull(db->stmt[i]);
	db_close(db);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct db *db = NULL;

	ck_assert_int_eq(db_migrate(dbpath, NULL, NULL), 0);
	raw_sql("PRAGMA user_version = 999");
	ck_assert_int_eq(db_open(dbpath, &db), -EPROTO);
	ck_assert_int_eq(db_migrate(dbpath, NULL, NULL), -EPROTO);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), 999);
}
END_TEST

START_TEST(test_adopts_reference_database)
{
	struct db *db = NULL;
	struct db_user u = { 0 };

	/* the reference creates the tables itself and never sets user_version */
	raw_sql("CREATE TABLE user (id INTEGER NOT NULL, username VARCHAR(50) NOT NULL, "
	    "hashed_password VARCHAR(255) NOT NULL, role VARCHAR(5) NOT NULL, "
	    "created_at DATETIME NOT NULL, PRIMARY KEY (id));"
	    "CREATE UNIQUE INDEX ix_user_username ON user (username);"
	    "INSERT INTO user VALUES (1, 'ref', '$2b$12$x', 'OWNER', '2025-09-23 10:20:30.123456');");
	ck_assert_int_eq(db_migrate(dbpath, NULL, NULL), 0);
	ck_assert_int_eq(db_open(dbpath, &db), 0);
	ck_assert_int_eq(db_user_get_by_name(db, "ref", &u), 0);
	ck_assert_int_eq(u.id, 1);
	ck_assert_int_eq(u.role, ROLE_OWNER);
	ck_assert_int_eq(u.created_at_usec, 1758622830123456LL);
	db_user_done(&u);
	db_close(db);
}
END_TEST

static int
count_cb(const struct db_user *u, void *userdata)
{
	int *n = userdata;

	ck_assert_int_eq(u->id, *n + 1);	/* id order */
	(*n)++;
	return 0;
}

START_TEST(test_users)
{
	struct db *db = NULL;
	struct db_user u = { 0 }, v = { 0 };
	int n = 0;

	ck_assert_int_eq(db_migrate(dbpath, NULL, NULL), 0);
	ck_assert_int_eq(db_open(dbpath, &db), 0);
	ck_assert_int_eq(db_user_insert(db, "alice", "$2b$12$h1", ROLE_OWNER, 1758622830000000LL, &u),
	    0);
	ck_assert_int_eq(u.id, 1);
	ck_assert_str_eq(u.created_at, "2025-09-23 10:20:30.000000");
	ck_assert_int_eq(db_user_insert(db, "bob", "$2b$12$h2", ROLE_ADMIN, 1758622831000000LL, NULL), 0);
	/* unique username, case-sensitive */
	ck_assert_int_eq(db_user_insert(db, "alice", "x", ROLE_ADMIN, 0, NULL), -EEXIST);
	ck_assert_int_eq(db_user_insert(db, "Alice", "x", ROLE_ADMIN, 0, NULL), 0);
	ck_assert_int_eq(raw_int("SELECT role = 'OWNER' FROM user WHERE username = 'alice'"), 1);

	ck_assert_int_eq(db_user_get_by_id(db, 2, &v), 0);
	ck_assert_str_eq(v.username, "bob");
	ck_assert_int_eq(v.role, ROLE_ADMIN);
	db_user_done(&v);
	ck_assert_int_eq(db_user_get_by_name(db, "nobody", &v), -ENOENT);
	ck_assert_int_eq(db_user_set_password(db, "bob", "$2b$12$new"), 0);
	ck_assert_int_eq(db_user_set_password(db, "nobody", "x"), -ENOENT);
	ck_assert_int_eq(db_user_get_by_name(db, "bob", &v), 0);
	ck_assert_str_eq(v.hashed_password, "$2b$12$new");
	db_user_done(&v);

	ck_assert_int_eq(db_user_foreach(db, count_cb, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(db_user_delete(db, 2), 0);
	ck_assert_int_eq(db_user_delete(db, 2), -ENOENT);
	ck_assert_int_eq(db_user_get_by_id(db, 2, &v), -ENOENT);
	db_user_done(&u);
	db_close(db);
}
END_TEST

START_TEST(test_roles)
{
	ck_assert_str_eq(user_role_to_string(ROLE_ADMIN), "admin");
	ck_assert_str_eq(user_role_to_db(ROLE_OWNER), "OWNER");
	ck_assert_int_eq(user_role_from_string("owner"), ROLE_OWNER);
	ck_assert_int_eq(user_role_from_string("OWNER"), _ROLE_INVALID);
	ck_assert_int_eq(user_role_from_db("ADMIN"), ROLE_ADMIN);
	ck_assert_int_eq(user_role_from_db("admin"), _ROLE_INVALID);
	ck_assert_ptr_null(user_role_to_string(_ROLE_INVALID));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("sqlite");
	SRunner *sr;
	int nfailed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_from_empty_and_rerun);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_adopts_reference_database);
	tcase_add_test(tc, test_users);
	tcase_add_test(tc, test_roles);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
