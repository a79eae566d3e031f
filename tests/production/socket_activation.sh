#!/usr/bin/env bash
# Socket activation: systemd-socket-activate (Debian's systemd package) holds the
# listening socket and starts the hello example on the first connection, passing the
# socket (LISTEN_FDS); the example serves it with `Server::from_systemd`, then stops
# gracefully on SIGTERM. Without a passed socket, the start fails with a clear message.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need systemd-socket-activate systemd
need curl curl
bin=target/release/examples/hello
[ -x "$bin" ] || cargo build --release --example hello
work=$(mktemp -d)
addr=127.0.0.1:18140
activator=
cleanup() { [ -n "$activator" ] && kill "$activator" 2>/dev/null; pkill -f "$work/hello" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp "$bin" "$work/hello"

# No socket passed: a clear failure, not a bind somewhere else.
if HASTEN_ADDR=systemd "$work/hello" >"$work/none.log" 2>&1; then
  echo "FAIL started without a passed socket"; exit 1
fi
grep -q "no socket was passed to this process" "$work/none.log" || { echo "FAIL unclear error:"; cat "$work/none.log"; exit 1; }
echo "ok   without a passed socket: $(grep -o 'no socket was passed[^(]*' "$work/none.log")"

# systemd-socket-activate listens, and starts the service on the first connection.
systemd-socket-activate -l "$addr" -E HASTEN_ADDR=systemd -E RUST_LOG=info "$work/hello" >>"$work/app.log" 2>&1 &
activator=$!
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/18140) 2>/dev/null && break; sleep 0.1; done
got=$(curl -fsS --max-time 10 "http://$addr/items/3?q=books")
[ "$got" = '{"item_id":3,"q":"books","limit":10}' ] || { echo "FAIL first request: $got"; cat "$work/app.log"; exit 1; }
grep -q "serving on http://$addr" "$work/app.log" || { echo "FAIL the log does not say where it serves"; cat "$work/app.log"; exit 1; }
echo "ok   started on the first connection, serving the passed socket ($addr)"

# More requests on the passed socket, then SIGTERM: a graceful stop.
for i in $(seq 1 20); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "http://$addr/items/$i?q=books")
  [ "$code" = 200 ] || { echo "FAIL request $i: $code"; cat "$work/app.log"; exit 1; }
done
kill -TERM "$activator"   # systemd-socket-activate exec()s the service: same process
for _ in $(seq 1 100); do kill -0 "$activator" 2>/dev/null || break; sleep 0.1; done
grep -q "shutdown complete" "$work/app.log" || { echo "FAIL no graceful shutdown"; cat "$work/app.log"; exit 1; }
activator=
echo "ok   20 more requests answered on the passed socket; SIGTERM shut it down gracefully"
