"""report.py's sections for bench/run's scale and failover figures (results.jsonl sections scale-*, failover*).

Kept beside report.py, which imports it, so that each pair of sections stays in its own file. Standard library only.
"""
import statistics

CONFIGS = (("direct-1", "1 replica, direct (no nginx): the baseline"), ("nginx-1", "1 replica behind nginx"),
           ("nginx-2", "2 replicas behind nginx"), ("nginx-3", "3 replicas behind nginx"))


def _pick(rows, section, label=None):
    return [r["data"] for r in rows if r["section"] == section and (label is None or r["label"] == label)]


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _num(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"


def _ratio(a, b):
    return a / b if a is not None and b else None


def _per(rows, key, unit):
    """Median over the runs of CPU µs per unit: rows[key] (CPU seconds over the run) ÷ rows[unit]."""
    return _median([1e6 * r[key] / r[unit] for r in rows if r.get(key) is not None and r.get(unit)])


def scale_section(rows, w):
    cfg = (_pick(rows, "scale-config") or [None])[0]
    w("")
    w("## Scale-out: intake replicas behind nginx (JetStream sink, one nats-server, R=1)")
    w("")
    if not cfg:
        w("Not run.")
        return
    w(f"Each replica is a service process with `Tracker:Sink:Kind=JetStream` publishing to one `nats-server -js` (stream of one "
      f"replica). Single events: wrk -t{cfg['threads']} -c{cfg['connections']} -d{cfg['seconds']}s with `post-event.lua` (as the "
      f"http section); batched: `e2e`, {_num(cfg['events'])} events, {cfg['per_request']} per request, {cfg['senders']} senders, "
      f"complete once the stream's last sequence has grown by every event. nginx: round-robin with `deploy/nginx/tracker-proxy.conf`, "
      f"`worker_processes {cfg['nginx_workers']}`. Median of {cfg['rounds']} rounds, the rounds rotating which configuration goes first. "
      "CPU per request or event: utime + stime over each run of all three replica processes together (idle ones included), of that "
      "configuration's nginx (master and workers) and of the nats-server.")
    w("")
    w("| configuration | req/s (single events) | p99, ms | CPU µs/request: replicas; nginx; nats-server | events/s (batched e2e) "
      "| CPU µs/event: replicas; nginx; nats-server | vs direct: req/s; events/s | target |")
    w("|---|---|---|---|---|---|---|---|")
    base_rps = _median([x["rps"] for x in _pick(rows, "scale-wrk", "direct-1")])
    base_eps = _median([x["events_per_s"] for x in _pick(rows, "scale-e2e", "direct-1")])
    figures = {}
    for label, title in CONFIGS:
        wrk, e2e = _pick(rows, "scale-wrk", label), _pick(rows, "scale-e2e", label)
        rps, eps = _median([x["rps"] for x in wrk]), _median([x["events_per_s"] for x in e2e])
        figures[label] = (rps, eps)
        req_cpu = "; ".join(_num(_per(wrk, k, "requests"), 1) for k in ("replicas_cpu_s", "nginx_cpu_s", "nats_cpu_s"))
        ev_cpu = "; ".join(_num(_per(e2e, k, "events"), 2) for k in ("replicas_cpu_s", "nginx_cpu_s", "nats_cpu_s"))
        errors = sum(x["errors_status"] + x["errors_connect"] + x["errors_read"] + x["errors_timeout"] for x in wrk)
        failed = f" ({errors:,} failed)" if errors else ""
        w(f"| {title} | {_num(rps)}{failed} | {_num(_median([x['p99_ms'] for x in wrk]), 2)} | {req_cpu} | {_num(eps)} | {ev_cpu} "
          f"| {_num(_ratio(rps, base_rps), 2)}×; {_num(_ratio(eps, base_eps), 2)}× | info |")
    one, three = figures["nginx-1"], figures["nginx-3"]
    r, e = _ratio(three[0], one[0]), _ratio(three[1], one[1])
    if r is not None and e is not None:
        if max(r, e) < 1.1:
            shape = "flat or falling, as expected"
        else:
            shape = "above 1× in this run, which on two shared cores is the machine's noise between runs, not added capacity"
        w("")
        w(f"Note: this machine has {cfg.get('cores', 2)} cores, shared by the load generator, nginx, the nats-server and every "
          "replica, so adding replicas adds no CPU to serve with: the curve cannot rise here and the figures above are not a "
          f"scaling curve. 3 replicas behind nginx did {r:.2f}× the single events and {e:.2f}× the batched events of 1 replica "
          f"behind it: {shape}. What this run does show is the cost: nginx's CPU per request beside the replicas', and the "
          "replicas' CPU per request growing with their number, each one at a fraction of the rate (smaller batches, and more "
          "thread-pool spinning per request: see the failover note). Scaling out needs more machines (or cores) than this one has.")


def failover_section(rows, w):
    sample = (_pick(rows, "failover", "sample") or [None])[0]
    load = (_pick(rows, "failover", "load") or [None])[0]
    check = (_pick(rows, "failover", "check") or [None])[0]
    w("")
    w("## Failover: the stream's leader killed under load (three-node JetStream cluster, R=3)")
    w("")
    if not (sample or load or check):
        w("Not run.")
        return
    w("| figure | value | target | met? |")
    w("|---|---|---|---|")
    if load:
        w(f"| The load: open loop, single events, {_num(load['target_rps'])} req/s for {_num(load['seconds'])} s (`rate`, "
          f"{load['connections']} connections); achieved req/s; latency p50 / p99, ms; service CPU per request, µs "
          f"| {_num(load['achieved_rps'])}; {_num(load['p50_ms'], 1)} / {_num(load['p99_ms'], 1)}; "
          f"{_num(1e6 * load['server_cpu_s'] / load['requests'] if load.get('server_cpu_s') else None, 1)} | info | |")
    if sample:
        connected = [n for n, c in (sample.get("service_connections") or {}).items() if c]
        meta = "it was also the meta leader" if sample["killed_was_meta_leader"] else "not the meta leader"
        w(f"| Killed (SIGKILL) {_num(sample['killed_at_s'] - sample['load_started_s'], 1)} s into the load: the stream's leader "
          f"| {sample['killed']} ({meta}; the service was connected to {', '.join(connected) or '?'}) | | |")
        w(f"| Publish pause: kill → the stream's message count (the most a survivor holds) passes its count at the kill, s "
          f"(sampled every {sample['interval_s'] * 1000:.0f} ms) | {_num(sample['pause_s'], 2)} | info | |")
        w(f"| … the same by the service's acked publish batches (`tracker_jetstream_acks_duration_seconds_count`), s "
          f"| {_num(sample['pause_acks_s'], 2)} | info | |")
        meta_s = f"; meta leader {_num(sample['meta_election_s'], 2)} s" if sample.get("meta_election_s") is not None else ""
        w(f"| Election: kill → a surviving node names itself the stream's leader (`/jsz`), s | {_num(sample['election_s'], 2)} "
          f"({sample.get('new_leader') or 'none'}{meta_s}) | info | |")
    if sample and sample.get("service_cpu_us_per_event_before_kill") is not None:
        w(f"| … the service's CPU per accepted event, µs: before the kill; after it (the outage, the spill, its replay) "
          f"| {_num(sample['service_cpu_us_per_event_before_kill'], 1)}; {_num(sample.get('service_cpu_us_per_event_after_kill'), 1)} | info | |")
    if load:
        bad = load["errors"] + load["unsent"]
        w(f"| Requests not answered 2xx (a status other than 202, a failed or unsent request) of those sent | {_num(bad)} of "
          f"{_num(load['requests'])} | info | |")
    if check:
        w(f"| Events spilled (`tracker_events_spilled_total`, over the load) and replayed (`tracker_events_replayed_total`) "
          f"| {_num(check['spilled'])}; {_num(check['replayed'])} | info | |")
        ok = check["in_stream"] == check["accepted"]
        w(f"| Accepted (`tracker_events_accepted_total`, warm-up included) vs in the stream on the {check['survivors']} survivors, "
          f"after the load and the replay ({_num(check['settle_s'], 1)} s after the load) | {_num(check['accepted'])} vs "
          f"{_num(check['in_stream'])} | equal | {'yes' if ok else '**no**'} |")


def notes(rows, w):
    if _pick(rows, "scale-config"):
        w("- Scale-out: three replicas (JetStream sink, one `nats-server -js`, R=1) and three nginx instances in front of the first "
          "one, two and three of them, all running at once, each idle while another is measured; the direct configuration is the "
          "first replica without nginx. The e2e completion check is `TrackerService.Benchmarks e2e … jsz:http://127.0.0.1:<monitor>` "
          "(the stream's `state.last_seq` from `/jsz?streams=true`, exact since the run's message ids are its own). nginx with "
          "`worker_processes auto` (2 workers here), as deployed: tried side by side with 1 worker, it took no more CPU per "
          "request and passed more requests in front of three replicas (the figures are in the comment over the section in "
          "`bench/run`).")
    if _pick(rows, "failover"):
        w("- Failover: three `nats-server` nodes clustered on loopback (routes as the tests' `NatsNode.Configure`), a store each; "
          "one replica with `Tracker:JetStream:Replicas=3` (it creates the stream), `PublishTimeout` 2 s and the tests' "
          "quick-outage settings (`Tracker:Sink:MaxRetryAttempts=1`, `RetryBaseDelay` 50 ms, `CircuitMinimumThroughput=2`, "
          "`CircuitBreakDuration` 1 s). `bench/lib/failover.py sample` polls every node's `/jsz?streams=true` and the service's "
          "`/metrics` every 100 ms (`failover-samples.csv` in the run folder) and SIGKILLs the stream's leader 5 s after the service "
          "starts accepting. nats-server 2.9's Raft waits 4 to 9 s (randomised) without a leader's heartbeat before a follower "
          "stands: the election, not the service, sets most of the pause. At this low rate the service's CPU per event is many "
          "times the scale section's (closed loop, near saturation): its thread pool's workers spin before they sleep, per wake-up; "
          "in a side run at 1,000 req/s, `DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0` took it from about 540 to about 220 µs.")
