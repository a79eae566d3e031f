"""Models that stress schema generation: deep nesting, one model read in the request and
written in the response, optional nested models, a list of optional models, a tree that
refers to itself, a generic page and maps of lists, field aliases, fields with a title,
a description and examples, and defaults that are a list or a dict.
Its hasten twin is `examples/twins/models.rs`."""

from typing import Generic, Optional, TypeVar

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

app = FastAPI(title="models", version="1.0.0")

T = TypeVar("T")


class Image(BaseModel):
    """A picture of an item."""
    url: str
    name: str
    width: Optional[int] = None


class Address(BaseModel):
    """Where someone lives."""
    street: str
    city: str
    postcode: Optional[str] = None


class Owner(BaseModel):
    """Who owns an item."""
    full_name: str = Field(alias="fullName", title="Full name",
                           description="The owner's full name.", examples=["Alice Smith"])
    email_address: Optional[str] = Field(default=None, alias="emailAddress")
    address: Optional[Address] = None


class Item(BaseModel):
    """An item for sale."""
    name: str = Field(title="Item name", description="What the item is called.",
                      examples=["Hammer"], min_length=1)
    price: float = Field(gt=0, description="In euros.", examples=[9.5, 12.0])
    tags: list[str] = []
    owner: Optional[Owner] = None
    images: list[Optional[Image]] = []


class Page(BaseModel, Generic[T]):
    """One page of results."""
    items: list[T]
    total: int
    next: Optional[str] = None


class Node(BaseModel):
    """A node of a tree."""
    name: str
    children: list["Node"] = []


class TreeSummary(BaseModel):
    """What a tree holds."""
    nodes: int
    depth: int
    leaves: list[str]


class OrderLine(BaseModel):
    """One line of an order."""
    item: Item
    quantity: int = Field(default=1, ge=1)


class Order(BaseModel):
    """An order: a customer, lines of items, maybe a shipping address."""
    customer: Owner
    lines: list[OrderLine]
    shipping: Optional[Address] = None
    notes: dict[str, list[str]] = {}


class Preferences(BaseModel):
    """A user's preferences, with defaults that are containers."""
    theme: str = "light"
    shortcuts: dict[str, str] = {"save": "ctrl+s", "quit": "ctrl+q"}
    favourites: list[int] = [1, 2, 3]
    layout: Optional[dict[str, int]] = None


class Message(BaseModel):
    """A one-line answer."""
    detail: str


ITEMS = {
    1: Item(name="Hammer", price=9.5, tags=["tools"],
            owner=Owner(fullName="Alice Smith",
                        address=Address(street="1 Main St", city="Springfield")),
            images=[Image(url="https://example.com/h.png", name="hammer"), None]),
    2: Item(name="Saw", price=12.0),
}


@app.post("/items/", status_code=201)
async def create_item(item: Item) -> Item:
    """Create an item: the same model in and out."""
    return item


@app.get("/items/", response_model=Page[Item])
async def list_items(skip: int = 0, limit: int = 10):
    """A page of items."""
    items = list(ITEMS.values())[skip:skip + limit]
    more = skip + limit < len(ITEMS)
    return {"items": items, "total": len(ITEMS),
            "next": f"/items/?skip={skip + limit}&limit={limit}" if more else None}


@app.get("/items/{item_id}", response_model=Item, responses={404: {"model": Message}})
async def read_item(item_id: int):
    """One item, or 404."""
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return ITEMS[item_id]


@app.get("/items/{item_id}/images", response_model=list[Optional[Image]])
async def read_images(item_id: int):
    """An item's images; a missing one is null."""
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="Item not found")
    return ITEMS[item_id].images


@app.put("/owners/{owner_id}")
async def update_owner(owner_id: int, owner: Owner) -> Owner:
    """Replace an owner: fields by their aliases, both ways."""
    return owner


@app.post("/trees/")
async def summarize_tree(root: Node) -> TreeSummary:
    """Count a tree's nodes and depth, and list its leaves."""
    nodes, depth, leaves = 0, 0, []
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if not node.children:
            leaves.append(node.name)
        stack.extend((c, level + 1) for c in reversed(node.children))
    return TreeSummary(nodes=nodes, depth=depth, leaves=leaves)


@app.post("/catalog/")
async def count_catalog(catalog: dict[str, list[Item]]) -> dict[str, int]:
    """Items by category, counted."""
    return {category: len(items) for category, items in catalog.items()}


@app.post("/orders/", status_code=201)
async def create_order(order: Order) -> dict[str, float]:
    """Total an order."""
    return {"total": sum(line.item.price * line.quantity for line in order.lines)}


@app.get("/preferences/")
async def read_preferences() -> Preferences:
    """The default preferences."""
    return Preferences()


@app.put("/preferences/")
async def update_preferences(preferences: Preferences) -> Preferences:
    """Replace the preferences; what is left out takes its default."""
    return preferences


def js(method, path, value):
    import json
    return (method, path, {"content-type": "application/json"}, json.dumps(value).encode())


def get(path):
    return ("GET", path, {}, None)


HAMMER = {"name": "Hammer", "price": 9.5}

CASES = [
    ("same model in and out, defaults filled", js("POST", "/items/", HAMMER)),
    ("nested optional owner, aliases, a list of optional images",
     js("POST", "/items/", {**HAMMER, "owner": {"fullName": "Bob", "address": None},
                            "images": [None, {"url": "u", "name": "n", "width": 3}]})),
    ("field constraints: empty name, price not > 0", js("POST", "/items/", {"name": "", "price": 0})),
    ("alias required: the field name is not read", js("POST", "/items/", {
        **HAMMER, "owner": {"full_name": "Bob"}})),
    ("an error deep in a list of optional models",
     js("POST", "/items/", {**HAMMER, "images": [None, {"url": "u"}]})),
    ("generic page", get("/items/?limit=1")),
    ("generic page: last page", get("/items/?skip=1")),
    ("nested models in the response", get("/items/1")),
    ("404 with its model", get("/items/9")),
    ("list of optional models in the response", get("/items/1/images")),
    ("aliases both ways", js("PUT", "/owners/3", {
        "fullName": "Carol", "emailAddress": "c@example.com",
        "address": {"street": "2 Side St", "city": "Shelbyville", "postcode": "1234"}})),
    ("alias missing", js("PUT", "/owners/3", {"emailAddress": "c@example.com"})),
    ("self-referencing tree", js("POST", "/trees/", {"name": "root", "children": [
        {"name": "a", "children": [{"name": "a1"}, {"name": "a2"}]}, {"name": "b"}]})),
    ("tree: a wrong type two levels down", js("POST", "/trees/", {"name": "root", "children": [
        {"name": "a", "children": [{"name": 5}]}]})),
    ("tree: children not a list", js("POST", "/trees/", {"name": "root", "children": "none"})),
    ("map of lists of models", js("POST", "/catalog/", {"tools": [HAMMER, HAMMER], "empty": []})),
    ("map of lists: an invalid item", js("POST", "/catalog/", {"tools": [{"name": "x"}]})),
    ("deep nesting", js("POST", "/orders/", {
        "customer": {"fullName": "Dan"},
        "lines": [{"item": HAMMER, "quantity": 2}, {"item": {"name": "Saw", "price": 12.5}}],
        "notes": {"door": ["ring twice"]}})),
    ("deep nesting: errors at every level", js("POST", "/orders/", {
        "customer": {}, "lines": [{"item": {"name": "Saw", "price": -1}, "quantity": 0}],
        "shipping": {"street": "x"}, "notes": {"door": "ring"}})),
    ("container defaults", get("/preferences/")),
    ("container defaults filled in", js("PUT", "/preferences/", {"theme": "dark"})),
    ("containers given", js("PUT", "/preferences/", {
        "shortcuts": {}, "favourites": [], "layout": {"columns": 2}})),
    ("container of the wrong type", js("PUT", "/preferences/", {"favourites": ["x"]})),
    ("wrong method", ("DELETE", "/preferences/", {}, None)),
]
