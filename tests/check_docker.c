/* SPDX-License-Identifier: MIT */
/*
 * outbound/: the Docker Engine API client and the compose CLI, against the
 * REAL dockerd on /var/run/docker.sock and the mcsim image
 * (tests/mcsim/build-image.sh, built once by main()).
 *
 * If the daemon does not answer, the program FAILS with a message saying
 * so, unless MC_ADMIN_SKIP_DOCKER=1 (exit 77: skipped). MC_ADMIN_TEST_COMPOSE
 * may name the compose command ("docker compose", "docker-compose") instead
 * of detecting it. /usr/bin/docker is used everywhere (CI has no other).
 *
 * Every test that creates containers uses a server id unique to this run
 * and test ("dk<run token><n>"), free host ports, and a project directory
 * under one temporary directory of the run, so it can run alongside other
 * test programs. Teardown removes the container and network by name; main()
 * sweeps everything with the run's prefix again at the end, in case a
 * test was killed before its teardown, and removes the run's directory.
 *
 * The fake-daemon cases serve canned HTTP answers from a unix socket of our
 * own to pin the error translation (500 with a message, bad JSON, oversized
 * answers, old API versions, a daemon that never answers).
 */
#include "autoconf.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "helpers.h"
#include "outbound/compose-cli.h"
#include "outbound/docker.h"
#include "spawn/spawn.h"

#define DOCKER_BIN	"/usr/bin/docker"
#define OP_TIMEOUT_MS	(120 * 1000)
#define EXEC_TIMEOUT_MS	(60 * 1000)

/* per run (set in main, before any test forks) */
static struct tmpdir *run_td;
static char run_token[16];
static char *home_dir;			/* HOME of the compose children */
static struct compose_cli *cli;		/* detected once, like at start-up */

/* per test (fixture) */
static struct docker *dk;
static char server_id[40];
static char container[48];
static char *project_dir;

/* ---- helpers (the first ones also run in main(), outside tests: no ck_assert) ---- */

static int
test_env(char ***ret)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpdir_var = NULL;
	const char *extra[] = { "DOCKER=" DOCKER_BIN, NULL, NULL };

	if (tmp && *tmp) {
		if (asprintf(&tmpdir_var, "TMPDIR=%s", tmp) < 0) {
			tmpdir_var = NULL;
			return -ENOMEM;
		}
		extra[1] = tmpdir_var;
	}
	return spawn_env_new(NULL, run_td ? run_td->path : "/", extra, ret);
}

/* Run a command of the test itself (docker rm, the image build); 0 or -errno. */
static int
run_cmd(const char *const *argv, int64_t timeout_ms, char **ret_output)
{
	char **env = NULL;
	struct spawn_options o = { .argv = argv, .timeout_ms = timeout_ms };
	struct spawn_result res;
	int r;

	r = test_env(&env);
	if (r < 0)
		return r;
	o.envp = (const char *const *)env;
	r = spawn_run(&o, &res);
	if (r >= 0)
		r = spawn_result_check(&res);
	if (ret_output) {
		*ret_output = NULL;
		if (res.out && spawn_error_text(argv[0], &res, ret_output) < 0)
			*ret_output = NULL;
	}
	spawn_result_done(&res);
	spawn_env_free(env);
	return r;
}

/* Is a live (non-zombie) process in process group pgrp? */
static bool
group_alive(pid_t pgrp)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool alive = false;

	ck_assert_ptr_nonnull(d);
	while (!alive && (de = readdir(d))) {
		char path[300], buf[512], state;
		const char *rp;
		int pp, g;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		ck_assert_int_lt(snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name),
		    (int)sizeof(path));
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		rp = strrchr(buf, ')');	/* "pid (comm) S ppid pgrp …" */
		if (rp && sscanf(rp + 2, "%c %d %d", &state, &pp, &g) == 3 && g == pgrp &&
		    state != 'Z' && state != 'X')
			alive = true;
	}
	closedir(d);
	return alive;
}

/* Nothing of the process group is left (orphans get 3 s to be reaped). */
static bool
group_gone(pid_t pgrp)
{
	for (int i = 0; i < 300; i++) {
		if (!group_alive(pgrp))
			return true;
		usleep(10000);
	}
	return false;
}

static void
remove_server(const char *id)
{
	_cleanup_free_ char *name = NULL, *net = NULL;

	if (asprintf(&name, "mc-%s", id) < 0 || asprintf(&net, "%s_default", id) < 0)
		return;
	{
		const char *rm[] = { DOCKER_BIN, "rm", "-f", "-v", name, NULL };
		const char *netrm[] = { DOCKER_BIN, "network", "rm", net, NULL };

		(void)run_cmd(rm, 60000, NULL);
		(void)run_cmd(netrm, 60000, NULL);
	}
}

static int
free_port(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
write_compose(bool tty)
{
	_cleanup_free_ char *yml = NULL, *rel = NULL;
	int game = free_port(), rcon = free_port();

	ck_assert_int_ge(asprintf(&yml,
	    "version: \"3\"\n"
	    "services:\n"
	    "  mc:\n"
	    "    image: itzg/minecraft-server:mcsim\n"
	    "    container_name: %s\n"
	    "    environment:\n"
	    "      EULA: \"TRUE\"\n"
	    "      VERSION: \"1.21.1\"\n"
	    "      RCON_PASSWORD: \"pw-%s\"\n"
	    "      CREATE_CONSOLE_IN_PIPE: \"true\"\n"
	    "      UID: \"%u\"\n"
	    "      GID: \"%u\"\n"
	    "      MCSIM_HEAP_MB: \"8\"\n"
	    "    ports:\n"
	    "      - \"127.0.0.1:%d:25565\"\n"
	    "      - \"127.0.0.1:%d:25575\"\n"
	    "    volumes:\n"
	    "      - ./data:/data\n"
	    "    stdin_open: true\n"
	    "    tty: %s\n",
	    container, server_id, (unsigned)getuid(), (unsigned)getgid(), game, rcon,
	    tty ? "true" : "false"), 0);
	ck_assert_int_ge(asprintf(&rel, "%s/docker-compose.yml", server_id), 0);
	tmpdir_write(run_td, rel, yml);
}

static void
setup(void)
{
	_cleanup_free_ char *rel = NULL;
	uint8_t rnd[3];


	/* lower-case only: compose lower-cases project names. Random per test:
	 * each test runs in its own fork, a counter would not advance */
	ck_assert_int_eq(random_bytes(rnd, sizeof(rnd)), 0);
	ck_assert_int_lt(snprintf(server_id, sizeof(server_id), "dk%s%02x%02x%02x", run_token,
	    rnd[0], rnd[1], rnd[2]), (int)sizeof(server_id));
	ck_assert_int_lt(snprintf(container, sizeof(container), "mc-%s", server_id),
	    (int)sizeof(container));
	ck_assert_int_ge(asprintf(&rel, "%s/data", server_id), 0);
	tmpdir_mkdir(run_td, rel);
	project_dir = tmpdir_join(run_td, server_id);
	ck_assert_int_eq(docker_new(NULL, &dk), 0);
}

static void
teardown(void)
{
	dk = docker_free(dk);
	free(project_dir);
	project_dir = NULL;
}

/* Tests that create containers: remove them by name whatever happened. */
static void
teardown_containers(void)
{
	remove_server(server_id);
	teardown();
}

/* Collects output; stops (returns 1) once `needle` was seen. */
struct collect {
	struct strbuf text;
	const char *needle;
	size_t chunks[DOCKER_STREAM_MAX];
};

static int
collect_cb(enum docker_stream stream, const char *data, size_t len, void *userdata)
{
	struct collect *c = userdata;

	ck_assert_int_lt(stream, DOCKER_STREAM_MAX);
	c->chunks[stream]++;
	if (strbuf_append(&c->text, data, len) < 0)
		return -EMSGSIZE;
	return c->needle && strstr(strbuf_str(&c->text), c->needle) ? 1 : 0;
}

static void
inspect_ok(struct docker_container *c)
{
	struct docker_error e;
	int r = docker_container_inspect(dk, container, c, &e);

	ck_assert_msg(r == 0, "inspect %s: %s (%s)", container, strerror(-r), e.message);
}

static void
wait_healthy(bool *ret_saw_starting)
{
	int64_t deadline = now_monotonic_usec() + 30 * 1000000LL;

	*ret_saw_starting = false;
	for (;;) {
		struct docker_container c;

		inspect_ok(&c);
		ck_assert_int_eq(c.state, DOCKER_STATE_RUNNING);
		if (c.health == DOCKER_HEALTH_STARTING)
			*ret_saw_starting = true;
		if (c.health == DOCKER_HEALTH_HEALTHY) {
			docker_container_done(&c);
			return;
		}
		ck_assert_msg(c.health == DOCKER_HEALTH_STARTING, "health %s",
		    docker_health_to_string(c.health));
		docker_container_done(&c);
		ck_assert_msg(now_monotonic_usec() < deadline, "not healthy after 30 s");
		usleep(100 * 1000);
	}
}

static void
compose_ok(int r, struct spawn_result *res, const char *what)
{
	_cleanup_free_ char *text = NULL;

	if (r != 0)
		(void)compose_cli_error_text(cli, res, &text);
	ck_assert_msg(r == 0, "%s: %s: %s", what, strerror(-r), text ? text : "");
	spawn_result_done(res);
}

static void
up(bool tty)
{
	struct spawn_result res;

	write_compose(tty);
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_UP, OP_TIMEOUT_MS, &res), &res,
	    "up -d");
}

/* An event loop of the test's own, driving the docker_logs_* interface. */
struct test_loop {
	struct {
		int fd;
		unsigned events;
	} w[8];
	size_t n;
	int64_t timer_at;
	unsigned watch_calls;
};

static int
tl_watch(int fd, unsigned events, void *loop_data)
{
	struct test_loop *tl = loop_data;
	size_t i;

	tl->watch_calls++;
	for (i = 0; i < tl->n && tl->w[i].fd != fd; i++)
		;
	if (events == 0) {
		if (i < tl->n)
			tl->w[i] = tl->w[--tl->n];
		return 0;
	}
	if (i == tl->n) {
		ck_assert_uint_lt(tl->n, ELEMENTSOF(tl->w));
		tl->n++;
	}
	tl->w[i].fd = fd;
	tl->w[i].events = events;
	return 0;
}

static int
tl_timer(int64_t timeout_ms, void *loop_data)
{
	struct test_loop *tl = loop_data;

	tl->timer_at = timeout_ms < 0 ? -1 : now_monotonic_usec() + timeout_ms * 1000;
	return 0;
}

/* Pump for up to for_ms: 0 when still live, else what on_*() returned. */
static int
tl_pump(struct test_loop *tl, struct docker_logs *l, int64_t for_ms)
{
	int64_t end = now_monotonic_usec() + for_ms * 1000;

	for (;;) {
		struct pollfd pfd[8];
		int64_t now = now_monotonic_usec(), wait;
		int r = 0;

		if (now >= end)
			return 0;
		if (tl->timer_at >= 0 && now >= tl->timer_at) {
			tl->timer_at = -1;
			r = docker_logs_on_timer(l);
			if (r != 0)
				return r;
			continue;
		}
		wait = end - now;
		if (tl->timer_at >= 0 && tl->timer_at - now < wait)
			wait = tl->timer_at - now;
		for (size_t i = 0; i < tl->n; i++)
			pfd[i] = (struct pollfd){ .fd = tl->w[i].fd,
				.events = (short)(((tl->w[i].events & DOCKER_IO_IN) ? POLLIN : 0) |
				    ((tl->w[i].events & DOCKER_IO_OUT) ? POLLOUT : 0)) };
		ck_assert_int_ge(poll(pfd, tl->n, (int)((wait + 999) / 1000)), 0);
		for (size_t i = 0; i < tl->n && r == 0; i++) {
			unsigned ev = ((pfd[i].revents & (POLLIN | POLLHUP)) ? DOCKER_IO_IN : 0) |
			    ((pfd[i].revents & POLLOUT) ? DOCKER_IO_OUT : 0) |
			    ((pfd[i].revents & POLLERR) ? DOCKER_IO_ERR : 0);

			if (ev)
				r = docker_logs_on_io(l, pfd[i].fd, ev);
		}
		if (r != 0)
			return r;
	}
}

static void
rcon(const char *command, int64_t timeout_ms, int want)
{
	const char *cmd[] = { "rcon-cli", command, NULL };
	_cleanup_free_ char *text = NULL;
	struct spawn_result res;
	int r;

	r = compose_cli_exec(cli, project_dir, NULL, cmd, timeout_ms, &res);
	if (r != want)
		(void)compose_cli_error_text(cli, &res, &text);
	ck_assert_msg(r == want, "rcon-cli '%s': %s, want %s: %s", command, strerror(-r),
	    strerror(-want), text ? text : "");
	spawn_result_done(&res);
}

/* ---- the whole life of a server ---- */

START_TEST(test_lifecycle)
{
	_cleanup_free_ char *own_prefix = NULL, *needle = NULL, *cmdline_path = NULL;
	struct docker_container c;
	struct docker_container_list list;
	struct collect col = { .text = STRBUF_INIT };
	struct test_loop tl = { .timer_at = -1 };
	struct docker_logs_options lo = { .tail = -1 };
	struct docker_logs *logs = NULL;
	struct docker_error e;
	struct spawn_result res;
	bool saw_starting, found = false;
	int64_t t0, t_line;
	int r;

	/* up -d, then starting → healthy */
	up(true);
	inspect_ok(&c);
	ck_assert_int_eq(c.state, DOCKER_STATE_RUNNING);
	ck_assert_int_eq(strlen(c.id), DOCKER_ID_LEN);
	ck_assert_uint_eq(strspn(c.id, "0123456789abcdef"), DOCKER_ID_LEN);
	ck_assert_str_eq(c.name, container);
	ck_assert_int_gt(c.pid, 0);
	ck_assert(c.inspected && c.tty);
	ck_assert_str_eq(c.image, "itzg/minecraft-server:mcsim");
	ck_assert_ptr_nonnull(c.compose_project);
	ck_assert_str_eq(c.compose_project, server_id);
	ck_assert_str_eq(c.compose_service, "mc");
	ck_assert_ptr_nonnull(c.compose_working_dir);
	ck_assert_int_gt(c.started_at_usec, now_realtime_usec() - 300 * 1000000LL);
	/* a host pid (§11.6): its command line is the simulator's "java" */
	ck_assert_int_ge(asprintf(&cmdline_path, "/proc/%d/cmdline", (int)c.pid), 0);
	{
		char buf[256] = "";
		FILE *f = fopen(cmdline_path, "re");

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, f), 0);
		fclose(f);
		ck_assert_msg(strstr(buf, "java"), "pid %d runs '%s'", (int)c.pid, buf);
	}
	docker_container_done(&c);
	wait_healthy(&saw_starting);
	ck_assert_msg(saw_starting, "health went to healthy without starting");

	/* one list call finds it, with the health from the Status text */
	ck_assert_int_eq(docker_container_list(dk, "mc-", &list, &e), 0);
	for (size_t i = 0; i < list.n; i++) {
		ck_assert(startswith(list.items[i].name, "mc-"));
		ck_assert(!list.items[i].inspected);
		if (streq(list.items[i].name, container)) {
			found = true;
			ck_assert_int_eq(list.items[i].state, DOCKER_STATE_RUNNING);
			ck_assert_int_eq(list.items[i].health, DOCKER_HEALTH_HEALTHY);
			ck_assert_int_eq(list.items[i].pid, 0);
			ck_assert_str_eq(list.items[i].compose_project, server_id);
		}
	}
	ck_assert(found);
	docker_container_list_done(&list);
	ck_assert_int_ge(asprintf(&own_prefix, "%s", container), 0);
	ck_assert_int_eq(docker_container_list(dk, own_prefix, &list, &e), 0);
	ck_assert_uint_eq(list.n, 1);
	docker_container_list_done(&list);

	/* logs, blocking: the start-up sequence ends with "Done (" */
	inspect_ok(&c);
	lo.tty = c.tty;
	docker_container_done(&c);
	col.needle = "Done (";
	r = docker_logs_read(dk, container, &lo, collect_cb, &col, 20000, NULL, &e);
	ck_assert_msg(r == 1, "logs: %d (%s) after '%s'", r, e.message, strbuf_str(&col.text));
	ck_assert(strstr(strbuf_str(&col.text), "For help, type \"help\""));
	ck_assert(strstr(strbuf_str(&col.text), "\r\n"));	/* a TTY's output */
	strbuf_free(&col.text);
	/* without follow, the stream ends by itself */
	col.needle = NULL;
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 20000, NULL, &e),
	    0);
	ck_assert(strstr(strbuf_str(&col.text), "Done ("));
	strbuf_free(&col.text);

	/* follow through the event-loop interface: a line printed later arrives */
	lo.follow = true;
	lo.tail = 0;
	ck_assert_int_ge(asprintf(&needle, "hello-follow-%s", server_id), 0);
	col.needle = needle;
	ck_assert_int_eq(docker_logs_open(dk, container, &lo, collect_cb, &col,
	    &(struct docker_logs_loop){ tl_watch, tl_timer, &tl }, &logs), 0);
	ck_assert_int_eq(tl_pump(&tl, logs, 500), 0);	/* connected and idle */
	ck_assert_uint_gt(tl.watch_calls, 0);
	ck_assert_ptr_null(strstr(strbuf_str(&col.text), needle));
	t_line = now_realtime_usec();
	{
		_cleanup_free_ char *line = NULL;

		ck_assert_int_ge(asprintf(&line, "mcsim log %s", needle), 0);
		rcon(line, EXEC_TIMEOUT_MS, 0);
	}
	r = tl_pump(&tl, logs, 15000);
	ck_assert_msg(r == 1, "follow: %d, got '%s'", r, strbuf_str(&col.text));
	ck_assert_int_eq(docker_logs_result(logs), 1);
	logs = docker_logs_close(logs);
	ck_assert_uint_eq(tl.n, 0);		/* every watch was removed */
	strbuf_free(&col.text);

	/* since: only what came after the start-up (the start-up lines are older) */
	lo.follow = false;
	lo.tail = -1;
	lo.since_usec = t_line - 500 * 1000;
	col.needle = NULL;
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 20000, NULL, &e),
	    0);
	ck_assert_msg(strstr(strbuf_str(&col.text), needle), "since: '%s'", strbuf_str(&col.text));
	ck_assert_ptr_null(strstr(strbuf_str(&col.text), "Done ("));
	strbuf_free(&col.text);
	lo.since_usec = 0;

	/* console input as the data owner; root is refused by the image (§11.5 text) */
	{
		const char *words[] = { "say", "console-works", NULL };
		_cleanup_free_ char *text = NULL;

		compose_ok(compose_cli_send_to_console(cli, project_dir, getuid(), words,
		    EXEC_TIMEOUT_MS, &res), &res, "mc-send-to-console");
		/* not the data owner: root is refused by the image ("Exec needs to be
		 * run with user ID …"), another uid cannot open the console pipe */
		r = compose_cli_send_to_console(cli, project_dir, getuid() == 0 ? 4242 : 0, words,
		    EXEC_TIMEOUT_MS, &res);
		ck_assert_int_eq(r, -EIO);
		ck_assert_int_eq(compose_cli_error_text(cli, &res, &text), 0);
		ck_assert(startswith(text, "Failed to exec command: /"));
		ck_assert_msg(strstr(text, getuid() == 0 ? "ERROR: cannot open" :
		    "Exec needs to be run with user ID"), "%s", text);
		spawn_result_done(&res);
	}

	/* a stuck server: RCON stops answering, the exec times out and its whole
	 * process group (compose, and v1's `docker exec` child) is gone */
	rcon("mcsim freeze 5", EXEC_TIMEOUT_MS, 0);
	{
		const char *cmd[] = { "rcon-cli", "list", NULL };

		t0 = now_monotonic_usec();
		r = compose_cli_exec(cli, project_dir, NULL, cmd, 1500, &res);
		ck_assert_int_eq(r, -ETIMEDOUT);
		ck_assert(res.timed_out);
		ck_assert_int_lt(now_monotonic_usec() - t0, 4500 * 1000);
		ck_assert_int_gt(res.pid, 0);
		ck_assert(group_gone(res.pid));		/* no process left in its group */
		spawn_result_done(&res);
	}

	/* stop → exited (gracefully: exit code 0), no health, no pid */
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_STOP, OP_TIMEOUT_MS, &res), &res,
	    "stop");
	inspect_ok(&c);
	ck_assert_int_eq(c.state, DOCKER_STATE_EXITED);
	ck_assert_int_eq(c.health, DOCKER_HEALTH_NONE);
	ck_assert_int_eq(c.pid, 0);
	ck_assert_int_eq(c.exit_code, 0);
	docker_container_done(&c);
	ck_assert_int_eq(docker_container_list(dk, own_prefix, &list, &e), 0);
	ck_assert_uint_eq(list.n, 1);
	ck_assert_int_eq(list.items[0].state, DOCKER_STATE_EXITED);
	ck_assert_int_eq(list.items[0].health, DOCKER_HEALTH_NONE);
	docker_container_list_done(&list);

	/* start, restart: running again */
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_START, OP_TIMEOUT_MS, &res), &res,
	    "start");
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_RESTART, OP_TIMEOUT_MS, &res), &res,
	    "restart");
	inspect_ok(&c);
	ck_assert_int_eq(c.state, DOCKER_STATE_RUNNING);
	docker_container_done(&c);

	/* down → gone */
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_DOWN, OP_TIMEOUT_MS, &res), &res,
	    "down");
	ck_assert_int_eq(docker_container_inspect(dk, container, &c, &e), -ENOENT);
	ck_assert_int_eq(e.http_status, 404);
	ck_assert_msg(strstr(e.message, "No such container"), "%s", e.message);
	ck_assert_int_eq(docker_container_list(dk, own_prefix, &list, &e), 0);
	ck_assert_uint_eq(list.n, 0);
	docker_container_list_done(&list);
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 5000, NULL, &e),
	    -ENOENT);
	strbuf_free(&col.text);

	/* exec into a container that does not exist: the §11.5 error text */
	{
		const char *cmd[] = { "rcon-cli", "list", NULL };
		_cleanup_free_ char *text = NULL, *want = NULL;

		r = compose_cli_exec(cli, project_dir, NULL, cmd, EXEC_TIMEOUT_MS, &res);
		ck_assert_int_eq(r, -EIO);
		ck_assert(res.exited && res.exit_status != 0);
		ck_assert_int_eq(compose_cli_error_text(cli, &res, &text), 0);
		const char *command = compose_cli_command(cli);

		ck_assert_int_ge(asprintf(&want, "Failed to exec command: %.*s\n%s\n%s",
		    (int)strcspn(command, " "), command, res.err, res.out), 0);
		ck_assert_str_eq(text, want);
		spawn_result_done(&res);
	}
}
END_TEST

/* A container without a TTY: its logs come multiplexed, stdout frames. */
START_TEST(test_logs_multiplexed)
{
	struct collect col = { .text = STRBUF_INIT, .needle = "Done (" };
	struct docker_logs_options lo = { .tail = -1, .follow = true };
	struct docker_container c;
	struct docker_error e;
	struct spawn_result res;
	int r;

	up(false);
	inspect_ok(&c);
	ck_assert(!c.tty);
	lo.tty = c.tty;
	docker_container_done(&c);
	/* follow from the start: the line may not be printed yet */
	r = docker_logs_read(dk, container, &lo, collect_cb, &col, 30000, NULL, &e);
	ck_assert_msg(r == 1, "logs: %d (%s) after '%s'", r, e.message, strbuf_str(&col.text));
	ck_assert_uint_gt(col.chunks[DOCKER_STREAM_STDOUT], 0);
	/* frames were taken apart: no header bytes in the text */
	ck_assert_ptr_null(memchr(strbuf_str(&col.text), '\0', col.text.len));
	ck_assert_ptr_null(strchr(strbuf_str(&col.text), '\001'));
	ck_assert_ptr_null(strstr(strbuf_str(&col.text), "\r\n"));
	strbuf_free(&col.text);

	/* a follow stream ends when the container stops */
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_STOP, OP_TIMEOUT_MS, &res), &res,
	    "stop");
	col.needle = NULL;
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 20000, NULL, &e),
	    0);
	ck_assert(strstr(strbuf_str(&col.text), "All dimensions are saved"));
	strbuf_free(&col.text);
	compose_ok(compose_cli_op(cli, project_dir, COMPOSE_OP_DOWN, OP_TIMEOUT_MS, &res), &res,
	    "down");
}
END_TEST

struct canceller {
	atomic_bool *flag;
	int delay_ms;
};

static void *
cancel_later(void *p)
{
	struct canceller *c = p;

	usleep((useconds_t)c->delay_ms * 1000);
	atomic_store(c->flag, true);
	return NULL;
}

/* A quiet follow stream ends by timeout or cancel, and a stuck compose
 * command (1 ms budget for `up -d`) leaves nothing behind. */
START_TEST(test_cancel_and_timeouts)
{
	struct collect col = { .text = STRBUF_INIT };
	struct docker_logs_options lo = { .tail = 0, .follow = true, .tty = true };
	struct docker_error e;
	struct spawn_result res;
	atomic_bool cancel = false;
	struct canceller cn = { .flag = &cancel, .delay_ms = 300 };
	pthread_t t;
	int64_t t0;
	bool saw_starting;

	write_compose(true);
	t0 = now_monotonic_usec();
	ck_assert_int_eq(compose_cli_op(cli, project_dir, COMPOSE_OP_UP, 1, &res), -ETIMEDOUT);
	ck_assert(res.timed_out);
	ck_assert_int_lt(now_monotonic_usec() - t0, 3000 * 1000);
	ck_assert(group_gone(res.pid));
	spawn_result_done(&res);

	up(true);
	wait_healthy(&saw_starting);
	t0 = now_monotonic_usec();
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 300, NULL, &e),
	    -ETIMEDOUT);
	ck_assert_int_ge(now_monotonic_usec() - t0, 300 * 1000);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &cn), 0);
	ck_assert_int_eq(docker_logs_read(dk, container, &lo, collect_cb, &col, 0, &cancel, &e),
	    -ECANCELED);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	strbuf_free(&col.text);
}
END_TEST

/* ---- API: the real daemon, no containers of ours ---- */

START_TEST(test_ping)
{
	struct docker_error e;

	ck_assert_int_eq(docker_ping(dk, &e), 0);
	ck_assert_int_eq(docker_ping(dk, NULL), 0);
}
END_TEST

START_TEST(test_inspect_missing)
{
	struct docker_container c;
	struct docker_error e;

	ck_assert_int_eq(docker_container_inspect(dk, container, &c, &e), -ENOENT);
	ck_assert_int_eq(e.http_status, 404);
	ck_assert_msg(strstr(e.message, container), "%s", e.message);
}
END_TEST

static const struct {
	const char *name;
	int ret;
} name_cases[] = {
	{ "mc-ok", 0 },
	{ "mc-A_b.c-9", 0 },
	{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
	{ "", -EINVAL },
	{ "../images/json", -EINVAL },	/* never another endpoint */
	{ "mc-a/../../images", -EINVAL },
	{ "mc-a?all=1", -EINVAL },
	{ "mc-a#x", -EINVAL },
	{ "mc a", -EINVAL },
	{ "-mc", -EINVAL },
	{ ".mc", -EINVAL },
	{ "mc-%2e%2e", -EINVAL },
	{ "mc-\xc3\xa9", -EINVAL },
};

START_TEST(test_names)
{
	struct docker_container c;
	struct docker_logs_options lo = { .tail = 0 };
	struct collect col = { .text = STRBUF_INIT };

	ck_assert_int_eq(docker_name_check(name_cases[_i].name), name_cases[_i].ret);
	if (name_cases[_i].ret < 0) {
		const char *name = name_cases[_i].name;

		ck_assert_int_eq(docker_container_inspect(dk, name, &c, NULL), -EINVAL);
		ck_assert_int_eq(docker_logs_read(dk, name, &lo, collect_cb, &col, 1000, NULL,
		    NULL), -EINVAL);
	}
}
END_TEST

START_TEST(test_name_length)
{
	char name[DOCKER_NAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	name[DOCKER_NAME_MAX] = '\0';
	ck_assert_int_eq(docker_name_check(name), 0);
	name[DOCKER_NAME_MAX] = 'a';
	name[DOCKER_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(docker_name_check(name), -EINVAL);
	ck_assert_int_eq(docker_name_check(NULL), -EINVAL);
}
END_TEST

/* Unreachable daemon: a missing socket, a file, a socket nobody listens on. */
START_TEST(test_unreachable)
{
	_cleanup_free_ char *file = NULL, *dead = NULL, *dir_rel = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *paths[4];
	int fd;

	ck_assert_int_ge(asprintf(&dir_rel, "unreach-%s", server_id), 0);
	tmpdir_mkdir(run_td, dir_rel);
	{
		_cleanup_free_ char *f_rel = NULL, *s_rel = NULL;

		ck_assert_int_ge(asprintf(&f_rel, "%s/file", dir_rel), 0);
		ck_assert_int_ge(asprintf(&s_rel, "%s/dead.sock", dir_rel), 0);
		tmpdir_write(run_td, f_rel, "");
		file = tmpdir_join(run_td, f_rel);
		dead = tmpdir_join(run_td, s_rel);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(dead), sizeof(sa.sun_path));
	memcpy(sa.sun_path, dead, strlen(dead) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);	/* no listen() */

	paths[0] = "/nonexistent/docker.sock";
	paths[1] = file;
	paths[2] = dead;
	paths[3] = NULL;
	for (size_t i = 0; paths[i]; i++) {
		struct docker_config cfg = { .socket_path = paths[i] };
		struct docker_logs_options lo = { .tail = 0 };
		struct collect col = { .text = STRBUF_INIT };
		struct docker_container_list list;
		struct docker_container c;
		struct docker_error e;
		struct docker *bad = NULL;

		ck_assert_int_eq(docker_new(&cfg, &bad), 0);
		ck_assert_int_eq(docker_ping(bad, &e), -EHOSTDOWN);
		ck_assert_int_eq(e.http_status, 0);
		ck_assert_msg(e.message[0], "no detail for %s", paths[i]);
		ck_assert_int_eq(docker_container_inspect(bad, container, &c, &e), -EHOSTDOWN);
		ck_assert_int_eq(docker_container_list(bad, "mc-", &list, &e), -EHOSTDOWN);
		ck_assert_int_eq(docker_logs_read(bad, container, &lo, collect_cb, &col, 5000, NULL,
		    &e), -EHOSTDOWN);
		docker_free(bad);
	}
	close(fd);

	{
		struct docker_config rel = { .socket_path = "docker.sock" };
		struct docker *bad = NULL;

		ck_assert_int_eq(docker_new(&rel, &bad), -EINVAL);
	}
}
END_TEST

/* Many threads share one struct docker. */
#define API_THREADS	8

static void *
api_worker(void *p)
{
	long fails = 0;

	(void)p;
	for (int i = 0; i < 15; i++) {
		struct docker_container_list list;
		struct docker_container c;

		fails += docker_ping(dk, NULL) != 0;
		fails += docker_container_inspect(dk, container, &c, NULL) != -ENOENT;
		if (docker_container_list(dk, "mc-", &list, NULL) == 0)
			docker_container_list_done(&list);
		else
			fails++;
	}
	return (void *)fails;
}

START_TEST(test_threads)
{
	pthread_t t[API_THREADS];

	for (int i = 0; i < API_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, api_worker, NULL), 0);
	for (int i = 0; i < API_THREADS; i++) {
		void *fails;

		ck_assert_int_eq(pthread_join(t[i], &fails), 0);
		ck_assert_int_eq((long)fails, 0);
	}
}
END_TEST

/* ---- the multiplexed-stream decoder (pure) ---- */

#define F(type, len)	type, 0, 0, 0, 0, 0, 0, len	/* a frame header, len < 256 */

static const struct {
	const char *name;
	bool tty;
	uint8_t in[64];
	size_t in_len;
	int ret;
	const char *out;	/* stdout bytes */
	size_t out_len;
	const char *err;	/* stderr text */
	bool partial;
} decoder_cases[] = {
	{ "one frame", false, { F(1, 3), 'a', 'b', 'c' }, 11, 0, "abc", 3, "", false },
	{ "stdout and stderr", false, { F(1, 2), 'o', '1', F(2, 2), 'e', '1', F(1, 1), 'o' }, 29, 0,
	  "o1o", 3, "e1", false },
	{ "stdin type goes to stdout", false, { F(0, 1), 'x' }, 9, 0, "x", 1, "", false },
	{ "empty frame", false, { F(1, 0), F(2, 1), 'e' }, 17, 0, "", 0, "e", false },
	{ "header cut", false, { F(1, 3), 'a', 'b', 'c', 1, 0, 0 }, 14, 0, "abc", 3, "", true },
	{ "payload cut", false, { F(1, 5), 'a', 'b' }, 10, 0, "ab", 2, "", true },
	{ "bad type", false, { F(3, 1), 'x' }, 9, -EBADMSG, "", 0, "", false },
	{ "bad padding", false, { 1, 0, 1, 0, 0, 0, 0, 1, 'x' }, 9, -EBADMSG, "", 0, "", false },
	{ "raw (tty)", true, { 1, 0, 0, 0, 'r', '\r', '\n' }, 7, 0, "\1\0\0\0r\r\n", 7, "", false },
};

struct dec_out {
	struct strbuf s[DOCKER_STREAM_MAX];
	int stop_after;		/* > 0: return 7 after that many calls */
	int calls;
};

static int
dec_cb(enum docker_stream stream, const char *data, size_t len, void *userdata)
{
	struct dec_out *o = userdata;

	ck_assert_int_lt(stream, DOCKER_STREAM_MAX);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(strbuf_append(&o->s[stream], data, len), 0);
	return ++o->calls == o->stop_after ? 7 : 0;
}

START_TEST(test_decoder)
{
	__typeof__(decoder_cases[0]) *tc = &decoder_cases[_i];

	/* every way of cutting the input in chunks gives the same result */
	for (size_t chunk = 1; chunk <= tc->in_len; chunk++) {
		struct docker_log_decoder dec;
		struct dec_out o = { 0 };
		int r = 0;

		docker_log_decoder_init(&dec, tc->tty);
		for (size_t off = 0; off < tc->in_len && r == 0; off += chunk) {
			size_t n = tc->in_len - off < chunk ? tc->in_len - off : chunk;

			r = docker_log_decoder_feed(&dec, tc->in + off, n, dec_cb, &o);
		}
		ck_assert_msg(r == tc->ret, "%s, chunk %zu: %d", tc->name, chunk, r);
		if (r == 0) {
			ck_assert_uint_eq(o.s[DOCKER_STREAM_STDOUT].len, tc->out_len);
			ck_assert(memcmp(strbuf_str(&o.s[DOCKER_STREAM_STDOUT]), tc->out,
			    tc->out_len) == 0);
			ck_assert_str_eq(strbuf_str(&o.s[DOCKER_STREAM_STDERR]), tc->err);
			ck_assert_int_eq(docker_log_decoder_partial(&dec), tc->partial);
		}
		strbuf_free(&o.s[0]);
		strbuf_free(&o.s[1]);
	}
}
END_TEST

START_TEST(test_decoder_stop)
{
	static const uint8_t in[] = { F(1, 1), 'a', F(2, 1), 'b', F(1, 1), 'c' };
	struct docker_log_decoder dec;
	struct dec_out o = { .stop_after = 2 };

	docker_log_decoder_init(&dec, false);
	ck_assert_int_eq(docker_log_decoder_feed(&dec, in, sizeof(in), dec_cb, &o), 7);
	ck_assert_str_eq(strbuf_str(&o.s[DOCKER_STREAM_STDOUT]), "a");
	ck_assert_str_eq(strbuf_str(&o.s[DOCKER_STREAM_STDERR]), "b");
	strbuf_free(&o.s[0]);
	strbuf_free(&o.s[1]);
}
END_TEST

START_TEST(test_enums)
{
	for (int i = 1; i < DOCKER_STATE_MAX; i++)
		ck_assert_int_eq(docker_state_from_string(docker_state_to_string(i)), i);
	ck_assert_int_eq(docker_state_from_string("bogus"), DOCKER_STATE_UNKNOWN);
	ck_assert_int_eq(docker_state_from_string(NULL), DOCKER_STATE_UNKNOWN);
	ck_assert_str_eq(docker_health_to_string(DOCKER_HEALTH_STARTING), "starting");
	for (int i = 0; i < COMPOSE_OP_MAX; i++)
		ck_assert_int_eq(compose_op_from_string(compose_op_to_string(i)), i);
	ck_assert_int_eq(compose_op_from_string("remove"), -EINVAL);
}
END_TEST

/* ---- a fake daemon: canned answers pin the error translation ---- */

struct fake {
	int lfd;
	char *sock;
	const char *head;	/* status line + headers, without Content-Length */
	const char *body;
	size_t body_len;	/* 0: strlen(body) */
	size_t body_repeat;	/* body sent this many times (large answers) */
	bool silent;		/* read the request, never answer */
	pthread_t thread;
};

static void *
fake_main(void *p)
{
	struct fake *f = p;
	int fd;

	while ((fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		char req[8192];
		size_t got = 0;
		ssize_t l;

		while (got < sizeof(req) - 1 &&
		    (l = read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)l;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (f->silent) {
			while (read(fd, req, sizeof(req)) > 0)	/* until the client gives up */
				;
		} else {
			size_t bl = f->body_len ? f->body_len : strlen(f->body);
			size_t n = f->body_repeat ? f->body_repeat : 1;
			char hdr[1024];
			int hl = snprintf(hdr, sizeof(hdr), "%sContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n", f->head, bl * n);

			/* the client may hang up early (answer too large): no SIGPIPE */
			if (hl > 0 && send(fd, hdr, (size_t)hl, MSG_NOSIGNAL) == hl)
				for (size_t i = 0; i < n; i++)
					if (send(fd, f->body, bl, MSG_NOSIGNAL) != (ssize_t)bl)
						break;
		}
		close(fd);
	}
	return NULL;
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_free_ char *rel = NULL;

	ck_assert_int_ge(asprintf(&rel, "fake-%s-%d.sock", server_id, (int)getpid()), 0);
	f->sock = tmpdir_join(run_td, rel);
	ck_assert_uint_lt(strlen(f->sock), sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->sock, strlen(f->sock) + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	(void)shutdown(f->lfd, SHUT_RDWR);	/* wakes accept() */
	ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
	close(f->lfd);
	(void)unlink(f->sock);
	free(f->sock);
}

enum fake_op { FAKE_PING, FAKE_INSPECT, FAKE_LIST, FAKE_LOGS, FAKE_OP_MAX };

#define H200 "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char *name;
	enum fake_op op;
	const char *head, *body;
	size_t repeat;
	bool silent;
	int ret;
	long http_status;
	const char *message;	/* substring of ret_error->message */
	size_t body_len;	/* 0: strlen(body) */
} fake_cases[] = {
	/* name, op, status line and headers, body, repeat, silent,
	 * want: ret, HTTP status (0: not checked), message substring, body_len */
	{ "500 with message", FAKE_INSPECT,
	  "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n",
	  "{\"message\":\"boom\"}\n", 0, false, -EIO, 500, "boom", 0 },
	{ "409 plain text", FAKE_LIST, "HTTP/1.1 409 Conflict\r\n", "conflict here", 0, false,
	  -EIO, 409, "conflict here", 0 },
	{ "404", FAKE_INSPECT, "HTTP/1.1 404 Not Found\r\n",
	  "{\"message\":\"No such container: mc-x\"}", 0, false, -ENOENT, 404, "No such", 0 },
	{ "not JSON", FAKE_INSPECT, H200, "<html>", 0, false, -EBADMSG, 200, "", 0 },
	{ "JSON, wrong shape", FAKE_INSPECT, H200, "[1,2]", 0, false, -EBADMSG, 0, "", 0 },
	{ "short id", FAKE_INSPECT, H200,
	  "{\"Id\":\"abc\",\"Name\":\"/mc-x\",\"State\":{},\"Config\":{}}", 0, false, -EBADMSG, 0,
	  "", 0 },
	{ "list not an array", FAKE_LIST, H200, "{}", 0, false, -EBADMSG, 0, "", 0 },
	{ "too large", FAKE_LIST, H200, "[                                                  ",
	  40000, false, -EMSGSIZE, 0, "too large", 0 },
	{ "old daemon", FAKE_PING, "HTTP/1.1 200 OK\r\nApi-Version: 1.40\r\n", "OK", 0, false,
	  -EPROTONOSUPPORT, 200, "1.40", 0 },
	{ "newer daemon", FAKE_PING, "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\n", "OK", 0, false,
	  0, 0, "", 0 },
	{ "no version", FAKE_PING, "HTTP/1.1 200 OK\r\n", "OK", 0, false, -EBADMSG, 200, "", 0 },
	{ "silent daemon", FAKE_PING, "", "", 0, true, -ETIMEDOUT, 0, "", 0 },
	{ "silent daemon, logs", FAKE_LOGS, "", "", 0, true, -ETIMEDOUT, 0, "", 0 },
	{ "logs 404", FAKE_LOGS, "HTTP/1.1 404 Not Found\r\n",
	  "{\"message\":\"No such container: mc-x\"}", 0, false, -ENOENT, 404,
	  "No such container", 0 },
	{ "logs cut in a frame", FAKE_LOGS, H200, "\1\0\0\0\0\0\0\5ab", 0, false, -EBADMSG, 200,
	  "inside a frame", 10 },
	{ "logs bad frame", FAKE_LOGS, H200, "\7\0\0\0\0\0\0\1x", 0, false, -EBADMSG, 0,
	  "malformed", 9 },
};

START_TEST(test_fake_daemon)
{
	struct fake f = {
		.head = fake_cases[_i].head, .body = fake_cases[_i].body,
		.body_len = fake_cases[_i].body_len, .body_repeat = fake_cases[_i].repeat,
		.silent = fake_cases[_i].silent,
	};
	struct docker_config cfg = { .timeout_ms = 400, .max_response = 1024 * 1024 };
	struct docker_logs_options lo = { .tail = -1 };
	struct collect col = { .text = STRBUF_INIT };
	struct docker_container_list list;
	struct docker_container c;
	struct docker_error e;
	struct docker *fd_ = NULL;
	int r = 0;

	fake_start(&f);
	cfg.socket_path = f.sock;
	ck_assert_int_eq(docker_new(&cfg, &fd_), 0);
	switch (fake_cases[_i].op) {
	case FAKE_PING:
		r = docker_ping(fd_, &e);
		break;
	case FAKE_INSPECT:
		r = docker_container_inspect(fd_, "mc-x", &c, &e);
		if (r == 0)
			docker_container_done(&c);
		break;
	case FAKE_LIST:
		r = docker_container_list(fd_, "mc-", &list, &e);
		if (r == 0)
			docker_container_list_done(&list);
		break;
	case FAKE_LOGS:
		r = docker_logs_read(fd_, "mc-x", &lo, collect_cb, &col, 400, NULL, &e);
		break;
	case FAKE_OP_MAX:
		break;
	}
	ck_assert_msg(r == fake_cases[_i].ret, "%s: %d (%s)", fake_cases[_i].name, r, e.message);
	if (fake_cases[_i].http_status)
		ck_assert_int_eq(e.http_status, fake_cases[_i].http_status);
	ck_assert_msg(strstr(e.message, fake_cases[_i].message), "%s: message '%s'",
	    fake_cases[_i].name, e.message);
	strbuf_free(&col.text);
	docker_free(fd_);
	fake_stop(&f);
}
END_TEST

/* The list endpoint's answer: prefix check, link aliases, health from Status. */
START_TEST(test_fake_list_parse)
{
	struct fake f = {
		.head = H200,
		.body = "[{\"Id\":\"" ID64 "\",\"Names\":[\"/other/mc-alias\",\"/mc-a\"],"
		    "\"Image\":\"img\",\"State\":\"running\","
		    "\"Status\":\"Up 1 second (health: starting)\","
		    "\"Labels\":{\"com.docker.compose.project\":\"a\","
		    "\"com.docker.compose.service\":\"mc\","
		    "\"com.docker.compose.project.working_dir\":\"/srv/a\"}},"
		    "{\"Id\":\"" ID64 "\",\"Names\":[\"/xmc-b\"],\"State\":\"running\","
		    "\"Status\":\"Up\"},"
		    "{\"Id\":\"" ID64 "\",\"Names\":[\"/mc-c\"],\"State\":\"exited\","
		    "\"Status\":\"Exited (0) 1 second ago (healthy)\",\"Labels\":{}},"
		    "{\"Id\":\"" ID64 "\",\"Names\":[\"/mc-d\"],\"State\":\"running\","
		    "\"Status\":\"Up 2 hours (unhealthy)\"},"
		    "{\"Id\":\"" ID64 "\",\"Names\":[\"/mc-e\"],\"State\":\"paused\","
		    "\"Status\":\"Up 2 hours (Paused)\"}]",
	};
	struct docker_config cfg = { 0 };
	struct docker_container_list l;
	struct docker *fd_ = NULL;

	fake_start(&f);
	cfg.socket_path = f.sock;
	ck_assert_int_eq(docker_new(&cfg, &fd_), 0);
	ck_assert_int_eq(docker_container_list(fd_, "mc-", &l, NULL), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.items[0].name, "mc-a");
	ck_assert_str_eq(l.items[0].id, ID64);
	ck_assert_int_eq(l.items[0].health, DOCKER_HEALTH_STARTING);
	ck_assert_str_eq(l.items[0].compose_working_dir, "/srv/a");
	ck_assert_str_eq(l.items[1].name, "mc-c");
	ck_assert_int_eq(l.items[1].state, DOCKER_STATE_EXITED);
	ck_assert_int_eq(l.items[1].health, DOCKER_HEALTH_NONE);
	ck_assert_ptr_null(l.items[1].compose_project);
	ck_assert_int_eq(l.items[2].health, DOCKER_HEALTH_UNHEALTHY);
	ck_assert_int_eq(l.items[3].state, DOCKER_STATE_PAUSED);
	ck_assert_int_eq(l.items[3].health, DOCKER_HEALTH_NONE);
	docker_container_list_done(&l);
	docker_free(fd_);
	fake_stop(&f);
}
END_TEST

/* ---- compose CLI detection and environment ---- */

START_TEST(test_compose_detect)
{
	const char *const *env = compose_cli_env(cli);
	const char *path = spawn_env_get(env, "PATH");
	struct compose_cli_config cfg = { .docker = DOCKER_BIN, .home = home_dir };
	struct compose_cli *other = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(spawn_env_get(env, "HOME"), home_dir);
	ck_assert_str_eq(spawn_env_get(env, "LANG"), "C.UTF-8");
	while (env[n])
		n++;
	ck_assert_uint_eq(n, 3);	/* PATH, HOME, LANG: nothing inherited */
	ck_assert_ptr_nonnull(compose_cli_version(cli));
	ck_assert_str_ne(compose_cli_version(cli), "");
	if (compose_cli_flavour(cli) == COMPOSE_FLAVOUR_STANDALONE)
		/* v1 runs `docker exec` from PATH: the configured docker comes first */
		ck_assert_msg(startswith(path, "/usr/bin:"), "PATH=%s", path);
	else
		ck_assert(startswith(compose_cli_command(cli), DOCKER_BIN " compose"));

	/* an explicit command wins, and must work */
	cfg.command = "docker-compose";
	if (compose_cli_detect(&cfg, &other) == 0) {
		ck_assert_int_eq(compose_cli_flavour(other), COMPOSE_FLAVOUR_STANDALONE);
		ck_assert(startswith(compose_cli_command(other), "/"));
		other = compose_cli_free(other);
	}
	cfg.command = "docker compose";
	if (compose_cli_detect(&cfg, &other) == 0) {
		ck_assert_int_eq(compose_cli_flavour(other), COMPOSE_FLAVOUR_PLUGIN);
		ck_assert_str_eq(compose_cli_command(other), DOCKER_BIN " compose");
		other = compose_cli_free(other);
	} else {
		/* docker 20.10 without the plugin: no silent fallback */
		ck_assert_int_eq(compose_cli_flavour(cli), COMPOSE_FLAVOUR_STANDALONE);
	}
	cfg.command = "/nonexistent/docker-compose";
	ck_assert_int_eq(compose_cli_detect(&cfg, &other), -ENOENT);
	cfg.command = "/bin/false";
	ck_assert_int_eq(compose_cli_detect(&cfg, &other), -ENOENT);
	cfg.command = "   ";
	ck_assert_int_eq(compose_cli_detect(&cfg, &other), -EINVAL);
	cfg.command = NULL;
	cfg.home = "relative";
	ck_assert_int_eq(compose_cli_detect(&cfg, &other), -EINVAL);
	cfg.home = home_dir;
	cfg.docker = "/nonexistent/docker";
	ck_assert_int_eq(compose_cli_detect(&cfg, &other), -ENOENT);

	/* DOCKER_HOST and extra variables reach the children, nothing else */
	{
		const char *extra[] = { "DOCKER_CONFIG=/x", NULL };

		cfg.docker = DOCKER_BIN;
		cfg.docker_host = "unix:///var/run/docker.sock";
		cfg.extra_env = extra;
		ck_assert_int_eq(compose_cli_detect(&cfg, &other), 0);
		ck_assert_str_eq(spawn_env_get(compose_cli_env(other), "DOCKER_HOST"),
		    "unix:///var/run/docker.sock");
		ck_assert_str_eq(spawn_env_get(compose_cli_env(other), "DOCKER_CONFIG"), "/x");
		other = compose_cli_free(other);
	}
}
END_TEST

/*
 * argv, cwd and environment as the compose command sees them, for both
 * flavours, through fake commands (shell scripts, in this test only) that
 * print what they got. The plugin cannot be installed on Debian 12, so
 * this is where the plugin flavour's command line is pinned.
 */
static const char fake_compose_script[] =
	"#!/bin/sh\n"
	"case \"$1 $2\" in\n"
	"'compose version') echo 'Docker Compose version v2.99.0-fake'; exit 0;;\n"
	"'version ') echo 'docker-compose version 1.29.2-fake, build x'; exit 0;;\n"
	"esac\n"
	"for a in \"$@\"; do echo \"arg=$a\"; done\n"
	"echo \"cwd=$(pwd -P)\"\n"
	"echo \"PATH=$PATH\"; echo \"HOME=$HOME\"; echo \"LANG=$LANG\"\n"
	"echo \"DOCKER_HOST=${DOCKER_HOST-unset}\"; echo \"OTHER=${MCADMIN_OTHER-unset}\"\n"
	"for a in \"$@\"; do [ \"$a\" = fail ] && { echo boom >&2; exit 3; }; done\n"
	"exit 0\n";

static char *
fake_command(const char *dir_rel, const char *name)
{
	_cleanup_free_ char *rel = NULL;
	char *path;

	ck_assert_int_ge(asprintf(&rel, "%s/%s", dir_rel, name), 0);
	tmpdir_write(run_td, rel, fake_compose_script);
	path = tmpdir_join(run_td, rel);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

START_TEST(test_compose_command_line)
{
	_cleanup_free_ char *dir_rel = NULL, *docker = NULL, *standalone = NULL, *want = NULL;
	_cleanup_free_ char *real_dir = NULL, *text = NULL;
	struct compose_cli_config cfg = { .home = "/var/lib/mc-admin" };
	const char *cmd[] = { "rcon-cli", "say hi there", NULL };
	const char *words[] = { "say", "hello", NULL };
	const char *fail[] = { "ps", "fail", NULL };
	struct compose_cli *c = NULL;
	struct spawn_result res;

	setenv("MCADMIN_OTHER", "must-not-leak", 1);
	ck_assert_int_ge(asprintf(&dir_rel, "fakebin-%s", server_id), 0);
	docker = fake_command(dir_rel, "docker");
	standalone = fake_command(dir_rel, "docker-compose");
	real_dir = realpath(project_dir, NULL);
	ck_assert_ptr_nonnull(real_dir);

	/* plugin: `<docker> compose version` works */
	cfg.docker = docker;
	cfg.docker_host = "unix:///run/docker.sock";
	ck_assert_int_eq(compose_cli_detect(&cfg, &c), 0);
	ck_assert_int_eq(compose_cli_flavour(c), COMPOSE_FLAVOUR_PLUGIN);
	ck_assert_str_eq(compose_cli_version(c), "Docker Compose version v2.99.0-fake");
	ck_assert_int_eq(compose_cli_exec(c, project_dir, "1000", cmd, 10000, &res), 0);
	ck_assert_int_ge(asprintf(&want, "arg=compose\narg=--project-directory\narg=%s\n"
	    "arg=exec\narg=-T\narg=--user\narg=1000\narg=mc\narg=rcon-cli\narg=say hi there\n"
	    "cwd=%s\nPATH=" SPAWN_DEFAULT_PATH "\nHOME=/var/lib/mc-admin\nLANG=C.UTF-8\n"
	    "DOCKER_HOST=unix:///run/docker.sock\nOTHER=unset\n", project_dir, real_dir), 0);
	ck_assert_str_eq(res.out, want);
	spawn_result_done(&res);
	free(want);

	ck_assert_int_eq(compose_cli_send_to_console(c, project_dir, 1000, words, 10000, &res), 0);
	ck_assert(strstr(res.out, "arg=exec\narg=-T\narg=--user\narg=1000\narg=mc\n"
	    "arg=mc-send-to-console\narg=say\narg=hello\ncwd="));
	spawn_result_done(&res);

	/* a failure gives the §11.5 text with argv[0] as run */
	ck_assert_int_eq(compose_cli_run(c, project_dir, fail, 10000, &res), -EIO);
	ck_assert_int_eq(res.exit_status, 3);
	ck_assert_int_eq(compose_cli_error_text(c, &res, &text), 0);
	ck_assert_int_ge(asprintf(&want, "Failed to exec command: %s\nboom\n\n%s", docker, res.out),
	    0);
	ck_assert_str_eq(text, want);
	spawn_result_done(&res);
	c = compose_cli_free(c);
	free(want);

	/* standalone (configured): PATH starts with the configured docker's directory */
	cfg.command = standalone;
	cfg.docker = DOCKER_BIN;
	cfg.docker_host = NULL;
	ck_assert_int_eq(compose_cli_detect(&cfg, &c), 0);
	ck_assert_int_eq(compose_cli_flavour(c), COMPOSE_FLAVOUR_STANDALONE);
	ck_assert_str_eq(compose_cli_command(c), standalone);
	ck_assert_int_eq(compose_cli_op(c, project_dir, COMPOSE_OP_UP, 10000, &res), 0);
	ck_assert_int_ge(asprintf(&want, "arg=--project-directory\narg=%s\narg=up\narg=-d\n"
	    "cwd=%s\nPATH=/usr/bin:" SPAWN_DEFAULT_PATH "\nHOME=/var/lib/mc-admin\n"
	    "LANG=C.UTF-8\nDOCKER_HOST=unset\nOTHER=unset\n", project_dir, real_dir), 0);
	ck_assert_str_eq(res.out, want);
	spawn_result_done(&res);
	for (int op = 0; op < COMPOSE_OP_MAX; op++) {
		_cleanup_free_ char *line = NULL;

		ck_assert_int_eq(compose_cli_op(c, project_dir, op, 10000, &res), 0);
		ck_assert_int_ge(asprintf(&line, "arg=%s\n", compose_op_to_string(op)), 0);
		ck_assert(strstr(res.out, line));
		spawn_result_done(&res);
	}
	c = compose_cli_free(c);

	/* the plugin word wins over a standalone binary when both exist */
	cfg.command = NULL;
	cfg.docker = docker;
	cfg.path = "/nonexistent";
	ck_assert_int_eq(compose_cli_detect(&cfg, &c), 0);
	ck_assert_int_eq(compose_cli_flavour(c), COMPOSE_FLAVOUR_PLUGIN);
	c = compose_cli_free(c);
}
END_TEST

START_TEST(test_compose_bad_args)
{
	const char *args[] = { "ps", NULL };
	const char *none[] = { NULL };
	struct spawn_result res;

	ck_assert_int_eq(compose_cli_run(cli, "relative", args, 1000, &res), -EINVAL);
	ck_assert_int_eq(compose_cli_run(cli, project_dir, none, 1000, &res), -EINVAL);
	ck_assert_int_eq(compose_cli_run(cli, project_dir, args, 0, &res), -EINVAL);
	ck_assert_int_eq(compose_cli_op(cli, project_dir, COMPOSE_OP_MAX, 1000, &res), -EINVAL);
	ck_assert_int_eq(compose_cli_exec(cli, project_dir, "", args, 1000, &res), -EINVAL);
	ck_assert_int_eq(compose_cli_send_to_console(cli, project_dir, 1000, none, 1000, &res),
	    -EINVAL);
	ck_assert_ptr_null(res.out);
}
END_TEST

static Suite *
docker_suite(void)
{
	Suite *s = suite_create("docker");
	TCase *tc;

	tc = tcase_create("pure");
	tcase_add_loop_test(tc, test_decoder, 0, (int)ELEMENTSOF(decoder_cases));
	tcase_add_test(tc, test_decoder_stop);
	tcase_add_test(tc, test_enums);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ping);
	tcase_add_test(tc, test_inspect_missing);
	tcase_add_loop_test(tc, test_names, 0, (int)ELEMENTSOF(name_cases));
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_threads);
	tcase_add_loop_test(tc, test_fake_daemon, 0, (int)ELEMENTSOF(fake_cases));
	tcase_add_test(tc, test_fake_list_parse);
	tcase_add_test(tc, test_compose_detect);
	tcase_add_test(tc, test_compose_command_line);
	tcase_add_test(tc, test_compose_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("containers");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown_containers);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_logs_multiplexed);
	tcase_add_test(tc, test_cancel_and_timeouts);
	suite_add_tcase(s, tc);
	return s;
}

/* Remove whatever a killed test left behind (containers of this run). */
static void
sweep(void)
{
	_cleanup_free_ char *prefix = NULL;
	struct docker_container_list l;
	struct docker *d = NULL;

	if (asprintf(&prefix, "mc-dk%s", run_token) < 0 || docker_new(NULL, &d) < 0)
		return;
	if (docker_container_list(d, prefix, &l, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			fprintf(stderr, "check_docker: removing leftover container '%s'\n",
			    l.items[i].name);
			remove_server(l.items[i].name + 3);
		}
		docker_container_list_done(&l);
	}
	docker_free(d);
}

int
main(void)
{
	const char *skip = getenv("MC_ADMIN_SKIP_DOCKER");
	_cleanup_free_ char *script = NULL, *out = NULL;
	struct docker_error e;
	struct docker *d = NULL;
	uint8_t rnd[4];
	SRunner *sr;
	int nfailed, r;

	if (skip && parse_bool_env(skip) == 1) {
		fprintf(stderr, "check_docker: MC_ADMIN_SKIP_DOCKER is set, skipping\n");
		return 77;
	}
	if (docker_global_init() < 0)
		return EXIT_FAILURE;
	if (docker_new(NULL, &d) < 0)
		return EXIT_FAILURE;
	r = docker_ping(d, &e);
	d = docker_free(d);
	if (r < 0) {
		fprintf(stderr, "check_docker: FAIL: the Docker daemon does not answer on %s "
		    "(%s: %s).\nThese tests need a running dockerd that this user may use; "
		    "set MC_ADMIN_SKIP_DOCKER=1 to skip them.\n", DOCKER_SOCKET_DEFAULT,
		    strerror(-r), e.message);
		return EXIT_FAILURE;
	}

	/* the run's identity and directory exist before any test forks */
	if (random_bytes(rnd, sizeof(rnd)) < 0)
		return EXIT_FAILURE;
	(void)snprintf(run_token, sizeof(run_token), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	{
		/* tmpdir_new() asserts, which Check allows inside tests only;
		 * tmpdir_free() (no asserts) removes it at the end */
		const char *base = getenv("TMPDIR");

		run_td = calloc(1, sizeof(*run_td));
		if (!run_td || asprintf(&run_td->path, "%s/mcadmin-check-docker-XXXXXX",
		    base && *base ? base : "/tmp") < 0 || !mkdtemp(run_td->path))
			return EXIT_FAILURE;
		run_td->fd = open(run_td->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (run_td->fd < 0)
			return EXIT_FAILURE;
	}

	if (asprintf(&home_dir, "%s/home", run_td->path) < 0 || mkdir(home_dir, 0700) < 0)
		return EXIT_FAILURE;
	{
		struct compose_cli_config cfg = {
			.command = getenv("MC_ADMIN_TEST_COMPOSE"),
			.docker = DOCKER_BIN,
			.home = home_dir,
		};

		r = compose_cli_detect(&cfg, &cli);
		if (r < 0) {
			fprintf(stderr, "check_docker: FAIL: no working compose command (%s): "
			    "install docker-compose or the docker compose plugin\n", strerror(-r));
			run_td = tmpdir_free(run_td);
			return EXIT_FAILURE;
		}
		fprintf(stderr, "check_docker: compose: %s (%s)\n", compose_cli_command(cli),
		    compose_cli_version(cli));
	}

	if (asprintf(&script, "%s/tests/mcsim/build-image.sh", test_srcdir()) < 0)
		return EXIT_FAILURE;
	{
		const char *argv[] = { "/bin/bash", script, NULL };
		int64_t t0 = now_monotonic_usec();

		r = run_cmd(argv, 300 * 1000, &out);
		if (r < 0) {
			fprintf(stderr, "check_docker: FAIL: cannot build the mcsim image "
			    "with '%s' (%s):\n%s\n", script, strerror(-r), out ? out : "");
			run_td = tmpdir_free(run_td);
			return EXIT_FAILURE;
		}
		fprintf(stderr, "check_docker: mcsim image ready in %lld ms\n",
		    (long long)((now_monotonic_usec() - t0) / 1000));
	}

	sr = srunner_create(docker_suite());
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);

	sweep();
	cli = compose_cli_free(cli);
	run_td = tmpdir_free(run_td);
	free(home_dir);
	docker_global_cleanup();
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
