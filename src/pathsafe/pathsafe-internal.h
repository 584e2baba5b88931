/* SPDX-License-Identifier: MIT */
/* pathsafe internals, exposed for tests/check_pathsafe.c only. */
#pragma once

#include <stdbool.h>

#include "pathsafe/pathsafe.h"

/*
 * Test hook, the module's only global: pretend the kernel has neither
 * openat2() nor renameat2(RENAME_NOREPLACE) nor O_TMPFILE, so the component
 * walk, the check-then-rename and the named temporaries run. Set it before
 * a test, never while serving.
 */
void pathsafe_test_force_fallback(bool on);

/*
 * The fallback resolver: open the canonical relative path rel ("" = the
 * base) under base_fd one component at a time with openat(O_NOFOLLOW), the
 * intermediate ones as O_PATH|O_DIRECTORY, the last one with flags |
 * O_CLOEXEC. A symlink anywhere is -ELOOP (also where Linux says ENOTDIR for
 * O_DIRECTORY|O_NOFOLLOW), another mount is -EXDEV. Returns the fd or -errno.
 */
int pathsafe_walk(int base_fd, const char *rel, int flags);
