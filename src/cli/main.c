/* SPDX-License-Identifier: MIT */
/*
 * mc-admin: the operator's command line.
 *
 *   mc-admin db migrate
 *   mc-admin config check
 *   mc-admin user add NAME [--role owner|admin]   (password on stdin)
 *   mc-admin user list
 *   mc-admin user passwd NAME                      (password on stdin)
 *   mc-admin user del NAME
 *   mc-admin secrets init DIR                      (first-run credentials)
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "common/log.h"
#include "common/util.h"
#include "config/conf.h"
#include "db/db.h"

extern char **environ;

struct cli {
	const char *config_path;
	struct config *cfg;
};

static int
load_config(struct cli *cli, bool strict)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = strict ? config_load(cli->config_path, environ, &cli->cfg, &err) :
	    config_load_relaxed(cli->config_path, environ, &cli->cfg, &err);
	if (r < 0)
		fprintf(stderr, "mc-admin: configuration: %s\n", err ? err : strerror(-r));
	return r;
}

static int
open_db(struct cli *cli, struct db **ret)
{
	int r = db_open(cli->cfg->database_path, ret);

	if (r == -ESTALE)
		fprintf(stderr, "mc-admin: database '%s' needs migrating: run 'mc-admin db migrate'\n",
		    cli->cfg->database_path);
	else if (r == -EPROTO)
		fprintf(stderr, "mc-admin: database '%s' is newer than this program\n",
		    cli->cfg->database_path);
	else if (r < 0)
		fprintf(stderr, "mc-admin: cannot open database '%s': %s\n",
		    cli->cfg->database_path, strerror(-r));
	return r;
}

/* One line from stdin, without echo on a terminal. */
static int
read_password(const char *prompt, char **ret)
{
	struct termios old, noecho;
	bool tty = isatty(STDIN_FILENO);
	char *line = NULL;
	size_t cap = 0;
	ssize_t l;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		} else
			tty = false;
	}
	l = getline(&line, &cap, stdin);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (l < 0) {
		free(line);
		return -ENODATA;
	}
	while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
		line[--l] = '\0';
	if (l == 0) {
		free(line);
		return -EINVAL;
	}
	*ret = line;
	return 0;
}

static int
cmd_db_migrate(struct cli *cli)
{
	int from, to, r;

	if (load_config(cli, false) < 0)
		return EXIT_FAILURE;
	r = db_migrate(cli->cfg->database_path, &from, &to);
	if (r == -EPROTO) {
		fprintf(stderr, "mc-admin: database '%s' is newer than this program (knows %d)\n",
		    cli->cfg->database_path, db_schema_version_known());
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "mc-admin: migration of '%s' failed: %s\n", cli->cfg->database_path,
		    strerror(-r));
		return EXIT_FAILURE;
	}
	if (from == to)
		printf("database '%s' is up to date (schema %d)\n", cli->cfg->database_path, to);
	else
		printf("database '%s' migrated from schema %d to %d\n", cli->cfg->database_path,
		    from, to);
	return EXIT_SUCCESS;
}

static int
cmd_config_check(struct cli *cli)
{
	if (load_config(cli, true) < 0)
		return EXIT_FAILURE;
	return config_dump(cli->cfg, stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
cmd_user_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	enum user_role role = ROLE_ADMIN;
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_free_ char *pw = NULL, *hash = NULL;
	const char *name;
	size_t chars = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:", opts, NULL)) >= 0) {
		if (c != 'r')
			return EXIT_FAILURE;
		role = user_role_from_string(optarg);
		if (role == _ROLE_INVALID) {
			fprintf(stderr, "mc-admin: --role must be 'owner' or 'admin'\n");
			return EXIT_FAILURE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: mc-admin user add NAME [--role owner|admin]\n");
		return EXIT_FAILURE;
	}
	name = argv[optind];
	for (const char *p = name; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	if (chars < 3 || chars > 50 || !utf8_valid(name, strlen(name))) {
		fprintf(stderr, "mc-admin: user names have 3 to 50 characters\n");
		return EXIT_FAILURE;
	}
	if (load_config(cli, false) < 0 || open_db(cli, &db) < 0)
		return EXIT_FAILURE;
	r = read_password("Password: ", &pw);
	if (r < 0) {
		fprintf(stderr, "mc-admin: a non-empty password is expected on standard input\n");
		return EXIT_FAILURE;
	}
	r = auth_password_hash(pw, AUTH_BCRYPT_COST, &hash);
	explicit_bzero(pw, strlen(pw));
	if (r < 0) {
		fprintf(stderr, "mc-admin: cannot hash the password: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	r = db_user_insert(db, name, hash, role, now_realtime_usec(), NULL);
	if (r == -EEXIST) {
		fprintf(stderr, "mc-admin: user '%s' already exists\n", name);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "mc-admin: cannot add user: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	printf("user '%s' added with role %s\n", name, user_role_to_string(role));
	return EXIT_SUCCESS;
}

static int
print_user(const struct db_user *u, void *userdata)
{
	char created[48];

	(void)userdata;
	(void)fmt_iso_utc_z(created, sizeof(created), u->created_at_usec);
	printf("%-6lld %-24s %-6s %s\n", (long long)u->id, u->username,
	    user_role_to_string(u->role), created);
	return 0;
}

static int
cmd_user_list(struct cli *cli)
{
	_cleanup_(db_closep) struct db *db = NULL;

	if (load_config(cli, false) < 0 || open_db(cli, &db) < 0)
		return EXIT_FAILURE;
	printf("%-6s %-24s %-6s %s\n", "ID", "USERNAME", "ROLE", "CREATED");
	return db_user_foreach(db, print_user, NULL) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
cmd_user_passwd(struct cli *cli, const char *name)
{
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_free_ char *pw = NULL, *hash = NULL;
	int r;

	if (load_config(cli, false) < 0 || open_db(cli, &db) < 0)
		return EXIT_FAILURE;
	if (read_password("New password: ", &pw) < 0) {
		fprintf(stderr, "mc-admin: a non-empty password is expected on standard input\n");
		return EXIT_FAILURE;
	}
	r = auth_password_hash(pw, AUTH_BCRYPT_COST, &hash);
	explicit_bzero(pw, strlen(pw));
	if (r >= 0)
		r = db_user_set_password(db, name, hash);
	if (r == -ENOENT) {
		fprintf(stderr, "mc-admin: no user '%s'\n", name);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "mc-admin: cannot set the password: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	printf("password of '%s' changed\n", name);
	return EXIT_SUCCESS;
}

static int
cmd_user_del(struct cli *cli, const char *name)
{
	_cleanup_(db_closep) struct db *db = NULL;
	struct db_user u = { 0 };
	int r;

	if (load_config(cli, false) < 0 || open_db(cli, &db) < 0)
		return EXIT_FAILURE;
	r = db_user_get_by_name(db, name, &u);
	if (r >= 0)
		r = db_user_delete(db, u.id);
	db_user_done(&u);
	if (r == -ENOENT) {
		fprintf(stderr, "mc-admin: no user '%s'\n", name);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "mc-admin: cannot delete: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	printf("user '%s' deleted; their tokens stop working now\n", name);
	return EXIT_SUCCESS;
}

/* Create DIR/master_token and DIR/jwt_secret_key (0600) when missing. */
static int
cmd_secrets_init(const char *dir)
{
	static const struct {
		const char *name;
		size_t bytes;
	} secrets[] = {
		{ "master_token", 32 },
		{ "jwt_secret_key", 48 },
	};

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "mc-admin: cannot create '%s': %m\n", dir);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
		unsigned char raw[64];
		char enc[100], path[4096];
		_cleanup_close_ int fd = -1;

		if (snprintf(path, sizeof(path), "%s/%s", dir, secrets[i].name) >= (int)sizeof(path))
			return EXIT_FAILURE;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno == EEXIST) {
			printf("%s: kept\n", path);
			continue;
		}
		if (fd < 0 || random_bytes(raw, secrets[i].bytes) < 0) {
			fprintf(stderr, "mc-admin: cannot create '%s': %m\n", path);
			return EXIT_FAILURE;
		}
		base64url_encode(raw, secrets[i].bytes, enc);
		explicit_bzero(raw, sizeof(raw));
		if (write(fd, enc, strlen(enc)) != (ssize_t)strlen(enc) || fsync(fd) < 0) {
			fprintf(stderr, "mc-admin: cannot write '%s': %m\n", path);
			(void)unlink(path);
			return EXIT_FAILURE;
		}
		explicit_bzero(enc, sizeof(enc));
		printf("%s: created\n", path);
	}
	return EXIT_SUCCESS;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: mc-admin [--config FILE] COMMAND\n"
	    "\n"
	    "  db migrate                       apply pending schema migrations\n"
	    "  config check                     print the effective configuration (secrets masked)\n"
	    "  user add NAME [--role ROLE]      add a user (owner|admin; password on stdin)\n"
	    "  user list                        list users\n"
	    "  user passwd NAME                 set a password (on stdin)\n"
	    "  user del NAME                    delete a user (their tokens stop working)\n"
	    "  secrets init DIR                 create missing credentials in DIR\n");
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int r = EXIT_FAILURE, i = 1;

	log_setup("mc-admin", LOG_WARNING);
	if (argc > 2 && (streq(argv[1], "--config") || streq(argv[1], "-c"))) {
		cli.config_path = argv[2];
		i = 3;
	}
	argc -= i;
	argv += i;
	if (argc >= 1 && (streq(argv[0], "--help") || streq(argv[0], "-h"))) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc >= 1 && streq(argv[0], "--version")) {
		puts(PACKAGE_STRING);
		return EXIT_SUCCESS;
	}
	if (argc == 2 && streq(argv[0], "db") && streq(argv[1], "migrate"))
		r = cmd_db_migrate(&cli);
	else if (argc == 2 && streq(argv[0], "config") && streq(argv[1], "check"))
		r = cmd_config_check(&cli);
	else if (argc >= 3 && streq(argv[0], "user") && streq(argv[1], "add"))
		r = cmd_user_add(&cli, argc - 1, argv + 1);
	else if (argc == 2 && streq(argv[0], "user") && streq(argv[1], "list"))
		r = cmd_user_list(&cli);
	else if (argc == 3 && streq(argv[0], "user") && streq(argv[1], "passwd"))
		r = cmd_user_passwd(&cli, argv[2]);
	else if (argc == 3 && streq(argv[0], "user") && streq(argv[1], "del"))
		r = cmd_user_del(&cli, argv[2]);
	else if (argc == 3 && streq(argv[0], "secrets") && streq(argv[1], "init"))
		r = cmd_secrets_init(argv[2]);
	else
		usage(stderr);
	config_free(cli.cfg);
	return r;
}
