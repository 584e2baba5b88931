/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "spawn/spawn.h"

/* poll() tick while waiting for the child without a pidfd (kernel < 5.3) */
#define NO_PIDFD_TICK_MS	20
/* bytes read per read() call */
#define READ_CHUNK		16384

/* One output stream of the child: a pipe read end and a bounded buffer. */
struct sink {
	int fd;			/* -1 once EOF was seen or we gave up */
	size_t max;
	bool truncated;
	struct strbuf buf;
};

enum phase {
	PHASE_RUN,		/* waiting for the child; deadline = timeout */
	PHASE_TERM,		/* timed out, SIGTERM sent; deadline = SIGKILL */
	PHASE_KILL,		/* SIGKILL sent; deadline = stop reading */
	PHASE_DRAIN,		/* child exited, pipes still open; deadline = give up */
};

static void
posix_spawn_file_actions_destroyp(posix_spawn_file_actions_t **fa)
{
	if (*fa)
		(void)posix_spawn_file_actions_destroy(*fa);
}

static void
posix_spawnattr_destroyp(posix_spawnattr_t **a)
{
	if (*a)
		(void)posix_spawnattr_destroy(*a);
}

static void
close_pair(int p[2])
{
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			(void)close(p[i]);
		p[i] = -1;
	}
}

/*
 * The child-side ends are dup2()ed onto 0, 1 and 2; if one of them already
 * *is* 0, 1 or 2 (the process was started with stdio closed), the order of
 * the dup2 actions could clobber it. Keep all our fds above 2.
 */
static int
fd_above_stdio(int *fd)
{
	int n;

	if (*fd > 2)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -errno;
	(void)close(*fd);
	*fd = n;
	return 0;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

const char *
spawn_env_get(const char *const *env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

/* 0 for an executable regular file, else -ENOENT (missing, not a file) or -EACCES */
static int
check_executable(const char *p)
{
	struct stat st;

	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	if (!(st.st_mode & 0111) || access(p, X_OK) < 0)
		return -EACCES;
	return 0;
}

int
spawn_find_executable(const char *name, const char *path, char **ret_path)
{
	const char *p, *end;
	char *found;

	if (!name || !*name || !ret_path)
		return -EINVAL;
	if (strchr(name, '/')) {
		int r = check_executable(name);

		if (r < 0)
			return r;
		found = strdup(name);
		if (!found)
			return -ENOMEM;
		*ret_path = found;
		return 0;
	}
	if (!path)
		return -ENOENT;
	for (p = path; *p; p = *end ? end + 1 : end) {
		size_t dl;

		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		/* relative components would depend on our cwd: skip them, and "" too */
		if (dl == 0 || *p != '/')
			continue;
		if (asprintf(&found, "%.*s/%s", (int)dl, p, name) < 0)
			return -ENOMEM;
		if (check_executable(found) == 0) {
			*ret_path = found;
			return 0;
		}
		free(found);
	}
	return -ENOENT;
}

char **
spawn_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static size_t
env_key_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : 0;
}

int
spawn_env_new(const char *path, const char *home, const char *const *extra, char ***ret_env)
{
	static const char *const base_keys[] = { "PATH", "HOME", "LANG" };
	char **env = NULL;
	size_t n_extra = 0, n = 0;
	int r;

	if (!home || home[0] != '/' || !ret_env)
		return -EINVAL;
	for (; extra && extra[n_extra]; n_extra++) {
		size_t kl = env_key_len(extra[n_extra]);

		if (kl == 0)
			return -EINVAL;
		for (size_t j = 0; j < n_extra; j++)
			if (env_key_len(extra[j]) == kl &&
			    strncmp(extra[j], extra[n_extra], kl) == 0)
				return -EINVAL;
	}

	env = calloc(ELEMENTSOF(base_keys) + n_extra + 1, sizeof(char *));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(base_keys); i++) {
		const char *v = i == 0 ? (path ? path : SPAWN_DEFAULT_PATH) :
		    i == 1 ? home : "C.UTF-8";
		bool overridden = false;

		for (size_t j = 0; j < n_extra; j++)
			if (env_key_len(extra[j]) == strlen(base_keys[i]) &&
			    startswith(extra[j], base_keys[i]))
				overridden = true;
		if (overridden)
			continue;
		if (asprintf(&env[n], "%s=%s", base_keys[i], v) < 0) {
			env[n] = NULL;
			r = -ENOMEM;
			goto fail;
		}
		n++;
	}
	for (size_t j = 0; j < n_extra; j++) {
		env[n] = strdup(extra[j]);
		if (!env[n]) {
			r = -ENOMEM;
			goto fail;
		}
		n++;
	}
	env[n] = NULL;
	*ret_env = env;
	return 0;
fail:
	spawn_env_free(env);
	return r;
}

void
spawn_result_done(struct spawn_result *result)
{
	if (!result)
		return;
	free(result->out);
	free(result->err);
	*result = (struct spawn_result){ 0 };
}

int
spawn_result_check(const struct spawn_result *result)
{
	if (result->timed_out)
		return -ETIMEDOUT;
	return result->exited && result->exit_status == 0 ? 0 : -EIO;
}

int
spawn_error_text(const char *argv0, const struct spawn_result *result, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	int r;

	r = strbuf_printf(&sb, "Failed to exec command: %s\n", argv0 ? argv0 : "");
	if (r >= 0)
		r = strbuf_append(&sb, result->err ? result->err : "", result->err_len);
	if (r >= 0 && result->err_truncated)
		r = strbuf_puts(&sb, "[stderr truncated]");
	if (r >= 0)
		r = strbuf_putc(&sb, '\n');
	if (r >= 0)
		r = strbuf_append(&sb, result->out ? result->out : "", result->out_len);
	if (r >= 0 && result->out_truncated)
		r = strbuf_puts(&sb, "[stdout truncated]");
	if (r >= 0 && result->timed_out)
		r = strbuf_puts(&sb, "\n(timed out: process group killed)");
	else if (r >= 0 && !result->exited && result->term_signal > 0)
		r = strbuf_printf(&sb, "\n(killed by signal %d)", result->term_signal);
	if (r < 0) {
		strbuf_free(&sb);
		return r;
	}
	s = strbuf_steal(&sb);
	if (!s)
		return -ENOMEM;
	*ret_text = s;
	return 0;
}

/* Read what is there; returns 0, or -errno on a real error (EOF closes the fd). */
static int
sink_read(struct sink *s)
{
	char chunk[READ_CHUNK];
	ssize_t l;

	l = read(s->fd, chunk, sizeof(chunk));
	if (l < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	if (l == 0) {
		(void)close(s->fd);
		s->fd = -1;
		return 0;
	}
	if ((size_t)l > s->max - s->buf.len) {
		s->truncated = true;
		l = (ssize_t)(s->max - s->buf.len);
	}
	return l > 0 ? strbuf_append(&s->buf, chunk, (size_t)l) : 0;
}

static void
sink_close(struct sink *s)
{
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
}

/* Has the child exited? Does not reap it (WNOWAIT), so its pid stays ours. */
static bool
child_has_exited(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;	/* someone else reaped it: nothing to wait for */
	return si.si_pid == pid;
}

/*
 * Signal the child's process group, and the child itself in case it left the
 * group (setsid/setpgid). Safe: the child is not reaped yet, so its pid (and
 * the group id, which is the same number) cannot belong to anybody else.
 */
static void
kill_all(pid_t pid, int sig)
{
	(void)kill(-pid, sig);
	(void)kill(pid, sig);
}

static int
msec_until(int64_t deadline_usec, int64_t now_usec)
{
	int64_t ms;

	if (deadline_usec <= now_usec)
		return 0;
	ms = (deadline_usec - now_usec + 999) / 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * The poll loop: feed stdin, drain stdout/stderr, notice the exit, enforce
 * the deadlines. Returns 0 or -errno (the caller then kills and reaps).
 */
static int
supervise(pid_t pid, int pidfd, int *in_fd, const void *in_data, size_t in_len,
    struct sink *out, struct sink *err, int64_t timeout_ms, int64_t grace_ms,
    bool *ret_timed_out)
{
	enum phase phase = PHASE_RUN;
	int64_t deadline = timeout_ms > 0 ? now_monotonic_usec() + timeout_ms * 1000 : 0;
	size_t in_off = 0;
	bool exited = false;
	int r;

	*ret_timed_out = false;
	while (out->fd >= 0 || err->fd >= 0 || !exited) {
		struct pollfd pfd[4];
		int n = 0, i_out = -1, i_err = -1, i_in = -1, i_pid = -1, tmo = -1;
		int64_t now = now_monotonic_usec();

		if (deadline > 0 && now >= deadline) {
			switch (phase) {
			case PHASE_RUN:
				*ret_timed_out = true;
				kill_all(pid, SIGTERM);
				phase = PHASE_TERM;
				deadline = now + grace_ms * 1000;
				break;
			case PHASE_TERM:
				kill_all(pid, SIGKILL);
				phase = PHASE_KILL;
				deadline = now + grace_ms * 1000;
				break;
			case PHASE_DRAIN:
				/* whatever it left behind holds our pipes: end it */
				(void)kill(-pid, SIGKILL);
				sink_close(out);
				sink_close(err);
				return 0;
			case PHASE_KILL:
				/* SIGKILLed and still holding the pipes (another session?):
				 * stop reading; waitpid() collects the child */
				sink_close(out);
				sink_close(err);
				return 0;
			}
			continue;
		}

		if (out->fd >= 0) {
			i_out = n;
			pfd[n++] = (struct pollfd){ .fd = out->fd, .events = POLLIN };
		}
		if (err->fd >= 0) {
			i_err = n;
			pfd[n++] = (struct pollfd){ .fd = err->fd, .events = POLLIN };
		}
		if (*in_fd >= 0) {
			i_in = n;
			pfd[n++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
		}
		if (!exited && pidfd >= 0) {
			i_pid = n;
			pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		}
		if (deadline > 0)
			tmo = msec_until(deadline, now);
		if (!exited && pidfd < 0 && (tmo < 0 || tmo > NO_PIDFD_TICK_MS))
			tmo = NO_PIDFD_TICK_MS;

		if (poll(pfd, (nfds_t)n, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}

		if (i_out >= 0 && pfd[i_out].revents) {
			r = sink_read(out);
			if (r < 0)
				return r;
		}
		if (i_err >= 0 && pfd[i_err].revents) {
			r = sink_read(err);
			if (r < 0)
				return r;
		}
		if (i_in >= 0 && pfd[i_in].revents) {
			ssize_t l = 0;

			if (in_off < in_len)
				l = send(*in_fd, (const char *)in_data + in_off, in_len - in_off,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (l < 0 && errno != EAGAIN && errno != EINTR) {
				/* the child closed its stdin (EPIPE): it does not want more */
				(void)close(*in_fd);
				*in_fd = -1;
			} else if (l > 0) {
				in_off += (size_t)l;
			}
			if (*in_fd >= 0 && in_off >= in_len) {
				(void)close(*in_fd);	/* EOF for the child */
				*in_fd = -1;
			}
		}
		if (!exited && ((i_pid >= 0 && pfd[i_pid].revents) ||
		    (pidfd < 0 && child_has_exited(pid)))) {
			exited = true;
			if ((out->fd >= 0 || err->fd >= 0) && phase == PHASE_RUN) {
				int64_t d = now_monotonic_usec() + grace_ms * 1000;

				phase = PHASE_DRAIN;
				if (deadline == 0 || d < deadline)
					deadline = d;
			}
		}
	}
	return 0;
}

static void
spawn_setup_attr(posix_spawnattr_t *attr)
{
	sigset_t none, all;

	/* a clean start whatever the calling thread blocked or ignored: SIGPIPE
	 * ignored in the server must not be ignored in docker */
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	(void)posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	(void)posix_spawnattr_setpgroup(attr, 0);
	(void)posix_spawnattr_setsigmask(attr, &none);
	(void)posix_spawnattr_setsigdefault(attr, &all);
}

int
spawn_run(const struct spawn_options *opts, struct spawn_result *result)
{
	static const char *const empty_env[] = { NULL };
	_cleanup_free_ char *exe = NULL;
	posix_spawn_file_actions_t fa_storage;
	posix_spawnattr_t attr_storage;
	_cleanup_(posix_spawn_file_actions_destroyp) posix_spawn_file_actions_t *fa = NULL;
	_cleanup_(posix_spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
	_cleanup_close_ int pidfd = -1;
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, in_p[2] = { -1, -1 };
	struct sink out = { .fd = -1 }, err = { .fd = -1 };
	const char *const *envp;
	const char *path;
	int64_t t0, grace;
	bool timed_out = false;
	pid_t pid;
	int r, status;

	if (!result)
		return -EINVAL;
	*result = (struct spawn_result){ 0 };
	if (!opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0] || opts->timeout_ms < 0 ||
	    opts->kill_grace_ms < 0 || (opts->stdin_len > 0 && !opts->stdin_data))
		return -EINVAL;
	envp = opts->envp ? opts->envp : empty_env;
	grace = opts->kill_grace_ms > 0 ? opts->kill_grace_ms : SPAWN_KILL_GRACE_MS_DEFAULT;

	/* Checked here although posix_spawn() reports exec and chdir failures
	 * too: the errors are then the same under valgrind, whose emulation of
	 * glibc's vfork-style clone loses them (the child just exits 127). */
	path = spawn_env_get(envp, "PATH");
	r = spawn_find_executable(opts->argv[0], path ? path : SPAWN_FALLBACK_PATH, &exe);
	if (r < 0)
		return r;
	if (opts->cwd) {
		struct stat st;

		if (stat(opts->cwd, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}

	out.max = opts->stdout_max ? opts->stdout_max : SPAWN_OUTPUT_MAX_DEFAULT;
	err.max = opts->stderr_max ? opts->stderr_max : SPAWN_OUTPUT_MAX_DEFAULT;
	strbuf_init(&out.buf, out.max);
	strbuf_init(&err.buf, err.max);

	/* every fd is O_CLOEXEC from birth: another thread may spawn right now */
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if (opts->stdin_data &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_p) < 0) {
		r = -errno;
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		if ((r = fd_above_stdio(&out_p[i])) < 0 || (r = fd_above_stdio(&err_p[i])) < 0 ||
		    (in_p[i] >= 0 && (r = fd_above_stdio(&in_p[i])) < 0))
			goto fail;
	}
	if ((r = set_nonblock(out_p[0])) < 0 || (r = set_nonblock(err_p[0])) < 0 ||
	    (in_p[0] >= 0 && (r = set_nonblock(in_p[0])) < 0))
		goto fail;

	r = -posix_spawn_file_actions_init(&fa_storage);
	if (r < 0)
		goto fail;
	fa = &fa_storage;
	r = -posix_spawnattr_init(&attr_storage);
	if (r < 0)
		goto fail;
	attr = &attr_storage;

	if (in_p[1] >= 0)
		r = -posix_spawn_file_actions_adddup2(fa, in_p[1], STDIN_FILENO);
	else
		r = -posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (r >= 0)
		r = -posix_spawn_file_actions_adddup2(fa, out_p[1], STDOUT_FILENO);
	if (r >= 0)
		r = -posix_spawn_file_actions_adddup2(fa, err_p[1], STDERR_FILENO);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	/* belt and braces for fds that libraries open without O_CLOEXEC (libcurl
	 * 7.88's internal socketpair, for one): the child keeps 0, 1 and 2 only */
	if (r >= 0)
		r = -posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
	if (r >= 0 && opts->cwd)
		r = -posix_spawn_file_actions_addchdir_np(fa, opts->cwd);
	if (r < 0)
		goto fail;
	spawn_setup_attr(attr);

	t0 = now_monotonic_usec();
	r = -posix_spawn(&pid, exe, fa, attr, (char *const *)opts->argv, (char *const *)envp);
	if (r < 0)
		goto fail;

	/* the child's ends live on in the child only */
	(void)close(out_p[1]);
	(void)close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (in_p[1] >= 0) {
		(void)close(in_p[1]);
		in_p[1] = -1;
	}
	out.fd = TAKE_FD(out_p[0]);
	err.fd = TAKE_FD(err_p[0]);

	/* a pidfd makes the exit pollable; the child is not reaped before the end,
	 * so neither its pid nor its process group id can be reused meanwhile */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	r = supervise(pid, pidfd, &in_p[0], opts->stdin_data, opts->stdin_len, &out, &err,
	    opts->timeout_ms, grace, &timed_out);
	if (r < 0)
		kill_all(pid, SIGKILL);		/* we cannot supervise it: end it */
	sink_close(&out);
	sink_close(&err);
	close_pair(in_p);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			if (r >= 0)
				r = -errno;
			status = 0;
			break;
		}
	}
	if (r < 0)
		goto fail;

	result->pid = pid;
	result->duration_usec = now_monotonic_usec() - t0;
	result->timed_out = timed_out;
	if (WIFEXITED(status)) {
		result->exited = true;
		result->exit_status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		result->term_signal = WTERMSIG(status);
	}
	result->out_len = out.buf.len;
	result->err_len = err.buf.len;
	result->out_truncated = out.truncated;
	result->err_truncated = err.truncated;
	result->out = strbuf_steal(&out.buf);
	result->err = strbuf_steal(&err.buf);
	if (!result->out || !result->err) {
		spawn_result_done(result);
		return -ENOMEM;
	}
	return timed_out ? -ETIMEDOUT : 0;

fail:
	/* ends already handed over or closed are -1 here */
	close_pair(out_p);
	close_pair(err_p);
	close_pair(in_p);
	strbuf_free(&out.buf);
	strbuf_free(&err.buf);
	*result = (struct spawn_result){ 0 };
	return r;
}
