/* SPDX-License-Identifier: MIT */
/* Discovery, lifecycle commands and RCON of the server domain (servers.h). */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "compose/compose.h"
#include "outbound/compose-cli.h"
#include "rcon/rcon.h"
#include "servers/servers.h"
#include "spawn/spawn.h"

#define RCON_ENV_FILE		".rcon-cli.env"
#define RCON_ENV_MAX		4096
#define RCON_TARGET		"25575"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* ---- discovery ----------------------------------------------------------- */

static int
entry_load(int root_fd, const char *name, struct servers_entry *e, char **ret_text)
{
	struct server_ref ref = SERVER_REF_INIT;
	struct stat st;
	int fd, r;

	if (servers_id_check(name) < 0)
		return -EINVAL;
	fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if ((errno == ENOTDIR || errno == ELOOP) &&
		    fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return -ELOOP;
		return -errno;
	}
	ref.dir_fd = fd;
	r = servers_compose_find(fd, &ref.compose_file);
	if (r >= 0)
		r = servers_compose_read(&ref, ret_text, &e->len);
	if (r >= 0)
		e->compose_file = ref.compose_file;
	server_ref_done(&ref);
	return r;
}

int
servers_discover(const struct servers *s, servers_entry_fn fn, void *userdata)
{
	_cleanup_close_ int root_fd = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	root_fd = servers_root_open(s);
	if (root_fd < 0)
		return root_fd;
	r = opendir_at(root_fd, &d);
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		struct servers_entry e = { .name = de->d_name };
		_cleanup_free_ char *text = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;	/* a file is never a server */
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(root_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !(S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
				continue;
		}
		e.error = entry_load(root_fd, de->d_name, &e, &text);
		e.text = text;
		if (e.error < 0)
			e.len = 0;
		r = fn(&e, userdata);
		if (r != 0)
			return r;
	}
	return errno != 0 ? -errno : 0;
}

/* ---- compose CLI --------------------------------------------------------- */

int
servers_compose_op(const struct servers *s, const struct server_ref *ref, enum compose_op op,
    char **ret_error)
{
	const struct servers_config *cfg = servers_config(s);
	struct spawn_result res = { 0 };
	_cleanup_free_ char *dir = NULL;
	int r;

	if (ret_error)
		*ret_error = NULL;
	if (!cfg->cli)
		return -EHOSTDOWN;
	r = servers_project_path(s, ref, &dir);
	if (r < 0)
		return r;
	r = compose_cli_op(cfg->cli, dir, op, cfg->command_timeout_ms, &res);
	if (r == -EIO && ret_error && compose_cli_error_text(cfg->cli, &res, ret_error) < 0)
		r = -ENOMEM;
	spawn_result_done(&res);
	return r;
}

/* ---- RCON ---------------------------------------------------------------- */

/* "password=" of data/.rcon-cli.env; 0 and a malloc'd secret, -ENOENT, -errno. */
static int
rcon_env_password(const struct server_ref *ref, char **ret)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	char buf[RCON_ENV_MAX + 1];
	struct stat st;
	ssize_t l;
	int r = -ENOENT;

	dfd = servers_data_open(ref);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, RCON_ENV_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	l = read(fd, buf, RCON_ENV_MAX);
	if (l < 0)
		return -errno;
	buf[l] = '\0';
	for (char *line = buf; line && *line; ) {
		char *nl = strchr(line, '\n');
		const char *v;

		if (nl)
			*nl = '\0';
		v = startswith(line, "password=");
		if (v) {
			size_t n = strcspn(v, "\r");
			char *p = n > 0 ? strndup(v, n) : NULL;

			if (n > 0 && !p)
				r = -ENOMEM;
			else if (p) {
				*ret = p;
				r = 0;
			}
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static void
free_secret(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
}

/*
 * Where and how a direct RCON connection goes. 0 with host/port/password,
 * or -ENOENT with a reason when it is not possible.
 */
static int
rcon_target(const struct server_ref *ref, char host[static 64], uint16_t *ret_port,
    char **ret_password, const char **ret_why)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(compose_freep) struct compose *c = NULL;
	const struct compose_service *mc;
	const struct compose_port *port = NULL;
	const char *ip, *pw;
	size_t len;
	int64_t p;
	int r;

	r = servers_compose_read(ref, &text, &len);
	if (r < 0) {
		*ret_why = "the compose file cannot be read";
		return -ENOENT;
	}
	r = compose_parse(text, len, &c, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !(mc = compose_mc(c))) {
		*ret_why = "the compose file is not valid";
		return -ENOENT;
	}
	if (!compose_rcon_enabled(c)) {
		*ret_why = "RCON is disabled (ENABLE_RCON)";
		return -ENOENT;
	}
	for (size_t i = 0; i < mc->n_ports; i++)
		if (mc->ports[i].target && streq(mc->ports[i].target, RCON_TARGET)) {
			port = &mc->ports[i];
			break;
		}
	if (!port || !port->published || parse_int64(port->published, 1, 65535, &p) < 0) {
		*ret_why = "the RCON port is not published as one host port";
		return -ENOENT;
	}
	if (port->protocol && !streq(port->protocol, "tcp")) {
		*ret_why = "the RCON port is not TCP";
		return -ENOENT;
	}
	ip = port->host_ip;
	if (!ip || !*ip || streq(ip, "0.0.0.0"))
		ip = "127.0.0.1";
	else if (streq(ip, "::") || streq(ip, "[::]"))
		ip = "::1";
	if (strlen(ip) >= 64) {
		*ret_why = "the RCON host address is too long";
		return -ENOENT;
	}
	memcpy(host, ip, strlen(ip) + 1);

	pw = compose_rcon_password(c);
	if (pw && *pw) {
		*ret_password = strdup(pw);
		if (!*ret_password)
			return -ENOMEM;
	} else {
		r = rcon_env_password(ref, ret_password);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			*ret_why = "no RCON password is known (RCON_PASSWORD, data/.rcon-cli.env)";
			return -ENOENT;
		}
	}
	*ret_port = (uint16_t)p;
	return 0;
}

/* Whether a failed direct attempt may be retried through rcon-cli. */
static bool
rcon_fall_back(int r)
{
	switch (-r) {
	case ETIMEDOUT:		/* stuck: rcon-cli would wait as long again */
	case EMSGSIZE:		/* too long either way */
	case ENOMEM:
		return false;
	default:		/* refused, reset, bad password, unreachable, bad host… */
		return true;
	}
}

static int
rcon_exec(const struct servers *s, const struct server_ref *ref, const char *command,
    char **ret_output, char **ret_error)
{
	const struct servers_config *cfg = servers_config(s);
	const char *argv[] = { "rcon-cli", command, NULL };
	struct spawn_result res = { 0 };
	_cleanup_free_ char *dir = NULL;
	int r;

	if (!cfg->cli)
		return -EHOSTDOWN;
	r = servers_project_path(s, ref, &dir);
	if (r < 0)
		return r;
	r = compose_cli_exec(cfg->cli, dir, /* user= */ NULL, argv, cfg->rcon_timeout_ms, &res);
	if (r == 0) {
		*ret_output = TAKE_PTR(res.out);
		res.out_len = 0;
	} else if (r == -EIO && ret_error && compose_cli_error_text(cfg->cli, &res, ret_error) < 0)
		r = -ENOMEM;
	spawn_result_done(&res);
	return r;
}

int
servers_rcon(const struct servers *s, const struct server_ref *ref, const char *command,
    char **ret_output, char **ret_error, bool *ret_direct)
{
	const struct servers_config *cfg = servers_config(s);
	__attribute__((cleanup(free_secret))) char *password = NULL;
	const char *why = NULL;
	char host[64];
	uint16_t port = 0;
	char *out = NULL;
	int r;

	if (ret_error)
		*ret_error = NULL;
	if (!command || !*command)
		return -EINVAL;
	if (strlen(command) > RCON_REQUEST_PAYLOAD_MAX)
		return -EMSGSIZE;

	r = rcon_target(ref, host, &port, &password, &why);
	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		int64_t ms = cfg->rcon_timeout_ms;

		r = rcon_command(host, port, password, command,
		    ms > UINT32_MAX ? UINT32_MAX : (unsigned)ms, &out, NULL);
		if (r == 0) {
			*ret_output = out;
			if (ret_direct)
				*ret_direct = true;
			return 0;
		}
		if (!rcon_fall_back(r))
			return r;
		log_debug_errno(r, "direct RCON to server '%s' failed: %m, trying rcon-cli",
		    ref->id);
	} else
		log_debug("direct RCON to server '%s' not possible: %s, using rcon-cli", ref->id,
		    why);

	r = rcon_exec(s, ref, command, ret_output, ret_error);
	if (r == 0 && ret_direct)
		*ret_direct = false;
	return r;
}
