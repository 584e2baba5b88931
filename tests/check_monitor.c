/* SPDX-License-Identifier: MIT */
/*
 * monitor/: cgroup detection and readings on fixture trees of every layout
 * (v2 systemd driver, v2 cgroupfs driver, v1/hybrid with co-mounted and
 * separate controllers), the parsers on tables of good and malformed input,
 * /proc/<pid>/net/dev, du against `du -sb`, the CPU arithmetic and the
 * shared sampler, and once against this very process's real cgroup.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "helpers.h"
#include "monitor/monitor-internal.h"
#include "monitor/monitor.h"

extern char **environ;

static struct tmpdir *td;
static char *proc_root, *cgroup_root;

static void
setup(void)
{
	td = tmpdir_new();
	tmpdir_mkdir(td, "proc");
	tmpdir_mkdir(td, "cgroup");
	proc_root = tmpdir_join(td, "proc");
	cgroup_root = tmpdir_join(td, "cgroup");
}

static void
teardown(void)
{
	free(proc_root);
	free(cgroup_root);
	td = tmpdir_free(td);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- fixture trees ------------------------------------------------------------ */

#define NET_DEV \
	"Inter-|   Receive                                                |  Transmit\n" \
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets " \
	"errs drop fifo colls carrier compressed\n" \
	"    lo:    1000      10    0    0    0     0          0         0     1000      10 " \
	"   0    0    0     0       0          0\n" \
	"  eth0:  123456     100    0    0    0     0          0         0   654321      90 " \
	"   0    0    0     0       0          0\n" \
	"  bad0: 1 2 3\n"

#define V2_MEMORY_STAT \
	"anon 104857600\nfile 52428800\nkernel 1048576\nkernel_stack 65536\nsock 0\n" \
	"shmem 4096\nfile_mapped 1024\nanon_thp 0\ninactive_anon 100\nactive_file 200\n"
#define V2_IO_STAT \
	"8:0 rbytes=1000 wbytes=2000 rios=10 wios=20 dbytes=0 dios=0\n" \
	"253:1 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0\n"
#define V2_CPU_STAT \
	"usage_usec 7500000\nuser_usec 5000000\nsystem_usec 2500000\nnr_periods 0\n" \
	"nr_throttled 0\nthrottled_usec 0\n"

#define V1_MEMORY_STAT \
	"cache 300\nrss 400\nrss_huge 0\nshmem 0\nmapped_file 10\n" \
	"hierarchical_memory_limit 9223372036854771712\n" \
	"total_cache 3000\ntotal_rss 4000\ntotal_rss_huge 0\ntotal_shmem 0\n"
#define V1_BLKIO \
	"8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n" \
	"8:0 Total 12288\n" \
	"8:16 Read 1\n8:16 Write 2\n8:16 Sync 3\n8:16 Async 0\n8:16 Discard 0\n8:16 Total 3\n" \
	"Total 12291\n"

#define V1_PROC_CGROUP \
	"12:hugetlb:/docker/abc\n11:memory:/docker/abc\n10:cpu,cpuacct:/docker/abc\n" \
	"9:blkio:/docker/abc\n8:pids:/docker/abc\n7:net_cls,net_prio:/docker/abc\n" \
	"6:devices:/docker/abc\n5:freezer:/docker/abc\n4:perf_event:/docker/abc\n" \
	"3:cpuset:/docker/abc\n2:rdma:/\n1:name=systemd:/docker/abc\n0::/docker/abc\n"

static void
fixture_v2(const char *cgpath)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "0::%s\n", cgpath), 0);
	tmpdir_write(td, "proc/1234/cgroup", p);
	free(p);
	tmpdir_write(td, "proc/1234/net/dev", NET_DEV);
	tmpdir_write(td, "cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
	ck_assert_int_ge(asprintf(&p, "cgroup%s/memory.stat", cgpath), 0);
	tmpdir_write(td, p, V2_MEMORY_STAT);
	free(p);
	ck_assert_int_ge(asprintf(&p, "cgroup%s/io.stat", cgpath), 0);
	tmpdir_write(td, p, V2_IO_STAT);
	free(p);
	ck_assert_int_ge(asprintf(&p, "cgroup%s/cpu.stat", cgpath), 0);
	tmpdir_write(td, p, V2_CPU_STAT);
	free(p);
}

/* systemd-style hybrid: cpu,cpuacct mounted once, cpu and cpuacct symlinks */
static void
fixture_v1(void)
{
	tmpdir_write(td, "proc/1234/cgroup", V1_PROC_CGROUP);
	tmpdir_write(td, "proc/1234/net/dev", NET_DEV);
	tmpdir_mkdir(td, "cgroup/unified/docker/abc");
	tmpdir_write(td, "cgroup/unified/cgroup.controllers", "");
	tmpdir_write(td, "cgroup/memory/docker/abc/memory.stat", V1_MEMORY_STAT);
	tmpdir_write(td, "cgroup/blkio/docker/abc/blkio.throttle.io_service_bytes", V1_BLKIO);
	tmpdir_write(td, "cgroup/cpu,cpuacct/docker/abc/cpuacct.usage", "2500000000\n");
	/* v1's own cpu.stat has no usage: it must not be read */
	tmpdir_write(td, "cgroup/cpu,cpuacct/docker/abc/cpu.stat", "nr_periods 0\n");
	tmpdir_symlink(td, "cgroup/cpu", "cpu,cpuacct");
	tmpdir_symlink(td, "cgroup/cpuacct", "cpu,cpuacct");
}

static struct monitor_cgroup *
detect(pid_t pid)
{
	struct monitor_cgroup *cg = NULL;

	ck_assert_int_eq(monitor_cgroup_detect(proc_root, cgroup_root, pid, &cg), 0);
	ck_assert_ptr_nonnull(cg);
	return cg;
}

static void
assert_dir(const struct monitor_cgroup *cg, enum monitor_ctl ctl, const char *rel, int version)
{
	_cleanup_free_ char *expect = rel ? tmpdir_join(td, rel) : NULL;

	if (!rel) {
		ck_assert_ptr_null(cg->ctl[ctl].dir);
		return;
	}
	ck_assert_ptr_nonnull(cg->ctl[ctl].dir);
	ck_assert_str_eq(cg->ctl[ctl].dir, expect);
	ck_assert_int_eq(cg->ctl[ctl].version, version);
}

/* ---- layouts -------------------------------------------------------------------- */

static const char *const v2_paths[] = {
	"/system.slice/docker-abc.scope",	/* systemd cgroup driver */
	"/docker/abc",				/* cgroupfs cgroup driver */
};

START_TEST(test_v2_layouts)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	_cleanup_free_ char *rel = NULL;
	struct monitor_io io;
	struct monitor_net net;
	uint64_t mem, cpu;

	fixture_v2(v2_paths[_i]);
	cg = detect(1234);
	ck_assert_int_ge(asprintf(&rel, "cgroup%s", v2_paths[_i]), 0);
	for (int c = 0; c < MONITOR_CTL_MAX; c++)
		assert_dir(cg, (enum monitor_ctl)c, rel, 2);

	ck_assert_int_eq(monitor_memory_read(cg, &mem), 0);
	ck_assert_uint_eq(mem, 104857600 + 52428800);	/* anon + file */
	ck_assert_int_eq(monitor_io_read(cg, &io), 0);
	ck_assert_uint_eq(io.read_bytes, 1005);
	ck_assert_uint_eq(io.write_bytes, 2007);
	ck_assert_int_eq(monitor_cpu_read(cg, &cpu), 0);
	ck_assert_uint_eq(cpu, 7500000000ULL);
	ck_assert_int_eq(monitor_net_read(proc_root, 1234, &net), 0);
	ck_assert_uint_eq(net.rx_bytes, 1000 + 123456);
	ck_assert_uint_eq(net.tx_bytes, 1000 + 654321);
}
END_TEST

START_TEST(test_v1_hybrid_layout)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	struct monitor_io io;
	uint64_t mem, cpu;

	fixture_v1();
	cg = detect(1234);
	/* v1 controllers win over the "0::" line of the (controller-less) unified tree */
	assert_dir(cg, MONITOR_CTL_MEMORY, "cgroup/memory/docker/abc", 1);
	assert_dir(cg, MONITOR_CTL_IO, "cgroup/blkio/docker/abc", 1);
	assert_dir(cg, MONITOR_CTL_CPU, "cgroup/cpu,cpuacct/docker/abc", 1);

	ck_assert_int_eq(monitor_memory_read(cg, &mem), 0);
	ck_assert_uint_eq(mem, 4000 + 3000);		/* total_rss + total_cache */
	ck_assert_int_eq(monitor_io_read(cg, &io), 0);
	ck_assert_uint_eq(io.read_bytes, 4097);
	ck_assert_uint_eq(io.write_bytes, 8194);
	ck_assert_int_eq(monitor_cpu_read(cg, &cpu), 0);
	ck_assert_uint_eq(cpu, 2500000000ULL);

	/* the recursive file is preferred when the kernel has it */
	tmpdir_write(td, "cgroup/blkio/docker/abc/blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n");
	ck_assert_int_eq(monitor_io_read(cg, &io), 0);
	ck_assert_uint_eq(io.read_bytes, 10);
	ck_assert_uint_eq(io.write_bytes, 20);
}
END_TEST

/* Where the cpu+cpuacct hierarchy is mounted, for a "cpu,cpuacct" line. */
static const struct {
	const char *line;	/* the cpu line of /proc/<pid>/cgroup */
	const char *mkdir;	/* the only mount directory that exists */
	const char *expect;
} cpu_mounts[] = {
	{ "10:cpu,cpuacct:/docker/abc", "cgroup/cpu,cpuacct", "cgroup/cpu,cpuacct/docker/abc" },
	{ "10:cpu,cpuacct:/docker/abc", "cgroup/cpuacct,cpu", "cgroup/cpuacct,cpu/docker/abc" },
	{ "10:cpu,cpuacct:/docker/abc", "cgroup/cpuacct", "cgroup/cpuacct/docker/abc" },
	{ "10:cpu,cpuacct:/docker/abc", "cgroup/cpu", "cgroup/cpu/docker/abc" },
	{ "2:cpuacct:/docker/abc\n1:cpu:/docker/abc", "cgroup/cpuacct", "cgroup/cpuacct/docker/abc" },
	{ "2:cpuacct:/", "cgroup/cpuacct", "cgroup/cpuacct" },	/* the root cgroup */
	{ "2:cpuacct:/docker/abc/", "cgroup/cpuacct", "cgroup/cpuacct/docker/abc" },
	{ "2:cpuacct:/a:b", "cgroup/cpuacct", "cgroup/cpuacct/a:b" },	/* ':' in the path */
};

START_TEST(test_v1_mount_names)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	_cleanup_free_ char *text = NULL;

	ck_assert_int_ge(asprintf(&text, "4:memory:/docker/abc\n%s\n", cpu_mounts[_i].line), 0);
	tmpdir_write(td, "proc/77/cgroup", text);
	tmpdir_mkdir(td, "cgroup/memory");
	tmpdir_mkdir(td, cpu_mounts[_i].mkdir);
	cg = detect(77);
	assert_dir(cg, MONITOR_CTL_MEMORY, "cgroup/memory/docker/abc", 1);
	assert_dir(cg, MONITOR_CTL_CPU, cpu_mounts[_i].expect, 1);
	assert_dir(cg, MONITOR_CTL_IO, NULL, 0);	/* no blkio line, no 0:: line */
}
END_TEST

START_TEST(test_hybrid_fallback_to_unified)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	uint64_t v;

	/* a v1 memory line whose hierarchy is not mounted, plus the unified tree */
	tmpdir_write(td, "proc/5/cgroup", "4:memory:/docker/abc\n2:cpuacct:/docker/abc\n0::/docker/abc\n");
	tmpdir_mkdir(td, "cgroup/cpuacct/docker/abc");
	tmpdir_write(td, "cgroup/unified/docker/abc/memory.stat", "anon 1\nfile 2\n");
	cg = detect(5);
	assert_dir(cg, MONITOR_CTL_MEMORY, "cgroup/unified/docker/abc", 2);
	assert_dir(cg, MONITOR_CTL_CPU, "cgroup/cpuacct/docker/abc", 1);
	assert_dir(cg, MONITOR_CTL_IO, "cgroup/unified/docker/abc", 2);
	ck_assert_int_eq(monitor_memory_read(cg, &v), 0);
	ck_assert_uint_eq(v, 3);
	/* no cpuacct.usage in the fixture: the reading fails, it is not faked */
	ck_assert_int_eq(monitor_cpu_read(cg, &v), -ENOENT);
}
END_TEST

static const struct {
	const char *text;
	int expect;
} bad_proc_cgroups[] = {
	{ "0::/docker/../../etc\n", -EBADMSG },		/* ".." component */
	{ "0::/docker/./abc\n", -EBADMSG },
	{ "0::docker/abc\n", -EBADMSG },		/* relative */
	{ "0::\n", -EBADMSG },				/* empty path */
	{ "garbage\n", -EBADMSG },			/* no fields */
	{ "4:memory\n", -EBADMSG },			/* one ':' */
	{ "1:name=systemd:/docker/abc\n", -ENOENT },	/* nothing we can read */
	{ "", -ENOENT },
	{ "4:memory:/docker/abc\n", -ENOENT },		/* hierarchy not mounted, no v2 */
};

START_TEST(test_detect_errors)
{
	struct monitor_cgroup *cg = NULL;

	tmpdir_write(td, "proc/9/cgroup", bad_proc_cgroups[_i].text);
	ck_assert_int_eq(monitor_cgroup_detect(proc_root, cgroup_root, 9, &cg),
	    bad_proc_cgroups[_i].expect);
	ck_assert_ptr_null(cg);
}
END_TEST

START_TEST(test_missing_process_and_files)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	struct monitor_net net;
	struct monitor_io io;
	uint64_t v;

	ck_assert_int_eq(monitor_cgroup_detect(proc_root, cgroup_root, 4242, &cg), -ENOENT);
	ck_assert_int_eq(monitor_cgroup_detect(proc_root, cgroup_root, 0, &cg), -EINVAL);
	ck_assert_int_eq(monitor_net_read(proc_root, 4242, &net), -ENOENT);
	/* a container that has gone: its cgroup directory is removed */
	tmpdir_write(td, "proc/1234/cgroup", "0::/docker/gone\n");
	cg = detect(1234);
	ck_assert_int_eq(monitor_memory_read(cg, &v), -ENOENT);
	ck_assert_int_eq(monitor_io_read(cg, &io), -ENOENT);
	ck_assert_int_eq(monitor_cpu_read(cg, &v), -ENOENT);
}
END_TEST

/* ---- parsers -------------------------------------------------------------------- */

static const struct {
	const char *text;
	int version;
	int expect;
	uint64_t bytes;
} memory_stats[] = {
	{ "anon 1\nfile 2\n", 2, 0, 3 },
	{ "file 2\nanon 1", 2, 0, 3 },				/* order, no final newline */
	{ "anon 5\n", 2, 0, 5 },				/* missing key = 0 */
	{ "", 2, 0, 0 },
	{ "anon_thp 7\nfile_mapped 9\nkernel 1\n", 2, 0, 0 },	/* prefixes are other keys */
	{ "garbage line here\nanon 1\n\n", 2, 0, 1 },		/* other lines are not read */
	{ "anon x\n", 2, -EBADMSG, 0 },
	{ "anon -1\n", 2, -EBADMSG, 0 },
	{ "anon\n", 2, -EBADMSG, 0 },
	{ "anon 1 2\n", 2, -EBADMSG, 0 },
	{ "anon 18446744073709551616\n", 2, -EBADMSG, 0 },	/* 2^64 */
	{ "anon 18446744073709551615\nfile 1\n", 2, -EOVERFLOW, 0 },
	{ "anon 18446744073709551615\n", 2, 0, UINT64_MAX },
	{ "rss 1\ncache 2\n", 2, 0, 0 },			/* v1 keys mean nothing in v2 */
	{ V1_MEMORY_STAT, 1, 0, 7000 },				/* total_rss + total_cache */
	{ "rss 400\ncache 300\n", 1, 0, 700 },			/* no total_ keys */
	{ "rss 400\ncache 300\ntotal_rss 4000\n", 1, 0, 4000 },	/* total_cache missing = 0 */
	{ "anon 1\nfile 2\n", 1, 0, 0 },
	{ "total_cache zz\n", 1, -EBADMSG, 0 },
};

START_TEST(test_memory_stat_parse)
{
	uint64_t v = 12345;

	ck_assert_int_eq(monitor_memory_stat_parse(memory_stats[_i].text, memory_stats[_i].version,
	    &v), memory_stats[_i].expect);
	if (memory_stats[_i].expect == 0)
		ck_assert_uint_eq(v, memory_stats[_i].bytes);
	else
		ck_assert_uint_eq(v, 12345);	/* untouched on failure */
}
END_TEST

static const struct {
	const char *text;
	int v1;			/* blkio format instead of io.stat */
	int expect;
	uint64_t rd, wr;
} io_stats[] = {
	{ V2_IO_STAT, 0, 0, 1005, 2007 },
	{ "", 0, 0, 0, 0 },						/* no I/O yet */
	{ "8:0 rios=3 wios=4\n", 0, 0, 0, 0 },				/* keys missing */
	{ "8:0 wbytes=9\n8:16 rbytes=1\n", 0, 0, 1, 9 },
	{ "8:0 rbytes=1 junk wbytes=2 x=y\n", 0, 0, 1, 2 },		/* other tokens */
	{ "nodev rbytes=100\n8:0 rbytes=1\n", 0, 0, 1, 0 },		/* not MAJ:MIN: skipped */
	{ "8:0 rbytes=abc\n", 0, -EBADMSG, 0, 0 },
	{ "8:0 rbytes=\n", 0, -EBADMSG, 0, 0 },
	{ "8:0 rbytes=18446744073709551615\n8:1 rbytes=1\n", 0, -EOVERFLOW, 0, 0 },
	{ V1_BLKIO, 1, 0, 4097, 8194 },
	{ "Total 0\n", 1, 0, 0, 0 },					/* idle container */
	{ "", 1, 0, 0, 0 },
	{ "8:0 Read 5\n8:0 Total 5\nTotal 5\n", 1, 0, 5, 0 },
	{ "8:0 Read x\n", 1, -EBADMSG, 0, 0 },
	{ "8:0 Write\n", 1, -EBADMSG, 0, 0 },
	{ "8:0 Sync x\n8:0 Read 1\n", 1, 0, 1, 0 },			/* only Read/Write matter */
	{ "sda Read 9\n8:0\n", 1, 0, 0, 0 },				/* malformed lines skipped */
};

START_TEST(test_io_parse)
{
	struct monitor_io io = { 77, 77 };
	int r = io_stats[_i].v1 ? monitor_blkio_parse(io_stats[_i].text, &io) :
	    monitor_io_stat_parse(io_stats[_i].text, &io);

	ck_assert_int_eq(r, io_stats[_i].expect);
	if (r == 0) {
		ck_assert_uint_eq(io.read_bytes, io_stats[_i].rd);
		ck_assert_uint_eq(io.write_bytes, io_stats[_i].wr);
	} else {
		ck_assert_uint_eq(io.read_bytes, 77);
	}
}
END_TEST

static const struct {
	const char *text;
	int version;
	int expect;
	uint64_t nsec;
} cpu_usages[] = {
	{ V2_CPU_STAT, 2, 0, 7500000000ULL },
	{ "user_usec 1\nusage_usec 2\n", 2, 0, 2000 },
	{ "user_usec 1\n", 2, -EBADMSG, 0 },			/* usage is required */
	{ "usage_usec x\n", 2, -EBADMSG, 0 },
	{ "usage_usec 18446744073709552\n", 2, -EOVERFLOW, 0 },	/* × 1000 overflows */
	{ "2500000000\n", 1, 0, 2500000000ULL },
	{ "0", 1, 0, 0 },
	{ "", 1, -EBADMSG, 0 },
	{ "\n", 1, -EBADMSG, 0 },
	{ "-5\n", 1, -EBADMSG, 0 },
	{ "12 34\n", 1, -EBADMSG, 0 },
	{ "nr_periods 0\n", 1, -EBADMSG, 0 },			/* v1 cpu.stat is not a usage */
};

START_TEST(test_cpu_usage_parse)
{
	uint64_t v = 0;

	ck_assert_int_eq(monitor_cpu_usage_parse(cpu_usages[_i].text, cpu_usages[_i].version, &v),
	    cpu_usages[_i].expect);
	if (cpu_usages[_i].expect == 0)
		ck_assert_uint_eq(v, cpu_usages[_i].nsec);
}
END_TEST

#define NETHDR \
	"Inter-|   Receive                                                |  Transmit\n" \
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets " \
	"errs drop fifo colls carrier compressed\n"

static const struct {
	const char *text;
	int expect;
	uint64_t rx, tx;
} net_devs[] = {
	{ NET_DEV, 0, 124456, 655321 },					/* lo counted too */
	{ NETHDR, 0, 0, 0 },
	{ "", 0, 0, 0 },
	/* the header lines are skipped even when they look like data */
	{ "x: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\ny: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n", 0, 0, 0 },
	{ NETHDR "eth1:5 0 0 0 0 0 0 0 7 0 0 0 0 0 0 0\n", 0, 5, 7 },	/* no blank after ':' */
	{ NETHDR "  e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", 0, 0, 0 },	/* 15 fields */
	{ NETHDR "  e0: x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 0, 0 },	/* non-integer */
	{ NETHDR "  e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n", 0, 0, 0 },	/* negative */
	{ NETHDR "  no colon 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 0, 0 },
	{ NETHDR "  e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	    "  e1: 10 2 3 4 5 6 7 8 90 10 11 12 13 14 15 16\n", 0, 11, 99 },
	{ NETHDR "  e0: 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	    "  e1: 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", -EOVERFLOW, 0, 0 },
};

START_TEST(test_net_dev_parse)
{
	struct monitor_net net;

	ck_assert_int_eq(monitor_net_dev_parse(net_devs[_i].text, &net), net_devs[_i].expect);
	if (net_devs[_i].expect == 0) {
		ck_assert_uint_eq(net.rx_bytes, net_devs[_i].rx);
		ck_assert_uint_eq(net.tx_bytes, net_devs[_i].tx);
	}
}
END_TEST

START_TEST(test_file_size_limit)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	_cleanup_free_ char *big = malloc(300 * 1024);
	uint64_t v;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 300 * 1024 - 1);
	big[300 * 1024 - 1] = '\0';
	tmpdir_write(td, "proc/1/cgroup", "0::/c\n");
	tmpdir_write(td, "cgroup/c/memory.stat", big);
	cg = detect(1);
	ck_assert_int_eq(monitor_memory_read(cg, &v), -EFBIG);
}
END_TEST

/* ---- CPU percentage -------------------------------------------------------------- */

static const struct {
	uint64_t a_ns, b_ns;
	int64_t a_us, b_us;
	double pct;
} cpu_windows[] = {
	{ 0, 1000000000, 0, 1000000, 100.0 },			/* one core busy */
	{ 5000000000ULL, 7500000000ULL, 10000000, 11000000, 250.0 },	/* 2.5 cores */
	{ 0, 123456789, 0, 1000000, 12.3 },
	{ 0, 123456789, 0, 2000000, 6.2 },			/* 6.17 */
	{ 0, 0, 0, 1000000, 0.0 },				/* idle */
	{ 0, 1000, 0, 1000000, 0.0 },				/* rounds to 0.0 */
	{ 100, 50, 0, 1000000, 0.0 },				/* counter reset */
	{ 0, 1000000, 5, 5, 0.0 },				/* no time passed */
	{ 0, 1000000, 6, 5, 0.0 },
};

START_TEST(test_cpu_percent_table)
{
	struct monitor_cpu_sample a = { cpu_windows[_i].a_ns, cpu_windows[_i].a_us };
	struct monitor_cpu_sample b = { cpu_windows[_i].b_ns, cpu_windows[_i].b_us };

	ck_assert_double_eq_tol(monitor_cpu_percent(&a, &b), cpu_windows[_i].pct, 1e-9);
}
END_TEST

/* Two readings of the fixture cgroup with injected times: deterministic. */
START_TEST(test_cpu_percent_from_fixture)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	struct monitor_cpu_sample a, b;

	fixture_v1();
	cg = detect(1234);
	ck_assert_int_eq(monitor_cpu_read(cg, &a.usage_nsec), 0);
	a.mono_usec = 50000000;
	tmpdir_write(td, "cgroup/cpu,cpuacct/docker/abc/cpuacct.usage", "3250000000\n");
	ck_assert_int_eq(monitor_cpu_read(cg, &b.usage_nsec), 0);
	b.mono_usec = 51000000;
	ck_assert_double_eq_tol(monitor_cpu_percent(&a, &b), 75.0, 1e-9);
}
END_TEST

/* ---- the sampler ------------------------------------------------------------------- */

static struct monitor_sampler *
sampler_new(unsigned max_entries)
{
	struct monitor_sampler_config cfg = {
		.proc_root = proc_root,
		.cgroup_root = cgroup_root,
		.period_usec = 50000,
		.idle_usec = 300000,
		.max_entries = max_entries,
	};
	struct monitor_sampler *s = NULL;

	ck_assert_int_eq(monitor_sampler_start(&cfg, &s), 0);
	return s;
}

START_TEST(test_sampler_windows)
{
	struct monitor_sampler *s;
	double pct = -1.0;
	int tries;

	fixture_v2("/docker/abc");
	s = sampler_new(0);
	/* the first request waits for the first window; a still counter is 0.0 */
	ck_assert_int_eq(monitor_sampler_get(s, "abc", 1234, &pct), 0);
	ck_assert_double_eq(pct, 0.0);
	ck_assert_uint_eq(monitor_sampler_size(s), 1);

	/* ten CPU-seconds appear: a later window sees them */
	tmpdir_write(td, "cgroup/docker/abc/cpu.stat", "usage_usec 17500000\n");
	for (tries = 0; tries < 400; tries++) {
		ck_assert_int_eq(monitor_sampler_get(s, "abc", 1234, &pct), 0);
		if (pct > 0.0)
			break;
		sleep_ms(10);
	}
	ck_assert_double_gt(pct, 0.0);
	ck_assert_uint_eq(monitor_sampler_size(s), 1);

	/* the counter going back (cgroup recreated) is no negative window */
	tmpdir_write(td, "cgroup/docker/abc/cpu.stat", "usage_usec 1\n");
	for (tries = 0; tries < 40; tries++) {
		ck_assert_int_eq(monitor_sampler_get(s, "abc", 1234, &pct), 0);
		ck_assert_double_ge(pct, 0.0);
		sleep_ms(10);
	}

	/* the container stops: its cgroup goes, and so does the answer */
	ck_assert_int_eq(unlinkat(td->fd, "cgroup/docker/abc/cpu.stat", 0), 0);
	for (tries = 0; tries < 400; tries++) {
		if (monitor_sampler_get(s, "abc", 1234, &pct) == -ENOENT)
			break;
		sleep_ms(10);
	}
	ck_assert_int_lt(tries, 400);
	s = monitor_sampler_stop(s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_sampler_entries)
{
	struct monitor_sampler *s;
	double pct;
	int tries;

	fixture_v2("/docker/abc");
	fixture_v1();		/* pid 1234 is now the v1 container; keep a v2 one at 99 */
	tmpdir_write(td, "proc/99/cgroup", "0::/docker/abc\n");
	tmpdir_write(td, "cgroup/docker/abc/cpu.stat", "usage_usec 1\n");
	s = sampler_new(2);

	ck_assert_int_eq(monitor_sampler_get(s, "", 1234, &pct), -EINVAL);
	ck_assert_int_eq(monitor_sampler_get(s, "abc", 0, &pct), -EINVAL);
	ck_assert_int_eq(monitor_sampler_get(s, "abc", 4242, &pct), -ENOENT);	/* no process */
	ck_assert_uint_eq(monitor_sampler_size(s), 0);

	ck_assert_int_eq(monitor_sampler_get(s, "one", 1234, &pct), 0);
	ck_assert_int_eq(monitor_sampler_get(s, "two", 99, &pct), 0);
	ck_assert_uint_eq(monitor_sampler_size(s), 2);
	ck_assert_int_eq(monitor_sampler_get(s, "three", 99, &pct), -EBUSY);	/* bounded */
	/* a restart (same id, new PID) replaces the entry */
	ck_assert_int_eq(monitor_sampler_get(s, "one", 99, &pct), 0);
	ck_assert_uint_eq(monitor_sampler_size(s), 2);

	/* nobody asks any more: both are dropped */
	for (tries = 0; tries < 500 && monitor_sampler_size(s) > 0; tries++)
		sleep_ms(10);
	ck_assert_uint_eq(monitor_sampler_size(s), 0);
	/* and come back on demand */
	ck_assert_int_eq(monitor_sampler_get(s, "one", 1234, &pct), 0);
	ck_assert_uint_eq(monitor_sampler_size(s), 1);
	s = monitor_sampler_stop(s);
	ck_assert_ptr_null(monitor_sampler_stop(NULL));
}
END_TEST

/* ---- du and disk usage ---------------------------------------------------------------- */

static uint64_t
lsize(const char *rel)
{
	struct stat st;

	ck_assert_int_eq(fstatat(td->fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	return (uint64_t)st.st_size;
}

/* `du -sb <path>` through posix_spawnp; false when du cannot be run. */
static bool
du_sb(const char *path, uint64_t *ret)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)"du", (char *)"-sb", (char *)path, NULL };
	char buf[256];
	int fds[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;
	char *end;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO), 0);
	if (posix_spawnp(&pid, "du", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	buf[len] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return false;
	*ret = strtoull(buf, &end, 10);
	ck_assert_ptr_ne(end, buf);
	return true;
}

static void
build_du_tree(struct tmpdir *outside)
{
	_cleanup_free_ char *kb = malloc(1001), *target = NULL;

	ck_assert_ptr_nonnull(kb);
	memset(kb, 'k', 1000);
	kb[1000] = '\0';
	tmpdir_write(td, "data/a.txt", "hello");
	tmpdir_write(td, "data/sub/b.bin", kb);
	tmpdir_write(td, "data/sub/deeper/c", "xyz");
	tmpdir_mkdir(td, "data/empty");
	tmpdir_write(td, "data/sub/hard1", kb);
	ck_assert_int_eq(linkat(td->fd, "data/sub/hard1", td->fd, "data/hard2", 0), 0);
	ck_assert_int_eq(linkat(td->fd, "data/sub/hard1", td->fd, "data/sub/deeper/hard3", 0), 0);
	/* symlinks out of the tree: counted as links, never followed */
	tmpdir_write(outside, "huge/file", kb);
	tmpdir_write(outside, "huge/file2", kb);
	target = tmpdir_join(outside, "huge");
	tmpdir_symlink(td, "data/link_out_dir", target);
	tmpdir_symlink(td, "data/link_etc", "/etc");
	tmpdir_symlink(td, "data/dangling", "does/not/exist");
}

START_TEST(test_du_tree)
{
	struct tmpdir *outside = tmpdir_new();
	_cleanup_free_ char *path = NULL;
	uint64_t expect, got = 0, du;
	int fd;

	build_du_tree(outside);
	expect = lsize("data") + lsize("data/sub") + lsize("data/sub/deeper") + lsize("data/empty") +
	    5 + 1000 + 3 +
	    1000 +					/* the three hard links, once */
	    lsize("data/link_out_dir") + 4 + 14;	/* the links themselves */
	fd = openat(td->fd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(monitor_du(fd, &got), 0);
	ck_assert_uint_eq(got, expect);

	/* the caller's fd is left as it was: a second walk gives the same */
	got = 0;
	ck_assert_int_eq(monitor_du(fd, &got), 0);
	ck_assert_uint_eq(got, expect);
	close(fd);

	path = tmpdir_join(td, "data");
	if (du_sb(path, &du))
		ck_assert_uint_eq(got, du);
	else
		fprintf(stderr, "du -sb not available, cross-check skipped\n");
	tmpdir_free(outside);
}
END_TEST

/* The same as du -sb on a real, larger tree that nobody changes under us. */
START_TEST(test_du_matches_du_on_system_tree)
{
	static const char *const trees[] = { "/usr/include/linux", "/usr/share/zoneinfo" };

	for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
		uint64_t got, du;
		int fd = openat(AT_FDCWD, trees[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || !du_sb(trees[i], &du)) {
			fprintf(stderr, "%s or du not available, skipped\n", trees[i]);
			if (fd >= 0)
				close(fd);
			continue;
		}
		ck_assert_int_eq(monitor_du(fd, &got), 0);
		ck_assert_msg(got == du, "%s: %llu, du -sb says %llu", trees[i],
		    (unsigned long long)got, (unsigned long long)du);
		close(fd);
	}
}
END_TEST

START_TEST(test_du_errors_and_limits)
{
	char rel[2 * (MONITOR_DU_DEPTH_MAX + 2) + 8];
	size_t n = 4;
	uint64_t v;
	int fd;

	memcpy(rel, "deep", 5);

	/* not a directory */
	tmpdir_write(td, "file", "x");
	fd = openat(td->fd, "file", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(monitor_du(fd, &v), -ENOTDIR);
	close(fd);
	ck_assert_int_eq(monitor_du(-1, &v), -EBADF);

	/* MONITOR_DU_DEPTH_MAX levels below the top are fine, one more is not */
	for (int i = 0; i < MONITOR_DU_DEPTH_MAX - 1; i++, n += 2)
		memcpy(rel + n, "/d", 3);
	tmpdir_mkdir(td, rel);
	ck_assert_int_eq(monitor_du(td->fd, &v), 0);
	memcpy(rel + n, "/d", 3);
	tmpdir_mkdir(td, rel);
	ck_assert_int_eq(monitor_du(td->fd, &v), -ELOOP);
}
END_TEST

START_TEST(test_disk_usage)
{
	struct monitor_disk d;
	struct statvfs vfs;

	tmpdir_write(td, "data/x", "12345678");
	ck_assert_int_eq(monitor_disk_usage(td->fd, &d), 0);
	/* the fixture's proc/ and cgroup/ directories are in the tree too */
	ck_assert_uint_eq(d.used_bytes, lsize(".") + lsize("proc") + lsize("cgroup") + lsize("data") + 8);
	ck_assert_int_eq(fstatvfs(td->fd, &vfs), 0);
	ck_assert_uint_eq(d.total_bytes, (uint64_t)vfs.f_blocks * vfs.f_frsize);
	ck_assert_uint_gt(d.total_bytes, 0);
	ck_assert_uint_le(d.available_bytes, d.total_bytes);
}
END_TEST

/* ---- this process, on the real layout ------------------------------------------------------ */

START_TEST(test_real_process)
{
	_cleanup_(monitor_cgroup_freep) struct monitor_cgroup *cg = NULL;
	struct monitor_sampler_config cfg = {
		.proc_root = "/proc", .cgroup_root = "/sys/fs/cgroup", .period_usec = 100000,
	};
	struct monitor_sampler *s = NULL;
	struct monitor_net net;
	struct monitor_io io;
	uint64_t mem, a, b;
	volatile uint64_t spin = 0;
	double pct;
	int r;

	ck_assert_int_eq(monitor_net_read("/proc", getpid(), &net), 0);

	r = monitor_cgroup_detect("/proc", "/sys/fs/cgroup", getpid(), &cg);
	if (r == -ENOENT) {
		fprintf(stderr, "no cgroup controllers mounted, real-layout test skipped\n");
		return;
	}
	ck_assert_int_eq(r, 0);
	for (int c = 0; c < MONITOR_CTL_MAX; c++)
		fprintf(stderr, "real cgroup %d: v%d %s\n", c, cg->ctl[c].version,
		    cg->ctl[c].dir ? cg->ctl[c].dir : "(none)");

	r = monitor_memory_read(cg, &mem);
	if (r == -ENOENT)
		fprintf(stderr, "memory.stat not readable here, skipped\n");
	else {
		ck_assert_int_eq(r, 0);
		ck_assert_uint_gt(mem, 0);	/* at least this test's own pages */
	}
	r = monitor_io_read(cg, &io);
	ck_assert_msg(r == 0 || r == -ENOENT, "io: %d", r);

	r = monitor_cpu_read(cg, &a);
	if (r == -ENOENT) {
		fprintf(stderr, "CPU usage not readable here, skipped\n");
		return;
	}
	ck_assert_int_eq(r, 0);
	for (int i = 0; i < 20000000; i++)
		spin += (uint64_t)i;
	ck_assert_int_eq(monitor_cpu_read(cg, &b), 0);
	ck_assert_uint_gt(b, a);	/* we just burnt some */

	ck_assert_int_eq(monitor_sampler_start(&cfg, &s), 0);
	ck_assert_int_eq(monitor_sampler_get(s, "self", getpid(), &pct), 0);
	ck_assert_double_ge(pct, 0.0);
	s = monitor_sampler_stop(s);
}
END_TEST

static Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc;

	tc = tcase_create("layouts");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_v2_layouts, 0, (int)ELEMENTSOF(v2_paths));
	tcase_add_test(tc, test_v1_hybrid_layout);
	tcase_add_loop_test(tc, test_v1_mount_names, 0, (int)ELEMENTSOF(cpu_mounts));
	tcase_add_test(tc, test_hybrid_fallback_to_unified);
	tcase_add_loop_test(tc, test_detect_errors, 0, (int)ELEMENTSOF(bad_proc_cgroups));
	tcase_add_test(tc, test_missing_process_and_files);
	tcase_add_test(tc, test_file_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("parsers");
	tcase_add_loop_test(tc, test_memory_stat_parse, 0, (int)ELEMENTSOF(memory_stats));
	tcase_add_loop_test(tc, test_io_parse, 0, (int)ELEMENTSOF(io_stats));
	tcase_add_loop_test(tc, test_cpu_usage_parse, 0, (int)ELEMENTSOF(cpu_usages));
	tcase_add_loop_test(tc, test_net_dev_parse, 0, (int)ELEMENTSOF(net_devs));
	suite_add_tcase(s, tc);

	tc = tcase_create("cpu");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cpu_percent_table, 0, (int)ELEMENTSOF(cpu_windows));
	tcase_add_test(tc, test_cpu_percent_from_fixture);
	tcase_add_test(tc, test_sampler_windows);
	tcase_add_test(tc, test_sampler_entries);
	suite_add_tcase(s, tc);

	tc = tcase_create("disk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_du_tree);
	tcase_add_test(tc, test_du_matches_du_on_system_tree);
	tcase_add_test(tc, test_du_errors_and_limits);
	tcase_add_test(tc, test_disk_usage);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_process);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(monitor_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
