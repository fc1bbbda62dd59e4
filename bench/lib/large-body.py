#!/usr/bin/env python3
"""Writes a request body of large events: EVENTS track events of about 32 KB each, every one with PROPS short
properties, the load that issue 13 measured memory with (16 events of 2,150 properties per request).

    python3 bench/lib/large-body.py [EVENTS=16] [PROPS=2150] > body.json

No messageId, so the service assigns each event its own and the same body can be posted again and again
(with bench/lib/post-batch.lua). Each event stays under Tracker:Api:MaxEventBytes (32768) and the body under
Tracker:Api:MaxBodyBytes (524288). Standard library only.
"""
import json
import sys


def main():
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    props = int(sys.argv[2]) if len(sys.argv) > 2 else 2150
    event = {
        "event": "Large",
        "userId": "user-1",
        "properties": {f"p{i:04d}": f"v{i % 100:02d}" for i in range(props)},
    }
    body = json.dumps([event] * events, separators=(",", ":"))
    size = len(json.dumps(event, separators=(",", ":")))
    if size > 32768 or len(body) > 524288:
        sys.exit(f"too large: {size} bytes an event, {len(body)} a body")
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
