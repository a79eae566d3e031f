"""The FastAPI twin of `examples/oauth2.rs`: the same operations, written the FastAPI way.

`python oauth2_app.py` prints its OpenAPI document; `compare.py` holds it against
hasten's. Run it as a server with `uvicorn oauth2_app:app`.
"""

import json
import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Security, status
from fastapi.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from pydantic import BaseModel

app = FastAPI(title="OAuth2 example", version="1.0.0")

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/token",
    scopes={"me": "Read information about the current user.", "items": "Read items."},
)
basic = HTTPBasic()
api_key = APIKeyHeader(name="x-api-key")

USERS = {"johndoe": {"username": "johndoe", "full_name": "John Doe", "password": "secret"}}
TOKENS: dict[str, tuple[str, list[str]]] = {}


class Token(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: str


class User(BaseModel):
    """A user."""

    username: str
    full_name: str | None = None


class Item(BaseModel):
    """An item."""

    name: str
    price: float
    tags: list[str] = []


class Message(BaseModel):
    """A one-line answer."""

    detail: str


@app.post("/token")
async def login(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Trade a user name and password for a bearer token with the requested scopes."""
    user = USERS.get(form_data.username)
    if not user or not secrets.compare_digest(user["password"], form_data.password):
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    token = secrets.token_hex(16)
    TOKENS[token] = (user["username"], form_data.scopes)
    return Token(access_token=token, token_type="bearer")


async def get_current_user(
    security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    authenticate = f'Bearer scope="{security_scopes.scope_str}"' if security_scopes.scopes else "Bearer"
    if token not in TOKENS:
        raise HTTPException(401, "Could not validate credentials", {"WWW-Authenticate": authenticate})
    username, granted = TOKENS[token]
    for scope in security_scopes.scopes:
        if scope not in granted:
            raise HTTPException(401, "Not enough permissions", {"WWW-Authenticate": authenticate})
    return User(username=username, full_name=USERS[username]["full_name"])


async def get_current_active_user(
    current_user: Annotated[User, Security(get_current_user, scopes=["me"])],
) -> User:
    return current_user


@app.get("/users/me/")
async def read_users_me(current_user: Annotated[User, Depends(get_current_active_user)]) -> User:
    """The user the token belongs to."""
    return current_user


@app.get("/users/me/items/")
async def read_own_items(
    current_user: Annotated[User, Security(get_current_active_user, scopes=["items"])],
) -> list[Item]:
    """The items of the user the token belongs to (needs the `items` scope)."""
    return [Item(name="Portal Gun", price=42.0, tags=[current_user.username])]


@app.get("/status/")
async def read_system_status(current_user: Annotated[User, Depends(get_current_user)]) -> Message:
    """Any valid token will do."""
    return Message(detail="ok")


@app.get(
    "/items/{item_id}",
    tags=["items"],
    responses={404: {"model": Message, "description": "Item not found"}},
)
async def read_item(
    item_id: Annotated[int, Path(ge=1)],
    q: Annotated[str | None, Query(max_length=50)] = None,
) -> Item:
    """Read one item."""
    if item_id > 3:
        raise HTTPException(404, "Item not found")
    return Item(name=q or f"item {item_id}", price=1.5 * item_id)


@app.post("/items/", tags=["items"], status_code=status.HTTP_201_CREATED)
async def create_item(item: Item) -> Item:
    """Create an item."""
    return item


@app.get("/basic/")
async def read_basic(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> Message:
    """HTTP Basic credentials."""
    user = USERS.get(credentials.username)
    if not user or not secrets.compare_digest(user["password"], credentials.password):
        raise HTTPException(401, "Incorrect username or password", {"WWW-Authenticate": "Basic"})
    return Message(detail=credentials.username)


@app.get("/key/")
async def read_key(key: Annotated[str, Depends(api_key)]) -> Message:
    """An API key in the `x-api-key` header."""
    if not secrets.compare_digest(key, "k3y"):
        raise HTTPException(401, "Invalid API key", {"WWW-Authenticate": "APIKey"})
    return Message(detail=str(len(key)))


@app.get("/old/", deprecated=True)
async def read_old() -> Message:
    """Kept for old clients."""
    return Message(detail="old")


@app.get("/hidden/", include_in_schema=False)
async def hidden() -> Message:
    return Message(detail="hidden")


if __name__ == "__main__":
    print(json.dumps(app.openapi(), indent=2))
