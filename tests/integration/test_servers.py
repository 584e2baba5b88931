#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Minecraft servers on real Docker (API-core §11, §12.1-§12.9, §12.11) through
the real nginx and mc-admin-api, with the simulator image
itzg/minecraft-server:mcsim (tests/mcsim) standing in for Minecraft.

Needs a running dockerd and docker-compose; fails when docker does not answer
unless MC_ADMIN_SKIP_DOCKER=1 (then exit 77: skipped). Every container,
network and directory a test makes is removed in tearDown, also on failure.
Server ids and host ports are unique per run, so suites can run in parallel."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, Stack, StackTestCase, free_port  # noqa: E402

DOCKER = "/usr/bin/docker"
IMAGE = "itzg/minecraft-server:mcsim"
RUN = uuid.uuid4().hex[:6]


def docker(*args, check=False):
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, check=check)


def setUpModule():
    skip = os.environ.get("MC_ADMIN_SKIP_DOCKER", "").lower()
    if skip in ("1", "true", "yes", "on"):
        print("test_servers: MC_ADMIN_SKIP_DOCKER is set, skipping", file=sys.stderr)
        sys.exit(77)
    if docker("info").returncode != 0:
        raise RuntimeError("the Docker daemon does not answer: these tests need dockerd "
                           "(set MC_ADMIN_SKIP_DOCKER=1 to skip them)")
    out = subprocess.run([os.path.join(SRCDIR, "tests", "mcsim", "build-image.sh")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"cannot build {IMAGE}: {out.stdout}{out.stderr}")


def compose_yaml(sid, game, rcon, env=None, rcon_published=True, image=IMAGE,
                 container=None):
    """A compose file written for the real image; only the tag differs."""
    envs = {"EULA": '"TRUE"', "VERSION": '"1.21.1"', "TYPE": "VANILLA", "MAX_MEMORY": "1G",
            "ENABLE_RCON": '"true"', "MCSIM_STARTUP_DELAY_MS": '"3000"'}
    envs.update(env or {})
    lines = ["services:", "  mc:", f"    image: {image}",
             f"    container_name: {container or 'mc-' + sid}", "    environment:"]
    lines += [f"      {k}: {v}" for k, v in envs.items() if v is not None]
    lines += ["    ports:", f'      - "{game}:25565"',
              f'      - "{rcon}:25575"' if rcon_published else '      - "25575"',
              "    volumes:", "      - ./data:/data", "    stdin_open: true", "    tty: true", ""]
    return "\n".join(lines)


class ServerCase(StackTestCase):
    """A stack with RCON answering within 3 s, and a cleanup list."""
    STACK_ENV = {"RCON__TIMEOUT_SECONDS": "3"}

    def setUp(self):
        self.made = []      # server ids whose containers/dirs must go

    def tearDown(self):
        for sid in self.made:
            d = self.server_dir(sid)
            if os.path.exists(os.path.join(d, "docker-compose.yml")):
                subprocess.run(["docker-compose", "--project-directory", d, "-f",
                                os.path.join(d, "docker-compose.yml"), "down", "-t", "1",
                                "--remove-orphans"], capture_output=True, cwd=d)
            docker("rm", "-f", f"mc-{sid}")
            docker("network", "rm", f"{sid.lower()}_default")
            shutil.rmtree(d, ignore_errors=True)

    def new_id(self, name):
        sid = f"t{RUN}-{name}"
        self.made.append(sid)
        return sid

    def server_dir(self, sid):
        return os.path.join(self.stack.state, "servers", sid)

    def api(self, method, path, body=None, timeout=120):
        return self.stack.request(method, "/api/servers" + path, token=self.stack.master,
                                  json_body=body, timeout=timeout)

    def status(self, sid):
        r = self.api("GET", f"/{sid}/status")
        self.assertEqual(r.status, 200, r)
        return r.json()["status"]

    def op(self, sid, action):
        r = self.api("POST", f"/{sid}/operations", {"action": action})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"message": f"Server '{sid}' {action} operation completed"})

    def wait_status(self, sid, want, timeout=60):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            st = self.status(sid)
            if not seen or seen[-1] != st:
                seen.append(st)
            if st == want:
                return seen
            time.sleep(0.25)
        self.fail(f"{sid}: status never became {want}: {seen}\n" + docker("logs", "--tail", "30",
                  f"mc-{sid}").stdout)

    def create(self, sid, text):
        r = self.api("POST", f"/{sid}", {"yaml_content": text})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def tree(self):
        """Every path under server_path (a snapshot to compare)."""
        root = os.path.join(self.stack.state, "servers")
        out = []
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                out.append((os.path.relpath(p, root), os.path.getsize(p)
                            if os.path.isfile(p) else -1))
        return sorted(out)

    def container_started_at(self, sid):
        out = docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}}", f"mc-{sid}")
        return out.stdout.strip() if out.returncode == 0 else None


class Lifecycle(ServerCase):
    """create → up → STARTING → HEALTHY → players → rcon → resources →
    compose replace while running → stop → down → remove (§12)."""

    def test_full_lifecycle(self):
        sid = self.new_id("life")
        game, rcon = free_port(), free_port()
        text = compose_yaml(sid, game, rcon, {"RCON_PASSWORD": f"pw-{RUN}"})

        # create (§12.9): verbatim file, data/, nothing started
        self.assertEqual(self.create(sid, text), {
            "message": f"Server '{sid}' created successfully", "game_port": game,
            "rcon_port": rcon})
        with open(os.path.join(self.server_dir(sid), "docker-compose.yml")) as f:
            self.assertEqual(f.read(), text)
        self.assertTrue(os.path.isdir(os.path.join(self.server_dir(sid), "data")))
        self.assertEqual(self.status(sid), "EXISTS")

        # list and info (§12.1, §12.2) read only the compose files
        r = self.api("GET", "/")
        self.assertEqual(r.status, 200, r)
        mine = [s for s in r.json() if s["id"] == sid]
        self.assertEqual(mine, [{"id": sid, "name": sid, "serverType": "VANILLA",
                                 "gameVersion": "1.21.1", "gamePort": game,
                                 "maxMemoryBytes": 1 << 30, "rconPort": rcon,
                                 "javaVersion": 0}])
        r = self.api("GET", f"/{sid}")
        self.assertEqual(r.json(), mine[0])

        # wrong states before up: 409 with the reference's status text
        for path, what in (("memory", "memory monitoring"), ("cpu_percent", "CPU monitoring"),
                           ("iostats", "I/O stats")):
            r = self.api("GET", f"/{sid}/{path}")
            self.assertDetail(r, 409, f"Server '{sid}' {what} not available "
                              "(status: MCServerStatus.EXISTS)")
        self.assertDetail(self.api("GET", f"/{sid}/players"), 409,
                          f"Server '{sid}' players not available - server must be healthy "
                          "(current status: MCServerStatus.EXISTS)")
        self.assertDetail(self.api("POST", f"/{sid}/rcon", {"command": "list"}), 409,
                          f"Server '{sid}' must be healthy to send RCON commands "
                          "(current status: MCServerStatus.EXISTS)")

        # up: STARTING (no healthcheck in the file: the image's own) → HEALTHY
        self.op(sid, "up")
        seen = self.wait_status(sid, "HEALTHY")
        self.assertEqual(seen[0], "STARTING", seen)

        # players and RCON (§12.5, §12.11), direct RCON with RCON_PASSWORD
        self.assertEqual(self.api("GET", f"/{sid}/players").json(), {"onlinePlayers": []})
        r = self.api("POST", f"/{sid}/rcon", {"command": "mcsim join Alice"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["command"], "mcsim join Alice")
        self.assertIn("Alice", r.json()["result"])
        self.api("POST", f"/{sid}/rcon", {"command": "mcsim join Bob"})
        self.assertEqual(self.api("GET", f"/{sid}/players").json(),
                         {"onlinePlayers": ["Alice", "Bob"]})
        r = self.api("POST", f"/{sid}/rcon", {"command": "list"})
        self.assertEqual(r.json(), {"result": "There are 2 of a max of 20 players online: "
                                    "Alice, Bob", "command": "list"})
        r = self.api("POST", f"/{sid}/rcon", {"command": "mcsim flood 20000"})
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(len(r.json()["result"]), 19000)  # several RCON packets
        self.assertEqual(self.api("POST", f"/{sid}/rcon", {"command": ""}).status, 422)
        logs = docker("logs", f"mc-{sid}").stdout
        direct = re.findall(r"RCON Client /([0-9.]+)", logs)
        self.assertTrue(direct and all(ip != "127.0.0.1" for ip in direct), direct)

        # resources (§12.4): what the kernel reports for this container
        cpu = self.api("GET", f"/{sid}/cpu_percent")
        self.assertEqual(cpu.status, 200, cpu)
        self.assertIsInstance(cpu.json()["cpuPercentage"], float)
        self.assertGreater(cpu.json()["cpuPercentage"], 0.0)    # mcsim burns ~3 %
        self.assertLess(cpu.json()["cpuPercentage"], 400.0)
        mem = self.api("GET", f"/{sid}/memory").json()["memoryUsageBytes"]
        self.assertGreater(mem, 16 << 20)                      # its 48 MiB heap, touched
        self.assertLess(mem, 1 << 30)
        io = self.api("GET", f"/{sid}/iostats").json()
        self.assertEqual(set(io), {"diskReadBytes", "diskWriteBytes", "networkReceiveBytes",
                                   "networkSendBytes"})
        self.assertGreaterEqual(io["diskReadBytes"], 0)   # this kernel's blkio reads 0
        self.assertGreaterEqual(io["diskWriteBytes"], 0)
        self.assertGreater(io["networkReceiveBytes"], 0)  # our RCON traffic, health pings
        self.assertGreater(io["networkSendBytes"], 0)
        du = self.api("GET", f"/{sid}/disk-usage").json()
        self.assertGreater(du["diskUsageBytes"], 0)        # server.properties, logs, …
        self.assertGreater(du["diskTotalBytes"], du["diskAvailableBytes"])
        self.assertGreater(du["diskAvailableBytes"], 0)

        # compose replace while running (§12.7): invalid text refused before anything stops
        before = self.container_started_at(sid)
        for bad in ("services: [\n", compose_yaml(sid, game, rcon, container="mc-other"),
                    compose_yaml(sid, game, rcon, image="nginx:latest")):
            self.assertDetail(self.api("POST", f"/{sid}/compose", {"yaml_content": bad}), 500,
                              "Failed to update compose configuration: Invalid compose YAML "
                              "or doesn't meet Minecraft server requirements")
        self.assertEqual(self.container_started_at(sid), before)
        with open(os.path.join(self.server_dir(sid), "docker-compose.yml")) as f:
            self.assertEqual(f.read(), text)

        # a valid one: down, write verbatim, up. This file publishes no RCON host
        # port and has no password, so RCON must fall back to `exec rcon-cli`.
        text2 = compose_yaml(sid, game, rcon, {"MOTD": '"replaced"'}, rcon_published=False)
        r = self.api("POST", f"/{sid}/compose", {"yaml_content": text2})
        self.assertEqual(r.json(), {"message": f"Server '{sid}' compose configuration "
                                    "updated successfully"})
        with open(os.path.join(self.server_dir(sid), "docker-compose.yml")) as f:
            self.assertEqual(f.read(), text2)
        self.assertNotEqual(self.container_started_at(sid), before)   # recreated
        r = self.api("GET", f"/{sid}/compose")
        self.assertEqual(r.json(), {"yaml_content": text2})
        self.wait_status(sid, "HEALTHY")
        self.assertEqual(self.api("GET", f"/{sid}/players").json(), {"onlinePlayers": []})
        r = self.api("POST", f"/{sid}/rcon", {"command": "mcsim join Carol"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.api("GET", f"/{sid}/players").json(), {"onlinePlayers": ["Carol"]})
        logs = docker("logs", f"mc-{sid}").stdout
        self.assertIn("RCON Client /127.0.0.1", logs)   # rcon-cli inside the container

        # RCON timeout (DECISIONS): 504 with a clear detail, config rcon.timeout_seconds=3
        r = self.api("POST", f"/{sid}/rcon", {"command": "mcsim freeze 6"})
        self.assertEqual(r.status, 200, r)      # answers, then hangs its server thread
        t0 = time.monotonic()
        r = self.api("POST", f"/{sid}/rcon", {"command": "list"})
        self.assertDetail(r, 504, "Failed to send RCON command: RCON did not answer in time: "
                          "no answer within 3 s")
        self.assertLess(time.monotonic() - t0, 5.5)
        time.sleep(max(0.0, 6.5 - (time.monotonic() - t0)))   # the thread wakes up again

        # stop → CREATED, and what CREATED refuses
        self.op(sid, "stop")
        self.assertEqual(self.status(sid), "CREATED")
        self.assertDetail(self.api("GET", f"/{sid}/players"), 409,
                          f"Server '{sid}' players not available - server must be healthy "
                          "(current status: MCServerStatus.CREATED)")
        self.assertDetail(self.api("POST", f"/{sid}/compose", {"yaml_content": text}), 500,
                          f"Failed to update compose configuration: Cannot update server "
                          f"{sid} while it is created")
        self.assertDetail(self.api("POST", f"/{sid}/operations", {"action": "remove"}), 500,
                          f"Operation failed: Cannot remove server {sid} while it is created")
        self.assertTrue(os.path.exists(os.path.join(self.server_dir(sid), "docker-compose.yml")))

        # start, restart (case-insensitive action), down, remove
        self.op(sid, "start")
        self.assertIn(self.status(sid), ("RUNNING", "STARTING", "HEALTHY"))
        r = self.api("POST", f"/{sid}/operations", {"action": "RESTART"})
        self.assertEqual(r.json(), {"message": f"Server '{sid}' restart operation completed"})
        self.op(sid, "down")
        self.assertEqual(self.status(sid), "EXISTS")
        self.assertNotEqual(docker("inspect", f"mc-{sid}").returncode, 0)
        self.op(sid, "remove")
        self.assertFalse(os.path.exists(self.server_dir(sid)))
        self.assertEqual(self.status(sid), "REMOVED")
        self.assertDetail(self.api("GET", f"/{sid}"), 404, f"Server '{sid}' not found")


class Errors(ServerCase):
    """Every §12 error for bad input and wrong states, with the disk unchanged."""

    def test_create_refusals_change_nothing(self):
        sid = self.new_id("one")
        game, rcon = free_port(), free_port()
        self.create(sid, compose_yaml(sid, game, rcon))
        before = self.tree()
        other = self.new_id("two")
        cases = [
            (sid, compose_yaml(sid, game, rcon), 409, f"Server '{sid}' already exists"),
            (sid.upper(), compose_yaml(sid.upper(), free_port(), free_port()), 409,
             f"Server '{sid.upper()}' already exists"),
            (other, "services:\n  mc:\n    image: busybox\n", 400,
             "Failed to extract ports from YAML: Invalid container name in compose file"),
            (other, compose_yaml(other, free_port(), free_port(), image="nginx"), 400,
             "Failed to extract ports from YAML: Service must use itzg/minecraft-server image"),
            (other, compose_yaml(other, game, rcon), 409,
             f"Port conflicts detected: Game port {game} is already used by server '{sid}'; "
             f"RCON port {rcon} is already used by server '{sid}'"),
            (other, compose_yaml(other, free_port(), free_port(), container="mc-x"), 400,
             "Invalid compose YAML or doesn't meet Minecraft server requirements"),
            ("a.b", compose_yaml("a.b", free_port(), free_port()), 400,
             "Invalid server id 'a.b': 1 to 50 letters, digits, '_' or '-'"),
            ("x" * 51, compose_yaml("x" * 51, free_port(), free_port()), 400,
             f"Invalid server id '{'x' * 51}': 1 to 50 letters, digits, '_' or '-'"),
        ]
        for target, text, status, detail in cases:
            with self.subTest(target=target, detail=detail):
                self.assertDetail(self.api("POST", f"/{target}", {"yaml_content": text}),
                                  status, detail)
                self.assertEqual(self.tree(), before)
        r = self.api("POST", f"/{other}", {"yaml_content": "services: [\n"})
        self.assertEqual(r.status, 400)
        self.assertTrue(r.json()["detail"].startswith("Failed to extract ports from YAML: "))
        self.assertEqual(self.api("POST", f"/{other}", {}).status, 422)
        self.assertEqual(self.api("POST", f"/{other}", {"yaml_content": 5}).status, 422)
        self.assertEqual(self.tree(), before)

    def test_unknown_and_invalid_ids(self):
        for sid in ("nothing-here", "a.b", "a b", "x" * 60):
            with self.subTest(sid=sid):
                path = sid.replace(" ", "%20")
                self.assertDetail(self.api("GET", f"/{path}"), 404, f"Server '{sid}' not found")
                self.assertEqual(self.status(path), "REMOVED")
                sid = path
                self.assertEqual(self.api("GET", f"/{sid}/compose").status, 404)
                self.assertEqual(self.api("GET", f"/{sid}/disk-usage").status, 404)
                self.assertEqual(self.api("POST", f"/{sid}/operations",
                                          {"action": "remove"}).status, 404)
                self.assertEqual(self.api("POST", f"/{sid}/compose",
                                          {"yaml_content": "x"}).status, 404)
                self.assertEqual(self.api("POST", f"/{sid}/rcon",
                                          {"command": "list"}).status, 404)

    def test_operations_and_compose_errors(self):
        sid = self.new_id("ops")
        game, rcon = free_port(), free_port()
        text = compose_yaml(sid, game, rcon)
        self.create(sid, text)
        before = self.tree()
        self.assertDetail(self.api("POST", f"/{sid}/operations", {"action": "explode"}), 400,
                          "Invalid operation: explode")
        self.assertEqual(self.api("POST", f"/{sid}/operations", {}).status, 422)
        # compose of an EXISTS server: validated, then refused with nothing written
        self.assertDetail(self.api("POST", f"/{sid}/compose",
                                   {"yaml_content": compose_yaml("other", game, rcon)}), 500,
                          "Failed to update compose configuration: Invalid compose YAML or "
                          "doesn't meet Minecraft server requirements")
        self.assertEqual(self.tree(), before)
        # data/ missing → 500 with the reference's text
        os.rmdir(os.path.join(self.server_dir(sid), "data"))
        self.assertDetail(self.api("GET", f"/{sid}/disk-usage"), 500,
                          f"Failed to get server disk usage: Data directory does not exist for "
                          f"server {sid}")
        # remove without a container deletes the project directory
        self.op(sid, "remove")
        self.assertFalse(os.path.exists(self.server_dir(sid)))


class DockerDown(ServerCase):
    """Docker unreachable → 503 with a clear detail (issue #3)."""
    STACK_ENV = {"DOCKER__SOCKET": "/nonexistent/docker.sock"}

    def test_503(self):
        sid = self.new_id("down")
        self.create(sid, compose_yaml(sid, free_port(), free_port()))
        r = self.api("GET", f"/{sid}/status")
        self.assertEqual(r.status, 503, r)
        self.assertTrue(r.json()["detail"].startswith(
            "Failed to get server status: Docker is not reachable"), r)
        for path in ("memory", "cpu_percent", "iostats", "players"):
            self.assertEqual(self.api("GET", f"/{sid}/{path}").status, 503, path)
        r = self.api("POST", f"/{sid}/operations", {"action": "remove"})
        self.assertEqual(r.status, 503, r)   # never delete without knowing
        self.assertTrue(os.path.isdir(self.server_dir(sid)))
        r = self.api("POST", f"/{sid}/operations", {"action": "up"})
        self.assertEqual(r.status, 503, r)
        self.assertTrue(r.json()["detail"].startswith("Operation failed: Docker is not "
                                                      "reachable"), r)
        # what needs no docker still works
        self.assertEqual(self.api("GET", "/").status, 200)
        self.assertEqual(self.api("GET", f"/{sid}/compose").status, 200)
        self.assertEqual(self.status("nothing"), "REMOVED")


if __name__ == "__main__":
    unittest.main(verbosity=2)
