#!/usr/bin/env python3
"""Posts N events in batches to a running TrackerService and measures how long after the last 202
they are all in the SQLite store. Standard library only.

    python3 bench/ingest-check.py [--url http://localhost:8080] [--db data/events.db] [--events 10000] [--batch 100]
"""
import argparse, http.client, json, sqlite3, sys, time, urllib.parse, uuid


def count(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        return c.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://localhost:8080")
    p.add_argument("--db", default="data/events.db")
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--deadline", type=float, default=2.0, help="seconds allowed after the last 202")
    a = p.parse_args()

    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80)
    run = uuid.uuid4().hex[:8]
    before = count(a.db)
    started = time.monotonic()
    accepted = 0
    for b in range(a.events // a.batch):
        body = json.dumps([{"event": "Checked", "userId": f"user-{i % 97}", "messageId": f"{run}-{b}-{i}",
                            "properties": {"batch": b, "i": i}} for i in range(a.batch)])
        conn.request("POST", "/events", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 202:
            sys.exit(f"batch {b}: HTTP {r.status}")
        accepted += a.batch
    last_202 = time.monotonic()

    stored = 0
    while time.monotonic() - last_202 < a.deadline + 10:
        stored = count(a.db) - before
        if stored >= accepted:
            break
        time.sleep(0.01)
    done = time.monotonic()
    print(f"posted {accepted} events in {a.events // a.batch} requests in {last_202 - started:.2f} s "
          f"({accepted / (last_202 - started):,.0f} events/s)")
    print(f"stored {stored} of {accepted}; all stored {done - last_202:.3f} s after the last 202 (limit {a.deadline} s)")
    sys.exit(0 if stored == accepted and done - last_202 <= a.deadline else 1)


if __name__ == "__main__":
    main()
