/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

void
resp_init(struct resp *rs)
{
	*rs = (struct resp){ .status = 200, .content_type = "application/json" };
	strbuf_init(&rs->headers, 64 * 1024);
	strbuf_init(&rs->body, 0);
}

void
resp_done(struct resp *rs)
{
	strbuf_free(&rs->headers);
	strbuf_free(&rs->body);
}

int
resp_json(struct resp *rs, int status, json_object *obj)
{
	const char *s;
	int r;

	if (!obj)
		return -ENOMEM;
	s = json_compact(obj);
	strbuf_reset(&rs->body);
	r = strbuf_puts(&rs->body, s);
	json_object_put(obj);
	if (r < 0)
		return r;
	rs->status = status;
	rs->content_type = "application/json";
	return 0;
}

/* {"<key>": "<formatted>"} with status: the body of resp_detail() and resp_message(). */
static int _printf_(4, 0)
resp_vkeyed(struct resp *rs, int status, const char *key, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	json_object *o;

	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	if (json_object_object_add(o, key, json_object_new_string(msg)) < 0) {
		json_object_put(o);
		return -ENOMEM;
	}
	return resp_json(rs, status, o);
}

int
resp_detail(struct resp *rs, int status, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = resp_vkeyed(rs, status, "detail", fmt, ap);
	va_end(ap);
	return r;
}

int
resp_message(struct resp *rs, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = resp_vkeyed(rs, 200, "message", fmt, ap);
	va_end(ap);
	return r;
}

int
resp_text(struct resp *rs, int status, const char *content_type, const char *text)
{
	strbuf_reset(&rs->body);
	rs->status = status;
	rs->content_type = content_type;
	return strbuf_puts(&rs->body, text);
}

int
resp_header(struct resp *rs, const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	r = strbuf_printf(&rs->headers, "%s: ", name);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = strbuf_vprintf(&rs->headers, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return strbuf_puts(&rs->headers, "\r\n");
}

int
resp_internal_error(struct resp *rs)
{
	strbuf_reset(&rs->headers);
	return resp_text(rs, 500, "text/plain; charset=utf-8", "Internal Server Error");
}

int
resp_errno(struct resp *rs, int error)
{
	int status = http_status_from_errno(error);

	switch (status) {
	case 500:
		return resp_internal_error(rs);
	case 401:
		(void)resp_header(rs, "WWW-Authenticate", "Bearer");
		return resp_detail(rs, 401, error == -EKEYREJECTED || error == EKEYREJECTED ?
		    "Could not validate credentials" : "Not authenticated");
	case 403:
		return resp_detail(rs, 403, "Not enough permissions");
	case 413:
		return resp_detail(rs, 413, "Request body too large");
	case 503:
		return resp_detail(rs, 503, "Service temporarily unavailable, try again");
	default:
		return resp_detail(rs, status, "%s", http_status_reason(status));
	}
}

int
resp_serialize_head(const struct resp *rs, struct strbuf *out)
{
	int r;

	r = strbuf_printf(out, "Status: %d %s\r\n", rs->status, http_status_reason(rs->status));
	if (r >= 0 && rs->content_type)
		r = strbuf_printf(out, "Content-Type: %s\r\n", rs->content_type);
	if (r >= 0)
		r = strbuf_printf(out, "Content-Length: %zu\r\n", rs->body.len);
	if (r >= 0)
		r = strbuf_append(out, rs->headers.buf ? rs->headers.buf : "", rs->headers.len);
	if (r >= 0)
		r = strbuf_puts(out, "\r\n");
	return r;
}

/* ---- validation errors -------------------------------------------------- */

int
verrs_add(struct verrs *v, const char *type, const char *const *loc, const char *msg,
    json_object *input, json_object *ctx)
{
	json_object *e = NULL, *l = NULL;

	if (!v->list && !(v->list = json_object_new_array()))
		goto fail;
	e = json_object_new_object();
	l = json_object_new_array();
	if (!e || !l)
		goto fail;
	for (size_t i = 0; loc[i]; i++) {
		json_object *x;

		if (loc[i][0] == '#')
			x = json_object_new_int64(strtoll(loc[i] + 1, NULL, 10));
		else
			x = json_object_new_string(loc[i]);
		if (!x || json_object_array_add(l, x) < 0)
			goto fail;
	}
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "loc", l);
	l = NULL;
	json_object_object_add(e, "msg", json_object_new_string(msg));
	json_object_object_add(e, "input", input);
	input = NULL;
	if (ctx) {
		json_object_object_add(e, "ctx", ctx);
		ctx = NULL;
	}
	if (json_object_array_add(v->list, e) < 0)
		goto fail;
	return 0;
fail:
	json_object_put(e);
	json_object_put(l);
	json_object_put(input);
	json_object_put(ctx);
	return -ENOMEM;
}

bool
verrs_any(const struct verrs *v)
{
	return v->list && json_object_array_length(v->list) > 0;
}

int
resp_verrs(struct resp *rs, struct verrs *v)
{
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "detail", v->list ? v->list : json_object_new_array());
	v->list = NULL;
	return resp_json(rs, 422, o);
}

void
verrs_done(struct verrs *v)
{
	json_object_putp(&v->list);
	v->list = NULL;
}
