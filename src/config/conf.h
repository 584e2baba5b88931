/* SPDX-License-Identifier: MIT */
/*
 * Configuration: read once in main() into an immutable struct config.
 *
 * Sources, lowest to highest precedence:
 *   1. built-in defaults (API-core §3.2 plus this project's additions);
 *   2. the YAML file ($MC_ADMIN_CONFIG, default /etc/mc-admin/config.yaml;
 *      a missing file is fine unless it was named explicitly);
 *   3. environment variables named like the reference (MASTER_TOKEN,
 *      JWT__SECRET_KEY, AUDIT__SENSITIVE_FIELDS='["a"]', JWT='{"…":…}', …),
 *      matched case-insensitively;
 *   4. systemd credentials in $CREDENTIALS_DIRECTORY: master_token,
 *      jwt_secret_key, restic_password.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
	char *master_token;
	char *server_path;
	struct {
		char *secret_key;
		char *algorithm;
		int64_t access_token_expire_minutes;
	} jwt;
	char *database_url;
	char *database_path;	/* resolved: from database_path or database_url */
	char *static_path;
	char *cgroup_path;
	char *logs_dir;
	char *archive_path;
	struct {
		bool enabled;
		char *log_file;
		bool log_request_body;
		int64_t max_body_size;
		char **sensitive_fields;	/* NULL-terminated */
	} audit;
	struct {
		bool present;
		char *repository_path;
		char *password;
	} restic;
	struct {
		int64_t workers;		/* FastCGI worker threads */
		int64_t max_body_size;		/* JSON/form bodies, bytes */
		int64_t login_attempts;		/* failed logins per client per window */
		int64_t login_window_seconds;
	} api;
	struct {
		char *socket;			/* Engine API unix socket */
		char *binary;			/* docker CLI (plugin flavour, compose v1's exec) */
		char *compose_command;		/* "" = detect "docker compose"/"docker-compose" */
		int64_t command_timeout_seconds;	/* each compose command */
		int64_t api_timeout_ms;		/* each Engine API request */
	} docker;
	struct {
		int64_t timeout_seconds;	/* RCON command (direct or rcon-cli) */
	} rcon;
	struct {
		int64_t max_content_size;	/* text read/edit (§13.2/3, §14.2/3), bytes */
		int64_t upload_session_seconds;	/* §13.9 session lifetime, fixed */
		char *accel_prefix;		/* nginx internal location for downloads */
	} files;
	struct {
		int64_t max_entries;		/* populate: entries in one archive */
		int64_t max_total_size;		/* populate: declared + written bytes */
		int64_t max_ratio;		/* populate: unpacked/packed size, 0 = off */
		int64_t compress_level;		/* compress: LZMA2 level 0-9 */
	} archive;
	struct {
		int64_t max_connections;	/* mc-admin-ws sockets in total */
		int64_t max_login_connections;	/* /api/auth/code sockets */
		int64_t max_console_per_server;	/* console sockets of one server */
		int64_t max_message_bytes;	/* inbound frame/message */
		int64_t messages_per_second;	/* inbound, per socket (0 = no limit) */
		int64_t message_burst;
		int64_t send_queue_bytes;	/* outbound, per socket */
		int64_t handshake_timeout_ms;	/* upgrade request must arrive in time */
		int64_t ping_interval_seconds;	/* keep-alive (0 = off) */
		int64_t login_poll_ms;		/* verified login codes are picked up this fast */
		int64_t history_lines;		/* console backlog asked of docker */
		int64_t history_bytes;		/* console history kept per container */
		int64_t command_timeout_seconds;	/* console command (compose exec) */
		int64_t workers;		/* threads for docker and compose calls */
	} ws;

	char *source_file;	/* the YAML file actually read, or NULL */
};

/*
 * Load the configuration. path == NULL means $MC_ADMIN_CONFIG or the default.
 * env is an environ-style array (tests pass their own). On failure returns
 * -EINVAL (or -errno) and stores a malloc'd human-readable message naming the
 * key (and the file line for YAML errors) in *ret_error.
 */
int config_load(const char *path, char *const *env, struct config **ret,
    char **ret_error);

/* Like config_load, but "required" keys may be missing (CLI user commands). */
int config_load_relaxed(const char *path, char *const *env, struct config **ret,
    char **ret_error);

struct config *config_free(struct config *c);

/* Print the effective configuration as YAML with secrets masked. */
int config_dump(const struct config *c, FILE *f);
