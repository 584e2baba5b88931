/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "http/body.h"

bool
http_content_type_is_json(const char *ct)
{
	size_t l;

	if (!ct)
		return true;
	while (*ct == ' ')
		ct++;
	l = strcspn(ct, ";");
	while (l > 0 && ct[l - 1] == ' ')
		l--;
	if (l == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	/* application/<anything>+json */
	return l > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + l - 5, "+json", 5) == 0;
}

int
http_body_parse_json(struct req *rq, struct verrs *v)
{
	const char *s = strbuf_str(&rq->body), *err = NULL;
	size_t n = rq->body.len, off = 0;
	json_object *obj;

	if (!http_content_type_is_json(rq->content_type)) {
		rq->json = json_new_string_lossy(s, n);
		return rq->json ? 0 : -ENOMEM;
	}
	if (n == 0)
		return 0;
	obj = json_parse_strict(s, n, JSON_MAX_DEPTH, &err, &off);
	if (err) {
		char pos[32];
		const char *loc[] = { "body", pos, NULL };
		json_object *ctx = json_object_new_object();

		(void)snprintf(pos, sizeof(pos), "#%zu", off);
		json_object_object_add(ctx, "error", json_object_new_string(err));
		(void)verrs_add(v, "json_invalid", loc, "JSON decode error", json_object_new_object(),
		    ctx);
		return -EBADMSG;
	}
	rq->json = obj;		/* NULL for a JSON null: the validator says "missing" */
	return 0;
}

static size_t
utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static json_object *
ctx_int(const char *key, int64_t v)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, key, json_object_new_int64(v));
	return o;
}

/* "'a' or 'b'", "'a', 'b' or 'c'" */
static void
expected_list(char *buf, size_t n, const char *const *values)
{
	size_t o = 0, count = 0;

	buf[0] = '\0';
	while (values[count])
		count++;
	for (size_t i = 0; i < count; i++) {
		int l = snprintf(buf + o, n - o, "%s'%s'", i == 0 ? "" : i + 1 == count ? " or " : ", ",
		    values[i]);

		if (l < 0 || (size_t)l >= n - o)
			return;
		o += (size_t)l;
	}
}

static int
check_field(const struct field *f, json_object *val, struct verrs *v)
{
	const char *loc[] = { "body", f->name, NULL };
	char msg[512];

	if (!val)
		return f->nullable ? 0 :
		    verrs_add(v, f->type == FIELD_STRING ? "string_type" :
		    f->type == FIELD_INT ? "int_type" : "bool_type", loc,
		    f->type == FIELD_STRING ? "Input should be a valid string" :
		    f->type == FIELD_INT ? "Input should be a valid integer" :
		    "Input should be a valid boolean", NULL, NULL) < 0 ? -ENOMEM : 1;

	switch (f->type) {
	case FIELD_STRING: {
		const char *s;
		size_t chars;

		if (!json_object_is_type(val, json_type_string))
			return verrs_add(v, "string_type", loc, "Input should be a valid string",
			    json_object_get(val), NULL) < 0 ? -ENOMEM : 1;
		s = json_object_get_string(val);
		if (f->values) {
			for (size_t i = 0; f->values[i]; i++)
				if (streq(s, f->values[i]))
					return 0;
			char exp[256];
			json_object *ctx = json_object_new_object();

			expected_list(exp, sizeof(exp), f->values);
			json_object_object_add(ctx, "expected", json_object_new_string(exp));
			(void)snprintf(msg, sizeof(msg), "Input should be %s", exp);
			return verrs_add(v, "enum", loc, msg, json_object_get(val), ctx) < 0 ? -ENOMEM : 1;
		}
		chars = utf8_chars(s, (size_t)json_object_get_string_len(val));
		if (f->min_len && chars < (size_t)f->min_len) {
			(void)snprintf(msg, sizeof(msg), "String should have at least %lld character%s",
			    (long long)f->min_len, f->min_len == 1 ? "" : "s");
			return verrs_add(v, "string_too_short", loc, msg, json_object_get(val),
			    ctx_int("min_length", f->min_len)) < 0 ? -ENOMEM : 1;
		}
		if (f->max_len && chars > (size_t)f->max_len) {
			(void)snprintf(msg, sizeof(msg), "String should have at most %lld character%s",
			    (long long)f->max_len, f->max_len == 1 ? "" : "s");
			return verrs_add(v, "string_too_long", loc, msg, json_object_get(val),
			    ctx_int("max_length", f->max_len)) < 0 ? -ENOMEM : 1;
		}
		return 0;
	}
	case FIELD_INT: {
		int64_t i;

		if (!json_object_is_type(val, json_type_int))
			return verrs_add(v, "int_type", loc, "Input should be a valid integer",
			    json_object_get(val), NULL) < 0 ? -ENOMEM : 1;
		i = json_object_get_int64(val);
		if (f->min < f->max && i < f->min) {
			(void)snprintf(msg, sizeof(msg), "Input should be greater than or equal to %lld",
			    (long long)f->min);
			return verrs_add(v, "greater_than_equal", loc, msg, json_object_get(val),
			    ctx_int("ge", f->min)) < 0 ? -ENOMEM : 1;
		}
		if (f->min < f->max && i > f->max) {
			(void)snprintf(msg, sizeof(msg), "Input should be less than or equal to %lld",
			    (long long)f->max);
			return verrs_add(v, "less_than_equal", loc, msg, json_object_get(val),
			    ctx_int("le", f->max)) < 0 ? -ENOMEM : 1;
		}
		return 0;
	}
	case FIELD_BOOL:
		if (!json_object_is_type(val, json_type_boolean))
			return verrs_add(v, "bool_type", loc, "Input should be a valid boolean",
			    json_object_get(val), NULL) < 0 ? -ENOMEM : 1;
		return 0;
	case _FIELD_TYPE_MAX:
		break;
	}
	return 0;
}

int
http_body_validate(struct req *rq, const struct field *fields, bool optional, struct verrs *v)
{
	int problems = 0;

	if (!rq->json) {
		const char *loc[] = { "body", NULL };

		if (optional) {
			rq->json = json_object_new_object();
			return rq->json ? 0 : -ENOMEM;
		}
		/* a body that is required as a whole */
		return verrs_add(v, "missing", loc, "Field required", NULL, NULL) < 0 ? -ENOMEM : 1;
	}
	if (!json_object_is_type(rq->json, json_type_object)) {
		const char *loc[] = { "body", NULL };

		return verrs_add(v, "model_attributes_type", loc,
		    "Input should be a valid dictionary or object to extract fields from",
		    json_object_get(rq->json), NULL) < 0 ? -ENOMEM : 1;
	}
	for (const struct field *f = fields; f && f->name; f++) {
		json_object *val;
		int r;

		if (!json_object_object_get_ex(rq->json, f->name, &val)) {
			const char *loc[] = { "body", f->name, NULL };

			if (!f->required)
				continue;
			r = verrs_add(v, "missing", loc, "Field required", json_object_get(rq->json),
			    NULL);
			if (r < 0)
				return r;
			problems++;
			continue;
		}
		r = check_field(f, val, v);
		if (r < 0)
			return r;
		problems += r;
	}
	return problems;
}

const char *
body_string(const struct req *rq, const char *name)
{
	json_object *val;

	if (!rq->json || !json_object_object_get_ex(rq->json, name, &val) ||
	    !json_object_is_type(val, json_type_string))
		return NULL;
	return json_object_get_string(val);
}

bool
body_has(const struct req *rq, const char *name)
{
	json_object *val;

	return rq->json && json_object_object_get_ex(rq->json, name, &val) && val;
}
