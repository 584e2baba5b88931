/* SPDX-License-Identifier: MIT */
/* Configuration: precedence (defaults < YAML < environment < credentials) and errors. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "config/conf.h"
#include "helpers.h"

static struct tmpdir *td;

static void
setup(void)
{
	td = tmpdir_new();
}

static void
teardown(void)
{
	td = tmpdir_free(td);
}

static const char base_yaml[] =
	"master_token: file-master\n"
	"server_path: /srv/mc\n"
	"jwt:\n"
	"  secret_key: file-secret\n"
	"  access_token_expire_minutes: 60\n"
	"audit:\n"
	"  max_body_size: 2048\n";

/* Load td/config.yaml with the given environment. */
static int
load(const char *yaml, char **env, struct config **ret, char **err)
{
	_cleanup_free_ char *path = tmpdir_join(td, "config.yaml");

	if (yaml)
		tmpdir_write(td, "config.yaml", yaml);
	return config_load(path, env, ret, err);
}

START_TEST(test_defaults)
{
	struct config *c = NULL;
	char *env[] = { NULL };

	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	ck_assert_str_eq(c->master_token, "file-master");
	ck_assert_str_eq(c->jwt.secret_key, "file-secret");
	ck_assert_str_eq(c->jwt.algorithm, "HS256");
	ck_assert_int_eq(c->jwt.access_token_expire_minutes, 60);
	ck_assert_str_eq(c->database_path, "./db.sqlite3");
	ck_assert_str_eq(c->static_path, "static");
	ck_assert_str_eq(c->cgroup_path, "/sys/fs/cgroup");
	ck_assert_str_eq(c->logs_dir, "logs");
	ck_assert_str_eq(c->archive_path, "archives");
	ck_assert(c->audit.enabled);
	ck_assert(c->audit.log_request_body);
	ck_assert_str_eq(c->audit.log_file, "operations.log");
	ck_assert_int_eq(c->audit.max_body_size, 2048);
	ck_assert_str_eq(c->audit.sensitive_fields[0], "password");
	ck_assert_str_eq(c->audit.sensitive_fields[3], "key");
	ck_assert_ptr_null(c->audit.sensitive_fields[4]);
	ck_assert(!c->restic.present);
	ck_assert_int_eq(c->api.workers, 64);
	config_free(c);
}
END_TEST

START_TEST(test_env_overrides_file)
{
	struct config *c = NULL;
	char *env[] = {
		"MASTER_TOKEN=env-master",
		"jwt__Secret_Key=env-secret",		/* names are case-insensitive */
		"AUDIT__ENABLED=off",
		"AUDIT__SENSITIVE_FIELDS=[\"pw\",\"apikey\"]",
		"DATABASE_URL=sqlite:////var/lib/x.db",
		"UNRELATED_VARIABLE=1",			/* ignored */
		"PATH=/usr/bin",
		NULL,
	};

	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	ck_assert_str_eq(c->master_token, "env-master");
	ck_assert_str_eq(c->jwt.secret_key, "env-secret");
	ck_assert(!c->audit.enabled);
	ck_assert_str_eq(c->audit.sensitive_fields[0], "pw");
	ck_assert_str_eq(c->audit.sensitive_fields[1], "apikey");
	ck_assert_ptr_null(c->audit.sensitive_fields[2]);
	ck_assert_str_eq(c->database_path, "/var/lib/x.db");
	config_free(c);
}
END_TEST

START_TEST(test_env_json_section)
{
	struct config *c = NULL;
	char *env[] = {
		"JWT={\"secret_key\":\"json-secret\",\"algorithm\":\"HS512\"}",
		"RESTIC={\"repository_path\":\"/backup/repo\",\"password\":null}",
		NULL,
	};

	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	ck_assert_str_eq(c->jwt.secret_key, "json-secret");
	ck_assert_str_eq(c->jwt.algorithm, "HS512");
	/* keys of the section not in the JSON keep their file values */
	ck_assert_int_eq(c->jwt.access_token_expire_minutes, 60);
	ck_assert(c->restic.present);
	ck_assert_str_eq(c->restic.repository_path, "/backup/repo");
	ck_assert_ptr_null(c->restic.password);
	config_free(c);
}
END_TEST

START_TEST(test_credentials_win)
{
	struct config *c = NULL;
	_cleanup_free_ char *credenv = NULL;
	char *env[] = { "MASTER_TOKEN=env-master", NULL, NULL };

	tmpdir_write(td, "creds/master_token", "cred-master\n");
	tmpdir_write(td, "creds/jwt_secret_key", "cred-secret");
	ck_assert_int_ge(asprintf(&credenv, "CREDENTIALS_DIRECTORY=%s/creds", td->path), 0);
	env[1] = credenv;
	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	ck_assert_str_eq(c->master_token, "cred-master");	/* trailing newline dropped */
	ck_assert_str_eq(c->jwt.secret_key, "cred-secret");
	config_free(c);
}
END_TEST

START_TEST(test_database_path_wins)
{
	struct config *c = NULL;
	char *env[] = { "DATABASE_PATH=/data/mc.sqlite3", "DATABASE_URL=sqlite:///other.db", NULL };

	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	ck_assert_str_eq(c->database_path, "/data/mc.sqlite3");
	config_free(c);
}
END_TEST

START_TEST(test_missing_file_ok_from_default_env)
{
	struct config *c = NULL;
	char *err = NULL;
	char *env[] = { "MC_ADMIN_CONFIG=/nonexistent/config.yaml", "MASTER_TOKEN=m",
		"SERVER_PATH=/s", "JWT__SECRET_KEY=k", NULL };

	/* a file named explicitly must exist */
	ck_assert_int_eq(config_load(NULL, env, &c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/config.yaml"));
	free(err);
}
END_TEST

struct bad_case {
	const char *yaml;
	const char *env0;
	const char *expect;	/* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\nbogus: 1\n", NULL,
	  "config.yaml:5: unknown key 'bogus'" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\n  nope: 2\n", NULL,
	  "config.yaml:5: unknown key 'jwt.nope'" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\n  access_token_expire_minutes: x\n",
	  NULL, "config.yaml:5: key 'jwt.access_token_expire_minutes' expects an integer" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\naudit:\n  enabled: maybe\n", NULL,
	  "config.yaml:6: key 'audit.enabled' expects a boolean" },
	{ "master_token: m\nserver_path: /s\njwt: 3\n", NULL, "config.yaml:3: key 'jwt' expects a mapping" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\naudit:\n  sensitive_fields: x\n",
	  NULL, "expects a list of strings" },
	{ "master_token: m\njwt:\n  secret_key: k\n", NULL, "required setting 'server_path' is missing" },
	{ "server_path: /s\njwt:\n  secret_key: k\n", NULL, "required setting 'master_token' is missing" },
	{ "master_token: m\nserver_path: /s\n", NULL, "required setting 'jwt.secret_key' is missing" },
	{ "master_token: [\n", NULL, "YAML error" },
	{ "- a\n- b\n", NULL, "top level must be a mapping" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\n  algorithm: RS256\n", NULL,
	  "jwt.algorithm must be HS256" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\ndatabase_url: postgres://x\n", NULL,
	  "database_url must look like" },
	{ "master_token: m\nserver_path: /s\njwt:\n  secret_key: k\nrestic:\n  password: p\n", NULL,
	  "restic.repository_path is required" },
	{ base_yaml, "JWT__ACCESS_TOKEN_EXPIRE_MINUTES=-5",
	  "environment variable JWT__ACCESS_TOKEN_EXPIRE_MINUTES: key 'jwt.access_token_expire_minutes'" },
	{ base_yaml, "AUDIT__SENSITIVE_FIELDS=password", "expects JSON" },
	{ base_yaml, "JWT={\"secret_key\":\"x\",\"zzz\":1}", "unknown key 'jwt.zzz'" },
	{ base_yaml, "MASTER_TOKEN=", "required setting 'master_token' is missing" },
};

START_TEST(test_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct config *c = NULL;
	char *err = NULL;
	char *env[] = { (char *)bc->env0, NULL };

	ck_assert_int_lt(load(bc->yaml, env, &c, &err), 0);
	ck_assert_ptr_null(c);
	ck_assert_msg(err && strstr(err, bc->expect), "case %d: got '%s', want '%s'", _i,
	    err ? err : "(null)", bc->expect);
	free(err);
}
END_TEST

START_TEST(test_dump_masks_secrets)
{
	struct config *c = NULL;
	char *env[] = { "RESTIC__REPOSITORY_PATH=/r", "RESTIC__PASSWORD=restic-pw", NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(load(base_yaml, env, &c, NULL), 0);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(config_dump(c, f), 0);
	fclose(f);
	ck_assert_ptr_null(strstr(buf, "file-master"));
	ck_assert_ptr_null(strstr(buf, "file-secret"));
	ck_assert_ptr_null(strstr(buf, "restic-pw"));
	ck_assert_ptr_nonnull(strstr(buf, "master_token: \"***MASKED***\""));
	ck_assert_ptr_nonnull(strstr(buf, "repository_path: \"/r\""));
	free(buf);
	config_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	SRunner *sr;
	int nfailed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_env_overrides_file);
	tcase_add_test(tc, test_env_json_section);
	tcase_add_test(tc, test_credentials_win);
	tcase_add_test(tc, test_database_path_wins);
	tcase_add_test(tc, test_missing_file_ok_from_default_env);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_dump_masks_secrets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
