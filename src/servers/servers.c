/* SPDX-License-Identifier: MIT */
/* The Minecraft server domain: ids, directories, status. Contract in servers.h. */
#include "autoconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "outbound/docker.h"
#include "pathsafe/pathsafe.h"
#include "servers/servers.h"

#define LOCK_STRIPES 64

struct servers_lock {
	pthread_mutex_t mutex;
};

struct servers {
	struct servers_config cfg;	/* strings below are our copies */
	char *server_path;
	char *proc_root;
	char *cgroup_root;
	struct servers_lock locks[LOCK_STRIPES];
	struct servers_lock create_lock;
};

static const char *const compose_candidates[] = {
	"docker-compose.yml",
	"docker-compose.yaml",
	"compose.yml",
	"compose.yaml",
};

static const char *const status_names[SERVER_STATUS_MAX] = {
	[SERVER_STATUS_REMOVED] = "REMOVED",
	[SERVER_STATUS_EXISTS] = "EXISTS",
	[SERVER_STATUS_CREATED] = "CREATED",
	[SERVER_STATUS_RUNNING] = "RUNNING",
	[SERVER_STATUS_STARTING] = "STARTING",
	[SERVER_STATUS_HEALTHY] = "HEALTHY",
};

static const char *const status_reprs[SERVER_STATUS_MAX] = {
	[SERVER_STATUS_REMOVED] = "MCServerStatus.REMOVED",
	[SERVER_STATUS_EXISTS] = "MCServerStatus.EXISTS",
	[SERVER_STATUS_CREATED] = "MCServerStatus.CREATED",
	[SERVER_STATUS_RUNNING] = "MCServerStatus.RUNNING",
	[SERVER_STATUS_STARTING] = "MCServerStatus.STARTING",
	[SERVER_STATUS_HEALTHY] = "MCServerStatus.HEALTHY",
};

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

int
servers_new(const struct servers_config *cfg, struct servers **ret)
{
	_cleanup_(servers_freep) struct servers *s = NULL;

	if (!cfg || !cfg->server_path || !*cfg->server_path)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&s->locks[i].mutex, NULL);
	pthread_mutex_init(&s->create_lock.mutex, NULL);
	s->cfg = *cfg;

	if (cfg->server_path[0] == '/')
		s->server_path = strdup(cfg->server_path);
	else {
		/* the compose CLI needs an absolute project directory */
		_cleanup_free_ char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return -errno;
		if (asprintf(&s->server_path, "%s/%s", cwd, cfg->server_path) < 0)
			s->server_path = NULL;
	}
	/* "/srv/mc/" → "/srv/mc": the project path is joined with one '/' */
	if (s->server_path) {
		size_t l = strlen(s->server_path);

		while (l > 1 && s->server_path[l - 1] == '/')
			s->server_path[--l] = '\0';
	}
	s->proc_root = strdup(cfg->proc_root ? cfg->proc_root : "/proc");
	s->cgroup_root = strdup(cfg->cgroup_root ? cfg->cgroup_root : "/sys/fs/cgroup");
	if (!s->server_path || !s->proc_root || !s->cgroup_root)
		return -ENOMEM;
	s->cfg.server_path = s->server_path;
	s->cfg.proc_root = s->proc_root;
	s->cfg.cgroup_root = s->cgroup_root;
	if (s->cfg.command_timeout_ms <= 0)
		s->cfg.command_timeout_ms = 300 * 1000;
	if (s->cfg.rcon_timeout_ms <= 0)
		s->cfg.rcon_timeout_ms = 30 * 1000;
	*ret = TAKE_PTR(s);
	return 0;
}

struct servers *
servers_free(struct servers *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_destroy(&s->locks[i].mutex);
	pthread_mutex_destroy(&s->create_lock.mutex);
	free(s->server_path);
	free(s->proc_root);
	free(s->cgroup_root);
	free(s);
	return NULL;
}

const struct servers_config *
servers_config(const struct servers *s)
{
	return &s->cfg;
}

int
servers_id_check(const char *id)
{
	size_t n = 0;

	if (!id)
		return -EINVAL;
	for (const char *p = id; *p; p++, n++) {
		unsigned char ch = (unsigned char)*p;

		if (n >= SERVERS_ID_MAX)
			return -EINVAL;
		if (!(isascii(ch) && (isalnum(ch) || ch == '_' || ch == '-')))
			return -EINVAL;
	}
	return n > 0 ? 0 : -EINVAL;
}

const char *
server_status_to_string(enum server_status st)
{
	return (unsigned)st < SERVER_STATUS_MAX ? status_names[st] : NULL;
}

const char *
server_status_repr(enum server_status st)
{
	return (unsigned)st < SERVER_STATUS_MAX ? status_reprs[st] : NULL;
}

bool
server_status_running_like(enum server_status st)
{
	return st == SERVER_STATUS_RUNNING || st == SERVER_STATUS_STARTING ||
	    st == SERVER_STATUS_HEALTHY;
}

enum server_status
server_status_from_container(const struct docker_container *c)
{
	if (!c)
		return SERVER_STATUS_EXISTS;
	switch (c->state) {
	case DOCKER_STATE_RUNNING:
		if (c->health == DOCKER_HEALTH_STARTING)
			return SERVER_STATUS_STARTING;
		if (c->health == DOCKER_HEALTH_HEALTHY)
			return SERVER_STATUS_HEALTHY;
		return SERVER_STATUS_RUNNING;
	case DOCKER_STATE_PAUSED:
	case DOCKER_STATE_RESTARTING:
		return SERVER_STATUS_RUNNING;
	case DOCKER_STATE_CREATED:
	case DOCKER_STATE_EXITED:
	case DOCKER_STATE_DEAD:
	case DOCKER_STATE_REMOVING:
	case DOCKER_STATE_UNKNOWN:
	case DOCKER_STATE_MAX:
		break;
	}
	return SERVER_STATUS_CREATED;
}

int
servers_root_open(const struct servers *s)
{
	return pathsafe_base_open(s->server_path, 0, 0);
}

void
server_ref_done(struct server_ref *ref)
{
	if (!ref)
		return;
	if (ref->dir_fd >= 0)
		(void)close(ref->dir_fd);
	ref->dir_fd = -1;
	ref->id[0] = '\0';
	ref->compose_file = NULL;
}

/* openat(O_DIRECTORY|O_NOFOLLOW) that reports a symlink as -ELOOP whatever
 * Linux says for that flag combination (ELOOP or ENOTDIR). */
static int
open_dir_nofollow(int dir_fd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOTDIR && fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -errno;
}

int
servers_compose_find(int dir_fd, const char **ret_name)
{
	for (size_t i = 0; i < ELEMENTSOF(compose_candidates); i++) {
		struct stat st;

		if (fstatat(dir_fd, compose_candidates[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -errno;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		*ret_name = compose_candidates[i];
		return 0;
	}
	return -ENOENT;
}

/*
 * Open <root>/<name> for ref. Returns 1 with a compose file, 0 without, or -errno.
 */
static int
ref_fill(int root_fd, const char *name, struct server_ref *ref)
{
	const char *compose = NULL;
	int fd, r;

	fd = open_dir_nofollow(root_fd, name);
	if (fd < 0)
		return fd;
	r = servers_compose_find(fd, &compose);
	if (r < 0 && r != -ENOENT) {
		(void)close(fd);
		return r;
	}
	if (ref->dir_fd >= 0)
		(void)close(ref->dir_fd);
	ref->dir_fd = fd;
	/* name was checked: at most SERVERS_ID_MAX bytes */
	(void)snprintf(ref->id, sizeof(ref->id), "%s", name);
	ref->compose_file = r == 0 ? compose : NULL;
	return r == 0;
}

/* The case-insensitive fallback: prefer a match that has a compose file. */
static int
ref_fill_casefold(int root_fd, const char *id, struct server_ref *ref)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int found = -ENOENT, r;

	r = opendir_at(root_fd, &d);
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		if (!strcaseeq(de->d_name, id) || servers_id_check(de->d_name) < 0)
			continue;
		r = ref_fill(root_fd, de->d_name, ref);
		if (r == 1)
			return 1;
		if (r == 0)
			found = 0;	/* keep looking for one with a compose file */
		else if (found == -ENOENT && r != -ENOENT)
			found = r;
	}
	if (errno != 0)
		return -errno;
	return found;
}

int
servers_open_dir(const struct servers *s, const char *id, struct server_ref *ret)
{
	_cleanup_close_ int root_fd = -1;
	struct server_ref ref = SERVER_REF_INIT;
	int r;

	if (servers_id_check(id) < 0)
		return -EINVAL;
	root_fd = servers_root_open(s);
	if (root_fd < 0)
		return root_fd;
	r = ref_fill(root_fd, id, &ref);
	if (r == -ENOENT)
		r = ref_fill_casefold(root_fd, id, &ref);
	if (r < 0) {
		server_ref_done(&ref);
		return r;
	}
	*ret = ref;
	return 0;
}

int
servers_open(const struct servers *s, const char *id, struct server_ref *ret)
{
	struct server_ref ref = SERVER_REF_INIT;
	int r;

	r = servers_open_dir(s, id, &ref);
	if (r < 0)
		return r;
	if (!ref.compose_file) {
		server_ref_done(&ref);
		return -ENOENT;
	}
	*ret = ref;
	return 0;
}

int
servers_exists(const struct servers *s, const char *id)
{
	struct server_ref ref = SERVER_REF_INIT;
	int r;

	r = servers_open(s, id, &ref);
	server_ref_done(&ref);
	if (r == -ENOENT || r == -ELOOP || r == -ENOTDIR)
		return 0;
	return r < 0 ? r : 1;
}

int
servers_data_open(const struct server_ref *ref)
{
	return open_dir_nofollow(ref->dir_fd, SERVERS_DATA_DIR);
}

int
servers_project_path(const struct servers *s, const struct server_ref *ref, char **ret)
{
	char *p;

	if (asprintf(&p, "%s/%s", s->server_path, ref->id) < 0)
		return -ENOMEM;
	*ret = p;
	return 0;
}

void
servers_container_name(const struct server_ref *ref, char *buf, size_t n)
{
	(void)snprintf(buf, n, SERVERS_CONTAINER_PREFIX "%s", ref->id);
}

int
servers_compose_read(const struct server_ref *ref, char **ret_text, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (!ref->compose_file)
		return -ENOENT;
	fd = openat(ref->dir_fd, ref->compose_file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	if (st.st_size > SERVERS_COMPOSE_MAX)
		return -EFBIG;
	buf = malloc(SERVERS_COMPOSE_MAX + 2);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t l = read(fd, buf + len, SERVERS_COMPOSE_MAX + 1 - len);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (l == 0)
			break;
		len += (size_t)l;
		if (len > SERVERS_COMPOSE_MAX)
			return -EFBIG;	/* it grew while we read */
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	*ret_text = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int
servers_status_ref(const struct servers *s, const struct server_ref *ref,
    enum server_status *ret, struct docker_container *ret_container,
    struct docker_error *ret_error)
{
	struct docker_container c = { 0 };
	char name[SERVERS_ID_MAX + sizeof(SERVERS_CONTAINER_PREFIX)];
	const char *compose;
	int r;

	if (ret_container)
		*ret_container = (struct docker_container){ 0 };
	if (ret_error)
		*ret_error = (struct docker_error){ 0 };
	/* rule 1 is checked again: the file may have gone since the lookup */
	if (servers_compose_find(ref->dir_fd, &compose) < 0) {
		*ret = SERVER_STATUS_REMOVED;
		return 0;
	}
	if (!s->cfg.docker) {
		if (ret_error)
			(void)snprintf(ret_error->message, sizeof(ret_error->message),
			    "docker is not configured");
		return -EHOSTDOWN;
	}
	servers_container_name(ref, name, sizeof(name));
	r = docker_container_inspect(s->cfg.docker, name, &c, ret_error);
	if (r == -ENOENT) {
		*ret = SERVER_STATUS_EXISTS;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = server_status_from_container(&c);
	if (ret_container)
		*ret_container = c;
	else
		docker_container_done(&c);
	return 0;
}

int
servers_status(const struct servers *s, const char *id, enum server_status *ret,
    struct docker_container *ret_container, struct docker_error *ret_error)
{
	struct server_ref ref = SERVER_REF_INIT;
	int r;

	if (ret_container)
		*ret_container = (struct docker_container){ 0 };
	if (ret_error)
		*ret_error = (struct docker_error){ 0 };
	r = servers_open(s, id, &ref);
	if (r == -EINVAL || r == -ENOENT || r == -ELOOP || r == -ENOTDIR) {
		*ret = SERVER_STATUS_REMOVED;
		return 0;
	}
	if (r < 0)
		return r;
	r = servers_status_ref(s, &ref, ret, ret_container, ret_error);
	server_ref_done(&ref);
	return r;
}

/* FNV-1a of the lower-cased id: "Foo" and "foo" share a stripe. */
static size_t
lock_stripe(const char *id)
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p; p++) {
		h ^= (uint32_t)tolower((unsigned char)*p);
		h *= 16777619u;
	}
	return h % LOCK_STRIPES;
}

struct servers_lock *
servers_lock(struct servers *s, const char *id)
{
	struct servers_lock *l = &s->locks[lock_stripe(id)];

	pthread_mutex_lock(&l->mutex);
	return l;
}

struct servers_lock *
servers_lock_create(struct servers *s)
{
	pthread_mutex_lock(&s->create_lock.mutex);
	return &s->create_lock;
}

void
servers_unlock(struct servers_lock *l)
{
	if (l)
		pthread_mutex_unlock(&l->mutex);
}
