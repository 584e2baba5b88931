/* SPDX-License-Identifier: MIT */
/* http/ and the route table: matching, query and form parsing, JSON body rules. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"
#include "http/body.h"
#include "http/form.h"
#include "http/http.h"

static struct req
mkreq(char **env)
{
	struct req rq = { .env = env };

	ck_assert_int_eq(req_init(&rq), 0);
	return rq;
}

struct route_case {
	const char *method;
	const char *path;
	int expect;			/* 0, -ENOENT, -EOPNOTSUPP */
	const char *param;		/* expected user_id value, or NULL */
};

static const struct route_case route_cases[] = {
	{ "GET", "/api/user/me", 0, NULL },
	{ "GET", "/api/user/me/", 0, NULL },		/* trailing slash answered directly */
	{ "HEAD", "/api/user/me", 0, NULL },		/* HEAD uses the GET route */
	{ "POST", "/api/user/me", -EOPNOTSUPP, NULL },
	{ "GET", "/api/user/you", -ENOENT, NULL },
	{ "GET", "/api/user", -ENOENT, NULL },
	{ "GET", "/api/user/me//", -ENOENT, NULL },
	{ "GET", "/api/admin/users", 0, NULL },
	{ "POST", "/api/admin/users/", 0, NULL },
	{ "DELETE", "/api/admin/users/42", 0, "42" },
	{ "DELETE", "/api/admin/users/abc", 0, "abc" },	/* type checked later: 422 */
	{ "GET", "/api/admin/users/42", -EOPNOTSUPP, NULL },
	{ "DELETE", "/api/admin/users/", 0, NULL },	/* = /api/admin/users, DELETE → 405 below */
	{ "DELETE", "/api/admin/users/1/2", -ENOENT, NULL },
	{ "GET", "/api/system/health", 0, NULL },
	{ "GET", "/api/nothing", -ENOENT, NULL },
};

START_TEST(test_routes)
{
	const struct route_case *rc = &route_cases[_i];
	char m[32], p[128];
	char *env[] = { m, p, NULL };
	const struct route *rt = NULL;
	struct req rq;
	int r;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", rc->method);
	snprintf(p, sizeof(p), "DOCUMENT_URI=%s", rc->path);
	rq = mkreq(env);
	r = api_route_find(&rq, &rt);
	if (streq(rc->path, "/api/admin/users/") && streq(rc->method, "DELETE"))
		ck_assert_int_eq(r, -EOPNOTSUPP);
	else
		ck_assert_msg(r == rc->expect, "%s %s: %d", rc->method, rc->path, r);
	if (rc->param)
		ck_assert_str_eq(req_param(&rq, "user_id"), rc->param);
	req_done(&rq);
}
END_TEST

START_TEST(test_query)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/x",
		"QUERY_STRING=a=1&b=x%20y&a=2&c&d=%2Fetc+z&e=%zz", NULL };
	struct req rq = mkreq(env);
	char *v = NULL;
	json_object *o;

	ck_assert_int_eq(req_query_get(&rq, "a", &v), 1);
	ck_assert_str_eq(v, "2");		/* last wins */
	free(v);
	ck_assert_int_eq(req_query_get(&rq, "b", &v), 1);
	ck_assert_str_eq(v, "x y");
	free(v);
	ck_assert_int_eq(req_query_get(&rq, "c", &v), 1);
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_int_eq(req_query_get(&rq, "d", &v), 1);
	ck_assert_str_eq(v, "/etc z");
	free(v);
	ck_assert_int_eq(req_query_get(&rq, "e", &v), 1);
	ck_assert_str_eq(v, "%zz");		/* a stray % stays, like Python */
	free(v);
	ck_assert_int_eq(req_query_get(&rq, "zz", &v), 0);
	o = req_query_object(&rq);
	ck_assert_str_eq(json_compact(o), "{\"a\":\"2\",\"b\":\"x y\",\"c\":\"\",\"d\":\"/etc z\",\"e\":\"%zz\"}");
	json_object_put(o);
	req_done(&rq);
}
END_TEST

START_TEST(test_query_nul_refused)
{
	char *env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/api/x",
		"QUERY_STRING=path=a%00b", NULL };
	struct req rq = mkreq(env);
	char *v = NULL;

	ck_assert_int_eq(req_query_get(&rq, "path", &v), -EINVAL);
	req_done(&rq);
}
END_TEST

START_TEST(test_form_urlencoded)
{
	struct form *f = NULL;
	const char body[] = "username=al%20ice&password=p%26w&empty=&grant_type=password";

	ck_assert_int_eq(form_parse("application/x-www-form-urlencoded; charset=utf-8", body,
	    strlen(body), &f, NULL), 0);
	ck_assert_str_eq(form_get(f, "username")->data, "al ice");
	ck_assert_str_eq(form_get(f, "password")->data, "p&w");
	ck_assert_int_eq(form_get(f, "empty")->len, 0);
	ck_assert_ptr_null(form_get(f, "nope"));
	form_free(f);
	/* not a form type: empty form (like Starlette) */
	ck_assert_int_eq(form_parse("application/json", "{}", 2, &f, NULL), 0);
	ck_assert_int_eq(f->n, 0);
	form_free(f);
}
END_TEST

#define CRLF "\r\n"
START_TEST(test_form_multipart)
{
	const char body[] =
	    "--XyZ" CRLF
	    "Content-Disposition: form-data; name=\"username\"" CRLF CRLF
	    "alice" CRLF
	    "--XyZ" CRLF
	    "Content-Disposition: form-data; name=\"password\"" CRLF CRLF
	    "pa\r\nss" CRLF
	    "--XyZ" CRLF
	    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\Users\\\\x\\\\a.txt\"" CRLF
	    "Content-Type: text/plain" CRLF CRLF
	    "data" CRLF
	    "--XyZ" CRLF
	    "Content-Disposition: form-data; name=\"f2\"; filename=\"dir/sub/b.txt\"" CRLF CRLF
	    CRLF
	    "--XyZ--" CRLF;
	struct form *f = NULL;
	char *err = NULL;
	const struct form_field *ff;

	ck_assert_int_eq(form_parse("multipart/form-data; boundary=XyZ", body, sizeof(body) - 1, &f,
	    &err), 0);
	ck_assert_int_eq(f->n, 4);
	ck_assert_str_eq(form_get(f, "username")->data, "alice");
	ff = form_get(f, "password");
	ck_assert_int_eq(ff->len, 6);
	ck_assert_int_eq(memcmp(ff->data, "pa\r\nss", 6), 0);
	ck_assert_int_eq(memcmp(body + ff->off, "pa\r\nss", 6), 0);
	ck_assert_str_eq(form_get(f, "file")->filename, "a.txt");	/* Windows path cut */
	ck_assert_str_eq(form_get(f, "file")->content_type, "text/plain");
	ck_assert_str_eq(form_get(f, "f2")->filename, "dir/sub/b.txt");	/* kept verbatim */
	ck_assert_int_eq(form_get(f, "f2")->len, 0);
	form_free(f);
}
END_TEST

static const struct {
	const char *ct;
	const char *body;
	const char *err;
} bad_multipart[] = {
	{ "multipart/form-data", "x", "Missing boundary" },
	{ "multipart/form-data; boundary=b", "no boundary here", "Did not find boundary" },
	{ "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv",
	  "ended before the closing boundary" },
	{ "multipart/form-data; boundary=b", "--b\r\nX-Other: y\r\n\r\nv\r\n--b--",
	  "Missing Content-Disposition" },
	{ "multipart/form-data; boundary=b", "--bjunk", "Malformed multipart body" },
};

START_TEST(test_form_multipart_bad)
{
	struct form *f = NULL;
	char *err = NULL;

	ck_assert_int_eq(form_parse(bad_multipart[_i].ct, bad_multipart[_i].body,
	    strlen(bad_multipart[_i].body), &f, &err), -EBADMSG);
	ck_assert_ptr_null(f);
	ck_assert_msg(err && strstr(err, bad_multipart[_i].err), "%d: %s", _i, err);
	free(err);
}
END_TEST

START_TEST(test_form_multipart_limits)
{
	struct strbuf sb = STRBUF_INIT;
	struct form *f = NULL;
	char *err = NULL;

	for (int i = 0; i < 1001; i++)
		ck_assert_int_eq(strbuf_printf(&sb, "--b\r\nContent-Disposition: form-data; name=\"f\"; "
		    "filename=\"%d\"\r\n\r\nx\r\n", i), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "--b--\r\n"), 0);
	ck_assert_int_eq(form_parse("multipart/form-data; boundary=b", sb.buf, sb.len, &f, &err),
	    -EBADMSG);
	ck_assert_str_eq(err, "Too many files. Maximum number of files is 1000.");
	free(err);
	strbuf_free(&sb);

	/* a non-file field over 1 MiB */
	ck_assert_int_eq(strbuf_puts(&sb, "--b\r\nContent-Disposition: form-data; name=\"big\"\r\n\r\n"),
	    0);
	for (int i = 0; i < 1024 * 1024 + 1; i++)
		ck_assert_int_eq(strbuf_putc(&sb, 'a'), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n--b--\r\n"), 0);
	ck_assert_int_eq(form_parse("multipart/form-data; boundary=b", sb.buf, sb.len, &f, &err),
	    -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "Part exceeded maximum size"));
	free(err);
	strbuf_free(&sb);
}
END_TEST

static int
parse_body(const char *ct, const char *body, struct req *rq, struct verrs *v)
{
	*rq = (struct req){ .content_type = ct };
	strbuf_init(&rq->body, 0);
	ck_assert_int_eq(strbuf_puts(&rq->body, body), 0);
	rq->body_loaded = true;
	return http_body_parse_json(rq, v);
}

START_TEST(test_json_body)
{
	struct verrs v = { 0 };
	struct req rq;

	ck_assert(http_content_type_is_json(NULL));
	ck_assert(http_content_type_is_json("application/json; charset=utf-8"));
	ck_assert(http_content_type_is_json("application/merge-patch+json"));
	ck_assert(!http_content_type_is_json("text/plain"));
	ck_assert(!http_content_type_is_json("application/jsonx"));

	ck_assert_int_eq(parse_body(NULL, "{\"a\": 1}", &rq, &v), 0);
	ck_assert(json_object_is_type(rq.json, json_type_object));
	req_done(&rq);

	ck_assert_int_eq(parse_body("application/json", "{\"a\": }", &rq, &v), -EBADMSG);
	ck_assert_str_eq(json_compact(v.list),
	    "[{\"type\":\"json_invalid\",\"loc\":[\"body\",6],\"msg\":\"JSON decode error\","
	    "\"input\":{},\"ctx\":{\"error\":\"unexpected character\"}}]");
	verrs_done(&v);
	req_done(&rq);

	ck_assert_int_eq(parse_body("application/json", "{} x", &rq, &v), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(json_compact(v.list), "\"loc\":[\"body\",3]"));
	verrs_done(&v);
	req_done(&rq);

	ck_assert_int_eq(parse_body("application/json", "{\"a\":\"\xff\"}", &rq, &v), -EBADMSG);
	verrs_done(&v);
	req_done(&rq);

	/* empty JSON body: no value (the validator reports it) */
	ck_assert_int_eq(parse_body("application/json", "", &rq, &v), 0);
	ck_assert_ptr_null(rq.json);
	req_done(&rq);

	/* other content types: the raw body as a string */
	ck_assert_int_eq(parse_body("text/plain", "{\"a\":1}", &rq, &v), 0);
	ck_assert(json_object_is_type(rq.json, json_type_string));
	req_done(&rq);
}
END_TEST

static const char *const roles[] = { "admin", "owner", NULL };
static const struct field fields[] = {
	{ "username", FIELD_STRING, true, false, 3, 5, 0, 0, NULL },
	{ "role", FIELD_STRING, false, false, 0, 0, 0, 0, roles },
	{ "n", FIELD_INT, false, false, 0, 0, 1, 10, NULL },
	{ "flag", FIELD_BOOL, false, false, 0, 0, 0, 0, NULL },
	{ "opt", FIELD_STRING, false, true, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct {
	const char *body;
	const char *ct;
	const char *expect;	/* compact JSON of the error list, "" for none */
} validation[] = {
	{ "{\"username\":\"abc\"}", NULL, "" },
	{ "{\"username\":\"abcde\",\"role\":\"owner\",\"n\":10,\"flag\":true,\"opt\":null,\"x\":[]}",
	  NULL, "" },
	{ "{\"username\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL, "" },	/* 3 characters, 6 bytes */
	{ "{}", NULL, "[{\"type\":\"missing\",\"loc\":[\"body\",\"username\"],\"msg\":\"Field required\","
	  "\"input\":{}}]" },
	{ "{\"username\":\"ab\"}", NULL, "[{\"type\":\"string_too_short\",\"loc\":[\"body\",\"username\"],"
	  "\"msg\":\"String should have at least 3 characters\",\"input\":\"ab\",\"ctx\":{\"min_length\":3}}]" },
	{ "{\"username\":\"abcdef\"}", NULL, "[{\"type\":\"string_too_long\",\"loc\":[\"body\",\"username\"],"
	  "\"msg\":\"String should have at most 5 characters\",\"input\":\"abcdef\",\"ctx\":{\"max_length\":5}}]" },
	{ "{\"username\":123}", NULL, "[{\"type\":\"string_type\",\"loc\":[\"body\",\"username\"],"
	  "\"msg\":\"Input should be a valid string\",\"input\":123}]" },
	{ "{\"username\":\"abc\",\"role\":\"root\"}", NULL, "[{\"type\":\"enum\",\"loc\":[\"body\",\"role\"],"
	  "\"msg\":\"Input should be 'admin' or 'owner'\",\"input\":\"root\",\"ctx\":{\"expected\":"
	  "\"'admin' or 'owner'\"}}]" },
	{ "{\"username\":\"abc\",\"n\":\"1\",\"flag\":1}", NULL,
	  "[{\"type\":\"int_type\",\"loc\":[\"body\",\"n\"],\"msg\":\"Input should be a valid integer\","
	  "\"input\":\"1\"},{\"type\":\"bool_type\",\"loc\":[\"body\",\"flag\"],\"msg\":\"Input should be a "
	  "valid boolean\",\"input\":1}]" },
	{ "{\"username\":\"abc\",\"n\":11}", NULL, "[{\"type\":\"less_than_equal\",\"loc\":[\"body\",\"n\"],"
	  "\"msg\":\"Input should be less than or equal to 10\",\"input\":11,\"ctx\":{\"le\":10}}]" },
	{ "{\"username\":null}", NULL, "[{\"type\":\"string_type\",\"loc\":[\"body\",\"username\"],"
	  "\"msg\":\"Input should be a valid string\",\"input\":null}]" },
	{ "[1]", NULL, "[{\"type\":\"model_attributes_type\",\"loc\":[\"body\"],\"msg\":\"Input should be "
	  "a valid dictionary or object to extract fields from\",\"input\":[1]}]" },
	{ "", NULL, "[{\"type\":\"missing\",\"loc\":[\"body\"],\"msg\":\"Field required\",\"input\":null}]" },
	{ "username=abc", "application/x-www-form-urlencoded",
	  "[{\"type\":\"model_attributes_type\",\"loc\":[\"body\"],\"msg\":\"Input should be "
	  "a valid dictionary or object to extract fields from\",\"input\":\"username=abc\"}]" },
};

START_TEST(test_validation)
{
	struct verrs v = { 0 };
	struct req rq;
	int r;

	ck_assert_int_eq(parse_body(validation[_i].ct, validation[_i].body, &rq, &v), 0);
	r = http_body_validate(&rq, fields, false, &v);
	if (!*validation[_i].expect)
		ck_assert_msg(r == 0 && !verrs_any(&v), "case %d: %s", _i,
		    v.list ? json_compact(v.list) : "");
	else {
		ck_assert_int_gt(r, 0);
		ck_assert_str_eq(json_compact(v.list), validation[_i].expect);
	}
	verrs_done(&v);
	req_done(&rq);
}
END_TEST

START_TEST(test_validation_optional_body)
{
	struct verrs v = { 0 };
	struct req rq;

	ck_assert_int_eq(parse_body(NULL, "", &rq, &v), 0);
	ck_assert_int_eq(http_body_validate(&rq, fields + 1, true, &v), 0);
	ck_assert(json_object_is_type(rq.json, json_type_object));
	req_done(&rq);
}
END_TEST

START_TEST(test_status_map)
{
	ck_assert_int_eq(http_status_from_errno(-ENOENT), 404);
	ck_assert_int_eq(http_status_from_errno(-EOPNOTSUPP), 405);
	ck_assert_int_eq(http_status_from_errno(-EINVAL), 400);
	ck_assert_int_eq(http_status_from_errno(-ENOKEY), 401);
	ck_assert_int_eq(http_status_from_errno(-EKEYREJECTED), 401);
	ck_assert_int_eq(http_status_from_errno(-EACCES), 403);
	ck_assert_int_eq(http_status_from_errno(-EEXIST), 409);
	ck_assert_int_eq(http_status_from_errno(-EMSGSIZE), 413);
	ck_assert_int_eq(http_status_from_errno(-EBUSY), 503);
	ck_assert_int_eq(http_status_from_errno(-EIO), 500);
	ck_assert_int_eq(http_status_from_errno(-ENOMEM), 500);
}
END_TEST

START_TEST(test_load_body_limits)
{
	char *env[] = { "REQUEST_METHOD=POST", "DOCUMENT_URI=/api/x", "CONTENT_LENGTH=100", NULL };
	struct req rq = mkreq(env);

	/* refused from the declared length, before reading anything */
	ck_assert_int_eq(req_load_body(&rq, 99), -EMSGSIZE);
	ck_assert_int_eq(rq.body.len, 0);
	req_done(&rq);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	SRunner *sr;
	int nfailed;

	tcase_add_loop_test(tc, test_routes, 0, (int)ELEMENTSOF(route_cases));
	tcase_add_test(tc, test_query);
	tcase_add_test(tc, test_query_nul_refused);
	tcase_add_test(tc, test_form_urlencoded);
	tcase_add_test(tc, test_form_multipart);
	tcase_add_loop_test(tc, test_form_multipart_bad, 0, (int)ELEMENTSOF(bad_multipart));
	tcase_add_test(tc, test_form_multipart_limits);
	tcase_add_test(tc, test_json_body);
	tcase_add_loop_test(tc, test_validation, 0, (int)ELEMENTSOF(validation));
	tcase_add_test(tc, test_validation_optional_body);
	tcase_add_test(tc, test_status_map);
	tcase_add_test(tc, test_load_body_limits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
