#!/usr/bin/env python3
"""Resident memory of `respite serve` during 500 concurrent failed sign-ins
(argon2id, 19 MiB per check) and in the 10 s after.

Goal (docs/SECURITY.md): peak under 256 MiB, back under 64 MiB within 10 s.
Usage: python3 bench/security/sign_in_memory.py [--requests 500]
Builds the release binary first (skip with RESPITE_BENCH_NO_BUILD=1).
The per-source sign-in rate limit is raised for the run, so that every
request reaches the password check: this measures the hashing pool alone.
"""

import argparse
import threading
import time
import urllib.parse

import common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    common.build()
    server = common.Server(*common.flags("--limit-sign-ins-per-minute", "100000"))
    try:
        cookie, token = common.csrf(server.port)
        before = server.memory()
        statuses = []
        lock = threading.Lock()
        go = threading.Event()

        def attempt(n):
            body = urllib.parse.urlencode(
                {"csrf": token, "email": f"nobody{n}@bench.test", "password": "wrong password!"}
            )
            go.wait()
            try:
                status, _, _ = common.post_form(server.port, "/staff/login", body, cookie)
            except OSError as err:
                status = type(err).__name__
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(args.requests)]
        for thread in threads:
            thread.start()
        peak_rss = 0.0
        started = time.time()
        go.set()
        while any(t.is_alive() for t in threads):
            rss, _ = server.memory()
            peak_rss = max(peak_rss, rss)
            time.sleep(0.05)
        burst = time.time() - started
        after = []
        for second in range(1, 11):
            time.sleep(1)
            after.append(server.memory()[0])
        _, hwm = server.memory()
        counts = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        print(f"requests: {args.requests} concurrent failed sign-ins in {burst:.1f} s")
        print(f"answers: {dict(sorted(counts.items(), key=str))}")
        print(f"RSS before: {before[0]:.1f} MiB")
        print(f"RSS peak (sampled every 50 ms): {peak_rss:.1f} MiB; VmHWM: {hwm:.1f} MiB")
        print("RSS after the burst, each second for 10 s: " + ", ".join(f"{m:.1f}" for m in after))
        ok = hwm < 256 and after[-1] < 64
        print("goal (peak < 256 MiB, < 64 MiB within 10 s): " + ("met" if ok else "NOT met"))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
