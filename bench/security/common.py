"""Shared pieces of the security benchmarks: build the release binary, start
`respite serve` on a throw-away SQLite database with one staff user, and
read a process's resident memory from /proc."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "target", "release", "respite")
STAFF_EMAIL = "admin@bench.test"
STAFF_PASSWORD = "bench password that is long enough"


def build():
    if os.environ.get("RESPITE_BENCH_NO_BUILD"):
        return
    subprocess.run(
        ["cargo", "build", "--release", "-p", "respite"], cwd=ROOT, check=True
    )


def flags(*wanted):
    """`wanted`, unless RESPITE_BENCH_FLAGS overrides them (for a binary that
    predates a flag)."""
    override = os.environ.get("RESPITE_BENCH_FLAGS")
    return override.split() if override is not None else list(wanted)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`respite serve` on 127.0.0.1 with a fresh SQLite database."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="respite-bench-")
        self.db = "sqlite://" + os.path.join(self.dir, "bench.sqlite")
        self.port = free_port()
        subprocess.run(
            [BINARY, "user", "add", "--email", STAFF_EMAIL, "--role", "admin", "--db", self.db],
            input=STAFF_PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--db", self.db, "--bind", f"127.0.0.1:{self.port}", *flags],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RESPITE_LOG": "warn"},
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("respite serve did not start; see " + self.log.name)

    def memory(self):
        """(VmRSS, VmHWM) in MiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            text = status.read()
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024
        return rss, hwm

    def open_files(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def http(port, request, timeout=15):
    """Sends a raw HTTP/1.1 request and returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers, body


def get(port, path, cookie=""):
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return http(
        port,
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode(),
    )


def post_form(port, path, body, cookie):
    body = body.encode()
    return http(
        port,
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + body,
    )


def csrf(port):
    """A CSRF cookie and its field value, as a browser gets them from the sign-in page."""
    _, headers, _ = get(port, "/staff/login")
    for cookie in headers.get("set-cookie", []):
        name, _, rest = cookie.partition("=")
        if "csrf" in name:
            value = rest.split(";")[0]
            return f"{name}={value}", value
    sys.exit("no CSRF cookie on /staff/login")
