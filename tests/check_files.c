/* SPDX-License-Identifier: MIT */
/*
 * The file and archive managers driven in memory through api_handle() (the
 * h2o loopback idea; no FastCGI, no nginx, no docker), on a real temporary
 * server_path/archive_path and a real migrated SQLite file: streamed uploads
 * fed in small pieces, text reads and writes, the download answer for nginx,
 * the multi-file protocol and its session store, compress and its names.
 * The same code runs under ASan and valgrind here; test_files.py drives it
 * through the real nginx.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/util.h"
#include "apitest.h"

#define MASTER "master-token-for-file-tests"
#define AUTH "HTTP_AUTHORIZATION=Bearer " MASTER

static struct apitest bench;

static void
setup(void)
{
	static const char *const env[] = {
		"MASTER_TOKEN=" MASTER, "JWT__SECRET_KEY=secret-for-file-tests",
		"FILES__MAX_CONTENT_SIZE=4096", "FILES__UPLOAD_SESSION_SECONDS=60", NULL,
	};

	/* no audit of bodies: every upload then takes the streaming path, even small ones */
	apitest_setup(&bench, env, false);
	ck_assert_int_eq(servers_new(&(struct servers_config){
	    .server_path = bench.cfg->server_path }, &bench.app.servers), 0);
	/* a server (compose candidate present) with some data */
	tmpdir_write(bench.td, "servers/s1/docker-compose.yml", "services: {}\n");
	tmpdir_write(bench.td, "servers/s1/data/server.properties", "motd=x\n");
	tmpdir_write(bench.td, "servers/s1/data/world/level.dat", "LEVEL");
	tmpdir_symlink(bench.td, "servers/s1/data/etc", "/etc");
}

static void
teardown(void)
{
	apitest_teardown(&bench);
}

/* ---- the loopback ------------------------------------------------------------------ */

static struct api_result
call(const char *method, const char *path, const char *body, ...)
{
	struct api_result r;
	va_list ap;

	va_start(ap, body);
	r = apitest_callv(&bench, method, path, body, body ? strlen(body) : 0, 0, AUTH, ap);
	va_end(ap);
	return r;
}

static struct api_result
call_json(const char *method, const char *path, const char *body)
{
	return call(method, path, body, "CONTENT_TYPE=application/json", NULL);
}

/* A multipart body: parts given as name, filename (NULL: a field), data, len; NULL ends. */
static char *
mp_body(size_t *ret_len, ...)
{
	struct strbuf sb = STRBUF_INIT;
	const char *name;
	va_list ap;

	va_start(ap, ret_len);
	while ((name = va_arg(ap, const char *))) {
		const char *fn = va_arg(ap, const char *);
		const char *data = va_arg(ap, const char *);
		size_t len = va_arg(ap, size_t);

		ck_assert_int_eq(strbuf_printf(&sb, "--BnD\r\nContent-Disposition: form-data; "
		    "name=\"%s\"", name), 0);
		if (fn)
			ck_assert_int_eq(strbuf_printf(&sb, "; filename=\"%s\"", fn), 0);
		ck_assert_int_eq(strbuf_puts(&sb, "\r\n\r\n"), 0);
		ck_assert_int_eq(strbuf_append(&sb, data, len), 0);
		ck_assert_int_eq(strbuf_puts(&sb, "\r\n"), 0);
	}
	va_end(ap);
	ck_assert_int_eq(strbuf_puts(&sb, "--BnD--\r\n"), 0);
	*ret_len = sb.len;
	return strbuf_steal(&sb);
}

static struct api_result
call_piece(const char *method, const char *path, const char *body, size_t len, size_t piece,
    ...)
{
	struct api_result r;
	va_list ap;

	va_start(ap, piece);
	r = apitest_callv(&bench, method, path, body, len, piece, AUTH, ap);
	va_end(ap);
	return r;
}

/* A multipart upload fed to the handler 1000 bytes at a time. */
static struct api_result
upload(const char *path, const char *body, size_t len)
{
	return call_piece("POST", path, body, len, 1000,
	    "CONTENT_TYPE=multipart/form-data; boundary=BnD", NULL);
}

static void
assert_answer(struct api_result r, int status, const char *body)
{
	ck_assert_msg(r.status == status, "status %d, wanted %d: %s", r.status, status, r.body);
	if (body)
		ck_assert_str_eq(r.body, body);
	api_result_done(&r);
}

static size_t n_tmp;

static int
tmp_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	n_tmp += startswith(path + ftw->base, ".mcadmin-tmp-") != NULL;
	return 0;
}

/* every name below rel, hidden ones too, that is a pathsafe temporary */
static size_t
count_tmp(const char *rel)
{
	_cleanup_free_ char *p = tmpdir_join(bench.td, rel);

	n_tmp = 0;
	ck_assert_int_eq(nftw(p, tmp_cb, 16, FTW_PHYS), 0);
	return n_tmp;
}

/* ---- archive manager ------------------------------------------------------------------ */

START_TEST(test_streamed_upload)
{
	size_t big = 3 * 1024 * 1024 + 5, len;
	char *data = malloc(big), *body, *c;
	struct api_result r;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)("\r\n--BnD-x"[i % 9]);
	body = mp_body(&len, "path", NULL, "ignored", (size_t)7, "file", "big.bin", data, big,
	    (const char *)NULL);
	r = upload("/api/archive/upload?path=/a/b", body, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "message"), "Archive file 'big.bin' uploaded successfully");
	api_result_done(&r);
	c = tmpdir_read(bench.td, "archives/a/b/big.bin");
	ck_assert_ptr_nonnull(c);
	ck_assert(memcmp(c, data, big) == 0);
	free(c);
	/* again: 409, the file is untouched; with allow_overwrite: replaced */
	assert_answer(upload("/api/archive/upload?path=/a/b", body, len), 409,
	    "{\"detail\":\"File already exists\"}");
	free(body);
	body = mp_body(&len, "file", "big.bin", "small", (size_t)5, (const char *)NULL);
	assert_answer(upload("/api/archive/upload?path=/a/b&allow_overwrite=yes", body, len), 200,
	    NULL);
	c = tmpdir_read(bench.td, "archives/a/b/big.bin");
	ck_assert_str_eq(c, "small");
	free(c);
	/* cut short: 400, nothing written, no temporary left */
	assert_answer(upload("/api/archive/upload?path=/a", body, len - 10), 400,
	    "{\"detail\":\"Multipart body ended before the closing boundary\"}");
	ck_assert(!tmpdir_exists(bench.td, "archives/a/big.bin"));
	ck_assert_uint_eq(count_tmp("archives"), 0);
	free(body);
	/* a bad name, a missing file field, not multipart at all */
	body = mp_body(&len, "file", "../../escape", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload("/api/archive/upload", body, len), 400,
	    "{\"detail\":\"Invalid path\"}");
	free(body);
	ck_assert(!tmpdir_exists(bench.td, "escape"));
	body = mp_body(&len, "other", NULL, "x", (size_t)1, (const char *)NULL);
	r = upload("/api/archive/upload", body, len);
	ck_assert_int_eq(r.status, 422);
	ck_assert(strstr(r.body, "[\"body\",\"file\"]"));
	api_result_done(&r);
	free(body);
	r = call("POST", "/api/archive/upload", "x", "CONTENT_TYPE=text/plain", NULL);
	ck_assert_int_eq(r.status, 400);
	api_result_done(&r);
	free(data);
}
END_TEST

START_TEST(test_archive_text_and_download)
{
	struct api_result r;
	char *c;

	tmpdir_write(bench.td, "archives/notes/latin1.txt", "caf\xe9\r\nx\ry");
	r = call("GET", "/api/archive/content?path=/notes/latin1.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "content"), "caf\xc3\xa9\nx\ny");
	api_result_done(&r);
	assert_answer(call_json("POST", "/api/archive/content?path=notes/latin1.txt",
	    "{\"content\":\"a\\u0000b\\r\\n\"}"), 200,
	    "{\"message\":\"Archive file updated successfully\"}");
	c = tmpdir_read(bench.td, "archives/notes/latin1.txt");
	ck_assert(memcmp(c, "a\0b\r\n", 5) == 0);
	free(c);
	/* files.max_content_size (4096 here) */
	{
		char big[5000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		tmpdir_write(bench.td, "archives/big.txt", big);
	}
	r = call("GET", "/api/archive/content?path=big.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "files.max_content_size"));
	api_result_done(&r);

	/* download: nginx gets the internal URI, percent-encoded, and the name */
	tmpdir_write(bench.td, "archives/notes/a b%?#\xe4\xb8\x96.zip", "zip");
	r = call("GET", "/api/archive/download?path=notes/a%20b%25%3F%23%E4%B8%96.zip", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "");
	ck_assert_msg(strstr(r.headers, "X-Accel-Redirect: /_mc_admin_internal/archives/notes/"
	    "a%20b%25%3F%23%E4%B8%96.zip\r\n"), "%s", r.headers);
	ck_assert(strstr(r.headers, "Content-Disposition: attachment; filename*=utf-8''"
	    "a%20b%25%3F%23%E4%B8%96.zip\r\n"));
	api_result_done(&r);
	r = call("GET", "/api/servers/s1/files/download?path=world/level.dat", NULL, NULL);
	ck_assert(strstr(r.headers, "X-Accel-Redirect: /_mc_admin_internal/servers/s1/data/"
	    "world/level.dat\r\n"));
	ck_assert(strstr(r.headers, "Content-Disposition: attachment; filename=\"level.dat\"\r\n"));
	api_result_done(&r);
	assert_answer(call("GET", "/api/servers/s1/files/download?path=etc/passwd", NULL, NULL),
	    400, "{\"detail\":\"Invalid path\"}");
	assert_answer(call("GET", "/api/archive/download?path=notes", NULL, NULL), 400,
	    "{\"detail\":\"Path is not a file\"}");
	assert_answer(call("GET", "/api/archive/download?path=nope", NULL, NULL), 404,
	    "{\"detail\":\"Archive file not found\"}");

	r = call("GET", "/api/archive/sha256?path=notes/latin1.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(api_jstr(&r, "filename"), "latin1.txt");
	ck_assert_uint_eq(strlen(api_jstr(&r, "sha256")), 64);
	api_result_done(&r);
}
END_TEST

/* ---- server files and the multi-file protocol ------------------------------------------- */

START_TEST(test_server_files)
{
	struct api_result r;

	r = call("GET", "/api/servers/s1/files?path=/", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "\"name\":\"world\",\"type\":\"directory\",\"size\":0"));
	ck_assert(strstr(r.body, "\"current_path\":\"/\""));
	api_result_done(&r);
	assert_answer(call("GET", "/api/servers/s1/files?path=etc", NULL, NULL), 400,
	    "{\"detail\":\"Invalid path\"}");
	assert_answer(call("GET", "/api/servers/nope/files", NULL, NULL), 404,
	    "{\"detail\":\"Server 'nope' not found\"}");
	assert_answer(call_json("POST", "/api/servers/s1/files/create",
	    "{\"name\":\"p\",\"type\":\"directory\",\"path\":\"/plugins/x\"}"), 200,
	    "{\"message\":\"Directory 'p' created successfully\"}");
	ck_assert(tmpdir_exists(bench.td, "servers/s1/data/plugins/x/p"));
	assert_answer(call_json("POST", "/api/servers/s1/files/rename",
	    "{\"old_path\":\"/plugins/x/p\",\"new_name\":\"q\"}"), 200,
	    "{\"message\":\"Directory renamed successfully\"}");
	assert_answer(call("DELETE", "/api/servers/s1/files?path=/plugins", NULL, NULL), 200,
	    "{\"message\":\"Directory 'plugins' deleted successfully\"}");
	assert_answer(call("DELETE", "/api/servers/s1/files?path=/", NULL, NULL), 400,
	    "{\"detail\":\"Invalid path\"}");
	assert_answer(call("DELETE", "/api/servers/s1/files?path=etc", NULL, NULL), 200, NULL);
	ck_assert(access("/etc/passwd", F_OK) == 0);
}
END_TEST

static char *
session_for(const char *files_json, const char *policy_json, const char *query)
{
	_cleanup_free_ char *body = NULL, *path = NULL;
	struct api_result r;
	char *sid;

	ck_assert_int_ge(asprintf(&body, "{\"files\":%s}", files_json), 0);
	r = call_json("POST", "/api/servers/s1/files/upload/check?path=/up", body);
	ck_assert_int_eq(r.status, 200);
	sid = strdup(api_jstr(&r, "session_id"));
	api_result_done(&r);
	ck_assert_int_ge(asprintf(&path, "/api/servers/s1/files/upload/policy?session_id=%s%s",
	    sid, query), 0);
	assert_answer(call_json("POST", path, policy_json), 200,
	    "{\"message\":\"Upload policy set successfully\"}");
	return sid;
}

START_TEST(test_multi_upload)
{
	_cleanup_free_ char *sid = NULL, *url = NULL, *body = NULL;
	struct api_result r;
	size_t len;
	char *c;

	tmpdir_write(bench.td, "servers/s1/data/up/old.txt", "old");
	sid = session_for("[{\"path\":\"old.txt\",\"name\":\"old.txt\",\"type\":\"file\","
	    "\"size\":3},{\"path\":\"d\",\"name\":\"d\",\"type\":\"directory\"}]",
	    "{\"mode\":\"per_file\",\"decisions\":[{\"path\":\"old.txt\",\"overwrite\":false}]}",
	    "&reusable=true");
	ck_assert_int_ge(asprintf(&url,
	    "/api/servers/s1/files/upload/multiple?session_id=%s&path=/up", sid), 0);
	body = mp_body(&len, "files", "old.txt", "new", (size_t)3, "files", "d/e/new.txt", "n",
	    (size_t)1, "files", "", "skipped", (size_t)7, "files", "d", "on a dir", (size_t)8,
	    (const char *)NULL);
	tmpdir_mkdir(bench.td, "servers/s1/data/up/d");
	r = upload(url, body, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"message\":\"Upload completed. Success: 1/3\",\"results\":{"
	    "\"old.txt\":{\"status\":\"skipped\",\"reason\":\"exists\"},"
	    "\"d/e/new.txt\":{\"status\":\"success\",\"reason\":null},"
	    "\"d\":{\"status\":\"skipped\",\"reason\":\"no_decision\"}}}");
	api_result_done(&r);
	c = tmpdir_read(bench.td, "servers/s1/data/up/old.txt");
	ck_assert_str_eq(c, "old");
	free(c);
	/* reusable: a second chunk works */
	free(body);
	body = mp_body(&len, "files", "x.txt", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload(url, body, len), 200, NULL);
	ck_assert(tmpdir_exists(bench.td, "servers/s1/data/up/x.txt"));
	/* a bad name stops the request with 400 */
	free(body);
	body = mp_body(&len, "files", "../../../escape.txt", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload(url, body, len), 400, "{\"detail\":\"Invalid path\"}");
	ck_assert(!tmpdir_exists(bench.td, "servers/escape.txt"));
	ck_assert_uint_eq(count_tmp("servers"), 0);
}
END_TEST

START_TEST(test_session_store)
{
	struct db_upload_session s;
	int64_t now = now_realtime_usec();

	ck_assert_int_eq(db_upload_session_insert(bench.db, "a", "[]", now, now + 1000), 0);
	ck_assert_int_eq(db_upload_session_insert(bench.db, "a", "[]", now, now + 1000), -EEXIST);
	ck_assert_int_eq(db_upload_session_insert(bench.db, "b", "[{\"path\":\"x\"}]", now, now + 5), 0);
	ck_assert_int_eq(db_upload_session_get(bench.db, "a", now, &s), 0);
	ck_assert_str_eq(s.conflicts, "[]");
	ck_assert_ptr_null(s.policy);
	ck_assert(!s.reusable);
	db_upload_session_done(&s);
	ck_assert_int_eq(db_upload_session_set_policy(bench.db, "a", "{\"mode\":\"x\"}", true, now), 0);
	ck_assert_int_eq(db_upload_session_get(bench.db, "a", now, &s), 0);
	ck_assert_str_eq(s.policy, "{\"mode\":\"x\"}");
	ck_assert(s.reusable);
	db_upload_session_done(&s);
	/* expiry is fixed at creation: expired ones are invisible, then purged */
	ck_assert_int_eq(db_upload_session_get(bench.db, "b", now + 5, &s), -ENOENT);
	ck_assert_int_eq(db_upload_session_set_policy(bench.db, "b", "{}", false, now + 5), -ENOENT);
	ck_assert_int_eq(db_upload_session_purge(bench.db, now + 5), 1);
	ck_assert_int_eq(db_upload_session_purge(bench.db, now + 5), 0);
	/* single use: exactly one delete wins */
	ck_assert_int_eq(db_upload_session_delete(bench.db, "a"), 0);
	ck_assert_int_eq(db_upload_session_delete(bench.db, "a"), -ENOENT);
	ck_assert_int_eq(db_upload_session_get(bench.db, "missing", now, &s), -ENOENT);

	/* through the API: unknown sessions are 404 */
	assert_answer(call_json("POST", "/api/servers/s1/files/upload/policy?session_id=nope",
	    "{\"mode\":\"never_overwrite\"}"), 404,
	    "{\"detail\":\"Upload session not found or expired\"}");
}
END_TEST

START_TEST(test_compress_names)
{
	struct api_result r;
	const char *name;

	tmpdir_write(bench.td, "servers/s1/data/plugins/my config/a.yml", "a: 1\n");
	r = call_json("POST", "/api/archive/compress",
	    "{\"server_id\":\"s1\",\"path\":\"plugins/my config\"}");
	ck_assert_int_eq(r.status, 200);
	name = api_jstr(&r, "archive_filename");
	ck_assert_msg(startswith(name, "s1_plugins_my_config_") && strlen(name) ==
	    strlen("s1_plugins_my_config_20250923_142501.7z"), "%s", name);
	ck_assert(tmpdir_exists(bench.td, "archives") && count_tmp("archives") == 0);
	api_result_done(&r);
	assert_answer(call_json("POST", "/api/archive/compress", "{\"server_id\":\"nope\"}"), 404,
	    "{\"detail\":\"Server 'nope' not found\"}");
	assert_answer(call_json("POST", "/api/archive/compress",
	    "{\"server_id\":\"s1\",\"path\":\"/missing\"}"), 404,
	    "{\"detail\":\"Path '/missing' not found in server data directory\"}");
	/* populate needs docker for the status: 503 without it, nothing touched */
	r = call_json("POST", "/api/servers/s1/populate", "{\"archive_filename\":\"/x.zip\"}");
	ck_assert_int_eq(r.status, 503);
	api_result_done(&r);
}
END_TEST

static Suite *
files_suite(void)
{
	Suite *s = suite_create("files");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_streamed_upload);
	tcase_add_test(tc, test_archive_text_and_download);
	tcase_add_test(tc, test_server_files);
	tcase_add_test(tc, test_multi_upload);
	tcase_add_test(tc, test_session_store);
	tcase_add_test(tc, test_compress_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(files_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
