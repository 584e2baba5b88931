/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apitest.h"
#include "common/util.h"

#define MAX_ENV 32

void
apitest_setup(struct apitest *t, const char *const *env, bool audit_bodies)
{
	char *all[MAX_ENV], *own[4];
	size_t n = 0, o = 0;

	*t = (struct apitest){ 0 };
	t->td = tmpdir_new();
	tmpdir_mkdir(t->td, "servers");
	ck_assert_int_ge(asprintf(&own[o++], "LOGS_DIR=%s/logs", t->td->path), 0);
	ck_assert_int_ge(asprintf(&own[o++], "DATABASE_PATH=%s/db.sqlite3", t->td->path), 0);
	ck_assert_int_ge(asprintf(&own[o++], "SERVER_PATH=%s/servers", t->td->path), 0);
	ck_assert_int_ge(asprintf(&own[o++], "ARCHIVE_PATH=%s/archives", t->td->path), 0);
	for (size_t i = 0; i < o; i++)
		all[n++] = own[i];
	all[n++] = "MC_ADMIN_CONFIG=/dev/null";
	for (; env && *env; env++) {
		ck_assert_uint_lt(n, MAX_ENV - 1);
		all[n++] = (char *)*env;
	}
	all[n] = NULL;
	ck_assert_int_eq(config_load(NULL, all, &t->cfg, NULL), 0);
	for (size_t i = 0; i < o; i++)
		free(own[i]);

	ck_assert_int_eq(db_migrate(t->cfg->database_path, NULL, NULL), 0);
	ck_assert_int_eq(db_open(t->cfg->database_path, &t->db), 0);
	t->worker.db = t->db;
	ck_assert_int_eq(auth_cache_new(&t->worker.tokens), 0);
	t->app = (struct app){ .cfg = t->cfg, .proc_root = "/proc", .bcrypt_cost = 4 };
	ck_assert_int_eq(auth_new(t->cfg->jwt.secret_key, "HS256", 60, t->cfg->master_token,
	    &t->app.auth), 0);
	ck_assert_int_eq(audit_open(t->cfg->logs_dir, t->cfg->audit.log_file, audit_bodies,
	    &t->app.audit), 0);
	ck_assert_int_eq(login_limiter_new(t->cfg->api.login_attempts, 300, &t->app.limiter), 0);
}

void
apitest_teardown(struct apitest *t)
{
	t->app.servers = servers_free(t->app.servers);
	t->app.audit = audit_close(t->app.audit);
	t->app.auth = auth_free(t->app.auth);
	t->app.limiter = login_limiter_free(t->app.limiter);
	t->db = db_close(t->db);
	t->worker.tokens = auth_cache_free(t->worker.tokens);
	t->cfg = config_free(t->cfg);
	t->td = tmpdir_free(t->td);
}

void
api_result_done(struct api_result *r)
{
	free(r->body);
	free(r->headers);
	json_object_put(r->json);
	*r = (struct api_result){ 0 };
}

struct body_src {
	const char *p;
	size_t left;
	size_t piece;		/* at most this much per read (0: all) */
	size_t read;
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
	b->read += n;
	return (ssize_t)n;
}

struct api_result
apitest_callv(struct apitest *t, const char *method, const char *path, const char *body,
    size_t len, size_t piece, const char *auth, va_list headers)
{
	struct body_src src = { body ? body : "", body ? len : 0, piece, 0 };
	char *env[MAX_ENV], *m, *p, *q = NULL, *cl = NULL;
	const char *qs = strchr(path, '?'), *h;
	struct req rq = { .env = env, .read = mem_read, .read_userdata = &src };
	struct api_result res = { 0 };
	struct resp rs;
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
	env[n++] = "REMOTE_ADDR=127.0.0.1";
	if (auth)
		env[n++] = (char *)auth;
	while ((h = va_arg(headers, const char *))) {
		ck_assert_uint_lt(n, MAX_ENV - 1);
		env[n++] = (char *)h;
	}
	env[n] = NULL;

	resp_init(&rs);
	ck_assert_int_eq(api_handle(&t->app, &t->worker, &rq, &rs), 0);
	res.status = rs.status;
	res.body = strdup(strbuf_str(&rs.body));
	res.headers = strdup(strbuf_str(&rs.headers));
	res.body_read = src.read;
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

struct api_result
apitest_call(struct apitest *t, const char *method, const char *path, const char *body, ...)
{
	struct api_result r;
	va_list ap;

	va_start(ap, body);
	r = apitest_callv(t, method, path, body, body ? strlen(body) : 0, 0, NULL, ap);
	va_end(ap);
	return r;
}

void
api_assert_detail(const struct api_result *r, int status, const char *detail)
{
	ck_assert_msg(r->status == status, "status %d, want %d: %s", r->status, status, r->body);
	ck_assert_str_eq(api_jstr(r, "detail"), detail);
}

const char *
api_jstr(const struct api_result *r, const char *key)
{
	json_object *v;

	ck_assert_msg(r->json != NULL, "not JSON: %s", r->body);
	ck_assert_msg(json_object_object_get_ex(r->json, key, &v), "no '%s' in %s", key, r->body);
	return json_object_get_string(v);
}
