"""Security schemes as parameters and dependencies: HTTP bearer tokens (required, and
optional with `auto_error=False`), API keys in a header, a query parameter and a cookie,
an OAuth2 bearer token read without scopes, dependencies that check a credential and
answer 401 or 403 with a `WWW-Authenticate` challenge, and a router whose every
operation needs an admin. Its hasten twin is `examples/twins/security.rs`.

The OAuth2 password flow with scopes and HTTP Basic are in `tests/twin/oauth2_app.py`."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Security
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)

app = FastAPI(title="security", version="1.0.0")

bearer = HTTPBearer()
optional_bearer = HTTPBearer(auto_error=False)
header_key = APIKeyHeader(name="x-api-key")
query_key = APIKeyQuery(name="api_key")
cookie_key = APIKeyCookie(name="session", auto_error=False)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
API_KEYS = {"k3y": "reports"}


async def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> str:
    """The user the bearer token belongs to; 401 with a challenge for an unknown one."""
    user = TOKENS.get(credentials.credentials)
    if user is None:
        raise HTTPException(status_code=401, detail="Invalid token",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return user


async def admin_user(user: Annotated[str, Depends(current_user)]) -> str:
    """The current user, if an admin; 403 otherwise."""
    if user != "alice":
        raise HTTPException(status_code=403, detail="Not an admin")
    return user


async def verify_api_key(key: Annotated[str, Security(header_key)]) -> str:
    """The API key of the `x-api-key` header, if it is known; 403 otherwise."""
    if key not in API_KEYS:
        raise HTTPException(status_code=403, detail="Invalid API key")
    return API_KEYS[key]


@app.get("/me")
async def read_me(user: Annotated[str, Depends(current_user)]):
    """The user the bearer token belongs to."""
    return {"user": user}


@app.get("/greeting")
async def greeting(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(optional_bearer)],
):
    """A greeting: personal with a known bearer token, for a guest otherwise."""
    name = TOKENS.get(credentials.credentials, "guest") if credentials else "guest"
    return {"greeting": f"Hello, {name}"}


@app.get("/token-info")
async def token_info(token: Annotated[str, Depends(oauth2_scheme)]):
    """What the OAuth2 bearer token says."""
    if token not in TOKENS:
        raise HTTPException(status_code=401, detail="Could not validate credentials",
                            headers={"WWW-Authenticate": "Bearer"})
    return {"token": token, "user": TOKENS[token]}


@app.get("/reports")
async def read_reports(scope: Annotated[str, Depends(verify_api_key)]):
    """Reports, for a known API key."""
    return {"scope": scope, "reports": ["daily", "weekly"]}


@app.get("/export")
async def export(key: Annotated[str, Security(query_key)]):
    """An export, with the API key in the query string."""
    return {"key_length": len(key)}


@app.get("/prefs")
async def read_prefs(session: Annotated[str | None, Depends(cookie_key)]):
    """Preferences: the session cookie's, or the defaults."""
    return {"session": session, "theme": "dark" if session else "light"}


admin = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin_user)])


@admin.get("/stats")
async def read_stats():
    """Statistics, for admins."""
    return {"users": len(TOKENS)}


@admin.delete("/users/{user_id}", status_code=204)
async def delete_user(user_id: int):
    """Delete a user, as an admin."""


app.include_router(admin)


def get(path, headers=None):
    return ("GET", path, headers or {}, None)


def bearer_header(token):
    return {"authorization": f"Bearer {token}"}


CASES = [
    ("bearer: known token", get("/me", bearer_header("alice-token"))),
    ("bearer: none", get("/me")),
    ("bearer: unknown token, the dependency's 401", get("/me", bearer_header("nope"))),
    ("bearer: another scheme", get("/me", {"authorization": "Basic YWxpY2U6c2VjcmV0"})),
    ("bearer: scheme only", get("/me", {"authorization": "Bearer"})),
    ("bearer: lowercase scheme, extra spaces", get("/me", {"authorization": "bearer   bob-token"})),
    ("optional bearer: none", get("/greeting")),
    ("optional bearer: known", get("/greeting", bearer_header("bob-token"))),
    ("optional bearer: another scheme", get("/greeting", {"authorization": "Token bob-token"})),
    ("oauth2 token: known", get("/token-info", bearer_header("alice-token"))),
    ("oauth2 token: none", get("/token-info")),
    ("oauth2 token: scheme only", get("/token-info", {"authorization": "Bearer"})),
    ("api key header: known", get("/reports", {"x-api-key": "k3y"})),
    ("api key header: unknown, the dependency's 403", get("/reports", {"x-api-key": "nope"})),
    ("api key header: empty", get("/reports", {"x-api-key": ""})),
    ("api key query: repeated, the last wins", get("/export?api_key=a&api_key=bcd")),
    ("api key query: none", get("/export")),
    ("api key cookie: given", get("/prefs", {"cookie": "session=s3ss"})),
    ("api key cookie: none", get("/prefs")),
    ("router: admin", get("/admin/stats", bearer_header("alice-token"))),
    ("router: not an admin", get("/admin/stats", bearer_header("bob-token"))),
    ("router: no token", get("/admin/stats")),
    ("router: delete as admin", ("DELETE", "/admin/users/2", bearer_header("alice-token"), None)),
    ("router: delete, bad id", ("DELETE", "/admin/users/x", bearer_header("alice-token"), None)),
    ("router: wrong method", get("/admin/users/2", bearer_header("alice-token"))),
]
