/* SPDX-License-Identifier: MIT */
/*
 * The API pipeline driven in memory (h2o's loopback idea): real SQLite file,
 * real audit file, no FastCGI. Checks the order of checks (§1.4), auth,
 * users, CORS and what the audit log records.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"
#include "apitest.h"
#include "jwt-forge.h"

#define MASTER "master-token-for-tests"
#define SECRET "jwt-secret-for-tests"

static struct apitest bench;

static void
setup(void)
{
	static const char *const env[] = {
		"MASTER_TOKEN=" MASTER, "JWT__SECRET_KEY=" SECRET, "API__LOGIN_ATTEMPTS=3", NULL,
	};

	apitest_setup(&bench, env, true);
}

static void
teardown(void)
{
	apitest_teardown(&bench);
}

/* call("POST", "/api/x", body, "CONTENT_TYPE=…", "HTTP_AUTHORIZATION=…", NULL) */
static struct api_result
call(const char *method, const char *path, const char *body, ...)
{
	struct api_result r;
	va_list ap;

	va_start(ap, body);
	r = apitest_callv(&bench, method, path, body, body ? strlen(body) : 0, 0, NULL, ap);
	va_end(ap);
	return r;
}

static void
add_user(const char *name, const char *pw, enum user_role role)
{
	char *h = NULL;

	ck_assert_int_eq(auth_password_hash(pw, 4, &h), 0);
	ck_assert_int_eq(db_user_insert(bench.db, name, h, role, now_realtime_usec(), NULL), 0);
	free(h);
}

static char *
login(const char *name, const char *pw)
{
	char *body, *tok;
	struct api_result r;

	ck_assert_int_ge(asprintf(&body, "username=%s&password=%s", name, pw), 0);
	r = call("POST", "/api/auth/token", body,
	    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
	free(body);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "token_type"), "bearer");
	tok = strdup(api_jstr(&r, "access_token"));
	api_result_done(&r);
	return tok;
}

static char *
bearer(const char *tok)
{
	char *h;

	ck_assert_int_ge(asprintf(&h, "HTTP_AUTHORIZATION=Bearer %s", tok), 0);
	return h;
}

static int
user_count(void)
{
	struct api_result r = call("GET", "/api/admin/users", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER,
	    NULL);
	int n;

	ck_assert_int_eq(r.status, 200);
	n = (int)json_object_array_length(r.json);
	api_result_done(&r);
	return n;
}

START_TEST(test_login_and_me)
{
	char *tok, *auth;
	struct api_result r;

	add_user("alice", "pw-alice", ROLE_OWNER);
	tok = login("alice", "pw-alice");
	auth = bearer(tok);
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "username"), "alice");
	ck_assert_str_eq(api_jstr(&r, "role"), "owner");
	ck_assert(startswith(r.body, "{\"username\":\"alice\",\"role\":\"owner\",\"id\":1,\"created_at\":\""));
	ck_assert(r.body[strlen(r.body) - 3] == 'Z');
	api_result_done(&r);

	/* scheme word is case-insensitive */
	auth[strlen("HTTP_AUTHORIZATION=")] = 'b';
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 200);
	api_result_done(&r);
	free(auth);
	free(tok);
}
END_TEST

START_TEST(test_master_is_system_owner)
{
	struct api_result r = call("GET", "/api/user/me", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);

	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "username"), "SYSTEM");
	ck_assert_str_eq(api_jstr(&r, "role"), "owner");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(r.json, "id")), 0);
	ck_assert_ptr_null(strchr(api_jstr(&r, "created_at"), 'Z'));
	api_result_done(&r);
}
END_TEST

static const struct {
	const char *header;
	const char *detail;
} unauth[] = {
	{ NULL, "Not authenticated" },
	{ "HTTP_AUTHORIZATION=", "Not authenticated" },
	{ "HTTP_AUTHORIZATION=Basic YTpi", "Not authenticated" },
	{ "HTTP_AUTHORIZATION=Bearer", "Not authenticated" },
	{ "HTTP_AUTHORIZATION=Bearer ", "Could not validate credentials" },
	{ "HTTP_AUTHORIZATION=Bearer garbage", "Could not validate credentials" },
	{ "HTTP_AUTHORIZATION=Bearer  " MASTER, "Could not validate credentials" },	/* not trimmed */
};

START_TEST(test_unauthenticated)
{
	struct api_result r = call("GET", "/api/user/me", NULL, unauth[_i].header, NULL);

	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(api_jstr(&r, "detail"), unauth[_i].detail);
	ck_assert_ptr_nonnull(strstr(r.headers, "WWW-Authenticate: Bearer\r\n"));
	api_result_done(&r);
}
END_TEST

START_TEST(test_expired_and_forged_tokens)
{
	char *tok, *auth;
	struct api_result r;

	add_user("bob", "pw", ROLE_ADMIN);
	/* right key, but expired (float exp in the past) */
	tok = jwt_forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    "{\"sub\":\"bob\",\"user_id\":1,\"username\":\"bob\",\"role\":\"admin\","
	    "\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":1000000000.5}", "HS256", SECRET);
	auth = bearer(tok);
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(api_jstr(&r, "detail"), "Could not validate credentials");
	api_result_done(&r);
	free(auth);
	free(tok);
	/* valid signature and expiry, but no such user row (created_at differs) */
	tok = jwt_forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    "{\"sub\":\"bob\",\"user_id\":1,\"username\":\"bob\",\"role\":\"owner\","
	    "\"created_at\":\"2025-09-23T10:20:30+00:00\",\"exp\":99999999999}", "HS256", SECRET);
	auth = bearer(tok);
	r = call("GET", "/api/admin/users", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 401);
	api_result_done(&r);
	free(auth);
	free(tok);
}
END_TEST

START_TEST(test_deleted_user_token_revoked)
{
	char *tok, *auth;
	struct api_result r;

	add_user("carol", "pw", ROLE_ADMIN);
	tok = login("carol", "pw");
	auth = bearer(tok);
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 200);
	api_result_done(&r);
	r = call("DELETE", "/api/admin/users/1", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "message"), "User deleted successfully");
	api_result_done(&r);
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(api_jstr(&r, "detail"), "Could not validate credentials");
	api_result_done(&r);
	/* a new user who gets the same id does not inherit the old token */
	add_user("carol", "pw2", ROLE_ADMIN);
	r = call("GET", "/api/user/me", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 401);
	api_result_done(&r);
	free(auth);
	free(tok);
}
END_TEST

START_TEST(test_login_errors)
{
	struct api_result r;
	int i;

	add_user("dave", "right", ROLE_ADMIN);
	r = call("POST", "/api/auth/token", "username=dave&password=wrong",
	    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(api_jstr(&r, "detail"), "Incorrect username or password");
	ck_assert_ptr_nonnull(strstr(r.headers, "WWW-Authenticate: Bearer"));
	api_result_done(&r);

	/* an empty value counts as missing */
	r = call("POST", "/api/auth/token", "username=dave&password=",
	    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_str_eq(r.body, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"password\"],"
	    "\"msg\":\"Field required\",\"input\":null}]}");
	api_result_done(&r);

	r = call("POST", "/api/auth/token", "username=dave&password=right&grant_type=client",
	    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_ptr_nonnull(strstr(r.body, "string_pattern_mismatch"));
	api_result_done(&r);

	r = call("POST", "/api/auth/token", "--b\r\nbroken", "CONTENT_TYPE=multipart/form-data; boundary=b",
	    NULL);
	ck_assert_int_eq(r.status, 400);
	api_result_done(&r);

	/* one more failure reaches the limit of 3, then 429 even for the right password */
	for (i = 0; i < 2; i++) {
		r = call("POST", "/api/auth/token", "username=nobody&password=x",
		    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
		ck_assert_int_eq(r.status, 401);
		api_result_done(&r);
	}
	r = call("POST", "/api/auth/token", "username=dave&password=right",
	    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL);
	ck_assert_int_eq(r.status, 429);
	ck_assert_ptr_nonnull(strstr(r.headers, "Retry-After: "));
	api_result_done(&r);
}
END_TEST

START_TEST(test_admin_users)
{
	char *tok, *auth;
	struct api_result r;

	add_user("owner1", "pw", ROLE_OWNER);
	add_user("admin1", "pw", ROLE_ADMIN);
	r = call("POST", "/api/admin/users", "{\"username\":\"newbie\",\"password\":\"pw\"}",
	    "CONTENT_TYPE=application/json", "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "username"), "newbie");
	ck_assert_str_eq(api_jstr(&r, "role"), "admin");	/* default role */
	api_result_done(&r);
	ck_assert_int_eq(user_count(), 3);

	r = call("POST", "/api/admin/users", "{\"username\":\"newbie\",\"password\":\"pw\"}",
	    "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(api_jstr(&r, "detail"), "Username already exists");
	api_result_done(&r);

	/* an admin may not manage users */
	tok = login("admin1", "pw");
	auth = bearer(tok);
	r = call("POST", "/api/admin/users", "{\"username\":\"x\"}", auth, NULL);
	ck_assert_int_eq(r.status, 403);	/* auth before validation */
	ck_assert_str_eq(api_jstr(&r, "detail"), "Not enough permissions");
	api_result_done(&r);
	r = call("DELETE", "/api/admin/users/1", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 403);
	api_result_done(&r);
	free(auth);
	free(tok);

	/* cannot delete yourself; 404; 422 for a non-integer id */
	tok = login("owner1", "pw");
	auth = bearer(tok);
	r = call("DELETE", "/api/admin/users/1", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(api_jstr(&r, "detail"), "Cannot delete your own account");
	api_result_done(&r);
	r = call("DELETE", "/api/admin/users/99", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(api_jstr(&r, "detail"), "User not found");
	api_result_done(&r);
	r = call("DELETE", "/api/admin/users/abc", NULL, auth, NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_str_eq(r.body, "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"path\",\"user_id\"],"
	    "\"msg\":\"Input should be a valid integer, unable to parse string as an integer\","
	    "\"input\":\"abc\"}]}");
	api_result_done(&r);
	ck_assert_int_eq(user_count(), 3);
	free(auth);
	free(tok);
}
END_TEST

START_TEST(test_check_order)
{
	struct api_result r;

	/* malformed JSON is 422 before authentication */
	r = call("POST", "/api/admin/users", "{bad", "CONTENT_TYPE=application/json", NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_ptr_nonnull(strstr(r.body, "json_invalid"));
	api_result_done(&r);
	/* well-formed but invalid: 401 first */
	r = call("POST", "/api/admin/users", "{}", NULL);
	ck_assert_int_eq(r.status, 401);
	api_result_done(&r);
	/* all validation errors together, empty password refused */
	r = call("POST", "/api/admin/users", "{\"username\":\"ab\",\"password\":\"\",\"role\":\"god\"}",
	    "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(r.json, "detail")), 3);
	api_result_done(&r);
	/* wrong content type: the body is not an object */
	r = call("POST", "/api/admin/users", "{\"username\":\"abc\",\"password\":\"x\"}",
	    "CONTENT_TYPE=text/plain", "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 422);
	ck_assert_ptr_nonnull(strstr(r.body, "model_attributes_type"));
	api_result_done(&r);
	ck_assert_int_eq(user_count(), 0);
}
END_TEST

START_TEST(test_body_too_large_not_read)
{
	char *big = malloc(2 * 1024 * 1024 + 1);
	struct api_result r;

	memset(big, 'a', 2 * 1024 * 1024);
	big[2 * 1024 * 1024] = '\0';
	r = call("POST", "/api/admin/users", big, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 413);
	ck_assert_int_eq(r.body_read, 0);	/* decided from CONTENT_LENGTH */
	api_result_done(&r);
	free(big);
}
END_TEST

START_TEST(test_not_found_and_method)
{
	struct api_result r = call("GET", "/api/nope", NULL, NULL);

	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(r.body, "{\"detail\":\"Not Found\"}");
	api_result_done(&r);
	r = call("PUT", "/api/user/me", NULL, NULL);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(r.body, "{\"detail\":\"Method Not Allowed\"}");
	api_result_done(&r);
	r = call("GET", "/api/system/health/", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"healthy\"}");
	api_result_done(&r);
}
END_TEST

START_TEST(test_cors)
{
	struct api_result r = call("OPTIONS", "/api/user/me", NULL, "HTTP_ORIGIN=http://ui.example",
	    "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=authorization",
	    NULL);

	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "OK");
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Origin: http://ui.example\r\n"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Methods: DELETE, GET, HEAD, "
	    "OPTIONS, PATCH, POST, PUT\r\n"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Max-Age: 600\r\n"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Headers: authorization\r\n"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Vary: Origin\r\n"));
	api_result_done(&r);

	r = call("GET", "/api/system/health", NULL, "HTTP_ORIGIN=http://ui.example", NULL);
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Origin: *\r\n"));
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Credentials: true\r\n"));
	api_result_done(&r);
	r = call("GET", "/api/system/health", NULL, "HTTP_ORIGIN=http://ui.example", "HTTP_COOKIE=a=b",
	    NULL);
	ck_assert_ptr_nonnull(strstr(r.headers, "Access-Control-Allow-Origin: http://ui.example\r\n"));
	api_result_done(&r);
	r = call("GET", "/api/system/health", NULL, NULL);
	ck_assert_ptr_null(strstr(r.headers, "Access-Control"));
	api_result_done(&r);
}
END_TEST

START_TEST(test_audit_records)
{
	char *log;
	struct api_result r;

	add_user("erin", "pw", ROLE_OWNER);
	r = call("POST", "/api/auth/token?token=q&x=1",
	    "--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nerin\r\n"
	    "--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n--B--\r\n",
	    "CONTENT_TYPE=multipart/form-data; boundary=B", "HTTP_USER_AGENT=unit",
	    "HTTP_X_FORWARDED_FOR= 10.1.2.3 , 10.0.0.1", NULL);
	ck_assert_int_eq(r.status, 200);
	api_result_done(&r);
	r = call("POST", "/api/admin/users", "{\"username\":\"frank\",\"password\":\"hunter2\","
	    "\"nested\":{\"Secret\":\"s\",\"list\":[{\"token\":\"kept\"}]}}",
	    "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 200);
	api_result_done(&r);
	r = call("DELETE", "/api/admin/users/2", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	api_result_done(&r);
	r = call("GET", "/api/user/me", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	api_result_done(&r);

	log = tmpdir_read(bench.td, "logs/operations.log");
	ck_assert_ptr_nonnull(log);
	/* three mutating requests, the GET is not logged */
	ck_assert_int_eq((int)(strchr(strchr(strchr(log, '\n') + 1, '\n') + 1, '\n') - log + 1),
	    (int)strlen(log));
	ck_assert_ptr_null(strstr(log, "hunter2"));
	ck_assert_ptr_null(strstr(log, "\\r\\n\\r\\npw\\r\\n"));
	ck_assert_ptr_nonnull(strstr(log, "name=\\\"password\\\"\\r\\n\\r\\n***MASKED***\\r\\n"));
	ck_assert_ptr_nonnull(strstr(log, "\"query_params\":{\"token\":\"***MASKED***\",\"x\":\"1\"}"));
	ck_assert_ptr_nonnull(strstr(log, "\"client_ip\":\"10.1.2.3\",\"user_agent\":\"unit\","
	    "\"user_id\":null,\"username\":\"anonymous\",\"role\":\"anonymous\""));
	ck_assert_ptr_nonnull(strstr(log, "\"request_body\":{\"username\":\"frank\",\"password\":"
	    "\"***MASKED***\",\"nested\":{\"Secret\":\"***MASKED***\",\"list\":[{\"token\":\"kept\"}]}}"));
	ck_assert_ptr_nonnull(strstr(log, "\"user_id\":0,\"username\":\"SYSTEM\",\"role\":\"owner\""));
	ck_assert_ptr_nonnull(strstr(log, "\"method\":\"DELETE\",\"path\":\"/api/admin/users/2\","
	    "\"status_code\":200"));
	ck_assert_ptr_nonnull(strstr(log, "\"path_params\":{\"user_id\":\"2\"}"));
	ck_assert_ptr_null(strstr(log, MASTER));
	free(log);
}
END_TEST

START_TEST(test_system)
{
	struct api_result r = call("GET", "/api/system/info", NULL,
	    "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);

	ck_assert_int_eq(r.status, 200);
	ck_assert_int_gt(json_object_get_double(json_object_object_get(r.json, "ramTotalGB")), 0.0);
	ck_assert(json_object_is_type(json_object_object_get(r.json, "cpuLoad1Min"), json_type_double));
	api_result_done(&r);
	r = call("GET", "/api/system/disk-usage", NULL, "HTTP_AUTHORIZATION=Bearer " MASTER, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_gt(json_object_get_double(json_object_object_get(r.json, "diskTotalGB")), 0.0);
	api_result_done(&r);
	r = call("GET", "/api/system/info", NULL, NULL);
	ck_assert_int_eq(r.status, 401);
	api_result_done(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("pipeline");
	SRunner *sr;
	int nfailed;

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_login_and_me);
	tcase_add_test(tc, test_master_is_system_owner);
	tcase_add_loop_test(tc, test_unauthenticated, 0, (int)ELEMENTSOF(unauth));
	tcase_add_test(tc, test_expired_and_forged_tokens);
	tcase_add_test(tc, test_deleted_user_token_revoked);
	tcase_add_test(tc, test_login_errors);
	tcase_add_test(tc, test_admin_users);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_body_too_large_not_read);
	tcase_add_test(tc, test_not_found_and_method);
	tcase_add_test(tc, test_cors);
	tcase_add_test(tc, test_audit_records);
	tcase_add_test(tc, test_system);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
