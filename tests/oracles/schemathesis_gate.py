"""Gate a schemathesis run: it must have run, tested every operation, and found nothing.

usage: python schemathesis_gate.py EXIT_CODE REPORT.ndjson OPENAPI.json

- EXIT_CODE is schemathesis's own: 0 passed, 1 failures found, 2 or more an error
  (a bad schema, a server that did not answer, bad arguments). 2 or more fails the gate.
- REPORT.ndjson is its `--report ndjson` event stream. A report with no finished
  scenario fails the gate, as does an operation of the document (every method of every
  path) with no test case generated for it in any phase.
- Every scenario that finished with a failure or an error fails the gate, whatever the
  check. There are no exceptions: the one kind of input hasten accepts on purpose
  (pydantic's lax coercions) is never generated as a negative case — the hooks in
  `schemathesis_hooks.py` filter it out, with the schema in hand.

Exit 1 and a list of what is wrong, or 0.
"""

import json
import sys

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations(document):
    """`METHOD /path` for every operation of an OpenAPI document."""
    return {
        f"{method.upper()} {path}"
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in METHODS
    }


def judge(exit_code, events, document):
    """The problems with a run: an empty list when it passes."""
    problems = []
    if exit_code >= 2:
        problems.append(f"schemathesis exited with {exit_code}: it errored instead of testing")
    finished = [e["ScenarioFinished"] for e in events if "ScenarioFinished" in e]
    if not finished:
        problems.append("the report has no finished scenario: nothing was tested")
    cases = {}
    for s in finished:
        label = s.get("recorder", {}).get("label", "?")
        count = len(s.get("recorder", {}).get("cases", {}) or {})
        cases[label] = cases.get(label, 0) + count
        if s.get("status") in ("failure", "error"):
            problems.append(f"{label}: {s['status']} in the {s.get('phase')} phase")
    for op in sorted(operations(document)):
        if cases.get(op, 0) == 0:
            problems.append(f"{op}: no test case was generated")
    if exit_code == 1 and not any(s.get("status") in ("failure", "error") for s in finished):
        problems.append("schemathesis exited with 1 but the report shows no failure")
    return problems


def main():
    exit_code = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        events = [json.loads(line) for line in f if line.strip()]
    with open(sys.argv[3]) as f:
        document = json.load(f)
    problems = judge(exit_code, events, document)
    tested = len(operations(document))
    if problems:
        for p in problems:
            print(f"FAIL {p}")
        return 1
    print(f"ok   schemathesis: {tested} operations tested, no failure, no error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
