# outbound module: libcurl (Docker Engine API) and the compose CLI
src_libcore_a_SOURCES += src/outbound/docker.c src/outbound/docker.h \
	src/outbound/compose-cli.c src/outbound/compose-cli.h

# check_docker runs against the real dockerd (/var/run/docker.sock) and the
# mcsim image (tests/mcsim/build-image.sh): it FAILS when docker does not
# answer, unless MC_ADMIN_SKIP_DOCKER=1 (then it is skipped). Always built;
# run by make check unless configure --disable-integration-tests ("no docker").
# MC_ADMIN_TEST_COMPOSE="docker compose" forces a compose flavour.
check_PROGRAMS += tests/check_docker
if INTEGRATION_TESTS
INTEGRATION_TESTS += tests/check_docker
endif
tests_check_docker_SOURCES = tests/check_docker.c
tests_check_docker_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_docker_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/mcsim/build-image.sh tests/mcsim/mcsim.c tests/mcsim/Dockerfile
