/* SPDX-License-Identifier: MIT */
/*
 * Per-client failed-login limiter: a fixed-size table of fixed windows,
 * shared by the worker threads of one process. A full table evicts the
 * entry whose window started first, so memory stays bounded whatever the
 * number of clients.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/util.h"

#define LIMITER_SLOTS 1024
#define CLIENT_MAX 64		/* an IPv6 address with zone fits */

struct slot {
	char client[CLIENT_MAX];
	int64_t window_start;	/* usec; 0 = free */
	unsigned failures;
};

struct login_limiter {
	pthread_mutex_t lock;
	unsigned attempts;
	int64_t window_usec;
	struct slot slots[LIMITER_SLOTS];
};

int
login_limiter_new(unsigned attempts, unsigned window_seconds, struct login_limiter **ret)
{
	struct login_limiter *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->attempts = attempts;
	l->window_usec = (int64_t)window_seconds * 1000000;
	*ret = l;
	return 0;
}

struct login_limiter *
login_limiter_free(struct login_limiter *l)
{
	if (l) {
		pthread_mutex_destroy(&l->lock);
		free(l);
	}
	return NULL;
}

static struct slot *
find(struct login_limiter *l, const char *client, int64_t now, bool create)
{
	struct slot *oldest = NULL;

	for (size_t i = 0; i < LIMITER_SLOTS; i++) {
		struct slot *s = &l->slots[i];

		if (s->window_start && now - s->window_start >= l->window_usec)
			s->window_start = 0;	/* expired: free it */
		if (s->window_start && strncmp(s->client, client, CLIENT_MAX) == 0)
			return s;
		if (!oldest || s->window_start < oldest->window_start)
			oldest = s;
	}
	if (!create || !oldest)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	(void)snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	oldest->window_start = now;
	return oldest;
}

unsigned
login_limiter_check(struct login_limiter *l, const char *client, int64_t now_usec)
{
	unsigned wait = 0;
	struct slot *s;

	if (!l || l->attempts == 0)
		return 0;
	pthread_mutex_lock(&l->lock);
	s = find(l, client ? client : "", now_usec, false);
	if (s && s->failures >= l->attempts) {
		int64_t left = s->window_start + l->window_usec - now_usec;

		wait = (unsigned)((left + 999999) / 1000000);
		if (wait == 0)
			wait = 1;
	}
	pthread_mutex_unlock(&l->lock);
	return wait;
}

void
login_limiter_fail(struct login_limiter *l, const char *client, int64_t now_usec)
{
	struct slot *s;

	if (!l || l->attempts == 0)
		return;
	pthread_mutex_lock(&l->lock);
	s = find(l, client ? client : "", now_usec, true);
	if (s && s->failures < UINT32_MAX)
		s->failures++;
	pthread_mutex_unlock(&l->lock);
}

void
login_limiter_success(struct login_limiter *l, const char *client)
{
	if (!l || l->attempts == 0)
		return;
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < LIMITER_SLOTS; i++)
		if (l->slots[i].window_start &&
		    strncmp(l->slots[i].client, client ? client : "", CLIENT_MAX) == 0)
			l->slots[i].window_start = 0;
	pthread_mutex_unlock(&l->lock);
}
