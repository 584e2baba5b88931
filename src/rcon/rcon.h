/* SPDX-License-Identifier: MIT */
/*
 * Source RCON protocol, Minecraft flavour (API-core §12.5, §12.11).
 *
 * Three layers:
 *  - a pure codec (rcon_packet_encode / rcon_packet_decode) that does no I/O;
 *  - a blocking client on a non-blocking socket where every connect, read and
 *    write is bounded by one absolute deadline (CLOCK_MONOTONIC, usec, as
 *    returned by now_monotonic_usec());
 *  - text helpers for the answers: ANSI escape removal + trim (§12.11) and
 *    the player list of "list" (§12.5).
 *
 * Wire format (all integers little-endian int32):
 *	length | request id | type | payload bytes | 0x00 | 0x00
 * where length counts everything after itself (id + type + payload + 2).
 *
 * What vanilla (net.minecraft.server.rcon.thread.RconClient) really does, and
 * why the client is built the way it is:
 *  - It read()s at most 1460 bytes and requires that one read() returns
 *    exactly one whole packet (length == bytes read - 4), otherwise it drops
 *    the connection. So the client never pipelines: it sends one packet and
 *    waits for its answer before sending the next, and a request payload is
 *    limited to RCON_REQUEST_PAYLOAD_MAX (1460 - 14) bytes.
 *  - A command answer is split every 4096 *UTF-16 units* of the Java string,
 *    and each piece is then UTF-8 encoded: one packet's payload is up to
 *    3 * 4096 bytes for non-ASCII text (CJK), not 4096. Nothing marks the
 *    last piece.
 *  - Any packet type other than 2 (exec) and 3 (auth) is answered with
 *    "Unknown request <type in hex>" (type 0, the request's id). The client
 *    uses that as the end marker: after the first piece of a command's answer
 *    has arrived (so the server has consumed the command and is busy sending
 *    its pieces), it sends an empty type-0 packet with a fresh id. Vanilla
 *    serves one connection in order, so every piece of the command's answer
 *    comes before "Unknown request 0". (Source-engine servers mirror an empty
 *    type-0 packet instead; both end the answer.)
 *  - A bad password, or exec before auth, is answered with id -1, type 2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

enum rcon_type {
	RCON_TYPE_RESPONSE = 0,		/* server → client: command output; also the end marker */
	RCON_TYPE_EXEC = 2,		/* client → server: run a command */
	RCON_TYPE_AUTH_RESPONSE = 2,	/* server → client: auth result (id -1: refused) */
	RCON_TYPE_AUTH = 3,		/* client → server: password */
};

#define RCON_LENGTH_FIELD	4	/* the int32 length prefix */
#define RCON_OVERHEAD		10	/* id + type + two NULs, counted in the length */
/* Vanilla reads requests into a 1460-byte buffer, one packet per read(). */
#define RCON_REQUEST_PAYLOAD_MAX (1460 - RCON_LENGTH_FIELD - RCON_OVERHEAD)
/* 4096 UTF-16 units, each at most 3 UTF-8 bytes (a surrogate pair is 2 units, 4 bytes). */
#define RCON_RESPONSE_PAYLOAD_MAX (3 * 4096)
/* Largest whole packet either side may send, length prefix included. */
#define RCON_PACKET_MAX		(RCON_LENGTH_FIELD + RCON_OVERHEAD + RCON_RESPONSE_PAYLOAD_MAX)
/* Cap on a whole (reassembled) command answer. */
#define RCON_OUTPUT_MAX		(1024 * 1024)

struct rcon_packet {
	int32_t id;
	int32_t type;
	/* Borrowed from the decoded buffer. Always followed by a NUL in that
	 * buffer (the protocol's terminator), so it is usable as a C string;
	 * len is authoritative when the payload itself contains a NUL. */
	const char *payload;
	size_t len;
};

/*
 * Encode one packet into buf (n bytes). Returns the packet size (> 0),
 * -EMSGSIZE when len exceeds max_payload (or RCON_RESPONSE_PAYLOAD_MAX, the
 * most either side accepts) or the packet does not fit in n,
 * -EINVAL when the payload contains a NUL byte (the peer would cut it there).
 */
int rcon_packet_encode(int32_t id, int32_t type, const void *payload, size_t len,
    size_t max_payload, uint8_t *buf, size_t n);

/*
 * Decode the packet at the start of buf[0..n). The length field must be in
 * [RCON_OVERHEAD, RCON_OVERHEAD + max_payload] (negative values are out of
 * range too) and the packet must end with two NUL bytes.
 * Returns the number of bytes the packet takes (> 0) and fills *ret (payload
 * pointing into buf), 0 when more bytes are needed (nothing is set), or
 * -EBADMSG for a malformed packet. A bad length is reported as soon as the
 * 4-byte length field is there, without waiting for the rest.
 */
int rcon_packet_decode(const uint8_t *buf, size_t n, size_t max_payload,
    struct rcon_packet *ret);

/*
 * Blocking client. All calls take an absolute deadline (now_monotonic_usec()
 * time base) and fail with -ETIMEDOUT once it has passed; they never block
 * past it. One command per connection is the intended use (rcon_command),
 * but a connection may run several commands in sequence. After any error
 * the connection is out of step with the server: free it.
 */
struct rcon_client;

/*
 * Connect over TCP to host (an IPv4 or IPv6 literal, or "localhost" =
 * 127.0.0.1; no DNS) and port. The caller owns *ret (rcon_client_free).
 * -EINVAL (bad host or port 0), -ETIMEDOUT, -ECONNREFUSED, -errno.
 */
int rcon_client_connect(const char *host, uint16_t port, int64_t deadline_usec,
    struct rcon_client **ret);

/* Closes the socket; NULL-safe; returns NULL. */
struct rcon_client *rcon_client_free(struct rcon_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rcon_client *, rcon_client_free);

/*
 * Log in. 0, -EACCES (password refused), -EMSGSIZE (password longer than
 * RCON_REQUEST_PAYLOAD_MAX), -EBADMSG (malformed packet or an answer with an
 * unexpected id/type), -ECONNRESET (peer closed), -ETIMEDOUT, -errno.
 */
int rcon_client_auth(struct rcon_client *c, const char *password, int64_t deadline_usec);

/*
 * Run one command and collect its whole answer (every piece, in order). On
 * success *ret_output is a malloc'd NUL-terminated string the caller frees
 * and *ret_len (may be NULL) its length. The output is raw: see
 * rcon_output_clean().
 * -EINVAL (empty command), -EMSGSIZE (command longer than
 * RCON_REQUEST_PAYLOAD_MAX, or the answer exceeds RCON_OUTPUT_MAX), -EACCES
 * (not logged in), -EBADMSG (malformed packet, unknown request id, wrong
 * type), -ECONNRESET (peer closed mid-answer), -ETIMEDOUT, -ENOMEM, -errno.
 */
int rcon_client_exec(struct rcon_client *c, const char *command, int64_t deadline_usec,
    char **ret_output, size_t *ret_len);

/*
 * connect + auth + exec within timeout_ms overall (> 0), the way the API
 * uses it. Same results as the three calls above; *ret_output as for
 * rcon_client_exec.
 */
int rcon_command(const char *host, uint16_t port, const char *password, const char *command,
    unsigned timeout_ms, char **ret_output, size_t *ret_len);

/*
 * Clean command output in place (§12.11): remove ANSI escape sequences -
 * ESC followed by one byte in '@'-'Z', '\\' or ']'-'_', or a CSI sequence
 * '[' + parameter bytes '0'-'?' + intermediate bytes ' '-'/' + one final
 * byte '@'-'~' - and then trim leading and trailing whitespace the way
 * Python's str.strip() does (ASCII whitespace, \x1c-\x1f and the Unicode
 * spaces in UTF-8). An ESC that starts no complete sequence is kept.
 * Minecraft '§' formatting codes are kept, as the reference keeps them.
 * Returns the new length.
 */
size_t rcon_output_clean(char *s);

/*
 * Online player names from the output of "list" (§12.5): the output is
 * cleaned as above; no ':' gives an empty list; otherwise the text between
 * the first ':' and the next ':' (or the end) is split on ',' and each piece
 * is trimmed, dropping empty ones.
 * Returns the number of names and sets *ret to a malloc'd NULL-terminated
 * vector (free with rcon_strv_free), or -ENOMEM.
 */
int rcon_players_parse(const char *output, char ***ret);

/* Frees a NULL-terminated vector and its strings; NULL-safe; returns NULL. */
char **rcon_strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, rcon_strv_free);
