#!/usr/bin/env bash
# Metrics as Prometheus sees them: Debian's prometheus scrapes the hello example's
# /metrics every second during a short wrk load over many item IDs. Through its HTTP
# API, the request counter and the latency histogram come back per route template (and
# no raw path became a label); `promtool check metrics` passes on the exposition.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need prometheus prometheus
need promtool prometheus
need wrk wrk
need curl curl
bin=target/release/examples/hello
[ -x "$bin" ] || cargo build --release --example hello
work=$(mktemp -d)
app=127.0.0.1:18120
prom=127.0.0.1:18129
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

HASTEN_ADDR=$app RUST_LOG=warn "$bin" >"$work/app.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://$app/health" >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hello
    metrics_path: /metrics
    static_configs:
      - targets: ["$app"]
YML
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="$prom" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do curl -fsS "http://$prom/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$prom/-/ready" >/dev/null || { echo "FAIL prometheus did not start"; cat "$work/prometheus.log"; exit 1; }

# Many raw paths, one route template.
cat >"$work/ids.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/items/" .. (n % 5000 + 1) .. "?q=books")
end
LUA
wrk -t1 -c16 -d4s -s "$work/ids.lua" "http://$app" >"$work/wrk.txt"
sent=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
echo "wrk: $sent requests to /items/{id} over 5,000 ids"

# promtool lints the exposition the app serves.
curl -fsS "http://$app/metrics" >"$work/exposition.txt"
if ! promtool check metrics <"$work/exposition.txt"; then
  echo "FAIL promtool check metrics"; exit 1
fi
echo "ok   promtool check metrics: $(grep -vc '^#' "$work/exposition.txt") series, no problems"

query() { # PromQL: the JSON answer of the instant query
  curl -fsS --get "http://$prom/api/v1/query" --data-urlencode "query=$1"
}
# Wait (bounded) for a scrape after the load.
for _ in $(seq 1 50); do
  got=$(query 'sum(http_requests_total{route="/items/{item_id}",status="200"})')
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and float(r[0]["value"][1]) >= float(sys.argv[1]) else 1)' "$sent" <<<"$got" && break
  sleep 0.2
done
python3 - "$sent" \
  "$(query 'sum by (route, status) (http_requests_total{route="/items/{item_id}"})')" \
  "$(query 'histogram_quantile(0.99, sum by (le, route) (http_request_duration_seconds_bucket{route="/items/{item_id}"}))')" \
  "$(query 'sum by (route) (http_request_duration_seconds_count{route="/items/{item_id}"})')" \
  "$(query 'count(http_requests_total)')" \
  "$(query 'up{job="hello"}')" <<'PY'
import json, sys
sent = int(sys.argv[1])
def result(i):
    answer = json.loads(sys.argv[i])
    if answer["status"] != "success":
        sys.exit(f"FAIL query {i}: {answer}")
    return answer["data"]["result"]
counter, p99, hist_count, series, up = (result(i) for i in range(2, 7))
if not up or up[0]["value"][1] != "1":
    sys.exit(f"FAIL the target is not up: {up}")
ok = [r for r in counter if r["metric"].get("status") == "200"]
if not ok or float(ok[0]["value"][1]) < sent:
    sys.exit(f"FAIL http_requests_total for /items/{{item_id}}: {counter}, wrk sent {sent}")
if not hist_count or float(hist_count[0]["value"][1]) < sent:
    sys.exit(f"FAIL the latency histogram's count: {hist_count}")
if not p99:
    sys.exit("FAIL no p99 from the latency histogram")
n = int(float(series[0]["value"][1]))
if n > 20:
    sys.exit(f"FAIL {n} request series: raw paths became labels")
print(f"ok   through Prometheus: http_requests_total{{route=\"/items/{{item_id}}\",status=\"200\"}} = "
      f"{ok[0]['value'][1]} (wrk sent {sent}); histogram count {hist_count[0]['value'][1]}; "
      f"p99 {float(p99[0]['value'][1]) * 1000:.1f} ms; {n} request series in all")
PY
