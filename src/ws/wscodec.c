/* SPDX-License-Identifier: MIT */
/*
 * RFC 6455 frame codec. The parser is a byte-driven state machine: a frame
 * header is collected into a small fixed buffer (its size is bounded by the
 * protocol), then the payload is unmasked into either the message buffer
 * (data frames, a strbuf capped at max_message) or the control buffer
 * (control frames, at most 125 bytes), so a ping between two fragments of a
 * message leaves the message alone.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ws/wscodec.h"

enum parser_state {
	ST_HEADER,
	ST_PAYLOAD,
	ST_CLOSED,	/* a close message went out: input is discarded */
};

/*
 * Incremental UTF-8 check (Unicode table 3-7): need is the number of
 * continuation bytes still expected, [lo, hi] the range of the next one.
 * Restricting the first continuation byte excludes overlongs (E0, F0),
 * surrogates (ED) and code points above U+10FFFF (F4).
 */
struct utf8_state {
	uint8_t need;
	uint8_t lo;
	uint8_t hi;
};

struct ws_parser {
	enum ws_role role;
	size_t max_frame;
	size_t max_message;
	enum parser_state state;
	int error;			/* sticky negative errno, 0 while fine */
	const char *error_text;

	/* the frame being read */
	uint8_t hdr[WS_HEADER_MAX];
	size_t hdr_len;			/* bytes collected */
	size_t hdr_need;		/* bytes the header has: 2 until the length is known */
	bool fin;
	uint8_t opcode;
	bool masked;
	uint8_t mask[4];
	uint64_t payload_len;
	uint64_t payload_pos;		/* bytes of this frame's payload read so far */

	/* the data message being reassembled */
	bool msg_open;			/* a non-final data frame was seen */
	bool msg_done;			/* msg was handed out: reset it on the next feed */
	uint8_t msg_opcode;		/* TEXT or BINARY */
	struct strbuf msg;
	struct utf8_state utf8;

	/* the control frame being read */
	char ctrl[WS_CONTROL_MAX + 1];
	size_t ctrl_len;
};

static const struct {
	int error;
	int close_code;
} close_map[] = {
	{ EPROTO, WS_CLOSE_PROTOCOL_ERROR },		/* broken framing */
	{ EILSEQ, WS_CLOSE_INVALID_PAYLOAD },		/* text is not UTF-8 */
	{ EMSGSIZE, WS_CLOSE_MESSAGE_TOO_BIG },		/* frame or message over the limit */
};

int
ws_error_to_close_code(int error)
{
	if (error < 0)
		error = -error;
	for (size_t i = 0; i < ELEMENTSOF(close_map); i++)
		if (close_map[i].error == error)
			return close_map[i].close_code;
	return WS_CLOSE_INTERNAL_ERROR;
}

bool
ws_close_code_valid(int code)
{
	/* 1012-1014 are IANA-registered (service restart, try again later, bad
	 * gateway): uvicorn, the reference's server, closes with 1012 when it
	 * stops, and the frontend reconnects on it */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

static bool
opcode_is_control(uint8_t op)
{
	return (op & 0x8) != 0;
}

static bool
opcode_known(uint8_t op)
{
	switch (op) {
	case WS_OP_CONTINUATION:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		return true;
	default:
		return false;
	}
}

static bool
utf8_feed(struct utf8_state *u, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				return false;
			u->need--;
			u->lo = 0x80;
			u->hi = 0xbf;
			continue;
		}
		if (c < 0x80)
			continue;
		u->lo = 0x80;
		u->hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			u->need = 1;
		else if (c == 0xe0) {
			u->need = 2;
			u->lo = 0xa0;		/* overlong */
		} else if (c == 0xed) {
			u->need = 2;
			u->hi = 0x9f;		/* surrogates */
		} else if (c >= 0xe1 && c <= 0xef)
			u->need = 2;
		else if (c == 0xf0) {
			u->need = 3;
			u->lo = 0x90;		/* overlong */
		} else if (c >= 0xf1 && c <= 0xf3)
			u->need = 3;
		else if (c == 0xf4) {
			u->need = 3;
			u->hi = 0x8f;		/* above U+10FFFF */
		} else
			return false;		/* 80-C1 (stray or overlong lead), F5-FF */
	}
	return true;
}

int
ws_parser_new(const struct ws_parser_config *cfg, struct ws_parser **ret)
{
	struct ws_parser_config def = { .role = WS_ROLE_SERVER };
	struct ws_parser *p;

	if (!cfg)
		cfg = &def;
	if ((int)cfg->role < 0 || (int)cfg->role >= _WS_ROLE_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->role = cfg->role;
	p->max_message = cfg->max_message ? cfg->max_message : WS_DEFAULT_MAX_MESSAGE;
	p->max_frame = cfg->max_frame ? cfg->max_frame : p->max_message;
	/* strbuf's own maximum backs up the checks done on each header */
	strbuf_init(&p->msg, p->max_message);
	p->state = ST_HEADER;
	p->hdr_need = 2;
	*ret = p;
	return 0;
}

struct ws_parser *
ws_parser_free(struct ws_parser *p)
{
	if (!p)
		return NULL;
	strbuf_free(&p->msg);
	free(p);
	return NULL;
}

int
ws_parser_close_code(const struct ws_parser *p)
{
	return p->error < 0 ? ws_error_to_close_code(p->error) : 0;
}

const char *
ws_parser_error(const struct ws_parser *p)
{
	return p->error < 0 ? p->error_text : NULL;
}

static int
parser_fail(struct ws_parser *p, int error, const char *text)
{
	p->error = error;
	p->error_text = text;
	return error;
}

static uint64_t
read_be(const uint8_t *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | s[i];
	return v;
}

/* The first two header bytes are in: check what they alone decide, and
 * learn how long the header is. */
static int
header_start(struct ws_parser *p)
{
	uint8_t b0 = p->hdr[0], b1 = p->hdr[1];
	uint8_t len7 = b1 & 0x7f;

	p->fin = (b0 & 0x80) != 0;
	p->opcode = b0 & 0x0f;
	p->masked = (b1 & 0x80) != 0;

	/* no extension is ever negotiated, so RSV1-3 have no meaning */
	if (b0 & 0x70)
		return parser_fail(p, -EPROTO, "reserved bits set");
	if (!opcode_known(p->opcode))
		return parser_fail(p, -EPROTO, "reserved opcode");
	if (p->role == WS_ROLE_SERVER && !p->masked)
		return parser_fail(p, -EPROTO, "unmasked client frame");
	if (p->role == WS_ROLE_CLIENT && p->masked)
		return parser_fail(p, -EPROTO, "masked server frame");
	if (opcode_is_control(p->opcode)) {
		if (!p->fin)
			return parser_fail(p, -EPROTO, "fragmented control frame");
		if (len7 > WS_CONTROL_MAX)
			return parser_fail(p, -EPROTO, "control frame too long");
	} else if (p->opcode == WS_OP_CONTINUATION) {
		if (!p->msg_open)
			return parser_fail(p, -EPROTO, "continuation without a message");
	} else if (p->msg_open)
		return parser_fail(p, -EPROTO, "data frame inside a fragmented message");

	p->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (p->masked ? 4 : 0);
	return 0;
}

/* The whole header is in: decode the length and check it. */
static int
header_end(struct ws_parser *p)
{
	uint8_t len7 = p->hdr[1] & 0x7f;
	size_t off = 2;
	uint64_t len;

	if (len7 == 126) {
		len = read_be(p->hdr + off, 2);
		off += 2;
		if (len < 126)
			return parser_fail(p, -EPROTO, "non-minimal 16-bit length");
	} else if (len7 == 127) {
		len = read_be(p->hdr + off, 8);
		off += 8;
		if (len >> 63)
			return parser_fail(p, -EPROTO, "64-bit length with the top bit set");
		if (len <= 0xffff)
			return parser_fail(p, -EPROTO, "non-minimal 64-bit length");
	} else
		len = len7;
	if (p->masked)
		memcpy(p->mask, p->hdr + off, 4);

	if (!opcode_is_control(p->opcode)) {
		if (len > p->max_frame)
			return parser_fail(p, -EMSGSIZE, "frame too big");
		/* p->msg.len <= max_message holds, so the subtraction cannot wrap */
		if (len > p->max_message - p->msg.len)
			return parser_fail(p, -EMSGSIZE, "message too big");
		if (p->opcode != WS_OP_CONTINUATION) {
			p->msg_opcode = p->opcode;
			p->utf8 = (struct utf8_state){ 0 };
		}
	} else {
		p->ctrl_len = 0;
		p->ctrl[0] = '\0';
	}

	p->payload_len = len;
	p->payload_pos = 0;
	p->state = ST_PAYLOAD;
	return 0;
}

/* Unmask n bytes that were read at payload offset pos. */
static void
unmask(const struct ws_parser *p, uint8_t *s, size_t n, uint64_t pos)
{
	if (!p->masked)
		return;
	for (size_t i = 0; i < n; i++)
		s[i] ^= p->mask[(pos + i) & 3];
}

static int
payload_take(struct ws_parser *p, const uint8_t *s, size_t n)
{
	uint8_t *dst;
	int r;

	if (opcode_is_control(p->opcode)) {
		/* header_start() bounded the length by the buffer */
		dst = (uint8_t *)p->ctrl + p->ctrl_len;
		memcpy(dst, s, n);
		p->ctrl_len += n;
		p->ctrl[p->ctrl_len] = '\0';
		unmask(p, dst, n, p->payload_pos);
	} else {
		r = strbuf_append(&p->msg, s, n);
		if (r < 0)
			return parser_fail(p, r,
			    r == -EMSGSIZE ? "message too big" : "out of memory");
		dst = (uint8_t *)p->msg.buf + p->msg.len - n;
		unmask(p, dst, n, p->payload_pos);
		/* fail fast: a broken sequence is broken whatever follows */
		if (p->msg_opcode == WS_OP_TEXT && !utf8_feed(&p->utf8, dst, n))
			return parser_fail(p, -EILSEQ, "invalid UTF-8 in a text message");
	}
	p->payload_pos += n;
	return 0;
}

static int
close_parse(struct ws_parser *p, struct ws_message *m)
{
	const char *reason = p->ctrl + 2;
	size_t reason_len;
	int code;

	if (p->ctrl_len == 0) {
		m->close_code = WS_CLOSE_NO_STATUS;
		m->reason = "";
		m->reason_len = 0;
		return 0;
	}
	if (p->ctrl_len == 1)
		return parser_fail(p, -EPROTO, "close payload of one byte");
	code = (int)read_be((const uint8_t *)p->ctrl, 2);
	if (!ws_close_code_valid(code))
		return parser_fail(p, -EPROTO, "invalid close code");
	reason_len = p->ctrl_len - 2;
	if (!utf8_valid(reason, reason_len))
		return parser_fail(p, -EILSEQ, "invalid UTF-8 in the close reason");
	m->close_code = (uint16_t)code;
	m->reason = reason;
	m->reason_len = reason_len;
	return 0;
}

/* The current frame's payload is complete. 1 and *ret_msg when a message
 * is complete, 0 when more frames make up the message, or -errno. */
static int
frame_end(struct ws_parser *p, struct ws_message *ret_msg)
{
	struct ws_message m = { .opcode = p->opcode };
	int r;

	p->state = ST_HEADER;
	p->hdr_len = 0;
	p->hdr_need = 2;

	if (opcode_is_control(p->opcode)) {
		m.data = p->ctrl;
		m.len = p->ctrl_len;
		if (p->opcode == WS_OP_CLOSE) {
			r = close_parse(p, &m);
			if (r < 0)
				return r;
			p->state = ST_CLOSED;
		}
		*ret_msg = m;
		return 1;
	}

	if (!p->fin) {
		p->msg_open = true;
		return 0;
	}
	if (p->msg_opcode == WS_OP_TEXT && p->utf8.need > 0)
		return parser_fail(p, -EILSEQ, "text message ends inside a UTF-8 sequence");
	p->msg_open = false;
	p->msg_done = true;
	m.opcode = p->msg_opcode;
	m.data = strbuf_str(&p->msg);
	m.len = p->msg.len;
	*ret_msg = m;
	return 1;
}

int
ws_parser_feed(struct ws_parser *p, const void *data, size_t n, size_t *ret_consumed,
    struct ws_message *ret_msg)
{
	const uint8_t *s = data;
	size_t i = 0;
	int r;

	if (p->error < 0)
		return p->error;
	if (p->msg_done) {
		/* the message handed out last time is no longer borrowed */
		strbuf_reset(&p->msg);
		p->msg_done = false;
	}

	while (i < n) {
		if (p->state == ST_CLOSED) {
			i = n;
			break;
		}

		if (p->state == ST_HEADER) {
			size_t k = p->hdr_need - p->hdr_len;

			if (k > n - i)
				k = n - i;
			memcpy(p->hdr + p->hdr_len, s + i, k);
			p->hdr_len += k;
			i += k;
			if (p->hdr_len == 2 && p->hdr_need == 2) {
				r = header_start(p);
				if (r < 0)
					return r;
			}
			if (p->hdr_len < p->hdr_need)
				continue;
			r = header_end(p);
			if (r < 0)
				return r;
		} else {
			uint64_t left = p->payload_len - p->payload_pos;
			size_t k = n - i;

			if ((uint64_t)k > left)
				k = (size_t)left;
			r = payload_take(p, s + i, k);
			if (r < 0)
				return r;
			i += k;
		}

		if (p->state == ST_PAYLOAD && p->payload_pos == p->payload_len) {
			r = frame_end(p, ret_msg);
			if (r < 0)
				return r;
			if (r > 0) {
				*ret_consumed = i;
				return 1;
			}
		}
	}

	*ret_consumed = i;
	return 0;
}

/* ---- encoder ---- */

static int
frame_append(struct strbuf *out, enum ws_opcode op, bool fin, const uint8_t *mask_key,
    const void *data, size_t len)
{
	uint8_t hdr[WS_HEADER_MAX];
	size_t h = 0;
	int r;

	if (!opcode_known((uint8_t)op))
		return -EINVAL;
	if (opcode_is_control((uint8_t)op) && (!fin || len > WS_CONTROL_MAX))
		return -EINVAL;
	if (len > SIZE_MAX - WS_HEADER_MAX)
		return -EMSGSIZE;

	hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len <= WS_CONTROL_MAX)
		hdr[h++] = (uint8_t)len;
	else if (len <= 0xffff) {
		hdr[h++] = 126;
		hdr[h++] = (uint8_t)(len >> 8);
		hdr[h++] = (uint8_t)len;
	} else {
		uint64_t l = len;

		hdr[h++] = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			hdr[h++] = (uint8_t)(l >> shift);
	}
	if (mask_key) {
		hdr[1] |= 0x80;
		memcpy(hdr + h, mask_key, 4);
		h += 4;
	}

	/* reserve first, so a failure leaves out untouched */
	r = strbuf_reserve(out, h + len);
	if (r < 0)
		return r;
	r = strbuf_append(out, hdr, h);
	if (r >= 0)
		r = strbuf_append(out, data, len);
	if (r < 0)
		return r;	/* cannot happen after the reservation */
	if (mask_key) {
		uint8_t *p = (uint8_t *)out->buf + out->len - len;

		for (size_t i = 0; i < len; i++)
			p[i] ^= mask_key[i & 3];
	}
	return 0;
}

/* Build a close payload into buf (WS_CONTROL_MAX bytes); returns its length or -EINVAL. */
static int
close_payload(int code, const char *reason, uint8_t *buf)
{
	size_t rl = reason ? strlen(reason) : 0;

	if (code == WS_CLOSE_NO_STATUS)
		return rl == 0 ? 0 : -EINVAL;
	if (!ws_close_code_valid(code) || rl > WS_CLOSE_REASON_MAX || !utf8_valid(reason, rl))
		return -EINVAL;
	buf[0] = (uint8_t)(code >> 8);
	buf[1] = (uint8_t)code;
	if (rl > 0)
		memcpy(buf + 2, reason, rl);
	return (int)(rl + 2);
}

int
ws_encode_frame(struct strbuf *out, enum ws_opcode op, bool fin, const void *data, size_t len)
{
	return frame_append(out, op, fin, /* mask_key= */ NULL, data, len);
}

int
ws_encode_client_frame(struct strbuf *out, enum ws_opcode op, bool fin,
    const uint8_t mask_key[static 4], const void *data, size_t len)
{
	return frame_append(out, op, fin, mask_key, data, len);
}

int
ws_encode_close(struct strbuf *out, int code, const char *reason)
{
	uint8_t buf[WS_CONTROL_MAX];
	int l = close_payload(code, reason, buf);

	if (l < 0)
		return l;
	return frame_append(out, WS_OP_CLOSE, true, /* mask_key= */ NULL, buf, (size_t)l);
}

int
ws_encode_client_close(struct strbuf *out, const uint8_t mask_key[static 4], int code,
    const char *reason)
{
	uint8_t buf[WS_CONTROL_MAX];
	int l = close_payload(code, reason, buf);

	if (l < 0)
		return l;
	return frame_append(out, WS_OP_CLOSE, true, mask_key, buf, (size_t)l);
}
