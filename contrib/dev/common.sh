# Shared by contrib/dev/run, contrib/dev/test and .ci/run (sourced, POSIX sh).

# Debian 12 packages for building, running and testing everything.
MC_ADMIN_PACKAGES="gcc make autoconf automake pkg-config ca-certificates curl \
libfcgi-dev libsqlite3-dev libjson-c-dev libjwt-dev libcurl4-openssl-dev libyaml-dev \
libsystemd-dev libcrypt-dev libssl-dev libarchive-dev check \
nginx-light python3 python3-websockets systemd \
docker.io docker-compose debootstrap \
valgrind clang libclang-rt-14-dev libarchive-tools wrk"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install what is missing; "always" runs apt-get update first (CI).
ensure_packages() {
	missing=
	for p in $MC_ADMIN_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	if [ -n "${MC_ADMIN_OFFLINE:-}" ]; then
		[ -z "$missing" ] || echo "mc-admin: offline, not installing:$missing" >&2
		return 0
	fi
	if [ -n "$missing" ] || [ "${1:-}" = always ]; then
		echo "mc-admin: installing packages:${missing:- (none missing)}"
		# apt downloads as the unprivileged _apt user; on some sandboxed
		# machines only root reaches the network (names do not resolve for
		# _apt), so a failed update is retried with downloads done as root.
		if ! apt_get update -q --error-on=any; then
			echo "mc-admin: apt-get update failed as _apt; retrying with downloads as root" >&2
			apt_opts="-o APT::Sandbox::User=root"
			apt_get update -q --error-on=any
		fi
		[ -z "$missing" ] ||
			apt_get install -y -q --no-install-recommends $missing
	fi
}

apt_opts=
apt_get() {
	# shellcheck disable=SC2086 # apt_opts is a list of words
	as_root env DEBIAN_FRONTEND=noninteractive apt-get $apt_opts "$@"
}

# dockerd: use the running one, else start Debian's (no systemd as PID 1 on
# build machines, so start it directly).
ensure_docker() {
	if /usr/bin/docker info >/dev/null 2>&1; then
		return 0
	fi
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		as_root systemctl start docker || true
	fi
	if ! /usr/bin/docker info >/dev/null 2>&1; then
		echo "mc-admin: starting dockerd"
		as_root sh -c 'nohup /usr/sbin/dockerd >/var/log/mc-admin-dockerd.log 2>&1 &'
	fi
	i=0
	until /usr/bin/docker info >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 60 ] || { echo "mc-admin: dockerd did not start (see /var/log/mc-admin-dockerd.log)" >&2; return 1; }
		sleep 1
	done
}

# Configure (once) and build a tree: build_tree DIR [configure flags…]
build_tree() {
	dir=$1
	shift
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" -q "$@")
	fi
	make -C "$dir" -s -j"$(nproc)"
}
