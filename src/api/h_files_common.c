/* SPDX-License-Identifier: MIT */
/*
 * What the server file manager (§13) and the archive manager (§14) share:
 * opening the base, query and path rules, error answers, and the handlers
 * whose behaviour is the same for both (§15): list, read, write, download,
 * create, delete, rename.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/h_files.h"
#include "api/h_servers.h"
#include "common/log.h"
#include "common/util.h"
#include "http/body.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pathsafe_listing *, pathsafe_listing_free)

static const char *const texts[_FM_KIND_MAX][_FMT_MAX] = {
	[FM_SERVER] = {
		[FMT_LIST_FAIL] = "Failed to list files",
		[FMT_READ_FAIL] = "Failed to read file",
		[FMT_UPDATE_OK] = "File updated successfully",
		[FMT_UPDATE_FAIL] = "Failed to update file",
		[FMT_DOWNLOAD_MISSING] = "File not found",
		[FMT_DOWNLOAD_FAIL] = "Failed to download file",
		[FMT_UPLOAD_FAIL] = "Failed to upload file",
		[FMT_MKDIR_FAIL] = "Failed to create directory",
		[FMT_MKFILE_FAIL] = "Failed to create file",
		[FMT_DELETE_FAIL] = "Failed to delete",
		[FMT_RENAME_FAIL] = "Failed to rename",
	},
	[FM_ARCHIVE] = {
		[FMT_LIST_FAIL] = "Failed to list archive files",
		[FMT_READ_FAIL] = "Failed to read archive file",
		[FMT_UPDATE_OK] = "Archive file updated successfully",
		[FMT_UPDATE_FAIL] = "Failed to update archive file",
		[FMT_DOWNLOAD_MISSING] = "Archive file not found",
		[FMT_DOWNLOAD_FAIL] = "Failed to download archive file",
		[FMT_UPLOAD_FAIL] = "Failed to upload archive file",
		[FMT_MKDIR_FAIL] = "Failed to create archive directory",
		[FMT_MKFILE_FAIL] = "Failed to create archive file",
		[FMT_DELETE_FAIL] = "Failed to delete archive item",
		[FMT_RENAME_FAIL] = "Failed to rename archive item",
	},
};

const char *
fm_text(const struct fm *fm, enum fm_text t)
{
	return texts[fm->kind][t];
}

void
fm_done(struct fm *fm)
{
	if (fm->base_fd >= 0)
		(void)close(fm->base_fd);
	fm->base_fd = -1;
	server_ref_done(&fm->ref);
}


/* ---- answers ---------------------------------------------------------------------- */

static int
answered(int r)
{
	return r < 0 ? r : 1;
}

int
fm_verr(struct ctx *c, const char *where, const char *name, const char *type, const char *msg,
    json_object *input)
{
	struct verrs ve = { 0 };
	const char *loc[] = { where, name, NULL };
	int r;

	r = verrs_add(&ve, type, loc, msg, input, NULL);
	if (r >= 0)
		r = resp_verrs(c->rs, &ve);
	verrs_done(&ve);
	return answered(r);
}

int
fm_fail_500(struct ctx *c, int r, const char *prefix)
{
	if (r == -ENOMEM)
		return r;
	log_error_errno(r, "%s %s: %s: %m", c->rq->method_name, c->rq->path, prefix);
	return answered(resp_detail(c->rs, 500, "%s: %s", prefix, strerror(-r)));
}

int
fm_fail_file(struct ctx *c, int r, const char *missing, const char *fail)
{
	switch (r) {
	case -EINVAL:
	case -ELOOP:
	case -EXDEV:
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	case -ENOENT:
	case -ENOTDIR:
		return answered(resp_detail(c->rs, 404, "%s", missing));
	case -EISDIR:
	case -ENXIO:
		return answered(resp_detail(c->rs, 400, "Path is not a file"));
	default:
		return fm_fail_500(c, r, fail);
	}
}

/* ---- opening ---------------------------------------------------------------------- */

int
fm_open(struct ctx *c, enum fm_kind kind, bool create, struct fm *ret)
{
	struct fm fm = FM_INIT;
	int r;

	fm.kind = kind;
	if (kind == FM_ARCHIVE) {
		/* §14: every call first creates A (with parents) */
		r = pathsafe_base_open(c->app->cfg->archive_path, PATHSAFE_PARENTS, 0755);
		if (r < 0)
			return fm_fail_500(c, r, "Cannot open the archive directory");
		fm.base_fd = r;
		*ret = fm;
		return 0;
	}

	r = hs_resolve(c, &fm.ref);
	if (r != 0)
		return r;	/* 404 / 503 answered, or -errno */
	r = servers_data_open(&fm.ref);
	if (r == -ENOENT && create) {
		if (mkdirat(fm.ref.dir_fd, SERVERS_DATA_DIR, 0755) < 0 && errno != EEXIST)
			r = -errno;
		else
			r = servers_data_open(&fm.ref);
	}
	if (r == -ENOENT && !create)
		r = -1;		/* no data/ yet: an empty tree for reads */
	else if (r < 0) {
		fm_done(&fm);
		if (r == -ELOOP || r == -ENOTDIR)
			return answered(resp_detail(c->rs, 400, "Invalid path"));
		return fm_fail_500(c, r, "Cannot open the server's data directory");
	}
	fm.base_fd = r;
	*ret = fm;
	return 0;
}

int
fm_base_owner(const struct fm *fm, uid_t *ret_uid, gid_t *ret_gid)
{
	struct stat st;

	if (fm->base_fd < 0 || fstat(fm->base_fd, &st) < 0)
		return fm->base_fd < 0 ? -EBADF : -errno;
	*ret_uid = st.st_uid;
	*ret_gid = st.st_gid;
	return 0;
}

/* ---- queries and paths ---------------------------------------------------------------- */

int
fm_query(struct ctx *c, const char *name, bool required, const char *def, char **ret)
{
	char *v = NULL;
	int r;

	r = req_query_get(c->rq, name, &v);
	if (r == -EINVAL)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	if (r < 0)
		return r;
	if (r == 0) {
		if (required)
			return fm_verr(c, "query", name, "missing", "Field required", NULL);
		if (def) {
			v = strdup(def);
			if (!v)
				return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

int
fm_query_bool(struct ctx *c, const char *name, bool def, bool *ret)
{
	_cleanup_free_ char *v = NULL;
	int r;

	r = req_query_get(c->rq, name, &v);
	if (r < 0 && r != -EINVAL)
		return r;
	if (r == 0) {
		*ret = def;
		return 0;
	}
	r = r == -EINVAL ? -EINVAL : parse_bool_query(v);
	if (r < 0)
		return fm_verr(c, "query", name, "bool_parsing",
		    "Input should be a valid boolean, unable to interpret input",
		    v ? json_object_new_string(v) : NULL);
	*ret = r;
	return 0;
}

int
fm_path(struct ctx *c, const char *raw, size_t len, char **ret)
{
	int r = pathsafe_path_normalize(raw ? raw : "", raw ? len : 0, ret);

	if (r == -EINVAL)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	return r < 0 ? r : 0;
}

int
fm_path_join(struct ctx *c, const char *dir, const char *rel, char **ret)
{
	_cleanup_free_ char *j = NULL;

	if (asprintf(&j, "%s/%s", dir, rel) < 0)
		return -ENOMEM;
	return fm_path(c, j, strlen(j), ret);
}

int
fm_query_path(struct ctx *c, const char *def, char **ret_raw, char **ret_canon)
{
	_cleanup_free_ char *raw = NULL, *canon = NULL;
	int r;

	r = fm_query(c, "path", /* required= */ !def, def, &raw);
	if (r != 0)
		return r;
	r = fm_path(c, raw, strlen(raw), &canon);
	if (r != 0)
		return r;
	if (ret_raw)
		*ret_raw = TAKE_PTR(raw);
	*ret_canon = TAKE_PTR(canon);
	return 0;
}

int
fm_open_path(struct ctx *c, enum fm_kind kind, struct fm *ret, char **ret_canon)
{
	_cleanup_free_ char *canon = NULL;
	int r;

	r = fm_query_path(c, /* def= */ NULL, /* ret_raw= */ NULL, &canon);
	if (r != 0)
		return r;
	r = fm_open(c, kind, /* create= */ false, ret);
	if (r != 0)
		return r;
	*ret_canon = TAKE_PTR(canon);
	return 0;
}

/* ---- list (§15.2) --------------------------------------------------------------------- */

static json_object *
file_item(const char *dir, const struct pathsafe_entry *e)
{
	_cleanup_free_ char *path = NULL;
	json_object *o;
	double mtime = (double)e->st.mtime.tv_sec + (double)e->st.mtime.tv_nsec / 1e9;

	if (asprintf(&path, "/%s%s%s", dir, *dir ? "/" : "", e->name) < 0)
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_new_string_lossy(e->name, strlen(e->name)));
	json_object_object_add(o, "type", json_object_new_string(
	    e->st.type == PATHSAFE_FILE ? "file" : "directory"));
	json_object_object_add(o, "size", json_object_new_int64(
	    e->st.type == PATHSAFE_FILE ? e->st.size : 0));
	json_object_object_add(o, "modified_at", json_new_float(mtime));
	json_object_object_add(o, "path", json_new_string_lossy(path, strlen(path)));
	return o;
}

int
fm_list(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *raw = NULL, *canon = NULL;
	_cleanup_(pathsafe_listing_freep) struct pathsafe_listing *l = NULL;
	json_object *o, *items;
	int r;

	r = fm_query_path(c, "/", &raw, &canon);
	if (r != 0)
		return r;
	r = fm_open(c, kind, false, &fm);
	if (r != 0)
		return r;
	if (fm.base_fd >= 0) {
		r = pathsafe_list(fm.base_fd, canon, 0, &l);
		/* a symlink on the way is never followed, like everywhere else */
		if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
			return answered(resp_detail(c->rs, 400, "Invalid path"));
		/* a missing path or a non-directory lists as empty (§15.2) */
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
			return fm_fail_500(c, r, fm_text(&fm, FMT_LIST_FAIL));
	}
	items = json_object_new_array();
	o = json_object_new_object();
	if (!items || !o) {
		json_object_put(items);
		json_object_put(o);
		return -ENOMEM;
	}
	for (size_t i = 0; l && i < l->n_entries; i++) {
		json_object *it = file_item(l->dir, &l->entries[i]);

		if (!it || json_object_array_add(items, it) < 0) {
			json_object_put(it);
			json_object_put(items);
			json_object_put(o);
			return -ENOMEM;
		}
	}
	json_object_object_add(o, "items", items);
	/* echoed verbatim (§13) */
	json_object_object_add(o, "current_path", json_new_string_lossy(raw, strlen(raw)));
	return resp_json(c->rs, 200, o);
}

/* ---- read and write text (§15.3, §15.4) ---------------------------------------------- */

/* Strict UTF-8, else ISO-8859-1; "\r\n" and a lone "\r" become "\n". malloc'd. */
static char *
decode_text(const char *s, size_t n, size_t *ret_len)
{
	bool utf8 = utf8_valid(s, n);
	char *out = malloc(utf8 ? n + 1 : 2 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r') {
			*o++ = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if (utf8 || ch < 0x80)
			*o++ = (char)ch;
		else {
			*o++ = (char)(0xc0 | (ch >> 6));
			*o++ = (char)(0x80 | (ch & 0x3f));
		}
	}
	*o = '\0';
	*ret_len = (size_t)(o - out);
	return out;
}

int
fm_content_get(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL, *buf = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	const int64_t max = c->app->cfg->files.max_content_size;
	size_t len = 0, tlen;
	struct stat st;
	json_object *o;
	int r;

	r = fm_open_path(c, kind, &fm, &canon);
	if (r != 0)
		return r;
	fd = fm.base_fd < 0 ? -ENOENT : pathsafe_open_file(fm.base_fd, canon, O_RDONLY);
	if (fd < 0)
		return fm_fail_file(c, fd, "File not found", fm_text(&fm, FMT_READ_FAIL));
	if (fstat(fd, &st) < 0)
		return fm_fail_500(c, -errno, fm_text(&fm, FMT_READ_FAIL));
	if (st.st_size > max)
		return answered(resp_detail(c->rs, 400, "File is too large to read as text: %lld "
		    "bytes (the limit is %lld, files.max_content_size)", (long long)st.st_size,
		    (long long)max));
	buf = malloc((size_t)max + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t l = read(fd, buf + len, (size_t)max + 1 - len);

		if (l < 0 && errno == EINTR)
			continue;
		if (l < 0)
			return fm_fail_500(c, -errno, fm_text(&fm, FMT_READ_FAIL));
		if (l == 0)
			break;
		len += (size_t)l;
		if (len > (size_t)max)
			return answered(resp_detail(c->rs, 400, "File is too large to read as text "
			    "(the limit is %lld bytes, files.max_content_size)", (long long)max));
	}
	text = decode_text(buf, len, &tlen);
	if (!text)
		return -ENOMEM;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "content", json_object_new_string_len(text, (int)tlen));
	return resp_json(c->rs, 200, o);
}

int
fm_content_set(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL;
	_cleanup_(pathsafe_atomic_abort) struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;
	json_object *content;
	int r;

	r = fm_open_path(c, kind, &fm, &canon);
	if (r != 0)
		return r;
	if (!json_object_object_get_ex(c->rq->json, "content", &content))
		return -EINVAL;		/* validated by the route: cannot happen */
	/* atomic: a new file with the old owner and mode replaces the old one */
	r = fm.base_fd < 0 ? -ENOENT : pathsafe_atomic_begin(fm.base_fd, canon, 0644,
	    PATHSAFE_MUST_EXIST | PATHSAFE_KEEP_ATTRS, &a);
	if (r < 0)
		return fm_fail_file(c, r, "File not found", fm_text(&fm, FMT_UPDATE_FAIL));
	r = pathsafe_atomic_write(&a, json_object_get_string(content),
	    (size_t)json_object_get_string_len(content));
	if (r >= 0)
		r = pathsafe_atomic_commit(&a);
	if (r < 0)
		return fm_fail_500(c, r, fm_text(&fm, FMT_UPDATE_FAIL));
	return resp_message(c->rs, "%s", fm_text(&fm, FMT_UPDATE_OK));
}

/* ---- download (§15.10): nginx serves the bytes --------------------------------------- */

static bool
unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Percent-encode s; '/' is kept when keep_slash. */
static int
pct_encode(struct strbuf *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && r >= 0; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/'))
			r = strbuf_putc(sb, (char)*p);
		else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			r = strbuf_append(sb, e, 3);
		}
	}
	return r;
}

int
fm_download(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL;
	_cleanup_close_ int fd = -1;
	struct strbuf uri = STRBUF_INIT, disp = STRBUF_INIT;
	const char *prefix = c->app->cfg->files.accel_prefix, *base;
	bool plain = true;
	int r;

	r = fm_open_path(c, kind, &fm, &canon);
	if (r != 0)
		return r;
	/* checked here (a regular file, no symlink on the way); nginx re-checks
	 * with disable_symlinks when it opens it */
	fd = fm.base_fd < 0 ? -ENOENT : pathsafe_open_file(fm.base_fd, canon, O_RDONLY);
	if (fd < 0)
		return fm_fail_file(c, fd, fm_text(&fm, FMT_DOWNLOAD_MISSING),
		    fm_text(&fm, FMT_DOWNLOAD_FAIL));
	if (!prefix || prefix[0] != '/')
		return fm_fail_500(c, -EINVAL, fm_text(&fm, FMT_DOWNLOAD_FAIL));

	r = strbuf_puts(&uri, prefix);
	if (r >= 0 && kind == FM_ARCHIVE)
		r = strbuf_puts(&uri, "/archives/");
	else if (r >= 0)
		r = strbuf_printf(&uri, "/servers/%s/%s/", fm.ref.id, SERVERS_DATA_DIR);
	if (r >= 0)
		r = pct_encode(&uri, canon, true);

	base = fm_base_name(canon);
	for (const unsigned char *p = (const unsigned char *)base; *p; p++)
		plain = plain && unreserved(*p);
	if (r >= 0 && plain)
		r = strbuf_printf(&disp, "attachment; filename=\"%s\"", base);
	else if (r >= 0) {
		r = strbuf_puts(&disp, "attachment; filename*=utf-8''");
		if (r >= 0)
			r = pct_encode(&disp, base, false);
	}
	if (r >= 0) {
		strbuf_reset(&c->rs->body);
		c->rs->status = 200;
		c->rs->content_type = "application/octet-stream";
		r = resp_header(c->rs, "Content-Disposition", "%s", strbuf_str(&disp));
	}
	if (r >= 0)
		r = resp_header(c->rs, "X-Accel-Redirect", "%s", strbuf_str(&uri));
	strbuf_free(&uri);
	strbuf_free(&disp);
	return r < 0 ? r : 0;
}

/* ---- create, delete, rename (§15.6-§15.8) -------------------------------------------- */

/*
 * The path and name fields of a create or rename body (strings, checked by
 * the route): the name must be one plain component (400 "Invalid name"),
 * the path is canonicalised (fm_path()). 0 with a malloc'd *ret_canon and
 * *ret_name borrowed from the body, 1 (a response is ready), -errno.
 */
static int
body_path_name(struct ctx *c, const char *path_field, const char *name_field, char **ret_canon,
    const char **ret_name)
{
	json_object *jpath, *jname;
	int r;

	if (!json_object_object_get_ex(c->rq->json, path_field, &jpath) ||
	    !json_object_object_get_ex(c->rq->json, name_field, &jname))
		return -EINVAL;		/* validated by the route */
	if (pathsafe_check_name(json_object_get_string(jname),
	    (size_t)json_object_get_string_len(jname)) < 0)
		return answered(resp_detail(c->rs, 400, "Invalid name"));
	r = fm_path(c, json_object_get_string(jpath), (size_t)json_object_get_string_len(jpath),
	    ret_canon);
	if (r != 0)
		return r;
	*ret_name = json_object_get_string(jname);
	return 0;
}

int
fm_create(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *dir = NULL, *target = NULL;
	const char *type = body_string(c->rq, "type"), *name;
	bool is_dir = type && streq(type, "directory");
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r;

	r = body_path_name(c, "path", "name", &dir, &name);
	if (r != 0)
		return r;
	r = fm_path_join(c, dir, name, &target);
	if (r != 0)
		return r;
	r = fm_open(c, kind, true, &fm);
	if (r != 0)
		return r;

	if (is_dir)
		r = pathsafe_mkdir(fm.base_fd, target, 0755, PATHSAFE_PARENTS);
	else
		r = pathsafe_create_file(fm.base_fd, target, 0644, PATHSAFE_PARENTS);
	if (r == -EEXIST)
		return answered(resp_detail(c->rs, 409, is_dir ? "Directory already exists" :
		    "File already exists"));
	if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	if (r < 0)
		return fm_fail_500(c, r, fm_text(&fm, is_dir ? FMT_MKDIR_FAIL : FMT_MKFILE_FAIL));
	/* §15.9: the base's owner, errors ignored */
	if (fm_base_owner(&fm, &uid, &gid) >= 0)
		(void)pathsafe_chown(fm.base_fd, target, uid, gid);
	return resp_message(c->rs, is_dir ? "Directory '%s' created successfully" :
	    "File '%s' created successfully", name);
}

int
fm_delete(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL;
	enum pathsafe_type type;
	int r;

	r = fm_query_path(c, /* def= */ NULL, /* ret_raw= */ NULL, &canon);
	if (r != 0)
		return r;
	if (!*canon)	/* never the base itself (§15.1 hardening) */
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	r = fm_open(c, kind, false, &fm);
	if (r != 0)
		return r;
	r = fm.base_fd < 0 ? -ENOENT : pathsafe_delete(fm.base_fd, canon, &type);
	if (r == -ENOENT || r == -ENOTDIR)
		return answered(resp_detail(c->rs, 404, "File or directory not found"));
	if (r == -EINVAL || r == -ELOOP)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	if (r < 0)
		return fm_fail_500(c, r, fm_text(&fm, FMT_DELETE_FAIL));
	return resp_message(c->rs, type == PATHSAFE_DIRECTORY ?
	    "Directory '%s' deleted successfully" : "File '%s' deleted successfully",
	    fm_base_name(canon));
}

int
fm_rename(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL;
	const char *new_name;
	enum pathsafe_type type;
	int r;

	r = body_path_name(c, "old_path", "new_name", &canon, &new_name);
	if (r != 0)
		return r;
	if (!*canon)	/* never the base itself */
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	r = fm_open(c, kind, false, &fm);
	if (r != 0)
		return r;
	r = fm.base_fd < 0 ? -ENOENT : pathsafe_rename_to_name(fm.base_fd, canon, new_name, &type);
	if (r == -ENOENT || r == -ENOTDIR)
		return answered(resp_detail(c->rs, 404, "File or directory not found"));
	if (r == -EEXIST)
		return answered(resp_detail(c->rs, 409, "Target name already exists"));
	if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	if (r < 0)
		return fm_fail_500(c, r, fm_text(&fm, FMT_RENAME_FAIL));
	return resp_message(c->rs, type == PATHSAFE_DIRECTORY ? "Directory renamed successfully" :
	    "File renamed successfully");
}
