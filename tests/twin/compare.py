"""Compare the OpenAPI documents of FastAPI apps and their hasten twins.

usage: python compare.py FASTAPI.json HASTEN.json [FASTAPI.json HASTEN.json ...]

hasten writes FastAPI's document for the same app by default (`DocStyle::fastapi()`), so
the documents must be equal, key for key: there are no accepted differences. Anything
that differs is reported and the exit status is 1.
"""

import json
import sys


def diff(a, b, path="$"):
    """Every place where `a` (FastAPI's) and `b` (hasten's) differ."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: only in hasten: {json.dumps(b[k])[:200]}")
            elif k not in b:
                out.append(f"{path}.{k}: only in FastAPI: {json.dumps(a[k])[:200]}")
            else:
                out.extend(diff(a[k], b[k], f"{path}.{k}"))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(diff(x, y, f"{path}[{i}]"))
    elif a != b or isinstance(a, bool) != isinstance(b, bool):
        # `1 == True` in Python: a boolean must be a boolean on both sides.
        out.append(f"{path}: FastAPI {json.dumps(a)[:200]} != hasten {json.dumps(b)[:200]}")
    return out


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    failed = False
    for fastapi_path, hasten_path in zip(args[::2], args[1::2]):
        fastapi = json.load(open(fastapi_path))
        hasten = json.load(open(hasten_path))
        problems = diff(fastapi, hasten)
        if problems:
            failed = True
            print(f"{hasten_path}: {len(problems)} difference(s) from {fastapi_path}:")
            for p in problems:
                print("  " + p)
        else:
            ops = sum(len(v) for v in fastapi["paths"].values())
            schemas = len(fastapi.get("components", {}).get("schemas", {}))
            print(f"ok   {hasten_path}: identical to FastAPI's ({ops} operations, {schemas} schemas)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
