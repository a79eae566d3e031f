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

from pydantic import AnyUrl, BaseModel, EmailStr, Field, IPvAnyAddress

app = FastAPI(title="Validation", version="1.0.0")


class Dimensions(BaseModel):
    width: float = Field(gt=0)
    height: float = Field(le=500)


class Part(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{2}\d+$")
    count: int = Field(ge=1, le=10)


class Item(BaseModel):
    title: str = Field(min_length=1, max_length=20)
    price: float = Field(gt=0)
    stock: int = Field(ge=0, le=100)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    tags: list[str] = Field(default=[], max_length=3)
    pack: int = Field(default=5, multiple_of=5)
    dimensions: Optional[Dimensions] = None
    parts: list[Part] = []


@app.post("/items/", status_code=201)
async def create_item(item: Item) -> Item:
    return item


class User(BaseModel):
    username: str
    full_name: Optional[str] = None


@app.put("/items/{item_id}")
async def update_item(item_id: int, item: Item, user: User,
                      importance: Annotated[int, Body(gt=0)]):
    return {"item_id": item_id, "item": item, "user": user, "importance": importance}


@app.post("/embedded/")
async def embedded(item: Annotated[Item, Body(embed=True)]) -> Item:
    return item


class SignUp(BaseModel):
    username: str = Field(min_length=3, max_length=12, pattern=r"^\w+$")
    age: int = Field(ge=18)


@app.post("/signup/")
async def sign_up(form: Annotated[SignUp, Form()]) -> SignUp:
    return form


class Contact(BaseModel):
    email: EmailStr
    website: Optional[AnyUrl] = None
    server: Optional[IPv4Address] = None
    client: Optional[IPvAnyAddress] = None


@app.post("/contacts/")
async def add_contact(contact: Contact):
    return {"ok": True}


class OrderBy(str, Enum):
    created_at = "created_at"
    updated_at = "updated_at"


class Filter(BaseModel):
    model_config = {"extra": "forbid"}
    q: str = Field(min_length=2)
    limit: int = Field(100, ge=1, le=100)
    offset: int = Field(0, ge=0)
    order_by: OrderBy = OrderBy.created_at
    tags: list[str] = []


@app.get("/filtered/")
async def filtered(f: Annotated[Filter, Query()]) -> Filter:
    return f


class Client(BaseModel):
    x_token: str
    x_request_count: Optional[int] = Field(None, ge=0)


@app.get("/client/")
async def client(h: Annotated[Client, Header()]) -> Client:
    return h


@app.post("/prices/")
async def prices(body: dict[int, float]) -> dict[int, float]:
    return dict(sorted(body.items()))


@app.get("/search/")
async def search(
    q: Annotated[str, Query(min_length=2, max_length=10)],
    limit: Annotated[Optional[int], Query(ge=1, le=50)] = None,
    min_price: Annotated[Optional[float], Query(gt=0)] = None,
):
    return {"q": q, "limit": limit if limit is not None else 10, "min_price": min_price}


class Event(BaseModel):
    id: UUID
    starts_at: datetime
    day: date
    doors: time
    duration: timedelta
    ends_at: Optional[datetime] = None


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
    return event_summary(event)


@app.post("/events/form/")
async def create_event_from_form(event: Annotated[Event, Form()]):
    return event_summary(event)


@app.get("/events/{event_id}")
async def find_event(
    event_id: UUID,
    on: date,
    after: Optional[datetime] = None,
    doors: Optional[time] = None,
    within: Optional[timedelta] = None,
):
    return {
        "event_id": str(event_id),
        "on": on.isoformat(),
        "after_us": instant_us(after),
        "doors_us": since_midnight_us(doors),
        "within": seconds_and_micros(within),
    }
