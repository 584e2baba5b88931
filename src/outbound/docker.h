/* SPDX-License-Identifier: MIT */
/*
 * docker: a read-only client for the Docker Engine API over the daemon's
 * unix socket (libcurl). It answers "does mc-<id> exist, is it running,
 * its health, id and main PID" (API-core §11.4, §11.6), lists every mc-*
 * container in one call, and streams a container's output (§17.2).
 * Lifecycle changes go through the compose CLI (compose-cli.h), never here.
 *
 * API version: pinned to v1.41 (docker 20.10, Debian 12's docker.io).
 * Every later daemon still serves 1.41, and pinning keeps the JSON shapes
 * stable; docker_ping() refuses a daemon older than that.
 *
 * Threads: a struct docker is immutable after docker_new() and may be
 * shared by any number of threads. Every call builds its own curl easy
 * handle (a log reader its own multi handle too) and no handle is ever
 * shared, so nothing needs a lock. A request over the local socket costs
 * well under a millisecond; connection reuse (CURLSH) is not worth its
 * locking here. docker_global_init() must have been called (main) before
 * the first thread uses this module. Sockets are opened with SOCK_CLOEXEC.
 *
 * Errors (-errno), the same for every call:
 *   -EHOSTDOWN   docker unreachable: socket missing, refused or not
 *                permitted (the API maps it to 503 "Docker is not reachable")
 *   -ETIMEDOUT   the daemon did not answer in time
 *   -ENOENT      HTTP 404: no such container
 *   -EIO         any other HTTP error or transfer failure; the daemon's
 *                "message" is in ret_error for the log
 *   -EBADMSG     the daemon's answer could not be understood
 *   -EMSGSIZE    the answer was larger than max_response
 *   -EINVAL      bad argument (e.g. a container name docker would refuse)
 *   -ENOMEM
 * Every function taking a struct docker_error * accepts NULL there; when
 * given, it is always reset and filled on failure. This module does not log.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DOCKER_SOCKET_DEFAULT		"/var/run/docker.sock"
#define DOCKER_API_VERSION		"1.41"
#define DOCKER_TIMEOUT_MS_DEFAULT	10000
#define DOCKER_CONNECT_TIMEOUT_MS_DEFAULT 2000
#define DOCKER_MAX_RESPONSE_DEFAULT	(16 * 1024 * 1024)
#define DOCKER_ID_LEN			64	/* hex digits of a full container id */
#define DOCKER_NAME_MAX			128	/* longest container name we accept */

enum docker_state {
	DOCKER_STATE_UNKNOWN,		/* a word this client does not know */
	DOCKER_STATE_CREATED,
	DOCKER_STATE_RUNNING,
	DOCKER_STATE_PAUSED,
	DOCKER_STATE_RESTARTING,
	DOCKER_STATE_REMOVING,
	DOCKER_STATE_EXITED,
	DOCKER_STATE_DEAD,
	DOCKER_STATE_MAX,
};

enum docker_health {
	DOCKER_HEALTH_NONE,		/* no healthcheck, or the container is not running */
	DOCKER_HEALTH_STARTING,
	DOCKER_HEALTH_HEALTHY,
	DOCKER_HEALTH_UNHEALTHY,
	DOCKER_HEALTH_MAX,
};

enum docker_stream {
	DOCKER_STREAM_STDOUT,		/* also the whole output of a TTY container */
	DOCKER_STREAM_STDERR,
	DOCKER_STREAM_MAX,
};

struct docker_config {
	const char *socket_path;	/* NULL = DOCKER_SOCKET_DEFAULT */
	int64_t timeout_ms;		/* whole request; 0 = DOCKER_TIMEOUT_MS_DEFAULT */
	int64_t connect_timeout_ms;	/* 0 = DOCKER_CONNECT_TIMEOUT_MS_DEFAULT */
	size_t max_response;		/* 0 = DOCKER_MAX_RESPONSE_DEFAULT */
};

struct docker_error {
	long http_status;		/* 0 when there was no HTTP answer */
	char message[256];		/* daemon's "message" or curl's error text */
};

/*
 * One container. Fields marked (inspect) are only known from
 * docker_container_inspect(); from a list they are zero/false and
 * `inspected` is false.
 */
struct docker_container {
	char id[DOCKER_ID_LEN + 1];	/* full id, 64 lower-case hex digits */
	char *name;			/* without docker's leading '/' */
	char *image;			/* as configured (Config.Image / Image) */
	enum docker_state state;
	/* Health only while running: docker shows none for other states. From a
	 * list it is read from the Status text ("Up 5 s (health: starting)"). */
	enum docker_health health;
	bool inspected;
	pid_t pid;			/* (inspect) host PID of the main process, or 0 */
	bool tty;			/* (inspect) Config.Tty: logs are a raw stream */
	int exit_code;			/* (inspect) last exit code */
	int64_t started_at_usec;	/* (inspect) 0 when it never started */
	/* compose labels (com.docker.compose.*), NULL when absent */
	char *compose_project;
	char *compose_service;
	char *compose_working_dir;
};

struct docker_container_list {
	struct docker_container *items;
	size_t n;
};

struct docker;

/* "running", "exited", …; docker_state_from_string() gives UNKNOWN for other words. */
const char *docker_state_to_string(enum docker_state s);
enum docker_state docker_state_from_string(const char *s);
/* "none", "starting", "healthy", "unhealthy" */
const char *docker_health_to_string(enum docker_health h);

/*
 * 0 when name is a container name docker accepts: [A-Za-z0-9][A-Za-z0-9_.-]*,
 * at most DOCKER_NAME_MAX bytes; -EINVAL otherwise. Names are checked before
 * they go into a URL, so "../x" or "a?b" can never reach another endpoint.
 */
int docker_name_check(const char *name);

/*
 * libcurl's process-wide set-up (curl_global_init) and tear-down, so that
 * main() need not include curl/curl.h. Call once in main() before any
 * thread starts, and the cleanup after the last one ended. 0 or -EIO.
 */
int docker_global_init(void);
void docker_global_cleanup(void);

/* Build a client. Nothing is contacted yet. 0, -EINVAL or -ENOMEM. */
int docker_new(const struct docker_config *cfg, struct docker **ret);
/* NULL-safe; returns NULL. */
struct docker *docker_free(struct docker *d);

/*
 * GET /_ping, for the start-up check. 0 when the daemon answers and speaks
 * API >= DOCKER_API_VERSION; -EPROTONOSUPPORT when it is older (its version
 * is in ret_error->message); else the errors above.
 */
int docker_ping(const struct docker *d, struct docker_error *ret_error);

/*
 * Inspect one container by name (e.g. "mc-<server id>") or id.
 * On success fills *ret (release with docker_container_done()).
 * -ENOENT when there is no such container; -EINVAL for a bad name.
 */
int docker_container_inspect(const struct docker *d, const char *name,
    struct docker_container *ret, struct docker_error *ret_error);

/*
 * Every container (all states) whose name starts with name_prefix (e.g.
 * "mc-"), in one GET /containers/json?all=1&filters={"name":[…]} call: no
 * per-container inspect, so pid/tty/exit code are not known (inspect the
 * one container that needs them) and health comes from the Status text.
 * The daemon's name filter is a regular expression; the prefix is escaped
 * and every answer is checked against the prefix again here.
 * On success fills *ret (release with docker_container_list_done()); the
 * order is the daemon's (newest first).
 */
int docker_container_list(const struct docker *d, const char *name_prefix,
    struct docker_container_list *ret, struct docker_error *ret_error);

/* NULL-safe, idempotent; the struct is zeroed. */
void docker_container_done(struct docker_container *c);
void docker_container_list_done(struct docker_container_list *l);

/*
 * ---- Container output (GET /containers/{id}/logs) ----
 *
 * The callback gets the output in chunks as they arrive: not split into
 * lines, a line may span chunks; TTY output keeps its "\r\n". Return 0 to
 * go on, or any other value to stop the stream; a positive value is then
 * what the reader returns, a negative one is treated as an error.
 */
typedef int (*docker_log_fn)(enum docker_stream stream, const char *data, size_t len,
    void *userdata);

struct docker_logs_options {
	bool follow;		/* keep streaming until the container stops */
	bool timestamps;	/* each line prefixed with its RFC 3339 time */
	int64_t tail;		/* last N lines; < 0 = all */
	int64_t since_usec;	/* only output since this time; 0 = from the start */
	bool tty;		/* the container's Config.Tty (docker_container.tty):
				 * raw stream instead of the multiplexed format */
};

/*
 * The multiplexed stream decoder (for containers without a TTY): frames of
 * an 8-byte header {stream, 0, 0, 0, big-endian u32 length} and payload.
 * Pure code, usable on its own. Payloads are passed on as they arrive,
 * never buffered, so a frame of any size costs no memory. In raw mode
 * (tty) every byte is stdout.
 */
struct docker_log_decoder {
	bool raw;
	uint8_t hdr[8];
	size_t hdr_len;
	uint32_t remaining;	/* payload bytes left in the current frame */
	enum docker_stream stream;
};

void docker_log_decoder_init(struct docker_log_decoder *dec, bool tty);
/* 0; the callback's non-zero value; or -EBADMSG for a malformed header. */
int docker_log_decoder_feed(struct docker_log_decoder *dec, const void *data, size_t len,
    docker_log_fn cb, void *userdata);
/* true when the input ended in the middle of a frame */
bool docker_log_decoder_partial(const struct docker_log_decoder *dec);

/*
 * Blocking reader: stream the output of container `name` to cb until the
 * stream ends (the container stopped, or !follow and everything was sent),
 * cb stops it, timeout_ms passes (0 = never), or *cancel (may be NULL)
 * becomes true; *cancel is looked at least every 100 ms.
 * Returns 0 at the end of the stream, cb's positive stop value, -ETIMEDOUT,
 * -ECANCELED, -ENOENT (no such container), or the errors above.
 * It runs the event-loop interface below with poll(), so both are the same code.
 */
int docker_logs_read(const struct docker *d, const char *name,
    const struct docker_logs_options *opts, docker_log_fn cb, void *userdata,
    int64_t timeout_ms, const atomic_bool *cancel, struct docker_error *ret_error);

/*
 * Event-loop interface (sd-event or anything with fd and timer sources),
 * the curl "multi_socket" model without a thread:
 *
 *   docker_logs_open() asks the loop, through `loop`, to watch fds and to
 *   arm one timer. The loop calls docker_logs_on_io() when a watched fd is
 *   ready and docker_logs_on_timer() when the timer fires. Both return 0
 *   while the stream is live, 1 when it has finished (see
 *   docker_logs_result()), or -errno if it failed. Then the loop calls
 *   docker_logs_close().
 *
 * The loop callbacks are called from inside docker_logs_open(),
 * docker_logs_on_*() and docker_logs_close() (which removes every watch), and
 * must not call back into this object. sd-event mapping: watch → add/modify/
 * unref an io source (EPOLLIN/EPOLLOUT), timer → a CLOCK_MONOTONIC source
 * one-shot (0 = "now"), -1 → disable it.
 */
enum {
	DOCKER_IO_IN = 1 << 0,
	DOCKER_IO_OUT = 1 << 1,
	DOCKER_IO_ERR = 1 << 2,		/* only in revents */
};

struct docker_logs_loop {
	/* watch fd for events (DOCKER_IO_IN|OUT); events == 0: stop watching it.
	 * A negative return fails the stream. */
	int (*watch)(int fd, unsigned events, void *loop_data);
	/* call docker_logs_on_timer() after timeout_ms (0 = soon); -1 = disarm */
	int (*timer)(int64_t timeout_ms, void *loop_data);
	void *loop_data;
};

struct docker_logs;

/*
 * Start streaming (nothing is sent until the loop runs the timer). The
 * object owns a copy of what it needs; d, name and opts may go away after.
 * Returns 0 and *ret, -EINVAL, -ENOMEM.
 */
int docker_logs_open(const struct docker *d, const char *name,
    const struct docker_logs_options *opts, docker_log_fn cb, void *userdata,
    const struct docker_logs_loop *loop, struct docker_logs **ret);
int docker_logs_on_io(struct docker_logs *l, int fd, unsigned revents);
int docker_logs_on_timer(struct docker_logs *l);
/* After a 1 from on_*(): 0 at the end of the stream, or cb's positive value;
 * after a failure its -errno; -EINPROGRESS while the stream is live. */
int docker_logs_result(const struct docker_logs *l);
/* Error detail of a failed or finished stream (HTTP status, daemon message). */
const struct docker_error *docker_logs_error(const struct docker_logs *l);
/* Stop (if still live) and free; NULL-safe; returns NULL. */
struct docker_logs *docker_logs_close(struct docker_logs *l);
