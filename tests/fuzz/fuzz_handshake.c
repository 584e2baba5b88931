/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the WebSocket upgrade request parser
 * (src/ws/handshake.c). The input is the byte stream from the client; it
 * is fed in one piece and one byte at a time, and both must agree on the
 * result, the bytes used and the request. A valid request is answered
 * (101 response, query lookup) and every error gets its response built.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/util.h"
#include "ws/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #x);			\
			abort();					\
		}							\
	} while (0)

static bool
opt_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

/* 1, 0 or -errno as from ws_handshake_feed(); *used is the total used. */
static int
run(struct ws_handshake *h, const uint8_t *s, size_t n, bool bytewise, size_t *used)
{
	size_t pos = 0;
	int r = 0;

	while (pos < n) {
		size_t chunk = bytewise ? 1 : n - pos, u = 0;

		r = ws_handshake_feed(h, s + pos, chunk, &u);
		if (r < 0)
			break;
		CHECK(u <= chunk);
		pos += u;
		if (r > 0)
			break;
		CHECK(u == chunk);
	}
	*used = pos;
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_ws_handshake_ struct ws_handshake *a = NULL, *b = NULL;
	const struct ws_request *ra, *rb;
	struct strbuf out = STRBUF_INIT;
	size_t ua, ub;
	int r, r2;

	/* a small limit too, so the 431 path is reachable */
	CHECK(ws_handshake_new(size % 2 ? 512 : 0, &a) == 0);
	CHECK(ws_handshake_new(size % 2 ? 512 : 0, &b) == 0);
	r = run(a, data, size, false, &ua);
	r2 = run(b, data, size, true, &ub);
	CHECK(r == r2);
	if (r < 0) {
		int status = ws_handshake_status(r);

		CHECK(ws_handshake_error(a) && ws_handshake_error(b));
		CHECK(streq(ws_handshake_error(a), ws_handshake_error(b)));
		CHECK(ws_handshake_request(a) == NULL);
		CHECK(ws_response_error(&out, status, ws_handshake_error(a)) == 0);
		CHECK(startswith(strbuf_str(&out), "HTTP/1.1 "));
		strbuf_free(&out);
		return 0;
	}
	CHECK(ua == ub);
	if (r == 0) {
		CHECK(ua == size);
		CHECK(ws_handshake_request(a) == NULL);
		return 0;
	}

	ra = ws_handshake_request(a);
	rb = ws_handshake_request(b);
	CHECK(ra && rb);
	CHECK(streq(ra->method, "GET") && streq(ra->target, rb->target));
	CHECK(ra->path[0] == '/' && streq(ra->path, rb->path) && streq(ra->query, rb->query));
	CHECK(streq(ra->host, rb->host) && ra->host[0] != '\0');
	CHECK(streq(ra->key, rb->key) && strlen(ra->key) == 24);
	CHECK(opt_eq(ra->origin, rb->origin));
	CHECK(opt_eq(ra->x_forwarded_for, rb->x_forwarded_for));
	CHECK(opt_eq(ra->x_real_ip, rb->x_real_ip));

	CHECK(ws_response_accept(&out, ra->key) == 0);
	CHECK(startswith(strbuf_str(&out), "HTTP/1.1 101 Switching Protocols\r\n"));
	strbuf_free(&out);

	{
		_cleanup_free_ char *token = NULL;

		r = ws_request_query_get(ra, "token", &token);
		CHECK(r == 0 || r == 1 || r == -EINVAL);
		CHECK(r != 1 || token);
	}
	return 0;
}
