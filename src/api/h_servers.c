/* SPDX-License-Identifier: MIT */
/*
 * /api/servers: list, info, status, compose read/replace, create
 * (API-core §12.1-§12.3, §12.6, §12.7, §12.9). Resources, players,
 * operations and RCON are in h_servers_ops.c.
 */
#include "autoconf.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/h_servers.h"
#include "common/log.h"
#include "common/util.h"
#include "compose/compose.h"
#include "pathsafe/pathsafe.h"

#define COMPOSE_MODE		0644
#define PROJECT_DIR_MODE	0755
#define BOUND_CHECK_MAX		16	/* host ports probed per range for the warning */

/* ---- shared helpers ------------------------------------------------------ */

const char *
hs_id(struct ctx *c)
{
	const char *id = req_param(c->rq, "server_id");

	return id ? id : "";
}

static bool
not_found_errno(int r)
{
	return r == -EINVAL || r == -ENOENT || r == -ELOOP || r == -ENOTDIR;
}

int
hs_resolve(struct ctx *c, struct server_ref *ref)
{
	int r;

	if (!c->app->servers)
		return resp_detail(c->rs, 503, "Server management is not available") < 0 ?
		    -ENOMEM : 1;
	r = servers_open(c->app->servers, hs_id(c), ref);
	if (not_found_errno(r))
		return resp_detail(c->rs, 404, "Server '%s' not found", hs_id(c)) < 0 ? -ENOMEM : 1;
	if (r < 0)	/* server_path unreadable and the like: not the client's fault */
		return hs_fail(c, r, "Failed to open the server", "", NULL);
	return 0;
}

int
hs_fail(struct ctx *c, int r, const char *prefix, const char *what, const char *detail)
{
	int q;

	switch (-r) {
	case ENOMEM:
		return r;
	case EHOSTDOWN:
		/* curl's own text ("Failed to connect to localhost port 80") would
		 * only confuse: name the socket, keep the detail for the debug log */
		log_debug("%s: %s is not reachable: %s", prefix, what, detail ? detail : "");
		if (streq(what, "Docker"))
			q = resp_detail(c->rs, 503, "%s: Docker is not reachable at %s", prefix,
			    c->app->cfg->docker.socket);
		else
			q = resp_detail(c->rs, 503, "%s: %s is not reachable", prefix, what);
		break;
	case ETIMEDOUT:
		q = resp_detail(c->rs, 504, "%s: %s did not answer in time%s%s", prefix, what,
		    detail && *detail ? ": " : "", detail ? detail : "");
		break;
	default: {
		char eid[128], esc[1024];

		(void)log_escape(eid, sizeof(eid), hs_id(c));
		if (detail && *detail)
			log_error_errno(r, "%s '%s': %s", prefix, eid,
			    log_escape(esc, sizeof(esc), detail));
		else
			log_error_errno(r, "%s '%s': %m", prefix, eid);
		q = resp_detail(c->rs, 500, "%s: %s", prefix,
		    detail && *detail ? detail : strerror(-r));
		break;
	}
	}
	return q < 0 ? -ENOMEM : 1;
}

int
hs_cli_fail(struct ctx *c, int r, const char *prefix, const char *err)
{
	const struct servers_config *cfg = servers_config(c->app->servers);
	int q;

	if (r == -EHOSTDOWN && !cfg->cli)
		q = resp_detail(c->rs, 503, "%s: no docker compose command is available", prefix);
	else if (r == -ETIMEDOUT)
		q = resp_detail(c->rs, 504, "%s: docker compose did not finish within %lld s",
		    prefix, (long long)(cfg->command_timeout_ms / 1000));
	else if (r == -EIO && cfg->docker && docker_ping(cfg->docker, NULL) == -EHOSTDOWN)
		/* say what really went wrong */
		return hs_fail(c, -EHOSTDOWN, prefix, "Docker", NULL);
	else
		return hs_fail(c, r, prefix, "Docker", err);
	return q < 0 ? -ENOMEM : 1;
}

int
hs_state(struct ctx *c, const char *prefix, struct server_ref *ref,
    enum server_status *ret_status, struct docker_container *ret_container)
{
	struct docker_error de = { 0 };
	int r;

	*ret_container = (struct docker_container){ 0 };
	if (!c->app->servers)
		return resp_detail(c->rs, 503, "Server management is not available") < 0 ?
		    -ENOMEM : 1;
	r = servers_open(c->app->servers, hs_id(c), ref);
	if (not_found_errno(r)) {
		*ret_status = SERVER_STATUS_REMOVED;
		return 0;
	}
	if (r < 0)
		return hs_fail(c, r, prefix, "", NULL);
	r = servers_status_ref(c->app->servers, ref, ret_status, ret_container, &de);
	if (r < 0)
		return hs_fail(c, r, prefix, "Docker", de.message);
	return 0;
}

/* ---- §12.1 list ---------------------------------------------------------- */

static int
list_cb(const struct servers_entry *e, void *userdata)
{
	_cleanup_(compose_freep) struct compose *cf = NULL;
	_cleanup_free_ char *err = NULL;
	struct compose_info info = { 0 };
	json_object *o = NULL;
	char esc[128];
	int r;

	if (e->error == -ENOENT || e->error == -ENOTDIR)
		return 0;	/* not a server directory: nothing to say */
	if (e->error < 0) {
		if (e->error == -EINVAL)
			log_warning("server list: skipping '%s': not a valid server id",
			    log_escape(esc, sizeof(esc), e->name));
		else
			log_warning_errno(e->error, "server list: skipping '%s': %m",
			    log_escape(esc, sizeof(esc), e->name));
		return 0;
	}
	r = compose_load(e->text, e->len, e->name, &cf, &err);
	if (r == -ENOMEM)
		return r;
	if (r >= 0)
		r = compose_info_build(cf, e->name, &info, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char eerr[256];

		log_warning("server list: skipping '%s': %s", e->name,
		    log_escape(eerr, sizeof(eerr), err ? err : "invalid"));
		return 0;
	}
	r = compose_info_to_json(&info, &o);
	compose_info_done(&info);
	if (r < 0)
		return r;
	return json_object_array_add(userdata, o) == 0 ? 0 : -ENOMEM;
}

int
h_servers_list(struct ctx *c)
{
	_cleanup_(json_object_putp) json_object *a = NULL;
	int r;

	if (!c->app->servers)
		return resp_detail(c->rs, 503, "Server management is not available");
	a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	r = servers_discover(c->app->servers, list_cb, a);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_error_errno(r, "cannot list server_path: %m");
		return resp_detail(c->rs, 500, "Failed to get servers: %s", strerror(-r));
	}
	return resp_json(c->rs, 200, TAKE_PTR(a));
}

/* ---- §12.2 info ---------------------------------------------------------- */

int
h_server_get(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(compose_freep) struct compose *cf = NULL;
	_cleanup_free_ char *text = NULL, *err = NULL;
	struct compose_info info = { 0 };
	json_object *o = NULL;
	size_t len;
	int r;

	r = hs_resolve(c, &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	r = servers_compose_read(&ref, &text, &len);
	if (r == -ENOENT)
		return resp_detail(c->rs, 404, "Server '%s' not found", hs_id(c));
	if (r < 0)
		return hs_fail(c, r, "Failed to get server info", "", NULL) < 0 ? -ENOMEM : 0;
	r = compose_load(text, len, ref.id, &cf, &err);
	if (r >= 0)
		r = compose_info_build(cf, ref.id, &info, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return resp_detail(c->rs, 500, "Failed to get server info: %s",
		    err ? err : strerror(-r));
	r = compose_info_to_json(&info, &o);
	compose_info_done(&info);
	if (r < 0)
		return r;
	return resp_json(c->rs, 200, o);
}

/* ---- §12.3 status -------------------------------------------------------- */

int
h_server_status(struct ctx *c)
{
	struct docker_error de = { 0 };
	enum server_status st;
	json_object *o;
	int r;

	if (!c->app->servers)
		return resp_detail(c->rs, 503, "Server management is not available");
	/* an unknown or invalid id is REMOVED, not 404 (§12.3) */
	r = servers_status(c->app->servers, hs_id(c), &st, /* ret_container= */ NULL, &de);
	if (r < 0)
		return hs_fail(c, r, "Failed to get server status", "Docker", de.message) < 0 ?
		    -ENOMEM : 0;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "status", json_object_new_string(server_status_to_string(st)));
	return resp_json(c->rs, 200, o);
}

/* ---- §12.6 compose read -------------------------------------------------- */

/* Python's universal newlines: CRLF and lone CR become LF, in place. */
static size_t
universal_newlines(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else
			s[o++] = s[i];
	}
	s[o] = '\0';
	return o;
}

int
h_server_compose_get(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_free_ char *text = NULL;
	json_object *o;
	size_t len;
	int r;

	r = hs_resolve(c, &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	r = servers_compose_read(&ref, &text, &len);
	if (r == -ENOENT)
		return resp_detail(c->rs, 404, "Compose file not found for server '%s'", hs_id(c));
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !utf8_valid(text, len)) {
		if (r < 0)
			log_error_errno(r, "cannot read the compose file of server '%s': %m",
			    ref.id);
		else
			log_error("cannot read the compose file of server '%s': not UTF-8", ref.id);
		return resp_detail(c->rs, 500, "Failed to get compose configuration: %s",
		    r == -EFBIG ? "the compose file is too large" :
		    r == -EBADMSG ? "the compose file contains a NUL byte" :
		    r < 0 ? strerror(-r) : "the compose file is not valid UTF-8");
	}
	len = universal_newlines(text, len);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "yaml_content", json_object_new_string_len(text, (int)len));
	return resp_json(c->rs, 200, o);
}

/* The yaml_content body field with its length; NULL when it holds a NUL byte. */
static const char *
body_yaml(struct ctx *c, size_t *ret_len)
{
	json_object *v;
	const char *s;

	if (!c->rq->json || !json_object_object_get_ex(c->rq->json, "yaml_content", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	*ret_len = (size_t)json_object_get_string_len(v);
	return strlen(s) == *ret_len ? s : NULL;
}

/* ---- §12.7 compose replace ----------------------------------------------- */

#define UPDATE_PREFIX "Failed to update compose configuration"

int
h_server_compose_update(struct ctx *c)
{
	struct servers *srv = c->app->servers;
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(servers_unlockp) struct servers_lock *lock = NULL;
	_cleanup_(compose_freep) struct compose *cf = NULL;
	_cleanup_free_ char *err = NULL, *cli_err = NULL;
	struct docker_error de = { 0 };
	enum server_status st;
	const char *text;
	bool was_running;
	size_t len = 0;
	json_object *o;
	int r;

	r = hs_resolve(c, &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	lock = servers_lock(srv, ref.id);

	/* validate before anything stops (DECISIONS: fix the order; still a 500) */
	text = body_yaml(c, &len);
	r = text ? compose_load(text, len, ref.id, &cf, &err) : -EINVAL;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char eerr[256];

		log_info("compose update of server '%s' refused: %s", ref.id,
		    log_escape(eerr, sizeof(eerr), err ? err : "the text contains a NUL byte"));
		return resp_detail(c->rs, 500, UPDATE_PREFIX ": Invalid compose YAML or doesn't "
		    "meet Minecraft server requirements");
	}

	r = servers_status_ref(srv, &ref, &st, /* ret_container= */ NULL, &de);
	if (r < 0)
		return hs_fail(c, r, UPDATE_PREFIX, "Docker", de.message) < 0 ? -ENOMEM : 0;
	if (st == SERVER_STATUS_REMOVED)
		return resp_detail(c->rs, 404, "Server '%s' not found", hs_id(c));
	if (st == SERVER_STATUS_CREATED)
		return resp_detail(c->rs, 500, UPDATE_PREFIX ": Cannot update server %s while it "
		    "is created", ref.id);
	was_running = server_status_running_like(st);
	if (was_running) {
		r = servers_compose_op(srv, &ref, COMPOSE_OP_DOWN, &cli_err);
		if (r < 0)
			goto fail;
	}

	r = pathsafe_write_file(ref.dir_fd, ref.compose_file, text, len, COMPOSE_MODE,
	    PATHSAFE_REPLACE | PATHSAFE_KEEP_ATTRS);
	if (r < 0) {
		log_error_errno(r, "cannot write the compose file of server '%s': %m", ref.id);
		goto fail;
	}
	log_info("compose file of server '%s' replaced", ref.id);
	if (was_running) {
		r = servers_compose_op(srv, &ref, COMPOSE_OP_UP, &cli_err);
		if (r < 0)
			goto fail;
	}

	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	{
		char msg[160];

		(void)snprintf(msg, sizeof(msg),
		    "Server '%s' compose configuration updated successfully", hs_id(c));
		json_object_object_add(o, "message", json_object_new_string(msg));
	}
	return resp_json(c->rs, 200, o);

fail:
	if (was_running) {
		/* §12.7 step 5: one more up -d with whatever file is on disk */
		_cleanup_free_ char *ignored = NULL;
		int q = servers_compose_op(srv, &ref, COMPOSE_OP_UP, &ignored);

		if (q < 0)
			log_warning_errno(q, "restarting server '%s' after a failed compose update "
			    "failed: %m, ignoring", ref.id);
	}
	return hs_cli_fail(c, r, UPDATE_PREFIX, cli_err) < 0 ? -ENOMEM : 0;
}

/* ---- §12.9 create -------------------------------------------------------- */

struct sources {
	struct compose_source *v;
	char **texts;
	size_t n, cap;
};

static void
sources_done(struct sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free((char *)s->v[i].name);
		free(s->texts[i]);
	}
	free(s->v);
	free(s->texts);
}

/* The servers discovery accepts (§11.2 step 2), for the port-conflict check. */
static int
sources_cb(const struct servers_entry *e, void *userdata)
{
	struct sources *s = userdata;
	_cleanup_(compose_freep) struct compose *cf = NULL;
	char *name, *text;
	int r;

	if (e->error < 0)
		return 0;
	r = compose_load(e->text, e->len, e->name, &cf, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct compose_source *v = reallocarray(s->v, cap, sizeof(*v));
		char **t;

		if (!v)
			return -ENOMEM;
		s->v = v;
		t = reallocarray(s->texts, cap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->texts = t;
		s->cap = cap;
	}
	name = strdup(e->name);
	text = malloc(e->len + 1);
	if (!name || !text) {
		free(name);
		free(text);
		return -ENOMEM;
	}
	memcpy(text, e->text, e->len + 1);
	s->v[s->n] = (struct compose_source){ .name = name, .text = text, .len = e->len };
	s->texts[s->n] = text;
	s->n++;
	return 0;
}

/* 1 when ip:port cannot be bound because something holds it, else 0 (also
 * when the check itself cannot be made: this only feeds a warning). */
static int
port_in_use(const char *ip, unsigned port, bool udp)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	bool v6 = inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1;
	_cleanup_close_ int fd = -1;
	int one = 1, r;

	if (!v6 && inet_pton(AF_INET, ip, &a4.sin_addr) != 1)
		return 0;
	fd = socket(v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6)) :
	    bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	return r < 0 && errno == EADDRINUSE;
}

/* DECISIONS: warn (not fail) when a published host port is already bound. */
static void
warn_bound_ports(const char *id, const struct compose *cf)
{
	_cleanup_free_ struct compose_host_port *ports = NULL;
	size_t n = 0;

	if (compose_published_ports(cf, &ports, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		bool udp = ports[i].protocol && streq(ports[i].protocol, "udp");
		const char *ip = ports[i].host_ip && *ports[i].host_ip ? ports[i].host_ip :
		    "0.0.0.0";
		unsigned last = ports[i].last;

		if (last - ports[i].first >= BOUND_CHECK_MAX)
			last = ports[i].first + BOUND_CHECK_MAX - 1;
		for (unsigned p = ports[i].first; p <= last; p++)
			if (port_in_use(ip, p, udp))
				log_warning("new server '%s': host port %s:%u/%s is in use; "
				    "the server cannot start until it is free", id, ip, p,
				    udp ? "udp" : "tcp");
	}
}

/* A directory whose name equals id when lower-cased but is not id. */
static int
case_variant_exists(struct servers *srv, const char *id)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	int r;

	r = servers_open_dir(srv, id, &ref);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r == -ELOOP || r == -ENOTDIR ? 1 : r;
	return !streq(ref.id, id) || ref.compose_file;
}

/* chown what a creation made to server_path's owner (§12.9 step 7); see README. */
static int
chown_new(int root_fd, int dir_fd, const char *id)
{
	struct stat st;
	int r;

	if (fstat(root_fd, &st) < 0)
		return -errno;
	if (st.st_uid == geteuid() && st.st_gid == getegid())
		return 0;
	r = pathsafe_chown(root_fd, id, st.st_uid, st.st_gid);
	if (r >= 0)
		r = pathsafe_chown(dir_fd, SERVERS_COMPOSE_DEFAULT, st.st_uid, st.st_gid);
	if (r >= 0)
		r = pathsafe_chown(dir_fd, SERVERS_DATA_DIR, st.st_uid, st.st_gid);
	if (r == -EPERM && geteuid() != 0) {
		/* an unprivileged service cannot give files away: keep ours */
		log_debug("not changing the owner of new server '%s' (not permitted)", id);
		return 0;
	}
	return r;
}

#define CREATE_PREFIX "Failed to create server"

int
h_server_create(struct ctx *c)
{
	struct servers *srv = c->app->servers;
	const char *id = hs_id(c);
	_cleanup_(servers_unlockp) struct servers_lock *create_lock = NULL, *lock = NULL;
	_cleanup_(compose_freep) struct compose *cf = NULL;
	_cleanup_free_ char *err = NULL, *conflicts = NULL;
	_cleanup_close_ int root_fd = -1, dir_fd = -1;
	struct sources src = { 0 };
	int64_t game_port = 0, rcon_port = 0;
	const char *text, *existing;
	bool dir_created = false, file_written = false;
	size_t len = 0;
	json_object *o;
	int r;

	if (!srv)
		return resp_detail(c->rs, 503, "Server management is not available");
	if (servers_id_check(id) < 0)
		return resp_detail(c->rs, 400, "Invalid server id '%s': 1 to %d letters, digits, "
		    "'_' or '-'", id, SERVERS_ID_MAX);
	create_lock = servers_lock_create(srv);
	lock = servers_lock(srv, id);

	/* 1. exists (ids equal when lower-cased are the same server) */
	r = case_variant_exists(srv, id);
	if (r < 0)
		return hs_fail(c, r, CREATE_PREFIX, "", NULL) < 0 ? -ENOMEM : 0;
	if (r > 0)
		return resp_detail(c->rs, 409, "Server '%s' already exists", id);

	/* 2. parse, validate without the name check, derive the ports */
	text = body_yaml(c, &len);
	if (!text)
		return resp_detail(c->rs, 400, "Failed to extract ports from YAML: "
		    "the text contains a NUL byte");
	r = compose_load(text, len, /* server_id= */ NULL, &cf, &err);
	if (r >= 0)
		r = compose_game_port(cf, &game_port, &err);
	if (r >= 0)
		r = compose_rcon_port(cf, &rcon_port, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return resp_detail(c->rs, 400, "Failed to extract ports from YAML: %s",
		    err ? err : strerror(-r));

	/* 3. port conflicts with the managed servers */
	r = servers_discover(srv, sources_cb, &src);
	if (r >= 0)
		r = compose_port_conflicts(game_port, rcon_port, src.v, src.n, &conflicts);
	sources_done(&src);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return resp_detail(c->rs, 500, "Failed to check port conflicts: %s", strerror(-r));
	if (r > 0)
		return resp_detail(c->rs, 409, "Port conflicts detected: %s", conflicts);

	/* 4. the full validation, container name included */
	free(err);
	err = NULL;
	r = compose_validate(cf, id, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char eerr[256];

		log_info("creating server '%s' refused: %s", id,
		    log_escape(eerr, sizeof(eerr), err ? err : "invalid"));
		return resp_detail(c->rs, 400,
		    "Invalid compose YAML or doesn't meet Minecraft server requirements");
	}

	/* 5.-7. directory, compose file (verbatim, atomic), data/, owner */
	root_fd = servers_root_open(srv);
	if (root_fd < 0) {
		r = root_fd;
		goto fail;
	}
	r = pathsafe_mkdir(root_fd, id, PROJECT_DIR_MODE, PATHSAFE_EXIST_OK);
	if (r < 0)
		goto fail;
	dir_created = r == 1;
	dir_fd = pathsafe_open_dir(root_fd, id);
	if (dir_fd < 0) {
		r = dir_fd;
		goto fail;
	}
	if (servers_compose_find(dir_fd, &existing) == 0)
		return resp_detail(c->rs, 409, "compose file already exists for server %s", id);
	r = pathsafe_write_file(dir_fd, SERVERS_COMPOSE_DEFAULT, text, len, COMPOSE_MODE, 0);
	if (r < 0)
		goto fail;
	file_written = true;
	r = pathsafe_mkdir(dir_fd, SERVERS_DATA_DIR, PROJECT_DIR_MODE, PATHSAFE_EXIST_OK);
	if (r >= 0)
		r = chown_new(root_fd, dir_fd, id);
	if (r < 0)
		goto fail;

	log_info("server '%s' created (game port %lld, RCON port %lld)", id,
	    (long long)game_port, (long long)rcon_port);
	warn_bound_ports(id, cf);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	{
		char msg[160];

		(void)snprintf(msg, sizeof(msg), "Server '%s' created successfully", id);
		json_object_object_add(o, "message", json_object_new_string(msg));
	}
	json_object_object_add(o, "game_port", json_object_new_int64(game_port));
	json_object_object_add(o, "rcon_port", json_object_new_int64(rcon_port));
	return resp_json(c->rs, 200, o);

fail:
	/* leave nothing half-made behind */
	if (dir_created && root_fd >= 0)
		(void)pathsafe_delete(root_fd, id, NULL);
	else if (file_written && dir_fd >= 0)
		(void)pathsafe_delete(dir_fd, SERVERS_COMPOSE_DEFAULT, NULL);
	log_error_errno(r, "cannot create server '%s': %m", id);
	return r == -ENOMEM ? r : resp_detail(c->rs, 500, CREATE_PREFIX ": %s", strerror(-r));
}
