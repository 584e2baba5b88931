/* SPDX-License-Identifier: MIT */
/*
 * /api/servers/{server_id}/files… (API-core §13): the server file manager
 * over <server_path>/<id>/data. The work is shared with the archive
 * manager (h_files_common.c, h_files_upload.c).
 */
#include "autoconf.h"

#include "api/h_files.h"

int
h_files_list(struct ctx *c)
{
	return fm_list(c, FM_SERVER);
}

int
h_files_content_get(struct ctx *c)
{
	return fm_content_get(c, FM_SERVER);
}

int
h_files_content_set(struct ctx *c)
{
	return fm_content_set(c, FM_SERVER);
}

int
h_files_download(struct ctx *c)
{
	return fm_download(c, FM_SERVER);
}

int
h_files_upload(struct ctx *c)
{
	return fm_upload(c, FM_SERVER);
}

int
h_files_create(struct ctx *c)
{
	return fm_create(c, FM_SERVER);
}

int
h_files_delete(struct ctx *c)
{
	return fm_delete(c, FM_SERVER);
}

int
h_files_rename(struct ctx *c)
{
	return fm_rename(c, FM_SERVER);
}
