#!/usr/bin/env python3
"""Floods of the public forms from one client against `respite serve` with
its default limits: 300 inquiries, then bookings of every offered slot.
Counts the answers and checks that each 429 carries Retry-After.

Usage: python3 bench/security/flood.py
Builds the release binary first (skip with RESPITE_BENCH_NO_BUILD=1).
"""

import re
import subprocess
import time
import urllib.parse

import common


def summary(label, answers, elapsed):
    counts = {}
    for status, _ in answers:
        counts[status] = counts.get(status, 0) + 1
    waits = [retry for status, retry in answers if status == 429]
    missing = sum(1 for retry in waits if retry is None)
    first_429 = next((i for i, (s, _) in enumerate(answers) if s == 429), None)
    print(
        f"{label}: {len(answers)} in {elapsed:.1f} s: {counts}; first 429 at request "
        f"{None if first_429 is None else first_429 + 1}; 429 without Retry-After: {missing}; "
        f"Retry-After {min((w for w in waits if w), default='-')}..{max((w for w in waits if w), default='-')} s"
    )


def answer(result):
    status, headers, _ = result
    retry = headers.get("retry-after", [None])[0]
    return status, int(retry) if retry else None


def main():
    common.build()
    server = common.Server()
    try:
        cookie, token = common.csrf(server.port)
        answers = []
        started = time.time()
        for n in range(300):
            body = urllib.parse.urlencode(
                {
                    "csrf": token,
                    "name": f"Flood {n}",
                    "phone": f"(503) 725-{3000 + n % 1000:04d}",
                    "email": "",
                    "preferred_channel": "phone",
                    "window_days": "weekdays",
                    "window_start": "17:00",
                    "window_end": "19:00",
                    "time_zone": "America/Chicago",
                    "pain_area": "back",
                    "pain_duration": "1-5-years",
                    "message": "",
                    "consent": "yes",
                }
            )
            answers.append(answer(common.post_form(server.port, "/inquiries", body, cookie)))
        summary("inquiries", answers, time.time() - started)

        # A front-desk member who takes calls every weekday 09:00-17:00.
        subprocess.run(
            [common.BINARY, "user", "add", "--email", "desk@bench.test", "--role", "front-desk", "--db", server.db],
            input=common.STAFF_PASSWORD + "\n", text=True, check=True, capture_output=True,
        )
        body = urllib.parse.urlencode(
            {"csrf": token, "email": common.STAFF_EMAIL, "password": common.STAFF_PASSWORD}
        )
        _, headers, _ = common.post_form(server.port, "/staff/login", body, cookie)
        session = next(c.split(";")[0] for c in headers["set-cookie"] if "session" in c)
        # Sign-in replaces the CSRF token with one bound to the new session.
        staff_csrf = next(c.split(";")[0] for c in headers["set-cookie"] if "csrf" in c)
        staff_token = staff_csrf.partition("=")[2]
        staff_cookie = f"{staff_csrf}; {session}"
        _, _, page = common.get(server.port, "/staff/schedule", staff_cookie)
        desk = re.search(rb'<option value="(\d+)"[^>]*>[^<]*\(Front desk\)', page)
        desk = desk.group(1).decode() if desk else "2"
        for day in ["monday", "tuesday", "wednesday", "thursday", "friday"]:
            body = urllib.parse.urlencode(
                {"csrf": staff_token, "staff_user_id": desk, "weekday": day, "starts": "09:00", "ends": "17:00"}
            )
            common.post_form(server.port, "/staff/schedule/availability", body, staff_cookie)
        _, _, page = common.get(server.port, "/consultations?time_zone=America/Los_Angeles", cookie)
        slots = re.findall(rb'name="slot" value="([^"]+)"', page)
        answers = []
        started = time.time()
        for n, slot in enumerate(slots):
            body = urllib.parse.urlencode(
                {
                    "csrf": token,
                    "name": f"Hoarder {n}",
                    "phone": f"(503) 726-{n:04d}",
                    "email": "",
                    "time_zone": "America/Los_Angeles",
                    "slot": slot.decode(),
                    "consent": "yes",
                }
            )
            answers.append(answer(common.post_form(server.port, "/consultations", body, cookie)))
        summary(f"bookings of the {len(slots)} offered slots", answers, time.time() - started)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
