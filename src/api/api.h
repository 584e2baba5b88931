/* SPDX-License-Identifier: MIT */
/*
 * The API: one route table (routes.c), the dispatcher that enforces each
 * route's auth/role/body rules, and the handlers (h_*.c). Handlers see only
 * our types (struct req/resp), so tests drive them in memory.
 */
#pragma once

#include "audit/audit.h"
#include "auth/auth.h"
#include "config/conf.h"
#include "db/db.h"
#include "http/body.h"
#include "http/http.h"
#include "servers/servers.h"
#include "sysinfo/sysinfo.h"

/* Shared, read-mostly state built by main() and passed down explicitly. */
struct app {
	const struct config *cfg;
	struct auth *auth;
	struct audit *audit;
	struct cpu_sampler *cpu;
	struct login_limiter *limiter;
	const char *proc_root;		/* "/proc" except in tests */
	unsigned bcrypt_cost;		/* AUTH_BCRYPT_COST except in tests */
	struct servers *servers;	/* Minecraft servers (§11); NULL: 503 */
};

/* What one worker thread owns: its SQLite connection and token cache. */
struct worker {
	struct db *db;
	struct auth_cache *tokens;	/* may be NULL */
};

/* Everything a handler works with; db belongs to the calling thread. */
struct ctx {
	struct app *app;
	struct db *db;
	struct auth_cache *tokens;
	struct req *rq;
	struct resp *rs;
};

typedef int (*handler_fn)(struct ctx *c);

enum route_flags {
	ROUTE_AUTH = 1 << 0,		/* any valid JWT or the master token */
	ROUTE_OWNER = 1 << 1,		/* role owner (implies AUTH) */
	ROUTE_JSON_BODY = 1 << 2,	/* JSON object body, checked against fields */
	ROUTE_BODY_OPTIONAL = 1 << 3,	/* no body means {} */
	ROUTE_FORM_BODY = 1 << 4,	/* urlencoded or multipart, in memory */
	ROUTE_STREAM_BODY = 1 << 5,	/* uploads: not pre-read, the handler streams it with
					 * req_read() after auth (a body small enough for
					 * the audit log is read first) */
	ROUTE_CONTENT_BODY = 1 << 6,	/* with JSON_BODY: up to files.max_content_size more */
};

struct route {
	enum http_method method;
	const char *pattern;		/* "/api/admin/users/{user_id:int}" */
	handler_fn handler;
	unsigned flags;
	const struct field *fields;	/* JSON body rules, NULL-name terminated */
};

/*
 * Handle one request completely: CORS, routing, body rules, auth,
 * validation, the handler, the audit record. Always fills rs; returns 0.
 */
int api_handle(struct app *app, struct worker *w, struct req *rq, struct resp *rs);

/* Find the route for method+path: 0 and *ret, -ENOENT (404), -EOPNOTSUPP (405).
 * Fills rq->params. */
int api_route_find(struct req *rq, const struct route **ret);

/* Resolve the bearer credential (cached in rq). 0, -ENOKEY (no/non-bearer
 * header), -EKEYREJECTED (invalid or revoked token), other -errno. */
int api_identity(struct ctx *c);

/* UserPublic (API-core §5.6) */
json_object *api_user_public(int64_t id, const char *username, enum user_role role,
    const char *created_at_api);

/* handlers */
int h_auth_token(struct ctx *c);
/* master token only, its own 422/403 rules (§7.2): h_verify_code.c */
int h_auth_verify_code(struct ctx *c);
int h_user_me(struct ctx *c);
int h_admin_users_list(struct ctx *c);
int h_admin_users_create(struct ctx *c);
int h_admin_users_delete(struct ctx *c);
int h_system_info(struct ctx *c);
int h_system_disk_usage(struct ctx *c);
int h_system_cpu_percent(struct ctx *c);
int h_system_health(struct ctx *c);
/* /api/servers (§12.1-§12.9, §12.11): h_servers.c, h_servers_ops.c */
int h_servers_list(struct ctx *c);
int h_server_get(struct ctx *c);
int h_server_create(struct ctx *c);
int h_server_status(struct ctx *c);
int h_server_cpu_percent(struct ctx *c);
int h_server_memory(struct ctx *c);
int h_server_iostats(struct ctx *c);
int h_server_disk_usage(struct ctx *c);
int h_server_players(struct ctx *c);
int h_server_compose_get(struct ctx *c);
int h_server_compose_update(struct ctx *c);
int h_server_operations(struct ctx *c);
int h_server_rcon(struct ctx *c);
/* file manager, archive manager, populate (§12.10, §13, §14): h_files*.c, h_archive*.c */
int h_files_list(struct ctx *c);
int h_files_content_get(struct ctx *c);
int h_files_content_set(struct ctx *c);
int h_files_download(struct ctx *c);
int h_files_upload(struct ctx *c);
int h_files_create(struct ctx *c);
int h_files_delete(struct ctx *c);
int h_files_rename(struct ctx *c);
int h_files_upload_check(struct ctx *c);
int h_files_upload_policy(struct ctx *c);
int h_files_upload_multiple(struct ctx *c);
int h_server_populate(struct ctx *c);
int h_archive_list(struct ctx *c);
int h_archive_content_get(struct ctx *c);
int h_archive_content_set(struct ctx *c);
int h_archive_download(struct ctx *c);
int h_archive_upload(struct ctx *c);
int h_archive_create(struct ctx *c);
int h_archive_delete(struct ctx *c);
int h_archive_rename(struct ctx *c);
int h_archive_sha256(struct ctx *c);
int h_archive_compress(struct ctx *c);
