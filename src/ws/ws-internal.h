/* SPDX-License-Identifier: MIT */
/*
 * mc-admin-ws internals: the pieces of the WebSocket daemon below ws.h,
 * exposed for the unit tests.
 *
 *   wstext.c   pure text rules of the console (the RCON filter, Python's
 *              whitespace, the snapshot tail) and login codes;
 *   logmsg.c   Docker's timestamped log stream taken apart into messages;
 *   sendq.c    shared encoded frames and the bounded send queue;
 *   jobs.c     a small thread pool for blocking work (Docker inspect, the
 *              compose CLI), its results handed back to the event loop;
 *   conn.c     the connection layer: accept, upgrade, frames, limits,
 *              keep-alive, the close handshake;
 *   login.c    WS /api/auth/code (API-core §17.1);
 *   console.c  WS /api/servers/{id}/console (§17.2): sessions;
 *   feed.c     one Docker log stream per container, shared by its sessions.
 *
 * Everything but jobs.c's workers runs on the one event-loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <systemd/sd-event.h>

#include <pthread.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "ws/handshake.h"
#include "ws/wscodec.h"
#include "ws/ws.h"

/* ---- intrusive doubly-linked lists -------------------------------------- */

#define WS_LIST_FIELDS(type, name) struct { type *next, *prev; } name

#define WS_LIST_PREPEND(name, head, item) do {				\
		(item)->name.prev = NULL;				\
		(item)->name.next = (head);				\
		if (head)						\
			(head)->name.prev = (item);			\
		(head) = (item);					\
	} while (0)

/* item must be in the list headed by head */
#define WS_LIST_REMOVE(name, head, item) do {				\
		if ((item)->name.next)					\
			(item)->name.next->name.prev = (item)->name.prev; \
		if ((item)->name.prev)					\
			(item)->name.prev->name.next = (item)->name.next; \
		else							\
			(head) = (item)->name.next;			\
		(item)->name.next = (item)->name.prev = NULL;		\
	} while (0)

/* ---- wstext.c ------------------------------------------------------------ */

#define CONSOLE_SNAPSHOT_CHARS	1048576	/* §17.2 step 5: "last 1,048,576 characters" */
#define LOGIN_CODE_DIGITS	8

/*
 * Length of the whitespace character at s (n > 0 bytes), as Python's
 * str.isspace() sees it (what re's \s and str.strip() use): ASCII \t\n\v\f\r,
 * 0x1c-0x1f and space, and the UTF-8 of U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000. 0 when s does
 * not start with one.
 */
size_t ws_space_len(const char *s, size_t n);
/* True when s[0..n) has no character but whitespace (Python: not s.strip()). */
bool ws_text_blank(const char *s, size_t n);
/* s[0..n) without whitespace at both ends (Python's str.strip()): the
 * offset and length of what is left. */
void ws_text_strip(const char *s, size_t n, size_t *ret_off, size_t *ret_len);

/*
 * The console's RCON filter (§17.2), appended to out: split on "\n", drop
 * the lines that contain "[RCON Client" or "[RCON Listener", join with "\n",
 * then replace every "\n<whitespace>*\n" (Python's re.sub(r"\n\s*\n", "\n"))
 * with "\n". 0, -ENOMEM or -EMSGSIZE (out's maximum).
 */
int ws_rcon_filter(const char *s, size_t n, struct strbuf *out);

/*
 * Text as the console sends it: invalid UTF-8 is replaced with U+FFFD, one
 * per byte (as json_new_string_lossy() does). ws_lossy_tail() returns the
 * offset in s where its last max_chars such characters start (0 when there
 * are fewer); ws_json_append_string() appends s as a JSON string literal
 * (quotes included) with that replacement, so the result is valid UTF-8.
 */
size_t ws_lossy_tail(const char *s, size_t n, size_t max_chars);
int ws_json_append_string(struct strbuf *out, const char *s, size_t n);

/*
 * Append s to the console history h, which keeps at most max bytes: when it
 * would grow past max, whole lines are dropped from the front until 3/4 of
 * max is left. 0, -ENOMEM.
 */
int ws_history_append(struct strbuf *h, const char *s, size_t n, size_t max);

/* A login code: LOGIN_CODE_DIGITS decimal digits from the kernel CSPRNG,
 * uniform (rejection sampling), NUL-terminated. 0 or -errno. */
int login_code_generate(char ret[static LOGIN_CODE_DIGITS + 1]);

/* ---- logmsg.c: Docker's log stream with timestamps=1 ----------------------- */

/*
 * Called for the payload of each message, in pieces: start is true for the
 * first piece of a message, ts its time (ns since the epoch, UTC) or -1 when
 * it had none. A non-zero return stops the parser and is returned.
 */
typedef int (*logmsg_fn)(int64_t ts, bool start, const char *data, size_t len, void *userdata);

struct logmsg_parser {
	bool raw;		/* a TTY container: no framing */
	uint8_t hdr[8];		/* multiplexed: the frame header so far */
	size_t hdr_len;
	size_t frame_left;	/* payload bytes left in the frame */
	bool in_payload;	/* the frame's timestamp is behind us */
	int64_t ts;		/* the current message's time, or -1 */
	bool started;		/* its first piece went out */
	char pend[40];		/* a timestamp being collected, or (raw) maybe one */
	size_t pend_len;
};

void logmsg_parser_init(struct logmsg_parser *p, bool raw);
/* 0, cb's non-zero value, -EBADMSG (a malformed frame header), -ENOMEM. */
int logmsg_parser_feed(struct logmsg_parser *p, const char *data, size_t n, logmsg_fn cb,
    void *userdata);
/* The stream ended: pass on what is held back. */
int logmsg_parser_flush(struct logmsg_parser *p, logmsg_fn cb, void *userdata);
/* "2006-01-02T15:04:05.000000000Z " (or with an offset) → ns, or -1. */
int64_t logmsg_ts_parse(const char *s, size_t n);

/*
 * The times of the last `cap` messages sent: a message whose time is among
 * them was sent already (docker repeats lines around a rotation). Times
 * only decide when they are not newer than the newest, so a clock that
 * steps back loses nothing: only an exact repeat is dropped.
 */
struct logmsg_seen {
	int64_t *ring;
	size_t cap, n, pos;
	int64_t last;		/* the newest time seen, -1 before any */
};

int logmsg_seen_init(struct logmsg_seen *s, size_t cap);
void logmsg_seen_done(struct logmsg_seen *s);
/* true when ts was seen before; otherwise records it and returns false */
bool logmsg_seen_check(struct logmsg_seen *s, int64_t ts);

/* ---- sendq.c: shared frames and the bounded send queue -------------------- */

/* One encoded server frame, shared by every connection that sends it. */
struct wsframe {
	unsigned refs;
	size_t len;
	char *data;
};

/* Encode one unfragmented server frame. NULL on -ENOMEM/-EINVAL (errno set). */
struct wsframe *wsframe_new(enum ws_opcode op, const void *payload, size_t len);
/* A text frame of a JSON object (compact, UTF-8 kept); NULL on failure. */
struct wsframe *wsframe_json(json_object *obj);
/* A close frame (code WS_CLOSE_NO_STATUS: empty payload). */
struct wsframe *wsframe_close(int code, const char *reason);
/* Raw bytes (the HTTP answer to the upgrade request). */
struct wsframe *wsframe_raw(const void *data, size_t len);
struct wsframe *wsframe_ref(struct wsframe *f);
/* NULL-safe; returns NULL. */
struct wsframe *wsframe_unref(struct wsframe *f);

struct sendq_item {
	struct sendq_item *next;
	struct wsframe *f;
	bool droppable;
};

/*
 * What one connection still has to write. Frames are shared and
 * reference-counted, so a log chunk sent to a hundred consoles exists once.
 * `max` bounds the unwritten bytes; droppable frames (live log chunks) are
 * dropped to stay below it, the others may use up to `hard_max`.
 */
struct sendq {
	struct sendq_item *head, *tail;
	size_t off;		/* bytes of head->f already written */
	size_t bytes;		/* unwritten bytes in the queue */
	size_t max;
	size_t hard_max;
};

void sendq_init(struct sendq *q, size_t max, size_t hard_max);
void sendq_done(struct sendq *q);
bool sendq_empty(const struct sendq *q);
/* Whether len more bytes stay within max. */
bool sendq_fits(const struct sendq *q, size_t len);
/* Drop every droppable frame not yet partly written; returns the bytes dropped. */
size_t sendq_drop_droppable(struct sendq *q);
/* Queue f (takes a new reference): 0, -ENOBUFS (past hard_max), -ENOMEM. */
int sendq_append(struct sendq *q, struct wsframe *f, bool droppable);
/* Fill at most n iovecs with the unwritten bytes, in order; returns how many. */
int sendq_iov(const struct sendq *q, struct iovec *iov, int n);
/* n bytes were written. */
void sendq_consume(struct sendq *q, size_t n);

/* ---- jobs.c: blocking work off the event loop ------------------------------ */

/*
 * A unit of blocking work. run() is called on a worker thread and may only
 * touch the job itself and thread-safe objects (struct docker, struct
 * servers, the compose CLI); done() is then called on the event-loop thread,
 * where `owner` is NULL when whoever submitted the job is gone (it cleared
 * the pointer), and must free the job.
 */
struct job {
	void (*run)(struct job *j);
	void (*done)(struct job *j);
	void *owner;			/* event-loop thread only */
	struct job *next;		/* queue link, owned by jobs.c */
};

struct jobs;

/* Start n worker threads, results handed back through an eventfd on e.
 * 0, -errno. Signals must already be blocked (the threads inherit the mask). */
int jobs_new(sd_event *e, unsigned n, struct jobs **ret);
/* Queue j; 0 or -ESHUTDOWN after jobs_free() started. */
int jobs_submit(struct jobs *js, struct job *j);
/* Let the running jobs finish and join the threads; then done() of every
 * job, the queued ones unrun (their owners must have let go). NULL-safe;
 * returns NULL. */
struct jobs *jobs_free(struct jobs *js);

/* ---- the daemon and its connections --------------------------------------- */

struct conn;
struct feed;
struct console;
struct login;

/* What a WebSocket endpoint does with its connections (§17.1, §17.2). */
struct endpoint {
	const char *name;
	/*
	 * The upgrade request is valid and routed here: 0 to accept it, or an
	 * HTTP status (403, 404) to refuse it before the upgrade (§4.6); may set
	 * c->session. -errno is answered with 500.
	 */
	int (*accept)(struct conn *c, const struct ws_request *req);
	/* The 101 answer is queued: send the first messages. */
	void (*opened)(struct conn *c);
	/* A complete text or binary message. */
	void (*message)(struct conn *c, enum ws_opcode op, const char *data, size_t len);
	/* The connection is leaving the open state (closing or dead): release
	 * the session; nothing may be sent any more. Called exactly once. */
	void (*closed)(struct conn *c);
};

enum conn_state {
	CONN_HANDSHAKE,		/* reading the upgrade request */
	CONN_REFUSING,		/* an HTTP error answer is being written, then close */
	CONN_OPEN,
	CONN_CLOSING,		/* a close frame was queued: wait for the peer's, then close */
	CONN_DEAD,		/* waiting for the reaper to free it */
};

struct conn {
	struct wsd *d;
	WS_LIST_FIELDS(struct conn, conns);
	int fd;
	enum conn_state state;
	sd_event_source *io;
	sd_event_source *timer;		/* handshake timeout, keep-alive, close timeout */
	sd_event_source *reaper;	/* defer: frees a dead connection */
	struct ws_handshake *hs;
	struct ws_parser *parser;
	struct sendq q;
	bool want_write;		/* EPOLLOUT is on */
	bool close_received;
	bool close_after_flush;		/* shut down once q is empty */
	bool discard;			/* input is read and thrown away (after a bad frame) */
	bool shut_down;			/* shutdown(SHUT_WR) done */
	bool endpoint_closed;
	uint64_t dropped;		/* log bytes dropped, not yet announced */
	double tokens;			/* message rate limit (token bucket) */
	uint64_t tokens_at;		/* CLOCK_MONOTONIC usec */
	uint64_t last_rx;		/* last frame from the peer (keep-alive) */
	bool ping_sent;
	char peer[64];			/* X-Real-IP / X-Forwarded-For, for logs */
	const struct endpoint *ep;
	void *session;			/* the endpoint's */
};

/* Limits and timings, from the ws.* configuration keys. */
struct wsd_limits {
	size_t max_connections;		/* all sockets, any state */
	size_t max_login;		/* /api/auth/code sockets */
	size_t max_console_per_server;	/* console sockets of one server */
	size_t max_message;		/* inbound message (and frame) bytes */
	size_t send_queue;		/* outbound soft limit (hard: twice that) */
	unsigned rate;			/* inbound messages per second … */
	unsigned burst;			/* … with this burst */
	uint64_t handshake_timeout_usec;
	uint64_t ping_interval_usec;	/* 0: no keep-alive pings */
	uint64_t close_timeout_usec;	/* wait for the peer's close frame */
	uint64_t login_poll_usec;	/* verified login codes are looked for this often */
	uint64_t login_rotate_usec;	/* §17.1: 60 s */
	int64_t history_lines;		/* Docker "tail" when a feed starts */
	size_t history_bytes;		/* console history kept per container */
	int64_t command_timeout_ms;	/* compose exec mc-send-to-console */
};

struct wsd {
	sd_event *event;
	const struct config *cfg;
	struct auth *auth;
	struct db *db;			/* event-loop thread only */
	const struct docker *docker;	/* may be NULL: consoles answer with an error */
	const struct servers *servers;	/* may be NULL: likewise */
	struct jobs *jobs;
	struct wsd_limits lim;
	int listen_fd;			/* -1 when connections are only added (tests) */
	sd_event_source *listen_src;
	struct conn *conns;
	size_t n_conns;
	bool stopping;
	/* login codes */
	struct login *logins;
	size_t n_logins;
	sd_event_source *login_poll;
	/* consoles */
	struct console *consoles;
	struct feed *feeds;
	/* the compose CLI, detected by the first command (worker threads) */
	pthread_mutex_t cli_lock;
	bool cli_tried;
	struct compose_cli *cli;
	char rbuf[65536];		/* read buffer shared by all connections */
};

/* conn.c */
void wsd_limits_from_config(const struct config *cfg, struct wsd_limits *ret);
/* Accept connections from the listening socket fd (not taken over). */
int conn_listen(struct wsd *d, int fd);
/* Take over fd (a connected stream socket) as a new connection. 0 or -errno. */
int conn_new(struct wsd *d, int fd, struct conn **ret);
/* Queue a message; droppable frames are live log output (see struct sendq).
 * 0 (queued or dropped) or -errno (the connection is being failed). */
int conn_send(struct conn *c, struct wsframe *f, bool droppable);
/* Queue a JSON object as a text message (takes obj). */
int conn_send_json(struct conn *c, json_object *obj);
/* Start the close handshake with code and reason (an ASCII/UTF-8 reason of
 * at most WS_CLOSE_REASON_MAX bytes). NULL-safe for reason. */
void conn_close(struct conn *c, int code, const char *reason);
/* Drop the connection at once (no close frame); freed from a defer source. */
void conn_kill(struct conn *c);
/* Drop and free it now (wsd_free()). */
void conn_destroy(struct conn *c);
/* Close every connection with code (shutdown). */
void conn_close_all(struct wsd *d, int code, const char *reason);

/* login.c, console.c */
extern const struct endpoint login_endpoint;
extern const struct endpoint console_endpoint;

/* ---- feed.c: one Docker log stream per container, shared ------------------ */

enum feed_snapshot {
	FEED_SNAPSHOT_LOG = 1 << 0,		/* {"type":"log",…} (§17.2 step 5) */
	FEED_SNAPSHOT_REFRESH = 1 << 1,		/* {"type":"logs_refreshed",…} */
};

/*
 * A console session's subscription to the output of one container. The
 * feed writes the snapshot and the live log messages straight to conn.
 * lost() is called when the feed can no longer serve the session (after
 * which the subscription is already undone): -ENOENT when the container's
 * log is gone (§17.2 "控制台日志未找到"), another -errno with a message for
 * "Connection error: …" when the first snapshot could not be read.
 */
struct feed_sub {
	struct feed *feed;
	WS_LIST_FIELDS(struct feed_sub, subs);
	struct conn *conn;
	bool filter_rcon;
	unsigned want;			/* FEED_SNAPSHOT_* not yet sent */
	void (*lost)(struct feed_sub *sub, int error, const char *message);
};

/* Subscribe to the container's feed (started on first use). The initial
 * FEED_SNAPSHOT_LOG is sent as soon as the feed has read the backlog. */
int feed_subscribe(struct wsd *d, struct feed_sub *sub, const char *container_id, bool tty);
/* Send (or schedule) a snapshot of kind with the current filter. */
void feed_snapshot(struct feed_sub *sub, enum feed_snapshot kind);
/* NULL-safe on an unsubscribed sub. The feed stops with its last subscriber. */
void feed_unsubscribe(struct feed_sub *sub);
void feed_free_all(struct wsd *d);

/*
 * The snapshot message for history text (§17.2 step 5), as a JSON object:
 * the last CONSOLE_SNAPSHOT_CHARS characters after the RCON filter as
 * {"type":type,"content":…}, or {"type":"info","content":"暂无最近日志"}
 * when that has nothing but whitespace. Pure; NULL on ENOMEM.
 */
struct wsframe *feed_snapshot_frame(const char *hist, size_t n, bool filter_rcon,
    const char *type);
/* A live chunk as {"type":"log","content":…}, or NULL (errno 0) when the
 * chunk, or what the filter leaves of it, is blank. */
struct wsframe *feed_chunk_frame(const char *s, size_t n, bool filter_rcon);

/* login.c */
void login_stop_all(struct wsd *d);
