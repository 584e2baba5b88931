/* SPDX-License-Identifier: MIT */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "common/log.h"

/* The one mutable global outside main.c: set once before serving. */
static struct {
	const char *ident;
	int max_level;
	bool journal;
} log_state = { "mc-admin", LOG_INFO, false };

static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_setup(const char *ident, int max_level)
{
	const char *lvl = getenv("MC_ADMIN_LOG_LEVEL");

	log_state.ident = ident;
	log_state.max_level = max_level;
	if (lvl && strcmp(lvl, "debug") == 0)
		log_state.max_level = LOG_DEBUG;
	log_state.journal = stderr_is_journal();
}

void
log_set_max_level(int level)
{
	log_state.max_level = level;
}

int
log_get_max_level(void)
{
	return log_state.max_level;
}

bool
log_to_journal(void)
{
	return log_state.journal;
}

const char *
log_escape(char *buf, size_t n, const char *s)
{
	size_t o = 0;

	if (n == 0)
		return buf;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		size_t l;

		if (c < 0x20 || c == 0x7f)
			l = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		else if (c == '\'' || c == '\\')
			l = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
		else {
			tmp[0] = (char)c;
			l = 1;
		}
		if (o + l + 4 >= n) {
			/* room for "…" (3 bytes) and the NUL */
			memcpy(buf + o, "\xe2\x80\xa6", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, l);
		o += l;
	}
	buf[o] = '\0';
	return buf;
}

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int
log_internal(int level, int error, const char *const *fields,
    const char *file, int line, const char *func, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int saved = errno;

	if (error < 0)
		error = -error;
	if (level > log_state.max_level)
		return -error;

	va_start(ap, fmt);
	errno = error;		/* so that %m works */
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		errno = saved;
		return -error;
	}

	if (log_state.journal) {
		char fixed[6][256];
		struct iovec iov[6 + 32];
		size_t n = 0;

#define ADD(...) do {                                                           \
		int _l = snprintf(fixed[n], sizeof(fixed[n]), __VA_ARGS__);     \
		if (_l > 0) {                                                   \
			iov[n].iov_base = fixed[n];                             \
			iov[n].iov_len = (size_t)_l < sizeof(fixed[n]) ?        \
			    (size_t)_l : sizeof(fixed[n]) - 1;                  \
			n++;                                                    \
		}                                                               \
	} while (0)
		ADD("PRIORITY=%d", level);
		ADD("SYSLOG_IDENTIFIER=%s", log_state.ident);
		ADD("CODE_FILE=%s", file);
		ADD("CODE_LINE=%d", line);
		ADD("CODE_FUNC=%s", func);
		if (error > 0)
			ADD("ERRNO=%d", error);
#undef ADD
		/* extra fields are passed through as they are: no length limit */
		for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov) - 1; i++)
			iov[n++] = (struct iovec){ (void *)fields[i], strlen(fields[i]) };
		{
			_cleanup_free_ char *m = NULL;

			if (asprintf(&m, "MESSAGE=%s", msg) >= 0) {
				iov[n++] = (struct iovec){ m, strlen(m) };
				(void)sd_journal_sendv(iov, (int)n);
			}
		}
	} else
		/* structured fields are for the journal; stderr gets the message */
		(void)fprintf(stderr, "%s[%s]: %s\n", log_state.ident, level_names[level & 7], msg);
	errno = saved;
	return -error;
}
