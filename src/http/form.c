/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "http/form.h"
#include "http/http.h"

enum form_kind
form_kind(const char *ct)
{
	size_t l;

	if (!ct)
		return FORM_NONE;
	while (*ct == ' ')
		ct++;
	l = strcspn(ct, ";");
	while (l > 0 && ct[l - 1] == ' ')
		l--;
	if (l == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", l) == 0)
		return FORM_URLENCODED;
	if (l == 19 && strncasecmp(ct, "multipart/form-data", l) == 0)
		return FORM_MULTIPART;
	return FORM_NONE;
}

struct form *
form_free(struct form *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		free(f->fields[i].filename);
		free(f->fields[i].content_type);
		free(f->fields[i].data);
	}
	free(f->fields);
	free(f);
	return NULL;
}

const struct form_field *
form_get(const struct form *f, const char *name)
{
	const struct form_field *found = NULL;

	for (size_t i = 0; f && i < f->n; i++)
		if (streq(f->fields[i].name, name))
			found = &f->fields[i];
	return found;
}

static struct form_field *
form_add(struct form *f)
{
	struct form_field *n;

	n = reallocarray(f->fields, f->n + 1, sizeof(*n));
	if (!n)
		return NULL;
	f->fields = n;
	n = &f->fields[f->n++];
	*n = (struct form_field){ 0 };
	return n;
}

static int
urlenc_cb(const char *name, const char *value, void *userdata)
{
	struct form *f = userdata;
	struct form_field *ff;

	if (f->n >= FORM_MAX_FIELDS)
		return -E2BIG;
	ff = form_add(f);
	if (!ff)
		return -ENOMEM;
	ff->urlencoded = true;
	ff->name = strdup(name);
	ff->data = strdup(value);
	if (!ff->name || !ff->data)
		return -ENOMEM;
	ff->len = strlen(value);
	return 0;
}

/*
 * Find a header parameter (name=value or name="value") in a header value such
 * as Content-Type or Content-Disposition. Returns a malloc'd value or NULL.
 */
static char *
header_param(const char *h, size_t hlen, const char *param)
{
	size_t pl = strlen(param), i = 0;

	while (i < hlen) {
		/* skip to the next ';' separated token */
		while (i < hlen && h[i] != ';') {
			if (h[i] == '"') {
				for (i++; i < hlen && h[i] != '"'; i++)
					if (h[i] == '\\')
						i++;
			}
			i++;
		}
		if (i >= hlen)
			break;
		i++;
		while (i < hlen && (h[i] == ' ' || h[i] == '\t'))
			i++;
		if (hlen - i > pl && strncasecmp(h + i, param, pl) == 0 && h[i + pl] == '=') {
			size_t s = i + pl + 1, e;
			char *out, *o;

			if (s < hlen && h[s] == '"') {
				out = o = malloc(hlen - s + 1);
				if (!out)
					return NULL;
				for (e = s + 1; e < hlen && h[e] != '"'; e++) {
					if (h[e] == '\\' && e + 1 < hlen)
						e++;
					*o++ = h[e];
				}
				*o = '\0';
				return out;
			}
			for (e = s; e < hlen && h[e] != ';' && h[e] != ' '; e++)
				;
			return strndup(h + s, e - s);
		}
	}
	return NULL;
}

static const char *
memmem_str(const char *hay, size_t n, const char *needle, size_t nl)
{
	return memmem(hay, n, needle, nl);
}

static int _printf_(2, 3)
mp_fail(char **ret_error, const char *fmt, ...)
{
	va_list ap;

	if (ret_error) {
		va_start(ap, fmt);
		if (vasprintf(ret_error, fmt, ap) < 0)
			*ret_error = NULL;
		va_end(ap);
	}
	return -EBADMSG;
}

/* Parse the header block of one part: [p, end). */
static int
part_headers(const char *p, const char *end, struct form_field *ff, char **ret_error)
{
	bool disposition = false;

	while (p < end) {
		const char *eol = memmem_str(p, (size_t)(end - p), "\r\n", 2);
		const char *colon;
		size_t l;

		if (!eol)
			eol = end;
		l = (size_t)(eol - p);
		colon = memchr(p, ':', l);
		if (!colon)
			return mp_fail(ret_error, "Malformed multipart header line");
		if ((size_t)(colon - p) == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
			const char *v = colon + 1;
			size_t vl = (size_t)(eol - v);

			disposition = true;
			ff->name = header_param(v, vl, "name");
			ff->filename = header_param(v, vl, "filename");
			if (!ff->name)
				return mp_fail(ret_error, "Missing name in Content-Disposition");
			if (ff->filename) {
				/* Windows clients: keep only the last "\" component */
				const char *fn = ff->filename;

				if ((isalpha((unsigned char)fn[0]) && fn[1] == ':' && fn[2] == '\\') ||
				    (fn[0] == '\\' && fn[1] == '\\')) {
					char *cut = strdup(strrchr(fn, '\\') + 1);

					if (!cut)
						return -ENOMEM;
					free(ff->filename);
					ff->filename = cut;
				}
			}
		} else if ((size_t)(colon - p) == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
			const char *v = colon + 1;

			while (v < eol && *v == ' ')
				v++;
			free(ff->content_type);
			ff->content_type = strndup(v, (size_t)(eol - v));
			if (!ff->content_type)
				return -ENOMEM;
		}
		p = eol + 2;
	}
	if (!disposition)
		return mp_fail(ret_error, "Missing Content-Disposition header in multipart part");
	return 0;
}

static int
parse_multipart(const char *ct, const char *body, size_t len, struct form *f, char **ret_error)
{
	_cleanup_free_ char *boundary = header_param(ct, strlen(ct), "boundary");
	_cleanup_free_ char *delim = NULL;
	size_t dl, files = 0, fields = 0;
	const char *p, *end = body + len;

	if (!boundary || !*boundary || strlen(boundary) > 200)
		return mp_fail(ret_error, "Missing boundary in multipart.");
	if (asprintf(&delim, "\r\n--%s", boundary) < 0)
		return -ENOMEM;
	dl = strlen(delim);

	/* the first delimiter may come without the leading CRLF */
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else {
		p = memmem_str(body, len, delim, dl);
		if (!p)
			return mp_fail(ret_error, "Did not find boundary in multipart body");
		p += dl;
	}
	for (;;) {
		const char *hend, *next;
		struct form_field *ff;
		int r;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;	/* close delimiter */
		/* transport padding, then CRLF */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return mp_fail(ret_error, "Malformed multipart body");
		p += 2;
		hend = memmem_str(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend) {
			/* a part with no headers at all starts with the blank line */
			if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
				hend = p - 2;
			else
				return mp_fail(ret_error, "Malformed multipart part headers");
		}
		ff = form_add(f);
		if (!ff)
			return -ENOMEM;
		r = part_headers(p, hend, ff, ret_error);
		if (r < 0)
			return r;
		p = hend + 4;
		next = memmem_str(p, (size_t)(end - p), delim, dl);
		if (!next)
			return mp_fail(ret_error, "Multipart body ended before the closing boundary");
		if (ff->filename) {
			if (++files > FORM_MAX_FILES)
				return mp_fail(ret_error, "Too many files. Maximum number of files is %d.",
				    FORM_MAX_FILES);
		} else {
			if (++fields > FORM_MAX_FIELDS)
				return mp_fail(ret_error,
				    "Too many fields. Maximum number of fields is %d.", FORM_MAX_FIELDS);
			if ((size_t)(next - p) > FORM_MAX_FIELD_SIZE)
				return mp_fail(ret_error, "Part exceeded maximum size of %dKB.",
				    FORM_MAX_FIELD_SIZE / 1024);
		}
		ff->off = (size_t)(p - body);
		ff->len = (size_t)(next - p);
		ff->data = malloc(ff->len + 1);
		if (!ff->data)
			return -ENOMEM;
		memcpy(ff->data, p, ff->len);
		ff->data[ff->len] = '\0';
		p = next + dl;
	}
}

int
form_parse(const char *content_type, const char *body, size_t len, struct form **ret,
    char **ret_error)
{
	struct form *f = calloc(1, sizeof(*f));
	int r = 0;

	if (!f)
		return -ENOMEM;
	switch (form_kind(content_type)) {
	case FORM_URLENCODED:
		r = http_urlencoded_foreach(body, len, urlenc_cb, f);
		if (r == -E2BIG)
			r = mp_fail(ret_error, "Too many fields. Maximum number of fields is %d.",
			    FORM_MAX_FIELDS);
		else if (r == -EINVAL)
			r = mp_fail(ret_error, "Invalid form data");
		break;
	case FORM_MULTIPART:
		r = parse_multipart(content_type, body, len, f, ret_error);
		break;
	case FORM_NONE:
		break;
	}
	if (r < 0) {
		form_free(f);
		return r;
	}
	*ret = f;
	return 0;
}
