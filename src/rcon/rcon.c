/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "rcon/rcon.h"

/* ---- codec ------------------------------------------------------------- */

static void
put_le32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

static int32_t
get_le32(const uint8_t *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;

	return (int32_t)u;	/* two's complement: gcc defines the conversion */
}

int
rcon_packet_encode(int32_t id, int32_t type, const void *payload, size_t len,
    size_t max_payload, uint8_t *buf, size_t n)
{
	size_t total;

	/* the length field is an int32 and our decoder's bound applies too */
	if (len > max_payload || len > RCON_RESPONSE_PAYLOAD_MAX)
		return -EMSGSIZE;
	total = RCON_LENGTH_FIELD + RCON_OVERHEAD + len;
	if (total > n)
		return -EMSGSIZE;
	if (len && memchr(payload, '\0', len))
		return -EINVAL;
	put_le32(buf, (int32_t)(RCON_OVERHEAD + len));
	put_le32(buf + 4, id);
	put_le32(buf + 8, type);
	if (len)
		memcpy(buf + 12, payload, len);
	buf[12 + len] = '\0';
	buf[13 + len] = '\0';
	return (int)total;
}

int
rcon_packet_decode(const uint8_t *buf, size_t n, size_t max_payload,
    struct rcon_packet *ret)
{
	int32_t length;
	size_t total, plen;

	if (n < RCON_LENGTH_FIELD)
		return 0;
	length = get_le32(buf);
	/* checked as a signed value: a negative length is out of range, never huge */
	if (length < RCON_OVERHEAD || (size_t)length - RCON_OVERHEAD > max_payload ||
	    (size_t)length - RCON_OVERHEAD > RCON_RESPONSE_PAYLOAD_MAX)
		return -EBADMSG;
	total = RCON_LENGTH_FIELD + (size_t)length;
	if (n < total)
		return 0;
	plen = (size_t)length - RCON_OVERHEAD;
	if (buf[12 + plen] != '\0' || buf[13 + plen] != '\0')
		return -EBADMSG;
	*ret = (struct rcon_packet){
		.id = get_le32(buf + 4),
		.type = get_le32(buf + 8),
		.payload = (const char *)buf + 12,
		.len = plen,
	};
	return (int)total;
}

/* ---- blocking client ---------------------------------------------------- */

struct rcon_client {
	int fd;
	int32_t next_id;
	size_t in_len;		/* bytes buffered in in[] */
	size_t consumed;	/* size of the packet last handed out, dropped on the next read */
	uint8_t in[RCON_PACKET_MAX];
};

struct rcon_client *
rcon_client_free(struct rcon_client *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		(void)close(c->fd);
	free(c);
	return NULL;
}

/* Wait for events on fd until the deadline. 0 when ready, -ETIMEDOUT, -errno. */
static int
wait_fd(int fd, short events, int64_t deadline_usec)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline_usec - now_monotonic_usec();
		int timeout_ms, r;

		if (left <= 0)
			return -ETIMEDOUT;
		/* round up so that we never wake before the deadline and spin */
		timeout_ms = left / 1000 + 1 > INT_MAX ? INT_MAX : (int)(left / 1000 + 1);
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0) {
			if (pfd.revents & POLLNVAL)
				return -EBADF;
			/* POLLERR/POLLHUP: the following send()/recv() reports the cause */
			return 0;
		}
	}
}

static int32_t
client_next_id(struct rcon_client *c)
{
	int32_t id = c->next_id;

	/* ids stay positive: -1 is the server's "auth failed" */
	c->next_id = c->next_id == INT32_MAX ? 1 : c->next_id + 1;
	return id;
}

static int
send_all(struct rcon_client *c, const uint8_t *p, size_t n, int64_t deadline_usec)
{
	while (n > 0) {
		ssize_t l;
		int r;

		r = wait_fd(c->fd, POLLOUT, deadline_usec);
		if (r < 0)
			return r;
		/* MSG_NOSIGNAL: a closed peer is -EPIPE here, never SIGPIPE */
		l = send(c->fd, p, n, MSG_NOSIGNAL);
		if (l < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		p += l;
		n -= (size_t)l;
	}
	return 0;
}

static int
send_packet(struct rcon_client *c, int32_t id, int32_t type, const char *payload,
    int64_t deadline_usec)
{
	uint8_t buf[RCON_LENGTH_FIELD + RCON_OVERHEAD + RCON_REQUEST_PAYLOAD_MAX];
	int r;

	r = rcon_packet_encode(id, type, payload, strlen(payload), RCON_REQUEST_PAYLOAD_MAX,
	    buf, sizeof(buf));
	if (r < 0)
		return r;
	/* one write per packet: vanilla wants a packet per read() (see rcon.h) */
	return send_all(c, buf, (size_t)r, deadline_usec);
}

/*
 * Read the next packet. *ret points into c->in and stays valid until the
 * next call. 0, -EBADMSG, -ECONNRESET (EOF, also mid-packet), -ETIMEDOUT.
 */
static int
read_packet(struct rcon_client *c, int64_t deadline_usec, struct rcon_packet *ret)
{
	if (c->consumed) {
		memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
		c->in_len -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		ssize_t l;
		int r;

		r = rcon_packet_decode(c->in, c->in_len, RCON_RESPONSE_PAYLOAD_MAX, ret);
		if (r > 0) {
			c->consumed = (size_t)r;
			return 0;
		}
		if (r < 0)
			return r;
		/* the decoder refuses lengths above the maximum, so a pending
		 * packet always fits and there is room for more */
		if (c->in_len >= sizeof(c->in))
			return -EBADMSG;

		r = wait_fd(c->fd, POLLIN, deadline_usec);
		if (r < 0)
			return r;
		l = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (l < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return -errno;
		}
		if (l == 0)
			return -ECONNRESET;
		c->in_len += (size_t)l;
	}
}

static int
parse_address(const char *host, uint16_t port, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;

	memset(ret, 0, sizeof(*ret));
	if (streq(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*ret_len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*ret_len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

int
rcon_client_connect(const char *host, uint16_t port, int64_t deadline_usec,
    struct rcon_client **ret)
{
	_cleanup_(rcon_client_freep) struct rcon_client *c = NULL;
	struct sockaddr_storage sa;
	socklen_t salen, errlen;
	int r, err, one = 1;

	if (!host || port == 0)
		return -EINVAL;
	r = parse_address(host, port, &sa, &salen);
	if (r < 0)
		return r;

	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->next_id = 1;
	c->in_len = 0;
	c->consumed = 0;

	c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* request/answer of small packets: do not wait to coalesce them */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (connect(c->fd, (struct sockaddr *)&sa, salen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -errno;
		r = wait_fd(c->fd, POLLOUT, deadline_usec);
		if (r < 0)
			return r;
		errlen = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			return -errno;
		if (err != 0)
			return -err;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

int
rcon_client_auth(struct rcon_client *c, const char *password, int64_t deadline_usec)
{
	int32_t id = client_next_id(c);
	int r;

	r = send_packet(c, id, RCON_TYPE_AUTH, password, deadline_usec);
	if (r < 0)
		return r;
	for (;;) {
		struct rcon_packet p;

		r = read_packet(c, deadline_usec, &p);
		if (r < 0)
			return r;
		if (p.id == -1)
			return -EACCES;
		if (p.id != id)
			return log_debug_errno(-EBADMSG, "rcon: auth answer for id %d, expected %d",
			    (int)p.id, (int)id);
		if (p.type == RCON_TYPE_AUTH_RESPONSE)
			return 0;
		/* Source servers send an empty RESPONSE_VALUE before the auth answer */
		if (p.type == RCON_TYPE_RESPONSE && p.len == 0)
			continue;
		return log_debug_errno(-EBADMSG, "rcon: auth answer of type %d", (int)p.type);
	}
}

int
rcon_client_exec(struct rcon_client *c, const char *command, int64_t deadline_usec,
    char **ret_output, size_t *ret_len)
{
	_cleanup_(strbuf_free) struct strbuf out = STRBUF_INIT;
	struct rcon_packet p;
	int32_t cmd_id, marker_id;
	size_t len;
	char *s;
	int r;

	if (!command || !*command)
		return -EINVAL;
	if (strlen(command) > RCON_REQUEST_PAYLOAD_MAX)
		return -EMSGSIZE;
	strbuf_init(&out, RCON_OUTPUT_MAX);

	cmd_id = client_next_id(c);
	r = send_packet(c, cmd_id, RCON_TYPE_EXEC, command, deadline_usec);
	if (r < 0)
		return r;

	/*
	 * Only after the first piece has arrived is the server known to have
	 * read the command on its own; the marker sent now cannot share its
	 * read() and is answered after the last piece.
	 */
	r = read_packet(c, deadline_usec, &p);
	if (r < 0)
		return r;
	if (p.id == -1)
		return -EACCES;		/* not logged in */
	if (p.id != cmd_id || p.type != RCON_TYPE_RESPONSE)
		return log_debug_errno(-EBADMSG, "rcon: answer id %d type %d, expected id %d",
		    (int)p.id, (int)p.type, (int)cmd_id);
	r = strbuf_append(&out, p.payload, p.len);
	if (r < 0)
		return r;

	marker_id = client_next_id(c);
	r = send_packet(c, marker_id, RCON_TYPE_RESPONSE, "", deadline_usec);
	if (r < 0)
		return r;

	for (;;) {
		r = read_packet(c, deadline_usec, &p);
		if (r < 0)
			return r;
		if (p.id == marker_id)
			break;	/* vanilla: "Unknown request 0"; Source: an empty mirror */
		if (p.id == -1)
			return -EACCES;
		if (p.id != cmd_id || p.type != RCON_TYPE_RESPONSE)
			return log_debug_errno(-EBADMSG,
			    "rcon: answer id %d type %d, expected id %d or %d",
			    (int)p.id, (int)p.type, (int)cmd_id, (int)marker_id);
		r = strbuf_append(&out, p.payload, p.len);
		if (r < 0)
			return r;
	}

	len = out.len;
	s = strbuf_steal(&out);
	if (!s)
		return -ENOMEM;
	*ret_output = s;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int
rcon_command(const char *host, uint16_t port, const char *password, const char *command,
    unsigned timeout_ms, char **ret_output, size_t *ret_len)
{
	_cleanup_(rcon_client_freep) struct rcon_client *c = NULL;
	int64_t deadline;
	int r;

	if (timeout_ms == 0 || !command || !*command)
		return -EINVAL;
	deadline = now_monotonic_usec() + (int64_t)timeout_ms * 1000;

	r = rcon_client_connect(host, port, deadline, &c);
	if (r < 0)
		return r;
	r = rcon_client_auth(c, password, deadline);
	if (r < 0)
		return r;
	return rcon_client_exec(c, command, deadline, ret_output, ret_len);
}

/* ---- output text -------------------------------------------------------- */

/* Python's str.isspace() outside ASCII, UTF-8 encoded (table order irrelevant). */
static const char *const unicode_spaces[] = {
	"\xc2\x85",		/* U+0085 next line */
	"\xc2\xa0",		/* U+00A0 no-break space */
	"\xe1\x9a\x80",		/* U+1680 ogham space mark */
	"\xe2\x80\x80",		/* U+2000 en quad */
	"\xe2\x80\x81",		/* U+2001 em quad */
	"\xe2\x80\x82",		/* U+2002 en space */
	"\xe2\x80\x83",		/* U+2003 em space */
	"\xe2\x80\x84",		/* U+2004 three-per-em space */
	"\xe2\x80\x85",		/* U+2005 four-per-em space */
	"\xe2\x80\x86",		/* U+2006 six-per-em space */
	"\xe2\x80\x87",		/* U+2007 figure space */
	"\xe2\x80\x88",		/* U+2008 punctuation space */
	"\xe2\x80\x89",		/* U+2009 thin space */
	"\xe2\x80\x8a",		/* U+200A hair space */
	"\xe2\x80\xa8",		/* U+2028 line separator */
	"\xe2\x80\xa9",		/* U+2029 paragraph separator */
	"\xe2\x80\xaf",		/* U+202F narrow no-break space */
	"\xe2\x81\x9f",		/* U+205F medium mathematical space */
	"\xe3\x80\x80",		/* U+3000 ideographic space */
};

static bool
ascii_space(unsigned char c)
{
	/* \t \n \v \f \r, the separators \x1c-\x1f, and space */
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

/* Length of the whitespace character starting at s[0..n), or 0. */
static size_t
space_at(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (ascii_space((unsigned char)s[0]))
		return 1;
	for (size_t i = 0; i < ELEMENTSOF(unicode_spaces); i++) {
		size_t l = strlen(unicode_spaces[i]);

		if (l <= n && memcmp(s, unicode_spaces[i], l) == 0)
			return l;
	}
	return 0;
}

/* Length of the whitespace character ending at s[n-1], or 0. */
static size_t
space_before(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (ascii_space((unsigned char)s[n - 1]))
		return 1;
	/* each sequence starts with a lead byte, so a match is a whole character */
	for (size_t i = 0; i < ELEMENTSOF(unicode_spaces); i++) {
		size_t l = strlen(unicode_spaces[i]);

		if (l <= n && memcmp(s + n - l, unicode_spaces[i], l) == 0)
			return l;
	}
	return 0;
}

/* Trim s[0..n) in place (result moved to s[0]); returns the new length. */
static size_t
strip_inplace(char *s, size_t n)
{
	size_t start = 0, l;

	while ((l = space_at(s + start, n - start)) > 0)
		start += l;
	while (n > start && (l = space_before(s + start, n - start)) > 0)
		n -= l;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
	return n - start;
}

/* Length of the escape sequence at s (s[0] == ESC), or 0 when none is complete. */
static size_t
ansi_escape_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s + 1;

	if ((*p >= '@' && *p <= 'Z') || (*p >= '\\' && *p <= '_'))
		return 2;	/* Fe: one byte in @-Z, \, ]-_ */
	if (*p != '[')
		return 0;
	p++;
	while (*p >= '0' && *p <= '?')
		p++;		/* parameter bytes */
	while (*p >= ' ' && *p <= '/')
		p++;		/* intermediate bytes */
	if (*p >= '@' && *p <= '~')
		return (size_t)((const char *)p + 1 - s);
	return 0;
}

size_t
rcon_output_clean(char *s)
{
	size_t r = 0, w = 0;

	while (s[r]) {
		if (s[r] == '\x1b') {
			size_t l = ansi_escape_len(s + r);

			if (l > 0) {
				r += l;
				continue;
			}
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	return strip_inplace(s, w);
}

char **
rcon_strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
	return NULL;
}

int
rcon_players_parse(const char *output, char ***ret)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(rcon_strv_freep) char **v = NULL;
	size_t n = 0, cap = 1;
	char *p, *end;

	text = strdup(output);
	if (!text)
		return -ENOMEM;
	(void)rcon_output_clean(text);

	p = strchr(text, ':');
	if (p) {
		p++;
		end = strchr(p, ':');
		if (end)
			*end = '\0';
		/* worst case: every byte is a name separated by commas */
		cap = strlen(p) / 2 + 2;
	}
	v = calloc(cap, sizeof(char *));
	if (!v)
		return -ENOMEM;

	while (p) {
		char *comma = strchr(p, ',');
		size_t l;

		if (comma)
			*comma = '\0';
		l = strip_inplace(p, strlen(p));
		if (l > 0) {
			v[n] = strndup(p, l);
			if (!v[n])
				return -ENOMEM;
			n++;
		}
		p = comma ? comma + 1 : NULL;
	}
	*ret = TAKE_PTR(v);
	return (int)n;
}
