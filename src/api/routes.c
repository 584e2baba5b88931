/* SPDX-License-Identifier: MIT */
/* The only URL table, and route matching. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"

#define AUTH      ROUTE_AUTH
#define OWNER     (ROUTE_AUTH | ROUTE_OWNER)
#define JSON      ROUTE_JSON_BODY
#define OPTIONAL  ROUTE_BODY_OPTIONAL
#define FORM      ROUTE_FORM_BODY

static const char *const roles[] = { "admin", "owner", NULL };

static const struct field user_create_fields[] = {
	/* name        type          required nullable minlen maxlen */
	{ "username", FIELD_STRING, true, false, 3, 50, 0, 0, NULL },
	{ "password", FIELD_STRING, true, false, 1, 0, 0, 0, NULL },	/* empty: 422 (DECISIONS) */
	{ "role", FIELD_STRING, false, false, 0, 0, 0, 0, roles },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct route routes[] = {
	/* method     pattern                              handler                flags   body */
	{ HTTP_POST,   "/api/auth/token",                  h_auth_token,          FORM,   NULL },
	{ HTTP_GET,    "/api/user/me",                     h_user_me,             AUTH,   NULL },
	{ HTTP_GET,    "/api/admin/users",                 h_admin_users_list,    OWNER,  NULL },
	{ HTTP_POST,   "/api/admin/users",                 h_admin_users_create,  OWNER | JSON,
	  user_create_fields },
	{ HTTP_DELETE, "/api/admin/users/{user_id:int}",   h_admin_users_delete,  OWNER,  NULL },
	{ HTTP_GET,    "/api/system/info",                 h_system_info,         AUTH,   NULL },
	{ HTTP_GET,    "/api/system/disk-usage",           h_system_disk_usage,   AUTH,   NULL },
	{ HTTP_GET,    "/api/system/cpu_percent",          h_system_cpu_percent,  AUTH,   NULL },
	{ HTTP_GET,    "/api/system/health",               h_system_health,       0,      NULL },
};

/*
 * Match path against pattern segment by segment. "{name}" and "{name:int}"
 * take one non-empty segment. A single trailing slash on the path is
 * ignored, so "/api/servers/" and "/api/servers" are the same route
 * (answered directly, no redirect). Returns 1 on a match (params filled),
 * 0 otherwise, -ENOMEM.
 */
static int
route_match(const char *pattern, const char *path, struct req *rq)
{
	const char *p = pattern, *s = path;
	size_t n = 0;

	for (size_t i = 0; i < rq->n_params; i++)
		free(rq->params[i].value);
	rq->n_params = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t nl = strcspn(p + 1, ":}");

			if (!se)
				se = s + strlen(s);
			if (!pe || se == s || n >= REQ_PARAMS_MAX || nl >= sizeof(rq->params[n].name))
				return 0;
			memcpy(rq->params[n].name, p + 1, nl);
			rq->params[n].name[nl] = '\0';
			rq->params[n].value = strndup(s, (size_t)(se - s));
			if (!rq->params[n].value)
				return -ENOMEM;
			n++;
			rq->n_params = n;
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p)
		return 0;
	if (*s && !(s[0] == '/' && s[1] == '\0'))
		return 0;
	return 1;
}

int
api_route_find(struct req *rq, const struct route **ret)
{
	bool path_known = false;
	enum http_method m = rq->method == HTTP_HEAD ? HTTP_GET : rq->method;

	for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
		int r = route_match(routes[i].pattern, rq->path, rq);

		if (r < 0)
			return r;
		if (r == 0)
			continue;
		path_known = true;
		if (routes[i].method != m)
			continue;
		*ret = &routes[i];
		return 0;
	}
	for (size_t i = 0; i < rq->n_params; i++)
		free(rq->params[i].value);
	rq->n_params = 0;
	return path_known ? -EOPNOTSUPP : -ENOENT;
}
