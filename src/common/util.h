/* SPDX-License-Identifier: MIT */
/* Small bounded parsers and string, time and randomness helpers. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"

static inline bool
streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool
strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Returns the rest of s after prefix, or NULL when s does not start with it. */
static inline const char *
startswith(const char *s, const char *prefix)
{
	size_t l = strlen(prefix);

	return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/*
 * Parse a whole decimal integer within [min, max]: optional sign, digits, no
 * spaces or trailing garbage. Returns 0 and sets *ret, or -EINVAL / -ERANGE.
 */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);

/*
 * Parse a boolean the way the contract's query parameters do
 * (case-insensitive true/1/yes/on/y/t and false/0/no/off/n/f).
 * Returns 1, 0, or -EINVAL.
 */
int parse_bool_query(const char *s);

/* Environment/config booleans: true/false/1/0/yes/no/on/off. 1, 0 or -EINVAL. */
int parse_bool_env(const char *s);

/* 1 when the n bytes at s are valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/*
 * A directory stream over dir_fd's directory, on a fresh open file
 * description ("." reopened), so that the stream's offset and its close
 * leave dir_fd alone. 0 and *ret (the caller closedir()s it), or -errno.
 */
int opendir_at(int dir_fd, DIR **ret);

/* Fill buf with n bytes from the kernel CSPRNG. 0 or -errno. */
int random_bytes(void *buf, size_t n);

/* base64url without padding; out must hold 4*ceil(n/3)+1 bytes. Returns length. */
size_t base64url_encode(const void *in, size_t n, char *out);

/* Current wall-clock time and monotonic time in microseconds. */
int64_t now_realtime_usec(void);
int64_t now_monotonic_usec(void);

/*
 * Timestamps. All return 0 or -EINVAL (buffer too small / bad value).
 * - iso_utc_z:      "2025-09-23T10:20:30.123456Z" (fraction omitted when 0)
 * - iso_utc_offset: "2025-09-23T10:20:30.123456+00:00" (JWT created_at)
 * - iso_local:      "2025-09-23T12:34:56.789012" local, no zone (audit, SYSTEM)
 * - db_utc:         "2025-09-23 10:20:30.123456" (always six digits; §5)
 */
int fmt_iso_utc_z(char *buf, size_t n, int64_t usec);
int fmt_iso_utc_offset(char *buf, size_t n, int64_t usec);
int fmt_iso_local(char *buf, size_t n, int64_t usec);
int fmt_db_utc(char *buf, size_t n, int64_t usec);

/*
 * Parse "YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|±HH:MM]" (naive means UTC) into
 * microseconds since the epoch. 0 or -EINVAL.
 */
int parse_iso_datetime(const char *s, int64_t *ret_usec);

/* Format a double like Python's repr(): shortest round-trip, always with ".0". */
int fmt_float_repr(char *buf, size_t n, double v);

