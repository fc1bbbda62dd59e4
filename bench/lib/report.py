#!/usr/bin/env python3
"""Assembles bench/run's results into one markdown report. Standard library only.

    python3 bench/lib/report.py --run-dir bench/results/run-… --mode quick --command "bench/run --quick" \
        --elapsed 170 --repo . --out bench/results/latest.md

Reads the run folder: results.jsonl (one {"section", "label", "data"} object per measurement, written by
bench/run), the services' logs (the shutdown lines), memory-rss.csv, and BenchmarkDotNet's CSV reports in micro/.
"""
import argparse
import csv
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess

import report_scale


def sh(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(repo):
    lscpu = sh("lscpu")
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), platform.processor())
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    runtimes = [l.split()[1] for l in sh("dotnet", "--list-runtimes").splitlines() if l.startswith("Microsoft.NETCore.App")]
    commit = sh("git", "-C", repo, "rev-parse", "--short", "HEAD")
    branch = sh("git", "-C", repo, "rev-parse", "--abbrev-ref", "HEAD")
    dirty = " (with uncommitted changes)" if sh("git", "-C", repo, "status", "--porcelain", "--", ".", ":!bench/results") else ""
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram": f"{mem_kib / 1024 / 1024:.0f} GiB",
        "kernel": platform.release(),
        "sdk": sh("dotnet", "--version"),
        "runtime": ", ".join(runtimes) or "?",
        "commit": f"{commit} on {branch}{dirty}",
    }


def load(run_dir):
    rows = []
    path = os.path.join(run_dir, "results.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    return rows


def pick(rows, section, label=None):
    return [r["data"] for r in rows if r["section"] == section and (label is None or r["label"] == label)]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def num(v, digits=0):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def against(value, base, target, base_name="raw"):
    """The cells of a rate measured against a baseline in the same run, with its target: at least target × baseline."""
    r = ratio(value, base)
    return (f"| {num(value)} | {num(base)} ({base_name}) | {num(r, 2)}× | ≥ {target}× {base_name} "
            f"| {met(None if r is None else r >= target)} |")


def cpu_us(rows, per):
    """Median server CPU time per unit (µs) over measurement rows carrying server_cpu_s; per(row) is the unit count."""
    return median([1e6 * r["server_cpu_s"] / per(r) for r in rows if r.get("server_cpu_s") is not None and per(r)])


def nats_us(rows, field="nats_cpu_s"):
    """Median NATS server CPU time per event (µs) over measurement rows carrying it."""
    return median([1e6 * r[field] / r["events"] for r in rows if r.get(field) is not None and r.get("events")])


def met(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def log_lines(path):
    """The service's compact-JSON log lines (Serilog's rendered compact format)."""
    lines = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        lines.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    return lines


def event_id(line):
    e = line.get("EventId")
    return e.get("Id") if isinstance(e, dict) else None


def timestamp(line):
    # Serilog writes 7 fractional digits; Python's fromisoformat takes 6 before 3.11.
    t = re.sub(r"(\.\d{6})\d+", r"\1", line["@t"]).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()


def shutdown_facts(data):
    """From the service's log: the shutdown summary line, and how long writing the spill took."""
    lines = log_lines(data.get("log"))
    start = next((l for l in lines if event_id(l) == 500), None)
    done = next((l for l in lines if event_id(l) == 501), None)
    spills = [l for l in lines if event_id(l) == 400]
    facts = {}
    if done:
        facts.update(outcome=done.get("Outcome"), queued_at_start=done.get("Queued"), drained=done.get("Drained"),
                     spilled=done.get("Spilled"), elapsed_ms=done.get("ElapsedMs"), deadline_ms=done.get("DeadlineMs"))
    if spills:
        # Each segment's line says how long writing it took (open, write, fsync, rename).
        facts["spill_s"] = max(sum(l.get("ElapsedMs", 0) for l in spills) / 1000, 1e-3)
        facts["spill_events"] = sum(l.get("Events", 0) for l in spills)
    return facts


def memory_facts(data):
    samples = []
    path = data.get("rss_csv")
    if path and os.path.exists(path):
        with open(path) as f:
            for r in csv.DictReader(f):
                samples.append((float(r["t_s"]), int(r["rss_kib"]), int(r["hwm_kib"])))
    if not samples:
        return {}
    rss = [s[1] for s in samples]
    third = len(rss) // 3
    middle, last = rss[third:2 * third], rss[2 * third:]
    peak_mib = max(max(s[2] for s in samples), max(rss)) / 1024
    facts = {"peak_mib": peak_mib, "samples": len(samples), "end_mib": rss[-1] / 1024}
    if middle and last:
        growth = max(last) / max(middle) - 1
        facts.update(middle_max_mib=max(middle) / 1024, last_max_mib=max(last) / 1024, growth=growth, plateau=growth <= 0.05)
    return facts


# What one BenchmarkDotNet operation is, in events: the parse benchmark is already per event (OperationsPerInvoke).
MICRO = {
    "ParseAndValidate100": ("parse + validate, 100-event body (EventBatchParser.Parse)", lambda row: 1),
    "EnqueueDequeue": ("EventQueue enqueue + TryRead + Release, {n}-event request", lambda row: int(row.get("EventsPerRequest") or 1)),
    "WriteBatch1000": ("SqliteEventSink.WriteAsync, one 1000-event batch", lambda row: 1000),
}


def micro_rows(run_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(run_dir, "micro", "results", "*-report.csv"))):
        with open(path) as f:
            for row in csv.DictReader(f):
                def value(key):
                    v = (row.get(key) or "").replace(",", "").strip()
                    try:
                        return float(v)
                    except ValueError:
                        return None

                name, per = MICRO.get(row["Method"], (row["Method"], lambda r: 1))
                events = per(row)
                mean = value("Mean [ns]")
                alloc = value("Allocated [B]")
                if alloc is None and (row.get("Allocated [B]") or "").strip() == "-":
                    alloc = 0.0
                out.append({
                    "name": name.format(n=events),
                    "mean_ns": mean,
                    "error_ns": value("Error [ns]"),
                    "events_per_op": events,
                    "events_per_s": events * 1e9 / mean if mean else None,
                    "alloc_per_event": alloc / events if alloc is not None else None,
                    "alloc_per_op": alloc,
                })
    return out


def time_unit(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:,.2f} µs"
    return f"{ns:,.1f} ns"


WRK_CONNECTIONS_DEFAULT = 32


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run-dir", required=True)
    p.add_argument("--mode", default="full")
    p.add_argument("--command", default="bench/run")
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--repo", default=".")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    rows = load(a.run_dir)
    m = machine(a.repo)
    lines = []
    w = lines.append
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    w("# TrackerService benchmarks")
    w("")
    w(f"`{a.command}` ({a.mode} mode), {now}, commit {m['commit']}; the run took {a.elapsed} s.")
    w("")
    w(f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, Linux {m['kernel']}; .NET SDK {m['sdk']}, runtime {m['runtime']}. "
      "The load generators run on the same cores as the service, and the machine may be shared: "
      "read ratios (taken in the same run, interleaved) before absolute numbers.")
    cpu = (pick(rows, "machine", "cpu") or [None])[0]
    if cpu and cpu.get("wall_s"):
        capacity = cpu["cores"] * cpu["wall_s"]
        others = max(cpu["busy_cpu_s"] - cpu["ours_cpu_s"], 0)
        w(f"While it ran, the machine's {cpu['cores']} cores were {100 * cpu['busy_cpu_s'] / capacity:.0f}% busy; "
          f"other processes (not this run's) used {others:,.0f} CPU-seconds, {100 * others / capacity:.0f}% of the machine.")
    timings = [r for r in rows if r["section"] == "timing"]
    if timings:
        w("Time per section: " + ", ".join(f"{r['label']} {r['data']['seconds']:.0f} s" for r in timings) + ".")
    w("")

    failures = pick(rows, "failure")
    if failures:
        w("**Failed checks:**")
        w("")
        for f in failures:
            w(f"- {f['message']}")
        w("")

    w("| figure | service | baseline | ratio | target | met? |")
    w("|---|---|---|---|---|---|")

    # Single-event HTTP ingest, wrk, median of the rounds.
    cfg = (pick(rows, "http-config") or [{}])[0]
    svc, base = pick(rows, "http", "service"), pick(rows, "http", "baseline")
    s_rps, b_rps = median([r["rps"] for r in svc]), median([r["rps"] for r in base])
    r = ratio(s_rps, b_rps)
    shape = f"wrk -t{cfg.get('threads', '?')} -c{cfg.get('connections', '?')} -d{cfg.get('seconds', '?')}s, median of {len(svc)}"
    w(f"| Single-event ingest, req/s ({shape}) | {num(s_rps)} | {num(b_rps)} | {num(r, 2)}× | ≥ 0.8× baseline | {met(None if r is None else r >= 0.8)} |")
    w(f"| … its latency p50 / p99, ms (closed loop, at max rate) | {num(median([r['p50_ms'] for r in svc]), 2)} / {num(median([r['p99_ms'] for r in svc]), 2)} "
      f"| {num(median([r['p50_ms'] for r in base]), 2)} / {num(median([r['p99_ms'] for r in base]), 2)} | | info | |")
    s_cpu, b_cpu = cpu_us(svc, lambda x: x["requests"]), cpu_us(base, lambda x: x["requests"])
    eff = ratio(b_cpu, s_cpu)
    w(f"| … server CPU per request, µs (utime + stime of the server process over each wrk run ÷ requests answered; median) "
      f"| {num(s_cpu, 1)} | {num(b_cpu, 1)} | {num(eff, 2)}× (baseline ÷ service) | ≥ 0.8× baseline | {met(None if eff is None else eff >= 0.8)} |")
    errors = sum(r["errors_status"] + r["errors_connect"] + r["errors_read"] + r["errors_timeout"] for r in svc)
    if errors:
        w(f"| … service requests that failed (non-2xx, socket errors) | {errors:,} | | | 0 | **no** |")

    # Write keys and rate limiting on against off, single-event ingest, two services side by side.
    on, off = pick(rows, "auth", "on"), pick(rows, "auth", "off")
    if on and off:
        o_rps, f_rps = median([x["rps"] for x in on]), median([x["rps"] for x in off])
        ra = ratio(o_rps, f_rps)
        w(f"| Single-event ingest with write keys and rate limiting on vs off, req/s (same wrk load, median of {len(on)}) "
          f"| {num(o_rps)} | {num(f_rps)} (off) | {num(ra, 2)}× | ≥ 0.95× off | {met(None if ra is None else ra >= 0.95)} |")
        o_cpu, f_cpu = cpu_us(on, lambda x: x["requests"]), cpu_us(off, lambda x: x["requests"])
        w(f"| … server CPU per request, µs | {num(o_cpu, 1)} | {num(f_cpu, 1)} (off) | {num(ratio(f_cpu, o_cpu), 2)}× (off ÷ on) | info | |")
        failed = sum(x["errors_status"] + x["errors_connect"] + x["errors_read"] + x["errors_timeout"] for x in on + off)
        if failed:
            w(f"| … requests that failed (non-2xx: a 401 or 429 would show here) | {failed:,} | | | 0 | **no** |")

    # p99 at half the service's max rate, open loop.
    rs, rb = (pick(rows, "rate", "service") or [None])[0], (pick(rows, "rate", "baseline") or [None])[0]
    if rs:
        kept = rs["achieved_rps"] >= 0.97 * rs["target_rps"] and rs["unsent"] == 0
        p99r = ratio(rs["p99_ms"], rb["p99_ms"] if rb else None)
        w(f"| p99 at half the service's max rate, ms (open loop {num(rs['target_rps'])} req/s, from each request's due time) "
          f"| {num(rs['p99_ms'], 2)} (p50 {num(rs['p50_ms'], 2)}) | {num(rb['p99_ms'], 2) if rb else '—'} (p50 {num(rb['p50_ms'], 2) if rb else '—'}) "
          f"| {num(p99r, 2)}× | ≤ 2× baseline's p99 | {met(None if p99r is None else p99r <= 2)} |")
        def gen(x):
            return (f"{num(x['achieved_rps'])} of {num(x['target_rps'])}; {num(x['send_lag_p99_ms'], 2)}; {num(x.get('wake_late_p99_ms'), 2)}; "
                    f"{num(x.get('generator_cpu_cores'), 2)}" if x else "—")
        w(f"| … generator: achieved req/s of target; send lag p99 (any cause), ms; its own wake-up lateness p99, ms; CPU, cores "
          f"| {gen(rs)} | {gen(rb)} | | kept up | {met(kept)} |")
        w(f"| … service time p50 / p99, ms (from the actual send) | {num(rs['service_p50_ms'], 2)} / {num(rs['service_p99_ms'], 2)} "
          f"| {num(rb['service_p50_ms'], 2) if rb else '—'} / {num(rb['service_p99_ms'], 2) if rb else '—'} | | info | |")
        rc_s = cpu_us([rs], lambda x: x.get("requests_with_warmup"))
        rc_b = cpu_us([rb] if rb else [], lambda x: x.get("requests_with_warmup"))
        w(f"| … server CPU per request at that rate, µs (warm-up included) | {num(rc_s, 1)} | {num(rc_b, 1)} | {num(ratio(rc_s, rc_b), 2)}× | info | |")
    else:
        w("| p99 at half the service's max rate | — | — | — | ≤ 2× baseline's p99 | — |")

    # Batched end to end against the raw store write.
    for sink, raw_name in (("sqlite", "prepared INSERT loop, one transaction"), ("postgres", "binary COPY")):
        e2e, raw = pick(rows, "e2e", sink), pick(rows, "raw", sink)
        e, rw = median([x["events_per_s"] for x in e2e]), median([x["events_per_s"] for x in raw])
        per = e2e[0]["per_request"] if e2e else "?"
        title = "SQLite" if sink == "sqlite" else "PostgreSQL"
        w(f"| {title} e2e events/s ({num(e2e[0]['events'] if e2e else None)} events, {per}/request, median of {len(e2e)}) vs raw {raw_name} "
          + against(e, rw, 0.7))
        e_cpu, r_cpu = cpu_us(e2e, lambda x: x["events"]), cpu_us(raw, lambda x: x["events"])
        w(f"| … {title} CPU per event, µs (service process over the e2e run vs the raw writer's own process) | {num(e_cpu, 2)} | {num(r_cpu, 2)} (raw) "
          f"| {num(ratio(e_cpu, r_cpu), 2)}× | info | |")
        if sink == "sqlite":
            w(f"| SQLite e2e events/s, absolute | {num(e)} | | | ≥ 100,000 | {met(None if e is None else e >= 100000)} |")

    # The Segment API end to end: /v1/batch against POST /events, the same analytics-node events, one service.
    seg, evs = pick(rows, "segment", "v1-batch"), pick(rows, "segment", "events")
    s_e, e_e = median([x["events_per_s"] for x in seg]), median([x["events_per_s"] for x in evs])
    shape = f"{num(seg[0]['events'])} events, {seg[0]['per_request']}/request, median of {len(seg)}" if seg else "not run"
    w(f"| Segment /v1/batch e2e events/s vs POST /events, the same analytics-node events, SQLite ({shape}) "
      + against(s_e, e_e, 0.9, "/events"))
    s_cpu, e_cpu = cpu_us(seg, lambda x: x["events"]), cpu_us(evs, lambda x: x["events"])
    w(f"| … service CPU per event, µs (over each e2e run) | {num(s_cpu, 2)} | {num(e_cpu, 2)} (/events) "
      f"| {num(ratio(e_cpu, s_cpu), 2)}× (/events ÷ /v1/batch) | info | |")

    # The JetStream sink end to end against the raw publisher; the loader against the raw COPY, and fetch + ack alone.
    js_e2e, js_raw = pick(rows, "e2e", "jetstream"), pick(rows, "raw", "jetstream")
    if js_e2e or js_raw:
        e, rw = median([x["events_per_s"] for x in js_e2e]), median([x["events_per_s"] for x in js_raw])
        shape = f"{num(js_e2e[0]['events'])} events, {js_e2e[0]['per_request']}/request, median of {len(js_e2e)}" if js_e2e else "not run"
        inflight = js_raw[0].get("in_flight", "?") if js_raw else "?"
        w(f"| JetStream sink e2e events/s ({shape}) vs raw publisher (NATS.Net, the same messages, ≤ {inflight} acks outstanding) "
          + against(e, rw, 0.7))
        e_cpu, r_cpu = cpu_us(js_e2e, lambda x: x["events"]), cpu_us(js_raw, lambda x: x["events"])
        w(f"| … CPU per event, µs (service process over the e2e run vs the publisher's own process) | {num(e_cpu, 2)} | {num(r_cpu, 2)} (raw) "
          f"| {num(ratio(e_cpu, r_cpu), 2)}× | info | |")
        w(f"| … nats-server CPU per event, µs (during the e2e run vs during the raw publish) | {num(nats_us(js_e2e), 2)} | {num(nats_us(js_raw), 2)} (raw) "
          f"| {num(ratio(nats_us(js_e2e), nats_us(js_raw)), 2)}× | info | |")
        alone = pick(rows, "sink-alone", "jetstream")
        if alone:
            s_rate, s_cpu = median([x["events_per_s"] for x in alone]), cpu_us(alone, lambda x: x["events"])
            w(f"| … the sink's class alone (JetStreamSink.WriteAsync in the bench tool, 1000-event batches from 2 loops, no HTTP): "
              f"events/s; CPU per event, µs; nats-server µs | {num(s_rate)}; {num(s_cpu, 2)}; {num(nats_us(alone), 2)} | {num(rw)}; {num(r_cpu, 2)}; "
              f"{num(nats_us(js_raw), 2)} (raw) | {num(ratio(s_rate, rw), 2)}× | info | |")
    loads, l_raw, drains = pick(rows, "loader", "loader"), pick(rows, "raw", "loader"), pick(rows, "drain", "loader")
    if loads or l_raw:
        l, rw = median([x["events_per_s"] for x in loads]), median([x["events_per_s"] for x in l_raw])
        shape = f"a backlog of {num(loads[0]['events'])} events given to a running loader, median of {len(loads)}" if loads else "not run"
        w(f"| Loader into PostgreSQL, events/s ({shape}) vs raw binary COPY " + against(l, rw, 0.7))
        l_cpu, r_cpu = cpu_us(loads, lambda x: x["events"]), cpu_us(l_raw, lambda x: x["events"])
        w(f"| … CPU per event, µs (loader process over the load vs the raw writer's own process) | {num(l_cpu, 2)} | {num(r_cpu, 2)} (raw) "
          f"| {num(ratio(l_cpu, r_cpu), 2)}× | info | |")
        d, d_cpu = median([x["events_per_s"] for x in drains]), cpu_us(drains, lambda x: x["events"])
        w(f"| … fetch + ack only (drain: the loader's consumer settings and decoding, nothing stored), events/s; CPU per event, µs "
          f"| {num(l)}; {num(l_cpu, 2)} | {num(d)}; {num(d_cpu, 2)} (drain) | {num(ratio(d_cpu, l_cpu), 2)}× of the loader's CPU | info | |")
        c_rate = median([x["client_only_events_per_s"] for x in drains])
        c_cpu = median([1e6 * x["client_only_cpu_s"] / x["events"] for x in drains]) if drains else None
        w(f"| … fetch + ack, nothing decoded (the NATS client alone), events/s; CPU per event, µs "
          f"| {num(l)}; {num(l_cpu, 2)} | {num(c_rate)}; {num(c_cpu, 2)} (client) | {num(ratio(c_cpu, l_cpu), 2)}× of the loader's CPU | info | |")
        w(f"| … nats-server CPU per event, µs (during the load vs during the drain) | {num(nats_us(loads), 2)} | {num(nats_us(drains), 2)} (drain) | | info | |")
        l_pg, r_pg = nats_us(loads, "pg_cpu_s"), nats_us(l_raw, "pg_cpu_s")
        w(f"| … PostgreSQL CPU per event, µs (all its processes, over the load vs over the raw COPY's command) | {num(l_pg, 2)} | {num(r_pg, 2)} (raw) "
          f"| {num(ratio(l_pg, r_pg), 2)}× | info | |")
        # The least CPU any loader of this design (this client's fetch and per-message ack, then the same COPY) spends per
        # event, summed from parts measured in this run: what the machine's cores allow at best, against the COPY alone.
        parts = [c_cpu, nats_us(drains), r_cpu, r_pg]
        if None not in parts and rw:
            floor = sum(parts)
            ceiling = os.cpu_count() * 1e6 / floor
            w(f"| … the ceiling on this machine: its {os.cpu_count()} cores ÷ the least CPU per event of fetch + ack (client {num(c_cpu, 2)}, "
              f"nats-server {num(nats_us(drains), 2)}) and the raw COPY (client {num(r_cpu, 2)}, PostgreSQL {num(r_pg, 2)}) = {num(floor, 2)} µs, "
              f"events/s | {num(ceiling)} | {num(rw)} (raw) | {num(ratio(ceiling, rw), 2)}× | the most a loader could reach here | "
              f"{'0.7× reachable' if ceiling >= 0.7 * rw else '0.7× out of reach'} |")
        pub_rate = median([x["publish_events_per_s"] for x in loads])
        pub_cpu = median([1e6 * x["publish_cpu_s"] / x["events"] for x in loads]) if loads else None
        w(f"| … the backlog's publish (raw publisher, the loader's fetches waiting): events/s; publisher and nats-server CPU per event, µs "
          f"| {num(pub_rate)}; {num(pub_cpu, 2)}; {num(nats_us(loads, 'publish_nats_cpu_s'), 2)} | | | info | |")

    # Shutdown.
    drain = (pick(rows, "shutdown", "drain") or [None])[0]
    if drain:
        f = shutdown_facts(drain)
        ok = drain["exit_s"] < 2 and drain["exit_code"] == 0 and drain["stored"] == drain["accepted"]
        w(f"| Shutdown drain of {num(drain['queued'])} queued events: SIGTERM → exit, s | {num(drain['exit_s'], 2)} "
          f"| | | < 2 s | {met(ok)} |")
        w(f"| … exit code; stored / accepted; spilled; service's own count: {f.get('outcome', '?')} in {num(f.get('elapsed_ms'))} ms "
          f"| {drain['exit_code']}; {num(drain['stored'])} / {num(drain['accepted'])}; {num(drain['spilled_lines'])} | | | nothing lost | "
          f"{met(drain['stored'] + drain['spilled_lines'] == drain['accepted'])} |")
    else:
        w("| Shutdown drain of 100,000 queued events, s | — | | | < 2 s | — |")
    hung = (pick(rows, "shutdown", "hung") or [None])[0]
    if hung:
        f = shutdown_facts(hung)
        deadline = hung.get("deadline_s", 0)
        ok = hung["exit_s"] <= deadline + 1 and hung["exit_code"] == 0
        w(f"| Hung store: SIGTERM → exit, s (deadline {deadline} s, {num(hung['queued'])} queued) | {num(hung['exit_s'], 2)} | {deadline} (deadline) "
          f"| {num(ratio(hung['exit_s'], deadline), 2)}× | ≤ deadline + 1 s | {met(ok)} |")
        rate = ratio(f.get("spill_events"), f.get("spill_s"))
        w(f"| Spill rate at shutdown, events/s ({num(f.get('spill_events'))} events in {num(f.get('spill_s'), 3)} s) | {num(rate)} | | | info | |")
        partial = f" (+ {num(hung['partial_lines'])} in a cut-short segment)" if hung.get("partial_lines") else ""
        forced = "; **watchdog forced the exit**" if hung.get("forced_exit") else ""
        w(f"| … exit code; stored + spilled / accepted; segments | {hung['exit_code']}; {num(hung['stored'])} + {num(hung['spilled_lines'])}{partial} / {num(hung['accepted'])}; "
          f"{hung['segments']}{forced} | | | nothing lost | {met(hung['stored'] + hung['spilled_lines'] == hung['accepted'] and hung['segments'] > 0)} |")
    else:
        w("| Hung store: exit vs deadline | — | | | ≤ deadline + 1 s | — |")

    # Memory under overload.
    mem = (pick(rows, "memory") or [None])[0]
    if mem:
        f = memory_facts(mem)
        wrk = mem["wrk"]
        offered = wrk["rps"] * 100
        peak = f.get("peak_mib")
        plateau = f.get("plateau")
        w(f"| Peak RSS under overload, MiB ({mem['seconds']} s, {mem['connections']} connections, 100-event requests) | {num(peak)} | | | ≤ 300 MB | "
          f"{met(None if peak is None else peak * 1.048576 <= 300)} |")
        w(f"| … plateau: max RSS of the last third vs the middle third | {num(f.get('last_max_mib'))} vs {num(f.get('middle_max_mib'))} MiB "
          f"({num(100 * f['growth'], 1) if 'growth' in f else '—'}%) | | | within 5% | {met(plateau)} |")
        w(f"| … offered events/s (wrk's answered requests × 100) vs sustained e2e | {num(offered)} | {num(mem['sustained_events_per_s'])} (sustained) "
          f"| {num(ratio(offered, mem['sustained_events_per_s']), 2)}× | ≈ 2× | |")
        w(f"| … requests answered 503 (queue full); events accepted / refused | {num(wrk['errors_status'])} of {num(wrk['requests'])}; "
          f"{num(mem['accepted'])} / {num(mem['rejected_queue_full'])} | | | expected | |")
        if mem.get("gc_heap_bytes"):
            w(f"| … at the end: RSS; GC heap after the last collection; GC committed, MiB | {num(f.get('end_mib'))}; {num(mem['gc_heap_bytes'] / 2**20)}; "
              f"{num(mem['gc_committed_bytes'] / 2**20)} | | | info | |")
    else:
        w("| Peak RSS under overload, MiB | — | | | ≤ 300 MB | — |")

    # Durability: the disk's raw sync rate, the ceiling of a log that syncs before its 202 (issue 15).
    de, me = pick(rows, "durability-e2e", "disk"), pick(rows, "durability-e2e", "memory")
    if de and me:
        d_e, m_e = median([x["events_per_s"] for x in de]), median([x["events_per_s"] for x in me])
        rd = ratio(d_e, m_e)
        w(f"| Durability=Disk vs Memory, batched e2e events/s ({de[0]['per_request']}/request, SQLite, median of {len(de)}) "
          f"| {num(d_e)} | {num(m_e)} (Memory) | {num(rd, 2)}× | ≥ 0.7× Memory | {met(None if rd is None else rd >= 0.7)} |")
        w(f"| … service CPU per event, µs | {num(cpu_us(de, lambda x: x['events']), 2)} | {num(cpu_us(me, lambda x: x['events']), 2)} (Memory) | | info | |")
    dw, mw = pick(rows, "durability-wrk", "disk"), pick(rows, "durability-wrk", "memory")
    if dw and mw:
        d_r, m_r = median([x["rps"] for x in dw]), median([x["rps"] for x in mw])
        rw = ratio(d_r, m_r)
        w(f"| Durability=Disk vs Memory, single-event req/s (wrk -c{WRK_CONNECTIONS_DEFAULT}, median of {len(dw)}) "
          f"| {num(d_r)} | {num(m_r)} (Memory) | {num(rw, 2)}× | ≥ 0.5× Memory | {met(None if rw is None else rw >= 0.5)} |")
        w(f"| … p99 latency, ms | {num(median([x['p99_ms'] for x in dw]), 2)} | {num(median([x['p99_ms'] for x in mw]), 2)} (Memory) | | info | |")
        syncs = pick(rows, "durability-syncs", "disk")
        s_n, a_n, secs = sum(x["syncs"] for x in syncs), sum(x["appends"] for x in syncs), sum(x["seconds"] for x in syncs)
        if s_n:
            w(f"| … the log's syncs/s and requests per sync (group commit), single events | {num(s_n / secs)} syncs/s, {num(a_n / s_n, 1)} per sync | | | info | |")
    for fsync in pick(rows, "durability", "fsync"):
        how = "over a file of zeros (a segment made ahead)" if fsync.get("mode") == "zeroed" else "appended"
        cpu = f", {num(fsync['cpu_us_per_sync'], 1)} µs CPU per sync" if "cpu_us_per_sync" in fsync else ""
        w(f"| This disk's raw sync rate, syncs/s: a loop of one {num(fsync.get('block', 4096) / 1024)} KB write {how} + Flush(true) "
          f"(fsync), {num(fsync['seconds'], 1)} s{cpu} | {num(fsync['per_s'])} | | | info | |")

    # Micro-benchmarks.
    micro = micro_rows(a.run_dir)
    w("")
    w("## Micro-benchmarks")
    w("")
    if micro:
        w("BenchmarkDotNet 0.15.8, in process, "
          + ("short run (3 warm-ups, 3 iterations)" if a.mode == "quick" else "3 warm-ups, 5 iterations")
          + "; `[MemoryDiagnoser]`. Raw reports: `micro/results/` in the run folder.")
        w("")
        w("| benchmark | mean per operation | ± (99.9% CI half-width) | per event | events/s | allocated per event |")
        w("|---|---|---|---|---|---|")
        for x in micro:
            per_event = x["mean_ns"] / x["events_per_op"] if x["mean_ns"] else None
            w(f"| {x['name']} | {time_unit(x['mean_ns'])} | {time_unit(x['error_ns'])} | {time_unit(per_event)} | {num(x['events_per_s'])} "
              f"| {num(x['alloc_per_event'], 1)} B |")
    else:
        w("Not run (or BenchmarkDotNet wrote no report).")

    # Batch-size sweep.
    sweep = sorted(pick(rows, "sweep"), key=lambda x: x["per_request"])
    w("")
    w("## Batch-size sweep (SQLite, end to end, one run each)")
    w("")
    if sweep:
        w("| events per request | events | senders | accepted events/s (sending) | stored events/s (e2e) | service CPU per event, µs | stored after the last 202, s | 503 retries |")
        w("|---|---|---|---|---|---|---|---|")
        for x in sweep:
            w(f"| {x['per_request']} | {num(x['events'])} | {x['senders']} | {num(x['accepted_per_s'])} | {num(x['events_per_s'])} "
              f"| {num(cpu_us([x], lambda r: r['events']), 2)} | {num(x['stored_after_last202_s'], 3)} | {x['retries503']} |")
    else:
        w("Not run.")

    report_scale.scale_section(rows, w)
    report_scale.failover_section(rows, w)

    w("")
    w("## Notes")
    w("")
    w("- Single-event ingest: wrk with `bench/lib/post-event.lua` (a unique messageId per request) against the service "
      "(SQLite sink, Production, default settings) and `bench/Baseline` (POST /events reads the body, answers 202), interleaved.")
    w("- p99 at half rate: `TrackerService.Benchmarks rate`, open loop at half the service's median wrk rate, the same rate "
      "for both; latency from each request's due time (coordinated omission corrected). The baseline's p99 at the same "
      "rate shows what the machine and the generator add on their own.")
    w("- End to end: `TrackerService.Benchmarks e2e`; events/s = events / (last event stored − first request sent), the "
      "store's count checked exactly. Raw SQLite is Microsoft.Data.Sqlite's prepared-command loop in one transaction "
      "(the sink itself binds through SQLitePCL's raw API in 1000-event transactions, so it can beat it); raw PostgreSQL "
      "is one binary COPY of all rows straight into the table in one transaction; the sink COPYs each batch (1000 events) "
      "straight into the table too, a transaction each, through the staging table only when a batch hits the unique key.")
    w("- JetStream sink: `TrackerService.Benchmarks e2e <url> jetstream:<nats url>` against a service with "
      "`Tracker__Sink__Kind=JetStream` and a throwaway `nats-server -js` (file store); the run ends at the first poll of the "
      "stream's state (`STREAM.INFO`) that counts every event. The raw publisher (`publish <nats url> TRACKER_EVENTS <events> 1000`) "
      "is the same NATS.Net client sending the sink's messages (subject per type, the spill line, `Nats-Msg-Id`) with up to "
      "1000 acks outstanding, from a fresh process each run, after an untimed warm-up of 100,000 events in it; it purges the stream "
      "before timing. nats-server CPU from /proc over each e2e command and over the publisher's timed part. The sink alone: "
      "`publish … --via-sink`, the service's JetStreamSink class driven in the bench tool with the delivery's batches (1000 events, 2 loops).")
    w("- Loader: `load <nats url> TRACKER_EVENTS <cs> <events> <loader pid> <nats pid>` empties the loader's events table in a "
      "transaction it holds open, publishes the backlog, commits, and times until PostgreSQL holds every event; CPU of the loader "
      "and of nats-server over that load only. Raw: `raw-postgres` (one binary COPY). Drain: `drain <nats url> TRACKER_EVENTS "
      "bench-drain 2`, a fresh consumer of the loader's configuration read by two loops (the loader's) with its decoder, each "
      "message acked, nothing stored, the loader stopped; the stream is read twice and the second pass reported (the first warms it up), "
      "then once more with a deserializer that reads nothing (the NATS client alone). PostgreSQL's CPU is that of all its processes "
      "(the postmaster, the backends it reaped, the live ones) over the whole `load` and `raw-postgres` commands, their set-up "
      "included. The ceiling adds the least per-event CPU of each part a loader of this design can't do without (the client's "
      "fetch + ack and nats-server's share, from the drain; the COPY's client and PostgreSQL, from the raw write) and divides the "
      "machine's cores by it: a bound that assumes perfect overlap, not a measurement of a loader.")
    w("- Write keys on/off: the single-event wrk load against two services at once, one taking anonymous requests, one "
      "checking each request's Bearer key and taking a permit from its token bucket (a limit no run reaches); rounds "
      "alternate which goes first.")
    w("- Segment API: `TrackerService.Benchmarks e2e --body segment` (analytics-node's events in `/v1/batch` envelopes) "
      "against `--body node` (the same events as arrays to `POST /events`), one SQLite service, warmed up on both, "
      "rounds alternating which goes first.")
    w("- Shutdown: the queue is filled while `bench/lib/hold-lock.py` holds SQLite's write lock; drain: lock released "
      "and SIGTERM sent together; hung: lock held throughout; the drain ends early enough to spill by the deadline. "
      "Spill rate = events spilled / the time the service logs for writing the segments (open, write, fsync, rename).")
    w("- Memory: RSS of the service (VmRSS/VmHWM from /proc every 0.5 s) while wrk sends 100-event requests "
      "(`bench/lib/post-batch.lua`) over enough connections to offer about twice the sustained e2e rate.")
    w("- Durability: `TrackerService.Benchmarks fsync-rate <folder> 3 <block> append|zeroed`, a bare loop of one write (4 or 32 KB, "
      "at the end of a growing file, or over a file first filled with zeros, as in a segment the log made ahead) and one "
      "`FileStream.Flush(true)` (fsync) in a data folder on the services' filesystem: the most syncs per second a log that syncs "
      "before its 202 can make on this disk, and their CPU (`Tracker:Durability=Disk` carries many requests per sync).")
    report_scale.notes(rows, w)
    w("")
    w("How each figure is taken: `bench/run --help` and the comments in `bench/run`; raw logs stay in `bench/results/run-*/` (not tracked).")
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
