/* SPDX-License-Identifier: MIT */
/*
 * The Minecraft compose model (API-core §11.3): a docker-compose file parsed
 * with YAML 1.1 resolution (config/yamltree.h), normalised like the
 * reference's pydantic ComposeFile, validated as an MC server, and the
 * derived ServerInfo (§12.1).
 *
 * Pipeline and where each failure comes from:
 *   compose_parse()     YAML → -EBADMSG (the parser's text with line and
 *                       column); normalisation of every service → -EINVAL:
 *                       "Invalid port format: <value>", "Invalid volume
 *                       format: <value>", an environment list item without
 *                       "=", wrong value types;
 *   compose_validate()  the ten §11.3 checks in order, then "no null
 *                       environment value", then (server_id != NULL)
 *                       container name == "mc-<server_id>" → -EINVAL;
 *   compose_info_build() validate + derived values → -EINVAL.
 * Every message is malloc'd into *ret_error (when not NULL) and worded as
 * the spec words it, without a prefix: the API adds "Failed to extract
 * ports from YAML: " and the like.
 *
 * Decisions where §11.3 leaves room (the reference's behaviour otherwise):
 *   - container_name and image that are not strings fail checks 3 and 5
 *     (the reference fails earlier with an unstable pydantic message);
 *     likewise an environment that is a scalar fails check 6.
 *   - top-level version and name may be any scalar (the reference refuses
 *     an unquoted "version: 3.8"); top-level volumes must be a mapping or
 *     null; other service keys (restart, tty, …) are not type-checked.
 *   - numeric and boolean port items follow pydantic: float(v) → int() →
 *     decimal string (true → "1"); published/target in the long syntax
 *     accept strings, ints, integral floats and bools.
 *   - gamePort/rconPort use Python int() on published (whitespace, sign and
 *     "_" between digits allowed) but must fit int64; javaVersion and
 *     maxMemoryBytes must fit int64 too (the reference has bignums).
 *   - \d and \w in the reference's regexes are taken as ASCII.
 *   - Duplicate YAML keys: the last one wins (PyYAML), see yamltree.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct json_object;

enum compose_server_type {
	COMPOSE_SERVER_VANILLA,
	COMPOSE_SERVER_PAPER,
	COMPOSE_SERVER_FORGE,
	COMPOSE_SERVER_NEOFORGE,
	COMPOSE_SERVER_FABRIC,
	COMPOSE_SERVER_SPIGOT,
	COMPOSE_SERVER_BUKKIT,
	COMPOSE_SERVER_CUSTOM,
	COMPOSE_SERVER_TYPE_MAX,
};

/* Environment values as the reference's model holds them: ints become floats. */
enum compose_env_kind {
	COMPOSE_ENV_STR,
	COMPOSE_ENV_FLOAT,
	COMPOSE_ENV_BOOL,
	COMPOSE_ENV_NULL,
	COMPOSE_ENV_KIND_MAX,
};

struct compose_env {
	char *key;
	enum compose_env_kind kind;
	char *value;		/* str() of the model value: "1.2", "1.0", "True", "None" */
	char *raw;		/* as written ("1.20", "yes"); list form: the text after '=' */
	double number;		/* COMPOSE_ENV_FLOAT */
	bool boolean;		/* COMPOSE_ENV_BOOL */
	size_t line;
};

struct compose_port {
	char *host_ip;		/* NULL when absent */
	char *published;	/* host port or range as text ("25565", "8000-8001"), or NULL */
	char *target;		/* str(target): "25565", "1000-1001", or NULL when absent */
	char *protocol;		/* NULL when absent */
	size_t line;
};

struct compose_volume {
	char *type;		/* "bind" for the short syntax */
	char *source;		/* NULL when absent */
	char *target;		/* NULL when absent */
	char *read_only;	/* str() of the value ("True", "False", a string), or NULL */
	size_t line;
};

enum compose_env_state {
	COMPOSE_ENV_ABSENT,	/* missing or null */
	COMPOSE_ENV_INVALID,	/* a scalar: fails check 6 */
	COMPOSE_ENV_PRESENT,	/* a mapping, or a list of KEY=VALUE */
	COMPOSE_ENV_STATE_MAX,
};

struct compose_service {
	char *name;
	char *container_name;	/* NULL when missing or not a string */
	char *image;		/* NULL when missing or not a string */
	enum compose_env_state env_state;
	struct compose_env *env;	/* keys unique, first-occurrence order */
	size_t n_env;
	bool has_ports;		/* "ports" present and not null */
	struct compose_port *ports;
	size_t n_ports;
	struct compose_volume *volumes;
	size_t n_volumes;
	size_t line;
};

/* Read-only after compose_parse(). */
struct compose {
	bool has_services;	/* "services" present and not null */
	struct compose_service *services;
	size_t n_services;
};

/*
 * Parse and normalise a compose text (at most YT_DEFAULT_MAX_BYTES).
 * Returns 0 and *ret (free with compose_free()), or -EBADMSG (YAML),
 * -EINVAL (normalisation), -EMSGSIZE (too large), -ENOMEM.
 */
int compose_parse(const char *text, size_t len, struct compose **ret, char **ret_error);

struct compose *compose_free(struct compose *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct compose *, compose_free);

/* The service called exactly "mc", or NULL. */
const struct compose_service *compose_mc(const struct compose *c);

/* The variable `key` of a service (exact, case-sensitive), or NULL. */
const struct compose_env *compose_env_get(const struct compose_service *s, const char *key);

/*
 * The MC checks of §11.3, first failure wins:
 *   "Could not find services in compose file"
 *   "Could not find service mc in compose file"
 *   "Invalid container name in compose file"
 *   "Container name must start with 'mc-'"
 *   "Service must use itzg/minecraft-server image"
 *   "Invalid environment in compose file"
 *   "Could not find VERSION in environment"
 *   "Could not find ports in compose file"
 *   "Could not find game port (25565) in compose file"
 *   "Could not find rcon port (25575) in compose file"
 *   "Environment variable '<KEY>' must not be null"        (model level)
 *   "Container name 'mc-x' does not match server 'y'"      (server_id != NULL)
 * Returns 0 or -EINVAL (-ENOMEM).
 */
int compose_validate(const struct compose *c, const char *server_id, char **ret_error);

/* compose_parse() + compose_validate(). */
int compose_load(const char *text, size_t len, const char *server_id, struct compose **ret,
    char **ret_error);

/*
 * Game/RCON port of a validated file: int(published) of the first port
 * whose target is "25565" / "25575"; 25565 / 25575 when it has none.
 * Returns 0, or -EINVAL with "invalid literal for int() with base 10:
 * '25565-25566'" (a range or text), "Could not find game port in compose
 * file" (not validated).
 */
int compose_game_port(const struct compose *c, int64_t *ret, char **ret_error);
int compose_rcon_port(const struct compose *c, int64_t *ret, char **ret_error);

struct compose_info {
	char *id;
	char *name;			/* container name without "mc-" */
	enum compose_server_type server_type;
	char *game_version;		/* str() of VERSION: 1.20 → "1.2", 1 → "1.0" */
	int64_t game_port;
	int64_t max_memory_bytes;	/* 0 when unknown */
	int64_t rcon_port;
	int64_t java_version;		/* 0 when unknown */
};

/*
 * Validate (with the name check against id) and derive the ServerInfo.
 * Returns 0 and fills *ret (release with compose_info_done()), or -EINVAL
 * with a validation message, "'<TYPE>' is not a valid ServerType", a port
 * message (above), "MAX_MEMORY is out of range", "Java version is out of
 * range"; -ENOMEM.
 */
int compose_info_build(const struct compose *c, const char *id, struct compose_info *ret,
    char **ret_error);
void compose_info_done(struct compose_info *info);

/*
 * The ServerInfo object with keys in §12.1 order: id, name, serverType,
 * gameVersion, gamePort, maxMemoryBytes, rconPort, javaVersion. Returns 0
 * and a new reference in *ret, or -ENOMEM.
 */
int compose_info_to_json(const struct compose_info *info, struct json_object **ret);

/* "VANILLA", …, "CUSTOM"; NULL when out of range. */
const char *compose_server_type_to_string(enum compose_server_type t);

/* A discovered server: its name and its compose text. */
struct compose_source {
	const char *name;
	const char *text;
	size_t len;
};

/*
 * Port conflicts for a new server (§12.9 step 3). servers[] are the
 * discovered servers (name, compose text). Each one that parses, validates
 * (without the name check) and yields its ports is compared game↔game and
 * RCON↔RCON; the others are skipped. Messages, per server game before RCON:
 *   "Game port <p> is already used by server '<name>'"
 *   "RCON port <p> is already used by server '<name>'"
 * Returns the number of conflicts (≥ 0) and, when there are any, the
 * messages joined by "; " in *ret_detail (malloc'd; NULL when none), or
 * -ENOMEM.
 */
int compose_port_conflicts(int64_t game_port, int64_t rcon_port,
    const struct compose_source *servers, size_t n_servers, char **ret_detail);

/*
 * Runtime settings of a validated file's mc service, as the container sees
 * them. docker compose hands the container the YAML text (YAML 1.2), not the
 * reference's model value, and the image's isTrue() accepts only "true" and
 * "on" (any case); so these read compose_env.raw:
 *   - compose_rcon_password(): RCON_PASSWORD as written (a quoted or plain
 *     string is itself; an unquoted 123456 is "123456", whereas its model
 *     string form would be "123456.0"), or NULL when unset;
 *   - compose_rcon_enabled(): ENABLE_RCON, true when unset (image default);
 *   - compose_console_pipe_enabled(): CREATE_CONSOLE_IN_PIPE, false when unset.
 */
const char *compose_rcon_password(const struct compose *c);
bool compose_rcon_enabled(const struct compose *c);
bool compose_console_pipe_enabled(const struct compose *c);

/* host_ip of the first port whose target is "25575" (where a direct RCON
 * connection must go), or NULL when it has none (all interfaces). */
const char *compose_rcon_host_ip(const struct compose *c);

/* One published host port range, for the "host port already bound" warning. */
struct compose_host_port {
	const char *service;	/* borrowed from the struct compose */
	const char *host_ip;	/* NULL: all interfaces */
	const char *protocol;	/* "tcp" unless given */
	uint16_t first, last;	/* first == last for a single port */
};

/*
 * Every published host port of every service, in file order. Published
 * values that are not a port ("abc", 0, 70000, a reversed range) are left
 * out. Returns 0 with a malloc'd array (free() it; the strings stay owned
 * by c), or -ENOMEM.
 */
int compose_published_ports(const struct compose *c, struct compose_host_port **ret,
    size_t *ret_n);
