#!/usr/bin/env python3
"""Samples a process's memory from /proc/<pid>/status every INTERVAL seconds until it exits or this gets SIGTERM.

    python3 bench/lib/sample-rss.py PID [INTERVAL=0.5] > rss.csv

Writes CSV: seconds since start, VmRSS and VmHWM in KiB. Standard library only.
"""
import signal
import sys
import time


def read(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def main():
    pid = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("t_s,rss_kib,hwm_kib", flush=True)
    start = time.monotonic()
    due = start
    while not stop:
        try:
            rss, hwm = read(pid)
        except (FileNotFoundError, ProcessLookupError):
            break
        print(f"{time.monotonic() - start:.3f},{rss},{hwm}", flush=True)
        due += interval
        time.sleep(max(0.0, due - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
