/* SPDX-License-Identifier: MIT */
/*
 * The server domain (src/servers) and the /api/servers handlers driven in
 * memory: id rules, directory resolution (case-insensitive, symlinks
 * refused), the §11.4 status mapping, discovery, RCON target selection and
 * fallback against a real RCON listener on 127.0.0.1, and every error path
 * of §12 that needs no running container, with the disk checked unchanged
 * after each refused request. The Docker flows run in
 * tests/integration/test_servers.py.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/util.h"
#include "monitor/monitor.h"
#include "outbound/docker.h"
#include "rcon/rcon.h"
#include "servers/servers.h"
#include "apitest.h"

#define MASTER "master-token-for-tests"
#define SECRET "jwt-secret-for-tests"

static struct apitest bench;			/* bench.td/servers is server_path */
static struct docker *dead_docker;	/* a socket nobody listens on */
static struct monitor_sampler *sampler;

static char *
compose_text(const char *id, int game, int rcon, const char *extra_env)
{
	char *s;

	ck_assert_int_ge(asprintf(&s,
	    "services:\n"
	    "  mc:\n"
	    "    image: itzg/minecraft-server:java21\n"
	    "    container_name: mc-%s\n"
	    "    environment:\n"
	    "      EULA: \"TRUE\"\n"
	    "      VERSION: 1.20\n"
	    "      TYPE: PAPER\n"
	    "      MAX_MEMORY: 500M\n"
	    "%s"
	    "    ports:\n"
	    "      - \"%d:25565\"\n"
	    "      - \"%d:25575\"\n"
	    "    volumes:\n"
	    "      - ./data:/data\n", id, extra_env ? extra_env : "", game, rcon), 0);
	return s;
}

static void
add_server(const char *dir, const char *id, int game, int rcon)
{
	char *rel, *text = compose_text(id, game, rcon, NULL);

	ck_assert_int_ge(asprintf(&rel, "servers/%s/docker-compose.yml", dir), 0);
	tmpdir_write(bench.td, rel, text);
	free(rel);
	ck_assert_int_ge(asprintf(&rel, "servers/%s/data", dir), 0);
	tmpdir_mkdir(bench.td, rel);
	free(rel);
	free(text);
}

/* Set up bench.app with servers whose docker is given (NULL = not configured). */
static void
servers_with(const struct docker *d)
{
	char *root = tmpdir_join(bench.td, "servers");

	bench.app.servers = servers_free(bench.app.servers);
	ck_assert_int_eq(servers_new(&(struct servers_config){
		.server_path = root,
		.docker = d,
		.sampler = sampler,
		.rcon_timeout_ms = 2000,
	}, &bench.app.servers), 0);
	free(root);
}

static void
setup(void)
{
	static const char *const env[] = {
		"MASTER_TOKEN=" MASTER, "JWT__SECRET_KEY=" SECRET, NULL,
	};
	char *sock;

	apitest_setup(&bench, env, true);
	sock = tmpdir_join(bench.td, "no-docker.sock");
	ck_assert_int_eq(docker_new(&(struct docker_config){ .socket_path = sock,
	    .timeout_ms = 2000 }, &dead_docker), 0);
	free(sock);
	servers_with(dead_docker);
}

static void
teardown(void)
{
	bench.app.servers = servers_free(bench.app.servers);	/* before the docker it uses */
	dead_docker = docker_free(dead_docker);
	apitest_teardown(&bench);
}

/* ---- in-memory requests (tests/apitest.c) ------------------------------ */

/* An authenticated call with an optional JSON body. */
static struct api_result
call(const char *method, const char *path, const char *body)
{
	return apitest_call(&bench, method, path, body, "HTTP_AUTHORIZATION=Bearer " MASTER,
	    body ? "CONTENT_TYPE=application/json" : NULL, NULL);
}

/* {"yaml_content": text} */
static char *
yaml_body(const char *text)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "yaml_content", json_object_new_string(text));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void
assert_detail_prefix(struct api_result *r, int status, const char *prefix)
{
	const char *detail;

	ck_assert_msg(r->status == status, "status %d, want %d: %s", r->status, status, r->body);
	detail = api_jstr(r, "detail");
	ck_assert_msg(startswith(detail, prefix), "detail %s, want %s…", detail, prefix);
}

/* The names under a directory of bench.td, sorted and joined by ',' (a snapshot). */
static char *
tree(const char *rel)
{
	char *path = tmpdir_join(bench.td, rel), *out = NULL;
	struct dirent **list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int n = scandir(path, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (!streq(list[i]->d_name, ".") && !streq(list[i]->d_name, "..")) {
			char *sub, *inner;

			fprintf(f, "%s,", list[i]->d_name);
			ck_assert_int_ge(asprintf(&sub, "%s/%s", rel, list[i]->d_name), 0);
			if (list[i]->d_type == DT_DIR) {
				inner = tree(sub);
				fprintf(f, "[%s]", inner);
				free(inner);
			}
			free(sub);
		}
		free(list[i]);
	}
	free(list);
	fclose(f);
	free(path);
	return out;
}

/* ---- ids and status mapping ---------------------------------------------- */

static const struct {
	const char *id;
	int ok;
} id_cases[] = {
	{ "survival", 1 }, { "a", 1 }, { "A-b_C-9", 1 }, { "_", 1 }, { "-", 1 },
	{ "12345678901234567890123456789012345678901234567890", 1 },	/* 50 */
	{ "123456789012345678901234567890123456789012345678901", 0 },	/* 51 */
	{ "", 0 }, { ".", 0 }, { "..", 0 }, { "a/b", 0 }, { "a.b", 0 }, { "a b", 0 },
	{ "a\tb", 0 }, { "caf\xc3\xa9", 0 }, { "a%2f", 0 }, { "a\\b", 0 }, { "~", 0 },
	{ "mc:1", 0 },
};

START_TEST(test_id_check)
{
	ck_assert_msg((servers_id_check(id_cases[_i].id) == 0) == id_cases[_i].ok, "'%s'",
	    id_cases[_i].id);
}
END_TEST

static const struct {
	enum docker_state state;
	enum docker_health health;
	enum server_status want;
} status_cases[] = {
	{ DOCKER_STATE_CREATED, DOCKER_HEALTH_NONE, SERVER_STATUS_CREATED },
	{ DOCKER_STATE_EXITED, DOCKER_HEALTH_NONE, SERVER_STATUS_CREATED },
	{ DOCKER_STATE_DEAD, DOCKER_HEALTH_NONE, SERVER_STATUS_CREATED },
	{ DOCKER_STATE_REMOVING, DOCKER_HEALTH_NONE, SERVER_STATUS_CREATED },
	{ DOCKER_STATE_UNKNOWN, DOCKER_HEALTH_NONE, SERVER_STATUS_CREATED },
	{ DOCKER_STATE_RUNNING, DOCKER_HEALTH_NONE, SERVER_STATUS_RUNNING },
	{ DOCKER_STATE_RUNNING, DOCKER_HEALTH_STARTING, SERVER_STATUS_STARTING },
	{ DOCKER_STATE_RUNNING, DOCKER_HEALTH_HEALTHY, SERVER_STATUS_HEALTHY },
	{ DOCKER_STATE_RUNNING, DOCKER_HEALTH_UNHEALTHY, SERVER_STATUS_RUNNING },
	{ DOCKER_STATE_PAUSED, DOCKER_HEALTH_NONE, SERVER_STATUS_RUNNING },
	{ DOCKER_STATE_RESTARTING, DOCKER_HEALTH_NONE, SERVER_STATUS_RUNNING },
};

START_TEST(test_status_mapping)
{
	struct docker_container c = { .state = status_cases[_i].state,
	    .health = status_cases[_i].health };

	ck_assert_int_eq(server_status_from_container(&c), status_cases[_i].want);
}
END_TEST

START_TEST(test_status_names)
{
	static const char *const names[] = { "REMOVED", "EXISTS", "CREATED", "RUNNING",
	    "STARTING", "HEALTHY" };

	ck_assert_int_eq(server_status_from_container(NULL), SERVER_STATUS_EXISTS);
	for (int i = 0; i < SERVER_STATUS_MAX; i++) {
		char want[64];

		ck_assert_str_eq(server_status_to_string(i), names[i]);
		(void)snprintf(want, sizeof(want), "MCServerStatus.%s", names[i]);
		ck_assert_str_eq(server_status_repr(i), want);
		ck_assert(server_status_running_like(i) == (i >= SERVER_STATUS_RUNNING));
	}
	ck_assert_ptr_null(server_status_to_string(SERVER_STATUS_MAX));
	ck_assert_ptr_null(server_status_repr(-1));
}
END_TEST

/* ---- directories ----------------------------------------------------------- */

START_TEST(test_open_exact_and_casefold)
{
	struct server_ref ref = SERVER_REF_INIT;
	const char *name;

	add_server("Survival", "Survival", 25565, 25575);
	ck_assert_int_eq(servers_open(bench.app.servers, "Survival", &ref), 0);
	ck_assert_str_eq(ref.id, "Survival");
	ck_assert_str_eq(ref.compose_file, "docker-compose.yml");
	ck_assert_int_ge(ref.dir_fd, 0);
	server_ref_done(&ref);
	ck_assert_int_eq(ref.dir_fd, -1);

	/* compose lower-cases project names: "survival" is the same server */
	ck_assert_int_eq(servers_open(bench.app.servers, "survival", &ref), 0);
	ck_assert_str_eq(ref.id, "Survival");
	server_ref_done(&ref);
	ck_assert_int_eq(servers_exists(bench.app.servers, "SURVIVAL"), 1);
	ck_assert_int_eq(servers_exists(bench.app.servers, "creative"), 0);
	ck_assert_int_eq(servers_open(bench.app.servers, "creative", &ref), -ENOENT);
	ck_assert_int_eq(servers_open(bench.app.servers, "../servers", &ref), -EINVAL);
	ck_assert_int_eq(servers_open(bench.app.servers, "", &ref), -EINVAL);
	ck_assert_int_eq(ref.dir_fd, -1);

	/* a directory without a compose file exists as a directory only */
	tmpdir_mkdir(bench.td, "servers/empty");
	ck_assert_int_eq(servers_open(bench.app.servers, "empty", &ref), -ENOENT);
	ck_assert_int_eq(servers_open_dir(bench.app.servers, "empty", &ref), 0);
	ck_assert_ptr_null(ref.compose_file);
	ck_assert_int_eq(servers_compose_find(ref.dir_fd, &name), -ENOENT);
	server_ref_done(&ref);
}
END_TEST

START_TEST(test_compose_candidates)
{
	struct server_ref ref = SERVER_REF_INIT;

	tmpdir_write(bench.td, "servers/a/compose.yaml", "x");
	ck_assert_int_eq(servers_open(bench.app.servers, "a", &ref), 0);
	ck_assert_str_eq(ref.compose_file, "compose.yaml");
	server_ref_done(&ref);
	tmpdir_write(bench.td, "servers/a/compose.yml", "x");
	tmpdir_write(bench.td, "servers/a/docker-compose.yaml", "x");
	ck_assert_int_eq(servers_open(bench.app.servers, "a", &ref), 0);
	ck_assert_str_eq(ref.compose_file, "docker-compose.yaml");
	server_ref_done(&ref);
	/* §11.1 order: docker-compose.yml wins; a directory or symlink is no file */
	tmpdir_mkdir(bench.td, "servers/b/docker-compose.yml");
	tmpdir_symlink(bench.td, "servers/b/docker-compose.yaml", "/etc/hostname");
	tmpdir_write(bench.td, "servers/b/compose.yml", "x");
	ck_assert_int_eq(servers_open(bench.app.servers, "b", &ref), 0);
	ck_assert_str_eq(ref.compose_file, "compose.yml");
	server_ref_done(&ref);
}
END_TEST

START_TEST(test_symlinks_refused)
{
	struct server_ref ref = SERVER_REF_INIT;
	char *target;

	add_server("real", "real", 25565, 25575);
	target = tmpdir_join(bench.td, "servers/real");
	tmpdir_symlink(bench.td, "servers/alias", target);
	free(target);
	ck_assert_int_eq(servers_open(bench.app.servers, "alias", &ref), -ELOOP);
	ck_assert_int_eq(servers_exists(bench.app.servers, "alias"), 0);

	/* a data/ that is a symlink is never opened */
	tmpdir_write(bench.td, "servers/evil/docker-compose.yml", "x");
	tmpdir_symlink(bench.td, "servers/evil/data", "/etc");
	ck_assert_int_eq(servers_open(bench.app.servers, "evil", &ref), 0);
	ck_assert_int_eq(servers_data_open(&ref), -ELOOP);
	server_ref_done(&ref);
	ck_assert_int_eq(servers_open(bench.app.servers, "real", &ref), 0);
	{
		int fd = servers_data_open(&ref);

		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	server_ref_done(&ref);
}
END_TEST

START_TEST(test_compose_read_limits)
{
	struct server_ref ref = SERVER_REF_INIT;
	char *text = NULL, *big;
	size_t len = 0;
	FILE *f;
	char *path;

	tmpdir_write(bench.td, "servers/a/docker-compose.yml", "services: {}\r\n");
	ck_assert_int_eq(servers_open(bench.app.servers, "a", &ref), 0);
	ck_assert_int_eq(servers_compose_read(&ref, &text, &len), 0);
	ck_assert_str_eq(text, "services: {}\r\n");	/* raw: newlines untouched here */
	ck_assert_uint_eq(len, 14);
	free(text);
	server_ref_done(&ref);

	path = tmpdir_join(bench.td, "servers/b/docker-compose.yml");
	tmpdir_write(bench.td, "servers/b/docker-compose.yml", "");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite("a\0b", 1, 3, f);
	fclose(f);
	ck_assert_int_eq(servers_open(bench.app.servers, "b", &ref), 0);
	ck_assert_int_eq(servers_compose_read(&ref, &text, &len), -EBADMSG);
	server_ref_done(&ref);

	big = malloc(SERVERS_COMPOSE_MAX + 2);
	memset(big, '#', SERVERS_COMPOSE_MAX + 1);
	big[SERVERS_COMPOSE_MAX + 1] = '\0';
	tmpdir_write(bench.td, "servers/b/docker-compose.yml", big);
	free(big);
	ck_assert_int_eq(servers_open(bench.app.servers, "b", &ref), 0);
	ck_assert_int_eq(servers_compose_read(&ref, &text, &len), -EFBIG);
	server_ref_done(&ref);
	free(path);
}
END_TEST

static int
discover_cb(const struct servers_entry *e, void *userdata)
{
	FILE *f = userdata;

	fprintf(f, "%s=%d%s;", e->name, e->error, e->error == 0 && e->len > 0 ? "+" : "");
	return 0;
}

START_TEST(test_discover)
{
	char *out = NULL, *target;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	add_server("one", "one", 25565, 25575);
	tmpdir_mkdir(bench.td, "servers/nocompose");
	tmpdir_mkdir(bench.td, "servers/bad name");
	tmpdir_write(bench.td, "servers/file.txt", "not a server");
	target = tmpdir_join(bench.td, "servers/one");
	tmpdir_symlink(bench.td, "servers/link", target);
	free(target);
	ck_assert_int_eq(servers_discover(bench.app.servers, discover_cb, f), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "one=0+;"), "%s", out);
	ck_assert_msg(strstr(out, "nocompose=-2;"), "%s", out);	/* -ENOENT */
	ck_assert_msg(strstr(out, "bad name=-22;"), "%s", out);	/* -EINVAL */
	ck_assert_msg(strstr(out, "link=-40;"), "%s", out);	/* -ELOOP */
	ck_assert_msg(!strstr(out, "file.txt"), "%s", out);
	free(out);
}
END_TEST

START_TEST(test_locks)
{
	struct servers_lock *a = servers_lock(bench.app.servers, "Foo"), *b;

	servers_unlock(a);
	b = servers_lock(bench.app.servers, "foo");	/* the same stripe */
	ck_assert_ptr_eq(a, b);
	servers_unlock(b);
	a = servers_lock_create(bench.app.servers);
	ck_assert_ptr_nonnull(a);
	servers_unlock(a);
}
END_TEST

/* ---- status through the Engine API ------------------------------------------ */

START_TEST(test_status_without_docker)
{
	struct docker_error de;
	enum server_status st = SERVER_STATUS_MAX;

	/* unknown and invalid ids are REMOVED without asking docker at all */
	ck_assert_int_eq(servers_status(bench.app.servers, "nothing", &st, NULL, &de), 0);
	ck_assert_int_eq(st, SERVER_STATUS_REMOVED);
	ck_assert_int_eq(servers_status(bench.app.servers, "../x", &st, NULL, &de), 0);
	ck_assert_int_eq(st, SERVER_STATUS_REMOVED);
	/* an existing server needs docker, which does not answer here */
	add_server("one", "one", 25565, 25575);
	ck_assert_int_eq(servers_status(bench.app.servers, "one", &st, NULL, &de), -EHOSTDOWN);
	servers_with(NULL);
	ck_assert_int_eq(servers_status(bench.app.servers, "one", &st, NULL, &de), -EHOSTDOWN);
	ck_assert_str_eq(de.message, "docker is not configured");
}
END_TEST

/* ---- RCON target and fallback, against a real listener ---------------------- */

struct fake_rcon {
	int listen_fd;
	uint16_t port;
	const char *password;
	int auth_attempts;
	pthread_t thread;
};

static int
read_packet(int fd, uint8_t *buf, size_t cap, struct rcon_packet *p)
{
	size_t n = 0;

	for (;;) {
		int r = rcon_packet_decode(buf, n, RCON_RESPONSE_PAYLOAD_MAX, p);
		ssize_t l;

		if (r != 0)
			return r;
		l = read(fd, buf + n, cap - n);
		if (l <= 0)
			return -1;
		n += (size_t)l;
	}
}

static void
send_packet(int fd, int32_t id, int32_t type, const char *payload)
{
	uint8_t buf[RCON_PACKET_MAX];
	int n = rcon_packet_encode(id, type, payload, strlen(payload), RCON_RESPONSE_PAYLOAD_MAX,
	    buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(write(fd, buf, (size_t)n), n);
}

/* One client: vanilla's answers (auth, "list", the type-0 end marker). */
static void *
fake_rcon_main(void *userdata)
{
	struct fake_rcon *f = userdata;
	uint8_t buf[RCON_PACKET_MAX];
	struct rcon_packet p;
	int fd;

	while ((fd = accept(f->listen_fd, NULL, NULL)) >= 0) {
		bool authed = false;

		while (read_packet(fd, buf, sizeof(buf), &p) > 0) {
			if (p.type == RCON_TYPE_AUTH) {
				__atomic_fetch_add(&f->auth_attempts, 1, __ATOMIC_SEQ_CST);
				authed = streq(p.payload, f->password);
				send_packet(fd, authed ? p.id : -1, RCON_TYPE_AUTH_RESPONSE, "");
			} else if (p.type == RCON_TYPE_EXEC && authed && streq(p.payload, "list"))
				send_packet(fd, p.id, RCON_TYPE_RESPONSE,
				    "There are 2 of a max of 20 players online: Alice, Bob");
			else
				send_packet(fd, p.id, RCON_TYPE_RESPONSE, "Unknown request 0");
		}
		close(fd);
	}
	return NULL;
}

static void
fake_rcon_start(struct fake_rcon *f, const char *password)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	f->password = password;
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->listen_fd, 0);
	ck_assert_int_eq(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(f->listen_fd, 4), 0);
	ck_assert_int_eq(getsockname(f->listen_fd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_rcon_main, f), 0);
}

static void
fake_rcon_stop(struct fake_rcon *f)
{
	shutdown(f->listen_fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

static void
write_server_with_env(const char *id, int rcon_port, const char *env)
{
	char *rel, *text = compose_text(id, 25565, rcon_port, env);

	ck_assert_int_ge(asprintf(&rel, "servers/%s/docker-compose.yml", id), 0);
	tmpdir_write(bench.td, rel, text);
	free(rel);
	free(text);
}

START_TEST(test_rcon_direct_password_sources)
{
	struct server_ref ref = SERVER_REF_INIT;
	struct fake_rcon f = { 0 };
	char *out = NULL, *err = NULL;
	bool direct = false;
	char **names = NULL;

	fake_rcon_start(&f, "s3cret");
	/* 1. RCON_PASSWORD from the compose environment */
	write_server_with_env("env", f.port, "      RCON_PASSWORD: s3cret\n");
	ck_assert_int_eq(servers_open(bench.app.servers, "env", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "list", &out, &err, &direct), 0);
	ck_assert(direct);
	ck_assert_int_eq(rcon_players_parse(out, &names), 2);
	ck_assert_str_eq(names[0], "Alice");
	ck_assert_str_eq(names[1], "Bob");
	names = rcon_strv_free(names);
	free(out);
	out = NULL;
	server_ref_done(&ref);

	/* 2. no RCON_PASSWORD: the image's generated data/.rcon-cli.env */
	write_server_with_env("gen", f.port, NULL);
	tmpdir_write(bench.td, "servers/gen/data/.rcon-cli.env", "port=25575\npassword=s3cret\n");
	ck_assert_int_eq(servers_open(bench.app.servers, "gen", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "list", &out, &err, &direct), 0);
	ck_assert(direct);
	ck_assert_ptr_nonnull(strstr(out, "Alice, Bob"));
	free(out);
	out = NULL;
	server_ref_done(&ref);

	/* 3. a wrong password falls back to rcon-cli, which needs compose: 503 */
	write_server_with_env("wrong", f.port, "      RCON_PASSWORD: nope\n");
	ck_assert_int_eq(servers_open(bench.app.servers, "wrong", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "list", &out, &err, &direct), -EHOSTDOWN);
	ck_assert_int_eq(__atomic_load_n(&f.auth_attempts, __ATOMIC_SEQ_CST), 3);
	server_ref_done(&ref);

	/* 4. RCON disabled or no password known: no connection at all */
	write_server_with_env("off", f.port, "      RCON_PASSWORD: s3cret\n"
	    "      ENABLE_RCON: \"false\"\n");
	ck_assert_int_eq(servers_open(bench.app.servers, "off", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "list", &out, &err, &direct), -EHOSTDOWN);
	server_ref_done(&ref);
	write_server_with_env("nopw", f.port, NULL);
	ck_assert_int_eq(servers_open(bench.app.servers, "nopw", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "list", &out, &err, &direct), -EHOSTDOWN);
	server_ref_done(&ref);
	ck_assert_int_eq(__atomic_load_n(&f.auth_attempts, __ATOMIC_SEQ_CST), 3);

	/* commands vanilla cannot read are refused before any connection */
	ck_assert_int_eq(servers_open(bench.app.servers, "env", &ref), 0);
	ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, "", &out, &err, &direct), -EINVAL);
	{
		char *longcmd = malloc(RCON_REQUEST_PAYLOAD_MAX + 2);

		memset(longcmd, 'x', RCON_REQUEST_PAYLOAD_MAX + 1);
		longcmd[RCON_REQUEST_PAYLOAD_MAX + 1] = '\0';
		ck_assert_int_eq(servers_rcon(bench.app.servers, &ref, longcmd, &out, &err, &direct),
		    -EMSGSIZE);
		free(longcmd);
	}
	server_ref_done(&ref);
	ck_assert_int_eq(__atomic_load_n(&f.auth_attempts, __ATOMIC_SEQ_CST), 3);
	fake_rcon_stop(&f);
	free(err);
}
END_TEST

/* ---- handlers ---------------------------------------------------------------- */

START_TEST(test_api_list_and_info)
{
	struct api_result r;
	json_object *v;

	add_server("alpha", "alpha", 25565, 25575);
	add_server("mismatch", "other", 25566, 25576);	/* container name ≠ mc-<dir> */
	tmpdir_write(bench.td, "servers/broken/docker-compose.yml", "services: [\n");
	tmpdir_mkdir(bench.td, "servers/bad name");
	{
		char *t = compose_text("typo", 25567, 25577, "      TYPE: SPONGE\n");
		char *fixed = strstr(t, "      TYPE: PAPER\n");

		/* the second TYPE wins (last duplicate key): an unknown type */
		memcpy(fixed, "      XTYP: PAPER\n", 18);
		tmpdir_write(bench.td, "servers/typo/docker-compose.yml", t);
		free(t);
	}

	r = call("GET", "/api/servers/", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(json_object_is_type(r.json, json_type_array), "%s", r.body);
	ck_assert_int_eq(json_object_array_length(r.json), 1);
	ck_assert_str_eq(json_object_to_json_string_ext(json_object_array_get_idx(r.json, 0),
	    JSON_C_TO_STRING_PLAIN),
	    "{\"id\":\"alpha\",\"name\":\"alpha\",\"serverType\":\"PAPER\",\"gameVersion\":\"1.2\","
	    "\"gamePort\":25565,\"maxMemoryBytes\":524288000,\"rconPort\":25575,"
	    "\"javaVersion\":21}");
	api_result_done(&r);

	r = call("GET", "/api/servers/alpha", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_object_object_get_ex(r.json, "gameVersion", &v));
	ck_assert_str_eq(json_object_get_string(v), "1.2");
	api_result_done(&r);
	r = call("GET", "/api/servers/ALPHA", NULL);	/* the same server */
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_object_object_get_ex(r.json, "id", &v));
	ck_assert_str_eq(json_object_get_string(v), "alpha");
	api_result_done(&r);

	r = call("GET", "/api/servers/nothing", NULL);
	api_assert_detail(&r, 404, "Server 'nothing' not found");
	api_result_done(&r);
	r = call("GET", "/api/servers/a.b", NULL);
	api_assert_detail(&r, 404, "Server 'a.b' not found");
	api_result_done(&r);
	r = call("GET", "/api/servers/mismatch", NULL);
	api_assert_detail(&r, 500, "Failed to get server info: "
	    "Container name 'mc-other' does not match server 'mismatch'");
	api_result_done(&r);
	r = call("GET", "/api/servers/broken", NULL);
	assert_detail_prefix(&r, 500, "Failed to get server info: ");
	api_result_done(&r);
	r = call("GET", "/api/servers/typo", NULL);
	api_assert_detail(&r, 500, "Failed to get server info: 'SPONGE' is not a valid ServerType");
	api_result_done(&r);
}
END_TEST

START_TEST(test_api_list_unreadable_root)
{
	struct api_result r;

	char *root = tmpdir_join(bench.td, "servers");

	ck_assert_int_eq(rmdir(root), 0);
	free(root);
	r = call("GET", "/api/servers/", NULL);
	api_assert_detail(&r, 500, "Failed to get servers: No such file or directory");
	api_result_done(&r);
}
END_TEST

START_TEST(test_api_compose_get)
{
	struct api_result r;
	json_object *v;

	tmpdir_write(bench.td, "servers/a/docker-compose.yml", "a: 1\r\nb: 2\rc: 3\n");
	r = call("GET", "/api/servers/a/compose", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_object_object_get_ex(r.json, "yaml_content", &v));
	ck_assert_str_eq(json_object_get_string(v), "a: 1\nb: 2\nc: 3\n");
	api_result_done(&r);
	r = call("GET", "/api/servers/zz/compose", NULL);
	api_assert_detail(&r, 404, "Server 'zz' not found");
	api_result_done(&r);
	tmpdir_write(bench.td, "servers/l1/docker-compose.yml", "caf\xe9: 1\n");
	r = call("GET", "/api/servers/l1/compose", NULL);
	api_assert_detail(&r, 500, "Failed to get compose configuration: "
	    "the compose file is not valid UTF-8");
	api_result_done(&r);
}
END_TEST

START_TEST(test_api_create)
{
	char *text = compose_text("newone", 25570, 25580, NULL), *body = yaml_body(text);
	char *written, *before;
	struct api_result r;
	struct stat st;
	json_object *v;

	r = call("POST", "/api/servers/newone", body);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert_str_eq(r.body, "{\"message\":\"Server 'newone' created successfully\","
	    "\"game_port\":25570,\"rcon_port\":25580}");
	api_result_done(&r);
	written = tmpdir_read(bench.td, "servers/newone/docker-compose.yml");
	ck_assert_str_eq(written, text);	/* verbatim */
	free(written);
	{
		char *data = tmpdir_join(bench.td, "servers/newone/data");

		ck_assert_int_eq(stat(data, &st), 0);
		ck_assert(S_ISDIR(st.st_mode));
		free(data);
	}

	/* every refusal below leaves the tree exactly as it was */
	before = tree("servers");
#define UNCHANGED() do { \
		char *_t = tree("servers"); \
		ck_assert_str_eq(_t, before); \
		free(_t); \
	} while (0)

	r = call("POST", "/api/servers/newone", body);
	api_assert_detail(&r, 409, "Server 'newone' already exists");
	api_result_done(&r);
	r = call("POST", "/api/servers/NewOne", body);	/* same project for compose */
	api_assert_detail(&r, 409, "Server 'NewOne' already exists");
	api_result_done(&r);
	r = call("POST", "/api/servers/bad.id", body);
	api_assert_detail(&r, 400, "Invalid server id 'bad.id': 1 to 50 letters, digits, '_' or '-'");
	api_result_done(&r);
	UNCHANGED();

	/* step 2: the §11.3 messages, and YAML errors */
	free(body);
	body = yaml_body("services:\n  web:\n    image: nginx\n");
	r = call("POST", "/api/servers/second", body);
	api_assert_detail(&r, 400, "Failed to extract ports from YAML: "
	    "Could not find service mc in compose file");
	api_result_done(&r);
	free(body);
	body = yaml_body("services: [\n");
	r = call("POST", "/api/servers/second", body);
	assert_detail_prefix(&r, 400, "Failed to extract ports from YAML: ");
	api_result_done(&r);
	free(body);
	free(text);
	text = compose_text("second", 25571, 25581, NULL);
	memcpy(strstr(text, "\"25571:25565\""), "\"2557x:25565\"", 13);
	body = yaml_body(text);
	r = call("POST", "/api/servers/second", body);
	api_assert_detail(&r, 400, "Failed to extract ports from YAML: "
	    "Invalid port format: 2557x:25565");
	api_result_done(&r);
	UNCHANGED();

	/* step 3: port conflicts, game before RCON */
	free(body);
	free(text);
	text = compose_text("second", 25570, 25580, NULL);
	body = yaml_body(text);
	r = call("POST", "/api/servers/second", body);
	api_assert_detail(&r, 409, "Port conflicts detected: Game port 25570 is already used by "
	    "server 'newone'; RCON port 25580 is already used by server 'newone'");
	api_result_done(&r);
	UNCHANGED();

	/* step 4: the container name must be mc-<id> */
	free(body);
	free(text);
	text = compose_text("other", 25572, 25582, NULL);
	body = yaml_body(text);
	r = call("POST", "/api/servers/second", body);
	api_assert_detail(&r, 400,
	    "Invalid compose YAML or doesn't meet Minecraft server requirements");
	api_result_done(&r);
	UNCHANGED();

	/* the body rules: missing field and a NUL byte */
	r = call("POST", "/api/servers/second", "{}");
	ck_assert_int_eq(r.status, 422);
	api_result_done(&r);
	r = call("POST", "/api/servers/second", "{\"yaml_content\":\"services:\\u0000\"}");
	assert_detail_prefix(&r, 400, "Failed to extract ports from YAML: ");
	api_result_done(&r);
	UNCHANGED();

	/* an existing directory without a compose file is fine (§12.9 step 5) */
	tmpdir_mkdir(bench.td, "servers/third");
	free(body);
	free(text);
	text = compose_text("third", 25573, 25583, NULL);
	body = yaml_body(text);
	r = call("POST", "/api/servers/third", body);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_object_object_get_ex(r.json, "game_port", &v));
	ck_assert_int_eq(json_object_get_int(v), 25573);
	api_result_done(&r);
#undef UNCHANGED
	free(before);
	free(body);
	free(text);
}
END_TEST

START_TEST(test_api_compose_update_validates_first)
{
	char *text = compose_text("srv", 25565, 25575, NULL), *body, *after;
	struct api_result r;

	add_server("srv", "srv", 25565, 25575);
	/* docker is unreachable here: an invalid text is refused before docker is asked */
	body = yaml_body("services:\n  mc:\n    image: nginx\n");
	r = call("POST", "/api/servers/srv/compose", body);
	api_assert_detail(&r, 500, "Failed to update compose configuration: Invalid compose YAML or "
	    "doesn't meet Minecraft server requirements");
	api_result_done(&r);
	free(body);
	body = yaml_body(strstr(text, "services"));
	*strstr(body, "mc-srv") = 'x';		/* "xc-srv": name check */
	r = call("POST", "/api/servers/srv/compose", body);
	ck_assert_int_eq(r.status, 500);
	api_result_done(&r);
	after = tmpdir_read(bench.td, "servers/srv/docker-compose.yml");
	ck_assert_str_eq(after, text);
	free(after);

	/* a valid text needs the status: docker down is 503, nothing written */
	free(body);
	body = yaml_body(text);
	r = call("POST", "/api/servers/srv/compose", body);
	assert_detail_prefix(&r, 503, "Failed to update compose configuration: Docker is not "
	    "reachable");
	api_result_done(&r);
	r = call("POST", "/api/servers/none/compose", body);
	api_assert_detail(&r, 404, "Server 'none' not found");
	api_result_done(&r);
	free(body);
	free(text);
}
END_TEST

START_TEST(test_api_docker_down_and_states)
{
	struct api_result r;

	add_server("srv", "srv", 25565, 25575);
	r = call("GET", "/api/servers/srv/status", NULL);
	assert_detail_prefix(&r, 503, "Failed to get server status: Docker is not reachable");
	api_result_done(&r);
	/* unknown servers are REMOVED, not 404, and need no docker */
	r = call("GET", "/api/servers/nothing/status", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"REMOVED\"}");
	api_result_done(&r);
	r = call("GET", "/api/servers/nothing/memory", NULL);
	api_assert_detail(&r, 409, "Server 'nothing' memory monitoring not available "
	    "(status: MCServerStatus.REMOVED)");
	api_result_done(&r);
	r = call("GET", "/api/servers/nothing/cpu_percent", NULL);
	api_assert_detail(&r, 409, "Server 'nothing' CPU monitoring not available "
	    "(status: MCServerStatus.REMOVED)");
	api_result_done(&r);
	r = call("GET", "/api/servers/nothing/iostats", NULL);
	api_assert_detail(&r, 409, "Server 'nothing' I/O stats not available "
	    "(status: MCServerStatus.REMOVED)");
	api_result_done(&r);
	r = call("GET", "/api/servers/nothing/players", NULL);
	api_assert_detail(&r, 409, "Server 'nothing' players not available - server must be healthy "
	    "(current status: MCServerStatus.REMOVED)");
	api_result_done(&r);
	r = call("GET", "/api/servers/srv/memory", NULL);
	assert_detail_prefix(&r, 503, "Failed to get server memory usage: Docker is not reachable");
	api_result_done(&r);
	r = call("POST", "/api/servers/nothing/rcon", "{\"command\":\"list\"}");
	api_assert_detail(&r, 404, "Server 'nothing' not found");
	api_result_done(&r);
	r = call("POST", "/api/servers/srv/rcon", "{\"command\":\"\"}");
	ck_assert_int_eq(r.status, 422);	/* DECISIONS: empty command */
	api_result_done(&r);
	r = call("POST", "/api/servers/srv/rcon", "{\"command\":\"list\"}");
	assert_detail_prefix(&r, 503, "Failed to send RCON command: Docker is not reachable");
	api_result_done(&r);

	/* operations: 404 first, then the action */
	r = call("POST", "/api/servers/nothing/operations", "{\"action\":\"bogus\"}");
	api_assert_detail(&r, 404, "Server 'nothing' not found");
	api_result_done(&r);
	r = call("POST", "/api/servers/srv/operations", "{\"action\":\"Bogus\"}");
	api_assert_detail(&r, 400, "Invalid operation: bogus");
	api_result_done(&r);
	/* remove must know there is no container: docker down refuses it */
	r = call("POST", "/api/servers/srv/operations", "{\"action\":\"REMOVE\"}");
	assert_detail_prefix(&r, 503, "Operation failed: Docker is not reachable");
	api_result_done(&r);
	ck_assert(tmpdir_exists(bench.td, "servers/srv/docker-compose.yml"));
	/* no compose command was found: lifecycle is 503 */
	r = call("POST", "/api/servers/srv/operations", "{\"action\":\"up\"}");
	api_assert_detail(&r, 503, "Operation failed: no docker compose command is available");
	api_result_done(&r);
}
END_TEST

START_TEST(test_api_disk_usage)
{
	struct api_result r;
	json_object *v;

	add_server("srv", "srv", 25565, 25575);
	tmpdir_write(bench.td, "servers/srv/data/world/level.dat", "0123456789");
	r = call("GET", "/api/servers/srv/disk-usage", NULL);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert(json_object_object_get_ex(r.json, "diskUsageBytes", &v));
	ck_assert_int_ge(json_object_get_int64(v), 10);
	ck_assert(json_object_object_get_ex(r.json, "diskTotalBytes", &v));
	ck_assert_int_gt(json_object_get_int64(v), 0);
	ck_assert(json_object_object_get_ex(r.json, "diskAvailableBytes", &v));
	ck_assert_int_ge(json_object_get_int64(v), 0);
	api_result_done(&r);
	tmpdir_write(bench.td, "servers/nodata/docker-compose.yml", "x");
	r = call("GET", "/api/servers/nodata/disk-usage", NULL);
	api_assert_detail(&r, 500, "Failed to get server disk usage: Data directory does not exist "
	    "for server nodata");
	api_result_done(&r);
	r = call("GET", "/api/servers/none/disk-usage", NULL);
	api_assert_detail(&r, 404, "Server 'none' not found");
	api_result_done(&r);
}
END_TEST

START_TEST(test_config_keys)
{
	char *env[] = { "MASTER_TOKEN=m", "JWT__SECRET_KEY=s", "SERVER_PATH=/srv",
	    "MC_ADMIN_CONFIG=/dev/null", "DOCKER__SOCKET=/run/d.sock",
	    "DOCKER__COMPOSE_COMMAND=docker compose", "RCON__TIMEOUT_SECONDS=5", NULL };
	char *bad[] = { "MASTER_TOKEN=m", "JWT__SECRET_KEY=s", "SERVER_PATH=/srv",
	    "MC_ADMIN_CONFIG=/dev/null", "DOCKER__COMMAND_TIMEOUT_SECONDS=0", NULL };
	struct config *c = NULL;
	char *err = NULL;

	/* the defaults are in the fixture's configuration */
	ck_assert_str_eq(bench.cfg->docker.socket, "/var/run/docker.sock");
	ck_assert_str_eq(bench.cfg->docker.binary, "/usr/bin/docker");
	ck_assert_str_eq(bench.cfg->docker.compose_command, "");
	ck_assert_int_eq(bench.cfg->docker.command_timeout_seconds, 300);
	ck_assert_int_eq(bench.cfg->docker.api_timeout_ms, 10000);
	ck_assert_int_eq(bench.cfg->rcon.timeout_seconds, 30);
	ck_assert_int_eq(config_load(NULL, env, &c, NULL), 0);
	ck_assert_str_eq(c->docker.socket, "/run/d.sock");
	ck_assert_str_eq(c->docker.compose_command, "docker compose");
	ck_assert_int_eq(c->rcon.timeout_seconds, 5);
	c = config_free(c);
	ck_assert_int_eq(config_load(NULL, bad, &c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "docker.command_timeout_seconds"));
	free(err);
}
END_TEST

START_TEST(test_api_not_configured)
{
	struct api_result r;

	bench.app.servers = servers_free(bench.app.servers);
	r = call("GET", "/api/servers/", NULL);
	api_assert_detail(&r, 503, "Server management is not available");
	api_result_done(&r);
	r = call("GET", "/api/servers/x/status", NULL);
	api_assert_detail(&r, 503, "Server management is not available");
	api_result_done(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("servers");
	TCase *tc;
	SRunner *sr;
	int nfailed;

	tc = tcase_create("domain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_id_check, 0, (int)ELEMENTSOF(id_cases));
	tcase_add_loop_test(tc, test_status_mapping, 0, (int)ELEMENTSOF(status_cases));
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_open_exact_and_casefold);
	tcase_add_test(tc, test_compose_candidates);
	tcase_add_test(tc, test_symlinks_refused);
	tcase_add_test(tc, test_compose_read_limits);
	tcase_add_test(tc, test_discover);
	tcase_add_test(tc, test_locks);
	tcase_add_test(tc, test_status_without_docker);
	tcase_add_test(tc, test_rcon_direct_password_sources);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_api_list_and_info);
	tcase_add_test(tc, test_api_list_unreadable_root);
	tcase_add_test(tc, test_api_compose_get);
	tcase_add_test(tc, test_api_create);
	tcase_add_test(tc, test_api_compose_update_validates_first);
	tcase_add_test(tc, test_api_docker_down_and_states);
	tcase_add_test(tc, test_api_disk_usage);
	tcase_add_test(tc, test_api_not_configured);
	tcase_add_test(tc, test_config_keys);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
