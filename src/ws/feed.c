/* SPDX-License-Identifier: MIT */
/*
 * Console output (API-core §17.2): one Docker Engine API log stream per
 * container, shared by every console session that watches it, so a
 * hundred consoles on one server cost one stream and every chunk is
 * encoded once (sendq.c shares the frame).
 *
 * Source. The reference tails the json-file under /var/lib/docker, which
 * needs root; GET /containers/{id}/logs?follow=1 gives the same bytes for
 * every log driver that can be read back, as the daemon's unprivileged
 * user. We read it with the event-loop interface of outbound/docker.h
 * (libcurl multi-socket, no thread), with timestamps=1: logmsg.c takes the
 * stream apart into messages, and a message's time is its identity.
 *
 * History. The stream starts with the last ws.history_lines lines
 * (tail=N), then follows: docker reads both from one file position, so
 * nothing is lost or repeated between them. What arrives is kept in a
 * history of at most ws.history_bytes; a session's snapshot (§17.2 step 5)
 * is taken from it, and afterwards the session gets exactly the chunks
 * appended after that point: every byte once. The backlog is over at the
 * first message stamped after the stream was opened, when the stream ends,
 * or after FEED_SETTLE_QUIET without data (FEED_SETTLE_EMPTY when nothing
 * came, at most FEED_SETTLE_MAX): a line later than that goes out as live
 * output instead of as part of the snapshot, never twice.
 *
 * Live output. Only whole lines are sent (the reference's partial-line
 * bug, §19 item 19); a partial line is held for FEED_HOLD at most (a
 * prompt without a newline still shows). The RCON filter is applied per
 * chunk, per session setting.
 *
 * Stops and restarts. A follow stream ends when the container stops. The
 * feed then asks again every second (every 5 s after half a minute of
 * silence) with since=<the newest message sent>, which returns whatever the
 * container wrote since (a restart's output included; the one repeated
 * message is dropped) and follows again once it runs. A 404 means the
 * container is gone (removed, or re-created under a new id): every session
 * gets "控制台日志未找到" and reconnects, which finds the new container
 * (§17.2 step 6).
 *
 * Rotation and truncation (docker 20.10, Debian 12's). Around a json-file
 * rotation the follow stream repeats lines, and under heavy output may skip
 * some; `docker logs -f` shows the same. Repeats are dropped by their
 * times (struct logmsg_seen), so no line is sent twice or out of order;
 * refresh_logs reads the log again (console.c) and shows what was skipped.
 * Truncation (copytruncate) is followed by docker itself (20.10.24 went on
 * after a truncate -s0 here), but follow streams have been reported to
 * stall after one (moby#45728): as a safety net, a stream silent for
 * FEED_RESYNC is replaced by a new one from the newest message sent.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "outbound/docker.h"
#include "ws/ws-internal.h"

#define USEC_PER_MSEC		1000ULL
#define FEED_SETTLE_QUIET	(100 * USEC_PER_MSEC)
#define FEED_SETTLE_EMPTY	(500 * USEC_PER_MSEC)
#define FEED_SETTLE_MAX		(2000 * USEC_PER_MSEC)
#define FEED_HOLD		(200 * USEC_PER_MSEC)
#define FEED_REOPEN		(1000 * USEC_PER_MSEC)
#define FEED_REOPEN_IDLE	(5000 * USEC_PER_MSEC)	/* stopped for a while */
#define FEED_REOPEN_FAST	30	/* this many quick tries after the last output */
#define FEED_RETRY_MAX		(10000 * USEC_PER_MSEC)
#define FEED_IO_MAX		4	/* curl uses one socket per transfer */
#define FEED_RESYNC		(60000 * USEC_PER_MSEC)	/* silence before a fresh stream */
#define FEED_SEEN		16384	/* message times remembered against repeats */

static const char no_logs[] = "暂无最近日志";

struct feed {
	struct wsd *d;
	WS_LIST_FIELDS(struct feed, feeds);
	char id[DOCKER_ID_LEN + 1];
	bool tty;
	struct feed_sub *subs;
	size_t n_subs;
	unsigned busy;			/* inside a loop over subs or a docker call */

	struct docker_logs *logs;
	struct {
		int fd;
		sd_event_source *src;
	} io[FEED_IO_MAX];
	sd_event_source *curl_timer;
	sd_event_source *settle;	/* the backlog is read */
	sd_event_source *hold;		/* a partial line waited long enough */
	sd_event_source *retry;		/* open the stream again */
	sd_event_source *resync;	/* a silent stream is replaced now and then */
	bool live;			/* snapshots can be served */
	bool got_data;			/* the current stream delivered bytes */
	uint64_t opened_at;		/* CLOCK_MONOTONIC, current stream */
	uint64_t last_data_at;		/* CLOCK_MONOTONIC */
	int64_t opened_realtime;	/* usec */
	int64_t since_usec;		/* realtime; 0: the first stream */
	struct logmsg_parser lp;	/* the stream's messages (timestamps=1) */
	struct logmsg_seen seen;	/* … and which were sent already */
	bool msg_drop;			/* the current message is a repeat */
	unsigned failures;
	unsigned idle_reopens;		/* streams in a row that brought nothing */
	struct strbuf hist;		/* sent (or backlog) output */
	struct strbuf batch;		/* received, not sent yet */
};

static void feed_open_stream(struct feed *f);

static uint64_t
now_mono(struct feed *f)
{
	uint64_t t = 0;

	(void)sd_event_now(f->d->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void
timer_at(struct feed *f, sd_event_source **s, uint64_t usec_from_now,
    sd_event_time_handler_t cb)
{
	int r;

	if (*s) {
		r = sd_event_source_set_time_relative(*s, usec_from_now);
		if (r >= 0)
			r = sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
	} else
		r = sd_event_add_time_relative(f->d->event, s, CLOCK_MONOTONIC, usec_from_now,
		    10 * USEC_PER_MSEC, cb, f);
	if (r < 0)
		log_warning_errno(r, "console feed %.12s: cannot arm a timer: %m, ignoring", f->id);
}

static void
timer_off(sd_event_source *s)
{
	if (s)
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

static void
feed_close_stream(struct feed *f)
{
	/* removes every watch through feed_watch() */
	f->logs = docker_logs_close(f->logs);
	timer_off(f->curl_timer);
}

static void
feed_free(struct feed *f)
{
	struct wsd *d = f->d;

	feed_close_stream(f);
	for (size_t i = 0; i < FEED_IO_MAX; i++)
		sd_event_source_disable_unref(f->io[i].src);
	sd_event_source_disable_unref(f->curl_timer);
	sd_event_source_disable_unref(f->settle);
	sd_event_source_disable_unref(f->hold);
	sd_event_source_disable_unref(f->retry);
	sd_event_source_disable_unref(f->resync);
	logmsg_seen_done(&f->seen);
	strbuf_free(&f->hist);
	strbuf_free(&f->batch);
	WS_LIST_REMOVE(feeds, d->feeds, f);
	log_debug("console feed %.12s stopped", f->id);
	free(f);
}

/* Free the feed when nobody watches it and nobody is looping over it. */
static bool
feed_maybe_free(struct feed *f)
{
	if (f->busy || f->n_subs > 0)
		return false;
	feed_free(f);
	return true;
}

static void
sub_remove(struct feed_sub *sub)
{
	struct feed *f = sub->feed;

	if (!f)
		return;
	WS_LIST_REMOVE(subs, f->subs, sub);
	f->n_subs--;
	sub->feed = NULL;
}

void
feed_unsubscribe(struct feed_sub *sub)
{
	struct feed *f = sub->feed;

	if (!f)
		return;
	sub_remove(sub);
	(void)feed_maybe_free(f);
}

/* ---- messages -------------------------------------------------------------- */

static struct wsframe *
content_frame(const char *type, const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	struct wsframe *fr = NULL;
	int r;

	r = strbuf_printf(&sb, "{\"type\":\"%s\",\"content\":", type);
	if (r >= 0)
		r = ws_json_append_string(&sb, s, n);
	if (r >= 0)
		r = strbuf_putc(&sb, '}');
	if (r >= 0)
		fr = wsframe_new(WS_OP_TEXT, sb.buf, sb.len);
	else
		errno = -r;
	strbuf_free(&sb);
	return fr;
}

struct wsframe *
feed_snapshot_frame(const char *hist, size_t n, bool filter_rcon, const char *type)
{
	struct strbuf filtered = STRBUF_INIT;
	struct wsframe *fr;
	const char *s = hist;
	size_t off;

	if (filter_rcon) {
		int r = ws_rcon_filter(hist, n, &filtered);

		if (r < 0) {
			strbuf_free(&filtered);
			errno = -r;
			return NULL;
		}
		s = strbuf_str(&filtered);
		n = filtered.len;
	}
	off = ws_lossy_tail(s, n, CONSOLE_SNAPSHOT_CHARS);
	if (ws_text_blank(s + off, n - off))
		fr = content_frame("info", no_logs, strlen(no_logs));
	else
		fr = content_frame(type, s + off, n - off);
	strbuf_free(&filtered);
	return fr;
}

struct wsframe *
feed_chunk_frame(const char *s, size_t n, bool filter_rcon)
{
	struct strbuf filtered = STRBUF_INIT;
	struct wsframe *fr = NULL;

	errno = 0;
	if (ws_text_blank(s, n))
		return NULL;
	if (filter_rcon) {
		int r = ws_rcon_filter(s, n, &filtered);

		if (r < 0) {
			strbuf_free(&filtered);
			errno = -r;
			return NULL;
		}
		s = strbuf_str(&filtered);
		n = filtered.len;
		if (ws_text_blank(s, n)) {
			strbuf_free(&filtered);
			return NULL;
		}
	}
	fr = content_frame("log", s, n);
	strbuf_free(&filtered);
	return fr;
}

/* ---- history and live output ----------------------------------------------- */

static int
hist_append(struct feed *f, const char *s, size_t n)
{
	return ws_history_append(&f->hist, s, n, f->d->lim.history_bytes);
}

static void
send_snapshots(struct feed *f, struct feed_sub *only)
{
	f->busy++;
	for (struct feed_sub *sub = only ? only : f->subs, *next; sub; sub = next) {
		next = only ? NULL : sub->subs.next;
		for (unsigned kind = FEED_SNAPSHOT_LOG; kind <= FEED_SNAPSHOT_REFRESH; kind <<= 1) {
			struct wsframe *fr;
			int r;

			if (!(sub->want & kind))
				continue;
			sub->want &= ~kind;
			fr = feed_snapshot_frame(f->hist.buf, f->hist.len, sub->filter_rcon,
			    kind == FEED_SNAPSHOT_LOG ? "log" : "logs_refreshed");
			r = conn_send(sub->conn, fr, false);
			wsframe_unref(fr);
			if (r < 0)
				break;	/* the session may be gone: sub is not touched again */
		}
	}
	f->busy--;
}

static void
broadcast(struct feed *f, const char *s, size_t n)
{
	struct wsframe *frame[2] = { NULL, NULL };
	bool built[2] = { false, false };

	f->busy++;
	for (struct feed_sub *sub = f->subs, *next; sub; sub = next) {
		int k = sub->filter_rcon ? 1 : 0;

		next = sub->subs.next;
		if (sub->want & FEED_SNAPSHOT_LOG)
			continue;	/* its snapshot, still to come, will hold this */
		if (!built[k]) {
			built[k] = true;
			frame[k] = feed_chunk_frame(s, n, sub->filter_rcon);
			if (!frame[k] && errno != 0)
				log_warning_errno(errno, "console feed %.12s: cannot encode "
				    "output: %m, ignoring", f->id);
		}
		if (frame[k])
			(void)conn_send(sub->conn, frame[k], true);
	}
	f->busy--;
	wsframe_unref(frame[0]);
	wsframe_unref(frame[1]);
}

/* Send the whole lines received (all of it when force), keep the rest. */
static void
feed_pump(struct feed *f, bool force)
{
	struct strbuf *b = &f->batch;
	const char *nl;
	size_t n;

	if (b->len == 0 || !f->live)
		return;
	nl = memrchr(b->buf, '\n', b->len);
	n = force ? b->len : nl ? (size_t)(nl + 1 - b->buf) : 0;
	if (n > 0) {
		broadcast(f, b->buf, n);
		if (hist_append(f, b->buf, n) < 0)
			log_warning("console feed %.12s: out of memory for the history, ignoring",
			    f->id);
		memmove(b->buf, b->buf + n, b->len - n);
		b->len -= n;
		b->buf[b->len] = '\0';
	}
	if (b->len > 0)
		timer_at(f, &f->hold, FEED_HOLD, NULL);
	else
		timer_off(f->hold);
}

static int
on_hold(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct feed *f = userdata;

	(void)s;
	(void)usec;
	feed_pump(f, true);
	(void)feed_maybe_free(f);
	return 0;
}

static void
feed_go_live(struct feed *f)
{
	if (f->live)
		return;
	f->live = true;
	timer_off(f->settle);
	send_snapshots(f, NULL);
	feed_pump(f, false);
}

static int
on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct feed *f = userdata;

	(void)s;
	(void)usec;
	feed_go_live(f);
	(void)feed_maybe_free(f);
	return 0;
}

/* Payload of one message (logmsg_fn): history before the stream is live,
 * the batch to send after. */
static int
on_msg(int64_t ts, bool start, const char *data, size_t len, void *userdata)
{
	struct feed *f = userdata;
	int r;

	if (start) {
		/* sent before: docker repeats lines around a json-file rotation,
		 * and since= includes the last message of the previous stream */
		f->msg_drop = ts >= 0 && logmsg_seen_check(&f->seen, ts);
		/* written after the stream was opened: the backlog is over */
		if (!f->msg_drop && !f->live && ts >= f->opened_realtime * 1000)
			feed_go_live(f);
	}
	if (f->msg_drop)
		return 0;
	f->got_data = true;
	f->last_data_at = now_mono(f);
	if (f->live)
		r = strbuf_append(&f->batch, data, len);
	else {
		uint64_t now = f->last_data_at, at = now + FEED_SETTLE_QUIET;

		r = hist_append(f, data, len);
		if (at > f->opened_at + FEED_SETTLE_MAX)
			at = f->opened_at + FEED_SETTLE_MAX;
		timer_at(f, &f->settle, at > now ? at - now : 0, on_settle);
	}
	if (r < 0)
		log_warning("console feed %.12s: out of memory, %zu bytes of output lost", f->id,
		    len);
	return 0;
}

/* docker_log_fn: the stream's bytes as they come (stdout and stderr alike) */
static int
on_data(enum docker_stream stream, const char *data, size_t len, void *userdata)
{
	struct feed *f = userdata;

	(void)stream;
	return logmsg_parser_feed(&f->lp, data, len, on_msg, f);
}

/* The feed can serve nobody any more (container gone, or no first snapshot). */
static void
feed_lost(struct feed *f, int error, const char *message)
{
	f->busy++;
	for (struct feed_sub *sub = f->subs, *next; sub; sub = next) {
		next = sub->subs.next;
		sub_remove(sub);
		sub->lost(sub, error, message);
	}
	f->busy--;
}

static void
feed_stream_ended(struct feed *f, int result)
{
	const struct docker_error *de = f->logs ? docker_logs_error(f->logs) : NULL;
	char message[300];
	uint64_t delay;

	(void)snprintf(message, sizeof(message), "%s",
	    de && de->message[0] ? de->message : strerror(result < 0 ? -result : EIO));
	/* bytes held back as a possible timestamp were output after all */
	(void)logmsg_parser_flush(&f->lp, on_msg, f);
	feed_close_stream(f);
	/* the next stream starts at the newest message sent (which it repeats,
	 * and the repeat is dropped); before any, at the first stream's start */
	if (f->seen.last >= 0)
		f->since_usec = f->seen.last / 1000;
	else if (f->since_usec == 0)
		f->since_usec = f->opened_realtime;
	if (result == -ENOENT) {
		log_info("console feed %.12s: the container is gone", f->id);
		feed_lost(f, -ENOENT, NULL);
		return;
	}
	if (result == 0) {
		/* the container stopped: all it wrote has arrived */
		if (f->got_data)
			f->idle_reopens = 0;
		f->failures = 0;
		feed_go_live(f);
		feed_pump(f, true);
		/* a restart shows within a second; a server that stays stopped is
		 * asked less often (each time docker reads the tail of its log) */
		delay = f->idle_reopens++ < FEED_REOPEN_FAST ? FEED_REOPEN : FEED_REOPEN_IDLE;
	} else {
		if (!f->live) {
			log_warning_errno(result, "console feed %.12s: cannot read the output: %s",
			    f->id, message);
			feed_lost(f, result, message);
			return;
		}
		if (f->failures++ == 0)
			log_warning_errno(result, "console feed %.12s: output stream failed (%s), "
			    "retrying", f->id, message);
		delay = FEED_REOPEN << (f->failures < 4 ? f->failures : 4);
		if (delay > FEED_RETRY_MAX)
			delay = FEED_RETRY_MAX;
		feed_pump(f, true);
	}
	timer_at(f, &f->retry, delay, NULL);
}

/* After every call into the docker_logs object. */
static void
feed_after(struct feed *f, int r)
{
	f->busy--;
	feed_pump(f, false);
	if (r != 0)
		feed_stream_ended(f, r == 1 ? docker_logs_result(f->logs) : r);
}

static int
on_curl_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct feed *f = userdata;
	unsigned ev = 0;
	int r;

	(void)s;
	if (!f->logs)
		return 0;
	if (revents & (EPOLLIN | EPOLLHUP))
		ev |= DOCKER_IO_IN;
	if (revents & EPOLLOUT)
		ev |= DOCKER_IO_OUT;
	if (revents & EPOLLERR)
		ev |= DOCKER_IO_ERR;
	f->busy++;
	r = docker_logs_on_io(f->logs, fd, ev);
	feed_after(f, r);
	(void)feed_maybe_free(f);
	return 0;
}

static int
on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct feed *f = userdata;
	int r;

	(void)s;
	(void)usec;
	if (!f->logs)
		return 0;
	f->busy++;
	r = docker_logs_on_timer(f->logs);
	feed_after(f, r);
	(void)feed_maybe_free(f);
	return 0;
}

/* struct docker_logs_loop: curl's sockets and timer on our loop */
static int
feed_watch(int fd, unsigned events, void *loop_data)
{
	struct feed *f = loop_data;
	uint32_t ev = ((events & DOCKER_IO_IN) ? EPOLLIN : 0) |
	    ((events & DOCKER_IO_OUT) ? EPOLLOUT : 0);
	size_t i, free_slot = FEED_IO_MAX;

	for (i = 0; i < FEED_IO_MAX; i++) {
		if (f->io[i].src && f->io[i].fd == fd)
			break;
		if (!f->io[i].src && free_slot == FEED_IO_MAX)
			free_slot = i;
	}
	if (events == 0) {
		if (i < FEED_IO_MAX)
			f->io[i].src = sd_event_source_disable_unref(f->io[i].src);
		return 0;
	}
	if (i < FEED_IO_MAX)
		return sd_event_source_set_io_events(f->io[i].src, ev);
	if (free_slot == FEED_IO_MAX)
		return -ENOSPC;
	f->io[free_slot].fd = fd;
	return sd_event_add_io(f->d->event, &f->io[free_slot].src, fd, ev, on_curl_io, f);
}

static int
feed_timer(int64_t timeout_ms, void *loop_data)
{
	struct feed *f = loop_data;

	if (timeout_ms < 0) {
		timer_off(f->curl_timer);
		return 0;
	}
	timer_at(f, &f->curl_timer, (uint64_t)timeout_ms * USEC_PER_MSEC, on_curl_timer);
	return 0;
}

/*
 * The safety net for a follow stream that stalled (after a truncated
 * json-file, moby#45728): one silent for a minute is replaced by a fresh
 * one from the newest message sent; repeats are dropped by their times. A
 * quiet server costs one short request a minute.
 */
static int
on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct feed *f = userdata;
	uint64_t quiet = now_mono(f) - f->last_data_at;

	(void)usec;
	if (f->logs && f->live && quiet >= FEED_RESYNC) {
		(void)logmsg_parser_flush(&f->lp, on_msg, f);
		feed_pump(f, true);
		feed_close_stream(f);
		if (f->seen.last >= 0)
			f->since_usec = f->seen.last / 1000;
		feed_open_stream(f);
		quiet = 0;
	}
	if (sd_event_source_set_time_relative(s, FEED_RESYNC - (quiet < FEED_RESYNC ? quiet : 0)) <
	    0 || sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
		log_warning("console feed %.12s: cannot re-arm the resync timer", f->id);
	(void)feed_maybe_free(f);
	return 0;
}

static int
on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct feed *f = userdata;

	(void)s;
	(void)usec;
	feed_open_stream(f);
	(void)feed_maybe_free(f);
	return 0;
}

static void
feed_open_stream(struct feed *f)
{
	struct wsd *d = f->d;
	struct docker_logs_options o = {
		.follow = true,
		.timestamps = true,	/* message identity: see logmsg.c */
		.tail = d->lim.history_lines,
		.since_usec = f->since_usec,
		/* the bytes as they come: logmsg.c reads the framing itself, where
		 * the message boundaries are */
		.tty = true,
	};
	struct docker_logs_loop loop = { feed_watch, feed_timer, f };
	int r;

	f->got_data = false;
	f->opened_at = f->last_data_at = now_mono(f);
	f->opened_realtime = now_realtime_usec();
	logmsg_parser_init(&f->lp, f->tty);
	f->busy++;
	r = docker_logs_open(d->docker, f->id, &o, on_data, f, &loop, &f->logs);
	f->busy--;
	if (r < 0) {
		f->logs = NULL;
		feed_stream_ended(f, r);
		return;
	}
	if (!f->live)
		timer_at(f, &f->settle, FEED_SETTLE_EMPTY, on_settle);
}

static struct feed *
feed_new(struct wsd *d, const char *id, bool tty)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->d = d;
	(void)snprintf(f->id, sizeof(f->id), "%s", id);
	f->tty = tty;
	strbuf_init(&f->hist, 0);
	strbuf_init(&f->batch, 0);
	WS_LIST_PREPEND(feeds, d->feeds, f);
	if (logmsg_seen_init(&f->seen, FEED_SEEN) < 0) {
		feed_free(f);
		return NULL;
	}
	/* timers are created on first use; the handlers are fixed here */
	if (sd_event_add_time_relative(d->event, &f->hold, CLOCK_MONOTONIC, FEED_HOLD,
	    10 * USEC_PER_MSEC, on_hold, f) < 0 ||
	    sd_event_add_time_relative(d->event, &f->retry, CLOCK_MONOTONIC, FEED_REOPEN,
	    10 * USEC_PER_MSEC, on_retry, f) < 0 ||
	    sd_event_add_time_relative(d->event, &f->resync, CLOCK_MONOTONIC, FEED_RESYNC,
	    USEC_PER_MSEC * 1000, on_resync, f) < 0) {
		feed_free(f);
		return NULL;
	}
	timer_off(f->hold);
	timer_off(f->retry);
	log_debug("console feed %.12s started", f->id);
	return f;
}

int
feed_subscribe(struct wsd *d, struct feed_sub *sub, const char *container_id, bool tty)
{
	struct feed *f;
	bool created = false;

	if (!d->docker)
		return -EHOSTDOWN;
	if (docker_name_check(container_id) < 0)
		return -EINVAL;
	for (f = d->feeds; f; f = f->feeds.next)
		if (streq(f->id, container_id) && f->tty == tty)
			break;
	if (!f) {
		f = feed_new(d, container_id, tty);
		if (!f)
			return -ENOMEM;
		created = true;
	}
	sub->feed = f;
	WS_LIST_PREPEND(subs, f->subs, sub);
	f->n_subs++;
	sub->want |= FEED_SNAPSHOT_LOG;
	/* either may end in sub->lost() at once, which may end the session */
	f->busy++;
	if (created)
		feed_open_stream(f);
	else if (f->live)
		send_snapshots(f, sub);
	f->busy--;
	(void)feed_maybe_free(f);
	return 0;
}

void
feed_snapshot(struct feed_sub *sub, enum feed_snapshot kind)
{
	struct feed *f = sub->feed;

	if (!f)
		return;
	sub->want |= kind;
	if (f->live)
		send_snapshots(f, sub);
}

void
feed_free_all(struct wsd *d)
{
	while (d->feeds) {
		struct feed *f = d->feeds;

		while (f->subs)
			sub_remove(f->subs);
		feed_free(f);
	}
}
