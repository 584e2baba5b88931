/* SPDX-License-Identifier: MIT */
/*
 * POST /api/archive/compress (API-core §14.10, §16.1): a 7z of a whole
 * server, of its data/ or of one path inside it, written in process with
 * libarchive (LZMA2, archive.compress_level) into the archive directory.
 *
 * The archive is written to a pathsafe atomic temporary and renamed into
 * place only when complete, so a failed or killed compression leaves no
 * partial .7z. Two compressions of the same source in the same second get
 * distinct names ("…_HHMMSS_1.7z"; DECISIONS: unique suffix) instead of
 * one appending to the other.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/h_files.h"
#include "archive/archive.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

#define NAME_BASE_MAX	200	/* bytes before the suffix and ".7z" (NAME_MAX is 255) */
#define SUFFIX_TRIES	1000

static int
answered(int r)
{
	return r < 0 ? r : 1;
}

/* §16.1 sanitising of one piece into sb. */
static int
sanitize(struct strbuf *sb, const char *s, size_t n)
{
	size_t start = 0, end = n;
	size_t before = sb->len;
	int r = 0;

	while (start < end && (s[start] == '.' || s[start] == ' '))
		start++;
	while (end > start && (s[end - 1] == '.' || s[end - 1] == ' '))
		end--;
	for (size_t i = start; i < end && r >= 0; i++)
		r = strbuf_putc(sb, strchr("/\\:*?\"<>| ", s[i]) && s[i] ? '_' : s[i]);
	if (r >= 0 && sb->len == before)
		r = strbuf_puts(sb, "unknown");
	return r;
}

/* "<S>[_<P>]_<YYYYMMDD>_<HHMMSS>" in local time, at most NAME_BASE_MAX bytes. */
static int
archive_base_name(const char *server_id, const char *canon, struct strbuf *sb)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
	int r;

	r = sanitize(sb, server_id, strlen(server_id));
	for (const char *p = canon; r >= 0 && p && *p;) {
		size_t l = strcspn(p, "/");

		if (l > 0) {
			r = strbuf_putc(sb, '_');
			if (r >= 0)
				r = sanitize(sb, p, l);
		}
		p += l;
		while (*p == '/')
			p++;
	}
	if (r < 0)
		return r;
	if (!localtime_r(&now, &tm) || strftime(ts, sizeof(ts), "_%Y%m%d_%H%M%S", &tm) == 0)
		return -EINVAL;
	/* keep the name within NAME_MAX: cut the path part at a UTF-8 boundary */
	if (sb->len + strlen(ts) > NAME_BASE_MAX) {
		size_t keep = NAME_BASE_MAX - strlen(ts);

		while (keep > 0 && ((unsigned char)sb->buf[keep] & 0xc0) == 0x80)
			keep--;
		sb->len = keep;
		sb->buf[keep] = '\0';
	}
	return strbuf_puts(sb, ts);
}

int
h_archive_compress(struct ctx *c)
{
	const char *id = body_string(c->rq, "server_id");
	const char *path = body_string(c->rq, "path");	/* NULL for JSON null or absent */
	struct server_ref ref = SERVER_REF_INIT;
	_cleanup_(pathsafe_atomic_abort) struct pathsafe_atomic a = PATHSAFE_ATOMIC_INIT;
	_cleanup_free_ char *shown = NULL, *canon = NULL, *file = NULL, *src_abs = NULL;
	_cleanup_close_ int parent = -1, data = -1, adir = -1;
	struct strbuf base = STRBUF_INIT;
	char name[PATHSAFE_NAME_MAX + 1];
	struct arc_problem prob = { .entry = "" };
	int r, n;

	if (!c->app->servers)
		return answered(resp_detail(c->rs, 503, "Server management is not available"));
	r = servers_open(c->app->servers, id, &ref);
	if (r == -EINVAL || r == -ENOENT || r == -ELOOP || r == -ENOTDIR)
		return answered(resp_detail(c->rs, 404, "Server '%s' not found", id));
	if (r < 0)
		return fm_fail_500(c, r, "Failed to create server archive");

	/* the source (§14.10 step 2, §16.1 "Source") */
	if (!path) {
		parent = servers_root_open(c->app->servers);
		if (parent < 0) {
			r = fm_fail_500(c, parent, "Failed to create server archive");
			goto out;
		}
		memcpy(name, ref.id, strlen(ref.id) + 1);
	} else {
		if (asprintf(&shown, "%s%s", path[0] == '/' ? "" : "/", path) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = fm_path(c, shown, strlen(shown), &canon);
		if (r != 0)
			goto out;
		data = servers_data_open(&ref);
		if (data < 0 && !*canon) {
			r = answered(resp_detail(c->rs, 404, "Server data directory not found"));
			goto out;
		}
		if (!*canon) {
			parent = dup(ref.dir_fd);
			if (parent < 0) {
				r = fm_fail_500(c, -errno, "Failed to create server archive");
				goto out;
			}
			memcpy(name, SERVERS_DATA_DIR, sizeof(SERVERS_DATA_DIR));
		} else {
			struct pathsafe_stat st;

			r = data < 0 ? -ENOENT : pathsafe_stat(data, canon, &st);
			if (r == 0 && st.symlink)
				r = -ELOOP;	/* never followed, not archived as the source */
			if (r == -ENOENT || r == -ENOTDIR) {
				r = answered(resp_detail(c->rs, 404,
				    "Path '%s' not found in server data directory", shown));
				goto out;
			}
			if (r == -EINVAL || r == -ELOOP || r == -EXDEV) {
				r = answered(resp_detail(c->rs, 400, "Invalid path"));
				goto out;
			}
			if (r < 0) {
				r = fm_fail_500(c, r, "Failed to create server archive");
				goto out;
			}
			parent = pathsafe_open_parent(data, canon, name);
			if (parent < 0) {
				r = fm_fail_file(c, parent, "Source path does not exist",
				    "Failed to create server archive");
				goto out;
			}
		}
	}

	/* the output: archive_path, created on demand; a unique name */
	adir = pathsafe_base_open(c->app->cfg->archive_path, PATHSAFE_PARENTS, 0755);
	if (adir < 0) {
		r = fm_fail_500(c, adir, "Failed to create server archive");
		goto out;
	}
	r = archive_base_name(id, canon, &base);
	for (int k = 0; r >= 0; k++) {
		free(file);
		file = NULL;
		if ((k == 0 ? asprintf(&file, "%s.7z", strbuf_str(&base)) :
		    asprintf(&file, "%s_%d.7z", strbuf_str(&base), k)) < 0) {
			r = -ENOMEM;
			break;
		}
		r = pathsafe_atomic_begin(adir, file, 0644, 0, &a);
		if (r != -EEXIST || k + 1 >= SUFFIX_TRIES)
			break;
		r = 0;	/* taken: the next suffix */
	}
	if (r < 0) {
		r = fm_fail_500(c, r, "Failed to create server archive");
		goto out;
	}

	n = arc_compress_7z(parent, name, a.fd, (int)c->app->cfg->archive.compress_level, &prob);
	if (n >= 0)
		r = pathsafe_atomic_commit(&a);
	else
		r = n;
	if (r == -ENOSPC || r == -EDQUOT)
		r = answered(resp_detail(c->rs, 507, "Insufficient disk space to create archive"));
	else if (r == -EACCES || r == -EPERM)
		r = answered(resp_detail(c->rs, 403, "Permission denied while creating archive"));
	else if (r == -ENOENT) {
		/* vanished meanwhile (normally caught above) */
		if (asprintf(&src_abs, "%s/%s%s%s%s", c->app->cfg->server_path, ref.id,
		    path ? "/" SERVERS_DATA_DIR : "", canon && *canon ? "/" : "",
		    canon ? canon : "") < 0)
			src_abs = NULL;
		r = answered(resp_detail(c->rs, 404, "Source path does not exist: %s",
		    src_abs ? src_abs : ref.id));
	} else if (r == -EEXIST)
		r = answered(resp_detail(c->rs, 409, "Archive '%s' was created by another request "
		    "meanwhile; try again", file));
	else if (r < 0) {
		log_error_errno(r, "compress '%s': %s", ref.id, prob.detail);
		r = answered(resp_detail(c->rs, 500, "Failed to create archive: %s",
		    prob.detail[0] ? prob.detail : strerror(-r)));
	} else {
		json_object *o = json_object_new_object();

		if (!o) {
			r = -ENOMEM;
			goto out;
		}
		json_object_object_add(o, "archive_filename", json_object_new_string(file));
		{
			char *msg = NULL;

			if ((path ? asprintf(&msg, "Successfully created archive '%s' "
			    "containing '%s' from server '%s'", file, shown, id) :
			    asprintf(&msg, "Successfully created archive '%s' containing "
			    "entire server '%s'", file, id)) < 0) {
				json_object_put(o);
				r = -ENOMEM;
				goto out;
			}
			json_object_object_add(o, "message", json_object_new_string(msg));
			free(msg);
		}
		log_info("archive '%s' created from server '%s' (%d entries)", file, ref.id, n);
		r = resp_json(c->rs, 200, o);
	}
out:
	strbuf_free(&base);
	server_ref_done(&ref);
	return r;
}
