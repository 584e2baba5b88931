/* SPDX-License-Identifier: MIT */
/*
 * The API: one route table (routes.c), the dispatcher that enforces each
 * route's auth/role/body rules, and the handlers (h_*.c). Handlers see only
 * our types (struct req/resp), so tests drive them in memory.
 */
#pragma once

#include "audit/audit.h"
#include "auth/auth.h"
#include "config/config.h"
#include "db/db.h"
#include "http/body.h"
#include "http/http.h"
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
int h_user_me(struct ctx *c);
int h_admin_users_list(struct ctx *c);
int h_admin_users_create(struct ctx *c);
int h_admin_users_delete(struct ctx *c);
int h_system_info(struct ctx *c);
int h_system_disk_usage(struct ctx *c);
int h_system_cpu_percent(struct ctx *c);
int h_system_health(struct ctx *c);
