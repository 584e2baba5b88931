/* SPDX-License-Identifier: MIT */
/*
 * A few worker threads for the blocking calls of the consoles (a Docker
 * inspect, a compose exec), so the event loop never waits on them. Jobs go
 * in through a mutex-protected FIFO; finished jobs come back through a
 * second FIFO and an eventfd the loop watches, and their done() runs on the
 * loop thread. The pool is small and fixed: these calls are rare (one per
 * console connection or command), and a flood is bounded by the
 * connection and message-rate limits before it gets here.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "ws/ws-internal.h"

struct jobs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo, *todo_tail;	/* FIFO of queued jobs */
	struct job *done, *done_tail;	/* FIFO of finished jobs */
	bool stopping;
	int efd;
	sd_event_source *src;
	unsigned n;
	pthread_t *threads;
};

static void
fifo_push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct job *
fifo_pop(struct job **head, struct job **tail)
{
	struct job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *
worker(void *userdata)
{
	struct jobs *js = userdata;

	pthread_mutex_lock(&js->lock);
	for (;;) {
		struct job *j;
		uint64_t one = 1;

		while (!js->todo && !js->stopping)
			pthread_cond_wait(&js->cond, &js->lock);
		j = fifo_pop(&js->todo, &js->todo_tail);
		if (!j)
			break;		/* stopping and nothing left */
		pthread_mutex_unlock(&js->lock);
		j->run(j);
		pthread_mutex_lock(&js->lock);
		fifo_push(&js->done, &js->done_tail, j);
		/* the counter only wakes the loop: a full counter (EAGAIN) is as good */
		(void)!write(js->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&js->lock);
	return NULL;
}

/* On the loop thread: run done() of every finished job. */
static void
drain(struct jobs *js)
{
	struct job *list;

	pthread_mutex_lock(&js->lock);
	list = js->done;
	js->done = js->done_tail = NULL;
	pthread_mutex_unlock(&js->lock);
	while (list) {
		struct job *j = list;

		list = j->next;
		j->next = NULL;
		j->done(j);
	}
}

static int
on_event(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	uint64_t v;

	(void)s;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	drain(userdata);
	return 0;
}

int
jobs_new(sd_event *e, unsigned n, struct jobs **ret)
{
	struct jobs *js;
	int r;

	js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->efd = -1;
	pthread_mutex_init(&js->lock, NULL);
	pthread_cond_init(&js->cond, NULL);
	js->threads = calloc(n, sizeof(pthread_t));
	if (!js->threads) {
		r = -ENOMEM;
		goto fail;
	}
	js->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (js->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(e, &js->src, js->efd, EPOLLIN, on_event, js);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(js->src, "jobs");
	for (; js->n < n; js->n++) {
		r = -pthread_create(&js->threads[js->n], NULL, worker, js);
		if (r < 0)
			goto fail;
	}
	*ret = js;
	return 0;
fail:
	jobs_free(js);
	return r;
}

int
jobs_submit(struct jobs *js, struct job *j)
{
	pthread_mutex_lock(&js->lock);
	if (js->stopping) {
		pthread_mutex_unlock(&js->lock);
		return -ESHUTDOWN;
	}
	fifo_push(&js->todo, &js->todo_tail, j);
	pthread_cond_signal(&js->cond);
	pthread_mutex_unlock(&js->lock);
	return 0;
}

struct jobs *
jobs_free(struct jobs *js)
{
	if (!js)
		return NULL;
	pthread_mutex_lock(&js->lock);
	js->stopping = true;
	/* queued jobs are not started any more: straight to done() (unrun) */
	while (js->todo)
		fifo_push(&js->done, &js->done_tail, fifo_pop(&js->todo, &js->todo_tail));
	pthread_cond_broadcast(&js->cond);
	pthread_mutex_unlock(&js->lock);
	for (unsigned i = 0; i < js->n; i++)
		(void)pthread_join(js->threads[i], NULL);
	drain(js);
	sd_event_source_disable_unref(js->src);
	if (js->efd >= 0)
		(void)close(js->efd);
	pthread_cond_destroy(&js->cond);
	pthread_mutex_destroy(&js->lock);
	free(js->threads);
	free(js);
	return NULL;
}
