/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"

const char *
json_compact(json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

json_object *
json_new_float(double v)
{
	char buf[64];

	if (fmt_float_repr(buf, sizeof(buf), v) < 0)
		return json_object_new_double(0.0);
	return json_object_new_double_s(v, buf);
}

json_object *
json_new_string_lossy(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	json_object *o;

	/* replace invalid UTF-8 with U+FFFD, byte by byte */
	for (size_t i = 0; i < n;) {
		size_t k;

		for (k = 1; k <= 4 && i + k <= n; k++)
			if (utf8_valid(s + i, k))
				break;
		if (k <= 4 && i + k <= n) {
			if (strbuf_append(&sb, s + i, k) < 0)
				goto fail;
			i += k;
		} else {
			if (strbuf_puts(&sb, "\xef\xbf\xbd") < 0)
				goto fail;
			i++;
		}
	}
	o = json_object_new_string_len(strbuf_str(&sb), (int)sb.len);
	strbuf_free(&sb);
	return o;
fail:
	strbuf_free(&sb);
	return NULL;
}

json_object *
json_parse_strict(const char *s, size_t n, int max_depth, const char **ret_error,
    size_t *ret_offset)
{
	_cleanup_free_ char *copy = NULL;
	struct json_tokener *tok;
	enum json_tokener_error err;
	json_object *obj;
	size_t end;

	*ret_error = NULL;
	*ret_offset = 0;
	if (n > INT32_MAX - 1) {
		*ret_error = "document too large";
		return NULL;
	}
	/* json-c only knows a bare number has ended when it sees the NUL */
	if (s[n] != '\0' || memchr(s, '\0', n)) {
		if (memchr(s, '\0', n)) {
			*ret_error = "NUL byte in document";
			*ret_offset = (size_t)((const char *)memchr(s, '\0', n) - s);
			return NULL;
		}
		copy = strndup(s, n);
		if (!copy) {
			*ret_error = "out of memory";
			return NULL;
		}
		s = copy;
	}
	tok = json_tokener_new_ex(max_depth);
	if (!tok) {
		*ret_error = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)n + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (err == json_tokener_continue)
		err = json_tokener_error_parse_eof;
	if (err != json_tokener_success) {
		json_object_put(obj);
		*ret_error = json_tokener_error_desc(err);
		*ret_offset = end > n ? n : end;
		return NULL;
	}
	/* the tokener stops after the value; only whitespace (and our NUL) may follow */
	while (end < n && strchr(" \t\r\n", s[end]))
		end++;
	if (end < n) {
		json_object_put(obj);
		*ret_error = "Extra data";
		*ret_offset = end;
		return NULL;
	}
	return obj;
}
