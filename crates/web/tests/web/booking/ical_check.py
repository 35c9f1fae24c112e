"""Reads .ics files with PyPI icalendar (an independent parser) and prints,
per event, its UID, STATUS and start/end on the clinic's clock
(America/Los_Angeles), one JSON object per line. Fails on anything that
icalendar cannot read or that RFC 5545 requires and is missing."""

import json
import sys
from zoneinfo import ZoneInfo

from icalendar import Calendar

clinic = ZoneInfo("America/Los_Angeles")
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        raw = f.read()
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, f"{path}: line longer than 75 octets"
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0", "VERSION"
    assert calendar.get("PRODID"), "PRODID"
    for event in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert event.get(required) is not None, f"{path}: {required} missing"
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        assert start.tzinfo is not None, "DTSTART must be UTC or carry a TZID"
        print(json.dumps({
            "file": path.rsplit("/", 1)[-1],
            "uid": str(event["UID"]),
            "status": str(event.get("STATUS", "")),
            "start": start.astimezone(clinic).strftime("%Y-%m-%d %H:%M %Z"),
            "end": end.astimezone(clinic).strftime("%Y-%m-%d %H:%M %Z"),
            "summary": str(event["SUMMARY"]),
        }, ensure_ascii=False))
