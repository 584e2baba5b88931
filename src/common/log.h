/* SPDX-License-Identifier: MIT */
/*
 * The one logger. Under systemd (when $JOURNAL_STREAM names our stderr) it
 * sends structured records with sd_journal_send(); otherwise it writes one
 * line per record to stderr. Library modules only log at debug level;
 * handlers and main() log once per failure.
 *
 * Messages are lower-case without a trailing full stop; user values are
 * quoted in single quotes (see log_escape()). Secrets are never logged.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "common/cleanup.h"

/* Set once in main() before any thread starts. */
void log_setup(const char *ident, int max_level);
void log_set_max_level(int level);
int log_get_max_level(void);
bool log_to_journal(void);

/*
 * Log a record. Extra structured fields are passed as a NULL-terminated list
 * of "KEY=value" strings (journal only; stderr shows them as key=value).
 * Returns -abs(error) so callers can write "return log_error_errno(r, …)".
 */
int log_internal(int level, int error, const char *const *fields,
    const char *file, int line, const char *func, const char *fmt, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
	log_internal((level), (error), NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/*
 * Write s into buf (size n) with control characters, quotes and backslashes
 * escaped, truncated with "…" when it does not fit. Returns buf.
 */
const char *log_escape(char *buf, size_t n, const char *s);
