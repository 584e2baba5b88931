/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/util.h"
#include "sysinfo/sysinfo.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static int
read_small(const char *proc_root, const char *name, char *buf, size_t n)
{
	char path[512];
	_cleanup_fclose_ FILE *f = NULL;
	size_t l;

	if (snprintf(path, sizeof(path), "%s/%s", proc_root, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	l = fread(buf, 1, n - 1, f);
	if (ferror(f))
		return -EIO;
	buf[l] = '\0';
	return 0;
}

static int
meminfo_value(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			unsigned long long v;

			if (sscanf(p + kl + 1, "%llu", &v) != 1)
				return -EBADMSG;
			*ret = (uint64_t)v * 1024;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	*ret = 0;
	return -ENOENT;
}

int
sysinfo_host(const char *proc_root, struct host_info *ret)
{
	char buf[8192];
	uint64_t total, free_, buffers, cached, sreclaimable;
	int64_t used;
	int r;

	r = read_small(proc_root, "loadavg", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (sscanf(buf, "%lf %lf %lf", &ret->load1, &ret->load5, &ret->load15) != 3)
		return -EBADMSG;

	r = read_small(proc_root, "meminfo", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (meminfo_value(buf, "MemTotal", &total) < 0 || meminfo_value(buf, "MemFree", &free_) < 0)
		return -EBADMSG;
	/* missing optional keys count as 0, like psutil */
	(void)meminfo_value(buf, "Buffers", &buffers);
	(void)meminfo_value(buf, "Cached", &cached);
	(void)meminfo_value(buf, "SReclaimable", &sreclaimable);
	used = (int64_t)total - (int64_t)free_ - (int64_t)buffers - (int64_t)(cached + sreclaimable);
	if (used < 0)
		used = (int64_t)total - (int64_t)free_;
	ret->ram_used_gb = (double)used / GIB;
	ret->ram_total_gb = (double)total / GIB;
	return 0;
}

int
sysinfo_disk(const char *path, struct disk_info *ret)
{
	struct statvfs st;
	double total, used;

	if (statvfs(path, &st) < 0)
		return -errno;
	total = (double)st.f_blocks * (double)st.f_frsize;
	used = (double)(st.f_blocks - st.f_bfree) * (double)st.f_frsize;
	ret->total_gb = total / GIB;
	ret->used_gb = used / GIB;
	ret->available_gb = (total - used) / GIB;	/* f_bfree, not f_bavail (§10.2) */
	return 0;
}

int
sysinfo_cpu_times(const char *proc_root, struct cpu_times *ret)
{
	char buf[4096];
	struct cpu_times t = { 0 };
	const char *p;
	int r;

	r = read_small(proc_root, "stat", buf, sizeof(buf));
	if (r < 0)
		return r;
	p = startswith(buf, "cpu ");
	if (!p)
		return -EBADMSG;
	for (size_t i = 0; i < ELEMENTSOF(t.fields); i++) {
		char *end;
		unsigned long long v;

		while (*p == ' ')
			p++;
		if (*p == '\n' || !*p)
			break;	/* older kernels have fewer fields */
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || end == p)
			return -EBADMSG;
		t.fields[i] = v;
		p = end;
	}
	*ret = t;
	return 0;
}

double
sysinfo_cpu_percent(const struct cpu_times *a, const struct cpu_times *b)
{
	uint64_t d[10], total = 0, busy;

	for (size_t i = 0; i < 10; i++) {
		d[i] = b->fields[i] > a->fields[i] ? b->fields[i] - a->fields[i] : 0;
		total += d[i];
	}
	/* guest time is already counted in user/nice */
	total -= d[8] + d[9];
	if (total == 0)
		return 0.0;
	busy = total - d[3] - d[4];
	return round((double)busy / (double)total * 100.0 * 10.0) / 10.0;
}

struct cpu_sampler {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *proc_root;
	bool stop;
	bool have;		/* a full window has been measured */
	int error;		/* last read error, 0 if none */
	double percent;
};

static void *
sampler_main(void *userdata)
{
	struct cpu_sampler *s = userdata;
	struct cpu_times prev;
	bool prev_ok;
	int r;

	r = sysinfo_cpu_times(s->proc_root, &prev);
	prev_ok = r >= 0;
	pthread_mutex_lock(&s->lock);
	s->error = r < 0 ? r : 0;
	for (;;) {
		struct timespec deadline;
		struct cpu_times cur;

		(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += 1;
		while (!s->stop &&
		    pthread_cond_timedwait(&s->cond, &s->lock, &deadline) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		r = sysinfo_cpu_times(s->proc_root, &cur);
		pthread_mutex_lock(&s->lock);
		if (r < 0) {
			s->error = r;
		} else if (!prev_ok) {
			prev = cur;
			prev_ok = true;
		} else {
			s->percent = sysinfo_cpu_percent(&prev, &cur);
			s->have = true;
			s->error = 0;
			prev = cur;
		}
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
cpu_sampler_start(const char *proc_root, struct cpu_sampler **ret)
{
	struct cpu_sampler *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int r;

	if (!s)
		return -ENOMEM;
	s->proc_root = strdup(proc_root);
	if (!s->proc_root) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&s->thread, NULL, sampler_main, s);
	if (r != 0) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s->proc_root);
		free(s);
		return -r;
	}
	*ret = s;
	return 0;
}

struct cpu_sampler *
cpu_sampler_stop(struct cpu_sampler *s)
{
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	(void)pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->proc_root);
	free(s);
	return NULL;
}

int
cpu_sampler_get(struct cpu_sampler *s, double *ret)
{
	int r;

	pthread_mutex_lock(&s->lock);
	/* only right after start: wait for the first window to close */
	while (!s->have && !s->error && !s->stop)
		pthread_cond_wait(&s->cond, &s->lock);
	r = s->have ? 0 : (s->error ? s->error : -ESHUTDOWN);
	if (r == 0)
		*ret = s->percent;
	pthread_mutex_unlock(&s->lock);
	return r;
}
