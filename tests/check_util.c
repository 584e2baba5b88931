/* SPDX-License-Identifier: MIT */
/* common/: bounded parsers, time formats, float formatting, strbuf limits. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

static const struct {
	double v;
	const char *repr;	/* what Python's repr() prints */
} floats[] = {
	{ 0.0, "0.0" }, { 1.0, "1.0" }, { 12.5, "12.5" }, { 1.2, "1.2" }, { 0.1, "0.1" },
	{ -3.25, "-3.25" }, { 100000.0, "100000.0" }, { 123456789012.0, "123456789012.0" },
	{ 1e16, "1e+16" }, { 1.5e16, "1.5e+16" }, { 1e-05, "1e-05" }, { 0.0001, "0.0001" },
	{ 15.624237060546875, "15.624237060546875" }, { 1760000000.123456, "1760000000.123456" },
	{ 33.3, "33.3" }, { 2.0 / 3.0, "0.6666666666666666" },
};

START_TEST(test_float_repr)
{
	char buf[64];

	ck_assert_int_eq(fmt_float_repr(buf, sizeof(buf), floats[_i].v), 0);
	ck_assert_str_eq(buf, floats[_i].repr);
	ck_assert_int_eq(fmt_float_repr(buf, 3, 12345.5), -EINVAL);
	ck_assert_int_eq(fmt_float_repr(buf, sizeof(buf), NAN), -EINVAL);
}
END_TEST

START_TEST(test_json_float)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "a", json_new_float(0.0));
	json_object_object_add(o, "b", json_new_float(7.75));
	json_object_object_add(o, "c", json_object_new_string("é/ü"));
	ck_assert_str_eq(json_compact(o), "{\"a\":0.0,\"b\":7.75,\"c\":\"é/ü\"}");
	json_object_put(o);
}
END_TEST

START_TEST(test_parse_int64)
{
	int64_t v = 0;

	ck_assert_int_eq(parse_int64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_int64("-7", -10, 10, &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(parse_int64("101", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_int64("99999999999999999999", 0, INT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(parse_int64("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_int64(" 1", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_int64("1 ", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_int64("1x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_int64("abc", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_int64(NULL, 0, 100, &v), -EINVAL);
	ck_assert_int_eq(v, -7);	/* untouched on failure */
}
END_TEST

START_TEST(test_bools)
{
	static const char *const t[] = { "true", "TRUE", "1", "yes", "On", "y", "t" };
	static const char *const f[] = { "false", "0", "no", "OFF", "n", "F" };

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		ck_assert_int_eq(parse_bool_query(t[i]), 1);
	for (size_t i = 0; i < ELEMENTSOF(f); i++)
		ck_assert_int_eq(parse_bool_query(f[i]), 0);
	ck_assert_int_eq(parse_bool_query("maybe"), -EINVAL);
	ck_assert_int_eq(parse_bool_query(""), -EINVAL);
	ck_assert_int_eq(parse_bool_env("y"), -EINVAL);	/* env: no y/t */
	ck_assert_int_eq(parse_bool_env("on"), 1);
}
END_TEST

START_TEST(test_utf8)
{
	ck_assert(utf8_valid("plain", 5));
	ck_assert(utf8_valid("h\xc3\xa9", 3));
	ck_assert(utf8_valid("\xe6\x9c\x8d\xe5\x8a\xa1", 6));
	ck_assert(utf8_valid("\xf0\x9f\x98\x80", 4));
	ck_assert(!utf8_valid("\xc3", 1));		/* truncated */
	ck_assert(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!utf8_valid("\xe0\x80\xaf", 3));	/* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!utf8_valid("\xff", 1));
}
END_TEST

START_TEST(test_base64url)
{
	char out[16];

	ck_assert_int_eq(base64url_encode("", 0, out), 0);
	ck_assert_str_eq(out, "");
	base64url_encode("f", 1, out);
	ck_assert_str_eq(out, "Zg");
	base64url_encode("fo", 2, out);
	ck_assert_str_eq(out, "Zm8");
	base64url_encode("foo", 3, out);
	ck_assert_str_eq(out, "Zm9v");
	base64url_encode("\xfb\xff", 2, out);
	ck_assert_str_eq(out, "-_8");
}
END_TEST

START_TEST(test_time_formats)
{
	char buf[64];
	int64_t t = 1758622830123456LL;		/* 2025-09-23T10:20:30.123456Z */
	int64_t back;

	ck_assert_int_eq(fmt_iso_utc_z(buf, sizeof(buf), t), 0);
	ck_assert_str_eq(buf, "2025-09-23T10:20:30.123456Z");
	ck_assert_int_eq(fmt_iso_utc_z(buf, sizeof(buf), 1758622830000000LL), 0);
	ck_assert_str_eq(buf, "2025-09-23T10:20:30Z");
	ck_assert_int_eq(fmt_iso_utc_offset(buf, sizeof(buf), t), 0);
	ck_assert_str_eq(buf, "2025-09-23T10:20:30.123456+00:00");
	ck_assert_int_eq(fmt_db_utc(buf, sizeof(buf), 1758622830000000LL), 0);
	ck_assert_str_eq(buf, "2025-09-23 10:20:30.000000");
	ck_assert_int_eq(fmt_iso_utc_z(buf, 10, t), -EINVAL);

	ck_assert_int_eq(parse_iso_datetime("2025-09-23 10:20:30.123456", &back), 0);
	ck_assert_int_eq(back, t);
	ck_assert_int_eq(parse_iso_datetime("2025-09-23T12:20:30.123456+02:00", &back), 0);
	ck_assert_int_eq(back, t);
	ck_assert_int_eq(parse_iso_datetime("2025-09-23T10:20:30Z", &back), 0);
	ck_assert_int_eq(back, 1758622830000000LL);
	ck_assert_int_eq(parse_iso_datetime("2025-09-23T10:20:30.1Z", &back), 0);
	ck_assert_int_eq(back, 1758622830100000LL);
	ck_assert_int_eq(parse_iso_datetime("2025-13-23T10:20:30", &back), -EINVAL);
	ck_assert_int_eq(parse_iso_datetime("2025-09-23", &back), -EINVAL);
	ck_assert_int_eq(parse_iso_datetime("2025-09-23T10:20:30x", &back), -EINVAL);
	ck_assert_int_eq(parse_iso_datetime("yesterday", &back), -EINVAL);
}
END_TEST

START_TEST(test_strbuf_limit)
{
	struct strbuf sb;

	strbuf_init(&sb, 8);
	ck_assert_int_eq(strbuf_puts(&sb, "12345678"), 0);
	ck_assert_int_eq(strbuf_putc(&sb, '9'), -EMSGSIZE);
	ck_assert_str_eq(strbuf_str(&sb), "12345678");
	strbuf_reset(&sb);
	ck_assert_int_eq(strbuf_printf(&sb, "%d-%s", 7, "x"), 0);
	ck_assert_str_eq(strbuf_str(&sb), "7-x");
	ck_assert_int_eq(strbuf_printf(&sb, "%s", "too long"), -EMSGSIZE);
	strbuf_free(&sb);
	ck_assert_str_eq(strbuf_str(&sb), "");
}
END_TEST

START_TEST(test_log_escape)
{
	char buf[16];

	ck_assert_str_eq(log_escape(buf, sizeof(buf), "a'b\n"), "a\\'b\\x0a");
	/* truncation keeps room for the ellipsis and the NUL */
	ck_assert_str_eq(log_escape(buf, sizeof(buf), "abcdefghijklmnopqrstuvwxyz"),
	    "abcdefghijk\xe2\x80\xa6");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("common");
	SRunner *sr;
	int nfailed;

	tcase_add_loop_test(tc, test_float_repr, 0, (int)ELEMENTSOF(floats));
	tcase_add_test(tc, test_json_float);
	tcase_add_test(tc, test_parse_int64);
	tcase_add_test(tc, test_bools);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_base64url);
	tcase_add_test(tc, test_time_formats);
	tcase_add_test(tc, test_strbuf_limit);
	tcase_add_test(tc, test_log_escape);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
