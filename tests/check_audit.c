/* SPDX-License-Identifier: MIT */
/* audit/: the line format (§6.2), body rules and masking (§6.3), rotation. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>

#include "audit/audit.h"
#include "common/util.h"
#include "helpers.h"

static char *const sensitive[] = { "password", "token", "secret", "key", NULL };

static char *
body_value(const char *ct, const char *body, size_t max)
{
	bool omit = false;
	json_object *o = audit_body_value(ct, (int64_t)strlen(body), body, strlen(body), true, max,
	    sensitive, &omit);
	char *s;

	if (omit) {
		ck_assert_ptr_null(o);
		return strdup("(omitted)");
	}
	ck_assert_ptr_nonnull(o);
	s = strdup(json_compact(o));
	json_object_put(o);
	return s;
}

static const struct {
	const char *ct;
	const char *body;
	const char *expect;
} bodies[] = {
	{ "application/json", "", "(omitted)" },
	{ "application/json", "{}", "(omitted)" },
	{ "application/json", "[]", "(omitted)" },
	{ "application/json", "0", "(omitted)" },
	{ "application/json", "\"\"", "(omitted)" },
	{ "application/json", "false", "(omitted)" },
	{ "application/json", "null", "(omitted)" },
	{ "application/json", "{\"action\":\"start\"}", "{\"action\":\"start\"}" },
	{ "application/json", "{\"PassWord\":\"x\",\"a\":{\"key\":1}}",
	  "{\"PassWord\":\"***MASKED***\",\"a\":{\"key\":\"***MASKED***\"}}" },
	{ "application/json", "[{\"password\":\"x\"}]", "[{\"password\":\"x\"}]" },	/* arrays untouched */
	{ "application/json", "42", "42" },
	{ "text/plain", "hello \xff", "{\"raw_body\":\"hello \xef\xbf\xbd\"}" },
	{ "application/x-www-form-urlencoded", "username=a&password=b%20c&token",
	  "{\"raw_body\":\"username=a&password=***MASKED***&token\"}" },
	{ "application/json", "{\"a\":1", "{\"raw_body\":\"{\\\"a\\\":1\"}" },	/* not JSON */
	{ "application/json", "{\"big\":\"0123456789\"}", "{\"error\":\"Request body too large for logging\"}" },
};

START_TEST(test_body_values)
{
	char *s = body_value(bodies[_i].ct, bodies[_i].body, _i == (int)ELEMENTSOF(bodies) - 1 ? 10 : 10240);

	ck_assert_msg(streq(s, bodies[_i].expect), "case %d: %s", _i, s);
	free(s);
}
END_TEST

START_TEST(test_large_body_decided_from_length)
{
	bool omit = true;
	json_object *o = audit_body_value("application/octet-stream", 50LL * 1024 * 1024, NULL, 0,
	    false, 10240, sensitive, &omit);

	ck_assert(!omit);
	ck_assert_str_eq(json_compact(o), "{\"error\":\"Request body too large for logging\"}");
	json_object_put(o);
}
END_TEST

START_TEST(test_format)
{
	struct identity id = { .id = 5, .role = ROLE_ADMIN };
	json_object *pp = json_object_new_object(), *qp = json_object_new_object();
	struct audit_entry e = {
		.method = "POST", .path = "/api/servers/s1/operations", .status = 404,
		.processing_ms = 12.3456, .client_ip = "1.2.3.4", .user_agent = NULL, .ident = &id,
		.path_params = pp, .query_params = qp, .now_usec = 1758622830000000LL,
	};
	char *line = NULL;

	memcpy(id.username, "eve", 4);
	json_object_object_add(pp, "server_id", json_object_new_string("s1"));
	ck_assert_int_eq(audit_format(&e, &line), 0);
	/* keys in the order of §6.2; empty query left out; no body key */
	ck_assert(startswith(line, "{\"timestamp\":\"20"));
	ck_assert_ptr_nonnull(strstr(line, "\",\"method\":\"POST\",\"path\":\"/api/servers/s1/operations\","
	    "\"status_code\":404,\"processing_time_ms\":12.35,\"client_ip\":\"1.2.3.4\","
	    "\"user_agent\":null,\"user_id\":5,\"username\":\"eve\",\"role\":\"admin\","
	    "\"path_params\":{\"server_id\":\"s1\"},\"success\":false}"));
	free(line);
	json_object_put(pp);
	json_object_put(qp);
}
END_TEST

START_TEST(test_write_and_rotate)
{
	struct tmpdir *td = tmpdir_new();
	_cleanup_free_ char *dir = tmpdir_join(td, "logs");
	struct audit_entry e = { .method = "DELETE", .path = "/api/x", .status = 200,
		.now_usec = now_realtime_usec() };
	struct audit *a = NULL;
	struct utimbuf old = { .actime = 86400 * 365, .modtime = 86400 * 365 };	/* 1971 */
	char *content, *p;
	char rotated[64];

	ck_assert_int_eq(audit_open(dir, "ops.log", true, &a), 0);
	ck_assert_int_eq(audit_write(a, &e), 0);
	audit_close(a);
	content = tmpdir_read(td, "logs/ops.log");
	ck_assert_ptr_nonnull(strstr(content, "\"success\":true}\n"));
	free(content);

	/* a file last written on an earlier day is rotated before the next line */
	p = tmpdir_join(td, "logs/ops.log");
	ck_assert_int_eq(utime(p, &old), 0);
	free(p);
	ck_assert_int_eq(audit_open(dir, "ops.log", true, &a), 0);
	ck_assert_int_eq(audit_write(a, &e), 0);
	audit_close(a);
	{
		time_t t = 86400 * 365;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(rotated, sizeof(rotated), "logs/ops.log.%Y-%m-%d", &tm);
	}
	ck_assert(tmpdir_exists(td, rotated));
	content = tmpdir_read(td, "logs/ops.log");
	ck_assert_int_eq((int)(strchr(content, '\n') - content + 1), (int)strlen(content));
	free(content);
	ck_assert_int_eq(audit_open(dir, "../escape", true, &a), -EINVAL);
	ck_assert_int_eq(audit_open(dir, "x", false, &a), 0);	/* disabled: no-op */
	ck_assert(!audit_enabled(a));
	ck_assert_int_eq(audit_write(a, &e), 0);
	audit_close(a);
	tmpdir_free(td);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");
	SRunner *sr;
	int nfailed;

	tcase_add_loop_test(tc, test_body_values, 0, (int)ELEMENTSOF(bodies));
	tcase_add_test(tc, test_large_body_decided_from_length);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_write_and_rotate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
