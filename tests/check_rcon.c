/* SPDX-License-Identifier: MIT */
/*
 * rcon/: the packet codec (round trips, every truncation offset, malformed
 * lengths and terminators), the client against a real RCON server thread on
 * 127.0.0.1 that behaves like vanilla's RconClient (one packet per read(),
 * answers split every 4096 characters, "Unknown request" for other types),
 * and the text helpers (ANSI cleanup, player list).
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "helpers.h"
#include "rcon/rcon.h"

#define PASSWORD "s3cret"

/* ---- codec --------------------------------------------------------------- */

static uint8_t *
encode_alloc(int32_t id, int32_t type, const char *payload, size_t len, size_t *ret_n)
{
	size_t n = RCON_LENGTH_FIELD + RCON_OVERHEAD + len;
	uint8_t *buf = malloc(n);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(rcon_packet_encode(id, type, payload, len, RCON_RESPONSE_PAYLOAD_MAX, buf,
	    n), (int)n);
	*ret_n = n;
	return buf;
}

static char *
pattern(size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	return s;
}

static const struct {
	int32_t id, type;
	size_t len;		/* payload = pattern(len) */
} roundtrips[] = {
	{ 1, RCON_TYPE_AUTH, 6 },			/* a password */
	{ -1, RCON_TYPE_AUTH_RESPONSE, 0 },		/* auth refused, empty payload */
	{ 0, RCON_TYPE_RESPONSE, 1 },
	{ INT32_MAX, RCON_TYPE_EXEC, RCON_REQUEST_PAYLOAD_MAX },
	{ INT32_MIN, 7, 4096 },				/* one vanilla ASCII piece */
	{ 42, RCON_TYPE_RESPONSE, RCON_RESPONSE_PAYLOAD_MAX },	/* 4096 CJK characters */
};

START_TEST(test_codec_roundtrip)
{
	_cleanup_free_ char *payload = pattern(roundtrips[_i].len);
	_cleanup_free_ uint8_t *buf = NULL;
	struct rcon_packet p;
	size_t n;

	buf = encode_alloc(roundtrips[_i].id, roundtrips[_i].type, payload, roundtrips[_i].len, &n);
	ck_assert_int_eq(rcon_packet_decode(buf, n, RCON_RESPONSE_PAYLOAD_MAX, &p), (int)n);
	ck_assert_int_eq(p.id, roundtrips[_i].id);
	ck_assert_int_eq(p.type, roundtrips[_i].type);
	ck_assert_uint_eq(p.len, roundtrips[_i].len);
	ck_assert_mem_eq(p.payload, payload, p.len);
	ck_assert_int_eq(p.payload[p.len], '\0');
	/* every truncation needs more bytes, and never touches *ret */
	for (size_t cut = 0; cut < n; cut++) {
		struct rcon_packet q = { .id = 77 };

		ck_assert_int_eq(rcon_packet_decode(buf, cut, RCON_RESPONSE_PAYLOAD_MAX, &q), 0);
		ck_assert_int_eq(q.id, 77);
	}
}
END_TEST

START_TEST(test_codec_wire_format)
{
	uint8_t buf[32];
	static const uint8_t expect[] = {
		0x0c, 0, 0, 0,		/* length 10 + 2 */
		0x78, 0x56, 0x34, 0x12,	/* id */
		0x03, 0, 0, 0,		/* type auth */
		'h', 'i', 0, 0,
	};

	ck_assert_int_eq(rcon_packet_encode(0x12345678, RCON_TYPE_AUTH, "hi", 2, 10, buf,
	    sizeof(buf)), (int)sizeof(expect));
	ck_assert_mem_eq(buf, expect, sizeof(expect));
}
END_TEST

START_TEST(test_codec_encode_errors)
{
	uint8_t buf[64];
	_cleanup_free_ char *big = pattern(RCON_RESPONSE_PAYLOAD_MAX + 1);

	/* over the caller's bound, over the buffer, over the protocol's bound */
	ck_assert_int_eq(rcon_packet_encode(1, 2, "abcdef", 6, 5, buf, sizeof(buf)), -EMSGSIZE);
	ck_assert_int_eq(rcon_packet_encode(1, 2, "abcdef", 6, 100, buf, 19), -EMSGSIZE);
	ck_assert_int_eq(rcon_packet_encode(1, 2, "abcdef", 6, 100, buf, 20), 20);
	ck_assert_int_eq(rcon_packet_encode(1, 2, big, RCON_RESPONSE_PAYLOAD_MAX + 1, SIZE_MAX, buf,
	    sizeof(buf)), -EMSGSIZE);
	/* an embedded NUL would be cut by the peer */
	ck_assert_int_eq(rcon_packet_encode(1, 2, "ab\0cd", 5, 100, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* A raw packet whose length field is given explicitly (payload + NULs as given). */
static size_t
raw_packet(uint8_t *buf, int32_t length, const void *body, size_t body_len)
{
	uint32_t u = (uint32_t)length;

	buf[0] = (uint8_t)u;
	buf[1] = (uint8_t)(u >> 8);
	buf[2] = (uint8_t)(u >> 16);
	buf[3] = (uint8_t)(u >> 24);
	memset(buf + 4, 0, 8);	/* id 0, type 0 */
	memcpy(buf + 12, body, body_len);
	return 12 + body_len;
}

static const struct {
	const char *name;
	int32_t length;
	const char *body;	/* after id and type */
	size_t body_len;
	size_t max_payload;
} bad_lengths[] = {
	{ "zero", 0, "", 0, 4096 },
	{ "short 9", 9, "\0", 1, 4096 },		/* less than id + type + 2 NULs */
	{ "negative -1", -1, "\0\0", 2, 4096 },
	{ "INT32_MIN", INT32_MIN, "\0\0", 2, 4096 },
	{ "INT32_MAX", INT32_MAX, "\0\0", 2, 4096 },
	{ "one over caller bound", 10 + 5, "abcde\0\0", 7, 4 },
	{ "one over 12288", 10 + RCON_RESPONSE_PAYLOAD_MAX + 1, "\0\0", 2, SIZE_MAX },
	{ "one over 4096 vanilla piece bound", 10 + 4097, "\0\0", 2, 4096 },
};

START_TEST(test_codec_bad_length)
{
	uint8_t buf[64];
	struct rcon_packet p;
	size_t n = raw_packet(buf, bad_lengths[_i].length, bad_lengths[_i].body,
	    bad_lengths[_i].body_len);

	/* rejected as soon as the length field is complete, at every offset after it */
	for (size_t cut = 0; cut <= n; cut++)
		ck_assert_msg(rcon_packet_decode(buf, cut, bad_lengths[_i].max_payload, &p) ==
		    (cut < 4 ? 0 : -EBADMSG), "%s at %zu", bad_lengths[_i].name, cut);
}
END_TEST

static const struct {
	const char *name;
	const char *body;
	size_t body_len;
} bad_terminators[] = {
	{ "no NULs", "abcd", 4 },		/* length 12: payload "ab", then "cd" */
	{ "first not NUL", "ab\x01\0", 4 },
	{ "second not NUL", "ab\0\x01", 4 },
	{ "empty, no NULs", "xy", 2 },		/* length 10: just "xy" where NULs belong */
};

START_TEST(test_codec_bad_terminator)
{
	uint8_t buf[64];
	struct rcon_packet p;
	size_t n = raw_packet(buf, (int32_t)(8 + bad_terminators[_i].body_len),
	    bad_terminators[_i].body, bad_terminators[_i].body_len);

	for (size_t cut = 0; cut < n; cut++)
		ck_assert_msg(rcon_packet_decode(buf, cut, 4096, &p) == 0, "%s at %zu",
		    bad_terminators[_i].name, cut);
	ck_assert_int_eq(rcon_packet_decode(buf, n, 4096, &p), -EBADMSG);
}
END_TEST

START_TEST(test_codec_back_to_back)
{
	uint8_t buf[128];
	struct rcon_packet p;
	int a, b;

	a = rcon_packet_encode(5, 0, "first", 5, 100, buf, sizeof(buf));
	ck_assert_int_gt(a, 0);
	b = rcon_packet_encode(6, 0, "", 0, 100, buf + a, sizeof(buf) - (size_t)a);
	ck_assert_int_gt(b, 0);
	/* a second packet's bytes (even partial) do not disturb the first */
	ck_assert_int_eq(rcon_packet_decode(buf, (size_t)a + 3, 100, &p), a);
	ck_assert_str_eq(p.payload, "first");
	ck_assert_int_eq(rcon_packet_decode(buf + a, (size_t)b, 100, &p), b);
	ck_assert_int_eq(p.id, 6);
	ck_assert_uint_eq(p.len, 0);
	/* a NUL inside the payload is kept, the length says where it ends */
	memcpy(buf, "\x0d\0\0\0\x01\0\0\0\0\0\0\0a\0b\0\0", 17);
	ck_assert_int_eq(rcon_packet_decode(buf, 17, 100, &p), 17);
	ck_assert_uint_eq(p.len, 3);
	ck_assert_mem_eq(p.payload, "a\0b", 3);
}
END_TEST

/* ---- a vanilla-like RCON server thread ------------------------------------ */

enum srv_mode {
	SRV_VANILLA,		/* net.minecraft.server.rcon.thread.RconClient */
	SRV_SOURCE,		/* extra empty RESPONSE before auth, mirrors the marker */
	SRV_MUTE,		/* reads, never answers */
	SRV_AUTH_WRONG_ID,	/* auth answered with another id */
	SRV_DRIBBLE,		/* vanilla, but every answer is written 7 bytes at a time */
};

struct srv {
	enum srv_mode mode;
	int lfd;
	uint16_t port;
	pthread_t thread;
	int violations;		/* reads that did not hold exactly one packet */
	int markers;		/* "Unknown request" answers sent */
};

static void
srv_write(struct srv *s, int fd, const uint8_t *p, size_t n)
{
	size_t step = s->mode == SRV_DRIBBLE ? 7 : n;

	while (n > 0) {
		size_t k = n < step ? n : step;
		ssize_t l = send(fd, p, k, MSG_NOSIGNAL);

		if (l <= 0)
			return;	/* the client gave up; the test checks its side */
		p += l;
		n -= (size_t)l;
	}
}

static void
srv_send(struct srv *s, int fd, int32_t id, int32_t type, const char *payload, size_t len)
{
	_cleanup_free_ uint8_t *buf = malloc(RCON_PACKET_MAX);
	int n;

	ck_assert_ptr_nonnull(buf);
	n = rcon_packet_encode(id, type, payload, len, RCON_RESPONSE_PAYLOAD_MAX, buf,
	    RCON_PACKET_MAX);
	ck_assert_int_gt(n, 0);
	srv_write(s, fd, buf, (size_t)n);
}

/* vanilla sendCmdResponse: pieces of 4096 characters (code points here), at least one */
static void
srv_respond(struct srv *s, int fd, int32_t id, const char *text, size_t len)
{
	size_t off = 0;

	do {
		size_t end = off, chars = 0;

		while (end < len && chars < 4096) {
			end++;
			while (end < len && ((unsigned char)text[end] & 0xc0) == 0x80)
				end++;
			chars++;
		}
		srv_send(s, fd, id, RCON_TYPE_RESPONSE, text + off, end - off);
		off = end;
	} while (off < len);
}

static void
srv_command(struct srv *s, int fd, int32_t id, const char *cmd)
{
	const char *arg;
	int64_t n;

	if ((arg = startswith(cmd, "echo ")))
		srv_respond(s, fd, id, arg, strlen(arg));
	else if (streq(cmd, "empty"))
		srv_respond(s, fd, id, "", 0);
	else if ((arg = startswith(cmd, "big ")) && parse_int64(arg, 0, 1 << 24, &n) == 0) {
		_cleanup_free_ char *t = pattern((size_t)n);

		srv_respond(s, fd, id, t, (size_t)n);
	} else if ((arg = startswith(cmd, "cjk ")) && parse_int64(arg, 0, 1 << 20, &n) == 0) {
		_cleanup_free_ char *t = malloc((size_t)n * 3 + 1);

		ck_assert_ptr_nonnull(t);
		for (int64_t i = 0; i < n; i++)
			memcpy(t + i * 3, "\xe4\xb8\xad", 3);	/* U+4E2D */
		srv_respond(s, fd, id, t, (size_t)n * 3);
	} else if (streq(cmd, "list"))
		srv_respond(s, fd, id, "There are 2 of a max of 20 players online: Alice, Bob",
		    strlen("There are 2 of a max of 20 players online: Alice, Bob"));
	else if (streq(cmd, "hang"))
		;	/* never answers */
	else if (streq(cmd, "close")) {
		_cleanup_free_ char *t = pattern(100);
		uint8_t buf[128];
		int l = rcon_packet_encode(id, 0, t, 100, 100, buf, sizeof(buf));

		srv_write(s, fd, buf, (size_t)l / 2);
		(void)shutdown(fd, SHUT_RDWR);
	} else if (streq(cmd, "wrongid"))
		srv_respond(s, fd, id + 100, "stale", 5);
	else if (streq(cmd, "wrongtype"))
		srv_send(s, fd, id, 5, "odd", 3);
	else if (streq(cmd, "badpkt"))
		srv_write(s, fd, (const uint8_t *)"\x05\0\0\0\0\0\0\0\0", 9);
	else if (streq(cmd, "twopieces-then-wrongid")) {
		_cleanup_free_ char *t = pattern(5000);

		srv_respond(s, fd, id, t, 5000);
		srv_respond(s, fd, id + 1000, "x", 1);
	} else {
		_cleanup_free_ char *msg = NULL;

		ck_assert_int_ge(asprintf(&msg, "Unknown or incomplete command: %s", cmd), 0);
		srv_respond(s, fd, id, msg, strlen(msg));
	}
}

static void
srv_serve(struct srv *s, int fd)
{
	uint8_t buf[1460];
	bool authed = false;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int32_t len, id, type;
		char payload[1460];

		if (n < 10)
			return;		/* EOF or error: vanilla also just returns */
		len = (int32_t)((uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
		    (uint32_t)buf[3] << 24);
		if (len != n - 4) {
			s->violations++;	/* vanilla drops the connection here */
			return;
		}
		id = (int32_t)((uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
		    (uint32_t)buf[7] << 24);
		type = (int32_t)buf[8];
		/* PktUtils.stringFromByteArray: up to the first NUL */
		(void)snprintf(payload, sizeof(payload), "%.*s", (int)(n - 12), (char *)buf + 12);

		if (s->mode == SRV_MUTE)
			continue;
		if (type == RCON_TYPE_AUTH) {
			authed = *payload && streq(payload, PASSWORD);
			if (s->mode == SRV_SOURCE)
				srv_send(s, fd, id, RCON_TYPE_RESPONSE, "", 0);
			if (s->mode == SRV_AUTH_WRONG_ID)
				srv_send(s, fd, id + 1, RCON_TYPE_AUTH_RESPONSE, "", 0);
			else
				srv_send(s, fd, authed ? id : -1, RCON_TYPE_AUTH_RESPONSE, "", 0);
		} else if (type == RCON_TYPE_EXEC) {
			if (authed)
				srv_command(s, fd, id, payload);
			else
				srv_send(s, fd, -1, RCON_TYPE_AUTH_RESPONSE, "", 0);
		} else if (s->mode == SRV_SOURCE && type == RCON_TYPE_RESPONSE) {
			srv_send(s, fd, id, RCON_TYPE_RESPONSE, "", 0);
		} else {
			char msg[64];

			(void)snprintf(msg, sizeof(msg), "Unknown request %x", (unsigned)type);
			s->markers++;
			srv_respond(s, fd, id, msg, strlen(msg));
		}
	}
}

static void *
srv_main(void *userdata)
{
	struct srv *s = userdata;
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	int fd;

	/* one connection per test; give up if the client never comes */
	if (poll(&pfd, 1, 10000) != 1)
		return NULL;
	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	srv_serve(s, fd);
	close(fd);
	return NULL;
}

static struct srv *
srv_start(enum srv_mode mode)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	ck_assert_ptr_nonnull(s);
	s->mode = mode;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, srv_main, s), 0);
	return s;
}

/* Waits for the server thread (it ends when the client closes), frees, returns the markers. */
static int
srv_stop(struct srv *s)
{
	int markers;

	ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
	close(s->lfd);
	ck_assert_int_eq(s->violations, 0);
	markers = s->markers;
	free(s);
	return markers;
}

static int64_t
deadline_in_ms(int ms)
{
	return now_monotonic_usec() + (int64_t)ms * 1000;
}

/* ---- client against the server ---------------------------------------------- */

START_TEST(test_client_auth_and_command)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "echo hello world", 5000,
	    &out, &len), 0);
	ck_assert_str_eq(out, "hello world");
	ck_assert_uint_eq(len, 11);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_localhost_and_empty_answer)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("localhost", s->port, PASSWORD, "empty", 5000, &out,
	    /* ret_len= */ NULL), 0);
	ck_assert_str_eq(out, "");
	srv_stop(s);
}
END_TEST

START_TEST(test_client_bad_password)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, "wrong", "echo x", 5000, &out, NULL),
	    -EACCES);
	ck_assert_ptr_null(out);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_exec_without_auth)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_(rcon_client_freep) struct rcon_client *c = NULL;
	_cleanup_free_ char *out = NULL;
	int64_t deadline = deadline_in_ms(5000);

	ck_assert_int_eq(rcon_client_connect("127.0.0.1", s->port, deadline, &c), 0);
	ck_assert_int_eq(rcon_client_exec(c, "echo x", deadline, &out, NULL), -EACCES);
	c = rcon_client_free(c);
	srv_stop(s);
}
END_TEST

/* 9000 bytes: vanilla sends 4096 + 4096 + 808 */
START_TEST(test_client_three_pieces)
{
	struct srv *s = srv_start(_i == 0 ? SRV_VANILLA : SRV_DRIBBLE);
	_cleanup_free_ char *out = NULL, *expect = pattern(9000);
	size_t len;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "big 9000", 5000, &out,
	    &len), 0);
	ck_assert_uint_eq(len, 9000);
	ck_assert_str_eq(out, expect);
	ck_assert_int_eq(srv_stop(s), 1);
}
END_TEST

/* Exactly one full piece: nothing tells the client there is no second one but the marker. */
START_TEST(test_client_piece_boundaries)
{
	static const int sizes[] = { 4095, 4096, 4097, 8192, 12288 };
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_(rcon_client_freep) struct rcon_client *c = NULL;
	int64_t deadline = deadline_in_ms(10000);

	ck_assert_int_eq(rcon_client_connect("127.0.0.1", s->port, deadline, &c), 0);
	ck_assert_int_eq(rcon_client_auth(c, PASSWORD, deadline), 0);
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		_cleanup_free_ char *out = NULL, *expect = pattern((size_t)sizes[i]);
		char cmd[32];
		size_t len;

		(void)snprintf(cmd, sizeof(cmd), "big %d", sizes[i]);
		ck_assert_int_eq(rcon_client_exec(c, cmd, deadline, &out, &len), 0);
		ck_assert_uint_eq(len, (size_t)sizes[i]);
		ck_assert_str_eq(out, expect);
	}
	/* and the connection is still in step afterwards */
	{
		_cleanup_free_ char *out = NULL;

		ck_assert_int_eq(rcon_client_exec(c, "echo after", deadline, &out, NULL), 0);
		ck_assert_str_eq(out, "after");
	}
	c = rcon_client_free(c);
	ck_assert_int_eq(srv_stop(s), (int)ELEMENTSOF(sizes) + 1);
}
END_TEST

/* 5000 CJK characters: pieces of 4096 characters are 12288 bytes on the wire. */
START_TEST(test_client_cjk_pieces)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;
	size_t len;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "cjk 5000", 5000, &out, &len),
	    0);
	ck_assert_uint_eq(len, 15000);
	for (size_t i = 0; i < len; i += 3)
		ck_assert_mem_eq(out + i, "\xe4\xb8\xad", 3);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_output_limit)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "big 1048577", 10000, &out,
	    NULL), -EMSGSIZE);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_source_style)
{
	struct srv *s = srv_start(SRV_SOURCE);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "list", 5000, &out, NULL), 0);
	ck_assert_str_eq(out, "There are 2 of a max of 20 players online: Alice, Bob");
	srv_stop(s);
}
END_TEST

START_TEST(test_client_timeout_mute)
{
	struct srv *s = srv_start(SRV_MUTE);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "echo x", 200, &out, NULL),
	    -ETIMEDOUT);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_timeout_command)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "hang", 200, &out, NULL),
	    -ETIMEDOUT);
	srv_stop(s);
}
END_TEST

static const struct {
	const char *command;
	enum srv_mode mode;
	int expect;
} failures[] = {
	{ "close", SRV_VANILLA, -ECONNRESET },		/* half a packet, then EOF */
	{ "wrongid", SRV_VANILLA, -EBADMSG },		/* first piece for another id */
	{ "twopieces-then-wrongid", SRV_VANILLA, -EBADMSG },	/* a stray id mid-answer */
	{ "wrongtype", SRV_VANILLA, -EBADMSG },
	{ "badpkt", SRV_VANILLA, -EBADMSG },		/* length field 5 */
	{ "echo x", SRV_AUTH_WRONG_ID, -EBADMSG },	/* auth answered for another id */
};

START_TEST(test_client_failures)
{
	struct srv *s = srv_start(failures[_i].mode);
	_cleanup_free_ char *out = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, failures[_i].command, 5000,
	    &out, NULL), failures[_i].expect);
	ck_assert_ptr_null(out);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_argument_errors)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_(rcon_client_freep) struct rcon_client *c = NULL;
	_cleanup_free_ char *out = NULL, *longcmd = pattern(RCON_REQUEST_PAYLOAD_MAX + 1);
	int64_t deadline = deadline_in_ms(5000);

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "", 5000, &out, NULL), -EINVAL);
	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "x", 0, &out, NULL), -EINVAL);
	ck_assert_int_eq(rcon_client_connect("mc.example.com", 25575, deadline, &c), -EINVAL);
	ck_assert_int_eq(rcon_client_connect("127.0.0.1", 0, deadline, &c), -EINVAL);
	ck_assert_int_eq(rcon_client_connect("127.0.0.1", s->port, deadline, &c), 0);
	ck_assert_int_eq(rcon_client_auth(c, PASSWORD, deadline), 0);
	ck_assert_int_eq(rcon_client_exec(c, "", deadline, &out, NULL), -EINVAL);
	ck_assert_int_eq(rcon_client_exec(c, longcmd, deadline, &out, NULL), -EMSGSIZE);
	/* the longest command vanilla can take still goes through in one read() */
	longcmd[RCON_REQUEST_PAYLOAD_MAX] = '\0';
	memcpy(longcmd, "echo ", 5);
	ck_assert_int_eq(rcon_client_exec(c, longcmd, deadline, &out, NULL), 0);
	ck_assert_uint_eq(strlen(out), RCON_REQUEST_PAYLOAD_MAX - 5);
	c = rcon_client_free(c);
	srv_stop(s);
}
END_TEST

START_TEST(test_client_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	_cleanup_free_ char *out = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* a port that was just free: bound, never listened on */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	ck_assert_int_eq(rcon_command("127.0.0.1", ntohs(sa.sin_port), PASSWORD, "echo x", 2000,
	    &out, NULL), -ECONNREFUSED);
	close(fd);
}
END_TEST

/* ---- text helpers ------------------------------------------------------------ */

static const struct {
	const char *in, *out;
} cleanups[] = {
	{ "", "" },
	{ "   \t\r\n", "" },
	{ "plain", "plain" },
	{ "\x1b[31mred\x1b[0m", "red" },			/* SGR */
	{ "  \x1b[1;32mok\x1b[m \n", "ok" },			/* trimmed after removal */
	{ "\x1b[38;2;255;0;0mX", "X" },				/* truecolour */
	{ "a\x1b[?25lb", "ab" },				/* '?' is a parameter byte */
	{ "a\x1b[1 !qb", "ab" },				/* intermediates */
	{ "a\x1b[~b", "ab" },					/* final byte '~' */
	{ "a\x1b[@b", "ab" },					/* final byte '@' */
	{ "\x1bMx", "x" },					/* Fe: '@'-'Z' */
	{ "\x1b@x\x1bZ", "x" },
	{ "\x1b\\x", "x" },					/* '\\' */
	{ "\x1b]x", "x" },					/* ']' (only ESC ] goes) */
	{ "\x1b^x\x1b_", "x" },					/* '^', '_' */
	{ "\x1b`x", "\x1b`x" },					/* '`' is not in the set */
	{ "\x1b" "ax", "\x1b" "ax" },				/* lower case is not either */
	{ "x\x1b", "x\x1b" },					/* lone ESC at the end */
	{ "x\x1b[", "x\x1b[" },					/* CSI without final byte */
	{ "x\x1b[12;", "x\x1b[12;" },
	{ "\x1b[1\x01m", "\x1b[1\x01m" },			/* a control byte breaks CSI */
	{ "\x1b[1 2m", "\x1b[1 2m" },				/* parameter after intermediate */
	{ "\x1b\x1b[0mX", "\x1bX" },				/* first ESC starts nothing */
	{ "\x1b[0m   \x1b[0m", "" },
	{ "\xc2\xa7" "aGreen\xc2\xa7r", "\xc2\xa7" "aGreen\xc2\xa7r" },	/* § codes are kept */
	{ "\x1c\x1d x \x1e\x1f\v\f", "x" },			/* Python's ASCII whitespace */
	{ "\xe3\x80\x80\xe4\xb8\xad\xe3\x80\x80", "\xe4\xb8\xad" },	/* U+3000 */
	{ "\xc2\xa0x\xc2\x85", "x" },				/* U+00A0, U+0085 */
	{ "\xe2\x80\x8ax\xe2\x80\xaf", "x" },			/* U+200A, U+202F */
	{ "\xc2\xa9x\xc3\xa9", "\xc2\xa9x\xc3\xa9" },		/* ©, é are not spaces */
	{ "a\n\nb", "a\n\nb" },					/* inner whitespace stays */
};

START_TEST(test_output_clean)
{
	_cleanup_free_ char *s = strdup(cleanups[_i].in);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(rcon_output_clean(s), strlen(cleanups[_i].out));
	ck_assert_msg(streq(s, cleanups[_i].out), "case %d", _i);
}
END_TEST

static const struct {
	const char *in;
	const char *names[4];	/* NULL-terminated */
} player_lists[] = {
	{ "There are 2 of a max of 20 players online: Alice, Bob", { "Alice", "Bob" } },
	{ "There are 1 of a max of 20 players online: Steve", { "Steve" } },
	{ "There are 0 of a max of 20 players online: ", { NULL } },
	{ "There are 0 of a max of 20 players online:", { NULL } },
	{ "no colon here", { NULL } },
	{ "", { NULL } },
	{ ":", { NULL } },
	{ "a:b:c", { "b" } },					/* up to the next ':' */
	{ "online: Alice, Bob: extra, Carol", { "Alice", "Bob" } },
	{ "x: ,, ,", { NULL } },				/* empties dropped */
	{ "\x1b[0mThere are 2/20 players online:\x1b[32mAlice\x1b[0m,  ,Bob ,\n",
	    { "Alice", "Bob" } },
	{ "There are 3 of a max of 20 players online: \xe5\xbc\xa0\xe4\xb8\x89, a_b,\tc-d\r\n",
	    { "\xe5\xbc\xa0\xe4\xb8\x89", "a_b", "c-d" } },
	{ "Players:Alice", { "Alice" } },
	{ "There are 1 of a max of 20 players online: \xc2\xa7" "6Admin\xc2\xa7r",
	    { "\xc2\xa7" "6Admin\xc2\xa7r" } },			/* § codes kept, as in the reference */
};

START_TEST(test_players_parse)
{
	_cleanup_(rcon_strv_freep) char **v = NULL;
	int n = rcon_players_parse(player_lists[_i].in, &v), expect = 0;

	while (player_lists[_i].names[expect])
		expect++;
	ck_assert_int_eq(n, expect);
	ck_assert_ptr_nonnull(v);
	for (int k = 0; k < n; k++)
		ck_assert_str_eq(v[k], player_lists[_i].names[k]);
	ck_assert_ptr_null(v[n]);
}
END_TEST

START_TEST(test_players_from_server)
{
	struct srv *s = srv_start(SRV_VANILLA);
	_cleanup_free_ char *out = NULL;
	_cleanup_(rcon_strv_freep) char **v = NULL;

	ck_assert_int_eq(rcon_command("127.0.0.1", s->port, PASSWORD, "list", 5000, &out, NULL), 0);
	ck_assert_int_eq(rcon_players_parse(out, &v), 2);
	ck_assert_str_eq(v[0], "Alice");
	ck_assert_str_eq(v[1], "Bob");
	srv_stop(s);
}
END_TEST

static Suite *
rcon_suite(void)
{
	Suite *s = suite_create("rcon");
	TCase *tc;

	tc = tcase_create("codec");
	tcase_add_loop_test(tc, test_codec_roundtrip, 0, (int)ELEMENTSOF(roundtrips));
	tcase_add_test(tc, test_codec_wire_format);
	tcase_add_test(tc, test_codec_encode_errors);
	tcase_add_loop_test(tc, test_codec_bad_length, 0, (int)ELEMENTSOF(bad_lengths));
	tcase_add_loop_test(tc, test_codec_bad_terminator, 0, (int)ELEMENTSOF(bad_terminators));
	tcase_add_test(tc, test_codec_back_to_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_client_auth_and_command);
	tcase_add_test(tc, test_client_localhost_and_empty_answer);
	tcase_add_test(tc, test_client_bad_password);
	tcase_add_test(tc, test_client_exec_without_auth);
	tcase_add_loop_test(tc, test_client_three_pieces, 0, 2);
	tcase_add_test(tc, test_client_piece_boundaries);
	tcase_add_test(tc, test_client_cjk_pieces);
	tcase_add_test(tc, test_client_output_limit);
	tcase_add_test(tc, test_client_source_style);
	tcase_add_test(tc, test_client_timeout_mute);
	tcase_add_test(tc, test_client_timeout_command);
	tcase_add_loop_test(tc, test_client_failures, 0, (int)ELEMENTSOF(failures));
	tcase_add_test(tc, test_client_argument_errors);
	tcase_add_test(tc, test_client_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_loop_test(tc, test_output_clean, 0, (int)ELEMENTSOF(cleanups));
	tcase_add_loop_test(tc, test_players_parse, 0, (int)ELEMENTSOF(player_lists));
	tcase_add_test(tc, test_players_from_server);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rcon_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
