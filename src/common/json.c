/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

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
