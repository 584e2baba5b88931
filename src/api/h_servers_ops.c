/* SPDX-License-Identifier: MIT */
/*
 * /api/servers/{id}: resources (§12.4), players (§12.5), operations (§12.8)
 * and RCON (§12.11).
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/h_servers.h"
#include "common/log.h"
#include "common/util.h"
#include "monitor/monitor.h"
#include "pathsafe/pathsafe.h"
#include "rcon/rcon.h"

static void
container_donep(struct docker_container *c)
{
	docker_container_done(c);
}

/* ---- §12.4 resources ----------------------------------------------------- */

/*
 * The running container of {server_id}, or a ready response: 409 "Server
 * '<id>' <what> not available (status: MCServerStatus.<S>)" unless running-
 * like. Returns 0, 1 (answered) or -errno.
 */
static int
running_container(struct ctx *c, const char *what, const char *prefix, struct server_ref *ref,
    struct docker_container *ct)
{
	enum server_status st;
	int r;

	r = hs_state(c, prefix, ref, &st, ct);
	if (r != 0)
		return r;
	if (!server_status_running_like(st))
		return resp_detail(c->rs, 409, "Server '%s' %s not available (status: %s)",
		    hs_id(c), what, server_status_repr(st)) < 0 ? -ENOMEM : 1;
	if (ct->pid <= 0)
		/* paused/restarting between two runs: no process to measure */
		return resp_detail(c->rs, 500, "%s: the container has no running process",
		    prefix) < 0 ? -ENOMEM : 1;
	return 0;
}

static int
monitor_fail(struct ctx *c, int r, const char *prefix)
{
	if (r == -ENOMEM)
		return r;
	log_error_errno(r, "%s '%s': %m", prefix, hs_id(c));
	return resp_detail(c->rs, 500, "%s: %s", prefix,
	    r == -ENOENT ? "the container's cgroup or process was not found" : strerror(-r));
}

#define CPU_PREFIX "Failed to get server CPU percentage"

int
h_server_cpu_percent(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(container_donep) struct docker_container ct = { 0 };
	const struct servers_config *cfg;
	double pct = 0.0;
	json_object *o;
	int r;

	r = running_container(c, "CPU monitoring", CPU_PREFIX, &ref, &ct);
	if (r != 0)
		return r < 0 ? r : 0;
	cfg = servers_config(c->app->servers);
	if (!cfg->sampler)
		return resp_detail(c->rs, 503, CPU_PREFIX ": the CPU sampler is not running");
	/* the last full window of the shared sampler: no worker sleeps a second */
	r = monitor_sampler_get(cfg->sampler, ct.id, ct.pid, &pct);
	if (r == -ENOENT || r == -ESRCH)
		pct = 0.0;	/* the process went away meanwhile: the reference says 0.0 */
	else if (r == -ETIMEDOUT || r == -EBUSY || r == -ESHUTDOWN)
		return resp_detail(c->rs, 503, CPU_PREFIX ": %s",
		    r == -EBUSY ? "too many containers are being sampled" :
		    "no CPU sample is available yet");
	else if (r < 0)
		return monitor_fail(c, r, CPU_PREFIX);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "cpuPercentage", json_new_float(pct));
	return resp_json(c->rs, 200, o);
}

static int
cgroup_of(struct ctx *c, pid_t pid, struct monitor_cgroup **ret)
{
	const struct servers_config *cfg = servers_config(c->app->servers);

	return monitor_cgroup_detect(cfg->proc_root, cfg->cgroup_root, pid, ret);
}

#define MEMORY_PREFIX "Failed to get server memory usage"

int
h_server_memory(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(container_donep) struct docker_container ct = { 0 };
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	uint64_t bytes = 0;
	json_object *o;
	int r;

	r = running_container(c, "memory monitoring", MEMORY_PREFIX, &ref, &ct);
	if (r != 0)
		return r < 0 ? r : 0;
	r = cgroup_of(c, ct.pid, &cg);
	if (r >= 0)
		r = monitor_memory_read(cg, &bytes);
	if (r < 0)
		return monitor_fail(c, r, MEMORY_PREFIX);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "memoryUsageBytes", json_object_new_int64((int64_t)bytes));
	return resp_json(c->rs, 200, o);
}

#define IO_PREFIX "Failed to get server I/O stats"

int
h_server_iostats(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(container_donep) struct docker_container ct = { 0 };
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	struct monitor_io io = { 0 };
	struct monitor_net net = { 0 };
	json_object *o;
	int r;

	r = running_container(c, "I/O stats", IO_PREFIX, &ref, &ct);
	if (r != 0)
		return r < 0 ? r : 0;
	/* a few small kernel files: reading them in turn is quicker than a thread */
	r = cgroup_of(c, ct.pid, &cg);
	if (r >= 0)
		r = monitor_io_read(cg, &io);
	if (r >= 0)
		r = monitor_net_read(servers_config(c->app->servers)->proc_root, ct.pid, &net);
	if (r < 0)
		return monitor_fail(c, r, IO_PREFIX);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	/* cumulative counters; int64 is enough for 8 EiB */
	json_object_object_add(o, "diskReadBytes", json_object_new_int64((int64_t)io.read_bytes));
	json_object_object_add(o, "diskWriteBytes", json_object_new_int64((int64_t)io.write_bytes));
	json_object_object_add(o, "networkReceiveBytes",
	    json_object_new_int64((int64_t)net.rx_bytes));
	json_object_object_add(o, "networkSendBytes", json_object_new_int64((int64_t)net.tx_bytes));
	return resp_json(c->rs, 200, o);
}

#define DISK_PREFIX "Failed to get server disk usage"

int
h_server_disk_usage(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_close_ int data_fd = -1;
	struct monitor_disk d = { 0 };
	json_object *o;
	int r;

	r = hs_resolve(c, &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	data_fd = servers_data_open(&ref);
	if (data_fd == -ENOENT || data_fd == -ENOTDIR || data_fd == -ELOOP)
		return resp_detail(c->rs, 500, DISK_PREFIX ": Data directory does not exist for "
		    "server %s", ref.id);
	if (data_fd < 0)
		return monitor_fail(c, data_fd, DISK_PREFIX);
	/* in-process tree walk and fstatvfs: no du/df processes */
	r = monitor_disk_usage(data_fd, &d);
	if (r < 0)
		return monitor_fail(c, r, DISK_PREFIX);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "diskUsageBytes", json_object_new_int64((int64_t)d.used_bytes));
	json_object_object_add(o, "diskTotalBytes", json_object_new_int64((int64_t)d.total_bytes));
	json_object_object_add(o, "diskAvailableBytes",
	    json_object_new_int64((int64_t)d.available_bytes));
	return resp_json(c->rs, 200, o);
}

/* ---- RCON (§12.5, §12.11) ------------------------------------------------ */

/* Answer a failed servers_rcon() with "<prefix>: …". */
static int
rcon_fail(struct ctx *c, int r, const char *prefix, const char *err)
{
	char why[96];

	switch (-r) {
	case ETIMEDOUT:
		(void)snprintf(why, sizeof(why), "no answer within %lld s",
		    (long long)(servers_config(c->app->servers)->rcon_timeout_ms / 1000));
		return hs_fail(c, r, prefix, "RCON", why);
	case EHOSTDOWN:
		/* direct RCON was not possible and rcon-cli needs compose */
		return resp_detail(c->rs, 503, "%s: direct RCON is not possible and no docker "
		    "compose command is available", prefix) < 0 ? -ENOMEM : 1;
	case EMSGSIZE:
		return resp_detail(c->rs, 500, "%s: the answer is larger than %d bytes", prefix,
		    RCON_OUTPUT_MAX) < 0 ? -ENOMEM : 1;
	default:
		return hs_fail(c, r, prefix, "RCON", err);
	}
}

/* The {server_id} server if it is HEALTHY, else a ready 409 (fmt gets id and status). */
static int
healthy_server(struct ctx *c, const char *prefix, const char *fmt409, struct server_ref *ref)
{
	_cleanup_(container_donep) struct docker_container ct = { 0 };
	enum server_status st;
	int r;

	r = hs_state(c, prefix, ref, &st, &ct);
	if (r != 0)
		return r;
	if (st != SERVER_STATUS_HEALTHY) {
		/* fmt409 is one of the two constant texts below */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		r = resp_detail(c->rs, 409, fmt409, hs_id(c), server_status_repr(st));
#pragma GCC diagnostic pop
		return r < 0 ? -ENOMEM : 1;
	}
	return 0;
}

#define PLAYERS_PREFIX "Failed to get server players"

int
h_server_players(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_free_ char *out = NULL, *err = NULL;
	_cleanup_(rcon_strv_freep) char **names = NULL;
	json_object *o, *a;
	int r, n;

	r = healthy_server(c, PLAYERS_PREFIX, "Server '%s' players not available - server must "
	    "be healthy (current status: %s)", &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	r = servers_rcon(c->app->servers, &ref, "list", &out, &err, /* ret_direct= */ NULL);
	if (r < 0)
		return rcon_fail(c, r, PLAYERS_PREFIX, err) < 0 ? -ENOMEM : 0;
	n = rcon_players_parse(out, &names);
	if (n < 0)
		return n;
	a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_new_string_lossy(names[i], strlen(names[i])));
	o = json_object_new_object();
	if (!o) {
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(o, "onlinePlayers", a);
	return resp_json(c->rs, 200, o);
}

#define RCON_PREFIX "Failed to send RCON command"

int
h_server_rcon(struct ctx *c)
{
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_free_ char *out = NULL, *err = NULL;
	const char *command = body_string(c->rq, "command");
	json_object *o, *v;
	bool direct = false;
	size_t len;
	int r;

	if (!command)
		return -EINVAL;		/* the field table requires it */
	r = hs_resolve(c, &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	server_ref_done(&ref);
	r = healthy_server(c, RCON_PREFIX, "Server '%s' must be healthy to send RCON commands "
	    "(current status: %s)", &ref);
	if (r != 0)
		return r < 0 ? r : 0;
	/* a NUL byte would cut the command short on the wire; vanilla reads one
	 * 1460-byte packet, so longer commands cannot be sent at all */
	if (json_object_object_get_ex(c->rq->json, "command", &v) &&
	    (size_t)json_object_get_string_len(v) != strlen(command))
		return resp_detail(c->rs, 422, "The RCON command must not contain a NUL byte");
	if (strlen(command) > RCON_REQUEST_PAYLOAD_MAX)
		return resp_detail(c->rs, 422, "The RCON command is longer than %d bytes",
		    RCON_REQUEST_PAYLOAD_MAX);
	r = servers_rcon(c->app->servers, &ref, command, &out, &err, &direct);
	if (r < 0)
		return rcon_fail(c, r, RCON_PREFIX, err) < 0 ? -ENOMEM : 0;
	len = rcon_output_clean(out);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "result", json_new_string_lossy(out, len));
	json_object_object_add(o, "command", json_object_new_string(command));
	return resp_json(c->rs, 200, o);
}

/* ---- §12.8 operations ---------------------------------------------------- */

#define OPS_PREFIX "Operation failed"

/* "remove" (§12.8): only without a container, then the whole project directory. */
static int
server_remove(struct ctx *c, struct server_ref *ref)
{
	struct servers *srv = c->app->servers;
	struct docker_error de = { 0 };
	_cleanup_close_ int root_fd = -1;
	enum server_status st;
	int r;

	r = servers_status_ref(srv, ref, &st, /* ret_container= */ NULL, &de);
	if (r < 0)
		return hs_fail(c, r, OPS_PREFIX, "Docker", de.message);
	if (st >= SERVER_STATUS_CREATED)
		return resp_detail(c->rs, 500, OPS_PREFIX ": Cannot remove server %s while it is "
		    "created", ref->id) < 0 ? -ENOMEM : 1;
	root_fd = servers_root_open(srv);
	if (root_fd < 0)
		return hs_fail(c, root_fd, OPS_PREFIX, "", NULL);
	/* data/ first: when the game's files cannot be deleted (another owner),
	 * the compose file stays and the server still exists, rather than a
	 * half-deleted directory that no longer shows as a server */
	r = pathsafe_delete(ref->dir_fd, SERVERS_DATA_DIR, /* ret_type= */ NULL);
	if (r < 0 && r != -ENOENT)
		return hs_fail(c, r, OPS_PREFIX, "", NULL);
	r = pathsafe_delete(root_fd, ref->id, /* ret_type= */ NULL);
	if (r < 0)
		return hs_fail(c, r, OPS_PREFIX, "", NULL);
	log_info("server '%s' removed", ref->id);
	return 0;
}

int
h_server_operations(struct ctx *c)
{
	struct servers *srv = c->app->servers;
	_cleanup_(server_ref_done) struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(servers_unlockp) struct servers_lock *lock = NULL;
	_cleanup_free_ char *action = NULL, *err = NULL;
	const char *a = body_string(c->rq, "action");
	json_object *o;
	char msg[200];
	int r, op = -1;

	if (!a)
		return -EINVAL;		/* the field table requires it */
	r = hs_resolve(c, &ref);	/* 404 comes first (§12.8) */
	if (r != 0)
		return r < 0 ? r : 0;
	action = strdup(a);
	if (!action)
		return -ENOMEM;
	for (char *p = action; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!streq(action, "remove")) {
		op = compose_op_from_string(action);
		if (op < 0)
			return resp_detail(c->rs, 400, "Invalid operation: %s", action);
	}

	lock = servers_lock(srv, ref.id);
	if (op < 0) {
		r = server_remove(c, &ref);
		if (r != 0)
			return r < 0 ? r : 0;
	} else {
		r = servers_compose_op(srv, &ref, (enum compose_op)op, &err);
		if (r < 0)
			return hs_cli_fail(c, r, OPS_PREFIX, err) < 0 ? -ENOMEM : 0;
		log_info("%s of server '%s' done", action, ref.id);
	}
	(void)snprintf(msg, sizeof(msg), "Server '%s' %s operation completed", hs_id(c), action);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "message", json_object_new_string(msg));
	return resp_json(c->rs, 200, o);
}
