#!/usr/bin/env python3
"""Holds SQLite's write lock on a database, as a hung or busy store would, until told to let go.

    python3 bench/lib/hold-lock.py data/events.db [--max-seconds 600]

Takes the lock with BEGIN IMMEDIATE (in WAL mode: the one writer lock; readers go on), prints "locked" once it
holds it, then waits. SIGUSR1, SIGTERM or SIGINT rolls back, prints "released" and exits 0; so does
--max-seconds, so a harness that dies cannot leave the lock held for ever. Standard library only.
"""
import argparse
import signal
import sqlite3
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--max-seconds", type=float, default=600)
    a = p.parse_args()

    released = False

    def release(*_):
        nonlocal released
        released = True

    for s in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(s, release)

    conn = sqlite3.connect(a.db, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    signal.setitimer(signal.ITIMER_REAL, a.max_seconds)
    while not released:
        signal.pause()
    conn.execute("ROLLBACK")
    conn.close()
    print(f"released {time.time():.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
