/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "monitor/monitor-internal.h"
#include "monitor/monitor.h"

/* Kernel pseudo-files are small; anything bigger is not what we expect. */
#define MONITOR_FILE_MAX (256 * 1024)

/* ---- small helpers ---------------------------------------------------------- */

/*
 * Read a whole file into a NUL-terminated malloc'd string. The path is built
 * from the configured roots, a PID and a kernel-provided cgroup path that
 * monitor_cgroup_detect() has validated; no request data reaches it.
 */
static int
read_text(const char *path, char **ret)
{
	_cleanup_(strbuf_free) struct strbuf sb = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	char buf[4096];
	char *s;

	strbuf_init(&sb, MONITOR_FILE_MAX);
	fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t l = read(fd, buf, sizeof(buf));
		int r;

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (l == 0)
			break;
		r = strbuf_append(&sb, buf, (size_t)l);
		if (r < 0)
			return r == -EMSGSIZE ? -EFBIG : r;
	}
	s = strbuf_steal(&sb);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int
join_path(char *buf, size_t n, const char *a, const char *b)
{
	int l = snprintf(buf, n, "%s/%s", a, b);

	if (l < 0 || (size_t)l >= n)
		return -ENAMETOOLONG;
	return 0;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next line of text: *p advances past it. false at the end. */
static bool
next_line(const char **p, const char **ret_line, size_t *ret_len)
{
	const char *nl;

	if (!**p)
		return false;
	nl = strchr(*p, '\n');
	*ret_line = *p;
	*ret_len = nl ? (size_t)(nl - *p) : strlen(*p);
	*p = nl ? nl + 1 : *p + *ret_len;
	return true;
}

/* Next blank-separated token in [*p, end). false when none is left. */
static bool
next_token(const char **p, const char *end, const char **ret_tok, size_t *ret_len)
{
	const char *s = *p, *t;

	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return false;
	t = s;
	while (t < end && !is_blank(*t))
		t++;
	*ret_tok = s;
	*ret_len = (size_t)(t - s);
	*p = t;
	return true;
}

static bool
token_eq(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* Decimal digits only (no sign, no blanks), at most UINT64_MAX. */
static int
parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int
add_u64(uint64_t *acc, uint64_t v)
{
	if (__builtin_add_overflow(*acc, v, acc))
		return -EOVERFLOW;
	return 0;
}

/* "MAJ:MIN" */
static bool
is_device(const char *tok, size_t len)
{
	const char *colon = memchr(tok, ':', len);
	uint64_t v;

	return colon && parse_u64(tok, (size_t)(colon - tok), &v) == 0 &&
	    parse_u64(colon + 1, len - (size_t)(colon + 1 - tok), &v) == 0;
}

/*
 * Look keys up in "key value" lines. found[i] tells whether keys[i] was
 * there. A wanted key with anything but one integer after it is -EBADMSG;
 * other lines are not looked at.
 */
static int
kv_lookup(const char *text, const char *const *keys, size_t n, uint64_t *vals, bool *found)
{
	const char *p = text, *line;
	size_t len;

	for (size_t i = 0; i < n; i++) {
		vals[i] = 0;
		found[i] = false;
	}
	while (next_line(&p, &line, &len)) {
		const char *q = line, *end = line + len, *key, *val, *extra;
		size_t klen, vlen, elen;

		if (!next_token(&q, end, &key, &klen))
			continue;
		for (size_t i = 0; i < n; i++) {
			if (found[i] || !token_eq(key, klen, keys[i]))
				continue;
			if (!next_token(&q, end, &val, &vlen) || next_token(&q, end, &extra, &elen) ||
			    parse_u64(val, vlen, &vals[i]) < 0)
				return log_debug_errno(-EBADMSG, "monitor: bad value for '%s'", keys[i]);
			found[i] = true;
		}
	}
	return 0;
}

/* ---- parsers ------------------------------------------------------------------ */

int
monitor_memory_stat_parse(const char *text, int version, uint64_t *ret_bytes)
{
	/* v2 first pair; v1 hierarchical pair, then the local pair */
	static const char *const keys[] = { "anon", "file", "total_rss", "total_cache", "rss",
		"cache" };
	uint64_t vals[ELEMENTSOF(keys)], sum;
	bool found[ELEMENTSOF(keys)];
	size_t first;
	int r;

	r = kv_lookup(text, keys, ELEMENTSOF(keys), vals, found);
	if (r < 0)
		return r;
	if (version == 2)
		first = 0;
	else
		first = found[2] || found[3] ? 2 : 4;
	sum = vals[first];
	r = add_u64(&sum, vals[first + 1]);
	if (r < 0)
		return r;
	*ret_bytes = sum;
	return 0;
}

int
monitor_io_stat_parse(const char *text, struct monitor_io *ret)
{
	struct monitor_io io = { 0 };
	const char *p = text, *line;
	size_t len;
	int r;

	while (next_line(&p, &line, &len)) {
		const char *q = line, *end = line + len, *tok;
		size_t tlen;

		if (!next_token(&q, end, &tok, &tlen) || !is_device(tok, tlen))
			continue;
		while (next_token(&q, end, &tok, &tlen)) {
			const char *eq = memchr(tok, '=', tlen);
			uint64_t *acc, v;
			size_t klen;

			if (!eq)
				continue;
			klen = (size_t)(eq - tok);
			if (token_eq(tok, klen, "rbytes"))
				acc = &io.read_bytes;
			else if (token_eq(tok, klen, "wbytes"))
				acc = &io.write_bytes;
			else
				continue;
			if (parse_u64(eq + 1, tlen - klen - 1, &v) < 0)
				return log_debug_errno(-EBADMSG, "monitor: bad io.stat value");
			r = add_u64(acc, v);
			if (r < 0)
				return r;
		}
	}
	*ret = io;
	return 0;
}

int
monitor_blkio_parse(const char *text, struct monitor_io *ret)
{
	struct monitor_io io = { 0 };
	const char *p = text, *line;
	size_t len;
	int r;

	while (next_line(&p, &line, &len)) {
		const char *q = line, *end = line + len, *dev, *op, *val;
		size_t dlen, olen, vlen;
		uint64_t *acc, v;

		/* "Total N" (no device) and blank lines */
		if (!next_token(&q, end, &dev, &dlen) || !is_device(dev, dlen))
			continue;
		if (!next_token(&q, end, &op, &olen))
			continue;
		if (token_eq(op, olen, "Read"))
			acc = &io.read_bytes;
		else if (token_eq(op, olen, "Write"))
			acc = &io.write_bytes;
		else
			continue;	/* Sync, Async, Discard, Total */
		if (!next_token(&q, end, &val, &vlen) || parse_u64(val, vlen, &v) < 0)
			return log_debug_errno(-EBADMSG, "monitor: bad blkio value");
		r = add_u64(acc, v);
		if (r < 0)
			return r;
	}
	*ret = io;
	return 0;
}

int
monitor_cpu_usage_parse(const char *text, int version, uint64_t *ret_nsec)
{
	uint64_t v;
	int r;

	if (version == 2) {
		static const char *const keys[] = { "usage_usec" };
		bool found;

		r = kv_lookup(text, keys, 1, &v, &found);
		if (r < 0)
			return r;
		if (!found)
			return log_debug_errno(-EBADMSG, "monitor: no usage_usec in cpu.stat");
		if (__builtin_mul_overflow(v, 1000, &v))
			return -EOVERFLOW;
	} else {
		size_t n = strlen(text);

		while (n > 0 && (text[n - 1] == '\n' || is_blank(text[n - 1])))
			n--;
		if (parse_u64(text, n, &v) < 0)
			return log_debug_errno(-EBADMSG, "monitor: bad cpuacct.usage");
	}
	*ret_nsec = v;
	return 0;
}

int
monitor_net_dev_parse(const char *text, struct monitor_net *ret)
{
	struct monitor_net net = { 0 };
	const char *p = text, *line;
	size_t len;
	int r;

	/* two header lines */
	for (int i = 0; i < 2; i++)
		if (!next_line(&p, &line, &len))
			break;
	while (next_line(&p, &line, &len)) {
		const char *colon = memchr(line, ':', len), *q, *end = line + len, *tok;
		uint64_t f[16];
		size_t tlen, n = 0;
		bool ok = true;

		if (!colon)
			continue;
		q = colon + 1;
		while (next_token(&q, end, &tok, &tlen)) {
			uint64_t v;

			if (parse_u64(tok, tlen, &v) < 0) {
				ok = false;
				break;
			}
			if (n < ELEMENTSOF(f))
				f[n] = v;
			n++;
		}
		if (!ok || n < ELEMENTSOF(f))
			continue;	/* malformed lines are skipped (§11.6) */
		r = add_u64(&net.rx_bytes, f[0]);
		if (r < 0)
			return r;
		r = add_u64(&net.tx_bytes, f[8]);
		if (r < 0)
			return r;
	}
	*ret = net;
	return 0;
}

/* ---- cgroup detection --------------------------------------------------------- */

static const struct {
	const char *v1_name;	/* controller in /proc/<pid>/cgroup */
} ctl_table[MONITOR_CTL_MAX] = {
	[MONITOR_CTL_MEMORY] = { "memory" },	/* memory.stat */
	[MONITOR_CTL_IO] = { "blkio" },		/* blkio.throttle.io_service_bytes* */
	[MONITOR_CTL_CPU] = { "cpuacct" },	/* cpuacct.usage (the "cpu" controller has no usage) */
};

struct monitor_cgroup *
monitor_cgroup_free(struct monitor_cgroup *cg)
{
	if (!cg)
		return NULL;
	for (size_t i = 0; i < MONITOR_CTL_MAX; i++)
		free(cg->ctl[i].dir);
	free(cg);
	return NULL;
}

/* Absolute, no "." or ".." component: it is joined below a root. */
static bool
cgroup_path_ok(const char *path, size_t len)
{
	size_t i = 0;

	if (len == 0 || path[0] != '/' || memchr(path, '\0', len))
		return false;
	while (i < len) {
		size_t start, l;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		l = i - start;
		if ((l == 1 && path[start] == '.') ||
		    (l == 2 && path[start] == '.' && path[start + 1] == '.'))
			return false;
	}
	return true;
}

/* "<base><path>" where path is absolute ("/" adds nothing). */
static int
dir_join(const char *base, const char *path, size_t len, char **ret)
{
	char *s;

	while (len > 0 && path[len - 1] == '/')
		len--;
	if (len > PATH_MAX || asprintf(&s, "%s%.*s", base, (int)len, path) < 0)
		return len > PATH_MAX ? -ENAMETOOLONG : -ENOMEM;
	*ret = s;
	return 0;
}

/* Does the comma-separated list [l, l+n) name controller c? */
static bool
list_has(const char *l, size_t n, const char *c)
{
	const char *end = l + n;

	while (l < end) {
		const char *comma = memchr(l, ',', (size_t)(end - l));
		size_t k = comma ? (size_t)(comma - l) : (size_t)(end - l);

		if (token_eq(l, k, c))
			return true;
		l += k + 1;
	}
	return false;
}

/*
 * The directory where the v1 hierarchy with controller list [l, l+n) is
 * mounted: the list as written, the wanted controller alone, any other
 * co-mounted controller alone, or a two-item list reversed.
 */
static int
v1_mount_dir(const char *cgroup_root, const char *l, size_t n, const char *want, char **ret)
{
	char path[PATH_MAX];
	const char *p = l, *end = l + n, *comma = memchr(l, ',', n);
	int r;

	if (snprintf(path, sizeof(path), "%s/%.*s", cgroup_root, (int)n, l) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (is_dir(path))
		goto found;
	r = join_path(path, sizeof(path), cgroup_root, want);
	if (r < 0)
		return r;
	if (is_dir(path))
		goto found;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t k = c ? (size_t)(c - p) : (size_t)(end - p);

		if (snprintf(path, sizeof(path), "%s/%.*s", cgroup_root, (int)k, p) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		if (k > 0 && is_dir(path))
			goto found;
		p += k + 1;
	}
	if (comma && !memchr(comma + 1, ',', (size_t)(end - comma - 1))) {
		if (snprintf(path, sizeof(path), "%s/%.*s,%.*s", cgroup_root,
		    (int)(end - comma - 1), comma + 1, (int)(comma - l), l) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (is_dir(path))
			goto found;
	}
	return -ENOENT;
found:
	*ret = strdup(path);
	return *ret ? 0 : -ENOMEM;
}

static int
v2_base(const char *cgroup_root, char **ret)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	r = join_path(path, sizeof(path), cgroup_root, "cgroup.controllers");
	if (r < 0)
		return r;
	if (stat(path, &st) == 0) {
		*ret = strdup(cgroup_root);
	} else {
		r = join_path(path, sizeof(path), cgroup_root, "unified");
		if (r < 0)
			return r;
		*ret = strdup(is_dir(path) ? path : cgroup_root);
	}
	return *ret ? 0 : -ENOMEM;
}

int
monitor_cgroup_detect(const char *proc_root, const char *cgroup_root, pid_t pid,
    struct monitor_cgroup **ret)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	_cleanup_free_ char *text = NULL;
	const char *p, *line, *v2_path = NULL;
	size_t len, v2_len = 0;
	char path[PATH_MAX];
	bool any = false;
	int r;

	if (pid <= 0)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_text(path, &text);
	if (r < 0)
		return r;
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return -ENOMEM;

	p = text;
	while (next_line(&p, &line, &len)) {
		const char *c1, *c2, *ctrls, *cpath;
		size_t clen, plen;

		if (len == 0)
			continue;
		/* hierarchy-ID:controller-list:cgroup-path (the path may hold ':') */
		c1 = memchr(line, ':', len);
		c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
		if (!c2)
			return log_debug_errno(-EBADMSG, "monitor: malformed cgroup line");
		ctrls = c1 + 1;
		clen = (size_t)(c2 - ctrls);
		cpath = c2 + 1;
		plen = len - (size_t)(cpath - line);
		if (!cgroup_path_ok(cpath, plen))
			return log_debug_errno(-EBADMSG, "monitor: unexpected cgroup path");

		if (clen == 0 && c1 - line == 1 && line[0] == '0') {
			v2_path = cpath;
			v2_len = plen;
			continue;
		}
		for (size_t i = 0; i < MONITOR_CTL_MAX; i++) {
			_cleanup_free_ char *mount = NULL;

			if (cg->ctl[i].dir || !list_has(ctrls, clen, ctl_table[i].v1_name))
				continue;
			r = v1_mount_dir(cgroup_root, ctrls, clen, ctl_table[i].v1_name, &mount);
			if (r == -ENOENT)
				continue;	/* not mounted here: maybe in v2 */
			if (r < 0)
				return r;
			r = dir_join(mount, cpath, plen, &cg->ctl[i].dir);
			if (r < 0)
				return r;
			cg->ctl[i].version = 1;
			any = true;
		}
	}

	if (v2_path) {
		_cleanup_free_ char *base = NULL;

		r = v2_base(cgroup_root, &base);
		if (r < 0)
			return r;
		for (size_t i = 0; i < MONITOR_CTL_MAX; i++) {
			if (cg->ctl[i].dir)
				continue;
			r = dir_join(base, v2_path, v2_len, &cg->ctl[i].dir);
			if (r < 0)
				return r;
			cg->ctl[i].version = 2;
			any = true;
		}
	}
	if (!any)
		return -ENOENT;
	*ret = TAKE_PTR(cg);
	return 0;
}

/* ---- readings ------------------------------------------------------------------- */

static int
read_ctl_file(const struct monitor_cgroup *cg, enum monitor_ctl ctl, const char *name, char **ret)
{
	char path[PATH_MAX];
	int r;

	if (!cg->ctl[ctl].dir)
		return -ENOENT;
	r = join_path(path, sizeof(path), cg->ctl[ctl].dir, name);
	if (r < 0)
		return r;
	return read_text(path, ret);
}

int
monitor_memory_read(const struct monitor_cgroup *cg, uint64_t *ret_bytes)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_ctl_file(cg, MONITOR_CTL_MEMORY, "memory.stat", &text);
	if (r < 0)
		return r;
	return monitor_memory_stat_parse(text, cg->ctl[MONITOR_CTL_MEMORY].version, ret_bytes);
}

int
monitor_io_read(const struct monitor_cgroup *cg, struct monitor_io *ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (cg->ctl[MONITOR_CTL_IO].version == 2) {
		r = read_ctl_file(cg, MONITOR_CTL_IO, "io.stat", &text);
		if (r < 0)
			return r;
		return monitor_io_stat_parse(text, ret);
	}
	r = read_ctl_file(cg, MONITOR_CTL_IO, "blkio.throttle.io_service_bytes_recursive", &text);
	if (r == -ENOENT)
		r = read_ctl_file(cg, MONITOR_CTL_IO, "blkio.throttle.io_service_bytes", &text);
	if (r < 0)
		return r;
	return monitor_blkio_parse(text, ret);
}

int
monitor_cpu_read(const struct monitor_cgroup *cg, uint64_t *ret_nsec)
{
	_cleanup_free_ char *text = NULL;
	int version = cg->ctl[MONITOR_CTL_CPU].version;
	int r;

	r = read_ctl_file(cg, MONITOR_CTL_CPU, version == 2 ? "cpu.stat" : "cpuacct.usage", &text);
	if (r < 0)
		return r;
	return monitor_cpu_usage_parse(text, version, ret_nsec);
}

double
monitor_cpu_percent(const struct monitor_cpu_sample *a, const struct monitor_cpu_sample *b)
{
	double pct;

	if (b->mono_usec <= a->mono_usec || b->usage_nsec < a->usage_nsec)
		return 0.0;
	pct = (double)(b->usage_nsec - a->usage_nsec) /
	    ((double)(b->mono_usec - a->mono_usec) * 1000.0) * 100.0;
	return round(pct * 10.0) / 10.0;
}

int
monitor_net_read(const char *proc_root, pid_t pid, struct monitor_net *ret)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	int r;

	if (pid <= 0)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%d/net/dev", proc_root, (int)pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_text(path, &text);
	if (r < 0)
		return r;
	return monitor_net_dev_parse(text, ret);
}

/* ---- du ------------------------------------------------------------------------- */

/* (dev, ino) of multiply-linked files already counted: open addressing. */
struct inode_set {
	struct inode_key {
		dev_t dev;
		ino_t ino;
		bool used;
	} *v;
	size_t n, cap;	/* cap: 0 or a power of two */
};

static size_t
inode_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;

	return (size_t)(h ^ (h >> 29));
}

/* 1 when added, 0 when it was there, -ENOMEM. */
static int
inode_set_add(struct inode_set *set, dev_t dev, ino_t ino)
{
	size_t i;

	if (set->n + 1 > set->cap / 2) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct inode_key *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t k = 0; k < set->cap; k++) {
			if (!set->v[k].used)
				continue;
			i = inode_hash(set->v[k].dev, set->v[k].ino) & (cap - 1);
			while (v[i].used)
				i = (i + 1) & (cap - 1);
			v[i] = set->v[k];
		}
		free(set->v);
		set->v = v;
		set->cap = cap;
	}
	i = inode_hash(dev, ino) & (set->cap - 1);
	while (set->v[i].used) {
		if (set->v[i].dev == dev && set->v[i].ino == ino)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->v[i] = (struct inode_key){ .dev = dev, .ino = ino, .used = true };
	set->n++;
	return 1;
}

struct du_state {
	struct inode_set seen;
	uint64_t total;
};

static int
du_count(struct du_state *st, const struct stat *sb)
{
	if (!S_ISDIR(sb->st_mode) && sb->st_nlink > 1) {
		int r = inode_set_add(&st->seen, sb->st_dev, sb->st_ino);

		if (r <= 0)
			return r;	/* counted already, or -ENOMEM */
	}
	if (sb->st_size < 0)
		return -EBADMSG;
	return add_u64(&st->total, (uint64_t)sb->st_size);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* Walk the directory open at fd (taken over), depth levels below the top. */
static int
du_walk(int fd, struct du_state *st, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = NULL;

	if (depth > MONITOR_DU_DEPTH_MAX) {
		(void)close(fd);
		return -ELOOP;
	}
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	for (;;) {
		struct dirent *de;
		struct stat sb, sb2;
		int cfd, r;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				return -errno;
			return 0;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;	/* removed since readdir() */
			return -errno;
		}
		r = du_count(st, &sb);
		if (r < 0)
			return r;
		if (!S_ISDIR(sb.st_mode))
			continue;
		/* O_NOFOLLOW + the inode check: a directory swapped for a symlink
		 * (or anything else) after fstatat() is not entered */
		cfd = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (cfd < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			return -errno;
		}
		if (fstat(cfd, &sb2) < 0 || sb2.st_dev != sb.st_dev || sb2.st_ino != sb.st_ino) {
			(void)close(cfd);
			continue;
		}
		r = du_walk(cfd, st, depth + 1);
		if (r < 0)
			return r;
	}
}

int
monitor_du(int dirfd, uint64_t *ret_bytes)
{
	struct du_state st = { 0 };
	struct stat sb;
	int fd, r;

	if (fstat(dirfd, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	r = du_count(&st, &sb);
	if (r < 0)
		return r;
	/* a fresh open file description: readdir() must not move the caller's offset */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = du_walk(fd, &st, 0);
	free(st.seen.v);
	if (r < 0)
		return r;
	*ret_bytes = st.total;
	return 0;
}

int
monitor_disk_usage(int dirfd, struct monitor_disk *ret)
{
	struct monitor_disk d;
	struct statvfs vfs;
	int r;

	r = monitor_du(dirfd, &d.used_bytes);
	if (r < 0)
		return r;
	if (fstatvfs(dirfd, &vfs) < 0)
		return -errno;
	if (__builtin_mul_overflow((uint64_t)vfs.f_blocks, (uint64_t)vfs.f_frsize,
	    &d.total_bytes) ||
	    __builtin_mul_overflow((uint64_t)vfs.f_bavail, (uint64_t)vfs.f_frsize,
	    &d.available_bytes))
		return -EOVERFLOW;
	*ret = d;
	return 0;
}

/* ---- the CPU sampler -------------------------------------------------------------- */

#define SAMPLER_KEY_MAX 128

struct sampler_entry {
	struct sampler_entry *next;		/* in monitor_sampler.entries */
	struct sampler_entry *batch_next;	/* the thread's current batch */
	char *key;
	pid_t pid;
	struct monitor_cgroup *cg;		/* immutable: read without the lock */
	unsigned refs;				/* waiters + the thread while reading */
	bool dead;				/* unlinked; freed when refs drops to 0 */
	bool have_prev, have;
	int error;				/* of the last reading, 0 if it worked */
	double percent;				/* last full window, valid if have */
	struct monitor_cpu_sample prev;
	int64_t due_usec;			/* next reading */
	int64_t last_used_usec;			/* last monitor_sampler_get() */
	/* written by the thread without the lock while the entry is pinned */
	int pending_r;
	struct monitor_cpu_sample pending;
};

struct monitor_sampler {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the thread: a new entry, or stop */
	pthread_cond_t done;		/* waiters: readings were taken */
	char *proc_root, *cgroup_root;
	int64_t period_usec, idle_usec;
	size_t max_entries, n_entries;
	struct sampler_entry *entries;
	bool stop;
};

static struct sampler_entry *
entry_free(struct sampler_entry *e)
{
	if (!e)
		return NULL;
	free(e->key);
	monitor_cgroup_free(e->cg);
	free(e);
	return NULL;
}

/* Unlink e (lock held); it is freed now or by whoever drops the last reference. */
static void
entry_unlink(struct monitor_sampler *s, struct sampler_entry *e)
{
	for (struct sampler_entry **pp = &s->entries; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			s->n_entries--;
			break;
		}
	}
	e->dead = true;
	if (e->refs == 0)
		entry_free(e);
	else
		pthread_cond_broadcast(&s->done);	/* its waiters answer -ESRCH */
}

static void
entry_unref(struct sampler_entry *e)
{
	e->refs--;
	if (e->dead && e->refs == 0)
		entry_free(e);
}

static struct timespec
mono_timespec(int64_t usec)
{
	return (struct timespec){ .tv_sec = usec / 1000000, .tv_nsec = (long)(usec % 1000000) * 1000 };
}

/* Fold the pinned entry's new reading in (lock held). */
static void
entry_apply(struct monitor_sampler *s, struct sampler_entry *e)
{
	if (e->pending_r < 0) {
		e->error = e->pending_r;
		e->have_prev = false;	/* start a new window once it works again */
		e->due_usec = e->pending.mono_usec + s->period_usec;
		return;
	}
	if (e->have_prev && e->pending.usage_nsec >= e->prev.usage_nsec) {
		e->percent = monitor_cpu_percent(&e->prev, &e->pending);
		e->have = true;
	}
	/* else: the first reading, or the counter went back (cgroup recreated) */
	e->error = 0;
	e->prev = e->pending;
	e->have_prev = true;
	e->due_usec = e->pending.mono_usec + s->period_usec;
}

static void *
sampler_main(void *userdata)
{
	struct monitor_sampler *s = userdata;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct sampler_entry *batch = NULL, **pp = &s->entries;
		int64_t now = now_monotonic_usec(), next = now + s->period_usec;
		struct timespec ts;

		while (*pp) {
			struct sampler_entry *e = *pp;

			if (e->refs == 0 && now - e->last_used_usec > s->idle_usec) {
				*pp = e->next;	/* nobody asked for a while */
				s->n_entries--;
				entry_free(e);
				continue;
			}
			if (e->due_usec <= now) {
				e->refs++;
				e->batch_next = batch;
				batch = e;
			} else if (e->due_usec < next) {
				next = e->due_usec;
			}
			pp = &e->next;
		}

		if (batch) {
			/* file reads without the lock; the entries are pinned and
			 * their cgroup paths never change */
			pthread_mutex_unlock(&s->lock);
			for (struct sampler_entry *e = batch; e; e = e->batch_next) {
				e->pending_r = monitor_cpu_read(e->cg, &e->pending.usage_nsec);
				e->pending.mono_usec = now_monotonic_usec();
			}
			pthread_mutex_lock(&s->lock);
			while (batch) {
				struct sampler_entry *e = batch;

				batch = e->batch_next;
				entry_apply(s, e);
				entry_unref(e);
			}
			pthread_cond_broadcast(&s->done);
			continue;	/* due times changed: look again */
		}

		ts = mono_timespec(next);
		(void)pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int
mono_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	int r;

	r = pthread_condattr_init(&ca);
	if (r != 0)
		return -r;
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(c, &ca);
	(void)pthread_condattr_destroy(&ca);
	return -r;
}

int
monitor_sampler_start(const struct monitor_sampler_config *cfg, struct monitor_sampler **ret)
{
	struct monitor_sampler *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->proc_root = strdup(cfg->proc_root);
	s->cgroup_root = strdup(cfg->cgroup_root);
	s->period_usec = cfg->period_usec > 0 ? cfg->period_usec : 1000000;
	s->idle_usec = cfg->idle_usec > 0 ? cfg->idle_usec : 60 * 1000000LL;
	s->max_entries = cfg->max_entries > 0 ? cfg->max_entries : 256;
	if (!s->proc_root || !s->cgroup_root) {
		r = -ENOMEM;
		goto fail_strings;
	}
	r = -pthread_mutex_init(&s->lock, NULL);
	if (r < 0)
		goto fail_strings;
	r = mono_cond_init(&s->wake);
	if (r < 0)
		goto fail_mutex;
	r = mono_cond_init(&s->done);
	if (r < 0)
		goto fail_wake;
	r = -pthread_create(&s->thread, NULL, sampler_main, s);
	if (r < 0)
		goto fail_done;
	*ret = s;
	return 0;

fail_done:
	pthread_cond_destroy(&s->done);
fail_wake:
	pthread_cond_destroy(&s->wake);
fail_mutex:
	pthread_mutex_destroy(&s->lock);
fail_strings:
	free(s->proc_root);
	free(s->cgroup_root);
	free(s);
	return r;
}

struct monitor_sampler *
monitor_sampler_stop(struct monitor_sampler *s)
{
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	(void)pthread_join(s->thread, NULL);
	while (s->entries) {
		struct sampler_entry *e = s->entries;

		s->entries = e->next;
		entry_free(e);
	}
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->proc_root);
	free(s->cgroup_root);
	free(s);
	return NULL;
}

static struct sampler_entry *
sampler_find(struct monitor_sampler *s, const char *key)
{
	for (struct sampler_entry *e = s->entries; e; e = e->next)
		if (streq(e->key, key))
			return e;
	return NULL;
}

/* A new entry for key/pid owning cg (lock held). */
static int
sampler_insert(struct monitor_sampler *s, const char *key, pid_t pid,
    struct monitor_cgroup **cg, struct sampler_entry **ret)
{
	struct sampler_entry *e;

	if (s->n_entries >= s->max_entries)
		return -EBUSY;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = strdup(key);
	if (!e->key) {
		free(e);
		return -ENOMEM;
	}
	e->pid = pid;
	e->cg = TAKE_PTR(*cg);
	e->due_usec = 0;	/* the thread takes the first reading at once */
	e->next = s->entries;
	s->entries = e;
	s->n_entries++;
	pthread_cond_signal(&s->wake);
	*ret = e;
	return 0;
}

int
monitor_sampler_get(struct monitor_sampler *s, const char *key, pid_t pid,
    double *ret_percent)
{
	struct sampler_entry *e;
	struct timespec ts;
	int64_t deadline;
	int r;

	if (!key || !*key || strlen(key) > SAMPLER_KEY_MAX || pid <= 0)
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	e = sampler_find(s, key);
	if (!e || e->pid != pid) {
		_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;

		/* detection reads files: not under the lock */
		pthread_mutex_unlock(&s->lock);
		r = monitor_cgroup_detect(s->proc_root, s->cgroup_root, pid, &cg);
		if (r >= 0 && !cg->ctl[MONITOR_CTL_CPU].dir)
			r = -ENOENT;
		if (r < 0)
			return r;
		pthread_mutex_lock(&s->lock);
		/* someone may have been quicker */
		e = sampler_find(s, key);
		if (e && e->pid != pid) {
			entry_unlink(s, e);
			e = NULL;
		}
		if (!e) {
			r = sampler_insert(s, key, pid, &cg, &e);
			if (r < 0) {
				pthread_mutex_unlock(&s->lock);
				return r;
			}
		}
	}

	e->last_used_usec = now_monotonic_usec();
	e->refs++;
	/* a new entry needs one period; allow for a slow thread, then give up */
	deadline = e->last_used_usec + 3 * s->period_usec + 1000000;
	ts = mono_timespec(deadline);
	r = 0;
	while (!e->have && !e->error && !e->dead && !s->stop && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&s->done, &s->lock, &ts);

	if (e->error)
		r = e->error;
	else if (e->have) {
		*ret_percent = e->percent;
		r = 0;
	} else if (e->dead)
		r = -ESRCH;
	else if (s->stop)
		r = -ESHUTDOWN;
	else
		r = -ETIMEDOUT;
	entry_unref(e);
	pthread_mutex_unlock(&s->lock);
	return r;
}

size_t
monitor_sampler_size(struct monitor_sampler *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->n_entries;
	pthread_mutex_unlock(&s->lock);
	return n;
}
