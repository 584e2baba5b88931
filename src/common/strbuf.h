/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffer with a hard maximum (curl dynbuf). The content is
 * always NUL-terminated so it can be used as a C string when it holds text.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;	/* 0 means SIZE_MAX / 2 */
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t max);
/* Frees the buffer and leaves sb empty (reusable). */
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);

/* All appenders return 0, -ENOMEM, or -EMSGSIZE when max would be passed. */
int strbuf_append(struct strbuf *sb, const void *p, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_putc(struct strbuf *sb, char c);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
int strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap) _printf_(2, 0);
/* Make room for n more bytes; returns 0 or -errno. */
int strbuf_reserve(struct strbuf *sb, size_t n);

/* Take the buffer out (never NULL on success): caller frees. */
char *strbuf_steal(struct strbuf *sb);

static inline const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}
