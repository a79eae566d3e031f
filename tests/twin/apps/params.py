"""Path, query, header and cookie parameters: their types (int, float, bool in every
spelling pydantic reads, str, an enum), constraints, aliases, titles, descriptions and
examples; lists of query and header values; required, optional and defaulted values;
header names with underscores converted or not. Its hasten twin is
`examples/twins/params.rs`."""

from enum import Enum
from typing import Annotated

from fastapi import Cookie, FastAPI, Header, Path, Query

app = FastAPI(title="params", version="1.0.0")


class Color(str, Enum):
    """A color."""

    red = "red"
    green = "green"
    blue = "blue"


@app.get("/items/{item_id}")
async def read_item(
    item_id: Annotated[int, Path(title="The ID of the item", ge=1, le=1000)],
    q: Annotated[str | None, Query(min_length=3, max_length=10, pattern="^[a-z]+$")] = None,
    short: bool = False,
):
    """Read one item."""
    return {"item_id": item_id, "q": q, "short": short}


@app.get("/search/")
async def search(
    q: Annotated[str, Query(alias="item-query", title="Query string",
                            description="What to look for.", examples=["hammer"])],
    min_price: Annotated[float, Query(gt=0)] = 1.5,
    max_price: Annotated[float | None, Query(lt=1000)] = None,
    page: Annotated[int, Query(ge=1, deprecated=True)] = 1,
):
    """Search items by name and price."""
    return {"q": q, "min_price": min_price, "max_price": max_price, "page": page}


@app.get("/flags/")
async def read_flags(on: bool, off: bool | None = None):
    """Booleans, read as pydantic reads them."""
    return {"on": on, "off": off}


@app.get("/colors/{color}")
async def read_color(color: Color, mix: Annotated[list[Color], Query()] = []):
    """A color from the path, and more to mix from the query."""
    return {"color": color, "mix": mix}


@app.get("/tags/")
async def read_tags(
    tag: Annotated[list[str], Query(min_length=1, max_length=3)],
    n: Annotated[list[int] | None, Query()] = None,
):
    """Repeated query parameters: `?tag=a&tag=b`."""
    return {"tag": tag, "n": n}


@app.get("/files/{file_id}/v/{version}")
async def read_file(file_id: str, version: Annotated[float, Path(gt=0, le=10.5)]):
    """A file at a version."""
    return {"file_id": file_id, "version": version}


@app.get("/headers/")
async def read_headers(
    user_agent: Annotated[str | None, Header()] = None,
    x_token: Annotated[list[str] | None, Header()] = None,
    strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
    x_retries: Annotated[int, Header(ge=0, le=5, description="How many retries.")] = 0,
):
    """Headers: `x_token` is read from `x-token`, `strange_header` as it is written."""
    return {"user_agent": user_agent, "x_token": x_token, "strange_header": strange_header,
            "x_retries": x_retries}


@app.get("/cookies/")
async def read_cookies(
    session_id: Annotated[str, Cookie(min_length=4)],
    theme: Annotated[Color, Cookie()] = Color.red,
    visits: Annotated[int | None, Cookie()] = None,
):
    """Cookies: one required, one an enum with a default, one optional."""
    return {"session_id": session_id, "theme": theme, "visits": visits}


def get(path, headers=None):
    return ("GET", path, headers or {}, None)


CASES = [
    ("path int, a bool spelled t, q absent", get("/items/42?short=t")),
    ("path int and query bool: not a number, not a bool", get("/items/abc?short=maybe")),
    ("path int: below ge, and q too short", get("/items/0?q=ab")),
    ("query pattern mismatch", get("/items/5?q=Hammer")),
    ("query max_length and bool word", get("/items/5?q=abcdefghijk&short=yes")),
    ("path int beyond 64 bits: the le bound is reported",
     get("/items/99999999999999999999999")),
    ("alias, float and deprecated given", get("/search/?item-query=saw&min_price=2&page=3")),
    ("alias missing (the Python name does not count)", get("/search/?q=saw")),
    ("gt, lt and ge violated", get("/search/?item-query=x&min_price=0&max_price=1000&page=0")),
    ("float: not a number, inf", get("/search/?item-query=x&min_price=abc&max_price=inf")),
    ("bool spellings", get("/flags/?on=On&off=nO")),
    ("bool: required missing, an empty value", get("/flags/?off=")),
    ("enum in path and query list", get("/colors/green?mix=red&mix=blue")),
    ("enum: not a member", get("/colors/purple?mix=red&mix=Blue")),
    ("no trailing slash: redirected, the repeated query kept",
     get("/tags?tag=a&tag=b&n=1&n=2", {"host": "example.com"})),
    ("list: missing, and an int that is not", get("/tags/?n=1&n=x")),
    ("list: too many", get("/tags/?tag=a&tag=b&tag=c&tag=d")),
    ("float path", get("/files/report.txt/v/1.5")),
    ("float path: constraint", get("/files/report.txt/v/11")),
    ("path: an encoded slash is a slash", get("/files/a%2Fb/v/1")),
    ("headers", get("/headers/", {"user-agent": "twins/1", "x-token": "a, b",
                                  "strange_header": "s", "x-retries": "2"})),
    ("headers: converted name not read with dashes, int constraint",
     get("/headers/", {"strange-header": "s", "x-retries": "9"})),
    ("cookies", get("/cookies/", {"cookie": "session_id=abcd; theme=blue; visits=3"})),
    ("cookies: missing, bad enum, bad int",
     get("/cookies/", {"cookie": "theme=pink; visits=many"})),
    ("wrong method", ("DELETE", "/flags/?on=1", {}, None)),
]
