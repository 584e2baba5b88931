/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

struct tmpdir *
tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	struct tmpdir *td = calloc(1, sizeof(*td));

	ck_assert_ptr_nonnull(td);
	ck_assert_int_ge(asprintf(&td->path, "%s/mcadmin-test-XXXXXX", base && *base ? base : "/tmp"),
	    0);
	ck_assert_ptr_nonnull(mkdtemp(td->path));
	td->fd = open(td->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(td->fd, 0);
	return td;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? 0 : 0;
	(void)chmod(path, 0600);
	return unlink(path) < 0 ? 0 : 0;
}

struct tmpdir *
tmpdir_free(struct tmpdir *td)
{
	if (!td)
		return NULL;
	if (td->fd >= 0)
		close(td->fd);
	/* FTW_PHYS: never follow symlinks out of the tree; FTW_DEPTH: children first */
	(void)nftw(td->path, rm_cb, 32, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);
	free(td->path);
	free(td);
	return NULL;
}

char *
tmpdir_join(struct tmpdir *td, const char *rel)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", td->path, rel), 0);
	return p;
}

static void
mkparents(struct tmpdir *td, const char *rel)
{
	char *copy = strdup(rel), *slash;

	ck_assert_ptr_nonnull(copy);
	for (slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(td->fd, copy, 0755) < 0)
			ck_assert_int_eq(errno, EEXIST);
		*slash = '/';
	}
	free(copy);
}

void
tmpdir_mkdir(struct tmpdir *td, const char *rel)
{
	mkparents(td, rel);
	if (mkdirat(td->fd, rel, 0755) < 0)
		ck_assert_int_eq(errno, EEXIST);
}

void
tmpdir_write(struct tmpdir *td, const char *rel, const char *content)
{
	int fd;

	mkparents(td, rel);
	fd = openat(td->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

void
tmpdir_symlink(struct tmpdir *td, const char *rel, const char *target)
{
	mkparents(td, rel);
	ck_assert_int_eq(symlinkat(target, td->fd, rel), 0);
}

char *
tmpdir_read(struct tmpdir *td, const char *rel)
{
	int fd = openat(td->fd, rel, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t l;

	if (fd < 0)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		l = read(fd, buf + len, 4096);
		ck_assert_int_ge(l, 0);
		len += (size_t)l;
	} while (l > 0);
	close(fd);
	buf[len] = '\0';
	return buf;
}

bool
tmpdir_exists(struct tmpdir *td, const char *rel)
{
	struct stat st;

	return fstatat(td->fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

const char *
test_srcdir(void)
{
	const char *s = getenv("abs_top_srcdir");

	return s && *s ? s : ".";
}

const char *
test_builddir(void)
{
	const char *s = getenv("abs_top_builddir");

	return s && *s ? s : ".";
}
