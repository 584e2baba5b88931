/* SPDX-License-Identifier: MIT */
/*
 * spawn: run one external program to completion (API-core §11.5).
 *
 * - posix_spawn() with an argv array and an explicit environment, never a
 *   shell. argv[0] without a '/' is looked up in the PATH of the *child's*
 *   environment (envp), not ours; without a PATH there, "/bin:/usr/bin" is
 *   searched, which is what the reference's empty environment gives.
 * - stdin is /dev/null, or a socket that receives stdin_data and is then
 *   shut down (a socket rather than a pipe so that a child that exits early
 *   cannot raise SIGPIPE in a worker thread: we write with MSG_NOSIGNAL).
 * - stdout and stderr are read through pipes with poll() into buffers with a
 *   hard maximum each; what does not fit is read and thrown away (so the
 *   child never blocks on a full pipe) and the result is flagged truncated.
 * - The child gets its own process group (POSIX_SPAWN_SETPGROUP), an empty
 *   signal mask and default signal dispositions. When the timeout passes, the
 *   whole group gets SIGTERM, then SIGKILL after kill_grace_ms, so helpers
 *   the program started (docker-compose v1 runs "docker exec") die with it;
 *   the program itself is signalled directly too, in case it left the group.
 *   Processes that started a session of their own (setsid) are beyond reach.
 * - When the program exits but something it left behind keeps the output
 *   pipes open, they are drained for kill_grace_ms at most; the rest of its
 *   process group is then killed with SIGKILL and the result is returned.
 * - The child is reaped with waitpid(). Its exit is noticed through a pidfd
 *   (waitid(WNOWAIT) polling on kernels without pidfd_open), so the pid, and
 *   with it the process group id, stays reserved until every signal is sent.
 *
 * Thread safety: spawn_run() keeps no state and may be called from many
 * threads at once. Every fd it creates is O_CLOEXEC from birth (pipe2,
 * socketpair with SOCK_CLOEXEC, pidfds), so a program spawned by another
 * thread at the same moment never inherits them; the child gets exactly
 * 0, 1 and 2. This relies on the rest of the process opening its fds with
 * O_CLOEXEC too (house rule, STYLE.md §7).
 * Requirements on the process: nobody reaps children it did not spawn
 * (no waitpid(-1), SIGCHLD not set to SIG_IGN), or the exit status is lost
 * (-ECHILD).
 *
 * Errors are -errno; this module does not log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* PATH of the minimal environment built by spawn_env_new() */
#define SPAWN_DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* searched when argv[0] has no '/' and the child's environment has no PATH */
#define SPAWN_FALLBACK_PATH	"/bin:/usr/bin"
/* output bound when spawn_options.stdout_max / stderr_max is 0 */
#define SPAWN_OUTPUT_MAX_DEFAULT	(1024 * 1024)
/* SIGTERM → SIGKILL grace when spawn_options.kill_grace_ms is 0 */
#define SPAWN_KILL_GRACE_MS_DEFAULT	2000

struct spawn_options {
	const char *const *argv;	/* NULL-terminated, argv[0] non-empty */
	const char *const *envp;	/* the child's whole environment; NULL = empty */
	const char *cwd;		/* working directory of the child; NULL = ours */
	const void *stdin_data;		/* NULL: stdin is /dev/null */
	size_t stdin_len;
	size_t stdout_max;		/* bytes kept; 0 = SPAWN_OUTPUT_MAX_DEFAULT */
	size_t stderr_max;		/* bytes kept; 0 = SPAWN_OUTPUT_MAX_DEFAULT */
	int64_t timeout_ms;		/* > 0; 0 = no timeout (avoid in servers) */
	int64_t kill_grace_ms;		/* 0 = SPAWN_KILL_GRACE_MS_DEFAULT */
};

struct spawn_result {
	pid_t pid;		/* also the process group id (for tests and logs) */
	bool exited;		/* exit_status is valid */
	int exit_status;	/* 0…255 */
	int term_signal;	/* signal that ended it, 0 when it exited */
	bool timed_out;		/* the timeout passed and the group was killed */
	char *out;		/* NUL-terminated, never NULL after spawn_run() filled it */
	size_t out_len;
	bool out_truncated;	/* more than stdout_max bytes were written */
	char *err;
	size_t err_len;
	bool err_truncated;
	int64_t duration_usec;	/* from spawn to reaping */
};

/*
 * Run opts->argv and wait for it (see the top of this file).
 *
 * Returns 0 when the program ran and was reaped (whatever its exit status:
 * see spawn_result_check()), -ETIMEDOUT when the timeout passed and its
 * process group was killed, -ENOENT/-EACCES (program), -ENOENT/-ENOTDIR
 * (cwd) or another -errno when it could not be started, -EINVAL for bad
 * options, -ENOMEM.
 * *result is filled on 0 and on -ETIMEDOUT (the partial output helps with the
 * error message) and zeroed otherwise; release it with spawn_result_done() in
 * every case.
 */
int spawn_run(const struct spawn_options *opts, struct spawn_result *result);

/* Free the buffers of a result and zero it. NULL-safe, idempotent. */
void spawn_result_done(struct spawn_result *result);

/* 0 when the program exited with status 0, -ETIMEDOUT when it timed out, else -EIO. */
int spawn_result_check(const struct spawn_result *result);

/*
 * The error text of API-core §11.5:
 *   "Failed to exec command: <argv0>\n<stderr>\n<stdout>"
 * "[stderr truncated]" / "[stdout truncated]" after a truncated stream, and
 * a last line "(timed out: process group killed)" or "(killed by signal N)"
 * when that is what happened.
 * Returns 0 and a malloc'd string, or -ENOMEM.
 */
int spawn_error_text(const char *argv0, const struct spawn_result *result, char **ret_text);

/*
 * The explicit minimal environment for children:
 *   PATH=<path, or SPAWN_DEFAULT_PATH when NULL>, HOME=<home>, LANG=C.UTF-8,
 * then every "KEY=VALUE" of extra (NULL-terminated, may be NULL) in order; an
 * extra entry replaces a base entry with the same KEY (e.g. DOCKER_HOST=…).
 * Nothing is inherited from our own environment.
 * Returns 0 and a NULL-terminated malloc'd array (free with spawn_env_free()),
 * -EINVAL (home not absolute, an entry without '=' or with an empty KEY,
 * a KEY given twice in extra) or -ENOMEM.
 */
int spawn_env_new(const char *path, const char *home, const char *const *extra,
    char ***ret_env);

/* Free an environment from spawn_env_new(); returns NULL. */
char **spawn_env_free(char **env);

/* Value of KEY in a NULL-terminated "KEY=VALUE" array, or NULL. */
const char *spawn_env_get(const char *const *env, const char *key);

/*
 * Look an executable up the way execvp() would, but in the given PATH
 * string; empty and relative components are skipped (they would depend on
 * our cwd, not the child's). A name containing
 * '/' is checked as it is. Returns 0 and a malloc'd absolute-or-as-given path,
 * -ENOENT when no executable regular file was found, -EINVAL, -ENOMEM.
 */
int spawn_find_executable(const char *name, const char *path, char **ret_path);
