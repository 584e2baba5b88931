#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mc-admin-ws through the real nginx (API-core §4.6, §7.2, §7.3, §17), driven by an
independent WebSocket client (Debian's python3-websockets): the login-code flow end to
end, and consoles against Minecraft simulator containers on the real dockerd
(itzg/minecraft-server:mcsim, tests/mcsim): snapshot, live lines, command echo, the
RCON filter, refresh, a restart and a removal while connected, bad tokens and bad
messages, and the limits' close codes. Every container and directory it makes is
removed, also when a test fails."""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, StackTestCase, main  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError:  # pragma: no cover
    sys.stderr.write("test_ws.py needs Debian's python3-websockets (run it with /usr/bin/python3)\n")
    sys.exit(1)

DOCKER = "/usr/bin/docker"
COMPOSE = shutil.which("docker-compose", path="/usr/bin:/usr/local/bin") or "docker-compose"
RUN = uuid.uuid4().hex[:8]
ENV = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
STACK_ENV = {
    "WS__MAX_CONSOLE_PER_SERVER": "3",
    "WS__MAX_MESSAGE_BYTES": "4096",
    "WS__MESSAGES_PER_SECOND": "5",
    "WS__MESSAGE_BURST": "20",
    "WS__LOGIN_POLL_MS": "100",
}


def run(coro, timeout=90):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def sh(*argv, check=True, timeout=120):
    r = subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


class Client:
    """One WebSocket, with JSON helpers."""

    def __init__(self, ws):
        self.ws = ws

    async def recv(self, timeout=10):
        return await asyncio.wait_for(self.ws.recv(), timeout)

    async def json(self, timeout=10):
        return json.loads(await self.recv(timeout))

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def quiet(self, seconds):
        """Nothing arrives for this long."""
        try:
            m = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"unexpected message {m!r}")

    async def until(self, pred, timeout=30):
        """Messages until pred(msg) holds; returns them all."""
        got = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"condition not met; got {got!r}"[:4000])
            m = await self.json(left)
            got.append(m)
            if pred(m):
                return got

    async def closed(self, timeout=10):
        """Wait until the server ends the connection; its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.exceptions.ConnectionClosed:
            pass
        return self.ws.close_code


def text_of(msgs):
    return "".join(m.get("content", "") for m in msgs if m.get("type") in ("log", "logs_refreshed"))


class WsStack(StackTestCase):
    STACK_ENV = STACK_ENV

    def url(self, path):
        return f"ws://127.0.0.1:{self.stack.port}{path}"

    def connect(self, path, **kw):
        return websockets.connect(self.url(path), open_timeout=10, close_timeout=5,
                                  max_size=64 << 20, **kw)

    def console(self, server_id, token=None):
        token = self.stack.master if token is None else token
        return self.connect(f"/api/servers/{server_id}/console?token="
                            + urllib.parse.quote(token, safe=""))

    def verify(self, username, code, auth=None):
        headers = {} if auth is False else {"Authorization": auth or f"Bearer {self.stack.master}"}
        return self.stack.request("POST", "/api/auth/verifyCode", headers=headers,
                                  json_body={"username": username, "code": code})


class LoginCode(WsStack):
    """§7.2, §7.3, §17.1 through nginx, mc-admin-api and mc-admin-ws."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack.create_user("erin", "erin-pw", "admin")

    def test_code_verified_jwt_accepted(self):
        async def go():
            async with self.connect("/api/auth/code") as raw:
                ws = Client(raw)
                m = await ws.json()
                self.assertEqual(list(m), ["type", "code", "timeout"])
                self.assertEqual(m["type"], "code")
                self.assertEqual(m["timeout"], 60)
                self.assertRegex(m["code"], r"^[0-9]{8}$")
                code = m["code"]
                await ws.send("ping")
                self.assertEqual(await ws.recv(), "pong")

                r = self.verify("erin", code)
                self.assertEqual((r.status, r.json()), (200, {"result": "success"}))
                t0 = time.monotonic()
                v = await ws.json()
                print(f"verifyCode answered → verified on the socket: "
                      f"{(time.monotonic() - t0) * 1000:.0f} ms", file=sys.stderr)
                self.assertEqual(list(v), ["type", "access_token"])
                self.assertEqual(v["type"], "verified")
                me = self.stack.request("GET", "/api/user/me", token=v["access_token"])
                self.assertEqual(me.status, 200)
                self.assertEqual((me.json()["username"], me.json()["role"]), ("erin", "admin"))

                # rotated at once (DECISIONS): a new code, the old one dead
                n = await ws.json()
                self.assertEqual(n["type"], "code")
                self.assertNotEqual(n["code"], code)
                r = self.verify("erin", code)
                self.assertEqual((r.status, r.json()), (400, {"detail": "Invalid username or code"}))
                # the socket stays open; other text is ignored
                await ws.send("hello")
                await ws.quiet(0.5)
                new_code = n["code"]
            # closed: its code disappears at once
            r = self.verify("erin", new_code)
            self.assertEqual((r.status, r.json()), (400, {"detail": "Invalid username or code"}))
        run(go())

    def test_verify_code_errors(self):
        async def go():
            async with self.connect("/api/auth/code") as raw:
                code = (await Client(raw).json())["code"]
                r = self.verify("erin", code, auth=False)
                self.assertEqual(r.status, 422)
                self.assertEqual(r.json()["detail"][0]["loc"], ["header", "authorization"])
                for auth in ("Bearer nope", "Bearer" + self.stack.master, "Bearer"):
                    r = self.verify("erin", code, auth=auth)
                    self.assertEqual((r.status, r.json()),
                                     (403, {"detail": "This endpoint requires a master token"}))
                r = self.verify("nobody", code)
                self.assertEqual((r.status, r.json()), (400, {"detail": "Invalid username or code"}))
                r = self.stack.request("POST", "/api/auth/verifyCode", json_body={"username": "x"},
                                       token=self.stack.master)
                self.assertEqual(r.status, 422)
                # none of them pushed anything
                await Client(raw).quiet(0.5)
        run(go())


class Console(WsStack):
    """§17.2 against simulator containers."""

    servers = []

    @classmethod
    def make_server(cls, sid, pipe=True, extra=""):
        d = os.path.join(cls.stack.state, "servers", sid)
        os.makedirs(os.path.join(d, "data"))
        env = {
            "EULA": "TRUE", "VERSION": "1.21.1", "MCSIM_STARTUP_DELAY_MS": "300",
            "UID": str(os.getuid()), "GID": str(os.getgid()),
        }
        if pipe:
            env["CREATE_CONSOLE_IN_PIPE"] = "true"
        with open(os.path.join(d, "docker-compose.yml"), "w") as f:
            f.write("services:\n  mc:\n    image: itzg/minecraft-server:mcsim\n"
                    f"    container_name: mc-{sid}\n    environment:\n"
                    + "".join(f'      {k}: "{v}"\n' for k, v in env.items())
                    + '    ports:\n      - "25565"\n      - "25575"\n'
                    "    volumes:\n      - ./data:/data\n" + extra)
        cls.servers.append(sid)
        sh(COMPOSE, "--project-directory", d, "-f", os.path.join(d, "docker-compose.yml"),
           "up", "-d")
        return d

    @classmethod
    def compose(cls, sid, *args):
        d = os.path.join(cls.stack.state, "servers", sid)
        return sh(COMPOSE, "--project-directory", d, "-f", os.path.join(d, "docker-compose.yml"),
                  *args)

    @classmethod
    def wait_done(cls, sid):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            r = sh(DOCKER, "logs", f"mc-{sid}", check=False)
            if "RCON running" in r.stdout:
                return
            time.sleep(0.2)
        raise AssertionError(f"mc-{sid} did not start")

    @classmethod
    def setUpClass(cls):
        sh(os.path.join(SRCDIR, "tests", "mcsim", "build-image.sh"), timeout=300)
        super().setUpClass()
        try:
            cls.sid = f"wsit{RUN}a"
            cls.nopipe = f"wsit{RUN}b"
            cls.rot = f"wsit{RUN}c"
            cls.make_server(cls.sid)
            cls.make_server(cls.nopipe, pipe=False)
            # a TTY (raw log stream) and a json-file that rotates every 64 KB
            cls.make_server(cls.rot, extra="    tty: true\n    logging:\n"
                            "      driver: json-file\n"
                            '      options: {max-size: "64k", max-file: "8"}\n')
            for sid in (cls.sid, cls.nopipe, cls.rot):
                cls.wait_done(sid)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for sid in cls.servers:
            if os.path.isfile(os.path.join(cls.stack.state, "servers", sid, "docker-compose.yml")):
                cls.compose(sid, "down", "-v", "-t", "1")
            sh(DOCKER, "rm", "-f", f"mc-{sid}", check=False)
        cls.servers = []
        super().tearDownClass()

    async def rcon_session(self, sid):
        """An RCON client connects and leaves: the server logs RCON lines."""
        await asyncio.to_thread(sh, DOCKER, "exec", f"mc-{sid}", "rcon-cli", "list")

    def test_bad_tokens_403(self):
        async def go():
            for token in ("", "nope", self.stack.master + "x"):
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                    async with self.console(self.sid, token):
                        pass
                self.assertEqual(e.exception.status_code, 403)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                async with self.connect(f"/api/servers/{self.sid}/console"):
                    pass
            self.assertEqual(e.exception.status_code, 403)
        run(go())

    def test_token_not_logged(self):
        """The console token travels in the query string: nginx must not log it."""
        async def go():
            async with self.console(self.sid) as raw:
                await Client(raw).json()
        run(go())
        time.sleep(0.2)
        log = self.stack.file("nginx/access.log")
        self.assertIn("/api/system/health", log)	# the log is written at all
        self.assertNotIn(self.stack.master, log)
        self.assertNotIn(self.stack.master, self.stack.file("logs/ws.log"))

    def test_unknown_server(self):
        async def go():
            for sid, shown in (("nosuch", "nosuch"), ("a..b", "a..b")):
                async with self.console(sid) as raw:
                    ws = Client(raw)
                    self.assertEqual(await ws.json(),
                                     {"type": "error", "message": f"服务器 '{shown}' 未找到"})
                    self.assertEqual(await ws.closed(), 1000)
        run(go())

    def test_snapshot_live_command_filter_refresh(self):
        async def go():
            await self.rcon_session(self.sid)
            async with self.console(self.sid) as raw:
                ws = Client(raw)
                snap = await ws.json()
                self.assertEqual(snap["type"], "log")
                self.assertIn('Done (', snap["content"])
                self.assertIn("RCON running on", snap["content"])
                self.assertNotIn("[RCON Client", snap["content"])
                self.assertNotIn("[RCON Listener", snap["content"])

                # a command is echoed through the log, with no reply of its own
                word = uuid.uuid4().hex
                await ws.send({"type": "command", "command": f"  say {word}  "})
                got = await ws.until(lambda m: word in m.get("content", ""))
                self.assertTrue(all(m["type"] == "log" for m in got), got)
                self.assertIn(f"[Server] {word}\n", text_of(got))

                # every line once: N numbered lines arrive exactly once each, in order
                await ws.send({"type": "command", "command": "mcsim spam 300"})
                # (the command's own reply is the last line it prints)
                got = await ws.until(lambda m: "wrote 300 log lines" in m.get("content", ""))
                nums = [int(n) for n in re.findall(r"mcsim spam line (\d+) of 300", text_of(got))]
                self.assertEqual(nums, list(range(1, 301)))

                # RCON lines: hidden with the filter, shown without
                await self.rcon_session(self.sid)
                await ws.quiet(1.5)
                await ws.send({"type": "set_filter", "filter_rcon": False})
                self.assertEqual(await ws.json(), {"type": "filter_updated", "filter_rcon": False})
                await self.rcon_session(self.sid)
                got = await ws.until(lambda m: "[RCON Client" in m.get("content", ""))
                await ws.send({"type": "refresh_logs"})
                ref = await ws.until(lambda m: m["type"] == "logs_refreshed")
                self.assertIn("[RCON Listener", ref[-1]["content"])
                self.assertIn(word, ref[-1]["content"])
                await ws.send({"type": "set_filter", "filter_rcon": True})
                self.assertEqual(await ws.json(), {"type": "filter_updated", "filter_rcon": True})
                await ws.send({"type": "refresh_logs"})
                ref = await ws.until(lambda m: m["type"] == "logs_refreshed")
                self.assertNotIn("[RCON", ref[-1]["content"])
        run(go())

    def test_rotation_tty(self):
        """Docker 20.10's follow repeats lines (and may skip some) when the json-file
        rotates under heavy output: no line reaches the console twice or out of order,
        and refresh_logs, which reads the log again, has every one."""
        n = 2000

        async def go():
            async with self.console(self.rot) as raw:
                ws = Client(raw)
                self.assertEqual((await ws.json())["type"], "log")
                await asyncio.to_thread(sh, DOCKER, "exec", "--user", str(os.getuid()),
                                        f"mc-{self.rot}", "mc-send-to-console", "mcsim", "spam",
                                        str(n))
                text = ""
                try:
                    while f"spam line {n} of {n}" not in text:
                        m = await ws.json(5)
                        text += m.get("content", "")
                except asyncio.TimeoutError:
                    pass    # docker skipped the last lines: the refresh has them
                nums = [int(x) for x in re.findall(rf"mcsim spam line (\d+) of {n}\r\n", text)]
                self.assertGreater(len(nums), 0)
                self.assertEqual(nums, sorted(set(nums)), "a line came twice or out of order")
                print(f"rotation: {len(nums)} of {n} lines came live", file=sys.stderr)
                await ws.send({"type": "refresh_logs"})
                ref = await ws.until(lambda m: m["type"] == "logs_refreshed")
                nums = [int(x) for x in re.findall(rf"mcsim spam line (\d+) of {n}\r\n",
                                                   ref[-1]["content"])]
                self.assertEqual(nums, list(range(1, n + 1)))
        run(go())

    def test_bad_messages(self):
        cases = [
            ("not json", {"type": "info", "message": "消息格式错误"}),
            ("[]", {"type": "info", "message": "消息格式错误"}),
            ({}, {"type": "info", "message": "消息中缺少type"}),
            ({"type": ""}, {"type": "info", "message": "消息中缺少type"}),
            ({"type": "command", "command": 42}, {"type": "info", "message": "消息格式错误"}),
            ({"type": "set_filter", "filter_rcon": "no"}, {"type": "info", "message": "消息格式错误"}),
        ]

        async def go():
            async with self.console(self.sid) as raw:
                ws = Client(raw)
                self.assertEqual((await ws.json())["type"], "log")
                for msg, answer in cases:
                    await ws.send(msg)
                    self.assertEqual(await ws.json(), answer)
                    await asyncio.sleep(0.25)	# the rate limit is not this test's
                for msg in ({"type": "dance"}, {"type": "command", "command": "   "}):
                    await ws.send(msg)
                await ws.quiet(1)
        run(go())

    def test_command_needs_pipe_and_running_server(self):
        async def go():
            async with self.console(self.nopipe) as raw:
                ws = Client(raw)
                self.assertEqual((await ws.json())["type"], "log")
                await ws.send({"type": "command", "command": "list"})
                got = await ws.until(lambda m: m["type"] == "info")
                self.assertEqual(got[-1], {"type": "info", "message":
                                 "发送指令需要在Compose文件中设置环境变量CREATE_CONSOLE_IN_PIPE=true"})
                await asyncio.to_thread(sh, DOCKER, "stop", "-t", "5", f"mc-{self.nopipe}")
                await ws.until(lambda m: "Stopping the server" in m.get("content", ""))
                await ws.send({"type": "command", "command": "list"})
                got = await ws.until(lambda m: m["type"] == "info")
                self.assertEqual(got[-1], {"type": "info",
                                           "message": f"Server {self.nopipe} is not running"})
                # the container is removed while connected: the log is gone (§17.2)
                await asyncio.to_thread(self.compose, self.nopipe, "down", "-t", "1")
                got = await ws.until(lambda m: m["type"] == "error", timeout=15)
                self.assertEqual(got[-1], {"type": "error", "message": "控制台日志未找到"})
            # a new connection: no container any more
            async with self.console(self.nopipe) as raw:
                ws = Client(raw)
                self.assertEqual(await ws.json(), {"type": "error", "message":
                                 f"Connection error: Server {self.nopipe} is not created"})
                self.assertEqual(await ws.closed(), 1000)
        run(go())

    def test_restart_while_connected(self):
        async def go():
            async with self.console(self.sid) as raw:
                ws = Client(raw)
                self.assertEqual((await ws.json())["type"], "log")
                await asyncio.to_thread(sh, DOCKER, "restart", "-t", "5", f"mc-{self.sid}")
                got = await ws.until(lambda m: "RCON running on" in m.get("content", ""),
                                     timeout=30)
                text = text_of(got)
                self.assertIn("Stopping the server", text)
                self.assertLess(text.index("Stopping the server"), text.index("[init]"))
                self.assertEqual(text.count("Done ("), 1, text)
                # and it takes commands again
                word = uuid.uuid4().hex
                await ws.send({"type": "command", "command": f"say {word}"})
                await ws.until(lambda m: word in m.get("content", ""))
        run(go())

    def test_limits(self):
        async def go():
            # per server: the 4th console of one server is refused with 1013
            async with self.console(self.sid) as a, self.console(self.sid.upper()) as b, \
                    self.console(self.sid) as c:
                for raw in (a, b, c):
                    self.assertEqual((await Client(raw).json())["type"], "log")
                async with self.console(self.sid) as d:
                    self.assertEqual(await Client(d).closed(), 1013)
            # a message larger than ws.max_message_bytes: 1009
            async with self.console(self.sid) as raw:
                ws = Client(raw)
                await ws.json()
                await ws.send({"type": "command", "command": "x" * 5000})
                self.assertEqual(await ws.closed(), 1009)
            # too many messages too fast: 1008
            async with self.console(self.sid) as raw:
                ws = Client(raw)
                await ws.json()
                for _ in range(40):
                    await ws.send({"type": "dance"})
                self.assertEqual(await ws.closed(), 1008)
        run(go())


class Shutdown(WsStack):
    """SIGTERM closes every WebSocket with 1012, and the daemon exits."""

    def test_sigterm(self):
        async def go():
            async with self.connect("/api/auth/code") as raw:
                ws = Client(raw)
                await ws.json()
                with open(os.path.join(self.stack.state, "run", "ws.pid")) as f:
                    pid = int(f.read())
                os.kill(pid, signal.SIGTERM)
                self.assertEqual(await ws.closed(), 1012)
            end = time.monotonic() + 10
            while time.monotonic() < end:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                await asyncio.sleep(0.05)
            self.fail("mc-admin-ws did not exit after SIGTERM")
        run(go())


if __name__ == "__main__":
    main()
