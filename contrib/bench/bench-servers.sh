#!/bin/sh
# Servers benchmark (issue 3), through nginx and the real API, with 50
# simulated servers (itzg/minecraft-server:mcsim), 5 of them running:
#   - GET /api/servers/ (compose files only);
#   - a sweep of GET /api/servers/{id}/status over all 50 (one Engine API
#     inspect each), against the reference's method in the same run: one
#     `docker-compose ps` per server (the reference runs one to three);
#   - GET /api/servers/{id}/players (direct RCON) against
#     `docker-compose exec -T mc rcon-cli list` (the reference's RCON path).
# Goals: list of 50 < 30 ms, status sweep >= 20x faster than compose.
# BENCH_SERVERS / BENCH_RUNNING / BENCH_ROUNDS change the sizes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MC_ADMIN_BUILD:-$top/build}
state=$(mktemp -d "${TMPDIR:-/tmp}/mcadmin-bench-srv.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run=b$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
compose=${DOCKER_COMPOSE:-docker-compose}

cleanup() {
	for d in "$state"/servers/*/; do
		[ -f "$d/docker-compose.yml" ] &&
			(cd "$d" && PATH=/usr/bin:$PATH $compose down -t 1 >/dev/null 2>&1) || true
	done
	/usr/bin/docker ps -aq --filter "name=^mc-$run-" | xargs -r /usr/bin/docker rm -f >/dev/null 2>&1 || true
	"$top/contrib/dev/stack.sh" stop "$state"
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$top/tests/mcsim/build-image.sh" >/dev/null
NGINX_ACCESS_LOG=off MC_ADMIN_BUILD=$build "$top/contrib/dev/stack.sh" start "$state" "$port" >/dev/null

# docker-compose v1 runs the `docker` it finds in PATH for exec: /usr/bin/docker
PATH=/usr/bin:$PATH BENCH_PORT=$port BENCH_STATE=$state BENCH_RUN=$run BENCH_COMPOSE=$compose \
python3 - <<'PY'
import http.client, json, os, socket, statistics, subprocess, time

port = int(os.environ["BENCH_PORT"])
state = os.environ["BENCH_STATE"]
run = os.environ["BENCH_RUN"]
compose = os.environ["BENCH_COMPOSE"].split()
n_servers = int(os.environ.get("BENCH_SERVERS", "50"))
n_running = int(os.environ.get("BENCH_RUNNING", "5"))
rounds = int(os.environ.get("BENCH_ROUNDS", "20"))
master = open(os.path.join(state, "credentials", "master_token")).read().strip()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)


def api(method, path, body=None):
    hdrs = {"Authorization": f"Bearer {master}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, "/api/servers" + path, body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.read()
    if r.status != 200:
        raise SystemExit(f"bench-servers: {method} {path}: {r.status} {out[:300]!r}")
    return json.loads(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ms(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


ids = [f"{run}-{i:02d}" for i in range(n_servers)]
for sid in ids:
    text = "\n".join([
        "services:", "  mc:", "    image: itzg/minecraft-server:mcsim",
        f"    container_name: mc-{sid}", "    environment:", '      EULA: "TRUE"',
        '      VERSION: "1.21.1"', "      MAX_MEMORY: 1G", f"      RCON_PASSWORD: pw-{sid}",
        '      MCSIM_STARTUP_DELAY_MS: "500"', "    ports:",
        f'      - "{free_port()}:25565"', f'      - "{free_port()}:25575"',
        "    volumes:", "      - ./data:/data", "    tty: true", "    stdin_open: true", ""])
    api("POST", f"/{sid}", {"yaml_content": text})
running = ids[:n_running]
t_up = ms(lambda: [api("POST", f"/{sid}/operations", {"action": "up"}) for sid in running])
deadline = time.monotonic() + 120
while any(api("GET", f"/{s}/status")["status"] != "HEALTHY" for s in running):
    if time.monotonic() > deadline:
        raise SystemExit("bench-servers: the running servers did not become healthy")
    time.sleep(0.5)
print(f"setup: {n_servers} servers created, {n_running} running (up took {t_up / n_running:.0f} ms each)")

# warm-up, then the measurements
for _ in range(3):
    api("GET", "/")
list_ms = sorted(ms(lambda: api("GET", "/")) for _ in range(rounds))
assert len(api("GET", "/")) == n_servers
sweep_ms = sorted(ms(lambda: [api("GET", f"/{s}/status") for s in ids]) for _ in range(rounds))
statuses = [api("GET", f"/{s}/status")["status"] for s in ids]

env = dict(os.environ)
def compose_ps(sid):
    d = os.path.join(state, "servers", sid)
    subprocess.run(compose + ["--project-directory", d, "ps"], cwd=d, env=env,
                   capture_output=True, check=True)
ref_rounds = max(1, min(3, rounds))
ref_ms = sorted(ms(lambda: [compose_ps(s) for s in ids]) for _ in range(ref_rounds))

target = running[0]
players_ms = sorted(ms(lambda: api("GET", f"/{target}/players")) for _ in range(rounds))
def exec_list():
    d = os.path.join(state, "servers", target)
    subprocess.run(compose + ["--project-directory", d, "exec", "-T", "mc", "rcon-cli", "list"],
                   cwd=d, env=env, capture_output=True, check=True)
exec_ms = sorted(ms(exec_list) for _ in range(max(1, min(5, rounds))))

med = statistics.median
p95 = lambda v: v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
print(f"statuses: {statuses.count('HEALTHY')} HEALTHY, {statuses.count('EXISTS')} EXISTS")
print(f"GET /api/servers/ ({n_servers} servers):       median {med(list_ms):7.2f} ms, "
      f"p95 {p95(list_ms):7.2f} ms   (goal < 30 ms)")
print(f"status sweep, API ({n_servers} x GET /status):  median {med(sweep_ms):7.1f} ms "
      f"({med(sweep_ms) / n_servers:.2f} ms per server)")
print(f"status sweep, {' '.join(compose)} ps x {n_servers}: median {med(ref_ms):7.1f} ms "
      f"({med(ref_ms) / n_servers:.1f} ms per server)")
print(f"ratio compose/API:                        {med(ref_ms) / med(sweep_ms):7.1f}x   (goal >= 20x)")
print(f"GET /players (direct RCON):               median {med(players_ms):7.2f} ms")
print(f"{' '.join(compose)} exec -T mc rcon-cli list:  median {med(exec_ms):7.1f} ms")
print(f"ratio exec/direct:                        {med(exec_ms) / med(players_ms):7.1f}x")
for sid in running:
    api("POST", f"/{sid}/operations", {"action": "down"})
PY
