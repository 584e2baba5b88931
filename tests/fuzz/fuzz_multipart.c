/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the streaming multipart parser (src/http/multipart.c).
 *
 * Input: byte 0 picks the boundary ("XyZ", a 1-byte one, or a 70-byte one),
 * byte 1 seeds the split pattern, the rest is the body. The body is parsed
 * in one piece, in pseudo-random pieces and one byte at a time; the three
 * transcripts (part names, filenames, data, ends, then the result and error
 * text) must be identical, and the parser's promises hold: data chunks are
 * non-empty and at most MULTIPART_CHUNK bytes, parts begin and end in turn,
 * no more data comes out than went in.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #x);			\
			abort();					\
		}							\
	} while (0)

static const char *const content_types[] = {
	"multipart/form-data; boundary=XyZ",
	"multipart/form-data; boundary=\"-\"",
	"multipart/form-data; boundary=----------------------------------------"
	    "------------------------------",
	"Multipart/Form-Data; charset=utf-8; boundary=\"a b\"",
};

struct state {
	struct strbuf t;	/* transcript */
	bool in_part;
	size_t data_bytes;
};

static void
rec(struct state *s, char tag, const void *p, size_t n)
{
	uint8_t hdr[9];

	hdr[0] = (uint8_t)tag;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	CHECK(strbuf_append(&s->t, hdr, sizeof(hdr)) == 0);
	if (n)
		CHECK(strbuf_append(&s->t, p, n) == 0);
}

static int
on_begin(struct multipart_part *p, void *userdata)
{
	struct state *s = userdata;

	CHECK(!s->in_part);
	CHECK(p->name != NULL);
	CHECK(p->size == 0);
	s->in_part = true;
	rec(s, 'B', p->name, strlen(p->name));
	rec(s, p->filename ? 'F' : 'f', p->filename ? p->filename : "",
	    p->filename ? strlen(p->filename) : 0);
	return 0;
}

static int
on_data(struct multipart_part *p, const void *data, size_t n, void *userdata)
{
	struct state *s = userdata;

	(void)p;
	CHECK(s->in_part);
	CHECK(n > 0 && n <= MULTIPART_CHUNK);
	s->data_bytes += n;
	/* data is recorded as one stream per part: chunking may differ */
	CHECK(strbuf_append(&s->t, data, n) == 0);
	return 0;
}

static int
on_end(struct multipart_part *p, void *userdata)
{
	struct state *s = userdata;

	(void)p;
	CHECK(s->in_part);
	s->in_part = false;
	rec(s, 'E', NULL, 0);
	return 0;
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

static void
run(const char *ct, const uint8_t *body, size_t n, unsigned mode, uint8_t seed,
    struct state *s)
{
	struct multipart *m = NULL;
	uint32_t x = seed * 2654435761u + 1;
	size_t i = 0;
	int r;

	CHECK(multipart_new(ct, &cbs, s, &m, NULL) == 0);
	r = 0;
	while (i < n && r == 0) {
		size_t k;

		if (mode == 0)
			k = n;
		else if (mode == 1) {
			x = x * 1103515245u + 12345u;
			k = 1 + (x >> 16) % 97;
		} else
			k = 1;
		if (k > n - i)
			k = n - i;
		r = multipart_feed(m, body + i, k);
		i += k;
	}
	if (r == 0)
		r = multipart_finish(m);
	CHECK(r == 0 || r == -EBADMSG);
	CHECK((r == -EBADMSG) == (multipart_error(m) != NULL));
	rec(s, 'R', &r, sizeof(r));
	if (multipart_error(m))
		rec(s, 'X', multipart_error(m), strlen(multipart_error(m)));
	CHECK(s->data_bytes <= n);
	multipart_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s[3];
	const char *ct;

	if (size < 2)
		return 0;
	ct = content_types[data[0] % (sizeof(content_types) / sizeof(content_types[0]))];
	for (unsigned mode = 0; mode < 3; mode++) {
		s[mode] = (struct state){ .t = STRBUF_INIT };
		run(ct, data + 2, size - 2, mode, data[1], &s[mode]);
	}
	CHECK(s[0].t.len == s[1].t.len && s[0].t.len == s[2].t.len);
	CHECK(memcmp(s[0].t.buf, s[1].t.buf, s[0].t.len) == 0);
	CHECK(memcmp(s[0].t.buf, s[2].t.buf, s[0].t.len) == 0);
	for (unsigned mode = 0; mode < 3; mode++)
		strbuf_free(&s[mode].t);
	return 0;
}
