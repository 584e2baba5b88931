# rcon module: sources and unit tests (included from Makefile.am)
src_libcore_a_SOURCES += src/rcon/rcon.c src/rcon/rcon.h

UNIT_TESTS += tests/check_rcon
check_PROGRAMS += tests/check_rcon
tests_check_rcon_SOURCES = tests/check_rcon.c
tests_check_rcon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_rcon_LDADD = $(TEST_LIBS)
