/* SPDX-License-Identifier: MIT */
/* /api/auth (API-core §7). */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/log.h"
#include "common/util.h"
#include "http/form.h"

/* An empty form value counts as missing (§7.1). */
static const char *
form_value(const struct form *f, const char *name)
{
	const struct form_field *ff = form_get(f, name);

	return ff && !ff->filename && ff->len > 0 ? ff->data : NULL;
}

int
h_auth_token(struct ctx *c)
{
	struct verrs v = { 0 };
	const char *username = form_value(c->rq->form, "username");
	const char *password = form_value(c->rq->form, "password");
	const struct form_field *gt = form_get(c->rq->form, "grant_type");
	const char *client = c->rq->remote_addr ? c->rq->remote_addr : "";
	_cleanup_free_ char *token = NULL;
	struct db_user u = { 0 };
	unsigned wait;
	int r, ok;

	/* OAuth2PasswordRequestForm field order: grant_type, username, password */
	if (gt && gt->len > 0 && !streq(gt->data, "password")) {
		const char *loc[] = { "body", "grant_type", NULL };
		json_object *ctx = json_object_new_object();

		json_object_object_add(ctx, "pattern", json_object_new_string("^password$"));
		(void)verrs_add(&v, "string_pattern_mismatch", loc,
		    "String should match pattern '^password$'", json_object_new_string(gt->data), ctx);
	}
	if (!username) {
		const char *loc[] = { "body", "username", NULL };

		(void)verrs_add(&v, "missing", loc, "Field required", NULL, NULL);
	}
	if (!password) {
		const char *loc[] = { "body", "password", NULL };

		(void)verrs_add(&v, "missing", loc, "Field required", NULL, NULL);
	}
	if (verrs_any(&v))
		return resp_verrs(c->rs, &v);
	verrs_done(&v);

	/* checked before any hashing, so a flood costs no bcrypt time */
	wait = login_limiter_check(c->app->limiter, client, now_realtime_usec());
	if (wait > 0) {
		(void)resp_header(c->rs, "Retry-After", "%u", wait);
		return resp_detail(c->rs, 429, "Too many failed login attempts, try again in %u seconds",
		    wait);
	}

	r = db_user_get_by_name(c->db, username, &u);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		(void)auth_password_dummy_verify(password);
		ok = 0;
	} else
		ok = auth_password_verify(password, u.hashed_password);
	if (ok <= 0) {
		char esc[128];

		db_user_done(&u);
		login_limiter_fail(c->app->limiter, client, now_realtime_usec());
		log_notice("failed login for '%s' from %s", log_escape(esc, sizeof(esc), username),
		    client);
		(void)resp_header(c->rs, "WWW-Authenticate", "Bearer");
		return resp_detail(c->rs, 401, "Incorrect username or password");
	}
	login_limiter_success(c->app->limiter, client);
	r = auth_token_issue(c->app->auth, &u, now_realtime_usec(), &token);
	db_user_done(&u);
	if (r < 0)
		return r;
	{
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "access_token", json_object_new_string(token));
		json_object_object_add(o, "token_type", json_object_new_string("bearer"));
		explicit_bzero(token, strlen(token));
		return resp_json(c->rs, 200, o);
	}
}
