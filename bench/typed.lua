-- The typed endpoint: path id, two constrained query parameters, a header read by a
-- dependency, and a six-field JSON body. BENCH_INVALID=1 sends input that fails.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-client"] = "bench"
if os.getenv("BENCH_INVALID") == "1" then
  wrk.path = "/typed/0?limit=abc&q="
  wrk.body = '{"item": "widget", "quantity": "many", "price": 2.5, "email": "a@b.c", "tags": "x"}'
else
  wrk.path = "/typed/42?limit=10&q=widgets"
  wrk.body = '{"item": "widget", "quantity": 3, "price": 2.5, "email": "a@example.com", "tags": ["a", "b"], "note": null}'
end
