/* SPDX-License-Identifier: MIT */
/*
 * WS /api/servers/{id}/console?token=<token> (API-core §12.13, §17.2).
 *
 * The token is checked before the upgrade (§4.6: a missing or invalid one
 * is refused with HTTP 403), with the same rules as the API's bearer
 * tokens: the master token first, then the JWT, whose user must still exist
 * (DECISIONS: deleted users are locked out). After the upgrade a worker
 * thread resolves the server (servers.h) and its container; the session
 * then subscribes to the container's feed (feed.c), which sends the
 * snapshot and the live output. Client messages are answered as the
 * contract's table says, with the RECOMMENDED fixes: a JSON value that is
 * not an object, a non-string command and a non-boolean filter_rcon get
 * {"type":"info","message":"消息格式错误"} instead of ending the session.
 *
 * Requests that need Docker or the compose CLI (resolve, refresh_logs,
 * command) run one at a time per session, in order, on the worker threads.
 * refresh_logs reads the container's log again, as the reference reads its
 * file again, while the live output goes on from the feed.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "common/log.h"
#include "common/util.h"
#include "config/conf.h"
#include "db/db.h"
#include "http/http.h"
#include "outbound/compose-cli.h"
#include "outbound/docker.h"
#include "servers/servers.h"
#include "spawn/spawn.h"
#include "ws/ws-internal.h"

#define OPS_MAX		16	/* requests waiting per session */
#define JSON_DEPTH	16
#define REFRESH_TIMEOUT_MS 30000	/* reading the log again for refresh_logs */

static const char msg_bad_format[] = "消息格式错误";
static const char msg_no_type[] = "消息中缺少type";
static const char msg_log_missing[] = "控制台日志未找到";
static const char msg_pipe[] = "发送指令需要在Compose文件中设置环境变量CREATE_CONSOLE_IN_PIPE=true";

enum console_op {
	OP_RESOLVE,		/* find the container, subscribe to its feed */
	OP_REFRESH,		/* refresh_logs */
	OP_COMMAND,		/* command */
};

struct console_req {
	struct console_req *next;
	enum console_op op;
	char *command;
};

struct console {
	struct wsd *d;
	struct conn *conn;
	WS_LIST_FIELDS(struct console, consoles);
	bool listed;
	char *id;			/* as requested (percent-decoded), for messages */
	char key[SERVERS_ID_MAX + 1];	/* lower-cased id, for the per-server limit */
	char user[AUTH_USERNAME_MAX + 1];
	struct feed_sub sub;
	struct console_job *job;	/* in flight */
	struct console_req *reqs, *reqs_tail;
	size_t n_reqs;
};

struct console_job {
	struct job base;
	struct wsd *d;
	enum console_op op;
	char *id;
	char *command;
	bool filter_rcon;		/* refresh: the session's filter when it started */
	/* results */
	bool not_found;			/* no such server */
	char container[DOCKER_ID_LEN + 1];
	bool tty;
	char *message;			/* what to tell the client; NULL: nothing */
	struct wsframe *frame;		/* refresh: the logs_refreshed message */
	int logs_r;			/* refresh: reading the log, 0 or -errno */
};

/* ---- helpers ---------------------------------------------------------------- */

static void
send_typed(struct console *s, const char *type, const char *key, const char *text)
{
	json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "type", json_object_new_string(type));
		/* the text may carry the client's id or docker's words: keep it UTF-8 */
		json_object_object_add(o, key, json_new_string_lossy(text, strlen(text)));
	}
	(void)conn_send_json(s->conn, o);
}

static void
send_error_and_close(struct console *s, const char *message)
{
	struct conn *c = s->conn;

	send_typed(s, "error", "message", message);
	/* the session may be gone (a failed send) */
	conn_close(c, WS_CLOSE_NORMAL, NULL);
}

/* "服务器 '<id>' 未找到" */
static void
send_not_found(struct console *s)
{
	_cleanup_free_ char *m = NULL;

	if (asprintf(&m, "服务器 '%s' 未找到", s->id) < 0) {
		conn_close(s->conn, WS_CLOSE_INTERNAL_ERROR, NULL);
		return;
	}
	send_error_and_close(s, m);
}

/* The docker side of a failure, in words for "Connection error: …". */
static char *
docker_words(int r, const struct docker_error *de)
{
	char *m = NULL;

	if (r == -EHOSTDOWN)
		m = strdup("Docker is not reachable");
	else if (r == -ETIMEDOUT)
		m = strdup("Docker did not answer in time");
	else if (de && de->message[0])
		m = strdup(de->message);
	else
		m = strdup(strerror(r < 0 ? -r : EIO));
	return m;
}

/* ---- the worker side -------------------------------------------------------- */

static const struct compose_cli *
console_cli(struct wsd *d)
{
	const struct config *cfg = d->cfg;
	const struct compose_cli *cli;

	pthread_mutex_lock(&d->cli_lock);
	if (!d->cli_tried) {
		const char *home = getenv("HOME");
		_cleanup_free_ char *docker_host = NULL;
		struct compose_cli_config cc = {
			.command = cfg->docker.compose_command,
			.docker = cfg->docker.binary,
			.home = home && home[0] == '/' ? home : "/",
		};
		int r;

		d->cli_tried = true;
		if (asprintf(&docker_host, "unix://%s", cfg->docker.socket) >= 0) {
			cc.docker_host = docker_host;
			r = compose_cli_detect(&cc, &d->cli);
			if (r < 0)
				log_warning_errno(r, "no docker compose command found: console "
				    "commands cannot be sent");
			else
				log_info("docker compose for console commands: %s",
				    compose_cli_command(d->cli));
		}
	}
	cli = d->cli;
	pthread_mutex_unlock(&d->cli_lock);
	return cli;
}

struct refresh_read {
	struct strbuf text;
	size_t max;
};

static int
refresh_cb(enum docker_stream stream, const char *data, size_t len, void *userdata)
{
	struct refresh_read *rr = userdata;

	(void)stream;
	return ws_history_append(&rr->text, data, len, rr->max);
}

/*
 * refresh_logs reads the log again, as the reference reads its file again:
 * the whole recent output as docker has it, even where the live stream
 * missed some (docker 20.10's follow can skip lines when a json-file
 * rotates under heavy output). The message is built here, off the loop.
 */
static void
job_refresh_read(struct console_job *j, const struct docker_container *ct)
{
	struct refresh_read rr = { STRBUF_INIT, j->d->lim.history_bytes };
	struct docker_logs_options o = {
		.follow = false,
		.tail = j->d->lim.history_lines,
		.tty = ct->tty,
	};

	j->logs_r = docker_logs_read(j->d->docker, ct->id, &o, refresh_cb, &rr, REFRESH_TIMEOUT_MS,
	    NULL, NULL);
	if (j->logs_r >= 0) {
		j->frame = feed_snapshot_frame(rr.text.buf, rr.text.len, j->filter_rcon,
		    "logs_refreshed");
		if (!j->frame)
			j->logs_r = -ENOMEM;
	}
	strbuf_free(&rr.text);
}

static void
job_resolve(struct console_job *j)
{
	struct server_ref ref = SERVER_REF_INIT;
	struct docker_container ct = { 0 };
	struct docker_error de = { 0 };
	enum server_status st;
	int r;

	if (!j->d->servers) {
		j->message = strdup("Connection error: Docker is not configured");
		return;
	}
	r = servers_open(j->d->servers, j->id, &ref);
	if (r == -ENOENT || r == -EINVAL) {
		j->not_found = true;
		return;
	}
	if (r >= 0)
		r = servers_status_ref(j->d->servers, &ref, &st, &ct, &de);
	server_ref_done(&ref);
	if (r < 0) {
		_cleanup_free_ char *w = docker_words(r, &de);

		if (asprintf(&j->message, "Connection error: %s", w ? w : "?") < 0)
			j->message = NULL;
		return;
	}
	if (st < SERVER_STATUS_CREATED || !ct.id[0]) {
		if (asprintf(&j->message, "Connection error: Server %s is not created", j->id) < 0)
			j->message = NULL;
	} else {
		memcpy(j->container, ct.id, sizeof(j->container));
		j->tty = ct.tty;
		if (j->op == OP_REFRESH && j->d->docker)
			job_refresh_read(j, &ct);
	}
	docker_container_done(&ct);
}

static void
job_command(struct console_job *j)
{
	struct wsd *d = j->d;
	struct server_ref ref = SERVER_REF_INIT;
	struct spawn_result res = { 0 };
	struct docker_error de = { 0 };
	_cleanup_free_ char *path = NULL, *text = NULL;
	const struct compose_cli *cli;
	const char *words[] = { j->command, NULL };
	enum server_status st = SERVER_STATUS_REMOVED;
	struct stat stt;
	int r;

	if (!d->servers) {
		j->message = strdup("Docker is not configured");
		return;
	}
	r = servers_open(d->servers, j->id, &ref);
	if (r >= 0)
		r = servers_status_ref(d->servers, &ref, &st, NULL, &de);
	if (r < 0 && r != -ENOENT && r != -EINVAL) {
		j->message = docker_words(r, &de);
		goto out;
	}
	if (r < 0 || !server_status_running_like(st)) {
		if (asprintf(&j->message, "Server %s is not running", j->id) < 0)
			j->message = NULL;
		goto out;
	}
	/* mc-send-to-console refuses root: run it as the project directory's owner */
	if (fstat(ref.dir_fd, &stt) < 0 || servers_project_path(d->servers, &ref, &path) < 0) {
		j->message = strdup("Cannot read the server directory");
		goto out;
	}
	cli = console_cli(d);
	if (!cli) {
		j->message = strdup("Failed to exec command: no docker compose command was found");
		goto out;
	}
	r = compose_cli_send_to_console(cli, path, stt.st_uid, words, d->lim.command_timeout_ms,
	    &res);
	if (r == -EIO || r == -ETIMEDOUT) {
		if (compose_cli_error_text(cli, &res, &text) < 0)
			text = NULL;
		if (text && strstr(text, "CREATE_CONSOLE_IN_PIPE"))
			j->message = strdup(msg_pipe);
		else
			j->message = TAKE_PTR(text);
	} else if (r < 0) {
		if (asprintf(&j->message, "Failed to exec command: %s", strerror(-r)) < 0)
			j->message = NULL;
	}
out:
	spawn_result_done(&res);
	server_ref_done(&ref);
}

static void
job_run(struct job *base)
{
	struct console_job *j = (struct console_job *)base;

	if (j->op == OP_COMMAND)
		job_command(j);
	else
		job_resolve(j);
}

static void
job_free(struct console_job *j)
{
	wsframe_unref(j->frame);
	free(j->id);
	free(j->command);
	free(j->message);
	free(j);
}

/* ---- the loop side ---------------------------------------------------------- */

static void console_next(struct console *s);

static void
on_feed_lost(struct feed_sub *sub, int error, const char *message)
{
	struct console *s = (struct console *)((char *)sub - offsetof(struct console, sub));
	_cleanup_free_ char *m = NULL;

	if (error == -ENOENT) {
		/* §17.2: the socket stays open; the frontend reconnects */
		send_typed(s, "error", "message", msg_log_missing);
		return;
	}
	if (asprintf(&m, "Connection error: %s", message ? message : strerror(-error)) < 0)
		m = NULL;
	send_error_and_close(s, m ? m : "Connection error");
}

static void
done_resolve(struct console *s, struct console_job *j)
{
	int r;

	if (j->not_found) {
		if (j->op == OP_RESOLVE)
			send_not_found(s);
		else {
			_cleanup_free_ char *m = NULL;

			if (asprintf(&m, "Connection error: Server %s is not created", s->id) < 0)
				m = NULL;
			send_error_and_close(s, m ? m : "Connection error");
		}
		return;
	}
	if (j->message) {
		send_error_and_close(s, j->message);
		return;
	}
	if (j->op == OP_REFRESH) {
		/* the live tail keeps watching the container it started with (§17.2) */
		if (j->frame)
			(void)conn_send(s->conn, j->frame, false);
		else if (j->logs_r == -ENOENT || !s->sub.feed)
			send_typed(s, "error", "message", msg_log_missing);
		else	/* docker would not say: what the feed has */
			feed_snapshot(&s->sub, FEED_SNAPSHOT_REFRESH);
		return;
	}
	r = feed_subscribe(s->d, &s->sub, j->container, j->tty);
	if (r < 0) {
		_cleanup_free_ char *m = NULL;

		if (asprintf(&m, "Connection error: %s", strerror(-r)) < 0)
			m = NULL;
		send_error_and_close(s, m ? m : "Connection error");
	}
}

static void
job_done(struct job *base)
{
	struct console_job *j = (struct console_job *)base;
	struct console *s = j->base.owner;

	if (s) {
		/* s->job stays j while we answer: if the answer ends the session,
		 * console_closed() clears j->base.owner */
		if (j->op == OP_COMMAND) {
			if (j->message)
				send_typed(s, "info", "message", j->message);
		} else
			done_resolve(s, j);
		if (j->base.owner) {
			s->job = NULL;
			console_next(s);
		}
	}
	job_free(j);
}

/* Start the next waiting request if none is running. */
static void
console_next(struct console *s)
{
	struct console_req *q = s->reqs;
	struct console_job *j;
	int r;

	if (s->job || !q || s->conn->state != CONN_OPEN)
		return;
	s->reqs = q->next;
	if (!s->reqs)
		s->reqs_tail = NULL;
	s->n_reqs--;
	j = calloc(1, sizeof(*j));
	if (j) {
		j->base.run = job_run;
		j->base.done = job_done;
		j->base.owner = s;
		j->d = s->d;
		j->op = q->op;
		j->filter_rcon = s->sub.filter_rcon;
		j->id = strdup(s->id);
		j->command = TAKE_PTR(q->command);
	}
	free(q->command);
	free(q);
	if (!j || !j->id || (j->op == OP_COMMAND && !j->command)) {
		if (j)
			job_free(j);
		conn_close(s->conn, WS_CLOSE_INTERNAL_ERROR, "out of memory");
		return;
	}
	r = jobs_submit(s->d->jobs, &j->base);
	if (r < 0) {
		job_free(j);
		return;		/* shutting down */
	}
	s->job = j;
}

static void
console_enqueue(struct console *s, enum console_op op, const char *command, size_t len)
{
	struct console_req *q;

	if (s->n_reqs >= OPS_MAX) {
		send_typed(s, "info", "message", "Too many requests are waiting; this one was "
		    "dropped");
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q || (command && !(q->command = strndup(command, len)))) {
		free(q);
		conn_close(s->conn, WS_CLOSE_INTERNAL_ERROR, "out of memory");
		return;
	}
	q->op = op;
	if (s->reqs_tail)
		s->reqs_tail->next = q;
	else
		s->reqs = q;
	s->reqs_tail = q;
	s->n_reqs++;
	console_next(s);
}

/* Python's truthiness of a JSON value. */
static bool
json_truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0.0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return json_object_object_length(v) > 0;
	}
	return true;
}

static void
console_message(struct conn *c, enum ws_opcode op, const char *data, size_t len)
{
	struct console *s = c->session;
	_cleanup_(json_object_putp) json_object *msg = NULL;
	json_object *type = NULL, *v = NULL;
	const char *err = NULL, *t;
	size_t off;

	if (!s)
		return;
	if (op == WS_OP_TEXT)
		msg = json_parse_strict(data, len, JSON_DEPTH, &err, &off);
	if (!msg || !json_object_is_type(msg, json_type_object)) {
		send_typed(s, "info", "message", msg_bad_format);
		return;
	}
	if (!json_object_object_get_ex(msg, "type", &type) || !json_truthy(type)) {
		send_typed(s, "info", "message", msg_no_type);
		return;
	}
	if (!json_object_is_type(type, json_type_string))
		return;		/* an unknown type: ignored */
	t = json_object_get_string(type);

	if (streq(t, "command")) {
		size_t a = 0, n = 0;

		if (json_object_object_get_ex(msg, "command", &v)) {
			if (!json_object_is_type(v, json_type_string)) {
				send_typed(s, "info", "message", msg_bad_format);
				return;
			}
			ws_text_strip(json_object_get_string(v),
			    (size_t)json_object_get_string_len(v), &a, &n);
		}
		if (n == 0)
			return;		/* empty: ignored, no reply */
		console_enqueue(s, OP_COMMAND, json_object_get_string(v) + a, n);
	} else if (streq(t, "set_filter")) {
		bool on = true;
		json_object *o;

		if (json_object_object_get_ex(msg, "filter_rcon", &v)) {
			if (!json_object_is_type(v, json_type_boolean)) {
				send_typed(s, "info", "message", msg_bad_format);
				return;
			}
			on = json_object_get_boolean(v);
		}
		/* logs are not sent again (§17.2) */
		s->sub.filter_rcon = on;
		o = json_object_new_object();
		if (o) {
			json_object_object_add(o, "type", json_object_new_string("filter_updated"));
			json_object_object_add(o, "filter_rcon", json_object_new_boolean(on));
		}
		(void)conn_send_json(c, o);
	} else if (streq(t, "refresh_logs"))
		console_enqueue(s, OP_REFRESH, NULL, 0);
	/* any other type: ignored */
}

static int
console_accept(struct conn *c, const struct ws_request *req)
{
	struct wsd *d = c->d;
	_cleanup_free_ char *token = NULL;
	const char *seg = req->path + strlen("/api/servers/");
	size_t seg_len = strcspn(seg, "/");
	struct identity ident;
	struct console *s;
	int r;

	r = ws_request_query_get(req, "token", &token);
	if (r == -ENOMEM)
		return r;
	if (r <= 0)
		return 403;		/* missing, or "%00" in it */
	/* no token cache: a console is authenticated once per connection */
	r = auth_credential_check(d->auth, /* cache= */ NULL, d->db, token, now_realtime_usec(),
	    &ident);
	explicit_bzero(token, strlen(token));
	if (r == -EKEYREJECTED)
		return 403;
	if (r < 0)
		return r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = d;
	s->conn = c;
	s->sub.conn = c;
	s->sub.filter_rcon = true;	/* §17.2: the default */
	s->sub.lost = on_feed_lost;
	s->id = http_unescape(seg, seg_len, false);
	if (!s->id) {
		/* "%00" cannot be a server: keep the raw text for the message */
		s->id = errno == ENOMEM ? NULL : strndup(seg, seg_len);
		if (!s->id) {
			free(s);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; s->id[i] && i < SERVERS_ID_MAX; i++)
		s->key[i] = (char)(s->id[i] >= 'A' && s->id[i] <= 'Z' ? s->id[i] + 32 : s->id[i]);
	(void)snprintf(s->user, sizeof(s->user), "%s", ident.username);
	c->session = s;
	return 0;
}

static void
console_opened(struct conn *c)
{
	struct console *s = c->session;
	struct wsd *d = c->d;
	size_t same = 0;
	char esc[2][128];

	for (struct console *o = d->consoles; o; o = o->consoles.next)
		same += strcaseeq(o->key, s->key);
	if (same >= d->lim.max_console_per_server) {
		log_notice("too many consoles on server '%s' (%zu), refusing one from %s",
		    log_escape(esc[0], sizeof(esc[0]), s->id), same, c->peer);
		conn_close(c, WS_CLOSE_TRY_AGAIN_LATER, "too many console connections");
		return;
	}
	WS_LIST_PREPEND(consoles, d->consoles, s);
	s->listed = true;
	log_info("console of '%s' opened by '%s' from %s",
	    log_escape(esc[0], sizeof(esc[0]), s->id), log_escape(esc[1], sizeof(esc[1]), s->user),
	    c->peer);
	if (servers_id_check(s->id) < 0) {
		send_not_found(s);	/* §17.2 step 3; no disk or docker for a bad id */
		return;
	}
	console_enqueue(s, OP_RESOLVE, NULL, 0);
}

static void
console_closed(struct conn *c)
{
	struct console *s = c->session;
	struct wsd *d = c->d;

	if (!s)
		return;
	feed_unsubscribe(&s->sub);
	if (s->job)
		s->job->base.owner = NULL;	/* its result is thrown away */
	while (s->reqs) {
		struct console_req *q = s->reqs;

		s->reqs = q->next;
		free(q->command);
		free(q);
	}
	if (s->listed)
		WS_LIST_REMOVE(consoles, d->consoles, s);
	free(s->id);
	free(s);
}

const struct endpoint console_endpoint = {
	.name = "console",
	.accept = console_accept,
	.opened = console_opened,
	.message = console_message,
	.closed = console_closed,
};
