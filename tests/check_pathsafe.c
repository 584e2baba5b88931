/* SPDX-License-Identifier: MIT */
/*
 * pathsafe/: path syntax, resolution beneath a base fd (openat2 and the
 * component walk, forced through the test hook: every resolution test runs
 * in both modes), the symlink policy, listings, create/delete/rename/chown
 * and atomic writes. Every test ends (teardown) by checking that nothing
 * outside the base changed and that no fd leaked.
 *
 * Layout built by setup(), under a fresh temporary directory T:
 *   T/outside/{canary,sub/deep}   outside the base: must never change
 *   T/base_x/secret               sibling whose name extends the base's
 *   T/base/                       the base (base_fd)
 *     notes.txt world/{level.dat,region/r.0.0.mca,link_up->../notes.txt}
 *     %2e%2e  back\slash  .hidden  empty/  fifo
 *     link_etc->/etc  link_out->../outside  link_out_file->../outside/canary
 *     link_sib->../base_x  link_updown->../base/notes.txt  link_in_dir->world
 *     link_in_file->notes.txt  link_in_abs->T/base/notes.txt  link_abs_in->/world
 *     broken->does-not-exist  loop->loop
 * Destructive operations through a link are only aimed at T/outside, or at
 * names that do not exist in /etc, so a regression cannot damage the host.
 */
#include "autoconf.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "helpers.h"
#include "pathsafe/pathsafe-internal.h"
#include "pathsafe/pathsafe.h"

enum mode {
	MODE_OPENAT2,		/* the kernel's openat2()/renameat2() */
	MODE_FALLBACK,		/* the component walk and check-then-rename */
	MODE_MAX,
};

#define ETC_PROBE	"mcadmin-pathsafe-probe"	/* never exists in /etc */

static struct tmpdir *td;
static int base_fd = -1;
static char *outside_before;	/* digest of everything outside the base */
static int fds_before;

static void
set_mode(int i)
{
	pathsafe_test_force_fallback(i % MODE_MAX == MODE_FALLBACK);
}

static const char *
mode_name(int i)
{
	return i % MODE_MAX == MODE_FALLBACK ? "fallback" : "openat2";
}

/* ---- "nothing outside changed" --------------------------------------------- */

static char *digest_lines[256];
static size_t digest_n;

static int
digest_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(td->path);
	_cleanup_free_ char *content = NULL;
	char target[PATH_MAX] = "";
	char *line;

	(void)flag;
	(void)ftw;
	if (!*rel)
		return FTW_CONTINUE;
	if (streq(rel, "/base"))
		return FTW_SKIP_SUBTREE;
	if (S_ISREG(st->st_mode))
		content = tmpdir_read(td, rel + 1);
	if (S_ISLNK(st->st_mode))
		ck_assert_int_ge(readlink(path, target, sizeof(target) - 1), 0);
	ck_assert_uint_lt(digest_n, ELEMENTSOF(digest_lines));
	/* directories' st_size moves with their entries, which have lines of their own */
	ck_assert_int_ge(asprintf(&line, "%s mode=%o uid=%u gid=%u ino=%llu size=%lld '%s' '%s'",
	    rel, (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid,
	    (unsigned long long)st->st_ino,
	    S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, content ? content : "", target),
	    0);
	digest_lines[digest_n++] = line;
	return FTW_CONTINUE;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything under T except T/base: names, modes, owners, inodes and contents. */
static char *
outside_digest(void)
{
	struct strbuf sb = STRBUF_INIT;

	digest_n = 0;
	ck_assert_int_eq(nftw(td->path, digest_cb, 16, FTW_PHYS | FTW_ACTIONRETVAL), 0);
	qsort(digest_lines, digest_n, sizeof(digest_lines[0]), cmp_str);
	for (size_t i = 0; i < digest_n; i++) {
		ck_assert_int_eq(strbuf_puts(&sb, digest_lines[i]), 0);
		ck_assert_int_eq(strbuf_putc(&sb, '\n'), 0);
		free(digest_lines[i]);
	}
	digest_n = 0;
	return strbuf_steal(&sb);
}

/*
 * A regression that writes through link_etc creates only /etc/ETC_PROBE (a
 * file, or the directories ETC_PROBE/x): remove them before failing, so a
 * broken build cannot leave anything behind on the host.
 */
static bool
etc_probe_removed(void)
{
	bool found = access("/etc/" ETC_PROBE, F_OK) == 0;

	if (found) {
		(void)rmdir("/etc/" ETC_PROBE "/x");
		(void)unlink("/etc/" ETC_PROBE "/x");
		if (rmdir("/etc/" ETC_PROBE) < 0)
			(void)unlink("/etc/" ETC_PROBE);
	}
	return found;
}

static void
assert_outside_intact(void)
{
	_cleanup_free_ char *now = outside_digest();

	ck_assert_msg(!etc_probe_removed(), "something was created in /etc through a link");
	ck_assert_str_eq(now, outside_before);
	ck_assert_int_eq(access("/etc/passwd", F_OK), 0);
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- fixture ----------------------------------------------------------------- */

static void
setup(void)
{
	_cleanup_free_ char *abs = NULL;

	umask(022);
	td = tmpdir_new();
	tmpdir_write(td, "outside/canary", "keep");
	tmpdir_write(td, "outside/sub/deep", "deep");
	tmpdir_write(td, "base_x/secret", "sibling");
	tmpdir_write(td, "base/notes.txt", "hello");
	tmpdir_write(td, "base/world/level.dat", "level");
	tmpdir_write(td, "base/world/region/r.0.0.mca", "region");
	tmpdir_write(td, "base/%2e%2e", "pct");
	tmpdir_write(td, "base/back\\slash", "bs");
	tmpdir_write(td, "base/.hidden", "dot");
	tmpdir_mkdir(td, "base/empty");
	tmpdir_symlink(td, "base/link_etc", "/etc");
	tmpdir_symlink(td, "base/link_out", "../outside");
	tmpdir_symlink(td, "base/link_out_file", "../outside/canary");
	tmpdir_symlink(td, "base/link_sib", "../base_x");
	tmpdir_symlink(td, "base/link_updown", "../base/notes.txt");
	tmpdir_symlink(td, "base/link_in_dir", "world");
	tmpdir_symlink(td, "base/link_in_file", "notes.txt");
	tmpdir_symlink(td, "base/world/link_up", "../notes.txt");
	abs = tmpdir_join(td, "base/notes.txt");
	tmpdir_symlink(td, "base/link_in_abs", abs);
	tmpdir_symlink(td, "base/link_abs_in", "/world");	/* absolute; never base-relative */
	tmpdir_symlink(td, "base/broken", "does-not-exist");
	tmpdir_symlink(td, "base/loop", "loop");
	ck_assert_int_eq(mkfifoat(td->fd, "base/fifo", 0644), 0);

	base_fd = openat(td->fd, "base", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(base_fd, 0);
	outside_before = outside_digest();
	fds_before = count_fds();
}

static void
teardown(void)
{
	_cleanup_free_ char *mnt = tmpdir_join(td, "base/mnt_parent/mnt");
	_cleanup_free_ char *bind = tmpdir_join(td, "base/mnt_parent/bind");
	_cleanup_free_ char *now = NULL;
	_cleanup_free_ char *before = TAKE_PTR(outside_before);
	bool probe;
	int fds;

	(void)umount2(bind, MNT_DETACH);	/* test_mount_not_crossed, if it failed */
	(void)umount2(mnt, MNT_DETACH);
	pathsafe_test_force_fallback(false);
	fds = count_fds();
	probe = etc_probe_removed();
	now = outside_digest();
	close(base_fd);
	base_fd = -1;
	td = tmpdir_free(td);
	/* assert only once everything is cleaned up: a failure ends the test */
	ck_assert_msg(!probe, "something was created in /etc through a link");
	ck_assert_int_eq(fds, fds_before);
	ck_assert_str_eq(now, before);
}

/* content of T/base/<rel>, "" when missing (compared with ck_assert_str_eq) */
static char *
base_read(const char *rel)
{
	_cleanup_free_ char *p = NULL;
	char *c;

	ck_assert_int_ge(asprintf(&p, "base/%s", rel), 0);
	c = tmpdir_read(td, p);
	return c ? c : strdup("");
}

static bool
base_exists(const char *rel)
{
	_cleanup_free_ char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "base/%s", rel), 0);
	return tmpdir_exists(td, p);
}

static void
assert_base_content(const char *rel, const char *want)
{
	_cleanup_free_ char *c = base_read(rel);

	ck_assert_str_eq(c, want);
}

/* no atomic-write temporary left in T/base/<rel> */
static void
assert_no_tmp(const char *rel)
{
	int fd = openat(base_fd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	ck_assert_int_ge(fd, 0);
	d = fdopendir(fd);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		ck_assert_msg(!pathsafe_is_tmp_name(de->d_name), "temporary '%s' left in '%s'",
		    de->d_name, rel);
	closedir(d);
}

static void
repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

/* ---- path syntax ---------------------------------------------------------------- */

static const struct {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *out;	/* NULL: refused with -EINVAL */
} norm_cases[] = {
	{ "", 0, "" },					/* the base */
	{ "/", 0, "" },
	{ "///", 0, "" },
	{ "world", 0, "world" },
	{ "/world/level.dat", 0, "world/level.dat" },	/* leading '/' = the base */
	{ "world//region/", 0, "world/region" },	/* '/' runs collapse */
	{ "//etc", 0, "etc" },				/* never the host's /etc (§15.1 quirk) */
	{ "/etc/passwd", 0, "etc/passwd" },
	{ "%2e%2e", 0, "%2e%2e" },			/* decoding is HTTP's job: a name */
	{ "a/%2e%2e/b", 0, "a/%2e%2e/b" },
	{ "back\\slash", 0, "back\\slash" },		/* '\' is a name byte on Linux */
	{ "a\\..\\b", 0, "a\\..\\b" },
	{ "...", 0, "..." },
	{ ".hidden", 0, ".hidden" },
	{ "..x", 0, "..x" },
	{ "x..", 0, "x.." },
	{ " ", 0, " " },
	{ "caf\xc3\xa9/line\nbreak", 0, "caf\xc3\xa9/line\nbreak" },
	{ ".mcadmin-tmpx", 0, ".mcadmin-tmpx" },	/* not the reserved prefix */
	{ "..", 0, NULL },
	{ "/..", 0, NULL },
	{ "../", 0, NULL },
	{ "../x", 0, NULL },
	{ "x/..", 0, NULL },
	{ "x/../y", 0, NULL },
	{ "/world/../../x", 0, NULL },
	{ "world/../notes.txt", 0, NULL },		/* even when it would stay inside */
	{ "a/b/c/..", 0, NULL },
	{ "//..//", 0, NULL },
	{ ".", 0, NULL },
	{ "./", 0, NULL },
	{ "./x", 0, NULL },
	{ "x/.", 0, NULL },
	{ "x/./y", 0, NULL },
	{ "/./", 0, NULL },
	{ ".mcadmin-tmp-", 0, NULL },			/* reserved for atomic writes */
	{ ".mcadmin-tmp-abc", 0, NULL },
	{ "x/.mcadmin-tmp-abc/y", 0, NULL },
	{ "a\0b", 3, NULL },				/* NUL inside the given length */
	{ "\0", 1, NULL },
	{ "notes.txt\0/../x", 15, NULL },
	{ "world/\0", 7, NULL },
};

START_TEST(test_normalize_table)
{
	_cleanup_free_ char *out = NULL;
	const char *in = norm_cases[_i].in;
	size_t len = norm_cases[_i].len ? norm_cases[_i].len : strlen(in);
	int r = pathsafe_path_normalize(in, len, &out);

	if (norm_cases[_i].out) {
		ck_assert_msg(r == 0, "'%s' refused: %d", in, r);
		ck_assert_str_eq(out, norm_cases[_i].out);
	} else {
		ck_assert_msg(r == -EINVAL, "'%s' accepted as '%s'", in, out ? out : "");
		ck_assert_ptr_null(out);
	}
	if (!norm_cases[_i].len)
		ck_assert_int_eq(pathsafe_check_rel(in), norm_cases[_i].out ? 0 : -EINVAL);
}
END_TEST

START_TEST(test_normalize_limits)
{
	static char comp[NAME_MAX + 2], path[PATH_MAX + 64];
	_cleanup_free_ char *out = NULL;
	size_t o = 0;

	ck_assert_int_eq(pathsafe_check_rel(NULL), -EINVAL);
	ck_assert_int_eq(pathsafe_path_normalize(NULL, 0, &out), -EINVAL);

	repeat(comp, 'a', NAME_MAX);
	ck_assert_int_eq(pathsafe_check_rel(comp), 0);
	repeat(comp, 'a', NAME_MAX + 1);
	ck_assert_int_eq(pathsafe_check_rel(comp), -EINVAL);

	/* 16 components of 255 bytes = 4095 = PATH_MAX - 1: the longest accepted */
	repeat(comp, 'b', NAME_MAX);
	path[o++] = '/';
	for (int i = 0; i < 16; i++) {
		memcpy(path + o, comp, NAME_MAX);
		o += NAME_MAX;
		memcpy(path + o, "//", 2);
		o += 2;
	}
	path[o] = '\0';
	ck_assert_int_eq(pathsafe_path_normalize(path, o, &out), 0);
	ck_assert_uint_eq(strlen(out), PATHSAFE_PATH_MAX);
	memcpy(path + o, "x", 2);
	ck_assert_int_eq(pathsafe_check_rel(path), -EINVAL);
	/* an overlong path is refused before touching the filesystem */
	ck_assert_int_eq(pathsafe_open_file(base_fd, path, O_RDONLY), -EINVAL);
	repeat(comp, 'c', NAME_MAX + 1);
	ck_assert_int_eq(pathsafe_open_file(base_fd, comp, O_RDONLY), -EINVAL);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, comp, 0755, 0), -EINVAL);
}
END_TEST

static const struct {
	const char *name;
	size_t len;	/* 0: strlen(name) */
	bool ok;
} name_cases[] = {
	{ "a", 0, true },
	{ "level.dat", 0, true },
	{ "%2e%2e", 0, true },
	{ "back\\slash", 0, true },
	{ "...", 0, true },
	{ ".x", 0, true },
	{ "", 0, false },
	{ ".", 0, false },
	{ "..", 0, false },
	{ "a/b", 0, false },
	{ "/", 0, false },
	{ "a/", 0, false },
	{ "../x", 0, false },
	{ "a\0b", 3, false },
	{ ".mcadmin-tmp-x", 0, false },
};

START_TEST(test_check_name)
{
	char longname[NAME_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(name_cases); i++) {
		const char *n = name_cases[i].name;
		size_t len = name_cases[i].len ? name_cases[i].len : strlen(n);

		ck_assert_msg(pathsafe_check_name(n, len) == (name_cases[i].ok ? 0 : -EINVAL),
		    "name '%s'", n);
	}
	ck_assert_int_eq(pathsafe_check_name(NULL, 0), -EINVAL);
	repeat(longname, 'n', NAME_MAX);
	ck_assert_int_eq(pathsafe_check_name(longname, NAME_MAX), 0);
	repeat(longname, 'n', NAME_MAX + 1);
	ck_assert_int_eq(pathsafe_check_name(longname, NAME_MAX + 1), -EINVAL);
}
END_TEST

/* ---- opening: one table, both resolution modes --------------------------------- */

static const struct {
	const char *path;
	int file;		/* pathsafe_open_file(O_RDONLY) */
	const char *content;	/* when file == 0 */
	int dir;		/* pathsafe_open_dir() */
} open_cases[] = {
	{ "notes.txt", 0, "hello", -ENOTDIR },
	{ "/notes.txt", 0, "hello", -ENOTDIR },
	{ "//notes.txt", 0, "hello", -ENOTDIR },
	{ "notes.txt/", 0, "hello", -ENOTDIR },		/* trailing '/' collapses */
	{ "world/level.dat", 0, "level", -ENOTDIR },
	{ "/world//level.dat", 0, "level", -ENOTDIR },
	{ "world/region/r.0.0.mca", 0, "region", -ENOTDIR },
	{ "%2e%2e", 0, "pct", -ENOTDIR },
	{ "back\\slash", 0, "bs", -ENOTDIR },
	{ ".hidden", 0, "dot", -ENOTDIR },
	{ "world", -EISDIR, NULL, 0 },
	{ "world/region", -EISDIR, NULL, 0 },
	{ "empty", -EISDIR, NULL, 0 },
	{ "/", -EISDIR, NULL, 0 },
	{ "", -EISDIR, NULL, 0 },
	{ "missing", -ENOENT, NULL, -ENOENT },
	{ "missing/x", -ENOENT, NULL, -ENOENT },
	{ "notes.txt/x", -ENOTDIR, NULL, -ENOTDIR },
	{ "/etc/passwd", -ENOENT, NULL, -ENOENT },	/* base-relative, not the host's */
	{ "//etc/passwd", -ENOENT, NULL, -ENOENT },
	{ "..", -EINVAL, NULL, -EINVAL },
	{ "../outside/canary", -EINVAL, NULL, -EINVAL },
	{ "/../outside/canary", -EINVAL, NULL, -EINVAL },
	{ "world/../../outside/canary", -EINVAL, NULL, -EINVAL },
	{ "world/../notes.txt", -EINVAL, NULL, -EINVAL },
	{ "world/..", -EINVAL, NULL, -EINVAL },
	{ "../base_x/secret", -EINVAL, NULL, -EINVAL },	/* sibling-prefix confusion */
	{ "./notes.txt", -EINVAL, NULL, -EINVAL },
	{ "world/.", -EINVAL, NULL, -EINVAL },
	{ "link_etc/passwd", -ELOOP, NULL, -ELOOP },	/* absolute link out */
	{ "link_etc", -ELOOP, NULL, -ELOOP },
	{ "link_out/canary", -ELOOP, NULL, -ELOOP },	/* relative link to a sibling */
	{ "link_out/sub", -ELOOP, NULL, -ELOOP },
	{ "link_out_file", -ELOOP, NULL, -ELOOP },
	{ "link_sib/secret", -ELOOP, NULL, -ELOOP },	/* base vs base_x */
	{ "link_updown", -ELOOP, NULL, -ELOOP },
	{ "link_in_abs", -ELOOP, NULL, -ELOOP },
	{ "link_abs_in", -ELOOP, NULL, -ELOOP },
	{ "link_in_file", -ELOOP, NULL, -ELOOP },	/* policy: never followed */
	{ "link_in_dir", -ELOOP, NULL, -ELOOP },
	{ "link_in_dir/level.dat", -ELOOP, NULL, -ELOOP },
	{ "world/link_up", -ELOOP, NULL, -ELOOP },
	{ "broken", -ELOOP, NULL, -ELOOP },
	{ "loop", -ELOOP, NULL, -ELOOP },
	{ "fifo", -ENXIO, NULL, -ENOTDIR },		/* and the open does not block */
	{ ".mcadmin-tmp-x", -EINVAL, NULL, -EINVAL },
};

START_TEST(test_open_table)
{
	int row = _i / MODE_MAX;
	const char *path = open_cases[row].path;
	int fd;

	set_mode(_i);
	fd = pathsafe_open_file(base_fd, path, O_RDONLY);
	if (open_cases[row].file == 0) {
		char buf[64];
		ssize_t l;

		ck_assert_msg(fd >= 0, "%s: open_file '%s' = %d", mode_name(_i), path, fd);
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		ck_assert(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
		l = read(fd, buf, sizeof(buf) - 1);
		ck_assert_int_ge(l, 0);
		buf[l] = '\0';
		ck_assert_str_eq(buf, open_cases[row].content);
		close(fd);
	} else {
		ck_assert_msg(fd == open_cases[row].file, "%s: open_file '%s' = %d, want %d",
		    mode_name(_i), path, fd, open_cases[row].file);
	}

	fd = pathsafe_open_dir(base_fd, path);
	if (open_cases[row].dir == 0) {
		ck_assert_msg(fd >= 0, "%s: open_dir '%s' = %d", mode_name(_i), path, fd);
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	} else {
		ck_assert_msg(fd == open_cases[row].dir, "%s: open_dir '%s' = %d, want %d",
		    mode_name(_i), path, fd, open_cases[row].dir);
	}
}
END_TEST

/*
 * Linux checks O_DIRECTORY before O_NOFOLLOW: opening a symlink with both
 * says ENOTDIR, not ELOOP. The walk must still report -ELOOP. If a kernel
 * ever changes the first assertion, the walk's lstat check is what keeps the
 * second part right either way.
 */
START_TEST(test_eloop_vs_enotdir_pin)
{
	char name[PATHSAFE_NAME_MAX + 1];
	int fd;

	fd = openat(base_fd, "link_in_dir", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(errno, ENOTDIR);
	fd = openat(base_fd, "link_in_dir", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(errno, ENOTDIR);
	fd = openat(base_fd, "link_in_file", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(errno, ELOOP);

	ck_assert_int_eq(pathsafe_walk(base_fd, "link_in_dir", O_RDONLY | O_DIRECTORY), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "link_in_dir/level.dat", O_RDONLY), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "link_etc/passwd", O_RDONLY), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "link_in_file", O_RDONLY), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "link_in_file", O_PATH), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "broken", O_PATH), -ELOOP);
	ck_assert_int_eq(pathsafe_walk(base_fd, "notes.txt/x", O_RDONLY), -ENOTDIR);
	ck_assert_int_eq(pathsafe_walk(base_fd, "notes.txt", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	fd = pathsafe_walk(base_fd, "world/level.dat", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);

	/* the public functions in forced-fallback mode */
	set_mode(MODE_FALLBACK);
	ck_assert_int_eq(pathsafe_open_dir(base_fd, "link_in_dir"), -ELOOP);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "link_in_dir/x", name), -ELOOP);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "link_in_dir", 0755, PATHSAFE_EXIST_OK), -ELOOP);
}
END_TEST

START_TEST(test_open_parent)
{
	char name[PATHSAFE_NAME_MAX + 1];
	struct stat st;
	int fd;

	set_mode(_i);
	fd = pathsafe_open_parent(base_fd, "/world/level.dat", name);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, "level.dat");
	ck_assert_int_eq(fstatat(fd, "region", &st, AT_SYMLINK_NOFOLLOW), 0);
	close(fd);
	fd = pathsafe_open_parent(base_fd, "new-file", name);	/* the last part need not exist */
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, "new-file");
	close(fd);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "/", name), -EINVAL);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "", name), -EINVAL);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "../x", name), -EINVAL);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "link_out/x", name), -ELOOP);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "missing/x", name), -ENOENT);
	ck_assert_int_eq(pathsafe_open_parent(base_fd, "notes.txt/x", name), -ENOTDIR);
}
END_TEST

/* ---- showing: stat and listings ---------------------------------------------- */

struct shown {
	const char *name;
	int r;			/* pathsafe_stat() result */
	enum pathsafe_type type;
	bool symlink;
	int64_t size;
	bool mtime_zero;	/* dangling/outside links: mtime 0 */
};

static const struct shown stat_cases[] = {
	{ "notes.txt", 0, PATHSAFE_FILE, false, 5, false },
	{ "", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "/", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "world", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "world/link_up", 0, PATHSAFE_FILE, true, 5, false },	/* ../ that stays inside */
	{ "link_in_dir", 0, PATHSAFE_DIRECTORY, true, 0, false },
	{ "link_in_file", 0, PATHSAFE_FILE, true, 5, false },
	{ "link_etc", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_out", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_out_file", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_sib", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_updown", 0, PATHSAFE_FILE, true, 0, true },	/* passes above the base */
	{ "link_in_abs", 0, PATHSAFE_FILE, true, 0, true },	/* absolute = outside */
	{ "link_abs_in", 0, PATHSAFE_FILE, true, 0, true },	/* not <base>/world */
	{ "broken", 0, PATHSAFE_FILE, true, 0, true },
	{ "loop", 0, PATHSAFE_FILE, true, 0, true },
	{ "fifo", 0, PATHSAFE_DIRECTORY, false, 0, false },	/* §15.2: not a regular file */
	{ "link_etc/passwd", -ELOOP, 0, false, 0, false },
	{ "link_out/canary", -ELOOP, 0, false, 0, false },
	{ "missing", -ENOENT, 0, false, 0, false },
	{ "missing/x", -ENOENT, 0, false, 0, false },
	{ "notes.txt/x", -ENOTDIR, 0, false, 0, false },
	{ "../outside", -EINVAL, 0, false, 0, false },
};

static void
assert_shown(const struct shown *want, const struct pathsafe_stat *st, const char *what)
{
	ck_assert_msg(st->type == want->type, "%s '%s': type %d", what, want->name, st->type);
	ck_assert_msg(st->symlink == want->symlink, "%s '%s': symlink %d", what, want->name,
	    st->symlink);
	ck_assert_msg(st->size == want->size, "%s '%s': size %lld", what, want->name,
	    (long long)st->size);
	ck_assert_msg((st->mtime.tv_sec == 0 && st->mtime.tv_nsec == 0) == want->mtime_zero,
	    "%s '%s': mtime %lld", what, want->name, (long long)st->mtime.tv_sec);
}

START_TEST(test_stat_table)
{
	const struct shown *c = &stat_cases[_i / MODE_MAX];
	struct pathsafe_stat st;
	int r;

	set_mode(_i);
	r = pathsafe_stat(base_fd, c->name, &st);
	ck_assert_msg(r == c->r, "%s: stat '%s' = %d, want %d", mode_name(_i), c->name, r, c->r);
	if (r == 0)
		assert_shown(c, &st, mode_name(_i));
}
END_TEST

static const struct shown root_entries[] = {
	{ "notes.txt", 0, PATHSAFE_FILE, false, 5, false },
	{ "world", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "%2e%2e", 0, PATHSAFE_FILE, false, 3, false },
	{ "back\\slash", 0, PATHSAFE_FILE, false, 2, false },
	{ ".hidden", 0, PATHSAFE_FILE, false, 3, false },	/* dotfiles are listed */
	{ "empty", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "fifo", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "link_etc", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_out", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_out_file", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_sib", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_updown", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_in_abs", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_abs_in", 0, PATHSAFE_FILE, true, 0, true },
	{ "link_in_dir", 0, PATHSAFE_DIRECTORY, true, 0, false },
	{ "link_in_file", 0, PATHSAFE_FILE, true, 5, false },
	{ "broken", 0, PATHSAFE_FILE, true, 0, true },
	{ "loop", 0, PATHSAFE_FILE, true, 0, true },
};

static const struct shown world_entries[] = {
	{ "level.dat", 0, PATHSAFE_FILE, false, 5, false },
	{ "region", 0, PATHSAFE_DIRECTORY, false, 0, false },
	{ "link_up", 0, PATHSAFE_FILE, true, 5, false },
};

static void
assert_listing(const struct pathsafe_listing *l, const struct shown *want, size_t n,
    const char *what)
{
	ck_assert_msg(l->n_entries == n, "%s: %zu entries, want %zu", what, l->n_entries, n);
	ck_assert(!l->partial);
	for (size_t i = 0; i < n; i++) {
		size_t found = 0;

		for (size_t j = 0; j < l->n_entries; j++) {
			if (!streq(l->entries[j].name, want[i].name))
				continue;
			found++;
			assert_shown(&want[i], &l->entries[j].st, what);
		}
		ck_assert_msg(found == 1, "%s: '%s' listed %zu times", what, want[i].name, found);
	}
}

START_TEST(test_list)
{
	struct pathsafe_listing *l = NULL;
	int fd;

	set_mode(_i);
	/* an in-flight (or crashed) atomic write is hidden */
	fd = openat(base_fd, PATHSAFE_TMP_PREFIX "leftover", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);

	ck_assert_int_eq(pathsafe_list(base_fd, "/", 0, &l), 0);
	ck_assert_str_eq(l->dir, "");
	assert_listing(l, root_entries, ELEMENTSOF(root_entries), mode_name(_i));
	l = pathsafe_listing_free(l);

	ck_assert_int_eq(pathsafe_list(base_fd, "//world/", 0, &l), 0);
	ck_assert_str_eq(l->dir, "world");
	assert_listing(l, world_entries, ELEMENTSOF(world_entries), mode_name(_i));
	l = pathsafe_listing_free(l);

	ck_assert_int_eq(pathsafe_list(base_fd, "empty", 0, &l), 0);
	ck_assert_uint_eq(l->n_entries, 0);
	l = pathsafe_listing_free(l);

	ck_assert_int_eq(pathsafe_list(base_fd, "link_etc", 0, &l), -ELOOP);
	ck_assert_int_eq(pathsafe_list(base_fd, "link_out", 0, &l), -ELOOP);
	ck_assert_int_eq(pathsafe_list(base_fd, "link_sib", 0, &l), -ELOOP);
	ck_assert_int_eq(pathsafe_list(base_fd, "link_in_dir", 0, &l), -ELOOP);
	ck_assert_int_eq(pathsafe_list(base_fd, "missing", 0, &l), -ENOENT);
	ck_assert_int_eq(pathsafe_list(base_fd, "notes.txt", 0, &l), -ENOTDIR);
	ck_assert_int_eq(pathsafe_list(base_fd, "fifo", 0, &l), -ENOTDIR);
	ck_assert_int_eq(pathsafe_list(base_fd, "../outside", 0, &l), -EINVAL);
	ck_assert_int_eq(pathsafe_list(base_fd, "/..", 0, &l), -EINVAL);
	ck_assert_int_eq(pathsafe_list(base_fd, "/", 3, &l), -E2BIG);	/* the entry cap */
	ck_assert_ptr_null(l);
	ck_assert_ptr_null(pathsafe_listing_free(NULL));
}
END_TEST

/* ---- escapes: every operation through a link or ".." is refused ---------------- */

enum op {
	OP_READ, OP_LIST, OP_STAT, OP_WRITE, OP_REPLACE, OP_CREATE, OP_MKDIR_P, OP_DELETE,
	OP_RENAME_FROM, OP_RENAME_TO, OP_RENAME_NAME, OP_CHOWN, OP_MAX,
};

static const char *const op_names[OP_MAX] = {
	"read", "list", "stat", "write", "replace", "create", "mkdir -p", "delete",
	"rename from", "rename to", "rename to name", "chown",
};

static int
do_op(enum op op, const char *path)
{
	struct pathsafe_listing *l = NULL;
	struct pathsafe_stat st;
	int r;

	switch (op) {
	case OP_READ:
		r = pathsafe_open_file(base_fd, path, O_RDONLY);
		if (r >= 0)
			close(r);
		return r < 0 ? r : 0;
	case OP_LIST:
		r = pathsafe_list(base_fd, path, 0, &l);
		pathsafe_listing_free(l);
		return r;
	case OP_STAT:
		return pathsafe_stat(base_fd, path, &st);
	case OP_WRITE:
		return pathsafe_write_file(base_fd, path, "pwned", 5, 0644, 0);
	case OP_REPLACE:
		return pathsafe_write_file(base_fd, path, "pwned", 5, 0644,
		    PATHSAFE_REPLACE | PATHSAFE_KEEP_ATTRS);
	case OP_CREATE:
		return pathsafe_create_file(base_fd, path, 0644, PATHSAFE_PARENTS);
	case OP_MKDIR_P:
		return pathsafe_mkdir(base_fd, path, 0755, PATHSAFE_PARENTS | PATHSAFE_EXIST_OK);
	case OP_DELETE:
		return pathsafe_delete(base_fd, path, NULL);
	case OP_RENAME_FROM:
		return pathsafe_rename(base_fd, path, base_fd, "stolen", 0, NULL);
	case OP_RENAME_TO:
		return pathsafe_rename(base_fd, "notes.txt", base_fd, path, PATHSAFE_REPLACE, NULL);
	case OP_RENAME_NAME:
		return pathsafe_rename_to_name(base_fd, path, "renamed", NULL);
	case OP_CHOWN:
		return pathsafe_chown(base_fd, path, 4242, 4242);
	case OP_MAX:
		break;
	}
	ck_abort();
	return 0;
}

static const struct {
	const char *path;
	int want;
} escapes[] = {
	{ "link_etc/" ETC_PROBE, -ELOOP },		/* absolute link to /etc */
	{ "link_etc/" ETC_PROBE "/x", -ELOOP },
	{ "link_out/canary", -ELOOP },			/* relative link to a sibling */
	{ "link_out/sub/deep", -ELOOP },
	{ "link_out/new", -ELOOP },
	{ "link_sib/secret", -ELOOP },			/* base vs base_x */
	{ "link_in_dir/level.dat", -ELOOP },		/* inside: policy says no */
	{ "../outside/canary", -EINVAL },
	{ "/../outside/new", -EINVAL },
	{ "world/../../outside/canary", -EINVAL },
	{ "../base_x/secret", -EINVAL },
	{ "..", -EINVAL },
};

START_TEST(test_escapes_refused)
{
	int row = _i / MODE_MAX;

	set_mode(_i);
	for (int op = 0; op < OP_MAX; op++) {
		int r = do_op((enum op)op, escapes[row].path);

		ck_assert_msg(r == escapes[row].want, "%s: %s '%s' = %d, want %d", mode_name(_i),
		    op_names[op], escapes[row].path, r, escapes[row].want);
		assert_outside_intact();
	}
	assert_base_content("notes.txt", "hello");
	ck_assert(!base_exists("stolen"));
	assert_no_tmp("");
}
END_TEST

/* A symlink as the last component: shown, deleted, renamed, chowned; never written. */
START_TEST(test_final_symlink_policy)
{
	enum pathsafe_type t = PATHSAFE_TYPE_MAX;
	char target[64];
	struct stat st;
	ssize_t l;

	set_mode(_i);
	/* writes refuse to replace or write through a link, even an inside one */
	ck_assert_int_eq(do_op(OP_REPLACE, "link_out_file"), -ELOOP);
	ck_assert_int_eq(do_op(OP_REPLACE, "link_in_file"), -ELOOP);
	ck_assert_int_eq(do_op(OP_REPLACE, "broken"), -ELOOP);
	ck_assert_int_eq(do_op(OP_WRITE, "link_out_file"), -EEXIST);
	ck_assert_int_eq(do_op(OP_CREATE, "link_out_file"), -EEXIST);	/* O_EXCL: no follow */
	ck_assert_int_eq(do_op(OP_CREATE, "broken"), -EEXIST);
	ck_assert(!base_exists("does-not-exist"));
	ck_assert_int_eq(do_op(OP_MKDIR_P, "link_out"), -ELOOP);
	assert_base_content("notes.txt", "hello");

	/* chown changes the link itself, not the canary */
	if (geteuid() == 0) {
		ck_assert_int_eq(pathsafe_chown(base_fd, "link_out_file", 4242, 4343), 0);
		ck_assert_int_eq(fstatat(base_fd, "link_out_file", &st, AT_SYMLINK_NOFOLLOW), 0);
		ck_assert_uint_eq(st.st_uid, 4242);
		ck_assert_uint_eq(st.st_gid, 4343);
	}

	/* renaming a link renames the link */
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "link_out", "link_out2", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);	/* outside: shown as a size-0 file */
	l = readlinkat(base_fd, "link_out2", target, sizeof(target) - 1);
	ck_assert_int_eq(l, (ssize_t)strlen("../outside"));
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "link_in_dir", "link_in_dir2", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_DIRECTORY);	/* inside: shown as its target */

	/* deleting a link unlinks the link, never the target */
	ck_assert_int_eq(pathsafe_delete(base_fd, "link_out2", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);
	ck_assert(!base_exists("link_out2"));
	ck_assert_int_eq(pathsafe_delete(base_fd, "link_in_dir2", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);
	assert_base_content("world/level.dat", "level");
	ck_assert_int_eq(pathsafe_delete(base_fd, "link_etc", &t), 0);
	ck_assert_int_eq(pathsafe_delete(base_fd, "link_out_file", &t), 0);
	ck_assert_int_eq(pathsafe_delete(base_fd, "broken", &t), 0);	/* listed: deletable */
	ck_assert_int_eq(pathsafe_delete(base_fd, "loop", &t), 0);
	ck_assert_int_eq(pathsafe_delete(base_fd, "link_in_file", &t), 0);
	assert_base_content("notes.txt", "hello");
	ck_assert(!base_exists("link_etc"));
	assert_outside_intact();
}
END_TEST

/* ---- delete ------------------------------------------------------------------- */

START_TEST(test_delete)
{
	enum pathsafe_type t = PATHSAFE_TYPE_MAX;

	set_mode(_i);
	ck_assert_int_eq(pathsafe_delete(base_fd, "/notes.txt", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);
	ck_assert(!base_exists("notes.txt"));
	ck_assert_int_eq(pathsafe_delete(base_fd, "notes.txt", &t), -ENOENT);

	ck_assert_int_eq(pathsafe_delete(base_fd, "world", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_DIRECTORY);
	ck_assert(!base_exists("world"));
	ck_assert_int_eq(pathsafe_delete(base_fd, "empty", NULL), 0);

	/* the base itself: 400 Invalid path, and nothing removed */
	ck_assert_int_eq(pathsafe_delete(base_fd, "/", &t), -EINVAL);
	ck_assert_int_eq(pathsafe_delete(base_fd, "", &t), -EINVAL);
	ck_assert_int_eq(pathsafe_delete(base_fd, "///", &t), -EINVAL);
	ck_assert(base_exists("%2e%2e"));

	ck_assert_int_eq(pathsafe_delete(base_fd, "fifo", &t), -EINVAL);	/* §15.7 */
	ck_assert(base_exists("fifo"));
	ck_assert_int_eq(pathsafe_delete(base_fd, "missing/x", &t), -ENOENT);
	ck_assert_int_eq(pathsafe_delete(base_fd, "%2e%2e/x", &t), -ENOTDIR);
	ck_assert_int_eq(pathsafe_delete(base_fd, "%2e%2e", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);
}
END_TEST

START_TEST(test_delete_recursive_no_follow)
{
	_cleanup_free_ char *abs_out = tmpdir_join(td, "outside");
	_cleanup_free_ char *abs_canary = tmpdir_join(td, "outside/canary");
	enum pathsafe_type t = PATHSAFE_TYPE_MAX;
	struct strbuf deep = STRBUF_INIT;

	set_mode(_i);
	tmpdir_write(td, "base/tree/a.txt", "a");
	tmpdir_write(td, "base/tree/sub/b.txt", "b");
	tmpdir_write(td, "base/tree/.dot/c", "c");
	tmpdir_symlink(td, "base/tree/sub/out", "../../../outside");
	tmpdir_symlink(td, "base/tree/sub/out_abs", abs_out);
	tmpdir_symlink(td, "base/tree/sub/out_file", abs_canary);
	tmpdir_symlink(td, "base/tree/sub/up", "../../notes.txt");
	ck_assert_int_eq(mkfifoat(base_fd, "tree/sub/fifo", 0644), 0);
	/* 30 levels deep */
	ck_assert_int_eq(strbuf_puts(&deep, "base/tree"), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(strbuf_puts(&deep, "/d"), 0);
	ck_assert_int_eq(strbuf_puts(&deep, "/leaf"), 0);
	tmpdir_write(td, strbuf_str(&deep), "leaf");
	strbuf_free(&deep);

	ck_assert_int_eq(pathsafe_delete(base_fd, "tree", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_DIRECTORY);
	ck_assert(!base_exists("tree"));
	assert_base_content("notes.txt", "hello");
	assert_outside_intact();
}
END_TEST

/*
 * Mounts inside the base are never crossed, neither by a lookup nor by a
 * delete: a tmpfs (its own st_dev) and a bind mount of T/outside (same
 * st_dev, told apart only by the mount id).
 */
START_TEST(test_mount_not_crossed)
{
	_cleanup_free_ char *mnt = tmpdir_join(td, "base/mnt_parent/mnt");
	_cleanup_free_ char *bind = tmpdir_join(td, "base/mnt_parent/bind");
	_cleanup_free_ char *outside = tmpdir_join(td, "outside");
	struct pathsafe_listing *l = NULL;
	enum pathsafe_type t;

	set_mode(_i);
	tmpdir_mkdir(td, "base/mnt_parent/mnt");
	tmpdir_mkdir(td, "base/mnt_parent/bind");
	tmpdir_write(td, "base/mnt_parent/other", "x");
	/*
	 * A private mount namespace: the mounts die with the (forked) test even
	 * when an assertion ends it before the umounts below.
	 */
	if (unshare(CLONE_NEWNS) < 0 ||
	    /* "none": ignored by the kernel here, but valgrind insists on a string */
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("pathsafe-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") < 0 ||
	    mount(outside, bind, "none", MS_BIND, NULL) < 0) {
		fprintf(stderr, "test_mount_not_crossed: cannot mount (%s), skipped\n",
		    strerror(errno));
		(void)umount2(mnt, MNT_DETACH);
		return;
	}
	/* fds opened before unshare() still see the old namespace's mounts: reopen */
	close(td->fd);
	td->fd = open(td->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(td->fd, 0);
	close(base_fd);
	base_fd = openat(td->fd, "base", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(base_fd, 0);
	tmpdir_write(td, "base/mnt_parent/mnt/inside", "mounted");

	ck_assert_int_eq(pathsafe_open_file(base_fd, "mnt_parent/mnt/inside", O_RDONLY), -EXDEV);
	ck_assert_int_eq(pathsafe_open_dir(base_fd, "mnt_parent/mnt"), -EXDEV);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "mnt_parent/mnt/new", "x", 1, 0644, 0),
	    -EXDEV);
	ck_assert_int_eq(pathsafe_open_file(base_fd, "mnt_parent/bind/canary", O_RDONLY), -EXDEV);
	ck_assert_int_eq(pathsafe_delete(base_fd, "mnt_parent/bind/canary", &t), -EXDEV);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "mnt_parent/bind/canary", "x", 1, 0644,
	    PATHSAFE_REPLACE), -EXDEV);
	ck_assert_int_eq(pathsafe_list(base_fd, "mnt_parent", 0, &l), 0);	/* shown, though */
	ck_assert_uint_eq(l->n_entries, 3);
	l = pathsafe_listing_free(l);

	ck_assert_int_eq(pathsafe_delete(base_fd, "mnt_parent/mnt", &t), -EXDEV);
	ck_assert_int_eq(pathsafe_delete(base_fd, "mnt_parent/bind", &t), -EXDEV);
	ck_assert_int_eq(pathsafe_delete(base_fd, "mnt_parent", &t), -EXDEV);
	ck_assert(!base_exists("mnt_parent/other"));	/* the rest is deleted */
	assert_base_content("mnt_parent/mnt/inside", "mounted");
	assert_base_content("mnt_parent/bind/canary", "keep");
	assert_outside_intact();
	ck_assert_int_eq(umount2(bind, MNT_DETACH), 0);
	ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
	ck_assert_int_eq(pathsafe_delete(base_fd, "mnt_parent", &t), 0);
}
END_TEST

/* ---- rename -------------------------------------------------------------------- */

START_TEST(test_rename)
{
	enum pathsafe_type t = PATHSAFE_TYPE_MAX;
	static const char *const bad_names[] = {
		"", ".", "..", "a/b", "/x", "../x", PATHSAFE_TMP_PREFIX "x", NULL,
	};

	set_mode(_i);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "/notes.txt", "renamed.txt", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_FILE);
	assert_base_content("renamed.txt", "hello");
	ck_assert(!base_exists("notes.txt"));
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "world/region", "region2", &t), 0);
	ck_assert_int_eq(t, PATHSAFE_DIRECTORY);
	assert_base_content("world/region2/r.0.0.mca", "region");

	/* an existing target is 409, for files and directories, and both stay */
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "renamed.txt", ".hidden", &t), -EEXIST);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "renamed.txt", "world", &t), -EEXIST);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "empty", "world", &t), -EEXIST);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "empty", "broken", &t), -EEXIST);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "renamed.txt", "renamed.txt", &t),
	    -EEXIST);
	assert_base_content("renamed.txt", "hello");
	assert_base_content(".hidden", "dot");
	assert_base_content("world/level.dat", "level");
	ck_assert(base_exists("empty"));

	/* the base, bad names, missing sources */
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "/", "x", &t), -EINVAL);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "", "x", &t), -EINVAL);
	ck_assert_int_eq(pathsafe_rename(base_fd, "/", base_fd, "x", 0, &t), -EINVAL);
	ck_assert_int_eq(pathsafe_rename(base_fd, "empty", base_fd, "/", 0, &t), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(bad_names); i++)
		ck_assert_msg(pathsafe_rename_to_name(base_fd, "renamed.txt", bad_names[i], &t) ==
		    -EINVAL, "new_name '%s'", bad_names[i] ? bad_names[i] : "(null)");
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "missing", "x", &t), -ENOENT);
	ck_assert_int_eq(pathsafe_rename_to_name(base_fd, "missing/y", "x", &t), -ENOENT);
	assert_base_content("renamed.txt", "hello");

	/* general form: across directories, with and without replacing */
	ck_assert_int_eq(pathsafe_rename(base_fd, "renamed.txt", base_fd, "world/moved.txt", 0,
	    &t), 0);
	assert_base_content("world/moved.txt", "hello");
	ck_assert_int_eq(pathsafe_rename(base_fd, ".hidden", base_fd, "world/moved.txt", 0, &t),
	    -EEXIST);
	ck_assert_int_eq(pathsafe_rename(base_fd, ".hidden", base_fd, "world/moved.txt",
	    PATHSAFE_REPLACE, &t), 0);
	assert_base_content("world/moved.txt", "dot");
	ck_assert_int_eq(pathsafe_rename(base_fd, "world", base_fd, "world/inner", 0, &t),
	    -EINVAL);		/* into itself */
	ck_assert_int_eq(pathsafe_rename(base_fd, "world", base_fd, "missing/w", 0, &t), -ENOENT);
	ck_assert(base_exists("world/level.dat"));
	assert_no_tmp("");
}
END_TEST

/* ---- create ---------------------------------------------------------------------- */

START_TEST(test_mkdir_create)
{
	struct stat st;

	set_mode(_i);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "newdir", 0750, 0), 1);
	ck_assert_int_eq(fstatat(base_fd, "newdir", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "newdir", 0755, 0), -EEXIST);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "newdir", 0755, PATHSAFE_EXIST_OK), 0);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "a/b/c", 0755, 0), -ENOENT);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "a/b/c", 0755, PATHSAFE_PARENTS), 1);
	ck_assert(base_exists("a/b/c"));
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "/a/b/c/", 0755,
	    PATHSAFE_PARENTS | PATHSAFE_EXIST_OK), 0);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "notes.txt", 0755, PATHSAFE_EXIST_OK), -ENOTDIR);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "notes.txt", 0755, 0), -EEXIST);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "notes.txt/x", 0755, PATHSAFE_PARENTS),
	    -ENOTDIR);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "fifo/x", 0755, PATHSAFE_PARENTS), -ENOTDIR);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "link_in_dir", 0755, PATHSAFE_EXIST_OK), -ELOOP);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "link_in_dir/x", 0755, PATHSAFE_PARENTS),
	    -ELOOP);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "", 0755, 0), -EEXIST);	/* the base */
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "/", 0755, PATHSAFE_EXIST_OK), 0);
	ck_assert_int_eq(pathsafe_mkdir(base_fd, "x/../y", 0755, PATHSAFE_PARENTS), -EINVAL);
	ck_assert(!base_exists("x"));

	ck_assert_int_eq(pathsafe_create_file(base_fd, "new.txt", 0640, 0), 0);
	ck_assert_int_eq(fstatat(base_fd, "new.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(pathsafe_create_file(base_fd, "new.txt", 0644, 0), -EEXIST);
	ck_assert_int_eq(pathsafe_create_file(base_fd, "world", 0644, 0), -EEXIST);
	ck_assert_int_eq(pathsafe_create_file(base_fd, "/", 0644, 0), -EEXIST);
	ck_assert_int_eq(pathsafe_create_file(base_fd, "p/q/r.txt", 0644, 0), -ENOENT);
	ck_assert_int_eq(pathsafe_create_file(base_fd, "p/q/r.txt", 0644, PATHSAFE_PARENTS), 0);
	ck_assert_int_eq(fstatat(base_fd, "p/q", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	assert_base_content("p/q/r.txt", "");
}
END_TEST

/* ---- chown ---------------------------------------------------------------------- */

START_TEST(test_chown)
{
	struct stat st;

	set_mode(_i);
	ck_assert_int_eq(pathsafe_chown(base_fd, "", 1, 1), -EINVAL);
	ck_assert_int_eq(pathsafe_chown(base_fd, "/", 1, 1), -EINVAL);
	ck_assert_int_eq(pathsafe_chown(base_fd, "missing", 1, 1), -ENOENT);
	if (geteuid() != 0)
		return;		/* the rest needs CAP_CHOWN (CI runs as root) */
	ck_assert_int_eq(pathsafe_chown(base_fd, "world/level.dat", 1234, 5678), 0);
	ck_assert_int_eq(fstatat(base_fd, "world/level.dat", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_uint_eq(st.st_gid, 5678);
	ck_assert_int_eq(pathsafe_chown(base_fd, "world", 1234, (gid_t)-1), 0);
	ck_assert_int_eq(fstatat(base_fd, "world", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_uint_eq(st.st_gid, 0);
}
END_TEST

/* ---- atomic writes ---------------------------------------------------------------- */

START_TEST(test_write_file)
{
	struct stat before, after;

	set_mode(_i);
	/* new file */
	ck_assert_int_eq(pathsafe_write_file(base_fd, "world/new.txt", "abc", 3, 0644, 0), 0);
	assert_base_content("world/new.txt", "abc");
	ck_assert_int_eq(fstatat(base_fd, "world/new.txt", &after, 0), 0);
	ck_assert_uint_eq(after.st_mode & 07777, 0644);

	/* existing target: 409 unless replacing, and the content stays */
	ck_assert_int_eq(pathsafe_write_file(base_fd, "notes.txt", "no", 2, 0644, 0), -EEXIST);
	assert_base_content("notes.txt", "hello");

	/* a content edit keeps mode and owner, and is a new inode (atomic rename) */
	if (geteuid() == 0)	/* before chmod: chown clears set-id bits, even as root */
		ck_assert_int_eq(fchownat(base_fd, "notes.txt", 1234, 5678, 0), 0);
	ck_assert_int_eq(fchmodat(base_fd, "notes.txt", 04751, 0), 0);
	ck_assert_int_eq(fstatat(base_fd, "notes.txt", &before, 0), 0);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "notes.txt", "edited", 6, 0600,
	    PATHSAFE_MUST_EXIST | PATHSAFE_KEEP_ATTRS), 0);
	assert_base_content("notes.txt", "edited");
	ck_assert_int_eq(fstatat(base_fd, "notes.txt", &after, 0), 0);
	ck_assert_uint_eq(after.st_mode & 07777, 04751);
	ck_assert_uint_eq(after.st_uid, before.st_uid);
	ck_assert_uint_eq(after.st_gid, before.st_gid);
	ck_assert_uint_ne(after.st_ino, before.st_ino);

	/* replacing without KEEP_ATTRS: the new file's own mode */
	ck_assert_int_eq(pathsafe_write_file(base_fd, "notes.txt", "plain", 5, 0600,
	    PATHSAFE_REPLACE), 0);
	ck_assert_int_eq(fstatat(base_fd, "notes.txt", &after, 0), 0);
	ck_assert_uint_eq(after.st_mode & 07777, 0600);
	ck_assert_uint_eq(after.st_uid, geteuid());
	assert_base_content("notes.txt", "plain");

	/* refusals */
	ck_assert_int_eq(pathsafe_write_file(base_fd, "missing.txt", "x", 1, 0644,
	    PATHSAFE_MUST_EXIST), -ENOENT);
	ck_assert(!base_exists("missing.txt"));
	ck_assert_int_eq(pathsafe_write_file(base_fd, "missing/x.txt", "x", 1, 0644, 0), -ENOENT);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "world", "x", 1, 0644, PATHSAFE_REPLACE),
	    -EISDIR);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "/", "x", 1, 0644, PATHSAFE_REPLACE),
	    -EISDIR);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "fifo", "x", 1, 0644, PATHSAFE_REPLACE),
	    -ENXIO);
	ck_assert_int_eq(pathsafe_write_file(base_fd, "notes.txt/x", "x", 1, 0644, 0), -ENOTDIR);
	ck_assert_int_eq(pathsafe_write_file(base_fd, PATHSAFE_TMP_PREFIX "x", "x", 1, 0644, 0),
	    -EINVAL);
	assert_no_tmp("");
	assert_no_tmp("world");
}
END_TEST

START_TEST(test_atomic_stream_and_abort)
{
	struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;

	set_mode(_i);
	/* streamed in chunks, invisible until commit */
	ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "upload.bin", 0644, 0, &a), 0);
	ck_assert_int_ge(a.fd, 0);
	ck_assert(fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(pathsafe_atomic_write(&a, "0123456789", 10), 0);
	ck_assert(!base_exists("upload.bin"));
	ck_assert_int_eq(pathsafe_atomic_commit(&a), 0);
	ck_assert_int_eq(a.fd, -1);
	ck_assert_int_eq(a.dir_fd, -1);
	{
		_cleanup_free_ char *c = base_read("upload.bin");

		ck_assert_uint_eq(strlen(c), 1000);
	}
	ck_assert_int_eq(pathsafe_atomic_commit(&a), -EBADF);	/* finished */
	ck_assert_int_eq(pathsafe_atomic_write(&a, "x", 1), -EBADF);
	pathsafe_atomic_abort(&a);				/* no-op */

	/* abort: the target keeps its content, the temporary is gone */
	ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "notes.txt", 0644, PATHSAFE_MUST_EXIST,
	    &a), 0);
	ck_assert_int_eq(pathsafe_atomic_write(&a, "partial", 7), 0);
	pathsafe_atomic_abort(&a);
	pathsafe_atomic_abort(&a);
	assert_base_content("notes.txt", "hello");
	assert_no_tmp("");

	/* a scope exit aborts too */
	{
		_cleanup_(pathsafe_atomic_abort) struct pathsafe_atomic b = PATHSAFE_ATOMIC_INIT;

		ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "world/scoped", 0644, 0, &b), 0);
		ck_assert_int_eq(pathsafe_atomic_write(&b, "x", 1), 0);
	}
	ck_assert(!base_exists("world/scoped"));
	assert_no_tmp("world");

	/* a target that appears meanwhile: commit refuses (no REPLACE) and cleans up */
	ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "late.txt", 0644, 0, &a), 0);
	ck_assert_int_eq(pathsafe_atomic_write(&a, "mine", 4), 0);
	tmpdir_write(td, "base/late.txt", "theirs");
	ck_assert_int_eq(pathsafe_atomic_commit(&a), -EEXIST);
	assert_base_content("late.txt", "theirs");
	assert_no_tmp("");

	/* a directory that appears meanwhile, with REPLACE */
	ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "late2", 0644, PATHSAFE_REPLACE, &a), 0);
	tmpdir_mkdir(td, "base/late2");
	ck_assert_int_eq(pathsafe_atomic_commit(&a), -EISDIR);
	assert_no_tmp("");
	pathsafe_atomic_abort(&a);

	/* the target directory removed meanwhile (the unnamed temporary leaves it empty
	 * so it can go): ENOENT, whatever errno the file system would have given */
	if (_i % MODE_MAX != MODE_FALLBACK) {
		tmpdir_mkdir(td, "base/gone");
		ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "gone/f", 0644, 0, &a), 0);
		ck_assert_int_eq(pathsafe_atomic_write(&a, "x", 1), 0);
		ck_assert_int_eq(unlinkat(base_fd, "gone", AT_REMOVEDIR), 0);
		ck_assert_int_eq(pathsafe_atomic_commit(&a), -ENOENT);
		ck_assert(!base_exists("gone"));
		ck_assert_int_eq(a.fd, -1);
	}

	/* a directory removed before begin (ext4 refuses O_TMPFILE there with EPERM,
	 * tmpfs only fails the link): ENOENT at begin or at commit, never EPERM */
	{
		_cleanup_close_ int gone_fd = -1;
		int r;

		tmpdir_mkdir(td, "base/gone2");
		gone_fd = openat(base_fd, "gone2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ck_assert_int_ge(gone_fd, 0);
		ck_assert_int_eq(unlinkat(base_fd, "gone2", AT_REMOVEDIR), 0);
		r = pathsafe_atomic_begin(gone_fd, "f", 0644, 0, &a);
		if (r == 0)
			r = pathsafe_atomic_commit(&a);
		ck_assert_int_eq(r, -ENOENT);
		pathsafe_atomic_abort(&a);
	}
}
END_TEST

/* Names in a directory of the base that are temporaries (hidden from listings). */
static size_t
count_tmp(const char *rel)
{
	int fd = openat(base_fd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	ck_assert_int_ge(fd, 0);
	d = fdopendir(fd);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += pathsafe_is_tmp_name(de->d_name);
	closedir(d);
	return n;
}

/*
 * A writer killed between begin and commit (SIGKILL: no cleanup runs) leaves
 * the target untouched; with O_TMPFILE it leaves nothing at all, with the
 * named temporaries one hidden file that listings do not show.
 */
START_TEST(test_atomic_writer_killed)
{
	struct pathsafe_listing *l = NULL;
	int status;
	pid_t pid;

	set_mode(_i);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;

		if (pathsafe_atomic_begin(base_fd, "notes.txt", 0644, PATHSAFE_MUST_EXIST, &a) < 0 ||
		    pathsafe_atomic_write(&a, "half of the new", 15) < 0 ||
		    pathsafe_atomic_begin(base_fd, "world/fresh.bin", 0644, 0, &a) < 0)
			_exit(1);
		(void)raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_base_content("notes.txt", "hello");
	ck_assert(!base_exists("world/fresh.bin"));
	if (_i % MODE_MAX == MODE_OPENAT2) {
		/* this file system has O_TMPFILE (tmpfs, ext4, xfs, btrfs all do) */
		ck_assert_uint_eq(count_tmp(""), 0);
		ck_assert_uint_eq(count_tmp("world"), 0);
	} else {
		ck_assert_uint_eq(count_tmp("") + count_tmp("world"), 2);
		ck_assert_int_eq(pathsafe_list(base_fd, "", 0, &l), 0);
		for (size_t i = 0; i < l->n_entries; i++)
			ck_assert(!pathsafe_is_tmp_name(l->entries[i].name));
		l = pathsafe_listing_free(l);
	}
}
END_TEST

START_TEST(test_tmp_dir)
{
	char name[PATHSAFE_TMP_NAME_LEN + 1], name2[PATHSAFE_TMP_NAME_LEN + 1];
	struct pathsafe_listing *l = NULL;
	int fd;

	fd = pathsafe_tmp_mkdir(base_fd, 0700, name);
	ck_assert_int_ge(fd, 0);
	ck_assert(pathsafe_is_tmp_name(name));
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* a tree inside it, with a link out that must not be followed by the removal */
	ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
	ck_assert_int_eq(symlinkat("../../outside", fd, "d/out"), 0);
	ck_assert_int_eq(symlinkat("/etc", fd, "etc"), 0);
	{
		int f = openat(fd, "d/file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		ck_assert_int_ge(f, 0);
		close(f);
	}
	close(fd);
	/* hidden from listings, refused by every path function */
	ck_assert_int_eq(pathsafe_list(base_fd, "", 0, &l), 0);
	for (size_t i = 0; i < l->n_entries; i++)
		ck_assert_str_ne(l->entries[i].name, name);
	l = pathsafe_listing_free(l);
	ck_assert_int_eq(pathsafe_delete(base_fd, name, NULL), -EINVAL);
	ck_assert_int_eq(pathsafe_open_dir(base_fd, name), -EINVAL);
	/* two in a row get distinct names */
	fd = pathsafe_tmp_mkdir(base_fd, 0700, name2);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_str_ne(name, name2);

	/* removal: only temporaries' names, recursively, links removed not followed */
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, "notes.txt"), -EINVAL);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, "world"), -EINVAL);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, "../x"), -EINVAL);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, PATHSAFE_TMP_PREFIX "x/y"), -EINVAL);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, name), 0);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, name), -ENOENT);
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, name2), 0);
	ck_assert_uint_eq(count_tmp(""), 0);
	/* a leftover file of a named atomic write */
	tmpdir_write(td, "base/" PATHSAFE_TMP_PREFIX "leftover0000000", "partial");
	ck_assert_int_eq(pathsafe_tmp_remove(base_fd, PATHSAFE_TMP_PREFIX "leftover0000000"), 0);
	ck_assert_uint_eq(count_tmp(""), 0);
	assert_outside_intact();
	ck_assert(access("/etc/passwd", F_OK) == 0);
}
END_TEST

/*
 * The parent is resolved once: swapping the directory for a symlink to the
 * outside between resolution and use must not move anything out of the base.
 */
START_TEST(test_swap_after_resolve)
{
	struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;
	char name[PATHSAFE_NAME_MAX + 1];
	int fd;

	set_mode(_i);
	ck_assert_int_eq(pathsafe_atomic_begin(base_fd, "world/new.txt", 0644, 0, &a), 0);
	ck_assert_int_eq(renameat(base_fd, "world", base_fd, "world_moved"), 0);
	ck_assert_int_eq(symlinkat("../outside", base_fd, "world"), 0);
	ck_assert_int_eq(pathsafe_atomic_write(&a, "data", 4), 0);
	ck_assert_int_eq(pathsafe_atomic_commit(&a), 0);
	assert_base_content("world_moved/new.txt", "data");
	ck_assert(!tmpdir_exists(td, "outside/new.txt"));
	assert_outside_intact();
	/* a new resolution sees the symlink */
	ck_assert_int_eq(pathsafe_open_file(base_fd, "world/new.txt", O_RDONLY), -ELOOP);
	ck_assert_int_eq(pathsafe_delete(base_fd, "world/canary", NULL), -ELOOP);

	/* the same with a parent fd handed out by pathsafe_open_parent() */
	fd = pathsafe_open_parent(base_fd, "world_moved/level.dat", name);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(renameat(base_fd, "world_moved", base_fd, "world_moved2"), 0);
	ck_assert_int_eq(symlinkat("../outside/sub", base_fd, "world_moved"), 0);
	ck_assert_int_eq(unlinkat(fd, name, 0), 0);
	close(fd);
	ck_assert(!base_exists("world_moved2/level.dat"));
	assert_base_content("world_moved2/region/r.0.0.mca", "region");
	assert_outside_intact();
}
END_TEST

/* ---- base_open ------------------------------------------------------------------ */

START_TEST(test_base_open)
{
	_cleanup_free_ char *p = tmpdir_join(td, "base/newbase/a/b");
	_cleanup_free_ char *f = tmpdir_join(td, "base/notes.txt");
	int fd;

	ck_assert_int_eq(pathsafe_base_open(p, 0, 0755), -ENOENT);
	fd = pathsafe_base_open(p, PATHSAFE_PARENTS, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(base_exists("newbase/a/b"));
	close(fd);
	fd = pathsafe_base_open(p, PATHSAFE_PARENTS, 0755);	/* exists: fine */
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pathsafe_base_open(f, 0, 0755), -ENOTDIR);
	ck_assert_int_eq(pathsafe_base_open("", 0, 0755), -EINVAL);
	ck_assert_int_eq(pathsafe_base_open(NULL, 0, 0755), -EINVAL);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------- */

static Suite *
pathsafe_suite(void)
{
	Suite *s = suite_create("pathsafe");
	TCase *tc;

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_normalize_table, 0, (int)ELEMENTSOF(norm_cases));
	tcase_add_test(tc, test_normalize_limits);
	tcase_add_test(tc, test_check_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_open_table, 0, (int)ELEMENTSOF(open_cases) * MODE_MAX);
	tcase_add_test(tc, test_eloop_vs_enotdir_pin);
	tcase_add_loop_test(tc, test_open_parent, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_swap_after_resolve, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_mount_not_crossed, 0, MODE_MAX);
	tcase_add_test(tc, test_base_open);
	suite_add_tcase(s, tc);

	tc = tcase_create("show");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_stat_table, 0, (int)ELEMENTSOF(stat_cases) * MODE_MAX);
	tcase_add_loop_test(tc, test_list, 0, MODE_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_escapes_refused, 0, (int)ELEMENTSOF(escapes) * MODE_MAX);
	tcase_add_loop_test(tc, test_final_symlink_policy, 0, MODE_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("modify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_delete, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_delete_recursive_no_follow, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_rename, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_mkdir_create, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_chown, 0, MODE_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("atomic");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_write_file, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_atomic_stream_and_abort, 0, MODE_MAX);
	tcase_add_loop_test(tc, test_atomic_writer_killed, 0, MODE_MAX);
	tcase_add_test(tc, test_tmp_dir);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pathsafe_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);	/* CK_VERBOSITY=verbose make check */
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
