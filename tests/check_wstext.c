/* SPDX-License-Identifier: MIT */
/*
 * ws/: the console's text rules (wstext.c: Python whitespace, the RCON
 * filter, the snapshot tail, JSON strings, login codes), the messages built
 * from them (feed.c) and the send queue (sendq.c). Pure code: no sockets.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "ws/ws-internal.h"

/* ---- whitespace and strip ---------------------------------------------------- */

static const struct {
	const char *s;
	size_t len;
} spaces[] = {
	{ " ", 1 }, { "\t", 1 }, { "\n", 1 }, { "\v", 1 }, { "\f", 1 }, { "\r", 1 },
	{ "\x1c", 1 }, { "\x1f", 1 },
	{ "\xc2\x85", 2 }, { "\xc2\xa0", 2 }, { "\xe1\x9a\x80", 3 }, { "\xe2\x80\x80", 3 },
	{ "\xe2\x80\x8a", 3 }, { "\xe2\x80\xa8", 3 }, { "\xe2\x80\xa9", 3 }, { "\xe2\x80\xaf", 3 },
	{ "\xe2\x81\x9f", 3 }, { "\xe3\x80\x80", 3 },
	/* not whitespace for Python */
	{ "a", 0 }, { "\x1b", 0 }, { "\x7f", 0 },
	{ "\xe2\x80\x8b", 0 },	/* zero-width space */
	{ "\xc2\xa1", 0 }, { "\xe3\x80\x81", 0 }, { "\xef\xbf\xbd", 0 }, { "\xc2", 0 },
	{ "\xe2\x80", 0 },
};

START_TEST(test_space_len)
{
	ck_assert_uint_eq(ws_space_len(spaces[_i].s, strlen(spaces[_i].s)), spaces[_i].len);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} strips[] = {
	{ "", "" },
	{ "   ", "" },
	{ " say hi ", "say hi" },
	{ "\xe3\x80\x80list\xc2\xa0", "list" },
	{ "\n\t\r x y \r\n", "x y" },
	{ "\xe2\x80\x8bx", "\xe2\x80\x8bx" },	/* U+200B stays, like Python */
	{ "a\xc2", "a\xc2" },			/* a cut sequence is not space */
};

START_TEST(test_strip)
{
	size_t off, len;

	ws_text_strip(strips[_i].in, strlen(strips[_i].in), &off, &len);
	ck_assert_uint_eq(len, strlen(strips[_i].out));
	ck_assert(memcmp(strips[_i].in + off, strips[_i].out, len) == 0);
	ck_assert(ws_text_blank(strips[_i].in, strlen(strips[_i].in)) == (len == 0));
}
END_TEST

/* ---- the RCON filter (§17.2) --------------------------------------------------- */

static const struct {
	const char *in;
	const char *out;
} filters[] = {
	{ "", "" },
	/* no RCON lines, no blank lines: unchanged, trailing newline included */
	{ "a\nb\n", "a\nb\n" },
	{ "a\nb", "a\nb" },
	/* the contract's example */
	{ "Starting\n[RCON Client /1.2.3.4 #1] x\nLoading\n[RCON Listener #1] y\nDone\n"
	  "[RCON Client /1.2.3.4 #2] z\n", "Starting\nLoading\nDone\n" },
	/* only RCON lines, ending in a newline */
	{ "[RCON Client] a\n[RCON Listener] b\n", "" },
	{ "[RCON Client] a", "" },
	/* case-sensitive substring */
	{ "[RCON CLIENT] a\n[rcon client] b\n", "[RCON CLIENT] a\n[rcon client] b\n" },
	{ "x [RCON Client /1] y\nz\n", "z\n" },
	{ "Thread RCON Listener started\n", "Thread RCON Listener started\n" },
	/* blank and whitespace-only lines disappear, also ones that were there before */
	{ "a\n\nb\n", "a\nb\n" },
	{ "a\n \t \n\nb", "a\nb" },
	{ "a\n  b", "a\n  b" },
	{ "a\n  \n  b", "a\n  b" },			/* the match ends at the last newline */
	{ "a\r\n\r\nb\r\n", "a\r\nb\r\n" },	/* tty output */
	{ "\n\nx", "\nx" },
	{ "a\n\xe3\x80\x80\nb", "a\nb" },	/* U+3000 is \s for Python */
	{ "a\n\xe2\x80\x8b\nb", "a\n\xe2\x80\x8b\nb" },
	/* a dropped line between two kept ones leaves no blank line */
	{ "a\n[RCON Client] x\nb\n", "a\nb\n" },
	{ "a\n\n[RCON Client] x\n\nb\n", "a\nb\n" },
	{ "\n", "\n" },
	{ "\n\n", "\n" },
};

START_TEST(test_rcon_filter)
{
	struct strbuf out = STRBUF_INIT;

	ck_assert_int_eq(strbuf_puts(&out, "prefix|"), 0);
	ck_assert_int_eq(ws_rcon_filter(filters[_i].in, strlen(filters[_i].in), &out), 0);
	ck_assert_str_eq(strbuf_str(&out) + strlen("prefix|"), filters[_i].out);
	ck_assert_uint_eq(out.len, strlen("prefix|") + strlen(filters[_i].out));
	strbuf_free(&out);
}
END_TEST

START_TEST(test_rcon_filter_limit)
{
	struct strbuf out;

	strbuf_init(&out, 4);
	ck_assert_int_eq(ws_rcon_filter("hello\nworld\n", 12, &out), -EMSGSIZE);
	strbuf_free(&out);
}
END_TEST

/* ---- lossy text: the tail and JSON strings ------------------------------------- */

START_TEST(test_lossy_tail)
{
	/* "aé€😀": 1 + 2 + 3 + 4 bytes, 4 characters */
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 4), 0);
	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 10), 0);
	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 3), 1);
	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 2), 3);
	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 1), 6);
	ck_assert_uint_eq(ws_lossy_tail(s, strlen(s), 0), 10);
	/* invalid bytes count one character each (each becomes U+FFFD) */
	ck_assert_uint_eq(ws_lossy_tail("\xff\xfe" "ab", 4, 3), 1);
	ck_assert_uint_eq(ws_lossy_tail("\xe2\x82" "ab", 4, 2), 2);
	ck_assert_uint_eq(ws_lossy_tail("\xed\xa0\x80x", 4, 1), 3);	/* a surrogate */
	ck_assert_uint_eq(ws_lossy_tail("", 0, 5), 0);
}
END_TEST

START_TEST(test_lossy_tail_big)
{
	/* the snapshot limit: exactly CONSOLE_SNAPSHOT_CHARS characters are kept */
	size_t n = CONSOLE_SNAPSHOT_CHARS + 1000;
	char *s = malloc(n * 2);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	ck_assert_uint_eq(ws_lossy_tail(s, n * 2, CONSOLE_SNAPSHOT_CHARS), 2000);
	free(s);
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	const char *out;
} json_strings[] = {
	{ "", 0, "\"\"" },
	{ "plain text", 10, "\"plain text\"" },
	{ "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
	{ "a\r\n\tb", 5, "\"a\\r\\n\\tb\"" },
	{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"" },
	{ "\x1b[31mred", 8, "\"\\u001b[31mred\"" },
	{ "\xe6\x9c\x8d\xe5\x8a\xa1", 6, "\"\xe6\x9c\x8d\xe5\x8a\xa1\"" },
	{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },
	{ "\xe6\x9c", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "x\0y", 3, "\"x\\u0000y\"" },
};

START_TEST(test_json_string)
{
	struct strbuf out = STRBUF_INIT;
	json_object *parsed;
	const char *err = NULL;
	size_t off;

	ck_assert_int_eq(ws_json_append_string(&out, json_strings[_i].in, json_strings[_i].len), 0);
	ck_assert_str_eq(strbuf_str(&out), json_strings[_i].out);
	/* and it is JSON a strict parser takes */
	parsed = json_parse_strict(out.buf, out.len, 4, &err, &off);
	ck_assert_msg(parsed, "%s at %zu", err, off);
	ck_assert(json_object_is_type(parsed, json_type_string));
	json_object_put(parsed);
	strbuf_free(&out);
}
END_TEST

/* ---- messages -------------------------------------------------------------------- */

static json_object *
frame_json(const struct wsframe *f)
{
	/* an unmasked server text frame: 2, 4 or 10 header bytes */
	size_t hl = (f->data[1] & 0x7f) == 126 ? 4 : (f->data[1] & 0x7f) == 127 ? 10 : 2;
	const char *err = NULL;
	size_t off;
	json_object *o;

	ck_assert_int_eq((unsigned char)f->data[0], 0x81);
	o = json_parse_strict(f->data + hl, f->len - hl, 8, &err, &off);
	ck_assert_msg(o, "%s", err);
	return o;
}

static const char *
jget(json_object *o, const char *k)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

START_TEST(test_snapshot_frame)
{
	const char *hist = "[12:00:00] [Server thread/INFO]: Done\n"
	    "[12:00:01] [RCON Listener #1/INFO]: Thread RCON Client /1.2.3.4 started\n"
	    "[12:00:02] [RCON Client /1.2.3.4 #2/INFO]: Thread RCON Client shutting down\n";
	struct wsframe *f;
	json_object *o;

	f = feed_snapshot_frame(hist, strlen(hist), true, "log");
	o = frame_json(f);
	ck_assert_str_eq(jget(o, "type"), "log");
	ck_assert_str_eq(jget(o, "content"), "[12:00:00] [Server thread/INFO]: Done\n");
	json_object_put(o);
	wsframe_unref(f);

	f = feed_snapshot_frame(hist, strlen(hist), false, "logs_refreshed");
	o = frame_json(f);
	ck_assert_str_eq(jget(o, "type"), "logs_refreshed");
	ck_assert_str_eq(jget(o, "content"), hist);
	json_object_put(o);
	wsframe_unref(f);

	/* only RCON lines, or nothing: the empty snapshot (§17.2) */
	f = feed_snapshot_frame(hist + 38, strlen(hist + 38), true, "log");
	o = frame_json(f);
	ck_assert_str_eq(json_compact(o), "{\"type\":\"info\",\"content\":\"暂无最近日志\"}");
	json_object_put(o);
	wsframe_unref(f);
	f = feed_snapshot_frame(" \n\t\n", 4, false, "logs_refreshed");
	o = frame_json(f);
	ck_assert_str_eq(jget(o, "type"), "info");
	json_object_put(o);
	wsframe_unref(f);
}
END_TEST

START_TEST(test_snapshot_frame_tail)
{
	/* more than the limit: the last 1,048,576 characters, counted after the filter */
	size_t lines = CONSOLE_SNAPSHOT_CHARS / 7 + 100, n = 0;
	char *hist = malloc(lines * 8 + lines * 20);
	struct wsframe *f;
	json_object *o;
	const char *c;

	ck_assert_ptr_nonnull(hist);
	for (size_t i = 0; i < lines; i++) {
		memcpy(hist + n, "line..\n\n", 8);	/* 8 bytes, 7 after the filter */
		hist[n + 4] = (char)('0' + i % 10);
		n += 8;
		memcpy(hist + n, "[RCON Client] zzzzz\n", 20);
		n += 20;
	}
	f = feed_snapshot_frame(hist, n, true, "log");
	o = frame_json(f);
	c = jget(o, "content");
	ck_assert_uint_eq(strlen(c), CONSOLE_SNAPSHOT_CHARS);
	ck_assert(strstr(c, "RCON") == NULL);
	/* it ends where the history ends */
	ck_assert_int_eq(c[strlen(c) - 3], (char)('0' + (lines - 1) % 10));
	ck_assert_str_eq(c + strlen(c) - 2, ".\n");
	json_object_put(o);
	wsframe_unref(f);
	free(hist);
}
END_TEST

START_TEST(test_chunk_frame)
{
	struct wsframe *f;
	json_object *o;

	/* blank, before or after the filter: nothing is sent */
	errno = 1;
	ck_assert_ptr_null(feed_chunk_frame(" \n", 2, false));
	ck_assert_int_eq(errno, 0);
	ck_assert_ptr_null(feed_chunk_frame("[RCON Client] x\n", 16, true));
	ck_assert_int_eq(errno, 0);
	f = feed_chunk_frame("[RCON Client] x\n", 16, false);
	o = frame_json(f);
	ck_assert_str_eq(json_compact(o), "{\"type\":\"log\",\"content\":\"[RCON Client] x\\n\"}");
	json_object_put(o);
	wsframe_unref(f);
	f = feed_chunk_frame("hi\r\n", 4, true);
	o = frame_json(f);
	ck_assert_str_eq(jget(o, "content"), "hi\r\n");
	json_object_put(o);
	wsframe_unref(f);
}
END_TEST

/* ---- docker's timestamped messages (logmsg.c) ------------------------------------------ */

#define TS1 "2025-09-23T10:20:30.123456789Z "
#define TS2 "2025-09-23T10:20:31.000000001Z "
#define TS1_NS (1758622830LL * 1000000000 + 123456789)
#define TS2_NS (1758622831LL * 1000000000 + 1)

START_TEST(test_ts_parse)
{
	ck_assert_int_eq(logmsg_ts_parse(TS1, strlen(TS1)), TS1_NS);
	ck_assert_int_eq(logmsg_ts_parse("1970-01-01T00:00:00.000000000Z ", 31), 0);
	/* a local time with its offset is the same instant */
	ck_assert_int_eq(logmsg_ts_parse("2025-09-23T12:20:30.123456789+02:00 ", 36), TS1_NS);
	ck_assert_int_eq(logmsg_ts_parse("2025-09-23T07:50:30.123456789-02:30 ", 36), TS1_NS);
	/* not quite */
	ck_assert_int_eq(logmsg_ts_parse("2025-09-23T10:20:30.12345678Z ", 30), -1);
	ck_assert_int_eq(logmsg_ts_parse("2025-09-23T10:20:30.123456789Z", 30), -1);
	ck_assert_int_eq(logmsg_ts_parse("2025-13-23T10:20:30.123456789Z ", 31), -1);
	ck_assert_int_eq(logmsg_ts_parse("2025-09-23 10:20:30.123456789Z ", 31), -1);
	ck_assert_int_eq(logmsg_ts_parse("hello", 5), -1);
}
END_TEST

struct got_msgs {
	struct strbuf out;	/* "<ts|?>:<payload>|" per message */
};

static int
collect_msg(int64_t ts, bool start, const char *data, size_t len, void *userdata)
{
	struct got_msgs *g = userdata;

	if (start) {
		if (g->out.len)
			ck_assert_int_eq(strbuf_putc(&g->out, '|'), 0);
		if (ts < 0)
			ck_assert_int_eq(strbuf_puts(&g->out, "?:"), 0);
		else
			ck_assert_int_eq(strbuf_printf(&g->out, "%lld:", (long long)(ts % 1000)), 0);
	}
	ck_assert_int_eq(strbuf_append(&g->out, data, len), 0);
	return 0;
}

static void
frame(struct strbuf *sb, int stream, const char *s)
{
	size_t n = strlen(s);
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24),
		(unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };

	ck_assert_int_eq(strbuf_append(sb, h, 8), 0);
	ck_assert_int_eq(strbuf_append(sb, s, n), 0);
}

/* Feed the stream cut at split (and at split2), then flush. */
static char *
parse_split(bool raw, const struct strbuf *in, size_t split, size_t split2)
{
	struct logmsg_parser p;
	struct got_msgs g = { STRBUF_INIT };
	size_t cut[3] = { split, split2 > split ? split2 : split, in->len };
	size_t at = 0;

	logmsg_parser_init(&p, raw);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(logmsg_parser_feed(&p, in->buf + at, cut[i] - at, collect_msg, &g), 0);
		at = cut[i];
	}
	ck_assert_int_eq(logmsg_parser_flush(&p, collect_msg, &g), 0);
	return strbuf_steal(&g.out);
}

START_TEST(test_logmsg_frames)
{
	struct strbuf in = STRBUF_INIT;

	frame(&in, 1, TS1 "hello\n");
	frame(&in, 2, TS2 "oops on stderr\n");
	frame(&in, 1, "no timestamp\n");	/* timestamps=0 */
	frame(&in, 1, "2025");			/* shorter than a timestamp */
	frame(&in, 1, TS2);			/* a timestamp, no text */
	frame(&in, 1, TS1 "a 16K piece without newline");
	/* every cut (two of them) gives the same messages */
	for (size_t i = 0; i <= in.len; i++)
		for (size_t j = i; j <= in.len; j += 7) {
			char *s = parse_split(false, &in, i, j);

			ck_assert_str_eq(s, "789:hello\n|1:oops on stderr\n|?:no timestamp\n|?:2025|"
			    "789:a 16K piece without newline");
			free(s);
		}
	strbuf_free(&in);
}
END_TEST

START_TEST(test_logmsg_bad_frame)
{
	struct logmsg_parser p;
	struct got_msgs g = { STRBUF_INIT };

	logmsg_parser_init(&p, false);
	ck_assert_int_eq(logmsg_parser_feed(&p, "\x05\0\0\0\0\0\0\x01x", 9, collect_msg, &g),
	    -EBADMSG);
	strbuf_free(&g.out);
}
END_TEST

START_TEST(test_logmsg_raw)
{
	struct strbuf in = STRBUF_INIT;

	ck_assert_int_eq(strbuf_puts(&in, "early bytes " TS1 "one\r\ntwo\r\n" TS2 "par"
	    TS1 "tial\r\n" "at 2025-09-23T10:20 only " "2025-09-23T10:20:31.000000001+01:00 off\r\n"
	    "ends in 2025-0"), 0);
	for (size_t i = 0; i <= in.len; i++)
		for (size_t j = i; j <= in.len; j += 5) {
			char *s = parse_split(true, &in, i, j);

			ck_assert_str_eq(s, "?:early bytes |789:one\r\ntwo\r\n|1:par|789:tial\r\n"
			    "at 2025-09-23T10:20 only |1:off\r\nends in 2025-0");
			free(s);
		}
	strbuf_free(&in);
}
END_TEST

START_TEST(test_logmsg_seen)
{
	struct logmsg_seen s;

	ck_assert_int_eq(logmsg_seen_init(&s, 4), 0);
	ck_assert(!logmsg_seen_check(&s, 10));
	ck_assert(!logmsg_seen_check(&s, 20));
	ck_assert(logmsg_seen_check(&s, 10));		/* a repeat */
	ck_assert(logmsg_seen_check(&s, 20));
	ck_assert(!logmsg_seen_check(&s, 5));		/* older, but new: a clock step */
	ck_assert(!logmsg_seen_check(&s, 30));
	ck_assert(!logmsg_seen_check(&s, 40));
	ck_assert(!logmsg_seen_check(&s, 50));		/* 10 falls out of the window */
	ck_assert(!logmsg_seen_check(&s, 10));
	ck_assert(logmsg_seen_check(&s, 50));
	ck_assert_int_eq(s.last, 50);
	logmsg_seen_done(&s);
}
END_TEST

/* ---- login codes -------------------------------------------------------------------- */

START_TEST(test_login_code)
{
	unsigned first_digit[10] = { 0 };
	char seen[LOGIN_CODE_DIGITS + 1] = "";
	int differ = 0;

	for (int i = 0; i < 2000; i++) {
		char code[LOGIN_CODE_DIGITS + 1];

		ck_assert_int_eq(login_code_generate(code), 0);
		ck_assert_uint_eq(strlen(code), LOGIN_CODE_DIGITS);
		ck_assert_uint_eq(strspn(code, "0123456789"), LOGIN_CODE_DIGITS);
		first_digit[code[0] - '0']++;
		differ += strcmp(code, seen) != 0;
		memcpy(seen, code, sizeof(seen));
	}
	ck_assert_int_eq(differ, 2000);
	/* leading zeros happen, and no digit is missing: 2000 draws, ~200 each */
	for (int d = 0; d < 10; d++)
		ck_assert_msg(first_digit[d] > 100 && first_digit[d] < 320, "digit %d: %u", d,
		    first_digit[d]);
}
END_TEST

/* ---- the send queue ------------------------------------------------------------------ */

static struct wsframe *
mkframe(size_t len, char fill)
{
	char *p = malloc(len);
	struct wsframe *f;

	ck_assert_ptr_nonnull(p);
	memset(p, fill, len);
	f = wsframe_raw(p, len);
	free(p);
	ck_assert_ptr_nonnull(f);
	return f;
}

/* Drain q into a string, n bytes per "write". */
static char *
drain(struct sendq *q, size_t per_write)
{
	struct strbuf sb = STRBUF_INIT;

	while (!sendq_empty(q)) {
		struct iovec iov[3];
		int n = sendq_iov(q, iov, 3);
		size_t took = 0;

		ck_assert_int_gt(n, 0);
		for (int i = 0; i < n && took < per_write; i++) {
			size_t l = iov[i].iov_len < per_write - took ? iov[i].iov_len :
			    per_write - took;

			ck_assert_int_eq(strbuf_append(&sb, iov[i].iov_base, l), 0);
			took += l;
		}
		sendq_consume(q, took);
	}
	ck_assert_uint_eq(q->bytes, 0);
	return strbuf_steal(&sb);
}

START_TEST(test_sendq_order_and_sharing)
{
	struct wsframe *a = mkframe(5, 'a'), *b = mkframe(3, 'b');
	struct sendq q1, q2;
	char *s;

	sendq_init(&q1, 100, 200);
	sendq_init(&q2, 100, 200);
	ck_assert_int_eq(sendq_append(&q1, a, true), 0);
	ck_assert_int_eq(sendq_append(&q2, a, true), 0);
	ck_assert_int_eq(sendq_append(&q1, b, false), 0);
	ck_assert_uint_eq(a->refs, 3);		/* one frame, shared */
	ck_assert_uint_eq(q1.bytes, 8);
	s = drain(&q1, 2);
	ck_assert_str_eq(s, "aaaaabbb");
	free(s);
	ck_assert_uint_eq(a->refs, 2);
	sendq_done(&q2);
	ck_assert_uint_eq(a->refs, 1);
	wsframe_unref(a);
	wsframe_unref(b);
}
END_TEST

START_TEST(test_sendq_limits)
{
	struct wsframe *log1 = mkframe(40, 'l'), *ctl = mkframe(30, 'c'), *log2 = mkframe(40, 'm');
	struct wsframe *big = mkframe(130, 'B');
	struct sendq q;
	struct iovec iov[4];
	char *s;

	sendq_init(&q, 100, 200);
	ck_assert_int_eq(sendq_append(&q, log1, true), 0);
	ck_assert_int_eq(sendq_append(&q, ctl, false), 0);
	ck_assert_int_eq(sendq_append(&q, log2, true), 0);
	ck_assert(!sendq_fits(&q, 0));		/* 110 queued: appending is not limited by max */
	/* 5 bytes of log1 are written: it must be finished, never dropped */
	ck_assert_int_eq(sendq_iov(&q, iov, 4), 3);
	sendq_consume(&q, 5);
	ck_assert_uint_eq(q.bytes, 105);
	ck_assert_uint_eq(sendq_drop_droppable(&q), 40);	/* log2 only */
	ck_assert_uint_eq(q.bytes, 65);
	/* beyond the hard limit nothing goes in */
	ck_assert_int_eq(sendq_append(&q, big, false), 0);	/* 195: above max, below hard */
	ck_assert_uint_eq(q.bytes, 195);
	ck_assert_int_eq(sendq_append(&q, ctl, false), -ENOBUFS);
	s = drain(&q, 7);
	ck_assert_uint_eq(strlen(s), 35 + 30 + 130);
	ck_assert_uint_eq(strspn(s, "l"), 35);
	ck_assert_uint_eq(strspn(s + 35, "c"), 30);
	ck_assert_uint_eq(strspn(s + 65, "B"), 130);
	free(s);
	ck_assert_uint_eq(log1->refs + ctl->refs + log2->refs + big->refs, 4);
	sendq_done(&q);
	wsframe_unref(log1);
	wsframe_unref(ctl);
	wsframe_unref(log2);
	wsframe_unref(big);
}
END_TEST

START_TEST(test_frames)
{
	struct wsframe *f;

	f = wsframe_close(WS_CLOSE_SERVICE_RESTART, "service restart");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->len, 2 + 2 + 15);
	ck_assert_int_eq((unsigned char)f->data[0], 0x88);
	ck_assert_int_eq((unsigned char)f->data[2] << 8 | (unsigned char)f->data[3], 1012);
	wsframe_unref(f);
	f = wsframe_close(WS_CLOSE_NO_STATUS, NULL);
	ck_assert_uint_eq(f->len, 2);
	wsframe_unref(f);
	errno = 0;
	ck_assert_ptr_null(wsframe_close(1005 + 1, NULL));
	ck_assert_int_eq(errno, EINVAL);
	f = wsframe_new(WS_OP_TEXT, "pong", 4);
	ck_assert_uint_eq(f->len, 6);
	ck_assert(memcmp(f->data, "\x81\x04pong", 6) == 0);
	wsframe_unref(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wstext");
	TCase *tc;
	SRunner *sr;
	int nfailed;

	tc = tcase_create("python-text");
	tcase_add_loop_test(tc, test_space_len, 0, (int)ELEMENTSOF(spaces));
	tcase_add_loop_test(tc, test_strip, 0, (int)ELEMENTSOF(strips));
	tcase_add_loop_test(tc, test_rcon_filter, 0, (int)ELEMENTSOF(filters));
	tcase_add_test(tc, test_rcon_filter_limit);
	tcase_add_test(tc, test_lossy_tail);
	tcase_add_test(tc, test_lossy_tail_big);
	tcase_add_loop_test(tc, test_json_string, 0, (int)ELEMENTSOF(json_strings));
	suite_add_tcase(s, tc);

	tc = tcase_create("logmsg");
	tcase_add_test(tc, test_ts_parse);
	tcase_add_test(tc, test_logmsg_frames);
	tcase_add_test(tc, test_logmsg_bad_frame);
	tcase_add_test(tc, test_logmsg_raw);
	tcase_add_test(tc, test_logmsg_seen);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, test_snapshot_frame);
	tcase_add_test(tc, test_snapshot_frame_tail);
	tcase_add_test(tc, test_chunk_frame);
	tcase_add_test(tc, test_login_code);
	tcase_add_test(tc, test_frames);
	suite_add_tcase(s, tc);

	tc = tcase_create("sendq");
	tcase_add_test(tc, test_sendq_order_and_sharing);
	tcase_add_test(tc, test_sendq_limits);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
