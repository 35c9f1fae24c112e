"""Reads e-mails (RFC 5322 files) with Python's own `email` package and
their calendar attachments with PyPI icalendar: both independent of the
code that wrote them. Prints, per file, one JSON object: the subject, the
recipient, the text part, and each attached event's UID, summary and start
in the zone named by the first argument. Fails when a message has no text
part or an attachment that icalendar cannot read."""

import json
import sys
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

from icalendar import Calendar

zone = ZoneInfo(sys.argv[1])
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        message = BytesParser(policy=policy.default).parse(f)
    text = message.get_body(preferencelist=("plain",))
    assert text is not None, f"{path}: no text/plain part"
    events = []
    for part in message.iter_attachments():
        if part.get_content_type() != "text/calendar":
            continue
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        for event in calendar.walk("VEVENT"):
            events.append({
                "filename": part.get_filename(),
                "uid": str(event["UID"]),
                "summary": str(event["SUMMARY"]),
                "status": str(event.get("STATUS", "")),
                "method": str(calendar.get("METHOD", "")),
                "sequence": int(event.get("SEQUENCE", 0)),
                "start": event.decoded("DTSTART").astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                "end": event.decoded("DTEND").astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            })
    print(json.dumps({
        "subject": str(message["Subject"]),
        "to": str(message["To"]),
        "text": text.get_content(),
        "events": events,
    }, ensure_ascii=False))
