/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "common/util.h"

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0 || *end != '\0' || end == s)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* 1 when s is one of the n words of yes, 0 for one of no (case-insensitive), else -EINVAL. */
static int
parse_bool_words(const char *s, const char *const *yes, const char *const *no, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcaseeq(s, yes[i]))
			return 1;
		if (strcaseeq(s, no[i]))
			return 0;
	}
	return -EINVAL;
}

int
parse_bool_query(const char *s)
{
	static const char *const yes[] = { "true", "1", "yes", "on", "y", "t" };
	static const char *const no[] = { "false", "0", "no", "off", "n", "f" };

	return parse_bool_words(s, yes, no, ELEMENTSOF(yes));
}

int
parse_bool_env(const char *s)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	return parse_bool_words(s, yes, no, ELEMENTSOF(yes));
}

bool
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int
opendir_at(int dir_fd, DIR **ret)
{
	DIR *d;
	int fd, r;

	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t l = getrandom(p, n, 0);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += l;
		n -= (size_t)l;
	}
	return 0;
}

size_t
base64url_encode(const void *in, size_t n, char *out)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = in;
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

int64_t
now_realtime_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
now_monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
split_usec(int64_t usec, time_t *sec, long *frac)
{
	int64_t s = usec / 1000000, f = usec % 1000000;

	if (f < 0) {
		f += 1000000;
		s--;
	}
	*sec = (time_t)s;
	*frac = (long)f;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS" + optional ".ffffff" + suffix; the fraction is
 * dropped when zero unless always_frac. */
static int
fmt_common(char *buf, size_t n, int64_t usec, bool local, char sep, bool always_frac,
    const char *suffix)
{
	struct tm tm;
	time_t sec;
	long frac;
	int l;

	split_usec(usec, &sec, &frac);
	if (!(local ? localtime_r(&sec, &tm) : gmtime_r(&sec, &tm)))
		return -EINVAL;
	if (frac || always_frac)
		l = snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d.%06ld%s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, frac, suffix);
	else
		l = snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d%s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, suffix);
	if (l < 0 || (size_t)l >= n)
		return -EINVAL;
	return 0;
}

int
fmt_iso_utc_z(char *buf, size_t n, int64_t usec)
{
	return fmt_common(buf, n, usec, false, 'T', false, "Z");
}

int
fmt_iso_utc_offset(char *buf, size_t n, int64_t usec)
{
	return fmt_common(buf, n, usec, false, 'T', false, "+00:00");
}

int
fmt_iso_local(char *buf, size_t n, int64_t usec)
{
	return fmt_common(buf, n, usec, true, 'T', false, "");
}

int
fmt_db_utc(char *buf, size_t n, int64_t usec)
{
	return fmt_common(buf, n, usec, false, ' ', true, "");
}

static int
digits(const char **p, int count, int *ret)
{
	int v = 0;

	for (int i = 0; i < count; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += count;
	*ret = v;
	return 0;
}

int
parse_iso_datetime(const char *s, int64_t *ret_usec)
{
	int Y, M, D, h, m, sec, usec = 0, off = 0;
	struct tm tm = { 0 };
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &Y) < 0 || *p++ != '-' || digits(&p, 2, &M) < 0 ||
	    *p++ != '-' || digits(&p, 2, &D) < 0 || (*p != 'T' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &m) < 0 ||
	    *p++ != ':' || digits(&p, 2, &sec) < 0)
		return -EINVAL;
	if (*p == '.') {
		int nd = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (nd < 6) {
				usec = usec * 10 + (*p - '0');
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return -EINVAL;
		for (; nd < 6; nd++)
			usec *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		if (digits(&p, 2, &oh) < 0)
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(Y == 1969 && M == 12 && D == 31))
		return -EINVAL;
	*ret_usec = ((int64_t)t - off) * 1000000 + usec;
	return 0;
}

int
fmt_float_repr(char *buf, size_t n, double v)
{
	char tmp[40], dig[24];
	size_t nd = 0, o = 0;
	int exp10 = 0;
	bool neg;

	if (!isfinite(v))
		return -EINVAL;
	/* shortest "%.Ne" that reads back as v, like Python's repr() */
	for (int prec = 0; prec <= 16; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	neg = tmp[0] == '-';
	for (const char *p = tmp + neg; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p) && nd < sizeof(dig) - 1)
			dig[nd++] = *p;
	dig[nd] = '\0';
	exp10 = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	while (nd > 1 && dig[nd - 1] == '0')
		dig[--nd] = '\0';

#define PUT(c) do { if (o + 1 >= n) return -EINVAL; buf[o++] = (c); } while (0)
	if (neg)
		PUT('-');
	if (exp10 >= 16 || exp10 < -4) {
		PUT(dig[0]);
		if (nd > 1) {
			PUT('.');
			for (size_t i = 1; i < nd; i++)
				PUT(dig[i]);
		}
		int l = snprintf(tmp, sizeof(tmp), "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		for (int i = 0; i < l; i++)
			PUT(tmp[i]);
	} else if (exp10 < 0) {
		PUT('0');
		PUT('.');
		for (int i = -1; i > exp10; i--)
			PUT('0');
		for (size_t i = 0; i < nd; i++)
			PUT(dig[i]);
	} else {
		for (int i = 0; i <= exp10; i++)
			PUT((size_t)i < nd ? dig[i] : '0');
		PUT('.');
		if ((size_t)exp10 + 1 >= nd)
			PUT('0');
		for (size_t i = (size_t)exp10 + 1; i < nd; i++)
			PUT(dig[i]);
	}
#undef PUT
	buf[o] = '\0';
	return 0;
}
