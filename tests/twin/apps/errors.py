"""The errors a FastAPI user relies on: `HTTPException` with a custom status and a
detail that is a string, a dict or a list, with headers (`WWW-Authenticate`); a detail
left to the status's reason phrase; a dependency that raises; an exception of the
app's own answered by its exception handler; one 422 listing the errors of every
parameter location at once; the 422 of a body that is not JSON or is missing; an
unhandled exception as a 500; 404 for an unknown path and 405 (with `Allow`)
for a wrong method.
Its hasten twin is `examples/twins/errors.rs`."""

from typing import Annotated, Optional

from fastapi import Cookie, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

app = FastAPI(title="errors", version="1.0.0")


class UnicornException(Exception):
    """The app's own error, answered by the handler registered for it."""

    def __init__(self, name: str):
        self.name = name


@app.exception_handler(UnicornException)
async def unicorn_exception_handler(request: Request, exc: UnicornException):
    return JSONResponse(status_code=418,
                        content={"message": f"Oops! {exc.name} did something. There goes a rainbow..."})


class Order(BaseModel):
    """An order for some of one item."""
    name: str = Field(min_length=1)
    quantity: int = Field(default=1, gt=0)


STOCK = {"hammer": 5, "saw": 0}


@app.get("/items/{item_id}")
async def read_item(item_id: str):
    """An item, or a 404 with a string detail and a custom header."""
    if item_id not in STOCK:
        raise HTTPException(status_code=404, detail="Item not found",
                            headers={"X-Error": "There goes my error"})
    return {"item": item_id, "stock": STOCK[item_id]}


@app.get("/me")
async def read_me(authorization: Annotated[Optional[str], Header()] = None):
    """The caller, or a 401 that says how to authenticate."""
    if authorization != "Bearer letmein":
        raise HTTPException(status_code=401, detail="Not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    return {"user": "ann"}


@app.post("/orders/", status_code=201)
async def place_order(order: Order):
    """Place an order, or a 409 whose detail is an object."""
    available = STOCK.get(order.name, 0)
    if order.quantity > available:
        raise HTTPException(status_code=409, detail={
            "code": "out_of_stock", "item": order.name, "available": available})
    return {"ordered": order.quantity, "item": order.name}


@app.post("/batch/")
async def check_batch(names: list[str]):
    """Check a list of names; a 400 whose detail lists the unknown ones."""
    unknown = [f"unknown item: {name}" for name in names if name not in STOCK]
    if unknown:
        raise HTTPException(status_code=400, detail=unknown)
    return {"checked": len(names)}


async def verify_key(x_key: Annotated[str, Header()]):
    if x_key != "fake-super-secret-key":
        raise HTTPException(status_code=403)


@app.get("/admin/", dependencies=[Depends(verify_key)])
async def admin():
    """Behind a dependency that raises 403 (detail: the reason phrase)."""
    return {"admin": True}


@app.get("/teapot")
async def teapot():
    """A custom status, its detail left to the reason phrase."""
    raise HTTPException(status_code=418)


@app.get("/unicorns/{name}")
async def read_unicorn(name: str):
    """Raises the app's own exception, which its handler answers."""
    if name == "yolo":
        raise UnicornException(name=name)
    return {"unicorn_name": name}


@app.put("/everything/{item_id}")
async def update_everything(item_id: Annotated[int, Path(ge=1)],
                            q: Annotated[int, Query(le=100)],
                            x_token: Annotated[str, Header(min_length=3)],
                            session: Annotated[str, Cookie()],
                            order: Order):
    """A parameter in every location: their errors come in one 422."""
    return {"item_id": item_id, "q": q, "x_token": x_token, "session": session,
            "order": order}


@app.get("/crash")
async def crash():
    """An unhandled exception: a plain-text 500."""
    raise RuntimeError("something broke")


def get(path, headers=None):
    return ("GET", path, headers or {}, None)


def js(method, path, value, headers=None):
    import json
    return (method, path, {"content-type": "application/json", **(headers or {})},
            json.dumps(value).encode())


EVERYTHING_OK = {"x-token": "abc", "cookie": "session=s1"}

CASES = [
    ("found", get("/items/hammer")),
    ("404 with a string detail and a header", get("/items/chisel")),
    ("401 with WWW-Authenticate", get("/me")),
    ("authenticated", get("/me", {"authorization": "Bearer letmein"})),
    ("201", js("POST", "/orders/", {"name": "hammer", "quantity": 2})),
    ("409 with a dict detail", js("POST", "/orders/", {"name": "saw"})),
    ("422: body fields invalid", js("POST", "/orders/", {"name": "", "quantity": 0})),
    ("422: body not JSON", ("POST", "/orders/", {"content-type": "application/json"}, b"{nope")),
    ("422: no body", ("POST", "/orders/", {}, None)),
    ("400 with a list detail", js("POST", "/batch/", ["hammer", "chisel", "plane"])),
    ("list body accepted", js("POST", "/batch/", ["hammer", "saw"])),
    ("422: body not a list", js("POST", "/batch/", {"names": ["hammer"]})),
    ("dependency: header missing", get("/admin/")),
    ("dependency raises 403", get("/admin/", {"x-key": "wrong"})),
    ("dependency passes", get("/admin/", {"x-key": "fake-super-secret-key"})),
    ("418 with the reason phrase", get("/teapot")),
    ("no exception", get("/unicorns/lily")),
    ("the app's exception handler answers", get("/unicorns/yolo")),
    ("every location valid", js("PUT", "/everything/3?q=7", {"name": "saw"}, EVERYTHING_OK)),
    ("422 from every location at once",
     js("PUT", "/everything/0?q=x", {"quantity": "many"}, {"x-token": "ab"})),
    ("422: path and query out of range, cookie missing",
     js("PUT", "/everything/-1?q=101", {"name": "saw"}, {"x-token": "abc"})),
    ("unhandled exception: 500", get("/crash")),
    ("404 for an unknown path", get("/nowhere")),
    ("405 with Allow", get("/orders/")),
    ("405 on a GET route", ("DELETE", "/items/hammer", {}, None)),
]
