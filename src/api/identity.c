/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "common/log.h"
#include "common/util.h"

/*
 * Bearer credentials (API-core §4.1): the scheme word is matched
 * case-insensitively and the token is everything after the first space.
 * The token is checked by auth_credential_check() (master token, JWT, and
 * beyond the reference the user row, so deleting a user revokes their
 * tokens); a rejected one is -EKEYREJECTED (401 "Could not validate
 * credentials").
 */
static int
resolve(struct ctx *c, struct identity *ret)
{
	const char *h = req_env(c->rq, "HTTP_AUTHORIZATION");
	const char *sp;

	if (!h || !*h)
		return -ENOKEY;
	sp = strchr(h, ' ');
	if (!sp || (size_t)(sp - h) != 6 || strncasecmp(h, "bearer", 6) != 0)
		return -ENOKEY;
	return auth_credential_check(c->app->auth, c->tokens, c->db, sp + 1, now_realtime_usec(),
	    ret);
}

int
api_identity(struct ctx *c)
{
	struct req *rq = c->rq;
	int r;

	if (rq->auth_state == 0) {
		r = resolve(c, &rq->ident);
		rq->auth_state = r < 0 ? r : 1;
		rq->authenticated = r >= 0;
	}
	return rq->auth_state < 0 ? rq->auth_state : 0;
}

json_object *
api_user_public(int64_t id, const char *username, enum user_role role, const char *created_at)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "role", json_object_new_string(user_role_to_string(role)));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "created_at", json_object_new_string(created_at));
	return o;
}
