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
