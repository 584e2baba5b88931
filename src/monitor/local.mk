# monitor module: sources and unit tests (included from Makefile.am)
src_libcore_a_SOURCES += src/monitor/monitor.c src/monitor/monitor.h \
	src/monitor/monitor-internal.h

UNIT_TESTS += tests/check_monitor
check_PROGRAMS += tests/check_monitor
tests_check_monitor_SOURCES = tests/check_monitor.c
tests_check_monitor_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_monitor_LDADD = $(TEST_LIBS)
