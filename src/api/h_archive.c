/* SPDX-License-Identifier: MIT */
/*
 * /api/archive… (API-core §14.1-§14.9): the archive file manager over
 * archive_path, created on demand, and the in-process SHA-256.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "api/h_files.h"
#include "archive/archive.h"

int
h_archive_list(struct ctx *c)
{
	return fm_list(c, FM_ARCHIVE);
}

int
h_archive_content_get(struct ctx *c)
{
	return fm_content_get(c, FM_ARCHIVE);
}

int
h_archive_content_set(struct ctx *c)
{
	return fm_content_set(c, FM_ARCHIVE);
}

int
h_archive_download(struct ctx *c)
{
	return fm_download(c, FM_ARCHIVE);
}

int
h_archive_upload(struct ctx *c)
{
	return fm_upload(c, FM_ARCHIVE);
}

int
h_archive_create(struct ctx *c)
{
	return fm_create(c, FM_ARCHIVE);
}

int
h_archive_delete(struct ctx *c)
{
	return fm_delete(c, FM_ARCHIVE);
}

int
h_archive_rename(struct ctx *c)
{
	return fm_rename(c, FM_ARCHIVE);
}

int
h_archive_sha256(struct ctx *c)
{
	_cleanup_fm_ struct fm fm = FM_INIT;
	_cleanup_free_ char *canon = NULL;
	_cleanup_close_ int fd = -1;
	char hex[ARC_SHA256_HEX_LEN + 1];
	const char *base;
	json_object *o;
	int r;

	r = fm_open_path(c, FM_ARCHIVE, &fm, &canon);
	if (r != 0)
		return r;
	fd = pathsafe_open_file(fm.base_fd, canon, O_RDONLY);
	if (fd < 0)
		return fm_fail_file(c, fd, "Archive file not found",
		    "Failed to calculate SHA256 hash");
	r = arc_sha256_fd(fd, hex);
	if (r < 0)
		return fm_fail_500(c, r, "Failed to calculate SHA256 hash");
	base = fm_base_name(canon);
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	json_object_object_add(o, "filename", json_new_string_lossy(base, strlen(base)));
	return resp_json(c->rs, 200, o);
}
