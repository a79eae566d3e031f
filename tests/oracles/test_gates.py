"""Tests of the gates themselves: each plants a regression a gate once let through (a
broken report, a broken document) and checks that the gate now catches it, and that a
clean run still passes.

usage: .venv-oracles/bin/python -m unittest discover -s tests/oracles -p 'test_*.py'
(needs pydantic and jsonschema, which the oracles' virtualenv has)
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "twin"))

import compare  # noqa: E402
import schemathesis_gate as gate  # noqa: E402
import schemathesis_hooks as hooks  # noqa: E402

DOCUMENT = {
    "openapi": "3.1.0",
    "paths": {
        "/items/": {"post": {}, "get": {}},
        "/items/{id}": {"get": {}},
    },
}


def scenario(label, status="success", cases=3, phase="fuzzing"):
    return {"ScenarioFinished": {"phase": phase, "status": status,
                                 "recorder": {"label": label, "cases": {str(i): {} for i in range(cases)}}}}


def clean_run():
    return [scenario("POST /items/"), scenario("GET /items/"), scenario("GET /items/{id}")]


class SchemathesisGate(unittest.TestCase):
    def test_a_clean_run_passes(self):
        self.assertEqual(gate.judge(0, clean_run(), DOCUMENT), [])

    def test_s1_an_errored_run_fails(self):
        self.assertTrue(any("exited with 2" in p for p in gate.judge(2, clean_run(), DOCUMENT)))

    def test_s1_an_empty_report_fails(self):
        problems = gate.judge(0, [], DOCUMENT)
        self.assertIn("the report has no finished scenario: nothing was tested", problems)

    def test_s1_an_operation_without_test_cases_fails(self):
        events = clean_run()[:2] + [scenario("GET /items/{id}", cases=0)]
        self.assertEqual(gate.judge(0, events, DOCUMENT), ["GET /items/{id}: no test case was generated"])

    def test_s2_s4_any_failure_fails_whatever_else_is_in_its_block(self):
        events = clean_run() + [scenario("POST /items/", status="failure", phase="coverage")]
        self.assertEqual(gate.judge(1, events, DOCUMENT), ["POST /items/: failure in the coverage phase"])

    def test_an_exit_code_of_1_without_a_failure_in_the_report_fails(self):
        self.assertTrue(gate.judge(1, clean_run(), DOCUMENT))


class SchemathesisRunState(unittest.TestCase):
    """S5: no run carries state into the next."""

    def test_the_cache_is_off_and_never_committed(self):
        import tomllib

        config = tomllib.loads((HERE / "schemathesis.toml").read_text())
        self.assertIs(config["cache"]["enabled"], False)
        ignored = (HERE.parent.parent / ".gitignore").read_text().split()
        self.assertIn(".schemathesis/", ignored)
        self.assertIn(".hypothesis/", ignored)
        self.assertFalse((HERE.parent.parent / ".schemathesis").exists() and subprocess.run(
            ["git", "ls-files", "--error-unmatch", ".schemathesis"], cwd=HERE.parent.parent,
            capture_output=True).returncode == 0, "a schemathesis cache is committed")


ROOT = {
    "components": {"schemas": {
        "Item": {
            "type": "object",
            "required": ["name", "price"],
            "properties": {
                "name": {"type": "string"},
                "price": {"type": "number"},
                "count": {"type": "integer", "format": "int64"},
                "tax": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "active": {"type": "boolean"},
                "inner": {"$ref": "#/components/schemas/Inner"},
            },
        },
        "Inner": {"type": "object", "properties": {"weight": {"type": "number"}}},
    }},
}
ITEM = {"$ref": "#/components/schemas/Item"}


class LaxFilter(unittest.TestCase):
    """S3: what pydantic accepts on purpose is filtered; nothing else is."""

    def accepted(self, body):
        return hooks.accepted_as_pydantic_would(ROOT, ITEM, body)

    def test_what_pydantic_coerces_is_filtered(self):
        for body in [
            {"name": "a", "price": True},
            {"name": "a", "price": "50.5"},
            {"name": "a", "price": 1, "count": "3"},
            {"name": "a", "price": 1, "count": False},
            {"name": "a", "price": 1, "tax": "2.5"},
            {"name": "a", "price": 1, "active": "yes"},
            {"name": "a", "price": 1, "inner": {"weight": "7"}},
        ]:
            with self.subTest(body=body):
                self.assertTrue(self.accepted(body))

    def test_what_pydantic_refuses_is_kept(self):
        for body in [
            {"name": True, "price": 1},            # a string field given a bool
            {"name": "a", "price": 1, "count": "1.5"},  # an integer given a fraction
            {"name": "a", "price": 1, "tags": "7"},     # an array given a string
            {"name": "a", "price": "free"},
            {"name": "a"},                          # a missing field
            {"name": "a", "price": 1, "active": "maybe"},
            {"name": "a", "price": 1, "inner": {"weight": "heavy"}},
        ]:
            with self.subTest(body=body):
                self.assertFalse(self.accepted(body))

    def test_valid_bodies_are_not_filtered(self):
        self.assertFalse(self.accepted({"name": "a", "price": 1.5, "tags": ["x"]}))

    def test_the_verdicts_are_pydantics(self):
        """The filter's coercions agree with pydantic's on the same model."""
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str
            price: float
            count: int | None = None
            active: bool | None = None

        root = {"components": {"schemas": {"Item": Item.model_json_schema()}}}
        schema = {"$ref": "#/components/schemas/Item"}
        for body in [{"name": "a", "price": True}, {"name": "a", "price": "1e3"},
                     {"name": "a", "price": 1, "count": "1.5"}, {"name": "a", "price": 1, "count": " 3 "},
                     {"name": 1, "price": 1}, {"name": "a", "price": 1, "active": "on"},
                     {"name": "a", "price": 1, "active": "2"}]:
            with self.subTest(body=body):
                try:
                    Item.model_validate_json(json.dumps(body))
                    pydantic_accepts = True
                except Exception:
                    pydantic_accepts = False
                self.assertEqual(hooks.accepted_as_pydantic_would(root, schema, body), pydantic_accepts)


def twin_documents():
    """A tiny FastAPI document and its hasten twin: equal, as compare.py requires."""
    fastapi = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/items/": {"post": {
            "parameters": [
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Limit"}},
                {"name": "page", "in": "query", "required": True,
                 "schema": {"type": "integer", "maximum": 10, "title": "Page"}},
            ],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}},
            "responses": {"200": {"description": "Successful Response"}},
            "security": [{"Bearer": []}],
        }}},
        "components": {"schemas": {"Item": {"type": "object", "properties": {
            "price": {"type": "number", "minimum": 0.0, "title": "Price"},
            "count": {"type": "integer", "title": "Count"},
            "active": {"type": "boolean", "default": True, "title": "Active"}}, "title": "Item"}},
            "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"}}},
    }
    return fastapi, copy.deepcopy(fastapi)


class TwinCompare(unittest.TestCase):
    def test_equal_documents_compare_equal(self):
        fastapi, hasten = twin_documents()
        self.assertEqual(compare.diff(fastapi, hasten), [])

    def test_equal_numbers_written_differently_are_equal(self):
        fastapi, hasten = twin_documents()
        hasten["components"]["schemas"]["Item"]["properties"]["price"]["minimum"] = 0
        self.assertEqual(compare.diff(fastapi, hasten), [])

    def test_every_difference_is_caught(self):
        changes = [
            lambda h: h["components"]["schemas"]["Item"]["properties"]["count"].update(maximum=3),
            lambda h: h["components"]["schemas"]["Item"]["properties"]["price"].update(format="double"),
            lambda h: h["paths"]["/items/"]["post"]["parameters"][0]["schema"].update(
                {"type": ["integer", "null"]}),
            lambda h: h["paths"]["/items/"]["post"]["responses"].update(
                {"400": {"description": "The body could not be parsed"}}),
            lambda h: h["paths"]["/items/"]["post"]["parameters"].reverse(),
            # `1 == True` in Python: a boolean must stay a boolean.
            lambda h: h["components"]["schemas"]["Item"]["properties"]["active"].update(default=1),
        ]
        for i, change in enumerate(changes):
            fastapi, hasten = twin_documents()
            change(hasten)
            with self.subTest(change=i):
                self.assertTrue(compare.diff(fastapi, hasten))

    def test_the_command_line_exits_1_on_a_difference_and_0_otherwise(self):
        fastapi, hasten = twin_documents()
        with tempfile.TemporaryDirectory() as tmp:
            a, b, c = (os.path.join(tmp, n) for n in ("a.json", "b.json", "c.json"))
            Path(a).write_text(json.dumps(fastapi))
            Path(b).write_text(json.dumps(hasten))
            hasten["components"]["schemas"]["Item"]["properties"]["count"]["maximum"] = 3
            Path(c).write_text(json.dumps(hasten))
            script = str(HERE.parent / "twin" / "compare.py")
            same = subprocess.run([sys.executable, script, a, b], capture_output=True, text=True)
            other = subprocess.run([sys.executable, script, a, c], capture_output=True, text=True)
        self.assertEqual(same.returncode, 0, same.stdout)
        self.assertEqual(other.returncode, 1, other.stdout)


class TwinsAccepted(unittest.TestCase):
    """The differences twins.py accepts are exactly those it names."""

    def setUp(self):
        import twins
        self.twins = twins

    def test_allow_may_add_head_and_the_paths_other_methods_only(self):
        accepted = self.twins.accepted
        self.assertTrue(accepted("allow", "GET", "GET, HEAD"))
        self.assertTrue(accepted("allow", "GET", "GET, HEAD, PUT"))
        self.assertFalse(accepted("allow", "GET, POST", "GET, HEAD"))
        self.assertFalse(accepted("allow", None, "GET"))
        self.assertFalse(accepted("body", "GET", "GET, HEAD"))

    def test_per_method_ids_are_mapped_only_where_fastapi_shares_one(self):
        fastapi = {"paths": {"/ping": {"get": {"operationId": "ping_ping_get"},
                                       "post": {"operationId": "ping_ping_get"}},
                             "/x": {"get": {"operationId": "x_x_get"},
                                    "post": {"operationId": "y_x_post"}}}}
        hasten = {"paths": {"/ping": {"get": {"operationId": "ping_ping_get"},
                                      "post": {"operationId": "ping_ping_post"}},
                            "/x": {"get": {"operationId": "x_x_get"},
                                   "post": {"operationId": "x_x_post"}}}}
        self.twins.shared_operation_ids(fastapi, hasten)
        self.assertEqual(hasten["paths"]["/ping"]["post"]["operationId"], "ping_ping_get")
        # Where FastAPI's ids differ, nothing is mapped: the difference shows.
        self.assertEqual(hasten["paths"]["/x"]["post"]["operationId"], "x_x_post")


if __name__ == "__main__":
    unittest.main()
