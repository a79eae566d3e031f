"""The FastAPI twins of `tests/twin/apps/`: each a FastAPI app and the same app written
with hasten (`examples/twins/<name>.rs`), held to one another on the document and on
behaviour.

usage: python twins.py TWINS_BINARY [NAME ...]

For each app (all of `apps/*.py` unless NAMEs are given):

1. the OpenAPI documents — FastAPI's `app.openapi()` and `TWINS_BINARY NAME --openapi` —
   must be equal, key for key (`compare.diff`), and hasten's valid OpenAPI 3.1;
2. both are served (FastAPI under uvicorn, hasten by `TWINS_BINARY NAME`), the module's
   `CASES` are sent to each, and status, the headers of `live.HEADERS` and the body
   must be the same (`live.replay`).

An app module defines `app` (the FastAPI app) and `CASES`: a list of
`(label, (method, path, headers, body))`; optionally `KNOWN`, `{label: reason}` for the
cases where hasten is known to differ, each with why (they must still differ). Exit 1
on any other difference.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "apps"))

from compare import diff  # noqa: E402
from live import replay_cases  # noqa: E402

# Each app takes two ports from here on (`TWINS_BASE_PORT` moves them).
BASE_PORT = int(os.environ.get("TWINS_BASE_PORT", "18100"))

# The differences accepted on behaviour, each with its reason: (part, test, why).
ACCEPTED = [
    ("allow",
     lambda fastapi, hasten: fastapi is not None and hasten is not None
     and set(fastapi.split(", ")) <= set(hasten.split(", ")),
     "a 405's Allow lists every method the path answers (RFC 9110 §15.5.6), HEAD wherever "
     "GET is (§9.3.2); FastAPI lists the methods of the first route for the path only, "
     "without HEAD (README)"),
]

# The one difference accepted in the documents, with its reason.
DOCUMENT_ACCEPTED = (
    "operationId of a route answering several methods: each method gets its own "
    "(`ping_ping_get`, `ping_ping_post`); FastAPI gives all of them the id of whichever "
    "method its set yields first, which changes from run to run, and warns that the id "
    "is duplicated"
)


def accepted(part, fastapi, hasten):
    return any(p == part and test(fastapi, hasten) for p, test, _ in ACCEPTED)


def shared_operation_ids(fastapi, hasten):
    """Where FastAPI gives the operations of one path the same id and hasten gives each
    its method's (`<id>_<method>`), take FastAPI's: see DOCUMENT_ACCEPTED."""
    for path, item in fastapi.get("paths", {}).items():
        ids = {op.get("operationId") for op in item.values() if isinstance(op, dict)}
        if len(item) < 2 or len(ids) != 1:
            continue
        (shared,) = ids
        base = shared.rsplit("_", 1)[0]
        for method, op in hasten.get("paths", {}).get(path, {}).items():
            if op.get("operationId") == f"{base}_{method}":
                op["operationId"] = shared


def wait_for(url, proc, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited before serving")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not serve {url} within 30 s")


def check(binary, name, port):
    """The problems of one twin pair, as lines."""
    module = importlib.import_module(name)
    problems = []
    hasten_doc = subprocess.run([binary, name, "--openapi"], check=True, capture_output=True,
                                text=True).stdout
    fastapi_doc, hasten_doc = module.app.openapi(), json.loads(hasten_doc)
    # The default (FastAPI-style) document is a valid OpenAPI 3.1 document too.
    from openapi_spec_validator import validate
    try:
        validate(hasten_doc)
    except Exception as e:  # noqa: BLE001 - any validation error is a problem
        problems.append(f"document: not valid OpenAPI 3.1: {str(e).splitlines()[0]}")
    shared_operation_ids(fastapi_doc, hasten_doc)
    for p in diff(fastapi_doc, hasten_doc):
        problems.append(f"document: {p}")
    fastapi_port, hasten_port = port, port + 1
    python = Path(sys.executable)
    uvicorn = subprocess.Popen(
        [str(python.parent / "uvicorn"), f"{name}:app", "--host", "127.0.0.1", "--port",
         str(fastapi_port), "--log-level", "warning"],
        cwd=HERE / "apps", start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    env = dict(os.environ, HASTEN_ADDR=f"127.0.0.1:{hasten_port}", RUST_LOG="off")
    hasten = subprocess.Popen([binary, name], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        fastapi_base = f"http://127.0.0.1:{fastapi_port}"
        hasten_base = f"http://127.0.0.1:{hasten_port}"
        wait_for(fastapi_base + "/openapi.json", uvicorn, f"uvicorn {name}")
        wait_for(hasten_base + "/openapi.json", hasten, f"hasten {name}")
        found = replay_cases(module.CASES, fastapi_base, hasten_base, accepted)
        # A twin's KNOWN cases ({label: reason}) are gaps named in the open: they must
        # still differ (else the entry is stale) and are not failures.
        known = getattr(module, "KNOWN", {})
        for label, why in known.items():
            if not any(p.startswith(f"{label}: ") for p in found):
                problems.append(f"{label}: KNOWN says it differs ({why}), but it no longer "
                                f"does: remove it from KNOWN")
        problems.extend(p for p in found if p.split(": ", 1)[0] not in known)
    finally:
        for proc in (uvicorn, hasten):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    return len(module.CASES), problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or sorted(p.stem for p in (HERE / "apps").glob("*.py"))
    print("Accepted differences:")
    for part, _, why in ACCEPTED:
        print(f"  - {part}: {why}")
    print(f"  - document: {DOCUMENT_ACCEPTED}")
    failed = False
    for i, name in enumerate(names):
        cases, problems = check(binary, name, BASE_PORT + 2 * i)
        if problems:
            failed = True
            print(f"FAIL {name}: {len(problems)} difference(s)")
            for p in problems:
                print("  " + p)
        else:
            known = getattr(importlib.import_module(name), "KNOWN", {})
            print(f"ok   {name}: the same document, and the same answer to {cases - len(known)} "
                  f"of {cases} requests")
            for label, why in known.items():
                print(f"       known gap: {label}: {why}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
