/* SPDX-License-Identifier: MIT */
/* The development listening socket of the daemons (--listen PATH). */
#pragma once

/*
 * Create a close-on-exec unix stream socket at path (a stale socket file
 * there is removed first), bound with mode 0660 so that nginx can reach it
 * through a shared group, and listening. Non-blocking mode is left to the
 * caller, which sets it on a socket-activated fd as well. Returns the fd,
 * which the caller owns, or -ENAMETOOLONG (path too long for sun_path) or
 * another -errno.
 */
int socket_listen_unix(const char *path);
