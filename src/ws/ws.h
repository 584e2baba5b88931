/* SPDX-License-Identifier: MIT */
/*
 * mc-admin-ws: the WebSocket daemon behind nginx (API-core §4.6, §7.3,
 * §12.13, §17). One sd-event loop serves every connection: the login-code
 * channel (/api/auth/code) and the server consoles
 * (/api/servers/{id}/console). Blocking work (Docker inspect, the compose
 * CLI) runs on a few worker threads; see ws-internal.h for the pieces.
 */
#pragma once

#include <systemd/sd-event.h>

struct auth;
struct config;
struct db;
struct docker;
struct servers;
struct wsd;

/* What the daemon works with, built by main() (all borrowed: they must
 * outlive the daemon). */
struct wsd_params {
	const struct config *cfg;	/* limits: the ws.* keys; compose: docker.* */
	struct auth *auth;		/* console tokens, the JWTs of verified codes */
	struct db *db;			/* login_code and user rows (loop thread only) */
	const struct docker *docker;	/* NULL: consoles answer "Connection error" */
	const struct servers *servers;	/* NULL: likewise */
	unsigned workers;		/* threads for blocking work; 0 = 4 */
};

/*
 * Build the daemon on event loop e. listen_fd (a listening stream socket,
 * non-blocking, still owned by the caller) may be -1: connections are then
 * only added by tests. Clears the login_code table (the sockets of an
 * earlier run are gone). Signals must be blocked already (worker threads
 * inherit the mask). 0, -errno.
 */
int wsd_new(sd_event *e, const struct wsd_params *p, int listen_fd, struct wsd **ret);

/*
 * Graceful stop: accept nothing more, close every WebSocket with 1012
 * (service restart: the frontend reconnects, as it does with the
 * reference's uvicorn) and drop half-open ones; sd_event_exit(e, 0) once the
 * last connection is gone or after timeout_usec.
 */
void wsd_stop(struct wsd *d, uint64_t timeout_usec);

/* Number of open connections (any state). */
size_t wsd_connections(const struct wsd *d);

/* Close everything at once and free; NULL-safe; returns NULL. */
struct wsd *wsd_free(struct wsd *d);
