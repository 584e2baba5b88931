/* SPDX-License-Identifier: MIT */
/*
 * ws/: the daemon driven in memory. A real event loop, a real listening
 * unix socket, a real SQLite file migrated from sql/, and clients that speak
 * RFC 6455 with the codec's client side; Docker is a small fake daemon on a
 * unix socket of the test (a thread with canned answers and a log stream
 * the test writes to), so the console's feed can be driven line by line.
 * The real dockerd, nginx and the simulator are the integration test's
 * (tests/integration/test_ws.py).
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "common/util.h"
#include "apitest.h"
#include "outbound/docker.h"
#include "servers/servers.h"
#include "ws/ws-internal.h"

#define MASTER "master-token-for-ws-tests"
#define SECRET "jwt-secret-for-ws-tests"
#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define WAIT_MS 3000

static struct tmpdir *td;
static struct config *cfg;
static struct db *db;
static struct auth *auth;
static struct docker *dk;
static struct servers *srv;
static sd_event *ev;
static struct wsd *wsd;
static char *ws_path;
static int listen_fd = -1;

/* ---- a fake Docker daemon --------------------------------------------------- */

static struct {
	pthread_t thread;
	int fd;
	int stop[2];
	pthread_mutex_t lock;
	/* what to answer (set by the test, read by the thread) */
	bool inspect_404;
	bool tty;			/* Config.Tty: a raw log stream, no frames */
	const char *state;		/* "running", "exited" */
	bool logs_404;
	char *backlog;			/* sent at once on every logs request */
	bool keep_open;			/* keep the logs stream open after it */
	/* what happened */
	struct strbuf hist;		/* every message so far (timestamps=0) */
	int logs_fd;
	char *requests[32];
	size_t n_requests;
} fake;

/* One log message as docker sends it: with timestamps=1 the time and a
 * space first; in a frame unless the container has a TTY. */
static size_t
msg_encode(char *buf, size_t size, int64_t ts, bool with_ts, const char *s, size_t n)
{
	time_t sec = (time_t)(ts / 1000000000);
	size_t h = fake.tty ? 0 : 8, l = 0;
	struct tm tm;

	ck_assert_uint_lt(n, size - 64);
	if (with_ts) {
		gmtime_r(&sec, &tm);
		l = strftime(buf + h, 32, "%Y-%m-%dT%H:%M:%S", &tm);
		l += (size_t)snprintf(buf + h + l, 32, ".%09lldZ ", (long long)(ts % 1000000000));
	}
	memcpy(buf + h + l, s, n);
	l += n;
	if (!fake.tty) {
		unsigned char hdr[8] = { 1, 0, 0, 0, (unsigned char)(l >> 24),
			(unsigned char)(l >> 16), (unsigned char)(l >> 8), (unsigned char)l };

		memcpy(buf, hdr, 8);
	}
	return h + l;
}

/* Record a message in the log (as docker's json-file) and write it to fd
 * (the follow stream, which asks for timestamps) unless fd < 0. */
static void
msg_write(int fd, int64_t ts, const char *s, size_t n)
{
	char buf[8192];
	size_t l;

	l = msg_encode(buf, sizeof(buf), ts, false, s, n);
	ck_assert_int_eq(strbuf_append(&fake.hist, buf, l), 0);
	l = msg_encode(buf, sizeof(buf), ts, true, s, n);
	if (fd >= 0)
		(void)!write(fd, buf, l);
}

static int64_t
now_ns(void)
{
	return now_realtime_usec() * 1000;
}

static void
fake_answer(int fd)
{
	char req[4096], *sp, *target;
	size_t n = 0;
	ssize_t l;

	while (n < sizeof(req) - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
		l = read(fd, req + n, sizeof(req) - 1 - n);
		if (l <= 0) {
			close(fd);
			return;
		}
		n += (size_t)l;
	}
	req[n] = '\0';
	sp = strchr(req, ' ');
	target = sp ? strndup(sp + 1, strcspn(sp + 1, " ")) : strdup("?");
	pthread_mutex_lock(&fake.lock);
	if (fake.n_requests < ELEMENTSOF(fake.requests))
		fake.requests[fake.n_requests++] = strdup(target);
	if (strstr(target, "/logs?") && strstr(target, "follow=0") && !fake.logs_404) {
		/* a plain read: everything docker has, then the end */
		dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/vnd.docker.raw-stream\r\nConnection: close\r\n\r\n");
		(void)!write(fd, fake.hist.buf, fake.hist.len);
		close(fd);
	} else if (strstr(target, "/logs?")) {
		if (fake.logs_404) {
			const char *body = "{\"message\":\"No such container\"}";

			dprintf(fd, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body),
			    body);
			close(fd);
		} else {
			dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Type: "
			    "application/vnd.docker.raw-stream\r\nConnection: close\r\n\r\n");
			/* the backlog goes out once: later requests (since=) get new output
			 * only; one message per line, a few seconds old */
			for (const char *p = fake.backlog, *nl; p && *p; p = nl + 1) {
				nl = strchr(p, '\n');
				if (!nl)
					nl = p + strlen(p) - 1;
				msg_write(fd, now_ns() - 5000000000LL + (p - fake.backlog), p,
				    (size_t)(nl + 1 - p));
			}
			free(fake.backlog);
			fake.backlog = NULL;
			if (fake.keep_open) {
				if (fake.logs_fd >= 0)
					close(fake.logs_fd);
				fake.logs_fd = fd;
			} else
				close(fd);
		}
	} else if (strstr(target, "/containers/mc-srv/json") && !fake.inspect_404) {
		char body[512];

		(void)snprintf(body, sizeof(body), "{\"Id\":\"" CID "\",\"Name\":\"/mc-srv\","
		    "\"State\":{\"Status\":\"%s\",\"Pid\":1},\"Config\":{\"Image\":"
		    "\"itzg/minecraft-server:mcsim\",\"Tty\":%s}}", fake.state,
		    fake.tty ? "true" : "false");
		dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
		    "%zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
		close(fd);
	} else {
		const char *body = "{\"message\":\"No such container\"}";

		dprintf(fd, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
		close(fd);
	}
	pthread_mutex_unlock(&fake.lock);
	free(target);
}

static void *
fake_main(void *userdata)
{
	(void)userdata;
	for (;;) {
		struct pollfd p[2] = { { fake.fd, POLLIN, 0 }, { fake.stop[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		fd = accept4(fake.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			fake_answer(fd);
	}
}

/* Output of the container, stamped ts, to the open log stream. */
static void
fake_log_at(int64_t ts, const char *s)
{
	pthread_mutex_lock(&fake.lock);
	ck_assert_int_ge(fake.logs_fd, 0);
	msg_write(fake.logs_fd, ts, s, strlen(s));
	pthread_mutex_unlock(&fake.lock);
}

/* Output docker has in its log but the follow stream missed (docker 20.10
 * around a json-file rotation): only a plain read shows it. */
static void
fake_log_missed(const char *s)
{
	pthread_mutex_lock(&fake.lock);
	msg_write(-1, now_ns(), s, strlen(s));
	pthread_mutex_unlock(&fake.lock);
}

/* The same, written now. */
static void
fake_log(const char *s)
{
	fake_log_at(now_ns(), s);
}

/* Bytes as they are, for a raw (TTY) stream cut anywhere. */
static void
fake_raw(const char *s)
{
	pthread_mutex_lock(&fake.lock);
	ck_assert_int_ge(fake.logs_fd, 0);
	(void)!write(fake.logs_fd, s, strlen(s));
	pthread_mutex_unlock(&fake.lock);
}

/* The container stopped: the follow stream ends. */
static void
fake_log_end(void)
{
	pthread_mutex_lock(&fake.lock);
	if (fake.logs_fd >= 0)
		close(fake.logs_fd);
	fake.logs_fd = -1;
	pthread_mutex_unlock(&fake.lock);
}

static size_t
fake_count(const char *needle)
{
	size_t n = 0;

	pthread_mutex_lock(&fake.lock);
	for (size_t i = 0; i < fake.n_requests; i++)
		n += strstr(fake.requests[i], needle) != NULL;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

static void
fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *p = tmpdir_join(td, "docker.sock");

	fake = (typeof(fake)){ .logs_fd = -1, .state = "running", .keep_open = true };
	pthread_mutex_init(&fake.lock, NULL);
	ck_assert_uint_lt(strlen(p), sizeof(sa.sun_path));
	strcpy(sa.sun_path, p);
	free(p);
	fake.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fake.fd, 0);
	ck_assert_int_eq(bind(fake.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fake.fd, 16), 0);
	ck_assert_int_eq(pipe2(fake.stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pthread_create(&fake.thread, NULL, fake_main, NULL), 0);
}

static void
fake_stop(void)
{
	(void)!write(fake.stop[1], "x", 1);
	pthread_join(fake.thread, NULL);
	close(fake.stop[0]);
	close(fake.stop[1]);
	close(fake.fd);
	if (fake.logs_fd >= 0)
		close(fake.logs_fd);
	for (size_t i = 0; i < fake.n_requests; i++)
		free(fake.requests[i]);
	free(fake.backlog);
	strbuf_free(&fake.hist);
	pthread_mutex_destroy(&fake.lock);
}

/* ---- fixture ------------------------------------------------------------------ */

static void
setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *e[16], *vars[4];
	size_t n = 0;

	td = tmpdir_new();
	tmpdir_mkdir(td, "servers");
	ck_assert_int_ge(asprintf(&vars[0], "DATABASE_PATH=%s/db.sqlite3", td->path), 0);
	ck_assert_int_ge(asprintf(&vars[1], "SERVER_PATH=%s/servers", td->path), 0);
	ck_assert_int_ge(asprintf(&vars[2], "LOGS_DIR=%s/logs", td->path), 0);
	ck_assert_int_ge(asprintf(&vars[3], "DOCKER__SOCKET=%s/docker.sock", td->path), 0);
	e[n++] = "MASTER_TOKEN=" MASTER;
	e[n++] = "JWT__SECRET_KEY=" SECRET;
	e[n++] = "MC_ADMIN_CONFIG=/dev/null";
	e[n++] = "WS__LOGIN_POLL_MS=20";
	e[n++] = "WS__HANDSHAKE_TIMEOUT_MS=300";
	e[n++] = "WS__MAX_MESSAGE_BYTES=1024";
	e[n++] = "WS__MESSAGES_PER_SECOND=5";
	e[n++] = "WS__MESSAGE_BURST=8";
	e[n++] = "WS__MAX_CONSOLE_PER_SERVER=2";
	e[n++] = "WS__MAX_LOGIN_CONNECTIONS=2";
	e[n++] = "WS__WORKERS=2";
	for (size_t i = 0; i < ELEMENTSOF(vars); i++)
		e[n++] = vars[i];
	e[n] = NULL;
	ck_assert_int_eq(config_load(NULL, e, &cfg, NULL), 0);
	for (size_t i = 0; i < ELEMENTSOF(vars); i++)
		free(vars[i]);

	ck_assert_int_eq(db_migrate(cfg->database_path, NULL, NULL), 0);
	ck_assert_int_eq(db_open(cfg->database_path, &db), 0);
	ck_assert_int_eq(auth_new(SECRET, "HS256", 60, MASTER, &auth), 0);
	fake_start();
	ck_assert_int_eq(docker_new(&(struct docker_config){ .socket_path = cfg->docker.socket },
	    &dk), 0);
	ck_assert_int_eq(servers_new(&(struct servers_config){ .server_path = cfg->server_path,
	    .docker = dk }, &srv), 0);
	ck_assert_int_eq(sd_event_new(&ev), 0);

	ws_path = tmpdir_join(td, "ws.sock");
	strcpy(sa.sun_path, ws_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(listen_fd, 0);
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(listen_fd, 64), 0);
	ck_assert_int_eq(wsd_new(ev, &(struct wsd_params){ .cfg = cfg, .auth = auth, .db = db,
	    .docker = dk, .servers = srv, .workers = 2 }, listen_fd, &wsd), 0);
}

static void
teardown(void)
{
	wsd = wsd_free(wsd);
	ev = sd_event_unref(ev);
	close(listen_fd);
	srv = servers_free(srv);
	dk = docker_free(dk);
	fake_stop();
	auth = auth_free(auth);
	db = db_close(db);
	cfg = config_free(cfg);
	free(ws_path);
	td = tmpdir_free(td);
}

/* ---- a WebSocket client ----------------------------------------------------------- */

struct client {
	int fd;
	struct ws_parser *p;
	struct strbuf in;	/* bytes read, not parsed yet */
	bool eof;
	int http_status;
	char *http_head;
};

/* Run the loop a little while reading what the daemon sent. */
static void
pump(struct client *c, int ms)
{
	(void)sd_event_run(ev, (uint64_t)ms * 1000);
	if (c && !c->eof) {
		char buf[65536];
		ssize_t l = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (l == 0)
			c->eof = true;
		else if (l > 0)
			ck_assert_int_eq(strbuf_append(&c->in, buf, (size_t)l), 0);
	}
}

static void
pump_ms(int total_ms)
{
	int64_t end = now_monotonic_usec() + total_ms * 1000LL;

	while (now_monotonic_usec() < end)
		pump(NULL, 5);
}

static struct client *
client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct client *c = calloc(1, sizeof(*c));
	struct ws_parser_config pc = { .role = WS_ROLE_CLIENT, .max_message = 64 << 20 };

	ck_assert_ptr_nonnull(c);
	strcpy(sa.sun_path, ws_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(ws_parser_new(&pc, &c->p), 0);
	return c;
}

static void
client_free(struct client *c)
{
	if (!c)
		return;
	close(c->fd);
	ws_parser_free(c->p);
	strbuf_free(&c->in);
	free(c->http_head);
	free(c);
	pump_ms(20);	/* let the daemon see the close */
}

static void
client_write(struct client *c, const void *p, size_t n)
{
	ck_assert_int_eq(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Send the raw request, read the HTTP answer head; returns the status. */
static int
client_request(struct client *c, const char *request)
{
	int64_t end = now_monotonic_usec() + WAIT_MS * 1000LL;
	char *eoh;

	client_write(c, request, strlen(request));
	while (!(eoh = c->in.buf ? strstr(c->in.buf, "\r\n\r\n") : NULL) && !c->eof &&
	    now_monotonic_usec() < end)
		pump(c, 5);
	ck_assert_msg(eoh, "no answer to the upgrade request");
	c->http_head = strndup(c->in.buf, (size_t)(eoh + 4 - c->in.buf));
	ck_assert_int_eq(sscanf(c->in.buf, "HTTP/1.1 %d", &c->http_status), 1);
	memmove(c->in.buf, eoh + 4, c->in.len - (size_t)(eoh + 4 - c->in.buf));
	c->in.len -= (size_t)(eoh + 4 - c->in.buf);
	return c->http_status;
}

static int
client_upgrade(struct client *c, const char *path)
{
	char req[4096];

	(void)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	    "X-Real-IP: 192.0.2.7\r\n\r\n", path);
	return client_request(c, req);
}

static struct client *
client_open(const char *path)
{
	struct client *c = client_connect();

	ck_assert_int_eq(client_upgrade(c, path), 101);
	ck_assert(strstr(c->http_head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	return c;
}

static struct client *
console_open(const char *id)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "/api/servers/%s/console?token=%s", id, MASTER);
	return client_open(path);
}

static void
client_send(struct client *c, enum ws_opcode op, const void *data, size_t n)
{
	static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(ws_encode_client_frame(&sb, op, true, key, data, n), 0);
	client_write(c, sb.buf, sb.len);
	strbuf_free(&sb);
}

static void
client_text(struct client *c, const char *s)
{
	client_send(c, WS_OP_TEXT, s, strlen(s));
}

struct msg {
	int op;			/* 0: nothing within the wait; -1: connection closed */
	char *data;
	size_t len;
	int close_code;
};

static void
msg_done(struct msg *m)
{
	free(m->data);
	*m = (struct msg){ 0 };
}

/* The next message from the daemon within ms. */
static struct msg
client_next(struct client *c, int ms)
{
	int64_t end = now_monotonic_usec() + ms * 1000LL;
	struct msg m = { 0 };

	for (;;) {
		if (c->in.len > 0) {
			struct ws_message wm;
			size_t used;
			int r = ws_parser_feed(c->p, c->in.buf, c->in.len, &used, &wm);

			ck_assert_int_ge(r, 0);
			if (r > 0) {
				m.op = wm.opcode;
				m.data = strndup(wm.data, wm.len);
				m.len = wm.len;
				m.close_code = wm.opcode == WS_OP_CLOSE ? wm.close_code : 0;
			}
			memmove(c->in.buf, c->in.buf + used, c->in.len - used);
			c->in.len -= used;
			if (r > 0)
				return m;
			continue;
		}
		if (c->eof) {
			m.op = -1;
			return m;
		}
		if (now_monotonic_usec() >= end)
			return m;
		pump(c, 5);
	}
}

/* The next message must be a text frame with this JSON (compact). */
static void
expect_json(struct client *c, const char *json)
{
	struct msg m = client_next(c, WAIT_MS);
	json_object *o;
	const char *err;
	size_t off;

	ck_assert_msg(m.op == WS_OP_TEXT, "expected %s, got op %d", json, m.op);
	o = json_parse_strict(m.data, m.len, 8, &err, &off);
	ck_assert_msg(o, "not JSON: %s", m.data);
	ck_assert_str_eq(json_compact(o), json);
	json_object_put(o);
	msg_done(&m);
}

/* The next message must be a close frame with code: the client answers it,
 * as clients do, and the daemon then ends the connection. */
static void
expect_close(struct client *c, int code)
{
	static const uint8_t k[4] = { 5, 6, 7, 8 };
	struct msg m = client_next(c, WAIT_MS);
	struct strbuf sb = STRBUF_INIT;

	ck_assert_msg(m.op == WS_OP_CLOSE, "expected close %d, got op %d (%s)", code, m.op,
	    m.data ? m.data : "");
	ck_assert_int_eq(m.close_code, code);
	msg_done(&m);
	ck_assert_int_eq(ws_encode_client_close(&sb, k, code, NULL), 0);
	(void)send(c->fd, sb.buf, sb.len, MSG_NOSIGNAL);	/* it may be gone already */
	strbuf_free(&sb);
	m = client_next(c, WAIT_MS);
	ck_assert_int_eq(m.op, -1);	/* the daemon closed the connection */
}

/* Nothing arrives for ms. */
static void
expect_quiet(struct client *c, int ms)
{
	struct msg m = client_next(c, ms);

	ck_assert_msg(m.op == 0, "unexpected message op %d: %s", m.op, m.data ? m.data : "");
}

/* ---- handshake and limits ------------------------------------------------------- */

static const struct {
	const char *request;
	int status;
} bad_requests[] = {
	{ "GET /api/auth/code HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "POST /api/auth/code HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 405 },
	{ "GET /api/auth/code HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426 },
	{ "GET /api/other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 404 },
	{ "GET /api/servers/x/console/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	  "Sec-WebSocket-Version: 13\r\n\r\n", 404 },
	/* §4.6: no token, a wrong one, a forged one: 403 before the upgrade */
	{ "GET /api/servers/x/console HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	  "Sec-WebSocket-Version: 13\r\n\r\n", 403 },
	{ "GET /api/servers/x/console?token= HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	  "Sec-WebSocket-Version: 13\r\n\r\n", 403 },
	{ "GET /api/servers/x/console?token=" MASTER "x HTTP/1.1\r\nHost: x\r\n"
	  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 403 },
	{ "GET /api/servers/x/console?token=eyJhbGciOiJIUzI1NiJ9.e30.x HTTP/1.1\r\nHost: x\r\n"
	  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 403 },
};

START_TEST(test_bad_upgrade)
{
	struct client *c = client_connect();

	ck_assert_int_eq(client_request(c, bad_requests[_i].request), bad_requests[_i].status);
	ck_assert(strstr(c->http_head, "Connection: close\r\n"));
	/* and the daemon closes the connection */
	while (!c->eof)
		pump(c, 5);
	client_free(c);
	ck_assert_uint_eq(wsd_connections(wsd), 0);
}
END_TEST

START_TEST(test_console_token_of_deleted_user)
{
	struct db_user u;
	char *tok, path[2048];
	struct client *c;

	ck_assert_int_eq(db_user_insert(db, "gone", "x", ROLE_ADMIN, now_realtime_usec(), &u), 0);
	ck_assert_int_eq(auth_token_issue(auth, &u, now_realtime_usec(), &tok), 0);
	(void)snprintf(path, sizeof(path), "/api/servers/nosuch/console?token=%s", tok);
	/* valid: accepted (then the server is not found) */
	c = client_open(path);
	expect_json(c, "{\"type\":\"error\",\"message\":\"服务器 'nosuch' 未找到\"}");
	expect_close(c, 1000);
	client_free(c);
	/* the user is deleted: the same token is refused */
	ck_assert_int_eq(db_user_delete(db, u.id), 0);
	c = client_connect();
	ck_assert_int_eq(client_upgrade(c, path), 403);
	client_free(c);
	db_user_done(&u);
	free(tok);
}
END_TEST

START_TEST(test_handshake_timeout)
{
	struct client *c = client_connect();
	int64_t t0 = now_monotonic_usec();

	client_write(c, "GET /api/auth/code HTTP/1.1\r\n", 29);	/* and nothing more */
	while (!c->eof && now_monotonic_usec() - t0 < WAIT_MS * 1000LL)
		pump(c, 5);
	ck_assert(c->eof);
	ck_assert_uint_eq(c->in.len, 0);	/* closed without an answer */
	client_free(c);
}
END_TEST

START_TEST(test_connection_limit)
{
	struct client *a, *b, *x;
	char buf[256];
	ssize_t l;

	wsd->lim.max_connections = 2;
	a = client_open("/api/auth/code");
	b = client_connect();
	pump_ms(30);
	ck_assert_uint_eq(wsd_connections(wsd), 2);
	/* the third gets a canned 503 and is closed, nothing allocated */
	x = client_connect();
	pump_ms(30);
	l = recv(x->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(l, 0);
	buf[l] = '\0';
	ck_assert(startswith(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_uint_eq(wsd_connections(wsd), 2);
	client_free(x);
	client_free(b);
	client_free(a);
}
END_TEST

START_TEST(test_frames_and_close)
{
	struct client *c = client_open("/api/auth/code");
	struct msg m;

	m = client_next(c, WAIT_MS);		/* the code */
	ck_assert_int_eq(m.op, WS_OP_TEXT);
	msg_done(&m);
	/* a ping is answered with its payload */
	client_send(c, WS_OP_PING, "abc", 3);
	m = client_next(c, WAIT_MS);
	ck_assert_int_eq(m.op, WS_OP_PONG);
	ck_assert_str_eq(m.data, "abc");
	msg_done(&m);
	/* fragmented, with a ping in between */
	{
		static const uint8_t k[4] = { 1, 2, 3, 4 };
		struct strbuf sb = STRBUF_INIT;

		ck_assert_int_eq(ws_encode_client_frame(&sb, WS_OP_TEXT, false, k, "pi", 2), 0);
		ck_assert_int_eq(ws_encode_client_frame(&sb, WS_OP_PING, true, k, "p", 1), 0);
		ck_assert_int_eq(ws_encode_client_frame(&sb, WS_OP_CONTINUATION, true, k, "ng", 2),
		    0);
		client_write(c, sb.buf, sb.len);
		strbuf_free(&sb);
	}
	m = client_next(c, WAIT_MS);
	ck_assert_int_eq(m.op, WS_OP_PONG);
	msg_done(&m);
	m = client_next(c, WAIT_MS);
	ck_assert_int_eq(m.op, WS_OP_TEXT);
	ck_assert_str_eq(m.data, "pong");
	msg_done(&m);
	/* the close handshake: the code is echoed, then the daemon hangs up */
	{
		static const uint8_t k[4] = { 9, 9, 9, 9 };
		struct strbuf sb = STRBUF_INIT;

		ck_assert_int_eq(ws_encode_client_close(&sb, k, 1001, "bye"), 0);
		client_write(c, sb.buf, sb.len);
		strbuf_free(&sb);
	}
	expect_close(c, 1001);
	client_free(c);
}
END_TEST

static const struct {
	const char *frame;	/* raw client frame */
	size_t len;
	int code;
} bad_frames[] = {
	{ "\x81\x02hi", 4, 1002 },					/* not masked */
	{ "\xc1\x80\0\0\0\0", 6, 1002 },				/* RSV1 */
	{ "\x83\x80\0\0\0\0", 6, 1002 },				/* opcode 3 */
	{ "\x81\x82\0\0\0\0\xc3\x28", 8, 1007 },			/* bad UTF-8 */
	{ "\x81\xfe\x04\x01\0\0\0\0", 8, 1009 },			/* 1025 > 1024 */
	{ "\x80\x81\0\0\0\0x", 7, 1002 },				/* stray continuation */
};

START_TEST(test_bad_frames)
{
	struct client *c = client_open("/api/auth/code");
	struct msg m = client_next(c, WAIT_MS);

	msg_done(&m);
	client_write(c, bad_frames[_i].frame, bad_frames[_i].len);
	expect_close(c, bad_frames[_i].code);
	client_free(c);
}
END_TEST

START_TEST(test_message_rate)
{
	struct client *c = client_open("/api/auth/code");
	struct msg m = client_next(c, WAIT_MS);
	int pongs = 0;

	msg_done(&m);
	/* burst 8: the 9th message in a row breaks the limit */
	for (int i = 0; i < 12; i++)
		client_text(c, "ping");
	for (;;) {
		m = client_next(c, WAIT_MS);
		if (m.op != WS_OP_TEXT)
			break;
		ck_assert_str_eq(m.data, "pong");
		pongs++;
		msg_done(&m);
	}
	ck_assert_int_eq(pongs, 8);
	ck_assert_int_eq(m.op, WS_OP_CLOSE);
	ck_assert_int_eq(m.close_code, WS_CLOSE_POLICY_VIOLATION);
	msg_done(&m);
	client_free(c);
}
END_TEST

START_TEST(test_shutdown)
{
	struct client *a = client_open("/api/auth/code");
	struct client *b = console_open("bad$id");
	struct msg m = client_next(a, WAIT_MS);

	msg_done(&m);
	expect_json(b, "{\"type\":\"error\",\"message\":\"服务器 'bad$id' 未找到\"}");
	expect_close(b, 1000);
	client_free(b);
	wsd_stop(wsd, 2000000);
	m = client_next(a, WAIT_MS);
	ck_assert_int_eq(m.op, WS_OP_CLOSE);
	ck_assert_int_eq(m.close_code, WS_CLOSE_SERVICE_RESTART);
	msg_done(&m);
	/* the client answers; the daemon hangs up and the loop is told to exit */
	{
		static const uint8_t k[4] = { 0, 0, 0, 0 };
		struct strbuf sb = STRBUF_INIT;

		ck_assert_int_eq(ws_encode_client_close(&sb, k, 1012, NULL), 0);
		client_write(a, sb.buf, sb.len);
		strbuf_free(&sb);
	}
	m = client_next(a, WAIT_MS);
	ck_assert_int_eq(m.op, -1);
	pump_ms(20);	/* the reaper frees it on the next round */
	ck_assert_uint_eq(wsd_connections(wsd), 0);
	ck_assert_int_eq(sd_event_get_state(ev), SD_EVENT_FINISHED);
	client_free(a);
}
END_TEST

/* ---- login codes ------------------------------------------------------------------- */

static char *
read_code(struct client *c)
{
	struct msg m = client_next(c, WAIT_MS);
	json_object *o, *v;
	const char *err;
	size_t off;
	char *code;

	ck_assert_int_eq(m.op, WS_OP_TEXT);
	o = json_parse_strict(m.data, m.len, 4, &err, &off);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "code");
	ck_assert(json_object_object_get_ex(o, "timeout", &v));
	ck_assert_int_eq(json_object_get_int(v), wsd->lim.login_rotate_usec < 1000000 ? 1 : 60);
	ck_assert(json_object_object_get_ex(o, "code", &v));
	code = strdup(json_object_get_string(v));
	ck_assert_uint_eq(strlen(code), 8);
	ck_assert_uint_eq(strspn(code, "0123456789"), 8);
	/* the frontend's parser sees exactly these three keys, in this order */
	ck_assert_int_eq(json_object_object_length(o), 3);
	json_object_put(o);
	msg_done(&m);
	return code;
}

/* POST /api/auth/verifyCode through the API pipeline, in memory, on this
 * daemon's database. */
static int
verify_code(const char *authorization, const char *body, char **ret_body)
{
	struct apitest a = {
		.app = { .cfg = cfg, .auth = auth, .proc_root = "/proc", .bcrypt_cost = 4 },
		.worker = { .db = db },
	};
	struct api_result r;
	char *ah = NULL;
	int status;

	if (authorization)
		ck_assert_int_ge(asprintf(&ah, "HTTP_AUTHORIZATION=%s", authorization), 0);
	r = apitest_call(&a, "POST", "/api/auth/verifyCode", body,
	    "CONTENT_TYPE=application/json", ah, NULL);	/* ah last: NULL ends the list */
	status = r.status;
	*ret_body = TAKE_PTR(r.body);
	api_result_done(&r);
	free(ah);
	return status;
}

static void
expect_verify(const char *authorization, const char *body, int status, const char *answer)
{
	char *got = NULL;

	ck_assert_int_eq(verify_code(authorization, body, &got), status);
	ck_assert_str_eq(got, answer);
	free(got);
}

START_TEST(test_login_code_flow)
{
	struct client *c = client_open("/api/auth/code");
	char *code = read_code(c), *code2, body[256], *tok = NULL;
	struct identity id;
	int64_t created;
	struct msg m;
	json_object *o, *v;
	const char *err;
	size_t off;

	ck_assert_int_eq(db_user_insert(db, "alice", "x", ROLE_OWNER, now_realtime_usec(), NULL),
	    0);
	(void)snprintf(body, sizeof(body), "{\"username\":\"alice\",\"code\":\"%s\"}", code);

	/* §7.2 and DECISIONS: the header's rules come before anything else */
	expect_verify(NULL, body, 422, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"header\","
	    "\"authorization\"],\"msg\":\"Field required\",\"input\":null}]}");
	expect_verify("Bearer wrong", body, 403,
	    "{\"detail\":\"This endpoint requires a master token\"}");
	expect_verify("Bearer" MASTER, body, 403,
	    "{\"detail\":\"This endpoint requires a master token\"}");	/* no space: not 500 */
	expect_verify("Bearer  " MASTER, body, 403,
	    "{\"detail\":\"This endpoint requires a master token\"}");	/* split(" ")[1] is "" */
	expect_verify("Bearer " MASTER, "{\"username\":\"alice\"}", 422,
	    "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\",\"code\"],\"msg\":"
	    "\"Field required\",\"input\":{\"username\":\"alice\"}}]}");
	expect_verify("Bearer " MASTER, "{\"username\":\"bob\",\"code\":\"00000000\"}", 400,
	    "{\"detail\":\"Invalid username or code\"}");
	expect_verify("Bearer " MASTER, "{\"username\":\"alice\",\"code\":\"0000000x\"}", 400,
	    "{\"detail\":\"Invalid username or code\"}");
	/* nothing was pushed for any of them */
	expect_quiet(c, 100);

	/* the scheme word is not checked, only the second word (§7.2) */
	expect_verify("Token " MASTER " trailing", body, 200, "{\"result\":\"success\"}");
	m = client_next(c, 1000);	/* within the poll interval, well under 1 s */
	ck_assert_int_eq(m.op, WS_OP_TEXT);
	o = json_parse_strict(m.data, m.len, 4, &err, &off);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "verified");
	ck_assert(json_object_object_get_ex(o, "access_token", &v));
	tok = strdup(json_object_get_string(v));
	json_object_put(o);
	msg_done(&m);
	/* a real token for alice, as a password login gives */
	ck_assert_int_eq(auth_token_verify(auth, tok, now_realtime_usec(), &id, &created), 0);
	ck_assert_str_eq(id.username, "alice");
	ck_assert_int_eq(id.role, ROLE_OWNER);

	/* DECISIONS: rotated right after the verification, the old code is dead */
	code2 = read_code(c);
	ck_assert_str_ne(code, code2);
	expect_verify("Bearer " MASTER, body, 400, "{\"detail\":\"Invalid username or code\"}");
	/* the socket stays open and answers */
	client_text(c, "ping");
	m = client_next(c, WAIT_MS);
	ck_assert_str_eq(m.data, "pong");
	msg_done(&m);
	/* anything else is ignored */
	client_text(c, "{\"type\":\"x\"}");
	expect_quiet(c, 100);

	/* the code dies with its socket */
	client_free(c);
	(void)snprintf(body, sizeof(body), "{\"username\":\"alice\",\"code\":\"%s\"}", code2);
	expect_verify("Bearer " MASTER, body, 400, "{\"detail\":\"Invalid username or code\"}");
	free(code);
	free(code2);
	free(tok);
}
END_TEST

START_TEST(test_login_code_rotation)
{
	struct client *c;
	char *a, *b, body[256];

	wsd->lim.login_rotate_usec = 300 * 1000;	/* 60 s in production */
	c = client_open("/api/auth/code");
	a = read_code(c);
	b = read_code(c);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(db_user_insert(db, "carol", "x", ROLE_ADMIN, now_realtime_usec(), NULL),
	    0);
	(void)snprintf(body, sizeof(body), "{\"username\":\"carol\",\"code\":\"%s\"}", a);
	expect_verify("Bearer " MASTER, body, 400, "{\"detail\":\"Invalid username or code\"}");
	(void)snprintf(body, sizeof(body), "{\"username\":\"carol\",\"code\":\"%s\"}", b);
	expect_verify("Bearer " MASTER, body, 200, "{\"result\":\"success\"}");
	free(a);
	free(b);
	client_free(c);
}
END_TEST

START_TEST(test_login_code_limit_and_restart)
{
	struct client *a = client_open("/api/auth/code");
	struct client *b = client_open("/api/auth/code");
	struct client *x = client_open("/api/auth/code");
	char *ca = read_code(a), *cb = read_code(b), body[256];
	struct wsd *again;

	expect_close(x, WS_CLOSE_TRY_AGAIN_LATER);
	client_free(x);
	/* a new daemon (a restart) clears the rows of the old one's sockets */
	ck_assert_int_eq(db_user_insert(db, "dave", "x", ROLE_ADMIN, now_realtime_usec(), NULL), 0);
	ck_assert_int_eq(wsd_new(ev, &(struct wsd_params){ .cfg = cfg, .auth = auth, .db = db },
	    -1, &again), 0);
	(void)snprintf(body, sizeof(body), "{\"username\":\"dave\",\"code\":\"%s\"}", ca);
	expect_verify("Bearer " MASTER, body, 400, "{\"detail\":\"Invalid username or code\"}");
	(void)snprintf(body, sizeof(body), "{\"username\":\"dave\",\"code\":\"%s\"}", cb);
	expect_verify("Bearer " MASTER, body, 400, "{\"detail\":\"Invalid username or code\"}");
	wsd_free(again);
	free(ca);
	free(cb);
	client_free(a);
	client_free(b);
}
END_TEST

/* ---- consoles ------------------------------------------------------------------------- */

static void
make_server(const char *id)
{
	char rel[128];

	(void)snprintf(rel, sizeof(rel), "servers/%s/docker-compose.yml", id);
	tmpdir_write(td, rel, "services:\n  mc:\n    image: itzg/minecraft-server\n");
}

START_TEST(test_console_not_found)
{
	struct client *c;

	/* a bad id, a missing directory, a directory without a compose file */
	c = console_open("..");
	expect_json(c, "{\"type\":\"error\",\"message\":\"服务器 '..' 未找到\"}");
	expect_close(c, 1000);
	client_free(c);
	c = console_open("a%2Fb");
	expect_json(c, "{\"type\":\"error\",\"message\":\"服务器 'a/b' 未找到\"}");
	expect_close(c, 1000);
	client_free(c);
	c = console_open("missing");
	expect_json(c, "{\"type\":\"error\",\"message\":\"服务器 'missing' 未找到\"}");
	expect_close(c, 1000);
	client_free(c);
	tmpdir_mkdir(td, "servers/empty");
	c = console_open("empty");
	expect_json(c, "{\"type\":\"error\",\"message\":\"服务器 'empty' 未找到\"}");
	expect_close(c, 1000);
	client_free(c);
	/* no container yet (§17.2 step 4) */
	make_server("srv2");
	c = console_open("srv2");
	expect_json(c, "{\"type\":\"error\",\"message\":\"Connection error: Server srv2 is not "
	    "created\"}");
	expect_close(c, 1000);
	client_free(c);
	ck_assert_uint_eq(fake_count("/logs?"), 0);
}
END_TEST

START_TEST(test_console_stream)
{
	struct client *c;
	char *backlog = "[12:00:00] [Server thread/INFO]: Done (1.5s)!\n"
	    "[12:00:01] [RCON Listener #1/INFO]: Thread RCON Client /172.17.0.1 started\n"
	    "[12:00:02] [Server thread/INFO]: ready\n";

	make_server("srv");
	fake.backlog = strdup(backlog);
	c = console_open("srv");
	/* the snapshot, after the RCON filter (on by default) */
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:00] [Server thread/INFO]: Done "
	    "(1.5s)!\\n[12:00:02] [Server thread/INFO]: ready\\n\"}");
	ck_assert_uint_eq(fake_count("/containers/" CID "/logs?"), 1);
	ck_assert_uint_eq(fake_count("tail=10000"), 1);

	/* live lines, every byte once */
	fake_log("[12:00:03] one\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:03] one\\n\"}");
	fake_log("[12:00:04] two\n[12:00:05] three\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:04] two\\n[12:00:05] three\\n\"}");
	/* an RCON-only chunk is not sent with the filter on */
	fake_log("[12:00:06] [RCON Client /172.17.0.1 #2/INFO]: shutting down\n");
	expect_quiet(c, 150);
	/* a partial line waits for its end, but not forever */
	fake_log("[12:00:07] par");
	expect_quiet(c, 100);
	fake_log("tial\n> ");
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:07] partial\\n\"}");
	expect_json(c, "{\"type\":\"log\",\"content\":\"> \"}");

	/* set_filter: answered at once, logs are not sent again */
	client_text(c, "{\"type\":\"set_filter\",\"filter_rcon\":false}");
	expect_json(c, "{\"type\":\"filter_updated\",\"filter_rcon\":false}");
	expect_quiet(c, 100);
	fake_log("[12:00:08] [RCON Listener #1/INFO]: Thread RCON Client started\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:08] [RCON Listener #1/INFO]: "
	    "Thread RCON Client started\\n\"}");
	/* refresh_logs: the whole history with the current filter */
	client_text(c, "{\"type\":\"refresh_logs\"}");
	{
		struct msg m = client_next(c, WAIT_MS);

		ck_assert_int_eq(m.op, WS_OP_TEXT);
		ck_assert(startswith(m.data,
		    "{\"type\":\"logs_refreshed\",\"content\":\"[12:00:00]"));
		ck_assert(strstr(m.data, "[12:00:06] [RCON Client"));
		ck_assert(strstr(m.data, "partial\\n> [12:00:08]"));
		msg_done(&m);
	}
	client_text(c, "{\"type\":\"set_filter\"}");	/* missing: true */
	expect_json(c, "{\"type\":\"filter_updated\",\"filter_rcon\":true}");
	/* a line the live stream never brought: refresh_logs reads the log again */
	fake_log_missed("[12:00:09] missed by the stream\n");
	fake_log("[12:00:10] [RCON Client /172.17.0.1 #3/INFO]: x\n");
	fake_log("[12:00:11] after\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"[12:00:11] after\\n\"}");
	client_text(c, "{\"type\":\"refresh_logs\"}");
	{
		struct msg m = client_next(c, WAIT_MS);

		ck_assert_int_eq(m.op, WS_OP_TEXT);
		/* filtered: "> " went with the RCON line it began */
		ck_assert(strstr(m.data, "[12:00:05] three\\n[12:00:07] partial\\n"
		    "[12:00:09] missed by the stream\\n[12:00:11] after\\n\"}"));
		msg_done(&m);
	}
	ck_assert_uint_eq(fake_count("follow=0"), 2);
	client_free(c);
}
END_TEST

START_TEST(test_console_messages)
{
	static const struct {
		const char *in;
		const char *out;	/* NULL: no answer */
	} cases[] = {
		{ "not json", "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "[1,2]", "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "\"command\"", "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "null", "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "{}", "{\"type\":\"info\",\"message\":\"消息中缺少type\"}" },
		{ "{\"type\":\"\"}", "{\"type\":\"info\",\"message\":\"消息中缺少type\"}" },
		{ "{\"type\":null}", "{\"type\":\"info\",\"message\":\"消息中缺少type\"}" },
		{ "{\"type\":0}", "{\"type\":\"info\",\"message\":\"消息中缺少type\"}" },
		{ "{\"type\":5}", NULL },
		{ "{\"type\":\"dance\"}", NULL },
		{ "{\"type\":\"command\"}", NULL },
		{ "{\"type\":\"command\",\"command\":\" \\t\\u3000\"}", NULL },
		{ "{\"type\":\"command\",\"command\":5}",
		  "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "{\"type\":\"set_filter\",\"filter_rcon\":\"false\"}",
		  "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		{ "{\"type\":\"set_filter\",\"filter_rcon\":1}",
		  "{\"type\":\"info\",\"message\":\"消息格式错误\"}" },
		/* a stopped server does not take commands (§17.2) */
		{ "{\"type\":\"command\",\"command\":\" say hi \"}",
		  "{\"type\":\"info\",\"message\":\"Server srv is not running\"}" },
	};
	struct client *c;

	make_server("srv");
	fake.state = "exited";
	fake.keep_open = false;		/* a stopped container: the stream ends at once */
	fake.backlog = strdup("bye\n");
	c = console_open("srv");
	expect_json(c, "{\"type\":\"log\",\"content\":\"bye\\n\"}");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		wsd->conns->tokens = 8;		/* not the rate limit's test */
		client_text(c, cases[i].in);
		if (cases[i].out)
			expect_json(c, cases[i].out);
		else
			expect_quiet(c, 60);
	}
	/* binary messages are not the protocol */
	client_send(c, WS_OP_BINARY, "{}", 2);
	expect_json(c, "{\"type\":\"info\",\"message\":\"消息格式错误\"}");
	client_free(c);
}
END_TEST

START_TEST(test_console_empty_and_restart)
{
	struct client *c;
	size_t before;

	make_server("srv");
	c = console_open("srv");
	/* no output at all: the empty snapshot once the stream had its chance */
	expect_json(c, "{\"type\":\"info\",\"content\":\"暂无最近日志\"}");
	/* the container stops: the stream ends, the feed asks again with since= */
	fake_log("stopping\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"stopping\\n\"}");
	before = fake_count("since=");
	fake.backlog = strdup("[init] starting again\n");
	fake_log_end();
	{
		struct msg m = client_next(c, WAIT_MS);

		ck_assert_int_eq(m.op, WS_OP_TEXT);
		ck_assert_str_eq(m.data,
		    "{\"type\":\"log\",\"content\":\"[init] starting again\\n\"}");
		msg_done(&m);
	}
	ck_assert_uint_eq(fake_count("since="), before + 1);
	fake_log("live again\n");
	expect_json(c, "{\"type\":\"log\",\"content\":\"live again\\n\"}");
	/* the container is removed: the log is gone, the socket stays (§17.2) */
	fake.logs_404 = true;
	fake_log_end();
	expect_json(c, "{\"type\":\"error\",\"message\":\"控制台日志未找到\"}");
	client_text(c, "{\"type\":\"set_filter\",\"filter_rcon\":false}");
	expect_json(c, "{\"type\":\"filter_updated\",\"filter_rcon\":false}");
	client_free(c);
}
END_TEST

START_TEST(test_console_per_server_limit)
{
	struct client *a, *b, *x, *y;

	make_server("srv");
	fake.backlog = strdup("x\n");
	a = console_open("srv");
	b = console_open("SRV");	/* the same server (DECISIONS) */
	expect_json(a, "{\"type\":\"log\",\"content\":\"x\\n\"}");
	expect_json(b, "{\"type\":\"log\",\"content\":\"x\\n\"}");
	/* one stream for both */
	ck_assert_uint_eq(fake_count("/logs?"), 1);
	x = console_open("Srv");
	expect_close(x, WS_CLOSE_TRY_AGAIN_LATER);
	client_free(x);
	/* other servers are not affected */
	y = console_open("other");
	expect_json(y, "{\"type\":\"error\",\"message\":\"服务器 'other' 未找到\"}");
	client_free(y);
	fake_log("both\n");
	expect_json(a, "{\"type\":\"log\",\"content\":\"both\\n\"}");
	expect_json(b, "{\"type\":\"log\",\"content\":\"both\\n\"}");
	client_free(a);
	client_free(b);
}
END_TEST

START_TEST(test_console_slow_reader)
{
	struct client *c;
	char line[1001];
	int sndbuf = 4096, lines = 0, notices = 0;
	struct msg m;

	make_server("srv");
	wsd->lim.send_queue = 16384;
	c = console_open("srv");
	expect_json(c, "{\"type\":\"info\",\"content\":\"暂无最近日志\"}");
	/* the daemon's side of the socket holds little, the client reads nothing */
	ck_assert_int_eq(setsockopt(wsd->conns->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)), 0);
	wsd->conns->q.max = 16384;
	wsd->conns->q.hard_max = 32768;
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 400; i++) {
		fake_log(line);
		pump(NULL, 1);
	}
	pump_ms(300);
	/* memory stayed bounded */
	ck_assert_uint_le(wsd->conns->q.bytes, wsd->conns->q.hard_max);
	/* now read: old chunks were dropped, with a notice where they went */
	while ((m = client_next(c, 300)).op == WS_OP_TEXT) {
		if (strstr(m.data, "\"type\":\"info\"")) {
			ck_assert(strstr(m.data, "bytes of log were skipped"));
			notices++;
		} else
			for (const char *p = m.data; (p = strstr(p, "\\n")); p += 2)
				lines++;
		msg_done(&m);
	}
	msg_done(&m);
	ck_assert_int_ge(notices, 1);
	ck_assert_int_gt(lines, 0);
	ck_assert_int_lt(lines, 400);
	client_free(c);
}
END_TEST

/* Concatenated "content" of log messages until want has arrived (or time is up). */
static char *
collect(struct client *c, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	while (!strstr(strbuf_str(&sb), want)) {
		struct msg m = client_next(c, WAIT_MS);
		json_object *o, *v;
		const char *err;
		size_t off;

		ck_assert_msg(m.op == WS_OP_TEXT, "waiting for '%s', have '%s'", want,
		    strbuf_str(&sb));
		o = json_parse_strict(m.data, m.len, 4, &err, &off);
		ck_assert_ptr_nonnull(o);
		ck_assert(json_object_object_get_ex(o, "type", &v));
		ck_assert_str_eq(json_object_get_string(v), "log");
		ck_assert(json_object_object_get_ex(o, "content", &v));
		ck_assert_int_eq(strbuf_puts(&sb, json_object_get_string(v)), 0);
		json_object_put(o);
		msg_done(&m);
	}
	return strbuf_steal(&sb);
}

START_TEST(test_console_repeats_dropped)
{
	int64_t t = now_ns();
	struct client *c;
	char *got, since[64];

	make_server("srv");
	c = console_open("srv");
	expect_json(c, "{\"type\":\"info\",\"content\":\"暂无最近日志\"}");
	fake_log_at(t + 1000, "a\n");
	fake_log_at(t + 2000, "b\n");
	/* docker 20.10 around a rotation: lines again, with their own times */
	fake_log_at(t + 1000, "a\n");
	fake_log_at(t + 2000, "b\n");
	fake_log_at(t + 3000, "c\n");
	got = collect(c, "c\n");
	ck_assert_str_eq(got, "a\nb\nc\n");
	free(got);
	/* a clock that steps back is not a repeat */
	fake_log_at(t - 60000000000LL, "d\n");
	got = collect(c, "d\n");
	ck_assert_str_eq(got, "d\n");
	free(got);
	/* the next stream starts exactly at the newest message (µs), which it
	 * repeats, and the repeat is dropped */
	(void)snprintf(since, sizeof(since), "since=%lld.%06lld", (long long)((t + 3000) / 1000000000),
	    (long long)((t + 3000) / 1000 % 1000000));
	fake_log_end();
	pump_ms(1200);
	ck_assert_uint_eq(fake_count(since), 1);
	fake_log_at(t + 3000, "c\n");
	fake_log_at(t + 4000, "e\n");
	got = collect(c, "e\n");
	ck_assert_str_eq(got, "e\n");
	free(got);
	client_free(c);
}
END_TEST

START_TEST(test_console_tty_stream)
{
	int64_t t = now_ns();
	struct client *c;
	char *got, buf[256], ts2[40];
	struct tm tm;
	time_t sec;

	make_server("srv");
	fake.tty = true;
	fake.backlog = strdup("one\r\ntwo\r\n");
	c = console_open("srv");
	expect_json(c, "{\"type\":\"log\",\"content\":\"one\\r\\ntwo\\r\\n\"}");
	/* a TTY's output comes in pieces: a message need not end with a newline,
	 * and the next one's timestamp follows it at once */
	fake_log_at(t + 1000, "par");
	sec = (time_t)((t + 2000) / 1000000000);
	gmtime_r(&sec, &tm);
	ck_assert_uint_gt(strftime(ts2, sizeof(ts2), "%Y-%m-%dT%H:%M:%S", &tm), 0);
	/* the next timestamp cut in two: the first half is held, not shown */
	(void)snprintf(buf, sizeof(buf), "%s.%09lld", ts2, (long long)((t + 2000) % 1000000000));
	buf[12] = '\0';
	fake_raw(buf);
	pump_ms(50);
	(void)snprintf(buf, sizeof(buf), "%s.%09lldZ tial\r\n", ts2 + 12,
	    (long long)((t + 2000) % 1000000000));
	fake_raw(buf);
	got = collect(c, "tial\r\n");
	ck_assert_str_eq(got, "partial\r\n");
	free(got);
	client_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wsconn");
	TCase *tc;
	SRunner *sr;
	int nfailed;

	tc = tcase_create("connections");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_upgrade, 0, (int)ELEMENTSOF(bad_requests));
	tcase_add_test(tc, test_console_token_of_deleted_user);
	tcase_add_test(tc, test_handshake_timeout);
	tcase_add_test(tc, test_connection_limit);
	tcase_add_test(tc, test_frames_and_close);
	tcase_add_loop_test(tc, test_bad_frames, 0, (int)ELEMENTSOF(bad_frames));
	tcase_add_test(tc, test_message_rate);
	tcase_add_test(tc, test_shutdown);
	suite_add_tcase(s, tc);

	tc = tcase_create("login-codes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_login_code_flow);
	tcase_add_test(tc, test_login_code_rotation);
	tcase_add_test(tc, test_login_code_limit_and_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("console");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_console_not_found);
	tcase_add_test(tc, test_console_stream);
	tcase_add_test(tc, test_console_messages);
	tcase_add_test(tc, test_console_empty_and_restart);
	tcase_add_test(tc, test_console_per_server_limit);
	tcase_add_test(tc, test_console_slow_reader);
	tcase_add_test(tc, test_console_repeats_dropped);
	tcase_add_test(tc, test_console_tty_stream);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
