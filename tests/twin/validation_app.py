"""The FastAPI twin of `examples/validation.rs`: the same models and constraints, the
FastAPI way. `live_validation.py` replays the same requests against both.

Run it with `uvicorn validation_app:app`.
"""

from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Annotated, Optional
from uuid import UUID

from fastapi import Body, FastAPI, Form, Header, Query
from ipaddress import IPv4Address

from pydantic import AnyUrl, BaseModel, ConfigDict, EmailStr, Field, IPvAnyAddress

app = FastAPI(title="Validation", version="1.0.0")


class Dimensions(BaseModel):
    """A size, in centimetres."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    width: float = Field(gt=0)
    """Greater than zero."""
    height: float = Field(le=500)
    """At most 500."""


class Part(BaseModel):
    """One part of an item."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    code: str = Field(pattern=r"^[A-Z]{2}\d+$")
    """A part code: two capital letters and digits."""
    count: int = Field(ge=1, le=10)
    """How many, 1 to 10."""


class Item(BaseModel):
    """An item for sale."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    title: str = Field(min_length=1, max_length=20)
    """1 to 20 characters."""
    price: float = Field(gt=0)
    """Greater than zero."""
    stock: int = Field(ge=0, le=100)
    """0 to 100."""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """Three capital letters."""
    tags: list[str] = Field(default=[], max_length=3)
    """At most three tags."""
    pack: int = Field(default=5, multiple_of=5)
    """Sold in packs of a multiple of 5."""
    dimensions: Optional[Dimensions] = None
    """The size, if known."""
    parts: list[Part] = []
    """Its parts."""


@app.post("/items/", status_code=201)
async def create_item(item: Item) -> Item:
    """Create an item."""
    return item


class User(BaseModel):
    """A user, beside an item in one body."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    username: str
    """Their login."""
    full_name: Optional[str] = None
    """Their name, if given."""


@app.put("/items/{item_id}")
async def update_item(item_id: int, item: Item, user: User,
                      importance: Annotated[int, Body(gt=0)]):
    """Several body parameters: the body is one object with each under its name,
    `{"item": {...}, "user": {...}, "importance": 5}`, each validated by its own rules."""
    return {"item_id": item_id, "item": item, "user": user, "importance": importance}


@app.post("/embedded/")
async def embedded(item: Annotated[Item, Body(embed=True)]) -> Item:
    """One body parameter, embedded: `{"item": {...}}`."""
    return item


class SignUp(BaseModel):
    """A sign-up form."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    username: str = Field(min_length=3, max_length=12, pattern=r"^\w+$")
    """3 to 12 letters, digits or underscores."""
    age: int = Field(ge=18)
    """18 or older."""


@app.post("/signup/")
async def sign_up(form: Annotated[SignUp, Form()]) -> SignUp:
    """Sign up with a form."""
    return form


class Contact(BaseModel):
    """A contact, with formats checked as pydantic's `EmailStr`, `AnyUrl`, `IPv4Address`
    and `IPvAnyAddress` check them."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    email: EmailStr
    """An e-mail address."""
    website: Optional[AnyUrl] = None
    """A web site."""
    server: Optional[IPv4Address] = None
    """A server's IPv4 address."""
    client: Optional[IPvAnyAddress] = None
    """A client's address, IPv4 or IPv6."""


@app.post("/contacts/")
async def add_contact(contact: Contact):
    """Add a contact."""
    return {"ok": True}


class OrderBy(str, Enum):
    """How to sort."""
    created_at = "created_at"
    updated_at = "updated_at"


class Filter(BaseModel):
    """Query parameters as one model, as FastAPI's `Annotated[Filter, Query()]`; unknown
    parameters are refused."""
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    q: str = Field(min_length=2)
    """What to look for, at least 2 characters."""
    limit: int = Field(100, ge=1, le=100)
    """1 to 100, 100 by default."""
    offset: int = Field(0, ge=0)
    """0 or more."""
    order_by: OrderBy = OrderBy.created_at
    """The sort order."""
    tags: list[str] = []
    """Tags, repeated: `?tags=a&tags=b`."""


@app.get("/filtered/")
async def filtered(f: Annotated[Filter, Query()]) -> Filter:
    """Items, filtered by a parameter model."""
    return f


class Client(BaseModel):
    """Headers as one model."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    x_token: str
    """The `x-token` header."""
    x_request_count: Optional[int] = Field(None, ge=0)
    """The `x-request-count` header."""


@app.get("/client/")
async def client(h: Annotated[Client, Header()]) -> Client:
    """The client, from a header model."""
    return h


@app.post("/prices/")
async def prices(body: dict[int, float]) -> dict[int, float]:
    """Prices by integer code: keys are read as integers, as pydantic reads them."""
    return dict(sorted(body.items()))


@app.get("/search/")
async def search(
    q: Annotated[str, Query(min_length=2, max_length=10)],
    limit: Annotated[Optional[int], Query(ge=1, le=50)] = None,
    min_price: Annotated[Optional[float], Query(gt=0)] = None,
):
    """Search, with constrained query parameters."""
    return {"q": q, "limit": limit if limit is not None else 10, "min_price": min_price}


class Event(BaseModel):
    """An event: the types FastAPI users reach for (`UUID`, `datetime`, `date`, `time`,
    `timedelta`), each read as pydantic reads it and refused with its errors."""
    model_config = ConfigDict(use_attribute_docstrings=True)
    id: UUID
    """Its id: hyphenated, simple (32 hex digits), braced or `urn:uuid:`."""
    starts_at: datetime
    """When it starts: RFC 3339 or ISO 8601 (`Z`, an offset, or none for UTC), a date
    alone (midnight), or a unix timestamp in seconds or milliseconds."""
    day: date
    """The day it is listed under: `YYYY-MM-DD`, or a datetime at midnight."""
    doors: time
    """When the doors open, wall-clock time: `HH:MM[:SS[.ffffff]]`."""
    duration: timedelta
    """How long it lasts: ISO 8601 (`PT1H30M`), `[D day[s], ]HH:MM[:SS]`, or seconds."""
    ends_at: Optional[datetime] = None
    """When it ends, if known."""


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICRO = timedelta(microseconds=1)


def instant_us(dt):
    """Microseconds since the epoch; a naive datetime is taken as UTC, as hasten's
    `jiff::Timestamp` takes it."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // MICRO


def since_midnight_us(t):
    """Microseconds since midnight, the wall-clock time (an offset is dropped)."""
    if t is None:
        return None
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def seconds_and_micros(td):
    """Whole seconds (rounded down) and the microseconds after them."""
    if td is None:
        return None
    seconds, rest = divmod(td, timedelta(seconds=1))
    return [seconds, rest // MICRO]


def event_summary(e: Event):
    return {
        "id": str(e.id),
        "starts_at_us": instant_us(e.starts_at),
        "day": e.day.isoformat(),
        "doors_us": since_midnight_us(e.doors),
        "duration": seconds_and_micros(e.duration),
        "ends_at_us": instant_us(e.ends_at),
    }


@app.post("/events/")
async def create_event(event: Event):
    """Create an event from JSON."""
    return event_summary(event)


@app.post("/events/form/")
async def create_event_from_form(event: Annotated[Event, Form()]):
    """Create an event from a form: every field is text, read the same way."""
    return event_summary(event)


@app.get("/events/{event_id}")
async def find_event(
    event_id: UUID,
    on: date,
    after: Optional[datetime] = None,
    doors: Optional[time] = None,
    within: Optional[timedelta] = None,
):
    """Look an event up: a UUID in the path, dates, times and durations in the query."""
    return {
        "event_id": str(event_id),
        "on": on.isoformat(),
        "after_us": instant_us(after),
        "doors_us": since_midnight_us(doors),
        "within": seconds_and_micros(within),
    }
