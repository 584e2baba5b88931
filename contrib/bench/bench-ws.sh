#!/bin/sh
# WebSocket benchmark (issue 4): 100 console clients (BENCH_WS_CLIENTS) on one
# simulated server, through nginx. The server prints BENCH_WS_LINES marker lines
# (mcsim log, one every ~100 ms, sent through the console pipe); for each line
# and client the latency is the client's arrival time minus docker's own
# timestamp of the line (when dockerd read it from the container's stdout, the
# best "printed" time there is; same clock). Prints p50/p99/max, the daemon's
# RSS (now and peak), and the login-code delivery time (verifyCode answered →
# "verified" on the socket). Goal: p99 < 50 ms, RSS < 16 MB. Nothing is
# asserted: speed is measured.
#
# The clients run in 4 processes of 25 (Python's asyncio), so the client side
# adds little of its own. Needs docker, docker-compose and python3-websockets.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MC_ADMIN_BUILD:-$top/build}
clients=${BENCH_WS_CLIENTS:-100}
lines=${BENCH_WS_LINES:-30}
py=/usr/bin/python3
D=/usr/bin/docker
export PATH="/usr/bin:$PATH"
state=$(mktemp -d "${TMPDIR:-/tmp}/mcadmin-bench-ws.XXXXXX")
sid=benchws$$
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
	"$D" rm -f "mc-$sid" >/dev/null 2>&1 || true
	"$D" network rm "${sid}_default" >/dev/null 2>&1 || true
	"$top/contrib/dev/stack.sh" stop "$state"
	rm -rf "$state"
}
trap cleanup EXIT
$py -c 'import websockets' 2>/dev/null ||
	{ echo "bench-ws: python3-websockets is not installed" >&2; exit 1; }

"$top/tests/mcsim/build-image.sh" >/dev/null
NGINX_ACCESS_LOG=off WS__MAX_CONSOLE_PER_SERVER=$((clients + 10)) MC_ADMIN_BUILD=$build \
	"$top/contrib/dev/stack.sh" start "$state" "$port" >/dev/null
mkdir -p "$state/servers/$sid/data"
cat > "$state/servers/$sid/docker-compose.yml" <<YAML
services:
  mc:
    image: itzg/minecraft-server:mcsim
    container_name: mc-$sid
    environment:
      EULA: "TRUE"
      VERSION: "1.21.1"
      MCSIM_STARTUP_DELAY_MS: "300"
      CREATE_CONSOLE_IN_PIPE: "true"
      UID: "$(id -u)"
      GID: "$(id -g)"
    volumes: ["./data:/data"]
YAML
(cd "$state/servers/$sid" && docker-compose up -d >/dev/null 2>&1)
i=0
until "$D" logs "mc-$sid" 2>&1 | grep -q 'RCON running'; do
	i=$((i + 1)); [ $i -lt 300 ] || { echo "bench-ws: the simulator did not start" >&2; exit 1; }
	sleep 0.1
done
master=$(cat "$state/credentials/master_token")
curl -fsS -o /dev/null -H "Authorization: Bearer $master" -H 'Content-Type: application/json' \
	-d '{"username":"bench","password":"bench-pw","role":"owner"}' \
	"http://127.0.0.1:$port/api/admin/users"

$py - "$port" "$sid" "$clients" "$lines" "$master" "$(cat "$state/run/ws.pid")" <<'PY'
import asyncio, datetime, json, multiprocessing as mp, subprocess, sys, time, urllib.request
import websockets

port, sid, clients, lines, master, wspid = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
url = f"ws://127.0.0.1:{port}/api/servers/{sid}/console?token={master}"
PROCS = 4

def rss_kb(field):
    with open(f"/proc/{wspid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])

async def clients_main(n, ready, go, out):
    socks = [await websockets.connect(url, max_size=64 << 20) for _ in range(n)]
    for ws in socks:
        await ws.recv()     # the snapshot
    ready.release()
    seen = {}
    async def reader(i, ws):
        while len([k for k in seen if k[0] == i]) < lines:
            m = json.loads(await ws.recv())
            t = time.time()
            for part in m.get("content", "").split("\n"):
                if "bench-mark-" in part:
                    seen[(i, int(part.rsplit("bench-mark-", 1)[1]))] = t
    await asyncio.wait_for(asyncio.gather(*(reader(i, ws) for i, ws in enumerate(socks))), 120)
    out.put(list(seen.items()))
    go.wait()
    for ws in socks:
        await ws.close()

def proc(n, ready, go, out):
    asyncio.run(clients_main(n, ready, go, out))

ready, go, out = mp.Semaphore(0), mp.Event(), mp.Queue()
per = [clients // PROCS + (1 if i < clients % PROCS else 0) for i in range(PROCS)]
ps = [mp.Process(target=proc, args=(n, ready, go, out)) for n in per if n]
for p in ps:
    p.start()
for _ in ps:
    ready.acquire()
rss_connected = rss_kb("VmRSS")
# the baseline: docker's own follow stream, read directly (no mc-admin-ws, no nginx)
direct = subprocess.Popen(["curl", "-sN", "--unix-socket", "/var/run/docker.sock",
                           f"http://docker/v1.41/containers/mc-{sid}/logs?follow=1&stdout=1&tail=0"],
                          stdout=subprocess.PIPE)
direct_seen = {}
def direct_reader():
    buf = b""
    while len(direct_seen) < lines:
        chunk = direct.stdout.read1(65536)
        if not chunk:
            return
        t = time.time()
        buf += chunk
        for k in map(int, __import__("re").findall(rb"bench-mark-(\d+)", buf)):
            direct_seen.setdefault(k, t)
        buf = buf[-64:]
import threading
threading.Thread(target=direct_reader, daemon=True).start()
time.sleep(0.3)
for k in range(lines):
    subprocess.run(["/usr/bin/docker", "exec", f"mc-{sid}", "mc-send-to-console",
                    "mcsim", "log", f"bench-mark-{k}"], check=True, capture_output=True)
    time.sleep(0.1)
arrivals = []
for _ in ps:
    arrivals += out.get(timeout=180)
rss_now, rss_peak = rss_kb("VmRSS"), rss_kb("VmHWM")
direct.terminate()
go.set()
for p in ps:
    p.join()

# docker's timestamps of the marker lines
logs = subprocess.run(["/usr/bin/docker", "logs", "--timestamps", f"mc-{sid}"],
                      capture_output=True, text=True).stdout
printed = {}
for line in logs.splitlines():
    if "bench-mark-" in line:
        ts = line.split(" ", 1)[0]
        sec, frac = ts.rstrip("Z").split(".")
        t = datetime.datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
        printed[int(line.rsplit("bench-mark-", 1)[1])] = t
lat = sorted((t - printed[k]) * 1000 for (i, k), t in arrivals if k in printed)
base = sorted((t - printed[k]) * 1000 for k, t in direct_seen.items() if k in printed)
expected = clients * lines
def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]

# login codes: verifyCode answered → "verified" on the socket
async def login_codes(n=20):
    ds = []
    for _ in range(n):
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/auth/code") as ws:
            code = json.loads(await ws.recv())["code"]
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/auth/verifyCode",
                data=json.dumps({"username": "bench", "code": code}).encode(),
                headers={"Authorization": f"Bearer {master}", "Content-Type": "application/json"})
            await asyncio.to_thread(lambda: urllib.request.urlopen(req).read())
            t0 = time.monotonic()
            await ws.recv()
            ds.append((time.monotonic() - t0) * 1000)
    return sorted(ds)
codes = asyncio.run(login_codes())

print(f"console: {clients} clients, {lines} lines, {len(lat)} of {expected} arrivals measured")
print(f"line printed → at every client: p50 {pct(50):.1f} ms, p99 {pct(99):.1f} ms, "
      f"max {lat[-1]:.1f} ms (goal p99 < 50 ms)")
if base:
    print(f"baseline, docker's follow stream read directly: p50 {base[len(base) // 2]:.1f} ms, "
          f"max {base[-1]:.1f} ms")
print(f"mc-admin-ws RSS: {rss_connected / 1024:.1f} MB with {clients} consoles open, "
      f"{rss_now / 1024:.1f} MB after the lines, peak {rss_peak / 1024:.1f} MB (goal < 16 MB)")
print(f"login code: verifyCode answered → verified on the socket: p50 {codes[len(codes) // 2]:.0f} ms, "
      f"max {codes[-1]:.0f} ms over {len(codes)} codes (contract: < 1 s)")
PY
