/* SPDX-License-Identifier: MIT */
/*
 * servers: the Minecraft server domain (API-core §11) shared by every
 * subsystem that works on a server: id rules, the project directory and its
 * data directory as fds, the compose candidate file (§11.1), "exists", the
 * status (§11.4) through the Docker Engine API, the 409 status rendering,
 * and per-server serialisation of changes. The HTTP endpoints of §12 live
 * in src/api/h_servers*.c on top of this.
 *
 * Server ids (DECISIONS "server ids unvalidated → fix"): ^[A-Za-z0-9_-]{1,50}$.
 * Anything else is refused before the disk or docker is touched (-EINVAL).
 * Ids that are equal when lower-cased are the same server, because compose
 * derives the project name from the lower-cased directory name: a lookup
 * tries the exact directory name first and then the one directory whose
 * name matches case-insensitively; the directory's own name is the
 * canonical id (server_ref.id) and everything after the lookup (container
 * name mc-<id>, compose project directory, name check of the compose file)
 * uses that. Creation refuses an id that matches an existing directory
 * case-insensitively (§12.9 "already exists").
 *
 * Directories: the project directory <server_path>/<id> and its data/ are
 * opened with O_DIRECTORY|O_NOFOLLOW relative to the server_path fd, so a
 * symlink in either place is refused (-ELOOP), never followed. server_path
 * itself is configuration and is trusted (symlinks in it are followed).
 *
 * Status (§11.4) from one inspect of the container mc-<id>; the §11.4 rules
 * become:
 *   1. no compose candidate file              → REMOVED
 *   2. no container named mc-<id> (404)       → EXISTS
 *   3. container not running: created, exited,
 *      dead, removing                         → CREATED
 *   4. running with health "starting"         → STARTING
 *   5. running, any other health (none,
 *      unhealthy); also paused and restarting → RUNNING
 *   6. running and healthy                    → HEALTHY
 * "paused" and "restarting" count as running-like because their process
 * exists (stop/down work on them, the frontend shows those buttons); the
 * compose CLI's `ps` shows neither consistently across flavours (v1 lists
 * stopped containers too, which is one reason the CLI is not used here).
 *
 * Errors (-errno) shared by the functions below:
 *   -EINVAL     bad server id
 *   -ENOENT     the server does not exist (no directory / no compose file)
 *   -ELOOP      the project or data directory is a symlink
 *   -EHOSTDOWN  docker unreachable, or not configured (→ 503)
 *   -ETIMEDOUT  docker did not answer in time (→ 504)
 *   -EIO, -EBADMSG, -EMSGSIZE  docker answered with an error / garbage
 *   -ENOMEM
 * This module does not log except at debug level.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "outbound/compose-cli.h"
#include "outbound/docker.h"

#define SERVERS_ID_MAX		50
#define SERVERS_CONTAINER_PREFIX "mc-"
#define SERVERS_DATA_DIR	"data"
/* The compose file written for a new server (§12.9 step 6). */
#define SERVERS_COMPOSE_DEFAULT	"docker-compose.yml"
/* Largest compose file read or accepted (the YAML tree's own limit). */
#define SERVERS_COMPOSE_MAX	(1024 * 1024)

enum server_status {
	SERVER_STATUS_REMOVED,
	SERVER_STATUS_EXISTS,
	SERVER_STATUS_CREATED,
	SERVER_STATUS_RUNNING,
	SERVER_STATUS_STARTING,
	SERVER_STATUS_HEALTHY,
	SERVER_STATUS_MAX,
};

struct docker;
struct compose_cli;
struct monitor_sampler;

struct servers_config {
	const char *server_path;	/* required; a relative path is made absolute */
	const char *proc_root;		/* NULL = "/proc" */
	const char *cgroup_root;	/* NULL = "/sys/fs/cgroup" */
	/* Borrowed, owned by the caller (main), may be NULL: */
	const struct docker *docker;	/* NULL: status and monitoring answer -EHOSTDOWN */
	const struct compose_cli *cli;	/* NULL: lifecycle answers -EHOSTDOWN */
	struct monitor_sampler *sampler;	/* NULL: cpu_percent answers 503 */
	int64_t command_timeout_ms;	/* compose commands; 0 = 300 s */
	int64_t rcon_timeout_ms;	/* RCON and rcon-cli; 0 = 30 s */
};

struct servers;

/*
 * Build the context (copies what it needs from cfg; the borrowed objects
 * must outlive it). Nothing is opened yet: server_path is opened per call,
 * so a server_path created after start-up works. 0, -EINVAL (no
 * server_path), -ENOMEM.
 */
int servers_new(const struct servers_config *cfg, struct servers **ret);
/* NULL-safe; returns NULL. */
struct servers *servers_free(struct servers *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct servers *, servers_free);

/* The settings in force (after defaults); owned by s. */
const struct servers_config *servers_config(const struct servers *s);

/* 0 when id matches ^[A-Za-z0-9_-]{1,50}$, else -EINVAL. NULL-safe. */
int servers_id_check(const char *id);

/* "REMOVED" … "HEALTHY"; NULL when out of range. */
const char *server_status_to_string(enum server_status st);
/* The reference's text inside 409 details: "MCServerStatus.EXISTS". */
const char *server_status_repr(enum server_status st);
/* RUNNING, STARTING or HEALTHY (§11.4 "running-like"). */
bool server_status_running_like(enum server_status st);

/*
 * Rules 2-6 above for an inspected container (NULL: none exists → EXISTS).
 * Pure; exposed for tests.
 */
enum server_status server_status_from_container(const struct docker_container *c);

/* server_path opened O_RDONLY|O_DIRECTORY|O_CLOEXEC; the caller closes it. -errno. */
int servers_root_open(const struct servers *s);

/* A resolved server: release with server_ref_done(). */
struct server_ref {
	char id[SERVERS_ID_MAX + 1];	/* canonical id: the directory's own name */
	int dir_fd;			/* the project directory (O_DIRECTORY|O_CLOEXEC) */
	const char *compose_file;	/* the §11.1 candidate found (a static string) */
};
#define SERVER_REF_INIT { .id = "", .dir_fd = -1, .compose_file = NULL }
void server_ref_done(struct server_ref *ref);

/*
 * Resolve an existing server: a project directory (exact name, else the
 * case-insensitive match) holding a compose candidate file (§11.1 order:
 * docker-compose.yml, docker-compose.yaml, compose.yml, compose.yaml).
 * Returns 0 and fills *ret, -EINVAL (bad id), -ENOENT (no directory or no
 * compose file: "not found"), -ELOOP (symlinked project directory), -errno.
 */
int servers_open(const struct servers *s, const char *id, struct server_ref *ret);

/*
 * The same for a directory that may lack a compose file: 0 and *ret with
 * compose_file == NULL when there is none. -ENOENT only when there is no
 * directory at all.
 */
int servers_open_dir(const struct servers *s, const char *id, struct server_ref *ret);

/* 1 when the server exists (servers_open() succeeds), 0 when not, -EINVAL, -errno. */
int servers_exists(const struct servers *s, const char *id);

/* The first §11.1 candidate in the project directory dir_fd that is a regular
 * file (a symlink or a directory with that name does not count); 0 and a
 * static name, -ENOENT when none, -errno. */
int servers_compose_find(int dir_fd, const char **ret_name);

/*
 * Open the data directory of a resolved server (O_DIRECTORY|O_NOFOLLOW|
 * O_CLOEXEC; the caller closes it). -ENOENT (missing), -ELOOP (symlink),
 * -ENOTDIR, -errno. It is the base fd for pathsafe (§13).
 */
int servers_data_open(const struct server_ref *ref);

/* "<server_path>/<id>", absolute (the compose project directory). malloc'd. */
int servers_project_path(const struct servers *s, const struct server_ref *ref, char **ret);

/* "mc-<id>" into buf (at least SERVERS_ID_MAX + 4 bytes). */
void servers_container_name(const struct server_ref *ref, char *buf, size_t n);

/*
 * Read the compose file of a resolved server (at most SERVERS_COMPOSE_MAX
 * bytes, no NUL bytes). 0 and a malloc'd NUL-terminated text and its
 * length, -ENOENT (vanished), -EFBIG (too large), -EBADMSG (a NUL byte),
 * -errno.
 */
int servers_compose_read(const struct server_ref *ref, char **ret_text, size_t *ret_len);

/*
 * Status (§11.4, mapping above). Resolves id itself: an unknown or invalid
 * id is REMOVED (0), not an error (§12.3). When ret_container is not NULL
 * and the status is at least CREATED, it receives the inspected container
 * (release with docker_container_done()); otherwise it is zeroed.
 * ret_error (may be NULL) gets docker's detail on failure.
 * Returns 0, -EHOSTDOWN, -ETIMEDOUT, -EIO, -EBADMSG, -ENOMEM.
 */
int servers_status(const struct servers *s, const char *id, enum server_status *ret,
    struct docker_container *ret_container, struct docker_error *ret_error);
/* The same for an already resolved server (never REMOVED unless its compose
 * file is gone). */
int servers_status_ref(const struct servers *s, const struct server_ref *ref,
    enum server_status *ret, struct docker_container *ret_container,
    struct docker_error *ret_error);

/*
 * Per-server serialisation of changes (lifecycle, compose replace, remove,
 * create, populate): one mutex per lower-cased id (striped), so two changes
 * of the same server never interleave while reads stay lock-free.
 * servers_lock() blocks; it returns a handle for servers_unlock().
 */
struct servers_lock;
struct servers_lock *servers_lock(struct servers *s, const char *id);
/* Serialises creations among themselves (§12.9: the port-conflict check and
 * the write must not race another creation). Release with servers_unlock(). */
struct servers_lock *servers_lock_create(struct servers *s);
void servers_unlock(struct servers_lock *l);
static inline void
servers_unlockp(struct servers_lock **l)
{
	if (*l)
		servers_unlock(*l);
}

/* ---- actions.c: discovery, compose CLI, RCON ---------------------------- */

/* One directory of server_path, as discovery (§11.2) sees it. */
struct servers_entry {
	const char *name;		/* the directory's name */
	int error;			/* 0, or why it cannot be a server: -EINVAL (name
					 * is not a valid id), -ENOENT (no compose file),
					 * -ELOOP (symlink), -EFBIG, -EBADMSG, -errno */
	const char *compose_file;	/* when error == 0 */
	const char *text;		/* the compose text, when error == 0 */
	size_t len;
};

/*
 * Walk server_path in directory order (§11.2 step 1, not sorted) and call
 * fn for every entry except ".", ".." and non-directories (regular files are
 * never servers). fn returns 0 to go on, anything else stops the walk and is
 * returned. Returns 0, fn's value, or -errno when server_path cannot be
 * read (→ 500 "Failed to get servers: …").
 */
typedef int (*servers_entry_fn)(const struct servers_entry *e, void *userdata);
int servers_discover(const struct servers *s, servers_entry_fn fn, void *userdata);

/*
 * Run one lifecycle command (§11.5) in the project directory of ref, with
 * the configured timeout. Returns 0, -EHOSTDOWN (no compose command was
 * found at start-up), -ETIMEDOUT, -EIO (non-zero exit: *ret_error gets the
 * §11.5 text "Failed to exec command: …"), -errno. *ret_error (may be NULL)
 * is malloc'd or NULL.
 */
int servers_compose_op(const struct servers *s, const struct server_ref *ref, enum compose_op op,
    char **ret_error);

/*
 * One RCON command on a resolved, running server (§12.5, §12.11).
 *
 * Direct first: TCP to the published RCON port (the first port whose target
 * is 25575 and whose published value is one number) on its host_ip (none,
 * 0.0.0.0 → 127.0.0.1; :: → ::1), authenticated with RCON_PASSWORD from
 * the compose environment, else "password=" of data/.rcon-cli.env (what the
 * image writes when it generates one). Falls back to `compose exec mc
 * rcon-cli <command>` when direct RCON is not possible: RCON disabled, no
 * published port, no password known, connection refused or reset, password
 * refused. A timeout does not fall back (the server is stuck; trying again
 * would double the wait).
 *
 * On success *ret_output is the raw output (malloc'd; clean it with
 * rcon_output_clean()) and *ret_direct (may be NULL) tells which way was
 * used. Returns 0, -ETIMEDOUT, -EMSGSIZE (command over
 * RCON_REQUEST_PAYLOAD_MAX bytes, or an answer over RCON_OUTPUT_MAX),
 * -EHOSTDOWN (fallback needed but no compose command), -EIO (rcon-cli
 * failed: *ret_error has the text), -errno. The password never appears in
 * *ret_error.
 */
int servers_rcon(const struct servers *s, const struct server_ref *ref, const char *command,
    char **ret_output, char **ret_error, bool *ret_direct);
