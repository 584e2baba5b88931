/* SPDX-License-Identifier: MIT */
/*
 * The API pipeline driven in memory for Check tests (h2o's loopback idea):
 * api_handle() on a real temporary tree and a real migrated SQLite file, no
 * FastCGI, no nginx. Shared by check_api, check_servers and check_files.
 */
#pragma once

#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "helpers.h"

struct apitest {
	struct tmpdir *td;	/* logs/, db.sqlite3, servers/ (server_path), archives/ */
	struct config *cfg;
	struct db *db;
	struct app app;		/* auth, audit and the login limiter; servers is the test's */
	struct worker worker;	/* the database and a token cache */
};

/*
 * Build the bench. env: "KEY=value" configuration assignments (NULL-terminated)
 * on top of the tree's paths: MASTER_TOKEN, JWT__SECRET_KEY, limits, …
 * audit_bodies: the audit log records request bodies (false: every upload
 * takes the streaming path, even a small one).
 */
void apitest_setup(struct apitest *t, const char *const *env, bool audit_bodies);
/* Free everything, app.servers included, and remove the tree. */
void apitest_teardown(struct apitest *t);

struct api_result {
	int status;
	char *body;
	char *headers;		/* as the response carries them, "Name: value\r\n" each */
	json_object *json;	/* the parsed body when the answer is JSON, else NULL */
	size_t body_read;	/* request body bytes the handler read */
};

void api_result_done(struct api_result *r);

/*
 * One request. path may carry "?query". body (len bytes; NULL: no body, no
 * Content-Length) is handed out at most piece bytes per read (0: as asked).
 * auth: "HTTP_AUTHORIZATION=…" or NULL; headers: more CGI "KEY=value"
 * strings, NULL-terminated. REMOTE_ADDR is 127.0.0.1.
 */
struct api_result apitest_callv(struct apitest *t, const char *method, const char *path,
    const char *body, size_t len, size_t piece, const char *auth, va_list headers);
/* The same with a NUL-terminated body read as asked, no auth, and headers..., NULL. */
struct api_result apitest_call(struct apitest *t, const char *method, const char *path,
    const char *body, ...);

/* The answer has this status and the body {"detail": detail}. */
void api_assert_detail(const struct api_result *r, int status, const char *detail);
/* A member of the JSON answer, which must be there, as a string. */
const char *api_jstr(const struct api_result *r, const char *key);
