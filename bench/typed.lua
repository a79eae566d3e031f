-- The typed endpoint: path id, two constrained query parameters, a header read by a
-- dependency, and a six-field JSON body whose fields carry constraints (lengths, a
-- range, gt 0, a pattern, a list's max length). BENCH_INVALID=1 sends input that
-- fails, alternating two requests: type errors (path, query and body, plus a broken
-- pattern) and a body of the right types that breaks five constraints.
-- bench/instructions counts the same requests (servers/src/bin/instructions.rs).
-- BENCH_CHECK=1 (run.py's warm-up) tallies the statuses and prints them at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client"] = "bench"
if os.getenv("BENCH_INVALID") == "1" then
  local requests
  local i = 0
  -- Formatted in init, after wrk has set the Host header (a request without one is
  -- a 400 and a closed connection in hasten and actix-web).
  function init(args)
    requests = {
      wrk.format(nil, "/typed/0?limit=abc&q=",
        nil, '{"item": "widget", "quantity": "many", "price": 2.5, "email": "a@b.c", "tags": "x"}'),
      wrk.format(nil, "/typed/42?limit=10&q=widgets",
        nil, '{"item": "", "quantity": 0, "price": 0, "email": "a@b.c", "tags": ["a", "b", "c", "d", "e", "f"], "note": null}'),
    }
  end
  function request()
    i = 1 - i
    return requests[i + 1]
  end
else
  wrk.path = "/typed/42?limit=10&q=widgets"
  wrk.body = '{"item": "widget", "quantity": 3, "price": 2.5, "email": "a@example.com", "tags": ["a", "b"], "note": null}'
end

if os.getenv("BENCH_CHECK") == "1" then
  local threads = {}
  function setup(thread)
    table.insert(threads, thread)
  end
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
  function done(summary, latency, requests)
    local all = {}
    for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
        all[status] = (all[status] or 0) + n
      end
    end
    local out = {}
    for status, n in pairs(all) do
      table.insert(out, status .. ":" .. n)
    end
    io.write("statuses " .. table.concat(out, " ") .. "\n")
  end
end
