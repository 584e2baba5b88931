/* SPDX-License-Identifier: MIT */
/* /api/user/me (§8) and /api/admin/users (§9). */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/log.h"
#include "common/util.h"

static json_object *
user_public_from_row(const struct db_user *u)
{
	char created[48];

	if (fmt_iso_utc_z(created, sizeof(created), u->created_at_usec) < 0)
		return NULL;
	return api_user_public(u->id, u->username, u->role, created);
}

int
h_user_me(struct ctx *c)
{
	const struct identity *id = &c->rq->ident;

	return resp_json(c->rs, 200, api_user_public(id->id, id->username, id->role,
	    id->created_at));
}

static int
list_cb(const struct db_user *u, void *userdata)
{
	json_object *o = user_public_from_row(u);

	if (!o)
		return -ENOMEM;
	return json_object_array_add(userdata, o) == 0 ? 0 : -ENOMEM;
}

int
h_admin_users_list(struct ctx *c)
{
	json_object *a = json_object_new_array();
	int r;

	if (!a)
		return -ENOMEM;
	r = db_user_foreach(c->db, list_cb, a);
	if (r < 0) {
		json_object_put(a);
		return r;
	}
	return resp_json(c->rs, 200, a);
}

int
h_admin_users_create(struct ctx *c)
{
	const char *username = body_string(c->rq, "username");
	const char *password = body_string(c->rq, "password");
	const char *role_s = body_string(c->rq, "role");
	enum user_role role = role_s ? user_role_from_string(role_s) : ROLE_ADMIN;
	_cleanup_free_ char *hash = NULL;
	struct db_user u = { 0 };
	char esc[128], esc2[128];
	int r;

	r = auth_password_hash(password, c->app->bcrypt_cost, &hash);
	if (r < 0)
		return r;
	r = db_user_insert(c->db, username, hash, role, now_realtime_usec(), &u);
	if (r == -EEXIST)
		return resp_detail(c->rs, 400, "Username already exists");
	if (r < 0)
		return r;
	log_info("user '%s' (%s) created by '%s'", log_escape(esc, sizeof(esc), username),
	    user_role_to_string(role), log_escape(esc2, sizeof(esc2), c->rq->ident.username));
	r = resp_json(c->rs, 200, user_public_from_row(&u));
	db_user_done(&u);
	return r;
}

int
h_admin_users_delete(struct ctx *c)
{
	char esc[128];
	int64_t id;
	int r;

	r = parse_int64(req_param(c->rq, "user_id"), INT64_MIN, INT64_MAX, &id);
	if (r < 0)
		return r;	/* validated before: cannot happen */
	if (id == c->rq->ident.id)
		return resp_detail(c->rs, 400, "Cannot delete your own account");
	r = db_user_delete(c->db, id);
	if (r == -ENOENT)
		return resp_detail(c->rs, 404, "User not found");
	if (r < 0)
		return r;
	log_info("user %lld deleted by '%s'", (long long)id,
	    log_escape(esc, sizeof(esc), c->rq->ident.username));
	{
		json_object *o = json_object_new_object();

		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "message", json_object_new_string("User deleted successfully"));
		return resp_json(c->rs, 200, o);
	}
}
