#!/usr/bin/env bash
# Self-test for the mcsim image (the itzg/minecraft-server stand-in).
#
#   bash tests/mcsim/test-mcsim.sh
#
# Builds the image if needed, runs it through docker-compose the way a user of
# the real image would, and checks health, Server List Ping, RCON, rcon-cli,
# mc-send-to-console, logs and a graceful stop.  Exit 0 only if all checks
# pass.  Containers, networks and the temp directory are removed on exit.
#
# Environment: DOCKER (default /usr/bin/docker), DOCKER_COMPOSE (default
# docker-compose), MCSIM_KEEP=1 keeps the work directory for inspection.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
DOCKER_COMPOSE="${DOCKER_COMPOSE:-docker-compose}"
IMAGE="itzg/minecraft-server:mcsim"

ms() { echo $(($(date +%s%N) / 1000000)); }
T_BEGIN=$(ms)
declare -a TIMINGS=()
timing() { TIMINGS+=("$(printf '%-44s %6d ms' "$1" "$2")"); }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mcsim-test.XXXXXX")"
UNIQ="$(printf '%s%04x' "$(date +%s | tail -c 5)" "$RANDOM" | tr -cd 'a-z0-9')"
PROJECT="mcsimtest${UNIQ}"
CONTAINER="mc-${UNIQ}"
EULA_CONTAINER="mc-eula-${UNIQ}"
PASSWORD="pw-${UNIQ}"

# docker-compose 1.29 runs "docker" from PATH for `exec`: make that $DOCKER.
mkdir -p "$WORK/bin"
ln -s "$DOCKER" "$WORK/bin/docker"
export PATH="$WORK/bin:$PATH"

compose() { "$DOCKER_COMPOSE" -p "$PROJECT" -f "$WORK/docker-compose.yml" "$@"; }

cleanup() {
  local rc=$?
  compose down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
  "$DOCKER" rm -f "$CONTAINER" "$EULA_CONTAINER" >/dev/null 2>&1 || true
  if [[ -n "${MCSIM_KEEP:-}" ]]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  echo "---- docker logs $CONTAINER (last 40 lines) ----" >&2
  "$DOCKER" logs --tail 40 "$CONTAINER" 2>&1 | tr -d '\r' >&2 || true
  exit 1
}
ok() { echo "ok   - $*"; }

# ---------------------------------------------------------------- helpers ----
cat >"$WORK/mcproto.py" <<'PY'
"""Tiny Minecraft SLP + RCON client (stdlib only) used by test-mcsim.sh."""
import json, socket, struct, sys

def varint(v):
    out = b""
    v &= 0xFFFFFFFF
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out

def read_varint(s):
    v = 0
    for i in range(5):
        b = s.recv(1)
        if not b:
            raise EOFError("eof in varint")
        v |= (b[0] & 0x7F) << (7 * i)
        if not b[0] & 0x80:
            return v
    raise ValueError("varint too long")

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("eof")
        buf += chunk
    return buf

def slp(host, port):
    with socket.create_connection((host, port), timeout=5) as s:
        hs = b"\x00" + varint(767) + varint(len(host)) + host.encode() + struct.pack(">H", port) + varint(1)
        s.sendall(varint(len(hs)) + hs + b"\x01\x00")
        read_varint(s)
        assert read_varint(s) == 0
        js = recv_exact(s, read_varint(s))
        s.sendall(b"\x09\x01" + struct.pack(">q", 12345))
        read_varint(s)
        assert recv_exact(s, 9) == b"\x01" + struct.pack(">q", 12345), "bad pong"
        return json.loads(js)

def rcon_packet(pid, ptype, body):
    data = struct.pack("<ii", pid, ptype) + body.encode() + b"\x00\x00"
    return struct.pack("<i", len(data)) + data

def rcon_read(s):
    (length,) = struct.unpack("<i", recv_exact(s, 4))
    data = recv_exact(s, length)
    pid, ptype = struct.unpack("<ii", data[:8])
    return pid, ptype, data[8:-2].decode()

def rcon(host, port, password, command):
    """Returns (list of response packet bodies) or raises PermissionError."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(rcon_packet(1, 3, password))
        pid, ptype, _ = rcon_read(s)
        if pid == -1:
            raise PermissionError("auth failed")
        assert (pid, ptype) == (1, 2), (pid, ptype)
        s.sendall(rcon_packet(2, 2, command))
        s.sendall(rcon_packet(3, 0, ""))  # end marker: answered after all of ours
        bodies = []
        while True:
            pid, ptype, body = rcon_read(s)
            if pid == 3:
                return bodies
            assert pid == 2 and ptype == 0, (pid, ptype)
            bodies.append(body)

if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "slp":
        print(json.dumps(slp(host, port)))
    elif mode in ("rcon", "rcon-packets"):
        try:
            bodies = rcon(host, port, sys.argv[4], " ".join(sys.argv[5:]))
        except PermissionError:
            print("AUTH-FAILED")
            sys.exit(3)
        if mode == "rcon":
            sys.stdout.write("".join(bodies))
        else:
            print(" ".join(str(len(b)) for b in bodies))
PY
mcproto() { python3 "$WORK/mcproto.py" "$@"; }

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

write_compose() { # $1 = "with-password" | "generated-password"
  local extra=""
  if [[ "$1" == with-password ]]; then
    extra="      RCON_PASSWORD: \"$PASSWORD\"
      CREATE_CONSOLE_IN_PIPE: \"true\""
  fi
  cat >"$WORK/docker-compose.yml" <<EOF
version: "3"

services:
  mc:
    image: $IMAGE
    container_name: $CONTAINER
    environment:
      EULA: "TRUE"
      VERSION: "1.21.1"
      TYPE: "VANILLA"
      MAX_MEMORY: "1G"
      ENABLE_RCON: "true"
$extra
    ports:
      - "$GAME_PORT:25565"
      - "$RCON_PORT:25575"
    volumes:
      - ./data:/data
    stdin_open: true
    tty: true
EOF
}

health() { "$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$CONTAINER" 2>/dev/null; }

wait_healthy() { # prints the sequence of observed states
  local seen="" s last="" deadline=$(($(ms) + 60000))
  while (($(ms) < deadline)); do
    s="$(health || true)"
    if [[ "$s" != "$last" ]]; then
      seen+="${seen:+ -> }${s:-none}"
      last="$s"
    fi
    [[ "$s" == healthy ]] && { echo "$seen"; return 0; }
    [[ "$("$DOCKER" inspect -f '{{.State.Running}}' "$CONTAINER")" == true ]] || { echo "$seen (exited)"; return 1; }
    sleep 0.1
  done
  echo "$seen (timeout)"
  return 1
}

wait_log() { # $1 = fixed string, searched in docker logs and data/logs/latest.log
  local deadline=$(($(ms) + 10000))
  while (($(ms) < deadline)); do
    if "$DOCKER" logs "$CONTAINER" 2>&1 | grep -qF -- "$1" && grep -qF -- "$1" "$WORK/data/logs/latest.log" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------------ build ----
t=$(ms)
bash "$HERE/build-image.sh"
timing "build-image.sh" $(($(ms) - t))

read -r GAME_PORT RCON_PORT < <(free_ports 2)
mkdir -p "$WORK/data"

# ------------------------------------------------------- run 1: password ----
echo "# run 1: RCON_PASSWORD + CREATE_CONSOLE_IN_PIPE (ports $GAME_PORT/$RCON_PORT, container $CONTAINER)"
write_compose with-password
t=$(ms)
compose up -d >/dev/null 2>&1 || fail "docker-compose up failed"
timing "run 1: docker-compose up -d" $(($(ms) - t))
t=$(ms)
states="$(wait_healthy)" || fail "container did not become healthy: $states"
timing "run 1: up -> healthy" $(($(ms) - t))
[[ "$states" == starting*healthy ]] || fail "expected starting -> healthy, saw: $states"
ok "health: $states"

slp="$(mcproto slp 127.0.0.1 "$GAME_PORT")" || fail "server list ping from the host failed"
python3 - "$slp" <<'PY' || fail "unexpected SLP response: $slp"
import json, sys
j = json.loads(sys.argv[1])
assert j["version"] == {"name": "1.21.1", "protocol": 767}, j["version"]
assert j["players"]["max"] == 20 and j["players"]["online"] == 0, j["players"]
assert "sample" not in j["players"], j["players"]
assert j["description"]["text"] == "A Vanilla Minecraft Server powered by Docker", j["description"]
PY
ok "SLP from host: $slp"

out="$(mcproto rcon 127.0.0.1 "$RCON_PORT" "$PASSWORD" list)" || fail "RCON list from host failed"
[[ "$out" == "There are 0 of a max of 20 players online: " ]] || fail "RCON list: '$out'"
ok "RCON list from host: '$out'"

if mcproto rcon 127.0.0.1 "$RCON_PORT" "wrong-$PASSWORD" list >/dev/null; then
  fail "RCON accepted a wrong password"
fi
ok "RCON rejects a wrong password"

out="$(compose exec -T mc rcon-cli mcsim join Alice)" || fail "rcon-cli mcsim join failed"
[[ "$out" == *"Alice joined"* ]] || fail "mcsim join: '$out'"
out="$(compose exec -T mc rcon-cli list)" || fail "rcon-cli list failed"
[[ "$out" == "There are 1 of a max of 20 players online: Alice" ]] || fail "rcon-cli list: '$out'"
ok "rcon-cli in container: '$out'"
wait_log "Alice joined the game" || fail "no 'Alice joined the game' log line"
slp="$(mcproto slp 127.0.0.1 "$GAME_PORT")"
[[ "$slp" == *'"online": 1'* && "$slp" == *'"name": "Alice"'* ]] || fail "SLP sample lacks Alice: $slp"
ok "SLP shows Alice in the player sample"

if compose exec -T mc mc-send-to-console say as-root >/dev/null 2>&1; then
  fail "mc-send-to-console as root should refuse (like the real image)"
fi
compose exec -T --user 1000 mc mc-send-to-console say hi || fail "mc-send-to-console failed"
wait_log "[Not Secure] [Server] hi" || fail "console 'say hi' did not show up in docker logs and latest.log"
ok "mc-send-to-console (uid 1000): '[Not Secure] [Server] hi' in docker logs and data/logs/latest.log"

sizes="$(mcproto rcon-packets 127.0.0.1 "$RCON_PORT" "$PASSWORD" mcsim flood 10000)"
[[ "$sizes" == "4096 4096 1808" ]] || fail "flood 10000 should come as 4096+4096+1808, got: $sizes"
out="$(compose exec -T mc rcon-cli mcsim flood 20000 | wc -c)"
[[ "$out" -eq 20001 ]] || fail "rcon-cli flood 20000 returned $out bytes"
ok "multi-packet RCON responses (packets: $sizes; rcon-cli reassembles 20000 bytes)"

out="$(compose exec -T mc rcon-cli nosuchcommand)"
[[ "$out" == "Unknown or incomplete command, see below for errornosuchcommand<--[HERE]" ]] || fail "unknown command: '$out'"
ok "unknown command: '$out'"

top="$(compose top 2>/dev/null)"
[[ "$top" == *"java -Xmx1G -Xms1G -jar /data/minecraft_server.1.21.1.jar nogui"* ]] || fail "docker-compose top: $top"
ok "docker-compose top shows the java command line"

bad="$(grep -cvE '^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] \[[^]]+/(INFO|WARN|ERROR)\]: ' "$WORK/data/logs/latest.log" || true)"
[[ "$bad" == 0 ]] || fail "$bad lines of latest.log do not match the vanilla log format"
grep -qF 'Done (' "$WORK/data/logs/latest.log" || fail "no Done line in latest.log"
ok "latest.log lines all match '[HH:MM:SS] [thread/LEVEL]: msg'"

t=$(ms)
compose stop -t 20 >/dev/null 2>&1 || fail "docker-compose stop failed"
timing "run 1: docker-compose stop" $(($(ms) - t))
code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
[[ "$code" == 0 ]] || fail "exit code after stop: $code"
logs="$("$DOCKER" logs "$CONTAINER" 2>&1 | tr -d '\r')"
for line in "Stopping the server" "Stopping server" "Saving players" "Alice lost connection: Server closed" \
            "Saving worlds" "ThreadedAnvilChunkStorage: All dimensions are saved" "Thread RCON Listener stopped"; do
  grep -qF -- "[Server thread/INFO]: $line" <<<"$logs" || fail "missing stop line: $line"
done
[[ "$(tail -n1 "$WORK/data/logs/latest.log")" == *"Thread RCON Listener stopped" ]] || fail "latest.log does not end with the stop sequence"
ok "docker-compose stop: vanilla stop sequence, exit code 0"

# ---------------------------------------------- run 2: generated password ----
echo "# run 2: no RCON_PASSWORD (generated), same data directory"
write_compose generated-password
t=$(ms)
compose up -d >/dev/null 2>&1 || fail "docker-compose up (run 2) failed"
states="$(wait_healthy)" || fail "run 2: not healthy: $states"
timing "run 2: up -> healthy" $(($(ms) - t))
ok "health: $states"

out="$(compose exec -T mc rcon-cli list)" || fail "rcon-cli with generated password failed"
[[ "$out" == "There are 0 of a max of 20 players online: " ]] || fail "rcon-cli list (run 2): '$out'"
ok "rcon-cli works without RCON_PASSWORD: '$out'"
genpw="$(sed -n 's/^password=//p' "$WORK/data/.rcon-cli.env")"
[[ "$genpw" =~ ^[0-9a-f]{24}$ ]] || fail "data/.rcon-cli.env has no generated password: '$genpw'"
grep -qx "password: \"$genpw\"" "$WORK/data/.rcon-cli.yaml" || fail ".rcon-cli.yaml does not match .rcon-cli.env"
out="$(mcproto rcon 127.0.0.1 "$RCON_PORT" "$genpw" list)" || fail "host RCON with the generated password failed"
if mcproto rcon 127.0.0.1 "$RCON_PORT" "$PASSWORD" list >/dev/null; then
  fail "old password still accepted"
fi
ok "generated password in data/.rcon-cli.env and .rcon-cli.yaml works from the host"

shopt -s nullglob
gz=("$WORK"/data/logs/*-1.log.gz)
shopt -u nullglob
((${#gz[@]} == 1)) || fail "previous latest.log was not rotated to logs/YYYY-MM-DD-1.log.gz"
gzip -dc "${gz[0]}" | grep -qF "Thread RCON Listener stopped" || fail "rotated log content is wrong"
ok "log rotation: $(basename "${gz[0]}") (valid gzip, previous run's log)"

t=$(ms)
compose stop -t 20 >/dev/null 2>&1 || fail "docker-compose stop (run 2) failed"
timing "run 2: docker-compose stop" $(($(ms) - t))
code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
[[ "$code" == 0 ]] || fail "run 2 exit code after stop: $code"
ok "run 2 stopped with exit code 0"
compose down -v --remove-orphans -t 5 >/dev/null 2>&1 || true

# ---------------------------------------------------------- run 3: no EULA ----
t=$(ms)
mkdir -p "$WORK/eula-data"
set +e
out="$("$DOCKER" run --name "$EULA_CONTAINER" -v "$WORK/eula-data:/data" "$IMAGE" 2>&1)"
code=$?
set -e
"$DOCKER" rm -f "$EULA_CONTAINER" >/dev/null 2>&1 || true
timing "run 3: container without EULA" $(($(ms) - t))
[[ "$code" == 1 && "$out" == *"Please accept the Minecraft EULA"* ]] || fail "missing EULA: exit $code, output: $out"
ok "without EULA=TRUE: exit code 1 and the image's EULA message"

# ---------------------------------------------------------------- summary ----
echo
echo "timing summary"
for line in "${TIMINGS[@]}"; do echo "  $line"; done
printf '  %-44s %6d ms\n' "total" $(($(ms) - T_BEGIN))
echo "PASS: all mcsim self-tests passed"
