/* SPDX-License-Identifier: MIT */
/*
 * Scope-bound cleanup helpers in the systemd style. Every destructor used
 * with these macros accepts NULL (or -1 for fds), so a half-built object can
 * always be left to the cleanup attribute.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)            __attribute__((cleanup(f)))
#define _cleanup_free_          _cleanup_(freep)
#define _cleanup_close_         _cleanup_(closep)
#define _cleanup_fclose_        _cleanup_(fclosep)
#define _unused_                __attribute__((unused))
#define _printf_(a, b)          __attribute__((format(printf, a, b)))
#define _warn_unused_result_    __attribute__((warn_unused_result))

#define ELEMENTSOF(x)           (sizeof(x) / sizeof((x)[0]))

/* Hand ownership over: returns the value and leaves NULL / -1 behind. */
#define TAKE_PTR(p)             ({ __typeof__(p) _p_ = (p); (p) = NULL; _p_; })
#define TAKE_FD(fd)             ({ int _fd_ = (fd); (fd) = -1; _fd_; })

static inline void
freep(void *p)
{
	free(*(void **)p);
}

static inline void
closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline void
fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

/* Define a NULL-safe pointer cleanup wrapper for a destructor "func(type *)". */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
	static inline void func##p(type *p)                     \
	{                                                       \
		if (*p)                                         \
			func(*p);                               \
	}
