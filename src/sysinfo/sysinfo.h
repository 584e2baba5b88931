/* SPDX-License-Identifier: MIT */
/* Host metrics from /proc and statvfs (API-core §10). */
#pragma once

#include <stdint.h>

struct host_info {
	double load1, load5, load15;
	double ram_used_gb, ram_total_gb;
};

struct disk_info {
	double used_gb, total_gb, available_gb;
};

/* proc_root is "/proc" except in tests. 0 or -errno (-EBADMSG: unparsable). */
int sysinfo_host(const char *proc_root, struct host_info *ret);
int sysinfo_disk(const char *path, struct disk_info *ret);

/* Busy/total jiffies of the aggregate "cpu" line of <proc_root>/stat. */
struct cpu_times {
	uint64_t fields[10];	/* user nice system idle iowait irq softirq steal guest guest_nice */
};
int sysinfo_cpu_times(const char *proc_root, struct cpu_times *ret);
/* percent busy between two readings, rounded to one decimal (0.0 if no time passed) */
double sysinfo_cpu_percent(const struct cpu_times *a, const struct cpu_times *b);

/*
 * One shared sampler thread reads /proc/stat once a second, so a request
 * answers at once with the last one-second window instead of holding a
 * worker for a second. The first request after start waits for the first
 * window (at most ~1 s).
 */
struct cpu_sampler;
int cpu_sampler_start(const char *proc_root, struct cpu_sampler **ret);
struct cpu_sampler *cpu_sampler_stop(struct cpu_sampler *s);
/* 0 and the percentage, or -errno when /proc/stat cannot be read. */
int cpu_sampler_get(struct cpu_sampler *s, double *ret);
