/* SPDX-License-Identifier: MIT */
/*
 * RFC 6455 frame codec: pure code, no I/O, no logging.
 *
 * Decoding is incremental. The connection layer read()s into any buffer and
 * hands the bytes to ws_parser_feed() in whatever pieces it got (one byte at
 * a time is fine). The parser reassembles fragmented data messages, checks
 * every protocol rule as soon as the bytes that break it have arrived and
 * hands back one complete message at a time:
 *
 *	while (n > 0) {
 *		r = ws_parser_feed(p, buf, n, &used, &msg);
 *		if (r < 0) {
 *			(queue ws_encode_close(out, ws_parser_close_code(p), NULL),
 *			 then close the connection; log ws_parser_error(p) at debug)
 *			break;
 *		}
 *		buf += used;
 *		n -= used;
 *		if (r > 0)
 *			(act on msg: text → command, ping → pong, close → close handshake)
 *	}
 *
 * Encoding appends whole frames to a caller-provided strbuf; a strbuf with a
 * maximum is the capped send queue.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "common/strbuf.h"

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close status codes (RFC 6455 §7.4.1). */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL_ERROR = 1002,
	WS_CLOSE_UNSUPPORTED_DATA = 1003,
	WS_CLOSE_NO_STATUS = 1005,		/* never on the wire: a close without a code */
	WS_CLOSE_ABNORMAL = 1006,		/* never on the wire: "no close frame at all" */
	WS_CLOSE_INVALID_PAYLOAD = 1007,
	WS_CLOSE_POLICY_VIOLATION = 1008,
	WS_CLOSE_MESSAGE_TOO_BIG = 1009,
	WS_CLOSE_MANDATORY_EXTENSION = 1010,
	WS_CLOSE_INTERNAL_ERROR = 1011,
	/* IANA's registry after RFC 6455 (browsers and Python's websockets know them) */
	WS_CLOSE_SERVICE_RESTART = 1012,
	WS_CLOSE_TRY_AGAIN_LATER = 1013,
	WS_CLOSE_BAD_GATEWAY = 1014,
};

/* The largest payload of a control frame (RFC 6455 §5.5). */
#define WS_CONTROL_MAX 125
/* The largest close reason: a control payload minus the two-byte code. */
#define WS_CLOSE_REASON_MAX (WS_CONTROL_MAX - 2)
/* The largest frame header: 2 + 8 (64-bit length) + 4 (masking key). */
#define WS_HEADER_MAX 14

#define WS_DEFAULT_MAX_MESSAGE ((size_t)64 * 1024)

/* Which end of the connection the parser sits on. */
enum ws_role {
	WS_ROLE_SERVER,		/* parses client frames: every frame must be masked */
	WS_ROLE_CLIENT,		/* parses server frames: no frame may be masked (tests) */
	_WS_ROLE_MAX,
};

struct ws_parser_config {
	enum ws_role role;
	size_t max_frame;	/* largest payload of one data frame; 0: max_message */
	size_t max_message;	/* largest reassembled message; 0: WS_DEFAULT_MAX_MESSAGE */
};

/*
 * One complete message, handed out by ws_parser_feed(). Everything points
 * into the parser and stays valid until the next ws_parser_feed() or
 * ws_parser_free() on that parser: copy what must live longer.
 */
struct ws_message {
	enum ws_opcode opcode;	/* TEXT, BINARY, CLOSE, PING or PONG; never CONTINUATION */
	const char *data;	/* unmasked payload, NUL-terminated (data[len] == '\0') */
	size_t len;
	/* WS_OP_CLOSE only; the payload has been checked */
	uint16_t close_code;	/* WS_CLOSE_NO_STATUS when the payload was empty */
	const char *reason;	/* valid UTF-8, not NUL-terminated; "" when absent */
	size_t reason_len;
};

struct ws_parser;

/*
 * Create a parser. cfg may be NULL (server role, default limits). Returns 0
 * and *ret (free it with ws_parser_free()), -EINVAL for an unknown role, or
 * -ENOMEM.
 */
int ws_parser_new(const struct ws_parser_config *cfg, struct ws_parser **ret);
/* NULL-safe; returns NULL. */
struct ws_parser *ws_parser_free(struct ws_parser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ws_parser *, ws_parser_free);
#define _cleanup_ws_parser_ _cleanup_(ws_parser_freep)

/*
 * Feed n bytes. Returns:
 *   0  every byte was used and no message is complete yet ("need more");
 *      *ret_consumed == n.
 *   1  a message is complete: *ret_msg describes it and *ret_consumed
 *      (1..n) says how many bytes it took; feed the rest again afterwards.
 *      After a close message the parser is closed: later input is
 *      discarded (0, everything consumed), as RFC 6455 §5.5.1 allows.
 *  <0  the connection must be failed; the error is sticky (every later
 *      call returns it). Send a close frame with ws_parser_close_code():
 *      -EPROTO     protocol error (1002): reserved bits or opcodes, a
 *                  wrongly masked frame, a fragmented or too long control
 *                  frame, a non-minimal or 64-bit-MSB length, a stray
 *                  continuation, a data frame inside a fragmented
 *                  message, a bad close payload (1 byte, invalid code);
 *      -EILSEQ     a text message or close reason is not UTF-8 (1007);
 *      -EMSGSIZE   a frame or message is larger than configured (1009);
 *      -ENOMEM     out of memory (1011).
 * The ret_* parameters are only written when the result is >= 0.
 */
int ws_parser_feed(struct ws_parser *p, const void *data, size_t n, size_t *ret_consumed,
    struct ws_message *ret_msg);

/* The close code for the parser's error, or 0 while there is none. */
int ws_parser_close_code(const struct ws_parser *p);
/* A static description of the parser's error (for debug logs), or NULL. */
const char *ws_parser_error(const struct ws_parser *p);

/* Close code to send for a negative errno from this module (1002/1007/1009/1011). */
int ws_error_to_close_code(int error);
/* Whether a close code may be sent on the wire: 1000-1003, 1007-1014, 3000-4999. */
bool ws_close_code_valid(int code);

/*
 * Encoders. Each appends exactly one frame to out, or nothing at all on
 * failure: 0, -EINVAL (unknown opcode, a control frame that is fragmented
 * or has more than WS_CONTROL_MAX bytes, a bad close code or reason),
 * -EMSGSIZE (out's maximum would be passed) or -ENOMEM. Text payloads are
 * not checked: the caller sends UTF-8.
 */

/* A server-to-client frame (unmasked). fin is false for all but the last
 * fragment of a data message. */
int ws_encode_frame(struct strbuf *out, enum ws_opcode op, bool fin, const void *data,
    size_t len);
/*
 * A server close frame. code WS_CLOSE_NO_STATUS gives an empty payload (the
 * answer to a close without a code) and then reason must be NULL or "";
 * otherwise code must be ws_close_code_valid() and reason (NULL for none)
 * UTF-8 of at most WS_CLOSE_REASON_MAX bytes.
 */
int ws_encode_close(struct strbuf *out, int code, const char *reason);

/* Client-to-server frames, masked with the caller's 4-byte key (tests, fuzzers). */
int ws_encode_client_frame(struct strbuf *out, enum ws_opcode op, bool fin,
    const uint8_t mask_key[static 4], const void *data, size_t len);
int ws_encode_client_close(struct strbuf *out, const uint8_t mask_key[static 4], int code,
    const char *reason);
