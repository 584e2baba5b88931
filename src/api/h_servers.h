/* SPDX-License-Identifier: MIT */
/* Helpers shared by the /api/servers handlers (h_servers.c, h_servers_ops.c). */
#pragma once

#include "api/api.h"
#include "servers/servers.h"

/*
 * Resolve the {server_id} path parameter. Returns 0 with *ref filled, 1 when
 * a response is ready (404 "Server '<id>' not found" for a bad, unknown or
 * symlinked id; 503 when server management is not configured), or -errno.
 */
int hs_resolve(struct ctx *c, struct server_ref *ref);

/*
 * Status of the {server_id} server with its container, for the endpoints
 * whose unknown server is REMOVED rather than 404. *ref is filled when the
 * server exists (dir_fd < 0 otherwise). Returns 0, 1 (response ready: docker
 * failure answered with "<prefix>: …" as 503/504/500), or -errno.
 */
int hs_state(struct ctx *c, const char *prefix, struct server_ref *ref,
    enum server_status *ret_status, struct docker_container *ret_container);

/*
 * Answer a failure of the server layer with "<prefix>: <reason>": -EHOSTDOWN
 * → 503, -ETIMEDOUT → 504, -ENOMEM is returned, anything else → 500 (and
 * logged). what names the thing that failed for 503/504 ("Docker",
 * "docker compose", "RCON"); detail (may be NULL) is the reason text.
 */
int hs_fail(struct ctx *c, int r, const char *prefix, const char *what, const char *detail);

/*
 * Answer a failed compose command (servers_compose_op()) with "<prefix>: …":
 * no compose command → 503, docker unreachable (asked after a failure) →
 * 503, timeout → 504, else 500 with the command's error text err.
 * Returns 1 (answered) or -ENOMEM.
 */
int hs_cli_fail(struct ctx *c, int r, const char *prefix, const char *err);

/* The {server_id} path parameter as sent (never NULL inside a route). */
const char *hs_id(struct ctx *c);
