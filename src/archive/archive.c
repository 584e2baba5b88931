/* SPDX-License-Identifier: MIT */
/*
 * archive: libarchive behind the checks of archive.h. Reading goes through
 * our own pread()-based callbacks (seekable, so zip uses its central
 * directory), writing through a write() callback, and every file-system
 * change through pathsafe or fd-relative calls on pathsafe's fds.
 */
#include "autoconf.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "pathsafe/pathsafe.h"

#define READ_BLOCK	(1024 * 1024)	/* archive reads and file reads */
#define WALK_DEPTH_MAX	256		/* compress: directory depth (and open fds) */
#define SERVER_PROPERTIES "server.properties"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* ---- locale: names are UTF-8 whatever the process locale ------------------- */

struct utf8_scope {
	locale_t loc;
	locale_t old;
};

static void
utf8_enter(struct utf8_scope *s)
{
	s->loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	s->old = s->loc ? uselocale(s->loc) : (locale_t)0;
}

static void
utf8_leave(struct utf8_scope *s)
{
	if (s->loc) {
		(void)uselocale(s->old);
		freelocale(s->loc);
	}
	*s = (struct utf8_scope){ 0 };
}

/* ---- problems ----------------------------------------------------------------- */

static void
prob_set(struct arc_problem *p, const char *entry, uint64_t value, uint64_t limit,
    const char *detail)
{
	if (!p)
		return;
	*p = (struct arc_problem){ .value = value, .limit = limit };
	if (entry)
		(void)snprintf(p->entry, sizeof(p->entry), "%s", entry);
	if (detail)
		(void)snprintf(p->detail, sizeof(p->detail), "%s", detail);
}

/* ---- names --------------------------------------------------------------------- */

int
arc_entry_name(const char *raw, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char *o;
	const char *p;
	int r;

	if (!raw || !*raw || raw[0] == '/')
		return -EINVAL;
	buf = malloc(strlen(raw) + 1);
	if (!buf)
		return -ENOMEM;
	o = buf;
	for (p = raw; *p;) {
		size_t l = strcspn(p, "/");

		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* empty and "." components are dropped */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			return -EINVAL;
		} else {
			if (o != buf)
				*o++ = '/';
			memcpy(o, p, l);
			o += l;
		}
		p += l;
		while (*p == '/')
			p++;
	}
	*o = '\0';
	if (!*buf) {
		char *e = strdup("");

		if (!e)
			return -ENOMEM;
		*ret = e;
		return 0;
	}
	/* length caps, the reserved temporary prefix */
	r = pathsafe_path_normalize(buf, strlen(buf), ret);
	return r;
}

/* Symlink targets: relative, no ".." (see archive.h), not empty. */
static bool
symlink_target_ok(const char *t)
{
	if (!t || !*t || t[0] == '/')
		return false;
	for (const char *p = t; *p;) {
		size_t l = strcspn(p, "/");

		if (l == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += l;
		while (*p == '/')
			p++;
	}
	return strlen(t) < PATH_MAX;
}

/* ---- reading ------------------------------------------------------------------- */

struct reader {
	int fd;
	int64_t off;
	int64_t size;
	int err;		/* errno of a failed read */
	void *buf;
};

static la_ssize_t
rd_read(struct archive *a, void *userdata, const void **buf)
{
	struct reader *rd = userdata;
	ssize_t n;

	do
		n = pread(rd->fd, rd->buf, READ_BLOCK, rd->off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rd->err = errno;
		archive_set_error(a, errno, "read error");
		return -1;
	}
	rd->off += n;
	*buf = rd->buf;
	return n;
}

static la_int64_t
rd_skip(struct archive *a, void *userdata, la_int64_t request)
{
	struct reader *rd = userdata;
	int64_t left = rd->size - rd->off;

	(void)a;
	if (left < 0)
		left = 0;
	if (request > left)
		request = left;
	rd->off += request;
	return request;
}

static la_int64_t
rd_seek(struct archive *a, void *userdata, la_int64_t offset, int whence)
{
	struct reader *rd = userdata;
	int64_t n;

	switch (whence) {
	case SEEK_SET:
		n = offset;
		break;
	case SEEK_CUR:
		n = rd->off + offset;
		break;
	case SEEK_END:
		n = rd->size + offset;
		break;
	default:
		archive_set_error(a, EINVAL, "bad whence");
		return ARCHIVE_FATAL;
	}
	if (n < 0) {
		archive_set_error(a, EINVAL, "seek before the start");
		return ARCHIVE_FATAL;
	}
	rd->off = n;
	return n;
}

static int (*const formats[])(struct archive *) = {
	archive_read_support_format_7zip,
	archive_read_support_format_zip,
	archive_read_support_format_tar,
	archive_read_support_format_cpio,
	archive_read_support_format_rar,
	archive_read_support_format_rar5,
	archive_read_support_format_iso9660,
	archive_read_support_format_xar,
	archive_read_support_format_cab,
	archive_read_support_format_lha,
	archive_read_support_format_ar,
};

static int (*const filters[])(struct archive *) = {
	archive_read_support_filter_gzip,
	archive_read_support_filter_bzip2,
	archive_read_support_filter_xz,
	archive_read_support_filter_lzma,
	archive_read_support_filter_lzip,
	archive_read_support_filter_zstd,
	archive_read_support_filter_lz4,
	archive_read_support_filter_compress,
	archive_read_support_filter_uu,
};

/* A filter libarchive implements in process (ARCHIVE_WARN: it would run a program). */
static bool
filter_in_process(int (*fn)(struct archive *))
{
	struct archive *probe = archive_read_new();
	int r;

	if (!probe)
		return false;
	r = fn(probe);
	(void)archive_read_free(probe);
	return r == ARCHIVE_OK;
}

static void
archive_freep(struct archive **a)
{
	if (*a)
		(void)archive_read_free(*a);
}

/* libarchive's failure as -errno; the text goes to prob->detail. */
static int
read_error(struct archive *a, const struct reader *rd, const char *entry, struct arc_problem *p)
{
	int e = archive_errno(a);

	prob_set(p, entry, 0, 0, archive_error_string(a) ? archive_error_string(a) :
	    "unrecognized or damaged archive");
	if (rd && rd->err)
		return -rd->err;
	if (e == ENOMEM)
		return -ENOMEM;
	return -EBADMSG;
}

static int
reader_open(struct reader *rd, int fd, struct archive **ret, struct arc_problem *prob)
{
	struct archive *a;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*rd = (struct reader){ .fd = fd, .size = st.st_size };
	rd->buf = malloc(READ_BLOCK);
	if (!rd->buf)
		return -ENOMEM;
	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(formats); i++)
		(void)formats[i](a);
	for (size_t i = 0; i < ELEMENTSOF(filters); i++)
		if (filter_in_process(filters[i]))
			(void)filters[i](a);
	if (archive_read_set_callback_data(a, rd) != ARCHIVE_OK ||
	    archive_read_set_read_callback(a, rd_read) != ARCHIVE_OK ||
	    archive_read_set_skip_callback(a, rd_skip) != ARCHIVE_OK ||
	    archive_read_set_seek_callback(a, rd_seek) != ARCHIVE_OK ||
	    archive_read_open1(a) != ARCHIVE_OK) {
		int r = read_error(a, rd, NULL, prob);

		(void)archive_read_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

static void
reader_done(struct reader *rd)
{
	free(rd->buf);
	rd->buf = NULL;
}

/* Next header: 1 with *ret, 0 at the end, -errno. Warnings are not failures. */
static int
next_header(struct archive *a, struct reader *rd, struct archive_entry **ret,
    struct arc_problem *prob)
{
	int r = archive_read_next_header(a, ret);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	return read_error(a, rd, NULL, prob);
}

/* The checks common to both passes; *ret_canon is the canonical name. */
static int
entry_check(struct archive_entry *e, char **ret_canon, struct arc_problem *prob)
{
	const char *name = archive_entry_pathname(e);
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	int r;

	r = arc_entry_name(name, ret_canon);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		prob_set(prob, name ? name : "", 0, 0, NULL);
		return -EINVAL;
	}
	if (hl) {
		_cleanup_free_ char *t = NULL;

		r = arc_entry_name(hl, &t);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || !*t) {
			prob_set(prob, name, 0, 0, NULL);
			return -ELOOP;
		}
		return 0;
	}
	switch (type) {
	case AE_IFREG:
	case AE_IFDIR:
	case 0:			/* no type recorded: written as a regular file */
		return 0;
	case AE_IFLNK:
		if (!symlink_target_ok(archive_entry_symlink(e))) {
			prob_set(prob, name, 0, 0, NULL);
			return -ELOOP;
		}
		return 0;
	default:		/* devices, FIFOs, sockets */
		prob_set(prob, name, 0, 0, NULL);
		return -ENODEV;
	}
}

/*
 * The next entry, for both passes: its header, entry_check() (a malloc'd
 * *ret_canon), and the count *seen of entries so far against max_entries
 * (0: no limit; one more is -E2BIG). 1 with *ret, 0 at the end, -errno with
 * prob filled in.
 */
static int
next_entry(struct archive *a, struct reader *rd, uint64_t max_entries, uint64_t *seen,
    struct archive_entry **ret, char **ret_canon, struct arc_problem *prob)
{
	int r;

	r = next_header(a, rd, ret, prob);
	if (r <= 0)
		return r;
	r = entry_check(*ret, ret_canon, prob);
	if (r < 0)
		return r;
	(*seen)++;
	if (max_entries && *seen > max_entries) {
		prob_set(prob, NULL, *seen, max_entries, NULL);
		return -E2BIG;
	}
	return 1;
}

static bool
is_regular(struct archive_entry *e)
{
	mode_t t = archive_entry_filetype(e);

	return !archive_entry_hardlink(e) && (t == AE_IFREG || t == 0);
}

void
arc_scan_done(struct arc_scan *s)
{
	if (!s)
		return;
	free(s->root);
	*s = (struct arc_scan){ 0 };
}

int
arc_scan(int fd, uint64_t archive_size, const struct arc_limits *lim, struct arc_scan *ret,
    struct arc_problem *prob)
{
	struct arc_problem scratch;
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct utf8_scope loc;
	struct reader rd = { .buf = NULL };
	struct arc_scan s = { 0 };
	size_t best_depth = SIZE_MAX;
	int r;

	if (!prob)
		prob = &scratch;
	utf8_enter(&loc);
	r = reader_open(&rd, fd, &a, prob);
	while (r >= 0) {
		_cleanup_free_ char *canon = NULL;
		struct archive_entry *e;
		const char *base;

		r = next_entry(a, &rd, lim->max_entries, &s.n_entries, &e, &canon, prob);
		if (r <= 0)
			break;
		if (!is_regular(e))
			continue;
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
			uint64_t sz = (uint64_t)archive_entry_size(e);

			if (s.total_size > UINT64_MAX - sz)
				s.total_size = UINT64_MAX;
			else
				s.total_size += sz;
			if (lim->max_total_size && s.total_size > lim->max_total_size) {
				prob_set(prob, NULL, s.total_size, lim->max_total_size, NULL);
				r = -EFBIG;
				break;
			}
		}
		base = strrchr(canon, '/');
		if (streq(base ? base + 1 : canon, SERVER_PROPERTIES)) {
			size_t depth = 0;

			for (const char *q = canon; *q; q++)
				depth += *q == '/';
			if (depth < best_depth) {
				char *root = strndup(canon, base ? (size_t)(base - canon) : 0);

				if (!root) {
					r = -ENOMEM;
					break;
				}
				free(s.root);
				s.root = root;
				s.found = true;
				best_depth = depth;
			}
		}
	}
	reader_done(&rd);
	utf8_leave(&loc);
	if (r >= 0 && lim->max_ratio && archive_size > 0 &&
	    s.total_size / archive_size > lim->max_ratio) {
		prob_set(prob, NULL, s.total_size / archive_size, lim->max_ratio, NULL);
		r = -EDOM;
	}
	if (r < 0) {
		arc_scan_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- extracting ---------------------------------------------------------------- */

struct extractor {
	int dest_fd;
	const struct arc_extract_opts *o;
	uint64_t written;
	char *dir;		/* the cached parent directory (relative to dest), or NULL */
	int dir_fd;
};

static void
extractor_done(struct extractor *x)
{
	free(x->dir);
	x->dir = NULL;
	if (x->dir_fd >= 0)
		(void)close(x->dir_fd);
	x->dir_fd = -1;
}

/* chown an open file, or (fd < 0) the link dir_fd/name itself. */
static int
own(struct extractor *x, int fd, int dir_fd, const char *name)
{
	uid_t uid = x->o->uid;
	gid_t gid = x->o->gid;

	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 0;
	if (fd >= 0)
		return fchown(fd, uid, gid) < 0 ? -errno : 0;
	return fchownat(dir_fd, name ? name : "", uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* mkdir -p of rel below dest, chowning what it creates. */
static int
ensure_dir(struct extractor *x, const char *rel, mode_t mode)
{
	_cleanup_free_ char *p = strdup(rel);
	size_t n;
	int r;

	if (!p)
		return -ENOMEM;
	n = strlen(p);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		r = pathsafe_mkdir(x->dest_fd, p, mode, PATHSAFE_EXIST_OK);
		if (r < 0)
			return r;
		if (r == 1 && (x->o->uid != (uid_t)-1 || x->o->gid != (gid_t)-1)) {
			r = pathsafe_chown(x->dest_fd, p, x->o->uid, x->o->gid);
			if (r < 0)
				return r;
		}
		if (i < n)
			p[i] = '/';
	}
	return 0;
}

/* The parent directory fd of rel (created as needed) and its last component. */
static int
parent_of(struct extractor *x, const char *rel, const char **ret_name)
{
	const char *slash = strrchr(rel, '/');
	_cleanup_free_ char *dir = strndup(rel, slash ? (size_t)(slash - rel) : 0);
	int r, fd;

	if (!dir)
		return -ENOMEM;
	*ret_name = slash ? slash + 1 : rel;
	if (x->dir && streq(x->dir, dir))
		return x->dir_fd;
	if (*dir) {
		r = ensure_dir(x, dir, 0755);
		if (r < 0)
			return r;
	}
	fd = pathsafe_open_dir(x->dest_fd, dir);
	if (fd < 0)
		return fd;
	extractor_done(x);
	x->dir = TAKE_PTR(dir);
	x->dir_fd = fd;
	return fd;
}

/* Make room for a new name: an earlier file or link of that name goes. */
static int
replace_old(int dir_fd, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EEXIST;
	return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
}

static int
write_all_at(int fd, const void *buf, size_t n, int64_t off)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t l = pwrite(fd, p, n, off);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += l;
		n -= (size_t)l;
		off += l;
	}
	return 0;
}

static int
extract_file(struct extractor *x, struct archive *a, struct reader *rd,
    struct archive_entry *e, const char *rel, struct arc_problem *prob)
{
	const char *name = archive_entry_pathname(e);
	const uint64_t max_total = x->o->lim ? x->o->lim->max_total_size : 0;
	int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	int64_t end = 0;
	_cleanup_close_ int fd = -1;
	const char *base;
	int dfd, r;

	dfd = parent_of(x, rel, &base);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
	    0600);
	if (fd < 0 && errno == EEXIST) {
		r = replace_old(dfd, base);
		if (r < 0) {
			prob_set(prob, name, 0, 0, NULL);
			return r == -EEXIST ? -EINVAL : r;
		}
		fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
		    O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return -errno;

	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;

		r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return read_error(a, rd, name, prob);
		if (size == 0)
			continue;
		if (off < 0 || (uint64_t)off > INT64_MAX - size)
			return read_error(a, rd, name, prob);
		x->written += size;
		if ((max_total && x->written > max_total) ||
		    (declared >= 0 && off + (int64_t)size > declared)) {
			/* more than the headers said: a lying header or a bomb */
			prob_set(prob, name, x->written, max_total, NULL);
			return -EFBIG;
		}
		r = write_all_at(fd, buf, size, off);
		if (r < 0)
			return r;
		if (off + (int64_t)size > end)
			end = off + (int64_t)size;
	}
	if (declared > end && ftruncate(fd, declared) < 0)	/* a sparse tail */
		return -errno;
	if (fchmod(fd, (archive_entry_perm(e) & 0777) | 0600) < 0)
		return -errno;
	r = own(x, fd, -1, "");
	if (r < 0)
		return r;
	if (archive_entry_mtime_is_set(e)) {
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT },
			{ .tv_sec = archive_entry_mtime(e),
			  .tv_nsec = archive_entry_mtime_nsec(e) },
		};

		(void)futimens(fd, ts);
	}
	return 0;
}

static int
extract_symlink(struct extractor *x, struct archive_entry *e, const char *rel,
    struct arc_problem *prob)
{
	const char *target = archive_entry_symlink(e);
	const char *base;
	int dfd, r;

	if (!symlink_target_ok(target)) {
		prob_set(prob, archive_entry_pathname(e), 0, 0, NULL);
		return -ELOOP;
	}
	dfd = parent_of(x, rel, &base);
	if (dfd < 0)
		return dfd;
	r = replace_old(dfd, base);
	if (r < 0) {
		prob_set(prob, archive_entry_pathname(e), 0, 0, NULL);
		return r == -EEXIST ? -EINVAL : r;
	}
	if (symlinkat(target, dfd, base) < 0)
		return -errno;
	return own(x, -1, dfd, base);
}

static int
extract_hardlink(struct extractor *x, struct archive_entry *e, const char *rel,
    struct arc_problem *prob)
{
	const char *name = archive_entry_pathname(e);
	_cleanup_free_ char *t = NULL;
	_cleanup_close_ int tdfd = -1;
	char tname[PATHSAFE_NAME_MAX + 1];
	const char *trel, *base;
	size_t rl = strlen(x->o->root);
	struct stat st;
	int dfd, r;

	r = arc_entry_name(archive_entry_hardlink(e), &t);
	if (r == -ENOMEM)
		return r;
	/* the target must be an earlier regular file below the same root */
	if (r < 0 || !*t || (rl > 0 && (strncmp(t, x->o->root, rl) != 0 || t[rl] != '/')))
		goto out_of_root;
	trel = rl > 0 ? t + rl + 1 : t;
	tdfd = pathsafe_open_parent(x->dest_fd, trel, tname);
	if (tdfd < 0)
		goto out_of_root;
	if (fstatat(tdfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		goto out_of_root;
	dfd = parent_of(x, rel, &base);
	if (dfd < 0)
		return dfd;
	r = replace_old(dfd, base);
	if (r < 0) {
		prob_set(prob, name, 0, 0, NULL);
		return r == -EEXIST ? -EINVAL : r;
	}
	if (linkat(tdfd, tname, dfd, base, 0) < 0)
		return -errno;
	return 0;
out_of_root:
	prob_set(prob, name, 0, 0, NULL);
	return -ELOOP;
}

int
arc_extract(int fd, int dest_fd, const struct arc_extract_opts *opts, struct arc_problem *prob)
{
	_cleanup_(archive_freep) struct archive *a = NULL;
	struct extractor x = { .dest_fd = dest_fd, .o = opts, .dir_fd = -1 };
	const uint64_t max_entries = opts->lim ? opts->lim->max_entries : 0;
	size_t rl = strlen(opts->root);
	struct reader rd = { .buf = NULL };
	struct utf8_scope loc;
	struct arc_problem scratch;
	uint64_t seen = 0;
	int r, n = 0;

	if (!prob)
		prob = &scratch;
	*prob = (struct arc_problem){ .value = 0 };
	utf8_enter(&loc);
	r = reader_open(&rd, fd, &a, prob);
	while (r >= 0) {
		_cleanup_free_ char *canon = NULL;
		struct archive_entry *e;
		const char *rel;

		r = next_entry(a, &rd, max_entries, &seen, &e, &canon, prob);
		if (r <= 0)
			break;
		if (rl == 0)
			rel = canon;
		else if (strncmp(canon, opts->root, rl) == 0 && canon[rl] == '/')
			rel = canon + rl + 1;
		else
			continue;	/* outside the root: discarded (§16.2 step 7) */
		if (!*rel)
			continue;	/* the root directory itself */

		if (archive_entry_hardlink(e))
			r = extract_hardlink(&x, e, rel, prob);
		else if (archive_entry_filetype(e) == AE_IFDIR) {
			r = ensure_dir(&x, rel, (archive_entry_perm(e) & 0777) | 0700);
			if (r == -ENOTDIR || r == -EEXIST || r == -ELOOP) {
				prob_set(prob, archive_entry_pathname(e), 0, 0, NULL);
				r = -EINVAL;
			}
		} else if (archive_entry_filetype(e) == AE_IFLNK)
			r = extract_symlink(&x, e, rel, prob);
		else
			r = extract_file(&x, a, &rd, e, rel, prob);
		if (r == -ELOOP || r == -ENOTDIR) {
			/* a symlink (or a file) in the way of this entry: refused */
			if (!prob->entry[0])
				prob_set(prob, archive_entry_pathname(e), 0, 0, NULL);
			r = -ELOOP;
		}
		if (r >= 0)
			n++;
	}
	extractor_done(&x);
	reader_done(&rd);
	utf8_leave(&loc);
	return r < 0 ? r : n;
}

/* ---- writing 7z ---------------------------------------------------------------- */

struct writer {
	int fd;
	int err;
	struct archive *a;
	struct archive_entry *e;
	void *buf;
	dev_t dev;		/* the source's file system: other mounts are skipped */
	int n;
};

static la_ssize_t
wr_write(struct archive *a, void *userdata, const void *buf, size_t n)
{
	struct writer *w = userdata;
	const char *p = buf;
	size_t left = n;

	while (left > 0) {
		ssize_t l = write(w->fd, p, left);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			archive_set_error(a, errno, "write error");
			return -1;
		}
		p += l;
		left -= (size_t)l;
	}
	return (la_ssize_t)n;
}

static int
write_error(struct writer *w, struct arc_problem *prob)
{
	prob_set(prob, NULL, 0, 0, archive_error_string(w->a));
	if (w->err)
		return -w->err;
	if (archive_errno(w->a) == ENOMEM)
		return -ENOMEM;
	return -EBADMSG;
}

static int add_object(struct writer *w, int parent_fd, const char *name, const char *apath,
    unsigned depth, struct arc_problem *prob);

static int
add_children(struct writer *w, int dir_fd, const char *apath, unsigned depth,
    struct arc_problem *prob)
{
	_cleanup_(closedirp) DIR *d = NULL;
	int r;

	r = opendir_at(dir_fd, &d);
	if (r < 0)
		return r;
	for (;;) {
		_cleanup_free_ char *child = NULL;
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				return -errno;
			return 0;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
		    pathsafe_is_tmp_name(de->d_name))
			continue;
		if (asprintf(&child, "%s/%s", apath, de->d_name) < 0)
			return -ENOMEM;
		r = add_object(w, dirfd(d), de->d_name, child, depth + 1, prob);
		if (r < 0)
			return r;
	}
}

static int
add_file_data(struct writer *w, int fd, int64_t size, struct arc_problem *prob)
{
	int64_t done = 0;

	while (done < size) {
		size_t want = size - done > READ_BLOCK ? READ_BLOCK : (size_t)(size - done);
		ssize_t l = read(fd, w->buf, want);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (l == 0) {
			/* the file shrank while being read: pad to the size announced */
			memset(w->buf, 0, want);
			l = (ssize_t)want;
		}
		if (archive_write_data(w->a, w->buf, (size_t)l) != l)
			return write_error(w, prob);
		done += l;
	}
	return 0;
}

static int
add_object(struct writer *w, int parent_fd, const char *name, const char *apath, unsigned depth,
    struct arc_problem *prob)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (depth > WALK_DEPTH_MAX)
		return -ENAMETOOLONG;
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT && depth > 0 ? 0 : -errno;	/* vanished: skip */
	if (st.st_dev != w->dev && depth > 0)
		return 0;		/* another mount */
	if (S_ISREG(st.st_mode)) {
		/* O_NONBLOCK: never hang on something swapped for a FIFO */
		fd = openat(parent_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT && depth > 0 ? 0 : -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return 0;
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else if (S_ISDIR(st.st_mode)) {
		fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT && depth > 0 ? 0 : -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
	} else if (!S_ISLNK(st.st_mode)) {
		return 0;	/* FIFOs, sockets, devices */
	}

	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, apath);
	archive_entry_copy_stat(w->e, &st);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t l = readlinkat(parent_fd, name, target, sizeof(target) - 1);

		if (l < 0)
			return errno == ENOENT ? 0 : -errno;
		target[l] = '\0';
		archive_entry_set_symlink(w->e, target);
		archive_entry_set_size(w->e, 0);
	} else if (!S_ISREG(st.st_mode))
		archive_entry_set_size(w->e, 0);
	if (archive_write_header(w->a, w->e) != ARCHIVE_OK)
		return write_error(w, prob);
	w->n++;
	if (S_ISREG(st.st_mode)) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return -errno;
		r = add_file_data(w, fd, st.st_size, prob);
		if (r < 0)
			return r;
		if (archive_write_finish_entry(w->a) != ARCHIVE_OK)
			return write_error(w, prob);
		return 0;
	}
	if (archive_write_finish_entry(w->a) != ARCHIVE_OK)
		return write_error(w, prob);
	if (S_ISDIR(st.st_mode))
		return add_children(w, fd, apath, depth, prob);
	return 0;
}

int
arc_compress_7z(int parent_fd, const char *name, int out_fd, int level, struct arc_problem *prob)
{
	struct writer w = { .fd = out_fd };
	struct utf8_scope loc;
	struct stat st;
	char lv[8];
	int r;

	if (level < 0 || level > 9 || !name || !*name || strchr(name, '/'))
		return -EINVAL;
	if (fstat(parent_fd, &st) < 0)
		return -errno;
	w.dev = st.st_dev;
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -ENOENT;
	w.dev = st.st_dev;
	(void)snprintf(lv, sizeof(lv), "%d", level);

	utf8_enter(&loc);
	w.buf = malloc(READ_BLOCK);
	w.a = archive_write_new();
	w.e = archive_entry_new();
	if (!w.buf || !w.a || !w.e) {
		r = -ENOMEM;
		goto out;
	}
	/* no padding of the last block: the file is exactly the 7z stream */
	if (archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_set_format_7zip(w.a) != ARCHIVE_OK ||
	    archive_write_set_format_option(w.a, "7zip", "compression", "lzma2") != ARCHIVE_OK ||
	    archive_write_set_format_option(w.a, "7zip", "compression-level", lv) != ARCHIVE_OK ||
	    archive_write_open2(w.a, &w, NULL, wr_write, NULL, NULL) != ARCHIVE_OK) {
		r = write_error(&w, prob);
		goto out;
	}
	r = add_object(&w, parent_fd, name, name, 0, prob);
	if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
		r = write_error(&w, prob);
out:
	if (w.e)
		archive_entry_free(w.e);
	if (w.a)
		(void)archive_write_free(w.a);
	free(w.buf);
	utf8_leave(&loc);
	return r < 0 ? r : w.n;
}

/* ---- SHA-256 ------------------------------------------------------------------- */

int
arc_sha256_fd(int fd, char ret[static ARC_SHA256_HEX_LEN + 1])
{
	_cleanup_free_ unsigned char *buf = malloc(READ_BLOCK);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		r = -EIO;
	while (r == 0) {
		ssize_t l = read(fd, buf, READ_BLOCK);

		if (l < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (l == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)l) != 1)
			r = -EIO;
	}
	if (r == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32))
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < mdlen; i++)
		(void)snprintf(ret + 2 * i, 3, "%02x", md[i]);
	return 0;
}
