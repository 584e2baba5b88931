# contrib: the development stack and the benchmarks.
EXTRA_DIST += contrib/dev/stack.sh contrib/dev/run contrib/dev/test contrib/dev/common.sh \
	contrib/bench/run-all.sh $(BENCH_FILES)
BENCH_FILES = contrib/bench/bench-api.sh contrib/bench/bench-servers.sh
BENCH_FILES += contrib/bench/bench-ws.sh
BENCH_FILES += contrib/bench/bench-files.sh

# make bench: every contrib/bench/bench-*.sh against this build tree; they
# start what they need (the dev stack on a free port, simulator containers)
# and print their figures. Nothing here is asserted: speed is measured.
bench: all
	MC_ADMIN_BUILD=$(abs_top_builddir) $(SHELL) $(srcdir)/contrib/bench/run-all.sh
.PHONY: bench

EXTRA_DIST += contrib/lint.sh
lint:
	cd $(srcdir) && $(SHELL) contrib/lint.sh src
.PHONY: lint
