#!/usr/bin/env bash
# The README's Quick Start, run as a reader would: build examples/quickstart.rs (the
# README's program, kept equal to it by examples/tests/readme.rs), start it, check the
# line it prints, then send each `curl` line of the README's block and compare what curl
# prints with the `# ` line under it, exactly.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --example quickstart
if curl -s -o /dev/null http://127.0.0.1:8000/ 2>/dev/null; then
  echo "FAIL quickstart: something already listens on 127.0.0.1:8000"; exit 1
fi
log=$(mktemp)
target/release/examples/quickstart 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null http://127.0.0.1:8000/items/1 && break
  sleep 0.1
done
printed=$(sed -n '/^```text$/,/^```$/p' README.md | sed -n '2p')
if [ "$(head -n 1 "$log")" != "$printed" ]; then
  echo "FAIL quickstart: it printed '$(head -n 1 "$log")', the README shows '$printed'"; exit 1
fi
echo "ok   it prints: $printed"
# The block that follows "With it running".
block=$(awk '/^With it running/ { on = 1; next } on && /^```sh$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' README.md)
[ -n "$block" ] || { echo "FAIL quickstart: no request block in the README"; exit 1; }
checked=0
command=""
while IFS= read -r line; do
  case "$line" in
    curl\ *) command=$line ;;
    \#\ *)
      [ -n "$command" ] || { echo "FAIL quickstart: an answer without a request: $line"; exit 1; }
      want=${line#\# }
      got=$(bash -c "$command -sS")
      if [ "$got" != "$want" ]; then
        printf 'FAIL quickstart: %s\n  README: %s\n  got:    %s\n' "$command" "$want" "$got"; exit 1
      fi
      checked=$((checked + 1))
      command="" ;;
  esac
done <<<"$block"
[ "$checked" -ge 5 ] || { echo "FAIL quickstart: only $checked requests checked"; exit 1; }
echo "ok   the README's $checked requests answer what it shows"
