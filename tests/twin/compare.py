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
        "`minimum`/`maximum` in hasten (removed only when the format fits the type and "
        "a bound is exactly that type's)",
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
        "operations with a body document a 400 response in hasten (removed only when it "
        "is exactly `The body could not be parsed` with a `detail` string)",
        "both frameworks answer 400 `There was an error parsing the body` when the body "
        "is not valid text (FastAPI leaves it undocumented; schemathesis flags that).",
    ),
    (
        "operations guarded by a security scheme document a 401 response in hasten "
        "(removed only when it is exactly `Not authenticated` with a `detail` string)",
        "both answer 401 `Not authenticated` without credentials; hasten says so in "
        "the document (schemathesis flags the undocumented status otherwise).",
    ),
    (
        "optional model fields without a default value: pydantic writes no `default`, "
        "schemars writes `default: null` only where `#[serde(default)]` is set",
        "both mean the field may be left out; removed where the value is null.",
    ),
]


# The formats a Rust number has, and the range its type allows.
INTEGER_RANGES = {
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1), "uint": (0, 2**64 - 1),
}
NUMBER_FORMATS = {"float", "double"}

# The responses hasten documents and FastAPI does not (see DIFFERENCES): removed only
# when they are exactly these, and only on the operations that can answer them.
DETAIL = {"application/json": {"schema": {"type": "object", "properties": {
    "detail": {"type": "string", "title": "Detail"}}, "required": ["detail"]}}}
BODY_400 = {"description": "The body could not be parsed", "content": DETAIL}
SECURITY_401 = {"description": "Not authenticated", "content": DETAIL}


def strip_number_format(node):
    """Drop a `format` that is the Rust type of a number, and the bounds that are only
    that type's range; anything else (an integer format on a `number`, a bound that
    differs from the type's) is left to show up as a difference."""
    fmt = node.get("format")
    if node.get("type") == "integer" and fmt in INTEGER_RANGES:
        low, high = INTEGER_RANGES[fmt]
        node.pop("format")
        if node.get("minimum") == low:
            node.pop("minimum")
        if node.get("maximum") == high:
            node.pop("maximum")
    elif node.get("type") == "number" and fmt in NUMBER_FORMATS:
        node.pop("format")


def normalise(node):
    """Apply the rules that rewrite schemas (nullable form, number formats and type
    ranges, null defaults)."""
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
        strip_number_format(inner)
        del node["type"]
        node["anyOf"] = [inner, {"type": "null"}]
    strip_number_format(node)
    if node.get("default", "absent") is None:
        node.pop("default")
    return node


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


def drop_documented_errors(doc):
    """The 400 of operations with a body and the 401 of secured ones, when they are
    exactly what hasten documents."""
    for item in doc.get("paths", {}).values():
        for op in item.values():
            responses = op.get("responses", {})
            if "requestBody" in op and responses.get("400") == BODY_400:
                responses.pop("400")
            if "security" in op and responses.get("401") == SECURITY_401:
                responses.pop("401")


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


def differences(fastapi, hasten):
    """What differs once the accepted differences are normalised away."""
    hasten = rename_token_form(hasten, "OAuth2PasswordRequestForm")
    fastapi = normalise(fastapi)
    hasten = normalise(hasten)
    drop_list_titles(fastapi)
    drop_list_titles(hasten)
    drop_documented_errors(hasten)
    return diff(fastapi, hasten)


def main():
    fastapi = json.load(open(sys.argv[1]))
    hasten = json.load(open(sys.argv[2]))
    problems = differences(fastapi, hasten)
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
