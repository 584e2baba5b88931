/* SPDX-License-Identifier: MIT */
/*
 * WebSocket opening handshake (RFC 6455 §4.2). The request head is
 * collected into a buffer capped at max_header, then parsed in one go:
 * request line, then headers. Only the headers in header_table[] are kept;
 * the rest are checked for syntax and dropped.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "http/http.h"
#include "ws/handshake.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws_handshake {
	struct strbuf buf;	/* the request head, without leading empty lines */
	size_t max;
	size_t total;		/* bytes used so far, skipped ones included */
	size_t line_len;	/* bytes of the current line so far */
	char last;		/* the byte before the current one */
	int error;		/* sticky negative errno */
	const char *error_text;
	bool done;
	bool have_request;
	struct ws_request req;
};

enum header_id {
	H_HOST,
	H_UPGRADE,
	H_CONNECTION,
	H_VERSION,
	H_KEY,
	H_ORIGIN,
	H_X_FORWARDED_FOR,
	H_X_REAL_IP,
	H_CONTENT_LENGTH,
	H_TRANSFER_ENCODING,
	_H_MAX,
};

/* list: a comma-separated list, repeated headers are joined (RFC 9110 §5.3);
 * otherwise the header may appear once. */
static const struct {
	const char *name;
	bool list;
} header_table[_H_MAX] = {
	[H_HOST] = { "Host", false },				/* required */
	[H_UPGRADE] = { "Upgrade", true },			/* must list "websocket" */
	[H_CONNECTION] = { "Connection", true },		/* must list "Upgrade" */
	[H_VERSION] = { "Sec-WebSocket-Version", false },	/* must be 13 */
	[H_KEY] = { "Sec-WebSocket-Key", false },		/* base64 of 16 bytes */
	[H_ORIGIN] = { "Origin", false },			/* kept for the caller */
	[H_X_FORWARDED_FOR] = { "X-Forwarded-For", true },	/* kept (nginx) */
	[H_X_REAL_IP] = { "X-Real-IP", false },			/* kept (nginx) */
	[H_CONTENT_LENGTH] = { "Content-Length", false },	/* only "0" */
	[H_TRANSFER_ENCODING] = { "Transfer-Encoding", true },	/* refused */
};

static const struct {
	int error;
	int status;
} status_map[] = {
	{ EBADMSG, 400 },		/* malformed or not a WebSocket upgrade */
	{ EOPNOTSUPP, 405 },		/* not GET */
	{ EPROTONOSUPPORT, 426 },	/* Sec-WebSocket-Version is not 13 */
	{ EMSGSIZE, 431 },		/* request head over the limit */
};

static const struct {
	int status;
	const char *reason;
	const char *headers;	/* extra header lines */
} responses[] = {
	{ 400, "Bad Request", "" },
	{ 403, "Forbidden", "" },
	{ 404, "Not Found", "" },
	{ 405, "Method Not Allowed", "Allow: GET\r\n" },
	{ 426, "Upgrade Required", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" },
	{ 431, "Request Header Fields Too Large", "" },
	{ 500, "Internal Server Error", "" },
	{ 503, "Service Unavailable", "" },
};

int
ws_handshake_status(int error)
{
	if (error < 0)
		error = -error;
	for (size_t i = 0; i < ELEMENTSOF(status_map); i++)
		if (status_map[i].error == error)
			return status_map[i].status;
	return 500;
}

void
ws_request_done(struct ws_request *req)
{
	if (!req)
		return;
	free(req->method);
	free(req->target);
	free(req->path);
	free(req->query);
	free(req->host);
	free(req->key);
	free(req->origin);
	free(req->x_forwarded_for);
	free(req->x_real_ip);
	*req = (struct ws_request){ 0 };
}

int
ws_handshake_new(size_t max_header, struct ws_handshake **ret)
{
	struct ws_handshake *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->max = max_header ? max_header : WS_HANDSHAKE_MAX_HEADER;
	strbuf_init(&h->buf, h->max);
	*ret = h;
	return 0;
}

struct ws_handshake *
ws_handshake_free(struct ws_handshake *h)
{
	if (!h)
		return NULL;
	strbuf_free(&h->buf);
	ws_request_done(&h->req);
	free(h);
	return NULL;
}

const struct ws_request *
ws_handshake_request(const struct ws_handshake *h)
{
	return h->have_request ? &h->req : NULL;
}

int
ws_handshake_take_request(struct ws_handshake *h, struct ws_request *ret)
{
	if (!h->have_request)
		return -EAGAIN;
	*ret = h->req;
	h->req = (struct ws_request){ 0 };
	h->have_request = false;
	return 0;
}

const char *
ws_handshake_error(const struct ws_handshake *h)
{
	return h->error < 0 ? h->error_text : NULL;
}

static int
hs_fail(struct ws_handshake *h, int error, const char *text)
{
	h->error = error;
	h->error_text = text;
	return error;
}

/* RFC 9110 §5.6.2 tchar */
static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* field-value characters: HTAB, visible ASCII, SP, obs-text (RFC 9110 §5.5) */
static bool
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether the comma-separated list s has an element equal to token
 * (ASCII case-insensitively). Empty elements are allowed (RFC 9110 §5.6.1). */
static bool
list_has_token(const char *s, const char *token)
{
	size_t tl = strlen(token);

	while (*s) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *b = s + l;

		while (a < b && is_ows(*a))
			a++;
		while (b > a && is_ows(b[-1]))
			b--;
		if ((size_t)(b - a) == tl && strncasecmp(a, token, tl) == 0)
			return true;
		if (!e)
			break;
		s = e + 1;
	}
	return false;
}

/* RFC 6455 §4.1: the key is base64 of 16 bytes, so 22 characters and "==". */
static bool
key_valid(const char *key)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	if (strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return false;
	/* the trailing 4 bits of the 22nd character are padding: some decoders
	 * (Python's) ignore them, so do we; the accept hash covers the text anyway */
	for (size_t i = 0; i < 22; i++)
		if (!memchr(b64, key[i], sizeof(b64) - 1))
			return false;
	return true;
}

struct headers {
	char *v[_H_MAX];	/* malloc'd values, NULL when absent */
};

static void
headers_done(struct headers *hd)
{
	for (size_t i = 0; i < _H_MAX; i++)
		free(hd->v[i]);
}

static char *
strndup_or_empty(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* line is one request line without its terminator (CR and LF removed). */
static int
parse_request_line(struct ws_handshake *h, const char *line, size_t n)
{
	const char *sp1, *sp2, *target, *version, *q;
	size_t tl, vl;

	sp1 = memchr(line, ' ', n);
	if (!sp1 || !is_token(line, (size_t)(sp1 - line)))
		return hs_fail(h, -EBADMSG, "malformed request line");
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - (size_t)(target - line));
	if (!sp2)
		return hs_fail(h, -EBADMSG, "malformed request line");
	tl = (size_t)(sp2 - target);
	version = sp2 + 1;
	vl = n - (size_t)(version - line);

	/* HTTP/1.1 or a later 1.x; RFC 6455 §4.1 needs 1.1 at least */
	if (vl != 8 || memcmp(version, "HTTP/1.", 7) != 0 || version[7] < '1' ||
	    version[7] > '9')
		return hs_fail(h, -EBADMSG, "not an HTTP/1.1 request");
	if (tl == 0 || target[0] != '/')
		return hs_fail(h, -EBADMSG, "request target is not a path");
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)target[i];

		/* visible ASCII only; a fragment makes no sense here (RFC 6455 §3) */
		if (c <= 0x20 || c >= 0x7f || c == '#')
			return hs_fail(h, -EBADMSG, "invalid character in the request target");
	}

	q = memchr(target, '?', tl);
	h->req.method = strndup_or_empty(line, (size_t)(sp1 - line));
	h->req.target = strndup_or_empty(target, tl);
	h->req.path = strndup_or_empty(target, q ? (size_t)(q - target) : tl);
	h->req.query = q ? strndup_or_empty(q + 1, tl - (size_t)(q + 1 - target))
	    : strndup_or_empty("", 0);
	if (!h->req.method || !h->req.target || !h->req.path || !h->req.query)
		return hs_fail(h, -ENOMEM, "out of memory");
	return 0;
}

static int
parse_header(struct ws_handshake *h, struct headers *hd, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *a, *b;
	size_t nl;

	if (n > 0 && is_ows(line[0]))
		return hs_fail(h, -EBADMSG, "obsolete header line folding");
	/* no whitespace between name and colon (RFC 9112 §5.1): not a tchar */
	if (!colon || !is_token(line, (size_t)(colon - line)))
		return hs_fail(h, -EBADMSG, "malformed header line");
	nl = (size_t)(colon - line);
	a = colon + 1;
	b = line + n;
	for (const char *c = a; c < b; c++)
		if (!is_field_char((unsigned char)*c))
			return hs_fail(h, -EBADMSG, "invalid character in a header value");
	while (a < b && is_ows(*a))
		a++;
	while (b > a && is_ows(b[-1]))
		b--;

	for (size_t i = 0; i < _H_MAX; i++) {
		const char *name = header_table[i].name;
		size_t vl = (size_t)(b - a);

		if (strlen(name) != nl || strncasecmp(line, name, nl) != 0)
			continue;
		if (!hd->v[i]) {
			hd->v[i] = strndup_or_empty(a, vl);
			if (!hd->v[i])
				return hs_fail(h, -ENOMEM, "out of memory");
		} else if (header_table[i].list) {
			size_t ol = strlen(hd->v[i]);
			char *p;

			/* bounded by max_header: no overflow */
			p = realloc(hd->v[i], ol + 2 + vl + 1);
			if (!p)
				return hs_fail(h, -ENOMEM, "out of memory");
			memcpy(p + ol, ", ", 2);
			memcpy(p + ol + 2, a, vl);
			p[ol + 2 + vl] = '\0';
			hd->v[i] = p;
		} else
			return hs_fail(h, -EBADMSG, "duplicate header");
		break;
	}
	return 0;
}

/* Checks the headers in the order a client needs to hear about them. */
static int
validate(struct ws_handshake *h, struct headers *hd)
{
	if (!streq(h->req.method, "GET"))
		return hs_fail(h, -EOPNOTSUPP, "method not allowed");
	/* the bytes after the head are frames: a body would be misread */
	if (hd->v[H_TRANSFER_ENCODING] ||
	    (hd->v[H_CONTENT_LENGTH] && !streq(hd->v[H_CONTENT_LENGTH], "0")))
		return hs_fail(h, -EBADMSG, "request body not allowed");
	if (!hd->v[H_HOST] || hd->v[H_HOST][0] == '\0')
		return hs_fail(h, -EBADMSG, "missing Host header");
	if (!hd->v[H_UPGRADE] || !list_has_token(hd->v[H_UPGRADE], "websocket"))
		return hs_fail(h, -EBADMSG, "missing Upgrade: websocket");
	if (!hd->v[H_CONNECTION] || !list_has_token(hd->v[H_CONNECTION], "upgrade"))
		return hs_fail(h, -EBADMSG, "missing Connection: Upgrade");
	if (!hd->v[H_VERSION] || !streq(hd->v[H_VERSION], "13"))
		return hs_fail(h, -EPROTONOSUPPORT, "unsupported Sec-WebSocket-Version");
	if (!hd->v[H_KEY])
		return hs_fail(h, -EBADMSG, "missing Sec-WebSocket-Key");
	if (!key_valid(hd->v[H_KEY]))
		return hs_fail(h, -EBADMSG, "invalid Sec-WebSocket-Key");
	return 0;
}

static int
parse_head(struct ws_handshake *h)
{
	_cleanup_(headers_done) struct headers hd = { 0 };
	const char *s = h->buf.buf;
	size_t n = h->buf.len, pos = 0;
	bool first = true;
	int r;

	while (pos < n) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t end, len;

		/* the feeder stopped right after the blank line's LF */
		if (!nl)
			return hs_fail(h, -EBADMSG, "malformed request head");
		end = (size_t)(nl - s);
		len = end - pos;
		if (len > 0 && s[end - 1] == '\r')
			len--;
		/* a bare CR or a NUL inside a line is never valid */
		if (memchr(s + pos, '\r', len) || memchr(s + pos, '\0', len))
			return hs_fail(h, -EBADMSG, "invalid character in the request head");
		if (len == 0)
			break;
		if (first)
			r = parse_request_line(h, s + pos, len);
		else
			r = parse_header(h, &hd, s + pos, len);
		if (r < 0)
			return r;
		first = false;
		pos = end + 1;
	}

	r = validate(h, &hd);
	if (r < 0)
		return r;
	h->req.host = TAKE_PTR(hd.v[H_HOST]);
	h->req.key = TAKE_PTR(hd.v[H_KEY]);
	h->req.origin = TAKE_PTR(hd.v[H_ORIGIN]);
	h->req.x_forwarded_for = TAKE_PTR(hd.v[H_X_FORWARDED_FOR]);
	h->req.x_real_ip = TAKE_PTR(hd.v[H_X_REAL_IP]);
	return 0;
}

int
ws_handshake_feed(struct ws_handshake *h, const void *data, size_t n, size_t *ret_consumed)
{
	const char *s = data;
	size_t start = 0;
	int r;

	if (h->error < 0)
		return h->error;
	if (h->done) {
		*ret_consumed = 0;
		return 1;
	}

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool end;

		if (h->total >= h->max)
			return hs_fail(h, -EMSGSIZE, "request header too large");
		h->total++;

		/* empty lines before the request line are skipped */
		if (h->buf.len == 0 && start == i && (c == '\r' || c == '\n')) {
			start = i + 1;
			continue;
		}
		if (c != '\n') {
			h->line_len++;
			h->last = c;
			continue;
		}
		end = h->line_len == 0 || (h->line_len == 1 && h->last == '\r');
		h->line_len = 0;
		h->last = c;
		if (!end)
			continue;

		r = strbuf_append(&h->buf, s + start, i + 1 - start);
		if (r < 0)
			return hs_fail(h, r, "out of memory");
		r = parse_head(h);
		if (r < 0) {
			ws_request_done(&h->req);
			return r;
		}
		/* the head is parsed: its text is no longer needed */
		strbuf_free(&h->buf);
		h->done = true;
		h->have_request = true;
		*ret_consumed = i + 1;
		return 1;
	}

	r = strbuf_append(&h->buf, s + start, n - start);
	if (r < 0)
		return hs_fail(h, r, r == -EMSGSIZE ? "request header too large" : "out of memory");
	*ret_consumed = n;
	return 0;
}

int
ws_request_query_get(const struct ws_request *req, const char *name, char **ret)
{
	return http_query_get(req->query, name, ret);
}

int
ws_accept_key(const char *key, char ret[static WS_ACCEPT_LEN + 1])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
	    EVP_DigestUpdate(ctx, WS_GUID, strlen(WS_GUID)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	/* 20 bytes encode to exactly WS_ACCEPT_LEN characters plus the NUL */
	if (EVP_EncodeBlock((unsigned char *)ret, md, (int)mdlen) != WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}

int
ws_response_accept(struct strbuf *out, const char *key)
{
	char accept[WS_ACCEPT_LEN + 1];
	int r;

	r = ws_accept_key(key, accept);
	if (r < 0)
		return r;
	return strbuf_printf(out,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "\r\n", accept);
}

int
ws_response_error(struct strbuf *out, int status, const char *body)
{
	for (size_t i = 0; i < ELEMENTSOF(responses); i++) {
		const char *b = body;
		const char *nl = "";

		if (responses[i].status != status)
			continue;
		if (!b) {
			b = responses[i].reason;
			nl = "\n";
		}
		/* one printf: strbuf appends all of it or nothing */
		return strbuf_printf(out,
		    "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Length: %zu\r\n"
		    "Connection: close\r\n"
		    "%s"
		    "\r\n"
		    "%s%s", status, responses[i].reason, strlen(b) + strlen(nl),
		    responses[i].headers, b, nl);
	}
	return -EINVAL;
}
