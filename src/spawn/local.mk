# spawn module: run external programs (posix_spawn, explicit env, timeouts)
src_libcore_a_SOURCES += src/spawn/spawn.c src/spawn/spawn.h

UNIT_TESTS += tests/check_spawn
check_PROGRAMS += tests/check_spawn
tests_check_spawn_SOURCES = tests/check_spawn.c
tests_check_spawn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_spawn_LDADD = $(TEST_LIBS)
