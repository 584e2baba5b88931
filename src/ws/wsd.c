/* SPDX-License-Identifier: MIT */
/* The daemon object: what main() builds and tears down (ws.h). */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "db/db.h"
#include "outbound/compose-cli.h"
#include "ws/ws-internal.h"

#define WORKERS_DEFAULT 4

int
wsd_new(sd_event *e, const struct wsd_params *p, int listen_fd, struct wsd **ret)
{
	struct wsd *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->event = sd_event_ref(e);
	d->cfg = p->cfg;
	d->auth = p->auth;
	d->db = p->db;
	d->docker = p->docker;
	d->servers = p->servers;
	d->listen_fd = -1;
	pthread_mutex_init(&d->cli_lock, NULL);
	wsd_limits_from_config(p->cfg, &d->lim);

	/* the sockets of an earlier run are gone, and so are their codes */
	r = db_login_code_clear(d->db);
	if (r < 0) {
		log_error_errno(r, "cannot clear the login codes of an earlier run: %m");
		goto fail;
	}
	r = jobs_new(e, p->workers ? p->workers : WORKERS_DEFAULT, &d->jobs);
	if (r < 0) {
		log_error_errno(r, "cannot start the worker threads: %m");
		goto fail;
	}
	if (listen_fd >= 0) {
		r = conn_listen(d, listen_fd);
		if (r < 0) {
			log_error_errno(r, "cannot watch the listening socket: %m");
			goto fail;
		}
	}
	*ret = d;
	return 0;
fail:
	wsd_free(d);
	return r;
}

size_t
wsd_connections(const struct wsd *d)
{
	return d->n_conns;
}

static int
on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct wsd *d = userdata;

	(void)usec;
	(void)s;	/* floating: the loop owns it */
	log_notice("%zu connections did not close in time, dropping them", d->n_conns);
	return sd_event_exit(d->event, 0);
}

void
wsd_stop(struct wsd *d, uint64_t timeout_usec)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->listen_src = sd_event_source_disable_unref(d->listen_src);
	/* 1012: the frontend reconnects, as after the reference's restarts */
	conn_close_all(d, WS_CLOSE_SERVICE_RESTART, "service restart");
	if (d->n_conns == 0) {
		(void)sd_event_exit(d->event, 0);
		return;
	}
	if (sd_event_add_time_relative(d->event, NULL, CLOCK_MONOTONIC, timeout_usec, 0,
	    on_stop_timeout, d) < 0)
		(void)sd_event_exit(d->event, 0);
}

struct wsd *
wsd_free(struct wsd *d)
{
	if (!d)
		return NULL;
	d->stopping = false;	/* no sd_event_exit() from conn_free() any more */
	d->listen_src = sd_event_source_disable_unref(d->listen_src);
	/* sessions first (that disowns their jobs), then the workers, whose
	 * jobs may still be running, then the connections' memory */
	for (struct conn *c = d->conns; c; c = c->conns.next)
		conn_kill(c);
	d->jobs = jobs_free(d->jobs);
	while (d->conns)
		conn_destroy(d->conns);
	feed_free_all(d);
	login_stop_all(d);
	compose_cli_free(d->cli);
	pthread_mutex_destroy(&d->cli_lock);
	sd_event_unref(d->event);
	free(d);
	return NULL;
}
