"""Compare the OpenAPI documents of a FastAPI app and its hasten twin, structurally.

usage: python compare.py fastapi.json hasten.json

Both documents are normalised by the rules below, each a difference that is deliberate
and justified; anything else that differs is reported and the exit status is 1.
"""

import json
import sys

# Each rule: (what differs, why it is acceptable).
DIFFERENCES = [
    (
        "nullable types: hasten writes `\"type\": [\"string\", \"null\"]`, FastAPI "
        "`anyOf: [{type: string}, {type: null}]`",
        "JSON Schema 2020-12 defines both to accept exactly the same values; "
        "schemars 1 emits the shorter form.",
    ),
    (
        "numbers carry `format` (int64, uint32, double …) and integers their type's "
        "`minimum`/`maximum` in hasten",
        "a Rust integer has a range and hasten refuses values outside it with a 422; "
        "the document says so instead of hiding it. FastAPI's `int` is unbounded.",
    ),
    (
        "the OAuth2 token form is `OAuth2PasswordRequestForm` (with field descriptions) "
        "in hasten, `Body_login_token_post` in FastAPI",
        "hasten documents the form's type by its own name, like every other model; "
        "FastAPI synthesises a per-operation body model. Same fields, types, "
        "`pattern`, `format: password` and requiredness.",
    ),
    (
        "a response that is a list gets no generated `title` in hasten "
        "(FastAPI: `Response Read Own Items Users Me Items  Get`)",
        "the title is a name FastAPI derives from the route; it carries no information.",
    ),
    (
        "operations with a body document a 400 response in hasten",
        "both frameworks answer 400 `There was an error parsing the body` when the body "
        "is not valid text (FastAPI leaves it undocumented; schemathesis flags that).",
    ),
    (
        "operations guarded by a security scheme document a 401 response in hasten",
        "both answer 401 `Not authenticated` without credentials; hasten says so in "
        "the document (schemathesis flags the undocumented status otherwise).",
    ),
    (
        "optional model fields without a default value: pydantic writes no `default`, "
        "schemars writes `default: null` only where `#[serde(default)]` is set",
        "both mean the field may be left out; removed where the value is null.",
    ),
]


def normalise(node):
    """Apply the rules that rewrite schemas (nullable form, formats, null defaults)."""
    if isinstance(node, list):
        return [normalise(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: normalise(v) for k, v in node.items()}
    t = node.get("type")
    if isinstance(t, list) and "null" in t and len(t) == 2:
        other = [x for x in t if x != "null"][0]
        inner = {"type": other}
        # Keywords that constrain the non-null value move inside the anyOf.
        for key in ("format", "pattern", "minLength", "maxLength", "minimum", "maximum",
                    "exclusiveMinimum", "exclusiveMaximum", "items"):
            if key in node and not (key == "format" and node[key] == "password"):
                inner[key] = node.pop(key)
        del node["type"]
        node["anyOf"] = [inner, {"type": "null"}]
    if node.get("type") in ("integer", "number") and node.get("format") != "password":
        node.pop("format", None)
    if node.get("default", "absent") is None:
        node.pop("default")
    return node


def strip_type_bounds(fastapi, hasten):
    """Integer bounds that come from the Rust type (not from a declared constraint)."""
    if isinstance(fastapi, dict) and isinstance(hasten, dict):
        if hasten.get("type") == "integer":
            for key in ("minimum", "maximum"):
                if key in hasten and key not in fastapi:
                    hasten.pop(key)
        for k in hasten:
            if k in fastapi:
                strip_type_bounds(fastapi[k], hasten[k])
    elif isinstance(fastapi, list) and isinstance(hasten, list):
        for a, b in zip(fastapi, hasten):
            strip_type_bounds(a, b)


def rename_token_form(doc, name):
    schemas = doc.get("components", {}).get("schemas", {})
    if name in schemas:
        form = schemas.pop(name)
        form["title"] = "Body_login_token_post"
        form.pop("description", None)
        for prop in form.get("properties", {}).values():
            prop.pop("description", None)
        schemas["Body_login_token_post"] = form
    text = json.dumps(doc).replace(f"#/components/schemas/{name}", "#/components/schemas/Body_login_token_post")
    return json.loads(text)


def drop_list_titles(doc):
    for item in doc.get("paths", {}).values():
        for op in item.values():
            for resp in op.get("responses", {}).values():
                for media in resp.get("content", {}).values():
                    schema = media.get("schema", {})
                    if schema.get("type") == "array":
                        schema.pop("title", None)


def drop_body_400(doc):
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if "requestBody" in op:
                op.get("responses", {}).pop("400", None)
            if "security" in op:
                op.get("responses", {}).pop("401", None)


def diff(a, b, path="$"):
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
    elif a != b:
        out.append(f"{path}: FastAPI {json.dumps(a)[:200]} != hasten {json.dumps(b)[:200]}")
    return out


def main():
    fastapi = json.load(open(sys.argv[1]))
    hasten = json.load(open(sys.argv[2]))
    hasten = rename_token_form(hasten, "OAuth2PasswordRequestForm")
    fastapi = normalise(fastapi)
    hasten = normalise(hasten)
    strip_type_bounds(fastapi, hasten)
    drop_list_titles(fastapi)
    drop_list_titles(hasten)
    drop_body_400(hasten)
    problems = diff(fastapi, hasten)
    print("Accepted differences:")
    for what, why in DIFFERENCES:
        print(f"  - {what}\n      because {why}")
    if problems:
        print(f"\n{len(problems)} unexpected difference(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    ops = sum(len(v) for v in fastapi["paths"].values())
    print(f"\nidentical otherwise: {ops} operations, "
          f"{len(fastapi['components']['schemas'])} schemas, "
          f"{len(fastapi['components'].get('securitySchemes', {}))} security schemes")


if __name__ == "__main__":
    main()
