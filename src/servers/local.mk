# servers module: the Minecraft server domain (API-core §11) and its unit tests
src_libcore_a_SOURCES += src/servers/servers.c src/servers/servers.h src/servers/actions.c
# the /api/servers handlers (§12.1-§12.9, §12.11)
src_libcore_a_SOURCES += src/api/h_servers.c src/api/h_servers.h src/api/h_servers_ops.c

UNIT_TESTS += tests/check_servers
check_PROGRAMS += tests/check_servers
tests_check_servers_SOURCES = tests/check_servers.c
tests_check_servers_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_servers_LDADD = $(TEST_LIBS)
