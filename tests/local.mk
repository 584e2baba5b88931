# Unit tests (Check): one program per module, each linking src/libcore.a.
TEST_EXTENSIONS = .py .sh
AM_TESTS_ENVIRONMENT = \
	abs_top_srcdir='$(abs_top_srcdir)'; export abs_top_srcdir; \
	abs_top_builddir='$(abs_top_builddir)'; export abs_top_builddir; \
	NGINX='$(NGINX)'; export NGINX;
PY_LOG_COMPILER = $(PYTHON3)
SH_LOG_COMPILER = $(SHELL)

UNIT_TESTS =
INTEGRATION_TESTS =
check_PROGRAMS =
TESTS = $(UNIT_TESTS) $(INTEGRATION_TESTS)
noinst_LIBRARIES += tests/libtesthelpers.a
tests_libtesthelpers_a_SOURCES = tests/helpers.c tests/helpers.h
tests_libtesthelpers_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = tests/libtesthelpers.a $(CORE_LIBS) $(CHECK_LIBS)
