"""What the document says about each operation: summaries, multi-paragraph Markdown
descriptions from docstrings, custom operationIds, deprecated operations, several tags,
a hidden operation, several methods on one path, the status on the decorator,
`response_description`, and one function serving several methods (`api_route`).
Its hasten twin is `examples/twins/operations.rs`."""

from typing import Optional

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="operations", version="1.0.0")


class Item(BaseModel):
    """An item in the catalogue."""
    name: str
    price: float
    description: Optional[str] = None


ITEMS = {1: {"name": "Hammer", "price": 9.5, "description": None}}


@app.get("/items/", tags=["items"], summary="List the catalogue")
async def list_items(skip: int = 0, limit: int = 10):
    """Every item, a page at a time.

    Pages are counted in items:

    - `skip`: how many to leave out first
    - `limit`: how many to return at most

    ```
    GET /items/?skip=10&limit=5
    ```
    """
    items = [{"id": k, **v} for k, v in sorted(ITEMS.items())]
    return items[skip:skip + limit]


@app.post("/items/", tags=["items"], status_code=201,
          response_description="The item, as stored")
async def create_item(item: Item) -> Item:
    """Create an item.

    The price is **in euros**.
    """
    return item


@app.get("/items/{item_id}", tags=["items", "catalogue"], operation_id="getItem")
async def read_item(item_id: int):
    """One item, by id."""
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return {"id": item_id, **ITEMS[item_id]}


@app.put("/items/{item_id}", tags=["items"], summary="Replace an item")
async def replace_item(item_id: int, item: Item):
    return {"id": item_id, **item.model_dump()}


@app.delete("/items/{item_id}", tags=["items"], status_code=204)
async def delete_item(item_id: int):
    """Delete an item; nothing is returned."""


@app.get("/legacy/items/", tags=["items"], deprecated=True)
async def legacy_items():
    """The old listing: use `GET /items/`."""
    return []


@app.get("/internal/stats", include_in_schema=False)
async def stats():
    return {"items": len(ITEMS)}


@app.api_route("/ping", methods=["GET", "POST"], tags=["health"])
async def ping():
    """Answer, whatever the method."""
    return {"ping": "pong"}


def get(path):
    return ("GET", path, {}, None)


def js(method, path, value):
    import json
    return (method, path, {"content-type": "application/json"}, json.dumps(value).encode())


CASES = [
    ("list: defaults", get("/items/")),
    ("list: a page", get("/items/?skip=1&limit=5")),
    ("list: wrong type", get("/items/?limit=ten")),
    ("create: status from the decorator", js("POST", "/items/", {"name": "Saw", "price": 3})),
    ("create: missing field", js("POST", "/items/", {"name": "Saw"})),
    ("read: custom operationId", get("/items/1")),
    ("read: 404", get("/items/2")),
    ("read: not an int", get("/items/one")),
    ("replace: same path, PUT", js("PUT", "/items/1", {"name": "Nail", "price": 0.1})),
    ("replace: not an int", js("PUT", "/items/x", {"name": "Nail", "price": 0.1})),
    ("delete: 204, no body", ("DELETE", "/items/1", {}, None)),
    ("same path, method not allowed", ("PATCH", "/items/1", {}, None)),
    ("deprecated still served", get("/legacy/items/")),
    ("hidden still served", get("/internal/stats")),
    ("api_route: GET", get("/ping")),
    ("api_route: POST", ("POST", "/ping", {}, None)),
    ("api_route: DELETE not allowed", ("DELETE", "/ping", {}, None)),
    ("collection: method not allowed", ("DELETE", "/items/", {}, None)),
]
