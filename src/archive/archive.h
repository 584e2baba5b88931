/* SPDX-License-Identifier: MIT */
/*
 * archive: reading, checking and extracting archives and writing 7z, in
 * process with libarchive (API-core §16), plus the streaming SHA-256 of
 * §14.9. The functions are arc_* because libarchive owns archive_*; this
 * module is the only one that includes <archive.h>.
 *
 * Everything works on fds the caller opened through pathsafe (the archive
 * file, the extraction directory, the directory to compress); no path is
 * ever built from archive contents except beneath such an fd, through
 * pathsafe.
 *
 * Reading (populate, §16.2) is done twice: arc_scan() reads every header
 * before anything is written, and refuses the whole archive when an entry
 *   - has an absolute path, a ".." component, an empty name, or a name
 *     pathsafe refuses (too long, the reserved temporary prefix)  -EINVAL;
 *   - is a symlink whose target is absolute or has a ".." component, or a
 *     hard link whose target is not an earlier regular file of the
 *     archive                                                      -ELOOP;
 *   - is a device, FIFO or socket                                  -ENODEV;
 * or when the archive has more than max_entries entries (-E2BIG), more
 * than max_total_size declared bytes (-EFBIG), or an unpacked/packed ratio
 * above max_ratio (-EDOM). Symlinks are allowed only relative and without
 * "..": they then resolve at or below their own directory whatever other
 * links exist, so no chain of links can leave the extraction root.
 * arc_extract() then writes the entries below a chosen root into an empty
 * directory fd, fd-relative, never following a symlink (a link in the way
 * of a later entry is -ELOOP), counting the bytes really written against
 * the declared sizes and the limit (a lying header is -EFBIG).
 *
 * Formats: zip, 7z, tar (all variants), cpio, rar, rar5, iso9660, xar,
 * cab, lha, ar; filters gzip, bzip2, xz, lzma, lzip, zstd, lz4, compress,
 * uu - only those libarchive runs in process (never an external program).
 * mtree is never enabled: it reads files named inside it from the disk.
 *
 * Writing (compress, §16.1): 7z with LZMA2 at a given level. Regular
 * files, directories and symlinks (stored as links, never followed) are
 * added; FIFOs, sockets, devices, other mounts and in-flight pathsafe
 * temporaries are skipped.
 *
 * Names are handled as UTF-8 whatever the process locale (a C.UTF-8 locale
 * is used by the calling thread for the duration of each call).
 *
 * Errors (besides those above): -EBADMSG (not an archive, corrupt or
 * unsupported; prob->detail has libarchive's text), -ENOSPC, -EACCES,
 * -EPERM, -ENOMEM, -EIO, -errno. The module does not log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARC_SHA256_HEX_LEN 64

struct arc_limits {
	uint64_t max_entries;		/* 0 = no limit */
	uint64_t max_total_size;	/* bytes; 0 = no limit */
	uint64_t max_ratio;		/* unpacked / packed; 0 = no check */
};

/* What made a call fail, for the error text; filled on failure only. */
struct arc_problem {
	char entry[512];	/* the offending entry's name ("" when none), truncated */
	uint64_t value;		/* the count / size / ratio found (-E2BIG, -EFBIG, -EDOM) */
	uint64_t limit;		/* the limit it broke */
	char detail[256];	/* libarchive's message (-EBADMSG), else "" */
};

struct arc_scan {
	uint64_t n_entries;
	uint64_t total_size;		/* declared bytes of every regular file */
	bool found;			/* a regular file named server.properties exists */
	char *root;			/* the directory of the shallowest server.properties
					 * (first in archive order among equals), canonical,
					 * "" for the top; NULL when !found */
	uint64_t root_size;		/* declared bytes of the regular files below root */
	uint64_t root_entries;		/* entries below root */
};

/*
 * Read every header of the archive in fd (from offset 0; fd is only read
 * with pread, so its offset does not matter) and check it (above).
 * archive_size is the size of the archive file (for max_ratio). Fills *ret
 * (release with arc_scan_done()). 0 or -errno; *prob on failure.
 */
int arc_scan(int fd, uint64_t archive_size, const struct arc_limits *lim, struct arc_scan *ret,
    struct arc_problem *prob);
void arc_scan_done(struct arc_scan *s);

struct arc_extract_opts {
	const char *root;		/* extract only what is below root ("" = all); the
					 * root prefix is removed from the names */
	uid_t uid;			/* owner of everything created; (uid_t)-1 keeps ours */
	gid_t gid;
	const struct arc_limits *lim;	/* max_total_size and max_entries apply */
};

/*
 * Extract the archive in fd into the directory dest_fd (normally empty and
 * private to the caller). Files get the archive's permission bits without
 * set-id/sticky bits (and at least u+rw, directories u+rwx) and its mtime.
 * A later entry with the name of an earlier file replaces it. On failure
 * dest_fd may hold a partial tree: the caller removes it.
 * Returns the number of entries written (≥ 0) or -errno; *prob on failure.
 */
int arc_extract(int fd, int dest_fd, const struct arc_extract_opts *opts,
    struct arc_problem *prob);

/*
 * Write a 7z archive (LZMA2, level 0-9) of the object name inside the
 * directory parent_fd (a regular file, or a directory and everything below
 * it) to out_fd, which must be empty and writable; entries are named
 * "<name>/…" (§16.1: one top-level entry). Returns the number of entries
 * (≥ 1) or -errno (-ENOENT: name missing; -ENOSPC; -EACCES; -EBADMSG: a
 * libarchive failure, *prob->detail).
 */
int arc_compress_7z(int parent_fd, const char *name, int out_fd, int level,
    struct arc_problem *prob);

/*
 * SHA-256 of everything readable from fd (from its current offset to the
 * end), in process, streaming. ret gets 64 lower-case hex digits and a NUL.
 * 0, -EIO, -errno.
 */
int arc_sha256_fd(int fd, char ret[static ARC_SHA256_HEX_LEN + 1]);

/*
 * Canonicalise an archive entry name: a leading "./" and "." components
 * and repeated or trailing '/' are dropped ("./world//r.mca" → "world/r.mca",
 * "./" → ""). -EINVAL for absolute names, ".." components, and what
 * pathsafe_path_normalize() refuses. *ret is malloc'd. Exposed for tests.
 */
int arc_entry_name(const char *raw, char **ret);
