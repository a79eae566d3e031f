"""Routers and what the document says about operations: prefixes and nested routers in
operationIds, tags with external docs, a `:path` converter, `response_description`, a
hidden parameter, defaults written as expressions, a deprecated parameter, a redirect.
Its hasten twin is `examples/twins/routing.rs`."""

from typing import Annotated, Optional

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import RedirectResponse

app = FastAPI(title="routing", version="1.0.0", openapi_tags=[
    {"name": "items", "description": "Manage items.",
     "externalDocs": {"description": "Items external docs", "url": "https://example.com/items/"}},
    {"name": "users", "description": "Users, and their admin."},
])

items = APIRouter(prefix="/items", tags=["items"])


@items.get("/")
async def list_items(q: Annotated[str, Query()] = "all",
                     tags: Annotated[list[str], Query()] = ["a", "b"],
                     limit: Annotated[int, Query(deprecated=True)] = 10):
    """List items, filtered."""
    return {"q": q, "tags": tags, "limit": limit}


@items.get("/files/{file_path:path}", response_description="The file's path")
async def read_file(file_path: str,
                    secret: Annotated[Optional[str], Query(include_in_schema=False)] = None):
    return {"file_path": file_path, "secret": secret}


users = APIRouter(prefix="/users", tags=["users"])
admin = APIRouter(prefix="/admin")


@admin.get("/{user_id}")
async def read_user(user_id: int) -> dict:
    return {"user_id": user_id}


users.include_router(admin)
app.include_router(items)
app.include_router(users)


@app.get("/search")
async def search(q: Annotated[Optional[str], Query(max_length=10)]):
    """Search: `q` must be sent, and is documented as nullable."""
    return {"q": q}


@app.get("/old", response_class=RedirectResponse)
async def old():
    return "/items/"


def get(path):
    return ("GET", path, {}, None)


CASES = [
    ("defaults", get("/items/")),
    ("given", get("/items/?q=x&tags=c&tags=d&limit=3")),
    ("wrong type", get("/items/?limit=many")),
    ("path converter", get("/items/files/a/b/c.txt")),
    ("hidden parameter still read", get("/items/files/a.txt?secret=s")),
    ("nested router", get("/users/admin/7")),
    ("nested router: 422", get("/users/admin/x")),
    ("redirect", get("/old")),
    ("required nullable: given", get("/search?q=saw")),
    ("required nullable: missing", get("/search")),
    ("required nullable: too long", get("/search?q=hammers-and-saws")),
    ("unknown path", get("/nowhere")),
]
