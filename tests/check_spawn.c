/* SPDX-License-Identifier: MIT */
/*
 * spawn/: exit codes and signals, output capture and its bound, stdin,
 * timeouts that kill the whole process group (SIGTERM, then SIGKILL), the
 * explicit environment, cwd, no fd leaks into the child or in the parent,
 * and many threads spawning at once. /bin/sh appears in these tests only,
 * as a convenient child; the module itself never runs a shell.
 *
 * The test binary doubles as a child: "check_spawn list-fds" prints the fds
 * it was started with (see main()).
 */
#include "autoconf.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "helpers.h"
#include "spawn/spawn.h"

#define SH "/bin/sh"

static char self_exe[4096];

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Is a process (not a zombie) with this pid, or in this process group, alive? */
static bool
proc_alive(pid_t pid, pid_t pgrp)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool alive = false;

	ck_assert_ptr_nonnull(d);
	while (!alive && (de = readdir(d))) {
		char path[300], buf[512], state;
		const char *rp;
		int p, g, pp;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		ck_assert_int_lt(snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name),
		    (int)sizeof(path));
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		/* "pid (comm) S ppid pgrp …": comm may contain spaces */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(buf, "%d", &p) != 1 ||
		    sscanf(rp + 2, "%c %d %d", &state, &pp, &g) != 3)
			continue;
		if (state == 'Z' || state == 'X')
			continue;
		if ((pid > 0 && p == pid) || (pgrp > 0 && g == pgrp))
			alive = true;
	}
	closedir(d);
	return alive;
}

/* Wait (up to 3 s) for the reaper of orphans to finish them. */
static bool
proc_gone(pid_t pid, pid_t pgrp)
{
	for (int i = 0; i < 300; i++) {
		if (!proc_alive(pid, pgrp))
			return true;
		usleep(10000);
	}
	return false;
}

/* The first line of a child's output as a number (a pid it printed). */
static pid_t
pid_from(const char *out)
{
	char line[32];
	int64_t v;
	size_t l = strcspn(out, "\n");

	ck_assert_uint_lt(l, sizeof(line));
	memcpy(line, out, l);
	line[l] = '\0';
	ck_assert_int_eq(parse_int64(line, 1, INT32_MAX, &v), 0);
	return (pid_t)v;
}

static int
run(const char *const *argv, const char *const *envp, int64_t timeout_ms,
    struct spawn_result *res)
{
	struct spawn_options o = {
		.argv = argv,
		.envp = envp,
		.timeout_ms = timeout_ms,
	};

	return spawn_run(&o, res);
}

/* ---- exit status and signals ---- */

static const struct {
	const char *script;
	bool exited;
	int status;
	int sig;
} exit_cases[] = {
	{ "exit 0", true, 0, 0 },
	{ "exit 1", true, 1, 0 },
	{ "exit 42", true, 42, 0 },
	{ "exit 255", true, 255, 0 },
	{ "kill -TERM $$", false, 0, SIGTERM },
	{ "kill -KILL $$", false, 0, SIGKILL },
	{ "kill -SEGV $$", false, 0, SIGSEGV },
};

START_TEST(test_exit_status)
{
	const char *argv[] = { SH, "-c", exit_cases[_i].script, NULL };
	struct spawn_result res;

	ck_assert_int_eq(run(argv, NULL, 10000, &res), 0);
	ck_assert_int_eq(res.exited, exit_cases[_i].exited);
	ck_assert_int_eq(res.exit_status, exit_cases[_i].status);
	ck_assert_int_eq(res.term_signal, exit_cases[_i].sig);
	ck_assert(!res.timed_out);
	ck_assert_int_gt(res.pid, 0);
	ck_assert_int_eq(spawn_result_check(&res),
	    exit_cases[_i].exited && exit_cases[_i].status == 0 ? 0 : -EIO);
	spawn_result_done(&res);
}
END_TEST

/* Ignored and blocked signals in the parent are not inherited. */
START_TEST(test_signal_state_reset)
{
	const char *pipe_argv[] = { SH, "-c", "kill -PIPE $$; echo survived", NULL };
	const char *term_argv[] = { SH, "-c", "kill -TERM $$; echo survived", NULL };
	struct spawn_result res;
	sigset_t block, old;

	ck_assert(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	ck_assert_int_eq(run(pipe_argv, NULL, 10000, &res), 0);
	ck_assert_int_eq(res.term_signal, SIGPIPE);
	ck_assert_str_eq(res.out, "");
	spawn_result_done(&res);
	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
	ck_assert_int_eq(run(term_argv, NULL, 10000, &res), 0);
	ck_assert_int_eq(res.term_signal, SIGTERM);
	spawn_result_done(&res);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}
END_TEST

/* ---- output ---- */

START_TEST(test_capture)
{
	const char *argv[] = {
		SH, "-c", "printf 'out\\n'; printf 'err\\n' >&2; printf 'a\\000b'", NULL,
	};
	struct spawn_result res;

	ck_assert_int_eq(run(argv, NULL, 10000, &res), 0);
	ck_assert_int_eq(res.out_len, 7);
	ck_assert_mem_eq(res.out, "out\na\0b", 7);
	ck_assert_int_eq(res.out[7], '\0');
	ck_assert_str_eq(res.err, "err\n");
	ck_assert(!res.out_truncated && !res.err_truncated);
	spawn_result_done(&res);
	spawn_result_done(&res);	/* idempotent */
}
END_TEST

static const struct {
	const char *script;
	size_t stdout_max, stderr_max;
	size_t want_out, want_err;
	bool out_trunc, err_trunc;
} bound_cases[] = {
	/* 10 MB on stdout, 64 KiB kept */
	{ "head -c 10000000 /dev/zero", 65536, 0, 65536, 0, true, false },
	/* 10 MB on stderr, default bound (1 MiB) */
	{ "head -c 10000000 /dev/zero >&2", 0, 0, 0, SPAWN_OUTPUT_MAX_DEFAULT, false, true },
	/* exactly the bound is not truncated */
	{ "head -c 1000 /dev/zero", 1000, 0, 1000, 0, false, false },
	{ "head -c 1001 /dev/zero; head -c 5 /dev/zero >&2", 1000, 4, 1000, 4, true, true },
};

START_TEST(test_output_bound)
{
	const char *argv[] = { SH, "-c", bound_cases[_i].script, NULL };
	struct spawn_options o = {
		.argv = argv,
		.timeout_ms = 30000,
		.stdout_max = bound_cases[_i].stdout_max,
		.stderr_max = bound_cases[_i].stderr_max,
	};
	struct spawn_result res;
	struct rusage ru0, ru1;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru0), 0);
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru1), 0);
	/* the child was never blocked on a full pipe and exited normally */
	ck_assert(res.exited);
	ck_assert_int_eq(res.exit_status, 0);
	ck_assert_uint_eq(res.out_len, bound_cases[_i].want_out);
	ck_assert_uint_eq(res.err_len, bound_cases[_i].want_err);
	ck_assert_int_eq(res.out_truncated, bound_cases[_i].out_trunc);
	ck_assert_int_eq(res.err_truncated, bound_cases[_i].err_trunc);
	/* no memory blow-up: peak RSS grew by far less than the 10 MB written */
	ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 4 * 1024);	/* KiB */
	spawn_result_done(&res);
}
END_TEST

/* ---- stdin ---- */

START_TEST(test_stdin)
{
	const char *cat[] = { "/bin/cat", NULL };
	const char *wc[] = { SH, "-c", "wc -c", NULL };
	const char *ignore[] = { "/bin/true", NULL };
	const char *devnull[] = { SH, "-c", "cat; echo eof", NULL };
	size_t big_len = 3 * 1024 * 1024;
	_cleanup_free_ char *big = malloc(big_len);
	struct spawn_options o = { .timeout_ms = 30000 };
	struct spawn_result res;

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);

	o.argv = cat;
	o.stdin_data = "hello";
	o.stdin_len = 5;
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_str_eq(res.out, "hello");
	spawn_result_done(&res);

	/* more than any pipe buffer both ways at once: no deadlock */
	o.stdin_data = big;
	o.stdin_len = big_len;
	o.stdout_max = big_len;
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_uint_eq(res.out_len, big_len);
	ck_assert(memcmp(res.out, big, big_len) == 0);
	spawn_result_done(&res);

	o.argv = wc;
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_int_eq(pid_from(res.out), (pid_t)big_len);
	spawn_result_done(&res);

	/* a child that never reads: no SIGPIPE for us (we would die here) */
	o.argv = ignore;
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_int_eq(res.exit_status, 0);
	spawn_result_done(&res);

	/* without stdin_data, stdin is /dev/null: EOF at once */
	ck_assert_int_eq(run(devnull, NULL, 10000, &res), 0);
	ck_assert_str_eq(res.out, "eof\n");
	spawn_result_done(&res);
}
END_TEST

/* ---- timeouts and the process group ---- */

START_TEST(test_timeout_kills_group)
{
	/* the shell starts a grandchild and waits for it: both must die */
	const char *argv[] = { SH, "-c", "sleep 100 & echo $!; wait", NULL };
	struct spawn_options o = { .argv = argv, .timeout_ms = 300, .kill_grace_ms = 2000 };
	struct spawn_result res;
	int64_t t0 = now_monotonic_usec();
	pid_t grandchild;

	ck_assert_int_eq(spawn_run(&o, &res), -ETIMEDOUT);
	ck_assert(res.timed_out);
	ck_assert(!res.exited);
	ck_assert_int_eq(res.term_signal, SIGTERM);
	ck_assert_int_eq(spawn_result_check(&res), -ETIMEDOUT);
	grandchild = pid_from(res.out);
	ck_assert_int_gt(grandchild, 0);
	ck_assert(proc_gone(grandchild, res.pid));
	/* SIGTERM was enough: no grace period spent */
	ck_assert_int_lt(now_monotonic_usec() - t0, 1800 * 1000);
	spawn_result_done(&res);
}
END_TEST

START_TEST(test_timeout_sigkill)
{
	/* SIGTERM ignored (and inherited as ignored by sleep): SIGKILL after the grace */
	const char *argv[] = { SH, "-c", "trap '' TERM; sleep 100 & echo $!; wait; wait", NULL };
	struct spawn_options o = { .argv = argv, .timeout_ms = 200, .kill_grace_ms = 300 };
	struct spawn_result res;
	pid_t grandchild;

	ck_assert_int_eq(spawn_run(&o, &res), -ETIMEDOUT);
	ck_assert(res.timed_out);
	ck_assert_int_eq(res.term_signal, SIGKILL);
	ck_assert_int_ge(res.duration_usec, 500 * 1000);
	ck_assert_int_lt(res.duration_usec, 3000 * 1000);
	grandchild = pid_from(res.out);
	ck_assert_int_gt(grandchild, 0);
	ck_assert(proc_gone(grandchild, res.pid));
	spawn_result_done(&res);
}
END_TEST

START_TEST(test_leftover_holding_pipes)
{
	/* the program exits at once but leaves a process holding stdout */
	const char *argv[] = { SH, "-c", "sleep 100 & echo $!", NULL };
	struct spawn_options o = { .argv = argv, .timeout_ms = 20000, .kill_grace_ms = 300 };
	struct spawn_result res;
	pid_t grandchild;

	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert(res.exited && res.exit_status == 0 && !res.timed_out);
	ck_assert_int_lt(res.duration_usec, 5000 * 1000);
	grandchild = pid_from(res.out);
	ck_assert_int_gt(grandchild, 0);
	ck_assert(proc_gone(grandchild, res.pid));
	spawn_result_done(&res);
}
END_TEST

/* ---- environment and cwd ---- */

START_TEST(test_env_exact)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *envp[] = { "A=1", "B=two words", "EMPTY=", NULL };
	struct spawn_result res;

	setenv("MCADMIN_SHOULD_NOT_LEAK", "1", 1);
	ck_assert_int_eq(run(argv, envp, 10000, &res), 0);
	ck_assert_str_eq(res.out, "A=1\nB=two words\nEMPTY=\n");
	spawn_result_done(&res);

	ck_assert_int_eq(run(argv, NULL, 10000, &res), 0);
	ck_assert_str_eq(res.out, "");
	spawn_result_done(&res);
}
END_TEST

START_TEST(test_env_minimal)
{
	const char *argv[] = { "env", NULL };
	const char *extra[] = { "DOCKER_HOST=unix:///run/x.sock", NULL };
	char **env = NULL;
	struct spawn_result res;

	ck_assert_int_eq(spawn_env_new(NULL, "/var/lib/mc-admin", extra, &env), 0);
	ck_assert_int_eq(run(argv, (const char *const *)env, 10000, &res), 0);
	ck_assert_str_eq(res.out, "PATH=" SPAWN_DEFAULT_PATH "\nHOME=/var/lib/mc-admin\n"
	    "LANG=C.UTF-8\nDOCKER_HOST=unix:///run/x.sock\n");
	spawn_result_done(&res);
	env = spawn_env_free(env);
}
END_TEST

static const struct {
	const char *path, *home;
	const char *extra[4];
	int ret;
	const char *want[6];
} env_cases[] = {
	{ NULL, "/h", { NULL }, 0,
	  { "PATH=" SPAWN_DEFAULT_PATH, "HOME=/h", "LANG=C.UTF-8", NULL } },
	{ "/usr/bin:/bin", "/h", { "DOCKER_HOST=tcp://x:1", NULL }, 0,
	  { "PATH=/usr/bin:/bin", "HOME=/h", "LANG=C.UTF-8", "DOCKER_HOST=tcp://x:1", NULL } },
	/* an extra entry replaces the base one with the same key */
	{ NULL, "/h", { "LANG=C", "PATH=/x", NULL }, 0,
	  { "HOME=/h", "LANG=C", "PATH=/x", NULL } },
	{ NULL, "/h", { "PATHX=1", NULL }, 0,
	  { "PATH=" SPAWN_DEFAULT_PATH, "HOME=/h", "LANG=C.UTF-8", "PATHX=1", NULL } },
	{ NULL, "relative", { NULL }, -EINVAL, { NULL } },
	{ NULL, NULL, { NULL }, -EINVAL, { NULL } },
	{ NULL, "/h", { "NOEQUALS", NULL }, -EINVAL, { NULL } },
	{ NULL, "/h", { "=value", NULL }, -EINVAL, { NULL } },
	{ NULL, "/h", { "A=1", "A=2", NULL }, -EINVAL, { NULL } },
};

START_TEST(test_env_builder)
{
	char **env = NULL;
	size_t n;

	ck_assert_int_eq(spawn_env_new(env_cases[_i].path, env_cases[_i].home,
	    env_cases[_i].extra, &env), env_cases[_i].ret);
	if (env_cases[_i].ret < 0) {
		ck_assert_ptr_null(env);
		return;
	}
	for (n = 0; env_cases[_i].want[n]; n++) {
		ck_assert_ptr_nonnull(env[n]);
		ck_assert_str_eq(env[n], env_cases[_i].want[n]);
	}
	ck_assert_ptr_null(env[n]);
	ck_assert_str_eq(spawn_env_get((const char *const *)env, "HOME"), "/h");
	ck_assert_ptr_null(spawn_env_get((const char *const *)env, "HOM"));
	spawn_env_free(env);
}
END_TEST

START_TEST(test_cwd)
{
	struct tmpdir *td = tmpdir_new();
	_cleanup_free_ char *want = NULL, *missing = tmpdir_join(td, "missing");
	const char *argv[] = { "/bin/pwd", "-P", NULL };
	char real[4096];
	struct spawn_options o = { .argv = argv, .cwd = td->path, .timeout_ms = 10000 };
	struct spawn_result res;

	ck_assert_ptr_nonnull(realpath(td->path, real));
	ck_assert_int_ge(asprintf(&want, "%s\n", real), 0);
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	ck_assert_str_eq(res.out, want);
	spawn_result_done(&res);

	o.cwd = missing;
	ck_assert_int_eq(spawn_run(&o, &res), -ENOENT);
	ck_assert_ptr_null(res.out);
	tmpdir_free(td);
}
END_TEST

/* ---- lookup and errors ---- */

START_TEST(test_lookup_and_errors)
{
	struct tmpdir *td = tmpdir_new();
	_cleanup_free_ char *noexec = NULL;
	const char *true_argv[] = { "true", NULL };
	const char *missing_argv[] = { "/nonexistent/prog", NULL };
	const char *path_env[] = { "PATH=/nonexistent:relative::/usr/bin", NULL };
	const char *bad_path_env[] = { "PATH=/nonexistent", NULL };
	const char *empty_argv[] = { "", NULL };
	const char *noexec_argv[2] = { NULL, NULL };
	struct spawn_options o = { .argv = NULL, .timeout_ms = 1000 };
	struct spawn_result res;
	char *p = NULL;

	/* no '/': the child's PATH is searched; no PATH: /bin:/usr/bin */
	ck_assert_int_eq(run(true_argv, path_env, 10000, &res), 0);
	ck_assert_int_eq(res.exit_status, 0);
	spawn_result_done(&res);
	ck_assert_int_eq(run(true_argv, NULL, 10000, &res), 0);
	spawn_result_done(&res);
	ck_assert_int_eq(run(true_argv, bad_path_env, 10000, &res), -ENOENT);
	ck_assert_int_eq(run(missing_argv, NULL, 10000, &res), -ENOENT);
	ck_assert_int_eq(run(empty_argv, NULL, 10000, &res), -EINVAL);
	ck_assert_int_eq(spawn_run(&o, &res), -EINVAL);
	ck_assert_int_eq(spawn_run(NULL, &res), -EINVAL);

	tmpdir_write(td, "script", "#!/bin/sh\nexit 0\n");
	noexec = tmpdir_join(td, "script");
	noexec_argv[0] = noexec;
	ck_assert_int_eq(run(noexec_argv, NULL, 10000, &res), -EACCES);

	ck_assert_int_eq(spawn_find_executable("sh", "/nonexistent::/bin", &p), 0);
	ck_assert_str_eq(p, "/bin/sh");
	free(p);
	ck_assert_int_eq(spawn_find_executable("sh", "bin:usr/bin", &p), -ENOENT);
	ck_assert_int_eq(spawn_find_executable("/bin/sh", NULL, &p), 0);
	ck_assert_str_eq(p, "/bin/sh");
	free(p);
	ck_assert_int_eq(spawn_find_executable("/etc", "/bin", &p), -ENOENT);
	ck_assert_int_eq(spawn_find_executable("", "/bin", &p), -EINVAL);
	ck_assert_int_eq(spawn_find_executable(noexec, "/bin", &p), -EACCES);
	tmpdir_free(td);
}
END_TEST

START_TEST(test_error_text)
{
	struct spawn_result res = {
		.exited = true, .exit_status = 1,
		.out = (char *)"some out", .out_len = 8,
		.err = (char *)"no such service: mc", .err_len = 19,
	};
	char *t = NULL;

	ck_assert_int_eq(spawn_error_text("docker", &res, &t), 0);
	ck_assert_str_eq(t, "Failed to exec command: docker\nno such service: mc\nsome out");
	free(t);

	res.err_truncated = true;
	res.timed_out = true;
	res.exited = false;
	res.term_signal = SIGTERM;
	ck_assert_int_eq(spawn_error_text("docker", &res, &t), 0);
	ck_assert_str_eq(t, "Failed to exec command: docker\n"
	    "no such service: mc[stderr truncated]\nsome out\n(timed out: process group killed)");
	free(t);

	res = (struct spawn_result){ .term_signal = SIGKILL };
	ck_assert_int_eq(spawn_error_text("x", &res, &t), 0);
	ck_assert_str_eq(t, "Failed to exec command: x\n\n\n(killed by signal 9)");
	free(t);
}
END_TEST

/* ---- fds ---- */

/* Run ourselves in list-fds mode: what did the child get? */
static void
assert_child_fds_clean(void)
{
	const char *argv[] = { self_exe, "list-fds", NULL };
	struct spawn_result res;

	ck_assert_int_eq(run(argv, NULL, 20000, &res), 0);
	ck_assert_msg(res.exited && res.exit_status == 0, "list-fds failed: %s", res.err);
	ck_assert_msg(streq(res.out, "0 1 2 "), "child fds: '%s'", res.out);
	spawn_result_done(&res);
}

START_TEST(test_no_fd_leak)
{
	int leaky = dup(STDERR_FILENO);	/* no O_CLOEXEC, like a careless library */
	int leaky_pipe[2];
	int before;

	ck_assert_int_ge(leaky, 0);
	ck_assert_int_eq(pipe(leaky_pipe), 0);
	assert_child_fds_clean();
	close(leaky);
	close(leaky_pipe[0]);
	close(leaky_pipe[1]);

	/* and nothing stays open in the parent, whatever the outcome */
	before = count_fds();
	for (int i = 0; i < 3; i++) {
		const char *ok[] = { SH, "-c", "echo x; echo y >&2", NULL };
		const char *slow[] = { SH, "-c", "sleep 5", NULL };
		const char *missing[] = { "/nonexistent", NULL };
		struct spawn_options o = { .argv = slow, .timeout_ms = 50, .kill_grace_ms = 100 };
		struct spawn_result res;

		ck_assert_int_eq(run(ok, NULL, 10000, &res), 0);
		spawn_result_done(&res);
		ck_assert_int_eq(spawn_run(&o, &res), -ETIMEDOUT);
		spawn_result_done(&res);
		ck_assert_int_eq(run(missing, NULL, 10000, &res), -ENOENT);
		o.argv = ok;
		o.stdin_data = "in";
		o.stdin_len = 2;
		o.timeout_ms = 10000;
		ck_assert_int_eq(spawn_run(&o, &res), 0);
		spawn_result_done(&res);
	}
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* stdio closed in the parent: the pipes must not land on 0/1/2 and get lost */
START_TEST(test_stdio_closed_in_parent)
{
	const char *argv[] = { SH, "-c", "cat; echo out; echo err >&2", NULL };
	struct spawn_options o = {
		.argv = argv, .timeout_ms = 10000, .stdin_data = "in-", .stdin_len = 3,
	};
	struct spawn_result res;
	int saved[3];

	for (int i = 0; i < 3; i++) {
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		ck_assert_int_ge(saved[i], 0);
	}
	for (int i = 0; i < 3; i++)
		close(i);
	ck_assert_int_eq(spawn_run(&o, &res), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(dup2(saved[i], i), i);
		close(saved[i]);
	}
	ck_assert_str_eq(res.out, "in-out\n");
	ck_assert_str_eq(res.err, "err\n");
	spawn_result_done(&res);
}
END_TEST

/* ---- threads ---- */

#define THREADS		8
#define ITERATIONS	25

struct worker {
	int id;
	int failures;
	char why[256];
};

static void *
worker_main(void *p)
{
	struct worker *w = p;

	for (int i = 0; i < ITERATIONS && w->failures == 0; i++) {
		char tag[32];
		const char *argv[] = { SH, "-c", "printf '%s' \"$1\"; printf '%s' \"$1\" >&2", "sh",
		    tag, NULL };
		const char *fds[] = { self_exe, "list-fds", NULL };
		struct spawn_options o = { .argv = argv, .timeout_ms = 20000 };
		struct spawn_result res;
		int r;

		(void)snprintf(tag, sizeof(tag), "w%d-i%d", w->id, i);
		r = spawn_run(&o, &res);
		if (r < 0 || !streq(res.out, tag) || !streq(res.err, tag)) {
			w->failures++;
			(void)snprintf(w->why, sizeof(w->why), "r=%d out='%s' err='%s' want '%s'",
			    r, res.out ? res.out : "", res.err ? res.err : "", tag);
		}
		spawn_result_done(&res);

		o.argv = fds;
		r = spawn_run(&o, &res);
		if (r < 0 || !streq(res.out, "0 1 2 ")) {
			w->failures++;
			(void)snprintf(w->why, sizeof(w->why), "r=%d fds='%s'", r,
			    res.out ? res.out : "");
		}
		spawn_result_done(&res);
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	int before = count_fds();

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_msg(w[i].failures == 0, "thread %d: %s", i, w[i].why);
	}
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

static Suite *
spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc;

	tc = tcase_create("status");
	tcase_add_loop_test(tc, test_exit_status, 0, (int)ELEMENTSOF(exit_cases));
	tcase_add_test(tc, test_signal_state_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_capture);
	tcase_add_loop_test(tc, test_output_bound, 0, (int)ELEMENTSOF(bound_cases));
	tcase_add_test(tc, test_stdin);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_timeout_sigkill);
	tcase_add_test(tc, test_leftover_holding_pipes);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_test(tc, test_env_exact);
	tcase_add_test(tc, test_env_minimal);
	tcase_add_loop_test(tc, test_env_builder, 0, (int)ELEMENTSOF(env_cases));
	tcase_add_test(tc, test_cwd);
	tcase_add_test(tc, test_lookup_and_errors);
	tcase_add_test(tc, test_error_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("fds");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_no_fd_leak);
	tcase_add_test(tc, test_stdio_closed_in_parent);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

/* Child mode: print the open fds, not counting the one reading the directory. */
static int
list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return 1;
	while ((de = readdir(d))) {
		int64_t fd;

		if (de->d_name[0] == '.' || (parse_int64(de->d_name, 0, INT32_MAX, &fd) == 0 &&
		    fd == dirfd(d)))
			continue;
		printf("%s ", de->d_name);
	}
	closedir(d);
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	ssize_t l;
	int nfailed;

	if (argc == 2 && streq(argv[1], "list-fds"))
		return list_fds();

	l = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (l <= 0)
		return EXIT_FAILURE;
	self_exe[l] = '\0';

	sr = srunner_create(spawn_suite());
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
