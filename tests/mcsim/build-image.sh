#!/usr/bin/env bash
# Build the mcsim test image (itzg/minecraft-server:mcsim) offline.
#
#   tests/mcsim/build-image.sh            # no-op if the image is up to date
#   MCSIM_FORCE_BUILD=1 tests/mcsim/build-image.sh
#
# Environment:
#   DOCKER           docker client to use (default /usr/bin/docker)
#   MCSIM_IMAGE      tag to build (default itzg/minecraft-server:mcsim)
#   MCSIM_BUILD_DIR  keep the build context here instead of a temp dir
#   CC               C compiler (default gcc)
#
# The image carries the label mcsim.source-hash=<sha256 of mcsim.c + Dockerfile>;
# when an image with the tag and the same hash exists, nothing is done.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
IMAGE="${MCSIM_IMAGE:-itzg/minecraft-server:mcsim}"
CC="${CC:-gcc}"

hash="$(cat "$HERE/mcsim.c" "$HERE/Dockerfile" | sha256sum | cut -d' ' -f1)"

if [[ -z "${MCSIM_FORCE_BUILD:-}" ]]; then
  current="$("$DOCKER" image inspect -f '{{ index .Config.Labels "mcsim.source-hash" }}' "$IMAGE" 2>/dev/null || true)"
  if [[ "$current" == "$hash" ]]; then
    echo "mcsim: $IMAGE is up to date (${hash:0:12})"
    exit 0
  fi
fi

if [[ -n "${MCSIM_BUILD_DIR:-}" ]]; then
  ctx="$MCSIM_BUILD_DIR"
  rm -rf "$ctx/rootfs"
  mkdir -p "$ctx"
else
  ctx="$(mktemp -d "${TMPDIR:-/tmp}/mcsim-build.XXXXXX")"
  trap 'rm -rf "$ctx"' EXIT
fi

root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/data" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
chmod 0755 "$root/data"

"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -static -s \
  -o "$root/usr/local/bin/mcsim" "$HERE/mcsim.c"

for tool in rcon-cli mc-send-to-console mc-health; do
  ln -s mcsim "$root/usr/local/bin/$tool"
done
ln -s ../local/bin/mcsim "$root/usr/bin/java"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
minecraft:x:1000:1000:minecraft:/data:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
minecraft:x:1000:
EOF

cp "$HERE/Dockerfile" "$ctx/Dockerfile"

DOCKER_BUILDKIT=0 "$DOCKER" build -q \
  --label "mcsim.source-hash=$hash" \
  -t "$IMAGE" "$ctx" >/dev/null

echo "mcsim: built $IMAGE (${hash:0:12})"
