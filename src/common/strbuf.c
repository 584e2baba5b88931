/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

void
strbuf_init(struct strbuf *sb, size_t max)
{
	*sb = (struct strbuf){ .max = max };
}

void
strbuf_free(struct strbuf *sb)
{
	size_t max = sb->max;

	free(sb->buf);
	*sb = (struct strbuf){ .max = max };
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

int
strbuf_reserve(struct strbuf *sb, size_t n)
{
	size_t max = sb->max ? sb->max : SIZE_MAX / 2;
	size_t need, cap;
	char *p;

	if (n > max || sb->len > max - n)
		return -EMSGSIZE;
	need = sb->len + n + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(sb->buf, cap);
	if (!p)
		return -ENOMEM;
	if (!sb->buf)
		p[0] = '\0';
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int
strbuf_append(struct strbuf *sb, const void *p, size_t n)
{
	int r = strbuf_reserve(sb, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int
strbuf_putc(struct strbuf *sb, char c)
{
	return strbuf_append(sb, &c, 1);
}

int
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int l, r;

	va_copy(aq, ap);
	l = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (l < 0)
		return -EINVAL;
	r = strbuf_reserve(sb, (size_t)l);
	if (r < 0)
		return r;
	(void)vsnprintf(sb->buf + sb->len, (size_t)l + 1, fmt, ap);
	sb->len += (size_t)l;
	return 0;
}

int
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	return r;
}

char *
strbuf_steal(struct strbuf *sb)
{
	char *p;

	if (!sb->buf && strbuf_reserve(sb, 0) < 0)
		return NULL;
	if (!sb->buf)
		return NULL;
	p = sb->buf;
	*sb = (struct strbuf){ .max = sb->max };
	return p;
}
