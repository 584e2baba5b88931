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
#define STREAM    ROUTE_STREAM_BODY
#define CONTENT   ROUTE_CONTENT_BODY

static const char *const roles[] = { "admin", "owner", NULL };

static const struct field user_create_fields[] = {
	/* name        type          required nullable minlen maxlen */
	{ "username", FIELD_STRING, true, false, 3, 50, 0, 0, NULL },
	{ "password", FIELD_STRING, true, false, 1, 0, 0, 0, NULL },	/* empty: 422 (DECISIONS) */
	{ "role", FIELD_STRING, false, false, 0, 0, 0, 0, roles },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field server_yaml_fields[] = {
	{ "yaml_content", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field server_action_fields[] = {
	{ "action", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },	/* checked by the handler */
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field server_rcon_fields[] = {
	{ "command", FIELD_STRING, true, false, 1, 0, 0, 0, NULL },	/* empty: 422 (DECISIONS) */
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field verify_code_fields[] = {
	{ "username", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ "code", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

/* file and archive managers (§13, §14, §12.10) */
static const char *const file_types[] = { "file", "directory", NULL };
static const char *const overwrite_modes[] = { "always_overwrite", "never_overwrite", "per_file",
	NULL };

static const struct field file_content_fields[] = {
	{ "content", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field file_create_fields[] = {
	{ "name", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },	/* checked by the handler */
	{ "type", FIELD_STRING, true, false, 0, 0, 0, 0, file_types },
	{ "path", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field file_rename_fields[] = {
	{ "old_path", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ "new_name", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },	/* checked by the handler */
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field upload_policy_fields[] = {
	{ "mode", FIELD_STRING, true, false, 0, 0, 0, 0, overwrite_modes },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },	/* decisions: checked by the handler */
};

static const struct field populate_fields[] = {
	{ "archive_filename", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct field compress_fields[] = {
	{ "server_id", FIELD_STRING, true, false, 0, 0, 0, 0, NULL },
	{ "path", FIELD_STRING, false, true, 0, 0, 0, 0, NULL },
	{ NULL, 0, false, false, 0, 0, 0, 0, NULL },
};

static const struct route routes[] = {
	/* method     pattern                              handler                flags   body */
	{ HTTP_POST,   "/api/auth/token",                  h_auth_token,          FORM,   NULL },
	{ HTTP_POST,   "/api/auth/verifyCode",             h_auth_verify_code,    JSON,
	  verify_code_fields },	/* master token: checked by the handler (§7.2) */
	{ HTTP_GET,    "/api/user/me",                     h_user_me,             AUTH,   NULL },
	{ HTTP_GET,    "/api/admin/users",                 h_admin_users_list,    OWNER,  NULL },
	{ HTTP_POST,   "/api/admin/users",                 h_admin_users_create,  OWNER | JSON,
	  user_create_fields },
	{ HTTP_DELETE, "/api/admin/users/{user_id:int}",   h_admin_users_delete,  OWNER,  NULL },
	{ HTTP_GET,    "/api/system/info",                 h_system_info,         AUTH,   NULL },
	{ HTTP_GET,    "/api/system/disk-usage",           h_system_disk_usage,   AUTH,   NULL },
	{ HTTP_GET,    "/api/system/cpu_percent",          h_system_cpu_percent,  AUTH,   NULL },
	{ HTTP_GET,    "/api/system/health",               h_system_health,       0,      NULL },
	{ HTTP_GET,    "/api/servers",                     h_servers_list,        AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}",         h_server_get,          AUTH,   NULL },
	{ HTTP_POST,   "/api/servers/{server_id}",         h_server_create,       AUTH | JSON,
	  server_yaml_fields },
	{ HTTP_GET,    "/api/servers/{server_id}/status",  h_server_status,       AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/cpu_percent", h_server_cpu_percent, AUTH, NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/memory",  h_server_memory,       AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/iostats", h_server_iostats,      AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/disk-usage", h_server_disk_usage, AUTH,  NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/players", h_server_players,      AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/compose", h_server_compose_get,  AUTH,   NULL },
	{ HTTP_POST,   "/api/servers/{server_id}/compose", h_server_compose_update, AUTH | JSON,
	  server_yaml_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/operations", h_server_operations, AUTH | JSON,
	  server_action_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/rcon",    h_server_rcon,         AUTH | JSON,
	  server_rcon_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/populate", h_server_populate,    AUTH | JSON,
	  populate_fields },
	{ HTTP_GET,    "/api/servers/{server_id}/files",   h_files_list,          AUTH,   NULL },
	{ HTTP_DELETE, "/api/servers/{server_id}/files",   h_files_delete,        AUTH,   NULL },
	{ HTTP_GET,    "/api/servers/{server_id}/files/content", h_files_content_get, AUTH, NULL },
	{ HTTP_POST,   "/api/servers/{server_id}/files/content", h_files_content_set,
	  AUTH | JSON | CONTENT, file_content_fields },
	{ HTTP_GET,    "/api/servers/{server_id}/files/download", h_files_download, AUTH,  NULL },
	{ HTTP_POST,   "/api/servers/{server_id}/files/upload", h_files_upload,   AUTH | STREAM,
	  NULL },	/* streamed to disk, never buffered */
	{ HTTP_POST,   "/api/servers/{server_id}/files/create", h_files_create,   AUTH | JSON,
	  file_create_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/files/rename", h_files_rename,   AUTH | JSON,
	  file_rename_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/files/upload/check", h_files_upload_check,
	  AUTH | JSON, NULL },		/* files[]: checked by the handler */
	{ HTTP_POST,   "/api/servers/{server_id}/files/upload/policy", h_files_upload_policy,
	  AUTH | JSON, upload_policy_fields },
	{ HTTP_POST,   "/api/servers/{server_id}/files/upload/multiple", h_files_upload_multiple,
	  AUTH | STREAM, NULL },
	{ HTTP_GET,    "/api/archive",                     h_archive_list,        AUTH,   NULL },
	{ HTTP_DELETE, "/api/archive",                     h_archive_delete,      AUTH,   NULL },
	{ HTTP_GET,    "/api/archive/content",             h_archive_content_get, AUTH,   NULL },
	{ HTTP_POST,   "/api/archive/content",             h_archive_content_set,
	  AUTH | JSON | CONTENT, file_content_fields },
	{ HTTP_GET,    "/api/archive/download",            h_archive_download,    AUTH,   NULL },
	{ HTTP_POST,   "/api/archive/upload",              h_archive_upload,      AUTH | STREAM,
	  NULL },
	{ HTTP_POST,   "/api/archive/create",              h_archive_create,      AUTH | JSON,
	  file_create_fields },
	{ HTTP_POST,   "/api/archive/rename",              h_archive_rename,      AUTH | JSON,
	  file_rename_fields },
	{ HTTP_GET,    "/api/archive/sha256",              h_archive_sha256,      AUTH,   NULL },
	{ HTTP_POST,   "/api/archive/compress",            h_archive_compress,    AUTH | JSON,
	  compress_fields },
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
