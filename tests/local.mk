# Unit tests (Check): one program per module, each linking src/libcore.a.
TEST_EXTENSIONS = .py .sh
AM_TESTS_ENVIRONMENT = \
	abs_top_srcdir='$(abs_top_srcdir)'; export abs_top_srcdir; \
	abs_top_builddir='$(abs_top_builddir)'; export abs_top_builddir; \
	NGINX_BIN='$(NGINX)'; export NGINX_BIN;
PY_LOG_COMPILER = $(PYTHON3)
SH_LOG_COMPILER = $(SHELL)

UNIT_TESTS =
INTEGRATION_TESTS =
check_PROGRAMS =
TESTS = $(UNIT_TESTS) $(INTEGRATION_TESTS)
noinst_LIBRARIES += tests/libtesthelpers.a
tests_libtesthelpers_a_SOURCES = tests/helpers.c tests/helpers.h tests/apitest.c tests/apitest.h
tests_libtesthelpers_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = tests/libtesthelpers.a $(CORE_LIBS) $(CHECK_LIBS)

# one program per module of the foundation
FOUNDATION_TESTS = tests/check_config tests/check_util tests/check_db tests/check_auth \
	tests/check_http tests/check_api tests/check_audit tests/check_sysinfo
UNIT_TESTS += $(FOUNDATION_TESTS)
check_PROGRAMS += tests/check_config tests/check_util tests/check_db tests/check_auth \
	tests/check_http tests/check_api tests/check_audit tests/check_sysinfo
tests_check_config_SOURCES = tests/check_config.c
tests_check_config_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_config_LDADD = $(TEST_LIBS)
tests_check_util_SOURCES = tests/check_util.c
tests_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_util_LDADD = $(TEST_LIBS)
tests_check_db_SOURCES = tests/check_db.c
tests_check_db_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_db_LDADD = $(TEST_LIBS)
tests_check_auth_SOURCES = tests/check_auth.c tests/jwt-forge.c tests/jwt-forge.h
tests_check_auth_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_auth_LDADD = $(TEST_LIBS)
tests_check_http_SOURCES = tests/check_http.c
tests_check_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_http_LDADD = $(TEST_LIBS)
tests_check_api_SOURCES = tests/check_api.c tests/jwt-forge.c tests/jwt-forge.h
tests_check_api_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_api_LDADD = $(TEST_LIBS)
tests_check_audit_SOURCES = tests/check_audit.c
tests_check_audit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_audit_LDADD = $(TEST_LIBS)
tests_check_sysinfo_SOURCES = tests/check_sysinfo.c
tests_check_sysinfo_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_sysinfo_LDADD = $(TEST_LIBS)

# integration: the real binaries behind a real nginx (tests/integration/harness.py)
EXTRA_DIST += tests/integration/harness.py
if INTEGRATION_TESTS
INTEGRATION_TESTS += tests/integration/test_foundation.py
endif
EXTRA_DIST += tests/integration/test_foundation.py

# file manager, archive manager, populate (issue 5): attack corpus, crashes, flows
if INTEGRATION_TESTS
INTEGRATION_TESTS += tests/integration/test_files.py
endif
EXTRA_DIST += tests/integration/test_files.py
# servers on real Docker with the mcsim image (issue #3); MC_ADMIN_SKIP_DOCKER=1 skips
if INTEGRATION_TESTS
INTEGRATION_TESTS += tests/integration/test_servers.py
endif
EXTRA_DIST += tests/integration/test_servers.py tests/mcsim/README.md tests/mcsim/test-mcsim.sh
# mc-admin-ws through nginx: login codes, consoles on the mcsim image (issue #4)
if INTEGRATION_TESTS
INTEGRATION_TESTS += tests/integration/test_ws.py
endif
EXTRA_DIST += tests/integration/test_ws.py

# deployment test under real systemd (Docker + debootstrap): make check-deploy
EXTRA_DIST += tests/deploy/run.sh
check-deploy: all
	$(MKDIR_P) deploy-build
	cd deploy-build && $(abs_top_srcdir)/configure -q --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var $(DEPLOY_CONFIGURE_FLAGS) && $(MAKE) -s
	$(abs_top_srcdir)/tests/deploy/run.sh deploy-build
clean-local: clean-deploy
clean-deploy:
	-rm -rf deploy-build
.PHONY: check-deploy clean-deploy

# the unit tests under valgrind (no fork, so leaks are seen; leaks are errors)
check-valgrind: $(check_PROGRAMS)
	@set -e; for t in $(UNIT_TESTS); do \
		echo "  VALGRIND $$t"; \
		if ! abs_top_srcdir='$(abs_top_srcdir)' abs_top_builddir='$(abs_top_builddir)' \
		    CK_FORK=no CK_DEFAULT_TIMEOUT=900 $(VALGRIND) --quiet --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
		    ./$$t > $$t.valgrind.log 2>&1; then \
			cat $$t.valgrind.log; exit 1; \
		fi; \
	done
.PHONY: check-valgrind
