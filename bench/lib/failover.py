#!/usr/bin/env python3
"""bench/run's failover section: reads a JetStream cluster's monitoring endpoints and kills its stream leader.

    python3 bench/lib/failover.py formed  --timeout 60 NODE...       wait until every node is healthy and names one meta leader
    python3 bench/lib/failover.py leader  --stream S --timeout 60 NODE...   print the node that names itself the stream's leader
    python3 bench/lib/failover.py messages --stream S NODE...         print the most messages any answering node holds of S
    python3 bench/lib/failover.py sample --stream S --admin PORT --kill-at 5 --seconds 22 --csv FILE NODE...

NODE is name:monitor-port:pid (the pid only for `sample`, which SIGKILLs the stream's leader). `sample` polls every
--interval seconds (0.1) each live node's /jsz?streams=true (the stream's messages and leader, the meta leader) and
the service's admin /metrics (accepted, spilled, replayed, acked publish batches) and, with --pid, its CPU time; it finds the leader, waits until
the service starts accepting (the load began), kills the leader --kill-at seconds later, goes on until --seconds
after its start, writes every sample to --csv and prints one JSON line: the publish pause (kill until the stream's
message count, the most any survivor holds, passes what it was just before the kill), the same by the service's
count of acked batches (passing what it showed up to 0.4 s after the kill: /metrics is cached up to 300 ms), the election (kill until a survivor names itself the stream's leader), and the meta
leader's, when the killed node was it. Times are each sample's start: ± one interval. Standard library only.
"""
import argparse
import csv
import json
import os
import signal
import sys
import time
import urllib.request


def get(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except (OSError, ValueError):
        return None


def jsz(mon):
    text = get(f"http://127.0.0.1:{mon}/jsz?streams=true")
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def stream_view(j, stream):
    """(messages, leader named) of the stream in one node's /jsz?streams=true; (None, None) when it does not list it."""
    for account in (j or {}).get("account_details") or []:
        for s in account.get("stream_detail") or []:
            if s.get("name") == stream:
                return s.get("state", {}).get("messages"), (s.get("cluster") or {}).get("leader")
    return None, None


def meta_leader(j):
    return ((j or {}).get("meta_cluster") or {}).get("leader")


def metrics(port, names):
    text = get(f"http://127.0.0.1:{port}/metrics", timeout=2.0) or ""
    sums = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in sums:
            try:
                sums[name] += float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
    return sums


def cpu_s(pid):
    """A process's CPU time so far (utime + stime, seconds), from /proc/PID/stat; None without one."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def nodes_of(args):
    out = []
    for spec in args.nodes:
        parts = spec.split(":")
        out.append({"name": parts[0], "mon": int(parts[1]), "pid": int(parts[2]) if len(parts) > 2 else None})
    return out


def healthy(mon):
    text = get(f"http://127.0.0.1:{mon}/healthz")
    try:
        return bool(text) and json.loads(text).get("status") == "ok"
    except json.JSONDecodeError:
        return False


def cmd_formed(args):
    nodes, deadline = nodes_of(args), time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if all(healthy(n["mon"]) for n in nodes):
            leaders = {meta_leader(jsz(n["mon"])) for n in nodes}
            if len(leaders) == 1 and None not in leaders:
                print(leaders.pop())
                return 0
        time.sleep(0.2)
    print("the cluster did not form", file=sys.stderr)
    return 1


def stream_leader(nodes, stream):
    for n in nodes:
        _, named = stream_view(jsz(n["mon"]), stream)
        if named == n["name"]:
            return n
    return None


def cmd_leader(args):
    nodes, deadline = nodes_of(args), time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        leader = stream_leader(nodes, args.stream)
        if leader:
            print(leader["name"])
            return 0
        time.sleep(0.2)
    print(f"stream {args.stream} has no leader", file=sys.stderr)
    return 1


def cmd_messages(args):
    counts = [stream_view(jsz(n["mon"]), args.stream)[0] for n in nodes_of(args)]
    counts = [c for c in counts if c is not None]
    if not counts:
        print(f"no node lists stream {args.stream}", file=sys.stderr)
        return 1
    print(max(counts))
    return 0


ACCEPTED, SPILLED, REPLAYED, ACKS = ("tracker_events_accepted_total", "tracker_events_spilled_total",
                                     "tracker_events_replayed_total", "tracker_jetstream_acks_duration_seconds_count")


METRICS_CACHE_S = 0.4


def cmd_sample(args):
    nodes = nodes_of(args)
    leader = stream_leader(nodes, args.stream)
    if not leader:
        print(f"stream {args.stream} has no leader", file=sys.stderr)
        return 1
    connections = {}
    for n in nodes:
        varz = get(f"http://127.0.0.1:{n['mon']}/varz")
        connections[n["name"]] = json.loads(varz).get("connections", 0) if varz else None
    was_meta = meta_leader(jsz(leader["mon"])) == leader["name"]
    survivors = [n for n in nodes if n is not leader]

    t0 = time.monotonic()
    rows, killed_at, load_at, before = [], None, None, None
    accepted0 = None
    while True:
        t = time.monotonic() - t0
        if t >= args.seconds:
            break
        if killed_at is None and load_at is not None and t >= load_at + args.kill_at:
            # Just before the kill: what the survivors hold (the bar the new leader's writes must pass).
            before = max([c for c in (stream_view(jsz(n["mon"]), args.stream)[0] for n in survivors) if c is not None] or [0])
            os.kill(leader["pid"], signal.SIGKILL)
            killed_at = time.monotonic() - t0
            t = killed_at
        row = {"t_s": round(t, 3), "phase": "after" if killed_at is not None else "before"}
        live = survivors if killed_at is not None else nodes
        for n in nodes:
            if n in live:
                j = jsz(n["mon"])
                messages, named = stream_view(j, args.stream)
                row[f"{n['name']}_messages"], row[f"{n['name']}_leader"], row[f"{n['name']}_meta"] = messages, named, meta_leader(j)
            else:
                row[f"{n['name']}_messages"] = row[f"{n['name']}_leader"] = row[f"{n['name']}_meta"] = None
        m = metrics(args.admin, (ACCEPTED, SPILLED, REPLAYED, ACKS))
        row.update(accepted=m[ACCEPTED], spilled=m[SPILLED], replayed=m[REPLAYED], acked_batches=m[ACKS],
                   service_cpu_s=cpu_s(args.pid) if args.pid else None)
        if accepted0 is None:
            accepted0 = m[ACCEPTED]
        elif load_at is None and m[ACCEPTED] > accepted0:
            load_at = t
        rows.append(row)
        time.sleep(max(0.0, args.interval - ((time.monotonic() - t0) - t)))

    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    if killed_at is None:
        print("the load never started (accepted did not grow): no kill", file=sys.stderr)
        return 1

    after = [r for r in rows if r["phase"] == "after"]
    last_before = [r for r in rows if r["phase"] == "before"][-1]

    # /metrics answers from a cache up to 300 ms old: batches acked just before the kill can show in the first samples after it.
    acked_at_kill = max(r["acked_batches"] for r in rows if r["t_s"] <= killed_at + METRICS_CACHE_S)

    def first(predicate):
        return next((round(r["t_s"] - killed_at, 3) for r in after if predicate(r)), None)

    def most(r):
        return max([r[f"{n['name']}_messages"] for n in survivors if r[f"{n['name']}_messages"] is not None] or [0])

    def cpu_per_event(a, b):
        """The service's CPU µs per accepted event between two samples."""
        if a["service_cpu_s"] is None or b["service_cpu_s"] is None or b["accepted"] <= a["accepted"]:
            return None
        return round(1e6 * (b["service_cpu_s"] - a["service_cpu_s"]) / (b["accepted"] - a["accepted"]), 1)

    loaded = [r for r in rows if r["t_s"] >= load_at]
    result = {
        "kind": "failover-sample",
        "killed": leader["name"],
        "killed_was_meta_leader": was_meta,
        "service_connections": connections,
        "load_started_s": round(load_at, 3),
        "killed_at_s": round(killed_at, 3),
        "interval_s": args.interval,
        "samples": len(rows),
        "messages_before_kill": before,
        "election_s": first(lambda r: any(r[f"{n['name']}_leader"] == n["name"] for n in survivors)),
        "meta_election_s": first(lambda r: any(r[f"{n['name']}_meta"] == n["name"] for n in survivors)) if was_meta else None,
        "pause_s": first(lambda r: most(r) > before),
        "pause_acks_s": first(lambda r: r["t_s"] > killed_at + METRICS_CACHE_S and r["acked_batches"] > acked_at_kill),
        "spilled_during": int(rows[-1]["spilled"] - last_before["spilled"]),
        "service_cpu_us_per_event_before_kill": cpu_per_event(loaded[0], last_before),
        "service_cpu_us_per_event_after_kill": cpu_per_event(after[0], after[-1]),
        "new_leader": next((n["name"] for r in after for n in survivors if r[f"{n['name']}_leader"] == n["name"]), None),
        "csv": args.csv,
    }
    print(json.dumps(result))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=("formed", "leader", "messages", "sample"))
    p.add_argument("nodes", nargs="+")
    p.add_argument("--stream", default="TRACKER_EVENTS")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--admin", type=int)
    p.add_argument("--pid", type=int, help="the service's pid, for its CPU time in each sample")
    p.add_argument("--kill-at", type=float, default=5)
    p.add_argument("--seconds", type=float, default=22)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--csv")
    args = p.parse_args()
    return {"formed": cmd_formed, "leader": cmd_leader, "messages": cmd_messages, "sample": cmd_sample}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
