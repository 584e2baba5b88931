/* SPDX-License-Identifier: MIT */
/*
 * POST /api/auth/verifyCode (API-core §7.2): the bot confirms a login code
 * shown on a login page. The login-code sockets live in mc-admin-ws, another
 * process; the login_code table is what both share. This handler only
 * marks the row that holds the code with the user; mc-admin-ws notices the
 * mark within ws.login_poll_ms, issues the JWT (§7.1) itself, pushes
 * {"type":"verified",…} and then rotates the code (DECISIONS). No token
 * passes through the database.
 */
#include "autoconf.h"

#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"

/*
 * The reference takes authorization.split(" ")[1]: the text between the
 * first and the second space, the scheme word unchecked. NULL when the
 * header has no space (the reference's 500; DECISIONS: 403). The result is
 * malloc'd because it may end before the end of the header.
 */
static char *
second_word(const char *h)
{
	const char *sp = strchr(h, ' '), *end;

	if (!sp)
		return NULL;
	sp++;
	end = strchr(sp, ' ');
	return strndup(sp, end ? (size_t)(end - sp) : strlen(sp));
}

int
h_auth_verify_code(struct ctx *c)
{
	const char *h = req_env(c->rq, "HTTP_AUTHORIZATION");
	const char *username = body_string(c->rq, "username");
	const char *code = body_string(c->rq, "code");
	_cleanup_free_ char *token = NULL;
	struct db_user u = { 0 };
	bool master;
	int r;

	if (!h) {
		struct verrs v = { 0 };
		const char *loc[] = { "header", "authorization", NULL };

		if (verrs_add(&v, "missing", loc, "Field required", NULL, NULL) < 0)
			return -ENOMEM;
		return resp_verrs(c->rs, &v);
	}
	token = second_word(h);
	if (!token && strchr(h, ' '))
		return -ENOMEM;
	master = token && auth_is_master(c->app->auth, token);
	if (token)
		explicit_bzero(token, strlen(token));
	if (!master)
		return resp_detail(c->rs, 403, "This endpoint requires a master token");

	r = db_user_get_by_name(c->db, username, &u);
	if (r == -ENOENT)
		return resp_detail(c->rs, 400, "Invalid username or code");
	if (r < 0)
		return r;
	r = db_login_code_verify(c->db, code, u.id, now_realtime_usec());
	db_user_done(&u);
	if (r == -ENOENT)
		return resp_detail(c->rs, 400, "Invalid username or code");
	if (r < 0)
		return r;
	{
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "result", json_object_new_string("success"));
		return resp_json(c->rs, 200, o);
	}
}
