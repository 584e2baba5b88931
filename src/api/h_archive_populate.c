/* SPDX-License-Identifier: MIT */
/*
 * POST /api/servers/{server_id}/populate (API-core §12.10, §16.2): replace
 * a stopped server's data/ with the server directory found in an archive
 * of the archive manager, then delete the archive.
 *
 * How it differs from the reference, by design (README "Differences"):
 *  - libarchive in process instead of `7z l`/`7z x`, `find`, `chown -R`
 *    and `mv`; zip, 7z, tar and compressed tar (.tar.gz, .tar.xz, …) all
 *    work;
 *  - every header is checked before anything is written (archive.h):
 *    unsafe names, links pointing out, devices/FIFOs, the entry count and
 *    declared size limits (archive.*) are 400; a tree that does not fit the
 *    free space of the server's file system is 507 before extracting;
 *  - the server directory is the one of the shallowest server.properties
 *    (first in archive order among equals), not find's traversal order;
 *  - only that directory is extracted, into a temporary directory next to
 *    data/ (same file system), synced, then swapped with data/ in one
 *    renameat2(RENAME_EXCHANGE): data/ is at every moment either the old or
 *    the complete new tree, and the old one is deleted afterwards (the
 *    reference's step-6 bug cannot happen: it never clears anything by
 *    name relative to the working directory);
 *  - the source archive is deleted only after the swap succeeded;
 *  - leftovers of a populate that was killed (a temporary tree no process
 *    holds a lock on) are removed by the next populate of that server;
 *  - populates of one server are serialised with its other changes.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api/h_files.h"
#include "api/h_servers.h"
#include "archive/archive.h"
#include "common/log.h"
#include "common/util.h"

#define FAIL_PREFIX "服务器文件覆盖失败"
/* metadata and rounding, beyond the declared bytes */
#define SPACE_MARGIN (16u * 1024 * 1024)
#define E_LINK "压缩包包含指向压缩包外或不安全的链接: '%s'"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static int
answered(int r)
{
	return r < 0 ? r : 1;
}

static int
fail_500(struct ctx *c, int r, const char *what)
{
	if (r == -ENOMEM)
		return r;
	log_error_errno(r, "populate '%s': %s: %m", hs_id(c), what);
	return answered(resp_detail(c->rs, 500, "%s", what));
}

/* The errors of reading an archive (§16.2 steps 2-3 plus the checks). */
static int
archive_fail(struct ctx *c, int r, const struct arc_problem *p, bool extracting)
{
	char esc[256];
	const char *entry = log_escape(esc, sizeof(esc), p->entry);

	switch (r) {
	case -EBADMSG:
		return answered(resp_detail(c->rs, 400, "压缩包文件损坏或格式不支持"));
	case -EINVAL:
		return answered(resp_detail(c->rs, 400, "压缩包包含不安全的路径: '%s'", entry));
	case -ELOOP:
		return answered(resp_detail(c->rs, 400, E_LINK, entry));
	case -ENODEV:
		return answered(resp_detail(c->rs, 400, "压缩包包含设备文件、管道或套接字: '%s'",
		    entry));
	case -E2BIG:
		return answered(resp_detail(c->rs, 400, "压缩包条目过多: %llu 个 (上限 %llu, "
		    "archive.max_entries)", (unsigned long long)p->value,
		    (unsigned long long)p->limit));
	case -EFBIG:
		return answered(resp_detail(c->rs, 400, "压缩包解压后过大: 超过 %llu 字节 "
		    "(archive.max_total_size)", (unsigned long long)p->limit));
	case -EDOM:
		return answered(resp_detail(c->rs, 400, "压缩包压缩比异常: %llu 倍 (上限 %llu, "
		    "archive.max_ratio)", (unsigned long long)p->value,
		    (unsigned long long)p->limit));
	case -ENOSPC:
	case -EDQUOT:
		return answered(resp_detail(c->rs, 507, "磁盘空间不足"));
	case -EACCES:
	case -EPERM:
		return answered(resp_detail(c->rs, 403, extracting ?
		    "无权限创建临时目录或解压文件" : "无权限访问压缩包文件"));
	default:
		return fail_500(c, r, extracting ? "解压过程中发生错误" :
		    "检查压缩包内容时发生错误");
	}
}

/*
 * Remove temporaries left in the project directory by a populate that
 * died: a temporary tree whose lock nobody holds. The caller holds the
 * server's lock, so no populate of this server is running in this process;
 * another process's in-flight tree is locked and left alone.
 */
static void
sweep_leftovers(int dir_fd)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	if (opendir_at(dir_fd, &d) < 0)
		return;
	while ((de = readdir(d))) {
		_cleanup_close_ int t = -1;

		if (!pathsafe_is_tmp_name(de->d_name))
			continue;
		t = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (t >= 0 && flock(t, LOCK_EX | LOCK_NB) < 0)
			continue;	/* in use */
		if (pathsafe_tmp_remove(dirfd(d), de->d_name) >= 0)
			log_info("removed a leftover temporary '%s' of an interrupted populate",
			    de->d_name);
	}
}

/* Swap the new tree (tmp) in as data/: atomically where the file system can. */
static int
swap_in(int dir_fd, const char *tmp, bool data_exists)
{
	char old[PATHSAFE_TMP_NAME_LEN + 1];
	int fd;

	if (!data_exists)
		return renameat2(dir_fd, tmp, dir_fd, SERVERS_DATA_DIR, RENAME_NOREPLACE) < 0 ?
		    -errno : 0;
	if (renameat2(dir_fd, tmp, dir_fd, SERVERS_DATA_DIR, RENAME_EXCHANGE) == 0)
		return 0;	/* the old tree is now at tmp */
	if (errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	/* no RENAME_EXCHANGE here: two renames, with the old tree moved aside first */
	fd = pathsafe_tmp_mkdir(dir_fd, 0700, old);
	if (fd < 0)
		return fd;
	(void)close(fd);
	if (renameat(dir_fd, SERVERS_DATA_DIR, dir_fd, old) < 0 ||
	    renameat(dir_fd, tmp, dir_fd, SERVERS_DATA_DIR) < 0) {
		int r = -errno;

		(void)renameat(dir_fd, old, dir_fd, SERVERS_DATA_DIR);
		(void)pathsafe_tmp_remove(dir_fd, old);
		return r;
	}
	/* tmp is gone (it is data/ now): put the old tree there for the caller */
	return renameat(dir_fd, old, dir_fd, tmp) < 0 ? -errno : 0;
}

int
h_server_populate(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	const char *name = body_string(c->rq, "archive_filename");
	struct server_ref ref = SERVER_REF_INIT;
	struct servers_lock *lock = NULL;
	_cleanup_free_ char *canon = NULL;
	_cleanup_close_ int adir = -1, afd = -1, root = -1, tmp_fd = -1, data = -1;
	struct arc_scan scan = { 0 };
	struct arc_problem prob = { .entry = "" };
	struct arc_limits lim = {
		.max_entries = (uint64_t)cfg->archive.max_entries,
		.max_total_size = (uint64_t)cfg->archive.max_total_size,
		.max_ratio = (uint64_t)cfg->archive.max_ratio,
	};
	char tmp[PATHSAFE_TMP_NAME_LEN + 1] = "";
	enum server_status status;
	struct docker_error derr;
	struct statvfs vfs;
	struct stat ast, rst, dst;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	bool data_exists;
	int r;

	if (!c->app->servers)
		return answered(resp_detail(c->rs, 503, "Server management is not available"));
	/* the archive's list path: leading '/' removed (§12.10), then pathsafe */
	r = fm_path(c, name, (size_t)json_object_get_string_len(
	    json_object_object_get(c->rq->json, "archive_filename")), &canon);
	if (r != 0)
		return r;

	r = servers_open(c->app->servers, hs_id(c), &ref);
	if (r == -EINVAL || r == -ENOENT || r == -ELOOP || r == -ENOTDIR)
		return answered(resp_detail(c->rs, 404, "服务器 '%s' 不存在", hs_id(c)));
	if (r < 0)
		return fail_500(c, r, FAIL_PREFIX);
	lock = servers_lock(c->app->servers, ref.id);

	/* preconditions (§12.10): EXISTS or CREATED, under the lock */
	r = servers_status_ref(c->app->servers, &ref, &status, NULL, &derr);
	if (r < 0) {
		r = hs_fail(c, r, FAIL_PREFIX, "Docker", derr.message[0] ? derr.message : NULL);
		goto out;
	}
	if (status == SERVER_STATUS_REMOVED) {
		r = answered(resp_detail(c->rs, 404, "服务器 '%s' 不存在", hs_id(c)));
		goto out;
	}
	if (status != SERVER_STATUS_EXISTS && status != SERVER_STATUS_CREATED) {
		r = answered(resp_detail(c->rs, 409, "服务器 '%s' 必须处于 'exists' 或 'created' "
		    "状态才能覆盖文件 (当前状态: %s)", hs_id(c), server_status_repr(status)));
		goto out;
	}

	/* step 1: the archive */
	adir = pathsafe_base_open(cfg->archive_path, PATHSAFE_PARENTS, 0755);
	if (adir < 0) {
		r = fail_500(c, adir, FAIL_PREFIX);
		goto out;
	}
	afd = *canon ? pathsafe_open_file(adir, canon, O_RDONLY) : -EISDIR;
	if (afd == -ENOENT || afd == -ENOTDIR) {
		r = answered(resp_detail(c->rs, 404, "压缩包不存在: %s/%s", cfg->archive_path,
		    canon));
		goto out;
	}
	if (afd == -EINVAL || afd == -ELOOP || afd == -EXDEV) {
		r = answered(resp_detail(c->rs, 400, "Invalid path"));
		goto out;
	}
	if (afd == -EISDIR || afd == -ENXIO) {
		r = answered(resp_detail(c->rs, 400, "压缩包文件损坏或格式不支持"));
		goto out;
	}
	if (afd == -EACCES || afd == -EPERM) {
		r = answered(resp_detail(c->rs, 403, "无权限访问压缩包文件"));
		goto out;
	}
	if (afd < 0 || fstat(afd, &ast) < 0) {
		r = fail_500(c, afd < 0 ? afd : -errno, "检查压缩包内容时发生错误");
		goto out;
	}

	/* step 2, before anything is written: every header, the limits */
	r = arc_scan(afd, (uint64_t)ast.st_size, &lim, &scan, &prob);
	if (r < 0) {
		r = archive_fail(c, r, &prob, false);
		goto out;
	}
	if (!scan.found) {
		r = answered(resp_detail(c->rs, 400, "压缩包中未找到server.properties文件"));
		goto out;
	}
	if (fstatvfs(ref.dir_fd, &vfs) == 0 &&
	    scan.total_size + SPACE_MARGIN > (uint64_t)vfs.f_bavail * vfs.f_frsize) {
		log_info("populate '%s': %llu bytes do not fit in %llu free", ref.id,
		    (unsigned long long)scan.total_size,
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize);
		r = answered(resp_detail(c->rs, 507, "磁盘空间不足"));
		goto out;
	}

	/* step 3: extract into a locked temporary next to data/, owned like server_path */
	root = servers_root_open(c->app->servers);
	if (root == -ENOENT) {
		r = answered(resp_detail(c->rs, 500, "路径不存在: %s", cfg->server_path));
		goto out;
	}
	if (root < 0 || fstat(root, &rst) < 0) {
		r = fail_500(c, root < 0 ? root : -errno, "解压过程中发生错误");
		goto out;
	}
	if (rst.st_uid != geteuid() || rst.st_gid != getegid()) {
		uid = rst.st_uid;
		gid = rst.st_gid;
	}
	sweep_leftovers(ref.dir_fd);
	tmp_fd = pathsafe_tmp_mkdir(ref.dir_fd, 0755, tmp);
	if (tmp_fd < 0) {
		r = archive_fail(c, tmp_fd, &prob, true);
		goto out;
	}
	(void)flock(tmp_fd, LOCK_EX | LOCK_NB);	/* held until we are done (or die) */
	{
		struct arc_extract_opts o = {
			.root = scan.root, .uid = uid, .gid = gid, .lim = &lim,
		};

		r = arc_extract(afd, tmp_fd, &o, &prob);
	}
	if (r < 0) {
		r = archive_fail(c, r, &prob, true);
		goto out;
	}
	/* step 4 (ownership) happened while extracting; the new data/ itself too */
	data = openat(ref.dir_fd, SERVERS_DATA_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	data_exists = data >= 0;
	if (data_exists && fstat(data, &dst) == 0) {
		/* the new data/ keeps the old one's mode and owner (best effort) */
		(void)fchmod(tmp_fd, dst.st_mode & 07777);
		if (fchown(tmp_fd, dst.st_uid, dst.st_gid) < 0)
			log_debug_errno(errno, "populate '%s': cannot keep data/'s owner: %m, "
			    "ignoring", ref.id);
	} else if (uid != (uid_t)-1 && fchown(tmp_fd, uid, gid) < 0) {
		r = answered(resp_detail(c->rs, errno == EPERM ? 403 : 500, errno == EPERM ?
		    "无权限更改文件所有权" : "更改文件所有权时发生错误"));
		goto out;
	}
	/* durable before it becomes data/: a crash after the swap finds whole files */
	if (syncfs(tmp_fd) < 0) {
		r = fail_500(c, -errno, "解压过程中发生错误");
		goto out;
	}

	/* steps 6-7: one atomic swap instead of clearing and moving */
	r = swap_in(ref.dir_fd, tmp, data_exists);
	if (r < 0) {
		r = r == -EACCES || r == -EPERM ?
		    answered(resp_detail(c->rs, 403, "无权限移动文件到目标目录")) :
		    fail_500(c, r, "移动服务器文件时发生错误");
		goto out;
	}
	(void)fsync(ref.dir_fd);
	if (!data_exists)
		tmp[0] = '\0';		/* nothing of ours is left at tmp */

	/* step 8: the archive, then the old tree */
	r = pathsafe_delete(adir, canon, NULL);
	if (r < 0 && r != -ENOENT) {
		r = r == -EACCES || r == -EPERM ?
		    answered(resp_detail(c->rs, 403, "无权限删除临时文件")) :
		    fail_500(c, r, "清理临时文件时发生错误");
		goto out;
	}
	log_info("server '%s' populated from archive '%s' (%d entries)", ref.id, canon,
	    (int)scan.n_entries);
	{
		json_object *o = json_object_new_object();

		if (!o) {
			r = -ENOMEM;
			goto out;
		}
		json_object_object_add(o, "success", json_object_new_boolean(true));
		json_object_object_add(o, "message", json_object_new_string("服务器填充完成"));
		r = resp_json(c->rs, 200, o);
	}
out:
	if (tmp[0]) {
		/* the failed new tree, or the replaced old one */
		int q = pathsafe_tmp_remove(ref.dir_fd, tmp);

		if (q < 0 && q != -ENOENT)
			log_warning_errno(q, "populate '%s': cannot remove '%s': %m, ignoring",
			    ref.id, tmp);
	}
	arc_scan_done(&scan);
	if (lock)
		servers_unlock(lock);
	server_ref_done(&ref);
	return r;
}
