"""The constraint table, live: the same requests against the FastAPI twin
(`validation_app.py` under uvicorn) and `examples/validation.rs`, for each constraint
in each place (body field, nested field, list item, form field, query parameter) with
valid, boundary and invalid inputs, and for UUIDs, datetimes, dates, times and
timedeltas every accepted form and every kind of error. Status, content type and body
must be the same.

usage: python live_validation.py FASTAPI_BASE_URL HASTEN_BASE_URL
"""

import json
import sys

from live import replay

VALID = {"title": "Hammer", "price": 9.5, "stock": 7, "currency": "EUR"}


def item(**change):
    body = dict(VALID, **change)
    return ("POST", "/items/", {"content-type": "application/json"}, json.dumps(body).encode())


def form(**fields):
    import urllib.parse
    return ("POST", "/signup/", {"content-type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode(fields).encode())


def put(path, body, content_type="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ("PUT", path, {"content-type": content_type}, raw)


USER = {"username": "dave"}


def get(path):
    return ("GET", path, {}, None)


EVENT = {"id": "12345678-1234-1234-1234-1234567890ab", "starts_at": "2032-04-23T10:20:30Z",
         "day": "2032-04-23", "doors": "09:30", "duration": "PT2H"}


def event(**change):
    body = dict(EVENT, **change)
    return ("POST", "/events/", {"content-type": "application/json"}, json.dumps(body).encode())


def event_form(**change):
    import urllib.parse
    fields = dict(EVENT, **change)
    return ("POST", "/events/form/", {"content-type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode(fields).encode())


# Accepted forms of each type (the answer shows what was read), then each kind of error.
EVENT_CASES = [
    *[(f"uuid: {v!r}", event(id=v)) for v in [
        "12345678-1234-1234-1234-1234567890AB", "123456781234123412341234567890ab",
        "{12345678-1234-1234-1234-1234567890ab}", "urn:uuid:12345678-1234-1234-1234-1234567890ab",
        "x", "", "12345678-1234-1234-1234-1234567890a", "12345678-1234-1234-12341234567890ab",
        "12345678-1234-1234-1234-1234567890ag", " 12345678-1234-1234-1234-1234567890ab",
        1, None, True, []]],
    *[(f"datetime: {v!r}", event(starts_at=v)) for v in [
        "2032-04-23T10:20:30.123456789+01:00", "2032-04-23 10:20", "2032-04-23t10:20:30z",
        "2032-04-23_10:20:30-05:30", "2032-04-23T10:20:30+0130", "2032-04-23T10:20:30",
        "2032-04-23T10:20:30.5Z", "2032-04-23", "1700000000", "1700000000123", 1700000000,
        1700000000.5, 1700000000123, -1, 0,
        "2032-04-23T10", "2032-02-30T10:00:00", "", "x", "2032-04", "0000-01-01T00:00:00",
        "2032-04-23T10:20:30+25:00", "  2032-04-23T10:20:30", "2032-04-23T24:00:00", 1e20,
        True, None, [], {}]],
    *[(f"date: {v!r}", event(day=v)) for v in [
        "2032-04-23T00:00:00Z", "2032-04-23 00:00", "1699920000", 1699920000, 1699920000.0,
        "2032-04-23T10:20:30", 1700000000, "2032-02-30", "2032-4-23", "2032-04-23X",
        "0000-01-01", "2032-13-01", 1e20, True, None]],
    *[(f"time: {v!r}", event(doors=v)) for v in [
        "10:20:30.123456789", "10:20:30Z", "10:20:30+01:00", "10:20:30-0530", 3600, 3600.5,
        "1020", "102030", "25:00", "10:60", "10:20:60", "10:20:59.", "", -1, 86400, True, None]],
    *[(f"timedelta: {v!r}", event(duration=v)) for v in [
        "P1D", "P1DT2H3M4.5S", "-PT1S", "P1Y", "P1M", "P1W", "PT1.5H", "1 day, 10:00",
        "2 days 10:00:30.5", "-10:00", "1d", "+P1D", "PT0.0000001S", 3600, 3600.5, -1.5, True,
        "x", "", "P", "3600", "1:2:3", "P-1D", "P1000000000D", 1e20, -2**63, 2**63, None, []]],
    ("event: ends_at given", event(ends_at="2032-04-23T12:00:00+02:00")),
    ("event: ends_at null", event(ends_at=None)),
    ("event: ends_at bad", event(ends_at="tomorrow")),
    ("event: every error at once", event(id="x", starts_at="x", day="x", doors="x",
                                         duration="x", ends_at=True)),
    ("event: fields missing", ("POST", "/events/", {"content-type": "application/json"},
                               json.dumps({"id": EVENT["id"]}).encode())),
    ("event form: valid", event_form()),
    ("event form: lax forms", event_form(id="{12345678-1234-1234-1234-1234567890ab}",
                                         starts_at="1700000000", day="2032-04-23T00:00:00",
                                         doors="10:20:30+01:00", duration="1 day, 10:00")),
    ("event form: every error", event_form(id="nope", starts_at="2032-02-30", day="2032-04-23T1",
                                           doors="25:00", duration="3600")),
    ("event query: valid", get("/events/12345678-1234-1234-1234-1234567890ab?on=2032-04-23"
                               "&after=1700000000&doors=10:20&within=P1D")),
    ("event query: lax", get("/events/123456781234123412341234567890ab?on=2032-04-23T00:00:00Z"
                             "&after=2032-04-23+10:20&doors=10:20:30.5Z&within=-10:00")),
    ("event query: every error", get("/events/nope?on=2032-04-23T10:00:00&after=x&doors=25:00"
                                     "&within=x")),
    ("event query: on missing", get("/events/12345678-1234-1234-1234-1234567890ab")),
]


CASES = [
    ("valid item", item()),
    ("title: 1 char (boundary)", item(title="x")),
    ("title: empty", item(title="")),
    ("title: 20 chars (boundary)", item(title="x" * 20)),
    ("title: 21 chars", item(title="x" * 21)),
    ("title: 20 two-byte chars (boundary)", item(title="é" * 20)),
    ("price: above 0", item(price=0.01)),
    ("price: 0", item(price=0)),
    ("price: negative", item(price=-3.0)),
    ("price: lax string", item(price="9.5")),
    ("price: lax string below", item(price="-1")),
    ("stock: 0 (boundary)", item(stock=0)),
    ("stock: 100 (boundary)", item(stock=100)),
    ("stock: 101", item(stock=101)),
    ("stock: -1", item(stock=-1)),
    ("stock: 3.0", item(stock=3.0)),
    ("stock: 3.5", item(stock=3.5)),
    ("stock: lax string", item(stock="7")),
    ("currency: valid", item(currency="USD")),
    ("currency: lower case", item(currency="usd")),
    ("currency: four letters", item(currency="USDX")),
    ("tags: three (boundary)", item(tags=["a", "b", "c"])),
    ("tags: four", item(tags=["a", "b", "c", "d"])),
    ("pack: 10", item(pack=10)),
    ("pack: 12", item(pack=12)),
    ("pack: 0", item(pack=0)),
    ("dimensions: valid", item(dimensions={"width": 1, "height": 500})),
    ("dimensions: width 0", item(dimensions={"width": 0, "height": 10})),
    ("dimensions: height 501", item(dimensions={"width": 1, "height": 501})),
    ("dimensions: both wrong", item(dimensions={"width": -1, "height": 600})),
    ("parts: valid", item(parts=[{"code": "AB12", "count": 10}])),
    ("parts: bad code and count", item(parts=[{"code": "AB1", "count": 1}, {"code": "ab", "count": 11}])),
    ("parts: count 0", item(parts=[{"code": "AB1", "count": 0}])),
    ("every error at once", item(title="", price=-3, stock=200, currency="x",
                                 parts=[{"code": "ab", "count": 11}])),
    ("form: valid", form(username="ann_1", age="30")),
    ("form: boundary", form(username="abc", age="18")),
    ("form: short name, under age", form(username="a!", age="17")),
    ("form: long name", form(username="a" * 13, age="30")),
    ("form: pattern", form(username="a b c", age="30")),
    ("form: age not a number", form(username="anne", age="old")),
    *[(f"email: {e!r}", ("POST", "/contacts/", {"content-type": "application/json"},
                          json.dumps({"email": e}).encode()))
      for e in ["ann@example.com", "Ann.Lee+tag@Example.COM", "ann", "@x.com", "a@", "a@b",
                "a@@b.com", "a b@c.com", ".a@b.com", "a.@b.com", "a..b@c.com", "a@b.com.",
                "a@-b.com", "a@b.c1", "a@x.test", "a@localhost", "ann@exa_mple.com"]],
    *[(f"url: {u!r}", ("POST", "/contacts/", {"content-type": "application/json"},
                        json.dumps({"email": "a@b.co", "website": u}).encode()))
      for u in ["https://example.com", "ftp://x.org/a", "", "foo", "http://", "http://x:99999",
                "http://a b", "mailto:a@b.co"]],
    *[(f"ip: {ip!r}", ("POST", "/contacts/", {"content-type": "application/json"},
                       json.dumps({"email": "a@b.co", "server": s4, "client": ip}).encode()))
      for s4, ip in [("1.2.3.4", "::1"), ("1.2.3", "1.2.3.4"), ("01.2.3.4", "x"),
                     ("256.1.1.1", "fe80::1"), ("1.2.3.4", "1.2.3.4.5")]],
    ("int keys: valid", ("POST", "/prices/", {"content-type": "application/json"}, b'{"1": 1.5, "2": 3}')),
    ("int keys: lax", ("POST", "/prices/", {"content-type": "application/json"}, b'{" 4 ": 1, "3.0": 2.5}')),
    ("int keys: one bad", ("POST", "/prices/", {"content-type": "application/json"}, b'{"foo": 2.2, "3": 3.3}')),
    ("int keys: bad key and value", ("POST", "/prices/", {"content-type": "application/json"}, b'{"foo": "x", "5": 1}')),
    ("query model: valid", get("/filtered/?q=ab&limit=5&tags=a&tags=b")),
    ("query model: defaults", get("/filtered/?q=abc")),
    ("query model: last value wins", get("/filtered/?q=ab&q=abc")),
    ("query model: every error", get("/filtered/?limit=0&offset=-1&order_by=x&tool=p")),
    ("query model: limit 101", get("/filtered/?q=ab&limit=101")),
    ("query model: lax int", get("/filtered/?q=ab&limit=1_0&order_by=updated_at")),
    ("header model: bad count", ("GET", "/client/", {"x-token": "t", "x-request-count": "-2"}, None)),
    ("header model: count not a number", ("GET", "/client/", {"x-token": "t", "x-request-count": "many"}, None)),
    ("query: valid", get("/search/?q=ab&limit=50&min_price=0.5")),
    ("query: q too short", get("/search/?q=a")),
    ("query: q too long", get("/search/?q=" + "a" * 11)),
    ("query: limit 0", get("/search/?q=abc&limit=0")),
    ("query: limit 51", get("/search/?q=abc&limit=51")),
    ("query: limit lax", get("/search/?q=abc&limit=1_0")),
    ("query: min_price 0", get("/search/?q=abc&min_price=0")),
    ("query: everything wrong", get("/search/?q=a&limit=99&min_price=-1")),
    ("several bodies: valid", put("/items/5", {"item": VALID, "user": USER, "importance": 3})),
    ("several bodies: lax importance", put("/items/5", {"item": VALID, "user": USER,
                                                        "importance": "3"})),
    ("several bodies: importance 0", put("/items/5", {"item": VALID, "user": USER,
                                                      "importance": 0})),
    ("several bodies: importance text", put("/items/5", {"item": VALID, "user": USER,
                                                         "importance": "high"})),
    ("several bodies: importance 3.0", put("/items/5", {"item": VALID, "user": USER,
                                                        "importance": 3.0})),
    ("several bodies: importance 3.5", put("/items/5", {"item": VALID, "user": USER,
                                                        "importance": 3.5})),
    ("several bodies: importance true", put("/items/5", {"item": VALID, "user": USER,
                                                         "importance": True})),
    ("several bodies: importance null", put("/items/5", {"item": VALID, "user": USER,
                                                         "importance": None})),
    ("several bodies: importance a list", put("/items/5", {"item": VALID, "user": USER,
                                                           "importance": [1]})),
    ("several bodies: nested errors in each", put("/items/5", {
        "item": dict(VALID, stock=101), "user": {"full_name": 3}, "importance": 1})),
    ("several bodies: user missing", put("/items/5", {"item": VALID, "importance": 1})),
    ("several bodies: empty object", put("/items/5", {})),
    ("several bodies: empty body", put("/items/5", b"")),
    ("several bodies: a list", put("/items/5", [1, 2])),
    ("several bodies: not JSON", put("/items/5", b"{nope")),
    ("several bodies: text/plain", put("/items/5", b"{}", "text/plain")),
    ("several bodies: bad path too", put("/items/x", {"item": VALID, "user": USER,
                                                      "importance": -1})),
    ("several bodies: extra keys ignored", put("/items/5", {
        "item": VALID, "user": USER, "importance": 2, "other": True})),
    ("embedded: valid", ("POST", "/embedded/", {"content-type": "application/json"},
                         json.dumps({"item": VALID}).encode())),
    ("embedded: not embedded", ("POST", "/embedded/", {"content-type": "application/json"},
                                json.dumps(VALID).encode())),
    ("embedded: no content type", ("POST", "/embedded/", {},
                                   json.dumps({"item": VALID}).encode())),
    ("embedded: invalid", ("POST", "/embedded/", {"content-type": "application/json"},
                           json.dumps({"item": dict(VALID, price=0)}).encode())),
    *EVENT_CASES,
]


def main():
    replay(CASES, sys.argv[1], sys.argv[2], "constraint cases")


if __name__ == "__main__":
    main()
