"""What an operation answers and how the document says so: success statuses (201, 202,
204 with no body), a response model other than what the handler returns (a password
kept out of the answer), extra documented responses with their own model, HTML and
plain-text responses, and return types that are a list of models, a `dict[str, int]`,
an `Optional` model, a bare string and a bare integer.
Its hasten twin is `examples/twins/responses.rs`."""

from typing import Annotated, Optional

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel

app = FastAPI(title="responses", version="1.0.0")


class Item(BaseModel):
    """An item in the shop."""
    name: str
    price: float
    tax: Optional[float] = None


class Message(BaseModel):
    """An explanation."""
    message: str


class UserIn(BaseModel):
    """A new user, with a password."""
    username: str
    password: str
    email: str
    full_name: Optional[str] = None


class UserOut(BaseModel):
    """A user as the API shows it: never the password."""
    username: str
    email: str
    full_name: Optional[str] = None


ITEMS = {
    1: Item(name="Hammer", price=9.5, tax=1.5),
    2: Item(name="Saw", price=12.0),
    3: Item(name="Drill", price=40.25, tax=8.0),
}
STOCK = {"Hammer": 5, "Saw": 0, "Drill": 2}
NOT_FOUND = {404: {"model": Message, "description": "The item does not exist"}}


@app.get("/items/", tags=["items"])
async def list_items() -> list[Item]:
    """Every item."""
    return list(ITEMS.values())


@app.get("/items/count", tags=["items"])
async def count_items() -> int:
    """How many items there are."""
    return len(ITEMS)


@app.get("/items/{item_id}", tags=["items"], responses=NOT_FOUND)
async def read_item(item_id: int) -> Item:
    """One item, or a 404 with a `Message`."""
    if item_id not in ITEMS:
        return JSONResponse(status_code=404, content={"message": "Item not found"})
    return ITEMS[item_id]


@app.delete("/items/{item_id}", tags=["items"], status_code=204, responses=NOT_FOUND)
async def delete_item(item_id: int) -> None:
    """Delete an item: 204 and no body."""
    if item_id not in ITEMS:
        return JSONResponse(status_code=404, content={"message": "Item not found"})
    del ITEMS[item_id]


@app.get("/search", tags=["items"])
async def find_item(name: Annotated[str, Query(min_length=1)]) -> Optional[Item]:
    """The item with this name, or `null`."""
    for item in ITEMS.values():
        if item.name.lower() == name.lower():
            return item
    return None


@app.get("/stock")
async def stock() -> dict[str, int]:
    """How many of each item are in stock."""
    return STOCK


@app.post("/reports/", status_code=202)
async def queue_report(month: Annotated[int, Query(ge=1, le=12)]) -> str:
    """Queue a monthly report: 202, with the report's id as a JSON string."""
    return f"report-{month:02d}"


@app.post("/users/", status_code=201, response_model=UserOut)
async def create_user(user: UserIn):
    """Create a user; the answer is filtered through `UserOut`."""
    return user


@app.get("/page", response_class=HTMLResponse)
async def page():
    """A small HTML page."""
    return "<html><body><h1>Shop</h1></body></html>"


@app.get("/health", response_class=PlainTextResponse)
async def health():
    """Plain text."""
    return "ok"


def get(path):
    return ("GET", path, {}, None)


def js(method, path, value):
    import json
    return (method, path, {"content-type": "application/json"}, json.dumps(value).encode())


CASES = [
    ("a list of models", get("/items/")),
    ("an int", get("/items/count")),
    ("a model", get("/items/2")),
    ("a documented 404", get("/items/9")),
    ("path parameter not an int", get("/items/two")),
    ("an Optional model: found", get("/search?name=saw")),
    ("an Optional model: null", get("/search?name=chisel")),
    ("Optional route: empty name refused", get("/search?name=")),
    ("a dict[str, int]", get("/stock")),
    ("202 with a JSON string", ("POST", "/reports/?month=3", {}, None)),
    ("202 route: month out of range", ("POST", "/reports/?month=13", {}, None)),
    ("202 route: month missing", ("POST", "/reports/", {}, None)),
    ("201 through the response model: no password",
     js("POST", "/users/", {"username": "ann", "password": "s3cret", "email": "ann@example.com"})),
    ("201 route: fields missing", js("POST", "/users/", {"username": "ann"})),
    ("HTML", get("/page")),
    ("plain text", get("/health")),
    ("204 with no body", ("DELETE", "/items/1", {}, None)),
    ("deleted, so now a 404", get("/items/1")),
    ("204 route: 404 when missing", ("DELETE", "/items/1", {}, None)),
    ("the list without it", get("/items/")),
    ("the count without it", get("/items/count")),
]
