/* SPDX-License-Identifier: MIT */
/*
 * archive/: scanning, extracting and writing archives, SHA-256. The test
 * archives are made here with libarchive's writer (including the hostile
 * ones the product must refuse), in zip, 7z, tar and compressed tar.
 */
#include "autoconf.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "archive/archive.h"
#include "common/util.h"
#include "helpers.h"
#include "pathsafe/pathsafe.h"

static struct tmpdir *td;

static void
setup(void)
{
	td = tmpdir_new();
	tmpdir_mkdir(td, "out");
}

static void
teardown(void)
{
	td = tmpdir_free(td);
}

/* ---- building test archives -------------------------------------------------------- */

enum kind { K_FILE, K_DIR, K_SYMLINK, K_HARDLINK, K_FIFO, K_CHR };

struct item {
	enum kind kind;
	const char *name;
	const char *data;	/* file content, or link target */
	int64_t declared;	/* 0: strlen(data) */
};

enum fmt { F_ZIP, F_7Z, F_TAR, F_TGZ, F_TXZ, F_TZST, F_MAX };
static const char *const fmt_names[F_MAX] = { "zip", "7z", "tar", "tar.gz", "tar.xz", "tar.zst" };

/* Write the items as an archive file rel in td; returns its size. */
static int64_t
make_archive(const char *rel, enum fmt f, const struct item *items, size_t n)
{
	_cleanup_free_ char *path = tmpdir_join(td, rel);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct stat st;

	ck_assert_ptr_nonnull(a);
	switch (f) {
	case F_ZIP:
		ck_assert_int_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
		break;
	case F_7Z:
		ck_assert_int_eq(archive_write_set_format_7zip(a), ARCHIVE_OK);
		break;
	default:
		ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
		if (f == F_TGZ)
			ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		if (f == F_TXZ)
			ck_assert_int_eq(archive_write_add_filter_xz(a), ARCHIVE_OK);
		if (f == F_TZST)
			ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
		break;
	}
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct item *it = &items[i];
		size_t len = it->data ? strlen(it->data) : 0;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, it->name);
		archive_entry_set_mtime(e, 1700000000, 0);
		switch (it->kind) {
		case K_FILE:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0640);
			archive_entry_set_size(e, it->declared ? it->declared : (int64_t)len);
			break;
		case K_DIR:
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case K_SYMLINK:
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, it->data);
			len = 0;
			break;
		case K_HARDLINK:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, it->data);
			archive_entry_set_size(e, 0);
			len = 0;
			break;
		case K_FIFO:
			archive_entry_set_filetype(e, AE_IFIFO);
			archive_entry_set_perm(e, 0644);
			break;
		case K_CHR:
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		}
		ck_assert_int_ge(archive_write_header(a, e), ARCHIVE_WARN);
		if (it->kind == K_FILE && len)
			ck_assert_int_eq(archive_write_data(a, it->data, len), (la_ssize_t)len);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

static int
open_rel(const char *rel)
{
	int fd = openat(td->fd, rel, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static const struct arc_limits no_limits = { 0, 0, 0 };

/* scan + extract below the found root into td/out; returns extract's result */
static int
populate_like(const char *rel, const struct arc_limits *lim, struct arc_scan *scan,
    struct arc_problem *prob)
{
	_cleanup_close_ int fd = open_rel(rel), out = -1;
	struct stat st;
	int r;

	ck_assert_int_eq(fstat(fd, &st), 0);
	r = arc_scan(fd, (uint64_t)st.st_size, lim, scan, prob);
	if (r < 0)
		return r;
	out = openat(td->fd, "out", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(out, 0);
	{
		struct arc_extract_opts o = {
			.root = scan->found ? scan->root : "", .uid = (uid_t)-1,
			.gid = (gid_t)-1, .lim = lim,
		};

		return arc_extract(fd, out, &o, prob);
	}
}

static char *
out_read(const char *rel)
{
	_cleanup_free_ char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "out/%s", rel), 0);
	return tmpdir_read(td, p);
}

static bool
out_exists(const char *rel)
{
	_cleanup_free_ char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "out/%s", rel), 0);
	return tmpdir_exists(td, p);
}

/* ---- names ------------------------------------------------------------------------ */

START_TEST(test_entry_names)
{
	static const struct {
		const char *in, *out;	/* out NULL: refused */
	} cases[] = {
		{ "server.properties", "server.properties" },
		{ "./server.properties", "server.properties" },
		{ "./world//region/./r.0.0.mca", "world/region/r.0.0.mca" },
		{ "world/", "world" },
		{ "./", "" },
		{ ".", "" },
		{ "a\\..\\b", "a\\..\\b" },		/* backslashes are name bytes on Linux */
		{ "..", NULL },
		{ "../x", NULL },
		{ "a/../../x", NULL },
		{ "a/..", NULL },
		{ "/etc/passwd", NULL },
		{ "//etc", NULL },
		{ "", NULL },
		{ "a/" PATHSAFE_TMP_PREFIX "x", NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *c = NULL;
		int r = arc_entry_name(cases[i].in, &c);

		if (cases[i].out) {
			ck_assert_msg(r == 0, "'%s' refused: %d", cases[i].in, r);
			ck_assert_str_eq(c, cases[i].out);
		} else
			ck_assert_msg(r == -EINVAL, "'%s' accepted: %d", cases[i].in, r);
	}
}
END_TEST

/* ---- good archives, every format -------------------------------------------------------- */

static const struct item world[] = {
	{ K_DIR, "backup/", NULL, 0 },
	{ K_FILE, "readme.txt", "outside the server directory\n", 0 },
	{ K_DIR, "backup/survival/", NULL, 0 },
	{ K_FILE, "backup/survival/server.properties", "motd=hello\n", 0 },
	{ K_FILE, "backup/survival/world/level.dat", "LEVEL", 0 },
	{ K_FILE, "backup/survival/world/region/r.0.0.mca", "REGION", 0 },
	{ K_FILE, "backup/survival/\xe4\xb8\x96\xe7\x95\x8c.txt", "utf-8 name", 0 },
	{ K_SYMLINK, "backup/survival/latest", "world/level.dat", 0 },
	{ K_HARDLINK, "backup/survival/world/level.dat_old", "backup/survival/world/level.dat", 0 },
	{ K_FILE, "backup/survival/plugins/deep/server.properties", "not this one\n", 0 },
	{ K_FILE, "backup/survival/empty.txt", "", 0 },
};

START_TEST(test_formats_scan_and_extract)
{
	enum fmt f = (enum fmt)_i;
	struct arc_scan s = { 0 };
	struct arc_problem p;
	char name[32];
	char *c;
	struct stat st;
	int r;

	(void)snprintf(name, sizeof(name), "world.%s", fmt_names[f]);
	make_archive(name, f, world, ELEMENTSOF(world));
	r = populate_like(name, &no_limits, &s, &p);
	ck_assert_msg(r >= 0, "%s: %d (%s %s)", name, r, p.entry, p.detail);
	ck_assert(s.found);
	ck_assert_str_eq(s.root, "backup/survival");	/* the shallowest one */
	ck_assert_uint_eq(s.n_entries, ELEMENTSOF(world));
	ck_assert_uint_eq(s.total_size, 29 + 11 + 5 + 6 + 10 + 13);

	c = out_read("server.properties");
	ck_assert_str_eq(c, "motd=hello\n");
	free(c);
	c = out_read("world/region/r.0.0.mca");
	ck_assert_str_eq(c, "REGION");
	free(c);
	c = out_read("\xe4\xb8\x96\xe7\x95\x8c.txt");
	ck_assert_str_eq(c, "utf-8 name");
	free(c);
	c = out_read("empty.txt");
	ck_assert_str_eq(c, "");
	free(c);
	c = out_read("plugins/deep/server.properties");
	ck_assert_str_eq(c, "not this one\n");
	free(c);
	/* outside the chosen root: discarded */
	ck_assert(!out_exists("readme.txt"));
	ck_assert(!out_exists("backup"));

	/* the symlink stays a symlink, the hard link shares the inode (7z has neither) */
	if (f != F_7Z) {
		char target[64] = "";
		struct stat a, b;

		ck_assert_int_eq(fstatat(td->fd, "out/latest", &st, AT_SYMLINK_NOFOLLOW), 0);
		ck_assert(S_ISLNK(st.st_mode));
		ck_assert_int_gt(readlinkat(td->fd, "out/latest", target, sizeof(target) - 1), 0);
		ck_assert_str_eq(target, "world/level.dat");
		ck_assert_int_eq(fstatat(td->fd, "out/world/level.dat", &a, 0), 0);
		ck_assert_int_eq(fstatat(td->fd, "out/world/level.dat_old", &b, 0), 0);
		if (f != F_ZIP)	/* zip stores hard links as copies */
			ck_assert_uint_eq(a.st_ino, b.st_ino);
	}
	/* permissions without set-id bits (at least u+rw), mtime kept */
	ck_assert_int_eq(fstatat(td->fd, "out/server.properties", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(st.st_mtime, 1700000000);
	arc_scan_done(&s);
}
END_TEST

START_TEST(test_later_entry_replaces_earlier)
{
	static const struct item items[] = {
		{ K_FILE, "server.properties", "first", 0 },
		{ K_FILE, "server.properties", "second", 0 },
		{ K_SYMLINK, "a", "server.properties", 0 },
		{ K_FILE, "a", "file now", 0 },
	};
	struct arc_scan s = { 0 };
	struct arc_problem p;
	char *c;

	make_archive("dup.tar", F_TAR, items, ELEMENTSOF(items));
	ck_assert_int_eq(populate_like("dup.tar", &no_limits, &s, &p), 4);
	ck_assert_str_eq(s.root, "");
	c = out_read("server.properties");
	ck_assert_str_eq(c, "second");
	free(c);
	c = out_read("a");
	ck_assert_str_eq(c, "file now");
	free(c);
	arc_scan_done(&s);
}
END_TEST

START_TEST(test_no_server_properties)
{
	static const struct item items[] = {
		{ K_FILE, "world/level.dat", "x", 0 },
		{ K_DIR, "server.properties", NULL, 0 },	/* a directory does not count */
	};
	_cleanup_close_ int fd = -1;
	struct arc_scan s = { 0 };

	make_archive("none.zip", F_ZIP, items, ELEMENTSOF(items));
	fd = open_rel("none.zip");
	ck_assert_int_eq(arc_scan(fd, 100, &no_limits, &s, NULL), 0);
	ck_assert(!s.found);
	ck_assert_ptr_null(s.root);
	arc_scan_done(&s);
}
END_TEST

START_TEST(test_not_an_archive)
{
	static const char *const junk[] = { "", "plain text, not an archive\n",
		"PK\x03\x04truncated zip", "7z\xbc\xaf\x27\x1c broken" };
	struct arc_scan s = { 0 };
	struct arc_problem p;

	for (size_t i = 0; i < ELEMENTSOF(junk); i++) {
		_cleanup_close_ int fd = -1;

		tmpdir_write(td, "junk.zip", junk[i]);
		fd = open_rel("junk.zip");
		ck_assert_msg(arc_scan(fd, 10, &no_limits, &s, &p) == -EBADMSG, "junk %zu", i);
		ck_assert(p.detail[0] != '\0');
	}
}
END_TEST

/* ---- hostile archives ------------------------------------------------------------------- */

static const struct {
	const char *why;
	struct item items[3];
	int scan;		/* arc_scan's answer */
	int extract;		/* arc_extract's answer when scan passes */
	const char *entry;	/* prob.entry */
} evil[] = {
	{ "zip-slip", { { K_FILE, "server.properties", "x", 0 },
	  { K_FILE, "../../evil.txt", "pwned", 0 } }, -EINVAL, 0, "../../evil.txt" },
	{ "slip in the middle", { { K_FILE, "server.properties", "x", 0 },
	  { K_FILE, "world/../../evil.txt", "pwned", 0 } }, -EINVAL, 0, "world/../../evil.txt" },
	{ "absolute path", { { K_FILE, "server.properties", "x", 0 },
	  { K_FILE, "/tmp/evil.txt", "pwned", 0 } }, -EINVAL, 0, "/tmp/evil.txt" },
	{ "symlink to /etc", { { K_FILE, "server.properties", "x", 0 },
	  { K_SYMLINK, "etc", "/etc", 0 } }, -ELOOP, 0, "etc" },
	{ "symlink up", { { K_FILE, "server.properties", "x", 0 },
	  { K_SYMLINK, "up", "../../..", 0 } }, -ELOOP, 0, "up" },
	{ "symlink with .. inside", { { K_FILE, "server.properties", "x", 0 },
	  { K_SYMLINK, "w/l", "x/../../y", 0 } }, -ELOOP, 0, "w/l" },
	{ "hardlink up", { { K_FILE, "server.properties", "x", 0 },
	  { K_HARDLINK, "pw", "../../../etc/passwd", 0 } }, -ELOOP, 0, "pw" },
	{ "hardlink absolute", { { K_FILE, "server.properties", "x", 0 },
	  { K_HARDLINK, "pw", "/etc/passwd", 0 } }, -ELOOP, 0, "pw" },
	{ "hardlink to nothing", { { K_FILE, "server.properties", "x", 0 },
	  { K_HARDLINK, "pw", "missing", 0 } }, 0, -ELOOP, "pw" },
	{ "character device", { { K_FILE, "server.properties", "x", 0 },
	  { K_CHR, "null", NULL, 0 } }, -ENODEV, 0, "null" },
	{ "fifo", { { K_FILE, "server.properties", "x", 0 },
	  { K_FIFO, "pipe", NULL, 0 } }, -ENODEV, 0, "pipe" },
	{ "write through an inside symlink", { { K_FILE, "server.properties", "x", 0 },
	  { K_SYMLINK, "link", "sub", 0 }, { K_FILE, "link/evil.txt", "pwned", 0 } }, 0, -ELOOP,
	  "link/evil.txt" },
	{ "reserved temporary name", { { K_FILE, "server.properties", "x", 0 },
	  { K_FILE, PATHSAFE_TMP_PREFIX "0123456789abcdef", "x", 0 } }, -EINVAL, 0,
	  PATHSAFE_TMP_PREFIX "0123456789abcdef" },
};

START_TEST(test_hostile_archives_refused)
{
	enum fmt f = _i % 2 ? F_TAR : F_TGZ;
	size_t k = (size_t)_i / 2, n = 0;
	_cleanup_close_ int fd = -1, out = -1;
	struct arc_scan s = { 0 };
	struct arc_problem p;
	int r;

	while (n < 3 && evil[k].items[n].name)
		n++;
	make_archive("evil", f, evil[k].items, n);
	fd = open_rel("evil");
	r = arc_scan(fd, 1000, &no_limits, &s, &p);
	ck_assert_msg(r == evil[k].scan, "%s: scan %d", evil[k].why, r);
	if (r == 0) {
		struct arc_extract_opts o = { .root = "", .uid = (uid_t)-1, .gid = (gid_t)-1,
			.lim = &no_limits };

		out = openat(td->fd, "out", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = arc_extract(fd, out, &o, &p);
		ck_assert_msg(r == evil[k].extract, "%s: extract %d", evil[k].why, r);
		arc_scan_done(&s);
	}
	ck_assert_str_eq(p.entry, evil[k].entry);
	/* nothing ever lands outside the extraction directory */
	ck_assert(!tmpdir_exists(td, "evil.txt"));
	ck_assert(access("/tmp/evil.txt", F_OK) < 0);
	ck_assert(!out_exists("sub/evil.txt"));
}
END_TEST

START_TEST(test_limits)
{
	struct item items[12];
	_cleanup_close_ int fd = -1;
	struct arc_scan s = { 0 };
	struct arc_problem p;
	struct arc_limits lim;
	int64_t size;
	char names[12][16];

	for (size_t i = 0; i < ELEMENTSOF(items); i++) {
		(void)snprintf(names[i], sizeof(names[i]), "f%zu", i);
		items[i] = (struct item){ K_FILE, names[i], "0123456789", 0 };
	}
	items[0].name = "server.properties";
	size = make_archive("many.zip", F_ZIP, items, ELEMENTSOF(items));
	fd = open_rel("many.zip");

	lim = (struct arc_limits){ .max_entries = 12 };
	ck_assert_int_eq(arc_scan(fd, (uint64_t)size, &lim, &s, &p), 0);
	arc_scan_done(&s);
	lim.max_entries = 11;
	ck_assert_int_eq(arc_scan(fd, (uint64_t)size, &lim, &s, &p), -E2BIG);
	ck_assert_uint_eq(p.value, 12);
	ck_assert_uint_eq(p.limit, 11);

	lim = (struct arc_limits){ .max_total_size = 120 };
	ck_assert_int_eq(arc_scan(fd, (uint64_t)size, &lim, &s, &p), 0);
	arc_scan_done(&s);
	lim.max_total_size = 119;
	ck_assert_int_eq(arc_scan(fd, (uint64_t)size, &lim, &s, &p), -EFBIG);
	ck_assert_uint_eq(p.limit, 119);

	/* a 10 MiB file of zeros packs to a few KiB: a bomb by ratio */
	{
		char *zeros = calloc(1, 10 * 1024 * 1024 + 1);
		struct item bomb[2] = { { K_FILE, "server.properties", "x", 0 },
			{ K_FILE, "zeros", NULL, 0 } };
		_cleanup_close_ int bfd = -1;

		ck_assert_ptr_nonnull(zeros);
		memset(zeros, 'a', 10 * 1024 * 1024);
		bomb[1].data = zeros;
		size = make_archive("bomb.zip", F_ZIP, bomb, 2);
		free(zeros);
		bfd = open_rel("bomb.zip");
		lim = (struct arc_limits){ .max_ratio = 100 };
		ck_assert_int_eq(arc_scan(bfd, (uint64_t)size, &lim, &s, &p), -EDOM);
		ck_assert_uint_gt(p.value, 100);
		lim = (struct arc_limits){ .max_total_size = 1024 * 1024 };
		ck_assert_int_eq(arc_scan(bfd, (uint64_t)size, &lim, &s, &p), -EFBIG);
		/* extraction counts what it writes too, whatever the headers said */
		{
			struct arc_extract_opts o = { .root = "", .uid = (uid_t)-1,
				.gid = (gid_t)-1, .lim = &lim };
			_cleanup_close_ int out = openat(td->fd, "out", O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC);

			ck_assert_int_eq(arc_extract(bfd, out, &o, &p), -EFBIG);
			ck_assert_str_eq(p.entry, "zeros");
		}
	}
}
END_TEST

/* ---- compress ------------------------------------------------------------------------- */

START_TEST(test_compress_roundtrip)
{
	_cleanup_close_ int out = -1, arc = -1;
	struct arc_scan s = { 0 };
	struct arc_problem p;
	char target[64] = "";
	struct stat st;
	char *c;
	int n;

	tmpdir_write(td, "srv/data/server.properties", "motd=x\n");
	tmpdir_write(td, "srv/data/world/level.dat", "LEVEL");
	tmpdir_write(td, "srv/data/\xe4\xb8\x96\xe7\x95\x8c.txt", "utf-8");
	tmpdir_write(td, "srv/data/" PATHSAFE_TMP_PREFIX "inflight", "partial upload");
	tmpdir_symlink(td, "srv/data/level", "world/level.dat");
	ck_assert_int_eq(mkfifoat(td->fd, "srv/data/fifo", 0644), 0);
	tmpdir_write(td, "srv/docker-compose.yml", "services: {}\n");

	arc = openat(td->fd, "srv.7z", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(arc, 0);
	{
		_cleanup_close_ int parent = openat(td->fd, "srv", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);

		n = arc_compress_7z(parent, "data", arc, 1, &p);
		/* data, world, 3 files, 1 link */
		ck_assert_msg(n == 6, "compress: %d (%s)", n, p.detail);
	}
	ck_assert_int_eq(fstat(arc, &st), 0);
	ck_assert_int_gt(st.st_size, 32);

	/* compressing a missing object or a bad level */
	ck_assert_int_eq(arc_compress_7z(td->fd, "missing", arc, 5, &p), -ENOENT);
	ck_assert_int_eq(arc_compress_7z(td->fd, "srv", arc, 10, &p), -EINVAL);

	/* read it back with the populate path: one top-level "data" entry */
	ck_assert_int_eq(arc_scan(arc, (uint64_t)st.st_size, &no_limits, &s, &p), 0);
	ck_assert(s.found);
	ck_assert_str_eq(s.root, "data");
	out = openat(td->fd, "out", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		struct arc_extract_opts o = { .root = "", .uid = (uid_t)-1, .gid = (gid_t)-1,
			.lim = &no_limits };

		ck_assert_int_eq(arc_extract(arc, out, &o, &p), 6);
	}
	c = out_read("data/world/level.dat");
	ck_assert_str_eq(c, "LEVEL");
	free(c);
	c = out_read("data/\xe4\xb8\x96\xe7\x95\x8c.txt");
	ck_assert_str_eq(c, "utf-8");
	free(c);
	ck_assert(!out_exists("data/fifo"));
	ck_assert(!out_exists("data/" PATHSAFE_TMP_PREFIX "inflight"));
	ck_assert_int_gt(readlinkat(td->fd, "out/data/level", target, sizeof(target) - 1), 0);
	ck_assert_str_eq(target, "world/level.dat");
	arc_scan_done(&s);
}
END_TEST

START_TEST(test_compress_single_file)
{
	_cleanup_close_ int arc = -1, out = -1;
	struct arc_scan s = { 0 };
	struct arc_problem p;
	struct stat st;
	char *c;

	tmpdir_write(td, "srv/server.properties", "motd=single\n");
	arc = openat(td->fd, "one.7z", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(arc, 0);
	{
		_cleanup_close_ int parent = openat(td->fd, "srv", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);

		ck_assert_int_eq(arc_compress_7z(parent, "server.properties", arc, 5, &p), 1);
	}
	ck_assert_int_eq(fstat(arc, &st), 0);
	ck_assert_int_eq(arc_scan(arc, (uint64_t)st.st_size, &no_limits, &s, &p), 0);
	ck_assert_str_eq(s.root, "");
	out = openat(td->fd, "out", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		struct arc_extract_opts o = { .root = "", .uid = (uid_t)-1, .gid = (gid_t)-1,
			.lim = &no_limits };

		ck_assert_int_eq(arc_extract(arc, out, &o, &p), 1);
	}
	c = out_read("server.properties");
	ck_assert_str_eq(c, "motd=single\n");
	free(c);
	arc_scan_done(&s);
}
END_TEST

/* ---- SHA-256 ----------------------------------------------------------------------------- */

START_TEST(test_sha256_vectors)
{
	static const struct {
		size_t n;
		char c;
		const char *hex;
	} v[] = {
		{ 0, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ 3, 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ 1000000, 'a',
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char *content = malloc(v[i].n + 1);
		char hex[ARC_SHA256_HEX_LEN + 1];
		_cleanup_close_ int fd = -1;

		ck_assert_ptr_nonnull(content);
		if (v[i].c)
			memset(content, v[i].c, v[i].n);
		else
			memcpy(content, "abc", v[i].n);
		content[v[i].n] = '\0';
		tmpdir_write(td, "f", content);
		free(content);
		fd = open_rel("f");
		ck_assert_int_eq(arc_sha256_fd(fd, hex), 0);
		ck_assert_str_eq(hex, v[i].hex);
	}
}
END_TEST

static Suite *
archive_suite(void)
{
	Suite *s = suite_create("archive");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_entry_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("extract");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_formats_scan_and_extract, 0, F_MAX);
	tcase_add_test(tc, test_later_entry_replaces_earlier);
	tcase_add_test(tc, test_no_server_properties);
	tcase_add_test(tc, test_not_an_archive);
	suite_add_tcase(s, tc);

	tc = tcase_create("refuse");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_hostile_archives_refused, 0, (int)(2 * ELEMENTSOF(evil)));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("compress");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_compress_roundtrip);
	tcase_add_test(tc, test_compress_single_file);
	tcase_add_test(tc, test_sha256_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int nfailed;

	/* the test archives are written with UTF-8 names (7z stores UTF-16) */
	if (!setlocale(LC_ALL, "C.UTF-8")) {
		fprintf(stderr, "check_archive: no C.UTF-8 locale\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(archive_suite());
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
