/* SPDX-License-Identifier: MIT */
/*
 * WS /api/auth/code (API-core §7.3, §17.1): every socket holds one 8-digit
 * login code from the CSPRNG, rotated every 60 s; when the bot confirms the
 * code with POST /api/auth/verifyCode, the socket gets a fresh JWT.
 *
 * verifyCode is served by mc-admin-api, another process, so the code table
 * lives in SQLite (sql/002-login-codes.sql), the one source of truth: a row
 * per open socket, inserted here when it opens, updated at each rotation and
 * deleted the moment it closes. verifyCode marks the row with the user; a
 * timer here looks for marked rows every ws.login_poll_ms (200 ms by
 * default, only while a login socket is open; one indexed query), issues
 * the JWT (§7.1, same claims as a password login) and pushes it, then
 * rotates the code at once (DECISIONS). No token is ever written to the
 * database, and nothing else has to reach this process.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "ws/ws-internal.h"

#define CODE_TRIES 16		/* unique codes: a collision among 10^8 is rare */
#define VERIFIED_BATCH 32

struct login {
	struct wsd *d;
	struct conn *conn;
	WS_LIST_FIELDS(struct login, logins);
	int64_t row;
	sd_event_source *rotate;
};

static int
timer_rearm(sd_event_source *s, uint64_t usec)
{
	int r = sd_event_source_set_time_relative(s, usec);

	if (r >= 0)
		r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return r;
}

/* A new code in the row (insert when row is 0), and its message. */
static int
login_new_code(struct login *l)
{
	struct wsd *d = l->d;
	char code[LOGIN_CODE_DIGITS + 1];
	/* the row outlives a rotation by a second at most, even if we died */
	int64_t expires = now_realtime_usec() + (int64_t)d->lim.login_rotate_usec + 1000000;
	json_object *o;
	int r = -EEXIST;

	for (int i = 0; i < CODE_TRIES && r == -EEXIST; i++) {
		r = login_code_generate(code);
		if (r < 0)
			return r;
		if (l->row == 0)
			r = db_login_code_insert(d->db, code, expires, &l->row);
		else
			r = db_login_code_rotate(d->db, l->row, code, expires);
	}
	if (r < 0)
		return r;
	r = timer_rearm(l->rotate, d->lim.login_rotate_usec);
	if (r < 0)
		return r;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "type", json_object_new_string("code"));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "timeout",
	    json_object_new_int64((int64_t)((d->lim.login_rotate_usec + 999999) / 1000000)));
	explicit_bzero(code, sizeof(code));
	/* a failed send ends the connection, and closed() removes the row */
	(void)conn_send_json(l->conn, o);
	return 0;
}

static void
login_fail(struct login *l, int r, const char *what)
{
	log_error_errno(r, "login code socket from %s: cannot %s: %m", l->conn->peer, what);
	conn_close(l->conn, WS_CLOSE_INTERNAL_ERROR, "internal error");
}

static int
on_rotate(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct login *l = userdata;
	int r;

	(void)s;
	(void)usec;
	r = login_new_code(l);
	if (r < 0)
		login_fail(l, r, "rotate the code");
	return 0;
}

static struct login *
login_by_row(struct wsd *d, int64_t row)
{
	for (struct login *l = d->logins; l; l = l->logins.next)
		if (l->row == row)
			return l;
	return NULL;
}

/* Push the JWT of user_id to l (§7.2 side effect), then rotate (DECISIONS). */
static void
login_deliver(struct login *l, int64_t user_id)
{
	struct wsd *d = l->d;
	_cleanup_free_ char *token = NULL;
	struct db_user u = { 0 };
	json_object *o;
	char esc[128];
	int r;

	r = db_user_get_by_id(d->db, user_id, &u);
	if (r == -ENOENT) {
		log_notice("login code verified for user %lld, who no longer exists, ignoring",
		    (long long)user_id);
		return;
	}
	if (r < 0) {
		login_fail(l, r, "read the verified user");
		return;
	}
	r = auth_token_issue(d->auth, &u, now_realtime_usec(), &token);
	if (r < 0) {
		db_user_done(&u);
		login_fail(l, r, "issue a token");
		return;
	}
	log_info("login code verified: '%s' logged in from %s",
	    log_escape(esc, sizeof(esc), u.username), l->conn->peer);
	db_user_done(&u);
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "type", json_object_new_string("verified"));
		json_object_object_add(o, "access_token", json_object_new_string(token));
	}
	explicit_bzero(token, strlen(token));
	if (conn_send_json(l->conn, o) < 0)
		return;	/* gone: the row went with it */
	r = login_new_code(l);
	if (r < 0)
		login_fail(l, r, "rotate the code");
}

static int
on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct wsd *d = userdata;
	struct db_login_verified v[VERIFIED_BATCH];
	int n;

	(void)usec;
	n = db_login_code_verified(d->db, v, ELEMENTSOF(v));
	if (n < 0)
		log_warning_errno(n, "cannot look for verified login codes: %m, ignoring");
	for (int i = 0; i < n; i++) {
		struct login *l = login_by_row(d, v[i].id);
		int r;

		if (!l) {
			/* no socket of ours holds it (cannot happen: rows die with
			 * their sockets); do not look at it again */
			(void)db_login_code_delete(d->db, v[i].id);
			continue;
		}
		r = db_login_code_take(d->db, v[i].id, v[i].user_id);
		if (r < 0)
			log_warning_errno(r, "cannot take a verified login code: %m, ignoring");
		if (r == 1)
			login_deliver(l, v[i].user_id);
	}
	if (d->logins && timer_rearm(s, d->lim.login_poll_usec) < 0)
		log_error("cannot re-arm the login code poll");
	return 0;
}

static int
login_accept(struct conn *c, const struct ws_request *req)
{
	(void)c;
	(void)req;
	return 0;	/* public (§4.6) */
}

static void
login_opened(struct conn *c)
{
	struct wsd *d = c->d;
	struct login *l;
	int r;

	if (d->n_logins >= d->lim.max_login) {
		log_notice("too many login code sockets (%zu), refusing one from %s", d->n_logins,
		    c->peer);
		conn_close(c, WS_CLOSE_TRY_AGAIN_LATER, "too many login-code connections");
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
		return;
	}
	l->d = d;
	l->conn = c;
	c->session = l;
	WS_LIST_PREPEND(logins, d->logins, l);
	d->n_logins++;
	r = sd_event_add_time_relative(d->event, &l->rotate, CLOCK_MONOTONIC,
	    d->lim.login_rotate_usec, 10000, on_rotate, l);
	if (r >= 0 && !d->login_poll)
		r = sd_event_add_time_relative(d->event, &d->login_poll, CLOCK_MONOTONIC,
		    d->lim.login_poll_usec, 10000, on_poll, d);
	else if (r >= 0 && d->n_logins == 1)
		r = timer_rearm(d->login_poll, d->lim.login_poll_usec);
	if (r >= 0)
		r = login_new_code(l);
	if (r < 0)
		login_fail(l, r, "create a code");
}

static void
login_message(struct conn *c, enum ws_opcode op, const char *data, size_t len)
{
	/* "ping" → "pong" (plain text); anything else is ignored (§17.1) */
	if (op == WS_OP_TEXT && len == 4 && memcmp(data, "ping", 4) == 0) {
		struct wsframe *f = wsframe_new(WS_OP_TEXT, "pong", 4);

		(void)conn_send(c, f, false);
		wsframe_unref(f);
	}
}

static void
login_closed(struct conn *c)
{
	struct login *l = c->session;
	struct wsd *d = c->d;
	int r;

	if (!l)
		return;
	/* the code stops working the moment its socket closes */
	if (l->row > 0) {
		r = db_login_code_delete(d->db, l->row);
		if (r < 0 && r != -ENOENT)
			log_error_errno(r, "cannot delete login code row %lld: %m",
			    (long long)l->row);
	}
	sd_event_source_disable_unref(l->rotate);
	WS_LIST_REMOVE(logins, d->logins, l);
	d->n_logins--;
	if (!d->logins && d->login_poll)
		(void)sd_event_source_set_enabled(d->login_poll, SD_EVENT_OFF);
	free(l);
}

void
login_stop_all(struct wsd *d)
{
	d->login_poll = sd_event_source_disable_unref(d->login_poll);
}

const struct endpoint login_endpoint = {
	.name = "login code socket",
	.accept = login_accept,
	.opened = login_opened,
	.message = login_message,
	.closed = login_closed,
};
