#!/usr/bin/env bash
# Three instances of the scaleout example behind nginx (Debian's), sharing one
# PostgreSQL (tests/engines/postgres.sh) for their job queue, and Redis, then the same
# PostgreSQL, as the broker of their WebSocket rooms:
#   1. nginx reaches every instance;
#   2. 1,000 jobs queued through instance A run exactly once in total, by their effects,
#      and the instances share them;
#   3. `kill -9` of the instance running a job: another instance runs it again and it
#      completes; with an idempotency key the effect is written once, without one twice;
#   4. WebSocket clients on different instances hear each other and see the same
#      presence, through Redis and through PostgreSQL;
#   5. a rate limit of 20 a minute, counted in Redis, holds across the instances: of 30
#      requests through nginx, 20 pass and 10 are refused with 429;
#      a session made through one instance is the same on all of them;
#   6. the instances restarted with their job queue in Redis: 300 jobs run exactly once;
#   7. Redis stopped for 10 s: the WebSocket clients stay connected and are told, the
#      rooms and presence work again once it is back, and of the jobs enqueued while it
#      stopped and started, every one acknowledged (200) runs.
# Every wait is bounded; any failure exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need nginx nginx-light
need curl curl
need psql postgresql-client
need jq jq
need redis-server redis-server
[ -x .venv-oracles/bin/python ] || python3 -m venv .venv-oracles
.venv-oracles/bin/pip install -q "websockets==17.4"
cargo build --release -p hasten-examples --example scaleout --features postgres
bin=target/release/examples/scaleout
work=$(mktemp -d)
pg=$(mktemp -d -u /tmp/hasten-scaleout-pg.XXXXXX)   # the postgres user must reach it
declare -A pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  tests/engines/postgres.sh stop "$pg"
}
trap cleanup EXIT
db=$(tests/engines/postgres.sh start "$pg" 26432)
echo "PostgreSQL at $db"
# Jobs in Redis outlive a restart of it only with the append-only file.
redis_start="redis-server --port 26379 --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always --dir $work --daemonize yes --pidfile $work/redis.pid --logfile $work/redis.log"
redis_stop="kill \$(cat $work/redis.pid); while [ -f $work/redis.pid ]; do sleep 0.05; done"
eval "$redis_start"
for _ in $(seq 1 50); do redis-cli -p 26379 ping >/dev/null 2>&1 && break; sleep 0.1; done
channels=redis://127.0.0.1:26379/
jobs=""   # the job queue: PostgreSQL until set to Redis

declare -A ports=([a]=18111 [b]=18112 [c]=18113)
start() { # instance name
  local name=$1 port=${ports[$1]}
  DATABASE_URL=$db HASTEN_JOBS=$jobs HASTEN_CHANNELS=$channels HASTEN_RATE_LIMITS=redis://127.0.0.1:26379/ HASTEN_SESSIONS=redis://127.0.0.1:26379/ HASTEN_INSTANCE=$name HASTEN_JOBS_HEARTBEAT_MS=1000 HASTEN_ADDR="127.0.0.1:$port" \
    RUST_LOG=warn,hasten::jobs=info "$bin" >>"$work/$name.log" 2>&1 &
  pids[$name]=$!
}
up() { # instance name: wait until it answers
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:${ports[$1]}/instance" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL instance $1 did not start"; cat "$work/$1.log"; exit 1
}
for name in a b c; do start "$name"; done
for name in a b c; do up "$name"; done

cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  upstream app {
    server 127.0.0.1:${ports[a]} max_fails=0;
    server 127.0.0.1:${ports[b]} max_fails=0;
    server 127.0.0.1:${ports[c]} max_fails=0;
  }
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:18110;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf"
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18110/instance >/dev/null 2>&1 && break; sleep 0.1; done

fail() { echo "FAIL $*"; for n in a b c; do echo "--- $n"; tail -n 20 "$work/$n.log"; done; exit 1; }
effects() { curl -fsS "http://127.0.0.1:18110/effects/$1"; }
wait_for() { # description, seconds, jq condition on effects of prefix, prefix
  local what=$1 secs=$2 cond=$3 prefix=$4
  for _ in $(seq 1 $((secs * 10))); do
    effects "$prefix" | jq -e "$cond" >/dev/null && return 0
    sleep 0.1
  done
  fail "$what: $(effects "$prefix")"
}

echo "== nginx reaches every instance"
seen=$(for _ in $(seq 1 9); do curl -fsS http://127.0.0.1:18110/instance; echo; done | sort -u | tr '\n' ' ')
echo "answered: $seen"
[ "$seen" = "a b c " ] || fail "nginx did not reach all three instances"

exactly_once() { # count, prefix: queue them through instance A; each runs once, shared
  local count=$1 prefix=$2 queued again result
  queued=$(curl -fsS -X POST "http://127.0.0.1:${ports[a]}/work?count=$count&prefix=$prefix")
  echo "queued: $queued"
  [ "$(jq .added <<<"$queued")" = "$count" ] || fail "instance A did not queue $count jobs"
  again=$(curl -fsS -X POST "http://127.0.0.1:${ports[b]}/work?count=$count&prefix=$prefix")
  [ "$(jq .added <<<"$again")" = 0 ] || fail "the same keys were queued twice: $again"
  wait_for "$count effects" 60 ".keys == $count" "$prefix"
  sleep 1
  result=$(effects "$prefix")
  echo "effects: $result"
  jq -e ".doubled == 0 and .starts == $count" <<<"$result" >/dev/null || fail "a job ran more than once: $result"
  jq -e '.by_instance | length >= 2' <<<"$result" >/dev/null || fail "the work was not shared: $result"
}

echo "== 1,000 jobs queued through instance A run exactly once in total"
exactly_once 1000 bulk
done_jobs=$(psql -Atq "$db" -c "SELECT count(*) FROM apalis.jobs WHERE job_type = 'record' AND status = 'Done' AND idempotency_key LIKE 'bulk-%'")
[ "$done_jobs" = 1000 ] || fail "$done_jobs of 1,000 jobs are Done"

crash() { # prefix, idempotent: queue one long job, kill -9 its instance, wait for the rerun
  local prefix=$1 idempotent=$2 runner
  curl -fsS -X POST "http://127.0.0.1:${ports[a]}/work?count=1&prefix=$prefix&hold_ms=4000&idempotent=$idempotent" >/dev/null
  wait_for "the $prefix job to start" 20 '.starts == 1' "$prefix"
  runner=$(effects "$prefix" | jq -r '.by_instance | keys[0]')
  echo "the $prefix job runs on instance $runner: kill -9"
  kill -9 "${pids[$runner]}"
  wait "${pids[$runner]}" 2>/dev/null || true
  unset "pids[$runner]"
  wait_for "the $prefix job to run again elsewhere" 40 '.starts == 2' "$prefix"
  for _ in $(seq 1 100); do
    status=$(psql -Atq "$db" -c "SELECT status || ' ' || attempts FROM apalis.jobs WHERE idempotency_key = '$prefix-0'")
    [ "${status%% *}" = Done ] && break
    sleep 0.1
  done
  echo "the $prefix job: $status (status, attempts); effects: $(effects "$prefix")"
  [ "${status%% *}" = Done ] || fail "the $prefix job did not complete after its instance died"
  start "$runner"
  up "$runner"
}
echo "== kill -9 of the instance running a job with an idempotent effect"
crash crash true
jq -e '.keys == 1 and .doubled == 0' <<<"$(effects crash)" >/dev/null || fail "the idempotent effect was written twice"
echo "== the same without the idempotent write: the effect doubles (what the key prevents)"
crash nokey false
jq -e '.keys == 1 and .doubled == 1' <<<"$(effects nokey)" >/dev/null || fail "the control did not double"

echo "== a rate limit of 20 a minute holds across the instances (counts in Redis)"
codes=$(for _ in $(seq 1 30); do curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:18110/limited; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "answers: $codes"
[ "$codes" = " 20 200; 10 429;" ] || fail "the limit did not hold across the instances: $codes"
served=$(for _ in $(seq 1 3); do curl -s -H 'X-Forwarded-For: 10.9.9.9' http://127.0.0.1:18110/limited; echo; done | sort -u | wc -l)
[ "$served" = 3 ] || fail "another client shared the count, or nginx did not spread it: $served instances"
retry=$(curl -s -D - -o /dev/null http://127.0.0.1:18110/limited | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after"{print $2}')
[ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 3 ] || fail "Retry-After was '$retry', not 1 to 3 s"

echo "== a session made through one instance is the same on all of them (sessions in Redis)"
jar=$work/cookies.txt
visits=$(for _ in $(seq 1 6); do curl -fsS -b "$jar" -c "$jar" http://127.0.0.1:18110/visits; echo; done)
echo "$visits" | tr '\n' ';'; echo
[ "$(awk '{print $1}' <<<"$visits" | tr '\n' ' ')" = "1 2 3 4 5 6 " ] || fail "the visits were not counted in one session: $visits"
[ "$(awk '{print $2}' <<<"$visits" | sort -u | wc -l)" = 3 ] || fail "the session was not served by all three instances: $visits"

hosts="127.0.0.1:${ports[a]} 127.0.0.1:${ports[b]} 127.0.0.1:${ports[c]}"
echo "== WebSocket rooms through Redis"
# shellcheck disable=SC2086
.venv-oracles/bin/python tests/scaleout/ws_check.py lobby $hosts || fail "rooms through Redis"
restart_all() {
  # `wait` gives the status of a process ended by TERM (143): not a failure here.
  for name in a b c; do kill -TERM "${pids[$name]}"; wait "${pids[$name]}" 2>/dev/null || true; done
  for name in a b c; do start "$name"; done
  for name in a b c; do up "$name"; done
}
echo "== the job queue in Redis: 300 jobs queued through instance A run exactly once"
jobs=redis://127.0.0.1:26379/
restart_all
exactly_once 300 rbulk

echo "== Redis stopped for 10 s"
# Meanwhile a client enqueues a job every 100 ms through nginx, noting the answers.
enqueue_log=$work/outage-enqueues.log
: >"$enqueue_log"
(
  for i in $(seq 1 180); do
    # A refused or timed-out enqueue is noted by its code (000 when there was no
    # answer), not ended on: `|| true` keeps `set -e` from stopping the loop.
    code=$(curl -s -o /dev/null -m 8 -w '%{http_code}' -X POST "http://127.0.0.1:18110/work?count=1&prefix=outage$i" || true)
    echo "outage$i-0 $code" >>"$enqueue_log"
    sleep 0.1
  done
) &
enqueuer=$!
# shellcheck disable=SC2086
.venv-oracles/bin/python tests/scaleout/ws_check.py outage-room $hosts --outage "$redis_stop" "$redis_start" 10 \
  || fail "the Redis outage"
wait "$enqueuer"
acked=$(awk '$2 == 200 {print $1}' "$enqueue_log" | sort)
refused=$(awk '$2 != 200' "$enqueue_log" | wc -l)
echo "enqueued during the outage: $(wc -l <"$enqueue_log") tries, $(wc -w <<<"$acked") acknowledged, $refused refused"
[ "$refused" -gt 0 ] || fail "no enqueue was refused: Redis did not stop"
[ "$(wc -w <<<"$acked")" -gt 20 ] || fail "too few enqueues were acknowledged"
for _ in $(seq 1 600); do
  ran=$(psql -Atq "$db" -c "SELECT key FROM effects WHERE key LIKE 'outage%'" | sort)
  lost=$(comm -23 <(echo "$acked") <(echo "$ran") | wc -l)
  [ "$lost" = 0 ] && break
  sleep 0.1
done
[ "$lost" = 0 ] || fail "$lost acknowledged jobs were lost: $(comm -23 <(echo "$acked") <(echo "$ran") | head -5 | tr '\n' ' ')"
echo "every acknowledged job ran ($(wc -w <<<"$ran") effects)"

echo "== WebSocket rooms through PostgreSQL"
channels=$db
restart_all
# shellcheck disable=SC2086
.venv-oracles/bin/python tests/scaleout/ws_check.py lobby $hosts || fail "rooms through PostgreSQL"

echo "ok   scale-out: 3 instances behind nginx, jobs on PostgreSQL and Redis, rooms on Redis and PostgreSQL, a shared rate limit"
