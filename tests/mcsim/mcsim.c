/*
 * mcsim -- a small, honest Minecraft *server simulator* for tests.
 *
 * This is NOT Minecraft.  It is a stand-in for the itzg/minecraft-server
 * image that speaks just enough of the real interfaces (log format, Server
 * List Ping, RCON, console named pipe, the image's helper tools) for the
 * mc-admin test-suite to exercise its Docker/RCON/log handling offline.
 *
 * One static multi-call binary; the personality is chosen by basename(argv[0]):
 *   java | mcsim         the simulated server (PID 1 of the container)
 *   rcon-cli             RCON client, same contract as itzg/rcon-cli
 *   mc-send-to-console   writes its arguments to the console named pipe
 *   mc-health            Server List Ping health check (like mc-monitor status)
 * "mcsim <tool> args..." also dispatches to a tool.
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o mcsim mcsim.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MCSIM_VERSION       "1.0"
#define DEFAULT_MC_VERSION  "1.21.1"
#define LATEST_MC_VERSION   "1.21.4"   /* what VERSION=LATEST resolves to */

#define RCON_CHUNK          4096       /* vanilla splits responses every 4096 chars */
#define RCON_MAX_LEN        (RCON_CHUNK + 10) /* largest accepted length field */
#define RCON_OUT_MAX        (64u << 20)   /* drop RCON clients that do not read */
#define RCON_BACKPRESSURE   (1u << 20)    /* stop reading while this much is queued */
#define SLP_MAX_PACKET      2048
#define SLP_IDLE_MS         15000
#define MAX_CONNS           256
#define LINE_MAX_LEN        4096       /* console / pipe line limit */
#define MAX_ARGS            64
#define MAX_LIST            10000      /* ops / whitelist / bans entries */
#define MAX_ONLINE          1000
#define FLOOD_MAX           (8u << 20)
#define SPAM_MAX            1000000
#define FREEZE_MAX_S        3600
#define TICK_MS             50
#define SRV                 "Server thread"

/* ------------------------------------------------------------------------ */
/* small utilities                                                          */
/* ------------------------------------------------------------------------ */

static void die_oom(void)
{
    static const char m[] = "mcsim: out of memory\n";
    ssize_t r = write(2, m, sizeof m - 1);
    (void)r;
    _exit(70);
}

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        die_oom();
    size_t need = b->len + extra + 1; /* always room for a terminating NUL */
    if (need <= b->cap)
        return;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *p = realloc(b->data, nc);
    if (!p)
        die_oom();
    b->data = p;
    b->cap = nc;
}

static void buf_add(buf_t *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_addc(buf_t *b, char c) { buf_add(b, &c, 1); }

static void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    if (!fmt)
        return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static const char *buf_str(buf_t *b)
{
    buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}

static void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) { /* e.g. a TTY shared with a non-blocking reader */
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, 5000) <= 0 || (pf.revents & (POLLERR | POLLHUP | POLLNVAL)))
                    return false;
                continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v ? v : def;
}

/* like the image's isTrue: "true" or "on", case-insensitively */
static bool is_true(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcasecmp(v, "on"));
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static long env_long(const char *name, long def, long min, long max)
{
    long v;
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    if (!parse_long(s, min, max, &v)) {
        char m[256];
        int n = snprintf(m, sizeof m, "[init] WARNING: ignoring invalid %s='%.64s' (expected %ld..%ld)\n",
                         name, s, min, max);
        if (n > 0)
            write_all(1, m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
        return def;
    }
    return v;
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src);
}

/* /data, overridable (MCSIM_DATA_DIR) for running the simulator outside Docker */
static const char *data_dir(void)
{
    const char *d = getenv("MCSIM_DATA_DIR");
    return d && *d ? d : "/data";
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool valid_player_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 1 || len > 16)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)n[i]) && n[i] != '_')
            return false;
    return true;
}

static void json_escape(buf_t *b, const char *s)
{
    buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)c);
        } else if (c == '\n') {
            buf_adds(b, "\\n");
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_addc(b, (char)c);
        }
    }
    buf_addc(b, '"');
}

/* ------------------------------------------------------------------------ */
/* MD5 (RFC 1321), used only for offline-mode player UUIDs                   */
/* ------------------------------------------------------------------------ */

static void md5(const uint8_t *msg, size_t len, uint8_t out[16])
{
    static const uint32_t K[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    };
    static const uint8_t R[64] = {
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    };
    uint32_t h[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
    size_t total = ((len + 8) / 64 + 1) * 64;
    for (size_t off = 0; off < total; off += 64) {
        uint8_t blk[64];
        for (size_t i = 0; i < 64; i++) {
            size_t p = off + i;
            blk[i] = p < len ? msg[p] : (p == len ? 0x80 : 0);
        }
        if (off + 64 == total) {
            uint64_t bits = (uint64_t)len * 8;
            for (int i = 0; i < 8; i++)
                blk[56 + i] = (uint8_t)(bits >> (8 * i));
        }
        uint32_t w[16];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)blk[4 * i] | (uint32_t)blk[4 * i + 1] << 8 |
                   (uint32_t)blk[4 * i + 2] << 16 | (uint32_t)blk[4 * i + 3] << 24;
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        for (int i = 0; i < 64; i++) {
            uint32_t f;
            int g;
            if (i < 16) { f = (b & c) | (~b & d); g = i; }
            else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
            else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
            else { f = c ^ (b | ~d); g = (7 * i) % 16; }
            uint32_t tmp = d;
            d = c;
            c = b;
            uint32_t x = a + f + K[i] + w[g];
            b = b + ((x << R[i]) | (x >> (32 - R[i])));
            a = tmp;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (8 * j));
}

/* The UUID an offline-mode (online-mode=false) server assigns to a name. */
static void offline_uuid(const char *name, char out[37])
{
    char src[64];
    int n = snprintf(src, sizeof src, "OfflinePlayer:%s", name);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof src)
        n = (int)sizeof src - 1;
    uint8_t h[16];
    md5((const uint8_t *)src, (size_t)n, h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x30);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
             h[13], h[14], h[15]);
}

/* ------------------------------------------------------------------------ */
/* RCON wire format (shared by server and rcon-cli)                          */
/* ------------------------------------------------------------------------ */

enum { RCON_RESPONSE = 0, RCON_EXEC = 2, RCON_AUTH_RESPONSE = 2, RCON_AUTH = 3 };

static int32_t le32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static void put_le32(buf_t *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    unsigned char p[4] = { (unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                           (unsigned char)(u >> 24) };
    buf_add(b, p, 4);
}

static void rcon_packet(buf_t *b, int32_t id, int32_t type, const char *body, size_t len)
{
    put_le32(b, (int32_t)(len + 10));
    put_le32(b, id);
    put_le32(b, type);
    buf_add(b, body, len);
    buf_add(b, "\0\0", 2);
}

/* ------------------------------------------------------------------------ */
/* Minecraft protocol helpers (VarInt / String)                               */
/* ------------------------------------------------------------------------ */

/* Returns bytes consumed, 0 if more data is needed, -1 if malformed. */
static int varint_read(const unsigned char *p, size_t avail, int32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        if ((size_t)i >= avail)
            return 0;
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = (int32_t)v;
            return i + 1;
        }
    }
    return -1;
}

static void varint_put(buf_t *b, int32_t value)
{
    uint32_t v = (uint32_t)value;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        buf_addc(b, (char)c);
    } while (v);
}

static void mc_string_put(buf_t *b, const char *s, size_t len)
{
    varint_put(b, (int32_t)len);
    buf_add(b, s, len);
}

/* wrap payload (packet id + fields) into a length-prefixed packet */
static void mc_frame(buf_t *out, const buf_t *payload)
{
    varint_put(out, (int32_t)payload->len);
    buf_add(out, payload->data, payload->len);
}

/* ------------------------------------------------------------------------ */
/* Server state                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
    char name[17];
    char uuid[37];
    char reason[256];
    char source[64];
    char created[40];
} entry_t;

typedef struct {
    entry_t *v;
    size_t n, cap;
    const char *file;
} list_t;

typedef struct {
    char name[17];
    char uuid[37];
    int entity_id;
} player_t;

enum conn_kind { CONN_SLP, CONN_RCON };
enum slp_state { SLP_HANDSHAKE, SLP_STATUS };

typedef struct {
    int fd;
    uint64_t serial;           /* unique per connection, to detect reuse */
    enum conn_kind kind;
    buf_t in, out;
    size_t out_off;
    bool close_after_flush;
    int64_t deadline;          /* SLP idle timeout, 0 = none */
    enum slp_state slp;
    bool status_sent;
    bool authed;
    int thread_no;
    char addr[64];
} conn_t;

enum phase { PH_STARTING, PH_RUNNING };

static struct {
    /* configuration (from the environment) */
    char version[64];
    int protocol;
    bool secure_chat;             /* >= 1.19.1: chat is logged with "[Not Secure]" */
    char type[32];
    char motd[512];
    int server_port, rcon_port, max_players;
    bool rcon_enabled;
    char rcon_password[256];
    bool pipe_enabled;
    char pipe_path[PATH_MAX];
    unsigned uid, gid;
    long startup_ms, heap_mb, cpu_pct, save_interval_ms;
    char level[128];
    char gamemode[16];
    bool online_mode;
    long long seed;
    char mem_init[32], mem_max[32];

    /* runtime */
    enum phase phase;
    int64_t t_start, t_prepare;
    int step;
    int sigfd, slp_fd, rcon_fd, pipe_fd;
    bool stdin_active;
    buf_t stdin_line, pipe_line;
    bool stdin_discard, pipe_discard;
    conn_t *conns[MAX_CONNS];
    int next_thread_no, next_entity_id, next_auth_no;
    uint64_t next_serial;
    player_t players[MAX_ONLINE];
    int nplayers;
    list_t ops, whitelist, bans;
    bool whitelist_on;
    bool autosave;
    bool stop_requested;
    int64_t next_tick, next_save, frozen_until;
    unsigned char *heap;
    size_t heap_size, heap_pos;
    int region_fd;
    uint64_t rng;
    int logfd;
} G = { .sigfd = -1, .slp_fd = -1, .rcon_fd = -1, .pipe_fd = -1, .logfd = -1, .region_fd = -1 };

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

/* "[init] ..." lines come from the image's start scripts: stdout only */
__attribute__((format(printf, 1, 2)))
static void init_log(const char *fmt, ...)
{
    buf_t b = { 0 };
    buf_adds(&b, "[init] ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    buf_addc(&b, '\n');
    write_all(1, b.data, b.len);
    buf_free(&b);
}

/* vanilla log4j pattern: "[HH:MM:SS] [thread/LEVEL]: message" */
__attribute__((format(printf, 3, 4)))
static void mc_log(const char *thread, const char *level, const char *fmt, ...)
{
    static buf_t b;
    b.len = 0;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    buf_printf(&b, "[%02d:%02d:%02d] [%s/%s]: ", tm.tm_hour, tm.tm_min, tm.tm_sec, thread, level);
    size_t start = b.len;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    for (size_t i = start; i < b.len; i++) /* one record per line */
        if (b.data[i] == '\n' || b.data[i] == '\r')
            b.data[i] = ' ';
    buf_addc(&b, '\n');
    write_all(1, b.data, b.len);
    if (G.logfd >= 0 && !write_all(G.logfd, b.data, b.len)) {
        close(G.logfd);
        G.logfd = -1;
    }
    if (b.cap > 65536) /* do not keep a huge line buffer around */
        buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Files in /data                                                           */
/* ------------------------------------------------------------------------ */

static bool write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return false;
    bool ok = write_all(fd, data, len);
    if (close(fd) != 0)
        ok = false;
    return ok;
}

static char *read_file(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    buf_t b = { 0 };
    char tmp[65536];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (b.len + (size_t)r > max) {
            close(fd);
            buf_free(&b);
            return NULL;
        }
        buf_add(&b, tmp, (size_t)r);
    }
    close(fd);
    buf_reserve(&b, 0);
    if (len_out)
        *len_out = b.len;
    return b.data;
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    static bool init;
    if (!init) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        init = true;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Write a valid .gz file made of "stored" (uncompressed) deflate blocks. */
static bool gzip_store(const char *dst, const unsigned char *data, size_t len, time_t mtime)
{
    buf_t b = { 0 };
    uint32_t mt = (uint32_t)mtime;
    unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, (unsigned char)mt, (unsigned char)(mt >> 8),
                              (unsigned char)(mt >> 16), (unsigned char)(mt >> 24), 0, 3 };
    buf_add(&b, hdr, sizeof hdr);
    size_t off = 0;
    do {
        size_t n = len - off > 65535 ? 65535 : len - off;
        bool final = off + n == len;
        unsigned char bh[5] = { final ? 1 : 0, (unsigned char)n, (unsigned char)(n >> 8),
                                (unsigned char)~n, (unsigned char)(~n >> 8) };
        buf_add(&b, bh, sizeof bh);
        buf_add(&b, data + off, n);
        off += n;
    } while (off < len);
    uint32_t crc = crc32_update(0, data, len), isz = (uint32_t)len;
    unsigned char tr[8] = { (unsigned char)crc, (unsigned char)(crc >> 8), (unsigned char)(crc >> 16),
                            (unsigned char)(crc >> 24), (unsigned char)isz, (unsigned char)(isz >> 8),
                            (unsigned char)(isz >> 16), (unsigned char)(isz >> 24) };
    buf_add(&b, tr, sizeof tr);
    bool ok = write_file(dst, b.data, b.len, 0664);
    buf_free(&b);
    return ok;
}

/* log4j's OnStartupTriggeringPolicy: logs/latest.log -> logs/YYYY-MM-DD-N.log.gz */
static void rotate_latest_log(void)
{
    struct stat st;
    if (stat("logs/latest.log", &st) != 0)
        return;
    struct tm tm;
    localtime_r(&st.st_mtime, &tm);
    char date[16], name[64];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    int i;
    for (i = 1; i < 100000; i++) {
        snprintf(name, sizeof name, "logs/%s-%d.log.gz", date, i);
        if (access(name, F_OK) != 0)
            break;
    }
    size_t len = 0;
    char *data = read_file("logs/latest.log", 256u << 20, &len);
    if (data && gzip_store(name, (unsigned char *)data, len, st.st_mtime)) {
        unlink("logs/latest.log");
    } else {
        snprintf(name, sizeof name, "logs/%s-%d.log", date, i);
        if (rename("logs/latest.log", name) != 0)
            unlink("logs/latest.log");
    }
    free(data);
}

/* --- ops.json / whitelist.json / banned-players.json -------------------- */

static bool json_get_str(const char *obj, size_t olen, const char *key, char *out, size_t outsz)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    size_t pl = strlen(pat);
    for (size_t i = 0; i + pl <= olen; i++) {
        if (memcmp(obj + i, pat, pl) != 0)
            continue;
        size_t j = i + pl;
        while (j < olen && isspace((unsigned char)obj[j]))
            j++;
        if (j >= olen || obj[j] != ':')
            continue;
        j++;
        while (j < olen && isspace((unsigned char)obj[j]))
            j++;
        if (j >= olen || obj[j] != '"')
            continue;
        j++;
        size_t o = 0;
        while (j < olen && obj[j] != '"') {
            char c = obj[j++];
            if (c == '\\' && j < olen) {
                c = obj[j++];
                if (c == 'n')
                    c = ' ';
                else if (c == 'u') { /* keep it simple: drop \uXXXX escapes */
                    j = j + 4 <= olen ? j + 4 : olen;
                    continue;
                }
            }
            if (o + 1 < outsz)
                out[o++] = c;
        }
        out[o] = '\0';
        return true;
    }
    return false;
}

static entry_t *list_find(list_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->v[i].name, name))
            return &l->v[i];
    return NULL;
}

static entry_t *list_add(list_t *l, const char *name)
{
    if (l->n >= MAX_LIST)
        return NULL;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        entry_t *p = realloc(l->v, nc * sizeof *p);
        if (!p)
            die_oom();
        l->v = p;
        l->cap = nc;
    }
    entry_t *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    copy_str(e->name, sizeof e->name, name);
    offline_uuid(name, e->uuid);
    return e;
}

static void list_remove(list_t *l, entry_t *e)
{
    size_t i = (size_t)(e - l->v);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *e);
    l->n--;
}

static void list_load(list_t *l)
{
    size_t len = 0;
    char *text = read_file(l->file, 16u << 20, &len);
    if (!text)
        return;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *o = memchr(p, '{', (size_t)(end - p));
        if (!o)
            break;
        const char *c = memchr(o, '}', (size_t)(end - o));
        if (!c)
            break;
        char name[64];
        if (json_get_str(o, (size_t)(c - o), "name", name, sizeof name) && valid_player_name(name) &&
            !list_find(l, name)) {
            entry_t *e = list_add(l, name);
            if (e) {
                json_get_str(o, (size_t)(c - o), "uuid", e->uuid, sizeof e->uuid);
                json_get_str(o, (size_t)(c - o), "reason", e->reason, sizeof e->reason);
                json_get_str(o, (size_t)(c - o), "source", e->source, sizeof e->source);
                json_get_str(o, (size_t)(c - o), "created", e->created, sizeof e->created);
            }
        }
        p = c + 1;
    }
    free(text);
}

static void list_save(list_t *l)
{
    buf_t b = { 0 };
    buf_adds(&b, "[");
    for (size_t i = 0; i < l->n; i++) {
        entry_t *e = &l->v[i];
        buf_adds(&b, i ? ",\n  {\n" : "\n  {\n");
        buf_adds(&b, "    \"uuid\": ");
        json_escape(&b, e->uuid);
        buf_adds(&b, ",\n    \"name\": ");
        json_escape(&b, e->name);
        if (l == &G.ops) {
            buf_adds(&b, ",\n    \"level\": 4,\n    \"bypassesPlayerLimit\": false");
        } else if (l == &G.bans) {
            buf_adds(&b, ",\n    \"created\": ");
            json_escape(&b, e->created);
            buf_adds(&b, ",\n    \"source\": ");
            json_escape(&b, e->source);
            buf_adds(&b, ",\n    \"expires\": \"forever\",\n    \"reason\": ");
            json_escape(&b, e->reason);
        }
        buf_adds(&b, "\n  }");
    }
    buf_adds(&b, l->n ? "\n]" : "]");
    if (!write_file(l->file, b.data, b.len, 0664))
        mc_log(SRV, "WARN", "Failed to save %s: %s", l->file, strerror(errno));
    buf_free(&b);
}

/* --- simulated world I/O --------------------------------------------------- */

static uint64_t rng_next(void)
{
    uint64_t x = G.rng ? G.rng : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return G.rng = x;
}

/* Write a 16 KiB "chunk" into the region file and flush it to disk, so the
 * container's block-I/O counters move like a real server's.  The file is
 * opened with O_DIRECT when the filesystem allows it: with cgroup v1 only
 * direct I/O is charged to the container (buffered writeback is not). */
#define CHUNK_BYTES 16384
static void save_world_chunk(void)
{
    static unsigned slot;
    static unsigned char *data;
    if (G.region_fd < 0)
        return;
    if (!data && !(data = aligned_alloc(4096, CHUNK_BYTES)))
        die_oom();
    for (size_t i = 0; i < CHUNK_BYTES; i += 8) {
        uint64_t r = rng_next();
        memcpy(data + i, &r, 8);
    }
    off_t off = 8192 + (off_t)(slot++ % 63) * CHUNK_BYTES; /* 4 KiB aligned */
    ssize_t w = pwrite(G.region_fd, data, CHUNK_BYTES, off);
    if (w < 0 && errno == EINVAL) { /* O_DIRECT accepted at open but not for writes */
        int fl = fcntl(G.region_fd, F_GETFL);
        if (fl >= 0 && fcntl(G.region_fd, F_SETFL, fl & ~O_DIRECT) == 0)
            w = pwrite(G.region_fd, data, CHUNK_BYTES, off);
    }
    if (w == CHUNK_BYTES)
        fdatasync(G.region_fd);
}

static int open_region_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_DIRECT, 0664);
    if (fd < 0 && errno == EINVAL) /* e.g. tmpfs: no O_DIRECT */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
    if (fd >= 0 && ftruncate(fd, 1 << 20) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static void conn_close(conn_t *c)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        if (G.conns[i] == c) {
            G.conns[i] = NULL;
            break;
        }
    }
    if (c->kind == CONN_RCON) {
        char thread[128];
        snprintf(thread, sizeof thread, "RCON Client /%s #%d", c->addr, c->thread_no);
        mc_log(thread, "INFO", "Thread RCON Client /%s shutting down", c->addr);
    }
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

static void conn_queue(conn_t *c, const void *data, size_t len)
{
    if (c->out.len - c->out_off + len > RCON_OUT_MAX) {
        c->close_after_flush = true; /* client does not read: give up on it */
        c->out.len = c->out_off = 0;
        return;
    }
    buf_add(&c->out, data, len);
}

/* Try to write pending output; returns false if the connection died. */
static bool conn_flush(conn_t *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return false;
        }
        c->out_off += (size_t)w;
    }
    if (c->out_off == c->out.len) {
        c->out.len = c->out_off = 0;
    } else if (c->out_off > (1u << 20) && c->out_off > c->out.len / 2) {
        memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    return !(c->close_after_flush && c->out.len == 0);
}

/* Best-effort: push out all queued output (used before stopping/freezing). */
static void flush_all(int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd[MAX_CONNS];
        int n = 0;
        for (int i = 0; i < MAX_CONNS; i++) {
            conn_t *c = G.conns[i];
            if (!c)
                continue;
            if (!conn_flush(c)) {
                conn_close(c);
                continue;
            }
            if (c->out.len > c->out_off) {
                pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
            }
        }
        int64_t left = end - now_ms();
        if (n == 0 || left <= 0)
            return;
        if (poll(pfd, (nfds_t)n, (int)left) <= 0)
            return;
    }
}

static int listen_tcp(int port, bool do_listen, char *err, size_t errsz)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "%s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || (do_listen && listen(fd, 64) != 0)) {
        snprintf(err, errsz, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static conn_t *conn_accept(int lfd, enum conn_kind kind)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    int slot = -1;
    for (int i = 0; i < MAX_CONNS; i++)
        if (!G.conns[i]) {
            slot = i;
            break;
        }
    if (slot < 0) {
        close(fd); /* too many connections */
        return NULL;
    }
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        die_oom();
    c->fd = fd;
    c->serial = ++G.next_serial;
    c->kind = kind;
    if (!inet_ntop(AF_INET, &sa.sin_addr, c->addr, sizeof c->addr))
        copy_str(c->addr, sizeof c->addr, "unknown");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    G.conns[slot] = c;
    return c;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
    bool rcon;    /* RCON ("Rcon") or the server console ("Server") */
    buf_t *out;   /* RCON response: vanilla concatenates messages without separator */
} src_t;

static void src_vmsg(src_t *s, bool broadcast, const char *fmt, va_list ap)
{
    buf_t m = { 0 };
    buf_vprintf(&m, fmt, ap);
    const char *msg = buf_str(&m);
    if (s->rcon) {
        buf_add(s->out, m.data, m.len);
        if (broadcast) /* broadcast-to-ops feedback ends up in the server log */
            mc_log(SRV, "INFO", "[Rcon: %s]", msg);
    } else {
        mc_log(SRV, "INFO", "%s", msg);
    }
    buf_free(&m);
}

/* sendSuccess(message, broadcastToOps=false) / sendFailure(message) */
__attribute__((format(printf, 2, 3)))
static void reply(src_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    src_vmsg(s, false, fmt, ap);
    va_end(ap);
}

/* sendSuccess(message, broadcastToOps=true) */
__attribute__((format(printf, 2, 3)))
static void reply_bc(src_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    src_vmsg(s, true, fmt, ap);
    va_end(ap);
}

/* Brigadier-style parse error with context, e.g. "foo<--[HERE]" */
static void cmd_error(src_t *s, const char *input, size_t cursor, bool bad_argument)
{
    reply(s, "%s", bad_argument ? "Incorrect argument for command"
                                : "Unknown or incomplete command, see below for error");
    size_t len = strlen(input);
    if (cursor > len)
        cursor = len;
    buf_t c = { 0 };
    size_t st = cursor > 10 ? cursor - 10 : 0;
    if (cursor > 10)
        buf_adds(&c, "...");
    buf_add(&c, input + st, cursor - st);
    buf_adds(&c, input + cursor);
    buf_adds(&c, "<--[HERE]");
    reply(s, "%s", buf_str(&c));
    buf_free(&c);
}

typedef struct {
    char raw[LINE_MAX_LEN + 1];
    char tok[LINE_MAX_LEN + 1];
    int argc;
    char *argv[MAX_ARGS];
    size_t pos[MAX_ARGS];
} args_t;

static void split_args(args_t *a, const char *line)
{
    copy_str(a->raw, sizeof a->raw, line);
    memcpy(a->tok, a->raw, sizeof a->tok);
    a->argc = 0;
    char *p = a->tok;
    while (*p && a->argc < MAX_ARGS) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        a->pos[a->argc] = (size_t)(p - a->tok);
        a->argv[a->argc++] = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static const char *rest(args_t *a, int i) { return a->raw + a->pos[i]; }

static player_t *find_player(const char *name)
{
    for (int i = 0; i < G.nplayers; i++)
        if (!strcasecmp(G.players[i].name, name))
            return &G.players[i];
    return NULL;
}

static void remove_player(player_t *p, const char *reason)
{
    mc_log(SRV, "INFO", "%s lost connection: %s", p->name, reason);
    mc_log(SRV, "INFO", "%s left the game", p->name);
    int i = (int)(p - G.players);
    memmove(&G.players[i], &G.players[i + 1], (size_t)(G.nplayers - i - 1) * sizeof *p);
    G.nplayers--;
}

static void now_stamp(char *out, size_t sz)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, sz, "%Y-%m-%d %H:%M:%S %z", &tm);
}

static const char *const HELP_LINES[] = {
    "/advancement (grant|revoke)",
    "/attribute <target> <attribute> (base|get|modifier)",
    "/ban <targets> [<reason>]",
    "/ban-ip <target> [<reason>]",
    "/banlist [ips|players]",
    "/clear [<targets>]",
    "/defaultgamemode <gamemode>",
    "/deop <targets>",
    "/difficulty [peaceful|easy|normal|hard]",
    "/effect (clear|give)",
    "/gamemode <gamemode> [<target>]",
    "/gamerule <rule>",
    "/give <targets> <item> [<count>]",
    "/help [<command>]",
    "/kick <targets> [<reason>]",
    "/kill [<targets>]",
    "/list [uuids]",
    "/me <action>",
    "/msg <targets> <message>",
    "/op <targets>",
    "/pardon <targets>",
    "/pardon-ip <target>",
    "/save-all [flush]",
    "/save-off",
    "/save-on",
    "/say <message>",
    "/seed",
    "/stop",
    "/tell -> msg",
    "/time (set|add|query)",
    "/tp -> teleport",
    "/weather (clear|rain|thunder)",
    "/whitelist (on|off|list|add|remove|reload)",
    "/mcsim (join|leave|log|warn|error|spam|flood|freeze|crash|help)",
};

static void request_stop(void) { G.stop_requested = true; }

static void cmd_list(src_t *s, args_t *a)
{
    bool uuids = a->argc >= 2 && !strcmp(a->argv[1], "uuids");
    if (a->argc >= 2 && !uuids) {
        cmd_error(s, a->raw, a->pos[1], true);
        return;
    }
    buf_t names = { 0 };
    for (int i = 0; i < G.nplayers; i++) {
        if (i)
            buf_adds(&names, ", ");
        if (uuids)
            buf_printf(&names, "%s (%s)", G.players[i].name, G.players[i].uuid);
        else
            buf_adds(&names, G.players[i].name);
    }
    reply(s, "There are %d of a max of %d players online: %s", G.nplayers, G.max_players,
          buf_str(&names));
    buf_free(&names);
}

static void cmd_say(src_t *s, args_t *a)
{
    if (a->argc < 2) {
        cmd_error(s, a->raw, strlen(a->raw), false);
        return;
    }
    mc_log(SRV, "INFO", "%s[%s] %s", G.secure_chat ? "[Not Secure] " : "", s->rcon ? "Rcon" : "Server",
           rest(a, 1));
}

static void cmd_help(src_t *s, args_t *a)
{
    size_t n = sizeof HELP_LINES / sizeof HELP_LINES[0];
    if (a->argc < 2) {
        for (size_t i = 0; i < n; i++)
            reply(s, "%s", HELP_LINES[i]);
        return;
    }
    size_t l = strlen(a->argv[1]);
    for (size_t i = 0; i < n; i++) {
        const char *h = HELP_LINES[i] + 1;
        if (!strncmp(h, a->argv[1], l) && (h[l] == ' ' || h[l] == '\0')) {
            reply(s, "%s", HELP_LINES[i]);
            return;
        }
    }
    reply(s, "Unknown command or insufficient permissions");
}

/* op / deop / pardon / whitelist add|remove share the "target name" checks */
static const char *target_name(src_t *s, args_t *a, int idx)
{
    if (a->argc <= idx) {
        cmd_error(s, a->raw, strlen(a->raw), false);
        return NULL;
    }
    if (!valid_player_name(a->argv[idx])) {
        reply(s, "That player does not exist");
        return NULL;
    }
    return a->argv[idx];
}

static void cmd_op(src_t *s, args_t *a, bool op)
{
    const char *name = target_name(s, a, 1);
    if (!name)
        return;
    entry_t *e = list_find(&G.ops, name);
    if (op) {
        if (e) {
            reply(s, "Nothing changed. The player already is an operator");
            return;
        }
        if (!list_add(&G.ops, name)) {
            reply(s, "mcsim: too many operators");
            return;
        }
        list_save(&G.ops);
        reply_bc(s, "Made %s a server operator", name);
    } else {
        if (!e) {
            reply(s, "Nothing changed. The player is not an operator");
            return;
        }
        list_remove(&G.ops, e);
        list_save(&G.ops);
        reply_bc(s, "Made %s no longer a server operator", name);
    }
}

static void cmd_kick(src_t *s, args_t *a)
{
    if (a->argc < 2) {
        cmd_error(s, a->raw, strlen(a->raw), false);
        return;
    }
    player_t *p = find_player(a->argv[1]);
    if (!p) {
        reply(s, "No player was found");
        return;
    }
    const char *reason = a->argc >= 3 ? rest(a, 2) : "Kicked by an operator.";
    char name[17];
    copy_str(name, sizeof name, p->name);
    remove_player(p, reason);
    reply_bc(s, "Kicked %s: %s", name, reason);
}

static void cmd_ban(src_t *s, args_t *a)
{
    const char *name = target_name(s, a, 1);
    if (!name)
        return;
    if (list_find(&G.bans, name)) {
        reply(s, "Nothing changed. The player is already banned");
        return;
    }
    entry_t *e = list_add(&G.bans, name);
    if (!e) {
        reply(s, "mcsim: too many bans");
        return;
    }
    copy_str(e->reason, sizeof e->reason, a->argc >= 3 ? rest(a, 2) : "Banned by an operator.");
    copy_str(e->source, sizeof e->source, s->rcon ? "Rcon" : "Server");
    now_stamp(e->created, sizeof e->created);
    char reason[256];
    copy_str(reason, sizeof reason, e->reason);
    list_save(&G.bans);
    player_t *p = find_player(name);
    if (p)
        remove_player(p, "You are banned from this server.");
    reply_bc(s, "Banned %s: %s", name, reason);
}

static void cmd_pardon(src_t *s, args_t *a)
{
    const char *name = target_name(s, a, 1);
    if (!name)
        return;
    entry_t *e = list_find(&G.bans, name);
    if (!e) {
        reply(s, "Nothing changed. The player isn't banned");
        return;
    }
    list_remove(&G.bans, e);
    list_save(&G.bans);
    reply_bc(s, "Unbanned %s", name);
}

static void cmd_banlist(src_t *s, args_t *a)
{
    (void)a;
    if (G.bans.n == 0) {
        reply(s, "There are no bans");
        return;
    }
    reply(s, "There are %zu ban(s):", G.bans.n);
    for (size_t i = 0; i < G.bans.n; i++)
        reply(s, "%s was banned by %s: %s", G.bans.v[i].name,
              G.bans.v[i].source[0] ? G.bans.v[i].source : "Server", G.bans.v[i].reason);
}

static void cmd_whitelist(src_t *s, args_t *a)
{
    if (a->argc < 2) {
        cmd_error(s, a->raw, strlen(a->raw), false);
        return;
    }
    const char *sub = a->argv[1];
    if (!strcmp(sub, "on") || !strcmp(sub, "off")) {
        bool on = !strcmp(sub, "on");
        if (G.whitelist_on == on) {
            reply(s, on ? "Whitelist is already turned on" : "Whitelist is already turned off");
            return;
        }
        G.whitelist_on = on;
        reply_bc(s, on ? "Whitelist is now turned on" : "Whitelist is now turned off");
    } else if (!strcmp(sub, "list")) {
        if (G.whitelist.n == 0) {
            reply(s, "There are no whitelisted players");
            return;
        }
        buf_t b = { 0 };
        for (size_t i = 0; i < G.whitelist.n; i++) {
            if (i)
                buf_adds(&b, ", ");
            buf_adds(&b, G.whitelist.v[i].name);
        }
        reply(s, "There are %zu whitelisted player(s): %s", G.whitelist.n, buf_str(&b));
        buf_free(&b);
    } else if (!strcmp(sub, "add") || !strcmp(sub, "remove")) {
        const char *name = target_name(s, a, 2);
        if (!name)
            return;
        entry_t *e = list_find(&G.whitelist, name);
        if (!strcmp(sub, "add")) {
            if (e) {
                reply(s, "Player is already whitelisted");
                return;
            }
            if (!list_add(&G.whitelist, name)) {
                reply(s, "mcsim: whitelist is full");
                return;
            }
            list_save(&G.whitelist);
            reply_bc(s, "Added %s to the whitelist", name);
        } else {
            if (!e) {
                reply(s, "Player is not whitelisted");
                return;
            }
            list_remove(&G.whitelist, e);
            list_save(&G.whitelist);
            reply_bc(s, "Removed %s from the whitelist", name);
        }
    } else if (!strcmp(sub, "reload")) {
        G.whitelist.n = 0;
        list_load(&G.whitelist);
        reply_bc(s, "Reloaded the whitelist");
    } else {
        cmd_error(s, a->raw, a->pos[1], true);
    }
}

static void cmd_save_all(src_t *s, args_t *a)
{
    (void)a;
    reply(s, "Saving the game (this may take a moment!)");
    save_world_chunk();
    reply_bc(s, "Saved the game");
}

static void cmd_save_toggle(src_t *s, bool on)
{
    if (G.autosave == on) {
        reply(s, on ? "Saving is already turned on" : "Saving is already turned off");
        return;
    }
    G.autosave = on;
    reply_bc(s, on ? "Automatic saving is now enabled" : "Automatic saving is now disabled");
}

/* --- simulator-only commands ------------------------------------------------ */

static void mcsim_join(src_t *s, const char *name)
{
    if (!valid_player_name(name)) {
        reply(s, "mcsim: invalid player name '%s' (1-16 of A-Z a-z 0-9 _)", name);
        return;
    }
    if (find_player(name)) {
        reply(s, "mcsim: %s is already online", name);
        return;
    }
    const char *refuse = NULL;
    if (list_find(&G.bans, name))
        refuse = "You are banned from this server.";
    else if (G.whitelist_on && !list_find(&G.whitelist, name))
        refuse = "You are not white-listed on this server!";
    else if (G.nplayers >= G.max_players || G.nplayers >= MAX_ONLINE)
        refuse = "The server is full!";
    if (refuse) {
        reply(s, "mcsim: %s was refused: %s", name, refuse);
        return;
    }
    player_t *p = &G.players[G.nplayers++];
    copy_str(p->name, sizeof p->name, name);
    offline_uuid(name, p->uuid);
    p->entity_id = G.next_entity_id++;
    char auth[64];
    snprintf(auth, sizeof auth, "User Authenticator #%d", ++G.next_auth_no);
    mc_log(auth, "INFO", "UUID of player %s is %s", p->name, p->uuid);
    mc_log(SRV, "INFO", "%s[/127.0.0.1:%d] logged in with entity id %d at (0.5, 64.0, 0.5)", p->name,
           40000 + (int)(rng_next() % 20000), p->entity_id);
    mc_log(SRV, "INFO", "%s joined the game", p->name);
    reply(s, "mcsim: %s joined (%d/%d online)", p->name, G.nplayers, G.max_players);
}

static void freeze_start(long secs);

static void cmd_mcsim(src_t *s, args_t *a)
{
    static const char usage[] =
        "mcsim (simulator-only test commands): join <name> | leave <name> | log <text> | warn <text> | "
        "error <text> | spam <N> | flood <bytes> | freeze <seconds> | crash";
    if (a->argc < 2 || !strcmp(a->argv[1], "help")) {
        reply(s, "%s", usage);
        return;
    }
    const char *sub = a->argv[1];
    long n;
    if (!strcmp(sub, "join") || !strcmp(sub, "leave")) {
        if (a->argc < 3) {
            cmd_error(s, a->raw, strlen(a->raw), false);
            return;
        }
        if (!strcmp(sub, "join")) {
            mcsim_join(s, a->argv[2]);
        } else {
            player_t *p = find_player(a->argv[2]);
            if (!p) {
                reply(s, "mcsim: %s is not online", a->argv[2]);
                return;
            }
            char name[17];
            copy_str(name, sizeof name, p->name);
            remove_player(p, "Disconnected");
            reply(s, "mcsim: %s left (%d/%d online)", name, G.nplayers, G.max_players);
        }
    } else if (!strcmp(sub, "log") || !strcmp(sub, "warn") || !strcmp(sub, "error")) {
        if (a->argc < 3) {
            cmd_error(s, a->raw, strlen(a->raw), false);
            return;
        }
        mc_log(SRV, !strcmp(sub, "log") ? "INFO" : !strcmp(sub, "warn") ? "WARN" : "ERROR", "%s",
               rest(a, 2));
    } else if (!strcmp(sub, "spam")) {
        if (a->argc < 3 || !parse_long(a->argv[2], 1, SPAM_MAX, &n)) {
            reply(s, "mcsim: spam needs a line count 1..%d", SPAM_MAX);
            return;
        }
        for (long i = 1; i <= n; i++)
            mc_log(SRV, "INFO", "mcsim spam line %ld of %ld", i, n);
        reply(s, "mcsim: wrote %ld log lines", n);
    } else if (!strcmp(sub, "flood")) {
        if (a->argc < 3 || !parse_long(a->argv[2], 1, FLOOD_MAX, &n)) {
            reply(s, "mcsim: flood needs a byte count 1..%u", FLOOD_MAX);
            return;
        }
        if (!s->rcon) {
            reply(s, "mcsim: flood only makes sense over RCON (would answer %ld bytes)", n);
            return;
        }
        /* exactly n bytes of printable ASCII, numbered every 64 bytes */
        buf_reserve(s->out, (size_t)n);
        for (long i = 0; i < n; i++) {
            char c;
            if (i % 64 == 63)
                c = '|';
            else
                c = "0123456789abcdefghijklmnopqrstuvwxyz"[(i / 64) % 36];
            buf_addc(s->out, c);
        }
    } else if (!strcmp(sub, "freeze")) {
        if (a->argc < 3 || !parse_long(a->argv[2], 1, FREEZE_MAX_S, &n)) {
            reply(s, "mcsim: freeze needs seconds 1..%d", FREEZE_MAX_S);
            return;
        }
        reply(s, "mcsim: freezing the server thread for %ld s", n);
        freeze_start(n);
    } else if (!strcmp(sub, "crash")) {
        mc_log(SRV, "ERROR", "Encountered an unexpected exception");
        mc_log(SRV, "ERROR", "java.lang.IllegalStateException: mcsim crash requested (simulated)");
        if (G.logfd >= 0)
            fsync(G.logfd);
        _exit(1);
    } else {
        cmd_error(s, a->raw, a->pos[1], true);
    }
}

static void run_command(src_t *s, const char *line)
{
    if (*line == '/')
        line++;
    args_t *a = malloc(sizeof *a);
    if (!a)
        die_oom();
    split_args(a, line);
    if (a->argc == 0) {
        cmd_error(s, a->raw, 0, false);
        free(a);
        return;
    }
    const char *c = a->argv[0];
    if (!strcmp(c, "list")) cmd_list(s, a);
    else if (!strcmp(c, "say")) cmd_say(s, a);
    else if (!strcmp(c, "help")) cmd_help(s, a);
    else if (!strcmp(c, "stop")) { reply_bc(s, "Stopping the server"); request_stop(); }
    else if (!strcmp(c, "op")) cmd_op(s, a, true);
    else if (!strcmp(c, "deop")) cmd_op(s, a, false);
    else if (!strcmp(c, "kick")) cmd_kick(s, a);
    else if (!strcmp(c, "ban")) cmd_ban(s, a);
    else if (!strcmp(c, "pardon")) cmd_pardon(s, a);
    else if (!strcmp(c, "banlist")) cmd_banlist(s, a);
    else if (!strcmp(c, "whitelist")) cmd_whitelist(s, a);
    else if (!strcmp(c, "save-all")) cmd_save_all(s, a);
    else if (!strcmp(c, "save-on")) cmd_save_toggle(s, true);
    else if (!strcmp(c, "save-off")) cmd_save_toggle(s, false);
    else if (!strcmp(c, "seed")) reply(s, "Seed: [%lld]", G.seed);
    else if (!strcmp(c, "mcsim")) cmd_mcsim(s, a);
    else cmd_error(s, a->raw, 0, false);
    free(a);
}

static void console_command(const char *line)
{
    if (!*line)
        return;
    src_t s = { .rcon = false, .out = NULL };
    run_command(&s, line);
}

/* ------------------------------------------------------------------------ */
/* RCON server                                                              */
/* ------------------------------------------------------------------------ */

static void rcon_send(conn_t *c, int32_t id, int32_t type, const char *body, size_t len)
{
    buf_t b = { 0 };
    rcon_packet(&b, id, type, body, len);
    conn_queue(c, b.data, b.len);
    buf_free(&b);
}

/* vanilla RconClient.sendCmdResponse: split every 4096 characters */
static void rcon_send_response(conn_t *c, int32_t id, const char *s, size_t len)
{
    size_t off = 0;
    do {
        size_t n = len - off > RCON_CHUNK ? RCON_CHUNK : len - off;
        if (off + n < len) /* do not cut a UTF-8 sequence in half */
            while (n > 1 && ((unsigned char)s[off + n] & 0xc0) == 0x80)
                n--;
        rcon_send(c, id, RCON_RESPONSE, s + off, n);
        off += n;
    } while (off < len);
}

/* Returns false if the connection must be closed. */
static bool rcon_handle_packets(conn_t *c)
{
    while (c->in.len >= 4 && !G.stop_requested && G.frozen_until == 0) {
        unsigned char *p = (unsigned char *)c->in.data;
        int32_t len = le32(p);
        if (len < 10 || len > RCON_MAX_LEN)
            return false; /* malformed: vanilla drops the connection */
        if (c->in.len < 4 + (size_t)len)
            break;
        int32_t id = le32(p + 4), type = le32(p + 8);
        const char *body = (const char *)p + 12;
        size_t blen = strnlen(body, (size_t)len - 8);
        char *cmd = strndup(body, blen);
        if (!cmd)
            die_oom();
        if (type == RCON_AUTH) {
            if (blen > 0 && !strcmp(cmd, G.rcon_password)) {
                c->authed = true;
                rcon_send(c, id, RCON_AUTH_RESPONSE, "", 0);
            } else {
                c->authed = false;
                rcon_send(c, -1, RCON_AUTH_RESPONSE, "", 0);
            }
        } else if (type == RCON_EXEC) {
            if (!c->authed) {
                rcon_send(c, -1, RCON_AUTH_RESPONSE, "", 0);
            } else {
                buf_t out = { 0 };
                src_t s = { .rcon = true, .out = &out };
                run_command(&s, cmd);
                rcon_send_response(c, id, out.data ? out.data : "", out.len);
                buf_free(&out);
            }
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "Unknown request %x", (unsigned)type);
            rcon_send_response(c, id, msg, strlen(msg));
        }
        free(cmd);
        size_t used = 4 + (size_t)len;
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Server List Ping                                                         */
/* ------------------------------------------------------------------------ */

static void status_json(buf_t *b)
{
    buf_adds(b, "{\"version\":{\"name\":");
    json_escape(b, G.version);
    buf_printf(b, ",\"protocol\":%d}", G.protocol);
    if (G.secure_chat)
        buf_adds(b, ",\"enforcesSecureChat\":true");
    buf_adds(b, ",\"description\":{\"text\":");
    json_escape(b, G.motd);
    buf_printf(b, "},\"players\":{\"max\":%d,\"online\":%d", G.max_players, G.nplayers);
    if (G.nplayers > 0) {
        buf_adds(b, ",\"sample\":[");
        for (int i = 0; i < G.nplayers && i < 12; i++) {
            buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
            json_escape(b, G.players[i].name);
            buf_adds(b, ",\"id\":");
            json_escape(b, G.players[i].uuid);
            buf_adds(b, "}");
        }
        buf_adds(b, "]");
    }
    buf_adds(b, "}}");
}

/* pre-1.7 "legacy" ping (0xFE): kick packet with a UTF-16BE string */
static void slp_legacy(conn_t *c)
{
    buf_t s = { 0 };
    buf_printf(&s, "\xc2\xa7" "1%c127%c%s%c%s%c%d%c%d", 0, 0, G.version, 0, G.motd, 0, G.nplayers, 0,
               G.max_players);
    buf_t out = { 0 };
    buf_addc(&out, (char)0xff);
    buf_t u = { 0 };
    size_t units = 0;
    for (size_t i = 0; i < s.len;) { /* UTF-8 -> UTF-16BE (BMP only) */
        unsigned char ch = (unsigned char)s.data[i];
        uint32_t cp;
        if (ch < 0x80) { cp = ch; i += 1; }
        else if ((ch & 0xe0) == 0xc0 && i + 1 < s.len) {
            cp = (uint32_t)(ch & 0x1f) << 6 | (s.data[i + 1] & 0x3f); i += 2;
        } else if ((ch & 0xf0) == 0xe0 && i + 2 < s.len) {
            cp = (uint32_t)(ch & 0x0f) << 12 | (uint32_t)(s.data[i + 1] & 0x3f) << 6 | (s.data[i + 2] & 0x3f);
            i += 3;
        } else { cp = '?'; i += 1; }
        buf_addc(&u, (char)(cp >> 8));
        buf_addc(&u, (char)(cp & 0xff));
        units++;
    }
    buf_addc(&out, (char)(units >> 8));
    buf_addc(&out, (char)(units & 0xff));
    buf_add(&out, u.data, u.len);
    conn_queue(c, out.data, out.len);
    c->close_after_flush = true;
    buf_free(&s);
    buf_free(&u);
    buf_free(&out);
}

/* Returns false if the connection must be closed. */
static bool slp_handle_packets(conn_t *c)
{
    while (c->in.len > 0 && !c->close_after_flush) {
        unsigned char *p = (unsigned char *)c->in.data;
        if (c->slp == SLP_HANDSHAKE && p[0] == 0xfe) {
            slp_legacy(c);
            return true;
        }
        int32_t plen;
        int hl = varint_read(p, c->in.len, &plen);
        if (hl < 0 || (hl == 0 && c->in.len >= 3) || (hl > 0 && (plen < 1 || plen > SLP_MAX_PACKET)))
            return false;
        if (hl == 0 || c->in.len < (size_t)hl + (size_t)plen)
            break;
        const unsigned char *q = p + hl, *end = q + plen;
        int32_t pid;
        int n = varint_read(q, (size_t)(end - q), &pid);
        if (n <= 0)
            return false;
        q += n;
        if (c->slp == SLP_HANDSHAKE) {
            int32_t proto, slen, next;
            if (pid != 0x00)
                return false;
            if ((n = varint_read(q, (size_t)(end - q), &proto)) <= 0)
                return false;
            q += n;
            if ((n = varint_read(q, (size_t)(end - q), &slen)) <= 0 || slen < 0 || slen > 1020)
                return false;
            q += n;
            if ((size_t)(end - q) < (size_t)slen + 2)
                return false;
            q += slen + 2; /* server address + unsigned short port */
            if ((n = varint_read(q, (size_t)(end - q), &next)) <= 0)
                return false;
            if (next == 1) {
                c->slp = SLP_STATUS;
            } else if (next == 2 || next == 3) {
                /* login/transfer: refuse politely with a Login Disconnect */
                buf_t pl = { 0 }, js = { 0 }, fr = { 0 };
                buf_addc(&pl, 0x00);
                buf_adds(&js, "{\"text\":\"This is mcsim, a Minecraft server simulator for tests. "
                              "It cannot be joined.\"}");
                mc_string_put(&pl, js.data, js.len);
                mc_frame(&fr, &pl);
                conn_queue(c, fr.data, fr.len);
                c->close_after_flush = true;
                buf_free(&pl);
                buf_free(&js);
                buf_free(&fr);
            } else {
                return false;
            }
        } else if (c->slp == SLP_STATUS) {
            if (pid == 0x00 && !c->status_sent) {
                buf_t js = { 0 }, pl = { 0 }, fr = { 0 };
                status_json(&js);
                buf_addc(&pl, 0x00);
                mc_string_put(&pl, js.data, js.len);
                mc_frame(&fr, &pl);
                conn_queue(c, fr.data, fr.len);
                c->status_sent = true;
                buf_free(&js);
                buf_free(&pl);
                buf_free(&fr);
            } else if (pid == 0x01 && end - q == 8) {
                buf_t pl = { 0 }, fr = { 0 };
                buf_addc(&pl, 0x01);
                buf_add(&pl, q, 8);
                mc_frame(&fr, &pl);
                conn_queue(c, fr.data, fr.len);
                c->close_after_flush = true;
                buf_free(&pl);
                buf_free(&fr);
            } else {
                return false;
            }
        }
        size_t used = (size_t)hl + (size_t)plen;
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
    }
    return true;
}

static void conn_process(conn_t *c)
{
    bool ok = c->kind == CONN_RCON ? rcon_handle_packets(c) : slp_handle_packets(c);
    if (!ok || !conn_flush(c))
        conn_close(c);
}

static void conn_readable(conn_t *c)
{
    char tmp[16384];
    ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        conn_close(c);
        return;
    }
    if (c->in.len + (size_t)r > RCON_MAX_LEN + 4 + sizeof tmp) { /* cannot happen with valid framing */
        conn_close(c);
        return;
    }
    buf_add(&c->in, tmp, (size_t)r);
    if (c->kind == CONN_SLP)
        c->deadline = now_ms() + SLP_IDLE_MS;
    conn_process(c);
}

/* ------------------------------------------------------------------------ */
/* Console input (stdin and the named pipe)                                   */
/* ------------------------------------------------------------------------ */

/* Returns false on EOF/error. */
static bool read_lines(int fd, buf_t *line, bool *discard)
{
    char tmp[4096];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN;
    if (r == 0)
        return false;
    for (ssize_t i = 0; i < r; i++) {
        char ch = tmp[i];
        if (ch == '\n') {
            if (!*discard) {
                while (line->len && (line->data[line->len - 1] == '\r' || line->data[line->len - 1] == ' '))
                    line->len--;
                console_command(buf_str(line));
            }
            line->len = 0;
            *discard = false;
            if (G.stop_requested)
                return true;
        } else if (line->len >= LINE_MAX_LEN) {
            *discard = true; /* overlong line: ignore it */
            line->len = 0;
        } else if (!*discard) {
            buf_addc(line, ch);
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                 */
/* ------------------------------------------------------------------------ */

static void shutdown_and_exit(void)
{
    flush_all(1000);
    mc_log(SRV, "INFO", "Stopping server");
    if (G.slp_fd >= 0) {
        close(G.slp_fd);
        G.slp_fd = -1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (G.conns[i] && G.conns[i]->kind == CONN_SLP)
            conn_close(G.conns[i]);
    mc_log(SRV, "INFO", "Saving players");
    while (G.nplayers > 0)
        remove_player(&G.players[0], "Server closed");
    mc_log(SRV, "INFO", "Saving worlds");
    save_world_chunk();
    mc_log(SRV, "INFO", "Saving chunks for level 'ServerLevel[%s]'/minecraft:overworld", G.level);
    mc_log(SRV, "INFO", "Saving chunks for level 'ServerLevel[%s]'/minecraft:the_end", G.level);
    mc_log(SRV, "INFO", "Saving chunks for level 'ServerLevel[%s]'/minecraft:the_nether", G.level);
    mc_log(SRV, "INFO", "ThreadedAnvilChunkStorage (%s): All chunks are saved", G.level);
    mc_log(SRV, "INFO", "ThreadedAnvilChunkStorage (DIM1): All chunks are saved");
    mc_log(SRV, "INFO", "ThreadedAnvilChunkStorage (DIM-1): All chunks are saved");
    mc_log(SRV, "INFO", "ThreadedAnvilChunkStorage: All dimensions are saved");
    if (G.rcon_fd >= 0) {
        close(G.rcon_fd);
        G.rcon_fd = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (G.conns[i])
                conn_close(G.conns[i]);
        mc_log(SRV, "INFO", "Thread RCON Listener stopped");
    }
    if (G.pipe_fd >= 0) {
        close(G.pipe_fd);
        unlink(G.pipe_path);
    }
    if (G.region_fd >= 0)
        close(G.region_fd);
    if (G.logfd >= 0) {
        fsync(G.logfd);
        close(G.logfd);
    }
    exit(0);
}

static void freeze_start(long secs)
{
    G.frozen_until = now_ms() + secs * 1000;
}

/* Some real CPU per tick: mix a window of the heap until the budget is spent. */
static void tick_work(void)
{
    static volatile uint64_t sink;
    if (G.cpu_pct <= 0)
        return;
    long budget_ns = (long)TICK_MS * 1000000L * G.cpu_pct / 100;
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    uint64_t acc = sink;
    for (;;) {
        for (int i = 0; i < 2048; i++) {
            if (G.heap && G.heap_size) {
                G.heap_pos = (G.heap_pos + 64) % G.heap_size;
                acc = acc * 6364136223846793005ull + G.heap[G.heap_pos];
                G.heap[G.heap_pos] = (unsigned char)acc;
            } else {
                acc = acc * 6364136223846793005ull + 1442695040888963407ull;
            }
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        long spent = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        if (spent >= budget_ns)
            break;
    }
    sink = acc;
}

static void alloc_heap(void)
{
    if (G.heap_mb <= 0)
        return;
    G.heap_size = (size_t)G.heap_mb << 20;
    G.heap = malloc(G.heap_size);
    if (!G.heap) {
        mc_log(SRV, "WARN", "mcsim: could not allocate MCSIM_HEAP_MB=%ld", G.heap_mb);
        G.heap_size = 0;
        return;
    }
    for (size_t i = 0; i < G.heap_size; i += 4096) /* touch every page */
        memset(G.heap + i, (int)(i >> 12) | 1, G.heap_size - i < 4096 ? G.heap_size - i : 4096);
}

/* --- start-up steps, spread over MCSIM_STARTUP_DELAY_MS --------------------- */

static void go_running(void)
{
    char err[128];
    double secs = (double)(now_ms() - G.t_start) / 1000.0;
    mc_log(SRV, "INFO", "Time elapsed: %lld ms", (long long)(now_ms() - G.t_prepare));
    mc_log(SRV, "INFO", "Done (%.3fs)! For help, type \"help\"", secs);
    if (listen(G.slp_fd, 64) != 0)
        mc_log(SRV, "WARN", "mcsim: listen() on the game port failed: %s", strerror(errno));
    if (G.rcon_enabled) {
        mc_log(SRV, "INFO", "Starting remote control listener");
        G.rcon_fd = listen_tcp(G.rcon_port, true, err, sizeof err);
        if (G.rcon_fd < 0) {
            mc_log(SRV, "WARN", "Unable to initialise RCON on 0.0.0.0:%d : %s", G.rcon_port, err);
        } else {
            mc_log(SRV, "INFO", "Thread RCON Listener started");
            mc_log(SRV, "INFO", "RCON running on 0.0.0.0:%d", G.rcon_port);
        }
    }
    G.phase = PH_RUNNING;
    G.next_tick = now_ms() + TICK_MS;
    G.next_save = G.save_interval_ms > 0 ? now_ms() + G.save_interval_ms : 0;
}

static void startup_step(int step)
{
    char err[128];
    switch (step) {
    case 0:
        mc_log("ServerMain", "INFO",
               "Environment: Environment[sessionHost=https://sessionserver.mojang.com, "
               "servicesHost=https://api.minecraftservices.com, name=PROD]");
        if (access(G.level, F_OK) != 0)
            mc_log("ServerMain", "INFO", "No existing world data, creating new world");
        break;
    case 1:
        mc_log("ServerMain", "INFO", "Loaded 1290 recipes");
        mc_log("ServerMain", "INFO", "Loaded 1399 advancements");
        break;
    case 2:
        mc_log(SRV, "INFO", "Starting minecraft server version %s", G.version);
        mc_log(SRV, "INFO", "Loading properties");
        mc_log(SRV, "INFO", "Default game type: %s", G.gamemode);
        mc_log(SRV, "INFO", "Generating keypair");
        mc_log(SRV, "INFO", "Starting Minecraft server on *:%d", G.server_port);
        /* bound now (like vanilla), but only listen()ing once "Done": until then
         * connections are refused and the health check reports "starting" */
        G.slp_fd = listen_tcp(G.server_port, false, err, sizeof err);
        if (G.slp_fd < 0) {
            mc_log(SRV, "WARN", "**** FAILED TO BIND TO PORT!");
            mc_log(SRV, "WARN", "The exception was: java.net.BindException: %s", err);
            mc_log(SRV, "WARN", "Perhaps a server is already running on that port?");
            mc_log(SRV, "INFO", "Stopping server");
            if (G.pipe_fd >= 0)
                unlink(G.pipe_path);
            exit(1);
        }
        mc_log(SRV, "INFO", "Using epoll channel type");
        if (!G.online_mode) {
            mc_log(SRV, "WARN", "**** SERVER IS RUNNING IN OFFLINE/INSECURE MODE!");
            mc_log(SRV, "WARN", "The server will make no attempt to authenticate usernames. Beware.");
            mc_log(SRV, "WARN", "While this makes the game possible to play without internet access, it "
                                "also opens up the ability for hackers to connect with any username they "
                                "choose.");
            mc_log(SRV, "WARN", "To change this, set \"online-mode\" to \"true\" in the server.properties file.");
        }
        break;
    case 3: {
        mc_log(SRV, "INFO", "Preparing level \"%s\"", G.level);
        alloc_heap();
        char path[300];
        snprintf(path, sizeof path, "%s/region", G.level);
        mkdir(G.level, 0775);
        mkdir(path, 0775);
        snprintf(path, sizeof path, "%s/session.lock", G.level);
        write_file(path, "\xe2\x98\x83", 3, 0664);
        snprintf(path, sizeof path, "%s/region/r.0.0.mca", G.level);
        G.region_fd = open_region_file(path);
        break;
    }
    case 4:
        G.t_prepare = now_ms();
        mc_log(SRV, "INFO", "Preparing start region for dimension minecraft:overworld");
        mc_log("Worker-Main-1", "INFO", "Preparing spawn area: 0%%");
        break;
    case 5:
        mc_log("Worker-Main-2", "INFO", "Preparing spawn area: 42%%");
        break;
    case 6:
        mc_log("Worker-Main-1", "INFO", "Preparing spawn area: 87%%");
        break;
    case 7:
        go_running();
        break;
    }
}

static const int STEP_PERMILLE[] = { 100, 250, 330, 420, 550, 700, 850, 1000 };
#define NSTEPS ((int)(sizeof STEP_PERMILLE / sizeof STEP_PERMILLE[0]))

static int64_t step_due(int step) { return G.t_start + G.startup_ms * STEP_PERMILLE[step] / 1000; }

/* ------------------------------------------------------------------------ */
/* Configuration, identity and the data directory                             */
/* ------------------------------------------------------------------------ */

static bool valid_mem(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 20)
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return isdigit((unsigned char)s[n - 1]) || strchr("kKmMgG", s[n - 1]);
}

static void resolve_memory(void)
{
    const char *mem = env_or("MEMORY", "1G");
    if (!valid_mem(mem))
        mem = "1G";
    const char *init = env_or("INIT_MEMORY", mem), *max = env_or("MAX_MEMORY", mem);
    copy_str(G.mem_init, sizeof G.mem_init, valid_mem(init) ? init : mem);
    copy_str(G.mem_max, sizeof G.mem_max, valid_mem(max) ? max : mem);
}

static bool resolve_version(void)
{
    const char *v = env_or("VERSION", DEFAULT_MC_VERSION);
    if (!*v)
        v = DEFAULT_MC_VERSION;
    if (!strcasecmp(v, "LATEST") || !strcasecmp(v, "SNAPSHOT"))
        v = LATEST_MC_VERSION;
    if (strlen(v) >= sizeof G.version)
        return false;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_+ ", *p))
            return false;
    copy_str(G.version, sizeof G.version, v);
    static const struct { const char *v; int p; } tbl[] = {
        { "1.21.8", 772 }, { "1.21.7", 772 }, { "1.21.6", 771 }, { "1.21.5", 770 }, { "1.21.4", 769 },
        { "1.21.3", 768 }, { "1.21.2", 768 }, { "1.21.1", 767 }, { "1.21", 767 },   { "1.20.6", 766 },
        { "1.20.5", 766 }, { "1.20.4", 765 }, { "1.20.3", 765 }, { "1.20.2", 764 }, { "1.20.1", 763 },
        { "1.20", 763 },   { "1.19.4", 762 }, { "1.19.3", 761 }, { "1.19.2", 760 }, { "1.19.1", 760 },
        { "1.19", 759 },   { "1.18.2", 758 }, { "1.18.1", 757 }, { "1.18", 757 },   { "1.17.1", 756 },
        { "1.17", 755 },   { "1.16.5", 754 }, { "1.16.4", 754 }, { "1.12.2", 340 }, { "1.8.9", 47 },
    };
    G.protocol = 767;
    for (size_t i = 0; i < sizeof tbl / sizeof tbl[0]; i++)
        if (!strcmp(tbl[i].v, G.version))
            G.protocol = tbl[i].p;
    int maj = 0, min = 0, pat = 0;
    if (sscanf(G.version, "%d.%d.%d", &maj, &min, &pat) >= 2)
        G.secure_chat = maj > 1 || min > 19 || (min == 19 && pat >= 1);
    else
        G.secure_chat = true; /* snapshots and the like: assume modern */
    return true;
}

static void maybe_reexec(void)
{
    /* Re-exec once so "docker top" shows the JVM-like command line for the
     * configured memory and version, e.g. "java -Xmx1G -Xms1G -jar ... nogui". */
    if (getenv("MCSIM_REEXECED")) {
        unsetenv("MCSIM_REEXECED");
        return;
    }
    resolve_memory();
    if (!resolve_version())
        return;
    char xmx[48], xms[48], jar[128];
    snprintf(xmx, sizeof xmx, "-Xmx%s", G.mem_max);
    snprintf(xms, sizeof xms, "-Xms%s", G.mem_init);
    snprintf(jar, sizeof jar, "/data/minecraft_server.%s.jar", G.version);
    char *argv[] = { "java", xmx, xms, "-jar", jar, "nogui", NULL };
    setenv("MCSIM_REEXECED", "1", 1);
    execv("/proc/self/exe", argv);
    unsetenv("MCSIM_REEXECED"); /* no /proc: just carry on with the original argv */
}

static unsigned g_chown_uid, g_chown_gid;
static int chown_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    if (lchown(path, g_chown_uid, g_chown_gid) != 0)
        fprintf(stderr, "chown: %s: %s\n", path, strerror(errno));
    return 0;
}

static void ls_ld(const char *path, char *out, size_t sz)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(out, sz, "%s: %s", path, strerror(errno));
        return;
    }
    char mode[11] = "----------";
    if (S_ISDIR(st.st_mode)) mode[0] = 'd';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        if (st.st_mode & (1u << (8 - i)))
            mode[1 + i] = rwx[i];
    if (st.st_mode & S_ISVTX)
        mode[9] = (st.st_mode & S_IXOTH) ? 't' : 'T';
    struct tm tm;
    localtime_r(&st.st_mtime, &tm);
    char when[32];
    strftime(when, sizeof when, "%b %e %H:%M", &tm);
    snprintf(out, sz, "%s %lu %u %u %lld %s %s", mode, (unsigned long)st.st_nlink, (unsigned)st.st_uid,
             (unsigned)st.st_gid, (long long)st.st_size, when, path);
}

static void setup_identity(void)
{
    if (geteuid() == 0 && !is_true(getenv("SKIP_SUDO"))) {
        if (G.uid != 0) {
            struct stat st;
            if (!is_true(getenv("SKIP_CHOWN_DATA")) && stat(data_dir(), &st) == 0 && st.st_uid != G.uid) {
                init_log("Changing ownership of %s to %u ...", data_dir(), G.uid);
                g_chown_uid = G.uid;
                g_chown_gid = G.gid;
                nftw(data_dir(), chown_cb, 32, FTW_PHYS);
            }
            gid_t g = G.gid;
            if (setgroups(1, &g) != 0 || setgid(G.gid) != 0 || setuid(G.uid) != 0) {
                init_log("ERROR: failed to switch to uid=%u gid=%u: %s", G.uid, G.gid, strerror(errno));
                exit(1);
            }
        }
    }
    char ls[256];
    ls_ld(data_dir(), ls, sizeof ls);
    init_log("Running as uid=%u gid=%u with %s as '%s'", (unsigned)getuid(), (unsigned)getgid(), data_dir(),
             ls);
}

static void setup_rcon_password(void)
{
    if (!G.rcon_enabled) {
        unlink(".rcon-cli.env");
        unlink(".rcon-cli.yaml");
        return;
    }
    const char *file = getenv("RCON_PASSWORD_FILE");
    const char *pw = getenv("RCON_PASSWORD");
    char gen[32];
    if (file) {
        size_t len = 0;
        char *text = read_file(file, sizeof G.rcon_password - 1, &len);
        if (!text) {
            init_log("%s", "");
            init_log("ERROR: Initial RCON password file %s does not seems to exist.", file);
            init_log("ERROR: Please ensure your configuration.");
            init_log("%s", "");
            exit(1);
        }
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        copy_str(G.rcon_password, sizeof G.rcon_password, text);
        free(text);
    } else if (pw) {
        copy_str(G.rcon_password, sizeof G.rcon_password, pw);
    } else { /* like `openssl rand -hex 12` */
        unsigned char r[12];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
            for (size_t i = 0; i < sizeof r; i++) {
                x = x * 6364136223846793005ull + 1;
                r[i] = (unsigned char)(x >> 56);
            }
        }
        for (size_t i = 0; i < sizeof r; i++)
            snprintf(gen + 2 * i, 3, "%02x", r[i]);
        copy_str(G.rcon_password, sizeof G.rcon_password, gen);
    }
    /* "For rcon-cli access running via exec, which by default is running as root" */
    buf_t b = { 0 };
    buf_printf(&b, "password=%s\n", G.rcon_password);
    bool ok = write_file(".rcon-cli.env", b.data, b.len, 0664);
    b.len = 0;
    buf_printf(&b, "password: \"%s\"\n", G.rcon_password);
    ok = write_file(".rcon-cli.yaml", b.data, b.len, 0664) && ok;
    buf_free(&b);
    if (!ok)
        init_log("WARNING: could not write .rcon-cli.env / .rcon-cli.yaml: %s", strerror(errno));
}

static void write_server_properties(void)
{
    bool existed = access("server.properties", F_OK) == 0;
    init_log("%s server.properties in %s/server.properties", existed ? "Updating" : "Creating", data_dir());
    char stamp[64];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%a %b %d %H:%M:%S %Z %Y", &tm);
    buf_t b = { 0 };
    buf_printf(&b, "#Minecraft server properties\n#%s\n", stamp);
    buf_printf(&b, "#Written by mcsim (Minecraft server SIMULATOR for tests, not Minecraft)\n");
    buf_adds(&b, "allow-flight=false\nallow-nether=true\ndifficulty=easy\nenable-command-block=false\n");
    buf_printf(&b, "enable-rcon=%s\nenable-status=true\nenforce-whitelist=false\n", G.rcon_enabled ? "true" : "false");
    buf_adds(&b, "gamemode=");
    for (const char *p = G.gamemode; *p; p++)
        buf_addc(&b, (char)tolower((unsigned char)*p));
    buf_addc(&b, '\n');
    buf_adds(&b, "hardcore=false\n");
    buf_printf(&b, "level-name=%s\nlevel-seed=%lld\n", G.level, G.seed);
    buf_printf(&b, "max-players=%d\n", G.max_players);
    buf_adds(&b, "motd=");
    buf_adds(&b, G.motd);
    buf_printf(&b, "\nonline-mode=%s\npvp=true\n", G.online_mode ? "true" : "false");
    buf_printf(&b, "rcon.password=%s\nrcon.port=%d\n", G.rcon_password, G.rcon_port);
    buf_printf(&b, "server-ip=\nserver-port=%d\nview-distance=10\n", G.server_port);
    buf_printf(&b, "white-list=%s\n", G.whitelist_on ? "true" : "false");
    if (!write_file("server.properties", b.data, b.len, 0664))
        init_log("WARNING: could not write server.properties: %s", strerror(errno));
    buf_free(&b);
}

static void load_config(void)
{
    resolve_memory();
    if (!resolve_version()) {
        init_log("ERROR: invalid VERSION '%s'", env_or("VERSION", ""));
        exit(1);
    }
    const char *type = env_or("TYPE", "VANILLA");
    if (!*type)
        type = "VANILLA";
    copy_str(G.type, sizeof G.type, type);
    for (char *p = G.type; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    G.server_port = (int)env_long("SERVER_PORT", 25565, 1, 65535);
    G.rcon_port = (int)env_long("RCON_PORT", 25575, 1, 65535);
    G.max_players = (int)env_long("MAX_PLAYERS", 20, 0, 1000000);
    G.rcon_enabled = is_true(env_or("ENABLE_RCON", "true"));
    G.pipe_enabled = is_true(env_or("CREATE_CONSOLE_IN_PIPE", "false"));
    copy_str(G.pipe_path, sizeof G.pipe_path, env_or("CONSOLE_IN_NAMED_PIPE", "/tmp/minecraft-console-in"));
    G.uid = (unsigned)env_long("UID", 1000, 0, 2147483647);
    G.gid = (unsigned)env_long("GID", 1000, 0, 2147483647);
    G.startup_ms = env_long("MCSIM_STARTUP_DELAY_MS", 1500, 0, 600000);
    G.heap_mb = env_long("MCSIM_HEAP_MB", 48, 0, 65536);
    G.cpu_pct = env_long("MCSIM_CPU_PERCENT", 3, 0, 100);
    G.save_interval_ms = env_long("MCSIM_SAVE_INTERVAL_MS", 5000, 0, 86400000);
    const char *motd = getenv("MOTD");
    if (motd && *motd) {
        copy_str(G.motd, sizeof G.motd, motd);
    } else {
        char label[32];
        copy_str(label, sizeof label, G.type);
        for (char *p = label + 1; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(G.motd, sizeof G.motd, "A %s Minecraft Server powered by Docker", label);
    }
    for (char *p = G.motd; *p; p++) /* a property value is one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    const char *level = env_or("LEVEL", "world");
    if (!*level || strlen(level) >= sizeof G.level || strchr(level, '/') || strstr(level, ".."))
        level = "world";
    copy_str(G.level, sizeof G.level, level);
    const char *mode = env_or("MODE", "survival");
    const char *gm = "SURVIVAL";
    if (!strncasecmp(mode, "c", 1) || !strcmp(mode, "1")) gm = "CREATIVE";
    else if (!strncasecmp(mode, "a", 1) || !strcmp(mode, "2")) gm = "ADVENTURE";
    else if (!strncasecmp(mode, "sp", 2) || !strcmp(mode, "3")) gm = "SPECTATOR";
    copy_str(G.gamemode, sizeof G.gamemode, gm);
    G.online_mode = !getenv("ONLINE_MODE") || is_true(getenv("ONLINE_MODE"));
    const char *seed = getenv("SEED");
    if (seed && *seed) {
        char *end;
        long long v = strtoll(seed, &end, 10);
        if (*end) { /* Java String.hashCode() of a text seed */
            int32_t h = 0;
            for (const char *p = seed; *p; p++)
                h = (int32_t)((uint32_t)h * 31u + (unsigned char)*p);
            v = h;
        }
        G.seed = v;
    } else {
        G.seed = -4172144997902289642ll; /* fixed, like a world that already exists */
    }
    G.whitelist_on = is_true(getenv("ENABLE_WHITELIST")) || (getenv("WHITELIST") && *getenv("WHITELIST"));
    G.autosave = true;
    G.next_entity_id = 100 + (int)(time(NULL) % 200);
    G.next_thread_no = 2;
    G.rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
}

static bool valid_type(const char *t)
{
    static const char *const types[] = {
        "VANILLA", "FORGE", "NEOFORGE", "NEOFORGED", "FABRIC", "QUILT", "BUKKIT", "SPIGOT", "PAPER",
        "FOLIA", "PURPUR", "PUFFERFISH", "MAGMA", "MAGMA_MAINTAINED", "MOHIST", "YOUER", "BANNER",
        "KETTING", "CANYON", "LIMBO", "NANOLIMBO", "CRUCIBLE", "LEAF", "ARCLIGHT", "POSEIDON",
        "SPONGEVANILLA", "CUSTOM", "CURSEFORGE", "AUTO_CURSEFORGE", "MODRINTH", "FTBA", "GTNH",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i], t))
            return true;
    return false;
}

static void add_env_names(list_t *l, const char *env)
{
    const char *v = getenv(env);
    if (!v || !*v)
        return;
    char *copy = strdup(v);
    if (!copy)
        die_oom();
    bool changed = false;
    for (char *save = NULL, *tok = strtok_r(copy, ", \n", &save); tok; tok = strtok_r(NULL, ", \n", &save))
        if (valid_player_name(tok) && !list_find(l, tok) && list_add(l, tok))
            changed = true;
    free(copy);
    if (changed)
        list_save(l);
}

static void setup_data_dir(void)
{
    mkdir("logs", 0775);
    static const char *const files[] = { "banned-ips.json", "banned-players.json", "ops.json",
                                         "usercache.json", "whitelist.json" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (access(files[i], F_OK) != 0)
            write_file(files[i], "[]", 2, 0664);
    G.ops.file = "ops.json";
    G.whitelist.file = "whitelist.json";
    G.bans.file = "banned-players.json";
    list_load(&G.ops);
    list_load(&G.whitelist);
    list_load(&G.bans);
    add_env_names(&G.ops, "OPS");
    add_env_names(&G.whitelist, "WHITELIST");
}

static void setup_console_pipe(void)
{
    if (!G.pipe_enabled)
        return;
    struct stat st;
    if (lstat(G.pipe_path, &st) == 0)
        unlink(G.pipe_path);
    if (mkfifo(G.pipe_path, 0600) != 0) {
        init_log("ERROR: could not create console pipe %s: %s", G.pipe_path, strerror(errno));
        return;
    }
    /* O_RDWR: writers never block on open and we never see EOF between writers */
    G.pipe_fd = open(G.pipe_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (G.pipe_fd < 0)
        init_log("ERROR: could not open console pipe %s: %s", G.pipe_path, strerror(errno));
}

static bool stdin_usable(void)
{
    struct stat st;
    if (fstat(0, &st) != 0)
        return false;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return true;
    return isatty(0);
}

/* vanilla's own eula.txt check */
static bool eula_agreed(void)
{
    size_t len = 0;
    char *t = read_file("eula.txt", 1 << 16, &len);
    bool ok = false;
    if (t) {
        for (char *line = t; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            while (*line == ' ' || *line == '\t')
                line++;
            if (!strncmp(line, "eula=", 5)) {
                char *v = line + 5;
                size_t n = strcspn(v, " \t\r");
                ok = n == 4 && !strncasecmp(v, "true", 4);
            }
            line = nl ? nl + 1 : NULL;
        }
        free(t);
    }
    return ok;
}

static void handle_signals(void)
{
    struct signalfd_siginfo si;
    while (read(G.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            while (waitpid(-1, NULL, WNOHANG) > 0) /* PID 1 adopts orphans: reap them */
                ;
            continue;
        }
        if (!G.stop_requested) {
            /* like mc-server-runner: a signal becomes a "stop" on the console */
            if (G.phase == PH_RUNNING)
                mc_log(SRV, "INFO", "Stopping the server");
            request_stop();
        }
    }
}

static conn_t *conn_lookup(const conn_t *p, uint64_t serial)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (G.conns[i] && G.conns[i] == p && G.conns[i]->serial == serial)
            return G.conns[i];
    return NULL;
}

static int event_loop(void);

static int server_main(void)
{
    maybe_reexec();
    umask(0002);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    G.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    G.t_start = now_ms();

    load_config();
    if (geteuid() == 0)
        mkdir(data_dir(), 0775);
    setup_identity();
    if (chdir(data_dir()) != 0) {
        init_log("ERROR: cannot enter %s: %s", data_dir(), strerror(errno));
        return 1;
    }
    setenv("HOME", data_dir(), 1);
    init_log("Image info: mcsim %s -- Minecraft server SIMULATOR for tests, NOT Minecraft", MCSIM_VERSION);

    if (access("eula.txt", F_OK) != 0) {
        const char *eula = env_or("EULA", "");
        if (!is_true(eula)) {
            init_log("%s", "");
            init_log("ERROR: Please accept the Minecraft EULA at");
            init_log("ERROR:   https://account.mojang.com/documents/minecraft_eula");
            init_log("ERROR: by adding the following immediately after 'docker run':");
            init_log("ERROR:   -e EULA=TRUE");
            init_log("%s", "");
            return 1;
        }
        buf_t b = { 0 };
        char when[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%a %b %e %H:%M:%S %Z %Y", &tm);
        buf_printf(&b, "# Generated via Docker\n# %s\neula=", when);
        for (const char *p = eula; *p; p++)
            buf_addc(&b, (char)tolower((unsigned char)*p));
        buf_adds(&b, "\n\n");
        bool ok = write_file("eula.txt", b.data, b.len, 0664);
        buf_free(&b);
        if (!ok) {
            init_log("ERROR: unable to write eula to /data. Please make sure attached directory is "
                     "writable by uid=%u", (unsigned)getuid());
            return 2;
        }
    }

    setup_rcon_password();
    init_log("Resolving type given %s", G.type);
    if (!valid_type(G.type)) {
        init_log("ERROR: Invalid TYPE: '%s'", G.type);
        init_log("ERROR: Must be: VANILLA, FORGE, BUKKIT, SPIGOT, PAPER, FOLIA, PURPUR, FABRIC, QUILT,");
        init_log("ERROR:          SPONGEVANILLA, CUSTOM, MAGMA, MOHIST, GTNH, AIRPLANE, PUFFERFISH,");
        init_log("ERROR:          CANYON, LIMBO, NANOLIMBO, CRUCIBLE, LEAF, YOUER, BANNER");
        return 1;
    }
    if (strcmp(G.type, "VANILLA"))
        init_log("mcsim: TYPE=%s is simulated exactly like VANILLA", G.type);
    init_log("Resolved version given %s into %s", env_or("VERSION", DEFAULT_MC_VERSION), G.version);
    write_server_properties();
    setup_data_dir();
    init_log("Setting initial memory to %s and max to %s", G.mem_init, G.mem_max);
    init_log("Starting the Minecraft server...");

    rotate_latest_log();
    G.logfd = open("logs/latest.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0664);
    if (G.logfd < 0)
        init_log("WARNING: cannot write logs/latest.log: %s", strerror(errno));

    static const char bundler[] = "Starting net.minecraft.server.Main\n";
    write_all(1, bundler, sizeof bundler - 1);
    if (!eula_agreed()) {
        mc_log("ServerMain", "WARN", "Failed to load eula.txt");
        mc_log("ServerMain", "INFO",
               "You need to agree to the EULA in order to run the server. Go to eula.txt for more info.");
        return 0;
    }
    if (G.rcon_enabled && !G.rcon_password[0]) {
        G.rcon_enabled = false;
        mc_log(SRV, "WARN", "No rcon password set in server.properties, rcon disabled!");
    }
    G.stdin_active = stdin_usable();
    setup_console_pipe();
    return event_loop();
}

/* The "Server thread": one poll() loop for start-up steps, ticks, autosave,
 * signals, console input, SLP and RCON. */
static int event_loop(void)
{
    for (;;) {
        if (G.stop_requested)
            shutdown_and_exit();
        int64_t now = now_ms();

        if (G.frozen_until) {
            if (now < G.frozen_until) {
                struct pollfd pf = { .fd = G.sigfd, .events = POLLIN };
                if (poll(&pf, 1, (int)(G.frozen_until - now)) > 0)
                    handle_signals();
                continue;
            }
            G.frozen_until = 0;
            for (int i = 0; i < MAX_CONNS && !G.stop_requested; i++)
                if (G.conns[i])
                    conn_process(G.conns[i]);
            continue;
        }

        if (G.phase == PH_STARTING) {
            while (G.phase == PH_STARTING && G.step < NSTEPS && now >= step_due(G.step))
                startup_step(G.step++);
        } else {
            if (now >= G.next_tick) {
                int64_t behind = now - G.next_tick;
                if (behind > 2000) {
                    mc_log(SRV, "WARN", "Can't keep up! Is the server overloaded? Running %lldms or %lld "
                                        "ticks behind", (long long)behind, (long long)(behind / TICK_MS));
                    G.next_tick = now;
                }
                tick_work();
                G.next_tick += TICK_MS;
            }
            if (G.next_save && now >= G.next_save) {
                if (G.autosave)
                    save_world_chunk();
                G.next_save = now + G.save_interval_ms;
            }
        }
        if (G.stop_requested)
            continue;

        /* build the poll set */
        struct pollfd pfd[MAX_CONNS + 8];
        conn_t *who[MAX_CONNS + 8];
        uint64_t serial[MAX_CONNS + 8] = { 0 };
        nfds_t n = 0;
        int64_t wake = G.phase == PH_STARTING ? (G.step < NSTEPS ? step_due(G.step) : now + 1000)
                                              : G.next_tick;
        if (G.phase == PH_RUNNING && G.next_save && G.next_save < wake)
            wake = G.next_save;
        pfd[n] = (struct pollfd){ .fd = G.sigfd, .events = POLLIN };
        who[n++] = NULL;
        int i_slp = -1, i_rcon = -1, i_pipe = -1, i_stdin = -1;
        if (G.phase == PH_RUNNING) {
            i_slp = (int)n;
            pfd[n] = (struct pollfd){ .fd = G.slp_fd, .events = POLLIN };
            who[n++] = NULL;
            if (G.rcon_fd >= 0) {
                i_rcon = (int)n;
                pfd[n] = (struct pollfd){ .fd = G.rcon_fd, .events = POLLIN };
                who[n++] = NULL;
            }
            if (G.pipe_fd >= 0) {
                i_pipe = (int)n;
                pfd[n] = (struct pollfd){ .fd = G.pipe_fd, .events = POLLIN };
                who[n++] = NULL;
            }
            if (G.stdin_active) {
                i_stdin = (int)n;
                pfd[n] = (struct pollfd){ .fd = 0, .events = POLLIN };
                who[n++] = NULL;
            }
            for (int i = 0; i < MAX_CONNS; i++) {
                conn_t *c = G.conns[i];
                if (!c)
                    continue;
                if (c->deadline && now >= c->deadline) {
                    conn_close(c);
                    continue;
                }
                if (c->deadline && c->deadline < wake)
                    wake = c->deadline;
                short ev = 0;
                if (!c->close_after_flush && c->out.len - c->out_off < RCON_BACKPRESSURE)
                    ev |= POLLIN;
                if (c->out.len > c->out_off)
                    ev |= POLLOUT;
                pfd[n] = (struct pollfd){ .fd = c->fd, .events = ev };
                serial[n] = c->serial;
                who[n++] = c;
            }
        }
        int timeout = wake > now ? (int)(wake - now) : 0;
        int r = poll(pfd, n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mc_log(SRV, "ERROR", "mcsim: poll failed: %s", strerror(errno));
            return 1;
        }
        if (r == 0)
            continue;

        if (pfd[0].revents)
            handle_signals();
        for (nfds_t k = 1; k < n && !G.stop_requested && !G.frozen_until; k++) {
            if (!pfd[k].revents)
                continue;
            if ((int)k == i_slp) {
                conn_t *c = conn_accept(G.slp_fd, CONN_SLP);
                if (c)
                    c->deadline = now_ms() + SLP_IDLE_MS;
            } else if ((int)k == i_rcon) {
                conn_t *c = conn_accept(G.rcon_fd, CONN_RCON);
                if (c) {
                    c->thread_no = G.next_thread_no++;
                    mc_log("RCON Listener #1", "INFO", "Thread RCON Client /%s started", c->addr);
                }
            } else if ((int)k == i_pipe) {
                read_lines(G.pipe_fd, &G.pipe_line, &G.pipe_discard);
            } else if ((int)k == i_stdin) {
                if (!read_lines(0, &G.stdin_line, &G.stdin_discard))
                    G.stdin_active = false; /* EOF: nobody will type anymore */
            } else if (who[k]) {
                conn_t *c = conn_lookup(who[k], serial[k]); /* may have been closed meanwhile */
                if (!c)
                    continue;
                if (pfd[k].revents & (POLLERR | POLLNVAL)) {
                    conn_close(c);
                } else if (pfd[k].revents & (POLLIN | POLLHUP)) {
                    conn_readable(c);
                } else if (pfd[k].revents & POLLOUT) {
                    if (!conn_flush(c))
                        conn_close(c);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Client side helpers (rcon-cli, mc-health)                                 */
/* ------------------------------------------------------------------------ */

/* IP literals, "localhost" and names from /etc/hosts (no DNS: static binary). */
static bool resolve_host(const char *host, struct sockaddr_storage *ss, socklen_t *sl, int port)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    char addr[256];
    copy_str(addr, sizeof addr, host);
    if (!strcasecmp(host, "localhost"))
        copy_str(addr, sizeof addr, "127.0.0.1");
    bool found = false;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) != 1 && inet_pton(AF_INET6, addr, &a6) != 1) {
        FILE *f = fopen("/etc/hosts", "re");
        char line[1024];
        while (f && !found && fgets(line, sizeof line, f)) {
            char *hash = strchr(line, '#');
            if (hash)
                *hash = '\0';
            char *save = NULL, *ip = strtok_r(line, " \t\r\n", &save);
            if (!ip)
                continue;
            for (char *nm = strtok_r(NULL, " \t\r\n", &save); nm; nm = strtok_r(NULL, " \t\r\n", &save))
                if (!strcasecmp(nm, host)) {
                    copy_str(addr, sizeof addr, ip);
                    found = true;
                    break;
                }
        }
        if (f)
            fclose(f);
        if (!found)
            return false;
    }
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *sl = sizeof *s4;
        return true;
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *s6;
        return true;
    }
    return false;
}

static int tcp_connect(const char *host, int port, int timeout_ms, char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!resolve_host(host, &ss, &sl, port)) {
        snprintf(err, errsz, "cannot resolve host '%s' (IP addresses, localhost and /etc/hosts names only)",
                 host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(err, errsz, "dial tcp %s:%d: connect: %s", host, port, strerror(errno));
            close(fd);
            return -1;
        }
        struct pollfd pf = { .fd = fd, .events = POLLOUT };
        int r = poll(&pf, 1, timeout_ms);
        int soerr = 0;
        socklen_t l = sizeof soerr;
        if (r <= 0) {
            snprintf(err, errsz, "dial tcp %s:%d: i/o timeout", host, port);
            close(fd);
            return -1;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
        if (soerr) {
            snprintf(err, errsz, "dial tcp %s:%d: connect: %s", host, port, strerror(soerr));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static bool send_all_to(int fd, const void *p, size_t n, int timeout_ms)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, timeout_ms) <= 0)
                    return false;
                continue;
            }
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* read exactly n bytes; false on EOF/error/timeout */
static bool recv_exact(int fd, void *p, size_t n, int timeout_ms)
{
    char *c = p;
    while (n > 0) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int r = poll(&pf, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        ssize_t got = recv(fd, c, n, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return false;
        c += got;
        n -= (size_t)got;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* rcon-cli                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    int fd;
    int32_t next_id;
    int timeout_ms;
} rcon_client_t;

static bool rc_read_packet(rcon_client_t *rc, int32_t *id, int32_t *type, buf_t *body)
{
    unsigned char hdr[12];
    if (!recv_exact(rc->fd, hdr, 4, rc->timeout_ms))
        return false;
    int32_t len = le32(hdr);
    if (len < 10 || len > RCON_MAX_LEN)
        return false;
    if (!recv_exact(rc->fd, hdr + 4, 8, rc->timeout_ms))
        return false;
    *id = le32(hdr + 4);
    *type = le32(hdr + 8);
    size_t blen = (size_t)len - 8;
    char *tmp = malloc(blen);
    if (!tmp)
        die_oom();
    bool ok = recv_exact(rc->fd, tmp, blen, rc->timeout_ms);
    if (ok)
        buf_add(body, tmp, strnlen(tmp, blen));
    free(tmp);
    return ok;
}

static bool rc_send(rcon_client_t *rc, int32_t id, int32_t type, const char *body)
{
    buf_t b = { 0 };
    rcon_packet(&b, id, type, body, strlen(body));
    bool ok = send_all_to(rc->fd, b.data, b.len, rc->timeout_ms);
    buf_free(&b);
    return ok;
}

/* Run one command; collects multi-packet responses. */
static bool rc_exec(rcon_client_t *rc, const char *cmd, buf_t *out, char *err, size_t errsz)
{
    int32_t id = rc->next_id++;
    if (!rc_send(rc, id, RCON_EXEC, cmd)) {
        snprintf(err, errsz, "failed to send command");
        return false;
    }
    int32_t term = -2;
    for (;;) {
        int32_t rid, type;
        buf_t body = { 0 };
        if (!rc_read_packet(rc, &rid, &type, &body)) {
            buf_free(&body);
            snprintf(err, errsz, "connection closed or timed out while reading the response");
            return false;
        }
        if (rid == -1) {
            buf_free(&body);
            snprintf(err, errsz, "not authenticated");
            return false;
        }
        if (rid == term) { /* everything before the terminator answer is ours */
            buf_free(&body);
            return true;
        }
        if (rid == id) {
            buf_add(out, body.data ? body.data : "", body.len);
            /* A full 4096-byte chunk may be followed by more: send a request
             * of an unknown type as a marker; vanilla answers it in order. */
            if (body.len >= RCON_CHUNK - 3 && term == -2) {
                term = rc->next_id++;
                if (!rc_send(rc, term, 100, "")) {
                    buf_free(&body);
                    snprintf(err, errsz, "failed to send");
                    return false;
                }
            } else if (term == -2) {
                buf_free(&body);
                return true;
            }
        }
        buf_free(&body);
    }
}

static void parse_conf_file(const char *path, char *host, size_t hs, char *port, size_t ps, char *pw,
                            size_t pws, bool *found)
{
    size_t len = 0;
    char *t = read_file(path, 1 << 16, &len);
    if (!t)
        return;
    *found = true;
    for (char *save = NULL, *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#')
            continue;
        size_t klen = strcspn(line, ":=");
        if (!line[klen])
            continue;
        char key[32];
        size_t kl = klen;
        while (kl && (line[kl - 1] == ' ' || line[kl - 1] == '\t'))
            kl--;
        if (kl >= sizeof key)
            continue;
        memcpy(key, line, kl);
        key[kl] = '\0';
        char *v = line + klen + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        if (!strcasecmp(key, "host")) copy_str(host, hs, v);
        else if (!strcasecmp(key, "port")) copy_str(port, ps, v);
        else if (!strcasecmp(key, "password")) copy_str(pw, pws, v);
    }
    free(t);
}

static void rcon_cli_usage(FILE *f)
{
    fprintf(f,
            "rcon-cli (mcsim) is a CLI for attaching to an RCON enabled game server, such as Minecraft.\n"
            "Without any additional arguments, the CLI will start an interactive session with\n"
            "the RCON server.\n\n"
            "If arguments are passed into the CLI, then the arguments are sent\n"
            "as a single command (joined by spaces), the response is displayed,\n"
            "and the CLI will exit.\n\n"
            "Usage:\n  rcon-cli [flags] [RCON command ...]\n\n"
            "Flags:\n"
            "      --config string     config file (default is $HOME/.rcon-cli.yaml, then /data/.rcon-cli.*)\n"
            "      --host string       RCON server's hostname (default \"localhost\")\n"
            "      --password string   RCON server's password\n"
            "      --port int          Server's RCON port (default 25575)\n");
}

static int rcon_cli_main(int argc, char **argv)
{
    const char *f_host = NULL, *f_port = NULL, *f_pw = NULL, *f_config = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        const char *names[] = { "--host", "--port", "--password", "--config" };
        const char **dsts[] = { &f_host, &f_port, &f_pw, &f_config };
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            rcon_cli_usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2))
            break;
        size_t k;
        for (k = 0; k < 4; k++) {
            size_t nl = strlen(names[k]);
            if (!strncmp(a, names[k], nl) && (a[nl] == '\0' || a[nl] == '=')) {
                dst = dsts[k];
                if (a[nl] == '=') {
                    *dst = a + nl + 1;
                } else if (i + 1 < argc) {
                    *dst = argv[++i];
                } else {
                    fprintf(stderr, "Error: flag needs an argument: %s\n", a);
                    return 1;
                }
                break;
            }
        }
        if (k == 4) {
            fprintf(stderr, "Error: unknown flag: %s\n", a);
            rcon_cli_usage(stderr);
            return 1;
        }
    }

    /* precedence like viper: flag > RCON_* environment > config file > default */
    char host[256] = "localhost", port[32] = "25575", pw[256] = "";
    bool found = false;
    if (f_config) {
        parse_conf_file(f_config, host, sizeof host, port, sizeof port, pw, sizeof pw, &found);
        if (!found) {
            fprintf(stderr, "Failed to read config file %s\n", f_config);
            return 1;
        }
    } else {
        const char *home = getenv("HOME");
        char path[PATH_MAX];
        const char *cands[] = { ".rcon-cli.yaml", ".rcon-cli.env" };
        for (int d = 0; d < 2 && !found; d++) {
            const char *dir = d == 0 ? home : data_dir();
            if (!dir || !*dir)
                continue;
            for (int k = 0; k < 2 && !found; k++) {
                snprintf(path, sizeof path, "%s/%s", dir, cands[k]);
                parse_conf_file(path, host, sizeof host, port, sizeof port, pw, sizeof pw, &found);
            }
        }
    }
    if (getenv("RCON_HOST")) copy_str(host, sizeof host, getenv("RCON_HOST"));
    if (getenv("RCON_PORT")) copy_str(port, sizeof port, getenv("RCON_PORT"));
    if (getenv("RCON_PASSWORD")) copy_str(pw, sizeof pw, getenv("RCON_PASSWORD"));
    if (f_host) copy_str(host, sizeof host, f_host);
    if (f_port) copy_str(port, sizeof port, f_port);
    if (f_pw) copy_str(pw, sizeof pw, f_pw);
    long portn;
    if (!parse_long(port, 1, 65535, &portn)) {
        fprintf(stderr, "Error: invalid port '%s'\n", port);
        return 1;
    }

    char err[256];
    rcon_client_t rc = { .fd = -1, .next_id = 1, .timeout_ms = 10000 };
    rc.fd = tcp_connect(host, (int)portn, 5000, err, sizeof err);
    if (rc.fd < 0) {
        fprintf(stderr, "Failed to connect to RCON server: %s\n", err);
        return 1;
    }
    int32_t auth_id = rc.next_id++;
    if (!rc_send(&rc, auth_id, RCON_AUTH, pw)) {
        fprintf(stderr, "Failed to connect to RCON server: failed to send auth request\n");
        return 1;
    }
    for (;;) {
        int32_t rid, type;
        buf_t body = { 0 };
        if (!rc_read_packet(&rc, &rid, &type, &body)) {
            buf_free(&body);
            fprintf(stderr, "Failed to connect to RCON server: connection closed during authentication\n");
            return 1;
        }
        buf_free(&body);
        if (type != RCON_AUTH_RESPONSE)
            continue; /* some servers send an empty RESPONSE_VALUE first */
        if (rid == -1) {
            fprintf(stderr, "Failed to connect to RCON server: authentication failed (wrong password?)\n");
            return 1;
        }
        if (rid == auth_id)
            break;
    }

    if (i < argc) { /* one-shot */
        buf_t cmd = { 0 }, out = { 0 };
        for (int k = i; k < argc; k++) {
            if (k > i)
                buf_addc(&cmd, ' ');
            buf_adds(&cmd, argv[k]);
        }
        if (!rc_exec(&rc, buf_str(&cmd), &out, err, sizeof err)) {
            fprintf(stderr, "Failed to execute command: %s\n", err);
            return 1;
        }
        buf_addc(&out, '\n');
        write_all(1, out.data, out.len);
        buf_free(&cmd);
        buf_free(&out);
        close(rc.fd);
        return 0;
    }

    /* interactive: one command per line on stdin */
    bool tty = isatty(0);
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        if (tty)
            write_all(1, "> ", 2);
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        buf_t out = { 0 };
        if (!rc_exec(&rc, line, &out, err, sizeof err)) {
            fprintf(stderr, "Failed to execute command: %s\n", err);
            free(line);
            return 1;
        }
        buf_addc(&out, '\n');
        write_all(1, out.data, out.len);
        buf_free(&out);
    }
    free(line);
    close(rc.fd);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* mc-send-to-console                                                        */
/* ------------------------------------------------------------------------ */

static int send_to_console_main(int argc, char **argv)
{
    const char *pipe = env_or("CONSOLE_IN_NAMED_PIPE", "/tmp/minecraft-console-in");
    if (!*pipe)
        pipe = "/tmp/minecraft-console-in";
    if (!is_true(env_or("CREATE_CONSOLE_IN_PIPE", "false")))
        fprintf(stderr, "ERROR: console pipe needs to be enabled by setting CREATE_CONSOLE_IN_PIPE to true\n");
    if (argc < 2) {
        fprintf(stderr, "ERROR: pass console commands as arguments\n");
        return 1;
    }
    struct stat st;
    if (stat(pipe, &st) != 0 || !S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "ERROR: named pipe %s is missing\n", pipe);
        return 1;
    }
    const char *uid = env_or("UID", "1000");
    if (geteuid() == 0 && strcmp(uid, "0") != 0) {
        fprintf(stderr, "ERROR: Exec needs to be run with user ID %s\n", uid);
        return 2;
    }
    buf_t b = { 0 };
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            buf_addc(&b, ' ');
        buf_adds(&b, argv[i]);
    }
    buf_addc(&b, '\n');
    int fd = open(pipe, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENXIO)
            fprintf(stderr, "ERROR: named pipe %s has no reader (is the server running?)\n", pipe);
        else
            fprintf(stderr, "ERROR: cannot open %s: %s\n", pipe, strerror(errno));
        return 1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    bool ok = write_all(fd, b.data, b.len);
    close(fd);
    buf_free(&b);
    if (!ok) {
        fprintf(stderr, "ERROR: write to %s failed: %s\n", pipe, strerror(errno));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* mc-health                                                                 */
/* ------------------------------------------------------------------------ */

static bool json_find_scalar(const char *js, const char *after, const char *key, char *out, size_t outsz)
{
    const char *p = after ? strstr(js, after) : js;
    if (!p)
        return false;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    p = strstr(p, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    size_t o = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && o + 1 < outsz; p++) {
            if (*p == '\\' && p[1])
                p++;
            out[o++] = *p;
        }
    } else {
        while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '.') && o + 1 < outsz)
            out[o++] = *p++;
    }
    out[o] = '\0';
    return o > 0;
}

static int health_main(void)
{
    if (is_true(getenv("DISABLE_HEALTHCHECK"))) {
        printf("Healthcheck disabled\n");
        return 0;
    }
    const char *host = env_or("SERVER_HOST", "localhost");
    long port;
    if (!parse_long(env_or("SERVER_PORT", "25565"), 1, 65535, &port))
        port = 25565;
    const int timeout = 3000;
    char err[256];
    int fd = tcp_connect(host, (int)port, timeout, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "failed to ping %s:%ld : %s\n", host, port, err);
        return 1;
    }
    buf_t pl = { 0 }, fr = { 0 };
    buf_addc(&pl, 0x00);
    varint_put(&pl, 767);
    mc_string_put(&pl, host, strlen(host));
    buf_addc(&pl, (char)(port >> 8));
    buf_addc(&pl, (char)(port & 0xff));
    varint_put(&pl, 1);
    mc_frame(&fr, &pl);
    buf_add(&fr, "\x01\x00", 2); /* status request */
    bool ok = send_all_to(fd, fr.data, fr.len, timeout);
    buf_free(&pl);
    buf_free(&fr);
    int rc = 1;
    char *js = NULL;
    if (ok) {
        unsigned char vb[5];
        int32_t len = -1, pid = -1, slen = -1;
        size_t got = 0;
        int hl = 0;
        while (got < 5 && recv_exact(fd, vb + got, 1, timeout)) { /* packet length */
            got++;
            if ((hl = varint_read(vb, got, &len)) != 0)
                break;
        }
        if (hl > 0 && len > 2 && len <= (1 << 20)) {
            unsigned char *pk = malloc((size_t)len + 1);
            if (!pk)
                die_oom();
            if (recv_exact(fd, pk, (size_t)len, timeout)) {
                int n1 = varint_read(pk, (size_t)len, &pid);
                int n2 = n1 > 0 ? varint_read(pk + n1, (size_t)len - (size_t)n1, &slen) : -1;
                if (n1 > 0 && n2 > 0 && pid == 0 && slen >= 2 && (size_t)n1 + (size_t)n2 + (size_t)slen <= (size_t)len) {
                    js = strndup((char *)pk + n1 + n2, (size_t)slen);
                }
            }
            free(pk);
        }
    }
    close(fd);
    if (js && js[0] == '{') {
        char ver[128] = "?", online[32] = "?", max[32] = "?", motd[256] = "";
        json_find_scalar(js, "\"version\"", "name", ver, sizeof ver);
        json_find_scalar(js, "\"players\"", "online", online, sizeof online);
        json_find_scalar(js, "\"players\"", "max", max, sizeof max);
        json_find_scalar(js, "\"description\"", "text", motd, sizeof motd);
        printf("%s:%ld : version=%s online=%s max=%s motd='%s'\n", host, port, ver, online, max, motd);
        rc = 0;
    } else {
        fprintf(stderr, "failed to get a status response from %s:%ld\n", host, port);
    }
    free(js);
    return rc;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *me = argc > 0 ? base_name(argv[0]) : "mcsim";
    if (!strcmp(me, "mcsim") && argc > 1 &&
        (!strcmp(argv[1], "rcon-cli") || !strcmp(argv[1], "mc-send-to-console") ||
         !strcmp(argv[1], "mc-health") || !strcmp(argv[1], "java"))) {
        argv++;
        argc--;
        me = argv[0];
    }
    if (!strcmp(me, "rcon-cli"))
        return rcon_cli_main(argc, argv);
    if (!strcmp(me, "mc-send-to-console"))
        return send_to_console_main(argc, argv);
    if (!strcmp(me, "mc-health"))
        return health_main();
    if (!strcmp(me, "java") || !strcmp(me, "mcsim"))
        return server_main();
    fprintf(stderr, "mcsim: unknown personality '%s' (expected java, mcsim, rcon-cli, mc-send-to-console "
                    "or mc-health)\n", me);
    return 2;
}
