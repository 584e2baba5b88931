/* SPDX-License-Identifier: MIT */
/*
 * The connection layer of mc-admin-ws: the listening socket, the HTTP
 * upgrade (handshake.h), frames (wscodec.h), the send queue (sendq.c) and
 * every per-connection limit (API-core §4.6; issue #4 "Limits"):
 *
 *   - connections in total (ws.max_connections): past it a new socket gets
 *     a canned HTTP 503 and is closed before anything is allocated;
 *   - the upgrade request must be complete within ws.handshake_timeout_ms
 *     and within WS_HANDSHAKE_MAX_HEADER bytes (431);
 *   - frames and messages larger than ws.max_message_bytes: close 1009;
 *   - more than ws.messages_per_second (burst ws.message_burst) data
 *     messages and pings: close 1008;
 *   - the send queue: live log chunks are dropped (oldest first, with a
 *     notice) above ws.send_queue_bytes; anything that would pass twice that
 *     ends the connection;
 *   - a peer that answers no ping within ws.ping_interval_seconds is gone.
 *
 * A connection has one destructor (conn_free), run from a defer source
 * once the connection is dead, so no caller up the stack ever holds a
 * freed connection.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "config/conf.h"
#include "ws/ws-internal.h"

#define USEC_PER_SEC		1000000ULL
#define USEC_PER_MSEC		1000ULL
#define CLOSE_TIMEOUT_USEC	(5 * USEC_PER_SEC)
#define IOV_MAX_BATCH		64
/* a log chunk is only queued when this much room is left for the notice */
#define DROP_NOTICE_MAX		256

static const char busy_answer[] =
	"HTTP/1.1 503 Service Unavailable\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Length: 20\r\n"
	"Connection: close\r\n"
	"\r\n"
	"Too many connections";

void
wsd_limits_from_config(const struct config *cfg, struct wsd_limits *ret)
{
	*ret = (struct wsd_limits){
		.max_connections = (size_t)cfg->ws.max_connections,
		.max_login = (size_t)cfg->ws.max_login_connections,
		.max_console_per_server = (size_t)cfg->ws.max_console_per_server,
		.max_message = (size_t)cfg->ws.max_message_bytes,
		.send_queue = (size_t)cfg->ws.send_queue_bytes,
		.rate = (unsigned)cfg->ws.messages_per_second,
		.burst = (unsigned)cfg->ws.message_burst,
		.handshake_timeout_usec = (uint64_t)cfg->ws.handshake_timeout_ms * USEC_PER_MSEC,
		.ping_interval_usec = (uint64_t)cfg->ws.ping_interval_seconds * USEC_PER_SEC,
		.close_timeout_usec = CLOSE_TIMEOUT_USEC,
		.login_poll_usec = (uint64_t)cfg->ws.login_poll_ms * USEC_PER_MSEC,
		.login_rotate_usec = 60 * USEC_PER_SEC,
		.history_lines = cfg->ws.history_lines,
		.history_bytes = (size_t)cfg->ws.history_bytes,
		.command_timeout_ms = cfg->ws.command_timeout_seconds * 1000,
	};
}

static uint64_t
now_usec(struct wsd *d)
{
	uint64_t t = 0;

	(void)sd_event_now(d->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void
timer_arm(struct conn *c, uint64_t usec)
{
	if (sd_event_source_set_time_relative(c->timer, usec) < 0 ||
	    sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
		log_warning("cannot arm a connection timer, ignoring");
}

static void
endpoint_closed(struct conn *c)
{
	if (c->endpoint_closed)
		return;
	c->endpoint_closed = true;
	if (c->ep && c->ep->closed)
		c->ep->closed(c);
	c->session = NULL;
}

static void
conn_free(struct conn *c)
{
	struct wsd *d = c->d;

	endpoint_closed(c);
	WS_LIST_REMOVE(conns, d->conns, c);
	d->n_conns--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	sd_event_source_disable_unref(c->reaper);
	if (c->fd >= 0)
		(void)close(c->fd);
	sendq_done(&c->q);
	ws_handshake_free(c->hs);
	ws_parser_free(c->parser);
	free(c);
	if (d->stopping && d->n_conns == 0)
		(void)sd_event_exit(d->event, 0);
}

void
conn_destroy(struct conn *c)
{
	conn_kill(c);
	conn_free(c);
}

static int
on_reap(sd_event_source *s, void *userdata)
{
	(void)s;
	conn_free(userdata);
	return 0;
}

void
conn_kill(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	endpoint_closed(c);
	c->state = CONN_DEAD;
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	if (c->fd >= 0) {
		(void)close(c->fd);
		c->fd = -1;
	}
	sendq_done(&c->q);
	/* out of memory: it stays on the list, dead, until wsd_free() */
	if (sd_event_add_defer(c->d->event, &c->reaper, on_reap, c) < 0)
		log_warning("cannot schedule freeing a connection, keeping it until exit");
}

static void
io_update(struct conn *c)
{
	uint32_t ev = EPOLLIN | (c->want_write ? EPOLLOUT : 0);

	if (c->io && sd_event_source_set_io_events(c->io, ev) < 0)
		log_warning("cannot update a connection's events, ignoring");
}

/* Write what can be written now; the rest waits for EPOLLOUT. */
static void
conn_flush(struct conn *c)
{
	while (c->state != CONN_DEAD && !sendq_empty(&c->q)) {
		struct iovec iov[IOV_MAX_BATCH];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		mh.msg_iovlen = (size_t)sendq_iov(&c->q, iov, IOV_MAX_BATCH);
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (!c->want_write) {
					c->want_write = true;
					io_update(c);
				}
				return;
			}
			log_debug_errno(errno, "connection from %s: write failed: %m", c->peer);
			conn_kill(c);
			return;
		}
		sendq_consume(&c->q, (size_t)n);
	}
	if (c->state == CONN_DEAD)
		return;
	if (c->want_write) {
		c->want_write = false;
		io_update(c);
	}
	if (c->close_after_flush)
		conn_kill(c);
	else if (c->discard && c->state == CONN_CLOSING && !c->shut_down) {
		c->shut_down = true;
		(void)shutdown(c->fd, SHUT_WR);
	}
}

/* Queue f whatever the state (our own protocol frames). 0 or -errno. */
static int
queue(struct conn *c, struct wsframe *f, bool droppable)
{
	struct sendq *q = &c->q;
	int r;

	if (!sendq_fits(q, f->len))
		c->dropped += sendq_drop_droppable(q);
	if (droppable && !sendq_fits(q, f->len + DROP_NOTICE_MAX)) {
		c->dropped += f->len;
		return 0;
	}
	if (c->dropped > 0 && c->state == CONN_OPEN) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		struct wsframe *nf;
		char msg[200];

		(void)snprintf(msg, sizeof(msg), "This connection is too slow for the console "
		    "output: %llu bytes of log were skipped", (unsigned long long)c->dropped);
		json_object_object_add(o, "type", json_object_new_string("info"));
		json_object_object_add(o, "message", json_object_new_string(msg));
		nf = wsframe_json(o);
		if (!nf)
			return -ENOMEM;
		r = sendq_append(q, nf, false);
		wsframe_unref(nf);
		if (r < 0)
			return r;
		c->dropped = 0;
	}
	return sendq_append(q, f, droppable);
}

int
conn_send(struct conn *c, struct wsframe *f, bool droppable)
{
	int r;

	if (!f)
		return -ENOMEM;
	if (c->state != CONN_OPEN)
		return -EPIPE;
	r = queue(c, f, droppable);
	if (r < 0) {
		/* not even the close frame fits: a reader this slow is dropped */
		log_notice("connection from %s: send queue full, closing it", c->peer);
		conn_kill(c);
		return r;
	}
	conn_flush(c);
	return c->state == CONN_DEAD ? -EPIPE : 0;
}

int
conn_send_json(struct conn *c, json_object *obj)
{
	struct wsframe *f = obj ? wsframe_json(obj) : NULL;
	int r = conn_send(c, f, false);

	wsframe_unref(f);
	json_object_put(obj);
	return r;
}

void
conn_close(struct conn *c, int code, const char *reason)
{
	struct wsframe *f;

	if (c->state == CONN_HANDSHAKE) {
		conn_kill(c);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	endpoint_closed(c);
	c->state = CONN_CLOSING;
	f = wsframe_close(code, reason);
	if (!f || queue(c, f, false) < 0) {
		wsframe_unref(f);
		conn_kill(c);
		return;
	}
	wsframe_unref(f);
	/* the peer's close frame may have arrived already */
	c->close_after_flush = c->close_received;
	timer_arm(c, c->d->lim.close_timeout_usec);
	conn_flush(c);
}

void
conn_close_all(struct wsd *d, int code, const char *reason)
{
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->conns.next;
		if (c->state == CONN_OPEN)
			conn_close(c, code, reason);
		else if (c->state == CONN_HANDSHAKE)
			conn_kill(c);
	}
}

/* Answer the upgrade request with an HTTP error and close. */
static void
refuse(struct conn *c, int status, const char *body)
{
	struct strbuf sb = STRBUF_INIT;
	struct wsframe *f = NULL;

	if (ws_response_error(&sb, status, body) >= 0)
		f = wsframe_raw(sb.buf, sb.len);
	strbuf_free(&sb);
	c->state = CONN_REFUSING;
	c->close_after_flush = true;
	if (!f || queue(c, f, false) < 0) {
		wsframe_unref(f);
		conn_kill(c);
		return;
	}
	wsframe_unref(f);
	timer_arm(c, c->d->lim.close_timeout_usec);
	conn_flush(c);
}

static bool
path_is_console(const char *path)
{
	const char *rest = startswith(path, "/api/servers/");
	const char *slash = rest ? strchr(rest, '/') : NULL;

	return slash && slash > rest && streq(slash, "/console");
}

/* The client's address as nginx passed it, for the logs (escaped). */
static void
peer_from_request(struct conn *c, const struct ws_request *req)
{
	const char *p = req->x_real_ip ? req->x_real_ip : req->x_forwarded_for;
	char tmp[sizeof(c->peer)];
	size_t n;

	if (!p)
		return;
	n = strcspn(p, ", ");
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	(void)log_escape(c->peer, sizeof(c->peer), tmp);
}

static void process_frames(struct conn *c, const char *buf, size_t n);

static void
process_handshake(struct conn *c, const char *buf, size_t n)
{
	struct wsd *d = c->d;
	const struct ws_request *req;
	struct ws_parser_config pc = {
		.role = WS_ROLE_SERVER,
		.max_frame = d->lim.max_message,
		.max_message = d->lim.max_message,
	};
	struct strbuf sb = STRBUF_INIT;
	struct wsframe *f = NULL;
	size_t used = 0;
	int r;

	r = ws_handshake_feed(c->hs, buf, n, &used);
	if (r == 0)
		return;
	if (r < 0) {
		log_debug("connection %s: bad upgrade request: %s", c->peer,
		    ws_handshake_error(c->hs));
		refuse(c, ws_handshake_status(r), NULL);
		return;
	}
	req = ws_handshake_request(c->hs);
	peer_from_request(c, req);
	if (streq(req->path, "/api/auth/code"))
		c->ep = &login_endpoint;
	else if (path_is_console(req->path))
		c->ep = &console_endpoint;
	else {
		refuse(c, 404, NULL);
		return;
	}
	r = c->ep->accept(c, req);
	if (r != 0) {
		if (r < 0)
			log_warning_errno(r, "%s from %s: cannot accept: %m", c->ep->name, c->peer);
		c->endpoint_closed = true;	/* never opened: nothing to release */
		refuse(c, r < 0 ? 500 : r, NULL);
		return;
	}
	r = ws_response_accept(&sb, req->key);
	if (r >= 0)
		f = wsframe_raw(sb.buf, sb.len);
	strbuf_free(&sb);
	if (r >= 0 && !f)
		r = -ENOMEM;
	if (r >= 0)
		r = ws_parser_new(&pc, &c->parser);
	if (r >= 0)
		r = queue(c, f, false);
	wsframe_unref(f);
	if (r < 0) {
		log_warning_errno(r, "%s from %s: cannot answer the upgrade: %m", c->ep->name,
		    c->peer);
		conn_kill(c);
		return;
	}
	c->hs = ws_handshake_free(c->hs);
	c->state = CONN_OPEN;
	c->last_rx = now_usec(d);
	c->tokens = d->lim.burst;
	c->tokens_at = c->last_rx;
	if (d->lim.ping_interval_usec > 0)
		timer_arm(c, d->lim.ping_interval_usec);
	else
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	c->ep->opened(c);
	if (c->state != CONN_DEAD)
		conn_flush(c);
	/* the client may have sent frames right behind its request */
	if (used < n && (c->state == CONN_OPEN || c->state == CONN_CLOSING))
		process_frames(c, buf + used, n - used);
}

/* Token bucket: false when the peer sends messages faster than allowed. */
static bool
rate_ok(struct conn *c)
{
	struct wsd *d = c->d;
	uint64_t now = now_usec(d);

	if (d->lim.rate == 0)
		return true;
	c->tokens += (double)(now - c->tokens_at) * d->lim.rate / (double)USEC_PER_SEC;
	if (c->tokens > d->lim.burst)
		c->tokens = d->lim.burst;
	c->tokens_at = now;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

static void
on_close_frame(struct conn *c, const struct ws_message *m)
{
	c->close_received = true;
	if (c->state == CONN_OPEN) {
		/* echo the code (RFC 6455 §5.5.1); an empty close gets an empty one */
		conn_close(c, m->close_code, NULL);
		return;
	}
	/* we had started the close: the handshake is complete */
	c->close_after_flush = true;
	conn_flush(c);
}

static void
process_frames(struct conn *c, const char *buf, size_t n)
{
	while (n > 0 && (c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    !c->close_received) {
		struct ws_message m;
		size_t used = 0;
		int r;

		r = ws_parser_feed(c->parser, buf, n, &used, &m);
		if (r < 0) {
			int code = ws_parser_close_code(c->parser);

			log_debug("connection from %s: %s, closing with %d", c->peer,
			    ws_parser_error(c->parser), code);
			/*
			 * A broken stream is not parsed any further, but it is
			 * still read: closing a socket with unread input sends a
			 * reset, which may overtake the close frame (the peer would
			 * see 1006 instead of the code). Once the close frame is out,
			 * our side is shut down; the peer's end, or the close
			 * timeout, ends it.
			 */
			c->discard = true;
			if (c->state == CONN_OPEN)
				conn_close(c, code, NULL);
			else
				conn_flush(c);
			return;
		}
		buf += used;
		n -= used;
		if (r == 0)
			break;
		c->last_rx = now_usec(c->d);
		c->ping_sent = false;
		switch (m.opcode) {
		case WS_OP_TEXT:
		case WS_OP_BINARY:
		case WS_OP_PING:
			if (c->state != CONN_OPEN)
				break;
			if (!rate_ok(c)) {
				log_notice("%s from %s: too many messages, closing", c->ep->name,
				    c->peer);
				conn_close(c, WS_CLOSE_POLICY_VIOLATION,
				    "message rate limit exceeded");
				return;
			}
			if (m.opcode == WS_OP_PING) {
				struct wsframe *f = wsframe_new(WS_OP_PONG, m.data, m.len);

				(void)conn_send(c, f, false);
				wsframe_unref(f);
			} else
				c->ep->message(c, m.opcode, m.data, m.len);
			break;
		case WS_OP_PONG:
			break;
		case WS_OP_CLOSE:
			on_close_frame(c, &m);
			return;
		case WS_OP_CONTINUATION:
			break;
		}
	}
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	struct wsd *d = c->d;
	ssize_t n;

	(void)s;
	if (revents & EPOLLOUT)
		conn_flush(c);
	if (c->state == CONN_DEAD || !(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;
	n = read(fd, d->rbuf, sizeof(d->rbuf));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		log_debug_errno(errno, "connection from %s: read failed: %m", c->peer);
		conn_kill(c);
		return 0;
	}
	if (n == 0) {
		conn_kill(c);
		return 0;
	}
	if (c->discard)
		return 0;
	switch (c->state) {
	case CONN_HANDSHAKE:
		process_handshake(c, d->rbuf, (size_t)n);
		break;
	case CONN_OPEN:
	case CONN_CLOSING:
		process_frames(c, d->rbuf, (size_t)n);
		break;
	case CONN_REFUSING:	/* the rest of a refused request: ignored */
	case CONN_DEAD:
		break;
	}
	return 0;
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;
	struct wsd *d = c->d;
	struct wsframe *f;

	(void)s;
	(void)usec;
	switch (c->state) {
	case CONN_OPEN:
		if (c->ping_sent) {
			log_debug("connection from %s: no answer to a ping, dropping it", c->peer);
			conn_kill(c);
			return 0;
		}
		if (now_usec(d) - c->last_rx >= d->lim.ping_interval_usec) {
			f = wsframe_new(WS_OP_PING, NULL, 0);
			if (conn_send(c, f, false) == 0)
				c->ping_sent = true;
			wsframe_unref(f);
		}
		if (c->state == CONN_OPEN)
			timer_arm(c, d->lim.ping_interval_usec);
		return 0;
	case CONN_HANDSHAKE:
		log_debug("connection from %s: no upgrade request in time, closing", c->peer);
		conn_kill(c);
		return 0;
	case CONN_REFUSING:
	case CONN_CLOSING:
	case CONN_DEAD:
		conn_kill(c);
		return 0;
	}
	return 0;
}

int
conn_new(struct wsd *d, int fd, struct conn **ret)
{
	struct conn *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		(void)close(fd);
		return -ENOMEM;
	}
	c->d = d;
	c->fd = fd;
	c->state = CONN_HANDSHAKE;
	(void)snprintf(c->peer, sizeof(c->peer), "local");
	sendq_init(&c->q, d->lim.send_queue, 2 * d->lim.send_queue);
	WS_LIST_PREPEND(conns, d->conns, c);
	d->n_conns++;
	r = ws_handshake_new(0, &c->hs);
	if (r >= 0)
		r = sd_event_add_io(d->event, &c->io, fd, EPOLLIN, on_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &c->timer, CLOCK_MONOTONIC,
		    d->lim.handshake_timeout_usec, 100 * USEC_PER_MSEC, on_timer, c);
	if (r < 0) {
		c->endpoint_closed = true;
		conn_free(c);
		return r;
	}
	if (ret)
		*ret = c;
	return 0;
}

static int
on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct wsd *d = userdata;
	int cfd, r;

	(void)s;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning_errno(errno, "accept failed: %m, ignoring");
		return 0;
	}
	if (d->n_conns >= d->lim.max_connections) {
		/* nothing allocated: a canned answer, best effort, and close */
		(void)!send(cfd, busy_answer, sizeof(busy_answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)close(cfd);
		log_notice("too many connections (%zu), refusing one", d->n_conns);
		return 0;
	}
	r = conn_new(d, cfd, NULL);
	if (r < 0)
		log_warning_errno(r, "cannot set up a connection: %m, ignoring");
	return 0;
}

int
conn_listen(struct wsd *d, int fd)
{
	d->listen_fd = fd;
	return sd_event_add_io(d->event, &d->listen_src, fd, EPOLLIN, on_accept, d);
}
