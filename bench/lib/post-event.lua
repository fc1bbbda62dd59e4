-- wrk script: POST one event per request, each with a messageId of its own (run, thread, counter), as a
-- single-event client (analytics.js, a mobile SDK) sends them. The event is the bench tool's sample event.
-- done() prints one JSON line (latencies in ms) for bench/run.
--   wrk -t2 -c32 -d10s --latency -s bench/lib/post-event.lua http://127.0.0.1:PORT/events

local threads = {}
local counter = 0
local prefix = ""

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   -- Different in every run, so that runs against one store never repeat an id.
   prefix = string.format("wrk%x%x-%d", os.time(), math.floor(os.clock() * 1e6), thread_id or 0)
end

local headers = { ["Content-Type"] = "application/json" }
-- With TRACKER_WRITE_KEY set (bench/run passes it on), every request carries that write key.
local write_key = os.getenv("TRACKER_WRITE_KEY")
if write_key and write_key ~= "" then
   headers["Authorization"] = "Bearer " .. write_key
end

function request()
   counter = counter + 1
   local body = '{"type":"track","event":"Order Completed","userId":"user-' .. (counter % 1000)
      .. '","messageId":"' .. prefix .. '-' .. counter
      .. '","timestamp":"2026-01-31T12:00:00.000Z","properties":{"order_id":"o-' .. counter
      .. '","total":' .. (counter % 500 * 1.5) .. ',"currency":"EUR","products":[{"sku":"A-1","qty":2}]}'
      .. ',"context":{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"5.2.0"}}}'
   return wrk.format("POST", nil, headers, body)
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
