/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the Check unit tests: real temporary directories. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct tmpdir {
	char *path;	/* absolute */
	int fd;		/* O_DIRECTORY of path */
};

/* A fresh directory under $TMPDIR (or /tmp); aborts the test on failure. */
struct tmpdir *tmpdir_new(void);
/* Removes the whole tree (without following symlinks) and frees; returns NULL. */
struct tmpdir *tmpdir_free(struct tmpdir *td);
/* Write a file (parents created) relative to td. */
void tmpdir_write(struct tmpdir *td, const char *rel, const char *content);
void tmpdir_mkdir(struct tmpdir *td, const char *rel);
void tmpdir_symlink(struct tmpdir *td, const char *rel, const char *target);
/* Read a whole file relative to td; malloc'd, NULL when missing. */
char *tmpdir_read(struct tmpdir *td, const char *rel);
bool tmpdir_exists(struct tmpdir *td, const char *rel);
/* "<td->path>/<rel>", malloc'd */
char *tmpdir_join(struct tmpdir *td, const char *rel);

/* Source and build directories (from the environment of make check). */
const char *test_srcdir(void);
const char *test_builddir(void);
