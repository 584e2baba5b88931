/* SPDX-License-Identifier: MIT */
/*
 * Form bodies held in memory: application/x-www-form-urlencoded and
 * multipart/form-data (RFC 7578), with the contract's limits (API-core
 * §1.2): at most 1000 file parts and 1000 other fields, 1 MiB per field.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define FORM_MAX_FILES 1000
#define FORM_MAX_FIELDS 1000
#define FORM_MAX_FIELD_SIZE (1024 * 1024)

struct form_field {
	char *name;
	char *filename;		/* file parts only, Windows "C:\…" prefix cut */
	char *content_type;	/* part Content-Type, may be NULL */
	char *data;		/* NUL-terminated copy */
	size_t len;
	size_t off;		/* offset of the data in the raw body (multipart) */
	bool urlencoded;
};

struct form {
	struct form_field *fields;
	size_t n;
};

enum form_kind {
	FORM_NONE,
	FORM_URLENCODED,
	FORM_MULTIPART,
};

enum form_kind form_kind(const char *content_type);

/*
 * Parse body according to content_type. A content type that is not a form
 * yields an empty form (like Starlette). On a malformed multipart body
 * returns -EBADMSG and a malloc'd *ret_error suitable for a 400 detail.
 */
int form_parse(const char *content_type, const char *body, size_t len, struct form **ret,
    char **ret_error);
struct form *form_free(struct form *f);

/* The last field of that name (Starlette's FormData.get), or NULL. */
const struct form_field *form_get(const struct form *f, const char *name);
