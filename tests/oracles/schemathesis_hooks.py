"""schemathesis hooks for hasten's OpenAPI gate (`SCHEMATHESIS_HOOKS` points here).

hasten keeps pydantic's lax coercions for wire compatibility with FastAPI: in a JSON
body, a field declared `number` or `integer` accepts `true`/`false` and numeric
strings (`"50.5"`, `"3"`), and a `boolean` field accepts `"yes"`, `"1"` and the like,
exactly where pydantic does. schemathesis's negative tests generate such values as
"invalid" and would report the server for accepting them (ST201).

`filter_case` drops exactly those generated cases: a case whose JSON body the schema
rejects, but accepts once its number, integer and boolean fields are coerced the way
pydantic coerces them, and that is not negative anywhere else. pydantic itself decides
each coercion, and the coerced body is validated against the declared schema, so a
string field given `true`, an integer given `"1.5"` or an array given `"7"` stays a
failure. Nothing is accepted after the fact: every failure left fails the gate.
"""

import json

import jsonschema
from pydantic import TypeAdapter, ValidationError

try:
    import schemathesis
    from schemathesis.core.parameters import ParameterLocation
except ImportError:  # the unit tests load this module without schemathesis
    schemathesis = None

SCALARS = {"number": TypeAdapter(float), "integer": TypeAdapter(int), "boolean": TypeAdapter(bool)}


def resolve(root, schema):
    """Follow a local `$ref` (`#/components/schemas/Item`)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema, seen = node, seen + 1
    return schema


def is_valid(root, schema, value):
    document = dict(schema, components=root.get("components", {}))
    return jsonschema.Draft202012Validator(document).is_valid(value)


def coerce(root, schema, value):
    """`value` with every number, integer and boolean leaf coerced as pydantic does
    (in JSON mode, lax); leaves pydantic refuses are left as they are."""
    schema = resolve(root, schema)
    if not isinstance(schema, dict):
        return value
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []):
            candidate = coerce(root, branch, value)
            if is_valid(root, branch, candidate):
                return candidate
    for branch in schema.get("allOf", []):
        value = coerce(root, branch, value)
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if value is None and "null" in types:
        return value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: coerce(root, props[k], v) if k in props else v for k, v in value.items()}
    if isinstance(value, list) and "array" in types:
        items = schema.get("items", {})
        return [coerce(root, items, v) for v in value]
    for t in types:
        adapter = SCALARS.get(t)
        if adapter is None:
            continue
        try:
            return adapter.validate_json(json.dumps(value))
        except ValidationError:
            continue
    return value


def accepted_as_pydantic_would(root, schema, body):
    """Whether `body` breaks `schema` only in ways pydantic's lax mode accepts."""
    if is_valid(root, schema, body):
        return False
    return is_valid(root, schema, coerce(root, schema, body))


def body_schema(case):
    raw = case.operation.schema.raw_schema
    op = raw.get("paths", {}).get(case.path, {}).get(case.method.lower(), {})
    content = op.get("requestBody", {}).get("content", {})
    media = content.get(case.media_type or "application/json") or content.get("application/json")
    return raw, (media or {}).get("schema")


if schemathesis is not None:

    @schemathesis.hook
    def filter_case(context, case):
        if case.media_type not in (None, "application/json") or not isinstance(case.body, (dict, list)):
            return True
        meta = case._meta
        if meta is not None:
            others = [loc for loc in ParameterLocation if loc != ParameterLocation.BODY]
            if any(meta.is_negative_at(loc) for loc in others):
                return True
        root, schema = body_schema(case)
        if schema is None:
            return True
        return not accepted_as_pydantic_would(root, schema, case.body)
