/* SPDX-License-Identifier: MIT */
/*
 * Encoded frames shared between connections, and the per-connection send
 * queue with its limits. Pure code: the connection layer does the writev().
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ws/ws-internal.h"

static struct wsframe *
frame_take(struct strbuf *sb)
{
	struct wsframe *f = malloc(sizeof(*f));

	if (!f) {
		strbuf_free(sb);
		errno = ENOMEM;
		return NULL;
	}
	f->refs = 1;
	f->len = sb->len;
	f->data = strbuf_steal(sb);
	if (!f->data) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

struct wsframe *
wsframe_new(enum ws_opcode op, const void *payload, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	r = strbuf_reserve(&sb, len + WS_HEADER_MAX);
	if (r >= 0)
		r = ws_encode_frame(&sb, op, true, payload, len);
	if (r < 0) {
		strbuf_free(&sb);
		errno = -r;
		return NULL;
	}
	return frame_take(&sb);
}

struct wsframe *
wsframe_json(json_object *obj)
{
	const char *s = json_compact(obj);

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	return wsframe_new(WS_OP_TEXT, s, strlen(s));
}

struct wsframe *
wsframe_close(int code, const char *reason)
{
	struct strbuf sb = STRBUF_INIT;
	int r = ws_encode_close(&sb, code, reason);

	if (r < 0) {
		strbuf_free(&sb);
		errno = -r;
		return NULL;
	}
	return frame_take(&sb);
}

struct wsframe *
wsframe_raw(const void *data, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_append(&sb, data, len);

	if (r < 0 || len == 0) {
		strbuf_free(&sb);
		errno = r < 0 ? -r : EINVAL;
		return NULL;
	}
	return frame_take(&sb);
}

struct wsframe *
wsframe_ref(struct wsframe *f)
{
	f->refs++;
	return f;
}

struct wsframe *
wsframe_unref(struct wsframe *f)
{
	if (f && --f->refs == 0) {
		free(f->data);
		free(f);
	}
	return NULL;
}

void
sendq_init(struct sendq *q, size_t max, size_t hard_max)
{
	*q = (struct sendq){ .max = max, .hard_max = hard_max < max ? max : hard_max };
}

static void
item_free(struct sendq_item *it)
{
	wsframe_unref(it->f);
	free(it);
}

void
sendq_done(struct sendq *q)
{
	while (q->head) {
		struct sendq_item *it = q->head;

		q->head = it->next;
		item_free(it);
	}
	*q = (struct sendq){ .max = q->max, .hard_max = q->hard_max };
}

bool
sendq_empty(const struct sendq *q)
{
	return !q->head;
}

bool
sendq_fits(const struct sendq *q, size_t len)
{
	return len <= q->max && q->bytes <= q->max - len;
}

size_t
sendq_drop_droppable(struct sendq *q)
{
	struct sendq_item **pp = &q->head, *last = NULL;
	size_t dropped = 0;

	while (*pp) {
		struct sendq_item *it = *pp;

		/* the head may be half written: its rest must still go out */
		if (it->droppable && !(it == q->head && q->off > 0)) {
			*pp = it->next;
			dropped += it->f->len;
			item_free(it);
			continue;
		}
		last = it;
		pp = &it->next;
	}
	q->tail = last;
	q->bytes -= dropped;
	return dropped;
}

int
sendq_append(struct sendq *q, struct wsframe *f, bool droppable)
{
	struct sendq_item *it;

	if (f->len > q->hard_max || q->bytes > q->hard_max - f->len)
		return -ENOBUFS;
	it = malloc(sizeof(*it));
	if (!it)
		return -ENOMEM;
	*it = (struct sendq_item){ .f = wsframe_ref(f), .droppable = droppable };
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += f->len;
	return 0;
}

int
sendq_iov(const struct sendq *q, struct iovec *iov, int n)
{
	int i = 0;

	for (const struct sendq_item *it = q->head; it && i < n; it = it->next, i++) {
		size_t off = it == q->head ? q->off : 0;

		iov[i].iov_base = it->f->data + off;
		iov[i].iov_len = it->f->len - off;
	}
	return i;
}

void
sendq_consume(struct sendq *q, size_t n)
{
	q->bytes -= n;
	while (n > 0 && q->head) {
		struct sendq_item *it = q->head;
		size_t left = it->f->len - q->off;

		if (n < left) {
			q->off += n;
			return;
		}
		n -= left;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		q->off = 0;
		item_free(it);
	}
}
