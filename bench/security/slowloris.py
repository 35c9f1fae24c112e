#!/usr/bin/env python3
"""Slowloris against `respite serve`: 500 connections each send a request
head one header line every 2 s and never finish it. Measures when the server
closes them (goal: within the header-read timeout, 10 s by default) and
whether /healthz answers meanwhile, with the open file descriptors of the
server process.

Usage: python3 bench/security/slowloris.py [--connections 500]
Builds the release binary first (skip with RESPITE_BENCH_NO_BUILD=1).
"""

import argparse
import selectors
import socket
import time

import common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--drip", type=float, default=2.0, help="seconds between header lines")
    parser.add_argument("--give-up", type=float, default=60.0)
    args = parser.parse_args()
    common.build()
    server = common.Server()
    try:
        fds_before = server.open_files()
        sel = selectors.DefaultSelector()
        opened = {}
        started = time.time()
        for n in range(args.connections):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, n)
            opened[n] = (s, time.time())
        open_time = time.time() - started
        fds_peak = server.open_files()
        closed_after = []
        healthz = []
        next_drip = time.time() + args.drip
        next_health = time.time()
        while opened and time.time() - started < args.give_up:
            for key, _ in sel.select(timeout=0.1):
                s, since = opened.pop(key.data)
                try:
                    s.recv(65536)
                except OSError:
                    pass
                closed_after.append(time.time() - since)
                sel.unregister(s)
                s.close()
            now = time.time()
            if now >= next_drip:
                for s, _ in list(opened.values()):
                    try:
                        s.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
                next_drip = now + args.drip
            if now >= next_health:
                t0 = time.time()
                try:
                    status, _, _ = common.get(server.port, "/healthz")
                except OSError as err:
                    status = type(err).__name__
                healthz.append((status, time.time() - t0))
                next_health = now + 1.0
            fds_peak = max(fds_peak, server.open_files())
        fds_after = server.open_files()
        ok = [s for s, _ in healthz if s == 200]
        print(f"slowloris connections: {args.connections} (opened in {open_time:.1f} s), header line every {args.drip} s")
        if closed_after:
            closed_after.sort()
            print(
                f"closed by the server: {len(closed_after)}; after min {closed_after[0]:.1f} s, "
                f"median {closed_after[len(closed_after) // 2]:.1f} s, max {closed_after[-1]:.1f} s"
            )
        print(f"still open after {args.give_up:.0f} s: {len(opened)}")
        print(
            f"/healthz during the attack: {len(ok)} of {len(healthz)} answered 200, "
            f"slowest {max((t for _, t in healthz), default=0) * 1000:.0f} ms"
        )
        print(f"server file descriptors: before {fds_before}, peak {fds_peak}, after {fds_after}")
        for s, _ in opened.values():
            s.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
