/* SPDX-License-Identifier: MIT */
/*
 * The Minecraft compose model. The rules follow the reference's pydantic
 * models (ComposeFile, MCComposeFile) as API-core §11.3 describes them; see
 * compose.h for the decisions.
 */
#include "autoconf.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "compose/compose.h"
#include "config/yamltree.h"

#define GAME_TARGET "25565"
#define RCON_TARGET "25575"

static const char *const server_types[COMPOSE_SERVER_TYPE_MAX] = {
	[COMPOSE_SERVER_VANILLA] = "VANILLA",
	[COMPOSE_SERVER_PAPER] = "PAPER",
	[COMPOSE_SERVER_FORGE] = "FORGE",
	[COMPOSE_SERVER_NEOFORGE] = "NEOFORGE",
	[COMPOSE_SERVER_FABRIC] = "FABRIC",
	[COMPOSE_SERVER_SPIGOT] = "SPIGOT",
	[COMPOSE_SERVER_BUKKIT] = "BUKKIT",
	[COMPOSE_SERVER_CUSTOM] = "CUSTOM",
};

static int _printf_(3, 4)
fail(char **ret_error, int code, const char *fmt, ...)
{
	va_list ap;

	if (!ret_error)
		return code;
	va_start(ap, fmt);
	if (vasprintf(ret_error, fmt, ap) < 0)
		*ret_error = NULL;
	va_end(ap);
	return *ret_error ? code : -ENOMEM;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Python's "$": the end, or just before a final "\n". */
static bool
at_end(const char *p)
{
	return p[0] == '\0' || (p[0] == '\n' && p[1] == '\0');
}

static size_t
digit_run(const char *p)
{
	size_t n = 0;

	while (is_digit(p[n]))
		n++;
	return n;
}

static int
dup_text(const char *s, size_t n, char **ret)
{
	char *p = strndup(s, n);

	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/*
 * Python int(s): surrounding whitespace, one sign, decimal digits with
 * single underscores between them. -EINVAL, or -ERANGE beyond int64.
 */
static int
py_int64(const char *s, int64_t *ret)
{
	const char *p = s, *end = s + strlen(s);
	bool neg = false, any = false;
	uint64_t v = 0, lim;

	while (p < end && strchr(" \t\n\v\f\r", *p))
		p++;
	while (end > p && strchr(" \t\n\v\f\r", end[-1]))
		end--;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (*p == '_') {
			if (!any || p + 1 >= end || !is_digit(p[1]))
				return -EINVAL;
			continue;
		}
		if (!is_digit(*p))
			return -EINVAL;
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* ---- freeing ------------------------------------------------------------- */

static void
service_done(struct compose_service *s)
{
	free(s->name);
	free(s->container_name);
	free(s->image);
	for (size_t i = 0; i < s->n_env; i++) {
		free(s->env[i].key);
		free(s->env[i].value);
		free(s->env[i].raw);
	}
	free(s->env);
	for (size_t i = 0; i < s->n_ports; i++) {
		free(s->ports[i].host_ip);
		free(s->ports[i].published);
		free(s->ports[i].target);
		free(s->ports[i].protocol);
	}
	free(s->ports);
	for (size_t i = 0; i < s->n_volumes; i++) {
		free(s->volumes[i].type);
		free(s->volumes[i].source);
		free(s->volumes[i].target);
		free(s->volumes[i].read_only);
	}
	free(s->volumes);
}

struct compose *
compose_free(struct compose *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_services; i++)
		service_done(&c->services[i]);
	free(c->services);
	free(c);
	return NULL;
}

/* ---- ports --------------------------------------------------------------- */

/* "\d+(-\d+)?" at p; returns the end or NULL. */
static const char *
match_port_range(const char *p)
{
	size_t n = digit_run(p);

	if (n == 0)
		return NULL;
	p += n;
	if (p[0] == '-' && is_digit(p[1]))
		p += 1 + digit_run(p + 1);
	return p;
}

/* "(?:/(\w+))?$" at p: sets the protocol span; false when it does not match. */
static bool
match_protocol_tail(const char *p, const char **ret_proto, size_t *ret_len)
{
	size_t n = 0;

	*ret_proto = NULL;
	*ret_len = 0;
	if (at_end(p))
		return true;
	if (*p != '/')
		return false;
	p++;
	while (is_digit(p[n]) || (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	    p[n] == '_')
		n++;
	if (n == 0 || !at_end(p + n))
		return false;
	*ret_proto = p;
	*ret_len = n;
	return true;
}

/* "\d{1,3}(\.\d{1,3}){3}:" at p; returns the position of the ':' or NULL. */
static const char *
match_ipv4_prefix(const char *p)
{
	for (int i = 0; i < 4; i++) {
		size_t n = digit_run(p);

		if (n < 1 || n > 3)
			return NULL;
		p += n;
		if (*p != (i < 3 ? '.' : ':'))
			return NULL;
		if (i < 3)
			p++;
	}
	return p;
}

/* convert_str_port_to_obj(): the two short-syntax patterns. 0 or -EINVAL. */
static int
port_from_string(const char *s, struct compose_port *pt)
{
	const char *ip_end = match_ipv4_prefix(s), *p, *host, *host_end, *cont, *cont_end, *proto;
	size_t proto_len;
	int r;

	/* [<IPv4>:]<host>[-<host2>]:<container>[-<container2>][/<proto>] */
	for (int with_ip = ip_end ? 1 : 0; with_ip >= 0; with_ip--) {
		host = with_ip ? ip_end + 1 : s;
		host_end = match_port_range(host);
		if (!host_end || *host_end != ':')
			continue;
		cont = host_end + 1;
		cont_end = match_port_range(cont);
		if (!cont_end || !match_protocol_tail(cont_end, &proto, &proto_len))
			continue;
		if (with_ip && (r = dup_text(s, (size_t)(ip_end - s), &pt->host_ip)) < 0)
			return r;
		if ((r = dup_text(host, (size_t)(host_end - host), &pt->published)) < 0 ||
		    (r = dup_text(cont, (size_t)(cont_end - cont), &pt->target)) < 0 ||
		    (proto && (r = dup_text(proto, proto_len, &pt->protocol)) < 0))
			return r;
		return 0;
	}
	/* <container>[-<container2>][/<proto>] */
	p = match_port_range(s);
	if (!p || !match_protocol_tail(p, &proto, &proto_len))
		return -EINVAL;
	if ((r = dup_text(s, (size_t)(p - s), &pt->target)) < 0 ||
	    (proto && (r = dup_text(proto, proto_len, &pt->protocol)) < 0))
		return r;
	return 0;
}

/* pydantic float(v) then str(int(v)): 25565 → "25565", 25565.9 → "25565", true → "1". */
static int
number_port_string(const struct yt_node *n, char **ret)
{
	double v;
	int r;

	r = yt_to_double(n, &v);
	if (r < 0 || !isfinite(v))
		return -EINVAL;
	v = trunc(v);
	if (asprintf(ret, "%.0f", v == 0 ? 0.0 : v) < 0)
		return -ENOMEM;
	return 0;
}

/* A long-syntax str | None field. */
static int
opt_string(const struct yt_node *v, char **ret)
{
	if (!v || v->kind == YT_NULL)
		return 0;
	if (v->kind != YT_STR)
		return -EINVAL;
	return dup_text(v->text, v->len, ret);
}

/* A long-syntax published/target: str | int | None (integral floats and bools coerce). */
static int
opt_port_value(const struct yt_node *v, char **ret)
{
	if (!v || v->kind == YT_NULL)
		return 0;
	switch (v->kind) {
	case YT_STR:
		return dup_text(v->text, v->len, ret);
	case YT_INT:
		return dup_text(v->v.integer.decimal, strlen(v->v.integer.decimal), ret);
	case YT_BOOL:
		return dup_text(v->v.boolean ? "1" : "0", 1, ret);
	case YT_FLOAT:
		if (!isfinite(v->v.real) || v->v.real != trunc(v->v.real))
			return -EINVAL;
		return number_port_string(v, ret);
	case YT_NULL:
	case YT_TIMESTAMP:
	case YT_SEQUENCE:
	case YT_MAPPING:
	case YT_KIND_MAX:
	default:
		return -EINVAL;
	}
}

static int
normalise_port(const struct yt_node *item, struct compose_port *pt, char **ret_error)
{
	_cleanup_free_ char *s = NULL;
	int r;

	pt->line = item->mark.line;
	if (item->kind == YT_MAPPING) {
		if ((r = opt_string(yt_map_get(item, "host_ip"), &pt->host_ip)) < 0 ||
		    (r = opt_port_value(yt_map_get(item, "published"), &pt->published)) < 0 ||
		    (r = opt_port_value(yt_map_get(item, "target"), &pt->target)) < 0 ||
		    (r = opt_string(yt_map_get(item, "protocol"), &pt->protocol)) < 0) {
			if (r == -ENOMEM)
				return r;
			return fail(ret_error, -EINVAL,
			    "Invalid port definition in compose file at line %zu, column %zu",
			    item->mark.line, item->mark.column);
		}
		return 0;
	}
	if (item->kind == YT_STR) {
		s = strdup(item->text);
		if (!s)
			return -ENOMEM;
	} else if (item->kind == YT_INT || item->kind == YT_FLOAT || item->kind == YT_BOOL) {
		r = number_port_string(item, &s);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			_cleanup_free_ char *v = NULL;

			(void)yt_str_form(item, &v);
			return fail(ret_error, -EINVAL, "Invalid port format: %s", v ? v : "?");
		}
	} else
		return fail(ret_error, -EINVAL,
		    "Invalid port definition in compose file at line %zu, column %zu",
		    item->mark.line, item->mark.column);
	r = port_from_string(s, pt);
	if (r == -EINVAL)
		return fail(ret_error, -EINVAL, "Invalid port format: %s", s);
	return r;
}

static int
normalise_ports(const struct yt_node *ports, struct compose_service *svc, char **ret_error)
{
	int r;

	if (!ports || ports->kind == YT_NULL)
		return 0;
	if (ports->kind != YT_SEQUENCE)
		return fail(ret_error, -EINVAL, "Invalid ports in compose file at line %zu",
		    ports->mark.line);
	svc->has_ports = true;
	svc->ports = calloc(yt_len(ports) ? yt_len(ports) : 1, sizeof(*svc->ports));
	if (!svc->ports)
		return -ENOMEM;
	for (size_t i = 0; i < yt_len(ports); i++) {
		r = normalise_port(yt_seq_at(ports, i), &svc->ports[svc->n_ports++], ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- environment --------------------------------------------------------- */

/*
 * Index of the list form's keys (the mapping form's keys are unique
 * already): open addressing over svc->env indexes, so that a long list
 * costs linear time.
 */
struct env_index {
	size_t *slot;		/* SIZE_MAX: empty */
	size_t mask;
};

static size_t
key_hash(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ULL;
	}
	return (size_t)h;
}

/*
 * Set one variable. With an index, a later duplicate replaces the value in
 * place (a dict keeps the first position); without one, keys are unique.
 */
static int
env_set(struct compose_service *svc, struct env_index *idx, const char *key, size_t key_len,
    struct compose_env *e)
{
	size_t *slot = NULL;

	if (idx) {
		size_t i = key_hash(key, key_len) & idx->mask;

		for (; idx->slot[i] != SIZE_MAX; i = (i + 1) & idx->mask) {
			struct compose_env *old = &svc->env[idx->slot[i]];

			if (strlen(old->key) == key_len && memcmp(old->key, key, key_len) == 0) {
				free(old->value);
				free(old->raw);
				e->key = old->key;
				*old = *e;
				return 0;
			}
		}
		slot = &idx->slot[i];
	}
	e->key = strndup(key, key_len);
	if (!e->key)
		return -ENOMEM;
	if (slot)
		*slot = svc->n_env;
	svc->env[svc->n_env++] = *e;
	return 0;
}

/* Mapping[str, str | float | bool | None]: ints become floats. */
static int
env_value_from_node(const struct yt_node *v, struct compose_env *e)
{
	char buf[64];
	int r;

	e->line = v->mark.line;
	switch (v->kind) {
	case YT_STR:
		e->kind = COMPOSE_ENV_STR;
		e->value = strdup(v->text);
		break;
	case YT_INT:
	case YT_FLOAT:
		r = yt_to_double(v, &e->number);
		if (r < 0)
			return -EINVAL;	/* float(int) overflows */
		e->kind = COMPOSE_ENV_FLOAT;
		r = yt_float_repr(buf, sizeof(buf), e->number);
		if (r < 0)
			return r;
		e->value = strdup(buf);
		break;
	case YT_BOOL:
		e->kind = COMPOSE_ENV_BOOL;
		e->boolean = v->v.boolean;
		e->value = strdup(v->v.boolean ? "True" : "False");
		break;
	case YT_NULL:
		e->kind = COMPOSE_ENV_NULL;
		e->value = strdup("None");
		break;
	case YT_TIMESTAMP:
	case YT_SEQUENCE:
	case YT_MAPPING:
	case YT_KIND_MAX:
	default:
		return -EINVAL;
	}
	if (!e->value)
		return -ENOMEM;
	e->raw = strdup(v->text);
	return e->raw ? 0 : -ENOMEM;
}

static void
env_clear(struct compose_env *e)
{
	free(e->value);
	free(e->raw);
	*e = (struct compose_env) { 0 };
}

static int
normalise_env(const struct yt_node *env, struct compose_service *svc, char **ret_error)
{
	_cleanup_free_ size_t *slots = NULL;
	struct env_index idx = { 0 };
	size_t n = yt_len(env);
	int r;

	if (!env || env->kind == YT_NULL) {
		svc->env_state = COMPOSE_ENV_ABSENT;
		return 0;
	}
	if (env->kind != YT_MAPPING && env->kind != YT_SEQUENCE) {
		svc->env_state = COMPOSE_ENV_INVALID;
		return 0;
	}
	svc->env_state = COMPOSE_ENV_PRESENT;
	svc->env = calloc(n ? n : 1, sizeof(*svc->env));
	if (!svc->env)
		return -ENOMEM;
	if (env->kind == YT_SEQUENCE) {
		size_t cap = 2;

		while (cap < n * 2)
			cap *= 2;
		slots = malloc(cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		memset(slots, 0xff, cap * sizeof(*slots));
		idx = (struct env_index) { slots, cap - 1 };
	}

	for (size_t i = 0; i < n; i++) {
		struct compose_env e = { 0 };

		if (env->kind == YT_MAPPING) {
			const struct yt_pair *p = yt_map_at(env, i);

			if (p->key->kind != YT_STR) {
				_cleanup_free_ char *k = NULL;

				(void)yt_str_form(p->key, &k);
				return fail(ret_error, -EINVAL,
				    "Invalid environment variable name in compose file: %s",
				    k ? k : "?");
			}
			r = env_value_from_node(p->value, &e);
			if (r == -EINVAL) {
				env_clear(&e);
				return fail(ret_error, -EINVAL,
				    "Invalid value for environment variable '%s' in compose file",
				    p->key->text);
			}
			if (r >= 0)
				r = env_set(svc, NULL, p->key->text, p->key->len, &e);
		} else {
			const struct yt_node *it = yt_seq_at(env, i);
			const char *eq = it->kind == YT_STR ? strchr(it->text, '=') : NULL;

			if (!eq) {
				_cleanup_free_ char *v = NULL;

				(void)yt_str_form(it, &v);
				return fail(ret_error, -EINVAL, "Invalid environment entry '%s' in "
				    "compose file (expected KEY=VALUE)", v ? v : "?");
			}
			e.kind = COMPOSE_ENV_STR;
			e.line = it->mark.line;
			e.value = strdup(eq + 1);
			e.raw = strdup(eq + 1);
			r = e.value && e.raw ?
			    env_set(svc, &idx, it->text, (size_t)(eq - it->text), &e) : -ENOMEM;
		}
		if (r < 0) {
			env_clear(&e);
			return r;
		}
	}
	return 0;
}

/* ---- volumes ------------------------------------------------------------- */

static int
normalise_volume(const struct yt_node *item, struct compose_volume *vol, char **ret_error)
{
	const struct yt_node *ro;
	int r;

	vol->line = item->mark.line;
	if (item->kind == YT_STR) {
		/* ^([^:]+):([^:]+)(?::([^:]+))?$ */
		const char *s = item->text, *c1 = strchr(s, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		const char *tend = c2 ? c2 : s + item->len;

		if (!c1 || c1 == s || tend == c1 + 1 || (c2 && (!c2[1] || strchr(c2 + 1, ':'))))
			return fail(ret_error, -EINVAL, "Invalid volume format: %s", s);
		if ((r = dup_text("bind", 4, &vol->type)) < 0 ||
		    (r = dup_text(s, (size_t)(c1 - s), &vol->source)) < 0 ||
		    (r = dup_text(c1 + 1, (size_t)(tend - c1 - 1), &vol->target)) < 0)
			return r;
		if (c2) {
			/* read_only = (mode == "ro") */
			vol->read_only = strdup(streq(c2 + 1, "ro") ? "True" : "False");
			if (!vol->read_only)
				return -ENOMEM;
		}
		return 0;
	}
	if (item->kind != YT_MAPPING)
		goto invalid;
	/* Volumes: type: str (required), source/target: str | None, read_only: bool | str | None */
	if (!yt_map_get(item, "type") || yt_map_get(item, "type")->kind != YT_STR)
		goto invalid;
	if ((r = opt_string(yt_map_get(item, "type"), &vol->type)) < 0 ||
	    (r = opt_string(yt_map_get(item, "source"), &vol->source)) < 0 ||
	    (r = opt_string(yt_map_get(item, "target"), &vol->target)) < 0) {
		if (r == -ENOMEM)
			return r;
		goto invalid;
	}
	ro = yt_map_get(item, "read_only");
	if (ro && ro->kind != YT_NULL) {
		/* bool | str | None; pydantic's lax bool takes the ints 0 and 1 */
		if (ro->kind == YT_INT && !ro->v.integer.big &&
		    (ro->v.integer.value == 0 || ro->v.integer.value == 1)) {
			vol->read_only = strdup(ro->v.integer.value ? "True" : "False");
			r = vol->read_only ? 0 : -ENOMEM;
		} else if (ro->kind == YT_BOOL || ro->kind == YT_STR)
			r = yt_str_form(ro, &vol->read_only);
		else
			goto invalid;
		if (r < 0)
			return r;
	}
	return 0;
invalid:
	return fail(ret_error, -EINVAL,
	    "Invalid volume definition in compose file at line %zu, column %zu",
	    item->mark.line, item->mark.column);
}

static int
normalise_volumes(const struct yt_node *vols, struct compose_service *svc, char **ret_error)
{
	int r;

	if (!vols || vols->kind == YT_NULL)
		return 0;
	if (vols->kind != YT_SEQUENCE)
		return fail(ret_error, -EINVAL, "Invalid volumes in compose file at line %zu",
		    vols->mark.line);
	svc->volumes = calloc(yt_len(vols) ? yt_len(vols) : 1, sizeof(*svc->volumes));
	if (!svc->volumes)
		return -ENOMEM;
	for (size_t i = 0; i < yt_len(vols); i++) {
		r = normalise_volume(yt_seq_at(vols, i), &svc->volumes[svc->n_volumes++],
		    ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- services ------------------------------------------------------------ */

static int
normalise_service(const struct yt_pair *p, struct compose_service *svc, char **ret_error)
{
	const struct yt_node *v;
	int r;

	if (p->key->kind != YT_STR) {
		_cleanup_free_ char *k = NULL;

		(void)yt_str_form(p->key, &k);
		return fail(ret_error, -EINVAL, "Invalid service name in compose file: %s",
		    k ? k : "?");
	}
	svc->name = strdup(p->key->text);
	if (!svc->name)
		return -ENOMEM;
	svc->line = p->key->mark.line;
	if (p->value->kind != YT_MAPPING)
		return fail(ret_error, -EINVAL, "Invalid service '%s' in compose file", svc->name);

	v = yt_map_get(p->value, "container_name");
	if (v && v->kind == YT_STR && !(svc->container_name = strdup(v->text)))
		return -ENOMEM;
	v = yt_map_get(p->value, "image");
	if (v && v->kind == YT_STR && !(svc->image = strdup(v->text)))
		return -ENOMEM;

	r = normalise_ports(yt_map_get(p->value, "ports"), svc, ret_error);
	if (r < 0)
		return r;
	r = normalise_env(yt_map_get(p->value, "environment"), svc, ret_error);
	if (r < 0)
		return r;
	return normalise_volumes(yt_map_get(p->value, "volumes"), svc, ret_error);
}

int
compose_parse(const char *text, size_t len, struct compose **ret, char **ret_error)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_(compose_freep) struct compose *c = NULL;
	const struct yt_node *root, *services, *vols;
	int r;

	if (ret_error)
		*ret_error = NULL;
	r = yt_parse(text, len, /* limits= */ NULL, &doc, ret_error);
	if (r < 0)
		return r;
	root = yt_doc_root(doc);
	if (root->kind != YT_MAPPING)
		return fail(ret_error, -EINVAL, "Compose file must be a mapping, not %s",
		    yt_kind_to_string(root->kind));

	/* top-level volumes: Mapping[str, Any] | None (version and name: any scalar) */
	vols = yt_map_get(root, "volumes");
	if (vols && vols->kind != YT_NULL && vols->kind != YT_MAPPING)
		return fail(ret_error, -EINVAL,
		    "Invalid top-level volumes in compose file at line %zu", vols->mark.line);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	services = yt_map_get(root, "services");
	if (services && services->kind != YT_NULL) {
		if (services->kind != YT_MAPPING)
			return fail(ret_error, -EINVAL,
			    "Invalid services in compose file at line %zu", services->mark.line);
		c->has_services = true;
		c->services = calloc(yt_len(services) ? yt_len(services) : 1, sizeof(*c->services));
		if (!c->services)
			return -ENOMEM;
		for (size_t i = 0; i < yt_len(services); i++) {
			r = normalise_service(yt_map_at(services, i), &c->services[c->n_services++],
			    ret_error);
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- validation ---------------------------------------------------------- */

const struct compose_service *
compose_mc(const struct compose *c)
{
	for (size_t i = 0; c && i < c->n_services; i++)
		if (streq(c->services[i].name, "mc"))
			return &c->services[i];
	return NULL;
}

const struct compose_env *
compose_env_get(const struct compose_service *s, const char *key)
{
	for (size_t i = 0; s && i < s->n_env; i++)
		if (streq(s->env[i].key, key))
			return &s->env[i];
	return NULL;
}

int
compose_validate(const struct compose *c, const char *server_id, char **ret_error)
{
	const struct compose_service *mc;
	bool game = false, rcon = false;

	if (ret_error)
		*ret_error = NULL;
	if (!c->has_services)
		return fail(ret_error, -EINVAL, "Could not find services in compose file");
	mc = compose_mc(c);
	if (!mc)
		return fail(ret_error, -EINVAL, "Could not find service mc in compose file");
	if (!mc->container_name)
		return fail(ret_error, -EINVAL, "Invalid container name in compose file");
	if (!startswith(mc->container_name, "mc-"))
		return fail(ret_error, -EINVAL, "Container name must start with 'mc-'");
	if (!mc->image || !strstr(mc->image, "itzg/minecraft-server"))
		return fail(ret_error, -EINVAL, "Service must use itzg/minecraft-server image");
	if (mc->env_state != COMPOSE_ENV_PRESENT)
		return fail(ret_error, -EINVAL, "Invalid environment in compose file");
	if (!compose_env_get(mc, "VERSION"))
		return fail(ret_error, -EINVAL, "Could not find VERSION in environment");
	if (!mc->has_ports)
		return fail(ret_error, -EINVAL, "Could not find ports in compose file");
	for (size_t i = 0; i < mc->n_ports; i++) {
		const char *t = mc->ports[i].target;

		if (t && streq(t, GAME_TARGET))
			game = true;
		else if (t && streq(t, RCON_TARGET))
			rcon = true;
	}
	if (!game)
		return fail(ret_error, -EINVAL, "Could not find game port (25565) in compose file");
	if (!rcon)
		return fail(ret_error, -EINVAL, "Could not find rcon port (25575) in compose file");
	/* MCService.environment is Dict[str, str | float | bool]: no None */
	for (size_t i = 0; i < mc->n_env; i++)
		if (mc->env[i].kind == COMPOSE_ENV_NULL)
			return fail(ret_error, -EINVAL,
			    "Environment variable '%s' must not be null", mc->env[i].key);
	if (server_id && !streq(mc->container_name + 3, server_id))
		return fail(ret_error, -EINVAL, "Container name '%s' does not match server '%s'",
		    mc->container_name, server_id);
	return 0;
}

int
compose_load(const char *text, size_t len, const char *server_id, struct compose **ret,
    char **ret_error)
{
	_cleanup_(compose_freep) struct compose *c = NULL;
	int r;

	r = compose_parse(text, len, &c, ret_error);
	if (r < 0)
		return r;
	r = compose_validate(c, server_id, ret_error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- derived values ------------------------------------------------------ */

static const struct compose_port *
port_by_target(const struct compose *c, const char *target)
{
	const struct compose_service *mc = compose_mc(c);

	for (size_t i = 0; mc && i < mc->n_ports; i++)
		if (mc->ports[i].target && streq(mc->ports[i].target, target))
			return &mc->ports[i];
	return NULL;
}

static int
derive_port(const struct compose *c, const char *target, int64_t def, const char *what,
    int64_t *ret, char **ret_error)
{
	const struct compose_port *p = port_by_target(c, target);
	int64_t v;

	if (ret_error)
		*ret_error = NULL;
	if (!p)
		return fail(ret_error, -EINVAL, "Could not find %s port in compose file", what);
	if (!p->published) {
		*ret = def;
		return 0;
	}
	if (py_int64(p->published, &v) < 0)
		return fail(ret_error, -EINVAL, "invalid literal for int() with base 10: '%s'",
		    p->published);
	*ret = v;
	return 0;
}

int
compose_game_port(const struct compose *c, int64_t *ret, char **ret_error)
{
	return derive_port(c, GAME_TARGET, 25565, "game", ret, ret_error);
}

int
compose_rcon_port(const struct compose *c, int64_t *ret, char **ret_error)
{
	return derive_port(c, RCON_TARGET, 25575, "rcon", ret, ret_error);
}

/* re.search(r"(\d+)([MmGgKk]?)", s): 0 with *ret, or -ERANGE. */
static int
max_memory_bytes(const char *s, int64_t *ret)
{
	const char *p = s;
	int64_t mult = 1024 * 1024, v = 0;
	size_t n;

	while (*p && !is_digit(*p))
		p++;
	n = digit_run(p);
	if (n == 0) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, p[i] - '0', &v))
			return -ERANGE;
	switch (p[n]) {
	case 'K':
	case 'k':
		mult = 1024;
		break;
	case 'G':
	case 'g':
		mult = 1024LL * 1024 * 1024;
		break;
	default:	/* M, m or no unit: MiB */
		break;
	}
	if (__builtin_mul_overflow(v, mult, &v))
		return -ERANGE;
	*ret = v;
	return 0;
}

/* re.search(r"itzg/minecraft-server:java(\d+)", image). */
static int
java_version(const char *image, int64_t *ret)
{
	static const char needle[] = "itzg/minecraft-server:java";

	for (const char *p = strstr(image, needle); p; p = strstr(p + 1, needle)) {
		const char *d = p + strlen(needle);
		size_t n = digit_run(d);
		int64_t v = 0;

		if (n == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, d[i] - '0', &v))
				return -ERANGE;
		*ret = v;
		return 0;
	}
	*ret = 0;
	return 0;
}

void
compose_info_done(struct compose_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->name);
	free(info->game_version);
	*info = (struct compose_info) { 0 };
}

int
compose_info_build(const struct compose *c, const char *id, struct compose_info *ret,
    char **ret_error)
{
	struct compose_info info = { .server_type = COMPOSE_SERVER_VANILLA };
	const struct compose_service *mc;
	const struct compose_env *e;
	int r;

	r = compose_validate(c, id, ret_error);
	if (r < 0)
		return r;
	mc = compose_mc(c);

	e = compose_env_get(mc, "TYPE");
	if (e) {
		size_t t;

		for (t = 0; t < COMPOSE_SERVER_TYPE_MAX; t++)
			if (streq(e->value, server_types[t]))
				break;
		if (t == COMPOSE_SERVER_TYPE_MAX)
			return fail(ret_error, -EINVAL, "'%s' is not a valid ServerType", e->value);
		info.server_type = (enum compose_server_type)t;
	}
	r = compose_game_port(c, &info.game_port, ret_error);
	if (r < 0)
		return r;
	r = compose_rcon_port(c, &info.rcon_port, ret_error);
	if (r < 0)
		return r;
	e = compose_env_get(mc, "MAX_MEMORY");
	if (e && max_memory_bytes(e->value, &info.max_memory_bytes) < 0)
		return fail(ret_error, -EINVAL, "MAX_MEMORY is out of range");
	if (java_version(mc->image, &info.java_version) < 0)
		return fail(ret_error, -EINVAL, "Java version is out of range");

	info.id = strdup(id ? id : mc->container_name + 3);
	info.name = strdup(mc->container_name + 3);
	info.game_version = strdup(compose_env_get(mc, "VERSION")->value);
	if (!info.id || !info.name || !info.game_version) {
		compose_info_done(&info);
		return -ENOMEM;
	}
	*ret = info;
	return 0;
}

const char *
compose_server_type_to_string(enum compose_server_type t)
{
	return (unsigned)t < COMPOSE_SERVER_TYPE_MAX ? server_types[t] : NULL;
}

int
compose_info_to_json(const struct compose_info *info, struct json_object **ret)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	const struct {
		const char *key;
		json_object *value;
	} fields[] = {
		{ "id", json_object_new_string(info->id) },
		{ "name", json_object_new_string(info->name) },
		{ "serverType", json_object_new_string(server_types[info->server_type]) },
		{ "gameVersion", json_object_new_string(info->game_version) },
		{ "gamePort", json_object_new_int64(info->game_port) },
		{ "maxMemoryBytes", json_object_new_int64(info->max_memory_bytes) },
		{ "rconPort", json_object_new_int64(info->rcon_port) },
		{ "javaVersion", json_object_new_int64(info->java_version) },
	};
	bool ok = o != NULL;

	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		if (ok && fields[i].value && json_object_object_add(o, fields[i].key,
		    fields[i].value) == 0)
			continue;
		ok = false;
		json_object_put(fields[i].value);
	}
	if (!ok)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* ---- creation helpers ---------------------------------------------------- */

int
compose_port_conflicts(int64_t game_port, int64_t rcon_port,
    const struct compose_source *servers, size_t n_servers, char **ret_detail)
{
	struct strbuf sb = STRBUF_INIT;
	int count = 0, r = 0;

	*ret_detail = NULL;
	for (size_t i = 0; i < n_servers && r >= 0; i++) {
		_cleanup_(compose_freep) struct compose *c = NULL;
		int64_t game, rcon;

		/* unparsable or invalid files are skipped, as the reference does */
		r = compose_load(servers[i].text, servers[i].len, /* server_id= */ NULL, &c, NULL);
		if (r == -ENOMEM)
			break;
		r = r < 0 ? r : compose_game_port(c, &game, NULL);
		r = r < 0 ? r : compose_rcon_port(c, &rcon, NULL);
		if (r < 0) {
			r = 0;
			continue;
		}
		if (game == game_port) {
			r = strbuf_printf(&sb, "%sGame port %lld is already used by server '%s'",
			    count++ ? "; " : "", (long long)game, servers[i].name);
		}
		if (r >= 0 && rcon == rcon_port) {
			r = strbuf_printf(&sb, "%sRCON port %lld is already used by server '%s'",
			    count++ ? "; " : "", (long long)rcon, servers[i].name);
		}
	}
	if (r < 0) {
		strbuf_free(&sb);
		return -ENOMEM;
	}
	if (count > 0) {
		*ret_detail = strbuf_steal(&sb);
		if (!*ret_detail)
			return -ENOMEM;
	}
	strbuf_free(&sb);
	return count;
}

/* The image's isTrue(): "true" or "on", any case. */
static bool
env_is_true(const struct compose *c, const char *key, bool def)
{
	const struct compose_env *e = compose_env_get(compose_mc(c), key);

	if (!e)
		return def;
	return strcaseeq(e->raw, "true") || strcaseeq(e->raw, "on");
}

const char *
compose_rcon_password(const struct compose *c)
{
	const struct compose_env *e = compose_env_get(compose_mc(c), "RCON_PASSWORD");

	return e ? e->raw : NULL;
}

bool
compose_rcon_enabled(const struct compose *c)
{
	return env_is_true(c, "ENABLE_RCON", true);
}

bool
compose_console_pipe_enabled(const struct compose *c)
{
	return env_is_true(c, "CREATE_CONSOLE_IN_PIPE", false);
}

const char *
compose_rcon_host_ip(const struct compose *c)
{
	const struct compose_port *p = port_by_target(c, RCON_TARGET);

	return p ? p->host_ip : NULL;
}

/* "N" or "N-M" with 1 ≤ N ≤ M ≤ 65535. */
static bool
parse_port_range(const char *s, uint16_t *first, uint16_t *last)
{
	const char *dash = strchr(s, '-');
	_cleanup_free_ char *a = strndup(s, dash ? (size_t)(dash - s) : strlen(s));
	int64_t lo, hi;

	if (!a || parse_int64(a, 1, 65535, &lo) < 0 || !is_digit(a[0]))
		return false;
	hi = lo;
	if (dash && (!is_digit(dash[1]) || parse_int64(dash + 1, lo, 65535, &hi) < 0))
		return false;
	*first = (uint16_t)lo;
	*last = (uint16_t)hi;
	return true;
}

int
compose_published_ports(const struct compose *c, struct compose_host_port **ret, size_t *ret_n)
{
	struct compose_host_port *out;
	size_t total = 0, n = 0;

	for (size_t i = 0; i < c->n_services; i++)
		total += c->services[i].n_ports;
	out = calloc(total ? total : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct compose_service *s = &c->services[i];

		for (size_t j = 0; j < s->n_ports; j++) {
			const struct compose_port *p = &s->ports[j];
			struct compose_host_port hp = {
				.service = s->name,
				.host_ip = p->host_ip,
				.protocol = p->protocol ? p->protocol : "tcp",
			};

			if (!p->published || !parse_port_range(p->published, &hp.first, &hp.last))
				continue;
			out[n++] = hp;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
