/* SPDX-License-Identifier: MIT */
/* The one table from errno to HTTP status, and the reason phrases. */
#include "autoconf.h"

#include <errno.h>
#include <stddef.h>

#include "common/cleanup.h"
#include "http/http.h"

static const struct {
	int error;
	int status;
} errno_map[] = {
	{ ENOENT, 404 },	/* no such route / resource */
	{ EOPNOTSUPP, 405 },	/* route exists, method does not */
	{ EINVAL, 400 },	/* malformed input */
	{ EBADMSG, 400 },	/* unparsable body */
	{ ENOKEY, 401 },	/* no credentials */
	{ EKEYREJECTED, 401 },	/* credentials present but not valid */
	{ EACCES, 403 },	/* authenticated, not allowed */
	{ EPERM, 403 },
	{ EEXIST, 409 },	/* already exists */
	{ EMSGSIZE, 413 },	/* body larger than the route allows */
	{ EUSERS, 429 },	/* too many attempts */
	{ EBUSY, 503 },		/* database locked / dependency busy */
	{ EHOSTDOWN, 503 },	/* docker (or another local service) unreachable */
	{ ETIMEDOUT, 504 },	/* an external command or RCON ran out of time */
};

int
http_status_from_errno(int error)
{
	if (error < 0)
		error = -error;
	for (size_t i = 0; i < ELEMENTSOF(errno_map); i++)
		if (errno_map[i].error == error)
			return errno_map[i].status;
	return 500;
}

const char *
http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Request Entity Too Large";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}
