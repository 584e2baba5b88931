/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "config/conf.h"

#define DEFAULT_CONFIG_PATH "/etc/mc-admin/config.yaml"

enum key_type {
	K_STR,
	K_INT,
	K_BOOL,
	K_LIST,
	K_SECTION,
	K_TYPE_MAX,
};

enum {
	KF_REQUIRED = 1 << 0,	/* startup fails when unset */
	KF_SECRET = 1 << 1,	/* masked by config_dump() */
	KF_NULLABLE = 1 << 2,	/* YAML null / JSON null allowed */
};

struct key {
	const char *name;	/* dotted path, also the env name with "." → "__" */
	enum key_type type;
	size_t off;		/* into struct config; unused for sections */
	const char *def;	/* default (lists: comma-separated), NULL for none */
	int64_t min, max;	/* K_INT range */
	unsigned flags;
	const char *credential;	/* systemd credential file name */
};

#define OFF(f) offsetof(struct config, f)
static const struct key keys[] = {
	/* name                           type     offset                 default */
	{ "master_token", K_STR, OFF(master_token), NULL, 0, 0, KF_REQUIRED | KF_SECRET, "master_token" },
	{ "server_path", K_STR, OFF(server_path), NULL, 0, 0, KF_REQUIRED, NULL },
	{ "jwt", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "jwt.secret_key", K_STR, OFF(jwt.secret_key), NULL, 0, 0, KF_REQUIRED | KF_SECRET, "jwt_secret_key" },
	{ "jwt.algorithm", K_STR, OFF(jwt.algorithm), "HS256", 0, 0, 0, NULL },
	{ "jwt.access_token_expire_minutes", K_INT, OFF(jwt.access_token_expire_minutes), "43200",
	  1, 60LL * 24 * 3650, 0, NULL },
	{ "database_url", K_STR, OFF(database_url), "sqlite+aiosqlite:///./db.sqlite3", 0, 0, 0, NULL },
	{ "database_path", K_STR, OFF(database_path), NULL, 0, 0, KF_NULLABLE, NULL },
	{ "static_path", K_STR, OFF(static_path), "static", 0, 0, 0, NULL },
	{ "cgroup_path", K_STR, OFF(cgroup_path), "/sys/fs/cgroup", 0, 0, 0, NULL },
	{ "logs_dir", K_STR, OFF(logs_dir), "logs", 0, 0, 0, NULL },
	{ "archive_path", K_STR, OFF(archive_path), "archives", 0, 0, 0, NULL },
	{ "audit", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "audit.enabled", K_BOOL, OFF(audit.enabled), "true", 0, 0, 0, NULL },
	{ "audit.log_file", K_STR, OFF(audit.log_file), "operations.log", 0, 0, 0, NULL },
	{ "audit.log_request_body", K_BOOL, OFF(audit.log_request_body), "true", 0, 0, 0, NULL },
	{ "audit.max_body_size", K_INT, OFF(audit.max_body_size), "10240", 0, 1LL << 30, 0, NULL },
	{ "audit.sensitive_fields", K_LIST, OFF(audit.sensitive_fields), "password,token,secret,key",
	  0, 0, 0, NULL },
	{ "restic", K_SECTION, 0, NULL, 0, 0, KF_NULLABLE, NULL },
	{ "restic.repository_path", K_STR, OFF(restic.repository_path), NULL, 0, 0, 0, NULL },
	{ "restic.password", K_STR, OFF(restic.password), NULL, 0, 0, KF_SECRET | KF_NULLABLE,
	  "restic_password" },
	{ "api", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "api.workers", K_INT, OFF(api.workers), "64", 1, 1024, 0, NULL },
	{ "api.max_body_size", K_INT, OFF(api.max_body_size), "1048576", 1024, 1LL << 30, 0, NULL },
	{ "api.login_attempts", K_INT, OFF(api.login_attempts), "10", 0, 1000000, 0, NULL },
	{ "api.login_window_seconds", K_INT, OFF(api.login_window_seconds), "300", 1, 86400, 0, NULL },
	/* servers on Docker (issue #3): Engine API socket, compose CLI, timeouts */
	{ "docker", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "docker.socket", K_STR, OFF(docker.socket), "/var/run/docker.sock", 0, 0, 0, NULL },
	{ "docker.binary", K_STR, OFF(docker.binary), "/usr/bin/docker", 0, 0, 0, NULL },
	{ "docker.compose_command", K_STR, OFF(docker.compose_command), "", 0, 0, 0, NULL },
	{ "docker.command_timeout_seconds", K_INT, OFF(docker.command_timeout_seconds), "300",
	  1, 86400, 0, NULL },
	{ "docker.api_timeout_ms", K_INT, OFF(docker.api_timeout_ms), "10000", 100, 600000, 0, NULL },
	{ "rcon", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "rcon.timeout_seconds", K_INT, OFF(rcon.timeout_seconds), "30", 1, 3600, 0, NULL },
	/* file and archive managers (issue #5): limits, sessions, downloads through nginx */
	{ "files", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "files.max_content_size", K_INT, OFF(files.max_content_size), "16777216",
	  1024, 1LL << 30, 0, NULL },
	{ "files.upload_session_seconds", K_INT, OFF(files.upload_session_seconds), "3600",
	  10, 7 * 86400, 0, NULL },
	{ "files.accel_prefix", K_STR, OFF(files.accel_prefix), "/_mc_admin_internal", 0, 0, 0,
	  NULL },
	{ "archive", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "archive.max_entries", K_INT, OFF(archive.max_entries), "250000", 1, 100000000, 0, NULL },
	{ "archive.max_total_size", K_INT, OFF(archive.max_total_size), "68719476736",
	  1024, INT64_MAX, 0, NULL },
	{ "archive.max_ratio", K_INT, OFF(archive.max_ratio), "1000", 0, 1000000000, 0, NULL },
	{ "archive.compress_level", K_INT, OFF(archive.compress_level), "5", 0, 9, 0, NULL },
	/* WebSocket daemon (issue #4): limits, keep-alive, login codes, console history */
	{ "ws", K_SECTION, 0, NULL, 0, 0, 0, NULL },
	{ "ws.max_connections", K_INT, OFF(ws.max_connections), "1024", 1, 1000000, 0, NULL },
	{ "ws.max_login_connections", K_INT, OFF(ws.max_login_connections), "64", 1, 1000000, 0,
	  NULL },
	{ "ws.max_console_per_server", K_INT, OFF(ws.max_console_per_server), "32", 1, 1000000, 0,
	  NULL },
	{ "ws.max_message_bytes", K_INT, OFF(ws.max_message_bytes), "65536", 125, 16777216, 0,
	  NULL },
	{ "ws.messages_per_second", K_INT, OFF(ws.messages_per_second), "10", 0, 100000, 0, NULL },
	{ "ws.message_burst", K_INT, OFF(ws.message_burst), "30", 1, 100000, 0, NULL },
	{ "ws.send_queue_bytes", K_INT, OFF(ws.send_queue_bytes), "8388608", 65536, 1LL << 30, 0,
	  NULL },
	{ "ws.handshake_timeout_ms", K_INT, OFF(ws.handshake_timeout_ms), "10000", 100, 600000, 0,
	  NULL },
	{ "ws.ping_interval_seconds", K_INT, OFF(ws.ping_interval_seconds), "30", 0, 3600, 0, NULL },
	{ "ws.login_poll_ms", K_INT, OFF(ws.login_poll_ms), "200", 10, 900, 0, NULL },
	{ "ws.history_lines", K_INT, OFF(ws.history_lines), "10000", 0, 10000000, 0, NULL },
	{ "ws.history_bytes", K_INT, OFF(ws.history_bytes), "4194304", 65536, 1LL << 30, 0, NULL },
	{ "ws.command_timeout_seconds", K_INT, OFF(ws.command_timeout_seconds), "30", 1, 3600, 0,
	  NULL },
	{ "ws.workers", K_INT, OFF(ws.workers), "4", 1, 64, 0, NULL },
};
#undef OFF

/* Per-load state: which keys were set, and the first error. */
struct loader {
	struct config *c;
	bool set[ELEMENTSOF(keys)];
	const char *file;
	char *error;
};

static int _printf_(2, 3)
fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	if (!ld->error) {
		va_start(ap, fmt);
		if (vasprintf(&ld->error, fmt, ap) < 0)
			ld->error = NULL;
		va_end(ap);
	}
	return -EINVAL;
}

static const struct key *
key_find(const char *name, size_t *ret_idx)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcaseeq(keys[i].name, name)) {
			if (ret_idx)
				*ret_idx = i;
			return &keys[i];
		}
	return NULL;
}

static void *
field(struct config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Split "a,b,c" into a NULL-terminated vector. */
static char **
strv_split(const char *s)
{
	size_t n = 1, i = 0;
	char **v;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	while (*s) {
		size_t l = strcspn(s, ",");

		v[i] = strndup(s, l);
		if (!v[i]) {
			strv_free(v);
			return NULL;
		}
		i++;
		s += l + (s[l] == ',');
	}
	return v;
}

/* Set a scalar key from text. where: "file:line" or "environment variable X". */
static int
set_scalar(struct loader *ld, size_t idx, const char *value, bool is_null, const char *where)
{
	const struct key *k = &keys[idx];
	void *f = field(ld->c, k);
	int64_t v;
	int r;

	if (is_null) {
		if (!(k->flags & KF_NULLABLE))
			return fail(ld, "%s: key '%s' must not be null", where, k->name);
		if (k->type == K_STR) {
			free(*(char **)f);
			*(char **)f = NULL;
		}
		ld->set[idx] = true;
		return 0;
	}
	switch (k->type) {
	case K_STR: {
		char *s = strdup(value);

		if (!s)
			return -ENOMEM;
		free(*(char **)f);
		*(char **)f = s;
		break;
	}
	case K_INT:
		r = parse_int64(value, k->min, k->max, &v);
		if (r < 0)
			return fail(ld, "%s: key '%s' expects an integer between %lld and %lld, got '%s'",
			    where, k->name, (long long)k->min, (long long)k->max, value);
		*(int64_t *)f = v;
		break;
	case K_BOOL:
		r = parse_bool_env(value);
		if (r < 0)
			return fail(ld, "%s: key '%s' expects a boolean, got '%s'", where, k->name, value);
		*(bool *)f = r;
		break;
	case K_LIST:
		return fail(ld, "%s: key '%s' expects a list", where, k->name);
	case K_SECTION:
	case K_TYPE_MAX:
		return fail(ld, "%s: key '%s' expects a mapping", where, k->name);
	}
	ld->set[idx] = true;
	return 0;
}

static int
set_list(struct loader *ld, size_t idx, char **v)
{
	char ***f = field(ld->c, &keys[idx]);

	strv_free(*f);
	*f = v;
	ld->set[idx] = true;
	return 0;
}

/* ---- YAML file ---------------------------------------------------------- */

static bool
yaml_scalar_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL");
}

static int yaml_mapping(struct loader *ld, yaml_document_t *doc, yaml_node_t *map,
    const char *prefix);

static int
yaml_value(struct loader *ld, yaml_document_t *doc, size_t idx, yaml_node_t *val)
{
	const struct key *k = &keys[idx];
	char where[512];

	(void)snprintf(where, sizeof(where), "%s:%zu", ld->file, val->start_mark.line + 1);
	if (k->type == K_SECTION) {
		if (val->type == YAML_SCALAR_NODE && yaml_scalar_is_null(val)) {
			if (!(k->flags & KF_NULLABLE))
				return fail(ld, "%s: key '%s' must not be null", where, k->name);
			return 0;
		}
		if (val->type != YAML_MAPPING_NODE)
			return fail(ld, "%s: key '%s' expects a mapping", where, k->name);
		ld->set[idx] = true;
		return yaml_mapping(ld, doc, val, k->name);
	}
	if (k->type == K_LIST) {
		size_t n = 0, i = 0;
		char **v;

		if (val->type != YAML_SEQUENCE_NODE)
			return fail(ld, "%s: key '%s' expects a list of strings", where, k->name);
		for (yaml_node_item_t *it = val->data.sequence.items.start;
		    it < val->data.sequence.items.top; it++)
			n++;
		v = calloc(n + 1, sizeof(char *));
		if (!v)
			return -ENOMEM;
		for (yaml_node_item_t *it = val->data.sequence.items.start;
		    it < val->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(doc, *it);

			if (!e || e->type != YAML_SCALAR_NODE) {
				strv_free(v);
				return fail(ld, "%s: key '%s' expects a list of strings", where, k->name);
			}
			v[i] = strdup((const char *)e->data.scalar.value);
			if (!v[i++]) {
				strv_free(v);
				return -ENOMEM;
			}
		}
		return set_list(ld, idx, v);
	}
	if (val->type != YAML_SCALAR_NODE)
		return fail(ld, "%s: key '%s' expects a single value", where, k->name);
	return set_scalar(ld, idx, (const char *)val->data.scalar.value,
	    yaml_scalar_is_null(val), where);
}

static int
yaml_mapping(struct loader *ld, yaml_document_t *doc, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		char name[256];
		size_t idx;
		int r;

		if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
			return fail(ld, "%s:%zu: keys must be plain names", ld->file,
			    kn ? kn->start_mark.line + 1 : 0);
		r = snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
		    (const char *)kn->data.scalar.value);
		if (r < 0 || (size_t)r >= sizeof(name) || !key_find(name, &idx) ||
		    !streq(keys[idx].name, name)) {
			char esc[128];

			return fail(ld, "%s:%zu: unknown key '%s'", ld->file, kn->start_mark.line + 1,
			    log_escape(esc, sizeof(esc), name));
		}
		r = yaml_value(ld, doc, idx, vn);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
load_yaml(struct loader *ld, const char *path, bool must_exist)
{
	_cleanup_fclose_ FILE *f = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(ld, "%s: cannot open: %s", path, strerror(errno));
	}
	ld->file = path;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		r = fail(ld, "%s:%zu: YAML error: %s", path, parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	if (root) {
		if (root->type == YAML_MAPPING_NODE)
			r = yaml_mapping(ld, &doc, root, NULL);
		else if (!(root->type == YAML_SCALAR_NODE && yaml_scalar_is_null(root)))
			r = fail(ld, "%s:%zu: the top level must be a mapping", path,
			    root->start_mark.line + 1);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r == 0)
		ld->c->source_file = strdup(path);
	return r;
}

/* ---- environment -------------------------------------------------------- */

static int json_object_apply(struct loader *ld, json_object *obj, const char *prefix,
    const char *where);

static int
json_value_apply(struct loader *ld, size_t idx, json_object *v, const char *where)
{
	const struct key *k = &keys[idx];
	char buf[32];

	if (k->type == K_SECTION) {
		if (!v) {
			if (!(k->flags & KF_NULLABLE))
				return fail(ld, "%s: key '%s' must not be null", where, k->name);
			return 0;
		}
		if (!json_object_is_type(v, json_type_object))
			return fail(ld, "%s: key '%s' expects a JSON object", where, k->name);
		ld->set[idx] = true;
		return json_object_apply(ld, v, k->name, where);
	}
	if (k->type == K_LIST) {
		size_t n;
		char **list;

		if (!json_object_is_type(v, json_type_array))
			return fail(ld, "%s: key '%s' expects a JSON array of strings", where, k->name);
		n = json_object_array_length(v);
		list = calloc(n + 1, sizeof(char *));
		if (!list)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string)) {
				strv_free(list);
				return fail(ld, "%s: key '%s' expects a JSON array of strings",
				    where, k->name);
			}
			list[i] = strdup(json_object_get_string(e));
			if (!list[i]) {
				strv_free(list);
				return -ENOMEM;
			}
		}
		return set_list(ld, idx, list);
	}
	if (!v)
		return set_scalar(ld, idx, NULL, true, where);
	switch (json_object_get_type(v)) {
	case json_type_string:
		return set_scalar(ld, idx, json_object_get_string(v), false, where);
	case json_type_int:
		(void)snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(v));
		return set_scalar(ld, idx, buf, false, where);
	case json_type_boolean:
		return set_scalar(ld, idx, json_object_get_boolean(v) ? "true" : "false", false, where);
	default:
		return fail(ld, "%s: key '%s' has a value of the wrong type", where, k->name);
	}
}

static int
json_object_apply(struct loader *ld, json_object *obj, const char *prefix, const char *where)
{
	json_object_object_foreach(obj, name, v) {
		char full[256];
		size_t idx;
		int r;

		r = snprintf(full, sizeof(full), "%s.%s", prefix, name);
		if (r < 0 || (size_t)r >= sizeof(full) || !key_find(full, &idx)) {
			char esc[128];

			return fail(ld, "%s: unknown key '%s'", where, log_escape(esc, sizeof(esc), full));
		}
		r = json_value_apply(ld, idx, v, where);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
load_env(struct loader *ld, char *const *env)
{
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		char name[256], where[300];
		const struct key *k;
		size_t idx, o = 0;
		int r;

		if (!eq || (size_t)(eq - env[i]) >= sizeof(name))
			continue;
		/* FOO__BAR → foo.bar; names are case-insensitive */
		for (const char *p = env[i]; p < eq; p++) {
			if (p[0] == '_' && p + 1 < eq && p[1] == '_') {
				name[o++] = '.';
				p++;
			} else
				name[o++] = (char)tolower((unsigned char)*p);
		}
		name[o] = '\0';
		k = key_find(name, &idx);
		if (!k)
			continue;	/* unknown environment variables are ignored */
		(void)snprintf(where, sizeof(where), "environment variable %.*s",
		    (int)(eq - env[i]), env[i]);
		if (k->type == K_SECTION || k->type == K_LIST) {
			_cleanup_(json_object_putp) json_object *j = NULL;

			j = json_tokener_parse(eq + 1);
			if (!j && !streq(eq + 1, "null"))
				return fail(ld, "%s: expects JSON", where);
			r = json_value_apply(ld, idx, j, where);
		} else
			r = set_scalar(ld, idx, eq + 1, false, where);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- systemd credentials ------------------------------------------------ */

static int
load_credentials(struct loader *ld, char *const *env)
{
	const char *dir = NULL;

	for (size_t i = 0; env && env[i]; i++) {
		const char *v = startswith(env[i], "CREDENTIALS_DIRECTORY=");

		if (v)
			dir = v;
	}
	if (!dir || !*dir)
		return 0;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		char path[4096], buf[4097];
		_cleanup_close_ int fd = -1;
		ssize_t l;

		if (!keys[i].credential)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, keys[i].credential) >= (int)sizeof(path))
			return fail(ld, "credentials directory path too long");
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return fail(ld, "credential '%s': %s", keys[i].credential, strerror(errno));
		}
		l = read(fd, buf, sizeof(buf));
		if (l < 0)
			return fail(ld, "credential '%s': %s", keys[i].credential, strerror(errno));
		if ((size_t)l == sizeof(buf))
			return fail(ld, "credential '%s' is longer than 4096 bytes", keys[i].credential);
		/* secrets files usually end with a newline that is not part of the secret */
		while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			l--;
		buf[l] = '\0';
		if (strlen(buf) != (size_t)l)
			return fail(ld, "credential '%s' contains a NUL byte", keys[i].credential);
		if (set_scalar(ld, i, buf, false, "credential") < 0)
			return -EINVAL;
	}
	return 0;
}

/* ---- defaults and checks ------------------------------------------------ */

static int
apply_defaults(struct loader *ld)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const struct key *k = &keys[i];
		int r;

		if (!k->def || k->type == K_SECTION)
			continue;
		if (k->type == K_LIST) {
			char **v = strv_split(k->def);

			if (!v)
				return -ENOMEM;
			r = set_list(ld, i, v);
		} else
			r = set_scalar(ld, i, k->def, false, "default");
		if (r < 0)
			return r;
		ld->set[i] = false;
	}
	return 0;
}

static int
resolve_database(struct loader *ld)
{
	struct config *c = ld->c;
	const char *p;

	if (c->database_path && *c->database_path)
		return 0;
	p = startswith(c->database_url, "sqlite:///");
	if (!p)
		p = startswith(c->database_url, "sqlite+aiosqlite:///");
	if (!p || !*p)
		return fail(ld, "database_url must look like 'sqlite:///<path>', got '%s'",
		    c->database_url);
	free(c->database_path);
	c->database_path = strdup(p);
	return c->database_path ? 0 : -ENOMEM;
}

static int
check(struct loader *ld, bool relaxed)
{
	struct config *c = ld->c;
	size_t restic_idx = 0;

	if (!relaxed)
		for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
			char *const *s = field(c, &keys[i]);

			if ((keys[i].flags & KF_REQUIRED) && (!*s || !**s))
				return fail(ld, "required setting '%s' is missing (file key '%s', "
				    "environment variable '%s')", keys[i].name, keys[i].name,
				    keys[i].name);
		}
	if (!streq(c->jwt.algorithm, "HS256") && !streq(c->jwt.algorithm, "HS384") &&
	    !streq(c->jwt.algorithm, "HS512"))
		return fail(ld, "jwt.algorithm must be HS256, HS384 or HS512, got '%s'",
		    c->jwt.algorithm);
	(void)key_find("restic", &restic_idx);
	c->restic.present = ld->set[restic_idx] || c->restic.repository_path;
	if (c->restic.present && (!c->restic.repository_path || !*c->restic.repository_path))
		return fail(ld, "restic.repository_path is required when restic is configured");
	return resolve_database(ld);
}

static int
load(const char *path, char *const *env, bool relaxed, struct config **ret, char **ret_error)
{
	struct loader ld = { 0 };
	const char *file = path;
	bool must_exist = path != NULL;
	int r;

	ld.c = calloc(1, sizeof(struct config));
	if (!ld.c)
		return -ENOMEM;
	for (size_t i = 0; !file && env && env[i]; i++) {
		const char *v = startswith(env[i], "MC_ADMIN_CONFIG=");

		if (v && *v) {
			file = v;
			must_exist = true;
		}
	}
	if (!file)
		file = DEFAULT_CONFIG_PATH;

	r = apply_defaults(&ld);
	if (r >= 0)
		r = load_yaml(&ld, file, must_exist);
	if (r >= 0)
		r = load_env(&ld, env);
	if (r >= 0)
		r = load_credentials(&ld, env);
	if (r >= 0)
		r = check(&ld, relaxed);
	if (r < 0) {
		config_free(ld.c);
		if (ret_error)
			*ret_error = ld.error ? ld.error : strdup(strerror(-r));
		else
			free(ld.error);
		return r;
	}
	*ret = ld.c;
	return 0;
}

int
config_load(const char *path, char *const *env, struct config **ret, char **ret_error)
{
	return load(path, env, false, ret, ret_error);
}

int
config_load_relaxed(const char *path, char *const *env, struct config **ret, char **ret_error)
{
	return load(path, env, true, ret, ret_error);
}

struct config *
config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		void *f = field(c, &keys[i]);

		if (keys[i].type == K_STR) {
			char **s = f;

			if (*s && (keys[i].flags & KF_SECRET))
				explicit_bzero(*s, strlen(*s));
			free(*s);
		} else if (keys[i].type == K_LIST)
			strv_free(*(char ***)f);
	}
	free(c->source_file);
	free(c);
	return NULL;
}

static void
dump_string(FILE *f, const char *s)
{
	_cleanup_(json_object_putp) json_object *j = json_object_new_string(s);

	/* a JSON string is a valid YAML double-quoted scalar */
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), f);
}

int
config_dump(const struct config *c, FILE *f)
{
	const char *section = NULL;

	fprintf(f, "# effective configuration (source file: %s)\n",
	    c->source_file ? c->source_file : "none");
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const struct key *k = &keys[i];
		const char *dot = strchr(k->name, '.');
		const char *name = dot ? dot + 1 : k->name;
		const void *v = (const char *)c + k->off;

		if (k->type == K_SECTION) {
			section = k->name;
			if (streq(k->name, "restic") && !c->restic.present) {
				fputs("restic: null\n", f);
				section = "-";
			} else
				fprintf(f, "%s:\n", k->name);
			continue;
		}
		if (dot && section && streq(section, "-"))
			continue;
		fprintf(f, "%s%s: ", dot ? "  " : "", name);
		switch (k->type) {
		case K_STR: {
			const char *s = *(char *const *)v;

			if (!s)
				fputs("null", f);
			else if (k->flags & KF_SECRET)
				fputs("\"***MASKED***\"", f);
			else
				dump_string(f, s);
			break;
		}
		case K_INT:
			fprintf(f, "%lld", (long long)*(const int64_t *)v);
			break;
		case K_BOOL:
			fputs(*(const bool *)v ? "true" : "false", f);
			break;
		case K_LIST: {
			char *const *l = *(char *const *const *)v;

			fputc('[', f);
			for (size_t j = 0; l && l[j]; j++) {
				if (j)
					fputs(", ", f);
				dump_string(f, l[j]);
			}
			fputc(']', f);
			break;
		}
		case K_SECTION:
		case K_TYPE_MAX:
			break;
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}
