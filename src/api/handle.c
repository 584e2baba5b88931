/* SPDX-License-Identifier: MIT */
/*
 * The request pipeline, outermost first (API-core §2.3): error handler,
 * CORS, audit, routing. The check order inside a route is §1.4's:
 * body parsing → authentication/role → parameter validation → handler.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/log.h"
#include "common/util.h"
#include "http/form.h"

static bool
method_mutates(enum http_method m)
{
	return m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_DELETE;
}

/* CORS preflight (§1.6): answered before routing, for any path. */
static bool
cors_preflight(struct req *rq, struct resp *rs)
{
	const char *origin = req_env(rq, "HTTP_ORIGIN");
	const char *acrm = req_env(rq, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
	const char *acrh = req_env(rq, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS");

	if (rq->method != HTTP_OPTIONS || !origin || !acrm)
		return false;
	(void)resp_text(rs, 200, "text/plain; charset=utf-8", "OK");
	(void)resp_header(rs, "Vary", "Origin");
	(void)resp_header(rs, "Access-Control-Allow-Origin", "%s", origin);
	(void)resp_header(rs, "Access-Control-Allow-Methods",
	    "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
	(void)resp_header(rs, "Access-Control-Max-Age", "600");
	(void)resp_header(rs, "Access-Control-Allow-Credentials", "true");
	if (acrh)
		(void)resp_header(rs, "Access-Control-Allow-Headers", "%s", acrh);
	return true;
}

static void
cors_simple(struct req *rq, struct resp *rs)
{
	const char *origin = req_env(rq, "HTTP_ORIGIN");

	if (!origin)
		return;
	if (req_env(rq, "HTTP_COOKIE")) {
		(void)resp_header(rs, "Access-Control-Allow-Origin", "%s", origin);
		(void)resp_header(rs, "Vary", "Origin");
	} else
		(void)resp_header(rs, "Access-Control-Allow-Origin", "*");
	(void)resp_header(rs, "Access-Control-Allow-Credentials", "true");
}

/* Path parameters typed ":int" in the pattern (§1.7 user_id). */
static int
validate_path_params(const struct route *rt, struct req *rq, struct verrs *v)
{
	int problems = 0;

	for (const char *q = rt->pattern; (q = strchr(q, '{')); q++) {
		size_t nl = strcspn(q + 1, ":}");
		char name[32];
		const char *val;
		int64_t i;

		if (nl >= sizeof(name) || strncmp(q + 1 + nl, ":int}", 5) != 0)
			continue;
		memcpy(name, q + 1, nl);
		name[nl] = '\0';
		val = req_param(rq, name);
		if (val && parse_int64(val, INT64_MIN, INT64_MAX, &i) < 0) {
			const char *loc[] = { "path", name, NULL };

			if (verrs_add(v, "int_parsing", loc,
			    "Input should be a valid integer, unable to parse string as an integer",
			    json_object_new_string(val), NULL) < 0)
				return -ENOMEM;
			problems++;
		}
	}
	return problems;
}

/* Read and parse the body a route declares; errors here come before auth. */
static int
route_body(struct ctx *c, const struct route *rt, struct verrs *v)
{
	struct req *rq = c->rq;
	int r;

	if (rt->flags & ROUTE_STREAM_BODY) {
		/* never buffered, except what the audit log may record (§6.3:
		 * decided from Content-Length); the handler streams the rest */
		const struct config *cfg = c->app->cfg;

		if (audit_enabled(c->app->audit) && cfg->audit.log_request_body &&
		    rq->content_length > 0 && rq->content_length <= cfg->audit.max_body_size) {
			r = req_load_body(rq, (size_t)cfg->audit.max_body_size);
			if (r == -EIO)	/* shorter than announced: the client went away */
				return resp_detail(c->rs, 400, "Incomplete request body") < 0 ?
				    -ENOMEM : 1;
			return r;
		}
		return 0;
	}
	if (!(rt->flags & (ROUTE_JSON_BODY | ROUTE_FORM_BODY)))
		return 0;
	r = req_load_body(rq, (size_t)c->app->cfg->api.max_body_size +
	    ((rt->flags & ROUTE_CONTENT_BODY) ? (size_t)c->app->cfg->files.max_content_size : 0));
	if (r < 0)
		return r;
	if (rt->flags & ROUTE_JSON_BODY) {
		r = http_body_parse_json(rq, v);
		if (r == -EBADMSG)
			return resp_verrs(c->rs, v) < 0 ? -ENOMEM : 1;
		return r;
	}
	{
		_cleanup_free_ char *err = NULL;

		r = form_parse(rq->content_type, strbuf_str(&rq->body), rq->body.len, &rq->form,
		    &err);
		if (r == -EBADMSG)
			return resp_detail(c->rs, 400, "%s", err ? err : "Invalid form data") < 0 ?
			    -ENOMEM : 1;
	}
	return r;
}

/* Returns 0 when the handler ran or a response is ready, <0 for resp_errno. */
static int
dispatch(struct ctx *c)
{
	struct verrs v = { 0 };
	const struct route *rt;
	int r;

	r = api_route_find(c->rq, &rt);
	if (r < 0)
		return r;

	r = route_body(c, rt, &v);
	if (r != 0)
		goto out;	/* 413, 422 json_invalid, 400 multipart */

	if (rt->flags & ROUTE_AUTH) {
		r = api_identity(c);
		if (r < 0)
			goto out;
		if ((rt->flags & ROUTE_OWNER) && c->rq->ident.role != ROLE_OWNER) {
			r = -EACCES;
			goto out;
		}
	}

	r = validate_path_params(rt, c->rq, &v);
	if (r >= 0 && (rt->flags & ROUTE_JSON_BODY)) {
		int r2 = http_body_validate(c->rq, rt->fields, rt->flags & ROUTE_BODY_OPTIONAL, &v);

		r = r2 < 0 ? r2 : r + r2;
	}
	if (r < 0)
		goto out;
	if (r > 0) {
		r = resp_verrs(c->rs, &v);
		goto out;
	}
	r = rt->handler(c);
out:
	verrs_done(&v);
	return r > 0 ? 0 : r;
}

static const char *
client_ip(const struct req *rq, char *buf, size_t n)
{
	const char *xff = req_env(rq, "HTTP_X_FORWARDED_FOR");

	if (xff && *xff) {
		size_t l = strcspn(xff, ",");

		while (l > 0 && (*xff == ' ' || *xff == '\t')) {
			xff++;
			l--;
		}
		while (l > 0 && (xff[l - 1] == ' ' || xff[l - 1] == '\t'))
			l--;
		(void)snprintf(buf, n, "%.*s", (int)l, xff);
		return buf;
	}
	if (req_env(rq, "HTTP_X_REAL_IP"))
		return req_env(rq, "HTTP_X_REAL_IP");
	return rq->remote_addr;
}

static void
audit_request(struct ctx *c)
{
	struct app *app = c->app;
	struct req *rq = c->rq;
	const char *auth = req_env(rq, "HTTP_AUTHORIZATION");
	_cleanup_(json_object_putp) json_object *pp = NULL, *qp = NULL, *qraw = NULL, *body = NULL;
	struct audit_entry e = { 0 };
	char ipbuf[128];
	bool omit = true;

	/* the audit resolves identity itself: "Bearer " exactly (§6.2) */
	if (auth && startswith(auth, "Bearer ") && api_identity(c) == 0)
		e.ident = &rq->ident;

	pp = json_object_new_object();
	for (size_t i = 0; pp && i < rq->n_params; i++)
		json_object_object_add(pp, rq->params[i].name,
		    audit_key_sensitive(rq->params[i].name, app->cfg->audit.sensitive_fields) ?
		    json_object_new_string("***MASKED***") :
		    json_object_new_string(rq->params[i].value));
	qraw = req_query_object(rq);
	qp = audit_mask(qraw, app->cfg->audit.sensitive_fields);
	if (app->cfg->audit.log_request_body)
		body = audit_body_value(rq->content_type, rq->content_length,
		    strbuf_str(&rq->body), rq->body.len, rq->body_loaded,
		    (size_t)app->cfg->audit.max_body_size, app->cfg->audit.sensitive_fields, &omit);

	e.method = rq->method_name;
	e.path = rq->path;
	e.status = c->rs->status;
	e.processing_ms = (double)(now_monotonic_usec() - rq->start_usec) / 1000.0;
	e.client_ip = client_ip(rq, ipbuf, sizeof(ipbuf));
	e.user_agent = req_env(rq, "HTTP_USER_AGENT");
	e.path_params = pp;
	e.query_params = qp;
	e.request_body = body;
	e.request_body_present = app->cfg->audit.log_request_body && !omit;
	e.now_usec = now_realtime_usec();
	(void)audit_write(app->audit, &e);
}

int
api_handle(struct app *app, struct worker *w, struct req *rq, struct resp *rs)
{
	struct ctx c = { .app = app, .db = w->db, .tokens = w->tokens, .rq = rq, .rs = rs };
	int r;

	r = req_init(rq);
	if (r < 0) {
		(void)resp_detail(rs, 400, "Malformed request");
		return 0;
	}
	if (cors_preflight(rq, rs))
		return 0;
	if (!startswith(rq->path, "/api/") && !streq(rq->path, "/api"))
		r = -ENOENT;
	else
		r = dispatch(&c);
	if (r < 0) {
		if (http_status_from_errno(r) == 500)
			log_error_errno(r, "%s %s failed: %m", rq->method_name, rq->path);
		strbuf_reset(&rs->headers);
		(void)resp_errno(rs, r);
	}

	/* bodies small enough to log are read even when the route does not use them */
	if (method_mutates(rq->method) && audit_enabled(app->audit) &&
	    app->cfg->audit.log_request_body && !rq->body_loaded && rq->content_length > 0 &&
	    rq->content_length <= app->cfg->audit.max_body_size)
		(void)req_load_body(rq, (size_t)app->cfg->audit.max_body_size);

	cors_simple(rq, rs);
	if (method_mutates(rq->method) && audit_enabled(app->audit))
		audit_request(&c);
	if (rq->method == HTTP_HEAD)
		rs->head_only = true;
	return 0;
}
