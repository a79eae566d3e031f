"""Validators, live: the same requests against the FastAPI twin (`validators_app.py`
under uvicorn) and `examples/validators.rs`. Status, content type and body must be the
same.

usage: python live_validators.py FASTAPI_BASE_URL HASTEN_BASE_URL
"""

import json
import sys
import urllib.parse

from live import replay

ACCOUNT = {"username": "ada", "password": "x", "repeat": "x"}
MISMATCH = {"username": "ada", "password": "x", "repeat": "y"}


def post(path, body):
    return ("POST", path, {"content-type": "application/json"}, json.dumps(body).encode())


def form(path, fields):
    return ("POST", path, {"content-type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode(fields).encode())


def get(path):
    return ("GET", path, {}, None)


CASES = [
    ("model: valid", post("/signup", ACCOUNT)),
    ("model: rule broken", post("/signup", MISMATCH)),
    ("model: rule broken, extra field shown in input", post("/signup", dict(MISMATCH, extra=1))),
    ("model: a field invalid, rule not run", post("/signup", dict(MISMATCH, password=1))),
    ("form: valid", form("/signup/form", ACCOUNT)),
    ("form: rule broken", form("/signup/form", MISMATCH)),
    ("custom error with ctx", post("/ranges?q=1", {"lo": 5, "hi": 1})),
    ("custom error beside a query error", post("/ranges?q=x", {"lo": 5, "hi": 1})),
    ("custom error: equal bounds pass", post("/ranges?q=1", {"lo": 1, "hi": 1})),
    ("query model: rule broken", get("/ranges/query?lo=5&hi=1")),
    ("query model: valid", get("/ranges/query?lo=1&hi=5")),
    ("nested: valid", post("/schedules", {"main": {"lo": 1, "hi": 2}})),
    ("nested: main and one of the list", post("/schedules", {
        "main": {"lo": 5, "hi": 1}, "extra": [{"lo": 1, "hi": 2}, {"lo": 3, "hi": 2}]})),
    ("field-located rule: broken", post("/bookings", {"nights": 1, "guests": 3})),
    ("field-located rule: valid", post("/bookings", {"nights": 2, "guests": 3})),
    ("field-located rule: negative nights (u32 vs ge=0)", post("/bookings", {"nights": -1, "guests": 1})),
    ("several bodies: each rule at its name", post("/both", {
        "account": MISMATCH, "range": {"lo": 2, "hi": 1}})),
    ("several bodies: valid", post("/both", {"account": ACCOUNT, "range": {"lo": 1, "hi": 2}})),
    ("order: everything wrong", ("POST", "/ordered/x?q=y&page=0", {
        "content-type": "application/json", "x-count": "z", "x-page-size": "big",
        "cookie": "session=s"}, json.dumps({"lo": "a", "hi": 1}).encode())),
    ("order: only the rule and a query error", ("POST", "/ordered/1?q=y&page=1", {
        "content-type": "application/json", "x-count": "1", "cookie": "session=1"},
        json.dumps({"lo": 5, "hi": 1}).encode())),
    ("order: valid", ("POST", "/ordered/1?q=2&page=1", {
        "content-type": "application/json", "x-count": "1", "cookie": "session=1"},
        json.dumps({"lo": 1, "hi": 5}).encode())),
    ("parameter validator: broken", get("/even?n=3")),
    ("parameter validator: valid", get("/even?n=4")),
    ("parameter validator: not an int first", get("/even?n=x")),
    ("parameter validator: transforms", get("/even?n=2&name=%20ada%20")),
]


def main():
    replay(CASES, sys.argv[1], sys.argv[2], "validator cases")


if __name__ == "__main__":
    main()
