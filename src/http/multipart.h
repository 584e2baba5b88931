/* SPDX-License-Identifier: MIT */
/*
 * Streaming multipart/form-data parser (RFC 7578, RFC 2046 §5.1) for
 * upload bodies that must never be held whole in memory (API-core §13.5,
 * §13.9.3, §14.5). The caller pushes body bytes as they arrive
 * (multipart_feed()) and gets callbacks per part: begin (headers parsed),
 * data (any number of chunks, each at most MULTIPART_CHUNK bytes), end.
 *
 * Memory is bounded: one buffer of MULTIPART_BUF bytes per parser, whatever
 * the body size. The contract's limits (§1.2) are the parser's:
 *   - at most MULTIPART_MAX_FILES parts with a filename parameter and
 *     MULTIPART_MAX_FIELDS other parts;
 *   - a non-file part's data at most MULTIPART_MAX_FIELD_SIZE bytes;
 *   - a part's header block at most MULTIPART_MAX_HEADERS bytes;
 *   - a boundary of 1..MULTIPART_MAX_BOUNDARY bytes (RFC 2046 says 70).
 * The filename is kept verbatim (slashes included, §1.2); only Windows
 * "C:\…" and "\\…" prefixes are cut to the last backslash component, like
 * the in-memory parser (http/form.c).
 *
 * Errors: a malformed body or a broken limit makes multipart_feed() /
 * multipart_finish() return -EBADMSG, with a human-readable text for a 400
 * detail in multipart_error() (the same texts as http/form.c where they
 * overlap). A negative value returned by a callback stops the parser and
 * is returned as is. Once failed, a parser keeps returning its error.
 * The module does not log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_MAX_FILES		1000
#define MULTIPART_MAX_FIELDS		1000
#define MULTIPART_MAX_FIELD_SIZE	(1024 * 1024)
#define MULTIPART_MAX_HEADERS		(16 * 1024)
#define MULTIPART_MAX_BOUNDARY		200
#define MULTIPART_CHUNK			(256 * 1024)
/* one buffer per parser: a data chunk plus a delimiter held back, or a header block */
#define MULTIPART_BUF			(MULTIPART_CHUNK + MULTIPART_MAX_BOUNDARY + 8)

struct multipart_part {
	char *name;		/* Content-Disposition name=, never NULL */
	char *filename;		/* filename=, NULL when absent (a plain field); may be "" */
	char *content_type;	/* the part's Content-Type, or NULL */
	size_t index;		/* 0-based position in the body */
	size_t size;		/* data bytes seen so far (complete at part_end) */
};

struct multipart_callbacks {
	/* A part's headers were parsed. <0 stops the parser. */
	int (*part_begin)(struct multipart_part *p, void *userdata);
	/* n > 0 data bytes of the current part. <0 stops the parser. */
	int (*part_data)(struct multipart_part *p, const void *data, size_t n, void *userdata);
	/* The part's closing delimiter was seen. <0 stops the parser. */
	int (*part_end)(struct multipart_part *p, void *userdata);
};

struct multipart;

/*
 * A parser for a body of the given Content-Type (which must be
 * multipart/form-data with a boundary parameter). cb members may be NULL.
 * Returns 0 and *ret, -EBADMSG (not multipart, no or bad boundary; the text
 * is in *ret_error, a static string), -ENOMEM.
 */
int multipart_new(const char *content_type, const struct multipart_callbacks *cb,
    void *userdata, struct multipart **ret, const char **ret_error);
/* NULL-safe; returns NULL. */
struct multipart *multipart_free(struct multipart *m);

/* Push n body bytes. 0, -EBADMSG, -ENOMEM, or a callback's negative result. */
int multipart_feed(struct multipart *m, const void *data, size_t n);

/*
 * The body ended. 0 when the closing delimiter was seen, else -EBADMSG
 * ("Multipart body ended before the closing boundary"); a previous error is
 * returned again.
 */
int multipart_finish(struct multipart *m);

/* The text of the last -EBADMSG (static or owned by m), or NULL. */
const char *multipart_error(const struct multipart *m);

/* True once the closing delimiter was seen. */
bool multipart_done(const struct multipart *m);

/* Counts of the parts seen so far. */
size_t multipart_n_files(const struct multipart *m);
size_t multipart_n_fields(const struct multipart *m);
