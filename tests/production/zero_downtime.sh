#!/usr/bin/env bash
# A restart without failed requests: two instances of the hello example behind nginx
# (Debian's), wrk through nginx; each instance in turn gets SIGTERM mid-load (its
# readiness answers 503 while it keeps serving for the drain delay), drains, exits
# and is started again. Fails unless every request through nginx succeeded.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need nginx nginx-light
need wrk wrk
need curl curl
bin=target/release/examples/hello
[ -x "$bin" ] || cargo build --release --example hello
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT

started=
start() { # port: start an instance (a child of this shell, to be waited for); its pid in $started
  HASTEN_ADDR="127.0.0.1:$1" HASTEN_DRAIN_DELAY_MS=1500 RUST_LOG=warn "$bin" >>"$work/app-$1.log" 2>&1 &
  started=$!
  pids+=("$started")
}
ready() { # port: wait until its readiness says ready
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL the instance on $1 never became ready"; cat "$work/app-$1.log"; exit 1
}

start 18101; a=$started
start 18102; b=$started
ready 18101; ready 18102

cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  upstream app {
    server 127.0.0.1:18101 max_fails=0;
    server 127.0.0.1:18102 max_fails=0;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:18100;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
    }
  }
}
CONF
nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf"
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18100/ >/dev/null 2>&1 && break; sleep 0.1; done

wrk -t1 -c32 -d12s http://127.0.0.1:18100/items/42 >"$work/wrk.txt" 2>&1 &
load=$!

restart() { # name, port, pid variable
  local name=$1 port=$2 pid=$3
  sleep 2
  kill -TERM "$pid"
  sleep 0.3
  local during
  during=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready" || true)
  echo "instance $name: SIGTERM sent; its readiness now answers $during"
  [ "$during" = "503" ] || { echo "FAIL readiness did not turn 503 during the drain"; exit 1; }
  wait "$pid" || { echo "FAIL instance $name exited with an error"; cat "$work/app-$port.log"; exit 1; }
  echo "instance $name: drained and exited"
}
restart A 18101 "$a"
start 18101; a=$started; ready 18101; echo "instance A: restarted, ready"
restart B 18102 "$b"
start 18102; b=$started; ready 18102; echo "instance B: restarted, ready"
wait "$load"
cat "$work/wrk.txt"
total=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
non2xx=$(awk -F': ' '/Non-2xx or 3xx responses/ {print $2}' "$work/wrk.txt")
sockets=$(grep -c 'Socket errors' "$work/wrk.txt" || true)
retried=$(grep -c 'upstream' "$work/nginx-error.log" || true)
echo "zero-downtime: $total requests through nginx, ${non2xx:-0} failed, socket errors: $([ "$sockets" = 0 ] && echo none || grep 'Socket errors' "$work/wrk.txt"); nginx moved $retried to the other instance"
[ -n "$total" ] && [ "$total" -gt 0 ] || { echo "FAIL no load ran"; exit 1; }
[ -z "$non2xx" ] && [ "$sockets" = 0 ] || { echo "FAIL requests failed during the restarts"; exit 1; }
echo "ok   both instances restarted under load without a failed request"
