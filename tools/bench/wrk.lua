-- wrk script of the Ferrule benchmark harness (tools/bench/run.py).
-- POST when BENCH_BODY is set (JSON body); always prints one machine-readable
-- summary line "BENCH_JSON {...}" (latencies in microseconds).

local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,' ..
    '"timeouts":%d,"lat_mean":%.2f,"lat_p50":%d,"lat_p90":%d,"lat_p99":%d,"lat_max":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
