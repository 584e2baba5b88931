/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "outbound/compose-cli.h"

#define PREFIX_WORDS_MAX	8	/* words of a configured command */
#define ARGS_MAX		256	/* arguments after --project-directory <dir> */
#define OUTPUT_MAX		(1024 * 1024)

struct compose_cli {
	enum compose_flavour flavour;
	char *prefix[PREFIX_WORDS_MAX + 1];	/* argv before --project-directory */
	size_t n_prefix;
	char *command;				/* prefix joined with spaces */
	char *version;
	char **env;
};

static const char *const op_names[COMPOSE_OP_MAX] = {
	[COMPOSE_OP_UP] = "up",
	[COMPOSE_OP_START] = "start",
	[COMPOSE_OP_STOP] = "stop",
	[COMPOSE_OP_RESTART] = "restart",
	[COMPOSE_OP_DOWN] = "down",
};

/* arguments of each operation */
static const char *const op_args[COMPOSE_OP_MAX][3] = {
	[COMPOSE_OP_UP] = { "up", "-d", NULL },		/* detached: returns when created */
	[COMPOSE_OP_START] = { "start", NULL },
	[COMPOSE_OP_STOP] = { "stop", NULL },
	[COMPOSE_OP_RESTART] = { "restart", NULL },
	[COMPOSE_OP_DOWN] = { "down", NULL },		/* containers + default network */
};

const char *
compose_op_to_string(enum compose_op op)
{
	return op >= 0 && op < COMPOSE_OP_MAX ? op_names[op] : NULL;
}

int
compose_op_from_string(const char *s)
{
	for (size_t i = 0; s && i < COMPOSE_OP_MAX; i++)
		if (streq(s, op_names[i]))
			return (int)i;
	return -EINVAL;
}

struct compose_cli *
compose_cli_free(struct compose_cli *cli)
{
	if (!cli)
		return NULL;
	for (size_t i = 0; i < cli->n_prefix; i++)
		free(cli->prefix[i]);
	free(cli->command);
	free(cli->version);
	spawn_env_free(cli->env);
	free(cli);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct compose_cli *, compose_cli_free)

enum compose_flavour
compose_cli_flavour(const struct compose_cli *cli)
{
	return cli->flavour;
}

const char *
compose_cli_command(const struct compose_cli *cli)
{
	return cli->command;
}

const char *
compose_cli_version(const struct compose_cli *cli)
{
	return cli->version ? cli->version : "";
}

const char *const *
compose_cli_env(const struct compose_cli *cli)
{
	return (const char *const *)cli->env;
}

/* Build an environment: base PATH (optionally with dir in front) + config. */
static int
make_env(const struct compose_cli_config *cfg, const char *first_dir, char ***ret)
{
	const char *path = cfg->path ? cfg->path : SPAWN_DEFAULT_PATH;
	_cleanup_free_ char *host = NULL, *full_path = NULL;
	const char **extra = NULL;
	size_t n = 0, n_cfg = 0;
	int r;

	while (cfg->extra_env && cfg->extra_env[n_cfg])
		n_cfg++;
	extra = calloc(n_cfg + 2, sizeof(*extra));
	if (!extra)
		return -ENOMEM;
	if (cfg->docker_host) {
		if (asprintf(&host, "DOCKER_HOST=%s", cfg->docker_host) < 0) {
			host = NULL;
			free(extra);
			return -ENOMEM;
		}
		extra[n++] = host;
	}
	for (size_t i = 0; i < n_cfg; i++)
		extra[n++] = cfg->extra_env[i];
	extra[n] = NULL;

	if (first_dir) {
		const char *rest = startswith(path, first_dir);

		/* already first: leave PATH as it is */
		if (!(rest && (*rest == ':' || *rest == '\0')) &&
		    asprintf(&full_path, "%s:%s", first_dir, path) < 0) {
			full_path = NULL;
			free(extra);
			return -ENOMEM;
		}
	}
	r = spawn_env_new(full_path ? full_path : path, cfg->home, extra, ret);
	free(extra);
	return r;
}

/* Run `<words…> version`: 0 and the first line of its output, or -errno. */
static int
probe_version(char *const *words, size_t n_words, char *const *env, int64_t timeout_ms,
    char **ret_version)
{
	const char *argv[PREFIX_WORDS_MAX + 2];
	struct spawn_options o = {
		.argv = argv,
		.envp = (const char *const *)env,
		.timeout_ms = timeout_ms,
		.stdout_max = 4096,
		.stderr_max = 4096,
	};
	struct spawn_result res;
	char *line;
	size_t l;
	int r;

	for (size_t i = 0; i < n_words; i++)
		argv[i] = words[i];
	argv[n_words] = "version";
	argv[n_words + 1] = NULL;

	r = spawn_run(&o, &res);
	if (r >= 0)
		r = spawn_result_check(&res);
	if (r < 0) {
		spawn_result_done(&res);
		return r;
	}
	l = strcspn(res.out, "\r\n");
	line = strndup(res.out, l);
	spawn_result_done(&res);
	if (!line)
		return -ENOMEM;
	*ret_version = line;
	return 0;
}

static int
set_prefix(struct compose_cli *cli, const char *const *words, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		cli->prefix[i] = strdup(words[i]);
		if (!cli->prefix[i])
			return -ENOMEM;
		cli->n_prefix = i + 1;
		if (r >= 0 && i > 0)
			r = strbuf_putc(&sb, ' ');
		if (r >= 0)
			r = strbuf_puts(&sb, words[i]);
	}
	cli->prefix[n] = NULL;
	if (r >= 0) {
		cli->command = strbuf_steal(&sb);
		r = cli->command ? 0 : -ENOMEM;
	}
	strbuf_free(&sb);
	return r;
}

/* Split a configured command on blanks (no quoting) into at most PREFIX_WORDS_MAX words. */
static int
split_words(const char *s, char **ret_copy, const char **words, size_t *ret_n)
{
	char *copy = strdup(s), *p;
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; *p;) {
		size_t l;

		p += strspn(p, " \t");
		l = strcspn(p, " \t");
		if (l == 0)
			break;
		if (n == PREFIX_WORDS_MAX) {
			free(copy);
			return -EINVAL;
		}
		words[n++] = p;
		p += l;
		if (*p)
			*p++ = '\0';
	}
	if (n == 0) {
		free(copy);
		return -EINVAL;
	}
	*ret_copy = copy;
	*ret_n = n;
	return 0;
}

static int
detect_configured(struct compose_cli *cli, const struct compose_cli_config *cfg,
    const char *docker, char *const *env, int64_t tmo)
{
	_cleanup_free_ char *copy = NULL, *exe = NULL;
	const char *words[PREFIX_WORDS_MAX + 1];
	size_t n = 0;
	int r;

	r = split_words(cfg->command, &copy, words, &n);
	if (r < 0)
		return r;
	if (docker && streq(words[0], "docker"))
		words[0] = docker;		/* the configured docker binary */
	else {
		r = spawn_find_executable(words[0], spawn_env_get((const char *const *)env, "PATH"),
		    &exe);
		if (r < 0)
			return -ENOENT;
		words[0] = exe;
	}
	cli->flavour = n >= 2 && streq(words[n - 1], "compose") ?
	    COMPOSE_FLAVOUR_PLUGIN : COMPOSE_FLAVOUR_STANDALONE;
	r = set_prefix(cli, words, n);
	if (r < 0)
		return r;
	r = probe_version(cli->prefix, cli->n_prefix, env, tmo, &cli->version);
	return r == -ENOMEM ? r : r < 0 ? -ENOENT : 0;
}

static int
detect_auto(struct compose_cli *cli, const char *docker, char *const *env, int64_t tmo)
{
	_cleanup_free_ char *standalone = NULL;
	int r;

	if (docker) {
		const char *words[] = { docker, "compose" };

		r = set_prefix(cli, words, 2);
		if (r < 0)
			return r;
		r = probe_version(cli->prefix, cli->n_prefix, env, tmo, &cli->version);
		if (r == -ENOMEM)
			return r;
		if (r >= 0) {
			cli->flavour = COMPOSE_FLAVOUR_PLUGIN;
			return 0;
		}
		for (size_t i = 0; i < cli->n_prefix; i++)
			free(cli->prefix[i]);
		cli->n_prefix = 0;
		free(cli->command);
		cli->command = NULL;
	}
	r = spawn_find_executable("docker-compose", spawn_env_get((const char *const *)env, "PATH"),
	    &standalone);
	if (r < 0)
		return r == -ENOMEM ? r : -ENOENT;
	{
		const char *words[] = { standalone };

		r = set_prefix(cli, words, 1);
		if (r < 0)
			return r;
	}
	r = probe_version(cli->prefix, cli->n_prefix, env, tmo, &cli->version);
	if (r < 0)
		return r == -ENOMEM ? r : -ENOENT;
	cli->flavour = COMPOSE_FLAVOUR_STANDALONE;
	return 0;
}

int
compose_cli_detect(const struct compose_cli_config *cfg, struct compose_cli **ret)
{
	_cleanup_(compose_cli_freep) struct compose_cli *cli = NULL;
	_cleanup_free_ char *docker = NULL, *docker_dir = NULL;
	char **probe_env = NULL;
	int64_t tmo;
	int r;

	if (!cfg || !ret || !cfg->home || cfg->home[0] != '/' || cfg->detect_timeout_ms < 0 ||
	    (cfg->docker && !cfg->docker[0]))
		return -EINVAL;
	tmo = cfg->detect_timeout_ms ? cfg->detect_timeout_ms : COMPOSE_DETECT_TIMEOUT_MS;

	r = make_env(cfg, NULL, &probe_env);
	if (r < 0)
		return r;
	/* the docker binary, looked up where the children will look */
	r = spawn_find_executable(cfg->docker ? cfg->docker : "docker",
	    spawn_env_get((const char *const *)probe_env, "PATH"), &docker);
	if (r == -ENOMEM)
		goto out;
	if (r < 0 && cfg->docker) {
		r = -ENOENT;		/* configured but missing */
		goto out;
	}

	cli = calloc(1, sizeof(*cli));
	r = -ENOMEM;
	if (!cli)
		goto out;
	if (cfg->command && cfg->command[0])
		r = detect_configured(cli, cfg, docker, probe_env, tmo);
	else
		r = detect_auto(cli, docker, probe_env, tmo);
	if (r < 0)
		goto out;

	/* docker-compose v1 runs `docker exec` from PATH: make it ours */
	if (cli->flavour == COMPOSE_FLAVOUR_STANDALONE && docker) {
		char *slash = strrchr(docker, '/');

		docker_dir = strndup(docker,
		    slash && slash != docker ? (size_t)(slash - docker) : 1);
		r = -ENOMEM;
		if (!docker_dir)
			goto out;
	}
	r = make_env(cfg, docker_dir, &cli->env);
	if (r < 0)
		goto out;
	*ret = TAKE_PTR(cli);
	r = 0;
out:
	spawn_env_free(probe_env);
	return r;
}

int
compose_cli_run(const struct compose_cli *cli, const char *project_dir, const char *const *args,
    int64_t timeout_ms, struct spawn_result *result)
{
	const char *argv[PREFIX_WORDS_MAX + 2 + ARGS_MAX + 1];
	struct spawn_options o = {
		.argv = argv,
		.cwd = project_dir,
		.timeout_ms = timeout_ms,
		.stdout_max = OUTPUT_MAX,
		.stderr_max = OUTPUT_MAX,
	};
	size_t n = 0;
	int r;

	if (result)
		*result = (struct spawn_result){ 0 };
	if (!cli || !project_dir || project_dir[0] != '/' || !args || !args[0] || timeout_ms <= 0 ||
	    !result)
		return -EINVAL;
	o.envp = (const char *const *)cli->env;
	for (size_t i = 0; i < cli->n_prefix; i++)
		argv[n++] = cli->prefix[i];
	argv[n++] = "--project-directory";
	argv[n++] = project_dir;
	for (size_t i = 0; args[i]; i++) {
		if (i == ARGS_MAX)
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	r = spawn_run(&o, result);
	if (r < 0)
		return r;	/* -ETIMEDOUT (result filled) or could not run */
	return spawn_result_check(result);
}

int
compose_cli_op(const struct compose_cli *cli, const char *project_dir, enum compose_op op,
    int64_t timeout_ms, struct spawn_result *result)
{
	if (op < 0 || op >= COMPOSE_OP_MAX) {
		if (result)
			*result = (struct spawn_result){ 0 };
		return -EINVAL;
	}
	return compose_cli_run(cli, project_dir, op_args[op], timeout_ms, result);
}

int
compose_cli_exec(const struct compose_cli *cli, const char *project_dir, const char *user,
    const char *const *cmd, int64_t timeout_ms, struct spawn_result *result)
{
	const char *args[ARGS_MAX + 1];
	size_t n = 0;

	if (result)
		*result = (struct spawn_result){ 0 };
	if (!cmd || !cmd[0] || (user && !user[0]))
		return -EINVAL;
	args[n++] = "exec";
	args[n++] = "-T";
	if (user) {
		args[n++] = "--user";
		args[n++] = user;
	}
	args[n++] = COMPOSE_SERVICE;
	for (size_t i = 0; cmd[i]; i++) {
		if (n == ARGS_MAX)
			return -E2BIG;
		args[n++] = cmd[i];
	}
	args[n] = NULL;
	return compose_cli_run(cli, project_dir, args, timeout_ms, result);
}

int
compose_cli_send_to_console(const struct compose_cli *cli, const char *project_dir, uid_t uid,
    const char *const *words, int64_t timeout_ms, struct spawn_result *result)
{
	const char *cmd[ARGS_MAX + 1];
	char user[24];
	size_t n = 0;

	if (result)
		*result = (struct spawn_result){ 0 };
	if (!words || !words[0])
		return -EINVAL;
	if (snprintf(user, sizeof(user), "%ju", (uintmax_t)uid) >= (int)sizeof(user))
		return -EINVAL;
	cmd[n++] = "mc-send-to-console";
	for (size_t i = 0; words[i]; i++) {
		if (n == ARGS_MAX - 8)
			return -E2BIG;
		cmd[n++] = words[i];
	}
	cmd[n] = NULL;
	return compose_cli_exec(cli, project_dir, user, cmd, timeout_ms, result);
}

int
compose_cli_error_text(const struct compose_cli *cli, const struct spawn_result *result,
    char **ret_text)
{
	return spawn_error_text(cli && cli->n_prefix ? cli->prefix[0] : "docker", result, ret_text);
}
