/* SPDX-License-Identifier: MIT */
/*
 * pathsafe: the one module through which a client path becomes a file
 * descriptor or a filesystem change (API-core §13–§15, DECISIONS "§15.1
 * hardening everywhere"). Everything works relative to a base directory fd
 * that the caller opened once (pathsafe_base_open()); no function here ever
 * builds an absolute path from request data.
 *
 * Path syntax (pathsafe_path_normalize()):
 *   - a client path is relative to the base; leading '/' are stripped, so
 *     "/", "" and "///" all mean the base itself and "//etc" means <base>/etc;
 *   - repeated and trailing '/' collapse ("a//b/" is "a/b"; a trailing '/'
 *     does not demand a directory);
 *   - "." and ".." components are refused everywhere (-EINVAL), stricter
 *     than §15.1's "collapse": the frontend never sends them, and refusing
 *     means no lexical step can ever point above the base;
 *   - NUL bytes, components longer than NAME_MAX and canonical paths longer
 *     than PATH_MAX - 1 are refused (-EINVAL);
 *   - a component starting with PATHSAFE_TMP_PREFIX is refused (-EINVAL):
 *     that prefix is reserved for in-flight atomic writes;
 *   - backslashes, control characters and non-UTF-8 bytes are ordinary name
 *     bytes on Linux and are accepted: refusing them would protect nothing
 *     (such files can still be created by the game server or plugins) and
 *     would make them impossible to rename or delete. Client-side naming is
 *     the download layer's job (§15.10 percent-encodes filenames).
 *   Every bad path is -EINVAL, which the API maps to 400 "Invalid path".
 *
 * Symlink policy:
 *   - resolving a request path never follows a symlink, in any component,
 *     including the last one: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 *     RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV). A symlink on the way is
 *     -ELOOP, whether it points inside the base or not;
 *   - listings and pathsafe_stat() show a symlink as what it points to (§15.2)
 *     only when its target, resolved from the base, stays beneath the base
 *     (absolute targets, and targets whose ".." passes above the base even
 *     for a moment, count as outside). Broken, looping or outside links are
 *     shown as size-0 files with mtime 0 (DECISIONS);
 *   - deleting a symlink unlinks the link itself (even a broken one, or one
 *     to a directory); renaming a symlink renames the link; chown changes the
 *     link. Writes never replace or write through a symlink (-ELOOP; a link
 *     created at the target between atomic begin and commit is replaced by
 *     the new file, which writes nothing through it);
 *   - mount points inside the base are not crossed (-EXDEV), and a recursive
 *     delete never descends into another mount.
 * After a path is resolved, every step works on the resolved directory fd
 * (unlinkat/renameat/mkdirat/openat with O_NOFOLLOW), never on the string
 * again, so a directory swapped for a symlink after the check cannot lead
 * outside the base.
 *
 * When openat2() is unavailable (ENOSYS on kernels < 5.6, or EPERM from a
 * seccomp filter) resolution walks one component at a time with
 * openat(O_NOFOLLOW), reports symlinks as -ELOOP and compares mount ids.
 *
 * Hard links cannot be told apart from regular files; writes are atomic
 * renames, so a hard-linked inode is never modified in place.
 *
 * Every fd is O_CLOEXEC. Functions return 0 (or a documented value >= 0) on
 * success and -errno on failure; out parameters are set only on success.
 * This module does not log except at debug level and keeps no state.
 *
 * Suggested HTTP mapping (the handlers own it): -EINVAL and -ELOOP → 400
 * "Invalid path"; -ENOENT → 404; -EISDIR/-ENXIO on a file operation → 400
 * "Path is not a file"; -EEXIST → 409; anything else → 500.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define PATHSAFE_NAME_MAX	NAME_MAX		/* bytes in one component */
#define PATHSAFE_PATH_MAX	(PATH_MAX - 1)		/* bytes in a canonical path */
/* In-flight atomic writes are named PATHSAFE_TMP_PREFIX + 16 random characters. */
#define PATHSAFE_TMP_PREFIX	".mcadmin-tmp-"
#define PATHSAFE_TMP_NAME_LEN	(sizeof(PATHSAFE_TMP_PREFIX) - 1 + 16)
/* pathsafe_list() entry cap when max_entries is 0 */
#define PATHSAFE_LIST_MAX_DEFAULT	100000

/* The two kinds the file managers know (§13 FileItem.type, §15.2). */
enum pathsafe_type {
	PATHSAFE_FILE,		/* a regular file (after an inside symlink), or a dangling link */
	PATHSAFE_DIRECTORY,	/* a directory, and any other non-regular object (§15.2) */
	PATHSAFE_TYPE_MAX,
};

/* Flags; each function lists the ones it accepts. */
enum pathsafe_flags {
	PATHSAFE_PARENTS	= 1 << 0,	/* create missing parent directories */
	PATHSAFE_EXIST_OK	= 1 << 1,	/* mkdir: an existing directory is fine */
	PATHSAFE_REPLACE	= 1 << 2,	/* write/rename: replace an existing target */
	PATHSAFE_MUST_EXIST	= 1 << 3,	/* write: the target must be a regular file */
	PATHSAFE_KEEP_ATTRS	= 1 << 4,	/* write: keep the replaced file's owner/mode */
};

/* What a request path shows (§15.2 rules, see the symlink policy above). */
struct pathsafe_stat {
	enum pathsafe_type type;
	bool symlink;		/* the object itself is a symlink */
	int64_t size;		/* st_size of regular files, 0 otherwise */
	struct timespec mtime;	/* {0, 0} for a dangling or outside symlink */
	mode_t mode;		/* st_mode of what is shown (the link's own when dangling) */
	uid_t uid;
	gid_t gid;
};

struct pathsafe_entry {
	char *name;		/* never contains '/' */
	struct pathsafe_stat st;
};

struct pathsafe_listing {
	char *dir;			/* canonical path of the directory ("" = base) */
	struct pathsafe_entry *entries;	/* in directory order (§15.2: unsorted) */
	size_t n_entries;
	bool partial;			/* a permission error stopped the listing (§15.2) */
};

/*
 * Open a configured base directory (trusted: symlinks in it are followed) as
 * O_RDONLY|O_DIRECTORY|O_CLOEXEC. PATHSAFE_PARENTS creates it and its missing
 * parents with mode (§14: "every call first creates A"). Returns the fd, or
 * -EINVAL (empty path), -ENOENT, -ENOTDIR, -errno.
 */
int pathsafe_base_open(const char *path, unsigned flags, mode_t mode);

/*
 * Canonicalise the len bytes at path (which need not be NUL-terminated; a
 * NUL inside them is refused) into "a/b/c", or "" for the base. *ret is
 * malloc'd and owned by the caller. 0, -EINVAL (see "Path syntax"), -ENOMEM.
 * Handlers holding a value with a length (JSON strings may carry \u0000)
 * check it here first; every other function takes a C string.
 */
int pathsafe_path_normalize(const char *path, size_t len, char **ret);
/* 0 when the C string path is acceptable, -EINVAL otherwise. */
int pathsafe_check_rel(const char *path);

/*
 * Validate a single name (CreateFileRequest.name, RenameFileRequest.new_name):
 * not empty, not "." or "..", no '/' or NUL in its len bytes, at most
 * NAME_MAX bytes, not starting with PATHSAFE_TMP_PREFIX. 0 or -EINVAL.
 */
int pathsafe_check_name(const char *name, size_t len);

/* True for names of in-flight atomic writes (hidden from listings). */
bool pathsafe_is_tmp_name(const char *name);

/*
 * Open an existing regular file. flags is the access mode only (O_RDONLY,
 * O_WRONLY or O_RDWR; anything else is a programmer error). A FIFO never
 * blocks the open. Returns the fd (caller closes), or -EINVAL, -ENOENT,
 * -ENOTDIR (a component is not a directory), -ELOOP (symlink on the way or
 * at the end), -EXDEV (mount point), -EISDIR (a directory, the base
 * included), -ENXIO (FIFO, socket or device), -errno.
 */
int pathsafe_open_file(int base_fd, const char *path, int flags);

/*
 * Open an existing directory ("" = the base) as O_RDONLY|O_DIRECTORY. Returns
 * the fd, or -EINVAL, -ENOENT, -ENOTDIR (not a directory), -ELOOP, -EXDEV,
 * -errno.
 */
int pathsafe_open_dir(int base_fd, const char *path);

/*
 * Resolve the parent directory of path and copy its last component into
 * ret_name. The building block for callers that need fd-relative work of
 * their own. Returns the parent's O_RDONLY|O_DIRECTORY fd, or -EINVAL (bad
 * path, or the base itself, which has no parent here), -ENOENT, -ENOTDIR,
 * -ELOOP, -EXDEV, -errno. The last component is not looked at.
 */
int pathsafe_open_parent(int base_fd, const char *path,
    char ret_name[static PATHSAFE_NAME_MAX + 1]);

/*
 * Describe path as a listing would (the last component may be a symlink; it
 * is shown by the symlink policy, never opened). 0, -EINVAL, -ENOENT,
 * -ENOTDIR, -ELOOP (symlink before the last component), -EXDEV, -errno.
 */
int pathsafe_stat(int base_fd, const char *path, struct pathsafe_stat *ret);

/*
 * List a directory (§15.2): every entry, dotfiles included, in directory
 * order, except in-flight atomic-write temporaries. Symlinks are shown by the
 * policy above; entries that vanish while listing are skipped; a permission
 * error stops the listing and sets ->partial. max_entries 0 means
 * PATHSAFE_LIST_MAX_DEFAULT. *ret is owned by the caller
 * (pathsafe_listing_free()). 0, -EINVAL, -ENOENT, -ENOTDIR, -ELOOP, -EXDEV,
 * -E2BIG (more than max_entries), -ENOMEM, -errno. §13.1 turns -ENOENT and
 * -ENOTDIR into "items: []"; -ELOOP is 400 "Invalid path" like everywhere.
 */
int pathsafe_list(int base_fd, const char *path, size_t max_entries,
    struct pathsafe_listing **ret);
/* NULL-safe; returns NULL. */
struct pathsafe_listing *pathsafe_listing_free(struct pathsafe_listing *l);

/*
 * Create a directory (mode, minus the umask). Flags: PATHSAFE_PARENTS creates
 * missing parents with the same mode (§15.5, §15.6); PATHSAFE_EXIST_OK makes
 * an existing directory a success. Returns 1 when the last directory was
 * created, 0 when it already existed (EXIST_OK; the base itself always
 * exists), or -EINVAL, -EEXIST (exists and no EXIST_OK), -ENOTDIR (exists as
 * a non-directory, or a parent is not a directory), -ENOENT (missing parent
 * without PARENTS), -ELOOP, -EXDEV, -errno. Ownership is left to the caller
 * (pathsafe_chown(), §15.9).
 */
int pathsafe_mkdir(int base_fd, const char *path, mode_t mode, unsigned flags);

/*
 * Create an empty regular file with O_EXCL (§15.6). Flags: PATHSAFE_PARENTS.
 * 0, -EINVAL, -EEXIST (anything exists there, a symlink included, or the
 * base itself), -ENOENT, -ENOTDIR, -ELOOP, -EXDEV, -errno.
 */
int pathsafe_create_file(int base_fd, const char *path, mode_t mode, unsigned flags);

/*
 * Delete path (§15.7): a regular file or a symlink (the link, never its
 * target; a broken one too) is unlinked → *ret_type = PATHSAFE_FILE; a
 * directory is removed recursively, fd-relative, never following symlinks
 * and never entering another mount → PATHSAFE_DIRECTORY. ret_type may be
 * NULL. Returns 0, or -EINVAL (bad path, the base itself, or a FIFO/socket/
 * device: §15.7 "anything else → 400 Invalid path"), -ENOENT, -ENOTDIR,
 * -ELOOP (symlink before the last component), -EXDEV (a mount point is in
 * the way; the rest is deleted), -ENAMETOOLONG (tree deeper than 256
 * levels), -errno. A failed recursive delete may have removed part of the
 * tree.
 */
int pathsafe_delete(int base_fd, const char *path, enum pathsafe_type *ret_type);

/*
 * Rename old_path under old_base_fd to new_path under new_base_fd (the same
 * fd for a rename within one base). A symlink is renamed as the link. An
 * existing target is -EEXIST (renameat2(RENAME_NOREPLACE); where the
 * filesystem lacks it, a check-then-rename) unless PATHSAFE_REPLACE.
 * *ret_type (may be NULL) is the type of the new path as a listing shows it
 * (§15.8). 0, -EINVAL (bad path, either side is the base, or moving a
 * directory into itself), -ENOENT (old missing, or new's parent), -EEXIST,
 * -ENOTDIR, -EISDIR, -ELOOP, -EXDEV, -errno.
 */
int pathsafe_rename(int old_base_fd, const char *old_path, int new_base_fd,
    const char *new_path, unsigned flags, enum pathsafe_type *ret_type);

/*
 * §15.8: rename old_path to new_name within the same directory, never
 * replacing. new_name is checked with pathsafe_check_name(). Same returns as
 * pathsafe_rename().
 */
int pathsafe_rename_to_name(int base_fd, const char *old_path, const char *new_name,
    enum pathsafe_type *ret_type);

/*
 * chown path to uid/gid without following a symlink (§15.9). (uid_t)-1 or
 * (gid_t)-1 leave that id unchanged. 0, -EINVAL (bad path or the base),
 * -ENOENT, -ENOTDIR, -ELOOP, -EXDEV, -EPERM, -errno.
 */
int pathsafe_chown(int base_fd, const char *path, uid_t uid, gid_t gid);

/*
 * Atomic write: content goes to a temporary in the target's directory, and
 * commit fsyncs it and puts it in place. The temporary is an unnamed
 * O_TMPFILE inode where the file system supports it: if the process dies
 * (SIGKILL, power loss) the kernel frees it and nothing is left behind.
 * Commit links it to the target directly (no replace) or, with REPLACE,
 * to a PATHSAFE_TMP_PREFIX name for the instant of a rename over the
 * target (linking through /proc/self/fd, else AT_EMPTY_PATH). Without
 * O_TMPFILE (or with the test hook's fallback) the temporary is a file
 * created with O_EXCL and named PATHSAFE_TMP_PREFIX + random, hidden from
 * listings; a process that dies leaves that one behind. On any failure,
 * and on abort, the temporary is removed so nothing partial remains. The parent directory fd is held from begin to commit: the file
 * lands in the directory that was checked, even if the path is changed
 * meanwhile.
 *
 * Usage:
 *   _cleanup_(pathsafe_atomic_abort) struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;
 *   r = pathsafe_atomic_begin(base_fd, path, 0644, PATHSAFE_REPLACE, &a);
 *   ... pathsafe_atomic_write(&a, chunk, n) or write(a.fd, …) / fchown(a.fd, …) ...
 *   r = pathsafe_atomic_commit(&a);
 */
struct pathsafe_atomic {
	int fd;			/* the temporary, open for writing: stream content here */
	int dir_fd;		/* private: the target's parent directory */
	unsigned flags;		/* private */
	char name[PATHSAFE_NAME_MAX + 1];		/* private: the target's name */
	char tmp_name[PATHSAFE_TMP_NAME_LEN + 1];	/* private */
};

#define PATHSAFE_ATOMIC_INIT { .fd = -1, .dir_fd = -1 }

/*
 * Start an atomic write of path. mode (minus the umask) applies to a new
 * file. Flags: PATHSAFE_REPLACE (an existing regular file is replaced),
 * PATHSAFE_MUST_EXIST (the target must already be a regular file: §15.4
 * content edits; implies REPLACE), PATHSAFE_KEEP_ATTRS (the replaced file's
 * mode and owner are copied to the new one; the owner only where the process
 * may chown, i.e. as root: best effort otherwise). Without REPLACE or
 * MUST_EXIST anything existing at path is -EEXIST, at begin and again
 * atomically at commit. Fills *ret (which need not be initialised) on
 * success. Returns 0, or -EINVAL, -ENOENT (parent missing, or target missing
 * with MUST_EXIST), -EEXIST, -EISDIR (the base, or replacing a directory),
 * -ELOOP (a component is a symlink, or replacing one), -ENXIO (replacing a
 * FIFO/socket/device), -ENOTDIR, -EXDEV, -errno.
 */
int pathsafe_atomic_begin(int base_fd, const char *path, mode_t mode, unsigned flags,
    struct pathsafe_atomic *ret);
/* Write all n bytes to the temporary. 0 or -errno (-ENOSPC, -EFBIG, -EBADF…). */
int pathsafe_atomic_write(struct pathsafe_atomic *a, const void *buf, size_t n);
/*
 * fsync and rename into place, then fsync the directory (best effort). On
 * failure the temporary is removed. Either way a is finished afterwards
 * (abort is then a no-op). 0, -EEXIST (target appeared, no REPLACE),
 * -EISDIR (a directory appeared), -EBADF (not begun / already finished),
 * -EIO, -ENOSPC, -errno.
 */
int pathsafe_atomic_commit(struct pathsafe_atomic *a);
/* Drop an unfinished write: unlink the temporary, close fds. Idempotent; fine on INIT. */
void pathsafe_atomic_abort(struct pathsafe_atomic *a);

/* One shot: begin + write(buf, n) + commit. Same flags and returns. */
int pathsafe_write_file(int base_fd, const char *path, const void *buf, size_t n,
    mode_t mode, unsigned flags);

/*
 * Temporaries beside a base, for work that must appear whole or not at all
 * (populate builds the new data/ tree next to the old one, §16.2). The name
 * is PATHSAFE_TMP_PREFIX + random, so listings hide it and every path
 * function above refuses it; only these two functions touch it.
 *
 * pathsafe_tmp_mkdir() creates such a directory directly in dir_fd (mode,
 * minus the umask) and returns its O_RDONLY|O_DIRECTORY fd (the caller
 * closes it) and its name in ret_name. -errno.
 *
 * pathsafe_tmp_remove() removes the temporary name directly in dir_fd: a
 * file or symlink is unlinked, a directory removed recursively with
 * pathsafe_delete()'s rules (no symlink followed, no other mount entered).
 * 0, -EINVAL (not a temporary's name), -ENOENT, -errno.
 */
int pathsafe_tmp_mkdir(int dir_fd, mode_t mode, char ret_name[static PATHSAFE_TMP_NAME_LEN + 1]);
int pathsafe_tmp_remove(int dir_fd, const char *name);
