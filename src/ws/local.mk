# ws module: sources and unit tests (included from Makefile.am)
src_libcore_a_SOURCES += src/ws/wscodec.c src/ws/wscodec.h src/ws/handshake.c src/ws/handshake.h
# the daemon (issue #4): everything but main() is in the library, for the tests
src_libcore_a_SOURCES += src/ws/ws.h src/ws/ws-internal.h src/ws/wstext.c src/ws/logmsg.c \
	src/ws/sendq.c src/ws/jobs.c src/ws/conn.c src/ws/login.c src/ws/console.c src/ws/feed.c src/ws/wsd.c \
	src/db/login-codes.c src/api/h_verify_code.c

sbin_PROGRAMS += src/mc-admin-ws
src_mc_admin_ws_SOURCES = src/ws/main.c
src_mc_admin_ws_LDADD = $(CORE_LIBS)

UNIT_TESTS += tests/check_wscodec
check_PROGRAMS += tests/check_wscodec
tests_check_wscodec_SOURCES = tests/check_wscodec.c
tests_check_wscodec_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_wscodec_LDADD = $(TEST_LIBS)

# the daemon's pieces in memory: text rules and queues; connections, login
# codes and consoles against a fake Docker daemon (issue #4)
UNIT_TESTS += tests/check_wstext tests/check_wsconn
check_PROGRAMS += tests/check_wstext tests/check_wsconn
tests_check_wstext_SOURCES = tests/check_wstext.c
tests_check_wstext_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_wstext_LDADD = $(TEST_LIBS)
tests_check_wsconn_SOURCES = tests/check_wsconn.c
tests_check_wsconn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_wsconn_LDADD = $(TEST_LIBS)

# Fuzzing with clang's libFuzzer, outside "make check":
#   make fuzz-ws [FUZZ_SECONDS=60] [FUZZ_CC=clang-14]
# ("make fuzz" runs every module's fuzz-<module> target). FUZZ_SECONDS
# (default 30) and FUZZ_CC (default clang) are read from the environment,
# where make also puts command-line variables; they are not make variables
# here, so any module can honour them without a clash of definitions.
# The targets are built straight from the sources with their own flags,
# whatever configure chose for the compiler.
# New inputs go to tests/fuzz/work/<target>/ in the build tree (the seeds
# in srcdir are never written); crashes land in tests/fuzz/crash-<sha1>.
WS_FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I$(top_builddir) -I$(top_srcdir)/src -I$(top_builddir)/src -include autoconf.h
WS_FUZZ_COMMON = $(srcdir)/src/common/strbuf.c $(srcdir)/src/common/util.c
WS_FUZZ_WSFRAME_SRCS = $(srcdir)/tests/fuzz/fuzz_wsframe.c $(srcdir)/src/ws/wscodec.c \
	$(WS_FUZZ_COMMON)
# handshake.c reuses http_urlencoded_foreach() (src/http/request.c), which
# drags in the form parser and json-c
WS_FUZZ_HANDSHAKE_SRCS = $(srcdir)/tests/fuzz/fuzz_handshake.c $(srcdir)/src/ws/handshake.c \
	$(srcdir)/src/http/request.c $(srcdir)/src/http/form.c $(srcdir)/src/common/json.c \
	$(WS_FUZZ_COMMON)
WS_FUZZ_CORPUS_WSFRAME = \
	tests/fuzz/corpus/wsframe/text-hello \
	tests/fuzz/corpus/wsframe/fragmented-ping \
	tests/fuzz/corpus/wsframe/close-1000 \
	tests/fuzz/corpus/wsframe/binary-126 \
	tests/fuzz/corpus/wsframe/server-frames \
	tests/fuzz/corpus/wsframe/bad-utf8
WS_FUZZ_CORPUS_HANDSHAKE = \
	tests/fuzz/corpus/handshake/rfc6455 \
	tests/fuzz/corpus/handshake/console-token \
	tests/fuzz/corpus/handshake/nginx-lf \
	tests/fuzz/corpus/handshake/version-8 \
	tests/fuzz/corpus/handshake/post

EXTRA_DIST += tests/fuzz/fuzz_wsframe.c tests/fuzz/fuzz_handshake.c \
	$(WS_FUZZ_CORPUS_WSFRAME) $(WS_FUZZ_CORPUS_HANDSHAKE)
CLEANFILES += tests/fuzz/fuzz_wsframe tests/fuzz/fuzz_handshake

tests/fuzz/fuzz_wsframe: $(WS_FUZZ_WSFRAME_SRCS) $(srcdir)/src/ws/wscodec.h autoconf.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && \
	$${FUZZ_CC:-clang} $(WS_FUZZ_CFLAGS) -o $@ $(WS_FUZZ_WSFRAME_SRCS)

tests/fuzz/fuzz_handshake: $(WS_FUZZ_HANDSHAKE_SRCS) $(srcdir)/src/ws/handshake.h \
		$(srcdir)/src/http/http.h autoconf.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && \
	$${FUZZ_CC:-clang} $(WS_FUZZ_CFLAGS) $(JSONC_CFLAGS) -o $@ $(WS_FUZZ_HANDSHAKE_SRCS) \
		$(JSONC_LIBS) $(LIBCRYPTO_LIBS)

fuzz-ws: tests/fuzz/fuzz_wsframe tests/fuzz/fuzz_handshake
	@set -e; for t in wsframe handshake; do \
		$(MKDIR_P) tests/fuzz/work/$$t; \
		echo "  FUZZ     $$t ($${FUZZ_SECONDS:-30} s)"; \
		tests/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-30} -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/ \
			tests/fuzz/work/$$t $(srcdir)/tests/fuzz/corpus/$$t; \
	done

fuzz: fuzz-ws
clean-local: clean-fuzz-ws
clean-fuzz-ws:
	-rm -rf tests/fuzz/work
.PHONY: fuzz fuzz-ws clean-fuzz-ws
