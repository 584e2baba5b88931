/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the RFC 6455 frame parser (src/ws/wscodec.c).
 *
 * Input: byte 0 picks the configuration (bit 0: client role, bits 1-2: the
 * size limits), byte 1 seeds the split pattern, the rest is the stream.
 * The stream is parsed in one piece, in pseudo-random pieces and one byte
 * at a time; the three transcripts (messages, then the error) must be
 * identical. Every message is checked against the parser's promises and
 * re-encoded with the encoder, which must parse back to the same message.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/util.h"
#include "ws/wscodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)							\
	do {								\
		if (!(x)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #x);			\
			abort();					\
		}							\
	} while (0)

static const size_t limits[4][2] = {
	/* max_frame, max_message */
	{ 0, 0 },		/* defaults */
	{ 16, 64 },		/* tiny: exercises 1009 */
	{ 200, 70000 },		/* 16-bit frames, 64-bit-sized messages rejected */
	{ 70000, 70000 },	/* room for a 64-bit-length frame */
};

static void
record_msg(struct strbuf *t, const struct ws_message *m)
{
	uint8_t hdr[1 + 8 + 2];
	uint64_t l = m->len;

	hdr[0] = (uint8_t)m->opcode;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(l >> (8 * i));
	hdr[9] = (uint8_t)(m->close_code >> 8);
	hdr[10] = (uint8_t)m->close_code;
	CHECK(strbuf_append(t, hdr, sizeof(hdr)) == 0);
	CHECK(strbuf_append(t, m->data, m->len) == 0);
}

/* Promises of ws_parser_feed() about a message, and the encoder round trip. */
static void
check_msg(const struct ws_parser_config *cfg, const struct ws_message *m)
{
	static const uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
	/* the message goes back as one frame, which may exceed max_frame */
	struct ws_parser_config one = { .role = cfg->role, .max_message = cfg->max_message };
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	struct strbuf enc = STRBUF_INIT;
	struct ws_message back;
	size_t used;
	int r;

	CHECK(m->data && m->data[m->len] == '\0');
	CHECK(m->opcode != WS_OP_CONTINUATION);
	switch (m->opcode) {
	case WS_OP_TEXT:
		CHECK(utf8_valid(m->data, m->len));
		break;
	case WS_OP_CLOSE:
		CHECK(m->close_code == WS_CLOSE_NO_STATUS || ws_close_code_valid(m->close_code));
		CHECK(utf8_valid(m->reason, m->reason_len));
		CHECK(m->len <= WS_CONTROL_MAX);
		break;
	case WS_OP_PING:
	case WS_OP_PONG:
		CHECK(m->len <= WS_CONTROL_MAX);
		break;
	default:
		break;
	}

	/* re-encode as the peer of the parser's role would, parse it back */
	if (m->opcode == WS_OP_CLOSE) {
		char reason[WS_CLOSE_REASON_MAX + 1];

		memcpy(reason, m->reason, m->reason_len);
		reason[m->reason_len] = '\0';
		if (cfg->role == WS_ROLE_SERVER)
			r = ws_encode_client_close(&enc, key, m->close_code, reason);
		else
			r = ws_encode_close(&enc, m->close_code, reason);
		/* a reason with an embedded NUL is cut short by the C string API */
		if (strlen(reason) != m->reason_len)
			goto out;
	} else if (cfg->role == WS_ROLE_SERVER)
		r = ws_encode_client_frame(&enc, m->opcode, true, key, m->data, m->len);
	else
		r = ws_encode_frame(&enc, m->opcode, true, m->data, m->len);
	CHECK(r == 0);

	CHECK(ws_parser_new(&one, &p) == 0);
	r = ws_parser_feed(p, enc.buf, enc.len, &used, &back);
	CHECK(r == 1 && used == enc.len);
	CHECK(back.opcode == m->opcode && back.len == m->len);
	CHECK(memcmp(back.data, m->data, m->len) == 0);
	CHECK(back.close_code == m->close_code);
out:
	strbuf_free(&enc);
}

/* Parse the stream in pieces; split(state) gives the next piece size. */
static void
run(const struct ws_parser_config *cfg, const uint8_t *s, size_t n, uint32_t seed,
    int mode, struct strbuf *t)
{
	_cleanup_ws_parser_ struct ws_parser *p = NULL;
	size_t pos = 0, avail = 0;
	int r = 0;

	CHECK(ws_parser_new(cfg, &p) == 0);
	while (pos < n) {
		struct ws_message m;
		size_t used = 0;

		if (avail == 0) {
			if (mode == 0)
				avail = n - pos;
			else if (mode == 1)
				avail = 1;
			else {
				seed = seed * 1103515245u + 12345u;
				avail = 1 + (seed >> 16) % 23;
			}
			if (avail > n - pos)
				avail = n - pos;
		}
		r = ws_parser_feed(p, s + pos, avail, &used, &m);
		if (r < 0)
			break;
		CHECK(used <= avail);
		CHECK(r == 1 || used == avail);
		CHECK(r == 0 || used > 0);
		pos += used;
		avail -= used;
		if (r > 0) {
			if (mode == 0)
				check_msg(cfg, &m);
			record_msg(t, &m);
		}
	}
	if (r < 0) {
		int code = ws_parser_close_code(p);

		CHECK(code == ws_error_to_close_code(r));
		CHECK(ws_parser_error(p) != NULL);
		CHECK(r == -EPROTO || r == -EILSEQ || r == -EMSGSIZE);
		CHECK(ws_parser_feed(p, "x", 1, &(size_t){ 0 }, &(struct ws_message){ 0 }) == r);
	}
	CHECK(strbuf_printf(t, "|%d", r) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf t0 = STRBUF_INIT, t1 = STRBUF_INIT, t2 = STRBUF_INIT;
	struct ws_parser_config cfg;

	if (size < 2)
		return 0;
	cfg = (struct ws_parser_config){
		.role = (data[0] & 1) ? WS_ROLE_CLIENT : WS_ROLE_SERVER,
		.max_frame = limits[(data[0] >> 1) & 3][0],
		.max_message = limits[(data[0] >> 1) & 3][1],
	};

	run(&cfg, data + 2, size - 2, data[1], 0, &t0);
	run(&cfg, data + 2, size - 2, data[1], 1, &t1);
	run(&cfg, data + 2, size - 2, data[1], 2, &t2);
	CHECK(t0.len == t1.len && memcmp(t0.buf, t1.buf, t0.len) == 0);
	CHECK(t0.len == t2.len && memcmp(t0.buf, t2.buf, t0.len) == 0);
	strbuf_free(&t0);
	strbuf_free(&t1);
	strbuf_free(&t2);
	return 0;
}
