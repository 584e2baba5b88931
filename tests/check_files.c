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
#include "helpers.h"

#define MASTER "master-token-for-file-tests"
#define AUTH "HTTP_AUTHORIZATION=Bearer " MASTER

static struct tmpdir *td;
static struct config *cfg;
static struct app app;
static struct db *db;
static struct worker worker;

static void
setup(void)
{
	char *env[16], *logs, *dbp, *srv, *arc;
	size_t n = 0;

	td = tmpdir_new();
	tmpdir_mkdir(td, "servers");
	ck_assert_int_ge(asprintf(&logs, "LOGS_DIR=%s/logs", td->path), 0);
	ck_assert_int_ge(asprintf(&dbp, "DATABASE_PATH=%s/db.sqlite3", td->path), 0);
	ck_assert_int_ge(asprintf(&srv, "SERVER_PATH=%s/servers", td->path), 0);
	ck_assert_int_ge(asprintf(&arc, "ARCHIVE_PATH=%s/archives", td->path), 0);
	env[n++] = "MASTER_TOKEN=" MASTER;
	env[n++] = "JWT__SECRET_KEY=secret-for-file-tests";
	env[n++] = "FILES__MAX_CONTENT_SIZE=4096";
	env[n++] = "FILES__UPLOAD_SESSION_SECONDS=60";
	env[n++] = logs;
	env[n++] = dbp;
	env[n++] = srv;
	env[n++] = arc;
	env[n++] = "MC_ADMIN_CONFIG=/dev/null";
	env[n] = NULL;
	ck_assert_int_eq(config_load(NULL, env, &cfg, NULL), 0);
	free(logs);
	free(dbp);
	free(srv);
	free(arc);
	ck_assert_int_eq(db_migrate(cfg->database_path, NULL, NULL), 0);
	ck_assert_int_eq(db_open(cfg->database_path, &db), 0);
	worker.db = db;
	app = (struct app){ .cfg = cfg, .proc_root = "/proc", .bcrypt_cost = 4 };
	ck_assert_int_eq(auth_new(cfg->jwt.secret_key, "HS256", 60, cfg->master_token,
	    &app.auth), 0);
	/* no audit: every upload then takes the streaming path, even small ones */
	ck_assert_int_eq(audit_open(cfg->logs_dir, cfg->audit.log_file, false, &app.audit), 0);
	ck_assert_int_eq(servers_new(&(struct servers_config){ .server_path = cfg->server_path },
	    &app.servers), 0);
	/* a server (compose candidate present) with some data */
	tmpdir_write(td, "servers/s1/docker-compose.yml", "services: {}\n");
	tmpdir_write(td, "servers/s1/data/server.properties", "motd=x\n");
	tmpdir_write(td, "servers/s1/data/world/level.dat", "LEVEL");
	tmpdir_symlink(td, "servers/s1/data/etc", "/etc");
}

static void
teardown(void)
{
	app.servers = servers_free(app.servers);
	app.audit = audit_close(app.audit);
	app.auth = auth_free(app.auth);
	db = db_close(db);
	cfg = config_free(cfg);
	td = tmpdir_free(td);
}

/* ---- the loopback ------------------------------------------------------------------ */

struct body_src {
	const char *p;
	size_t left;
	size_t piece;		/* at most this much per read (0: all) */
};

static ssize_t
mem_read(void *userdata, void *buf, size_t n)
{
	struct body_src *b = userdata;

	if (b->piece && n > b->piece)
		n = b->piece;
	if (n > b->left)
		n = b->left;
	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return (ssize_t)n;
}

struct result {
	int status;
	char *body;
	char *headers;
	json_object *json;
};

static void
result_done(struct result *r)
{
	free(r->body);
	free(r->headers);
	json_object_put(r->json);
	*r = (struct result){ 0 };
}

/* call("POST", "/api/x?q", body, len, piece, "CONTENT_TYPE=…", NULL) */
static struct result
callv(const char *method, const char *path, const char *body, size_t len, size_t piece,
    va_list ap)
{
	struct body_src src = { body ? body : "", body ? len : 0, piece };
	char *env[16], *m, *p, *q = NULL, *cl = NULL;
	const char *qs = strchr(path, '?'), *h;
	struct req rq = { .env = env, .read = mem_read, .read_userdata = &src };
	struct resp rs;
	struct result res = { 0 };
	size_t n = 0;

	ck_assert_int_ge(asprintf(&m, "REQUEST_METHOD=%s", method), 0);
	ck_assert_int_ge(asprintf(&p, "DOCUMENT_URI=%.*s",
	    qs ? (int)(qs - path) : (int)strlen(path), path), 0);
	env[n++] = m;
	env[n++] = p;
	if (qs) {
		ck_assert_int_ge(asprintf(&q, "QUERY_STRING=%s", qs + 1), 0);
		env[n++] = q;
	}
	if (body) {
		ck_assert_int_ge(asprintf(&cl, "CONTENT_LENGTH=%zu", len), 0);
		env[n++] = cl;
	}
	env[n++] = AUTH;
	env[n++] = "REMOTE_ADDR=127.0.0.1";
	while ((h = va_arg(ap, const char *)) && n < ELEMENTSOF(env) - 1)
		env[n++] = (char *)h;
	env[n] = NULL;

	resp_init(&rs);
	ck_assert_int_eq(api_handle(&app, &worker, &rq, &rs), 0);
	res.status = rs.status;
	res.body = strdup(strbuf_str(&rs.body));
	res.headers = strdup(strbuf_str(&rs.headers));
	if (rs.content_type && startswith(rs.content_type, "application/json"))
		res.json = json_tokener_parse(res.body);
	req_done(&rq);
	resp_done(&rs);
	free(m);
	free(p);
	free(q);
	free(cl);
	return res;
}

static struct result
call(const char *method, const char *path, const char *body, ...)
{
	struct result r;
	va_list ap;

	va_start(ap, body);
	r = callv(method, path, body, body ? strlen(body) : 0, 0, ap);
	va_end(ap);
	return r;
}

static struct result
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

static struct result
call_piece(const char *method, const char *path, const char *body, size_t len, size_t piece,
    ...)
{
	struct result r;
	va_list ap;

	va_start(ap, piece);
	r = callv(method, path, body, len, piece, ap);
	va_end(ap);
	return r;
}

/* A multipart upload fed to the handler 1000 bytes at a time. */
static struct result
upload(const char *path, const char *body, size_t len)
{
	return call_piece("POST", path, body, len, 1000,
	    "CONTENT_TYPE=multipart/form-data; boundary=BnD", NULL);
}

static const char *
jstr(const struct result *r, const char *key)
{
	json_object *v;

	ck_assert_ptr_nonnull(r->json);
	ck_assert_msg(json_object_object_get_ex(r->json, key, &v), "no '%s' in %s", key, r->body);
	return json_object_get_string(v);
}

static void
assert_answer(struct result r, int status, const char *body)
{
	ck_assert_msg(r.status == status, "status %d, wanted %d: %s", r.status, status, r.body);
	if (body)
		ck_assert_str_eq(r.body, body);
	result_done(&r);
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
	_cleanup_free_ char *p = tmpdir_join(td, rel);

	n_tmp = 0;
	ck_assert_int_eq(nftw(p, tmp_cb, 16, FTW_PHYS), 0);
	return n_tmp;
}

/* ---- archive manager ------------------------------------------------------------------ */

START_TEST(test_streamed_upload)
{
	size_t big = 3 * 1024 * 1024 + 5, len;
	char *data = malloc(big), *body, *c;
	struct result r;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)("\r\n--BnD-x"[i % 9]);
	body = mp_body(&len, "path", NULL, "ignored", (size_t)7, "file", "big.bin", data, big,
	    (const char *)NULL);
	r = upload("/api/archive/upload?path=/a/b", body, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(&r, "message"), "Archive file 'big.bin' uploaded successfully");
	result_done(&r);
	c = tmpdir_read(td, "archives/a/b/big.bin");
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
	c = tmpdir_read(td, "archives/a/b/big.bin");
	ck_assert_str_eq(c, "small");
	free(c);
	/* cut short: 400, nothing written, no temporary left */
	assert_answer(upload("/api/archive/upload?path=/a", body, len - 10), 400,
	    "{\"detail\":\"Multipart body ended before the closing boundary\"}");
	ck_assert(!tmpdir_exists(td, "archives/a/big.bin"));
	ck_assert_uint_eq(count_tmp("archives"), 0);
	free(body);
	/* a bad name, a missing file field, not multipart at all */
	body = mp_body(&len, "file", "../../escape", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload("/api/archive/upload", body, len), 400,
	    "{\"detail\":\"Invalid path\"}");
	free(body);
	ck_assert(!tmpdir_exists(td, "escape"));
	body = mp_body(&len, "other", NULL, "x", (size_t)1, (const char *)NULL);
	r = upload("/api/archive/upload", body, len);
	ck_assert_int_eq(r.status, 422);
	ck_assert(strstr(r.body, "[\"body\",\"file\"]"));
	result_done(&r);
	free(body);
	r = call("POST", "/api/archive/upload", "x", "CONTENT_TYPE=text/plain", NULL);
	ck_assert_int_eq(r.status, 400);
	result_done(&r);
	free(data);
}
END_TEST

START_TEST(test_archive_text_and_download)
{
	struct result r;
	char *c;

	tmpdir_write(td, "archives/notes/latin1.txt", "caf\xe9\r\nx\ry");
	r = call("GET", "/api/archive/content?path=/notes/latin1.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(&r, "content"), "caf\xc3\xa9\nx\ny");
	result_done(&r);
	assert_answer(call_json("POST", "/api/archive/content?path=notes/latin1.txt",
	    "{\"content\":\"a\\u0000b\\r\\n\"}"), 200,
	    "{\"message\":\"Archive file updated successfully\"}");
	c = tmpdir_read(td, "archives/notes/latin1.txt");
	ck_assert(memcmp(c, "a\0b\r\n", 5) == 0);
	free(c);
	/* files.max_content_size (4096 here) */
	{
		char big[5000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		tmpdir_write(td, "archives/big.txt", big);
	}
	r = call("GET", "/api/archive/content?path=big.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(r.body, "files.max_content_size"));
	result_done(&r);

	/* download: nginx gets the internal URI, percent-encoded, and the name */
	tmpdir_write(td, "archives/notes/a b%?#\xe4\xb8\x96.zip", "zip");
	r = call("GET", "/api/archive/download?path=notes/a%20b%25%3F%23%E4%B8%96.zip", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "");
	ck_assert_msg(strstr(r.headers, "X-Accel-Redirect: /_mc_admin_internal/archives/notes/"
	    "a%20b%25%3F%23%E4%B8%96.zip\r\n"), "%s", r.headers);
	ck_assert(strstr(r.headers, "Content-Disposition: attachment; filename*=utf-8''"
	    "a%20b%25%3F%23%E4%B8%96.zip\r\n"));
	result_done(&r);
	r = call("GET", "/api/servers/s1/files/download?path=world/level.dat", NULL, NULL);
	ck_assert(strstr(r.headers, "X-Accel-Redirect: /_mc_admin_internal/servers/s1/data/"
	    "world/level.dat\r\n"));
	ck_assert(strstr(r.headers, "Content-Disposition: attachment; filename=\"level.dat\"\r\n"));
	result_done(&r);
	assert_answer(call("GET", "/api/servers/s1/files/download?path=etc/passwd", NULL, NULL),
	    400, "{\"detail\":\"Invalid path\"}");
	assert_answer(call("GET", "/api/archive/download?path=notes", NULL, NULL), 400,
	    "{\"detail\":\"Path is not a file\"}");
	assert_answer(call("GET", "/api/archive/download?path=nope", NULL, NULL), 404,
	    "{\"detail\":\"Archive file not found\"}");

	r = call("GET", "/api/archive/sha256?path=notes/latin1.txt", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(&r, "filename"), "latin1.txt");
	ck_assert_uint_eq(strlen(jstr(&r, "sha256")), 64);
	result_done(&r);
}
END_TEST

/* ---- server files and the multi-file protocol ------------------------------------------- */

START_TEST(test_server_files)
{
	struct result r;

	r = call("GET", "/api/servers/s1/files?path=/", NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(r.body, "\"name\":\"world\",\"type\":\"directory\",\"size\":0"));
	ck_assert(strstr(r.body, "\"current_path\":\"/\""));
	result_done(&r);
	assert_answer(call("GET", "/api/servers/s1/files?path=etc", NULL, NULL), 400,
	    "{\"detail\":\"Invalid path\"}");
	assert_answer(call("GET", "/api/servers/nope/files", NULL, NULL), 404,
	    "{\"detail\":\"Server 'nope' not found\"}");
	assert_answer(call_json("POST", "/api/servers/s1/files/create",
	    "{\"name\":\"p\",\"type\":\"directory\",\"path\":\"/plugins/x\"}"), 200,
	    "{\"message\":\"Directory 'p' created successfully\"}");
	ck_assert(tmpdir_exists(td, "servers/s1/data/plugins/x/p"));
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
	struct result r;
	char *sid;

	ck_assert_int_ge(asprintf(&body, "{\"files\":%s}", files_json), 0);
	r = call_json("POST", "/api/servers/s1/files/upload/check?path=/up", body);
	ck_assert_int_eq(r.status, 200);
	sid = strdup(jstr(&r, "session_id"));
	result_done(&r);
	ck_assert_int_ge(asprintf(&path, "/api/servers/s1/files/upload/policy?session_id=%s%s",
	    sid, query), 0);
	assert_answer(call_json("POST", path, policy_json), 200,
	    "{\"message\":\"Upload policy set successfully\"}");
	return sid;
}

START_TEST(test_multi_upload)
{
	_cleanup_free_ char *sid = NULL, *url = NULL, *body = NULL;
	struct result r;
	size_t len;
	char *c;

	tmpdir_write(td, "servers/s1/data/up/old.txt", "old");
	sid = session_for("[{\"path\":\"old.txt\",\"name\":\"old.txt\",\"type\":\"file\","
	    "\"size\":3},{\"path\":\"d\",\"name\":\"d\",\"type\":\"directory\"}]",
	    "{\"mode\":\"per_file\",\"decisions\":[{\"path\":\"old.txt\",\"overwrite\":false}]}",
	    "&reusable=true");
	ck_assert_int_ge(asprintf(&url,
	    "/api/servers/s1/files/upload/multiple?session_id=%s&path=/up", sid), 0);
	body = mp_body(&len, "files", "old.txt", "new", (size_t)3, "files", "d/e/new.txt", "n",
	    (size_t)1, "files", "", "skipped", (size_t)7, "files", "d", "on a dir", (size_t)8,
	    (const char *)NULL);
	tmpdir_mkdir(td, "servers/s1/data/up/d");
	r = upload(url, body, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"message\":\"Upload completed. Success: 1/3\",\"results\":{"
	    "\"old.txt\":{\"status\":\"skipped\",\"reason\":\"exists\"},"
	    "\"d/e/new.txt\":{\"status\":\"success\",\"reason\":null},"
	    "\"d\":{\"status\":\"skipped\",\"reason\":\"no_decision\"}}}");
	result_done(&r);
	c = tmpdir_read(td, "servers/s1/data/up/old.txt");
	ck_assert_str_eq(c, "old");
	free(c);
	/* reusable: a second chunk works */
	free(body);
	body = mp_body(&len, "files", "x.txt", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload(url, body, len), 200, NULL);
	ck_assert(tmpdir_exists(td, "servers/s1/data/up/x.txt"));
	/* a bad name stops the request with 400 */
	free(body);
	body = mp_body(&len, "files", "../../../escape.txt", "x", (size_t)1, (const char *)NULL);
	assert_answer(upload(url, body, len), 400, "{\"detail\":\"Invalid path\"}");
	ck_assert(!tmpdir_exists(td, "servers/escape.txt"));
	ck_assert_uint_eq(count_tmp("servers"), 0);
}
END_TEST

START_TEST(test_session_store)
{
	struct db_upload_session s;
	int64_t now = now_realtime_usec();

	ck_assert_int_eq(db_upload_session_insert(db, "a", "[]", now, now + 1000), 0);
	ck_assert_int_eq(db_upload_session_insert(db, "a", "[]", now, now + 1000), -EEXIST);
	ck_assert_int_eq(db_upload_session_insert(db, "b", "[{\"path\":\"x\"}]", now, now + 5), 0);
	ck_assert_int_eq(db_upload_session_get(db, "a", now, &s), 0);
	ck_assert_str_eq(s.conflicts, "[]");
	ck_assert_ptr_null(s.policy);
	ck_assert(!s.reusable);
	db_upload_session_done(&s);
	ck_assert_int_eq(db_upload_session_set_policy(db, "a", "{\"mode\":\"x\"}", true, now), 0);
	ck_assert_int_eq(db_upload_session_get(db, "a", now, &s), 0);
	ck_assert_str_eq(s.policy, "{\"mode\":\"x\"}");
	ck_assert(s.reusable);
	db_upload_session_done(&s);
	/* expiry is fixed at creation: expired ones are invisible, then purged */
	ck_assert_int_eq(db_upload_session_get(db, "b", now + 5, &s), -ENOENT);
	ck_assert_int_eq(db_upload_session_set_policy(db, "b", "{}", false, now + 5), -ENOENT);
	ck_assert_int_eq(db_upload_session_purge(db, now + 5), 1);
	ck_assert_int_eq(db_upload_session_purge(db, now + 5), 0);
	/* single use: exactly one delete wins */
	ck_assert_int_eq(db_upload_session_delete(db, "a"), 0);
	ck_assert_int_eq(db_upload_session_delete(db, "a"), -ENOENT);
	ck_assert_int_eq(db_upload_session_get(db, "missing", now, &s), -ENOENT);

	/* through the API: unknown sessions are 404 */
	assert_answer(call_json("POST", "/api/servers/s1/files/upload/policy?session_id=nope",
	    "{\"mode\":\"never_overwrite\"}"), 404,
	    "{\"detail\":\"Upload session not found or expired\"}");
}
END_TEST

START_TEST(test_compress_names)
{
	struct result r;
	const char *name;

	tmpdir_write(td, "servers/s1/data/plugins/my config/a.yml", "a: 1\n");
	r = call_json("POST", "/api/archive/compress",
	    "{\"server_id\":\"s1\",\"path\":\"plugins/my config\"}");
	ck_assert_int_eq(r.status, 200);
	name = jstr(&r, "archive_filename");
	ck_assert_msg(startswith(name, "s1_plugins_my_config_") && strlen(name) ==
	    strlen("s1_plugins_my_config_20250923_142501.7z"), "%s", name);
	ck_assert(tmpdir_exists(td, "archives") && count_tmp("archives") == 0);
	result_done(&r);
	assert_answer(call_json("POST", "/api/archive/compress", "{\"server_id\":\"nope\"}"), 404,
	    "{\"detail\":\"Server 'nope' not found\"}");
	assert_answer(call_json("POST", "/api/archive/compress",
	    "{\"server_id\":\"s1\",\"path\":\"/missing\"}"), 404,
	    "{\"detail\":\"Path '/missing' not found in server data directory\"}");
	/* populate needs docker for the status: 503 without it, nothing touched */
	r = call_json("POST", "/api/servers/s1/populate", "{\"archive_filename\":\"/x.zip\"}");
	ck_assert_int_eq(r.status, 503);
	result_done(&r);
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
