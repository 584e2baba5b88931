/* SPDX-License-Identifier: MIT */
/* sysinfo/: /proc parsing from fixture files, CPU arithmetic, the shared sampler. */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "helpers.h"
#include "sysinfo/sysinfo.h"

static struct tmpdir *td;

static void
setup(void)
{
	td = tmpdir_new();
}

static void
teardown(void)
{
	td = tmpdir_free(td);
}

START_TEST(test_host)
{
	struct host_info hi;

	tmpdir_write(td, "loadavg", "0.52 0.58 0.59 2/345 12345\n");
	tmpdir_write(td, "meminfo",
	    "MemTotal:       16384000 kB\n"
	    "MemFree:         4096000 kB\n"
	    "MemAvailable:    8000000 kB\n"
	    "Buffers:          512000 kB\n"
	    "Cached:          2048000 kB\n"
	    "SwapCached:            0 kB\n"
	    "SReclaimable:     256000 kB\n");
	ck_assert_int_eq(sysinfo_host(td->path, &hi), 0);
	ck_assert_double_eq(hi.load1, 0.52);
	ck_assert_double_eq(hi.load15, 0.59);
	/* used = total - free - buffers - (cached + sreclaimable) */
	ck_assert_double_eq_tol(hi.ram_used_gb, (16384000.0 - 4096000 - 512000 - 2304000) / 1048576.0,
	    1e-9);
	ck_assert_double_eq_tol(hi.ram_total_gb, 16384000.0 / 1048576.0, 1e-9);
}
END_TEST

START_TEST(test_host_negative_used)
{
	struct host_info hi;

	tmpdir_write(td, "loadavg", "1 2 3 1/1 1\n");
	tmpdir_write(td, "meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 5000 kB\n");
	ck_assert_int_eq(sysinfo_host(td->path, &hi), 0);
	ck_assert_double_eq_tol(hi.ram_used_gb, 900.0 / 1048576.0, 1e-12);
}
END_TEST

START_TEST(test_host_errors)
{
	struct host_info hi;

	ck_assert_int_eq(sysinfo_host(td->path, &hi), -ENOENT);
	tmpdir_write(td, "loadavg", "garbage\n");
	ck_assert_int_eq(sysinfo_host(td->path, &hi), -EBADMSG);
	tmpdir_write(td, "loadavg", "1 2 3\n");
	tmpdir_write(td, "meminfo", "Nothing: 1\n");
	ck_assert_int_eq(sysinfo_host(td->path, &hi), -EBADMSG);
}
END_TEST

START_TEST(test_cpu_percent)
{
	struct cpu_times a, b;

	tmpdir_write(td, "stat", "cpu  100 0 100 700 100 0 0 0 50 0\ncpu0 1 2 3\n");
	ck_assert_int_eq(sysinfo_cpu_times(td->path, &a), 0);
	tmpdir_write(td, "stat", "cpu  150 0 150 1000 100 0 0 0 80 0\n");
	ck_assert_int_eq(sysinfo_cpu_times(td->path, &b), 0);
	/* deltas 50 0 50 300 0 ..., guest 30 excluded: total 400, busy 100 */
	ck_assert_double_eq(sysinfo_cpu_percent(&a, &b), 25.0);
	ck_assert_double_eq(sysinfo_cpu_percent(&a, &a), 0.0);
	/* counters going backwards clamp at 0 */
	ck_assert_double_eq(sysinfo_cpu_percent(&b, &a), 0.0);
	b.fields[0] = a.fields[0] + 1;
	b.fields[3] = a.fields[3] + 2;
	for (int i = 1; i < 10; i++)
		if (i != 3)
			b.fields[i] = a.fields[i];
	ck_assert_double_eq(sysinfo_cpu_percent(&a, &b), 33.3);	/* rounded to 1 decimal */
	tmpdir_write(td, "stat", "intr 1 2\n");
	ck_assert_int_eq(sysinfo_cpu_times(td->path, &a), -EBADMSG);
}
END_TEST

START_TEST(test_disk)
{
	struct disk_info di;

	ck_assert_int_eq(sysinfo_disk(td->path, &di), 0);
	ck_assert(di.total_gb > 0.0);
	ck_assert_double_eq_tol(di.used_gb + di.available_gb, di.total_gb, 1e-9);
	ck_assert_int_eq(sysinfo_disk("/nonexistent/path", &di), -ENOENT);
}
END_TEST

START_TEST(test_sampler_real_proc)
{
	struct cpu_sampler *s = NULL;
	double pct = -1;

	ck_assert_int_eq(cpu_sampler_start("/proc", &s), 0);
	/* the first call waits for the first one-second window */
	ck_assert_int_eq(cpu_sampler_get(s, &pct), 0);
	ck_assert(pct >= 0.0 && pct <= 100.0);
	ck_assert_int_eq(cpu_sampler_get(s, &pct), 0);
	cpu_sampler_stop(s);

	ck_assert_int_eq(cpu_sampler_start("/nonexistent", &s), 0);
	ck_assert_int_eq(cpu_sampler_get(s, &pct), -ENOENT);
	cpu_sampler_stop(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sysinfo");
	TCase *tc = tcase_create("proc");
	SRunner *sr;
	int nfailed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_host_negative_used);
	tcase_add_test(tc, test_host_errors);
	tcase_add_test(tc, test_cpu_percent);
	tcase_add_test(tc, test_disk);
	tcase_add_test(tc, test_sampler_real_proc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
