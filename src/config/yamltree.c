/* SPDX-License-Identifier: MIT */
/*
 * YAML document tree: libyaml events in, PyYAML SafeLoader semantics out.
 * See yamltree.h for the resolution rules and the decisions.
 *
 * All nodes and strings of a document live in one arena that yt_doc_free()
 * releases at once; the builder keeps only a stack of open collections and
 * the anchor table.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/strbuf.h"
#include "common/util.h"
#include "config/yamltree.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- arena --------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
};

#define CHUNK_SIZE	(16 * 1024)

static void *
arena_alloc(struct arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *c = a->head;
	size_t off;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 2)
		return NULL;
	if (c) {
		off = (c->used + align - 1) / align * align;
		if (off <= c->cap && c->cap - off >= size) {
			c->used = off + size;
			return (char *)c->data + off;
		}
	}
	/* big requests get their own chunk, pushed behind the current one */
	if (size > CHUNK_SIZE / 4) {
		c = malloc(sizeof(struct chunk) + size);
		if (!c)
			return NULL;
		c->used = c->cap = size;
		if (a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = NULL;
			a->head = c;
		}
		return c->data;
	}
	c = malloc(sizeof(struct chunk) + CHUNK_SIZE);
	if (!c)
		return NULL;
	c->cap = CHUNK_SIZE;
	c->used = size;
	c->next = a->head;
	a->head = c;
	return c->data;
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

/* ---- nodes --------------------------------------------------------------- */

/* Resolved tags that are not node kinds of their own. */
enum special {
	SP_NONE,
	SP_MERGE,	/* "<<": only meaningful as a mapping key */
	SP_VALUE,	/* "=": a string when used as a mapping key */
	SP_YAML,	/* "!", "&", "*" resolved implicitly: never constructible */
};

struct node {
	struct yt_node pub;	/* first: yt_node pointers are struct node pointers */
	enum special special;
	bool complete;		/* false while a collection is still being read */
};

struct yt_doc {
	struct arena arena;
	const struct yt_node *root;
};

/* ---- builder state ------------------------------------------------------- */

struct frame {
	struct node *node;
	struct node **kids;	/* sequence items, or key, value, key, value, … */
	size_t n, cap;
	size_t weight;		/* 1 + weights attached so far (saturating) */
};

struct anchor {
	const char *name;
	struct node *node;
};

struct builder {
	struct yt_doc *doc;
	struct yt_limits lim;
	struct frame *stack;
	size_t depth, stack_cap;
	struct anchor *anchors;	/* open addressing, power-of-two size */
	size_t n_anchors, anchors_cap;
	struct node *root;
	unsigned n_docs;
	char *error;
	int error_code;
};

static struct yt_mark
ymark(const yaml_mark_t *m)
{
	return (struct yt_mark) { m->line + 1, m->column + 1 };
}

/* Record the first error: "<message> at line L, column C" (m == NULL: no position). */
static int _printf_(3, 4)
fail(struct builder *b, const struct yt_mark *m, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	if (b->error_code)
		return b->error_code;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		msg = NULL;
		return (b->error_code = -ENOMEM);
	}
	if (m) {
		if (asprintf(&b->error, "%s at line %zu, column %zu", msg, m->line,
		    m->column) < 0) {
			b->error = NULL;
			return (b->error_code = -ENOMEM);
		}
	} else
		b->error = TAKE_PTR(msg);
	return (b->error_code = -EBADMSG);
}

static int
oom(struct builder *b)
{
	if (!b->error_code)
		b->error_code = -ENOMEM;
	return b->error_code;
}

static size_t
sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* ---- anchors ------------------------------------------------------------- */

static struct anchor *
anchor_slot(struct builder *b, const char *name)
{
	size_t mask = b->anchors_cap - 1;
	size_t i = (size_t)fnv1a(FNV_INIT, name, strlen(name)) & mask;

	while (b->anchors[i].name && !streq(b->anchors[i].name, name))
		i = (i + 1) & mask;
	return &b->anchors[i];
}

static struct node *
anchor_find(struct builder *b, const char *name)
{
	if (b->anchors_cap == 0)
		return NULL;
	return anchor_slot(b, name)->node;
}

static int
anchor_add(struct builder *b, struct node *n)
{
	struct anchor *slot;

	if (anchor_find(b, n->pub.anchor))
		return fail(b, &n->pub.mark, "found duplicate anchor '%s'", n->pub.anchor);
	if ((b->n_anchors + 1) * 2 > b->anchors_cap) {
		size_t ncap = b->anchors_cap ? b->anchors_cap * 2 : 64;
		struct anchor *old = b->anchors;
		size_t ocap = b->anchors_cap;

		b->anchors = calloc(ncap, sizeof(struct anchor));
		if (!b->anchors) {
			b->anchors = old;
			return oom(b);
		}
		b->anchors_cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].name)
				*anchor_slot(b, old[i].name) = old[i];
		free(old);
	}
	slot = anchor_slot(b, n->pub.anchor);
	slot->name = n->pub.anchor;
	slot->node = n;
	b->n_anchors++;
	return 0;
}

/* ---- little regex helpers (Python's "$" also matches before a final "\n") --- */

static bool
at_end(const char *p)
{
	return p[0] == '\0' || (p[0] == '\n' && p[1] == '\0');
}

static size_t
span_of(const char *p, const char *set)
{
	return strspn(p, set);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t
digit_run(const char *p)
{
	size_t n = 0;

	while (is_digit(p[n]))
		n++;
	return n;
}

static bool
match_word(const char *s, const char *w)
{
	size_t l = strlen(w);

	return strncmp(s, w, l) == 0 && at_end(s + l);
}

#define DIGITS_ "0123456789_"

/* One base-60 group after ':' as "[0-5]?[0-9]" that must use every digit. */
static const char *
sexagesimal_group(const char *p)
{
	size_t l = digit_run(p);

	if (l == 1 || (l == 2 && p[0] <= '5'))
		return p + l;
	return NULL;
}

static bool
match_bool(const char *s)
{
	static const char *const words[] = {
		"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
		"false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
	};

	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (match_word(s, words[i]))
			return true;
	return false;
}

static bool
match_null(const char *s)
{
	return at_end(s) || match_word(s, "~") || match_word(s, "null") ||
	    match_word(s, "Null") || match_word(s, "NULL");
}

static bool
match_int(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+'), *q;
	size_t n;

	if (p[0] == '0' && p[1] == 'b') {			/* 0b[0-1_]+ */
		n = span_of(p + 2, "01_");
		if (n > 0 && at_end(p + 2 + n))
			return true;
	}
	if (p[0] == '0') {					/* 0[0-7_]+ and 0 */
		n = span_of(p + 1, "01234567_");
		if (at_end(p + 1 + n))
			return true;
	}
	if (p[0] == '0' && p[1] == 'x') {			/* 0x[0-9a-fA-F_]+ */
		n = span_of(p + 2, "0123456789abcdefABCDEF_");
		if (n > 0 && at_end(p + 2 + n))
			return true;
	}
	if (p[0] < '1' || p[0] > '9')
		return false;
	q = p + 1 + span_of(p + 1, DIGITS_);
	if (at_end(q))						/* [1-9][0-9_]* */
		return true;
	if (*q != ':')
		return false;
	while (*q == ':') {					/* (:[0-5]?[0-9])+ */
		q = sexagesimal_group(q + 1);
		if (!q)
			return false;
	}
	return at_end(q);
}

static const char *
match_exponent(const char *q)
{
	if ((q[0] == 'e' || q[0] == 'E') && (q[1] == '-' || q[1] == '+') && is_digit(q[2]))
		return q + 2 + digit_run(q + 2);
	return q;
}

static bool
match_float(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+'), *q;

	if (s[0] == '.' && is_digit(s[1])) {			/* \.[0-9][0-9_]*(exp)? */
		q = match_exponent(s + 2 + span_of(s + 2, DIGITS_));
		if (at_end(q))
			return true;
	}
	if (match_word(p, ".inf") || match_word(p, ".Inf") || match_word(p, ".INF"))
		return true;
	if (match_word(s, ".nan") || match_word(s, ".NaN") || match_word(s, ".NAN"))
		return true;
	if (!is_digit(p[0]))
		return false;
	q = p + 1 + span_of(p + 1, DIGITS_);
	if (*q == '.') {					/* [0-9][0-9_]*\.[0-9_]*(exp)? */
		q = match_exponent(q + 1 + span_of(q + 1, DIGITS_));
		return at_end(q);
	}
	if (*q != ':')
		return false;
	while (*q == ':') {					/* base 60 */
		q = sexagesimal_group(q + 1);
		if (!q)
			return false;
	}
	if (*q != '.')
		return false;
	q++;
	return at_end(q + span_of(q, DIGITS_));
}

/* ---- timestamps ---------------------------------------------------------- */

struct ts {
	int year, month, day;
	bool has_time;
	int hour, minute, second, usec;
	bool has_tz;
	int tz_minutes;
};

static int
take_int(const char **pp, size_t min, size_t max, int *ret)
{
	size_t l = digit_run(*pp);
	int v = 0;

	if (l < min || l > max)
		return -EINVAL;
	for (size_t i = 0; i < l; i++)
		v = v * 10 + ((*pp)[i] - '0');
	*pp += l;
	*ret = v;
	return 0;
}

/*
 * PyYAML's timestamp_regexp; resolver == true adds the implicit resolver's
 * stricter rule (a date without a time needs two-digit month and day).
 * Only the syntax is checked here.
 */
static int
scan_timestamp(const char *s, bool resolver, struct ts *t)
{
	const char *p = s, *m0, *d0;
	int tzh = 0, tzm = 0;
	bool neg;

	*t = (struct ts) { 0 };
	if (take_int(&p, 4, 4, &t->year) < 0 || *p++ != '-')
		return -EINVAL;
	m0 = p;
	if (take_int(&p, 1, 2, &t->month) < 0 || *p++ != '-')
		return -EINVAL;
	d0 = p;
	if (take_int(&p, 1, 2, &t->day) < 0)
		return -EINVAL;
	if (at_end(p))
		return resolver && (d0 - m0 != 3 || p - d0 != 2) ? -EINVAL : 0;
	if (*p == 'T' || *p == 't')
		p++;
	else if (*p == ' ' || *p == '\t')
		p += span_of(p, " \t");
	else
		return -EINVAL;
	t->has_time = true;
	if (take_int(&p, 1, 2, &t->hour) < 0 || *p++ != ':' ||
	    take_int(&p, 2, 2, &t->minute) < 0 || *p++ != ':' ||
	    take_int(&p, 2, 2, &t->second) < 0)
		return -EINVAL;
	if (*p == '.') {
		/* fraction[:6], right-padded with zeros */
		size_t l = digit_run(++p);

		for (size_t i = 0; i < 6; i++)
			t->usec = t->usec * 10 + (i < l ? p[i] - '0' : 0);
		p += l;
	}
	p += span_of(p, " \t");
	if (at_end(p)) {
		/* "[ \t]*" may only be eaten when a zone follows */
		return p[-1] == ' ' || p[-1] == '\t' ? -EINVAL : 0;
	}
	t->has_tz = true;
	if (*p == 'Z') {
		p++;
	} else if (*p == '-' || *p == '+') {
		neg = *p++ == '-';
		if (take_int(&p, 1, 2, &tzh) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (take_int(&p, 2, 2, &tzm) < 0)
				return -EINVAL;
		}
		t->tz_minutes = (tzh * 60 + tzm) * (neg ? -1 : 1);
	} else
		return -EINVAL;
	return at_end(p) ? 0 : -EINVAL;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* datetime.date/datetime/timezone range checks. */
static bool
ts_valid(const struct ts *t)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int dim;

	if (t->year < 1 || t->month < 1 || t->month > 12)
		return false;
	dim = mdays[t->month - 1] + (t->month == 2 && leap(t->year));
	if (t->day < 1 || t->day > dim)
		return false;
	if (t->hour > 23 || t->minute > 59 || t->second > 59)
		return false;
	return t->tz_minutes > -24 * 60 && t->tz_minutes < 24 * 60;
}

static bool
match_timestamp(const char *s)
{
	struct ts t;

	return scan_timestamp(s, true, &t) == 0;
}

/* ---- Python int() / float() on text -------------------------------------- */

struct bignum {
	uint32_t *limb;		/* base 1e9, least significant first */
	size_t n, cap;
};

#define BIG_BASE 1000000000U

static int
big_muladd(struct bignum *b, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;

	for (size_t i = 0; i < b->n; i++) {
		uint64_t t = (uint64_t)b->limb[i] * mul + carry;

		b->limb[i] = (uint32_t)(t % BIG_BASE);
		carry = t / BIG_BASE;
	}
	while (carry) {
		if (b->n == b->cap) {
			size_t ncap = b->cap ? b->cap * 2 : 4;
			uint32_t *nl = reallocarray(b->limb, ncap, sizeof(uint32_t));

			if (!nl)
				return -ENOMEM;
			b->limb = nl;
			b->cap = ncap;
		}
		b->limb[b->n++] = (uint32_t)(carry % BIG_BASE);
		carry /= BIG_BASE;
	}
	return 0;
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

static bool
py_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Python int(s, base) for base 2, 8, 10 or 16 on text without underscores:
 * surrounding whitespace, a sign and (base != 10) the matching prefix are
 * allowed. Adds the magnitude to b (b = b * base^k + digits) and sets
 * *negative. Returns 0, -EINVAL, -ERANGE (too many digits) or -ENOMEM.
 */
static int
py_int_into(const char *s, size_t len, unsigned base, struct bignum *b, bool *negative)
{
	const char *p = s, *end = s + len;
	unsigned chunk_digits, k = 0;
	uint32_t chunk = 0, mul = 1;
	int r;

	*negative = false;
	while (p < end && py_space(*p))
		p++;
	while (end > p && py_space(end[-1]))
		end--;
	if (p < end && (*p == '-' || *p == '+'))
		*negative = *p++ == '-';
	if (end - p >= 2 && p[0] == '0' &&
	    ((base == 2 && (p[1] == 'b' || p[1] == 'B')) ||
	    (base == 8 && (p[1] == 'o' || p[1] == 'O')) ||
	    (base == 16 && (p[1] == 'x' || p[1] == 'X'))))
		p += 2;
	if (p == end)
		return -EINVAL;
	if ((size_t)(end - p) > YT_MAX_INT_DIGITS)
		return -ERANGE;
	/* several digits per multiplication: base^k stays below 2^30 */
	chunk_digits = base == 10 ? 9 : base == 16 ? 7 : base == 8 ? 10 : 29;
	for (; p < end; p++) {
		int d = digit_value(*p);

		if (d >= (int)base)
			return -EINVAL;
		chunk = chunk * base + (uint32_t)d;
		mul *= base;
		if (++k == chunk_digits) {
			r = big_muladd(b, mul, chunk);
			if (r < 0)
				return r;
			chunk = 0;
			mul = 1;
			k = 0;
		}
	}
	if (k > 0) {
		r = big_muladd(b, mul, chunk);
		if (r < 0)
			return r;
	}
	return 0;
}

struct pyint {
	int64_t value;
	bool big;
	char *decimal;	/* malloc'd */
};

static int
big_finish(struct bignum *b, bool negative, struct pyint *ret)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t mag = 0;
	bool fits = true;
	int r;

	while (b->n > 0 && b->limb[b->n - 1] == 0)
		b->n--;
	if (b->n == 0)
		negative = false;
	for (size_t i = b->n; i-- > 0;) {
		if (__builtin_mul_overflow(mag, (uint64_t)BIG_BASE, &mag) ||
		    __builtin_add_overflow(mag, (uint64_t)b->limb[i], &mag)) {
			fits = false;
			break;
		}
	}
	if (fits && mag > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		fits = false;
	ret->big = !fits;
	ret->value = !fits ? 0 : negative ? (int64_t)(0 - mag) : (int64_t)mag;

	r = negative ? strbuf_putc(&sb, '-') : 0;
	if (r >= 0)
		r = strbuf_printf(&sb, "%u", b->n ? b->limb[b->n - 1] : 0U);
	for (size_t i = b->n - (b->n > 0); r >= 0 && i-- > 0;)
		r = strbuf_printf(&sb, "%09u", b->limb[i]);
	if (r < 0) {
		strbuf_free(&sb);
		return r;
	}
	ret->decimal = strbuf_steal(&sb);
	return ret->decimal ? 0 : -ENOMEM;
}

/* SafeConstructor.construct_yaml_int. 0, -EINVAL (not an int), -ERANGE, -ENOMEM. */
static int
construct_int(const char *text, struct pyint *ret)
{
	_cleanup_free_ char *v = malloc(strlen(text) + 1);
	struct bignum b = { 0 };
	bool negative = false, inner = false;
	const char *p;
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (const char *s = text; *s; s++)
		if (*s != '_')
			v[n++] = *s;
	v[n] = '\0';
	if (n == 0)
		return -EINVAL;		/* value[0]: IndexError */
	p = v;
	negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;

	if (streq(p, "0"))
		r = 0;
	else if (startswith(p, "0b"))
		r = py_int_into(p + 2, strlen(p + 2), 2, &b, &inner);
	else if (startswith(p, "0x"))
		r = py_int_into(p + 2, strlen(p + 2), 16, &b, &inner);
	else if (p[0] == '0')
		r = py_int_into(p, strlen(p), 8, &b, &inner);
	else if (strchr(p, ':')) {
		/* base 60: Horner over the groups. Groups after the first must be
		 * non-negative and below 1e9 (implicit ints have 0..59); the
		 * first group must not carry its own sign. */
		const char *colon = strchr(p, ':');

		r = py_int_into(p, (size_t)(colon - p), 10, &b, &inner);
		if (r == 0 && inner)
			r = -EINVAL;
		while (r == 0 && colon) {
			const char *part = colon + 1;
			struct bignum g = { 0 };
			bool gneg;

			colon = strchr(part, ':');
			r = py_int_into(part, colon ? (size_t)(colon - part) : strlen(part), 10, &g,
			    &gneg);
			if (r == 0 && ((gneg && g.n > 0) || g.n > 1))
				r = -EINVAL;
			if (r == 0)
				r = big_muladd(&b, 60, g.n ? g.limb[0] : 0);
			free(g.limb);
		}
	} else
		r = py_int_into(p, strlen(p), 10, &b, &inner);

	if (r < 0) {
		free(b.limb);
		return r;
	}
	r = big_finish(&b, negative != inner, ret);
	free(b.limb);
	return r;
}

/* Python float() of text that is already lower-case without underscores. */
static int
py_float(const char *s, size_t len, double *ret)
{
	_cleanup_free_ char *t = NULL;
	const char *p, *end = s + len, *q;

	while (s < end && py_space(*s))
		s++;
	while (end > s && py_space(end[-1]))
		end--;
	t = strndup(s, (size_t)(end - s));
	if (!t)
		return -ENOMEM;
	p = t + (t[0] == '-' || t[0] == '+');
	if (streq(p, "inf") || streq(p, "infinity") || streq(p, "nan")) {
		*ret = strtod(t, NULL);
		return 0;
	}
	q = p + digit_run(p);
	if (*q == '.') {
		size_t frac = digit_run(q + 1);

		if (q == p && frac == 0)
			return -EINVAL;
		q += 1 + frac;
	} else if (q == p)
		return -EINVAL;
	if (*q == 'e') {
		q += 1 + (q[1] == '-' || q[1] == '+');
		if (!is_digit(*q))
			return -EINVAL;
		q += digit_run(q);
	}
	if (*q)
		return -EINVAL;
	*ret = strtod(t, NULL);		/* overflow → ±inf, as Python */
	return 0;
}

/* SafeConstructor.construct_yaml_float. */
static int
construct_float(const char *text, double *ret)
{
	_cleanup_free_ char *v = malloc(strlen(text) + 1);
	const char *p;
	double sign = 1.0, value;
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (const char *s = text; *s; s++)
		if (*s != '_')
			v[n++] = (char)tolower((unsigned char)*s);
	v[n] = '\0';
	if (n == 0)
		return -EINVAL;
	p = v;
	if (*p == '-')
		sign = -1.0;
	if (*p == '-' || *p == '+')
		p++;
	if (streq(p, ".inf")) {
		*ret = sign * INFINITY;
		return 0;
	}
	if (streq(p, ".nan")) {
		*ret = NAN;
		return 0;
	}
	if (strchr(p, ':')) {
		/* digits reversed, value += digit * base, base *= 60 */
		size_t ng = 1, i = 0;
		double base = 1.0, *groups;
		const char *g = p;

		for (const char *c = p; *c; c++)
			ng += *c == ':';
		groups = calloc(ng, sizeof(double));
		if (!groups)
			return -ENOMEM;
		for (;;) {
			const char *colon = strchr(g, ':');
			size_t gl = colon ? (size_t)(colon - g) : strlen(g);

			r = py_float(g, gl, &groups[i++]);
			if (r < 0 || !colon)
				break;
			g = colon + 1;
		}
		if (r < 0) {
			free(groups);
			return r;
		}
		value = 0.0;
		while (i-- > 0) {
			value += groups[i] * base;
			base *= 60;
		}
		free(groups);
		*ret = sign * value;
		return 0;
	}
	r = py_float(p, strlen(p), &value);
	if (r < 0)
		return r;
	*ret = sign * value;
	return 0;
}

/* SafeConstructor.construct_yaml_bool: bool_values[value.lower()]. */
static int
construct_bool(const char *text, bool *ret)
{
	static const char *const t[] = { "yes", "true", "on" };
	static const char *const f[] = { "no", "false", "off" };

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		if (strcaseeq(text, t[i])) {
			*ret = true;
			return 0;
		}
		if (strcaseeq(text, f[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- scalars ------------------------------------------------------------- */

static struct node *
node_new(struct builder *b, enum yt_kind kind, const yaml_mark_t *m, const char *anchor,
    const char *tag)
{
	struct node *n = arena_alloc(&b->doc->arena, sizeof(*n));

	if (!n)
		return NULL;
	*n = (struct node) {
		.pub = {
			.kind = kind,
			.mark = { m->line + 1, m->column + 1 },
			.weight = 1,
		},
		.complete = true,
	};
	if (anchor) {
		n->pub.anchor = arena_strndup(&b->doc->arena, anchor, strlen(anchor));
		if (!n->pub.anchor)
			return NULL;
	}
	if (tag && !streq(tag, "!")) {
		n->pub.tag = arena_strndup(&b->doc->arena, tag, strlen(tag));
		if (!n->pub.tag)
			return NULL;
	}
	return n;
}

enum rtype {
	R_NULL,
	R_BOOL,
	R_INT,
	R_FLOAT,
	R_STR,
	R_TIMESTAMP,
	R_MERGE,
	R_VALUE,
	R_YAML,
	R_SEQ,
	R_MAP,
	R_UNKNOWN,
	R_MAX,
};

/* Resolver.resolve() for an implicit plain scalar: the first character picks
 * the candidate resolvers, tried in PyYAML's registration order. */
static enum rtype
resolve_plain(const char *s)
{
	char c = s[0];

	if (c == '\0')
		return R_NULL;
	if (strchr("yYnNtTfFoO", c) && match_bool(s))
		return R_BOOL;
	if (strchr("-+0123456789.", c) && match_float(s))
		return R_FLOAT;
	if (strchr("-+0123456789", c) && match_int(s))
		return R_INT;
	if (c == '<' && match_word(s, "<<"))
		return R_MERGE;
	if (strchr("~nN", c) && match_null(s))
		return R_NULL;
	if (is_digit(c) && match_timestamp(s))
		return R_TIMESTAMP;
	if (c == '=' && match_word(s, "="))
		return R_VALUE;
	if (strchr("!&*", c) && at_end(s + 1))
		return R_YAML;
	return R_STR;
}

static const struct {
	const char *name;	/* after "tag:yaml.org,2002:" */
	enum rtype type;
} known_tags[] = {
	{ "null", R_NULL },
	{ "bool", R_BOOL },
	{ "int", R_INT },
	{ "float", R_FLOAT },
	{ "str", R_STR },
	{ "timestamp", R_TIMESTAMP },
	{ "merge", R_MERGE },
	{ "value", R_VALUE },
	{ "yaml", R_YAML },
	{ "seq", R_SEQ },
	{ "map", R_MAP },
};

static enum rtype
tag_type(const char *tag)
{
	const char *rest = startswith(tag, TAG_PREFIX);

	if (!rest)
		return R_UNKNOWN;
	for (size_t i = 0; i < ELEMENTSOF(known_tags); i++)
		if (streq(rest, known_tags[i].name))
			return known_tags[i].type;
	return R_UNKNOWN;
}

/* Echo at most CLIP bytes of a scalar in a message (whole UTF-8 characters), then "…". */
#define CLIP 64
#define CLIPPED(t, l) clip_len((t), (l)), (t), (l) > CLIP ? "…" : ""

static int
clip_len(const char *t, size_t l)
{
	size_t n = CLIP;

	if (l <= CLIP)
		return (int)l;
	while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

static const char *
kind_class_name(enum yt_kind k)
{
	return k == YT_SEQUENCE ? "sequence" : k == YT_MAPPING ? "mapping" : "scalar";
}

static int
build_scalar(struct builder *b, const yaml_event_t *ev, struct node **ret)
{
	const char *value = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	const yaml_mark_t *m = &ev->start_mark;
	const struct yt_mark M = ymark(m);
	enum rtype rt;
	struct node *n;
	char *text;
	int r;

	if (memchr(value, '\0', len))
		return fail(b, &M, "NUL characters in scalars are not supported");
	/* CParser: no tag or "!" → resolve (libyaml marks "!" scalars plain-implicit) */
	if (!tag || streq(tag, "!"))
		rt = ev->data.scalar.plain_implicit ? resolve_plain(value) : R_STR;
	else {
		rt = tag_type(tag);
		if (rt == R_UNKNOWN)
			return fail(b, &M, "could not determine a constructor for the tag '%s'",
			    tag);
		if (rt == R_SEQ || rt == R_MAP)
			return fail(b, &M, "expected a %s node, but found scalar",
			    rt == R_SEQ ? "sequence" : "mapping");
	}

	n = node_new(b, YT_STR, m, (const char *)ev->data.scalar.anchor, tag);
	text = n ? arena_strndup(&b->doc->arena, value, len) : NULL;
	if (!text)
		return oom(b);
	n->pub.text = text;
	n->pub.len = len;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->pub.style = YT_STYLE_SINGLE_QUOTED;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->pub.style = YT_STYLE_DOUBLE_QUOTED;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		n->pub.style = YT_STYLE_LITERAL;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		n->pub.style = YT_STYLE_FOLDED;
		break;
	case YAML_ANY_SCALAR_STYLE:
	case YAML_PLAIN_SCALAR_STYLE:
	default:
		n->pub.style = YT_STYLE_PLAIN;
		break;
	}

	switch (rt) {
	case R_NULL:
		n->pub.kind = YT_NULL;
		break;
	case R_BOOL:
		if (construct_bool(text, &n->pub.v.boolean) < 0)
			return fail(b, &M, "cannot construct a bool from '%.*s%s'",
			    CLIPPED(text, len));
		n->pub.kind = YT_BOOL;
		break;
	case R_INT: {
		struct pyint pi = { 0 };

		r = construct_int(text, &pi);
		if (r == -ENOMEM)
			return oom(b);
		if (r == -ERANGE)
			return fail(b, &M, "integer '%.20s…' has more than %d digits", text,
			    YT_MAX_INT_DIGITS);
		if (r < 0)
			return fail(b, &M, "cannot construct an int from '%.*s%s'",
			    CLIPPED(text, len));
		n->pub.kind = YT_INT;
		n->pub.v.integer.value = pi.value;
		n->pub.v.integer.big = pi.big;
		n->pub.v.integer.decimal = arena_strndup(&b->doc->arena, pi.decimal,
		    strlen(pi.decimal));
		free(pi.decimal);
		if (!n->pub.v.integer.decimal)
			return oom(b);
		break;
	}
	case R_FLOAT:
		r = construct_float(text, &n->pub.v.real);
		if (r == -ENOMEM)
			return oom(b);
		if (r < 0)
			return fail(b, &M, "cannot construct a float from '%.*s%s'",
			    CLIPPED(text, len));
		n->pub.kind = YT_FLOAT;
		break;
	case R_TIMESTAMP: {
		struct ts t;

		if (scan_timestamp(text, false, &t) < 0 || !ts_valid(&t))
			return fail(b, &M, "cannot construct a timestamp from '%.*s%s'",
			    CLIPPED(text, len));
		n->pub.kind = YT_TIMESTAMP;
		n->pub.v.ts.year = t.year;
		n->pub.v.ts.month = t.month;
		n->pub.v.ts.day = t.day;
		n->pub.v.ts.has_time = t.has_time;
		n->pub.v.ts.hour = t.hour;
		n->pub.v.ts.minute = t.minute;
		n->pub.v.ts.second = t.second;
		n->pub.v.ts.usec = t.usec;
		n->pub.v.ts.has_tz = t.has_tz;
		n->pub.v.ts.tz_minutes = t.tz_minutes;
		break;
	}
	case R_MERGE:
		n->special = SP_MERGE;
		break;
	case R_VALUE:
		n->special = SP_VALUE;
		break;
	case R_YAML:
		n->special = SP_YAML;
		break;
	case R_STR:
	case R_SEQ:
	case R_MAP:
	case R_UNKNOWN:
	case R_MAX:
	default:
		break;
	}
	*ret = n;
	return 0;
}

/* ---- tree assembly ------------------------------------------------------- */

static const char *
special_tag(enum special s)
{
	return s == SP_MERGE ? TAG_PREFIX "merge" : s == SP_VALUE ? TAG_PREFIX "value" :
	    TAG_PREFIX "yaml";
}

/* Hook a finished node (or an alias target) into the open collection. */
static int
attach(struct builder *b, struct node *n, const yaml_mark_t *m)
{
	const struct yt_mark M = ymark(m);
	struct frame *f;
	bool key_position;

	if (b->depth == 0) {
		if (n->special != SP_NONE)
			return fail(b, &n->pub.mark,
			    "could not determine a constructor for the tag '%s'",
			    special_tag(n->special));
		b->root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	key_position = f->node->pub.kind == YT_MAPPING && f->n % 2 == 0;
	/* "<<" and "=" only make sense as keys (flatten_mapping) */
	if (n->special != SP_NONE && !(key_position && n->special != SP_YAML))
		return fail(b, &n->pub.mark, "could not determine a constructor for the tag '%s'",
		    special_tag(n->special));
	if (key_position && n->special == SP_NONE && !yt_is_scalar(&n->pub))
		return fail(b, &n->pub.mark, "found unhashable key (a %s)",
		    kind_class_name(n->pub.kind));

	f->weight = sat_add(f->weight, n->pub.weight);
	if (f->weight > b->lim.max_nodes)
		return fail(b, &M, "document too large: more than %zu nodes after alias expansion",
		    b->lim.max_nodes);
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;
		struct node **nk = reallocarray(f->kids, ncap, sizeof(*nk));

		if (!nk)
			return oom(b);
		f->kids = nk;
		f->cap = ncap;
	}
	f->kids[f->n++] = n;
	return 0;
}

static int
open_collection(struct builder *b, const yaml_event_t *ev)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag :
	    ev->data.sequence_start.tag);
	const char *anchor = (const char *)(is_map ? ev->data.mapping_start.anchor :
	    ev->data.sequence_start.anchor);
	bool flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE :
	    ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	const struct yt_mark M = ymark(&ev->start_mark);
	struct node *n;
	int r;

	if (tag && !streq(tag, "!")) {
		enum rtype rt = tag_type(tag);

		if (rt == R_UNKNOWN)
			return fail(b, &M, "could not determine a constructor for the tag '%s'",
			    tag);
		if (rt != (is_map ? R_MAP : R_SEQ))
			return fail(b, &M, "expected a %s node, but found %s",
			    rt == R_SEQ ? "sequence" : rt == R_MAP ? "mapping" : "scalar",
			    is_map ? "mapping" : "sequence");
	}
	if (b->depth >= b->lim.max_depth)
		return fail(b, &M, "too deeply nested (more than %u levels)",
		    b->lim.max_depth);
	n = node_new(b, is_map ? YT_MAPPING : YT_SEQUENCE, &ev->start_mark, anchor, tag);
	if (!n)
		return oom(b);
	n->pub.style = flow ? YT_STYLE_FLOW : YT_STYLE_BLOCK;
	n->complete = false;
	if (n->pub.anchor) {
		r = anchor_add(b, n);
		if (r < 0)
			return r;
	}
	if (b->depth == b->stack_cap) {
		size_t ncap = b->stack_cap ? b->stack_cap * 2 : 16;
		struct frame *ns = reallocarray(b->stack, ncap, sizeof(*ns));

		if (!ns)
			return oom(b);
		b->stack = ns;
		b->stack_cap = ncap;
	}
	b->stack[b->depth++] = (struct frame) { .node = n, .weight = 1 };
	return 0;
}

/* A key's identity as a Python dict sees it: 1 == 1.0 == True, … */
struct keyrep {
	char cls;		/* 0: never equal to anything (NaN) */
	const char *p;
	size_t len;
	char buf[400];		/* %.0f of DBL_MAX has 309 digits */
};

static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
is_nan_literal(const char *text)
{
	char v[8];
	size_t n = 0;

	for (const char *s = text + (*text == '-' || *text == '+'); *s; s++) {
		if (*s == '_')
			continue;
		if (n + 1 >= sizeof(v))
			return false;
		v[n++] = (char)tolower((unsigned char)*s);
	}
	v[n] = '\0';
	return streq(v, ".nan");
}

static void
key_rep(const struct yt_node *k, struct keyrep *kr)
{
	int l = 0;

	kr->cls = 'n';
	kr->p = kr->buf;
	switch (k->kind) {
	case YT_STR:
		kr->cls = 's';
		kr->p = k->text;
		kr->len = k->len;
		return;
	case YT_NULL:
		kr->cls = 'z';
		kr->len = 0;
		return;
	case YT_BOOL:
		l = snprintf(kr->buf, sizeof(kr->buf), "%d", k->v.boolean ? 1 : 0);
		break;
	case YT_INT:
		kr->p = k->v.integer.decimal;
		kr->len = strlen(kr->p);
		return;
	case YT_FLOAT: {
		double v = k->v.real;

		if (isnan(v)) {
			/* construct_yaml_float returns one shared object for ".nan",
			 * and dict lookup tries identity first; every other NaN
			 * (!!float nan, 1:.nan) is a new object, equal to nothing */
			kr->cls = is_nan_literal(k->text) ? 'N' : 0;
			kr->len = 0;
			return;
		}
		if (isinf(v))
			l = snprintf(kr->buf, sizeof(kr->buf), "%s", v < 0 ? "-inf" : "inf");
		else if (v == floor(v))
			l = snprintf(kr->buf, sizeof(kr->buf), "%.0f", v == 0 ? 0.0 : v);
		else
			l = snprintf(kr->buf, sizeof(kr->buf), "%.17g", v);
		break;
	}
	case YT_TIMESTAMP:
		if (!k->v.ts.has_time) {
			kr->cls = 'd';
			l = snprintf(kr->buf, sizeof(kr->buf), "%d-%d-%d", k->v.ts.year,
			    k->v.ts.month, k->v.ts.day);
		} else {
			int64_t secs = days_from_civil(k->v.ts.year, k->v.ts.month, k->v.ts.day) *
			    86400 + k->v.ts.hour * 3600 + k->v.ts.minute * 60 + k->v.ts.second;

			/* aware datetimes compare as instants; naive ones never equal them */
			kr->cls = k->v.ts.has_tz ? 'u' : 't';
			if (k->v.ts.has_tz)
				secs -= (int64_t)k->v.ts.tz_minutes * 60;
			l = snprintf(kr->buf, sizeof(kr->buf), "%lld.%06d", (long long)secs,
			    k->v.ts.usec);
		}
		break;
	case YT_SEQUENCE:
	case YT_MAPPING:
	case YT_KIND_MAX:
	default:
		kr->cls = 0;
		l = 0;
		break;
	}
	kr->len = l > 0 ? (size_t)l : 0;
}

static bool
keyrep_eq(const struct keyrep *a, const struct keyrep *b)
{
	return a->cls && a->cls == b->cls && a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

struct outpair {
	struct yt_pair pair;
	bool explicit;
};

static int
close_mapping(struct builder *b, struct frame *f, const struct yt_mark *end)
{
	struct node *n = f->node;
	const struct yt_pair **merges = NULL;	/* merged source pair lists, in order */
	size_t *merge_lens = NULL, n_merges = 0, cap_merges = 0, flat = 0, out_n = 0;
	size_t *table = NULL, tcap = 1, weight = 1;
	struct outpair *out = NULL;
	struct yt_pair *pairs;
	int r = 0;

	/* flatten_mapping(): merge sources first, then the explicit pairs */
	for (size_t i = 0; i + 1 < f->n; i += 2) {
		const struct node *k = f->kids[i], *v = f->kids[i + 1];
		size_t cnt;

		if (k->special != SP_MERGE) {
			flat = sat_add(flat, 1);
			continue;
		}
		if (v->pub.kind == YT_MAPPING)
			cnt = 1;
		else if (v->pub.kind == YT_SEQUENCE)
			cnt = v->pub.v.seq.n;
		else {
			r = fail(b, NULL,
			    "expected a mapping or list of mappings for merging, but found %s "
			    "at line %zu, column %zu", yt_kind_to_string(v->pub.kind),
			    v->pub.mark.line, v->pub.mark.column);
			goto finish;
		}
		if (n_merges + cnt > cap_merges) {
			size_t ncap = (n_merges + cnt) * 2;
			const struct yt_pair **nm = reallocarray(merges, ncap, sizeof(*nm));
			size_t *nl = nm ? reallocarray(merge_lens, ncap, sizeof(*nl)) : NULL;

			if (nm)
				merges = nm;
			if (!nl) {
				r = oom(b);
				goto finish;
			}
			merge_lens = nl;
			cap_merges = ncap;
		}
		if (v->pub.kind == YT_MAPPING) {
			merges[n_merges] = v->pub.v.map.pairs;
			merge_lens[n_merges++] = v->pub.v.map.n;
			flat = sat_add(flat, v->pub.v.map.n);
			continue;
		}
		/* a list of mappings: the earlier ones win, so they go last */
		for (size_t j = cnt; j-- > 0;) {
			const struct yt_node *s = v->pub.v.seq.items[j];

			if (s->kind != YT_MAPPING) {
				r = fail(b, NULL,
				    "expected a mapping for merging, but found %s at line %zu, "
				    "column %zu", yt_kind_to_string(s->kind), s->mark.line,
				    s->mark.column);
				goto finish;
			}
			merges[n_merges] = s->v.map.pairs;
			merge_lens[n_merges++] = s->v.map.n;
			flat = sat_add(flat, s->v.map.n);
		}
	}
	if (flat > b->lim.max_nodes) {
		r = fail(b, end, "document too large: more than %zu nodes after alias expansion",
		    b->lim.max_nodes);
		goto finish;
	}

	out = calloc(flat ? flat : 1, sizeof(*out));
	while (tcap < flat * 2)
		tcap *= 2;
	table = malloc(tcap * sizeof(size_t));
	if (!out || !table) {
		r = oom(b);
		goto finish;
	}
	memset(table, 0xff, tcap * sizeof(size_t));

	/* construct_mapping(): insert in order, last value wins, first key stays */
	for (size_t pass = 0; pass < 2; pass++) {
		size_t mi = 0, pi = 0, ei = 0;

		for (;;) {
			const struct yt_node *k, *v;
			struct keyrep kr, other;
			bool explicit = pass == 1;
			size_t slot;
			uint64_t h;

			if (pass == 0) {
				while (mi < n_merges && pi >= merge_lens[mi]) {
					mi++;
					pi = 0;
				}
				if (mi >= n_merges)
					break;
				k = merges[mi][pi].key;
				v = merges[mi][pi].value;
				pi++;
			} else {
				while (ei + 1 < f->n && f->kids[ei]->special == SP_MERGE)
					ei += 2;
				if (ei + 1 >= f->n)
					break;
				k = &f->kids[ei]->pub;
				v = &f->kids[ei + 1]->pub;
				ei += 2;
			}
			key_rep(k, &kr);
			h = fnv1a(fnv1a(FNV_INIT, &kr.cls, 1), kr.p, kr.len);
			slot = (size_t)h & (tcap - 1);
			while (kr.cls && table[slot] != SIZE_MAX) {
				key_rep(out[table[slot]].pair.key, &other);
				if (keyrep_eq(&kr, &other))
					break;
				slot = (slot + 1) & (tcap - 1);
			}
			if (kr.cls && table[slot] != SIZE_MAX) {
				struct outpair *o = &out[table[slot]];

				if (b->lim.strict_keys && explicit && o->explicit) {
					_cleanup_free_ char *ks = NULL;

					(void)yt_str_form(k, &ks);
					r = fail(b, NULL,
					    "found duplicate key '%s' at line %zu, column %zu",
					    ks ? ks : "?", k->mark.line, k->mark.column);
					goto finish;
				}
				o->pair.value = v;
				o->explicit = explicit;
				continue;
			}
			if (kr.cls)
				table[slot] = out_n;
			out[out_n++] = (struct outpair) { { k, v }, explicit };
		}
	}

	pairs = arena_alloc(&b->doc->arena, (out_n ? out_n : 1) * sizeof(*pairs));
	if (!pairs) {
		r = oom(b);
		goto finish;
	}
	for (size_t i = 0; i < out_n; i++) {
		pairs[i] = out[i].pair;
		weight = sat_add(weight, sat_add(pairs[i].key->weight, pairs[i].value->weight));
	}
	if (weight > b->lim.max_nodes) {
		r = fail(b, end, "document too large: more than %zu nodes after alias expansion",
		    b->lim.max_nodes);
		goto finish;
	}
	n->pub.v.map.pairs = pairs;
	n->pub.v.map.n = out_n;
	n->pub.weight = weight;
finish:
	free(merges);
	free(merge_lens);
	free(out);
	free(table);
	return r;
}

static int
close_collection(struct builder *b, const yaml_event_t *ev)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct node *n = f->node;
	int r = 0;

	if (n->pub.kind == YT_SEQUENCE) {
		const struct yt_node **items = arena_alloc(&b->doc->arena,
		    (f->n ? f->n : 1) * sizeof(*items));

		if (!items)
			r = oom(b);
		else {
			for (size_t i = 0; i < f->n; i++)
				items[i] = &f->kids[i]->pub;
			n->pub.v.seq.items = items;
			n->pub.v.seq.n = f->n;
			n->pub.weight = f->weight;
		}
	} else {
		const struct yt_mark end = ymark(&ev->start_mark);

		r = close_mapping(b, f, &end);
	}
	free(f->kids);
	b->depth--;
	if (r < 0)
		return r;
	n->complete = true;
	return attach(b, n, &ev->start_mark);
}

static int
parser_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	const struct yt_mark pm = ymark(&p->problem_mark), cm = ymark(&p->context_mark);

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return oom(b);
	case YAML_READER_ERROR:
		if (p->problem_value != -1)
			return fail(b, NULL, "%s: #%X at byte offset %zu", problem,
			    (unsigned)p->problem_value, p->problem_offset);
		return fail(b, NULL, "%s at byte offset %zu", problem, p->problem_offset);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_NO_ERROR:
	case YAML_COMPOSER_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
	default:
		if (p->context)
			return fail(b, NULL,
			    "%s at line %zu, column %zu (%s at line %zu, column %zu)",
			    problem, pm.line, pm.column, p->context, cm.line, cm.column);
		return fail(b, &pm, "%s", problem);
	}
}

static int
handle_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
	const struct yt_mark M = ymark(&ev->start_mark);
	struct node *n = NULL;
	int r;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (b->n_docs++ > 0)
			return fail(b, &M,
			    "expected a single document in the stream, but found another document");
		return 0;
	case YAML_ALIAS_EVENT:
		n = anchor_find(b, (const char *)ev->data.alias.anchor);
		if (!n)
			return fail(b, &M, "found undefined alias '%s'",
			    (const char *)ev->data.alias.anchor);
		if (!n->complete)
			return fail(b, &M, "found recursive alias '%s'",
			    (const char *)ev->data.alias.anchor);
		return attach(b, n, &ev->start_mark);
	case YAML_SCALAR_EVENT:
		r = build_scalar(b, ev, &n);
		if (r < 0)
			return r;
		if (n->pub.anchor) {
			r = anchor_add(b, n);
			if (r < 0)
				return r;
		}
		return attach(b, n, &ev->start_mark);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return open_collection(b, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_collection(b, ev);
	default:
		return 0;
	}
}

int
yt_parse(const char *text, size_t len, const struct yt_limits *limits, struct yt_doc **ret,
    char **ret_error)
{
	struct builder b = { 0 };
	yaml_parser_t parser;
	bool done = false;
	int r = 0;

	if (ret_error)
		*ret_error = NULL;
	if (limits)
		b.lim = *limits;
	if (!b.lim.max_bytes)
		b.lim.max_bytes = YT_DEFAULT_MAX_BYTES;
	if (!b.lim.max_nodes)
		b.lim.max_nodes = YT_DEFAULT_MAX_NODES;
	if (!b.lim.max_depth)
		b.lim.max_depth = YT_DEFAULT_MAX_DEPTH;

	if (len > b.lim.max_bytes) {
		if (ret_error && asprintf(ret_error, "YAML text too large (%zu bytes, at most %zu)",
		    len, b.lim.max_bytes) < 0)
			*ret_error = NULL;
		return -EMSGSIZE;
	}
	b.doc = calloc(1, sizeof(*b.doc));
	if (!b.doc)
		return -ENOMEM;
	if (!yaml_parser_initialize(&parser)) {
		free(b.doc);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);
	/*
	 * The reference decodes the text as UTF-8 and hands libyaml UTF-8
	 * without naming the encoding, so a UTF-8 BOM is detected and skipped.
	 * A UTF-16 BOM is not valid UTF-8: force UTF-8 so that it fails.
	 */
	if (len >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') ||
	    (text[0] == '\xfe' && text[1] == '\xff')))
		yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			r = parser_error(&b, &parser);
			break;
		}
		r = handle_event(&b, &ev, &done);
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);

	for (size_t i = 0; i < b.depth; i++)
		free(b.stack[i].kids);
	free(b.stack);
	free(b.anchors);

	if (r == 0 && !b.root) {
		/* empty stream: yaml.load() returns None */
		yaml_mark_t m = { 0, 0, 0 };

		b.root = node_new(&b, YT_NULL, &m, NULL, NULL);
		if (b.root) {
			b.root->pub.text = "";
			b.root->pub.len = 0;
		} else
			r = -ENOMEM;
	}
	if (r < 0) {
		if (ret_error && r != -ENOMEM)
			*ret_error = TAKE_PTR(b.error);
		free(b.error);
		yt_doc_free(b.doc);
		return r;
	}
	b.doc->root = &b.root->pub;
	*ret = b.doc;
	return 0;
}

struct yt_doc *
yt_doc_free(struct yt_doc *doc)
{
	if (!doc)
		return NULL;
	arena_free(&doc->arena);
	free(doc);
	return NULL;
}

const struct yt_node *
yt_doc_root(const struct yt_doc *doc)
{
	return doc->root;
}

/* ---- accessors ----------------------------------------------------------- */

const char *
yt_kind_to_string(enum yt_kind k)
{
	static const char *const names[YT_KIND_MAX] = {
		[YT_NULL] = "null",
		[YT_BOOL] = "bool",
		[YT_INT] = "int",
		[YT_FLOAT] = "float",
		[YT_STR] = "str",
		[YT_TIMESTAMP] = "timestamp",
		[YT_SEQUENCE] = "sequence",
		[YT_MAPPING] = "mapping",
	};

	return (unsigned)k < YT_KIND_MAX ? names[k] : "invalid";
}

size_t
yt_len(const struct yt_node *n)
{
	if (!n)
		return 0;
	if (n->kind == YT_SEQUENCE)
		return n->v.seq.n;
	if (n->kind == YT_MAPPING)
		return n->v.map.n;
	return 0;
}

const struct yt_node *
yt_seq_at(const struct yt_node *seq, size_t i)
{
	if (!seq || seq->kind != YT_SEQUENCE || i >= seq->v.seq.n)
		return NULL;
	return seq->v.seq.items[i];
}

const struct yt_pair *
yt_map_at(const struct yt_node *map, size_t i)
{
	if (!map || map->kind != YT_MAPPING || i >= map->v.map.n)
		return NULL;
	return &map->v.map.pairs[i];
}

const struct yt_node *
yt_map_get(const struct yt_node *map, const char *key)
{
	size_t kl = strlen(key);

	if (!map || map->kind != YT_MAPPING)
		return NULL;
	/* keys are unique after construction, so the first match is the one */
	for (size_t i = 0; i < map->v.map.n; i++) {
		const struct yt_node *k = map->v.map.pairs[i].key;

		if (k->kind == YT_STR && k->len == kl && memcmp(k->text, key, kl) == 0)
			return map->v.map.pairs[i].value;
	}
	return NULL;
}

int
yt_float_repr(char *buf, size_t n, double v)
{
	const char *s = NULL;

	if (isnan(v))
		s = "nan";
	else if (isinf(v))
		s = v < 0 ? "-inf" : "inf";
	if (s) {
		int l = snprintf(buf, n, "%s", s);

		return l < 0 || (size_t)l >= n ? -EINVAL : 0;
	}
	return fmt_float_repr(buf, n, v);
}

int
yt_str_form(const struct yt_node *n, char **ret)
{
	char buf[96];
	const char *s = buf;
	char *copy;
	int r;

	if (!n)
		return -EINVAL;
	switch (n->kind) {
	case YT_NULL:
		s = "None";
		break;
	case YT_BOOL:
		s = n->v.boolean ? "True" : "False";
		break;
	case YT_INT:
		s = n->v.integer.decimal;
		break;
	case YT_FLOAT:
		r = yt_float_repr(buf, sizeof(buf), n->v.real);
		if (r < 0)
			return r;
		break;
	case YT_STR:
		s = n->text;
		break;
	case YT_TIMESTAMP: {
		__auto_type t = &n->v.ts;
		size_t o;
		int l;

		l = snprintf(buf, sizeof(buf), "%04d-%02d-%02d", t->year, t->month, t->day);
		if (t->has_time && l > 0)
			l += snprintf(buf + l, sizeof(buf) - (size_t)l, " %02d:%02d:%02d", t->hour,
			    t->minute, t->second);
		if (t->has_time && t->usec && l > 0)
			l += snprintf(buf + l, sizeof(buf) - (size_t)l, ".%06d", t->usec);
		if (t->has_time && t->has_tz && l > 0) {
			int a = abs(t->tz_minutes);

			l += snprintf(buf + l, sizeof(buf) - (size_t)l, "%c%02d:%02d",
			    t->tz_minutes < 0 ? '-' : '+', a / 60, a % 60);
		}
		o = l > 0 ? (size_t)l : sizeof(buf);
		if (o >= sizeof(buf))
			return -EINVAL;
		break;
	}
	case YT_SEQUENCE:
	case YT_MAPPING:
	case YT_KIND_MAX:
	default:
		return -EINVAL;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

int
yt_to_double(const struct yt_node *n, double *ret)
{
	double v;

	if (!n)
		return -EINVAL;
	switch (n->kind) {
	case YT_BOOL:
		*ret = n->v.boolean ? 1.0 : 0.0;
		return 0;
	case YT_FLOAT:
		*ret = n->v.real;
		return 0;
	case YT_INT:
		if (!n->v.integer.big) {
			*ret = (double)n->v.integer.value;
			return 0;
		}
		/* correctly rounded, like float(int) */
		v = strtod(n->v.integer.decimal, NULL);
		if (isinf(v))
			return -ERANGE;
		*ret = v;
		return 0;
	case YT_NULL:
	case YT_STR:
	case YT_TIMESTAMP:
	case YT_SEQUENCE:
	case YT_MAPPING:
	case YT_KIND_MAX:
	default:
		return -EINVAL;
	}
}
