#!/usr/bin/env bash
# JSON logs one setting away: the hello example with HASTEN_LOG_FORMAT=json writes one
# JSON object per line, and a request's access line carries its request ID.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/examples/hello
[ -x "$bin" ] || cargo build --release --example hello
log=$(mktemp)
HASTEN_LOG_FORMAT=json RUST_LOG=info HASTEN_ADDR=127.0.0.1:18110 "$bin" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:18110/health >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -H 'x-request-id: ci-json-1' http://127.0.0.1:18110/items/7 >/dev/null
kill -TERM $pid
wait $pid
python3 - "$log" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
records = []
for l in lines:
    try:
        records.append(json.loads(l))
    except ValueError:
        sys.exit(f"FAIL not a JSON line: {l!r}")
access = [r for r in records if r.get("target") == "hasten::access" and "/items/7" in r["fields"]["message"]]
if not access or access[0]["fields"].get("request_id") != "ci-json-1":
    sys.exit(f"FAIL the access line lacks the request ID: {access}")
print(f"ok   {len(records)} JSON log lines; the access line carries request_id=ci-json-1")
PY
