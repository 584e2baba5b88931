/* SPDX-License-Identifier: MIT */
/* http/multipart: the streaming multipart/form-data parser. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/util.h"
#include "http/multipart.h"

#define hot_assert(expr)						\
	do {								\
		if (!(expr))						\
			ck_abort_msg("assertion '%s' failed", #expr);	\
	} while (0)

#define CT "multipart/form-data; boundary=XyZ"
#define PARTS_MAX 2100

struct got_part {
	char *name;
	char *filename;		/* NULL: a plain field */
	char *content_type;
	struct strbuf data;
	bool ended;
	size_t max_chunk;
};

struct transcript {
	int r;			/* first error from feed/finish, or 0 */
	const char *error;	/* multipart_error() at the end */
	size_t n;
	struct got_part p[PARTS_MAX];
	int fail_at_begin;	/* part index whose begin callback fails (-1: none) */
};

static char *
dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	hot_assert(d);
	return d;
}

static int
on_begin(struct multipart_part *p, void *userdata)
{
	struct transcript *t = userdata;
	struct got_part *g;

	hot_assert(t->n < PARTS_MAX);
	hot_assert(p->index == t->n);
	if (t->fail_at_begin >= 0 && (size_t)t->fail_at_begin == p->index)
		return -ENOSPC;
	g = &t->p[t->n++];
	g->name = dup_or_null(p->name);
	g->filename = dup_or_null(p->filename);
	g->content_type = dup_or_null(p->content_type);
	strbuf_init(&g->data, 0);
	return 0;
}

static int
on_data(struct multipart_part *p, const void *data, size_t n, void *userdata)
{
	struct transcript *t = userdata;
	struct got_part *g = &t->p[t->n - 1];

	hot_assert(n > 0 && n <= MULTIPART_CHUNK);
	hot_assert(!g->ended);
	hot_assert(p->index == t->n - 1);
	if (n > g->max_chunk)
		g->max_chunk = n;
	hot_assert(strbuf_append(&g->data, data, n) == 0);
	return 0;
}

static int
on_end(struct multipart_part *p, void *userdata)
{
	struct transcript *t = userdata;
	struct got_part *g = &t->p[t->n - 1];

	hot_assert(p->size == g->data.len);
	g->ended = true;
	return 0;
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

static void
transcript_done(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->p[i].name);
		free(t->p[i].filename);
		free(t->p[i].content_type);
		strbuf_free(&t->p[i].data);
	}
	free(t);
}

/* Parse body in pieces of `piece` bytes (0: all at once). */
static struct transcript *
parse(const char *ct, const void *body, size_t n, size_t piece)
{
	struct transcript *t = calloc(1, sizeof(*t));
	struct multipart *m = NULL;
	const char *err = NULL;
	const unsigned char *b = body;
	int r;

	hot_assert(t);
	t->fail_at_begin = -1;
	r = multipart_new(ct, &cbs, t, &m, &err);
	if (r < 0) {
		t->r = r;
		t->error = err;
		return t;
	}
	if (piece == 0)
		piece = n ? n : 1;
	for (size_t i = 0; i < n && r == 0; i += piece)
		r = multipart_feed(m, b + i, n - i < piece ? n - i : piece);
	if (r == 0)
		r = multipart_finish(m);
	t->r = r;
	t->error = multipart_error(m) ? "set" : NULL;	/* only its presence is checked */
	multipart_free(m);
	return t;
}

static void
assert_same(const struct transcript *a, const struct transcript *b)
{
	hot_assert(a->r == b->r);
	hot_assert(a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		hot_assert(streq(a->p[i].name, b->p[i].name));
		hot_assert((a->p[i].filename == NULL) == (b->p[i].filename == NULL));
		if (a->p[i].filename)
			hot_assert(streq(a->p[i].filename, b->p[i].filename));
		hot_assert(a->p[i].data.len == b->p[i].data.len);
		hot_assert(memcmp(strbuf_str(&a->p[i].data), strbuf_str(&b->p[i].data),
		    a->p[i].data.len) == 0);
		hot_assert(a->p[i].ended == b->p[i].ended);
	}
}

/* ---- well-formed bodies ---------------------------------------------------------- */

static const char browser_body[] =
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"path\"\r\n"
	"\r\n"
	"/plugins\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"files\"; filename=\"config/settings.yml\"\r\n"
	"Content-Type: application/x-yaml\r\n"
	"\r\n"
	"a: 1\r\nb: --XyZ-not-a-delimiter\r\n\r\n--XyZa\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"files\"; filename=\"\"\r\n"
	"\r\n"
	"\r\n"
	"--XyZ--\r\n"
	"epilogue is ignored --XyZ\r\n";

START_TEST(test_browser_body)
{
	struct transcript *t = parse(CT, browser_body, sizeof(browser_body) - 1, 0);

	ck_assert_int_eq(t->r, 0);
	ck_assert_uint_eq(t->n, 3);
	ck_assert_str_eq(t->p[0].name, "path");
	ck_assert_ptr_null(t->p[0].filename);
	ck_assert_str_eq(strbuf_str(&t->p[0].data), "/plugins");
	ck_assert_str_eq(t->p[1].name, "files");
	ck_assert_str_eq(t->p[1].filename, "config/settings.yml");	/* kept verbatim */
	ck_assert_str_eq(t->p[1].content_type, "application/x-yaml");
	/* the boundary without the leading CRLF, or followed by other bytes, is data */
	ck_assert_str_eq(strbuf_str(&t->p[1].data),
	    "a: 1\r\nb: --XyZ-not-a-delimiter\r\n\r\n--XyZa");
	ck_assert_uint_eq(t->p[1].data.len, 40);
	ck_assert_str_eq(t->p[2].filename, "");		/* present but empty */
	ck_assert_uint_eq(t->p[2].data.len, 0);
	for (size_t i = 0; i < 3; i++)
		ck_assert(t->p[i].ended);
	transcript_done(t);
}
END_TEST

/*
 * Whatever the feeding pattern, the result is the same: every single split
 * point, then fixed piece sizes including 1 byte at a time.
 */
START_TEST(test_any_chunking_same_result)
{
	size_t n = sizeof(browser_body) - 1;
	struct transcript *ref = parse(CT, browser_body, n, 0);

	for (size_t split = 1; split < n; split++) {
		struct transcript *t = calloc(1, sizeof(*t));
		struct multipart *m = NULL;
		int r;

		hot_assert(t);
		t->fail_at_begin = -1;
		hot_assert(multipart_new(CT, &cbs, t, &m, NULL) == 0);
		r = multipart_feed(m, browser_body, split);
		if (r == 0)
			r = multipart_feed(m, browser_body + split, n - split);
		if (r == 0)
			r = multipart_finish(m);
		t->r = r;
		multipart_free(m);
		assert_same(ref, t);
		transcript_done(t);
	}
	for (size_t piece = 1; piece <= 9; piece++) {
		struct transcript *t = parse(CT, browser_body, n, piece);

		assert_same(ref, t);
		transcript_done(t);
	}
	transcript_done(ref);
}
END_TEST

/* Pseudo-random binary file content, with bytes that look like delimiter starts. */
static unsigned char *
make_binary(size_t n, uint32_t seed)
{
	unsigned char *b = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (unsigned char)(seed >> 16);
		if ((seed & 0xff) < 8)
			b[i] = "\r\n--XyZ"[seed % 7];
	}
	return b;
}

static char *
body_with_file(const unsigned char *content, size_t n, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(strbuf_puts(&sb, "preamble\r\n--XyZ  \t\r\n"
	    "content-disposition: form-data; name=file; filename=\"big.bin\"\r\n\r\n"), 0);
	ck_assert_int_eq(strbuf_append(&sb, content, n), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n--XyZ--"), 0);
	*ret_len = sb.len;
	return strbuf_steal(&sb);
}

START_TEST(test_large_binary_streamed_in_bounded_chunks)
{
	static const size_t sizes[] = { 0, 1, 5, MULTIPART_CHUNK - 1, MULTIPART_CHUNK,
	    MULTIPART_BUF + 3, 3 * 1024 * 1024 + 17 };
	static const size_t pieces[] = { 0, 1000, 65536, 7 * 1024 * 1024 };

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		unsigned char *content = make_binary(sizes[i], (uint32_t)i + 1);
		size_t blen;
		char *body = body_with_file(content, sizes[i], &blen);

		for (size_t j = 0; j < ELEMENTSOF(pieces); j++) {
			struct transcript *t = parse(CT, body, blen, pieces[j]);

			ck_assert_msg(t->r == 0, "size %zu piece %zu: %d", sizes[i], pieces[j],
			    t->r);
			ck_assert_uint_eq(t->n, 1);
			ck_assert_str_eq(t->p[0].filename, "big.bin");
			ck_assert_uint_eq(t->p[0].data.len, sizes[i]);
			ck_assert(memcmp(strbuf_str(&t->p[0].data), content, sizes[i]) == 0);
			ck_assert_uint_le(t->p[0].max_chunk, MULTIPART_CHUNK);
			transcript_done(t);
		}
		free(body);
		free(content);
	}
}
END_TEST

/* Content-Type and Content-Disposition parameter forms. */
static const struct {
	const char *ct;
	const char *disposition;
	const char *name;
	const char *filename;		/* NULL: none */
} param_cases[] = {
	{ "multipart/form-data; boundary=XyZ", "form-data; name=\"a\"", "a", NULL },
	{ "Multipart/Form-Data;boundary=\"XyZ\"", "form-data; name=a", "a", NULL },
	{ "multipart/form-data; charset=utf-8; boundary=XyZ",
	  "form-data;name=\"a\";filename=\"b c\"", "a", "b c" },
	{ CT, "form-data; name=\"a\"; filename=\"C:\\\\Users\\\\x\\\\save.zip\"", "a", "save.zip" },
	{ CT, "form-data; name=\"a\"; filename=\"C:\\Users\\x\\save.zip\"", "a", "save.zip" },
	{ CT, "form-data; name=\"a\"; filename=\"\\\\\\\\host\\\\share\\\\w.zip\"", "a", "w.zip" },
	{ CT, "form-data; name=\"a\"; filename=\"dir\\\\x.txt\"", "a", "dir\\x.txt" },
	{ CT, "form-data; name=\"a\"; filename=\"q\\\"uote.txt\"", "a", "q\"uote.txt" },
	{ CT, "form-data; name=\"a\"; filename=\"semi;colon.txt\"", "a", "semi;colon.txt" },
	{ CT, "form-data; name=\"a\"; filename=\"../../etc/passwd\"", "a", "../../etc/passwd" },
	{ CT, "form-data; name=\"a\"; filename = \"spaced\"", "a", "spaced" },
	{ CT, "form-data; name=\"a\"; filename=\"\xe4\xb8\x96\xe7\x95\x8c.txt\"", "a",
	  "\xe4\xb8\x96\xe7\x95\x8c.txt" },
};

START_TEST(test_header_parameters)
{
	char body[1024];
	int l = snprintf(body, sizeof(body),
	    "--XyZ\r\nContent-Disposition: %s\r\n\r\nv\r\n--XyZ--\r\n",
	    param_cases[_i].disposition);
	struct transcript *t;

	ck_assert(l > 0 && (size_t)l < sizeof(body));
	t = parse(param_cases[_i].ct, body, (size_t)l, 0);
	ck_assert_msg(t->r == 0, "case %d: %d", _i, t->r);
	ck_assert_uint_eq(t->n, 1);
	ck_assert_str_eq(t->p[0].name, param_cases[_i].name);
	if (param_cases[_i].filename)
		ck_assert_str_eq(t->p[0].filename, param_cases[_i].filename);
	else
		ck_assert_ptr_null(t->p[0].filename);
	transcript_done(t);
}
END_TEST

/* ---- rejected bodies ------------------------------------------------------------- */

static const struct {
	const char *ct;
	const char *body;
	const char *why;
} bad_cases[] = {
	{ "application/json", "{}", "not multipart" },
	{ "multipart/form-data", "--\r\n", "no boundary" },
	{ "multipart/form-data; boundary=", "--\r\n", "empty boundary" },
	{ "multipart/form-data; boundary=\"\"", "--\r\n", "empty quoted boundary" },
	{ CT, "", "empty body" },
	{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv", "no closing" },
	{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ\r\n",
	  "ends after a delimiter" },
	{ CT, "--XyZ\r\n\r\nv\r\n--XyZ--", "no headers" },
	{ CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", "no disposition" },
	{ CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--", "no name" },
	{ CT, "--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--", "bad header line" },
	{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZjunk\r\n",
	  "junk after a delimiter" },
	{ CT, "--XyZ                                                                    "
	  "                \r\n", "endless padding" },
	{ CT, "just a preamble without any delimiter", "no delimiter" },
};

START_TEST(test_bad_bodies)
{
	struct transcript *t = parse(bad_cases[_i].ct, bad_cases[_i].body,
	    strlen(bad_cases[_i].body), 0);

	ck_assert_msg(t->r == -EBADMSG, "%s: %d", bad_cases[_i].why, t->r);
	ck_assert_msg(t->error != NULL, "%s: no error text", bad_cases[_i].why);
	transcript_done(t);
}
END_TEST

START_TEST(test_error_texts_and_stickiness)
{
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv";
	struct multipart *m = NULL;
	const char *err = NULL;

	ck_assert_int_eq(multipart_new("multipart/form-data", NULL, NULL, &m, &err), -EBADMSG);
	ck_assert_str_eq(err, "Missing boundary in multipart.");
	ck_assert_int_eq(multipart_new(CT, NULL, NULL, &m, NULL), 0);
	ck_assert_int_eq(multipart_feed(m, body, sizeof(body) - 1), 0);
	ck_assert_ptr_null(multipart_error(m));
	ck_assert(!multipart_done(m));
	ck_assert_int_eq(multipart_finish(m), -EBADMSG);
	ck_assert_str_eq(multipart_error(m), "Multipart body ended before the closing boundary");
	/* a failed parser stays failed */
	ck_assert_int_eq(multipart_feed(m, "\r\n--XyZ--", 9), -EBADMSG);
	ck_assert_int_eq(multipart_finish(m), -EBADMSG);
	multipart_free(m);
	multipart_free(NULL);
}
END_TEST

static char *
many_parts(size_t n, bool files, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (files)
			ck_assert_int_eq(strbuf_printf(&sb, "--XyZ\r\nContent-Disposition: "
			    "form-data; name=\"files\"; filename=\"d/f%zu\"\r\n\r\n%zu\r\n", i, i),
			    0);
		else
			ck_assert_int_eq(strbuf_printf(&sb, "--XyZ\r\nContent-Disposition: "
			    "form-data; name=\"f%zu\"\r\n\r\n%zu\r\n", i, i), 0);
	}
	ck_assert_int_eq(strbuf_puts(&sb, "--XyZ--\r\n"), 0);
	*ret_len = sb.len;
	return strbuf_steal(&sb);
}

START_TEST(test_part_limits)
{
	size_t len;
	char *body;
	struct transcript *t;

	/* exactly 1000 files and 1000 fields are fine, one more is refused */
	body = many_parts(1000, true, &len);
	t = parse(CT, body, len, 4096);
	ck_assert_int_eq(t->r, 0);
	ck_assert_uint_eq(t->n, 1000);
	ck_assert_str_eq(t->p[999].filename, "d/f999");
	ck_assert_str_eq(strbuf_str(&t->p[999].data), "999");
	transcript_done(t);
	free(body);

	body = many_parts(1001, true, &len);
	{
		struct multipart *m = NULL;

		ck_assert_int_eq(multipart_new(CT, NULL, NULL, &m, NULL), 0);
		ck_assert_int_eq(multipart_feed(m, body, len), -EBADMSG);
		ck_assert_str_eq(multipart_error(m),
		    "Too many files. Maximum number of files is 1000.");
		ck_assert_uint_eq(multipart_n_files(m), 1001);
		multipart_free(m);
	}
	free(body);

	body = many_parts(1000, false, &len);
	t = parse(CT, body, len, 0);
	ck_assert_int_eq(t->r, 0);
	transcript_done(t);
	free(body);
	body = many_parts(1001, false, &len);
	{
		struct multipart *m = NULL;

		ck_assert_int_eq(multipart_new(CT, NULL, NULL, &m, NULL), 0);
		ck_assert_int_eq(multipart_feed(m, body, len), -EBADMSG);
		ck_assert_str_eq(multipart_error(m),
		    "Too many fields. Maximum number of fields is 1000.");
		multipart_free(m);
	}
	free(body);
}
END_TEST

START_TEST(test_field_and_header_size_limits)
{
	size_t n = MULTIPART_MAX_FIELD_SIZE + 1;
	struct strbuf sb = STRBUF_INIT;
	struct multipart *m = NULL;
	char *big = malloc(n);
	struct transcript *t;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	/* a plain field of 1 MiB is fine, one byte more is refused */
	ck_assert_int_eq(strbuf_puts(&sb, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"a\"\r\n\r\n"), 0);
	ck_assert_int_eq(strbuf_append(&sb, big, n - 1), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n--XyZ--"), 0);
	t = parse(CT, sb.buf, sb.len, 0);
	ck_assert_int_eq(t->r, 0);
	ck_assert_uint_eq(t->p[0].data.len, n - 1);
	transcript_done(t);
	strbuf_reset(&sb);

	ck_assert_int_eq(strbuf_puts(&sb, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"a\"\r\n\r\n"), 0);
	ck_assert_int_eq(strbuf_append(&sb, big, n), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n--XyZ--"), 0);
	ck_assert_int_eq(multipart_new(CT, NULL, NULL, &m, NULL), 0);
	ck_assert_int_eq(multipart_feed(m, sb.buf, sb.len), -EBADMSG);
	ck_assert_str_eq(multipart_error(m), "Part exceeded maximum size of 1024KB.");
	m = multipart_free(m);
	strbuf_reset(&sb);

	/* the same size as a file part is fine: files have no limit here */
	ck_assert_int_eq(strbuf_puts(&sb, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; "
	    "filename=\"f\"\r\n\r\n"), 0);
	ck_assert_int_eq(strbuf_append(&sb, big, n), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "\r\n--XyZ--"), 0);
	t = parse(CT, sb.buf, sb.len, 100000);
	ck_assert_int_eq(t->r, 0);
	transcript_done(t);
	strbuf_reset(&sb);

	/* an endless header block is refused without buffering it */
	ck_assert_int_eq(strbuf_puts(&sb, "--XyZ\r\nX-Long: "), 0);
	ck_assert_int_eq(strbuf_append(&sb, big, MULTIPART_MAX_HEADERS + 10), 0);
	ck_assert_int_eq(multipart_new(CT, NULL, NULL, &m, NULL), 0);
	ck_assert_int_eq(multipart_feed(m, sb.buf, sb.len), -EBADMSG);
	ck_assert_str_eq(multipart_error(m), "Multipart part headers too large");
	multipart_free(m);

	strbuf_free(&sb);
	free(big);
}
END_TEST

START_TEST(test_callback_error_stops)
{
	size_t len;
	char *body = many_parts(5, true, &len);
	struct transcript *t = calloc(1, sizeof(*t));
	struct multipart *m = NULL;

	ck_assert_ptr_nonnull(t);
	t->fail_at_begin = 2;
	ck_assert_int_eq(multipart_new(CT, &cbs, t, &m, NULL), 0);
	ck_assert_int_eq(multipart_feed(m, body, len), -ENOSPC);
	ck_assert_ptr_null(multipart_error(m));		/* not a body error: no 400 text */
	ck_assert_int_eq(multipart_finish(m), -ENOSPC);
	ck_assert_uint_eq(t->n, 2);
	ck_assert(t->p[0].ended && t->p[1].ended);
	multipart_free(m);
	transcript_done(t);
	free(body);
}
END_TEST

static Suite *
multipart_suite(void)
{
	Suite *s = suite_create("multipart");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_browser_body);
	tcase_add_test(tc, test_any_chunking_same_result);
	tcase_add_test(tc, test_large_binary_streamed_in_bounded_chunks);
	tcase_add_loop_test(tc, test_header_parameters, 0, (int)ELEMENTSOF(param_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_bodies, 0, (int)ELEMENTSOF(bad_cases));
	tcase_add_test(tc, test_error_texts_and_stickiness);
	tcase_add_test(tc, test_part_limits);
	tcase_add_test(tc, test_field_and_header_size_limits);
	tcase_add_test(tc, test_callback_error_stops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(multipart_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
