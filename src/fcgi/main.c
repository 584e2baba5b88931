/* SPDX-License-Identifier: MIT */
/*
 * mc-admin-api: the FastCGI worker pool behind nginx.
 *
 * The listening socket comes from systemd (socket activation, fd 3) or, for
 * development, from --listen PATH. N worker threads take turns accepting
 * (one at a time, under a mutex, polling the socket and a stop eventfd), and
 * each owns one SQLite connection. SIGTERM stops accepting, lets in-flight
 * requests finish, then exits.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api/api.h"
#include "common/log.h"
#include "common/socket.h"
#include "common/util.h"
#include "monitor/monitor.h"
#include "outbound/compose-cli.h"
#include "outbound/docker.h"
#include "servers/servers.h"

#define DRAIN_MAX (16 * 1024 * 1024)	/* unread body bytes swallowed after an early answer */
#define KEPT_IDLE_MS 2000		/* a kept connection idle this long is closed */

extern char **environ;

/* Process-wide state: the only mutable globals live here, in main.c. */
struct server {
	struct app app;
	int listen_fd;
	int stop_fd;			/* eventfd, readable once stopping */
	pthread_mutex_t accept_lock;
	volatile int stopping;
	unsigned n_workers;
	pthread_t *workers;
	/* the Minecraft servers (issue #3); app.servers borrows them */
	struct docker *docker;
	struct compose_cli *compose;
	struct monitor_sampler *sampler;
};

static ssize_t
fcgi_read(void *userdata, void *buf, size_t n)
{
	FCGX_Request *req = userdata;
	int l = FCGX_GetStr(buf, n > INT32_MAX ? INT32_MAX : (int)n, req->in);

	if (l < 0)
		return -EIO;
	return l;
}

static void
fcgi_respond(FCGX_Request *req, const struct resp *rs)
{
	struct strbuf head = STRBUF_INIT;

	if (resp_serialize_head(rs, &head) < 0) {
		strbuf_free(&head);
		return;
	}
	(void)FCGX_PutStr(head.buf, (int)head.len, req->out);
	if (!rs->head_only && rs->body.len > 0)
		(void)FCGX_PutStr(rs->body.buf, (int)rs->body.len, req->out);
	strbuf_free(&head);
}

static void
serve_one(struct server *s, struct worker *w, FCGX_Request *req)
{
	struct req rq = { .env = req->envp, .read = fcgi_read, .read_userdata = req };
	struct resp rs;
	char scratch[16384];
	size_t drained = 0;
	int l;

	resp_init(&rs);
	(void)api_handle(&s->app, w, &rq, &rs);
	/* swallow what the handler did not read, so nginx is not cut off mid-body */
	if (!rq.body_loaded)
		while (drained < DRAIN_MAX &&
		    (l = FCGX_GetStr(scratch, sizeof(scratch), req->in)) > 0)
			drained += (size_t)l;
	fcgi_respond(req, &rs);
	req_done(&rq);
	resp_done(&rs);
}

/*
 * Wait for the next request.
 *
 * A connection nginx keeps open (fastcgi_keep_conn) stays with this worker,
 * which waits on it without the accept lock. An idle kept connection is
 * closed after KEPT_IDLE_MS so that idle connections never hold workers for
 * long (nginx drops a closed idle connection from its pool, and retries a
 * request on a fresh one if it raced with the close). The nginx site keeps
 * keepalive × worker_processes below api.workers so this stays rare.
 *
 * Returns 0 with a request, -1 to stop.
 */
static int
accept_one(struct server *s, FCGX_Request *req)
{
	int r;

	while (!s->stopping && req->ipcFd >= 0) {
		struct pollfd p[2] = {
			{ .fd = req->ipcFd, .events = POLLIN },
			{ .fd = s->stop_fd, .events = POLLIN },
		};

		r = poll(p, 2, KEPT_IDLE_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (p[1].revents)
			return -1;
		if (r == 0) {
			FCGX_Free(req, 1);	/* idle: close it */
			break;
		}
		/* the next request on the kept connection, or EOF (then ipcFd < 0) */
		if (FCGX_Accept_r(req) == 0)
			return 0;
	}

	r = -1;
	pthread_mutex_lock(&s->accept_lock);
	while (!s->stopping) {
		struct pollfd p[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->stop_fd, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(errno, "poll failed: %m");
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		r = FCGX_Accept_r(req);
		if (r == 0)
			break;
		if (r != -EAGAIN && r != -EWOULDBLOCK && r != -EINTR && r != -ECONNABORTED)
			log_warning_errno(r, "accept failed: %m, ignoring");
		r = -1;
	}
	pthread_mutex_unlock(&s->accept_lock);
	return r;
}

static void *
worker_main(void *userdata)
{
	struct server *s = userdata;
	struct worker w = { 0 };
	FCGX_Request req;
	int r;

	r = db_open(s->app.cfg->database_path, &w.db);
	if (r < 0) {
		log_error_errno(r, "worker cannot open the database: %m");
		return NULL;
	}
	if (auth_cache_new(&w.tokens) < 0 || FCGX_InitRequest(&req, s->listen_fd, 0) != 0) {
		log_error("cannot initialise a worker");
		db_close(w.db);
		auth_cache_free(w.tokens);
		return NULL;
	}
	while (accept_one(s, &req) == 0) {
		serve_one(s, &w, &req);
		FCGX_Finish_r(&req);	/* keeps the connection when nginx asked for it */
	}
	FCGX_Free(&req, 1);
	db_close(w.db);
	auth_cache_free(w.tokens);
	return NULL;
}

/*
 * Docker: the Engine API client, the compose command (detected once) and
 * the container CPU sampler. Docker being down or compose missing is not
 * fatal: status answers 503 and lifecycle calls 503 until it is fixed
 * (compose is only detected here, so installing it needs a restart).
 */
static int
servers_setup(struct server *s, const struct config *cfg)
{
	struct docker_config dc = {
		.socket_path = cfg->docker.socket,
		.timeout_ms = cfg->docker.api_timeout_ms,
	};
	const char *home = getenv("HOME");
	_cleanup_free_ char *docker_host = NULL;
	struct compose_cli_config cc = {
		.command = cfg->docker.compose_command,
		.docker = cfg->docker.binary,
		.home = home && home[0] == '/' ? home : "/",
	};
	struct monitor_sampler_config mc = {
		.proc_root = s->app.proc_root,
		.cgroup_root = cfg->cgroup_path,
	};
	int r;

	r = docker_new(&dc, &s->docker);
	if (r < 0)
		return log_error_errno(r, "cannot set up the docker client for '%s': %m",
		    cfg->docker.socket);
	r = docker_ping(s->docker, /* ret_error= */ NULL);
	if (r < 0)
		log_warning_errno(r, "docker at '%s' does not answer (%m): server status will "
		    "answer 503 until it does, ignoring", cfg->docker.socket);

	/* the CLI talks to the same daemon as the API client */
	if (asprintf(&docker_host, "unix://%s", cfg->docker.socket) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	cc.docker_host = docker_host;
	r = compose_cli_detect(&cc, &s->compose);
	if (r == -ENOMEM)
		return log_error_errno(-ENOMEM, "out of memory");
	if (r < 0)
		log_warning_errno(r, "no docker compose command found%s%s%s: server lifecycle "
		    "operations will answer 503, ignoring", *cfg->docker.compose_command ?
		    " (configured: '" : "", cfg->docker.compose_command,
		    *cfg->docker.compose_command ? "')" : "");
	else
		log_info("docker compose: %s (%s)", compose_cli_command(s->compose),
		    compose_cli_version(s->compose));

	r = monitor_sampler_start(&mc, &s->sampler);
	if (r < 0)
		return log_error_errno(r, "cannot start the container CPU sampler: %m");

	r = servers_new(&(struct servers_config){
		.server_path = cfg->server_path,
		.proc_root = s->app.proc_root,
		.cgroup_root = cfg->cgroup_path,
		.docker = s->docker,
		.cli = s->compose,
		.sampler = s->sampler,
		.command_timeout_ms = cfg->docker.command_timeout_seconds * 1000,
		.rcon_timeout_ms = cfg->rcon.timeout_seconds * 1000,
	}, &s->app.servers);
	if (r < 0)
		return log_error_errno(r, "cannot set up server management: %m");
	return 0;
}

static void
servers_teardown(struct server *s)
{
	s->app.servers = servers_free(s->app.servers);
	s->sampler = monitor_sampler_stop(s->sampler);
	s->compose = compose_cli_free(s->compose);
	s->docker = docker_free(s->docker);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: mc-admin-api [--listen PATH] [--config FILE] [--workers N]\n"
	    "\n"
	    "FastCGI API server for mc-admin. Under systemd the socket comes from\n"
	    "socket activation; --listen creates a unix socket for development.\n"
	    "\n"
	    "  -l, --listen PATH    listen on this unix socket (development)\n"
	    "  -c, --config FILE    configuration file (default: $MC_ADMIN_CONFIG or\n"
	    "                       /etc/mc-admin/config.yaml)\n"
	    "  -w, --workers N      worker threads (default: api.workers, 64)\n"
	    "  -h, --help           this text\n"
	    "      --version        print the version\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_path = NULL, *config_path = NULL;
	_cleanup_free_ char *cfg_error = NULL;
	struct config *cfg = NULL;
	struct server s = { .listen_fd = -1, .stop_fd = -1 };
	struct db *probe = NULL;
	int64_t workers = 0;
	sigset_t mask;
	int c, r, n = 0, sig, ret = EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "l:c:w:h", opts, NULL)) >= 0)
		switch (c) {
		case 'l':
			listen_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'w':
			if (parse_int64(optarg, 1, 1024, &workers) < 0) {
				fprintf(stderr, "mc-admin-api: --workers expects 1..1024\n");
				return EXIT_FAILURE;
			}
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

	log_setup("mc-admin-api", LOG_INFO);
	(void)signal(SIGPIPE, SIG_IGN);
	/* libcurl's process-wide set-up, before any thread (Docker Engine API) */
	if (docker_global_init() < 0) {
		log_error("cannot initialise libcurl");
		return EXIT_FAILURE;
	}

	r = config_load(config_path, environ, &cfg, &cfg_error);
	if (r < 0) {
		log_error("configuration: %s", cfg_error ? cfg_error : strerror(-r));
		return EXIT_FAILURE;
	}
	s.app.cfg = cfg;
	s.app.proc_root = "/proc";
	s.app.bcrypt_cost = AUTH_BCRYPT_COST;
	s.n_workers = (unsigned)(workers ? workers : cfg->api.workers);

	/* refuse a schema this binary does not know before taking requests */
	r = db_open(cfg->database_path, &probe);
	if (r == -EPROTO) {
		log_error("database '%s' has a newer schema than this program knows (%d); "
		    "upgrade mc-admin", cfg->database_path, db_schema_version_known());
		goto out;
	}
	if (r == -ESTALE) {
		log_error("database '%s' needs migrating: run 'mc-admin db migrate'",
		    cfg->database_path);
		goto out;
	}
	if (r < 0) {
		log_error_errno(r, "cannot open database '%s': %m", cfg->database_path);
		goto out;
	}
	probe = db_close(probe);

	n = sd_listen_fds(1);
	if (n > 1) {
		log_error("expected one socket from systemd, got %d", n);
		goto out;
	}
	if (n == 1)
		s.listen_fd = SD_LISTEN_FDS_START;
	else if (listen_path) {
		s.listen_fd = socket_listen_unix(listen_path);
		if (s.listen_fd < 0) {
			log_error_errno(s.listen_fd, "cannot listen on '%s': %m", listen_path);
			goto out;
		}
	} else {
		log_error("no socket: start through mc-admin-api.socket or pass --listen PATH");
		goto out;
	}
	/* accept() must not block a worker that lost the race for a connection */
	if (fcntl(s.listen_fd, F_SETFL, fcntl(s.listen_fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_error_errno(errno, "cannot make the socket non-blocking: %m");
		goto out;
	}
	s.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s.stop_fd < 0 || FCGX_Init() != 0) {
		log_error("cannot initialise");
		goto out;
	}

	if ((r = auth_new(cfg->jwt.secret_key, cfg->jwt.algorithm,
	    cfg->jwt.access_token_expire_minutes, cfg->master_token, &s.app.auth)) < 0 ||
	    (r = login_limiter_new((unsigned)cfg->api.login_attempts,
	    (unsigned)cfg->api.login_window_seconds, &s.app.limiter)) < 0) {
		log_error_errno(r, "cannot set up authentication: %m");
		goto out;
	}
	r = audit_open(cfg->logs_dir, cfg->audit.log_file, cfg->audit.enabled, &s.app.audit);
	if (r < 0) {
		log_error_errno(r, "cannot open the audit log in '%s': %m", cfg->logs_dir);
		goto out;
	}

	/* block the stop signals before any thread exists: only sigwait() sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	r = cpu_sampler_start(s.app.proc_root, &s.app.cpu);
	if (r < 0) {
		log_error_errno(r, "cannot start the CPU sampler: %m");
		goto out;
	}
	if (servers_setup(&s, cfg) < 0)
		goto out;
	pthread_mutex_init(&s.accept_lock, NULL);
	s.workers = calloc(s.n_workers, sizeof(pthread_t));
	if (!s.workers)
		goto out;
	for (unsigned i = 0; i < s.n_workers; i++) {
		r = pthread_create(&s.workers[i], NULL, worker_main, &s);
		if (r != 0) {
			log_error_errno(r, "cannot start worker %u: %m", i);
			s.n_workers = i;
			s.stopping = 1;
			goto stop;
		}
	}
	(void)sd_notifyf(0, "READY=1\nSTATUS=serving with %u workers", s.n_workers);
	log_info("serving with %u workers (%s)", s.n_workers, n == 1 ? "socket activation" :
	    listen_path);

	while (sigwait(&mask, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	ret = EXIT_SUCCESS;
	(void)sd_notify(0, "STOPPING=1\nSTATUS=finishing in-flight requests");
	log_info("stopping: finishing in-flight requests");
	__atomic_store_n(&s.stopping, 1, __ATOMIC_SEQ_CST);
stop:
	{
		uint64_t one = 1;

		if (write(s.stop_fd, &one, sizeof(one)) < 0)
			log_warning_errno(errno, "cannot signal the workers: %m");
	}
	for (unsigned i = 0; i < s.n_workers; i++)
		(void)pthread_join(s.workers[i], NULL);
	free(s.workers);
	pthread_mutex_destroy(&s.accept_lock);
out:
	servers_teardown(&s);
	s.app.cpu = cpu_sampler_stop(s.app.cpu);
	s.app.audit = audit_close(s.app.audit);
	s.app.limiter = login_limiter_free(s.app.limiter);
	s.app.auth = auth_free(s.app.auth);
	if (s.stop_fd >= 0)
		(void)close(s.stop_fd);
	if (listen_path && n != 1 && s.listen_fd >= 0) {
		(void)close(s.listen_fd);
		(void)unlink(listen_path);
	}
	config_free(cfg);
	docker_global_cleanup();
	return ret;
}
