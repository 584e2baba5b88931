/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 side of a WebSocket connection (RFC 6455 §4): parse the
 * upgrade request, answer it with 101 Switching Protocols or a plain error
 * response. Pure code, no I/O, no logging.
 *
 * The request is fed in whatever pieces read() returned, like the frame
 * parser:
 *
 *	r = ws_handshake_feed(h, buf, n, &used);
 *	r == 0: need more
 *	r  < 0: ws_response_error(out, ws_handshake_status(r), NULL), then close
 *	r  > 0: authorise ws_handshake_request(h) (path, token), then answer
 *	        ws_response_accept() or ws_response_error(403/404); the bytes
 *	        after the first used ones already belong to the frame parser.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"
#include "common/strbuf.h"

/* Default limit for the request line plus all headers and the blank line. */
#define WS_HANDSHAKE_MAX_HEADER 8192
/* base64 of a SHA-1 digest */
#define WS_ACCEPT_LEN 28

/*
 * A validated upgrade request. Strings are malloc'd and owned by the
 * struct (ws_request_done() frees them); header values have their
 * surrounding whitespace removed.
 */
struct ws_request {
	char *method;		/* "GET": nothing else gets through */
	char *target;		/* raw request target: path and "?query" */
	char *path;		/* target up to '?', not percent-decoded */
	char *query;		/* after '?', not decoded; "" when there is none */
	char *host;		/* never NULL or empty */
	char *key;		/* Sec-WebSocket-Key: base64 of 16 bytes */
	char *origin;		/* NULL when absent */
	char *x_forwarded_for;	/* NULL when absent; repeated headers joined by ", " */
	char *x_real_ip;	/* NULL when absent */
};

/* Frees the strings and zeroes *req; NULL-safe, may be called twice. */
void ws_request_done(struct ws_request *req);

/*
 * The last value of query parameter name: http_query_get() on req->query,
 * the same rules as the HTTP API's req_query_get(). Returns 1 and a
 * malloc'd *ret, 0 when absent, -EINVAL ("%00"), or -ENOMEM.
 */
int ws_request_query_get(const struct ws_request *req, const char *name, char **ret);

struct ws_handshake;

/* max_header 0 means WS_HANDSHAKE_MAX_HEADER. 0 and *ret, or -ENOMEM. */
int ws_handshake_new(size_t max_header, struct ws_handshake **ret);
/* NULL-safe; returns NULL. Frees the request unless it was taken. */
struct ws_handshake *ws_handshake_free(struct ws_handshake *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ws_handshake *, ws_handshake_free);
#define _cleanup_ws_handshake_ _cleanup_(ws_handshake_freep)

/*
 * Feed n bytes of the request. Returns:
 *   0  no blank line yet: every byte was used (*ret_consumed == n).
 *   1  the request is complete and valid: *ret_consumed is the number of
 *      bytes up to and including the blank line; later calls return 1 and
 *      consume nothing. The request is ws_handshake_request(h).
 *  <0  the request must be refused with ws_handshake_status(r); the error
 *      is sticky and ws_handshake_error(h) describes it:
 *      -EBADMSG          malformed request line or header, not HTTP/1.1,
 *                        a target that is not a path, a duplicated Host/
 *                        Key/Version/Origin/X-Real-IP header, a body,
 *                        Host missing, no "websocket" in Upgrade, no
 *                        "Upgrade" in Connection, a key that is not
 *                        base64 of 16 bytes (400);
 *      -EOPNOTSUPP       the method is not GET (405);
 *      -EPROTONOSUPPORT  Sec-WebSocket-Version missing or not 13 (426);
 *      -EMSGSIZE         no blank line within max_header bytes (431);
 *      -ENOMEM           (500).
 * Empty lines before the request line are skipped (RFC 9112 §2.2), and a
 * bare LF ends a line as well as CRLF does.
 */
int ws_handshake_feed(struct ws_handshake *h, const void *data, size_t n,
    size_t *ret_consumed);

/* The parsed request after ws_handshake_feed() returned 1, else NULL.
 * Borrowed: valid until ws_handshake_free() or ws_handshake_take_request(). */
const struct ws_request *ws_handshake_request(const struct ws_handshake *h);
/* Move the request out (the caller then owns it, see ws_request_done()).
 * 0, or -EAGAIN when there is no complete request (any more). */
int ws_handshake_take_request(struct ws_handshake *h, struct ws_request *ret);
/* A static, short description of the error (fit for a 400 body), or NULL. */
const char *ws_handshake_error(const struct ws_handshake *h);

/* The HTTP status for a negative errno from ws_handshake_feed(). */
int ws_handshake_status(int error);

/*
 * Sec-WebSocket-Accept for key: base64(SHA-1(key + RFC 6455 GUID)), written
 * NUL-terminated to ret. 0, -ENOMEM, or -EIO when libcrypto fails.
 */
int ws_accept_key(const char *key, char ret[static WS_ACCEPT_LEN + 1]);

/*
 * Append the "101 Switching Protocols" response for key to out. 0, -EIO,
 * -EMSGSIZE or -ENOMEM; out is untouched on failure.
 */
int ws_response_accept(struct strbuf *out, const char *key);

/*
 * Append a complete plain-text error response with "Connection: close":
 * 400, 403, 404, 405 (with "Allow: GET"), 426 (with "Upgrade: websocket"
 * and "Sec-WebSocket-Version: 13"), 431, 500 or 503. body NULL means the
 * reason phrase and a newline; a body is otherwise sent as it is. 0, -EINVAL
 * (another status), -EMSGSIZE or -ENOMEM; out is untouched on failure.
 */
int ws_response_error(struct strbuf *out, int status, const char *body);
