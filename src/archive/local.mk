# Issue 5: the file managers (API-core §13, §14), archives with libarchive
# (§16), populate (§12.10), the streaming multipart parser and their tests.
src_libcore_a_SOURCES += src/http/multipart.c src/http/multipart.h

UNIT_TESTS += tests/check_multipart
check_PROGRAMS += tests/check_multipart
tests_check_multipart_SOURCES = tests/check_multipart.c
tests_check_multipart_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_multipart_LDADD = $(TEST_LIBS)

# libFuzzer target for the multipart parser, outside "make check" (the
# pattern of src/ws/local.mk; FUZZ_SECONDS and FUZZ_CC from the environment):
#   make fuzz-multipart [FUZZ_SECONDS=60]
MP_FUZZ_SRCS = $(srcdir)/tests/fuzz/fuzz_multipart.c $(srcdir)/src/http/multipart.c \
	$(srcdir)/src/common/strbuf.c
MP_FUZZ_CORPUS = tests/fuzz/corpus/multipart/browser tests/fuzz/corpus/multipart/padding-windows \
	tests/fuzz/corpus/multipart/short-boundary tests/fuzz/corpus/multipart/truncated
EXTRA_DIST += tests/fuzz/fuzz_multipart.c $(MP_FUZZ_CORPUS)
CLEANFILES += tests/fuzz/fuzz_multipart

tests/fuzz/fuzz_multipart: $(MP_FUZZ_SRCS) $(srcdir)/src/http/multipart.h autoconf.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && \
	$${FUZZ_CC:-clang} $(WS_FUZZ_CFLAGS) -o $@ $(MP_FUZZ_SRCS)

fuzz-multipart: tests/fuzz/fuzz_multipart
	@$(MKDIR_P) tests/fuzz/work/multipart
	@echo "  FUZZ     multipart ($${FUZZ_SECONDS:-30} s)"
	tests/fuzz/fuzz_multipart -max_total_time=$${FUZZ_SECONDS:-30} -print_final_stats=1 \
		-artifact_prefix=tests/fuzz/ tests/fuzz/work/multipart \
		$(srcdir)/tests/fuzz/corpus/multipart

fuzz: fuzz-multipart
.PHONY: fuzz-multipart

# the archive module (libarchive) and the upload-session store
src_libcore_a_SOURCES += src/archive/archive.c src/archive/archive.h src/db/uploads.c

UNIT_TESTS += tests/check_archive
check_PROGRAMS += tests/check_archive
tests_check_archive_SOURCES = tests/check_archive.c
tests_check_archive_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_archive_LDADD = $(TEST_LIBS)

# the handlers of §12.10, §13 and §14
src_libcore_a_SOURCES += src/api/h_files.h src/api/h_files_common.c src/api/h_files.c \
	src/api/h_files_upload.c src/api/h_archive.c src/api/h_archive_compress.c \
	src/api/h_archive_populate.c

UNIT_TESTS += tests/check_files
check_PROGRAMS += tests/check_files
tests_check_files_SOURCES = tests/check_files.c
tests_check_files_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_files_LDADD = $(TEST_LIBS)
