# compose module: sources and unit tests (included from Makefile.am)
src_libcore_a_SOURCES += src/config/yamltree.c src/config/yamltree.h src/compose/compose.c src/compose/compose.h
UNIT_TESTS += tests/check_yamltree tests/check_compose
check_PROGRAMS += tests/check_yamltree tests/check_compose
tests_check_yamltree_SOURCES = tests/check_yamltree.c
tests_check_yamltree_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_yamltree_LDADD = $(TEST_LIBS)
tests_check_compose_SOURCES = tests/check_compose.c
tests_check_compose_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_compose_LDADD = $(TEST_LIBS)
