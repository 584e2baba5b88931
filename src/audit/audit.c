/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "http/body.h"
#include "http/form.h"

#define MASKED "***MASKED***"

struct audit {
	bool enabled;
	pthread_mutex_t lock;
	char *dir;
	char *name;
	char *path;
	int fd;
	char day[11];		/* local date of the open file's first line */
};

static void
local_day(char buf[11], time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		memcpy(buf, "1970-01-01", 11);
	else
		(void)strftime(buf, 11, "%Y-%m-%d", &tm);
}

static int
audit_reopen(struct audit *a)
{
	struct stat st;

	if (a->fd >= 0)
		(void)close(a->fd);
	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (a->fd < 0)
		return -errno;
	if (fstat(a->fd, &st) == 0 && st.st_size > 0)
		local_day(a->day, st.st_mtime);
	else
		local_day(a->day, time(NULL));
	return 0;
}

int
audit_open(const char *logs_dir, const char *file_name, bool enabled, struct audit **ret)
{
	struct audit *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->enabled = enabled;
	pthread_mutex_init(&a->lock, NULL);
	if (!enabled) {
		*ret = a;
		return 0;
	}
	if (strchr(file_name, '/') || streq(file_name, "..") || streq(file_name, ".") ||
	    !*file_name) {
		audit_close(a);
		return -EINVAL;
	}
	if (mkdir(logs_dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		audit_close(a);
		return r;
	}
	a->dir = strdup(logs_dir);
	a->name = strdup(file_name);
	if (!a->dir || !a->name || asprintf(&a->path, "%s/%s", logs_dir, file_name) < 0) {
		a->path = NULL;
		audit_close(a);
		return -ENOMEM;
	}
	r = audit_reopen(a);
	if (r < 0) {
		audit_close(a);
		return r;
	}
	*ret = a;
	return 0;
}

struct audit *
audit_close(struct audit *a)
{
	if (!a)
		return NULL;
	if (a->fd >= 0)
		(void)close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a->dir);
	free(a->name);
	free(a->path);
	free(a);
	return NULL;
}

bool
audit_enabled(const struct audit *a)
{
	return a && a->enabled;
}

/* Midnight rotation: the old file becomes <name>.<its day>; never deleted. */
static int
audit_rotate_if_needed(struct audit *a, int64_t now_usec)
{
	char today[11], target[4096];
	struct stat st;

	local_day(today, (time_t)(now_usec / 1000000));
	if (streq(today, a->day))
		return 0;
	if (snprintf(target, sizeof(target), "%s.%s", a->path, a->day) >= (int)sizeof(target))
		return -ENAMETOOLONG;
	/* keep an existing rotated file: add .1, .2 … */
	for (int i = 1; lstat(target, &st) == 0 && i < 1000; i++)
		if (snprintf(target, sizeof(target), "%s.%s.%d", a->path, a->day, i) >=
		    (int)sizeof(target))
			return -ENAMETOOLONG;
	if (rename(a->path, target) < 0 && errno != ENOENT)
		return -errno;
	return audit_reopen(a);
}

bool
audit_key_sensitive(const char *key, char *const *sensitive)
{
	for (size_t i = 0; sensitive && sensitive[i]; i++)
		if (strcaseeq(key, sensitive[i]))
			return true;
	return false;
}

json_object *
audit_mask(json_object *v, char *const *sensitive)
{
	json_object *out;

	if (!v || !json_object_is_type(v, json_type_object)) {
		json_object *copy = NULL;

		if (v && json_object_deep_copy(v, &copy, NULL) < 0)
			return NULL;
		return copy;
	}
	out = json_object_new_object();
	if (!out)
		return NULL;
	json_object_object_foreach(v, key, val) {
		json_object *m;

		if (audit_key_sensitive(key, sensitive))
			m = json_object_new_string(MASKED);
		else if (val && json_object_is_type(val, json_type_object))
			m = audit_mask(val, sensitive);
		else {
			m = NULL;
			if (val && json_object_deep_copy(val, &m, NULL) < 0) {
				json_object_put(out);
				return NULL;
			}
		}
		json_object_object_add(out, key, m);
	}
	return out;
}

static bool
json_falsy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) == 0;
	case json_type_double:
		return json_object_get_double(v) == 0.0;
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_array:
		return json_object_array_length(v) == 0;
	case json_type_object:
		return json_object_object_length(v) == 0;
	}
	return false;
}

/* The raw body as text (U+FFFD for bad bytes), with the values of
 * sensitive form fields replaced by the mask (§6.3 hardening). */
static json_object *
raw_body_masked(const char *content_type, const char *body, size_t len,
    char *const *sensitive)
{
	struct strbuf sb = STRBUF_INIT;
	struct form *f = NULL;
	json_object *o = NULL, *s = NULL;
	size_t pos = 0;

	switch (form_kind(content_type)) {
	case FORM_URLENCODED: {
		/* rebuild pair by pair so both names and values stay as sent */
		size_t i = 0;

		while (i < len) {
			size_t end = i, eq;
			_cleanup_free_ char *name = NULL;

			while (end < len && body[end] != '&')
				end++;
			for (eq = i; eq < end && body[eq] != '='; eq++)
				;
			name = http_unescape(body + i, eq - i, true);
			if (i > 0 && strbuf_putc(&sb, '&') < 0)
				goto out;
			if (name && eq < end && audit_key_sensitive(name, sensitive)) {
				if (strbuf_append(&sb, body + i, eq - i + 1) < 0 ||
				    strbuf_puts(&sb, MASKED) < 0)
					goto out;
			} else if (strbuf_append(&sb, body + i, end - i) < 0)
				goto out;
			i = end + 1;
		}
		pos = len;
		break;
	}
	case FORM_MULTIPART:
		if (form_parse(content_type, body, len, &f, NULL) == 0)
			for (size_t i = 0; i < f->n; i++) {
				const struct form_field *ff = &f->fields[i];

				if (ff->filename || !audit_key_sensitive(ff->name, sensitive))
					continue;
				if (strbuf_append(&sb, body + pos, ff->off - pos) < 0 ||
				    strbuf_puts(&sb, MASKED) < 0)
					goto out;
				pos = ff->off + ff->len;
			}
		break;
	case FORM_NONE:
		break;
	}
	if (strbuf_append(&sb, body + pos, len - pos) < 0)
		goto out;
	s = json_new_string_lossy(strbuf_str(&sb), sb.len);
	if (!s)
		goto out;
	o = json_object_new_object();
	if (o)
		json_object_object_add(o, "raw_body", s);
	else
		json_object_put(s);
out:
	strbuf_free(&sb);
	form_free(f);
	return o;
}

json_object *
audit_body_value(const char *content_type, int64_t content_length, const char *body, size_t len,
    bool loaded, size_t max_body_size, char *const *sensitive, bool *ret_omit)
{
	_cleanup_(json_object_putp) json_object *parsed = NULL;
	json_object *o;

	*ret_omit = false;
	/* decided from the declared length: a large upload is never buffered */
	if ((content_length > 0 && (uint64_t)content_length > max_body_size) ||
	    (loaded && len > max_body_size)) {
		o = json_object_new_object();
		if (o)
			json_object_object_add(o, "error",
			    json_object_new_string("Request body too large for logging"));
		return o;
	}
	if (!loaded) {
		if (content_length == 0 || content_length == -1) {
			*ret_omit = true;
			return NULL;
		}
		o = json_object_new_object();
		if (o)
			json_object_object_add(o, "error", json_object_new_string(
			    "Failed to read request body: body was not read"));
		return o;
	}
	if (len == 0) {
		*ret_omit = true;
		return NULL;
	}
	if (utf8_valid(body, len)) {
		const char *err = NULL;
		size_t off;

		parsed = json_parse_strict(body, len, JSON_MAX_DEPTH, &err, &off);
		if (!err) {
			if (!parsed || json_falsy(parsed)) {
				*ret_omit = true;
				return NULL;
			}
			return audit_mask(parsed, sensitive);
		}
	}
	return raw_body_masked(content_type, body, len, sensitive);
}

static int
add_str_or_null(json_object *o, const char *key, const char *v)
{
	return json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

int
audit_format(const struct audit_entry *e, char **ret)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	char ts[64];
	const char *s;

	if (!o || fmt_iso_local(ts, sizeof(ts), e->now_usec) < 0)
		return -ENOMEM;
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "method", json_object_new_string(e->method));
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "status_code", json_object_new_int(e->status));
	json_object_object_add(o, "processing_time_ms",
	    json_new_float((double)(int64_t)(e->processing_ms * 100.0 + 0.5) / 100.0));
	add_str_or_null(o, "client_ip", e->client_ip);
	add_str_or_null(o, "user_agent", e->user_agent);
	json_object_object_add(o, "user_id", e->ident ? json_object_new_int64(e->ident->id) : NULL);
	json_object_object_add(o, "username",
	    json_object_new_string(e->ident ? e->ident->username : "anonymous"));
	json_object_object_add(o, "role",
	    json_object_new_string(e->ident ? user_role_to_string(e->ident->role) : "anonymous"));
	if (e->path_params && json_object_object_length(e->path_params) > 0)
		json_object_object_add(o, "path_params", json_object_get(e->path_params));
	if (e->query_params && json_object_object_length(e->query_params) > 0)
		json_object_object_add(o, "query_params", json_object_get(e->query_params));
	if (e->request_body_present)
		json_object_object_add(o, "request_body", json_object_get(e->request_body));
	json_object_object_add(o, "success",
	    json_object_new_boolean(e->status >= 200 && e->status < 400));
	s = json_compact(o);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int
audit_write(struct audit *a, const struct audit_entry *e)
{
	_cleanup_free_ char *line = NULL, *f_json = NULL, *f_method = NULL, *f_path = NULL,
	    *f_status = NULL, *f_user = NULL, *f_role = NULL, *f_ip = NULL;
	int r;

	if (!audit_enabled(a))
		return 0;
	r = audit_format(e, &line);
	if (r < 0)
		return r;

	pthread_mutex_lock(&a->lock);
	r = audit_rotate_if_needed(a, e->now_usec);
	if (r < 0)
		log_warning_errno(r, "cannot rotate audit log '%s': %m, ignoring", a->path);
	if (a->fd >= 0) {
		struct iovec iov[2] = { { line, strlen(line) }, { (void *)"\n", 1 } };

		/* one writev on an O_APPEND fd: lines never interleave */
		if (writev(a->fd, iov, 2) < 0)
			r = -errno;
	} else
		r = -EBADF;
	pthread_mutex_unlock(&a->lock);
	if (r < 0)
		log_warning_errno(r, "cannot write audit log: %m, ignoring");

	if (asprintf(&f_json, "AUDIT_JSON=%s", line) < 0 ||
	    asprintf(&f_method, "AUDIT_METHOD=%s", e->method) < 0 ||
	    asprintf(&f_path, "AUDIT_PATH=%s", e->path) < 0 ||
	    asprintf(&f_status, "AUDIT_STATUS=%d", e->status) < 0 ||
	    asprintf(&f_user, "AUDIT_USERNAME=%s", e->ident ? e->ident->username : "anonymous") < 0 ||
	    asprintf(&f_role, "AUDIT_ROLE=%s",
	    e->ident ? user_role_to_string(e->ident->role) : "anonymous") < 0 ||
	    asprintf(&f_ip, "AUDIT_CLIENT_IP=%s", e->client_ip ? e->client_ip : "") < 0)
		return -ENOMEM;
	{
		const char *fields[] = { "MC_ADMIN_AUDIT=1", f_json, f_method, f_path, f_status,
			f_user, f_role, f_ip, NULL };

		if (log_to_journal())
			log_internal(LOG_INFO, 0, fields, __FILE__, __LINE__, __func__,
			    "audit: %s %s %d by '%s'", e->method, e->path, e->status,
			    e->ident ? e->ident->username : "anonymous");
		else
			log_internal(LOG_INFO, 0, fields, __FILE__, __LINE__, __func__,
			    "audit: %s", line);
	}
	return 0;
}
