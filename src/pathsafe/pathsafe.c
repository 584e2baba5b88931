/* SPDX-License-Identifier: MIT */
/*
 * pathsafe: request paths → fds and filesystem changes, strictly beneath a
 * base directory fd. The contract and the symlink policy are in pathsafe.h.
 */
#include "autoconf.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
#include <stdint.h>
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define RESOLVE_NO_XDEV		0x01
#define RESOLVE_NO_MAGICLINKS	0x02
#define RESOLVE_NO_SYMLINKS	0x04
#define RESOLVE_BENEATH		0x08
#endif

#include "common/cleanup.h"
#include "common/util.h"
#include "pathsafe/pathsafe-internal.h"
#include "pathsafe/pathsafe.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

/* Request paths: beneath the base, no symlink at all, no magic links, no mounts. */
#define RESOLVE_STRICT	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | \
	RESOLVE_NO_XDEV)
/* Showing a symlink in a listing: follow it, but only beneath the base. */
#define RESOLVE_SHOW	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

#define OPENAT2_TRIES		16	/* EAGAIN: a rename or mount raced the lookup */
#define SYMLINK_HOPS_MAX	40	/* the kernel's own limit */
#define RM_DEPTH_MAX		256	/* recursion (and open fds) of a recursive delete */
#define TMP_TRIES		16	/* O_EXCL collisions of 96 random bits: never in practice */
#define PARENT_MODE		0755	/* missing parents created for files */

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pathsafe_listing *, pathsafe_listing_free)

/* The test hook; see pathsafe-internal.h. */
static bool force_fallback;

void
pathsafe_test_force_fallback(bool on)
{
	force_fallback = on;
}

/* ---- path syntax --------------------------------------------------------- */

static bool
is_tmp_component(const char *p, size_t n)
{
	size_t l = sizeof(PATHSAFE_TMP_PREFIX) - 1;

	return n >= l && memcmp(p, PATHSAFE_TMP_PREFIX, l) == 0;
}

static int
check_component(const char *p, size_t n)
{
	if (n == 0 || n > PATHSAFE_NAME_MAX)
		return -EINVAL;
	if (p[0] == '.' && (n == 1 || (n == 2 && p[1] == '.')))
		return -EINVAL;
	if (is_tmp_component(p, n))
		return -EINVAL;
	return 0;
}

/* Canonicalise len bytes of path into out. Returns the length or -EINVAL. */
static int
normalize(const char *path, size_t len, char out[static PATH_MAX])
{
	size_t i = 0, o = 0;

	if (!path || memchr(path, '\0', len))
		return -EINVAL;
	while (i < len) {
		size_t start, n;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if (n == 0)
			break;
		if (check_component(path + start, n) < 0)
			return -EINVAL;
		if (o + (o > 0) + n > PATHSAFE_PATH_MAX)
			return -EINVAL;
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, path + start, n);
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}

static int
normalize_str(const char *path, char out[static PATH_MAX])
{
	if (!path)
		return -EINVAL;
	return normalize(path, strlen(path), out);
}

int
pathsafe_path_normalize(const char *path, size_t len, char **ret)
{
	char buf[PATH_MAX];
	char *s;
	int r;

	r = normalize(path, len, buf);
	if (r < 0)
		return r;
	s = strdup(buf);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int
pathsafe_check_rel(const char *path)
{
	char buf[PATH_MAX];
	int r;

	r = normalize_str(path, buf);
	return r < 0 ? r : 0;
}

int
pathsafe_check_name(const char *name, size_t len)
{
	if (!name || memchr(name, '\0', len) || memchr(name, '/', len))
		return -EINVAL;
	return check_component(name, len);
}

bool
pathsafe_is_tmp_name(const char *name)
{
	return name && is_tmp_component(name, strlen(name));
}

/* ---- mounts ---------------------------------------------------------------- */

/* Which mount an object is on: st_dev, refined by the mount id where known. */
struct mount_key {
	dev_t dev;
	uint64_t mnt_id;	/* 0: unknown (kernel < 5.8) */
};

static int
mount_key_at(int dfd, const char *name, int at_flags, struct mount_key *ret)
{
	struct statx stx;
	struct stat st;

	if (statx(dfd, name, at_flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_MNT_ID,
	    &stx) == 0) {
		ret->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
		ret->mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
		return 0;
	}
	if (errno != ENOSYS)
		return -errno;
	if (fstatat(dfd, name, &st, at_flags | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	ret->dev = st.st_dev;
	ret->mnt_id = 0;
	return 0;
}

static bool
mount_key_eq(const struct mount_key *a, const struct mount_key *b)
{
	if (a->dev != b->dev)
		return false;
	/* a bind mount of the same filesystem only differs in its mount id */
	return a->mnt_id == 0 || b->mnt_id == 0 || a->mnt_id == b->mnt_id;
}

/* ---- resolution ------------------------------------------------------------ */

/* openat2() relative to dir_fd; -ENOSYS when it is missing (or forced so). */
static int
openat2_at(int dir_fd, const char *rel, int flags, uint64_t resolve)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = resolve,
	};

	if (force_fallback)
		return -ENOSYS;
	for (unsigned i = 0; i < OPENAT2_TRIES; i++) {
		long fd = syscall(SYS_openat2, dir_fd, rel, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
#else
	(void)dir_fd;
	(void)rel;
	(void)flags;
	(void)resolve;
	return -ENOSYS;
#endif
}

/*
 * ENOSYS: kernel < 5.6. EPERM: what seccomp filters (older container
 * runtimes) answer for a syscall they do not know. A genuine EPERM comes back
 * from the walk as well, so trying the walk costs nothing in safety.
 */
static bool
openat2_missing(int r)
{
	return r == -ENOSYS || r == -EPERM;
}

/*
 * One component at a time, never following a symlink. With create, every
 * component is first made a directory (mode) if missing.
 */
static int
walk(int base_fd, const char *rel, int flags, bool create, mode_t mode)
{
	_cleanup_close_ int cur = -1;
	struct mount_key base_key;
	const char *p = rel;
	int r;

	r = mount_key_at(base_fd, "", AT_EMPTY_PATH, &base_key);
	if (r < 0)
		return r;
	if (!*rel) {
		int fd = openat(base_fd, ".", flags | O_CLOEXEC);

		return fd < 0 ? -errno : fd;
	}

	for (;;) {
		char comp[PATHSAFE_NAME_MAX + 1];
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int dfd = cur >= 0 ? cur : base_fd;
		_cleanup_close_ int fd = -1;
		struct mount_key key;
		struct stat st;

		if (n == 0 || n > PATHSAFE_NAME_MAX)
			return -EINVAL;		/* not canonical: a caller bug */
		memcpy(comp, p, n);
		comp[n] = '\0';

		if (create && mkdirat(dfd, comp, mode) < 0 && errno != EEXIST)
			return -errno;

		fd = openat(dfd, comp, (slash ? O_PATH | O_DIRECTORY : flags) |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			/*
			 * Linux checks O_DIRECTORY before O_NOFOLLOW, so a
			 * symlink opened with both is ENOTDIR: ask lstat.
			 */
			if ((r == -ENOTDIR || r == -ELOOP) &&
			    fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return -ELOOP;
			return r;
		}
		if (fstat(fd, &st) < 0)
			return -errno;
		/* O_PATH|O_NOFOLLOW opens a symlink itself instead of failing */
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		r = mount_key_at(fd, "", AT_EMPTY_PATH, &key);
		if (r < 0)
			return r;
		if (!mount_key_eq(&key, &base_key))
			return -EXDEV;

		closep(&cur);
		cur = TAKE_FD(fd);
		if (!slash)
			return TAKE_FD(cur);
		p = slash + 1;
	}
}

int
pathsafe_walk(int base_fd, const char *rel, int flags)
{
	return walk(base_fd, rel, flags, false, 0);
}

/* Open the canonical path rel ("" = base) beneath base_fd, following no symlink. */
static int
resolve_open(int base_fd, const char *rel, int flags)
{
	int fd = openat2_at(base_fd, *rel ? rel : ".", flags, RESOLVE_STRICT);

	if (openat2_missing(fd))
		return pathsafe_walk(base_fd, rel, flags);
	return fd;
}

/*
 * Open the parent directory of the canonical, non-empty path canon and point
 * *ret_name at its last component (inside canon). With parents, missing
 * parents are created with mode.
 */
static int
open_parent(int base_fd, char *canon, bool parents, mode_t mode, const char **ret_name)
{
	char *slash;
	int fd;

	assert(*canon);
	slash = strrchr(canon, '/');
	if (!slash) {
		fd = resolve_open(base_fd, "", O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			*ret_name = canon;
		return fd;
	}
	*slash = '\0';
	if (parents)
		fd = walk(base_fd, canon, O_RDONLY | O_DIRECTORY, true, mode);
	else
		fd = resolve_open(base_fd, canon, O_RDONLY | O_DIRECTORY);
	*slash = '/';
	if (fd >= 0)
		*ret_name = slash + 1;
	return fd;
}

/* ---- showing objects (listing and stat) ------------------------------------ */

/*
 * Userspace twin of openat2(RESOLVE_SHOW) for the walk fallback: follow
 * symlinks in rel while the path stays beneath the base, lexically (an
 * absolute target, or a ".." above the base, is -EXDEV). Each directory is
 * opened with O_NOFOLLOW, and a ".." re-walks from the base, so a rename
 * race cannot lead above it. Only stats; never opens the final object.
 */
static int
chase_stat(int base_fd, const char *rel, struct stat *ret)
{
	char todo[PATH_MAX], target[PATH_MAX], done[PATH_MAX];
	size_t todo_len, off = 0, done_len = 0;
	_cleanup_close_ int cur = -1;
	struct mount_key base_key, key;
	unsigned hops = 0;
	int r;

	todo_len = strlen(rel);
	if (todo_len >= sizeof(todo))
		return -ENAMETOOLONG;
	memcpy(todo, rel, todo_len + 1);
	done[0] = '\0';
	r = mount_key_at(base_fd, "", AT_EMPTY_PATH, &base_key);
	if (r < 0)
		return r;

	for (;;) {
		char comp[PATHSAFE_NAME_MAX + 1];
		int dfd = cur >= 0 ? cur : base_fd;
		struct stat st;
		size_t n, next;

		while (todo[off] == '/')
			off++;
		if (!todo[off])		/* ended on a directory */
			return fstat(dfd, ret) < 0 ? -errno : 0;
		n = strcspn(todo + off, "/");
		if (n > PATHSAFE_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, todo + off, n);
		comp[n] = '\0';
		off += n;
		for (next = off; todo[next] == '/'; next++)
			;

		if (streq(comp, "."))
			continue;
		if (streq(comp, "..")) {
			char *s;

			if (done_len == 0)
				return -EXDEV;	/* would leave the base */
			s = strrchr(done, '/');
			done_len = s ? (size_t)(s - done) : 0;
			done[done_len] = '\0';
			closep(&cur);
			cur = -1;
			if (done_len > 0) {
				r = pathsafe_walk(base_fd, done, O_PATH | O_DIRECTORY);
				if (r < 0)
					return r;
				cur = r;
			}
			continue;
		}

		if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			size_t rest = todo_len - off;
			ssize_t l;

			if (++hops > SYMLINK_HOPS_MAX)
				return -ELOOP;
			l = readlinkat(dfd, comp, target, sizeof(target));
			if (l < 0)
				return -errno;
			if ((size_t)l >= sizeof(target))
				return -ENAMETOOLONG;
			if (l == 0)
				return -ENOENT;
			if (target[0] == '/')
				return -EXDEV;	/* absolute: judged as outside */
			if ((size_t)l + 1 + rest >= sizeof(todo))
				return -ENAMETOOLONG;
			/* todo = target [+ "/" + rest] */
			if (rest > 0) {
				memmove(todo + l + 1, todo + off, rest + 1);
				todo[l] = '/';
				todo_len = (size_t)l + 1 + rest;
			} else {
				todo[l] = '\0';
				todo_len = (size_t)l;
			}
			memcpy(todo, target, (size_t)l);
			off = 0;
			continue;
		}
		r = mount_key_at(dfd, comp, 0, &key);
		if (r < 0)
			return r;
		if (!mount_key_eq(&key, &base_key))
			return -EXDEV;
		if (!todo[next]) {
			*ret = st;
			return 0;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		r = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (r < 0)
			return -errno;
		closep(&cur);
		cur = r;
		if (done_len + 1 + n >= sizeof(done))
			return -ENAMETOOLONG;
		if (done_len > 0)
			done[done_len++] = '/';
		memcpy(done + done_len, comp, n + 1);
		done_len += n;
	}
}

/* stat what the symlink at rel points to, if that stays beneath the base. */
static int
follow_beneath(int base_fd, const char *rel, struct stat *ret)
{
	_cleanup_close_ int fd = -1;

	fd = openat2_at(base_fd, rel, O_PATH, RESOLVE_SHOW);
	if (openat2_missing(fd))
		return chase_stat(base_fd, rel, ret);
	if (fd < 0)
		return fd;
	return fstat(fd, ret) < 0 ? -errno : 0;
}

static void
stat_show(struct pathsafe_stat *ret, const struct stat *st, bool symlink)
{
	bool reg = S_ISREG(st->st_mode);

	*ret = (struct pathsafe_stat) {
		.type = reg ? PATHSAFE_FILE : PATHSAFE_DIRECTORY,
		.symlink = symlink,
		.size = reg ? (int64_t)st->st_size : 0,
		.mtime = st->st_mtim,
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
	};
}

/* A broken, looping or outside symlink: a size-0 file with mtime 0 (DECISIONS). */
static void
stat_dangling(struct pathsafe_stat *ret, const struct stat *lst)
{
	*ret = (struct pathsafe_stat) {
		.type = PATHSAFE_FILE,
		.symlink = true,
		.mode = lst->st_mode,
		.uid = lst->st_uid,
		.gid = lst->st_gid,
	};
}

/* Show dir_fd/name, whose canonical path is rel (NULL: too long to follow). */
static int
classify(int base_fd, int dir_fd, const char *name, const char *rel, struct pathsafe_stat *ret)
{
	struct stat st, target;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		stat_show(ret, &st, false);
	else if (rel && follow_beneath(base_fd, rel, &target) >= 0)
		stat_show(ret, &target, true);
	else
		stat_dangling(ret, &st);
	return 0;
}

/* ---- opening ------------------------------------------------------------------ */

int
pathsafe_base_open(const char *path, unsigned flags, mode_t mode)
{
	int fd;

	if (!path || !*path)
		return -EINVAL;
	if (flags & PATHSAFE_PARENTS) {
		/* a configured, trusted path: plain mkdir -p */
		_cleanup_free_ char *p = strdup(path);
		size_t len = strlen(path);

		if (!p)
			return -ENOMEM;
		for (size_t i = 1; i <= len; i++) {
			if (p[i] != '/' && p[i] != '\0')
				continue;
			if (p[i - 1] == '/')
				continue;
			p[i] = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -errno;
			p[i] = path[i];
		}
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
pathsafe_open_file(int base_fd, const char *path, int flags)
{
	char canon[PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r, fl;

	assert((flags & ~O_ACCMODE) == 0);
	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	/* O_NONBLOCK: a FIFO must not hang the open (cleared below); O_NOCTTY: a tty */
	fd = resolve_open(base_fd, canon, flags | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -ENXIO;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int
pathsafe_open_dir(int base_fd, const char *path)
{
	char canon[PATH_MAX];
	int r;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	return resolve_open(base_fd, canon, O_RDONLY | O_DIRECTORY);
}

int
pathsafe_open_parent(int base_fd, const char *path, char ret_name[static PATHSAFE_NAME_MAX + 1])
{
	char canon[PATH_MAX];
	const char *name;
	int r, fd;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	if (r == 0)
		return -EINVAL;
	fd = open_parent(base_fd, canon, false, 0, &name);
	if (fd < 0)
		return fd;
	memcpy(ret_name, name, strlen(name) + 1);	/* ≤ NAME_MAX: normalize() checked */
	return fd;
}

int
pathsafe_stat(int base_fd, const char *path, struct pathsafe_stat *ret)
{
	char canon[PATH_MAX];
	_cleanup_close_ int dir_fd = -1;
	const char *name;
	struct stat st;
	int r;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	if (r == 0) {
		if (fstat(base_fd, &st) < 0)
			return -errno;
		stat_show(ret, &st, false);
		return 0;
	}
	dir_fd = open_parent(base_fd, canon, false, 0, &name);
	if (dir_fd < 0)
		return dir_fd;
	return classify(base_fd, dir_fd, name, canon, ret);
}

/* ---- listing ------------------------------------------------------------------- */

struct pathsafe_listing *
pathsafe_listing_free(struct pathsafe_listing *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n_entries; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l->dir);
	free(l);
	return NULL;
}

int
pathsafe_list(int base_fd, const char *path, size_t max_entries, struct pathsafe_listing **ret)
{
	_cleanup_(pathsafe_listing_freep) struct pathsafe_listing *l = NULL;
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_close_ int fd = -1;
	char canon[PATH_MAX], rel[PATH_MAX];
	size_t cap = 0, dlen;
	int r;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	dlen = (size_t)r;
	if (max_entries == 0)
		max_entries = PATHSAFE_LIST_MAX_DEFAULT;

	fd = resolve_open(base_fd, canon, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;		/* owned by d now */

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->dir = strdup(canon);
	if (!l->dir)
		return -ENOMEM;
	memcpy(rel, canon, dlen);

	for (;;) {
		struct pathsafe_stat st;
		struct dirent *de;
		const char *relp = NULL;
		size_t n;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno == EACCES || errno == EPERM)
				l->partial = true;
			else if (errno != 0)
				return -errno;
			break;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (pathsafe_is_tmp_name(de->d_name))
			continue;
		if (l->n_entries >= max_entries)
			return -E2BIG;

		n = strlen(de->d_name);
		if (dlen + 1 + n <= PATHSAFE_PATH_MAX) {
			size_t o = dlen;

			if (o > 0)
				rel[o++] = '/';
			memcpy(rel + o, de->d_name, n + 1);
			relp = rel;
		}
		r = classify(base_fd, dirfd(d), de->d_name, relp, &st);
		if (r == -ENOENT)
			continue;	/* removed while listing */
		if (r == -EACCES || r == -EPERM) {
			l->partial = true;
			break;
		}
		if (r < 0)
			return r;

		if (l->n_entries == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct pathsafe_entry *e = reallocarray(l->entries, ncap, sizeof(*e));

			if (!e)
				return -ENOMEM;
			l->entries = e;
			cap = ncap;
		}
		l->entries[l->n_entries].name = strdup(de->d_name);
		if (!l->entries[l->n_entries].name)
			return -ENOMEM;
		l->entries[l->n_entries].st = st;
		l->n_entries++;
	}

	*ret = TAKE_PTR(l);
	return 0;
}

/* ---- creating ------------------------------------------------------------------ */

int
pathsafe_mkdir(int base_fd, const char *path, mode_t mode, unsigned flags)
{
	char canon[PATH_MAX];
	_cleanup_close_ int dir_fd = -1;
	const char *name;
	struct stat st;
	int r;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	if (r == 0)
		return (flags & PATHSAFE_EXIST_OK) ? 0 : -EEXIST;
	dir_fd = open_parent(base_fd, canon, flags & PATHSAFE_PARENTS, mode, &name);
	if (dir_fd < 0)
		return dir_fd;
	if (mkdirat(dir_fd, name, mode) == 0)
		return 1;
	if (errno != EEXIST)
		return -errno;
	if (!(flags & PATHSAFE_EXIST_OK))
		return -EEXIST;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

int
pathsafe_create_file(int base_fd, const char *path, mode_t mode, unsigned flags)
{
	char canon[PATH_MAX];
	_cleanup_close_ int dir_fd = -1, fd = -1;
	const char *name;
	int r;

	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	if (r == 0)
		return -EEXIST;
	dir_fd = open_parent(base_fd, canon, flags & PATHSAFE_PARENTS, PARENT_MODE, &name);
	if (dir_fd < 0)
		return dir_fd;
	/* O_EXCL never follows a symlink: an existing link is EEXIST */
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
	    mode);
	return fd < 0 ? -errno : 0;
}

int
pathsafe_chown(int base_fd, const char *path, uid_t uid, gid_t gid)
{
	char name[PATHSAFE_NAME_MAX + 1];
	_cleanup_close_ int dir_fd = -1;

	dir_fd = pathsafe_open_parent(base_fd, path, name);
	if (dir_fd < 0)
		return dir_fd;
	return fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* ---- deleting ------------------------------------------------------------------ */

static int rm_dir_at(int parent_fd, const char *name, const struct stat *st,
    const struct mount_key *mk, unsigned depth);

/* Remove everything inside dir_fd. Keeps going after an error; returns the first. */
static int
rm_children(int dir_fd, const struct mount_key *mk, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = NULL;
	int r;

	if (depth >= RM_DEPTH_MAX)
		return -ENAMETOOLONG;
	r = opendir_at(dir_fd, &d);
	if (r < 0)
		return r;

	for (;;) {
		struct dirent *de;
		struct stat st;
		int q;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0 && r == 0)
				r = -errno;
			break;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && r == 0)
				r = -errno;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			q = rm_dir_at(dirfd(d), de->d_name, &st, mk, depth + 1);
		else	/* files, symlinks (the link itself), FIFOs, sockets, devices */
			q = unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT ? -errno : 0;
		if (q < 0 && r == 0)
			r = q;
	}
	return r;
}

/* Remove the directory parent_fd/name (lstat'ed as *st) and everything in it. */
static int
rm_dir_at(int parent_fd, const char *name, const struct stat *st, const struct mount_key *mk,
    unsigned depth)
{
	_cleanup_close_ int fd = -1;
	struct mount_key key;
	struct stat st2;
	int r;

	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* a symlink swapped in: ENOTDIR */
	if (fstat(fd, &st2) < 0)
		return -errno;
	if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino)
		return -EBUSY;		/* swapped between lstat and open: leave it */
	r = mount_key_at(fd, "", AT_EMPTY_PATH, &key);
	if (r < 0)
		return r;
	if (!mount_key_eq(&key, mk))
		return -EXDEV;		/* another mount: never entered */

	r = rm_children(fd, mk, depth);
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int
pathsafe_delete(int base_fd, const char *path, enum pathsafe_type *ret_type)
{
	char name[PATHSAFE_NAME_MAX + 1];
	_cleanup_close_ int dir_fd = -1;
	struct stat st;
	int r;

	dir_fd = pathsafe_open_parent(base_fd, path, name);	/* the base itself: -EINVAL */
	if (dir_fd < 0)
		return dir_fd;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;

	if (S_ISDIR(st.st_mode)) {
		struct mount_key mk;

		r = mount_key_at(dir_fd, "", AT_EMPTY_PATH, &mk);
		if (r < 0)
			return r;
		r = rm_dir_at(dir_fd, name, &st, &mk, 0);
		if (r < 0)
			return r;
		if (ret_type)
			*ret_type = PATHSAFE_DIRECTORY;
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return -EINVAL;		/* §15.7: anything else is "Invalid path" */
	if (unlinkat(dir_fd, name, 0) < 0)
		return -errno;
	if (ret_type)
		*ret_type = PATHSAFE_FILE;
	return 0;
}

/* ---- renaming ------------------------------------------------------------------ */

/* Rename without replacing an existing target. */
static int
rename_noreplace(int odfd, const char *oname, int ndfd, const char *nname, bool is_dir)
{
	struct stat st;
	int r;

	if (!force_fallback) {
		if (renameat2(odfd, oname, ndfd, nname, RENAME_NOREPLACE) == 0)
			return 0;
		/* EINVAL/EOPNOTSUPP: no RENAME_NOREPLACE on this filesystem; ENOSYS: old kernel */
		if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
	}
	if (!is_dir) {
		/* link() never replaces: an atomic no-replace for anything but directories */
		if (linkat(odfd, oname, ndfd, nname, 0) == 0) {
			if (unlinkat(odfd, oname, 0) < 0) {
				r = -errno;
				(void)unlinkat(ndfd, nname, 0);
				return r;
			}
			return 0;
		}
		if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK)
			return -errno;
		/* no hard links here: fall through */
	}
	/* last resort, racy: a target created between check and rename is replaced */
	if (fstatat(ndfd, nname, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	if (errno != ENOENT)
		return -errno;
	return renameat(odfd, oname, ndfd, nname) < 0 ? -errno : 0;
}

/* old_canon and new_canon are canonical and non-empty (not the base). */
static int
rename_canon(int old_base_fd, char *old_canon, int new_base_fd, char *new_canon,
    unsigned flags, enum pathsafe_type *ret_type)
{
	_cleanup_close_ int old_dir = -1, new_dir = -1;
	const char *old_name, *new_name;
	struct pathsafe_stat ps;
	struct stat st;
	int r;

	old_dir = open_parent(old_base_fd, old_canon, false, 0, &old_name);
	if (old_dir < 0)
		return old_dir;
	new_dir = open_parent(new_base_fd, new_canon, false, 0, &new_name);
	if (new_dir < 0)
		return new_dir;
	if (fstatat(old_dir, old_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;

	if (flags & PATHSAFE_REPLACE)
		r = renameat(old_dir, old_name, new_dir, new_name) < 0 ? -errno : 0;
	else
		r = rename_noreplace(old_dir, old_name, new_dir, new_name, S_ISDIR(st.st_mode));
	if (r < 0)
		return r;

	if (ret_type) {
		/* done; failing to look at the result afterwards only costs its display type */
		if (classify(new_base_fd, new_dir, new_name, new_canon, &ps) < 0)
			ps.type = S_ISDIR(st.st_mode) ? PATHSAFE_DIRECTORY : PATHSAFE_FILE;
		*ret_type = ps.type;
	}
	return 0;
}

int
pathsafe_rename(int old_base_fd, const char *old_path, int new_base_fd, const char *new_path,
    unsigned flags, enum pathsafe_type *ret_type)
{
	char old_canon[PATH_MAX], new_canon[PATH_MAX];
	int r;

	r = normalize_str(old_path, old_canon);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;	/* the base itself */
	r = normalize_str(new_path, new_canon);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	return rename_canon(old_base_fd, old_canon, new_base_fd, new_canon, flags, ret_type);
}

int
pathsafe_rename_to_name(int base_fd, const char *old_path, const char *new_name,
    enum pathsafe_type *ret_type)
{
	char old_canon[PATH_MAX], new_canon[PATH_MAX];
	const char *slash;
	size_t dlen, nlen;
	int r;

	if (!new_name)
		return -EINVAL;
	nlen = strlen(new_name);
	r = pathsafe_check_name(new_name, nlen);
	if (r < 0)
		return r;
	r = normalize_str(old_path, old_canon);
	if (r <= 0)
		return r < 0 ? r : -EINVAL;

	/* new = parent(old) + "/" + new_name, which must stay addressable */
	slash = strrchr(old_canon, '/');
	dlen = slash ? (size_t)(slash - old_canon) : 0;
	if (dlen + 1 + nlen > PATHSAFE_PATH_MAX)
		return -EINVAL;
	memcpy(new_canon, old_canon, dlen);
	if (dlen > 0)
		new_canon[dlen++] = '/';
	memcpy(new_canon + dlen, new_name, nlen + 1);
	return rename_canon(base_fd, old_canon, base_fd, new_canon, 0, ret_type);
}

/* ---- atomic writes ------------------------------------------------------------ */

static int
tmp_name_new(char buf[static PATHSAFE_TMP_NAME_LEN + 1])
{
	size_t plen = sizeof(PATHSAFE_TMP_PREFIX) - 1;
	unsigned char rnd[12];
	char enc[17];		/* 4 * 12 / 3 + NUL */
	int r;

	r = random_bytes(rnd, sizeof(rnd));
	if (r < 0)
		return r;
	if (base64url_encode(rnd, sizeof(rnd), enc) != 16)
		return -EINVAL;
	memcpy(buf, PATHSAFE_TMP_PREFIX, plen);
	memcpy(buf + plen, enc, 17);
	return 0;
}

/* a->flags bit (beyond the public flags): the temporary is an unnamed O_TMPFILE inode */
#define ATOMIC_ANON	(1u << 30)

/* The directory behind dir_fd was removed (or renamed over) since it was opened. */
static bool
dir_removed(int dir_fd)
{
	struct stat st;

	return fstat(dir_fd, &st) == 0 && st.st_nlink == 0;
}

/*
 * Give the unnamed temporary fd a name in dir_fd: through /proc/self/fd
 * (no privilege needed), else AT_EMPTY_PATH (CAP_DAC_READ_SEARCH). linkat()
 * never replaces: -EEXIST when name exists.
 */
static int
link_anon(int fd, int dir_fd, const char *name)
{
	char proc[64];

	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dir_fd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT && errno != ENOTDIR)
		return -errno;
	if (dir_removed(dir_fd))
		return -ENOENT;	/* not a missing /proc: nothing to fall back for */
	return linkat(fd, "", dir_fd, name, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

void
pathsafe_atomic_abort(struct pathsafe_atomic *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		(void)close(a->fd);
	if (a->dir_fd >= 0) {
		if (a->tmp_name[0])
			(void)unlinkat(a->dir_fd, a->tmp_name, 0);
		(void)close(a->dir_fd);
	}
	*a = (struct pathsafe_atomic) PATHSAFE_ATOMIC_INIT;
}

int
pathsafe_atomic_begin(int base_fd, const char *path, mode_t mode, unsigned flags,
    struct pathsafe_atomic *ret)
{
	char canon[PATH_MAX], tmp[PATHSAFE_TMP_NAME_LEN + 1];
	_cleanup_close_ int dir_fd = -1, fd = -1;
	const char *name;
	bool exists = false;
	struct stat st;
	int r;

	if (flags & PATHSAFE_MUST_EXIST)
		flags |= PATHSAFE_REPLACE;
	r = normalize_str(path, canon);
	if (r < 0)
		return r;
	if (r == 0)
		return -EISDIR;		/* the base */
	dir_fd = open_parent(base_fd, canon, false, 0, &name);
	if (dir_fd < 0)
		return dir_fd;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!(flags & PATHSAFE_REPLACE))
			return -EEXIST;	/* whatever it is (§15.5: 409) */
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;	/* never replaced nor written through */
		if (!S_ISREG(st.st_mode))
			return -ENXIO;
		exists = true;
	} else if (errno != ENOENT) {
		return -errno;
	} else if (flags & PATHSAFE_MUST_EXIST) {
		return -ENOENT;
	}

	/* an unnamed inode first: if the process dies, the kernel frees it */
	tmp[0] = '\0';
	if (!force_fallback) {
		/* the umask applies as with O_CREAT */
		fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
		/* ext4 answers EPERM in a directory removed since it was opened */
		if (fd < 0 && errno == EPERM && dir_removed(dir_fd))
			return -ENOENT;
		if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL &&
		    errno != ENOENT)
			return -errno;
		if (fd >= 0)
			flags |= ATOMIC_ANON;
	}
	for (unsigned i = 0; fd < 0; i++) {
		r = tmp_name_new(tmp);
		if (r < 0)
			return r;
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
		    O_CLOEXEC, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || i + 1 >= TMP_TRIES)
			return -errno;
	}

	if (exists && (flags & PATHSAFE_KEEP_ATTRS)) {
		r = 0;
		/* chown first: it clears the set-id bits that fchmod then restores */
		if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
			r = -errno;
		else if (fchmod(fd, st.st_mode & 07777) < 0)
			r = -errno;
		if (r < 0) {
			if (tmp[0])
				(void)unlinkat(dir_fd, tmp, 0);
			return r;
		}
	}

	*ret = (struct pathsafe_atomic) {
		.fd = TAKE_FD(fd),
		.dir_fd = TAKE_FD(dir_fd),
		.flags = flags,
	};
	memcpy(ret->name, name, strlen(name) + 1);
	memcpy(ret->tmp_name, tmp, sizeof(tmp));
	return 0;
}

int
pathsafe_atomic_write(struct pathsafe_atomic *a, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	if (!a || a->fd < 0)
		return -EBADF;
	while (n > 0) {
		ssize_t l = write(a->fd, p, n);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (l == 0)
			return -EIO;
		p += l;
		n -= (size_t)l;
	}
	return 0;
}

int
pathsafe_atomic_commit(struct pathsafe_atomic *a)
{
	int r = 0, fd;

	if (!a || a->fd < 0 || a->dir_fd < 0)
		return -EBADF;
	if (fsync(a->fd) < 0)
		r = -errno;
	if (r == 0 && (a->flags & ATOMIC_ANON)) {
		if (!(a->flags & PATHSAFE_REPLACE)) {
			/* linking never replaces: the no-replace commit in one step */
			r = link_anon(a->fd, a->dir_fd, a->name);
			if (r == 0)
				(void)fsync(a->dir_fd);
			pathsafe_atomic_abort(a);	/* closes both; nothing named to remove */
			return r;
		}
		/* named for the moment it takes to rename it over the target */
		for (unsigned i = 0;; i++) {
			r = tmp_name_new(a->tmp_name);
			if (r == 0)
				r = link_anon(a->fd, a->dir_fd, a->tmp_name);
			if (r != -EEXIST || i + 1 >= TMP_TRIES)
				break;
		}
		if (r < 0) {
			a->tmp_name[0] = '\0';
			pathsafe_atomic_abort(a);
			return r;
		}
	}
	fd = a->fd;
	a->fd = -1;
	if (close(fd) < 0 && errno != EINTR && r == 0)
		r = -errno;	/* NFS reports write errors here */
	if (r == 0) {
		if (a->flags & PATHSAFE_REPLACE)
			r = renameat(a->dir_fd, a->tmp_name, a->dir_fd, a->name) < 0 ? -errno : 0;
		else
			r = rename_noreplace(a->dir_fd, a->tmp_name, a->dir_fd, a->name, false);
	}
	if (r < 0) {
		pathsafe_atomic_abort(a);	/* unlinks the temporary */
		return r;
	}
	/* the new name is durable once the directory is; nothing is lost if this fails */
	(void)fsync(a->dir_fd);
	a->tmp_name[0] = '\0';		/* renamed: nothing left to unlink */
	pathsafe_atomic_abort(a);
	return 0;
}

int
pathsafe_write_file(int base_fd, const char *path, const void *buf, size_t n, mode_t mode,
    unsigned flags)
{
	_cleanup_(pathsafe_atomic_abort) struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;
	int r;

	r = pathsafe_atomic_begin(base_fd, path, mode, flags, &a);
	if (r < 0)
		return r;
	r = pathsafe_atomic_write(&a, buf, n);
	if (r < 0)
		return r;
	return pathsafe_atomic_commit(&a);
}

/* ---- temporaries beside a base ------------------------------------------------- */

int
pathsafe_tmp_mkdir(int dir_fd, mode_t mode, char ret_name[static PATHSAFE_TMP_NAME_LEN + 1])
{
	char tmp[PATHSAFE_TMP_NAME_LEN + 1];
	int fd, r;

	for (unsigned i = 0;; i++) {
		r = tmp_name_new(tmp);
		if (r < 0)
			return r;
		if (mkdirat(dir_fd, tmp, mode) == 0)
			break;
		if (errno != EEXIST || i + 1 >= TMP_TRIES)
			return -errno;
	}
	fd = openat(dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		(void)unlinkat(dir_fd, tmp, AT_REMOVEDIR);
		return r;
	}
	memcpy(ret_name, tmp, sizeof(tmp));
	return fd;
}

int
pathsafe_tmp_remove(int dir_fd, const char *name)
{
	struct stat st;

	if (!pathsafe_is_tmp_name(name) || strchr(name, '/'))
		return -EINVAL;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		struct mount_key mk;
		int r;

		r = mount_key_at(dir_fd, "", AT_EMPTY_PATH, &mk);
		if (r < 0)
			return r;
		return rm_dir_at(dir_fd, name, &st, &mk, 0);
	}
	return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
}
