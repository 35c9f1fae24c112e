#!/usr/bin/env python3
"""Requests per second of the infusion order page (SPEC §1 step 5) against the
staff home, in the same run and on the same server: `respite demo` with the
demo clinician signed in, the order page of the demo patient who is ready to
order (its calculation and the PK preview: a Kamp 2020 simulation at 30-s
steps over the session and an hour after, drawn as SVG), the same page with a
target-guided proposal (`propose_plan` at 10-s steps over the 3.5-h session,
then the preview), and the staff home. Sequential requests on one client,
after a warm-up; prints each rate and the ratio to the staff home.

Usage: python3 bench/orders/order_page.py [--requests N]
The binary is target/release/respite (built first unless
RESPITE_BENCH_NO_BUILD=1); RESPITE_BENCH_BINARY names another (e.g. the
debug build, whose numbers are slower throughout but keep their ratios
roughly).
"""

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "security"))
import common  # noqa: E402

PASSWORD = "respite-demo"
CLINICIAN = "clinician@demo.respite.test"


def start_demo(binary):
    port = common.free_port()
    process = subprocess.Popen(
        [binary, "demo", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RESPITE_LOG": "warn"},
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            status, _, _ = common.get(port, "/healthz")
            if status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    sys.exit("respite demo did not start")


def sign_in(port):
    cookie, token = common.csrf(port)
    body = urllib.parse.urlencode({"csrf": token, "email": CLINICIAN, "password": PASSWORD})
    status, headers, _ = common.post_form(port, "/staff/login", body, cookie)
    if status != 303:
        sys.exit(f"sign-in answered {status}")
    cookies = [cookie]
    for set_cookie in headers.get("set-cookie", []):
        cookies.append(set_cookie.split(";")[0])
    return "; ".join(cookies)


def rate(port, path, cookie, requests, marker):
    status, _, body = common.get(port, path, cookie)
    if status != 200 or marker not in body:
        sys.exit(f"{path}: {status}, no {marker!r}")
    for _ in range(5):
        common.get(port, path, cookie)
    started = time.perf_counter()
    for _ in range(requests):
        common.get(port, path, cookie)
    return requests / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    binary = os.environ.get("RESPITE_BENCH_BINARY")
    if not binary:
        common.build()
        binary = common.BINARY
    process, port = start_demo(binary)
    try:
        cookie = sign_in(port)
        _, _, body = common.get(port, "/staff/patients?q=Solberg", cookie)
        match = re.search(rb'href="(/staff/patients/\d+)"', body)
        if not match:
            sys.exit("no demo patient Solberg")
        order = match.group(1).decode() + "/orders/new"
        home = rate(port, "/staff", cookie, args.requests, b"<main>")
        preview = rate(port, order, cookie, args.requests, b"polyline")
        target = rate(port, order + "?target=120&reach=5", cookie, args.requests, b'id="proposal"')
        print(f"binary: {binary}; {args.requests} sequential requests each")
        print(f"staff home:                     {home:8.1f} req/s")
        print(f"order page with PK preview:     {preview:8.1f} req/s  ({preview / home:.2f} × the home)")
        print(f"order page with target proposal:{target:8.1f} req/s  ({target / home:.2f} × the home)")
    finally:
        process.terminate()
        process.wait(timeout=15)


if __name__ == "__main__":
    main()
