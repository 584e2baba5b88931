/* SPDX-License-Identifier: MIT */
/* /api/system (API-core §10). */
#include "autoconf.h"

#include <errno.h>

#include "api/api.h"
#include "common/log.h"

int
h_system_info(struct ctx *c)
{
	struct host_info hi;
	json_object *o;
	int r;

	r = sysinfo_host(c->app->proc_root, &hi);
	if (r < 0)
		return r;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "cpuLoad1Min", json_new_float(hi.load1));
	json_object_object_add(o, "cpuLoad5Min", json_new_float(hi.load5));
	json_object_object_add(o, "cpuLoad15Min", json_new_float(hi.load15));
	json_object_object_add(o, "ramUsedGB", json_new_float(hi.ram_used_gb));
	json_object_object_add(o, "ramTotalGB", json_new_float(hi.ram_total_gb));
	return resp_json(c->rs, 200, o);
}

int
h_system_disk_usage(struct ctx *c)
{
	struct disk_info di;
	json_object *o;
	int r;

	r = sysinfo_disk(c->app->cfg->server_path, &di);
	if (r < 0) {
		log_error_errno(r, "cannot measure the disk of server_path: %m");
		return resp_internal_error(c->rs);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "diskUsedGB", json_new_float(di.used_gb));
	json_object_object_add(o, "diskTotalGB", json_new_float(di.total_gb));
	json_object_object_add(o, "diskAvailableGB", json_new_float(di.available_gb));
	return resp_json(c->rs, 200, o);
}

int
h_system_cpu_percent(struct ctx *c)
{
	json_object *o;
	double pct;
	int r;

	r = cpu_sampler_get(c->app->cpu, &pct);
	if (r < 0)
		return r;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "cpuPercentage", json_new_float(pct));
	return resp_json(c->rs, 200, o);
}

int
h_system_health(struct ctx *c)
{
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "status", json_object_new_string("healthy"));
	return resp_json(c->rs, 200, o);
}
