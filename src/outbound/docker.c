/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "outbound/docker.h"

#define API_BASE		"http://localhost/v" DOCKER_API_VERSION
#define JSON_DEPTH_MAX		64
#define ERROR_BODY_MAX		4096	/* error answers of a log stream */
#define CANCEL_TICK_MS		100
#define POLL_LOOP_FDS		8	/* a log stream uses one socket */

#define LABEL_PROJECT		"com.docker.compose.project"
#define LABEL_SERVICE		"com.docker.compose.service"
#define LABEL_WORKING_DIR	"com.docker.compose.project.working_dir"

struct docker {
	char *socket_path;
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_response;
};

static const char *const state_names[DOCKER_STATE_MAX] = {
	[DOCKER_STATE_UNKNOWN] = "unknown",
	[DOCKER_STATE_CREATED] = "created",
	[DOCKER_STATE_RUNNING] = "running",
	[DOCKER_STATE_PAUSED] = "paused",
	[DOCKER_STATE_RESTARTING] = "restarting",
	[DOCKER_STATE_REMOVING] = "removing",
	[DOCKER_STATE_EXITED] = "exited",
	[DOCKER_STATE_DEAD] = "dead",
};

static const char *const health_names[DOCKER_HEALTH_MAX] = {
	[DOCKER_HEALTH_NONE] = "none",
	[DOCKER_HEALTH_STARTING] = "starting",
	[DOCKER_HEALTH_HEALTHY] = "healthy",
	[DOCKER_HEALTH_UNHEALTHY] = "unhealthy",
};

/* Health as the list endpoint writes it into Status ("Up 5 seconds (healthy)"). */
static const struct {
	const char *marker;
	enum docker_health health;
} status_health[] = {
	{ "(health: starting)", DOCKER_HEALTH_STARTING },
	{ "(unhealthy)", DOCKER_HEALTH_UNHEALTHY },	/* before "(healthy)" for clarity */
	{ "(healthy)", DOCKER_HEALTH_HEALTHY },
};

/* CURLcode → -errno at the boundary; anything not listed is -EIO. */
static const struct {
	CURLcode code;
	int error;
} curl_errors[] = {
	{ CURLE_COULDNT_CONNECT, -EHOSTDOWN },		/* no socket, refused, EACCES */
	{ CURLE_COULDNT_RESOLVE_HOST, -EHOSTDOWN },
	{ CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT },
	{ CURLE_OUT_OF_MEMORY, -ENOMEM },
	{ CURLE_URL_MALFORMAT, -EINVAL },
	{ CURLE_UNSUPPORTED_PROTOCOL, -EINVAL },
	{ CURLE_BAD_FUNCTION_ARGUMENT, -EINVAL },
	{ CURLE_UNKNOWN_OPTION, -EINVAL },
	{ CURLE_NOT_BUILT_IN, -EINVAL },
	{ CURLE_WRITE_ERROR, -EMSGSIZE },		/* only our bounded callback aborts */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)

const char *
docker_state_to_string(enum docker_state s)
{
	return s >= 0 && s < DOCKER_STATE_MAX ? state_names[s] : "unknown";
}

enum docker_state
docker_state_from_string(const char *s)
{
	for (size_t i = 1; s && i < DOCKER_STATE_MAX; i++)
		if (streq(s, state_names[i]))
			return (enum docker_state)i;
	return DOCKER_STATE_UNKNOWN;
}

const char *
docker_health_to_string(enum docker_health h)
{
	return h >= 0 && h < DOCKER_HEALTH_MAX ? health_names[h] : "none";
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

int
docker_name_check(const char *name)
{
	size_t n;

	if (!name || !is_name_char(name[0]) || name[0] == '_' || name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (n = 0; name[n]; n++)
		if (n >= DOCKER_NAME_MAX || !is_name_char(name[n]))
			return -EINVAL;
	return 0;
}

static bool
is_full_id(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == DOCKER_ID_LEN;
}

int
docker_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void
docker_global_cleanup(void)
{
	curl_global_cleanup();
}

int
docker_new(const struct docker_config *cfg, struct docker **ret)
{
	struct docker_config c = cfg ? *cfg : (struct docker_config){ 0 };
	struct docker *d;

	if (!ret || c.timeout_ms < 0 || c.connect_timeout_ms < 0 || c.timeout_ms > LONG_MAX ||
	    c.connect_timeout_ms > LONG_MAX)
		return -EINVAL;
	if (c.socket_path && (c.socket_path[0] != '/' ||
	    strlen(c.socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->socket_path = strdup(c.socket_path ? c.socket_path : DOCKER_SOCKET_DEFAULT);
	if (!d->socket_path) {
		free(d);
		return -ENOMEM;
	}
	d->timeout_ms = c.timeout_ms ? (long)c.timeout_ms : DOCKER_TIMEOUT_MS_DEFAULT;
	d->connect_timeout_ms = c.connect_timeout_ms ? (long)c.connect_timeout_ms :
	    DOCKER_CONNECT_TIMEOUT_MS_DEFAULT;
	d->max_response = c.max_response ? c.max_response : DOCKER_MAX_RESPONSE_DEFAULT;
	*ret = d;
	return 0;
}

struct docker *
docker_free(struct docker *d)
{
	if (d) {
		free(d->socket_path);
		free(d);
	}
	return NULL;
}

static int
curl_to_errno(CURLcode c)
{
	if (c == CURLE_OK)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(curl_errors); i++)
		if (curl_errors[i].code == c)
			return curl_errors[i].error;
	return -EIO;
}

static void
error_set(struct docker_error *e, long status, const char *msg, size_t len)
{
	if (!e)
		return;
	e->http_status = status;
	if (len >= sizeof(e->message))
		len = sizeof(e->message) - 1;
	memcpy(e->message, msg, len);
	e->message[len] = '\0';
}

static void
error_reset(struct docker_error *e)
{
	if (e)
		*e = (struct docker_error){ 0 };
}

/* The daemon's {"message": "..."}, else the raw (bounded) body. */
static void
error_from_body(struct docker_error *e, long status, const char *body, size_t len)
{
	_cleanup_(json_object_putp) json_object *j = NULL;
	const char *perr;
	size_t off;
	json_object *m;

	if (!e)
		return;
	j = json_parse_strict(body, len, JSON_DEPTH_MAX, &perr, &off);
	if (j && json_object_object_get_ex(j, "message", &m) &&
	    json_object_is_type(m, json_type_string)) {
		error_set(e, status, json_object_get_string(m),
		    (size_t)json_object_get_string_len(m));
		return;
	}
	error_set(e, status, body, len);
}

/* Map a finished HTTP answer: 2xx → 0, 404 → -ENOENT, else -EIO (detail in e). */
static int
http_to_errno(long status, const char *body, size_t len, struct docker_error *e)
{
	if (status >= 200 && status < 300)
		return 0;
	error_from_body(e, status, body, len);
	return status == 404 ? -ENOENT : -EIO;
}

/* libcurl 7.88 opens sockets without SOCK_CLOEXEC: a spawn in another thread
 * would inherit the docker socket. */
static curl_socket_t
open_socket_cloexec(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	(void)clientp;
	(void)purpose;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static int
easy_setup(const struct docker *d, CURL *h, const char *url, char *errbuf, bool stream)
{
	CURLcode c = CURLE_OK;

#define SETOPT(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val); } while (0)
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	SETOPT(CURLOPT_NOPROXY, "*");		/* never an http_proxy from the environment */
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, d->connect_timeout_ms);
	/* a followed log stream may stay quiet for days: no overall timeout */
	SETOPT(CURLOPT_TIMEOUT_MS, stream ? 0L : d->timeout_ms);
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket_cloexec);
	SETOPT(CURLOPT_USERAGENT, "mc-admin/" PACKAGE_VERSION);
#undef SETOPT
	return curl_to_errno(c);
}

/* ---- plain GET requests ---- */

struct request {
	struct strbuf body;
	bool too_big;
	char api_version[16];	/* "Api-Version" header (ping) */
};

static size_t
request_write(char *p, size_t size, size_t n, void *userdata)
{
	struct request *rq = userdata;
	size_t len = size * n;

	if (strbuf_append(&rq->body, p, len) < 0) {
		rq->too_big = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

static size_t
request_header(char *p, size_t size, size_t n, void *userdata)
{
	static const char key[] = "api-version:";
	struct request *rq = userdata;
	size_t len = size * n, vl;
	const char *v, *end = p + len;

	if (len <= sizeof(key) - 1 || strncasecmp(p, key, sizeof(key) - 1) != 0)
		return len;
	for (v = p + sizeof(key) - 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	for (vl = 0; v + vl < end && v[vl] != '\r' && v[vl] != '\n'; vl++)
		;
	if (vl < sizeof(rq->api_version)) {
		memcpy(rq->api_version, v, vl);
		rq->api_version[vl] = '\0';
	}
	return len;
}

/*
 * GET API_BASE + path. Returns 0 with the 2xx body in rq->body, or -errno
 * (detail in e).
 */
static int
docker_get(const struct docker *d, const char *path, struct request *rq, struct docker_error *e)
{
	_cleanup_(curl_easy_cleanupp) CURL *h = NULL;
	_cleanup_free_ char *url = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode c;
	int r;

	strbuf_init(&rq->body, d->max_response);
	if (asprintf(&url, "%s%s", API_BASE, path) < 0) {
		url = NULL;
		return -ENOMEM;
	}
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	r = easy_setup(d, h, url, errbuf, false);
	if (r < 0)
		return r;
	c = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, request_write);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_WRITEDATA, rq);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, request_header);
	if (c == CURLE_OK)
		c = curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
	if (c == CURLE_OK)
		c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		if (c == CURLE_WRITE_ERROR && rq->too_big)
			error_set(e, 0, "answer too large", strlen("answer too large"));
		else
			error_set(e, 0, errbuf[0] ? errbuf : curl_easy_strerror(c),
			    strlen(errbuf[0] ? errbuf : curl_easy_strerror(c)));
		strbuf_free(&rq->body);
		return curl_to_errno(c);
	}
	c = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (c != CURLE_OK) {
		strbuf_free(&rq->body);
		return curl_to_errno(c);
	}
	r = http_to_errno(status, strbuf_str(&rq->body), rq->body.len, e);
	if (r < 0)
		strbuf_free(&rq->body);
	return r;
}

/* "1.41" → 141; -EBADMSG for anything else */
static int
api_version_parse(const char *s, int *ret)
{
	const char *dot = strchr(s, '.');
	_cleanup_free_ char *major = NULL;
	int64_t ma, mi;

	if (!dot)
		return -EBADMSG;
	major = strndup(s, (size_t)(dot - s));
	if (!major)
		return -ENOMEM;
	if (parse_int64(major, 0, 99, &ma) < 0 || parse_int64(dot + 1, 0, 999, &mi) < 0)
		return -EBADMSG;
	*ret = (int)(ma * 1000 + mi);
	return 0;
}

int
docker_ping(const struct docker *d, struct docker_error *ret_error)
{
	struct request rq = { 0 };
	int have, want, r;

	error_reset(ret_error);
	if (!d)
		return -EINVAL;
	r = docker_get(d, "/_ping", &rq, ret_error);
	if (r < 0)
		return r;
	strbuf_free(&rq.body);
	if (api_version_parse(DOCKER_API_VERSION, &want) < 0)
		return -EINVAL;
	r = api_version_parse(rq.api_version, &have);
	if (r < 0) {
		error_set(ret_error, 200, "no Api-Version header", strlen("no Api-Version header"));
		return r;
	}
	if (have < want) {
		char m[64];

		(void)snprintf(m, sizeof(m), "daemon API %s < %s", rq.api_version,
		    DOCKER_API_VERSION);
		error_set(ret_error, 200, m, strlen(m));
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* ---- JSON → struct docker_container ---- */

static json_object *
jget(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

/* Copy a string member (NULL when absent). 0 or -ENOMEM. */
static int
jdup(json_object *o, const char *key, char **ret)
{
	const char *s = jstr(o, key);

	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int
labels_take(json_object *labels, struct docker_container *c)
{
	int r;

	r = jdup(labels, LABEL_PROJECT, &c->compose_project);
	if (r >= 0)
		r = jdup(labels, LABEL_SERVICE, &c->compose_service);
	if (r >= 0)
		r = jdup(labels, LABEL_WORKING_DIR, &c->compose_working_dir);
	return r;
}

static int
id_take(json_object *o, struct docker_container *c)
{
	const char *id = jstr(o, "Id");

	if (!id || !is_full_id(id))
		return -EBADMSG;
	memcpy(c->id, id, DOCKER_ID_LEN + 1);
	return 0;
}

static int
name_take(const char *name, struct docker_container *c)
{
	if (!name)
		return -EBADMSG;
	if (name[0] == '/')
		name++;
	c->name = strdup(name);
	return c->name ? 0 : -ENOMEM;
}

static int
container_from_inspect(json_object *j, struct docker_container *c)
{
	json_object *state = jget(j, "State", json_type_object);
	json_object *config = jget(j, "Config", json_type_object);
	json_object *health, *v;
	const char *started;
	int r;

	if (!state || !config)
		return -EBADMSG;
	r = id_take(j, c);
	if (r < 0)
		return r;
	r = name_take(jstr(j, "Name"), c);
	if (r < 0)
		return r;
	r = jdup(config, "Image", &c->image);
	if (r < 0)
		return r;
	r = labels_take(jget(config, "Labels", json_type_object), c);
	if (r < 0)
		return r;

	c->inspected = true;
	c->state = docker_state_from_string(jstr(state, "Status"));
	v = jget(state, "Pid", json_type_int);
	if (v) {
		int64_t pid = json_object_get_int64(v);

		c->pid = pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
	}
	v = jget(state, "ExitCode", json_type_int);
	c->exit_code = v ? json_object_get_int(v) : 0;
	v = jget(config, "Tty", json_type_boolean);
	c->tty = v && json_object_get_boolean(v);
	started = jstr(state, "StartedAt");
	/* never started: "0001-01-01T00:00:00Z" */
	if (!started || parse_iso_datetime(started, &c->started_at_usec) < 0 ||
	    c->started_at_usec < 0)
		c->started_at_usec = 0;

	health = jget(state, "Health", json_type_object);
	c->health = DOCKER_HEALTH_NONE;
	if (health && c->state == DOCKER_STATE_RUNNING) {
		const char *hs = jstr(health, "Status");

		for (size_t i = 1; hs && i < DOCKER_HEALTH_MAX; i++)
			if (streq(hs, health_names[i]))
				c->health = (enum docker_health)i;
	}
	return 0;
}

/* The container's own name among "Names" (others are link aliases "/a/b"). */
static const char *
list_name(json_object *j)
{
	json_object *names = jget(j, "Names", json_type_array);
	size_t n = names ? json_object_array_length(names) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(names, i);
		const char *s;

		if (!json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		if (s[0] == '/' && !strchr(s + 1, '/'))
			return s;
	}
	return NULL;
}

static int
container_from_list(json_object *j, const char *name, struct docker_container *c)
{
	const char *status;
	int r;

	r = id_take(j, c);
	if (r < 0)
		return r;
	r = name_take(name, c);
	if (r < 0)
		return r;
	r = jdup(j, "Image", &c->image);
	if (r < 0)
		return r;
	r = labels_take(jget(j, "Labels", json_type_object), c);
	if (r < 0)
		return r;
	c->state = docker_state_from_string(jstr(j, "State"));
	c->health = DOCKER_HEALTH_NONE;
	status = jstr(j, "Status");
	for (size_t i = 0; status && c->state == DOCKER_STATE_RUNNING &&
	    i < ELEMENTSOF(status_health); i++)
		if (strstr(status, status_health[i].marker)) {
			c->health = status_health[i].health;
			break;
		}
	return 0;
}

void
docker_container_done(struct docker_container *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->image);
	free(c->compose_project);
	free(c->compose_service);
	free(c->compose_working_dir);
	*c = (struct docker_container){ 0 };
}

void
docker_container_list_done(struct docker_container_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		docker_container_done(&l->items[i]);
	free(l->items);
	*l = (struct docker_container_list){ 0 };
}

static int
parse_body(struct request *rq, json_object **ret, struct docker_error *e)
{
	const char *perr = NULL;
	size_t off = 0;
	json_object *j;

	j = json_parse_strict(strbuf_str(&rq->body), rq->body.len, JSON_DEPTH_MAX, &perr, &off);
	strbuf_free(&rq->body);
	if (!j) {
		error_set(e, 200, perr ? perr : "bad JSON", strlen(perr ? perr : "bad JSON"));
		return -EBADMSG;
	}
	*ret = j;
	return 0;
}

int
docker_container_inspect(const struct docker *d, const char *name, struct docker_container *ret,
    struct docker_error *ret_error)
{
	_cleanup_(json_object_putp) json_object *j = NULL;
	_cleanup_free_ char *path = NULL;
	struct docker_container c = { 0 };
	struct request rq = { 0 };
	int r;

	error_reset(ret_error);
	if (!d || !ret || docker_name_check(name) < 0)
		return -EINVAL;
	if (asprintf(&path, "/containers/%s/json", name) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	r = docker_get(d, path, &rq, ret_error);
	if (r < 0)
		return r;
	r = parse_body(&rq, &j, ret_error);
	if (r < 0)
		return r;
	r = container_from_inspect(j, &c);
	if (r < 0) {
		docker_container_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static int
url_escape(struct strbuf *sb, const char *s)
{
	int r = 0;

	for (; *s && r >= 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~')
			r = strbuf_putc(sb, (char)ch);
		else
			r = strbuf_printf(sb, "%%%02X", ch);
	}
	return r;
}

/* "/containers/json?all=1&filters=" + escaped {"name":["^/?<prefix regex>"]} */
static int
list_path(const char *prefix, char **ret)
{
	_cleanup_(json_object_putp) json_object *filters = NULL;
	struct strbuf re = STRBUF_INIT, sb = STRBUF_INIT;
	json_object *arr, *s;
	int r;

	r = strbuf_puts(&re, "^/?");
	for (const char *p = prefix; *p && r >= 0; p++)
		r = *p == '.' ? strbuf_puts(&re, "\\.") : strbuf_putc(&re, *p);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	filters = json_object_new_object();
	arr = json_object_new_array();
	if (!filters || !arr) {
		json_object_putp(&arr);
		goto out;
	}
	if (json_object_object_add(filters, "name", arr) < 0) {
		json_object_putp(&arr);
		goto out;
	}
	s = json_object_new_string(strbuf_str(&re));
	if (!s || json_object_array_add(arr, s) < 0) {
		json_object_putp(&s);
		goto out;
	}
	r = strbuf_puts(&sb, "/containers/json?all=1&filters=");
	if (r >= 0)
		r = url_escape(&sb, json_compact(filters));
	if (r >= 0) {
		*ret = strbuf_steal(&sb);
		r = *ret ? 0 : -ENOMEM;
	}
out:
	strbuf_free(&re);
	strbuf_free(&sb);
	return r;
}

int
docker_container_list(const struct docker *d, const char *name_prefix,
    struct docker_container_list *ret, struct docker_error *ret_error)
{
	_cleanup_(json_object_putp) json_object *j = NULL;
	_cleanup_free_ char *path = NULL;
	struct docker_container_list l = { 0 };
	struct request rq = { 0 };
	size_t n;
	int r;

	error_reset(ret_error);
	if (!d || !ret || !name_prefix)
		return -EINVAL;
	for (const char *p = name_prefix; *p; p++)
		if (!is_name_char(*p) || p - name_prefix >= DOCKER_NAME_MAX)
			return -EINVAL;
	r = list_path(name_prefix, &path);
	if (r < 0)
		return r;
	r = docker_get(d, path, &rq, ret_error);
	if (r < 0)
		return r;
	r = parse_body(&rq, &j, ret_error);
	if (r < 0)
		return r;
	if (!json_object_is_type(j, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(j);
	l.items = calloc(n ? n : 1, sizeof(*l.items));
	if (!l.items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(j, i);
		const char *name = list_name(o);

		/* the daemon's regex match is an optimisation; this is the check */
		if (!name || !startswith(name + 1, name_prefix))
			continue;
		r = container_from_list(o, name, &l.items[l.n]);
		if (r < 0) {
			docker_container_done(&l.items[l.n]);
			docker_container_list_done(&l);
			return r;
		}
		l.n++;
	}
	*ret = l;
	return 0;
}

/* ---- log streams ---- */

void
docker_log_decoder_init(struct docker_log_decoder *dec, bool tty)
{
	*dec = (struct docker_log_decoder){ .raw = tty, .stream = DOCKER_STREAM_STDOUT };
}

bool
docker_log_decoder_partial(const struct docker_log_decoder *dec)
{
	return !dec->raw && (dec->hdr_len > 0 || dec->remaining > 0);
}

int
docker_log_decoder_feed(struct docker_log_decoder *dec, const void *data, size_t len,
    docker_log_fn cb, void *userdata)
{
	const uint8_t *p = data;
	int r;

	if (dec->raw)
		return len > 0 ? cb(DOCKER_STREAM_STDOUT, data, len, userdata) : 0;
	while (len > 0) {
		size_t take;

		if (dec->remaining == 0) {
			/* collecting a header (possibly split across chunks) */
			take = sizeof(dec->hdr) - dec->hdr_len;
			if (take > len)
				take = len;
			memcpy(dec->hdr + dec->hdr_len, p, take);
			dec->hdr_len += take;
			p += take;
			len -= take;
			if (dec->hdr_len < sizeof(dec->hdr))
				break;
			/* {0 stdin (written on stdout), 1 stdout, 2 stderr}, 0, 0, 0 */
			if (dec->hdr[0] > 2 || dec->hdr[1] || dec->hdr[2] || dec->hdr[3])
				return -EBADMSG;
			dec->stream = dec->hdr[0] == 2 ? DOCKER_STREAM_STDERR :
			    DOCKER_STREAM_STDOUT;
			dec->remaining = (uint32_t)dec->hdr[4] << 24 | (uint32_t)dec->hdr[5] << 16 |
			    (uint32_t)dec->hdr[6] << 8 | (uint32_t)dec->hdr[7];
			dec->hdr_len = 0;
			continue;
		}
		take = dec->remaining < len ? dec->remaining : len;
		dec->remaining -= (uint32_t)take;
		r = cb(dec->stream, (const char *)p, take, userdata);
		p += take;
		len -= take;
		if (r != 0)
			return r;
	}
	return 0;
}

struct docker_logs {
	CURLM *multi;
	CURL *easy;
	char *url;
	char errbuf[CURL_ERROR_SIZE];
	struct docker_log_decoder dec;
	docker_log_fn cb;
	void *userdata;
	struct docker_logs_loop loop;
	long status;			/* HTTP status, once the headers are in */
	struct strbuf error_body;	/* body of a non-2xx answer (bounded) */
	int stop;			/* cb's or the decoder's non-zero value */
	int loop_error;			/* a watch/timer callback failed */
	bool done;
	int result;
	struct docker_error error;
};

static size_t
logs_write(char *p, size_t size, size_t n, void *userdata)
{
	struct docker_logs *l = userdata;
	size_t len = size * n;
	int r;

	if (l->status == 0 &&
	    curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &l->status) != CURLE_OK)
		return 0;
	if (l->status < 200 || l->status >= 300) {
		/* an error answer: keep its beginning for the message */
		size_t room = ERROR_BODY_MAX - l->error_body.len;

		if (room > 0)
			(void)strbuf_append(&l->error_body, p, len < room ? len : room);
		return len;
	}
	r = docker_log_decoder_feed(&l->dec, p, len, l->cb, l->userdata);
	if (r != 0) {
		l->stop = r;
		return 0;	/* aborts the transfer */
	}
	return len;
}

static int
logs_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct docker_logs *l = userp;
	unsigned ev = 0;
	int r;

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= DOCKER_IO_IN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= DOCKER_IO_OUT;
	r = l->loop.watch(s, ev, l->loop.loop_data);
	if (r < 0 && l->loop_error == 0)
		l->loop_error = r;
	return 0;
}

static int
logs_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct docker_logs *l = userp;
	int r;

	(void)m;
	r = l->loop.timer(timeout_ms < 0 ? -1 : (int64_t)timeout_ms, l->loop.loop_data);
	if (r < 0 && l->loop_error == 0)
		l->loop_error = r;
	return 0;
}

static void
logs_finish(struct docker_logs *l, CURLcode c)
{
	long status = 0;

	if (l->done)
		return;
	l->done = true;
	if (l->stop != 0) {
		l->result = l->stop;	/* the callback's choice, or -EBADMSG */
		if (l->stop == -EBADMSG)
			error_set(&l->error, l->status, "malformed log stream",
			    strlen("malformed log stream"));
		return;
	}
	if (c != CURLE_OK) {
		const char *m = l->errbuf[0] ? l->errbuf : curl_easy_strerror(c);

		error_set(&l->error, 0, m, strlen(m));
		l->result = curl_to_errno(c);
		if (l->result == -EMSGSIZE)
			l->result = -EIO;
		return;
	}
	if (curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = l->status;
	l->result = http_to_errno(status, strbuf_str(&l->error_body), l->error_body.len, &l->error);
	if (l->result == 0 && docker_log_decoder_partial(&l->dec)) {
		error_set(&l->error, status, "log stream ended inside a frame",
		    strlen("log stream ended inside a frame"));
		l->result = -EBADMSG;
	}
}

/* After any call into curl: notice the end of the transfer. */
static int
logs_progress(struct docker_logs *l, CURLMcode mc)
{
	CURLMsg *m;
	int left;

	if (l->done)
		return l->result < 0 ? l->result : 1;
	if (mc != CURLM_OK) {
		l->done = true;
		l->result = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		error_set(&l->error, 0, curl_multi_strerror(mc), strlen(curl_multi_strerror(mc)));
	} else if (l->loop_error < 0) {
		l->done = true;
		l->result = l->loop_error;
		error_set(&l->error, 0, "event loop refused a source",
		    strlen("event loop refused a source"));
	} else {
		while ((m = curl_multi_info_read(l->multi, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == l->easy)
				logs_finish(l, m->data.result);
	}
	if (!l->done)
		return 0;
	return l->result < 0 ? l->result : 1;
}

static int
logs_path(const char *name, const struct docker_logs_options *o, struct strbuf *sb)
{
	int r;

	r = strbuf_printf(sb, "%s/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d",
	    API_BASE, name, o->follow ? 1 : 0, o->timestamps ? 1 : 0);
	if (r >= 0 && o->tail >= 0)
		r = strbuf_printf(sb, "&tail=%lld", (long long)o->tail);
	else if (r >= 0)
		r = strbuf_puts(sb, "&tail=all");
	if (r >= 0 && o->since_usec > 0)
		r = strbuf_printf(sb, "&since=%lld.%06lld", (long long)(o->since_usec / 1000000),
		    (long long)(o->since_usec % 1000000));
	return r;
}

int
docker_logs_open(const struct docker *d, const char *name, const struct docker_logs_options *opts,
    docker_log_fn cb, void *userdata, const struct docker_logs_loop *loop,
    struct docker_logs **ret)
{
	struct strbuf url = STRBUF_INIT;
	struct docker_logs *l;
	CURLMcode mc = CURLM_OK;
	CURLcode c = CURLE_OK;
	int r;

	if (!d || !opts || !cb || !loop || !loop->watch || !loop->timer || !ret ||
	    docker_name_check(name) < 0 || opts->since_usec < 0)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cb = cb;
	l->userdata = userdata;
	l->loop = *loop;
	docker_log_decoder_init(&l->dec, opts->tty);
	strbuf_init(&l->error_body, ERROR_BODY_MAX);

	r = logs_path(name, opts, &url);
	if (r < 0)
		goto fail;
	l->url = strbuf_steal(&url);
	r = -ENOMEM;
	if (!l->url)
		goto fail;
	l->easy = curl_easy_init();
	l->multi = curl_multi_init();
	if (!l->easy || !l->multi)
		goto fail;
	r = easy_setup(d, l->easy, l->url, l->errbuf, true);
	if (r < 0)
		goto fail;
	c = curl_easy_setopt(l->easy, CURLOPT_WRITEFUNCTION, logs_write);
	if (c == CURLE_OK)
		c = curl_easy_setopt(l->easy, CURLOPT_WRITEDATA, l);
	if (c != CURLE_OK) {
		r = curl_to_errno(c);
		goto fail;
	}
	mc = curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, logs_socket_cb);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, logs_timer_cb);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	if (mc == CURLM_OK)
		mc = curl_multi_add_handle(l->multi, l->easy);	/* arms the timer */
	if (mc != CURLM_OK) {
		r = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		goto fail;
	}
	if (l->loop_error < 0) {
		r = l->loop_error;
		goto fail;
	}
	*ret = l;
	return 0;
fail:
	strbuf_free(&url);
	docker_logs_close(l);
	return r;
}

int
docker_logs_on_io(struct docker_logs *l, int fd, unsigned revents)
{
	int mask = 0, running = 0;

	if (l->done)
		return l->result < 0 ? l->result : 1;
	if (revents & DOCKER_IO_IN)
		mask |= CURL_CSELECT_IN;
	if (revents & DOCKER_IO_OUT)
		mask |= CURL_CSELECT_OUT;
	if (revents & DOCKER_IO_ERR)
		mask |= CURL_CSELECT_ERR;
	return logs_progress(l, curl_multi_socket_action(l->multi, fd, mask, &running));
}

int
docker_logs_on_timer(struct docker_logs *l)
{
	int running = 0;

	if (l->done)
		return l->result < 0 ? l->result : 1;
	return logs_progress(l, curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running));
}

int
docker_logs_result(const struct docker_logs *l)
{
	return l->done ? l->result : -EINPROGRESS;
}

const struct docker_error *
docker_logs_error(const struct docker_logs *l)
{
	return &l->error;
}

struct docker_logs *
docker_logs_close(struct docker_logs *l)
{
	if (!l)
		return NULL;
	if (l->multi && l->easy)
		(void)curl_multi_remove_handle(l->multi, l->easy);	/* unwatches its socket */
	if (l->easy)
		curl_easy_cleanup(l->easy);
	if (l->multi)
		(void)curl_multi_cleanup(l->multi);
	free(l->url);
	strbuf_free(&l->error_body);
	free(l);
	return NULL;
}

/* ---- the blocking reader: the event-loop interface driven by poll() ---- */

struct poll_loop {
	struct {
		int fd;
		unsigned events;
	} w[POLL_LOOP_FDS];
	size_t n;
	int64_t timer_at;	/* monotonic µs; -1: disarmed */
};

static int
poll_loop_watch(int fd, unsigned events, void *loop_data)
{
	struct poll_loop *pl = loop_data;
	size_t i;

	for (i = 0; i < pl->n; i++)
		if (pl->w[i].fd == fd)
			break;
	if (events == 0) {
		if (i < pl->n)
			pl->w[i] = pl->w[--pl->n];
		return 0;
	}
	if (i == pl->n) {
		if (pl->n == ELEMENTSOF(pl->w))
			return -ENOSPC;
		pl->n++;
	}
	pl->w[i].fd = fd;
	pl->w[i].events = events;
	return 0;
}

static int
poll_loop_timer(int64_t timeout_ms, void *loop_data)
{
	struct poll_loop *pl = loop_data;

	pl->timer_at = timeout_ms < 0 ? -1 : now_monotonic_usec() + timeout_ms * 1000;
	return 0;
}

static int
poll_timeout(int64_t at, int64_t now, int cur)
{
	int64_t ms;

	if (at < 0)
		return cur;
	ms = at <= now ? 0 : (at - now + 999) / 1000;
	if (ms > INT_MAX)
		ms = INT_MAX;
	return cur < 0 || ms < cur ? (int)ms : cur;
}

int
docker_logs_read(const struct docker *d, const char *name, const struct docker_logs_options *opts,
    docker_log_fn cb, void *userdata, int64_t timeout_ms, const atomic_bool *cancel,
    struct docker_error *ret_error)
{
	struct poll_loop pl = { .timer_at = -1 };
	struct docker_logs_loop loop = {
		.watch = poll_loop_watch,
		.timer = poll_loop_timer,
		.loop_data = &pl,
	};
	struct docker_logs *l = NULL;
	int64_t deadline;
	int r;

	error_reset(ret_error);
	if (timeout_ms < 0)
		return -EINVAL;
	r = docker_logs_open(d, name, opts, cb, userdata, &loop, &l);
	if (r < 0)
		return r;
	deadline = timeout_ms > 0 ? now_monotonic_usec() + timeout_ms * 1000 : -1;

	for (r = 0; r == 0;) {
		struct pollfd pfd[POLL_LOOP_FDS];
		int64_t now = now_monotonic_usec();
		size_t n = pl.n;
		int tmo = -1;

		if (cancel && atomic_load(cancel)) {
			r = -ECANCELED;
			break;
		}
		if (deadline >= 0 && now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (pl.timer_at >= 0 && now >= pl.timer_at) {
			pl.timer_at = -1;	/* curl may re-arm it from inside */
			r = docker_logs_on_timer(l);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){
				.fd = pl.w[i].fd,
				.events = (short)(((pl.w[i].events & DOCKER_IO_IN) ? POLLIN : 0) |
				    ((pl.w[i].events & DOCKER_IO_OUT) ? POLLOUT : 0)),
			};
		tmo = poll_timeout(pl.timer_at, now, tmo);
		tmo = poll_timeout(deadline, now, tmo);
		if (cancel && (tmo < 0 || tmo > CANCEL_TICK_MS))
			tmo = CANCEL_TICK_MS;
		if (poll(pfd, (nfds_t)n, tmo) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (size_t i = 0; i < n && r == 0; i++) {
			unsigned ev = 0;

			if (!pfd[i].revents)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP))
				ev |= DOCKER_IO_IN;
			if (pfd[i].revents & POLLOUT)
				ev |= DOCKER_IO_OUT;
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				ev |= DOCKER_IO_ERR;
			r = docker_logs_on_io(l, pfd[i].fd, ev);
		}
	}
	if (r == 1)
		r = docker_logs_result(l);
	if (r < 0 && ret_error)
		*ret_error = *docker_logs_error(l);
	docker_logs_close(l);
	return r;
}
