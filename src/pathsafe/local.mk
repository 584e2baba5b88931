# pathsafe module: sources and unit tests (included from Makefile.am)
src_libcore_a_SOURCES += src/pathsafe/pathsafe.c src/pathsafe/pathsafe.h \
	src/pathsafe/pathsafe-internal.h

UNIT_TESTS += tests/check_pathsafe
check_PROGRAMS += tests/check_pathsafe
tests_check_pathsafe_SOURCES = tests/check_pathsafe.c
tests_check_pathsafe_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_pathsafe_LDADD = $(TEST_LIBS)
