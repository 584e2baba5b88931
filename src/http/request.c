/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "http/form.h"
#include "http/http.h"

static const char *const method_names[_HTTP_METHOD_MAX] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	[HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE", [HTTP_OPTIONS] = "OPTIONS",
};

const char *
http_method_to_string(enum http_method m)
{
	return m >= 0 && m < _HTTP_METHOD_MAX ? method_names[m] : NULL;
}

enum http_method
http_method_from_string(const char *s)
{
	for (int i = 0; s && i < _HTTP_METHOD_MAX; i++)
		if (streq(s, method_names[i]))
			return (enum http_method)i;
	return _HTTP_METHOD_INVALID;
}

const char *
req_env(const struct req *rq, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; rq->env && rq->env[i]; i++)
		if (strncmp(rq->env[i], name, l) == 0 && rq->env[i][l] == '=')
			return rq->env[i] + l + 1;
	return NULL;
}

const char *
req_param(const struct req *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_params; i++)
		if (streq(rq->params[i].name, name))
			return rq->params[i].value;
	return NULL;
}

int
req_init(struct req *rq)
{
	const char *cl;

	rq->method_name = req_env(rq, "REQUEST_METHOD");
	rq->method = http_method_from_string(rq->method_name);
	rq->path = req_env(rq, "DOCUMENT_URI");
	if (!rq->path)
		rq->path = req_env(rq, "SCRIPT_NAME");
	rq->query = req_env(rq, "QUERY_STRING");
	if (!rq->query)
		rq->query = "";
	rq->content_type = req_env(rq, "CONTENT_TYPE");
	if (rq->content_type && !*rq->content_type)
		rq->content_type = NULL;
	rq->remote_addr = req_env(rq, "REMOTE_ADDR");
	rq->content_length = -1;
	cl = req_env(rq, "CONTENT_LENGTH");
	if (cl && *cl && parse_int64(cl, 0, INT64_MAX, &rq->content_length) < 0)
		return -EINVAL;
	strbuf_init(&rq->body, 0);
	rq->start_usec = now_monotonic_usec();
	if (!rq->method_name || !rq->path)
		return -EINVAL;
	return 0;
}

void
req_done(struct req *rq)
{
	for (size_t i = 0; i < rq->n_params; i++)
		free(rq->params[i].value);
	rq->n_params = 0;
	strbuf_free(&rq->body);
	json_object_putp(&rq->json);
	rq->json = NULL;
	rq->form = form_free(rq->form);
}

int
req_load_body(struct req *rq, size_t max)
{
	char buf[16384];

	if (rq->body_loaded)
		return rq->body.len > max ? -EMSGSIZE : 0;
	if (rq->content_length > 0 && (uint64_t)rq->content_length > max)
		return -EMSGSIZE;
	rq->body.max = max;
	for (;;) {
		ssize_t l;
		int r;

		if (!rq->read)
			break;
		l = rq->read(rq->read_userdata, buf, sizeof(buf));
		if (l < 0)
			return -EIO;
		if (l == 0)
			break;
		r = strbuf_append(&rq->body, buf, (size_t)l);
		if (r < 0)
			return r;	/* -EMSGSIZE: longer than declared or than max */
	}
	if (rq->content_length >= 0 && (int64_t)rq->body.len != rq->content_length)
		return -EIO;	/* the client went away mid-body */
	/* make sure the buffer exists so strbuf_str() is never NULL-backed */
	if (strbuf_reserve(&rq->body, 0) < 0)
		return -ENOMEM;
	rq->body_loaded = true;
	rq->body_pos = 0;
	return 0;
}

ssize_t
req_read(struct req *rq, void *buf, size_t n)
{
	if (rq->body_loaded) {
		size_t left = rq->body.len - rq->body_pos;

		if (n > left)
			n = left;
		memcpy(buf, rq->body.buf + rq->body_pos, n);
		rq->body_pos += n;
		return (ssize_t)n;
	}
	if (!rq->read)
		return 0;
	return rq->read(rq->read_userdata, buf, n);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
http_unescape(const char *s, size_t n, bool plus)
{
	char *out = malloc(n + 1), *o = out;

	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			if (*o++ == '\0') {
				/* a C string cannot carry it, and no parameter needs it */
				free(out);
				errno = EINVAL;
				return NULL;
			}
			i += 2;
		} else if (plus && s[i] == '+')
			*o++ = ' ';
		else
			*o++ = s[i];	/* like Python's unquote: a stray '%' stays */
	}
	*o = '\0';
	return out;
}

/* Calls cb(name, value) for each pair of an application/x-www-form-urlencoded
 * string (query strings too). Pairs without '=' get an empty value, like
 * Starlette with keep_blank_values. */
int
http_urlencoded_foreach(const char *s, size_t n,
    int (*cb)(const char *name, const char *value, void *userdata), void *userdata)
{
	size_t i = 0;

	while (i < n) {
		size_t end = i, eq;
		_cleanup_free_ char *name = NULL, *value = NULL;
		int r;

		while (end < n && s[end] != '&')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (end > i) {
			name = http_unescape(s + i, eq - i, true);
			value = eq < end ? http_unescape(s + eq + 1, end - eq - 1, true) : strdup("");
			if (!name || !value)
				return errno == EINVAL ? -EINVAL : -ENOMEM;
			r = cb(name, value, userdata);
			if (r != 0)
				return r;
		}
		i = end + 1;
	}
	return 0;
}

struct query_get {
	const char *name;
	char *value;
};

static int
query_get_cb(const char *name, const char *value, void *userdata)
{
	struct query_get *q = userdata;
	char *v;

	if (!streq(name, q->name))
		return 0;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(q->value);		/* the last value wins */
	q->value = v;
	return 0;
}

int
http_query_get(const char *query, const char *name, char **ret)
{
	struct query_get q = { name, NULL };
	int r;

	r = http_urlencoded_foreach(query, strlen(query), query_get_cb, &q);
	if (r < 0) {
		free(q.value);
		return r;
	}
	if (!q.value)
		return 0;
	*ret = q.value;
	return 1;
}

int
req_query_get(const struct req *rq, const char *name, char **ret)
{
	return http_query_get(rq->query, name, ret);
}

static int
query_obj_cb(const char *name, const char *value, void *userdata)
{
	json_object *s = json_object_new_string(value);

	if (!s)
		return -ENOMEM;
	/* object_add replaces an existing key: last value wins */
	return json_object_object_add(userdata, name, s) == 0 ? 0 : -ENOMEM;
}

json_object *
req_query_object(const struct req *rq)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (http_urlencoded_foreach(rq->query, strlen(rq->query), query_obj_cb, o) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
