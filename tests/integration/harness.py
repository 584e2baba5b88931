# SPDX-License-Identifier: MIT
"""Integration-test harness: the real mc-admin binaries behind a real nginx
on 127.0.0.1 (a free port), started with contrib/dev/stack.sh in a private
state folder, driven over HTTP with the standard library only."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import unittest
import uuid

SRCDIR = os.environ.get("abs_top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("abs_top_builddir") or os.path.join(SRCDIR, "build")
STACK = os.path.join(SRCDIR, "contrib", "dev", "stack.sh")
MC_ADMIN = os.path.join(BUILDDIR, "src", "mc-admin")
MC_ADMIN_API = os.path.join(BUILDDIR, "src", "mc-admin-api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def multipart(fields):
    """fields: list of (name, value) or (name, filename, bytes)."""
    boundary = uuid.uuid4().hex
    out = []
    for f in fields:
        out.append(f"--{boundary}\r\n".encode())
        if len(f) == 2:
            out.append(f'Content-Disposition: form-data; name="{f[0]}"\r\n\r\n'.encode())
            out.append(f[1].encode() if isinstance(f[1], str) else f[1])
        else:
            out.append(f'Content-Disposition: form-data; name="{f[0]}"; filename="{f[1]}"\r\n'
                       'Content-Type: application/octet-stream\r\n\r\n'.encode())
            out.append(f[2])
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_jwt(header, payload, key, alg="HS256"):
    """A JWT made without the product's code (for expired/forged cases)."""
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signing = f"{h}.{p}".encode()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg)
    sig = b64url(hmac.new(key.encode(), signing, digest).digest()) if digest else ""
    return f"{h}.{p}.{sig}"


class Stack:
    """One running stack. env: extra environment for the API (config overrides)."""

    def __init__(self, env=None):
        self.state = tempfile.mkdtemp(prefix="mcadmin-it-")
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env["MC_ADMIN_BUILD"] = BUILDDIR
        self.env["NGINX_WORKERS"] = "1"
        self.start()
        with open(os.path.join(self.state, "credentials", "master_token")) as f:
            self.master = f.read().strip()
        with open(os.path.join(self.state, "credentials", "jwt_secret_key")) as f:
            self.jwt_secret = f.read().strip()

    def start(self):
        out = subprocess.run([STACK, "start", self.state, str(self.port)], env=self.env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"stack.sh start failed: {out.stdout}\n{out.stderr}\n"
                               f"{self.file('logs/api.log')}\n{self.file('nginx/error.log')}")
        self.start_output = out.stdout

    def stop(self, remove=True):
        subprocess.run([STACK, "stop", self.state], env=self.env, capture_output=True)
        if remove:
            shutil.rmtree(self.state, ignore_errors=True)

    def file(self, rel):
        try:
            with open(os.path.join(self.state, rel), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def db_path(self):
        return os.path.join(self.state, "db.sqlite3")

    def db_rows(self, sql="SELECT * FROM user ORDER BY id"):
        con = sqlite3.connect(self.db_path)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def request(self, method, path, body=None, headers=None, token=None, json_body=None,
                content_type=None, timeout=30):
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if content_type:
            hdrs["Content-Type"] = content_type
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def login(self, username, password):
        body, ct = multipart([("grant_type", "password"), ("username", username),
                              ("password", password)])
        r = self.request("POST", "/api/auth/token", body=body, content_type=ct)
        if r.status != 200:
            raise AssertionError(f"login {username}: {r}")
        return r.json()["access_token"]

    def create_user(self, username, password, role="admin"):
        r = self.request("POST", "/api/admin/users", token=self.master,
                         json_body={"username": username, "password": password, "role": role})
        if r.status != 200:
            raise AssertionError(f"create {username}: {r}")
        return r.json()

    def cli(self, *args, stdin=None):
        env = dict(self.env)
        env["MC_ADMIN_CONFIG"] = os.path.join(self.state, "config.yaml")
        env["CREDENTIALS_DIRECTORY"] = os.path.join(self.state, "credentials")
        return subprocess.run([MC_ADMIN, *args], env=env, input=stdin, capture_output=True,
                              text=True)


class StackTestCase(unittest.TestCase):
    """A test class sharing one stack; STACK_ENV adds configuration."""
    STACK_ENV = None

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(cls.STACK_ENV)

    @classmethod
    def tearDownClass(cls):
        keep = os.environ.get("MC_ADMIN_KEEP_STATE")
        cls.stack.stop(remove=not keep)

    def assertDetail(self, r, status, detail):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json(), {"detail": detail})

    def assertUnchanged(self, before):
        self.assertEqual(self.stack.db_rows(), before)


def main():
    unittest.main(verbosity=2)
