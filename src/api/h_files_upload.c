/* SPDX-License-Identifier: MIT */
/*
 * Uploads, streamed: the single-file upload of both managers (§13.5,
 * §14.5, §15.5) and the three-step multi-file protocol (§13.9) with its
 * sessions in SQLite. Bodies go through the streaming multipart parser
 * straight into pathsafe atomic writes (a temporary in the target
 * directory, fsync, rename), so nothing partial is ever visible and the
 * body is never held in memory.
 *
 * Differences from the reference, by design: the body is parsed after
 * authentication (streaming it to disk before knowing who sends it would
 * be worse), so a malformed body from an unauthenticated client gets 401,
 * not 400; a single upload commits only once the whole body has been
 * parsed; a multi-file upload commits each file when its part ends, and a
 * bad file name (".." and the like) stops the request with 400 "Invalid
 * path", keeping the files already completed (as §13.9.3 does for a
 * failed directory creation).
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/h_files.h"
#include "api/h_servers.h"
#include "common/log.h"
#include "common/util.h"
#include "http/multipart.h"

#define READ_CHUNK (256 * 1024)
#define E_SESSION "Upload session not found or expired"
#define CANCELED (-ECANCELED)	/* a callback answered the request itself */

static int
answered(int r)
{
	return r < 0 ? r : 1;
}

/* Prepare an answer from inside a callback and stop the parser. */
static int
stop(int r)
{
	return r == -ENOMEM ? r : CANCELED;
}

int
fm_stream_multipart(struct ctx *c, const struct multipart_callbacks *cb, void *userdata)
{
	_cleanup_free_ char *buf = NULL;
	struct multipart *m = NULL;
	const char *err = NULL;
	int64_t total = 0;
	int r;

	r = multipart_new(c->rq->content_type, cb, userdata, &m, &err);
	if (r == -EBADMSG)
		return answered(resp_detail(c->rs, 400, "%s", err));
	if (r < 0)
		return r;
	buf = malloc(READ_CHUNK);
	if (!buf) {
		multipart_free(m);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t l = req_read(c->rq, buf, READ_CHUNK);

		if (l < 0) {
			r = -EIO;
			break;
		}
		if (l == 0)
			break;
		total += l;
		r = multipart_feed(m, buf, (size_t)l);
		if (r < 0)
			break;
	}
	if (r == 0 && c->rq->content_length >= 0 && total != c->rq->content_length)
		r = -EIO;
	if (r == 0)
		r = multipart_finish(m);
	if (r == -EBADMSG)
		r = answered(resp_detail(c->rs, 400, "%s", multipart_error(m)));
	else if (r == -EIO)	/* the client went away or sent less than it announced */
		r = answered(resp_detail(c->rs, 400, "Incomplete request body"));
	multipart_free(m);
	return r;
}

/* §15.9: uploads get the base's owner; a failure (not root) is ignored. */
static void
chown_quietly(int fd, uid_t uid, gid_t gid)
{
	if (fchown(fd, uid, gid) < 0)
		log_debug_errno(errno, "cannot chown an upload to %u:%u: %m, ignoring",
		    (unsigned)uid, (unsigned)gid);
}

/* ---- single file (§15.5) ------------------------------------------------------------- */

struct single {
	struct ctx *c;
	struct fm *fm;
	const char *dir;		/* canonical target directory */
	unsigned flags;			/* PATHSAFE_REPLACE when overwriting is allowed */
	struct pathsafe_atomic a;
	bool writing;			/* the current part is the file being written */
	char *filename;			/* of the part being kept (for the message) */
};

/* Why the file could not be created or committed: 4xx where the client or a concurrent
 * change is the cause. ENOENT/ENOTDIR: the target directory created in step 1 was
 * moved or removed (or replaced) while the request ran. */
static int
single_fail(struct ctx *c, struct fm *fm, int r)
{
	switch (r) {
	case -EEXIST:
		return answered(resp_detail(c->rs, 409, "File already exists"));
	case -EINVAL:
	case -ELOOP:
	case -EXDEV:
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	case -ENOENT:
	case -ENOTDIR:
		return answered(resp_detail(c->rs, 409,
		    "The target directory was moved or removed during the upload"));
	default:
		return fm_fail_500(c, r, fm_text(fm, FMT_UPLOAD_FAIL));
	}
}

static int
single_begin(struct multipart_part *p, void *userdata)
{
	struct single *s = userdata;
	_cleanup_free_ char *target = NULL;
	const char *name;
	int r;

	s->writing = false;
	if (!streq(p->name, "file") || !p->filename)
		return 0;	/* other fields are ignored */
	name = *p->filename ? p->filename : "unnamed_file";
	r = fm_path_join(s->c, s->dir, name, &target);
	if (r != 0)
		return stop(r);
	/* the last "file" part wins, like the reference's form lookup */
	pathsafe_atomic_abort(&s->a);
	free(s->filename);
	s->filename = strdup(name);
	if (!s->filename)
		return -ENOMEM;
	r = pathsafe_atomic_begin(s->fm->base_fd, target, 0644, s->flags, &s->a);
	/* a missing subdirectory named by the file name stays §15.5's 500 */
	if (r < 0 && strchr(name, '/') && (r == -ENOENT || r == -ENOTDIR))
		return stop(fm_fail_500(s->c, r, fm_text(s->fm, FMT_UPLOAD_FAIL)));
	if (r < 0)
		return stop(single_fail(s->c, s->fm, r));
	s->writing = true;
	return 0;
}

static int
single_data(struct multipart_part *p, const void *data, size_t n, void *userdata)
{
	struct single *s = userdata;
	int r;

	(void)p;
	if (!s->writing)
		return 0;
	r = pathsafe_atomic_write(&s->a, data, n);
	if (r < 0)
		return stop(fm_fail_500(s->c, r, fm_text(s->fm, FMT_UPLOAD_FAIL)));
	return 0;
}

static int
single_end(struct multipart_part *p, void *userdata)
{
	struct single *s = userdata;

	(void)p;
	s->writing = false;	/* committed once the whole body is known to be good */
	return 0;
}

static const struct multipart_callbacks single_cb = { single_begin, single_data, single_end };

int
fm_upload(struct ctx *c, enum fm_kind kind)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *raw = NULL, *dir = NULL;
	struct single s = { .c = c, .fm = &fm, .a = PATHSAFE_ATOMIC_INIT };
	bool overwrite = false;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r;

	r = fm_query(c, "path", false, "/", &raw);
	if (r == 0 && kind == FM_ARCHIVE)
		r = fm_query_bool(c, "allow_overwrite", false, &overwrite);
	if (r == 0)
		r = fm_path(c, raw, strlen(raw), &dir);
	if (r != 0)
		return r;
	r = fm_open(c, kind, true, &fm);
	if (r != 0)
		return r;
	/* §15.5 step 1: the target directory, with parents */
	r = pathsafe_mkdir(fm.base_fd, dir, 0755, PATHSAFE_PARENTS | PATHSAFE_EXIST_OK);
	if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
		return answered(resp_detail(c->rs, 400, "Invalid path"));
	if (r < 0)
		return fm_fail_500(c, r, fm_text(&fm, FMT_UPLOAD_FAIL));

	s.dir = dir;
	s.flags = overwrite ? PATHSAFE_REPLACE : 0;
	r = fm_stream_multipart(c, &single_cb, &s);
	if (r == 0 && !s.filename)
		r = fm_verr(c, "body", "file", "missing", "Field required", NULL);
	if (r == 0) {
		/* §15.9: the base's owner, errors ignored */
		if (fm_base_owner(&fm, &uid, &gid) >= 0)
			chown_quietly(s.a.fd, uid, gid);
		r = pathsafe_atomic_commit(&s.a);
		if (r < 0)
			r = single_fail(c, &fm, r);
		else
			r = resp_message(c->rs, kind == FM_SERVER ?
			    "File '%s' uploaded successfully" :
			    "Archive file '%s' uploaded successfully", s.filename);
	}
	pathsafe_atomic_abort(&s.a);
	free(s.filename);
	return r == CANCELED ? 0 : r;
}

/* ---- sessions (§13.9) ------------------------------------------------------------------ */

/* A random UUIDv4 string (36 characters). */
static int
uuid4(char buf[static 37])
{
	unsigned char b[16];
	int r = random_bytes(b, sizeof(b));

	if (r < 0)
		return r;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	(void)snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
	    b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static int
purge(struct ctx *c)
{
	int r = db_upload_session_purge(c->db, now_realtime_usec());

	return r < 0 ? r : 0;
}

/*
 * A live session, after purging the expired ones: 0 and *ret (the caller
 * calls db_upload_session_done()), 1 (404 E_SESSION, or 500 "<fail>: …"
 * answered), -errno.
 */
static int
session_get(struct ctx *c, const char *sid, const char *fail, struct db_upload_session *ret)
{
	int r;

	r = purge(c);
	if (r < 0)
		return r;
	r = db_upload_session_get(c->db, sid, now_realtime_usec(), ret);
	if (r == -ENOENT)
		return answered(resp_detail(c->rs, 404, E_SESSION));
	if (r < 0)
		return fm_fail_500(c, r, fail);
	return 0;
}

/* Pydantic-style checks of a list of objects in the body (§13.9.1, §13.9.2). */
struct item_field {
	const char *name;
	enum { IT_STRING, IT_BOOL, IT_INT_OR_NULL, IT_TYPE } type;
	bool required;
};

static int
check_items(json_object *list, const char *list_name, bool nullable,
    const struct item_field *fields, size_t n_fields, struct verrs *v)
{
	int problems = 0;

	if (!list && nullable)
		return 0;
	if (!list || !json_object_is_type(list, json_type_array)) {
		const char *loc[] = { "body", list_name, NULL };

		if (verrs_add(v, "list_type", loc, "Input should be a valid list",
		    json_object_get(list), NULL) < 0)
			return -ENOMEM;
		return 1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		char idx[24];

		(void)snprintf(idx, sizeof(idx), "#%zu", i);
		if (!it || !json_object_is_type(it, json_type_object)) {
			const char *loc[] = { "body", list_name, idx, NULL };

			if (verrs_add(v, "model_attributes_type", loc,
			    "Input should be a valid dictionary or object to extract fields from",
			    json_object_get(it), NULL) < 0)
				return -ENOMEM;
			problems++;
			continue;
		}
		for (size_t f = 0; f < n_fields; f++) {
			const char *loc[] = { "body", list_name, idx, fields[f].name, NULL };
			json_object *val;
			int q = 0;

			if (!json_object_object_get_ex(it, fields[f].name, &val)) {
				if (fields[f].required)
					q = verrs_add(v, "missing", loc, "Field required",
					    json_object_get(it), NULL);
				else
					continue;
			} else if (fields[f].type == IT_STRING &&
			    !json_object_is_type(val, json_type_string)) {
				q = verrs_add(v, "string_type", loc,
				    "Input should be a valid string", json_object_get(val), NULL);
			} else if (fields[f].type == IT_BOOL &&
			    !json_object_is_type(val, json_type_boolean)) {
				q = verrs_add(v, "bool_type", loc,
				    "Input should be a valid boolean", json_object_get(val), NULL);
			} else if (fields[f].type == IT_INT_OR_NULL && val &&
			    !json_object_is_type(val, json_type_int)) {
				q = verrs_add(v, "int_type", loc, "Input should be a valid integer",
				    json_object_get(val), NULL);
			} else if (fields[f].type == IT_TYPE &&
			    (!json_object_is_type(val, json_type_string) ||
			    (!streq(json_object_get_string(val), "file") &&
			    !streq(json_object_get_string(val), "directory")))) {
				json_object *ctx = json_object_new_object();

				if (ctx)
					json_object_object_add(ctx, "expected",
					    json_object_new_string("'file' or 'directory'"));
				q = verrs_add(v, "enum", loc,
				    "Input should be 'file' or 'directory'", json_object_get(val),
				    ctx);
			} else
				continue;
			if (q < 0)
				return -ENOMEM;
			problems++;
		}
	}
	return problems;
}

/*
 * Finish the checks of a body that collected errors in v (r: the checks'
 * result): -errno is returned, collected errors are answered (422, 1), and
 * none gives 0. v is released in every case.
 */
static int
answer_verrs(struct ctx *c, struct verrs *v, int r)
{
	if (r >= 0)
		r = verrs_any(v) ? answered(resp_verrs(c->rs, v)) : 0;
	verrs_done(v);
	return r;
}

int
h_files_upload_check(struct ctx *c)
{
	static const struct item_field item_fields[] = {
		{ "path", IT_STRING, true },
		{ "name", IT_STRING, true },
		{ "type", IT_TYPE, true },
		{ "size", IT_INT_OR_NULL, false },
	};
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *raw = NULL, *dir = NULL;
	_cleanup_(json_object_putp) json_object *conflicts = NULL;
	struct verrs v = { 0 };
	json_object *files = NULL, *o;
	char id[37];
	int64_t now;
	int r;

	r = fm_query(c, "path", true, NULL, &raw);
	if (r != 0)
		return r;
	(void)json_object_object_get_ex(c->rq->json, "files", &files);
	if (!json_object_object_get_ex(c->rq->json, "files", NULL)) {
		const char *loc[] = { "body", "files", NULL };

		r = verrs_add(&v, "missing", loc, "Field required", json_object_get(c->rq->json),
		    NULL);
	} else
		r = check_items(files, "files", false, item_fields, ELEMENTSOF(item_fields), &v);
	r = answer_verrs(c, &v, r);
	if (r != 0)
		return r;
	r = fm_path(c, raw, strlen(raw), &dir);
	if (r != 0)
		return r;
	r = fm_open(c, FM_SERVER, false, &fm);
	if (r != 0)
		return r;

	conflicts = json_object_new_array();
	if (!conflicts)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(files); i++) {
		json_object *it = json_object_array_get_idx(files, i), *jp, *js = NULL;
		_cleanup_free_ char *target = NULL;
		struct pathsafe_stat st;
		const char *ip;

		json_object_object_get_ex(it, "type", &jp);
		if (!streq(json_object_get_string(jp), "file"))
			continue;	/* directory items are ignored */
		json_object_object_get_ex(it, "path", &jp);
		json_object_object_get_ex(it, "size", &js);
		ip = json_object_get_string(jp);
		if (memchr(ip, '\0', (size_t)json_object_get_string_len(jp)))
			return answered(resp_detail(c->rs, 400, "Invalid path"));
		r = fm_path_join(c, dir, ip, &target);
		if (r != 0)
			return r;
		if (fm.base_fd < 0)
			continue;
		r = pathsafe_stat(fm.base_fd, target, &st);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
			return answered(resp_detail(c->rs, 400, "Invalid path"));
		if (r < 0)
			return fm_fail_500(c, r, "Failed to check upload conflicts");
		while (*ip == '/')
			ip++;
		o = json_object_new_object();
		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "path", json_object_new_string(ip));
		json_object_object_add(o, "type", json_object_new_string("file"));
		/* the size of a regular file (through an inside symlink too); a
		 * dangling or outside link is shown with mtime 0: no size */
		json_object_object_add(o, "current_size", st.type == PATHSAFE_FILE &&
		    (!st.symlink || st.mtime.tv_sec || st.mtime.tv_nsec) ?
		    json_object_new_int64(st.size) : NULL);
		json_object_object_add(o, "new_size", js ? json_object_get(js) : NULL);
		if (json_object_array_add(conflicts, o) < 0) {
			json_object_put(o);
			return -ENOMEM;
		}
	}

	r = purge(c);
	if (r < 0)
		return r;
	r = uuid4(id);
	if (r < 0)
		return r;
	now = now_realtime_usec();
	r = db_upload_session_insert(c->db, id, json_compact(conflicts), now,
	    now + c->app->cfg->files.upload_session_seconds * 1000000);
	if (r < 0)
		return fm_fail_500(c, r, "Failed to check upload conflicts");
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "session_id", json_object_new_string(id));
	json_object_object_add(o, "conflicts", TAKE_PTR(conflicts));
	return resp_json(c->rs, 200, o);
}

int
h_files_upload_policy(struct ctx *c)
{
	static const struct item_field decision_fields[] = {
		{ "path", IT_STRING, true },
		{ "overwrite", IT_BOOL, true },
	};
	_cleanup_free_ char *sid = NULL;
	_cleanup_(json_object_putp) json_object *conflicts = NULL, *policy = NULL, *cset = NULL;
	struct server_ref ref = SERVER_REF_INIT;
	struct db_upload_session s = { 0 };
	struct verrs v = { 0 };
	json_object *decisions = NULL;
	const char *mode = body_string(c->rq, "mode");
	bool reusable = false;
	int r;

	r = fm_query(c, "session_id", true, NULL, &sid);
	if (r == 0)
		r = fm_query_bool(c, "reusable", false, &reusable);
	if (r != 0)
		return r;
	(void)json_object_object_get_ex(c->rq->json, "decisions", &decisions);
	r = check_items(decisions, "decisions", true, decision_fields,
	    ELEMENTSOF(decision_fields), &v);
	r = answer_verrs(c, &v, r);
	if (r != 0)
		return r;

	r = hs_resolve(c, &ref);
	server_ref_done(&ref);
	if (r != 0)
		return r;
	r = session_get(c, sid, "Failed to set upload policy", &s);
	if (r != 0)
		return r;
	conflicts = json_tokener_parse(s.conflicts);
	db_upload_session_done(&s);
	if (!conflicts || !json_object_is_type(conflicts, json_type_array))
		return fm_fail_500(c, -EBADMSG, "Failed to set upload policy");

	if (streq(mode, "per_file")) {
		size_t nd = decisions ? json_object_array_length(decisions) : 0;
		size_t nc = json_object_array_length(conflicts);
		bool same = true;

		if (nd == 0)
			return answered(resp_detail(c->rs, 400,
			    "Decisions required for per_file mode"));
		/* the set of decision paths must equal the set of conflict paths */
		cset = json_object_new_object();
		if (!cset)
			return -ENOMEM;
		for (size_t i = 0; i < nc; i++) {
			json_object *c_ = json_object_array_get_idx(conflicts, i), *p;

			json_object_object_get_ex(c_, "path", &p);
			json_object_object_add(cset, json_object_get_string(p),
			    json_object_new_boolean(false));
		}
		for (size_t i = 0; i < nd && same; i++) {
			json_object *d = json_object_array_get_idx(decisions, i), *p, *seen;

			json_object_object_get_ex(d, "path", &p);
			if (!json_object_object_get_ex(cset, json_object_get_string(p), &seen))
				same = false;
			else
				json_object_object_add(cset, json_object_get_string(p),
				    json_object_new_boolean(true));
		}
		json_object_object_foreach(cset, key, seen) {
			(void)key;
			same = same && json_object_get_boolean(seen);
		}
		if (!same)
			return answered(resp_detail(c->rs, 400,
			    "Decisions must be provided for all conflicting files"));
	}

	policy = json_object_new_object();
	if (!policy)
		return -ENOMEM;
	json_object_object_add(policy, "mode", json_object_new_string(mode));
	json_object_object_add(policy, "decisions", decisions ? json_object_get(decisions) : NULL);
	r = db_upload_session_set_policy(c->db, sid, json_compact(policy), reusable,
	    now_realtime_usec());
	if (r == -ENOENT)
		return answered(resp_detail(c->rs, 404, E_SESSION));
	if (r < 0)
		return fm_fail_500(c, r, "Failed to set upload policy");
	return resp_message(c->rs, "Upload policy set successfully");
}

/* ---- many files (§13.9.3) ------------------------------------------------------------- */

enum mode { MODE_ALWAYS, MODE_NEVER, MODE_PER_FILE };

struct multi {
	struct ctx *c;
	struct fm *fm;
	const char *dir;
	enum mode mode;
	json_object *decide;		/* rel path → overwrite (bool) */
	json_object *results;		/* rel → {status, reason}, in order */
	uid_t uid;
	gid_t gid;
	bool owner_known;
	struct pathsafe_atomic a;
	char *rel;			/* the part being written, NULL when skipping */
};

static int
result(struct multi *m, const char *rel, const char *status, const char *reason)
{
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "reason", reason ? json_object_new_string(reason) : NULL);
	/* a repeated name keeps its first position, with the last result */
	return json_object_object_add(m->results, rel, o) == 0 ? 0 : -ENOMEM;
}

static const char *
reason_text(int r)
{
	switch (r) {
	case -ELOOP:
		return "Refusing to write through a symbolic link";
	case -EXDEV:
	case -EINVAL:
		return "Invalid path";
	default:
		return strerror(-r);
	}
}

static int
multi_begin(struct multipart_part *p, void *userdata)
{
	struct multi *m = userdata;
	_cleanup_free_ char *target = NULL;
	const char *rel, *slash;
	struct pathsafe_stat st;
	bool exists, overwrite;
	json_object *d;
	int r;

	free(m->rel);
	m->rel = NULL;
	if (!streq(p->name, "files") || !p->filename || !*p->filename)
		return 0;	/* other fields, and parts without a file name: no result */
	rel = p->filename;
	while (*rel == '/')
		rel++;
	r = fm_path_join(m->c, m->dir, rel, &target);
	if (r != 0)
		return stop(r);
	if (!*target)
		return stop(resp_detail(m->c->rs, 400, "Invalid path"));

	/* the parent, with parents; only the immediate one is chowned (§13.9.3) */
	slash = strrchr(target, '/');
	if (slash) {
		_cleanup_free_ char *parent = strndup(target, (size_t)(slash - target));

		if (!parent)
			return -ENOMEM;
		r = pathsafe_mkdir(m->fm->base_fd, parent, 0755, PATHSAFE_PARENTS |
		    PATHSAFE_EXIST_OK);
		if (r == -EINVAL || r == -ELOOP || r == -EXDEV)
			return stop(resp_detail(m->c->rs, 400, "Invalid path"));
		if (r < 0)
			return stop(fm_fail_500(m->c, r, "Upload failed"));
		if (r == 1 && m->owner_known)
			(void)pathsafe_chown(m->fm->base_fd, parent, m->uid, m->gid);
	}

	r = pathsafe_stat(m->fm->base_fd, target, &st);
	if (r < 0 && r != -ENOENT)
		return result(m, rel, "failed", reason_text(r));
	exists = r == 0;
	if (exists) {
		if (json_object_object_get_ex(m->decide, rel, &d))
			overwrite = json_object_get_boolean(d);
		else if (m->mode == MODE_PER_FILE)
			return result(m, rel, "skipped", "no_decision");
		else
			overwrite = m->mode == MODE_ALWAYS;
		if (!overwrite)
			return result(m, rel, "skipped", "exists");
	}
	r = pathsafe_atomic_begin(m->fm->base_fd, target, 0644, PATHSAFE_REPLACE, &m->a);
	if (r < 0)
		return r == -ENOMEM ? r : result(m, rel, "failed", reason_text(r));
	m->rel = strdup(rel);
	if (!m->rel)
		return -ENOMEM;
	return 0;
}

static int
multi_data(struct multipart_part *p, const void *data, size_t n, void *userdata)
{
	struct multi *m = userdata;
	int r;

	(void)p;
	if (!m->rel)
		return 0;
	r = pathsafe_atomic_write(&m->a, data, n);
	if (r < 0) {
		pathsafe_atomic_abort(&m->a);
		r = result(m, m->rel, "failed", reason_text(r));
		free(m->rel);
		m->rel = NULL;
	}
	return r;
}

static int
multi_end(struct multipart_part *p, void *userdata)
{
	struct multi *m = userdata;
	int r;

	(void)p;
	if (!m->rel)
		return 0;
	if (m->owner_known)
		chown_quietly(m->a.fd, m->uid, m->gid);
	r = pathsafe_atomic_commit(&m->a);
	r = r < 0 ? result(m, m->rel, "failed", reason_text(r)) :
	    result(m, m->rel, "success", NULL);
	free(m->rel);
	m->rel = NULL;
	return r;
}

static const struct multipart_callbacks multi_cb = { multi_begin, multi_data, multi_end };

/* The decision map of §13.9.3 from the stored conflicts and policy. */
static int
decision_map(const char *conflicts_json, const char *policy_json, enum mode *ret_mode,
    json_object **ret)
{
	_cleanup_(json_object_putp) json_object *conflicts = json_tokener_parse(conflicts_json);
	_cleanup_(json_object_putp) json_object *policy = json_tokener_parse(policy_json);
	_cleanup_(json_object_putp) json_object *map = json_object_new_object();
	json_object *jm, *list;
	const char *mode;

	if (!map)
		return -ENOMEM;
	if (!conflicts || !policy || !json_object_object_get_ex(policy, "mode", &jm))
		return -EBADMSG;
	mode = json_object_get_string(jm);
	if (streq(mode, "per_file")) {
		*ret_mode = MODE_PER_FILE;
		if (json_object_object_get_ex(policy, "decisions", &list) && list)
			for (size_t i = 0; i < json_object_array_length(list); i++) {
				json_object *d = json_object_array_get_idx(list, i), *p, *o;

				json_object_object_get_ex(d, "path", &p);
				json_object_object_get_ex(d, "overwrite", &o);
				json_object_object_add(map, json_object_get_string(p),
				    json_object_new_boolean(json_object_get_boolean(o)));
			}
	} else {
		*ret_mode = streq(mode, "always_overwrite") ? MODE_ALWAYS : MODE_NEVER;
		for (size_t i = 0; i < json_object_array_length(conflicts); i++) {
			json_object *c_ = json_object_array_get_idx(conflicts, i), *p;

			json_object_object_get_ex(c_, "path", &p);
			json_object_object_add(map, json_object_get_string(p),
			    json_object_new_boolean(*ret_mode == MODE_ALWAYS));
		}
	}
	*ret = TAKE_PTR(map);
	return 0;
}

int
h_files_upload_multiple(struct ctx *c)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *sid = NULL, *dir = NULL;
	_cleanup_(json_object_putp) json_object *decide = NULL, *results = NULL;
	struct multi m = { .c = c, .fm = &fm, .a = PATHSAFE_ATOMIC_INIT };
	struct db_upload_session s = { 0 };
	size_t n_success = 0, n_results;
	json_object *o;
	int r;

	r = fm_query(c, "session_id", true, NULL, &sid);
	if (r == 0)
		r = fm_query_path(c, /* def= */ NULL, /* ret_raw= */ NULL, &dir);
	if (r != 0)
		return r;
	r = fm_open(c, FM_SERVER, true, &fm);
	if (r != 0)
		return r;
	r = session_get(c, sid, "Failed to upload multiple files", &s);
	if (r != 0)
		return r;
	if (!s.policy) {
		db_upload_session_done(&s);
		return answered(resp_detail(c->rs, 400, "Upload policy not set"));
	}
	r = decision_map(s.conflicts, s.policy, &m.mode, &decide);
	if (r >= 0 && !s.reusable) {
		/* single use: whoever deletes it owns it (two racing requests: one 404s) */
		r = db_upload_session_delete(c->db, sid);
		if (r == -ENOENT) {
			db_upload_session_done(&s);
			return answered(resp_detail(c->rs, 404, E_SESSION));
		}
	}
	db_upload_session_done(&s);
	if (r < 0)
		return fm_fail_500(c, r, "Failed to upload multiple files");

	results = json_object_new_object();
	if (!results)
		return -ENOMEM;
	m.dir = dir;
	m.decide = decide;
	m.results = results;
	m.owner_known = fm_base_owner(&fm, &m.uid, &m.gid) >= 0;
	r = fm_stream_multipart(c, &multi_cb, &m);
	pathsafe_atomic_abort(&m.a);
	free(m.rel);
	if (r == CANCELED)
		return 0;
	if (r != 0)
		return r;

	n_results = (size_t)json_object_object_length(results);
	json_object_object_foreach(results, key, val) {
		json_object *st;

		(void)key;
		if (json_object_object_get_ex(val, "status", &st) &&
		    streq(json_object_get_string(st), "success"))
			n_success++;
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	{
		char msg[96];

		(void)snprintf(msg, sizeof(msg), "Upload completed. Success: %zu/%zu", n_success,
		    n_results);
		json_object_object_add(o, "message", json_object_new_string(msg));
	}
	json_object_object_add(o, "results", TAKE_PTR(results));
	return resp_json(c->rs, 200, o);
}
