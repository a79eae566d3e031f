#!/usr/bin/env bash
# A bad configuration stops the process at start with a clear message and a failed
# exit: the dependencies example makes its database pool at start (`App::eager`), and
# HASTEN_DB points where no database can be opened.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/examples/dependencies
[ -x "$bin" ] || cargo build --release --example dependencies
err=$(mktemp)
status=0
HASTEN_DB=/nonexistent/dir/app.sqlite HASTEN_ADDR=127.0.0.1:18120 timeout 30 "$bin" >"$err" 2>&1 || status=$?
if [ "$status" != 1 ]; then
  echo "FAIL wanted exit status 1, got $status"; cat "$err"; exit 1
fi
grep -q "error: the app cannot start:" "$err" || { echo "FAIL no start error"; cat "$err"; exit 1; }
grep -q "the app-scoped dependency \`dependencies::pool\` failed at startup" "$err" \
  || { echo "FAIL the failing dependency is not named"; cat "$err"; exit 1; }
grep -q "unable to open database file" "$err" || { echo "FAIL the cause is not logged"; cat "$err"; exit 1; }
echo "ok   a database that cannot be opened stops the start (exit 1):"
grep -A3 "error: the app cannot start" "$err" | sed 's/^/     /'
