/* SPDX-License-Identifier: MIT */
/*
 * The two file managers (API-core §13 server files, §14 archives) share
 * their semantics (§15); the handlers in h_files*.c and h_archive*.c are
 * written once over a "file manager" (struct fm) that knows its base
 * directory fd and its texts.
 *
 * Path rules for every endpoint (DECISIONS "§15.1 hardening everywhere"):
 * each client path goes through pathsafe; a bad one (".." components,
 * NUL, the reserved temporary prefix, too long, a symlink on the way) is
 * 400 {"detail": "Invalid path"} and touches nothing. Names
 * (CreateFileRequest.name, RenameFileRequest.new_name) that are empty,
 * ".", "..", or contain '/' or NUL are 400 {"detail": "Invalid name"}.
 */
#pragma once

#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "api/api.h"
#include "pathsafe/pathsafe.h"
#include "servers/servers.h"

enum fm_kind {
	FM_SERVER,		/* <server_path>/<id>/data (§13) */
	FM_ARCHIVE,		/* archive_path (§14) */
	_FM_KIND_MAX,
};

/* Texts that differ between the two managers (§13 vs §14). */
enum fm_text {
	FMT_LIST_FAIL,		/* "Failed to list files" */
	FMT_READ_FAIL,
	FMT_UPDATE_OK,
	FMT_UPDATE_FAIL,
	FMT_DOWNLOAD_MISSING,	/* "File not found" / "Archive file not found" */
	FMT_DOWNLOAD_FAIL,
	FMT_UPLOAD_FAIL,
	FMT_MKDIR_FAIL,
	FMT_MKFILE_FAIL,
	FMT_DELETE_FAIL,
	FMT_RENAME_FAIL,
	_FMT_MAX,
};

struct fm {
	enum fm_kind kind;
	int base_fd;			/* the base directory; -1 when it does not exist */
	struct server_ref ref;		/* FM_SERVER: the resolved server */
};
#define FM_INIT { .kind = FM_SERVER, .base_fd = -1, .ref = SERVER_REF_INIT }

/* Close what fm holds (idempotent; fine on FM_INIT). */
void fm_done(struct fm *fm);
#define _cleanup_fm_ _cleanup_(fm_done)

const char *fm_text(const struct fm *fm, enum fm_text t);

/*
 * Open the base of a file manager for this request. FM_SERVER resolves the
 * {server_id} parameter (404 "Server '<id>' not found"); its data/ is
 * created when missing if create is true, else base_fd stays -1 (reads see
 * an empty tree). FM_ARCHIVE creates archive_path with parents (§14: every
 * call). Returns 0, 1 (a response is ready), -errno.
 */
int fm_open(struct ctx *c, enum fm_kind kind, bool create, struct fm *ret);

/* The base directory's owner (§15.9), read now. 0 or -errno. */
int fm_base_owner(const struct fm *fm, uid_t *ret_uid, gid_t *ret_gid);

/*
 * A query parameter. Missing and required: 422 (pydantic "missing", loc
 * ["query", name]) and 1. Missing and optional: *ret = strdup(def) (NULL
 * def: *ret = NULL). A "%00" in it: 400 "Invalid path" and 1. 0 on success.
 */
int fm_query(struct ctx *c, const char *name, bool required, const char *def, char **ret);

/* A boolean query parameter (§1.2): 0 and *ret, 1 (422 answered), -ENOMEM. */
int fm_query_bool(struct ctx *c, const char *name, bool def, bool *ret);

/*
 * Answer 422 with one pydantic-style error of this type at loc [where,
 * name] ("query" or "body"); input (may be NULL) is taken over. Returns 1
 * (answered) or -ENOMEM.
 */
int fm_verr(struct ctx *c, const char *where, const char *name, const char *type, const char *msg,
    json_object *input);

/*
 * Canonicalise a client path (pathsafe rules). 0 and a malloc'd *ret
 * ("" = the base), 1 (400 "Invalid path" answered), -ENOMEM.
 */
int fm_path(struct ctx *c, const char *raw, size_t len, char **ret);

/* Join a canonical directory and a relative client path; same returns as fm_path(). */
int fm_path_join(struct ctx *c, const char *dir, const char *rel, char **ret);

/*
 * The "path" query parameter (fm_query(): def when missing, NULL def for a
 * required one), canonicalised (fm_path()). 0 with a malloc'd *ret_canon
 * and, when ret_raw is not NULL, the parameter as sent in a malloc'd
 * *ret_raw; 1 (a response is ready); -errno.
 */
int fm_query_path(struct ctx *c, const char *def, char **ret_raw, char **ret_canon);

/*
 * The start of the handlers on one existing object: the required "path"
 * query parameter (fm_query_path()), then the manager opened without
 * creating anything (fm_open()). 0 with *ret and a malloc'd *ret_canon, 1
 * (a response is ready), -errno.
 */
int fm_open_path(struct ctx *c, enum fm_kind kind, struct fm *ret, char **ret_canon);

/* The last component of a canonical path (a pointer into it). */
static inline const char *
fm_base_name(const char *canon)
{
	const char *slash = strrchr(canon, '/');

	return slash ? slash + 1 : canon;
}

/*
 * Answer a pathsafe error of a file operation the §15 way: -EINVAL, -ELOOP
 * and -EXDEV → 400 "Invalid path"; -ENOENT and -ENOTDIR → 404 missing;
 * -EISDIR and -ENXIO → 400 "Path is not a file"; -ENOMEM is returned;
 * anything else → 500 "<fail>: <reason>" (logged). Returns 1 or -ENOMEM.
 */
int fm_fail_file(struct ctx *c, int r, const char *missing, const char *fail);

/* 500 "<prefix>: <strerror>" (logged once); 1 or -ENOMEM. */
int fm_fail_500(struct ctx *c, int r, const char *prefix);

/* Handlers shared by both managers (h_files_common.c). */
int fm_list(struct ctx *c, enum fm_kind kind);
int fm_content_get(struct ctx *c, enum fm_kind kind);
int fm_content_set(struct ctx *c, enum fm_kind kind);
int fm_download(struct ctx *c, enum fm_kind kind);
int fm_create(struct ctx *c, enum fm_kind kind);
int fm_delete(struct ctx *c, enum fm_kind kind);
int fm_rename(struct ctx *c, enum fm_kind kind);
int fm_upload(struct ctx *c, enum fm_kind kind);	/* h_files_upload.c */

/*
 * Stream the request body through the multipart parser with the given
 * callbacks (h_files_upload.c). Returns 0 when the whole body was a valid
 * multipart body, 1 when a response is ready (400 with the parser's text),
 * or a callback's / reader's negative value.
 */
struct multipart_callbacks;
int fm_stream_multipart(struct ctx *c, const struct multipart_callbacks *cb, void *userdata);
