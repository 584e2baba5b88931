/* SPDX-License-Identifier: MIT */
/*
 * Streaming multipart/form-data parser: a small state machine over one
 * bounded buffer. Data bytes are passed on as soon as they cannot be the
 * start of a delimiter, so at most the delimiter length minus one byte is
 * held back between feeds.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "http/multipart.h"

#define PADDING_MAX 64		/* transport padding (LWSP) after a delimiter */
#define E_FILES	"Too many files. Maximum number of files is 1000."
#define E_FIELDS "Too many fields. Maximum number of fields is 1000."
#define E_HEADERS "Multipart part headers too large"

enum mp_state {
	MP_PREAMBLE,		/* before the first delimiter */
	MP_AFTER_DELIM,		/* "--" (close) or padding + CRLF */
	MP_HEADERS,		/* a part's header block */
	MP_DATA,		/* a part's data, up to the next delimiter */
	MP_EPILOGUE,		/* after the close delimiter: ignored */
	MP_FAILED,
	_MP_STATE_MAX,
};

struct multipart {
	struct multipart_callbacks cb;
	void *userdata;
	char delim[MULTIPART_MAX_BOUNDARY + 5];	/* "\r\n--" boundary */
	size_t dl;
	enum mp_state state;
	bool at_start;		/* the first delimiter may lack its leading CRLF */
	unsigned char *buf;
	size_t len;
	size_t padding;
	struct multipart_part part;
	bool in_part;
	size_t n_parts, n_files, n_fields;
	int error;
	const char *errtext;
};

static void
part_clear(struct multipart_part *p)
{
	free(p->name);
	free(p->filename);
	free(p->content_type);
	*p = (struct multipart_part){ 0 };
}

struct multipart *
multipart_free(struct multipart *m)
{
	if (!m)
		return NULL;
	part_clear(&m->part);
	free(m->buf);
	free(m);
	return NULL;
}

static int
fail(struct multipart *m, int error, const char *text)
{
	if (m->state != MP_FAILED) {
		m->state = MP_FAILED;
		m->error = error;
		m->errtext = error == -EBADMSG ? text : NULL;
	}
	return m->error;
}

/*
 * Find parameter param in a header value (h, hlen): name=token or
 * name="quoted". Inside quotes only \\ and \" are escapes (Python's
 * email.utils.unquote, which the reference's parser uses), so a Windows
 * path keeps its backslashes. Returns a malloc'd value, NULL when absent
 * (errno 0) or on ENOMEM (errno ENOMEM).
 */
static char *
header_param(const char *h, size_t hlen, const char *param)
{
	size_t pl = strlen(param), i = 0;

	errno = 0;
	while (i < hlen) {
		/* skip to the next ';' outside quotes */
		while (i < hlen && h[i] != ';') {
			if (h[i] == '"') {
				for (i++; i < hlen && h[i] != '"'; i++)
					if (h[i] == '\\' && i + 1 < hlen)
						i++;
			}
			i++;
		}
		if (i >= hlen)
			break;
		i++;
		while (i < hlen && (h[i] == ' ' || h[i] == '\t'))
			i++;
		if (hlen - i > pl && strncasecmp(h + i, param, pl) == 0) {
			size_t s = i + pl, e;
			char *out, *o;

			while (s < hlen && (h[s] == ' ' || h[s] == '\t'))
				s++;
			if (s >= hlen || h[s] != '=')
				continue;
			s++;
			while (s < hlen && (h[s] == ' ' || h[s] == '\t'))
				s++;
			if (s < hlen && h[s] == '"') {
				out = o = malloc(hlen - s + 1);
				if (!out)
					return NULL;
				for (e = s + 1; e < hlen && h[e] != '"'; e++) {
					if (h[e] == '\\' && e + 1 < hlen && (h[e + 1] == '\\' ||
					    h[e + 1] == '"'))
						e++;
					*o++ = h[e];
				}
				*o = '\0';
				return out;
			}
			for (e = s; e < hlen && h[e] != ';' && h[e] != ' ' && h[e] != '\t'; e++)
				;
			return strndup(h + s, e - s);
		}
	}
	return NULL;
}

/* "multipart/form-data" (case-insensitive), ignoring parameters and blanks. */
static bool
is_form_data(const char *ct)
{
	size_t l;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	l = strcspn(ct, ";");
	while (l > 0 && (ct[l - 1] == ' ' || ct[l - 1] == '\t'))
		l--;
	return l == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

int
multipart_new(const char *content_type, const struct multipart_callbacks *cb, void *userdata,
    struct multipart **ret, const char **ret_error)
{
	_cleanup_free_ char *boundary = NULL;
	struct multipart *m;
	size_t bl;

	if (!content_type || !is_form_data(content_type)) {
		if (ret_error)
			*ret_error = "Expected a multipart/form-data body";
		return -EBADMSG;
	}
	boundary = header_param(content_type, strlen(content_type), "boundary");
	if (!boundary && errno == ENOMEM)
		return -ENOMEM;
	bl = boundary ? strlen(boundary) : 0;
	if (bl == 0 || bl > MULTIPART_MAX_BOUNDARY || strpbrk(boundary, "\r\n")) {
		if (ret_error)
			*ret_error = "Missing boundary in multipart.";
		return -EBADMSG;
	}

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->buf = malloc(MULTIPART_BUF);
	if (!m->buf) {
		free(m);
		return -ENOMEM;
	}
	if (cb)
		m->cb = *cb;
	m->userdata = userdata;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, bl);
	m->dl = 4 + bl;
	m->state = MP_PREAMBLE;
	m->at_start = true;
	*ret = m;
	return 0;
}

/* Cut "C:\dir\name" and "\\host\share\name" to "name" (§1.2). */
static int
windows_basename(char **filename)
{
	const char *fn = *filename;
	char *cut;

	if (!((isalpha((unsigned char)fn[0]) && fn[1] == ':' && fn[2] == '\\') ||
	    (fn[0] == '\\' && fn[1] == '\\')))
		return 0;
	cut = strdup(strrchr(fn, '\\') + 1);
	if (!cut)
		return -ENOMEM;
	free(*filename);
	*filename = cut;
	return 0;
}

/* Parse the header block [p, end) into m->part. */
static int
part_headers(struct multipart *m, const char *p, const char *end)
{
	struct multipart_part *part = &m->part;
	bool disposition = false;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *colon, *v;
		size_t l, nl;

		if (!eol)
			eol = end;
		l = (size_t)(eol - p);
		colon = memchr(p, ':', l);
		if (!colon || colon == p)
			return fail(m, -EBADMSG, "Malformed multipart header line");
		nl = (size_t)(colon - p);
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (memchr(p, '\0', l))
			return fail(m, -EBADMSG, "Malformed multipart header line");
		if (nl == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
			size_t vl = (size_t)(eol - v);

			disposition = true;
			free(part->name);
			free(part->filename);
			part->name = header_param(v, vl, "name");
			if (!part->name && errno == ENOMEM)
				return fail(m, -ENOMEM, NULL);
			part->filename = header_param(v, vl, "filename");
			if (!part->filename && errno == ENOMEM)
				return fail(m, -ENOMEM, NULL);
			if (!part->name)
				return fail(m, -EBADMSG, "Missing name in Content-Disposition");
			if (part->filename && windows_basename(&part->filename) < 0)
				return fail(m, -ENOMEM, NULL);
		} else if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
			free(part->content_type);
			part->content_type = strndup(v, (size_t)(eol - v));
			if (!part->content_type)
				return fail(m, -ENOMEM, NULL);
		}
		p = eol + 2;
	}
	if (!disposition)
		return fail(m, -EBADMSG, "Missing Content-Disposition header in multipart part");
	return 0;
}

static int
part_begin(struct multipart *m, const char *hstart, const char *hend)
{
	int r;

	part_clear(&m->part);
	m->part.index = m->n_parts;
	r = part_headers(m, hstart, hend);
	if (r < 0)
		return r;
	m->n_parts++;
	if (m->part.filename) {
		if (++m->n_files > MULTIPART_MAX_FILES)
			return fail(m, -EBADMSG, E_FILES);
	} else if (++m->n_fields > MULTIPART_MAX_FIELDS)
		return fail(m, -EBADMSG, E_FIELDS);
	m->in_part = true;
	if (m->cb.part_begin) {
		r = m->cb.part_begin(&m->part, m->userdata);
		if (r < 0)
			return fail(m, r, NULL);
	}
	return 0;
}

static int
part_data(struct multipart *m, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k = n > MULTIPART_CHUNK ? MULTIPART_CHUNK : n;
		bool over = false;
		int r;

		/* pass on exactly the allowed bytes first, so where it fails never
		 * depends on how the body was chunked */
		if (!m->part.filename && m->part.size + k > MULTIPART_MAX_FIELD_SIZE) {
			k = MULTIPART_MAX_FIELD_SIZE - m->part.size;
			over = true;
		}
		if (k == 0)
			return fail(m, -EBADMSG, "Part exceeded maximum size of 1024KB.");
		m->part.size += k;
		if (m->cb.part_data) {
			r = m->cb.part_data(&m->part, p, k, m->userdata);
			if (r < 0)
				return fail(m, r, NULL);
		}
		if (over)
			return fail(m, -EBADMSG, "Part exceeded maximum size of 1024KB.");
		p += k;
		n -= k;
	}
	return 0;
}

static int
part_end(struct multipart *m)
{
	int r = 0;

	m->in_part = false;
	if (m->cb.part_end)
		r = m->cb.part_end(&m->part, m->userdata);
	part_clear(&m->part);
	return r < 0 ? fail(m, r, NULL) : 0;
}

/*
 * What may follow a delimiter: "--" (close), transport padding, or CRLF.
 * Anything else means the boundary text occurred inside the data.
 */
static bool
delim_follows(const unsigned char *c)
{
	return (c[0] == '-' && c[1] == '-') || (c[0] == '\r' && c[1] == '\n') || c[0] == ' ' ||
	    c[0] == '\t';
}

/* Run the state machine over buf[0..len); keeps what is not yet decided. */
static int
run(struct multipart *m)
{
	unsigned char *buf = m->buf;
	size_t pos = 0, len = m->len, dl = m->dl;
	int r = 0;

	while (r == 0) {
		size_t avail = len - pos;
		const unsigned char *p;

		switch (m->state) {
		case MP_PREAMBLE:
			if (m->at_start) {
				size_t k = avail < dl - 2 ? avail : dl - 2;

				if (memcmp(buf + pos, m->delim + 2, k) == 0) {
					if (k < dl - 2)
						goto keep;	/* could still be the delimiter */
					pos += dl - 2;
					m->at_start = false;
					m->state = MP_AFTER_DELIM;
					continue;
				}
				m->at_start = false;
			}
			p = memmem(buf + pos, avail, m->delim, dl);
			if (p) {
				pos = (size_t)(p - buf) + dl;
				m->state = MP_AFTER_DELIM;
				continue;
			}
			if (avail > dl - 1)
				pos = len - (dl - 1);
			goto keep;

		case MP_AFTER_DELIM:
			/* decide byte by byte, so that chunking never changes the outcome */
			if (m->padding == 0 && avail >= 1 && buf[pos] == '-') {
				if (avail < 2)
					goto keep;
				if (buf[pos + 1] != '-')
					return fail(m, -EBADMSG, "Malformed multipart body");
				m->state = MP_EPILOGUE;
				pos = len;
				goto keep;
			}
			while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t')) {
				pos++;
				if (++m->padding > PADDING_MAX)
					return fail(m, -EBADMSG, "Malformed multipart body");
			}
			if (pos < len && buf[pos] != '\r')
				return fail(m, -EBADMSG, "Malformed multipart body");
			if (len - pos < 2)
				goto keep;
			if (buf[pos + 1] != '\n')
				return fail(m, -EBADMSG, "Malformed multipart body");
			pos += 2;
			m->padding = 0;
			m->state = MP_HEADERS;
			continue;

		case MP_HEADERS:
			if (avail >= 2 && buf[pos] == '\r' && buf[pos + 1] == '\n') {
				/* an empty header block: no Content-Disposition */
				return fail(m, -EBADMSG,
				    "Missing Content-Disposition header in multipart part");
			}
			p = memmem(buf + pos, avail, "\r\n\r\n", 4);
			if (!p || (size_t)(p - (buf + pos)) > MULTIPART_MAX_HEADERS) {
				if (avail >= MULTIPART_MAX_HEADERS + 4)
					return fail(m, -EBADMSG, E_HEADERS);
				goto keep;
			}
			r = part_begin(m, (const char *)buf + pos, (const char *)p);
			if (r < 0)
				return r;
			pos = (size_t)(p - buf) + 4;
			m->state = MP_DATA;
			continue;

		case MP_DATA: {
			bool inside = false;
			size_t end;

			p = memmem(buf + pos, avail, m->delim, dl);
			if (p)
				end = (size_t)(p - buf);
			else
				end = avail > dl - 1 ? len - (dl - 1) : pos;
			if (p && end + dl + 2 > len) {
				p = NULL;	/* what follows decides: wait for it */
			} else if (p && !delim_follows(buf + end + dl)) {
				/* the boundary text inside data, like python-multipart */
				p = NULL;
				inside = true;
				end++;
			}
			if (end > pos) {
				r = part_data(m, buf + pos, end - pos);
				if (r < 0)
					return r;
				pos = end;
			}
			if (inside)
				continue;
			if (!p)
				goto keep;
			pos += dl;
			r = part_end(m);
			if (r < 0)
				return r;
			m->state = MP_AFTER_DELIM;
			continue;
		}

		case MP_EPILOGUE:
			pos = len;
			goto keep;

		case MP_FAILED:
		case _MP_STATE_MAX:
			return m->error;
		}
	}
keep:
	if (pos > 0) {
		memmove(buf, buf + pos, len - pos);
		m->len = len - pos;
	}
	return 0;
}

int
multipart_feed(struct multipart *m, const void *data, size_t n)
{
	const unsigned char *d = data;

	if (m->state == MP_FAILED)
		return m->error;
	while (n > 0) {
		size_t room = MULTIPART_BUF - m->len, k = n < room ? n : room;
		int r;

		if (k == 0)
			return fail(m, -EBADMSG, "Malformed multipart body");	/* cannot happen */
		memcpy(m->buf + m->len, d, k);
		m->len += k;
		d += k;
		n -= k;
		r = run(m);
		if (r < 0)
			return r;
	}
	return 0;
}

int
multipart_finish(struct multipart *m)
{
	if (m->state == MP_FAILED)
		return m->error;
	if (m->state != MP_EPILOGUE)
		return fail(m, -EBADMSG, "Multipart body ended before the closing boundary");
	return 0;
}

const char *
multipart_error(const struct multipart *m)
{
	return m && m->state == MP_FAILED ? m->errtext : NULL;
}

bool
multipart_done(const struct multipart *m)
{
	return m->state == MP_EPILOGUE;
}

size_t
multipart_n_files(const struct multipart *m)
{
	return m->n_files;
}

size_t
multipart_n_fields(const struct multipart *m)
{
	return m->n_fields;
}
