/* SPDX-License-Identifier: MIT */
/*
 * JSON bodies (API-core §1.2) and declared field rules checked before the
 * handler runs (kcgi's validators). Unknown fields are ignored, like the
 * contract's models. Error objects follow pydantic's shapes so the 422
 * bodies match the reference.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"

#define JSON_MAX_DEPTH 32

enum field_type {
	FIELD_STRING,
	FIELD_INT,
	FIELD_BOOL,
	_FIELD_TYPE_MAX,
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
	bool nullable;			/* JSON null accepted (and then no other check) */
	int64_t min_len, max_len;	/* strings, in characters; 0 = no limit */
	int64_t min, max;		/* integers, when min < max */
	const char *const *values;	/* allowed strings, NULL-terminated, or NULL */
};

/* True for no Content-Type, application/json and application/<x>+json. */
bool http_content_type_is_json(const char *content_type);

/*
 * Turn the loaded body into rq->json. With a JSON content type: empty body →
 * rq->json stays NULL; malformed → one json_invalid error in v and -EBADMSG.
 * Other content types: rq->json becomes a JSON string of the raw body (so
 * validation reports model_attributes_type, like the reference).
 */
int http_body_parse_json(struct req *rq, struct verrs *v);

/*
 * Check rq->json against fields. A missing body is an error unless
 * optional (then it counts as {}). Adds every problem to v; returns the
 * number of problems or -ENOMEM.
 */
int http_body_validate(struct req *rq, const struct field *fields, bool optional,
    struct verrs *v);

/* Convenience getters on the validated body (NULL / default when absent or null). */
const char *body_string(const struct req *rq, const char *name);
bool body_has(const struct req *rq, const char *name);
