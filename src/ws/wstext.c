/* SPDX-License-Identifier: MIT */
/*
 * The console's text rules (API-core §17.2), which the reference writes in
 * Python: str.isspace() whitespace, str.strip(), re.sub(r"\n\s*\n", "\n")
 * and the "last N characters" of a str. Pure code, no I/O.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "ws/ws-internal.h"

size_t
ws_space_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return (s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20) ? 1 : 0;
	if (n >= 2 && s[0] == 0xc2)
		return s[1] == 0x85 || s[1] == 0xa0 ? 2 : 0;		/* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if (s[0] == 0xe1)
		return s[1] == 0x9a && s[2] == 0x80 ? 3 : 0;		/* U+1680 */
	if (s[0] == 0xe2 && s[1] == 0x80)
		/* U+2000-U+200A, U+2028, U+2029, U+202F */
		return (s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
		    s[2] == 0xaf ? 3 : 0;
	if (s[0] == 0xe2 && s[1] == 0x81)
		return s[2] == 0x9f ? 3 : 0;				/* U+205F */
	if (s[0] == 0xe3)
		return s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;		/* U+3000 */
	return 0;
}

bool
ws_text_blank(const char *s, size_t n)
{
	size_t off, len;

	ws_text_strip(s, n, &off, &len);
	return len == 0;
}

/* Length of the whitespace character that ends s[0..n), or 0. */
static size_t
space_len_before(const char *s, size_t n)
{
	/* whitespace characters are 1 to 3 bytes long */
	for (size_t k = 1; k <= 3 && k <= n; k++)
		if (ws_space_len(s + n - k, k) == k)
			return k;
	return 0;
}

void
ws_text_strip(const char *s, size_t n, size_t *ret_off, size_t *ret_len)
{
	size_t a = 0, b = n, k;

	while (a < b && (k = ws_space_len(s + a, b - a)) > 0)
		a += k;
	while (b > a && (k = space_len_before(s + a, b - a)) > 0)
		b -= k;
	*ret_off = a;
	*ret_len = b - a;
}

static bool
is_rcon_line(const char *s, size_t n)
{
	return memmem(s, n, "[RCON Client", 12) || memmem(s, n, "[RCON Listener", 14);
}

int
ws_rcon_filter(const char *s, size_t n, struct strbuf *out)
{
	size_t start = out->len, w, i;
	bool first = true;
	char *b;
	int r;

	if (n == 0)
		return 0;
	/* 1-3: split on "\n", drop RCON lines, join with "\n" */
	for (size_t pos = 0;;) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t l = nl ? (size_t)(nl - (s + pos)) : n - pos;

		if (!is_rcon_line(s + pos, l)) {
			if (!first && (r = strbuf_putc(out, '\n')) < 0)
				return r;
			if ((r = strbuf_append(out, s + pos, l)) < 0)
				return r;
			first = false;
		}
		if (!nl)
			break;
		pos += l + 1;
	}

	/*
	 * 4: "\n\s*\n" → "\n", in place (the text only shrinks). \s* is greedy
	 * and may itself contain newlines, so a match runs from a newline to the
	 * last newline of the whitespace that follows it; scanning resumes after
	 * the match, as re.sub() does.
	 */
	b = out->buf ? out->buf + start : NULL;
	n = out->len - start;
	for (i = 0, w = 0; i < n;) {
		if (b[i] != '\n') {
			b[w++] = b[i++];
			continue;
		}
		{
			size_t j = i + 1, end = i + 1, k;

			while (j < n && (k = ws_space_len(b + j, n - j)) > 0) {
				if (b[j] == '\n')
					end = j + 1;
				j += k;
			}
			b[w++] = '\n';
			i = end;
		}
	}
	out->len = start + w;
	if (out->buf)
		out->buf[out->len] = '\0';
	return 0;
}

int
ws_history_append(struct strbuf *h, const char *s, size_t n, size_t max)
{
	size_t keep = max - max / 4;

	/* trimming to 3/4 of max leaves room: the memmove() is rare */
	if (n >= max) {
		const char *nl;

		s += n - keep;
		n = keep;
		nl = memchr(s, '\n', n);
		if (nl) {
			n -= (size_t)(nl + 1 - s);
			s = nl + 1;
		}
		strbuf_reset(h);
	} else if (h->len + n > max) {
		size_t drop = h->len + n - keep;
		const char *nl = drop < h->len ? memchr(h->buf + drop, '\n', h->len - drop) : NULL;

		drop = nl ? (size_t)(nl + 1 - h->buf) : h->len;
		memmove(h->buf, h->buf + drop, h->len - drop);
		h->len -= drop;
		h->buf[h->len] = '\0';
	}
	return strbuf_append(h, s, n);
}

/* Length of the character at s as the lossy decoder sees it: a valid UTF-8
 * sequence, or 1 for a byte that starts none (it becomes U+FFFD). */
static size_t
lossy_char_len(const unsigned char *s, size_t n, bool *ret_valid)
{
	size_t len;

	*ret_valid = true;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		len = 0;
	if (len == 0 || len > n || !utf8_valid((const char *)s, len)) {
		*ret_valid = false;
		return 1;
	}
	return len;
}

size_t
ws_lossy_tail(const char *str, size_t n, size_t max_chars)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t chars = 0, i;
	bool valid;

	for (i = 0; i < n; i += lossy_char_len(s + i, n - i, &valid))
		chars++;
	if (chars <= max_chars)
		return 0;
	for (i = 0; chars > max_chars; chars--)
		i += lossy_char_len(s + i, n - i, &valid);
	return i;
}

int
ws_json_append_string(struct strbuf *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t run = 0, i = 0;
	int r;

	/* at least n + 2 bytes: reserve once, not per character */
	if ((r = strbuf_reserve(out, n + 2)) < 0 || (r = strbuf_putc(out, '"')) < 0)
		return r;
	while (i < n) {
		unsigned char c = s[i];
		char esc[8];
		size_t el = 0, len;
		bool valid;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		len = c < 0x80 ? 1 : lossy_char_len(s + i, n - i, &valid);
		if (c >= 0x80 && valid) {
			i += len;
			run += len;
			continue;
		}
		/* flush the plain run before the escape */
		if (run && (r = strbuf_append(out, s + i - run, run)) < 0)
			return r;
		run = 0;
		if (c == '"' || c == '\\') {
			esc[el++] = '\\';
			esc[el++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[el++] = '\\';
			esc[el++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			el = 6;
		} else {
			memcpy(esc, "\xef\xbf\xbd", 3);	/* U+FFFD for an invalid byte */
			el = 3;
		}
		if ((r = strbuf_append(out, esc, el)) < 0)
			return r;
		i++;
	}
	if (run && (r = strbuf_append(out, s + n - run, run)) < 0)
		return r;
	return strbuf_putc(out, '"');
}

int
login_code_generate(char ret[static LOGIN_CODE_DIGITS + 1])
{
	/* 4,000,000,000 is the largest multiple of 10^8 below 2^32 */
	const uint32_t limit = 4000000000u;
	uint32_t v;
	int r;

	do {
		r = random_bytes(&v, sizeof(v));
		if (r < 0)
			return r;
	} while (v >= limit);
	v %= 100000000u;
	for (int i = LOGIN_CODE_DIGITS - 1; i >= 0; i--) {
		ret[i] = (char)('0' + v % 10);
		v /= 10;
	}
	ret[LOGIN_CODE_DIGITS] = '\0';
	return 0;
}
