"""JSON bodies: a model with nested models and lists of models, optional fields and
defaults, a list of models as the body, a dict body, an optional body, several body
parameters with a scalar `Body()` beside them, `Body(embed=True)`, and what comes of
malformed JSON, a wrong content type, an empty body and an array where an object is
expected. Its hasten twin is `examples/twins/bodies.rs`."""

import json
from typing import Annotated, Optional

from fastapi import Body, FastAPI
from pydantic import BaseModel

app = FastAPI(title="bodies", version="1.0.0")


class Image(BaseModel):
    """A picture of an item."""

    url: str
    name: str


class Item(BaseModel):
    """An item for sale."""

    name: str
    description: Optional[str] = None
    price: float
    tax: Optional[float] = None
    tags: list[str] = []
    images: Optional[list[Image]] = None


class Offer(BaseModel):
    """Several items sold together."""

    name: str
    description: Optional[str] = None
    price: float
    items: list[Item]


class User(BaseModel):
    """Who changed an item."""

    username: str
    full_name: Optional[str] = None


@app.post("/items/")
async def create_item(item: Item) -> Item:
    """Create an item."""
    return item


@app.put("/items/{item_id}")
async def update_item(item_id: int, item: Item, user: User,
                      importance: Annotated[int, Body(gt=0)]):
    """Several body parameters: each under its name in one object."""
    return {"item_id": item_id, "item": item, "user": user, "importance": importance}


@app.put("/items/{item_id}/embedded")
async def replace_item(item_id: int, item: Annotated[Item, Body(embed=True)]):
    """One body parameter, embedded: `{"item": {...}}`."""
    return {"item_id": item_id, "item": item}


@app.post("/offers/")
async def create_offer(offer: Offer) -> Offer:
    """Create an offer: a model holding a list of models."""
    return offer


@app.post("/images/multiple/")
async def create_images(images: list[Image]) -> list[Image]:
    """A list of models as the body."""
    return images


@app.post("/index-weights/")
async def create_index_weights(weights: dict[str, int]) -> dict[str, int]:
    """A dict as the body: any keys, integer values."""
    return weights


@app.post("/drafts/")
async def save_draft(item: Optional[Item] = None):
    """An optional body: nothing sent is no draft."""
    return {"draft": item}


def post(path, value, method="POST"):
    return (method, path, {"content-type": "application/json"}, json.dumps(value).encode())


def raw(path, content_type, body, method="POST"):
    return (method, path, {"content-type": content_type} if content_type else {}, body)


ITEM = {"name": "Hammer", "price": 9.5}
FULL = {"name": "Saw", "description": "Sharp", "price": 12, "tax": 1.5, "tags": ["tool"],
        "images": [{"url": "https://example.com/saw.png", "name": "front"}]}

CASES = [
    ("a model: defaults filled in", post("/items/", ITEM)),
    ("a model: every field, nested list of models, int price read as float",
     post("/items/", FULL)),
    ("a model: every error at once",
     post("/items/", {"price": "free", "tags": "t", "images": [{"url": 1}]})),
    ("a model: unknown fields ignored, a number given as a string",
     post("/items/", {"name": "Saw", "price": "3.25", "colour": "red"})),
    ("a byte-order mark before the JSON",
     raw("/items/", "application/json", b"\xef\xbb\xbf" + json.dumps(ITEM).encode())),
    ("malformed JSON: cut after a comma", raw("/items/", "application/json", b'{"name": "Saw",')),
    ("wrong content type", raw("/items/", "text/plain", json.dumps(ITEM).encode())),
    ("no content type", raw("/items/", None, json.dumps(ITEM).encode())),
    ("empty body", raw("/items/", "application/json", b"")),
    ("an array where an object is expected", post("/items/", [ITEM])),
    ("null body", post("/items/", None)),
    ("several bodies and a scalar",
     post("/items/5", {"item": ITEM, "user": {"username": "ann"}, "importance": 3}, "PUT")),
    ("several bodies: importance 0, user missing",
     post("/items/5", {"item": ITEM, "importance": 0}, "PUT")),
    ("embedded", post("/items/5/embedded", {"item": FULL}, "PUT")),
    ("embedded: the bare model is refused", post("/items/5/embedded", ITEM, "PUT")),
    ("a model holding a list of models",
     post("/offers/", {"name": "Kit", "price": 20, "items": [ITEM, FULL]})),
    ("a list of models: error in the second", post("/offers/", {"name": "Kit", "price": 1,
                                                                 "items": [ITEM, {"name": 3}]})),
    ("a list body", post("/images/multiple/", [{"url": "u", "name": "a"}, {"url": "v", "name": "b"}])),
    ("a list body: an object sent", post("/images/multiple/", {"url": "u", "name": "a"})),
    ("a dict body", post("/index-weights/", {"a": 1, "b": "2"})),
    ("a dict body: bad values", post("/index-weights/", {"a": 1.5, "b": "x"})),
    ("an optional body: given", post("/drafts/", ITEM)),
    ("an optional body: none sent", raw("/drafts/", None, b"")),
    ("an optional body: JSON null", post("/drafts/", None)),
    ("wrong method", ("GET", "/items/", {}, None)),
]
