/* SPDX-License-Identifier: MIT */
/*
 * Container resource readings straight from the kernel (API-core §11.6,
 * §12.4): the container's cgroup (memory, block I/O, CPU time), its network
 * namespace (through /proc/<pid>/net/dev) and the size of a directory tree.
 *
 * Everything is read relative to a proc root ("/proc") and a cgroup root
 * ("/sys/fs/cgroup"), so tests run on fixture trees. The backend must run in
 * the host PID and cgroup namespaces: the PID comes from the Docker Engine API
 * (State.Pid) and the paths in /proc/<pid>/cgroup are then relative to the
 * hierarchies mounted under the cgroup root.
 *
 * cgroup layouts:
 *  - v2 (unified): one line "0::/path" → <root>/path, for example
 *    system.slice/docker-<id>.scope (systemd driver) or /docker/<id>
 *    (cgroupfs driver). The v2 hierarchy is <root> when it holds
 *    cgroup.controllers, else <root>/unified (hybrid), else <root>.
 *  - v1 / hybrid: lines "N:ctrl[,ctrl…]:/path" → <root>/<mount>/path where
 *    <mount> is the controller list as written ("cpu,cpuacct"), the single
 *    controller name ("cpuacct", systemd's symlink), another co-mounted name,
 *    or the list reversed - the first that exists. A controller with a v1 line
 *    is read from v1 even when a "0::" line is present (in hybrid mode the v2
 *    tree has no memory or io controller).
 *
 * What is read (all counters cumulative):
 *  - memory: v2 memory.stat anon + file (§11.6). v1 memory.stat total_rss +
 *    total_cache, or rss + cache when neither total_ key is there. rss is
 *    v1's anonymous memory (v2 anon) and cache its page cache including
 *    shmem/tmpfs (v2 file); the total_ keys include child cgroups the way
 *    v2's memory.stat always does. A missing key counts as 0.
 *  - block I/O: v2 io.stat, rbytes and wbytes summed over devices. v1
 *    blkio.throttle.io_service_bytes_recursive (falling back to
 *    blkio.throttle.io_service_bytes), "MAJ:MIN Read N" and "MAJ:MIN Write N"
 *    summed over devices; the per-device and overall Total lines are skipped.
 *    (The throttle files count at the generic block layer, whatever the I/O
 *    scheduler; the non-throttle ones stay 0 without CFQ/BFQ.)
 *  - CPU time: v2 cpu.stat usage_usec, v1 cpuacct.usage (ns).
 *  - network: /proc/<pid>/net/dev exactly as §11.6 says.
 *
 * Why the cgroup's CPU time rather than the reference's /proc/<pid>/stat of
 * the Java process: it counts every process and thread of the container
 * (also helpers started by the image, and children already reaped), it does
 * not change when the main PID changes after a restart, it has ns rather than
 * 10 ms clock-tick resolution (a 1-s window of ticks is only good to ±1 %),
 * and it is the number `docker stats` shows. For a container whose only busy
 * process is the JVM the two agree.
 *
 * Errors: -ENOENT (no such process or cgroup, controller not found, container
 * gone), -EBADMSG (a kernel file with an unexpected format), -EFBIG (a file
 * over 256 KiB), -EOVERFLOW (a sum over 2^64), -ENAMETOOLONG, -ENOMEM, -errno.
 * The module never logs except at debug.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "common/cleanup.h"

enum monitor_ctl {
	MONITOR_CTL_MEMORY,	/* v1 "memory", v2 memory.stat */
	MONITOR_CTL_IO,		/* v1 "blkio", v2 io.stat */
	MONITOR_CTL_CPU,	/* v1 "cpuacct", v2 cpu.stat */
	MONITOR_CTL_MAX,
};

struct monitor_cgroup {
	struct {
		char *dir;	/* absolute; NULL when the controller was not found */
		int version;	/* 1 or 2; 0 when dir is NULL */
	} ctl[MONITOR_CTL_MAX];
};

/*
 * Find the cgroup directories of process pid from <proc_root>/<pid>/cgroup.
 * The caller owns *ret (monitor_cgroup_free). -ENOENT when the process is
 * gone or none of the three controllers is found; -EBADMSG for a malformed
 * line or a cgroup path that is not absolute or has a ".." component.
 */
int monitor_cgroup_detect(const char *proc_root, const char *cgroup_root, pid_t pid,
    struct monitor_cgroup **ret);
struct monitor_cgroup *monitor_cgroup_free(struct monitor_cgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct monitor_cgroup *, monitor_cgroup_free);

/* memoryUsageBytes (see the mapping above). */
int monitor_memory_read(const struct monitor_cgroup *cg, uint64_t *ret_bytes);

struct monitor_io {
	uint64_t read_bytes;	/* diskReadBytes */
	uint64_t write_bytes;	/* diskWriteBytes */
};
int monitor_io_read(const struct monitor_cgroup *cg, struct monitor_io *ret);

/* Cumulative CPU time of the whole cgroup, in ns. */
int monitor_cpu_read(const struct monitor_cgroup *cg, uint64_t *ret_nsec);

struct monitor_cpu_sample {
	uint64_t usage_nsec;	/* monitor_cpu_read() */
	int64_t mono_usec;	/* now_monotonic_usec() when it was read */
};

/*
 * top-style percentage between two samples: ΔCPU time / Δwall time × 100,
 * rounded to one decimal; above 100 on several cores. 0.0 when no time
 * passed or the counter went backwards (the cgroup was recreated).
 */
double monitor_cpu_percent(const struct monitor_cpu_sample *a, const struct monitor_cpu_sample *b);

struct monitor_net {
	uint64_t rx_bytes;	/* networkReceiveBytes */
	uint64_t tx_bytes;	/* networkSendBytes */
};
/* Sum over every interface of <proc_root>/<pid>/net/dev, lo included (§11.6). */
int monitor_net_read(const char *proc_root, pid_t pid, struct monitor_net *ret);

/*
 * Apparent size of the tree at dirfd, as `du -sb` prints it: the st_size of
 * every directory (dirfd's own included), file, symlink and special file,
 * each inode with several hard links counted once; symlinks are never
 * followed; mount points are crossed (du without -x). Entries that vanish
 * while walking are skipped (the server writes while we count); any other
 * error fails the walk, as du's non-zero exit fails the reference. The tree
 * may have at most MONITOR_DU_DEPTH_MAX directory levels below dirfd (one
 * open directory per level; -ELOOP beyond). -ENOTDIR when dirfd is not a
 * directory. dirfd stays the caller's and its file offset is not moved.
 */
#define MONITOR_DU_DEPTH_MAX 128
int monitor_du(int dirfd, uint64_t *ret_bytes);

struct monitor_disk {
	uint64_t used_bytes;		/* diskUsageBytes: monitor_du() */
	uint64_t total_bytes;		/* diskTotalBytes: f_blocks × f_frsize (df 1B-blocks) */
	uint64_t available_bytes;	/* diskAvailableBytes: f_bavail × f_frsize (df Available) */
};
/* monitor_du() plus fstatvfs() of the file system holding dirfd. */
int monitor_disk_usage(int dirfd, struct monitor_disk *ret);

/*
 * The shared CPU sampler. One background thread takes a reading of every
 * container somebody asked about once per period, each on its own schedule
 * (period after that container's previous reading), so a request answers at
 * once with the last full window instead of holding a worker for a second.
 * The first request for a container registers it and waits for its first
 * window (one period, ~1 s). Containers nobody asked about for idle_usec are
 * dropped, and at most max_entries are tracked, so memory stays bounded.
 * Entries are keyed by container id; a different PID for the same id (the
 * container restarted) replaces the entry.
 */
struct monitor_sampler_config {
	const char *proc_root;		/* "/proc" */
	const char *cgroup_root;	/* "/sys/fs/cgroup" */
	int64_t period_usec;		/* window; 0 → 1 s */
	int64_t idle_usec;		/* drop after this long unasked; 0 → 60 s */
	unsigned max_entries;		/* 0 → 256 */
};

struct monitor_sampler;
/* Starts the thread. The caller owns *ret (monitor_sampler_stop). 0 or -errno. */
int monitor_sampler_start(const struct monitor_sampler_config *cfg, struct monitor_sampler **ret);
/* Stops and joins the thread and frees; no monitor_sampler_get() may be running. NULL-safe. */
struct monitor_sampler *monitor_sampler_stop(struct monitor_sampler *s);

/*
 * cpuPercentage of container key (its id) whose main process is pid.
 * 0 and *ret_percent, or: -EINVAL (empty or over-long key), the errors of
 * monitor_cgroup_detect() and monitor_cpu_read() (-ENOENT once the container
 * is gone: the reference answers 0.0 for a vanished process, a handler may
 * do the same), -EBUSY (max_entries containers tracked), -ETIMEDOUT (no
 * window within three periods), -ESHUTDOWN (sampler stopping), -ESRCH (the
 * entry was replaced by a concurrent request with another PID).
 */
int monitor_sampler_get(struct monitor_sampler *s, const char *key, pid_t pid,
    double *ret_percent);
