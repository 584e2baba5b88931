/* SPDX-License-Identifier: MIT */
/*
 * YAML tree: PyYAML SafeLoader resolution (the expected values were taken
 * from PyYAML 6.0 with yaml.CSafeLoader), tags, anchors and merge keys,
 * duplicate keys, limits and error positions.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "config/yamltree.h"

/* Parse text and return the value under key "v" (ck_assert on failure). */
static const struct yt_node *
parse_v(const char *text, struct yt_doc **doc)
{
	_cleanup_free_ char *err = NULL;
	const struct yt_node *v;
	int r;

	r = yt_parse(text, strlen(text), NULL, doc, &err);
	ck_assert_msg(r == 0, "'%s': %d %s", text, r, err ? err : "");
	v = yt_map_get(yt_doc_root(*doc), "v");
	ck_assert_ptr_nonnull(v);
	return v;
}

static void
assert_str_form(const struct yt_node *n, const char *want, const char *ctx)
{
	_cleanup_free_ char *s = NULL;

	ck_assert_int_eq(yt_str_form(n, &s), 0);
	ck_assert_msg(s && streq(s, want), "%s: str() is '%s', want '%s'", ctx, s, want);
}

/* ---- implicit resolution ------------------------------------------------- */

static const struct {
	const char *scalar;		/* written after "v: " */
	enum yt_kind kind;
	const char *str;		/* Python str() of the value */
} resolve_cases[] = {
	/* null */
	{ "~", YT_NULL, "None" },
	{ "null", YT_NULL, "None" },
	{ "Null", YT_NULL, "None" },
	{ "NULL", YT_NULL, "None" },
	{ "", YT_NULL, "None" },			/* empty value */
	{ "nUll", YT_STR, "nUll" },
	{ "'~'", YT_STR, "~" },
	/* bool: YAML 1.1 words only; y/n are strings in PyYAML */
	{ "yes", YT_BOOL, "True" },
	{ "Yes", YT_BOOL, "True" },
	{ "YES", YT_BOOL, "True" },
	{ "no", YT_BOOL, "False" },
	{ "true", YT_BOOL, "True" },
	{ "TRUE", YT_BOOL, "True" },
	{ "False", YT_BOOL, "False" },
	{ "on", YT_BOOL, "True" },
	{ "Off", YT_BOOL, "False" },
	{ "OFF", YT_BOOL, "False" },
	{ "yEs", YT_STR, "yEs" },
	{ "oN", YT_STR, "oN" },
	{ "y", YT_STR, "y" },
	{ "Y", YT_STR, "Y" },
	{ "n", YT_STR, "n" },
	{ "\"yes\"", YT_STR, "yes" },
	{ "'true'", YT_STR, "true" },
	/* int */
	{ "0", YT_INT, "0" },
	{ "-0", YT_INT, "0" },
	{ "25565", YT_INT, "25565" },
	{ "+12", YT_INT, "12" },
	{ "-12", YT_INT, "-12" },
	{ "1_000", YT_INT, "1000" },
	{ "1__0_", YT_INT, "10" },
	{ "_1", YT_STR, "_1" },
	{ "0x1F", YT_INT, "31" },
	{ "-0x1f", YT_INT, "-31" },
	{ "0x_1F", YT_INT, "31" },
	{ "0X1F", YT_STR, "0X1F" },
	{ "010", YT_INT, "8" },				/* leading 0: octal */
	{ "0_7", YT_INT, "7" },
	{ "08", YT_STR, "08" },
	{ "09", YT_STR, "09" },
	{ "0o17", YT_STR, "0o17" },			/* YAML 1.2 octal is a string */
	{ "0b101", YT_INT, "5" },
	{ "-0b1_01", YT_INT, "-5" },
	{ "0b102", YT_STR, "0b102" },
	{ "0b", YT_STR, "0b" },
	{ "12345678901234567890", YT_INT, "12345678901234567890" },
	{ "-9223372036854775808", YT_INT, "-9223372036854775808" },
	{ "0x7FFFFFFFFFFFFFFFFFFF", YT_INT, "604462909807314587353087" },
	/* base 60 */
	{ "2222:22", YT_INT, "133342" },
	{ "22:22", YT_INT, "1342" },
	{ "190:20:30", YT_INT, "685230" },
	{ "-1:30", YT_INT, "-90" },
	{ "80:22", YT_INT, "4822" },
	{ "25565:25565", YT_STR, "25565:25565" },	/* group above 59 */
	{ "8080:80", YT_STR, "8080:80" },
	{ "1:60", YT_STR, "1:60" },
	{ "0:30", YT_STR, "0:30" },			/* first group may not start with 0 */
	{ "1:012", YT_STR, "1:012" },
	/* float: a dot is required, an exponent needs a sign */
	{ "1.20", YT_FLOAT, "1.2" },
	{ "1.0", YT_FLOAT, "1.0" },
	{ "1.", YT_FLOAT, "1.0" },
	{ ".5", YT_FLOAT, "0.5" },
	{ "-.5", YT_STR, "-.5" },
	{ "+.5", YT_STR, "+.5" },
	{ "1e3", YT_STR, "1e3" },
	{ "1.0e3", YT_STR, "1.0e3" },
	{ "1.0e+3", YT_FLOAT, "1000.0" },
	{ "1.0E-3", YT_FLOAT, "0.001" },
	{ "1.0e+16", YT_FLOAT, "1e+16" },
	{ "1234567890123456.0", YT_FLOAT, "1234567890123456.0" },
	{ "0.00001", YT_FLOAT, "1e-05" },
	{ "1_000.5", YT_FLOAT, "1000.5" },
	{ "-0.0", YT_FLOAT, "-0.0" },
	{ "1.5e+400", YT_FLOAT, "inf" },
	{ ".inf", YT_FLOAT, "inf" },
	{ "-.Inf", YT_FLOAT, "-inf" },
	{ ".NaN", YT_FLOAT, "nan" },
	{ ".iNf", YT_STR, ".iNf" },
	{ "190:20:30.15", YT_FLOAT, "685230.15" },
	{ "1:30.5", YT_FLOAT, "90.5" },
	{ "1.2.3", YT_STR, "1.2.3" },
	{ "1.20a", YT_STR, "1.20a" },
	/* timestamps */
	{ "2001-12-14", YT_TIMESTAMP, "2001-12-14" },
	{ "2001-12-14t21:59:43.10-05:00", YT_TIMESTAMP, "2001-12-14 21:59:43.100000-05:00" },
	{ "2001-12-14 21:59:43.10 -5", YT_TIMESTAMP, "2001-12-14 21:59:43.100000-05:00" },
	{ "2001-12-14T21:59:43Z", YT_TIMESTAMP, "2001-12-14 21:59:43+00:00" },
	{ "2001-12-15 2:59:43.10", YT_TIMESTAMP, "2001-12-15 02:59:43.100000" },
	{ "2001-1-1", YT_STR, "2001-1-1" },		/* date alone needs two digits */
	{ "2001-1-1 1:02:03", YT_TIMESTAMP, "2001-01-01 01:02:03" },
	/* merge key and value key are only special as mapping keys (below) */
	{ "'<<'", YT_STR, "<<" },
	{ "abc", YT_STR, "abc" },
	{ "'1.20'", YT_STR, "1.20" },
	{ "|\n  line1\n  line2\n", YT_STR, "line1\nline2\n" },
};

START_TEST(test_resolve)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *text = NULL;
	const struct yt_node *v;

	ck_assert_int_ge(asprintf(&text, "v: %s\n", resolve_cases[_i].scalar), 0);
	v = parse_v(text, &doc);
	ck_assert_msg(v->kind == resolve_cases[_i].kind, "'%s': kind %s, want %s",
	    resolve_cases[_i].scalar, yt_kind_to_string(v->kind),
	    yt_kind_to_string(resolve_cases[_i].kind));
	assert_str_form(v, resolve_cases[_i].str, resolve_cases[_i].scalar);
}
END_TEST

START_TEST(test_values)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	static const char y[] = "a: 2222:22\nb: 1.20\nc: 12345678901234567890\n"
	    "d: -9223372036854775808\ne: yes\nf: \"1.20\"\n";
	const struct yt_node *root, *n;
	double d;

	ck_assert_int_eq(yt_parse(y, strlen(y), NULL, &doc, NULL), 0);
	root = yt_doc_root(doc);

	n = yt_map_get(root, "a");
	ck_assert_int_eq(n->kind, YT_INT);
	ck_assert(!n->v.integer.big);
	ck_assert_int_eq(n->v.integer.value, 133342);
	ck_assert_str_eq(n->text, "2222:22");
	ck_assert_int_eq(n->style, YT_STYLE_PLAIN);

	n = yt_map_get(root, "b");
	ck_assert(n->v.real == 1.2);
	ck_assert_str_eq(n->text, "1.20");		/* raw text is kept */

	n = yt_map_get(root, "c");
	ck_assert(n->v.integer.big);
	ck_assert_str_eq(n->v.integer.decimal, "12345678901234567890");
	ck_assert_int_eq(yt_to_double(n, &d), 0);
	ck_assert(d == 12345678901234567890.0);

	n = yt_map_get(root, "d");
	ck_assert(!n->v.integer.big);
	ck_assert(n->v.integer.value == INT64_MIN);

	n = yt_map_get(root, "e");
	ck_assert(n->v.boolean);
	ck_assert_int_eq(yt_to_double(n, &d), 0);
	ck_assert(d == 1.0);

	n = yt_map_get(root, "f");
	ck_assert_int_eq(n->kind, YT_STR);
	ck_assert_int_eq(n->style, YT_STYLE_DOUBLE_QUOTED);
	ck_assert_int_eq(yt_to_double(n, &d), -EINVAL);
}
END_TEST

/* ---- explicit tags ------------------------------------------------------- */

static const struct {
	const char *scalar;
	enum yt_kind kind;	/* YT_KIND_MAX: refused with -EBADMSG */
	const char *str;
} tag_cases[] = {
	{ "!!str 12", YT_STR, "12" },
	{ "!!str yes", YT_STR, "yes" },
	{ "!!int \"0x1F\"", YT_INT, "31" },
	{ "!!int ' 12'", YT_INT, "12" },		/* Python int() strips */
	{ "!!int '017'", YT_INT, "15" },
	{ "!!int '--5'", YT_INT, "5" },
	{ "!!int '08'", YT_KIND_MAX, NULL },
	{ "!!int 'abc'", YT_KIND_MAX, NULL },
	{ "!!int ''", YT_KIND_MAX, NULL },
	{ "!!float '1'", YT_FLOAT, "1.0" },
	{ "!!float '1e3'", YT_FLOAT, "1000.0" },
	{ "!!float 'inf'", YT_FLOAT, "inf" },
	{ "!!float 'x'", YT_KIND_MAX, NULL },
	{ "!!bool 'yEs'", YT_BOOL, "True" },
	{ "!!bool 'y'", YT_KIND_MAX, NULL },
	{ "!!null 'x'", YT_NULL, "None" },
	{ "!!timestamp '2001-1-1'", YT_TIMESTAMP, "2001-01-01" },
	{ "!!timestamp 'x'", YT_KIND_MAX, NULL },
	{ "!<tag:yaml.org,2002:int> '7'", YT_INT, "7" },
	{ "! 12", YT_INT, "12" },			/* "!" resolves like a plain scalar */
	{ "! \"12\"", YT_INT, "12" },			/* … even quoted (libyaml) */
	{ "!foo 12", YT_KIND_MAX, NULL },		/* local tags: no constructor */
	{ "!reset []", YT_KIND_MAX, NULL },		/* compose's own tags too */
	{ "!!binary aGVsbG8=", YT_KIND_MAX, NULL },	/* not supported (documented) */
	{ "!!set {a, b}", YT_KIND_MAX, NULL },
	{ "!!python/object:os.system x", YT_KIND_MAX, NULL },
	{ "!!str [1]", YT_KIND_MAX, NULL },		/* tag/kind mismatch */
	{ "!!map [1]", YT_KIND_MAX, NULL },
	{ "!!seq x", YT_KIND_MAX, NULL },
	{ "!!seq [1]", YT_SEQUENCE, NULL },
	{ "!!map {a: 1}", YT_MAPPING, NULL },
	{ "2001-13-01", YT_KIND_MAX, NULL },		/* resolved timestamp, bad month */
	{ "2001-02-29", YT_KIND_MAX, NULL },
	{ "0b_", YT_KIND_MAX, NULL },			/* resolved int, no digits */
	{ "=", YT_KIND_MAX, NULL },			/* value key outside a key */
	{ "<<", YT_KIND_MAX, NULL },			/* merge key outside a key */
};

START_TEST(test_tags)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *text = NULL, *err = NULL;
	const struct yt_node *v;
	int r;

	ck_assert_int_ge(asprintf(&text, "v: %s\n", tag_cases[_i].scalar), 0);
	r = yt_parse(text, strlen(text), NULL, &doc, &err);
	if (tag_cases[_i].kind == YT_KIND_MAX) {
		ck_assert_msg(r == -EBADMSG, "'%s' accepted", text);
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strstr(err, "at line 1, column"), "no position: %s", err);
		return;
	}
	ck_assert_msg(r == 0, "'%s': %s", text, err ? err : "");
	v = yt_map_get(yt_doc_root(doc), "v");
	ck_assert_int_eq(v->kind, tag_cases[_i].kind);
	if (tag_cases[_i].str)
		assert_str_form(v, tag_cases[_i].str, text);
}
END_TEST

START_TEST(test_tag_recorded)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	static const char y[] = "a: !!str 1\nb: ! 1\nc: 1\n";
	const struct yt_node *root;

	ck_assert_int_eq(yt_parse(y, strlen(y), NULL, &doc, NULL), 0);
	root = yt_doc_root(doc);
	ck_assert_str_eq(yt_map_get(root, "a")->tag, "tag:yaml.org,2002:str");
	ck_assert_ptr_null(yt_map_get(root, "b")->tag);
	ck_assert_ptr_null(yt_map_get(root, "c")->tag);
}
END_TEST

/* ---- structure: anchors, merge keys, duplicates -------------------------- */

/* "k=v,k=v" rendering of a flat mapping, with str() of keys and values. */
static char *
render_map(const struct yt_node *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < yt_len(m); i++) {
		_cleanup_free_ char *k = NULL, *v = NULL;

		ck_assert_int_eq(yt_str_form(yt_map_at(m, i)->key, &k), 0);
		if (yt_str_form(yt_map_at(m, i)->value, &v) < 0)
			v = strdup(yt_kind_to_string(yt_map_at(m, i)->value->kind));
		fprintf(f, "%s%s=%s", i ? "," : "", k, v);
	}
	fclose(f);
	return out;
}

static const struct {
	const char *yaml;
	const char *path;	/* key of the mapping to render, NULL: the root */
	const char *want;
} map_cases[] = {
	/* duplicate keys: last value wins, first position stays */
	{ "a: 1\nb: 2\na: 3\n", NULL, "a=3,b=2" },
	/* keys compare as Python values: 1 == 1.0 == True; the first key object stays */
	{ "{1: a, 1.0: b, true: c}", NULL, "1=c" },
	{ "{0: a, false: b, -0.0: c, 0x0: d}", NULL, "0=d" },
	{ "{0x10: a, 16: b, 020: c}", NULL, "16=c" },
	{ "{null: a, ~: b, '': c}", NULL, "None=b,=c" },
	{ "{'1': a, 1: b}", NULL, "1=a,1=b" },
	{ "{.nan: a, .NaN: b}", NULL, "nan=b" },		/* PyYAML shares one NaN object */
	{ "{!!float nan: a, !!float nan: b}", NULL, "nan=a,nan=b" },
	{ "{2001-12-14T01:00:00+01:00: a, 2001-12-14T00:00:00Z: b, 2001-12-14T00:00:00: c}", NULL,
	  "2001-12-14 01:00:00+01:00=b,2001-12-14 00:00:00=c" },
	/* merge keys: explicit keys win, earlier merge sources win */
	{ "base: &b {image: x, tty: true}\nmc:\n  <<: *b\n  image: y\n", "mc", "image=y,tty=True" },
	{ "a: &x {k: 1, <<: {k: 2, j: 3}}\nb: {<<: [*x, {z: 1, j: 9}], k: 5}\n", "a", "k=1,j=3" },
	{ "a: &x {k: 1, <<: {k: 2, j: 3}}\nb: {<<: [*x, {z: 1, j: 9}], k: 5}\n", "b",
	  "z=1,j=3,k=5" },
	{ "a: &x {k: 1}\nb:\n  <<: *x\n  <<: {k: 2}\n", "b", "k=2" },
	{ "a: {'<<': {q: 1}}", "a", "<<=mapping" },		/* quoted: an ordinary key */
	{ "a: {!!merge m: {q: 1}}", "a", "q=1" },
	{ "{=: 5}", NULL, "==5" },				/* value key as a key: a string */
};

START_TEST(test_mappings)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL, *got = NULL;
	const struct yt_node *m;
	int r;

	r = yt_parse(map_cases[_i].yaml, strlen(map_cases[_i].yaml), NULL, &doc, &err);
	ck_assert_msg(r == 0, "%s: %s", map_cases[_i].yaml, err ? err : "");
	m = yt_doc_root(doc);
	if (map_cases[_i].path)
		m = yt_map_get(m, map_cases[_i].path);
	ck_assert_int_eq(m->kind, YT_MAPPING);
	got = render_map(m);
	ck_assert_msg(streq(got, map_cases[_i].want), "%s: got '%s', want '%s'",
	    map_cases[_i].yaml, got, map_cases[_i].want);
}
END_TEST

START_TEST(test_aliases_shared)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	const struct yt_node *root, *a, *b;
	static const char y[] = "a: &x [1, 2]\nb: *x\nc: &s hello\nd: *s\n";

	ck_assert_int_eq(yt_parse(y, strlen(y), NULL, &doc, NULL), 0);
	root = yt_doc_root(doc);
	a = yt_map_get(root, "a");
	b = yt_map_get(root, "b");
	ck_assert_ptr_eq(a, b);
	ck_assert_str_eq(a->anchor, "x");
	ck_assert_int_eq(yt_len(b), 2);
	ck_assert_str_eq(yt_map_get(root, "d")->text, "hello");
	/* weight counts the alias expansion: root + 4 keys + [1,2] twice + 2 scalars */
	ck_assert_int_eq(root->weight, 1 + 4 + 3 + 3 + 1 + 1);
}
END_TEST

START_TEST(test_strict_keys)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL;
	struct yt_limits lim = { .strict_keys = true };
	static const char dup[] = "a: 1\nb: 2\na: 3\n";
	static const char merged[] = "x: &x {k: 1}\ny: {<<: *x, k: 2}\n";

	ck_assert_int_eq(yt_parse(dup, strlen(dup), &lim, &doc, &err), -EBADMSG);
	ck_assert_str_eq(err, "found duplicate key 'a' at line 3, column 1");
	/* overriding a merged key is not a duplicate */
	ck_assert_int_eq(yt_parse(merged, strlen(merged), &lim, &doc, NULL), 0);
}
END_TEST

START_TEST(test_document_shapes)
{
	_cleanup_(yt_doc_freep) struct yt_doc *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
	static const char bom[] = "\xef\xbb\xbf" "a: 1\r\nlist:\r\n  - x\r\n";
	static const char utf16[] = "\xff\xfe" "a\0:\0 \0" "1\0\n\0";
	_cleanup_free_ char *err = NULL;
	const struct yt_node *root;

	/* an empty stream is None, as yaml.load("") */
	ck_assert_int_eq(yt_parse("", 0, NULL, &d1, NULL), 0);
	ck_assert_int_eq(yt_doc_root(d1)->kind, YT_NULL);
	ck_assert_int_eq(yt_parse("# only a comment\n", strlen("# only a comment\n"), NULL, &d2,
	    NULL), 0);
	ck_assert_int_eq(yt_doc_root(d2)->kind, YT_NULL);

	/* one explicit document is fine, a second one is refused */
	ck_assert_int_eq(yt_parse("---\na: 1\n...\n", strlen("---\na: 1\n...\n"), NULL, &d3,
	    NULL), 0);
	ck_assert_int_eq(yt_parse("a: 1\n---\nb: 2\n", strlen("a: 1\n---\nb: 2\n"), NULL, &d4,
	    &err), -EBADMSG);
	ck_assert_str_eq(err, "expected a single document in the stream, but found another "
	    "document at line 2, column 1");
	yt_doc_free(TAKE_PTR(d4));

	/* a BOM is skipped; CRLF line ends; marks are 1-based */
	ck_assert_int_eq(yt_parse(bom, strlen(bom), NULL, &d4, NULL), 0);
	root = yt_doc_root(d4);
	ck_assert_int_eq(yt_map_get(root, "a")->v.integer.value, 1);
	ck_assert_int_eq(yt_seq_at(yt_map_get(root, "list"), 0)->mark.line, 3);
	ck_assert_int_eq(yt_seq_at(yt_map_get(root, "list"), 0)->mark.column, 5);
	ck_assert_int_eq(yt_map_get(root, "list")->style, YT_STYLE_BLOCK);
	yt_doc_free(TAKE_PTR(d4));

	/* UTF-16 is refused: the reference decodes the text as UTF-8 first */
	ck_assert_int_eq(yt_parse(utf16, sizeof(utf16) - 1, NULL, &d4, NULL), -EBADMSG);
}
END_TEST

/* ---- errors and limits --------------------------------------------------- */

static const struct {
	const char *yaml;
	const char *error;	/* exact message */
} error_cases[] = {
	{ "a: 1\nb:\n  - x\n  y: 2\n",
	  "did not find expected '-' indicator at line 4, column 3 (while parsing a block "
	  "collection at line 3, column 3)" },
	{ "a: [1, 2\n",
	  "did not find expected ',' or ']' at line 2, column 1 (while parsing a flow sequence "
	  "at line 1, column 4)" },
	{ "a: 'x\n",
	  "found unexpected end of stream at line 2, column 1 (while scanning a quoted scalar "
	  "at line 1, column 4)" },
	{ "a: *x\n", "found undefined alias 'x' at line 1, column 4" },
	{ "a: &x 1\nb: &x 2\n", "found duplicate anchor 'x' at line 2, column 4" },
	{ "a: &x [1, *x]\n", "found recursive alias 'x' at line 1, column 11" },
	{ "a: !foo 1\n",
	  "could not determine a constructor for the tag '!foo' at line 1, column 4" },
	{ "a: {<<: 5}\n",
	  "expected a mapping or list of mappings for merging, but found int at line 1, column 9" },
	{ "a: {<<: [{b: 1}, 2]}\n",
	  "expected a mapping for merging, but found int at line 1, column 18" },
	{ "? [1]\n: 2\n", "found unhashable key (a sequence) at line 1, column 3" },
	{ "a:\n  b: 0b_\n", "cannot construct an int from '0b_' at line 2, column 6" },
	{ "a: \"x\\0y\"\n", "NUL characters in scalars are not supported at line 1, column 4" },
	{ "a: b\n\xff\n", "invalid leading UTF-8 octet: #FF at byte offset 5" },
};

START_TEST(test_errors)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL;

	ck_assert_int_eq(yt_parse(error_cases[_i].yaml, strlen(error_cases[_i].yaml), NULL, &doc,
	    &err), -EBADMSG);
	ck_assert_ptr_null(doc);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, error_cases[_i].error);
}
END_TEST

START_TEST(test_alias_bomb_refused)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	/* billion laughs: 9^9 nodes from a few hundred bytes */
	ck_assert_ptr_nonnull(f);
	fputs("a: &a [x, x, x, x, x, x, x, x, x]\n", f);
	for (char c = 'b'; c <= 'i'; c++)
		fprintf(f, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1,
		    c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	fclose(f);
	ck_assert_int_eq(yt_parse(text, len, NULL, &doc, &err), -EBADMSG);
	ck_assert_msg(strstr(err, "more than 100000 nodes after alias expansion"), "%s", err);
	free(text);
}
END_TEST

START_TEST(test_merge_bomb_refused)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL;
	struct yt_limits lim = { .max_nodes = 50 };
	static const char y[] =
	    "a: &a {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9}\n"
	    "b: &b {<<: *a, x: 1}\n"
	    "c: &c {<<: [*b, *a], y: 1}\n"
	    "d: {<<: [*c, *b, *a], z: 1}\n";

	ck_assert_int_eq(yt_parse(y, strlen(y), &lim, &doc, &err), -EBADMSG);
	ck_assert_msg(strstr(err, "more than 50 nodes after alias expansion"), "%s", err);
}
END_TEST

START_TEST(test_limits)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *err = NULL, *deep = NULL, *digits = NULL;
	struct yt_limits small = { .max_bytes = 8 }, shallow = { .max_depth = 3 };

	/* size limit before parsing */
	ck_assert_int_eq(yt_parse("a: 123456\n", 10, &small, &doc, &err), -EMSGSIZE);
	ck_assert_str_eq(err, "YAML text too large (10 bytes, at most 8)");
	free(TAKE_PTR(err));
	ck_assert_int_eq(yt_parse("a: 1234\n", 8, &small, &doc, NULL), 0);
	yt_doc_free(TAKE_PTR(doc));

	/* nesting */
	ck_assert_int_eq(yt_parse("[[[1]]]", 7, &shallow, &doc, NULL), 0);
	yt_doc_free(TAKE_PTR(doc));
	ck_assert_int_eq(yt_parse("[[[[1]]]]", 9, &shallow, &doc, &err), -EBADMSG);
	ck_assert_str_eq(err, "too deeply nested (more than 3 levels) at line 1, column 4");
	free(TAKE_PTR(err));
	deep = malloc(402);
	ck_assert_ptr_nonnull(deep);
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	deep[400] = '\0';
	ck_assert_int_eq(yt_parse(deep, 400, NULL, &doc, NULL), -EBADMSG);

	/* Python's 4300-digit limit on integer text */
	digits = malloc(4310);
	ck_assert_ptr_nonnull(digits);
	memcpy(digits, "v: ", 3);
	memset(digits + 3, '7', 4300);
	digits[4303] = '\0';
	ck_assert_int_eq(yt_parse(digits, strlen(digits), NULL, &doc, NULL), 0);
	ck_assert_int_eq(strlen(yt_map_get(yt_doc_root(doc), "v")->v.integer.decimal), 4300);
	yt_doc_free(TAKE_PTR(doc));
	digits[4303] = '7';
	digits[4304] = '\0';
	ck_assert_int_eq(yt_parse(digits, strlen(digits), NULL, &doc, &err), -EBADMSG);
	ck_assert_msg(strstr(err, "has more than 4300 digits at line 1, column 4"), "%s", err);
	free(TAKE_PTR(err));

	/* long values are clipped in messages, at a character boundary */
	memcpy(digits, "v: !!int 'x", 11);
	memset(digits + 11, 'x', 60);
	memcpy(digits + 11 + 60, "\xc3\xa9\xc3\xa9'", 5);	/* "éé" straddles byte 64 */
	digits[11 + 60 + 5] = '\0';
	ck_assert_int_eq(yt_parse(digits, strlen(digits), NULL, &doc, &err), -EBADMSG);
	ck_assert_str_eq(err, "cannot construct an int from "
	    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9…' "
	    "at line 1, column 4");
}
END_TEST

/* ---- helpers ------------------------------------------------------------- */

START_TEST(test_lookup_helpers)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	static const char y[] = "1: int-key\n'1': str-key\nlist: [a, b]\nnull: x\n";
	const struct yt_node *root, *list;
	_cleanup_free_ char *s = NULL;
	double d;

	ck_assert_int_eq(yt_parse(y, strlen(y), NULL, &doc, NULL), 0);
	root = yt_doc_root(doc);
	ck_assert_int_eq(yt_len(root), 4);
	/* only string keys match a string: the int 1 and null are not "1"/"null" */
	ck_assert_str_eq(yt_map_get(root, "1")->text, "str-key");
	ck_assert_ptr_null(yt_map_get(root, "null"));
	ck_assert_ptr_null(yt_map_get(root, "missing"));
	ck_assert_int_eq(yt_map_at(root, 0)->key->kind, YT_INT);
	ck_assert_ptr_null(yt_map_at(root, 4));

	list = yt_map_get(root, "list");
	ck_assert_int_eq(list->style, YT_STYLE_FLOW);
	ck_assert_str_eq(yt_seq_at(list, 1)->text, "b");
	ck_assert_ptr_null(yt_seq_at(list, 2));
	ck_assert_ptr_null(yt_seq_at(root, 0));
	ck_assert_ptr_null(yt_map_get(list, "a"));
	ck_assert_int_eq(yt_len(yt_seq_at(list, 0)), 0);
	ck_assert_int_eq(yt_len(NULL), 0);

	ck_assert_int_eq(yt_str_form(list, &s), -EINVAL);
	ck_assert_int_eq(yt_to_double(list, &d), -EINVAL);
	ck_assert_str_eq(yt_kind_to_string(YT_TIMESTAMP), "timestamp");
}
END_TEST

START_TEST(test_float_repr)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 1.2, "1.2" }, { 1.0, "1.0" }, { 1e16, "1e+16" }, { 1e15, "1000000000000000.0" },
		{ 1e-5, "1e-05" }, { 0.0001, "0.0001" }, { -0.0, "-0.0" }, { INFINITY, "inf" },
		{ -INFINITY, "-inf" }, { NAN, "nan" }, { 0.1 + 0.2, "0.30000000000000004" },
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		ck_assert_int_eq(yt_float_repr(buf, sizeof(buf), cases[i].v), 0);
		ck_assert_str_eq(buf, cases[i].want);
	}
	ck_assert_int_eq(yt_float_repr(buf, 4, INFINITY), 0);
	ck_assert_int_eq(yt_float_repr(buf, 4, -INFINITY), -EINVAL);
	ck_assert_int_eq(yt_float_repr(buf, 3, 1.25), -EINVAL);
}
END_TEST

START_TEST(test_int_to_double_overflow)
{
	_cleanup_(yt_doc_freep) struct yt_doc *doc = NULL;
	_cleanup_free_ char *text = NULL;
	const struct yt_node *v;
	double d;

	/* 10^400 does not fit a double: float(int) raises OverflowError */
	text = malloc(420);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "v: 1", 4);
	memset(text + 4, '0', 400);
	text[404] = '\0';
	v = parse_v(text, &doc);
	ck_assert(v->v.integer.big);
	ck_assert_int_eq(yt_to_double(v, &d), -ERANGE);
}
END_TEST

static Suite *
yamltree_suite(void)
{
	Suite *s = suite_create("yamltree");
	TCase *tc;

	tc = tcase_create("resolve");
	tcase_add_loop_test(tc, test_resolve, 0, (int)ELEMENTSOF(resolve_cases));
	tcase_add_test(tc, test_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("tags");
	tcase_add_loop_test(tc, test_tags, 0, (int)ELEMENTSOF(tag_cases));
	tcase_add_test(tc, test_tag_recorded);
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_loop_test(tc, test_mappings, 0, (int)ELEMENTSOF(map_cases));
	tcase_add_test(tc, test_aliases_shared);
	tcase_add_test(tc, test_strict_keys);
	tcase_add_test(tc, test_document_shapes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, (int)ELEMENTSOF(error_cases));
	tcase_add_test(tc, test_alias_bomb_refused);
	tcase_add_test(tc, test_merge_bomb_refused);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_lookup_helpers);
	tcase_add_test(tc, test_float_repr);
	tcase_add_test(tc, test_int_to_double_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(yamltree_suite());
	int nfailed;

	srunner_run_all(sr, CK_ENV);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
