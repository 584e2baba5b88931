#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The endpoints of the foundation (API-core §1–§10) through the real nginx and
the real mc-admin-api: statuses, bodies and headers as the contract gives them,
bad input refused with the database unchanged."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (MC_ADMIN_API, Stack, StackTestCase, forge_jwt, main,  # noqa: E402
                     multipart)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
ISO_NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?$")


class Shell(StackTestCase):
    """Routes outside /api served by nginx (§2.1)."""

    def test_spa_fallback(self):
        for path in ("/", "/login", "/overview", "/server/survival/files", "/admin/users"):
            r = self.stack.request("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertIn(b"<title>mc-admin</title>", r.body)

    def test_static_and_robots(self):
        r = self.stack.request("GET", "/static/placeholder.css")
        self.assertEqual(r.status, 200)
        r = self.stack.request("GET", "/assets/missing.js")
        self.assertEqual(r.status, 404)
        r = self.stack.request("GET", "/robots.txt")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        self.assertTrue(r.body.startswith(b"User-agent"))

    def test_other_methods_on_shell_routes(self):
        self.assertEqual(self.stack.request("POST", "/overview", body=b"x").status, 405)


class Conventions(StackTestCase):
    """§1: errors, trailing slashes, CORS, body limits, HEAD."""

    def test_unknown_path_and_method(self):
        self.assertDetail(self.stack.request("GET", "/api/does/not/exist"), 404, "Not Found")
        self.assertDetail(self.stack.request("GET", "/api"), 404, "Not Found")
        self.assertDetail(self.stack.request("PUT", "/api/user/me"), 405, "Method Not Allowed")
        self.assertDetail(self.stack.request("DELETE", "/api/system/health"), 405,
                          "Method Not Allowed")

    def test_trailing_slash_answered_directly(self):
        for path in ("/api/system/health", "/api/system/health/"):
            r = self.stack.request("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.body, b'{"status":"healthy"}')
            self.assertEqual(r.headers["content-type"], "application/json")
        r = self.stack.request("GET", "/api/admin/users/", token=self.stack.master)
        self.assertEqual(r.status, 200)

    def test_head(self):
        r = self.stack.request("HEAD", "/api/system/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_cors(self):
        r = self.stack.request("OPTIONS", "/api/admin/users", headers={
            "Origin": "http://ui.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"OK")
        self.assertEqual(r.headers["access-control-allow-origin"], "http://ui.example")
        self.assertEqual(r.headers["access-control-allow-methods"],
                         "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
        self.assertEqual(r.headers["access-control-allow-headers"], "authorization,content-type")
        self.assertEqual(r.headers["access-control-max-age"], "600")
        self.assertEqual(r.headers["access-control-allow-credentials"], "true")
        r = self.stack.request("GET", "/api/system/health", headers={"Origin": "http://x"})
        self.assertEqual(r.headers["access-control-allow-origin"], "*")
        r = self.stack.request("GET", "/api/system/health")
        self.assertNotIn("access-control-allow-origin", r.headers)

    def test_oversized_bodies(self):
        before = self.stack.db_rows()
        # above the API's JSON limit (1 MiB) but within nginx's (2 MiB): the API answers
        body = b'{"username":"' + b"a" * (1536 * 1024) + b'","password":"x"}'
        r = self.stack.request("POST", "/api/admin/users", body=body, token=self.stack.master,
                               content_type="application/json")
        self.assertDetail(r, 413, "Request body too large")
        # above nginx's limit: nginx answers, still as JSON
        body = b"x" * (3 * 1024 * 1024)
        r = self.stack.request("POST", "/api/admin/users", body=body, token=self.stack.master,
                               content_type="application/json")
        self.assertDetail(r, 413, "Request body too large")
        self.assertUnchanged(before)


class Auth(StackTestCase):
    """§4, §7.1, §8: login, tokens, the master token."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack.create_user("alice", "alice-pw", "owner")
        cls.stack.create_user("bob", "bob-pw", "admin")

    def test_login_multipart_like_the_frontend(self):
        token = self.stack.login("alice", "alice-pw")
        r = self.stack.request("GET", "/api/user/me", token=token)
        self.assertEqual(r.status, 200)
        me = r.json()
        self.assertEqual(list(me), ["username", "role", "id", "created_at"])
        self.assertEqual((me["username"], me["role"]), ("alice", "owner"))
        self.assertRegex(me["created_at"], ISO_Z)

    def test_login_urlencoded(self):
        r = self.stack.request("POST", "/api/auth/token", body="username=bob&password=bob-pw",
                               content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["token_type"], "bearer")
        header, payload, _ = body["access_token"].split(".")
        claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=="))
        self.assertEqual(claims["sub"], "bob")
        self.assertEqual(claims["username"], "bob")
        self.assertEqual(claims["role"], "admin")
        self.assertIsInstance(claims["user_id"], int)
        self.assertRegex(claims["created_at"], r"\+00:00$")
        self.assertGreater(claims["exp"], time.time() + 29 * 86400)   # 30 days by default

    def test_login_wrong_password(self):
        body, ct = multipart([("username", "alice"), ("password", "nope")])
        r = self.stack.request("POST", "/api/auth/token", body=body, content_type=ct)
        self.assertDetail(r, 401, "Incorrect username or password")
        self.assertEqual(r.headers["www-authenticate"], "Bearer")
        body, ct = multipart([("username", "ALICE"), ("password", "alice-pw")])   # case-sensitive
        r = self.stack.request("POST", "/api/auth/token", body=body, content_type=ct)
        self.assertEqual(r.status, 401)

    def test_login_validation(self):
        body, ct = multipart([("username", "alice"), ("password", "")])
        r = self.stack.request("POST", "/api/auth/token", body=body, content_type=ct)
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json(), {"detail": [{"type": "missing", "loc": ["body", "password"],
                                                "msg": "Field required", "input": None}]})
        r = self.stack.request("POST", "/api/auth/token", json_body={"username": "alice",
                                                                    "password": "alice-pw"})
        self.assertEqual(r.status, 422)
        self.assertEqual(len(r.json()["detail"]), 2)
        body, ct = multipart([("grant_type", "client_credentials"), ("username", "alice"),
                              ("password", "alice-pw")])
        r = self.stack.request("POST", "/api/auth/token", body=body, content_type=ct)
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["type"], "string_pattern_mismatch")

    def test_login_malformed_multipart(self):
        r = self.stack.request("POST", "/api/auth/token", body=b"--zz\r\nbroken",
                               content_type="multipart/form-data; boundary=zz")
        self.assertEqual(r.status, 400)
        self.assertIsInstance(r.json()["detail"], str)

    def test_master_token_is_system_owner(self):
        r = self.stack.request("GET", "/api/user/me", token=self.stack.master)
        self.assertEqual(r.status, 200)
        me = r.json()
        self.assertEqual((me["id"], me["username"], me["role"]), (0, "SYSTEM", "owner"))
        self.assertRegex(me["created_at"], ISO_NAIVE)

    def test_bad_credentials(self):
        cases = [
            ({}, "Not authenticated"),
            ({"Authorization": "Basic YWxpY2U6eA=="}, "Not authenticated"),
            ({"Authorization": "Bearer"}, "Not authenticated"),
            ({"Authorization": "Bearer not.a.jwt"}, "Could not validate credentials"),
            ({"Authorization": "Bearer " + self.stack.master + "x"},
             "Could not validate credentials"),
        ]
        for headers, detail in cases:
            r = self.stack.request("GET", "/api/user/me", headers=headers)
            self.assertDetail(r, 401, detail)
            self.assertEqual(r.headers["www-authenticate"], "Bearer")

    def _claims(self, **over):
        uid, name, _, role, created = self.stack.db_rows(
            "SELECT id, username, hashed_password, role, created_at FROM user "
            "WHERE username = 'bob'")[0]
        claims = {"sub": name, "user_id": uid, "username": name, "role": role.lower(),
                  "created_at": created.replace(" ", "T") + "+00:00",
                  "exp": time.time() + 3600.123456}
        claims.update(over)
        return claims

    def test_forged_tokens(self):
        key = self.stack.jwt_secret
        hs = {"alg": "HS256", "typ": "JWT"}
        # a token made elsewhere with the right key and a float exp is accepted
        good = forge_jwt(hs, self._claims(), key)
        self.assertEqual(self.stack.request("GET", "/api/user/me", token=good).status, 200)
        bad = [
            forge_jwt(hs, self._claims(exp=time.time() - 1), key),                  # expired
            forge_jwt(hs, self._claims(), key + "x"),                               # wrong key
            forge_jwt({"alg": "none", "typ": "JWT"}, self._claims(), key, "none"),  # alg none
            forge_jwt({"alg": "HS512", "typ": "JWT"}, self._claims(), key, "HS512"),
            forge_jwt(hs, self._claims(role="superuser"), key),
            forge_jwt(hs, {k: v for k, v in self._claims().items() if k != "exp"}, key),
            good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),             # tampered
        ]
        for tok in bad:
            self.assertDetail(self.stack.request("GET", "/api/user/me", token=tok), 401,
                              "Could not validate credentials")

    def test_deleted_users_token_stops_working(self):
        self.stack.create_user("carol", "carol-pw", "owner")
        token = self.stack.login("carol", "carol-pw")
        self.assertEqual(self.stack.request("GET", "/api/user/me", token=token).status, 200)
        cid = [u["id"] for u in self.stack.request("GET", "/api/admin/users",
                                                   token=self.stack.master).json()
               if u["username"] == "carol"][0]
        r = self.stack.request("DELETE", f"/api/admin/users/{cid}", token=self.stack.master)
        self.assertEqual(r.status, 200)
        self.assertDetail(self.stack.request("GET", "/api/user/me", token=token), 401,
                          "Could not validate credentials")


class Users(StackTestCase):
    """§9: user management, owner only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack.create_user("owner1", "pw-owner", "owner")
        cls.stack.create_user("admin1", "pw-admin", "admin")
        cls.owner = cls.stack.login("owner1", "pw-owner")
        cls.admin = cls.stack.login("admin1", "pw-admin")

    def test_list(self):
        r = self.stack.request("GET", "/api/admin/users", token=self.owner)
        self.assertEqual(r.status, 200)
        users = r.json()
        self.assertEqual([u["id"] for u in users], sorted(u["id"] for u in users))
        for u in users:
            self.assertEqual(list(u), ["username", "role", "id", "created_at"])
            self.assertRegex(u["created_at"], ISO_Z)

    def test_create_and_delete(self):
        r = self.stack.request("POST", "/api/admin/users", token=self.owner,
                               json_body={"username": "temp-user", "password": "pw"})
        self.assertEqual(r.status, 200)
        u = r.json()
        self.assertEqual((u["username"], u["role"]), ("temp-user", "admin"))
        row = self.stack.db_rows(f"SELECT role, hashed_password, created_at FROM user "
                                 f"WHERE id = {int(u['id'])}")[0]
        self.assertEqual(row[0], "ADMIN")
        self.assertTrue(row[1].startswith("$2b$12$"))
        self.assertRegex(row[2], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        self.stack.login("temp-user", "pw")
        r = self.stack.request("DELETE", f"/api/admin/users/{u['id']}", token=self.owner)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"message": "User deleted successfully"})
        self.assertDetail(self.stack.request("DELETE", f"/api/admin/users/{u['id']}",
                                             token=self.owner), 404, "User not found")

    def test_bad_input_changes_nothing(self):
        before = self.stack.db_rows()
        cases = [
            ({"username": "owner1", "password": "x"}, 400),            # exists
            ({"username": "ab", "password": "x"}, 422),
            ({"username": "a" * 51, "password": "x"}, 422),
            ({"username": "newone"}, 422),
            ({"username": "newone", "password": ""}, 422),              # empty password
            ({"username": "newone", "password": "x", "role": "root"}, 422),
            ({"username": 5, "password": "x"}, 422),
            ([1, 2], 422),
        ]
        for body, status in cases:
            r = self.stack.request("POST", "/api/admin/users", token=self.owner, json_body=body)
            self.assertEqual(r.status, status, (body, r))
            if status == 400:
                self.assertEqual(r.json(), {"detail": "Username already exists"})
            else:
                self.assertIsInstance(r.json()["detail"], list)
        r = self.stack.request("POST", "/api/admin/users", token=self.owner, body=b"{oops",
                               content_type="application/json")
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["type"], "json_invalid")
        # malformed JSON is reported before authentication
        r = self.stack.request("POST", "/api/admin/users", body=b"{oops",
                               content_type="application/json")
        self.assertEqual(r.status, 422)
        r = self.stack.request("POST", "/api/admin/users", token=self.owner,
                               body=b'{"username":"newone","password":"x"}',
                               content_type="text/plain")
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["type"], "model_attributes_type")
        r = self.stack.request("DELETE", "/api/admin/users/abc", token=self.owner)
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["loc"], ["path", "user_id"])
        own = [u["id"] for u in self.stack.request("GET", "/api/admin/users",
                                                   token=self.owner).json()
               if u["username"] == "owner1"][0]
        self.assertDetail(self.stack.request("DELETE", f"/api/admin/users/{own}",
                                             token=self.owner), 400,
                          "Cannot delete your own account")
        self.assertDetail(self.stack.request("DELETE", "/api/admin/users/0",
                                             token=self.stack.master), 400,
                          "Cannot delete your own account")
        self.assertUnchanged(before)

    def test_admin_role_refused(self):
        before = self.stack.db_rows()
        for method, path, body in (("GET", "/api/admin/users", None),
                                   ("POST", "/api/admin/users", {"username": "zzz"}),
                                   ("DELETE", "/api/admin/users/1", None)):
            r = self.stack.request(method, path, token=self.admin, json_body=body)
            self.assertDetail(r, 403, "Not enough permissions")
        self.assertEqual(self.stack.request("GET", "/api/user/me", token=self.admin).status, 200)
        for method, path in (("GET", "/api/admin/users"), ("DELETE", "/api/admin/users/1")):
            self.assertDetail(self.stack.request(method, path), 401, "Not authenticated")
        self.assertUnchanged(before)


class System(StackTestCase):
    """§10: host metrics."""

    def test_info(self):
        r = self.stack.request("GET", "/api/system/info", token=self.stack.master)
        self.assertEqual(r.status, 200)
        info = r.json()
        self.assertEqual(list(info), ["cpuLoad1Min", "cpuLoad5Min", "cpuLoad15Min",
                                      "ramUsedGB", "ramTotalGB"])
        for v in info.values():
            self.assertIsInstance(v, float)
        self.assertGreater(info["ramTotalGB"], info["ramUsedGB"])
        self.assertGreater(info["ramUsedGB"], 0)
        # floats are written as floats, even when whole
        self.assertRegex(r.text, r'"cpuLoad1Min":-?\d+\.\d')

    def test_disk(self):
        r = self.stack.request("GET", "/api/system/disk-usage", token=self.stack.master)
        self.assertEqual(r.status, 200)
        d = r.json()
        self.assertEqual(list(d), ["diskUsedGB", "diskTotalGB", "diskAvailableGB"])
        st = os.statvfs(os.path.join(self.stack.state, "servers"))
        self.assertAlmostEqual(d["diskTotalGB"], st.f_blocks * st.f_frsize / 1024 ** 3, places=6)
        self.assertAlmostEqual(d["diskUsedGB"] + d["diskAvailableGB"], d["diskTotalGB"], places=6)

    def test_cpu_percent_is_shared_not_blocking(self):
        r = self.stack.request("GET", "/api/system/cpu_percent", token=self.stack.master)
        self.assertEqual(r.status, 200)
        pct = r.json()["cpuPercentage"]
        self.assertIsInstance(pct, float)
        self.assertTrue(0.0 <= pct <= 100.0)
        # many concurrent callers are answered from the one sampler
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            results = list(ex.map(lambda _: self.stack.request(
                "GET", "/api/system/cpu_percent", token=self.stack.master).status, range(40)))
        self.assertEqual(results, [200] * 40)

    def test_auth_required_except_health(self):
        for path in ("/api/system/info", "/api/system/disk-usage", "/api/system/cpu_percent"):
            self.assertDetail(self.stack.request("GET", path), 401, "Not authenticated")
        self.assertEqual(self.stack.request("GET", "/api/system/health").status, 200)


class Audit(StackTestCase):
    """§6: one JSON line per mutating request, secrets masked."""

    def test_lines(self):
        self.stack.create_user("dora", "dora-secret-pw", "owner")
        self.stack.login("dora", "dora-secret-pw")
        self.stack.request("DELETE", "/api/admin/users/999?token=abc&page=2",
                           token=self.stack.master, headers={"User-Agent": "it-test",
                                                             "X-Forwarded-For": "10.9.8.7"})
        self.stack.request("GET", "/api/user/me", token=self.stack.master)
        log = self.stack.file("logs/operations.log")
        lines = [json.loads(x) for x in log.splitlines()]
        self.assertNotIn("dora-secret-pw", log)
        self.assertNotIn(self.stack.master, log)
        self.assertTrue(all(x["method"] in ("POST", "DELETE") for x in lines))
        create = [x for x in lines if x["path"] == "/api/admin/users"][-1]
        self.assertEqual(create["request_body"]["password"], "***MASKED***")
        self.assertEqual((create["user_id"], create["username"], create["role"]),
                         (0, "SYSTEM", "owner"))
        login = [x for x in lines if x["path"] == "/api/auth/token"][-1]
        self.assertIn("***MASKED***", login["request_body"]["raw_body"])
        self.assertEqual(login["username"], "anonymous")
        delete = lines[-1]
        self.assertEqual(list(delete), ["timestamp", "method", "path", "status_code",
                                        "processing_time_ms", "client_ip", "user_agent",
                                        "user_id", "username", "role", "path_params",
                                        "query_params", "success"])
        self.assertEqual(delete["status_code"], 404)
        self.assertFalse(delete["success"])
        self.assertEqual(delete["client_ip"], "10.9.8.7")
        self.assertEqual(delete["user_agent"], "it-test")
        self.assertEqual(delete["path_params"], {"user_id": "999"})
        self.assertEqual(delete["query_params"], {"token": "***MASKED***", "page": "2"})


class LoginLimit(StackTestCase):
    """Beyond the reference: failed logins per client are limited (429)."""
    STACK_ENV = {"API__LOGIN_ATTEMPTS": "3", "API__LOGIN_WINDOW_SECONDS": "60"}

    def test_limit(self):
        self.stack.create_user("erin", "erin-pw", "admin")
        for _ in range(3):
            body, ct = multipart([("username", "erin"), ("password", "wrong")])
            self.assertEqual(self.stack.request("POST", "/api/auth/token", body=body,
                                                content_type=ct).status, 401)
        body, ct = multipart([("username", "erin"), ("password", "erin-pw")])
        r = self.stack.request("POST", "/api/auth/token", body=body, content_type=ct)
        self.assertEqual(r.status, 429)
        self.assertTrue(1 <= int(r.headers["retry-after"]) <= 60)
        self.assertIsInstance(r.json()["detail"], str)


class Lifecycle(unittest.TestCase):
    """The API process: graceful SIGTERM, schema checks, the CLI."""

    def setUp(self):
        self.stack = Stack()

    def tearDown(self):
        self.stack.stop()

    @staticmethod
    def _record(rtype, content, request_id=1):
        pad = (8 - len(content) % 8) % 8
        return struct.pack(">BBHHBx", 1, rtype, request_id, len(content), pad) + content + \
            b"\0" * pad

    @staticmethod
    def _params(pairs):
        out = b""
        for k, v in pairs.items():
            k, v = k.encode(), v.encode()
            out += bytes([len(k)]) if len(k) < 128 else struct.pack(">I", len(k) | 1 << 31)
            out += bytes([len(v)]) if len(v) < 128 else struct.pack(">I", len(v) | 1 << 31)
            out += k + v
        return out

    def test_sigterm_finishes_in_flight_request(self):
        """A request half-sent when SIGTERM arrives is still answered in full."""
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(os.path.join(self.stack.state, "run", "api.sock"))
        body = json.dumps({"username": "late-user", "password": "pw"}).encode()
        sock.sendall(self._record(1, struct.pack(">HB5x", 1, 0)))      # BEGIN_REQUEST, responder
        sock.sendall(self._record(4, self._params({
            "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/admin/users",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": "Bearer " + self.stack.master, "REMOTE_ADDR": "127.0.0.1"})))
        sock.sendall(self._record(4, b""))
        sock.sendall(self._record(5, body[:10]))
        time.sleep(0.3)
        with open(os.path.join(self.stack.state, "run", "api.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(self._record(5, body[10:]))
        sock.sendall(self._record(5, b""))
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertIn(b"Status: 200 OK", data)
        self.assertIn(b'"username":"late-user"', data)
        # and the process then exits
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            self.fail("mc-admin-api did not exit after SIGTERM")
        self.assertEqual(self.stack.db_rows("SELECT username FROM user"), [("late-user",)])

    def test_refuses_newer_schema(self):
        self.stack.stop(remove=False)
        import sqlite3
        con = sqlite3.connect(self.stack.db_path)
        con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        env = dict(self.stack.env, MC_ADMIN_CONFIG=os.path.join(self.stack.state, "config.yaml"),
                   CREDENTIALS_DIRECTORY=os.path.join(self.stack.state, "credentials"))
        out = subprocess.run([MC_ADMIN_API, "--listen", os.path.join(self.stack.state, "x.sock")],
                             env=env, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("newer schema", out.stderr)
        out = self.stack.cli("db", "migrate")
        self.assertNotEqual(out.returncode, 0)

    def test_cli(self):
        out = self.stack.cli("db", "migrate")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("up to date", out.stdout)
        out = self.stack.cli("config", "check")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn(self.stack.master, out.stdout)
        self.assertNotIn(self.stack.jwt_secret, out.stdout)
        self.assertIn('master_token: "***MASKED***"', out.stdout)
        out = self.stack.cli("user", "add", "cli-owner", "--role", "owner", stdin="pw-1\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        token = self.stack.login("cli-owner", "pw-1")
        self.assertEqual(self.stack.request("GET", "/api/admin/users", token=token).status, 200)
        out = self.stack.cli("user", "add", "cli-owner", stdin="pw\n")
        self.assertNotEqual(out.returncode, 0)
        out = self.stack.cli("user", "add", "xy", stdin="pw\n")
        self.assertNotEqual(out.returncode, 0)
        out = self.stack.cli("user", "add", "nopw", stdin="\n")
        self.assertNotEqual(out.returncode, 0)
        out = self.stack.cli("user", "list")
        self.assertIn("cli-owner", out.stdout)
        self.assertIn("owner", out.stdout)
        out = self.stack.cli("user", "passwd", "cli-owner", stdin="pw-2\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.stack.login("cli-owner", "pw-2")
        out = self.stack.cli("user", "del", "cli-owner")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertDetail = StackTestCase.assertDetail.__get__(self)
        self.assertDetail(self.stack.request("GET", "/api/user/me", token=token), 401,
                          "Could not validate credentials")
        out = self.stack.cli("user", "del", "cli-owner")
        self.assertNotEqual(out.returncode, 0)

    def test_config_errors_name_key_and_line(self):
        bad = os.path.join(self.stack.state, "bad.yaml")
        with open(bad, "w") as f:
            f.write("server_path: /x\nlogs_dir: /y\nunknwon_key: 1\n")
        out = subprocess.run([MC_ADMIN_API, "--config", bad, "--listen", "/tmp/unused.sock"],
                             env=self.stack.env, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("bad.yaml:3: unknown key 'unknwon_key'", out.stderr)


if __name__ == "__main__":
    main()
