/* SPDX-License-Identifier: MIT */
/*
 * Minecraft compose model (API-core §11.3, §12.1, §12.9): normalisation,
 * the ten validation messages in order, derived values, ServerInfo JSON and
 * port conflicts. Expected values follow the reference (PyYAML + pydantic).
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "compose/compose.h"

/* A compose file for the real image, as an operator would write it. */
static const char survival_yaml[] =
	"services:\n"
	"  mc:\n"
	"    image: itzg/minecraft-server:java21\n"
	"    container_name: mc-survival\n"
	"    environment:\n"
	"      EULA: \"TRUE\"\n"
	"      VERSION: \"1.20.4\"\n"
	"      TYPE: PAPER\n"
	"      MAX_MEMORY: 4G\n"
	"      ENABLE_RCON: \"true\"\n"
	"      RCON_PASSWORD: s3cret\n"
	"    ports:\n"
	"      - \"25565:25565\"\n"
	"      - \"25575:25575\"\n"
	"    volumes:\n"
	"      - ./data:/data\n"
	"    stdin_open: true\n"
	"    tty: true\n"
	"    restart: unless-stopped\n";

/*
 * Build an mc service from parts; a NULL part leaves the key out. The
 * environment and ports parts are flow-style YAML.
 */
static char *
mc_yaml(const char *image, const char *container_name, const char *environment,
    const char *ports)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	fputs("services:\n  mc:\n", f);
	if (image)
		fprintf(f, "    image: %s\n", image);
	if (container_name)
		fprintf(f, "    container_name: %s\n", container_name);
	if (environment)
		fprintf(f, "    environment: %s\n", environment);
	if (ports)
		fprintf(f, "    ports: %s\n", ports);
	fputs("    volumes: [\"./data:/data\"]\n", f);
	fclose(f);
	return out;
}

#define IMG "itzg/minecraft-server"
#define ENV "{VERSION: '1.20.4'}"
#define PORTS "['25565:25565', '25575:25575']"

/* ---- validation ---------------------------------------------------------- */

static const struct {
	const char *yaml;	/* NULL: use the parts */
	const char *image, *container_name, *environment, *ports;
	const char *error;	/* NULL: valid */
} validate_cases[] = {
	/* 1 */
	{ "version: '3.8'\n", NULL, NULL, NULL, NULL, "Could not find services in compose file" },
	{ "services: ~\n", NULL, NULL, NULL, NULL, "Could not find services in compose file" },
	/* 2 */
	{ "services: {}\n", NULL, NULL, NULL, NULL, "Could not find service mc in compose file" },
	{ "services:\n  web: {image: nginx}\n  MC: {image: x}\n", NULL, NULL, NULL, NULL,
	  "Could not find service mc in compose file" },
	/* 3 */
	{ NULL, IMG, NULL, ENV, PORTS, "Invalid container name in compose file" },
	{ NULL, IMG, "~", ENV, PORTS, "Invalid container name in compose file" },
	{ NULL, IMG, "123", ENV, PORTS, "Invalid container name in compose file" },
	{ NULL, IMG, "[mc-a]", ENV, PORTS, "Invalid container name in compose file" },
	/* 4 */
	{ NULL, IMG, "survival", ENV, PORTS, "Container name must start with 'mc-'" },
	{ NULL, IMG, "MC-survival", ENV, PORTS, "Container name must start with 'mc-'" },
	/* 5 */
	{ NULL, NULL, "mc-a", ENV, PORTS, "Service must use itzg/minecraft-server image" },
	{ NULL, "nginx:latest", "mc-a", ENV, PORTS,
	  "Service must use itzg/minecraft-server image" },
	{ NULL, "itzg/minecraft-bedrock-server", "mc-a", ENV, PORTS,
	  "Service must use itzg/minecraft-server image" },
	/* 6 */
	{ NULL, IMG, "mc-a", NULL, PORTS, "Invalid environment in compose file" },
	{ NULL, IMG, "mc-a", "~", PORTS, "Invalid environment in compose file" },
	{ NULL, IMG, "mc-a", "VERSION=1.20", PORTS, "Invalid environment in compose file" },
	/* 7 */
	{ NULL, IMG, "mc-a", "{}", PORTS, "Could not find VERSION in environment" },
	{ NULL, IMG, "mc-a", "{version: 1}", PORTS, "Could not find VERSION in environment" },
	{ NULL, IMG, "mc-a", "[TYPE=PAPER]", PORTS, "Could not find VERSION in environment" },
	/* 8 */
	{ NULL, IMG, "mc-a", ENV, NULL, "Could not find ports in compose file" },
	{ NULL, IMG, "mc-a", ENV, "~", "Could not find ports in compose file" },
	/* 9 */
	{ NULL, IMG, "mc-a", ENV, "[]", "Could not find game port (25565) in compose file" },
	{ NULL, IMG, "mc-a", ENV, "['25565:25566', '25575']",
	  "Could not find game port (25565) in compose file" },
	{ NULL, IMG, "mc-a", ENV, "['25565-25566:25565-25566', '25575']",
	  "Could not find game port (25565) in compose file" },
	/* 10 */
	{ NULL, IMG, "mc-a", ENV, "['25565']", "Could not find rcon port (25575) in compose file" },
	{ NULL, IMG, "mc-a", ENV, "['25575:25565']",
	  "Could not find rcon port (25575) in compose file" },
	/* 11: the model refuses null environment values, after the ten checks */
	{ NULL, IMG, "mc-a", "{VERSION: '1', X: ~}", PORTS,
	  "Environment variable 'X' must not be null" },
	{ NULL, IMG, "mc-a", "{VERSION: }", PORTS,
	  "Environment variable 'VERSION' must not be null" },
	{ NULL, IMG, "mc-a", "{VERSION: '1', X: ~}", "['25565']",
	  "Could not find rcon port (25575) in compose file" },
	/* several problems: the first check wins */
	{ NULL, NULL, NULL, NULL, NULL, "Invalid container name in compose file" },
	{ NULL, NULL, "bad", NULL, NULL, "Container name must start with 'mc-'" },
	{ NULL, "nginx", "mc-a", NULL, NULL, "Service must use itzg/minecraft-server image" },
	{ NULL, IMG, "mc-a", "{}", "[]", "Could not find VERSION in environment" },
	/* valid */
	{ NULL, IMG, "mc-a", ENV, PORTS, NULL },
	{ NULL, "ghcr.io/itzg/minecraft-server:java17", "mc-a", "[VERSION=1.20]", "[25565, 25575]",
	  NULL },
	{ NULL, IMG, "mc-a", ENV, "[{target: 25565}, {target: '25575', published: 1}]", NULL },
};

START_TEST(test_validate)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *yaml = NULL, *err = NULL;
	int r;

	yaml = validate_cases[_i].yaml ? strdup(validate_cases[_i].yaml) :
	    mc_yaml(validate_cases[_i].image, validate_cases[_i].container_name,
	    validate_cases[_i].environment, validate_cases[_i].ports);
	ck_assert_ptr_nonnull(yaml);
	ck_assert_int_eq(compose_parse(yaml, strlen(yaml), &c, &err), 0);
	r = compose_validate(c, NULL, &err);
	if (!validate_cases[_i].error) {
		ck_assert_msg(r == 0, "%s: %s", yaml, err);
		ck_assert_ptr_null(err);
		return;
	}
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(err && streq(err, validate_cases[_i].error), "%s: got '%s', want '%s'", yaml,
	    err, validate_cases[_i].error);
}
END_TEST

START_TEST(test_container_name_matches_server)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;

	ck_assert_int_eq(compose_load(survival_yaml, strlen(survival_yaml), "survival", &c, &err),
	    0);
	compose_free(TAKE_PTR(c));
	ck_assert_int_eq(compose_load(survival_yaml, strlen(survival_yaml), "creative", &c, &err),
	    -EINVAL);
	ck_assert_str_eq(err, "Container name 'mc-survival' does not match server 'creative'");
	free(TAKE_PTR(err));
	/* case matters: compose lower-cases project names, the caller normalises ids */
	ck_assert_int_eq(compose_load(survival_yaml, strlen(survival_yaml), "Survival", &c, &err),
	    -EINVAL);
	ck_assert_ptr_null(c);
}
END_TEST

/* ---- normalisation errors ------------------------------------------------ */

static const struct {
	const char *yaml;
	int code;
	const char *error;	/* exact, or a prefix ending in '*' */
} parse_error_cases[] = {
	{ "services: [\n", -EBADMSG,
	  "did not find expected node content at line 2, column 1 (while parsing a flow node at "
	  "line 2, column 1)" },
	{ "a: 1\n---\nb: 2\n", -EBADMSG,
	  "expected a single document in the stream, but found another document at line 2, "
	  "column 1" },
	{ "services:\n  mc:\n\timage: x\n", -EBADMSG,
	  "found character that cannot start any token*" },
	{ "", -EINVAL, "Compose file must be a mapping, not null" },
	{ "- a\n", -EINVAL, "Compose file must be a mapping, not sequence" },
	{ "services: [mc]\n", -EINVAL, "Invalid services in compose file at line 1" },
	{ "services:\n  mc: ~\n", -EINVAL, "Invalid service 'mc' in compose file" },
	{ "services:\n  1: {}\n", -EINVAL, "Invalid service name in compose file: 1" },
	{ "volumes: [a]\nservices: {}\n", -EINVAL,
	  "Invalid top-level volumes in compose file at line 1" },
	/* every service is normalised, not only mc */
	{ "services:\n  web:\n    ports: ['8080:80:90']\n", -EINVAL,
	  "Invalid port format: 8080:80:90" },
	{ "services:\n  web:\n    ports: '80:80'\n", -EINVAL,
	  "Invalid ports in compose file at line 3" },
	{ "services:\n  web:\n    ports: [~]\n", -EINVAL,
	  "Invalid port definition in compose file at line 3, column 13" },
	{ "services:\n  web:\n    ports: [{target: 80, host_ip: 5}]\n", -EINVAL,
	  "Invalid port definition in compose file at line 3, column 13" },
	{ "services:\n  web:\n    ports: [{target: 80, published: 80.5}]\n", -EINVAL,
	  "Invalid port definition in compose file at line 3, column 13" },
	{ "services:\n  web:\n    ports: [-5]\n", -EINVAL, "Invalid port format: -5" },
	{ "services:\n  web:\n    ports: [.inf]\n", -EINVAL, "Invalid port format: inf" },
	{ "services:\n  web:\n    environment: [FOO=1, BAR]\n", -EINVAL,
	  "Invalid environment entry 'BAR' in compose file (expected KEY=VALUE)" },
	{ "services:\n  web:\n    environment: [FOO=1, 5]\n", -EINVAL,
	  "Invalid environment entry '5' in compose file (expected KEY=VALUE)" },
	{ "services:\n  web:\n    environment: {true: 1}\n", -EINVAL,
	  "Invalid environment variable name in compose file: True" },
	{ "services:\n  web:\n    environment: {A: [1]}\n", -EINVAL,
	  "Invalid value for environment variable 'A' in compose file" },
	{ "services:\n  web:\n    environment: {A: 2024-01-01}\n", -EINVAL,
	  "Invalid value for environment variable 'A' in compose file" },
	{ "services:\n  web:\n    volumes: [data]\n", -EINVAL, "Invalid volume format: data" },
	{ "services:\n  web:\n    volumes: ['a:b:c:d']\n", -EINVAL,
	  "Invalid volume format: a:b:c:d" },
	{ "services:\n  web:\n    volumes: [':/data']\n", -EINVAL,
	  "Invalid volume format: :/data" },
	{ "services:\n  web:\n    volumes: [{source: x}]\n", -EINVAL,
	  "Invalid volume definition in compose file at line 3, column 15" },
	{ "services:\n  web:\n    volumes: a:b\n", -EINVAL,
	  "Invalid volumes in compose file at line 3" },
};

START_TEST(test_parse_errors)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;
	const char *want = parse_error_cases[_i].error;
	size_t wl = strlen(want);

	const char *yaml = parse_error_cases[_i].yaml;

	ck_assert_int_eq(compose_parse(yaml, strlen(yaml), &c, &err), parse_error_cases[_i].code);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(err);
	if (want[wl - 1] == '*')
		ck_assert_msg(strncmp(err, want, wl - 1) == 0, "got '%s'", err);
	else
		ck_assert_str_eq(err, want);
}
END_TEST

/* ---- ports --------------------------------------------------------------- */

static const struct {
	const char *item;	/* one ports item, flow YAML */
	const char *host_ip, *published, *target, *protocol;	/* NULL: absent */
	bool invalid;
} port_cases[] = {
	/* short syntax strings */
	{ "'25565:25565'", NULL, "25565", "25565", NULL, false },
	{ "'25566:25565/tcp'", NULL, "25566", "25565", "tcp", false },
	{ "'127.0.0.1:25566:25565'", "127.0.0.1", "25566", "25565", NULL, false },
	{ "'0.0.0.0:1:25565/udp'", "0.0.0.0", "1", "25565", "udp", false },
	{ "'999.999.999.999:1:2'", "999.999.999.999", "1", "2", NULL, false },	/* \d{1,3} */
	{ "'8000-8010:8000-8010'", NULL, "8000-8010", "8000-8010", NULL, false },
	{ "'25565'", NULL, NULL, "25565", NULL, false },
	{ "'25565/udp'", NULL, NULL, "25565", "udp", false },
	{ "'1000-1001'", NULL, NULL, "1000-1001", NULL, false },
	{ "'0025565:25565'", NULL, "0025565", "25565", NULL, false },
	{ "\"25565:25565\\n\"", NULL, "25565", "25565", NULL, false },	/* Python's $ */
	{ "25565:25565", NULL, "25565", "25565", NULL, false },		/* unquoted: a str */
	{ "'1.2.3.4:25565'", NULL, NULL, NULL, NULL, true },
	{ "'::1:25565:25565'", NULL, NULL, NULL, NULL, true },		/* no IPv6 */
	{ "'[::1]:25565:25565'", NULL, NULL, NULL, NULL, true },
	{ "'1.2.3:4:5'", NULL, NULL, NULL, NULL, true },
	{ "'25565:25565/tcp/udp'", NULL, NULL, NULL, NULL, true },
	{ "'25565:25565/'", NULL, NULL, NULL, NULL, true },
	{ "'a:25565'", NULL, NULL, NULL, NULL, true },
	{ "'25565-:25565'", NULL, NULL, NULL, NULL, true },
	{ "' 25565'", NULL, NULL, NULL, NULL, true },
	{ "''", NULL, NULL, NULL, NULL, true },
	{ "'25565:25565 '", NULL, NULL, NULL, NULL, true },
	/* numbers: float() then int(), container-only */
	{ "25565", NULL, NULL, "25565", NULL, false },
	{ "25565.9", NULL, NULL, "25565", NULL, false },
	{ "2222:22", NULL, NULL, "133342", NULL, false },		/* base 60 int */
	{ "0x63DD", NULL, NULL, "25565", NULL, false },
	{ "true", NULL, NULL, "1", NULL, false },
	{ "-1", NULL, NULL, NULL, NULL, true },
	{ ".nan", NULL, NULL, NULL, NULL, true },
	/* long syntax */
	{ "{target: 25565, published: 30000}", NULL, "30000", "25565", NULL, false },
	{ "{target: '25565', published: '30000-30001', protocol: tcp, host_ip: 10.0.0.1}",
	  "10.0.0.1", "30000-30001", "25565", "tcp", false },
	{ "{target: 25565.0, published: 30000.0}", NULL, "30000", "25565", NULL, false },
	{ "{target: 25565, published: ~, mode: host}", NULL, NULL, "25565", NULL, false },
	{ "{published: 1}", NULL, "1", NULL, NULL, false },
	{ "{target: 25565, published: [1]}", NULL, NULL, NULL, NULL, true },
	{ "{target: 25565, protocol: 6}", NULL, NULL, NULL, NULL, true },
	{ "[25565]", NULL, NULL, NULL, NULL, true },
	{ "~", NULL, NULL, NULL, NULL, true },
};

static void
assert_opt_str(const char *got, const char *want, const char *what, const char *item)
{
	if (!want)
		ck_assert_msg(!got, "%s: %s is '%s', want absent", item, what, got);
	else
		ck_assert_msg(got && streq(got, want), "%s: %s is '%s', want '%s'", item, what,
		    got ? got : "(absent)", want);
}

START_TEST(test_ports)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *yaml = NULL, *err = NULL;
	const struct compose_port *p;
	int r;

	ck_assert_int_ge(asprintf(&yaml, "services:\n  web:\n    ports: [%s]\n",
	    port_cases[_i].item), 0);
	r = compose_parse(yaml, strlen(yaml), &c, &err);
	if (port_cases[_i].invalid) {
		ck_assert_msg(r == -EINVAL, "%s accepted", port_cases[_i].item);
		ck_assert_msg(startswith(err, "Invalid port"), "%s", err);
		return;
	}
	ck_assert_msg(r == 0, "%s: %s", port_cases[_i].item, err);
	ck_assert_int_eq(c->services[0].n_ports, 1);
	p = &c->services[0].ports[0];
	assert_opt_str(p->host_ip, port_cases[_i].host_ip, "host_ip", port_cases[_i].item);
	assert_opt_str(p->published, port_cases[_i].published, "published", port_cases[_i].item);
	assert_opt_str(p->target, port_cases[_i].target, "target", port_cases[_i].item);
	assert_opt_str(p->protocol, port_cases[_i].protocol, "protocol", port_cases[_i].item);
	ck_assert_int_eq(p->line, 3);
}
END_TEST

START_TEST(test_invalid_port_message)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;
	static const char y[] = "services:\n  mc:\n    ports: ['25565:25565', '1.2.3.4:25565']\n";

	ck_assert_int_eq(compose_parse(y, strlen(y), &c, &err), -EINVAL);
	ck_assert_str_eq(err, "Invalid port format: 1.2.3.4:25565");
}
END_TEST

/* ---- game / RCON ports --------------------------------------------------- */

static const struct {
	const char *ports;
	int64_t game, rcon;
	const char *error;	/* game or rcon derivation error */
} derive_cases[] = {
	{ PORTS, 25565, 25575, NULL },
	{ "['30000:25565', '127.0.0.1:30010:25575']", 30000, 30010, NULL },
	{ "['25565', '25575']", 25565, 25575, NULL },			/* published absent */
	{ "[25565, 25575]", 25565, 25575, NULL },
	{ "[{target: 25565, published: 30000}, {target: 25575, published: '30010'}]", 30000, 30010,
	  NULL },
	{ "[{target: 25565, published: ' 3_0000 '}, {target: 25575}]", 30000, 25575, NULL },
	{ "[{target: 25565, published: '0025565'}, {target: 25575}]", 25565, 25575, NULL },
	/* the first port with the target wins */
	{ "['30000:25565', '30001:25565', '25575']", 30000, 25575, NULL },
	/* published must be an integer */
	{ "['30000-30001:25565', '25575']", 0, 0,
	  "invalid literal for int() with base 10: '30000-30001'" },
	{ "[{target: 25565, published: 'abc'}, '25575']", 0, 0,
	  "invalid literal for int() with base 10: 'abc'" },
	{ "['25565', {target: 25575, published: '1__0'}]", 0, 0,
	  "invalid literal for int() with base 10: '1__0'" },
	{ "['25565', {target: 25575, published: '99999999999999999999'}]", 0, 0,
	  "invalid literal for int() with base 10: '99999999999999999999'" },
};

START_TEST(test_derived_ports)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *yaml = mc_yaml(IMG, "mc-a", ENV, derive_cases[_i].ports), *err = NULL;
	int64_t game = -1, rcon = -1;
	int r;

	ck_assert_int_eq(compose_load(yaml, strlen(yaml), "a", &c, &err), 0);
	r = compose_game_port(c, &game, &err);
	if (r == 0)
		r = compose_rcon_port(c, &rcon, &err);
	if (derive_cases[_i].error) {
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_str_eq(err, derive_cases[_i].error);
		return;
	}
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_int_eq(game, derive_cases[_i].game);
	ck_assert_int_eq(rcon, derive_cases[_i].rcon);
}
END_TEST

/* ---- environment --------------------------------------------------------- */

START_TEST(test_environment_forms)
{
	_cleanup_(compose_freep) struct compose *m = NULL, *l = NULL;
	static const char map[] =
	    "services:\n  mc:\n    environment:\n      VERSION: 1.20\n      N: 1\n      B: yes\n"
	    "      S: 'yes'\n      E: ''\n      Z: ~\n      N: 2\n";
	static const char list[] =
	    "services:\n  mc:\n    environment:\n      - VERSION=1.20\n      - N=1\n"
	    "      - B=yes\n      - EQ=a=b\n      - E=\n      - =x\n      - N=2\n";
	const struct compose_service *s;
	const struct compose_env *e;

	ck_assert_int_eq(compose_parse(map, strlen(map), &m, NULL), 0);
	s = compose_mc(m);
	ck_assert_int_eq(s->env_state, COMPOSE_ENV_PRESENT);
	ck_assert_int_eq(s->n_env, 6);		/* N once, in its first position */
	ck_assert_str_eq(s->env[1].key, "N");
	e = compose_env_get(s, "VERSION");
	ck_assert_int_eq(e->kind, COMPOSE_ENV_FLOAT);
	ck_assert_str_eq(e->value, "1.2");
	ck_assert_str_eq(e->raw, "1.20");
	e = compose_env_get(s, "N");
	ck_assert_str_eq(e->value, "2.0");	/* ints are floats in the model */
	ck_assert(e->number == 2.0);
	e = compose_env_get(s, "B");
	ck_assert_int_eq(e->kind, COMPOSE_ENV_BOOL);
	ck_assert(e->boolean);
	ck_assert_str_eq(e->value, "True");
	ck_assert_str_eq(e->raw, "yes");
	ck_assert_str_eq(compose_env_get(s, "S")->value, "yes");
	ck_assert_str_eq(compose_env_get(s, "E")->value, "");
	ck_assert_int_eq(compose_env_get(s, "Z")->kind, COMPOSE_ENV_NULL);
	ck_assert_ptr_null(compose_env_get(s, "version"));

	/* the list form keeps every value a string, split at the first '=' */
	ck_assert_int_eq(compose_parse(list, strlen(list), &l, NULL), 0);
	s = compose_mc(l);
	ck_assert_int_eq(s->n_env, 6);
	ck_assert_str_eq(compose_env_get(s, "VERSION")->value, "1.20");
	ck_assert_int_eq(compose_env_get(s, "VERSION")->kind, COMPOSE_ENV_STR);
	ck_assert_str_eq(compose_env_get(s, "N")->value, "2");
	ck_assert_str_eq(compose_env_get(s, "B")->value, "yes");
	ck_assert_str_eq(compose_env_get(s, "EQ")->value, "a=b");
	ck_assert_str_eq(compose_env_get(s, "E")->value, "");
	ck_assert_str_eq(compose_env_get(s, "")->value, "x");
}
END_TEST

START_TEST(test_environment_long_list)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *text = NULL;
	const struct compose_service *s;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	/* 60000 items over 20000 keys: duplicates are resolved in linear time */
	ck_assert_ptr_nonnull(f);
	fputs("services: {mc: {environment: [", f);
	for (int i = 0; i < 60000; i++)
		fprintf(f, "%sK%d=%d", i ? "," : "", i % 20000, i);
	fputs("]}}\n", f);
	fclose(f);
	ck_assert_int_eq(compose_parse(text, len, &c, NULL), 0);
	s = compose_mc(c);
	ck_assert_int_eq(s->n_env, 20000);
	ck_assert_str_eq(s->env[0].key, "K0");
	ck_assert_str_eq(s->env[0].value, "40000");
	ck_assert_str_eq(compose_env_get(s, "K19999")->value, "59999");
}
END_TEST

/* ---- derived values ------------------------------------------------------ */

static const struct {
	const char *environment;
	const char *image;
	const char *game_version;
	enum compose_server_type type;
	int64_t max_memory, java;
	const char *error;
} info_cases[] = {
	/* gameVersion: str() of the model value (ints and floats are floats) */
	{ "{VERSION: 1.20}", IMG, "1.2", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: '1.20'}", IMG, "1.20", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: 1}", IMG, "1.0", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: 1.21.4}", IMG, "1.21.4", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: LATEST}", IMG, "LATEST", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: yes}", IMG, "True", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: false}", IMG, "False", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: 1.0e+16}", IMG, "1e+16", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: 1e3}", IMG, "1e3", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: 0x10}", IMG, "16.0", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: .inf}", IMG, "inf", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "[VERSION=1.20]", IMG, "1.20", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	/* serverType: the 8 values, case-sensitive; absent → VANILLA */
	{ "{VERSION: '1', TYPE: PAPER}", IMG, "1", COMPOSE_SERVER_PAPER, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: FORGE}", IMG, "1", COMPOSE_SERVER_FORGE, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: NEOFORGE}", IMG, "1", COMPOSE_SERVER_NEOFORGE, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: FABRIC}", IMG, "1", COMPOSE_SERVER_FABRIC, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: SPIGOT}", IMG, "1", COMPOSE_SERVER_SPIGOT, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: BUKKIT}", IMG, "1", COMPOSE_SERVER_BUKKIT, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: CUSTOM}", IMG, "1", COMPOSE_SERVER_CUSTOM, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: VANILLA}", IMG, "1", COMPOSE_SERVER_VANILLA, 0, 0, NULL },
	{ "{VERSION: '1', TYPE: paper}", IMG, NULL, 0, 0, 0, "'paper' is not a valid ServerType" },
	{ "{VERSION: '1', TYPE: PURPUR}", IMG, NULL, 0, 0, 0,
	  "'PURPUR' is not a valid ServerType" },
	{ "{VERSION: '1', TYPE: 1}", IMG, NULL, 0, 0, 0, "'1.0' is not a valid ServerType" },
	{ "{VERSION: '1', TYPE: ''}", IMG, NULL, 0, 0, 0, "'' is not a valid ServerType" },
	/* maxMemoryBytes: first "digits + unit"; none → MiB; no digits → 0 */
	{ "{VERSION: '1', MAX_MEMORY: 500M}", IMG, "1", 0, 524288000, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 2G}", IMG, "1", 0, 2147483648LL, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 2g}", IMG, "1", 0, 2147483648LL, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 1024K}", IMG, "1", 0, 1048576, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 3}", IMG, "1", 0, 3145728, 0, NULL },	/* "3.0" */
	{ "{VERSION: '1', MAX_MEMORY: '3'}", IMG, "1", 0, 3145728, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: abc}", IMG, "1", 0, 0, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 1.5G}", IMG, "1", 0, 1048576, 0, NULL },	/* "1", '.' */
	{ "{VERSION: '1', MAX_MEMORY: x12mb}", IMG, "1", 0, 12582912, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: true}", IMG, "1", 0, 0, 0, NULL },
	{ "{VERSION: '1', MEMORY: 4G, INIT_MEMORY: 1G}", IMG, "1", 0, 0, 0, NULL },
	{ "{VERSION: '1', MAX_MEMORY: 99999999999999999999G}", IMG, NULL, 0, 0, 0,
	  "MAX_MEMORY is out of range" },
	/* javaVersion */
	{ ENV, "itzg/minecraft-server:java21", "1.20.4", 0, 0, 21, NULL },
	{ ENV, "itzg/minecraft-server:java21-alpine", "1.20.4", 0, 0, 21, NULL },
	{ ENV, "itzg/minecraft-server:java8-graalvm", "1.20.4", 0, 0, 8, NULL },
	{ ENV, "ghcr.io/itzg/minecraft-server:java17", "1.20.4", 0, 0, 17, NULL },
	{ ENV, "itzg/minecraft-server:latest", "1.20.4", 0, 0, 0, NULL },
	{ ENV, "itzg/minecraft-server", "1.20.4", 0, 0, 0, NULL },
	{ ENV, "'itzg/minecraft-server:javaX itzg/minecraft-server:java11'", "1.20.4", 0, 0, 11,
	  NULL },
};

START_TEST(test_info_values)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *yaml = mc_yaml(info_cases[_i].image, "mc-a",
	    info_cases[_i].environment, PORTS);
	struct compose_info info = { 0 };
	int r;

	ck_assert_int_eq(compose_parse(yaml, strlen(yaml), &c, &err), 0);
	r = compose_info_build(c, "a", &info, &err);
	if (info_cases[_i].error) {
		ck_assert_int_eq(r, -EINVAL);
		ck_assert_str_eq(err, info_cases[_i].error);
		return;
	}
	ck_assert_msg(r == 0, "%s: %s", yaml, err);
	ck_assert_str_eq(info.game_version, info_cases[_i].game_version);
	ck_assert_int_eq(info.server_type, info_cases[_i].type);
	ck_assert_int_eq(info.max_memory_bytes, info_cases[_i].max_memory);
	ck_assert_int_eq(info.java_version, info_cases[_i].java);
	compose_info_done(&info);
}
END_TEST

START_TEST(test_realistic_file)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_(json_object_putp) json_object *j = NULL;
	_cleanup_free_ char *err = NULL;
	struct compose_info info;
	const struct compose_service *mc;

	ck_assert_int_eq(compose_load(survival_yaml, strlen(survival_yaml), "survival", &c, &err),
	    0);
	ck_assert_int_eq(compose_info_build(c, "survival", &info, &err), 0);
	ck_assert_int_eq(compose_info_to_json(&info, &j), 0);
	ck_assert_str_eq(json_compact(j),
	    "{\"id\":\"survival\",\"name\":\"survival\",\"serverType\":\"PAPER\","
	    "\"gameVersion\":\"1.20.4\",\"gamePort\":25565,\"maxMemoryBytes\":4294967296,"
	    "\"rconPort\":25575,\"javaVersion\":21}");
	compose_info_done(&info);
	compose_info_done(&info);	/* idempotent */

	mc = compose_mc(c);
	ck_assert_str_eq(mc->image, "itzg/minecraft-server:java21");
	ck_assert_int_eq(mc->n_volumes, 1);
	ck_assert_str_eq(mc->volumes[0].type, "bind");
	ck_assert_str_eq(mc->volumes[0].source, "./data");
	ck_assert_str_eq(mc->volumes[0].target, "/data");
	ck_assert_ptr_null(mc->volumes[0].read_only);
	ck_assert_str_eq(compose_env_get(mc, "EULA")->value, "TRUE");

	ck_assert_str_eq(compose_rcon_password(c), "s3cret");
	ck_assert(compose_rcon_enabled(c));
	ck_assert(!compose_console_pipe_enabled(c));
	ck_assert_ptr_null(compose_rcon_host_ip(c));
}
END_TEST

START_TEST(test_info_json_defaults)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_(json_object_putp) json_object *j = NULL;
	_cleanup_free_ char *yaml = mc_yaml(IMG, "mc-lobby", "[VERSION=1.21]", "[25565, 25575]");
	struct compose_info info;

	ck_assert_int_eq(compose_parse(yaml, strlen(yaml), &c, NULL), 0);
	ck_assert_int_eq(compose_info_build(c, "lobby", &info, NULL), 0);
	ck_assert_int_eq(compose_info_to_json(&info, &j), 0);
	ck_assert_str_eq(json_compact(j),
	    "{\"id\":\"lobby\",\"name\":\"lobby\",\"serverType\":\"VANILLA\","
	    "\"gameVersion\":\"1.21\",\"gamePort\":25565,\"maxMemoryBytes\":0,"
	    "\"rconPort\":25575,\"javaVersion\":0}");
	compose_info_done(&info);
	ck_assert_str_eq(compose_server_type_to_string(COMPOSE_SERVER_NEOFORGE), "NEOFORGE");
	ck_assert_ptr_null(compose_server_type_to_string(COMPOSE_SERVER_TYPE_MAX));
}
END_TEST

START_TEST(test_info_validates)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *yaml = mc_yaml(IMG, "mc-a", "{VERSION: '1'}",
	    "['30000-30001:25565', '25575']");
	struct compose_info info = { 0 };

	ck_assert_int_eq(compose_parse(survival_yaml, strlen(survival_yaml), &c, NULL), 0);
	ck_assert_int_eq(compose_info_build(c, "other", &info, &err), -EINVAL);
	ck_assert_str_eq(err, "Container name 'mc-survival' does not match server 'other'");
	free(TAKE_PTR(err));
	compose_free(TAKE_PTR(c));

	/* a range as the game port: the info fails (§11.2 leaves the server out) */
	ck_assert_int_eq(compose_parse(yaml, strlen(yaml), &c, NULL), 0);
	ck_assert_int_eq(compose_info_build(c, "a", &info, &err), -EINVAL);
	ck_assert_str_eq(err, "invalid literal for int() with base 10: '30000-30001'");
	ck_assert_ptr_null(info.id);
}
END_TEST

/* ---- creation helpers ---------------------------------------------------- */

START_TEST(test_port_conflicts)
{
	_cleanup_free_ char *a = mc_yaml(IMG, "mc-a", ENV, "['25565:25565', '25575:25575']");
	_cleanup_free_ char *b = mc_yaml(IMG, "mc-b", ENV, "['30000:25565', '25575:25575']");
	_cleanup_free_ char *cc = mc_yaml(IMG, "mc-c", ENV, "['30000:25565', '30010:25575']");
	_cleanup_free_ char *bad = mc_yaml(IMG, "mc-bad", ENV, "['30000-1:25565', '25575']");
	_cleanup_free_ char *swapped = mc_yaml(IMG, "mc-s", ENV, "['25575:25565', '25565:25575']");
	_cleanup_free_ char *detail = NULL;
	const struct compose_source servers[] = {
		{ "a", a, strlen(a) },
		{ "b", b, strlen(b) },
		{ "broken", "services: [", 11 },		/* unparsable: skipped */
		{ "nomc", "services: {web: {}}", 19 },		/* invalid: skipped */
		{ "bad", bad, strlen(bad) },			/* no int game port: skipped */
		{ "c", cc, strlen(cc) },
		{ "s", swapped, strlen(swapped) },		/* game↔RCON is no clash */
	};
	const size_t n = ELEMENTSOF(servers);

	ck_assert_int_eq(compose_port_conflicts(25565, 25575, servers, n, &detail), 3);
	ck_assert_str_eq(detail,
	    "Game port 25565 is already used by server 'a'; "
	    "RCON port 25575 is already used by server 'a'; "
	    "RCON port 25575 is already used by server 'b'");
	free(TAKE_PTR(detail));

	ck_assert_int_eq(compose_port_conflicts(30000, 30010, servers, n, &detail), 3);
	ck_assert_str_eq(detail,
	    "Game port 30000 is already used by server 'b'; "
	    "Game port 30000 is already used by server 'c'; "
	    "RCON port 30010 is already used by server 'c'");
	free(TAKE_PTR(detail));

	ck_assert_int_eq(compose_port_conflicts(40000, 40010, servers, n, &detail), 0);
	ck_assert_ptr_null(detail);
	ck_assert_int_eq(compose_port_conflicts(25565, 25575, NULL, 0, &detail), 0);
	ck_assert_ptr_null(detail);
}
END_TEST

START_TEST(test_runtime_settings)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_(compose_freep) struct compose *d = NULL;
	_cleanup_free_ struct compose_host_port *hp = NULL;
	static const char y[] =
	    "services:\n"
	    "  mc:\n"
	    "    image: itzg/minecraft-server\n"
	    "    container_name: mc-a\n"
	    "    environment:\n"
	    "      VERSION: '1.21'\n"
	    "      RCON_PASSWORD: 123456\n"
	    "      ENABLE_RCON: 'yes'\n"
	    "      CREATE_CONSOLE_IN_PIPE: true\n"
	    "    ports:\n"
	    "      - 0.0.0.0:30000:25565\n"
	    "      - 127.0.0.1:30010:25575\n"
	    "      - 8100-8102:8100-8102/udp\n"
	    "      - 9000\n"
	    "      - {target: 80, published: '70000'}\n"
	    "  map:\n"
	    "    ports: ['8123:8123']\n";
	static const char z[] =
	    "services:\n  mc:\n"
	    "    environment: {ENABLE_RCON: 'On', CREATE_CONSOLE_IN_PIPE: 'yes'}\n";
	size_t n = 0;

	ck_assert_int_eq(compose_load(y, strlen(y), "a", &c, NULL), 0);
	/* what the container gets: the text, not the model's float "123456.0" */
	ck_assert_str_eq(compose_rcon_password(c), "123456");
	ck_assert_str_eq(compose_env_get(compose_mc(c), "RCON_PASSWORD")->value, "123456.0");
	/* the image's isTrue() takes "true"/"on" only: 'yes' disables RCON */
	ck_assert(!compose_rcon_enabled(c));
	ck_assert(compose_console_pipe_enabled(c));
	ck_assert_str_eq(compose_rcon_host_ip(c), "127.0.0.1");

	ck_assert_int_eq(compose_published_ports(c, &hp, &n), 0);
	ck_assert_int_eq(n, 4);		/* 9000 publishes nothing, 70000 is not a port */
	ck_assert_str_eq(hp[0].service, "mc");
	ck_assert_str_eq(hp[0].host_ip, "0.0.0.0");
	ck_assert_int_eq(hp[0].first, 30000);
	ck_assert_int_eq(hp[0].last, 30000);
	ck_assert_str_eq(hp[0].protocol, "tcp");
	ck_assert_str_eq(hp[1].host_ip, "127.0.0.1");
	ck_assert_int_eq(hp[1].first, 30010);
	ck_assert_ptr_null(hp[2].host_ip);
	ck_assert_int_eq(hp[2].first, 8100);
	ck_assert_int_eq(hp[2].last, 8102);
	ck_assert_str_eq(hp[2].protocol, "udp");
	ck_assert_str_eq(hp[3].service, "map");
	ck_assert_int_eq(hp[3].first, 8123);

	ck_assert_int_eq(compose_parse(z, strlen(z), &d, NULL), 0);
	ck_assert(compose_rcon_enabled(d));
	ck_assert(!compose_console_pipe_enabled(d));
	ck_assert_ptr_null(compose_rcon_password(d));
	ck_assert_ptr_null(compose_rcon_host_ip(d));
}
END_TEST

START_TEST(test_volumes)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	static const char y[] =
	    "services:\n  web:\n    volumes:\n"
	    "      - ./a:/a:ro\n"
	    "      - ./b:/b:rw\n"
	    "      - {type: volume, source: data, target: /data, read_only: true}\n"
	    "      - {type: tmpfs, target: /tmp, read_only: 0}\n"
	    "      - {type: bind, source: ./c, target: /c}\n";
	const struct compose_service *s;

	ck_assert_int_eq(compose_parse(y, strlen(y), &c, NULL), 0);
	s = &c->services[0];
	ck_assert_int_eq(s->n_volumes, 5);
	ck_assert_str_eq(s->volumes[0].read_only, "True");
	ck_assert_str_eq(s->volumes[1].read_only, "False");
	ck_assert_str_eq(s->volumes[2].type, "volume");
	ck_assert_str_eq(s->volumes[2].read_only, "True");
	ck_assert_ptr_null(s->volumes[3].source);
	ck_assert_str_eq(s->volumes[3].read_only, "False");
	ck_assert_ptr_null(s->volumes[4].read_only);
	ck_assert_int_eq(s->volumes[4].line, 8);
}
END_TEST

START_TEST(test_anchors_and_merge)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	_cleanup_free_ char *err = NULL;
	struct compose_info info;
	static const char y[] =
	    "x-env: &env\n"
	    "  VERSION: '1.20.1'\n"
	    "  TYPE: FABRIC\n"
	    "x-base: &base\n"
	    "  image: itzg/minecraft-server:java17\n"
	    "  ports: &ports ['30000:25565', '30010:25575']\n"
	    "services:\n"
	    "  mc:\n"
	    "    <<: *base\n"
	    "    container_name: mc-modded\n"
	    "    environment:\n"
	    "      <<: *env\n"
	    "      TYPE: FORGE\n"
	    "      MAX_MEMORY: 6G\n"
	    "  mirror:\n"
	    "    ports: *ports\n";

	ck_assert_int_eq(compose_load(y, strlen(y), "modded", &c, &err), 0);
	ck_assert_int_eq(compose_info_build(c, "modded", &info, &err), 0);
	ck_assert_str_eq(info.game_version, "1.20.1");
	ck_assert_int_eq(info.server_type, COMPOSE_SERVER_FORGE);
	ck_assert_int_eq(info.game_port, 30000);
	ck_assert_int_eq(info.rcon_port, 30010);
	ck_assert_int_eq(info.max_memory_bytes, 6LL << 30);
	ck_assert_int_eq(info.java_version, 17);
	compose_info_done(&info);
}
END_TEST

static Suite *
compose_suite(void)
{
	Suite *s = suite_create("compose");
	TCase *tc;

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_validate, 0, (int)ELEMENTSOF(validate_cases));
	tcase_add_test(tc, test_container_name_matches_server);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalise");
	tcase_add_loop_test(tc, test_parse_errors, 0, (int)ELEMENTSOF(parse_error_cases));
	tcase_add_loop_test(tc, test_ports, 0, (int)ELEMENTSOF(port_cases));
	tcase_add_test(tc, test_invalid_port_message);
	tcase_add_test(tc, test_environment_forms);
	tcase_add_test(tc, test_environment_long_list);
	tcase_add_test(tc, test_volumes);
	tcase_add_test(tc, test_anchors_and_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("derived");
	tcase_add_loop_test(tc, test_derived_ports, 0, (int)ELEMENTSOF(derive_cases));
	tcase_add_loop_test(tc, test_info_values, 0, (int)ELEMENTSOF(info_cases));
	tcase_add_test(tc, test_realistic_file);
	tcase_add_test(tc, test_info_json_defaults);
	tcase_add_test(tc, test_info_validates);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_add_test(tc, test_port_conflicts);
	tcase_add_test(tc, test_runtime_settings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(compose_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
