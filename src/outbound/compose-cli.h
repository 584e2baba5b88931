/* SPDX-License-Identifier: MIT */
/*
 * compose-cli: container lifecycle through the compose command line
 * (API-core §11.5): `<compose> --project-directory <dir> <args…>`, run with
 * spawn_run() (no shell, an explicit minimal environment, cwd = the project
 * directory, a timeout that kills the whole process group).
 *
 * Flavours, chosen once at start-up by compose_cli_detect():
 *   - an explicit `command` from the configuration wins ("docker compose",
 *     "/usr/bin/docker-compose", …: words split on blanks, no quoting; the
 *     last word "compose" means the plugin flavour). It must answer
 *     `<command> version`, or start-up fails: no silent fallback;
 *   - else `<docker> compose version` exiting 0 means the plugin exists
 *     (docker 20.10 without the plugin says "'compose' is not a docker
 *     command" and exits 1);
 *   - else `docker-compose version` (standalone: v1 python, or a v2 binary);
 *   - else -ENOENT.
 * Executables are looked up once, in the children's PATH, and run by
 * absolute path afterwards.
 *
 * Children's environment (spawn_env_new()): PATH, HOME=<home>, LANG=C.UTF-8,
 * DOCKER_HOST when configured, plus extra_env. Nothing else is inherited
 * from the service (no DOCKER_*, COMPOSE_*, proxies by accident).
 *   - HOME is where the docker CLI reads ~/.docker/config.json and, for the
 *     plugin flavour, ~/.docker/cli-plugins; a plugin installed only under
 *     root's home is not found: install it system-wide
 *     (/usr/libexec/docker/cli-plugins, /usr/local/lib/docker/cli-plugins).
 *   - docker-compose v1 runs `exec` by running the `docker` binary it finds
 *     in PATH (compose/cli/main.py call_docker()). So that it is the same
 *     docker that was configured/detected, the standalone flavour's PATH
 *     starts with that binary's directory (e.g. "/usr/bin:" + PATH when
 *     docker = /usr/bin/docker, while /usr/local/bin/docker exists too).
 *     The plugin flavour talks to the API itself and needs no such care.
 *
 * `exec` is always run with -T (no TTY: we are not interactive, and v1
 * would otherwise ask the docker CLI for a TTY it cannot have); both
 * flavours accept `exec -T --user <uid> <service> <cmd…>`. Timing out an
 * exec kills the local compose/docker processes; a command already running
 * inside the container is NOT stopped by that (docker does not propagate
 * the client's death), so use timeouts above what the command needs.
 *
 * Project names: compose derives the project name from the directory's
 * base name and lower-cases it (v1 also drops characters outside
 * [a-z0-9_-]), so server ids "Foo" and "foo" share one project and one set
 * of containers/networks. DECISIONS treats ids equal when lower-cased.
 *
 * A struct compose_cli is immutable after detection and may be used by any
 * number of threads at once. This module does not log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spawn/spawn.h"

#define COMPOSE_SERVICE			"mc"	/* the one service of a server (§11.3) */
#define COMPOSE_DETECT_TIMEOUT_MS	15000

enum compose_flavour {
	COMPOSE_FLAVOUR_PLUGIN,		/* docker compose */
	COMPOSE_FLAVOUR_STANDALONE,	/* docker-compose */
	COMPOSE_FLAVOUR_MAX,
};

enum compose_op {
	COMPOSE_OP_UP,			/* up -d */
	COMPOSE_OP_START,		/* start */
	COMPOSE_OP_STOP,		/* stop */
	COMPOSE_OP_RESTART,		/* restart */
	COMPOSE_OP_DOWN,		/* down */
	COMPOSE_OP_MAX,
};

struct compose_cli_config {
	const char *command;		/* override, see above; NULL or "" = detect */
	const char *docker;		/* docker binary; NULL = "docker" in path */
	const char *path;		/* children's PATH; NULL = SPAWN_DEFAULT_PATH */
	const char *home;		/* children's HOME, absolute (required) */
	const char *docker_host;	/* children's DOCKER_HOST; NULL = not set */
	const char *const *extra_env;	/* more "KEY=VALUE" (DOCKER_CONFIG, …); may be NULL */
	int64_t detect_timeout_ms;	/* per `version` probe; 0 = COMPOSE_DETECT_TIMEOUT_MS */
};

struct compose_cli;

/*
 * Find the compose command (see above) and build the children's
 * environment. Returns 0 and *ret (free with compose_cli_free()), -ENOENT
 * when no compose command works (or the configured one does not), -EINVAL
 * (bad configuration: relative home, malformed extra_env, empty command),
 * -ENOMEM.
 */
int compose_cli_detect(const struct compose_cli_config *cfg, struct compose_cli **ret);
struct compose_cli *compose_cli_free(struct compose_cli *cli);

enum compose_flavour compose_cli_flavour(const struct compose_cli *cli);
/* The command as run, e.g. "/usr/bin/docker compose" (for logs); owned by cli. */
const char *compose_cli_command(const struct compose_cli *cli);
/* First line of `<command> version`, e.g. "docker-compose version 1.29.2, build unknown". */
const char *compose_cli_version(const struct compose_cli *cli);
/* The children's environment (NULL-terminated), for tests and logs. */
const char *const *compose_cli_env(const struct compose_cli *cli);

/* "up", "start", …; compose_op_from_string() returns -EINVAL for other words. */
const char *compose_op_to_string(enum compose_op op);
int compose_op_from_string(const char *s);

/*
 * Run `<compose> --project-directory <project_dir> <args…>` with cwd =
 * project_dir (absolute). args is NULL-terminated and non-empty.
 * timeout_ms > 0 is required: a stuck daemon must not hold a worker.
 * Returns 0 (exit status 0), -EIO (non-zero exit or killed: see *result and
 * compose_cli_error_text()), -ETIMEDOUT (process group killed), or -errno
 * when it could not be run. *result is filled for 0, -EIO and -ETIMEDOUT;
 * always release it with spawn_result_done().
 */
int compose_cli_run(const struct compose_cli *cli, const char *project_dir,
    const char *const *args, int64_t timeout_ms, struct spawn_result *result);

/* up -d / start / stop / restart / down; as compose_cli_run(). */
int compose_cli_op(const struct compose_cli *cli, const char *project_dir, enum compose_op op,
    int64_t timeout_ms, struct spawn_result *result);

/*
 * exec -T [--user <user>] mc <cmd…> (e.g. {"rcon-cli", "list", NULL}; the
 * RCON command is passed as one argument, §11.5). user may be NULL.
 */
int compose_cli_exec(const struct compose_cli *cli, const char *project_dir, const char *user,
    const char *const *cmd, int64_t timeout_ms, struct spawn_result *result);

/*
 * exec -T --user <uid> mc mc-send-to-console <words…> (console input, §17.2;
 * uid = the numeric owner of the project directory: the image refuses root).
 */
int compose_cli_send_to_console(const struct compose_cli *cli, const char *project_dir,
    uid_t uid, const char *const *words, int64_t timeout_ms, struct spawn_result *result);

/*
 * The §11.5 error text for a failed run ("Failed to exec command: <argv0>\n
 * <stderr>\n<stdout>", argv0 as run). 0 and a malloc'd string, or -ENOMEM.
 */
int compose_cli_error_text(const struct compose_cli *cli, const struct spawn_result *result,
    char **ret_text);
