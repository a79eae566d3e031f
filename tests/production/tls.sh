#!/usr/bin/env bash
# HTTPS with the `tls` feature: the hello example with HASTEN_TLS_CERT/HASTEN_TLS_KEY
# (a certificate made here with openssl) on 127.0.0.1:18130. curl gets HTTP/2 and
# HTTP/1.1 by ALPN; a plain-text client is closed, not left hanging; Debian's
# testssl.sh finds no protocol below TLS 1.2 and no weak cipher offered.
# ../shared/tools/h1probe.py's RFC 9112 probes run over TLS too: it has no TLS option,
# so it runs with Python's ssl socket in place of its plain one.
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need openssl openssl
need curl curl
need testssl testssl.sh
need python3 python3
bin=target/release/examples/hello
[ -x "$bin" ] || cargo build --release --example hello
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
started_at=$SECONDS
port=18130
url=https://127.0.0.1:$port

# A self-signed RSA certificate for 127.0.0.1 and localhost, valid for a day.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

fail() { echo "FAIL $*"; echo "--- server log"; tail -n 20 "$work/app.log"; exit 1; }

# A certificate where the key should be stops the start, the reason naming the file.
set +e
HASTEN_TLS_CERT="$work/cert.pem" HASTEN_TLS_KEY="$work/cert.pem" HASTEN_ADDR=127.0.0.1:$port \
  timeout 10 "$bin" >"$work/app.log" 2>&1
code=$?
set -e
[ "$code" = 1 ] && grep -q "holds no private key" "$work/app.log" || fail "a bad key file: exit $code"
echo "ok   a bad key file stops the start: $(grep -o 'error: .*' "$work/app.log")"

HASTEN_TLS_CERT="$work/cert.pem" HASTEN_TLS_KEY="$work/key.pem" HASTEN_ADDR=127.0.0.1:$port \
  RUST_LOG=info,hasten::server=debug "$bin" >"$work/app.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS --cacert "$work/cert.pem" "$url/health" >/dev/null 2>&1 && break
  sleep 0.1
done
grep -q "serving on https://127.0.0.1:$port" "$work/app.log" || fail "the log does not say it serves https"
echo "ok   the log says: $(grep -o "serving on https://[^ ]*" "$work/app.log")"

want='{"item_id":1,"q":"books","limit":10}'
for proto in http2 http1.1; do
  got=$(curl -sS "--$proto" --cacert "$work/cert.pem" -o "$work/body" \
    -w '%{http_version} %{http_code}' "$url/items/1?q=books") || fail "curl --$proto failed"
  body=$(cat "$work/body")
  case $proto in http2) expected="2 200" ;; *) expected="1.1 200" ;; esac
  [ "$got" = "$expected" ] && [ "$body" = "$want" ] ||
    fail "curl --$proto: wanted HTTP/$expected $want, got HTTP/$got $body"
  echo "ok   curl --$proto: HTTP/$got $body"
done
alpn=$(curl -sS -v --http2 --cacert "$work/cert.pem" -o /dev/null "$url/" 2>&1 | grep -E "ALPN|SSL connection using" | tr -d '\r' | sed 's/^\* /     /')
echo "$alpn"
echo "$alpn" | grep -q "server accepted h2" || fail "ALPN did not choose h2"

# h1probe over TLS (ALPN http/1.1), in the venv .ci/run uses (made here if missing).
py=.venv-oracles/bin/python
probe=../shared/tools/h1probe.py
[ -f "$probe" ] || fail "h1probe is missing: $probe"
[ -x "$py" ] || python3 -m venv .venv-oracles
"$py" -c 'import h11' 2>/dev/null || .venv-oracles/bin/pip install -q h11
"$py" - "$work/cert.pem" "127.0.0.1:$port" "$probe" >"$work/h1probe.txt" 2>&1 <<'PY' ||
import runpy, socket, ssl, sys

cafile, target, probe = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=cafile)
ctx.set_alpn_protocols(["http/1.1"])
plain = socket.create_connection

def tls_connection(address, *args, **kwargs):
    return ctx.wrap_socket(plain(address, *args, **kwargs), server_hostname=address[0])

socket.create_connection = tls_connection
sys.argv = [probe, target, "/items/"]
runpy.run_path(probe, run_name="__main__")
PY
  { cat "$work/h1probe.txt"; fail "h1probe over TLS"; }
echo "ok   h1probe over TLS: $(grep -c . "$work/h1probe.txt") lines, last: $(tail -n 1 "$work/h1probe.txt")"

# Plain text to the TLS port: closed at once (curl reads at most a TLS alert: exit 1,
# 52 or 56), not a hang (28).
t0=$(date +%s%N)
set +e
curl -sS -m 5 -o /dev/null "http://127.0.0.1:$port/" 2>"$work/plain.err"
code=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$code" = 0 ] || [ "$code" = 28 ]; then fail "plain HTTP to the TLS port: curl exit $code after $ms ms"; fi
echo "ok   plain HTTP to the TLS port closed in $ms ms (curl exit $code: $(tr -d '\n' <"$work/plain.err"))"
grep -q "TLS handshake failed" "$work/app.log" || fail "the failed handshake is not logged at debug level"

# testssl.sh: protocols, the standard cipher categories (`cipherlist_AVERAGE` is the
# obsolete CBC ciphers) and RC4; offline and quick.
t0=$SECONDS
set +e
timeout 240 testssl --quiet --color 0 --warnings off --nodns min --openssl-timeout 5 \
  --protocols --std --rc4 --jsonfile "$work/testssl.json" "127.0.0.1:$port" >"$work/testssl.txt" 2>&1
code=$?
set -e
echo "     testssl.sh ran in $((SECONDS - t0)) s (exit $code)"
python3 - "$work/testssl.json" <<'PY' || { cat "$work/testssl.txt"; fail "testssl.sh found a weakness"; }
import json, sys

findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
problems = []

def finding(fid):
    f = by_id.get(fid)
    if f is None:
        problems.append(f"{fid}: not in testssl's report")
        return ""
    return f["finding"]

print("     protocols:")
for fid in ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"]:
    text = finding(fid)
    print(f"       {fid:8} {text}")
    offered = text.startswith("offered")
    if fid in ("TLS1_2", "TLS1_3") and not offered:
        problems.append(f"{fid} not offered: {text!r}")
    if fid not in ("TLS1_2", "TLS1_3") and "not offered" not in text:
        problems.append(f"{fid} offered: {text!r}")
print("     cipher categories:")
for fid in ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
            "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "RC4"]:
    text = finding(fid)
    print(f"       {fid:22} {text}")
    if "not offered" not in text and "not vulnerable" not in text:
        problems.append(f"{fid}: {text!r}")
for fid in ["cipherlist_STRONG", "ALPN_HTTP2", "ALPN"]:
    if fid in by_id:
        print(f"       {fid:22} {by_id[fid]['finding']}")
# Anything else about protocols or ciphers that testssl rates MEDIUM or worse.
cipherish = ("SSLv", "TLS1", "cipherlist_", "cipher_", "RC4", "cipher-")
for f in findings:
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL") and f["id"].startswith(cipherish):
        problems.append(f"{f['id']} ({f['severity']}): {f['finding']}")
    if f["severity"] == "FATAL" or f["id"] in ("scanProblem", "engine_problem"):
        problems.append(f"{f['id']} ({f['severity']}): {f['finding']}")
severities = {}
for f in findings:
    severities[f["severity"]] = severities.get(f["severity"], 0) + 1
print(f"     {len(findings)} findings by severity: {dict(sorted(severities.items()))}")
if problems:
    print("FAIL testssl.sh:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("ok   testssl.sh: only TLS 1.2 and 1.3; no NULL, anonymous, export, LOW, 3DES, CBC or RC4 cipher")
PY

kill -TERM "$pid"
wait "$pid" || fail "the server did not exit cleanly"
pid=
grep -q "shutdown complete" "$work/app.log" || fail "no clean shutdown"
echo "ok   TLS checks done in $((SECONDS - started_at)) s"
