"""Replay the same requests against the FastAPI twin (under uvicorn) and hasten's
`examples/oauth2.rs`, and compare what comes back: status, the headers that matter
(`content-type`, `www-authenticate`, `allow`, `location`) and the body (JSON compared
as JSON, anything else as text).

usage: python live.py FASTAPI_BASE_URL HASTEN_BASE_URL

Both servers must be running. Tokens differ between the two (they are random): each
server gets its own, obtained through its own `/token`, and the token's value is the
only thing compared by shape. Every other difference is reported, except those in
KNOWN, each matched exactly on both sides and named with its reason. Exit 1 on any
unexpected difference.
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HEADERS = ("content-type", "www-authenticate", "allow", "location")

# (request label, what differs, FastAPI's value, hasten's value, why).
KNOWN = [
    ("POST /old/", "allow", "GET", "GET, HEAD",
     "hasten answers HEAD wherever GET is (RFC 9110), so its 405 lists HEAD (README)"),
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to compare, not to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(base, method, path, headers=None, body=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=10) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    text = raw.decode("utf-8", "replace")
    content_type = hdrs.get("content-type", "")
    parsed = json.loads(text) if content_type.startswith("application/json") and text else text
    return status, {h: hdrs.get(h) for h in HEADERS if hdrs.get(h) is not None}, parsed


def replay_cases(cases, fastapi, hasten, accepted=lambda part, a, b: False):
    """Send each `(label, (method, path, headers, body))` of `cases` to both servers;
    the differences in status, the headers of HEADERS and the body, as lines, except
    those `accepted(part, fastapi_value, hasten_value)` accepts. JSON bodies are
    compared as written: `0` and `0.0` differ (json.dumps keeps the distinction that
    `==` loses)."""
    problems = []
    for label, (method, path, headers, body, *rest) in cases:
        # An optional fifth element: seconds to wait first (for work that runs after
        # the previous response, such as background tasks), before each server.
        wait = rest[0] if rest else 0
        time.sleep(wait)
        a = call(fastapi, method, path, headers, body)
        time.sleep(wait)
        b = call(hasten, method, path, headers, body)
        parts = [("status", a[0], b[0])]
        parts += [(h, a[1].get(h), b[1].get(h)) for h in HEADERS]
        parts.append(("body", a[2], b[2]))
        for part, x, y in parts:
            if json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True) \
                    and not accepted(part, x, y):
                problems.append(f"{label}: {part}: FastAPI {json.dumps(x)} != hasten {json.dumps(y)}")
    return problems


def replay(cases, fastapi, hasten, what):
    """Send each `(label, (method, path, headers, body))` of `cases` to both servers and
    exit 1, listing the differences, unless status, the headers that matter and body
    are equal."""
    problems = replay_cases(cases, fastapi, hasten)
    print(f"{len(cases)} {what} replayed against both")
    if problems:
        print(f"\n{len(problems)} difference(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("ok   the same status, content type and body for every case")


def form(fields):
    return ({"content-type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode(fields).encode())


def js(value):
    return {"content-type": "application/json"}, json.dumps(value).encode()


def requests(token):
    """The requests, with this server's token where one is needed."""
    bearer = {"authorization": f"Bearer {token}"} if token else {}
    basic = "Basic " + __import__("base64").b64encode(b"johndoe:secret").decode()
    wrong = "Basic " + __import__("base64").b64encode(b"johndoe:nope").decode()
    return [
        ("POST /token (wrong password)", "POST", "/token",
         *form({"username": "johndoe", "password": "nope"})),
        ("POST /token (nothing)", "POST", "/token", *form({})),
        ("GET /users/me/ (no token)", "GET", "/users/me/", {}, None),
        ("GET /users/me/ (bad token)", "GET", "/users/me/", {"authorization": "Bearer nope"}, None),
        ("GET /users/me/", "GET", "/users/me/", bearer, None),
        ("GET /users/me/items/ (scope missing)", "GET", "/users/me/items/", bearer, None),
        ("GET /status/", "GET", "/status/", bearer, None),
        ("GET /items/2", "GET", "/items/2", {}, None),
        ("GET /items/2?q=hammer", "GET", "/items/2?q=hammer", {}, None),
        ("GET /items/9 (404)", "GET", "/items/9", {}, None),
        ("GET /items/0 (422)", "GET", "/items/0", {}, None),
        ("GET /items/x?q=long (422)", "GET", "/items/x?q=" + "a" * 60, {}, None),
        ("POST /items/", "POST", "/items/", *js({"name": "Saw", "price": 9.5, "tags": ["t"]})),
        ("POST /items/ (lax numbers)", "POST", "/items/", *js({"name": "Saw", "price": "9.5"})),
        ("POST /items/ (every error)", "POST", "/items/", *js({"price": "free", "tags": "t"})),
        ("POST /items/ (not JSON)", "POST", "/items/", {"content-type": "application/json"}, b"{nope"),
        ("POST /items/ (no body)", "POST", "/items/", {"content-type": "application/json"}, b""),
        ("GET /basic/ (none)", "GET", "/basic/", {}, None),
        ("GET /basic/", "GET", "/basic/", {"authorization": basic}, None),
        ("GET /basic/ (wrong)", "GET", "/basic/", {"authorization": wrong}, None),
        ("GET /basic/ (not Basic)", "GET", "/basic/", {"authorization": "Bearer x"}, None),
        ("GET /basic/ (not base64)", "GET", "/basic/", {"authorization": "Basic !!!"}, None),
        ("GET /basic/ (no colon)", "GET", "/basic/", {"authorization": "Basic am9obmRvZQ=="}, None),
        ("GET /key/ (none)", "GET", "/key/", {}, None),
        ("GET /key/ (wrong)", "GET", "/key/", {"x-api-key": "nope"}, None),
        ("GET /key/", "GET", "/key/", {"x-api-key": "k3y"}, None),
        ("GET /old/", "GET", "/old/", {}, None),
        ("GET /hidden/", "GET", "/hidden/", {}, None),
        ("GET /nowhere (404)", "GET", "/nowhere", {}, None),
        ("POST /old/", "POST", "/old/", {}, None),
    ]


def token(base, scope):
    headers, body = form({"username": "johndoe", "password": "secret", "scope": scope})
    status, _, answer = call(base, "POST", "/token", headers, body)
    if status != 200 or set(answer) != {"access_token", "token_type"} or answer["token_type"] != "bearer":
        sys.exit(f"FAIL: no token from {base}: {status} {answer}")
    return answer["access_token"]


def main():
    fastapi, hasten = sys.argv[1], sys.argv[2]
    tokens = {fastapi: token(fastapi, "me"), hasten: token(hasten, "me")}
    known = {(label, what): (a, b, why) for label, what, a, b, why in KNOWN}
    problems, compared, seen_known = [], 0, set()
    for (label, method, path, headers, body), (_, _, _, h_headers, h_body) in zip(
            requests(tokens[fastapi]), requests(tokens[hasten])):
        a = call(fastapi, method, path, headers, body)
        b = call(hasten, method, path, h_headers, h_body)
        compared += 1
        parts = [("status", a[0], b[0]), ("body", a[2], b[2])]
        parts += [(h, a[1].get(h), b[1].get(h)) for h in HEADERS]
        for what, x, y in parts:
            if x == y:
                continue
            expected = known.get((label, what))
            if expected and expected[:2] == (x, y):
                seen_known.add((label, what))
                continue
            problems.append(f"{label}: {what}: FastAPI {json.dumps(x)} != hasten {json.dumps(y)}")
    for label, what, a, b, why in KNOWN:
        if (label, what) not in seen_known:
            problems.append(f"{label}: {what}: the known difference did not occur "
                            f"(remove it from KNOWN if it is fixed)")
    print(f"{compared} requests replayed against both")
    for label, what, a, b, why in KNOWN:
        print(f"  known: {label}: {what} — {why}")
    if problems:
        print(f"\n{len(problems)} unexpected difference(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("ok   the same status, headers and bodies otherwise")


if __name__ == "__main__":
    main()
