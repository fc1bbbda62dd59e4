-- wrk script: POST the same prepared body again and again (for bench/run's memory figure, 100-event batches
-- without message ids, so the service assigns each event its own). The body file is the script's argument:
--   wrk -t2 -c256 -d30s -s bench/lib/post-batch.lua http://127.0.0.1:PORT/events -- body.json
-- done() prints one JSON line for bench/run; errors_status counts the non-2xx answers (503 when the queue is full).

function init(args)
   local file = assert(io.open(args[1], "rb"), "usage: -- <body file>")
   wrk.method = "POST"
   wrk.body = file:read("*a")
   wrk.headers["Content-Type"] = "application/json"
   file:close()
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"kind":"wrk","requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,'
      .. '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout))
end
