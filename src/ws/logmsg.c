/* SPDX-License-Identifier: MIT */
/*
 * Docker's log stream with timestamps=1, taken apart into messages: every
 * message (a line, or a piece of output of a TTY container) starts with
 * its time, "2006-01-02T15:04:05.000000000Z " (RFC 3339, always nine
 * fraction digits; an offset "+01:00" instead of "Z" when the daemon's log
 * driver keeps local times). The time identifies a message, which is what
 * lets the feed drop the lines docker 20.10 sends twice around a json-file
 * rotation and resume exactly where it left off (since=).
 *
 * Without a TTY the stream is multiplexed: one frame per message, so the
 * boundaries are exact. With a TTY it is raw: a message runs until the next
 * timestamp, which is looked for anywhere (a message need not end with a
 * newline); bytes at the end of a chunk that may begin one are held until
 * the next chunk decides. Pure code, no I/O.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ws/ws-internal.h"

/* "dddd-dd-ddTdd:dd:dd.ddddddddd" then "Z " or "+hh:mm " / "-hh:mm " */
#define TS_DATE_LEN 29

enum match {
	MATCH_NO,
	MATCH_PARTIAL,		/* what there is matches, more is needed */
	MATCH_FULL,
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Does s[0..n) begin with a timestamp? *ret_len: its length with the space. */
static enum match
ts_match(const char *s, size_t n, size_t *ret_len)
{
	static const char tmpl[] = "dddd-dd-ddTdd:dd:dd.ddddddddd";
	size_t i;

	for (i = 0; i < TS_DATE_LEN; i++) {
		if (i >= n)
			return MATCH_PARTIAL;
		if (tmpl[i] == 'd' ? !is_digit(s[i]) : s[i] != tmpl[i])
			return MATCH_NO;
	}
	if (i >= n)
		return MATCH_PARTIAL;
	if (s[i] == 'Z') {
		if (i + 1 >= n)
			return MATCH_PARTIAL;
		if (s[i + 1] != ' ')
			return MATCH_NO;
		*ret_len = TS_DATE_LEN + 2;
		return MATCH_FULL;
	}
	if (s[i] != '+' && s[i] != '-')
		return MATCH_NO;
	for (size_t k = 1; k <= 6; k++) {
		static const char off[] = "+dd:dd ";

		if (i + k >= n)
			return MATCH_PARTIAL;
		if (off[k] == 'd' ? !is_digit(s[i + k]) : s[i + k] != off[k])
			return MATCH_NO;
	}
	*ret_len = TS_DATE_LEN + 7;
	return MATCH_FULL;
}

static int
num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int64_t
logmsg_ts_parse(const char *s, size_t n)
{
	struct tm tm = { 0 };
	size_t len = 0;
	int64_t t;

	if (ts_match(s, n, &len) != MATCH_FULL)
		return -1;
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2);
	tm.tm_hour = num(s + 11, 2);
	tm.tm_min = num(s + 14, 2);
	tm.tm_sec = num(s + 17, 2);
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	t = (int64_t)timegm(&tm);
	if (t < 0)
		return -1;
	if (s[TS_DATE_LEN] != 'Z') {
		int64_t off = num(s + TS_DATE_LEN + 1, 2) * 3600 + num(s + TS_DATE_LEN + 4, 2) * 60;

		t += s[TS_DATE_LEN] == '+' ? -off : off;
	}
	return t * 1000000000 + num(s + 20, 9);
}

void
logmsg_parser_init(struct logmsg_parser *p, bool raw)
{
	*p = (struct logmsg_parser){ .raw = raw, .ts = -1 };
}

/* Payload bytes of the current message. */
static int
emit(struct logmsg_parser *p, const char *s, size_t n, logmsg_fn cb, void *userdata)
{
	bool start = !p->started;

	if (n == 0)
		return 0;
	p->started = true;
	return cb(p->ts, start, s, n, userdata);
}

static void
new_message(struct logmsg_parser *p, int64_t ts)
{
	p->ts = ts;
	p->started = false;
}

/* The multiplexed stream: an 8-byte header (stream, 0, 0, 0, big-endian
 * length), then the message: its timestamp, then its payload. */
static int
feed_frames(struct logmsg_parser *p, const char *s, size_t n, logmsg_fn cb, void *userdata)
{
	int r;

	while (n > 0) {
		size_t k;

		if (p->frame_left == 0) {
			k = sizeof(p->hdr) - p->hdr_len < n ? sizeof(p->hdr) - p->hdr_len : n;
			memcpy(p->hdr + p->hdr_len, s, k);
			p->hdr_len += k;
			s += k;
			n -= k;
			if (p->hdr_len < sizeof(p->hdr))
				break;
			p->hdr_len = 0;
			if (p->hdr[0] > 2 || p->hdr[1] || p->hdr[2] || p->hdr[3])
				return -EBADMSG;
			p->frame_left = (size_t)p->hdr[4] << 24 | (size_t)p->hdr[5] << 16 |
			    (size_t)p->hdr[6] << 8 | p->hdr[7];
			p->pend_len = 0;
			new_message(p, -1);
			p->in_payload = false;
			continue;
		}
		k = p->frame_left < n ? p->frame_left : n;
		if (!p->in_payload) {
			/* collect the timestamp (it fits in pend) */
			size_t want = sizeof(p->pend) - p->pend_len, take = k < want ? k : want, tl;
			enum match m;

			memcpy(p->pend + p->pend_len, s, take);
			p->pend_len += take;
			m = ts_match(p->pend, p->pend_len, &tl);
			if (m == MATCH_PARTIAL && p->frame_left > take) {
				s += take;
				n -= take;
				p->frame_left -= take;
				continue;
			}
			p->in_payload = true;
			if (m == MATCH_FULL) {
				new_message(p, logmsg_ts_parse(p->pend, tl));
				/* what came after the timestamp is payload */
				r = emit(p, p->pend + tl, p->pend_len - tl, cb, userdata);
			} else	/* no timestamp: all payload, of unknown time */
				r = emit(p, p->pend, p->pend_len, cb, userdata);
			p->pend_len = 0;
			s += take;
			n -= take;
			p->frame_left -= take;
			if (r != 0)
				return r;
			continue;
		}
		r = emit(p, s, k, cb, userdata);
		s += k;
		n -= k;
		p->frame_left -= k;
		if (r != 0)
			return r;
	}
	return 0;
}

/* The raw stream of a TTY container: messages found by their timestamps. */
static int
feed_raw(struct logmsg_parser *p, const char *s, size_t n, logmsg_fn cb, void *userdata)
{
	size_t i = 0, run = 0, tl;
	int r;

	while (i < n) {
		enum match m = is_digit(s[i]) ? ts_match(s + i, n - i, &tl) : MATCH_NO;

		if (m == MATCH_NO) {
			i++;
			continue;
		}
		r = emit(p, s + run, i - run, cb, userdata);
		if (r != 0)
			return r;
		if (m == MATCH_PARTIAL) {
			/* n - i < sizeof(pend): a partial match is shorter than a timestamp */
			memcpy(p->pend, s + i, n - i);
			p->pend_len = n - i;
			return 0;
		}
		new_message(p, logmsg_ts_parse(s + i, tl));
		i += tl;
		run = i;
	}
	return emit(p, s + run, n - run, cb, userdata);
}

int
logmsg_parser_feed(struct logmsg_parser *p, const char *s, size_t n, logmsg_fn cb,
    void *userdata)
{
	char *tmp;
	int r;

	if (!p->raw)
		return feed_frames(p, s, n, cb, userdata);
	if (p->pend_len == 0)
		return feed_raw(p, s, n, cb, userdata);
	/* the held bytes go first; they are few */
	tmp = malloc(p->pend_len + n);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, p->pend, p->pend_len);
	memcpy(tmp + p->pend_len, s, n);
	n += p->pend_len;
	p->pend_len = 0;
	r = feed_raw(p, tmp, n, cb, userdata);
	free(tmp);
	return r;
}

int
logmsg_parser_flush(struct logmsg_parser *p, logmsg_fn cb, void *userdata)
{
	size_t n = p->pend_len;

	/* held bytes that never became a timestamp are output */
	p->pend_len = 0;
	if (!p->raw && !p->in_payload && p->frame_left == 0)
		return 0;	/* a complete frame stream: nothing is held */
	return emit(p, p->pend, n, cb, userdata);
}

int
logmsg_seen_init(struct logmsg_seen *s, size_t cap)
{
	*s = (struct logmsg_seen){ .cap = cap, .last = -1 };
	s->ring = calloc(cap, sizeof(int64_t));
	return s->ring ? 0 : -ENOMEM;
}

void
logmsg_seen_done(struct logmsg_seen *s)
{
	free(s->ring);
	*s = (struct logmsg_seen){ .last = -1 };
}

bool
logmsg_seen_check(struct logmsg_seen *s, int64_t ts)
{
	/* the common case: newer than anything so far */
	if (ts <= s->last)
		for (size_t i = 0; i < s->n; i++)
			if (s->ring[i] == ts)
				return true;
	s->ring[s->pos] = ts;
	s->pos = (s->pos + 1) % s->cap;
	if (s->n < s->cap)
		s->n++;
	if (ts > s->last)
		s->last = ts;
	return false;
}
