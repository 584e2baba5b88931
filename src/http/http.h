/* SPDX-License-Identifier: MIT */
/*
 * The request/response model that handlers see. It knows nothing of
 * FastCGI: the adapter (src/fcgi) or a test fills struct req with the
 * FastCGI-style parameters ("NAME=value") and a body reader, and turns
 * struct resp back into bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth/auth.h"
#include "common/json.h"
#include "common/strbuf.h"

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	_HTTP_METHOD_MAX,
	_HTTP_METHOD_INVALID = -1,
};

#define REQ_PARAMS_MAX 4

struct req_param {
	char name[32];
	char *value;
};

struct form;

struct req {
	/* set by the server side */
	char *const *env;		/* FastCGI params, NULL-terminated */
	ssize_t (*read)(void *userdata, void *buf, size_t n);	/* body; 0 at end */
	void *read_userdata;

	/* parsed by req_init() */
	enum http_method method;
	const char *method_name;
	const char *path;		/* DOCUMENT_URI: decoded and normalised by nginx */
	const char *query;		/* QUERY_STRING, raw */
	int64_t content_length;		/* -1 when not given */
	const char *content_type;
	const char *remote_addr;
	int64_t start_usec;		/* monotonic */

	/* filled while dispatching */
	struct req_param params[REQ_PARAMS_MAX];	/* path parameters */
	size_t n_params;
	struct strbuf body;		/* the body, when it was read into memory */
	bool body_loaded;
	size_t body_pos;		/* read cursor into body for req_read() */
	json_object *json;		/* parsed JSON body */
	struct form *form;		/* parsed form body */
	struct identity ident;		/* valid when authenticated */
	bool authenticated;
	int auth_state;			/* 0 unknown, 1 resolved, <0 -errno */
};

struct resp {
	int status;
	const char *content_type;	/* static string */
	struct strbuf headers;		/* extra "Name: value\r\n" lines */
	struct strbuf body;
	bool head_only;			/* HEAD: send headers only */
};

/* Parse method, path, query and headers from rq->env. 0 or -EINVAL. */
int req_init(struct req *rq);
void req_done(struct req *rq);

/* A FastCGI parameter ("HTTP_AUTHORIZATION", "REMOTE_ADDR", …) or NULL. */
const char *req_env(const struct req *rq, const char *name);
/* A path parameter by name, or NULL. */
const char *req_param(const struct req *rq, const char *name);

/*
 * Read the whole body into rq->body, at most max bytes. -EMSGSIZE when the
 * declared or actual length is larger (413), -EIO on a read failure.
 */
int req_load_body(struct req *rq, size_t max);
/* Read body bytes: from memory when loaded, else from the stream. */
ssize_t req_read(struct req *rq, void *buf, size_t n);

/*
 * Query string: the last value of name (percent-decoded), by
 * http_query_get() on rq->query. Returns 1 and a malloc'd *ret, 0 when
 * absent, -EINVAL ("%00"), -ENOMEM.
 */
int req_query_get(const struct req *rq, const char *name, char **ret);
/* All pairs as a JSON object (last value wins), for the audit log. */
json_object *req_query_object(const struct req *rq);

/* Percent-decode n bytes of s ('+' → ' ' when plus). malloc'd; NULL with
 * errno ENOMEM, or EINVAL when it would decode to a NUL byte ("%00"). */
char *http_unescape(const char *s, size_t n, bool plus);

/* Call cb for each name=value pair of a urlencoded string (decoded). A
 * non-zero cb result stops the walk and is returned; -EINVAL for "%00". */
int http_urlencoded_foreach(const char *s, size_t n,
    int (*cb)(const char *name, const char *value, void *userdata), void *userdata);

/*
 * The last value of parameter name in a raw query string (urlencoded rules:
 * '+' is a space, a stray '%' stays), for the API and the WebSocket
 * daemon alike. Returns 1 and a malloc'd *ret, 0 when absent, -EINVAL when
 * a name or value would decode to a NUL byte ("%00"), or -ENOMEM.
 */
int http_query_get(const char *query, const char *name, char **ret);

const char *http_method_to_string(enum http_method m);
enum http_method http_method_from_string(const char *s);
const char *http_status_reason(int status);
/* The one errno → HTTP status map. */
int http_status_from_errno(int error);

void resp_init(struct resp *rs);
void resp_done(struct resp *rs);
/* Replace the body with obj serialised compactly (takes ownership of obj). */
int resp_json(struct resp *rs, int status, json_object *obj);
/* {"detail": "<formatted>"} with status. 0 or -ENOMEM. */
int resp_detail(struct resp *rs, int status, const char *fmt, ...) _printf_(3, 4);
/* {"message": "<formatted>"} with 200. 0 or -ENOMEM. */
int resp_message(struct resp *rs, const char *fmt, ...) _printf_(2, 3);
int resp_text(struct resp *rs, int status, const char *content_type, const char *text);
int resp_header(struct resp *rs, const char *name, const char *fmt, ...) _printf_(3, 4);
/* Plain-text 500 "Internal Server Error" (API-core §1.4). */
int resp_internal_error(struct resp *rs);
/* Error response for a negative errno with the standard detail. */
int resp_errno(struct resp *rs, int error);
/* CGI-style head: "Status: …\r\nContent-Type: …\r\nContent-Length: …\r\n…\r\n". */
int resp_serialize_head(const struct resp *rs, struct strbuf *out);

/* ---- validation errors (422) ---- */

struct verrs {
	json_object *list;	/* array of error objects */
};

/*
 * Append one pydantic-style error. loc is a NULL-terminated list of path
 * elements; an element starting with '#' is written as an integer.
 * input and ctx are taken over (may be NULL: input is then JSON null and
 * ctx is left out).
 */
int verrs_add(struct verrs *v, const char *type, const char *const *loc, const char *msg,
    json_object *input, json_object *ctx);
bool verrs_any(const struct verrs *v);
/* Answer 422 {"detail": [...]} and release the list. */
int resp_verrs(struct resp *rs, struct verrs *v);
void verrs_done(struct verrs *v);
