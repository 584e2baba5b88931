/* SPDX-License-Identifier: MIT */
/*
 * mc-admin-ws: the WebSocket daemon (login codes and server consoles).
 *
 * The listening socket comes from systemd (mc-admin-ws.socket, one stream
 * socket) or, for development, from --listen PATH. One sd-event loop serves
 * every connection; Type=notify readiness and the watchdog go through
 * sd-event/sd_notify. SIGTERM closes every WebSocket with 1012 (service
 * restart) and exits once they are gone (at most STOP_TIMEOUT later).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "auth/auth.h"
#include "common/log.h"
#include "common/socket.h"
#include "common/util.h"
#include "config/conf.h"
#include "db/db.h"
#include "outbound/docker.h"
#include "servers/servers.h"
#include "ws/ws.h"

#define STOP_TIMEOUT_USEC (5ULL * 1000000ULL)

extern char **environ;

/* The daemon's state: the only mutable globals are here, in main.c. */
struct main_state {
	struct config *cfg;
	struct auth *auth;
	struct db *db;
	struct docker *docker;
	struct servers *servers;
	sd_event *event;
	struct wsd *wsd;
	int listen_fd;
	const char *listen_path;	/* ours to unlink, --listen only */
};

static int
on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct main_state *m = userdata;

	(void)s;
	(void)si;
	(void)sd_notify(0, "STOPPING=1\nSTATUS=closing connections");
	log_info("stopping: closing %zu connections", wsd_connections(m->wsd));
	wsd_stop(m->wsd, STOP_TIMEOUT_USEC);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: mc-admin-ws [--listen PATH] [--config FILE]\n"
	    "\n"
	    "WebSocket daemon of mc-admin: login codes (/api/auth/code) and server\n"
	    "consoles (/api/servers/{id}/console), behind nginx. Under systemd the\n"
	    "socket comes from socket activation; --listen creates a unix socket for\n"
	    "development.\n"
	    "\n"
	    "  -l, --listen PATH    listen on this unix socket (development)\n"
	    "  -c, --config FILE    configuration file (default: $MC_ADMIN_CONFIG or\n"
	    "                       /etc/mc-admin/config.yaml)\n"
	    "  -h, --help           this text\n"
	    "      --version        print the version\n");
}

static int
setup(struct main_state *m)
{
	const struct config *cfg = m->cfg;
	int n, r;

	r = db_open(cfg->database_path, &m->db);
	if (r == -EPROTO)
		return log_error_errno(r, "database '%s' has a newer schema than this program "
		    "knows (%d); upgrade mc-admin", cfg->database_path, db_schema_version_known());
	if (r == -ESTALE)
		return log_error_errno(r, "database '%s' needs migrating: run 'mc-admin db "
		    "migrate'", cfg->database_path);
	if (r < 0)
		return log_error_errno(r, "cannot open database '%s': %m", cfg->database_path);

	r = auth_new(cfg->jwt.secret_key, cfg->jwt.algorithm, cfg->jwt.access_token_expire_minutes,
	    cfg->master_token, &m->auth);
	if (r < 0)
		return log_error_errno(r, "cannot set up authentication: %m");

	/* docker being down is not fatal: consoles answer "Connection error" until it is up */
	r = docker_new(&(struct docker_config){
		.socket_path = cfg->docker.socket,
		.timeout_ms = cfg->docker.api_timeout_ms,
	}, &m->docker);
	if (r < 0)
		return log_error_errno(r, "cannot set up the docker client for '%s': %m",
		    cfg->docker.socket);
	r = servers_new(&(struct servers_config){
		.server_path = cfg->server_path,
		.docker = m->docker,
		.command_timeout_ms = cfg->docker.command_timeout_seconds * 1000,
	}, &m->servers);
	if (r < 0)
		return log_error_errno(r, "cannot set up server lookups: %m");

	n = sd_listen_fds(1);
	if (n > 1)
		return log_error_errno(-EINVAL, "expected one socket from systemd, got %d", n);
	if (n == 1)
		m->listen_fd = SD_LISTEN_FDS_START;
	else if (m->listen_path) {
		m->listen_fd = socket_listen_unix(m->listen_path);
		if (m->listen_fd < 0)
			return log_error_errno(m->listen_fd, "cannot listen on '%s': %m",
			    m->listen_path);
	} else
		return log_error_errno(-EINVAL, "no socket: start through mc-admin-ws.socket or "
		    "pass --listen PATH");
	if (fcntl(m->listen_fd, F_SETFL, fcntl(m->listen_fd, F_GETFL) | O_NONBLOCK) < 0)
		return log_error_errno(errno, "cannot make the socket non-blocking: %m");
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct main_state m = { .listen_fd = -1 };
	const char *config_path = NULL;
	_cleanup_free_ char *cfg_error = NULL;
	sigset_t mask;
	int c, r, activated = 0, ret = EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "l:c:h", opts, NULL)) >= 0)
		switch (c) {
		case 'l':
			m.listen_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			puts(PACKAGE_STRING);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	if (optind < argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}

	log_setup("mc-admin-ws", LOG_INFO);
	(void)signal(SIGPIPE, SIG_IGN);
	/*
	 * Memory stays proportional to the connections: big buffers (snapshots)
	 * are mmap()ed and given back when freed, and the worker threads share
	 * the arenas instead of growing one each.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	(void)mallopt(M_ARENA_MAX, 2);
	if (docker_global_init() < 0) {
		log_error("cannot initialise libcurl");
		return EXIT_FAILURE;
	}

	r = config_load(config_path, environ, &m.cfg, &cfg_error);
	if (r < 0) {
		log_error("configuration: %s", cfg_error ? cfg_error : strerror(-r));
		goto out;
	}
	r = setup(&m);
	if (r < 0)
		goto out;
	activated = r == 1;

	/* before any thread exists: the workers inherit the blocked mask */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (r = sd_event_default(&m.event)) < 0 ||
	    (r = sd_event_add_signal(m.event, NULL, SIGTERM, on_signal, &m)) < 0 ||
	    (r = sd_event_add_signal(m.event, NULL, SIGINT, on_signal, &m)) < 0 ||
	    (r = sd_event_set_watchdog(m.event, true)) < 0) {
		log_error_errno(r, "cannot set up the event loop: %m");
		goto out;
	}
	r = wsd_new(m.event, &(struct wsd_params){
		.cfg = m.cfg,
		.auth = m.auth,
		.db = m.db,
		.docker = m.docker,
		.servers = m.servers,
		.workers = (unsigned)m.cfg->ws.workers,
	}, m.listen_fd, &m.wsd);
	if (r < 0)
		goto out;

	(void)sd_notify(0, "READY=1\nSTATUS=serving WebSockets");
	log_info("serving WebSockets (%s)", activated ? "socket activation" : m.listen_path);
	r = sd_event_loop(m.event);
	if (r < 0) {
		log_error_errno(r, "event loop failed: %m");
		goto out;
	}
	ret = EXIT_SUCCESS;
out:
	m.wsd = wsd_free(m.wsd);
	m.event = sd_event_unref(m.event);
	if (!activated && m.listen_fd >= 0) {
		(void)close(m.listen_fd);
		if (m.listen_path)
			(void)unlink(m.listen_path);
	}
	m.servers = servers_free(m.servers);
	m.docker = docker_free(m.docker);
	m.auth = auth_free(m.auth);
	m.db = db_close(m.db);
	config_free(m.cfg);
	docker_global_cleanup();
	return ret;
}
