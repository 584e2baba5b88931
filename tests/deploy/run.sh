#!/bin/bash
# Deployment test under real systemd: Debian bookworm with systemd as PID 1
# in a Docker container (flags from shared/notes/systemd-in-docker.md), the
# build installed as a package would be (prefix /usr), nginx in front.
# Checks socket activation, login → /user/me through nginx, the audit record
# in the journal, a clean stop, and the unit's sandbox exposure; then the same
# for mc-admin-ws with a login-code and a console session (section 5).
#
#   tests/deploy/run.sh BUILD_DIR        (BUILD_DIR configured with --prefix=/usr
#                                          --sysconfdir=/etc --localstatedir=/var)
# Environment: DOCKER (default /usr/bin/docker), DEPLOY_BASE_IMAGE (cached base),
# DEBIAN_MIRROR, MC_ADMIN_DEPLOY_KEEP=1 keeps the container for inspection.
set -euo pipefail

build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
D=${DOCKER:-/usr/bin/docker}
base=${DEPLOY_BASE_IMAGE:-mc-admin-test/systemd-bookworm:1}
img=mc-admin-test/deploy:$$
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d "${TMPDIR:-/tmp}/mcadmin-deploy.XXXXXX")
cid=

fail=0
ok()  { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
ws_sim=	# the simulator container of the WebSocket checks (section 5)
cleanup() {
	if [ -n "$cid" ] && [ -z "${MC_ADMIN_DEPLOY_KEEP:-}" ]; then
		"$D" rm -f "$cid" >/dev/null 2>&1 || true
	fi
	if [ -n "$ws_sim" ]; then
		"$D" rm -f "mc-$ws_sim" >/dev/null 2>&1 || true
		"$D" network rm "${ws_sim}_default" >/dev/null 2>&1 || true
	fi
	"$D" rmi -f "$img" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

"$D" info >/dev/null 2>&1 || { echo "deploy: docker is not running" >&2; exit 1; }

# 1. the base image: debootstrap once, then reuse (about 2 minutes cold)
if ! "$D" image inspect "$base" >/dev/null 2>&1; then
	echo "deploy: building the base image $base with debootstrap"
	command -v debootstrap >/dev/null || { echo "deploy: debootstrap is missing" >&2; exit 1; }
	pkgs=systemd,systemd-sysv,dbus,nginx-light,curl,ca-certificates
	pkgs=$pkgs,libfcgi0ldbl,libsqlite3-0,libjson-c5,libjwt0,libcurl4,libyaml-0-2,libsystemd0
	pkgs=$pkgs,libssl3,libcrypt1,libarchive13
	debootstrap --variant=minbase --include="$pkgs" bookworm "$work/rootfs" "$mirror" \
		> "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
	tar -C "$work/rootfs" \
		--exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*_Packages' \
		--exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
		--exclude='./usr/share/locale/*' -c . |
		"$D" import -c 'CMD ["/lib/systemd/systemd"]' - "$base" >/dev/null
	rm -rf "$work/rootfs"
fi

# 2. install the build as a package would
make -C "$build" -s install DESTDIR="$work/ctx/root" >/dev/null
# Docker leaves the container's mounts private; systemd on a real host makes /
# shared, and credentials (LoadCredential= with User=) rely on that to reach
# the service. Emulate the host, in the test image only.
mkdir -p "$work/ctx/root/etc/systemd/system/sysinit.target.wants"
cat > "$work/ctx/root/etc/systemd/system/test-shared-mounts.service" <<UNIT
[Unit]
Description=test image: make mounts shared like on a host
DefaultDependencies=no
Before=sysinit.target
[Service]
Type=oneshot
ExecStart=/bin/mount --make-rshared /
UNIT
ln -s ../test-shared-mounts.service \
	"$work/ctx/root/etc/systemd/system/sysinit.target.wants/test-shared-mounts.service"
cat > "$work/ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY root/ /
# mc-admin-ws reaches the host's dockerd (section 5): its group, with the socket's gid
RUN groupadd -o -g $(stat -c %g /var/run/docker.sock) docker
RUN rm -f /etc/nginx/sites-enabled/default \\
 && ln -s /usr/share/mc-admin/nginx/mc-admin.conf /etc/nginx/sites-enabled/mc-admin.conf \\
 && systemd-sysusers && systemd-tmpfiles --create /usr/lib/tmpfiles.d/mc-admin.conf \\
 && systemctl enable mc-admin-api.socket mc-admin-ws.socket nginx.service \\
 && systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \\
      dpkg-db-backup.timer systemd-tmpfiles-clean.timer
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
DOCKERFILE
DOCKER_BUILDKIT=0 "$D" build -q -t "$img" "$work/ctx" >/dev/null

# 3. boot
# (section 5: the host's docker socket and a server directory, for mc-admin-ws)
mkdir -p "$work/servers"
chmod 0755 "$work" "$work/servers"
cid=$("$D" run -d --cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
	-v /var/run/docker.sock:/var/run/docker.sock -v "$work/servers:/srv/mc-admin/servers" \
	--tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 "$img")
x() { "$D" exec "$cid" "$@"; }
for _ in $(seq 300); do
	st=$(x systemctl is-system-running 2>/dev/null || true)
	case $st in running|degraded) break ;; esac
	sleep 0.1
done
[ "$st" = running ] && ok "systemd is running" || { bad "system state '$st'"; x systemctl --failed --no-pager || true; }

# 4. checks
[ "$(x systemctl is-active mc-admin-api.socket)" = active ] && ok "socket listening" || bad "socket not active"
[ "$(x systemctl is-active mc-admin-api.service || true)" = inactive ] &&
	ok "service idle before the first request" || bad "service started before any request"
x stat -c '%U:%G %a' /run/mc-admin/api.sock | grep -qx 'root:www-data 660' &&
	ok "socket is root:www-data 0660" || bad "socket permissions"

h=$(x curl -m 20 -fsS http://127.0.0.1/api/system/health || true)
[ "$h" = '{"status":"healthy"}' ] && ok "health through nginx: $h" || bad "health: '$h'"
[ "$(x systemctl is-active mc-admin-api.service)" = active ] &&
	ok "socket activation started the service" || bad "service not active after a request"
x systemctl show -p User -p MainPID mc-admin-api.service | grep -q 'User=mc-admin' &&
	ok "runs as the mc-admin user" || bad "wrong user"
pid=$(x systemctl show -p MainPID --value mc-admin-api.service)
x grep -q 'NoNewPrivs:	1' "/proc/$pid/status" && ok "no new privileges" || bad "NoNewPrivs"
x grep -q 'Seccomp:	2' "/proc/$pid/status" && ok "seccomp filter applied" || bad "no seccomp"
x grep -q 'CapEff:	0000000000000000' "/proc/$pid/status" && ok "no capabilities" || bad "capabilities"

master=$(x cat /etc/mc-admin/credentials/master_token)
[ -n "$master" ] && ok "first-run secrets were generated" || bad "no master token"
x test "$(x stat -c %a /etc/mc-admin/credentials/master_token)" = 600 &&
	ok "credentials are 0600" || bad "credential mode"
r=$(x curl -m 20 -sS -H "Authorization: Bearer $master" -H 'Content-Type: application/json' \
	-d '{"username":"deploy-owner","password":"deploy-pw","role":"owner"}' \
	http://127.0.0.1/api/admin/users)
case $r in *'"username":"deploy-owner","role":"owner"'*) ok "owner created with the master token" ;;
	*) bad "create owner: $r" ;; esac
tok=$(x curl -m 20 -sS -F grant_type=password -F username=deploy-owner -F password=deploy-pw \
	http://127.0.0.1/api/auth/token | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$tok" ] && ok "login through nginx" || bad "login"
me=$(x curl -m 20 -sS -H "Authorization: Bearer $tok" http://127.0.0.1/api/user/me)
case $me in '{"username":"deploy-owner","role":"owner","id":1,"created_at":"'*'Z"}') ok "/user/me: $me" ;;
	*) bad "/user/me: $me" ;; esac

# downloads are served by nginx (www-data) through X-Accel-Redirect
x id www-data | grep -q '(mc-admin)' && ok "www-data is in the mc-admin group" || bad "www-data groups"
up=$(x sh -c "printf 'deploy download' > /tmp/d.txt && curl -m 20 -sS -H 'Authorization: Bearer $tok' \
	-F file=@/tmp/d.txt http://127.0.0.1/api/archive/upload")
case $up in *"uploaded successfully"*) ok "archive upload" ;; *) bad "upload: $up" ;; esac
dl=$(x curl -m 20 -sS -H "Authorization: Bearer $tok" 'http://127.0.0.1/api/archive/download?path=/d.txt')
[ "$dl" = "deploy download" ] && ok "download through X-Accel-Redirect as www-data" || bad "download: '$dl'"

sleep 0.5	# journald is asynchronous
j=$(x journalctl MC_ADMIN_AUDIT=1 -o json --no-pager)
echo "$j" | grep -q '"AUDIT_PATH":"/api/auth/token"' && ok "audit record of the login in the journal" ||
	bad "no audit record in the journal"
echo "$j" | grep -q 'deploy-pw' && bad "password in the journal" || ok "password masked in the journal"
echo "$j" | grep -q "$master" && bad "master token in the journal" || ok "master token not in the journal"
x test -s /var/log/mc-admin/operations.log && ok "audit file in /var/log/mc-admin" || bad "no audit file"
x stat -c %U /var/lib/mc-admin/db.sqlite3 | grep -qx mc-admin && ok "database owned by mc-admin" ||
	bad "database owner"

exposure=$(x systemd-analyze security mc-admin-api.service --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for mc-admin-api.service: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.5) }' &&
	ok "systemd-analyze security exposure $exposure <= 2.5" || bad "exposure '$exposure'"
v=$(x systemd-analyze verify mc-admin-api.socket mc-admin-api.service mc-admin-secrets.service 2>&1 || true)
[ -z "$v" ] && ok "systemd-analyze verify is clean" || bad "verify: $v"

x systemctl stop mc-admin-api.service
[ "$(x systemctl show -p Result --value mc-admin-api.service)" = success ] &&
	ok "clean stop (SIGTERM)" || bad "stop result"
h=$(x curl -m 20 -fsS http://127.0.0.1/api/system/health || true)
[ "$h" = '{"status":"healthy"}' ] && ok "socket re-activates the service" || bad "re-activation: '$h'"

# 5. mc-admin-ws (issue #4): socket activation, then one login-code session and
# one console session through nginx. The client is the host's python3-websockets
# talking to the container's nginx over the bridge network; the console reads a
# simulator container of the host's dockerd through the bind-mounted socket.
[ "$(x systemctl is-active mc-admin-ws.socket)" = active ] && ok "ws socket listening" ||
	bad "ws socket not active"
[ "$(x systemctl is-active mc-admin-ws.service || true)" = inactive ] &&
	ok "ws service idle before the first connection" || bad "ws service started early"
x stat -c '%U:%G %a' /run/mc-admin/ws.sock | grep -qx 'root:www-data 660' &&
	ok "ws socket is root:www-data 0660" || bad "ws socket permissions"
ws_sim=dep$$
"$src/tests/mcsim/build-image.sh" >/dev/null
mkdir -p "$work/servers/$ws_sim/data"
cat > "$work/servers/$ws_sim/docker-compose.yml" <<YAML
services:
  mc:
    image: itzg/minecraft-server:mcsim
    container_name: mc-$ws_sim
    environment:
      EULA: "TRUE"
      VERSION: "1.21.1"
      MCSIM_STARTUP_DELAY_MS: "300"
      CREATE_CONSOLE_IN_PIPE: "true"
    ports: ["25565", "25575"]
    volumes: ["./data:/data"]
YAML
chmod -R a+rX "$work/servers"
(cd "$work/servers/$ws_sim" && PATH=/usr/bin:$PATH docker-compose up -d >/dev/null 2>&1) ||
	bad "simulator did not start"
for _ in $(seq 200); do
	"$D" logs "mc-$ws_sim" 2>&1 | grep -q 'RCON running' && break
	sleep 0.1
done
ip=$("$D" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
cat > "$work/wsclient.py" <<'PY'
import asyncio, json, subprocess, sys, urllib.request, uuid
import websockets
ip, master, sim, user, password = sys.argv[1:6]
http = f"http://{ip}"
def post(path, body, headers):
    req = urllib.request.Request(http + path, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.loads(r.read())
async def main():
    async with websockets.connect(f"ws://{ip}/api/auth/code", open_timeout=20) as ws:
        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert m["type"] == "code", m
        print("PASS login code over the socket", flush=True)
        r = post("/api/auth/verifyCode", json.dumps({"username": user, "code": m["code"]}).encode(),
                 {"Authorization": f"Bearer {master}", "Content-Type": "application/json"})
        v = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert r == {"result": "success"} and v["type"] == "verified", (r, v)
        tok = v["access_token"]
        req = urllib.request.Request(http + "/api/user/me", headers={"Authorization": f"Bearer {tok}"})
        me = json.loads(urllib.request.urlopen(req, timeout=20).read())
        assert me["username"] == user, me
        print("PASS verifyCode pushed a JWT that /api/user/me accepts", flush=True)
    async with websockets.connect(f"ws://{ip}/api/servers/{sim}/console?token={tok}",
                                  open_timeout=20) as ws:
        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert m["type"] == "log" and "Done (" in m["content"], m
        print("PASS console snapshot through nginx", flush=True)
        word = uuid.uuid4().hex
        subprocess.run(["/usr/bin/docker", "exec", "--user", "1000", f"mc-{sim}",
                        "mc-send-to-console", "say", word], check=True, capture_output=True)
        while word not in m.get("content", ""):
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        print("PASS console live line", flush=True)
asyncio.run(main())
PY
if out=$(/usr/bin/python3 "$work/wsclient.py" "$ip" "$master" "$ws_sim" deploy-owner deploy-pw 2>&1); then
	echo "$out"
else
	echo "$out" | sed 's/^PASS/pass/'; bad "WebSocket sessions through nginx"
fi
[ "$(x systemctl is-active mc-admin-ws.service)" = active ] &&
	ok "socket activation started mc-admin-ws" || bad "ws service not active"
pid=$(x systemctl show -p MainPID --value mc-admin-ws.service)
x grep -q 'NoNewPrivs:	1' "/proc/$pid/status" && x grep -q 'Seccomp:	2' "/proc/$pid/status" &&
	x grep -q 'CapEff:	0000000000000000' "/proc/$pid/status" &&
	x systemctl show -p User mc-admin-ws.service | grep -q 'User=mc-admin' &&
	ok "ws runs as mc-admin, no privileges, seccomp" || bad "ws sandbox"
exposure=$(x systemd-analyze security mc-admin-ws.service --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for mc-admin-ws.service: \([0-9.]*\).*/\1/p')
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.5) }' &&
	ok "ws exposure $exposure <= 2.5" || bad "ws exposure '$exposure'"
v=$(x systemd-analyze verify mc-admin-ws.socket mc-admin-ws.service 2>&1 || true)
[ -z "$v" ] && ok "ws units verify clean" || bad "ws verify: $v"
echo "$(x journalctl -u mc-admin-ws.service -o cat --no-pager)" | grep -q "$master" &&
	bad "master token in the ws journal" || ok "no token in the ws journal"
x systemctl stop mc-admin-ws.service
[ "$(x systemctl show -p Result --value mc-admin-ws.service)" = success ] &&
	ok "ws clean stop (SIGTERM)" || bad "ws stop result"
(cd "$work/servers/$ws_sim" && PATH=/usr/bin:$PATH docker-compose down -t 1 >/dev/null 2>&1) || true

[ "$(x systemctl --failed --no-legend --no-pager | wc -l)" = 0 ] && ok "no failed units" ||
	{ bad "failed units"; x systemctl --failed --no-pager; }
if [ $fail -ne 0 ]; then
	x journalctl -u mc-admin-api.service -u mc-admin-ws.service -u mc-admin-secrets.service \
		--no-pager | tail -40 || true
fi
exit $fail
