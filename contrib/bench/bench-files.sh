#!/bin/sh
# File and archive benchmark (issue 5), on this machine and the same files:
#  1. populate of a ~200 MB world zip through nginx and the API (scan, extract,
#     sync, swap; the archive is copied back before each run) against
#     `bsdtar -x` of the same zip (and `bsdtar -x` + `sync`, the same durability);
#  2. GET /api/archive/sha256 of a 1 GiB file against `sha256sum`;
#  3. upload (multipart, streamed) and download (X-Accel-Redirect, sendfile)
#     of a 1 GiB file through nginx, against the disk: `dd … conv=fsync` to
#     the same file system, and reading the file back with `cat`.
# Each figure is the best of BENCH_RUNS (default 5) warm runs (the disk of a
# shared VM is noisy: the best run is the one least disturbed). Nothing is
# asserted: the figures are printed. The test data is made on the fly in a
# temporary directory and removed at the end.
#
# bsdtar comes from libarchive-tools; without it, a stand-in built here with
# cc runs the same libarchive extraction loop bsdtar -x runs (read_extract to
# archive_write_disk with bsdtar's root defaults) and the figure says so.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MC_ADMIN_BUILD:-$top/build}
runs=${BENCH_RUNS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/mcadmin-bench-files.XXXXXX")
state=$work/state
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$top/contrib/dev/stack.sh" stop "$state" >/dev/null 2>&1; rm -rf "$work"' EXIT

NGINX_ACCESS_LOG=off MC_ADMIN_BUILD=$build ARCHIVE__MAX_RATIO=0 \
	"$top/contrib/dev/stack.sh" start "$state" "$port" >/dev/null
base=http://127.0.0.1:$port
auth="Authorization: Bearer $(cat "$state/credentials/master_token")"

now() { python3 -c 'import time; print(time.monotonic())'; }
# best (smallest) of the times printed one per line on stdin
best() { sort -g | head -1; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f MB/s", b / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ---- 1. world zip: populate vs bsdtar -x --------------------------------------------
echo "making a ~200 MB world zip …"
python3 - "$work/world.zip" <<'PY'
import os, random, sys, zipfile
rnd = random.Random(1)
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr("world-backup/server.properties", "motd=bench\n")
    # region files are zlib-compressed chunks already: mostly incompressible
    for x in range(-6, 6):
        for y in range(-6, 6):
            z.writestr(f"world-backup/world/region/r.{x}.{y}.mca", rnd.randbytes(1200 * 1024))
    for i in range(3000):           # configs, player data, advancements: small and textual
        z.writestr(f"world-backup/world/playerdata/{i:05d}.json",
                   ('{"uuid": "%08x", "xp": %d, "pos": [%d, 64, %d]}\n' % (
                       rnd.getrandbits(32), i, i, -i)) * 40)
PY
zip_bytes=$(stat -c %s "$work/world.zip")
unpacked=$(python3 -c "import zipfile,sys; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))" "$work/world.zip")
entries=$(python3 -c "import zipfile,sys; print(len(zipfile.ZipFile(sys.argv[1]).infolist()))" "$work/world.zip")

bsdtar_name="bsdtar -x"
extract() { bsdtar -xf "$1"; }
if ! command -v bsdtar >/dev/null; then
	bsdtar_name="bsdtar -x stand-in (libarchive-tools missing)"
	cat > "$work/xstandin.c" <<'C'
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	/* bsdtar -x as root: restore times, permissions, ACLs, flags, xattrs, owners,
	 * with its default safety flags */
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_ACL |
	    ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_OWNER |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	int r;
	(void)argc;
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	archive_write_disk_set_options(w, flags);
	archive_write_disk_set_standard_lookup(w);
	if (archive_read_open_filename(a, argv[1], 10240) != ARCHIVE_OK)
		return 1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		if (archive_read_extract2(a, e, w) < ARCHIVE_WARN)
			return fprintf(stderr, "%s\n", archive_error_string(a)), 1;
	archive_write_free(w);
	archive_read_free(a);
	return r == ARCHIVE_EOF ? 0 : 1;
}
C
	# shellcheck disable=SC2046
	cc -O2 -o "$work/xstandin" "$work/xstandin.c" $(pkg-config --cflags --libs libarchive)
	extract() { "$work/xstandin" "$1"; }
fi

mkdir -p "$state/servers/bench"
cat > "$state/servers/bench/docker-compose.yml" <<YAML
services:
  mc:
    image: itzg/minecraft-server:mcsim
    container_name: mc-bench
    environment:
      EULA: "TRUE"
      VERSION: "1.21.1"
    ports:
      - "25565:25565"
      - "25575:25575"
    volumes:
      - ./data:/data
YAML
mkdir -p "$state/servers/bench/data"

pop_times=
tar_times=
sync_times=
i=0
while [ $i -le "$runs" ]; do	# run 0 warms the page cache and is not counted
	cp "$work/world.zip" "$state/archives/world.zip"
	sync
	t0=$(now)
	out=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' \
		-d '{"archive_filename":"/world.zip"}' "$base/api/servers/bench/populate")
	t1=$(now)
	case $out in *'"success":true'*) ;; *) echo "populate failed: $out" >&2; exit 1 ;; esac
	rm -rf "$work/x"; mkdir "$work/x"; sync
	t2=$(now)
	(cd "$work/x" && extract "$work/world.zip")
	t3=$(now)
	sync -f "$work/x"
	t4=$(now)
	if [ $i -gt 0 ]; then
		pop_times="$pop_times $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
		tar_times="$tar_times $(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')"
		sync_times="$sync_times $(awk -v a="$t2" -v b="$t4" 'BEGIN { print b - a }')"
	fi
	i=$((i + 1))
done
pop=$(echo $pop_times | tr ' ' '\n' | best)
tar=$(echo $tar_times | tr ' ' '\n' | best)
tarsync=$(echo $sync_times | tr ' ' '\n' | best)
echo "world zip: $zip_bytes bytes packed, $unpacked unpacked, $entries entries"
printf '  populate through nginx (scan, extract, syncfs, swap): %.2f s (%s unpacked)\n' \
	"$pop" "$(mbps "$unpacked" "$pop")"
printf '  %s: %.2f s\n' "$bsdtar_name" "$tar"
printf '  %s, then sync: %.2f s\n' "$bsdtar_name" "$tarsync"
echo "  speed vs bsdtar -x:        $(ratio "$tar" "$pop")x   (goal >= 0.9)"
echo "  speed vs bsdtar -x + sync: $(ratio "$tarsync" "$pop")x"

# ---- 2. SHA-256 of 1 GiB ------------------------------------------------------------
echo "making a 1 GiB file …"
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$state/archives/big.bin"
api_times=
sum_times=
i=0
while [ $i -le "$runs" ]; do
	t0=$(now)
	h1=$(curl -fsS -H "$auth" "$base/api/archive/sha256?path=/big.bin" | sed 's/.*"sha256":"\([0-9a-f]*\)".*/\1/')
	t1=$(now)
	h2=$(sha256sum "$state/archives/big.bin" | cut -d' ' -f1)
	t2=$(now)
	[ "$h1" = "$h2" ] || { echo "sha256 differs: $h1 $h2" >&2; exit 1; }
	if [ $i -gt 0 ]; then
		api_times="$api_times $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
		sum_times="$sum_times $(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
	fi
	i=$((i + 1))
done
api=$(echo $api_times | tr ' ' '\n' | best)
sum=$(echo $sum_times | tr ' ' '\n' | best)
printf 'sha256 of 1 GiB (warm cache):\n  GET /api/archive/sha256: %.2f s (%s)\n  sha256sum:               %.2f s (%s)\n' \
	"$api" "$(mbps 1073741824 "$api")" "$sum" "$(mbps 1073741824 "$sum")"
echo "  speed vs sha256sum: $(ratio "$sum" "$api")x   (goal >= 0.9)"

# ---- 3. upload and download of 1 GiB through nginx ---------------------------------------
up_times=
dd_times=
down_times=
cat_times=
i=0
while [ $i -le "$runs" ]; do
	rm -f "$state/archives/up.bin" "$state/archives/dd.bin"
	sync
	t0=$(now)
	curl -fsS -o /dev/null -H "$auth" -F "file=@$state/archives/big.bin;filename=up.bin" \
		"$base/api/archive/upload"
	t1=$(now)
	dd if="$state/archives/big.bin" of="$state/archives/dd.bin" bs=1M conv=fsync status=none
	t2=$(now)
	curl -fsS -o /dev/null -H "$auth" "$base/api/archive/download?path=/up.bin"
	t3=$(now)
	cat "$state/archives/up.bin" > /dev/null
	t4=$(now)
	if [ $i -gt 0 ]; then
		up_times="$up_times $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
		dd_times="$dd_times $(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
		down_times="$down_times $(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')"
		cat_times="$cat_times $(awk -v a="$t3" -v b="$t4" 'BEGIN { print b - a }')"
	fi
	i=$((i + 1))
done
cmp -s "$state/archives/big.bin" "$state/archives/up.bin" || { echo "upload differs" >&2; exit 1; }
up=$(echo $up_times | tr ' ' '\n' | best)
dd=$(echo $dd_times | tr ' ' '\n' | best)
down=$(echo $down_times | tr ' ' '\n' | best)
cat_=$(echo $cat_times | tr ' ' '\n' | best)
echo "1 GiB through nginx:"
printf '  upload (multipart, streamed, fsync):  %.2f s (%s)\n' "$up" "$(mbps 1073741824 "$up")"
printf '  dd conv=fsync, same file system:      %.2f s (%s)\n' "$dd" "$(mbps 1073741824 "$dd")"
echo "  upload vs the disk: $(ratio "$dd" "$up")x"
printf '  download (X-Accel-Redirect, sendfile): %.2f s (%s)\n' "$down" "$(mbps 1073741824 "$down")"
printf '  cat of the file (page cache):          %.2f s (%s)\n' "$cat_" "$(mbps 1073741824 "$cat_")"
echo "  download vs reading the file: $(ratio "$cat_" "$down")x"

# the same from a cold page cache, where the disk is the limit (root only)
if [ -w /proc/sys/vm/drop_caches ]; then
	sync
	echo 3 > /proc/sys/vm/drop_caches
	t0=$(now)
	curl -fsS -o /dev/null -H "$auth" "$base/api/archive/download?path=/up.bin"
	t1=$(now)
	echo 3 > /proc/sys/vm/drop_caches
	cat "$state/archives/up.bin" > /dev/null
	t2=$(now)
	cd_=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	cc_=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
	printf '  download, cold cache:                 %.2f s (%s)\n' "$cd_" "$(mbps 1073741824 "$cd_")"
	printf '  cat, cold cache (the disk):           %.2f s (%s)\n' "$cc_" "$(mbps 1073741824 "$cc_")"
	echo "  cold download vs the disk: $(ratio "$cc_" "$cd_")x"
fi
