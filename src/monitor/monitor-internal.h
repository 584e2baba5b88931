/* SPDX-License-Identifier: MIT */
/* The text parsers behind monitor.h, exposed for table-driven tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"

/* memory.stat: v2 anon + file; v1 total_rss + total_cache, else rss + cache. */
int monitor_memory_stat_parse(const char *text, int version, uint64_t *ret_bytes);
/* v2 io.stat: rbytes/wbytes summed over devices. */
int monitor_io_stat_parse(const char *text, struct monitor_io *ret);
/* v1 blkio.throttle.io_service_bytes[_recursive]: Read/Write summed over devices. */
int monitor_blkio_parse(const char *text, struct monitor_io *ret);
/* v2 cpu.stat usage_usec (→ ns), or v1 cpuacct.usage (ns). */
int monitor_cpu_usage_parse(const char *text, int version, uint64_t *ret_nsec);
/* /proc/<pid>/net/dev (§11.6). */
int monitor_net_dev_parse(const char *text, struct monitor_net *ret);

/* Number of containers the sampler tracks now. */
size_t monitor_sampler_size(struct monitor_sampler *s);
