"""Dependencies: shared query parameters, a chain (a dependency using another), header
checks that raise `HTTPException`, dependencies on a route and on a router (run for their
side effect, their parameters documented on each operation), a session dependency with
`yield` (committed or rolled back when the request is over), cached once per request or
resolved again with `use_cache=False`. Its hasten twin is `examples/twins/dependencies.rs`."""

from itertools import count
from typing import Annotated, Optional

from fastapi import APIRouter, Cookie, Depends, FastAPI, Header, HTTPException, Query
from pydantic import BaseModel

app = FastAPI(title="dependencies", version="1.0.0")


async def common_parameters(q: Optional[str] = None, skip: int = 0,
                            limit: Annotated[int, Query(le=100)] = 100):
    """The paging parameters every listing takes."""
    return {"q": q, "skip": skip, "limit": limit}


CommonsDep = Annotated[dict, Depends(common_parameters)]


async def verify_token(x_token: Annotated[str, Header()]):
    """The `x-token` header must be the secret token."""
    if x_token != "fake-super-secret-token":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def verify_key(x_key: Annotated[str, Header()]):
    """The `x-key` header must be the secret key."""
    if x_key != "fake-super-secret-key":
        raise HTTPException(status_code=400, detail="X-Key header invalid")
    return x_key


def query_extractor(q: Optional[str] = None):
    return q


def query_or_cookie_extractor(q: Annotated[Optional[str], Depends(query_extractor)],
                              last_query: Annotated[Optional[str], Cookie()] = None):
    """The query, or the last one (from a cookie) when none is given."""
    if not q:
        return last_query
    return q


# What the sessions did, most recent last (the last ten events).
EVENTS: list[str] = []
SESSION_IDS = count(1)


def log(event):
    EVENTS.append(event)
    del EVENTS[:-10]


class Session:
    def __init__(self):
        self.id = next(SESSION_IDS)


async def get_session():
    """A unit of work: committed if the request succeeds, rolled back otherwise."""
    session = Session()
    log(f"open {session.id}")
    try:
        yield session
    except Exception:
        log(f"rollback {session.id}")
        raise
    else:
        log(f"commit {session.id}")


SessionDep = Annotated[Session, Depends(get_session)]


@app.get("/items/", dependencies=[Depends(verify_token), Depends(verify_key)])
async def read_items(commons: CommonsDep):
    """Items: only with the right token and key."""
    return {"items": [{"item": "Foo"}, {"item": "Bar"}], **commons}


@app.get("/users/")
async def read_users(commons: CommonsDep):
    return commons


@app.get("/search/")
async def search(query_or_default: Annotated[Optional[str], Depends(query_or_cookie_extractor)]):
    return {"q_or_cookie": query_or_default}


admin = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(verify_token)])


@admin.get("/stats")
async def admin_stats(key: Annotated[str, Depends(verify_key)]):
    """Stats, for admins: the router checks the token, the operation the key."""
    return {"key": key, "events": len(EVENTS)}


app.include_router(admin)


class Order(BaseModel):
    """An order."""
    item: str
    quantity: int


@app.post("/orders/", status_code=201)
async def create_order(order: Order, session: SessionDep):
    """Place an order; more than 10 is refused, and the session rolled back."""
    if order.quantity > 10:
        raise HTTPException(status_code=400, detail="Too many")
    return {"session": session.id, "item": order.item, "quantity": order.quantity}


@app.get("/sessions/same")
async def same_session(a: SessionDep, b: SessionDep):
    """One session, however often it is asked for."""
    return {"same": a is b, "ids": [a.id, b.id]}


@app.get("/sessions/fresh")
async def fresh_session(a: SessionDep,
                        b: Annotated[Session, Depends(get_session, use_cache=False)]):
    """A second session, asked for with `use_cache=False`."""
    return {"same": a is b, "ids": [a.id, b.id]}


@app.get("/events")
async def events():
    """What the sessions did."""
    return EVENTS


TOKEN = {"x-token": "fake-super-secret-token"}
BOTH = {**TOKEN, "x-key": "fake-super-secret-key"}


def get(path, headers=None):
    return ("GET", path, headers or {}, None)


def order(value):
    import json
    return ("POST", "/orders/", {"content-type": "application/json"}, json.dumps(value).encode())


CASES = [
    ("route dependencies pass", get("/items/?q=foo&skip=1", BOTH)),
    ("route dependency raises (bad token)", get("/items/", {**BOTH, "x-token": "nope"})),
    ("route dependency raises (bad key)", get("/items/", {**TOKEN, "x-key": "nope"})),
    ("route dependencies' headers missing", get("/items/")),
    ("dependency's query parameter: wrong type and too big", get("/users/?skip=x&limit=101")),
    ("dependency's defaults", get("/users/")),
    ("chain: from the query", get("/search/?q=hammer")),
    ("chain: from the cookie", get("/search/", {"cookie": "last_query=saw"})),
    ("chain: neither", get("/search/")),
    ("router dependency: no token", get("/admin/stats", {"x-key": "fake-super-secret-key"})),
    ("router dependency: bad token", get("/admin/stats", {**BOTH, "x-token": "no"})),
    ("router and operation dependencies pass", get("/admin/stats", BOTH)),
    ("yield: committed", order({"item": "nail", "quantity": 3})),
    ("yield: rolled back on HTTPException", order({"item": "nail", "quantity": 11})),
    ("yield: rolled back on a 422", order({"item": "nail", "quantity": "many"})),
    ("yield: what happened", get("/events")),
    ("cached: one session", get("/sessions/same")),
    ("use_cache=False: two sessions", get("/sessions/fresh")),
    ("yield: what happened since", get("/events")),
    ("wrong method", ("POST", "/users/", {}, None)),
]
