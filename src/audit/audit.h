/* SPDX-License-Identifier: MIT */
/*
 * Operation audit log (API-core §6): one JSON line per mutating API request,
 * appended to <logs_dir>/<audit.log_file> (rotated at local midnight to
 * <name>.YYYY-MM-DD) and sent to the journal with MC_ADMIN_AUDIT=1 and
 * AUDIT_* fields (stderr when not under systemd).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "common/json.h"

struct audit;

/* Creates logs_dir (one level) when missing. enabled=false gives a no-op log. */
int audit_open(const char *logs_dir, const char *file_name, bool enabled, struct audit **ret);
struct audit *audit_close(struct audit *a);
bool audit_enabled(const struct audit *a);

struct audit_entry {
	const char *method;
	const char *path;
	int status;
	double processing_ms;
	const char *client_ip;		/* may be NULL */
	const char *user_agent;		/* may be NULL */
	const struct identity *ident;	/* NULL: anonymous */
	json_object *path_params;	/* borrowed, left out when NULL or empty */
	json_object *query_params;	/* borrowed, left out when NULL or empty */
	json_object *request_body;	/* borrowed, left out when NULL */
	bool request_body_present;	/* request_body may be JSON null → "null" */
	int64_t now_usec;		/* wall clock for "timestamp" */
};

/* Serialise the line (keys in the order of §6.2) into *ret (malloc'd). */
int audit_format(const struct audit_entry *e, char **ret);
int audit_write(struct audit *a, const struct audit_entry *e);

/* A deep copy of v with sensitive keys of objects (recursively, not inside
 * arrays) replaced by "***MASKED***". Non-objects are copied unchanged. */
json_object *audit_mask(json_object *v, char *const *sensitive);
bool audit_key_sensitive(const char *key, char *const *sensitive);

/*
 * The "request_body" value of §6.3 for a body of declared length
 * content_length (-1 unknown) whose bytes are body[0..len) when loaded
 * (loaded=false: not read). Returns a new object, or NULL with
 * *ret_omit=true when the key is to be left out.
 */
json_object *audit_body_value(const char *content_type, int64_t content_length,
    const char *body, size_t len, bool loaded, size_t max_body_size, char *const *sensitive,
    bool *ret_omit);
