/* SPDX-License-Identifier: MIT */
/* json-c conveniences shared by every module that builds JSON. */
#pragma once

#include <json-c/json.h>

#include "common/cleanup.h"

static inline void
json_object_putp(json_object **j)
{
	if (*j)
		(void)json_object_put(*j);
}

/* Compact, "/" unescaped, UTF-8 kept: the contract's response encoding
 * (API-core §1.3). The string belongs to obj. */
const char *json_compact(json_object *obj);

/* A float that serialises like Python's repr(): 0.0, 12.5, 1e-05. NULL on ENOMEM. */
json_object *json_new_float(double v);

/* A JSON string of n bytes, invalid UTF-8 replaced by U+FFFD. NULL on ENOMEM. */
json_object *json_new_string_lossy(const char *s, size_t n);

/*
 * Parse exactly one JSON value from s[0..n) (strict, UTF-8 validated, depth
 * limited); only whitespace may follow it. Returns the value (which may be
 * NULL for a JSON null: check *ret_error), or NULL with *ret_error set to a
 * static description and *ret_offset to the position of the problem.
 */
json_object *json_parse_strict(const char *s, size_t n, int max_depth, const char **ret_error,
    size_t *ret_offset);
