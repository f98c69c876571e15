-- wrk script for bench/router-overhead.ts: paced POSTs, optionally spread over
-- several servers, with the result printed as one JSON line.
--   wrk -tT -cC -dDs -s bench/wrk-paced.lua URL -- RATE C BODY
-- RATE is requests per second over all connections (0 = unpaced: each
-- connection sends its next request as soon as the last one is answered).
-- Pacing: before each request a connection waits an exponential think time
-- with mean C ÷ RATE seconds, so arrivals are close to Poisson at RATE as long
-- as responses take much less than that mean.
-- WRK_PORTS="p1,p2,…" (environment) points thread i at port p(i mod n) on the
-- URL's host, so one wrk process, with one latency histogram, drives several
-- workers directly.
-- The JSON line also carries the latency distribution as 1,000 quantiles
-- ("quantiles": the latency in microseconds at the midpoint of each 0.1% of
-- the requests), so that runs can be pooled by request count instead of
-- averaging their percentiles. (wrk 4.1's Lua API reads its histogram only
-- through percentile().)

local ports = {}
for p in string.gmatch(os.getenv("WRK_PORTS") or "", "%d+") do ports[#ports + 1] = p end
local threads = 0

function setup(thread)
  if #ports > 0 then
    thread.addr = wrk.lookup(wrk.host, ports[threads % #ports + 1])[1]
  end
  threads = threads + 1
end

local mean_ms = 0

function init(args)
  local rate = tonumber(args[1]) or 0
  local connections = tonumber(args[2]) or 1
  if rate > 0 then mean_ms = 1000 * connections / rate end
  wrk.method = "POST"
  wrk.body = args[3]
  wrk.headers["Content-Type"] = "application/json"
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function delay()
  if mean_ms == 0 then return 0 end
  return -math.log(1 - math.random()) * mean_ms
end

function done(summary, latency, requests)
  local e = summary.errors
  local quantiles = {}
  if summary.requests > 0 then
    for k = 1, 1000 do quantiles[k] = string.format("%d", latency:percentile((k - 0.5) / 10)) end
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,"quantiles":[%s]}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    table.concat(quantiles, ",")))
end
