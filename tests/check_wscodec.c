/* SPDX-License-Identifier: MIT */
/* ws/: the RFC 6455 frame codec and the HTTP upgrade handshake. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/util.h"
#include "ws/handshake.h"
#include "ws/wscodec.h"

#define S WS_ROLE_SERVER
#define C WS_ROLE_CLIENT

static const uint8_t zero_key[4] = { 0, 0, 0, 0 };
static const uint8_t key1234[4] = { 0x01, 0x02, 0x03, 0x04 };

/* ---- helpers: run a byte stream through a parser, record what comes out ---- */

/* For loops that run per byte: ck_assert_*() records its location on every
 * call, which makes them slow (and very slow under valgrind). */
#define hot_assert(expr)						\
	do {								\
		if (!(expr))						\
			ck_abort_msg("assertion '%s' failed", #expr);	\
	} while (0)

#define TRANSCRIPT_MAX 32

struct msg_copy {
	int opcode;
	char *data;
	size_t len;
	int close_code;
	char *reason;
	size_t reason_len;
};

struct transcript {
	int r;			/* 0 at the end of input, or the error */
	int close_code;		/* ws_parser_close_code() at the end */
	size_t n;
	struct msg_copy m[TRANSCRIPT_MAX];
};

static char *
memdup0(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void
transcript_done(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->m[i].data);
		free(t->m[i].reason);
	}
	*t = (struct transcript){ 0 };
}

/*
 * Feed s[0..n) with pieces of at most `piece` bytes (0: all at once), or
 * split once at `split` when piece is SIZE_MAX. Checks the contract of
 * ws_parser_feed() on every call.
 */
static void
parse_stream(const struct ws_parser_config *cfg, const void *data, size_t n, size_t piece,
    size_t split, struct transcript *t)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	const char *s = data;
	size_t pos = 0, avail = 0;
	int r = 0;

	*t = (struct transcript){ 0 };
	ck_assert_int_eq(ws_parser_new(cfg, &p), 0);
	while (pos < n) {
		struct ws_message m;
		size_t used = SIZE_MAX;

		if (avail == 0) {
			if (piece == 0)
				avail = n - pos;
			else if (piece == SIZE_MAX)
				avail = pos < split ? split - pos : n - pos;
			else
				avail = piece < n - pos ? piece : n - pos;
		}
		r = ws_parser_feed(p, s + pos, avail, &used, &m);
		if (r < 0) {
			hot_assert(used == SIZE_MAX);	/* untouched */
			break;
		}
		hot_assert(r <= 1);
		hot_assert(used <= avail);
		hot_assert(r == 1 || used == avail);
		hot_assert(r == 0 || used > 0);
		pos += used;
		avail -= used;
		if (r == 1) {
			struct msg_copy *c;

			hot_assert(t->n < TRANSCRIPT_MAX);
			c = &t->m[t->n++];
			hot_assert(m.opcode != WS_OP_CONTINUATION);
			hot_assert(m.data[m.len] == '\0');
			c->opcode = m.opcode;
			c->data = memdup0(m.data, m.len);
			c->len = m.len;
			c->close_code = m.close_code;
			if (m.opcode == WS_OP_CLOSE)
				c->reason = memdup0(m.reason, m.reason_len);
			c->reason_len = m.reason_len;
		}
	}
	t->r = r < 0 ? r : 0;
	t->close_code = ws_parser_close_code(p);
	if (r < 0) {
		hot_assert(ws_parser_error(p) != NULL);
		hot_assert(t->close_code == ws_error_to_close_code(r));
		/* sticky */
		hot_assert(ws_parser_feed(p, "\x81", 1, &(size_t){ 0 },
		    &(struct ws_message){ 0 }) == r);
	} else {
		hot_assert(ws_parser_error(p) == NULL);
		hot_assert(t->close_code == 0);
	}
}

static void
transcript_eq(const struct transcript *a, const struct transcript *b)
{
	ck_assert_int_eq(a->r, b->r);
	ck_assert_int_eq(a->close_code, b->close_code);
	ck_assert_uint_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_int_eq(a->m[i].opcode, b->m[i].opcode);
		ck_assert_uint_eq(a->m[i].len, b->m[i].len);
		ck_assert_mem_eq(a->m[i].data, b->m[i].data, a->m[i].len);
		ck_assert_int_eq(a->m[i].close_code, b->m[i].close_code);
		ck_assert_uint_eq(a->m[i].reason_len, b->m[i].reason_len);
	}
}

/* One-shot, byte at a time and a few uneven piece sizes must agree. */
static void
parse_all_ways(const struct ws_parser_config *cfg, const void *s, size_t n,
    struct transcript *ret)
{
	static const size_t pieces[] = { 1, 2, 3, 7, 13, 127, 4096 };

	parse_stream(cfg, s, n, 0, 0, ret);
	for (size_t i = 0; i < ELEMENTSOF(pieces); i++) {
		struct transcript t;

		parse_stream(cfg, s, n, pieces[i], 0, &t);
		transcript_eq(ret, &t);
		transcript_done(&t);
	}
}

static char *
pattern(size_t n, bool text)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = text ? (char)('a' + i % 26) : (char)(i * 7 + 3);
	s[n] = '\0';
	return s;
}

/* ---- encoder: every opcode and every length encoding ---- */

static const struct {
	enum ws_opcode op;
	size_t len;
	size_t hdr;	/* header bytes without the mask */
} lengths[] = {
	{ WS_OP_TEXT, 0, 2 },
	{ WS_OP_TEXT, 1, 2 },
	{ WS_OP_TEXT, 125, 2 },		/* largest 7-bit */
	{ WS_OP_TEXT, 126, 4 },		/* smallest 16-bit */
	{ WS_OP_TEXT, 127, 4 },
	{ WS_OP_BINARY, 65535, 4 },	/* largest 16-bit */
	{ WS_OP_BINARY, 65536, 10 },	/* smallest 64-bit */
	{ WS_OP_BINARY, 70000, 10 },
	{ WS_OP_PING, 0, 2 },
	{ WS_OP_PING, 125, 2 },
	{ WS_OP_PONG, 0, 2 },
	{ WS_OP_PONG, 125, 2 },
	{ WS_OP_CLOSE, 0, 2 },
	{ WS_OP_CLOSE, 2, 2 },
	{ WS_OP_CLOSE, 125, 2 },
};

static void
check_length_field(const uint8_t *f, size_t len, size_t hdr)
{
	if (hdr == 2)
		ck_assert_uint_eq(f[1] & 0x7f, len);
	else if (hdr == 4) {
		ck_assert_uint_eq(f[1] & 0x7f, 126);
		ck_assert_uint_eq((size_t)f[2] << 8 | f[3], len);
	} else {
		uint64_t l = 0;

		ck_assert_uint_eq(f[1] & 0x7f, 127);
		for (int i = 0; i < 8; i++)
			l = l << 8 | f[2 + i];
		ck_assert_uint_eq(l, len);
	}
}

START_TEST(test_encode_roundtrip)
{
	struct ws_parser_config scfg = { .role = S, .max_message = 70000 };
	struct ws_parser_config ccfg = { .role = C, .max_message = 70000 };
	_cleanup_free_ char *payload = NULL;
	struct strbuf out = STRBUF_INIT;
	struct transcript t;
	enum ws_opcode op = lengths[_i].op;
	size_t len = lengths[_i].len, hdr = lengths[_i].hdr;
	const uint8_t *f;

	payload = pattern(len, op != WS_OP_BINARY);
	if (op == WS_OP_CLOSE && len >= 2) {
		payload[0] = 0x03;	/* 1000 */
		payload[1] = (char)0xe8;
	}

	/* server frame: unmasked, parsed by a client */
	ck_assert_int_eq(ws_encode_frame(&out, op, true, payload, len), 0);
	ck_assert_uint_eq(out.len, hdr + len);
	f = (const uint8_t *)out.buf;
	ck_assert_uint_eq(f[0], 0x80 | op);
	ck_assert_uint_eq(f[1] & 0x80, 0);
	check_length_field(f, len, hdr);
	ck_assert_mem_eq(out.buf + hdr, payload, len);
	parse_all_ways(&ccfg, out.buf, out.len, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(t.m[0].opcode, op);
	ck_assert_uint_eq(t.m[0].len, len);
	ck_assert_mem_eq(t.m[0].data, payload, len);
	transcript_done(&t);

	/* a server must not accept it */
	parse_stream(&scfg, out.buf, out.len, 0, 0, &t);
	ck_assert_int_eq(t.r, -EPROTO);
	ck_assert_int_eq(t.close_code, WS_CLOSE_PROTOCOL_ERROR);
	transcript_done(&t);

	/* client frame: masked, parsed by the server */
	strbuf_reset(&out);
	ck_assert_int_eq(ws_encode_client_frame(&out, op, true, key1234, payload, len), 0);
	ck_assert_uint_eq(out.len, hdr + 4 + len);
	f = (const uint8_t *)out.buf;
	ck_assert_uint_eq(f[0], 0x80 | op);
	ck_assert_uint_eq(f[1] & 0x80, 0x80);
	check_length_field(f, len, hdr);
	ck_assert_mem_eq(f + hdr, key1234, 4);
	for (size_t i = 0; i < len; i++)
		hot_assert(f[hdr + 4 + i] == ((uint8_t)payload[i] ^ key1234[i % 4]));
	parse_all_ways(&scfg, out.buf, out.len, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(t.m[0].opcode, op);
	ck_assert_uint_eq(t.m[0].len, len);
	ck_assert_mem_eq(t.m[0].data, payload, len);
	if (op == WS_OP_CLOSE)
		ck_assert_int_eq(t.m[0].close_code, len == 0 ? WS_CLOSE_NO_STATUS : 1000);
	transcript_done(&t);

	/* a client must not accept it */
	parse_stream(&ccfg, out.buf, out.len, 0, 0, &t);
	ck_assert_int_eq(t.r, -EPROTO);
	transcript_done(&t);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_encode_refused)
{
	struct strbuf out = STRBUF_INIT, small = STRBUF_INIT;
	char big[WS_CONTROL_MAX + 1];
	char reason[WS_CLOSE_REASON_MAX + 2];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_PING, true, big, WS_CONTROL_MAX + 1),
	    -EINVAL);
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_PONG, false, "x", 1), -EINVAL);
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_CLOSE, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(ws_encode_frame(&out, (enum ws_opcode)3, true, "x", 1), -EINVAL);
	ck_assert_int_eq(ws_encode_frame(&out, (enum ws_opcode)0xb, true, "x", 1), -EINVAL);
	ck_assert_int_eq(ws_encode_client_frame(&out, WS_OP_PING, true, zero_key, big,
	    WS_CONTROL_MAX + 1), -EINVAL);

	/* close codes and reasons */
	ck_assert_int_eq(ws_encode_close(&out, 999, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 1004, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 1006, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 1015, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 2000, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 5000, NULL), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, WS_CLOSE_NO_STATUS, "why"), -EINVAL);
	ck_assert_int_eq(ws_encode_close(&out, 1000, "\xc3\x28"), -EINVAL);
	memset(reason, 'r', sizeof(reason));
	reason[WS_CLOSE_REASON_MAX + 1] = '\0';
	ck_assert_int_eq(ws_encode_close(&out, 1000, reason), -EINVAL);
	ck_assert_uint_eq(out.len, 0);
	reason[WS_CLOSE_REASON_MAX] = '\0';
	ck_assert_int_eq(ws_encode_close(&out, 1000, reason), 0);
	ck_assert_uint_eq(out.len, 2 + WS_CONTROL_MAX);

	/* the send queue's cap: all or nothing */
	strbuf_init(&small, 10);
	ck_assert_int_eq(ws_encode_frame(&small, WS_OP_TEXT, true, "12345678", 8), 0);
	ck_assert_uint_eq(small.len, 10);
	ck_assert_int_eq(ws_encode_frame(&small, WS_OP_TEXT, true, "", 0), -EMSGSIZE);
	ck_assert_uint_eq(small.len, 10);
	strbuf_free(&small);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_encode_close)
{
	struct strbuf out = STRBUF_INIT;

	ck_assert_int_eq(ws_encode_close(&out, WS_CLOSE_NORMAL, "bye"), 0);
	ck_assert_uint_eq(out.len, 7);
	ck_assert_mem_eq(out.buf, "\x88\x05\x03\xe8" "bye", 7);
	strbuf_reset(&out);
	ck_assert_int_eq(ws_encode_close(&out, WS_CLOSE_PROTOCOL_ERROR, NULL), 0);
	ck_assert_mem_eq(out.buf, "\x88\x02\x03\xea", 4);
	ck_assert_uint_eq(out.len, 4);
	strbuf_reset(&out);
	ck_assert_int_eq(ws_encode_close(&out, WS_CLOSE_NO_STATUS, NULL), 0);
	ck_assert_mem_eq(out.buf, "\x88\x00", 2);
	ck_assert_uint_eq(out.len, 2);
	strbuf_reset(&out);
	ck_assert_int_eq(ws_encode_close(&out, 4999, ""), 0);
	ck_assert_mem_eq(out.buf, "\x88\x02\x13\x87", 4);
	strbuf_reset(&out);
	ck_assert_int_eq(ws_encode_client_close(&out, key1234, 1000, "ok"), 0);
	ck_assert_mem_eq(out.buf, "\x88\x84\x01\x02\x03\x04\x02\xea\x6c\x6f", 10);
	strbuf_free(&out);
}
END_TEST

START_TEST(test_encode_fragments)
{
	struct ws_parser_config ccfg = { .role = C };
	struct strbuf out = STRBUF_INIT;
	struct transcript t;

	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_TEXT, false, "con", 3), 0);
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_PING, true, "p", 1), 0);
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_CONTINUATION, false, "so", 2), 0);
	ck_assert_int_eq(ws_encode_frame(&out, WS_OP_CONTINUATION, true, "le", 2), 0);
	ck_assert_uint_eq((uint8_t)out.buf[0], 0x01);	/* no FIN */
	parse_all_ways(&ccfg, out.buf, out.len, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_int_eq(t.m[0].opcode, WS_OP_PING);
	ck_assert_int_eq(t.m[1].opcode, WS_OP_TEXT);
	ck_assert_str_eq(t.m[1].data, "console");
	transcript_done(&t);
	strbuf_free(&out);
}
END_TEST

/* ---- decoding: a realistic stream, fed in every way ---- */

struct stream {
	struct strbuf bytes;
	struct transcript want;
};

static void
want(struct stream *st, int opcode, const char *data, size_t len, int close_code)
{
	struct msg_copy *c = &st->want.m[st->want.n++];

	c->opcode = opcode;
	c->data = memdup0(data, len);
	c->len = len;
	c->close_code = close_code;
	if (opcode == WS_OP_CLOSE && len >= 2) {
		c->reason = memdup0(data + 2, len - 2);
		c->reason_len = len - 2;
	}
}

static void
build_stream(struct stream *st)
{
	_cleanup_free_ char *b126 = pattern(126, false), *b65535 = pattern(65535, false);
	_cleanup_free_ char *b65536 = pattern(65536, false), *p125 = pattern(125, true);
	struct strbuf *b = &st->bytes;

	*st = (struct stream){ .bytes = STRBUF_INIT };
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_TEXT, true, key1234, "hello", 5), 0);
	want(st, WS_OP_TEXT, "hello", 5, 0);
	/* "Hé!" with the é split between fragments, control frames in between */
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_TEXT, false, key1234, "H\xc3", 2), 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_PING, true, key1234, "p1", 2), 0);
	want(st, WS_OP_PING, "p1", 2, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_CONTINUATION, false, zero_key,
	    "\xa9", 1), 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_PONG, true, key1234, NULL, 0), 0);
	want(st, WS_OP_PONG, "", 0, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_CONTINUATION, false, key1234, "", 0),
	    0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_CONTINUATION, true, key1234, "!", 1),
	    0);
	want(st, WS_OP_TEXT, "H\xc3\xa9!", 4, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_BINARY, true, key1234, b126, 126), 0);
	want(st, WS_OP_BINARY, b126, 126, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_BINARY, false, key1234, b65535, 1000),
	    0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_PING, true, key1234, p125, 125), 0);
	want(st, WS_OP_PING, p125, 125, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_CONTINUATION, true, key1234,
	    b65535 + 1000, 65535 - 1000), 0);
	want(st, WS_OP_BINARY, b65535, 65535, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_BINARY, true, key1234, b65536, 65536),
	    0);
	want(st, WS_OP_BINARY, b65536, 65536, 0);
	ck_assert_int_eq(ws_encode_client_frame(b, WS_OP_TEXT, true, key1234, "", 0), 0);
	want(st, WS_OP_TEXT, "", 0, 0);
	ck_assert_int_eq(ws_encode_client_close(b, key1234, 1001, "bye"), 0);
	want(st, WS_OP_CLOSE, "\x03\xe9" "bye", 5, 1001);
	/* after the close, anything (even garbage) is discarded */
	ck_assert_int_eq(strbuf_append(b, "\xff\xff\xff", 3), 0);
}

static void
stream_done(struct stream *st)
{
	strbuf_free(&st->bytes);
	transcript_done(&st->want);
}

START_TEST(test_stream_all_ways)
{
	struct ws_parser_config cfg = { .role = S, .max_message = 70000 };
	struct stream st;
	struct transcript t;

	build_stream(&st);
	parse_all_ways(&cfg, st.bytes.buf, st.bytes.len, &t);
	transcript_eq(&t, &st.want);
	ck_assert_str_eq(t.m[st.want.n - 1].reason, "bye");
	transcript_done(&t);
	stream_done(&st);
}
END_TEST

/* Split once at k: every offset near the frame boundaries, a sample elsewhere. */
START_TEST(test_stream_every_split)
{
	struct ws_parser_config cfg = { .role = S, .max_message = 70000 };
	struct stream st;

	build_stream(&st);
	for (size_t k = 1; k < st.bytes.len; k += (k < 400 || k > st.bytes.len - 400) ? 1 : 331) {
		struct transcript t;

		parse_stream(&cfg, st.bytes.buf, st.bytes.len, SIZE_MAX, k, &t);
		transcript_eq(&t, &st.want);
		transcript_done(&t);
	}
	stream_done(&st);
}
END_TEST

/*
 * Every strict prefix of a valid frame is "need more": 0 and all bytes
 * used, never an error and never a message. Then the rest completes it.
 */
static const struct {
	enum ws_opcode op;
	size_t len;
} prefix_frames[] = {
	{ WS_OP_TEXT, 0 }, { WS_OP_TEXT, 5 }, { WS_OP_TEXT, 125 }, { WS_OP_TEXT, 126 },
	{ WS_OP_BINARY, 300 }, { WS_OP_BINARY, 65535 }, { WS_OP_BINARY, 65536 },
	{ WS_OP_PING, 0 }, { WS_OP_PING, 125 }, { WS_OP_PONG, 3 }, { WS_OP_CLOSE, 0 },
	{ WS_OP_CLOSE, 2 }, { WS_OP_CLOSE, 125 },
};

START_TEST(test_prefixes_need_more)
{
	_cleanup_free_ char *payload = NULL;
	enum ws_opcode op = prefix_frames[_i].op;
	size_t len = prefix_frames[_i].len;

	payload = pattern(len, true);
	if (op == WS_OP_CLOSE && len >= 2) {
		payload[0] = 0x0f;	/* 4000 */
		payload[1] = (char)0xa0;
	}
	for (int role = S; role <= C; role++) {
		struct ws_parser_config cfg = { .role = role, .max_message = 70000 };
		struct strbuf f = STRBUF_INIT;
		size_t step;

		if (role == S)
			ck_assert_int_eq(ws_encode_client_frame(&f, op, true, key1234, payload,
			    len), 0);
		else
			ck_assert_int_eq(ws_encode_frame(&f, op, true, payload, len), 0);
		/* all header offsets and small frames fully; big payloads sampled */
		for (size_t k = 0; k < f.len; k += step) {
			_cleanup_ws_parser_ struct ws_parser *p = NULL;
			struct ws_message m;
			size_t used = SIZE_MAX;

			step = (k < 20 || k > f.len - 20 || f.len < 400) ? 1 : 997;
			ck_assert_int_eq(ws_parser_new(&cfg, &p), 0);
			ck_assert_int_eq(ws_parser_feed(p, f.buf, k, &used, &m), 0);
			ck_assert_uint_eq(used, k);
			ck_assert_int_eq(ws_parser_feed(p, f.buf + k, f.len - k, &used, &m), 1);
			ck_assert_uint_eq(used, f.len - k);
			ck_assert_int_eq(m.opcode, op);
			ck_assert_uint_eq(m.len, len);
			ck_assert_mem_eq(m.data, payload, len);
		}
		strbuf_free(&f);
	}
}
END_TEST

/* Byte by byte on one parser: every call before the last is "need more". */
START_TEST(test_bytewise_need_more)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	_cleanup_free_ char *payload = pattern(65536, false);
	struct ws_parser_config cfg = { .role = S, .max_message = 65536 };
	struct strbuf f = STRBUF_INIT;
	struct ws_message m;
	size_t used;

	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_BINARY, true, key1234, payload,
	    65536), 0);
	ck_assert_int_eq(ws_parser_new(&cfg, &p), 0);
	for (size_t i = 0; i + 1 < f.len; i++) {
		hot_assert(ws_parser_feed(p, f.buf + i, 1, &used, &m) == 0);
		hot_assert(used == 1);
	}
	ck_assert_int_eq(ws_parser_feed(p, f.buf + f.len - 1, 1, &used, &m), 1);
	ck_assert_uint_eq(m.len, 65536);
	ck_assert_mem_eq(m.data, payload, 65536);
	/* empty feeds are harmless */
	ck_assert_int_eq(ws_parser_feed(p, NULL, 0, &used, &m), 0);
	ck_assert_uint_eq(used, 0);
	strbuf_free(&f);
}
END_TEST

/* ---- protocol errors ---- */

/* M: a zero masking key, so the payload after it reads as it is sent */
#define M "\0\0\0\0"

static const struct {
	const char *name;
	enum ws_role role;
	const char *bytes;
	size_t len;
	int error;
	size_t n_before;	/* messages before the error */
} bad_frames[] = {
#define F(name, role, bytes, error, n) { name, role, bytes, sizeof(bytes) - 1, error, n }
	F("rsv1", S, "\xc1\x80" M, -EPROTO, 0),
	F("rsv2", S, "\xa1\x80" M, -EPROTO, 0),
	F("rsv3", S, "\x91\x80" M, -EPROTO, 0),
	F("rsv on a continuation", S, "\x01\x80" M "\xc0\x80" M, -EPROTO, 0),
	F("rsv on a ping", S, "\x99\x80" M, -EPROTO, 0),
	F("opcode 3", S, "\x83\x80" M, -EPROTO, 0),
	F("opcode 4", S, "\x84\x80" M, -EPROTO, 0),
	F("opcode 5", S, "\x85\x80" M, -EPROTO, 0),
	F("opcode 6", S, "\x86\x80" M, -EPROTO, 0),
	F("opcode 7", S, "\x87\x80" M, -EPROTO, 0),
	F("opcode B", S, "\x8b\x80" M, -EPROTO, 0),
	F("opcode C", S, "\x8c\x80" M, -EPROTO, 0),
	F("opcode D", S, "\x8d\x80" M, -EPROTO, 0),
	F("opcode E", S, "\x8e\x80" M, -EPROTO, 0),
	F("opcode F", S, "\x8f\x80" M, -EPROTO, 0),
	F("unmasked client text", S, "\x81\x05hello", -EPROTO, 0),
	F("unmasked client ping", S, "\x89\x00", -EPROTO, 0),
	F("unmasked after a good frame", S, "\x81\x82" M "hi" "\x81\x00", -EPROTO, 1),
	F("masked server frame", C, "\x81\x80" M, -EPROTO, 0),
	F("ping without FIN", S, "\x09\x80" M, -EPROTO, 0),
	F("pong without FIN", S, "\x0a\x80" M, -EPROTO, 0),
	F("close without FIN", S, "\x08\x80" M, -EPROTO, 0),
	F("ping with 126 bytes", S, "\x89\xfe\x00\x7e" M, -EPROTO, 0),
	F("close with 16-bit length", S, "\x88\xfe\x00\x02" M "\x03\xe8", -EPROTO, 0),
	F("pong with 64-bit length", S, "\x8a\xff\0\0\0\0\0\0\0\x01" M "x", -EPROTO, 0),
	F("continuation first", S, "\x80\x80" M, -EPROTO, 0),
	F("continuation after a whole message", S, "\x81\x80" M "\x80\x80" M, -EPROTO, 1),
	F("text inside a fragmented text", S, "\x01\x80" M "\x81\x80" M, -EPROTO, 0),
	F("binary inside a fragmented text", S, "\x01\x80" M "\x02\x80" M, -EPROTO, 0),
	F("text after ping inside a message", S, "\x02\x80" M "\x89\x80" M "\x01\x80" M,
	    -EPROTO, 1),
	F("16-bit length 0", S, "\x82\xfe\x00\x00" M, -EPROTO, 0),
	F("16-bit length 125", S, "\x82\xfe\x00\x7d" M, -EPROTO, 0),
	F("64-bit length 0", S, "\x82\xff\0\0\0\0\0\0\0\0" M, -EPROTO, 0),
	F("64-bit length 126", S, "\x82\xff\0\0\0\0\0\0\0\x7e" M, -EPROTO, 0),
	F("64-bit length 65535", S, "\x82\xff\0\0\0\0\0\0\xff\xff" M, -EPROTO, 0),
	F("64-bit length with MSB", S, "\x82\xff\x80\0\0\0\0\0\0\0" M, -EPROTO, 0),
	F("64-bit all ones", S, "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff" M, -EPROTO, 0),
	F("close with one byte", S, "\x88\x81" M "\x03", -EPROTO, 0),
	F("close code 0", S, "\x88\x82" M "\x00\x00", -EPROTO, 0),
	F("close code 999", S, "\x88\x82" M "\x03\xe7", -EPROTO, 0),
	F("close reason not UTF-8", S, "\x88\x84" M "\x03\xe8\xc3\x28", -EILSEQ, 0),
	F("close reason overlong", S, "\x88\x84" M "\x03\xe8\xc0\xaf", -EILSEQ, 0),
	F("close reason cut", S, "\x88\x84" M "\x03\xe8\xe2\x82", -EILSEQ, 0),
	F("text not UTF-8", S, "\x81\x82" M "\xc3\x28", -EILSEQ, 0),
	F("frame over the default limit", S, "\x82\xff\0\0\0\0\0\x01\0\x01" M, -EMSGSIZE, 0),
	F("frame of 2^63-1 bytes", S, "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff" M,
	    -EMSGSIZE, 0),
#undef F
};

START_TEST(test_bad_frame)
{
	struct ws_parser_config cfg = { .role = bad_frames[_i].role };
	struct transcript t;

	parse_all_ways(&cfg, bad_frames[_i].bytes, bad_frames[_i].len, &t);
	ck_assert_msg(t.r == bad_frames[_i].error, "%s: got %d", bad_frames[_i].name, t.r);
	ck_assert_int_eq(t.close_code, ws_error_to_close_code(bad_frames[_i].error));
	ck_assert_uint_eq(t.n, bad_frames[_i].n_before);
	transcript_done(&t);
}
END_TEST

START_TEST(test_error_codes)
{
	ck_assert_int_eq(ws_error_to_close_code(-EPROTO), WS_CLOSE_PROTOCOL_ERROR);
	ck_assert_int_eq(ws_error_to_close_code(-EILSEQ), WS_CLOSE_INVALID_PAYLOAD);
	ck_assert_int_eq(ws_error_to_close_code(-EMSGSIZE), WS_CLOSE_MESSAGE_TOO_BIG);
	ck_assert_int_eq(ws_error_to_close_code(-ENOMEM), WS_CLOSE_INTERNAL_ERROR);
	ck_assert_int_eq(WS_CLOSE_PROTOCOL_ERROR, 1002);
	ck_assert_int_eq(WS_CLOSE_INVALID_PAYLOAD, 1007);
	ck_assert_int_eq(WS_CLOSE_MESSAGE_TOO_BIG, 1009);
	ck_assert_int_eq(ws_parser_new(&(struct ws_parser_config){ .role = _WS_ROLE_MAX },
	    &(struct ws_parser *){ NULL }), -EINVAL);
	ck_assert_ptr_null(ws_parser_free(NULL));
}
END_TEST

/* ---- close frames ---- */

static const struct {
	int code;
	bool valid;
} close_codes[] = {
	{ 0, false }, { 999, false }, { 1000, true }, { 1001, true }, { 1002, true },
	{ 1003, true }, { 1004, false }, { 1005, false }, { 1006, false }, { 1007, true },
	{ 1008, true }, { 1009, true }, { 1010, true }, { 1011, true }, { 1012, true },
	{ 1013, true }, { 1014, true }, { 1015, false }, { 1016, false }, { 2000, false },
	{ 2999, false }, { 3000, true }, { 3999, true }, { 4000, true }, { 4999, true },
	{ 5000, false }, { 65535, false },
};

START_TEST(test_close_code)
{
	struct ws_parser_config cfg = { .role = S };
	int code = close_codes[_i].code;
	uint8_t f[6 + 2 + 4] = { 0x88, 0x80 | 6, 0, 0, 0, 0 };
	struct transcript t;

	ck_assert(ws_close_code_valid(code) == close_codes[_i].valid);
	f[6] = (uint8_t)(code >> 8);
	f[7] = (uint8_t)code;
	memcpy(f + 8, "\xc3\xa9ok", 4);	/* "éok" */
	parse_all_ways(&cfg, f, sizeof(f), &t);
	if (close_codes[_i].valid) {
		ck_assert_int_eq(t.r, 0);
		ck_assert_uint_eq(t.n, 1);
		ck_assert_int_eq(t.m[0].close_code, code);
		ck_assert_str_eq(t.m[0].reason, "\xc3\xa9ok");
		ck_assert_uint_eq(t.m[0].reason_len, 4);
		ck_assert_uint_eq(t.m[0].len, 6);
	} else {
		ck_assert_int_eq(t.r, -EPROTO);
		ck_assert_int_eq(t.close_code, 1002);
	}
	transcript_done(&t);
}
END_TEST

START_TEST(test_close_empty_and_after)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	struct ws_message m;
	size_t used;

	ck_assert_int_eq(ws_parser_new(NULL, &p), 0);
	ck_assert_int_eq(ws_parser_feed(p, "\x88\x80" M "\x81\x80" M, 12, &used, &m), 1);
	ck_assert_uint_eq(used, 6);
	ck_assert_int_eq(m.opcode, WS_OP_CLOSE);
	ck_assert_int_eq(m.close_code, WS_CLOSE_NO_STATUS);
	ck_assert_uint_eq(m.reason_len, 0);
	ck_assert_str_eq(m.reason, "");
	/* closed: the rest, valid or not, is discarded */
	ck_assert_int_eq(ws_parser_feed(p, "\x81\x80" M, 6, &used, &m), 0);
	ck_assert_uint_eq(used, 6);
	ck_assert_int_eq(ws_parser_feed(p, "\xff\xff", 2, &used, &m), 0);
	ck_assert_int_eq(ws_parser_close_code(p), 0);
}
END_TEST

/* A close between two fragments is a close; the message is never finished. */
START_TEST(test_close_inside_message)
{
	struct ws_parser_config cfg = { .role = S };
	struct transcript t;
	static const char s[] = "\x01\x82" M "ab" "\x88\x82" M "\x03\xe8" "\x80\x81" M "c";

	parse_all_ways(&cfg, s, sizeof(s) - 1, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(t.m[0].opcode, WS_OP_CLOSE);
	ck_assert_int_eq(t.m[0].close_code, 1000);
	transcript_done(&t);
}
END_TEST

/* ---- UTF-8 in text messages ---- */

static const struct {
	const char *s;
	size_t len;
	bool valid;
} utf8_cases[] = {
#define U(s, v) { s, sizeof(s) - 1, v }
	U("", true),
	U("hello", true),
	U("\xc2\xa2", true),				/* U+00A2 */
	U("\xe2\x82\xac", true),			/* U+20AC */
	U("\xed\x9f\xbf", true),			/* U+D7FF, below the surrogates */
	U("\xee\x80\x80", true),			/* U+E000, above them */
	U("\xef\xbf\xbf", true),			/* U+FFFF */
	U("\xf0\x90\x80\x80", true),			/* U+10000 */
	U("\xf0\x9f\x98\x80 smile", true),		/* U+1F600 */
	U("\xf4\x8f\xbf\xbf", true),			/* U+10FFFF */
	U("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true),	/* κόσμε */
	U("\x80", false),				/* stray continuation */
	U("a\xbf", false),
	U("\xc0\x80", false),				/* overlong NUL */
	U("\xc1\xbf", false),				/* overlong */
	U("\xe0\x80\x80", false),			/* overlong */
	U("\xe0\x9f\xbf", false),			/* overlong U+07FF */
	U("\xf0\x80\x80\x80", false),			/* overlong */
	U("\xf0\x8f\xbf\xbf", false),			/* overlong U+FFFF */
	U("\xed\xa0\x80", false),			/* U+D800 */
	U("\xed\xbf\xbf", false),			/* U+DFFF */
	U("\xed\xa0\x80\xed\xb0\x80", false),		/* surrogate pair, CESU-8 */
	U("\xf4\x90\x80\x80", false),			/* U+110000 */
	U("\xf5\x80\x80\x80", false),
	U("\xf8\x88\x80\x80\x80", false),		/* 5-byte form */
	U("\xfe", false),
	U("\xff", false),
	U("\xe2\x82", false),				/* cut at the end */
	U("a\xf0\x9f\x98", false),			/* cut at the end */
	U("\xe2\x28\xa1", false),			/* continuation missing */
	U("\xc3\xa9\xc3", false),
#undef U
};

static void
text_frames(struct strbuf *out, const char *s, size_t len, size_t split)
{
	ck_assert_int_eq(ws_encode_client_frame(out, WS_OP_TEXT, split >= len, key1234, s,
	    split < len ? split : len), 0);
	if (split < len)
		ck_assert_int_eq(ws_encode_client_frame(out, WS_OP_CONTINUATION, true, key1234,
		    s + split, len - split), 0);
}

START_TEST(test_utf8_text)
{
	struct ws_parser_config cfg = { .role = S };
	const char *s = utf8_cases[_i].s;
	size_t len = utf8_cases[_i].len;

	/* as one frame, and split into two fragments at every offset (mid-code-point too) */
	for (size_t split = 0; split <= len; split++) {
		struct strbuf f = STRBUF_INIT;
		struct transcript t;

		text_frames(&f, s, len, split);
		parse_all_ways(&cfg, f.buf, f.len, &t);
		if (utf8_cases[_i].valid) {
			ck_assert_int_eq(t.r, 0);
			ck_assert_uint_eq(t.n, 1);
			ck_assert_uint_eq(t.m[0].len, len);
			ck_assert_mem_eq(t.m[0].data, s, len);
		} else {
			ck_assert_int_eq(t.r, -EILSEQ);
			ck_assert_int_eq(t.close_code, 1007);
			ck_assert_uint_eq(t.n, 0);
		}
		transcript_done(&t);

		/* binary messages carry anything */
		strbuf_reset(&f);
		ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_BINARY, true, key1234, s, len),
		    0);
		parse_stream(&cfg, f.buf, f.len, 0, 0, &t);
		ck_assert_int_eq(t.r, 0);
		transcript_done(&t);
		strbuf_free(&f);
	}
}
END_TEST

/* Invalid bytes in a non-final fragment fail at once, not at the end. */
START_TEST(test_utf8_fail_fast)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	struct strbuf f = STRBUF_INIT;
	struct ws_message m;
	size_t used;

	ck_assert_int_eq(ws_parser_new(NULL, &p), 0);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_TEXT, false, key1234, "ok\xff", 3), 0);
	ck_assert_int_eq(ws_parser_feed(p, f.buf, f.len, &used, &m), -EILSEQ);
	ck_assert_int_eq(ws_parser_close_code(p), 1007);
	ck_assert_str_eq(ws_parser_error(p), "invalid UTF-8 in a text message");
	strbuf_free(&f);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_limits)
{
	struct ws_parser_config cfg = { .role = S, .max_frame = 16, .max_message = 40 };
	_cleanup_free_ char *big = pattern(WS_CONTROL_MAX, true);
	struct strbuf f = STRBUF_INIT;
	struct transcript t;

	/* a frame at the limit is fine, one byte more is 1009 */
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_TEXT, true, key1234, big, 16), 0);
	parse_all_ways(&cfg, f.buf, f.len, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.n, 1);
	transcript_done(&t);
	strbuf_reset(&f);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_TEXT, true, key1234, big, 17), 0);
	parse_all_ways(&cfg, f.buf, f.len, &t);
	ck_assert_int_eq(t.r, -EMSGSIZE);
	ck_assert_int_eq(t.close_code, WS_CLOSE_MESSAGE_TOO_BIG);
	transcript_done(&t);

	/* the message: 16 + 16 + 8 fits, 16 + 16 + 9 does not */
	strbuf_reset(&f);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_BINARY, false, key1234, big, 16), 0);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_CONTINUATION, false, key1234, big, 16),
	    0);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_CONTINUATION, true, key1234, big, 8),
	    0);
	/* the next message starts from zero again */
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_BINARY, false, key1234, big, 16), 0);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_CONTINUATION, false, key1234, big, 16),
	    0);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_CONTINUATION, true, key1234, big, 9),
	    0);
	parse_all_ways(&cfg, f.buf, f.len, &t);
	ck_assert_int_eq(t.r, -EMSGSIZE);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.m[0].len, 40);
	transcript_done(&t);

	/* control frames are bounded by the protocol, not by max_frame */
	strbuf_reset(&f);
	ck_assert_int_eq(ws_encode_client_frame(&f, WS_OP_PING, true, key1234, big,
	    WS_CONTROL_MAX), 0);
	parse_all_ways(&cfg, f.buf, f.len, &t);
	ck_assert_int_eq(t.r, 0);
	ck_assert_uint_eq(t.m[0].len, WS_CONTROL_MAX);
	transcript_done(&t);
	strbuf_free(&f);
}
END_TEST

/* The limit is checked on the header, before any payload is buffered. */
START_TEST(test_limit_before_payload)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	struct ws_parser_config cfg = { .role = S, .max_message = 1024 };
	struct ws_message m;
	size_t used;

	ck_assert_int_eq(ws_parser_new(&cfg, &p), 0);
	/* a 1 GiB frame announced: refused after its 14 header bytes */
	ck_assert_int_eq(ws_parser_feed(p, "\x82\xff\0\0\0\0\x40\0\0\0" M, 14, &used, &m),
	    -EMSGSIZE);
	ck_assert_str_eq(ws_parser_error(p), "frame too big");
}
END_TEST

/* ---- handshake ---- */

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define GET "GET /api/auth/code HTTP/1.1\r\n"
#define HOST "Host: example.org\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
#define KEY "Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define END "\r\n"

static const struct {
	const char *name;
	const char *req;
	size_t len;
	int result;	/* 1 or the error */
} hs_cases[] = {
#define H(name, req, result) { name, req, sizeof(req) - 1, result }
	H("valid", GET HOST UPG CONN VER KEY END, 1),
	H("rfc 6455 example", "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"
	    "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 1),
	H("connection list", GET HOST UPG "Connection: keep-alive, Upgrade\r\n" VER KEY END, 1),
	H("connection list no spaces", GET HOST UPG "Connection: Upgrade,keep-alive\r\n" VER KEY
	    END, 1),
	H("connection empty elements", GET HOST UPG "Connection: , ,\tupgrade ,\r\n" VER KEY END,
	    1),
	H("connection repeated", GET HOST UPG "Connection: keep-alive\r\nConnection: Upgrade\r\n"
	    VER KEY END, 1),
	H("upgrade list", GET HOST "Upgrade: h2c, websocket\r\n" CONN VER KEY END, 1),
	H("upgrade case", GET HOST "Upgrade: WebSocket\r\n" "Connection: UPGRADE\r\n" VER KEY END,
	    1),
	H("header names any case", GET "host: example.org\r\nUPGRADE: websocket\r\n"
	    "connection: upgrade\r\nsec-websocket-version: 13\r\nSEC-WEBSOCKET-KEY: " RFC_KEY
	    "\r\n\r\n", 1),
	H("whitespace around values", GET "Host:\t example.org \t\r\n" UPG CONN
	    "Sec-WebSocket-Version:13\r\n" "Sec-WebSocket-Key:   " RFC_KEY "  \r\n\r\n", 1),
	H("bare LF", "GET / HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\n"
	    "Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " RFC_KEY "\n\n", 1),
	H("leading empty lines", "\r\n\r\n" GET HOST UPG CONN VER KEY END, 1),
	H("unknown headers", GET HOST "X-Foo: bar\r\nCookie: a=b; c=d\r\n" UPG CONN VER KEY
	    "User-Agent: \xc3\xa9t\xc3\xa9\r\n" END, 1),
	H("content-length 0", GET HOST UPG CONN VER KEY "Content-Length: 0\r\n" END, 1),
	H("key with padding bits", GET HOST UPG CONN VER "Sec-WebSocket-Key: "
	    "dGhlIHNhbXBsZSBub25jZR==\r\n" END, 1),
	H("HTTP/1.2", "GET / HTTP/1.2\r\n" HOST UPG CONN VER KEY END, 1),

	H("missing key", GET HOST UPG CONN VER END, -EBADMSG),
	H("empty key", GET HOST UPG CONN VER "Sec-WebSocket-Key:\r\n" END, -EBADMSG),
	H("key 15 bytes", GET HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n" END,
	    -EBADMSG),
	H("key 17 bytes", GET HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQA=\r\n"
	    END, -EBADMSG),
	H("key no padding", GET HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n"
	    END, -EBADMSG),
	H("key bad character", GET HOST UPG CONN VER
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==\r\n" END, -EBADMSG),
	H("key base64url", GET HOST UPG CONN VER "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-_==\r\n"
	    END, -EBADMSG),
	H("key with inner space", GET HOST UPG CONN VER
	    "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ=\r\n" END, -EBADMSG),
	H("key twice", GET HOST UPG CONN VER KEY KEY END, -EBADMSG),
	H("version 8", GET HOST UPG CONN "Sec-WebSocket-Version: 8\r\n" KEY END,
	    -EPROTONOSUPPORT),
	H("version list", GET HOST UPG CONN "Sec-WebSocket-Version: 13, 8\r\n" KEY END,
	    -EPROTONOSUPPORT),
	H("version missing", GET HOST UPG CONN KEY END, -EPROTONOSUPPORT),
	H("version twice", GET HOST UPG CONN VER VER KEY END, -EBADMSG),
	H("upgrade missing", GET HOST CONN VER KEY END, -EBADMSG),
	H("upgrade other", GET HOST "Upgrade: h2c\r\n" CONN VER KEY END, -EBADMSG),
	H("upgrade longer token", GET HOST "Upgrade: websockets\r\n" CONN VER KEY END, -EBADMSG),
	H("upgrade with version", GET HOST "Upgrade: websocket/13\r\n" CONN VER KEY END,
	    -EBADMSG),
	H("connection missing", GET HOST UPG VER KEY END, -EBADMSG),
	H("connection keep-alive", GET HOST UPG "Connection: keep-alive\r\n" VER KEY END,
	    -EBADMSG),
	H("connection token inside", GET HOST UPG "Connection: Upgraded\r\n" VER KEY END,
	    -EBADMSG),
	H("host missing", GET UPG CONN VER KEY END, -EBADMSG),
	H("host empty", GET "Host: \r\n" UPG CONN VER KEY END, -EBADMSG),
	H("host twice", GET HOST HOST UPG CONN VER KEY END, -EBADMSG),
	H("origin twice", GET HOST "Origin: a\r\nOrigin: b\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("POST", "POST / HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EOPNOTSUPP),
	H("lower-case get", "get / HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EOPNOTSUPP),
	H("HTTP/1.0", "GET / HTTP/1.0\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("HTTP/2.0", "GET / HTTP/2.0\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("no version", "GET /\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("double space", "GET  / HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("trailing space", "GET / HTTP/1.1 \r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("absolute target", "GET http://h/ HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("asterisk target", "GET * HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("fragment", "GET /a#b HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("8-bit target", "GET /\xc3\xa9 HTTP/1.1\r\n" HOST UPG CONN VER KEY END, -EBADMSG),
	H("obs-fold", GET HOST " folded\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("space before colon", GET "Host : h\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("space in name", GET "Ho st: h\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("no colon", GET HOST "Hello\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("empty name", GET HOST ": x\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("NUL in value", GET HOST "X-A: a\0b\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("bare CR in value", GET HOST "X-A: a\rb\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("control in value", GET HOST "X-A: a\x01" "b\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("DEL in value", GET HOST "X-A: a\x7f\r\n" UPG CONN VER KEY END, -EBADMSG),
	H("body announced", GET HOST UPG CONN VER KEY "Content-Length: 5\r\n" END, -EBADMSG),
	H("chunked", GET HOST UPG CONN VER KEY "Transfer-Encoding: chunked\r\n" END, -EBADMSG),
	H("no headers", GET END, -EBADMSG),
#undef H
};

static int
hs_feed(const char *s, size_t n, size_t piece, size_t *ret_used, struct ws_handshake **ret)
{
	_cleanup_ws_handshake_ struct ws_handshake *h = NULL;
	size_t pos = 0;
	int r = 0;

	ck_assert_int_eq(ws_handshake_new(0, &h), 0);
	while (pos < n) {
		size_t chunk = piece && piece < n - pos ? piece : n - pos, used = SIZE_MAX;

		r = ws_handshake_feed(h, s + pos, chunk, &used);
		if (r < 0) {
			ck_assert_uint_eq(used, SIZE_MAX);
			ck_assert_ptr_nonnull(ws_handshake_error(h));
			ck_assert_ptr_null(ws_handshake_request(h));
			/* sticky */
			ck_assert_int_eq(ws_handshake_feed(h, "x", 1, &used), r);
			break;
		}
		pos += used;
		if (r == 1)
			break;
		ck_assert_uint_eq(used, chunk);
		ck_assert_ptr_null(ws_handshake_request(h));
	}
	*ret_used = pos;
	if (ret)
		*ret = TAKE_PTR(h);
	return r;
}

START_TEST(test_handshake_case)
{
	const char *req = hs_cases[_i].req;
	size_t len = hs_cases[_i].len, used1, used2, used3;
	int r1, r2, r3;

	r1 = hs_feed(req, len, 0, &used1, NULL);
	r2 = hs_feed(req, len, 1, &used2, NULL);
	r3 = hs_feed(req, len, 5, &used3, NULL);
	ck_assert_msg(r1 == hs_cases[_i].result, "%s: got %d", hs_cases[_i].name, r1);
	ck_assert_int_eq(r2, r1);
	ck_assert_int_eq(r3, r1);
	if (r1 == 1) {
		ck_assert_uint_eq(used1, len);
		ck_assert_uint_eq(used2, len);
		ck_assert_uint_eq(used3, len);
	}
}
END_TEST

START_TEST(test_handshake_prefixes)
{
	static const char req[] = GET HOST UPG CONN VER KEY END;

	for (size_t k = 0; k < sizeof(req) - 1; k++) {
		_cleanup_ws_handshake_ struct ws_handshake *h = NULL;
		size_t used;

		ck_assert_int_eq(ws_handshake_new(0, &h), 0);
		ck_assert_int_eq(ws_handshake_feed(h, req, k, &used), 0);
		ck_assert_uint_eq(used, k);
		ck_assert_ptr_null(ws_handshake_request(h));
		ck_assert_int_eq(ws_handshake_feed(h, req + k, sizeof(req) - 1 - k, &used), 1);
		ck_assert_uint_eq(used, sizeof(req) - 1 - k);
	}
}
END_TEST

START_TEST(test_handshake_rfc_example)
{
	static const char req[] =
	    "GET /api/servers/s1/console?token=a%2Bb+c&x=1&token=last%21 HTTP/1.1\r\n"
	    "Host: panel.example.org\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Key: " RFC_KEY "\r\n"
	    "Origin: https://panel.example.org\r\n"
	    "X-Real-IP: 203.0.113.7\r\n"
	    "X-Forwarded-For: 198.51.100.1\r\n"
	    "X-Forwarded-For: 203.0.113.7\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n"
	    "\x81\x80";		/* a pipelined frame: not part of the request */
	_cleanup_ws_handshake_ struct ws_handshake *h = NULL;
	const struct ws_request *rq;
	struct ws_request taken;
	struct strbuf out = STRBUF_INIT;
	char accept[WS_ACCEPT_LEN + 1];
	char *v = NULL;
	size_t used;

	ck_assert_int_eq(hs_feed(req, sizeof(req) - 1, 0, &used, &h), 1);
	ck_assert_uint_eq(used, sizeof(req) - 1 - 2);
	/* once done, more input is not used */
	ck_assert_int_eq(ws_handshake_feed(h, "\x81\x80", 2, &used), 1);
	ck_assert_uint_eq(used, 0);

	rq = ws_handshake_request(h);
	ck_assert_ptr_nonnull(rq);
	ck_assert_str_eq(rq->method, "GET");
	ck_assert_str_eq(rq->target, "/api/servers/s1/console?token=a%2Bb+c&x=1&token=last%21");
	ck_assert_str_eq(rq->path, "/api/servers/s1/console");
	ck_assert_str_eq(rq->query, "token=a%2Bb+c&x=1&token=last%21");
	ck_assert_str_eq(rq->host, "panel.example.org");
	ck_assert_str_eq(rq->key, RFC_KEY);
	ck_assert_str_eq(rq->origin, "https://panel.example.org");
	ck_assert_str_eq(rq->x_real_ip, "203.0.113.7");
	ck_assert_str_eq(rq->x_forwarded_for, "198.51.100.1, 203.0.113.7");

	/* query parameters: decoded, the last one wins */
	ck_assert_int_eq(ws_request_query_get(rq, "token", &v), 1);
	ck_assert_str_eq(v, "last!");
	free(v);
	ck_assert_int_eq(ws_request_query_get(rq, "x", &v), 1);
	ck_assert_str_eq(v, "1");
	free(v);
	v = NULL;
	ck_assert_int_eq(ws_request_query_get(rq, "missing", &v), 0);
	ck_assert_ptr_null(v);

	/* the accept value of RFC 6455 §1.3 and the whole 101 answer */
	ck_assert_int_eq(ws_accept_key(rq->key, accept), 0);
	ck_assert_str_eq(accept, RFC_ACCEPT);
	ck_assert_int_eq(ws_response_accept(&out, rq->key), 0);
	ck_assert_str_eq(strbuf_str(&out),
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
	    "\r\n");
	strbuf_free(&out);

	/* the request can outlive the handshake buffer */
	ck_assert_int_eq(ws_handshake_take_request(h, &taken), 0);
	ck_assert_ptr_null(ws_handshake_request(h));
	ck_assert_int_eq(ws_handshake_take_request(h, &(struct ws_request){ 0 }), -EAGAIN);
	h = ws_handshake_free(h);
	ck_assert_str_eq(taken.path, "/api/servers/s1/console");
	ws_request_done(&taken);
	ws_request_done(&taken);
}
END_TEST

START_TEST(test_handshake_query)
{
	static const struct {
		const char *query;
		int r;
		const char *token;
	} q[] = {
		{ "", 0, NULL },
		{ "token", 1, "" },
		{ "token=", 1, "" },
		{ "a=1&token=abc.def.ghi&b", 1, "abc.def.ghi" },
		{ "token=%41%42%2x", 1, "AB%2x" },	/* a stray '%' stays */
		{ "to%6Ben=x", 1, "x" },		/* names are decoded too */
		{ "token=a%00b", -EINVAL, NULL },
		{ "Token=x", 0, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(q); i++) {
		struct ws_request rq = { .query = (char *)q[i].query };
		char *v = NULL;

		ck_assert_int_eq(ws_request_query_get(&rq, "token", &v), q[i].r);
		if (q[i].token)
			ck_assert_str_eq(v, q[i].token);
		else
			ck_assert_ptr_null(v);
		free(v);
	}
}
END_TEST

START_TEST(test_handshake_errors)
{
	static const char v8[] = GET HOST UPG CONN "Sec-WebSocket-Version: 8\r\n" KEY END;
	_cleanup_ws_handshake_ struct ws_handshake *h = NULL;
	struct strbuf out = STRBUF_INIT;
	size_t used;
	int r;

	r = hs_feed(v8, sizeof(v8) - 1, 0, &used, &h);
	ck_assert_int_eq(r, -EPROTONOSUPPORT);
	ck_assert_int_eq(ws_handshake_status(r), 426);
	ck_assert_str_eq(ws_handshake_error(h), "unsupported Sec-WebSocket-Version");
	ck_assert_int_eq(ws_response_error(&out, 426, NULL), 0);
	ck_assert_str_eq(strbuf_str(&out),
	    "HTTP/1.1 426 Upgrade Required\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 17\r\n"
	    "Connection: close\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n"
	    "Upgrade Required\n");

	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 403, "invalid token\n"), 0);
	ck_assert_str_eq(strbuf_str(&out),
	    "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 14\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "invalid token\n");

	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 404, NULL), 0);
	ck_assert(startswith(strbuf_str(&out), "HTTP/1.1 404 Not Found\r\n"));
	ck_assert(strstr(strbuf_str(&out), "\r\n\r\nNot Found\n"));
	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 400, "missing Sec-WebSocket-Key"), 0);
	ck_assert(startswith(strbuf_str(&out), "HTTP/1.1 400 Bad Request\r\n"));
	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 405, NULL), 0);
	ck_assert(strstr(strbuf_str(&out), "\r\nAllow: GET\r\n"));
	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 431, NULL), 0);
	ck_assert(startswith(strbuf_str(&out), "HTTP/1.1 431 Request Header Fields Too Large"));
	strbuf_reset(&out);
	ck_assert_int_eq(ws_response_error(&out, 200, NULL), -EINVAL);
	ck_assert_int_eq(ws_response_error(&out, 999, NULL), -EINVAL);
	ck_assert_uint_eq(out.len, 0);
	strbuf_free(&out);

	/* the response fits the cap or nothing is written */
	strbuf_init(&out, 32);
	ck_assert_int_eq(ws_response_accept(&out, RFC_KEY), -EMSGSIZE);
	ck_assert_uint_eq(out.len, 0);
	strbuf_free(&out);

	ck_assert_int_eq(ws_handshake_status(-EBADMSG), 400);
	ck_assert_int_eq(ws_handshake_status(-EOPNOTSUPP), 405);
	ck_assert_int_eq(ws_handshake_status(-EPROTONOSUPPORT), 426);
	ck_assert_int_eq(ws_handshake_status(-EMSGSIZE), 431);
	ck_assert_int_eq(ws_handshake_status(-ENOMEM), 500);
	ck_assert_ptr_null(ws_handshake_free(NULL));
}
END_TEST

/* The head (request line, headers, blank line) may have max_header bytes. */
START_TEST(test_handshake_size_limit)
{
	static const char head[] = GET HOST UPG CONN VER KEY;
	struct strbuf req = STRBUF_INIT;
	size_t used, fill;
	int r;

	/* "X-Pad: " + pad + CRLF + CRLF brings the total to exactly 8192 */
	fill = WS_HANDSHAKE_MAX_HEADER - (sizeof(head) - 1) - 7 - 2 - 2;
	ck_assert_int_eq(strbuf_puts(&req, head), 0);
	ck_assert_int_eq(strbuf_puts(&req, "X-Pad: "), 0);
	for (size_t i = 0; i < fill; i++)
		ck_assert_int_eq(strbuf_putc(&req, 'p'), 0);
	ck_assert_int_eq(strbuf_puts(&req, "\r\n\r\n"), 0);
	ck_assert_uint_eq(req.len, WS_HANDSHAKE_MAX_HEADER);
	ck_assert_int_eq(hs_feed(req.buf, req.len, 0, &used, NULL), 1);
	ck_assert_int_eq(hs_feed(req.buf, req.len, 1, &used, NULL), 1);

	/* one byte more: 431 */
	strbuf_reset(&req);
	ck_assert_int_eq(strbuf_puts(&req, head), 0);
	ck_assert_int_eq(strbuf_puts(&req, "X-Pad: "), 0);
	for (size_t i = 0; i < fill + 1; i++)
		ck_assert_int_eq(strbuf_putc(&req, 'p'), 0);
	ck_assert_int_eq(strbuf_puts(&req, "\r\n\r\n"), 0);
	r = hs_feed(req.buf, req.len, 0, &used, NULL);
	ck_assert_int_eq(r, -EMSGSIZE);
	ck_assert_int_eq(ws_handshake_status(r), 431);
	ck_assert_int_eq(hs_feed(req.buf, req.len, 7, &used, NULL), -EMSGSIZE);

	/* endless headers never finish and never grow past the limit */
	strbuf_reset(&req);
	for (size_t i = 0; i < 2000; i++)
		ck_assert_int_eq(strbuf_puts(&req, "X-A: b\r\n"), 0);
	ck_assert_int_eq(hs_feed(req.buf, req.len, 100, &used, NULL), -EMSGSIZE);
	/* even blank-line noise before the request counts */
	strbuf_reset(&req);
	for (size_t i = 0; i < 5000; i++)
		ck_assert_int_eq(strbuf_puts(&req, "\r\n"), 0);
	ck_assert_int_eq(hs_feed(req.buf, req.len, 0, &used, NULL), -EMSGSIZE);
	strbuf_free(&req);

	/* a custom limit */
	{
		_cleanup_ws_handshake_ struct ws_handshake *h = NULL;

		ck_assert_int_eq(ws_handshake_new(64, &h), 0);
		ck_assert_int_eq(ws_handshake_feed(h, head, sizeof(head) - 1, &used), -EMSGSIZE);
	}
}
END_TEST

static Suite *
wscodec_suite(void)
{
	Suite *s = suite_create("wscodec");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode_roundtrip, 0, (int)ELEMENTSOF(lengths));
	tcase_add_test(tc, test_encode_refused);
	tcase_add_test(tc, test_encode_close);
	tcase_add_test(tc, test_encode_fragments);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stream_all_ways);
	tcase_add_test(tc, test_stream_every_split);
	tcase_add_loop_test(tc, test_prefixes_need_more, 0, (int)ELEMENTSOF(prefix_frames));
	tcase_add_test(tc, test_bytewise_need_more);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol errors");
	tcase_add_loop_test(tc, test_bad_frame, 0, (int)ELEMENTSOF(bad_frames));
	tcase_add_test(tc, test_error_codes);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_loop_test(tc, test_close_code, 0, (int)ELEMENTSOF(close_codes));
	tcase_add_test(tc, test_close_empty_and_after);
	tcase_add_test(tc, test_close_inside_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_text, 0, (int)ELEMENTSOF(utf8_cases));
	tcase_add_test(tc, test_utf8_fail_fast);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_limit_before_payload);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_add_loop_test(tc, test_handshake_case, 0, (int)ELEMENTSOF(hs_cases));
	tcase_add_test(tc, test_handshake_prefixes);
	tcase_add_test(tc, test_handshake_rfc_example);
	tcase_add_test(tc, test_handshake_query);
	tcase_add_test(tc, test_handshake_errors);
	tcase_add_test(tc, test_handshake_size_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(wscodec_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
