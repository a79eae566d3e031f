"""Parameter and body field types: `UUID`, `datetime`, `date`, `time`, `timedelta`,
floats, `bool`, enums (of strings and of integers), `Literal`, nested lists, sets and
tuples, each read as pydantic reads it and refused with its 422. Its hasten twin is
`examples/twins/datatypes.rs`."""

from datetime import date, datetime, time, timedelta
from enum import Enum, IntEnum
from typing import Annotated, Literal, Optional
from uuid import UUID

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

app = FastAPI(title="types", version="1.0.0")


class Color(str, Enum):
    """A paint colour."""
    red = "red"
    green = "green"
    blue = "blue"


class Priority(IntEnum):
    """How urgent: 1 (low) to 3 (high)."""
    low = 1
    normal = 2
    high = 3


class Event(BaseModel):
    """An event, with the date and time types."""
    id: UUID
    starts_at: datetime
    day: date
    doors: time
    duration: timedelta


class Task(BaseModel):
    """A task."""
    title: str
    color: Color
    done: bool = False
    order: Literal["asc", "desc"] = "asc"


class Shape(BaseModel):
    """Collections: a grid of integers, a set of labels, a point."""
    grid: list[list[int]]
    labels: set[str]
    point: tuple[float, float]


class Price(BaseModel):
    """A price in euros, and a discount between 0 and 1."""
    amount: float = Field(gt=0)
    discount: float = Field(0.0, ge=0, le=1)


@app.get("/colors/{color}")
async def read_color(color: Color):
    """A colour from the path: one of the enum's values."""
    return {"color": color, "warm": color is Color.red}


@app.get("/tasks/")
async def list_tasks(priority: Priority = Priority.normal, done: Optional[bool] = None,
                     limit: Annotated[float, Query(gt=0)] = 10.0):
    """Tasks, filtered by an integer enum, a boolean and a float."""
    return {"priority": priority, "done": done, "limit": limit}


@app.post("/tasks/")
async def create_task(task: Task) -> Task:
    return task


@app.post("/events/")
async def create_event(event: Event) -> Event:
    """Create an event: echoed as pydantic writes each type."""
    return event


@app.get("/events/{event_id}")
async def find_events(event_id: UUID, on: date, doors: Optional[time] = None):
    """Events of one series, on one day."""
    return {"event_id": event_id, "on": on, "doors": doors}


@app.post("/shapes/")
async def create_shape(shape: Shape):
    """Rows, the sum of every cell, the labels in order and the point."""
    return {"rows": len(shape.grid), "sum": sum(sum(row) for row in shape.grid),
            "labels": sorted(shape.labels), "point": shape.point}


@app.post("/prices/")
async def price(price: Price):
    """What is paid."""
    return {"pay": price.amount * (1 - price.discount)}


def get(path):
    return ("GET", path, {}, None)


def post(path, value):
    import json
    return ("POST", path, {"content-type": "application/json"}, json.dumps(value).encode())


EVENT = {"id": "12345678-1234-1234-1234-1234567890ab", "starts_at": "2032-04-23T10:20:30Z",
         "day": "2032-04-23", "doors": "09:30:00", "duration": "PT2H"}

# Where hasten writes a value differently, and why: jiff's serde forms, which hasten
# does not rewrite into Python's.
KNOWN = {
    "timedelta of more than a day echoed":
        "jiff writes a SignedDuration in hours (PT26H); Python splits off days (P1DT2H)",
    "fractions of a second echoed":
        "jiff writes the shortest fraction (.5); Python always six digits (.500000)",
    "datetime with an offset echoed":
        "a jiff Timestamp is an instant, written in UTC; Python's datetime keeps the offset",
}

CASES = [
    ("str enum in the path", get("/colors/green")),
    ("str enum: not a member", get("/colors/purple")),
    ("int enum, bool, float: defaults", get("/tasks/")),
    ("int enum, bool words, float text", get("/tasks/?priority=3&done=yes&limit=2.5")),
    ("int enum written as a float", get("/tasks/?priority=2.0")),
    ("int enum: not a member; bool: not a word; float: not a number",
     get("/tasks/?priority=7&done=maybe&limit=x")),
    ("float: constraint", get("/tasks/?limit=0")),
    ("body enum and Literal", post("/tasks/", {"title": "Paint", "color": "blue", "order": "desc"})),
    ("body enum, bool and Literal refused",
     post("/tasks/", {"title": "Paint", "color": "pink", "done": "perhaps", "order": "up"})),
    ("datetime types echoed", post("/events/", EVENT)),
    ("datetime types: lax forms", post("/events/", {
        "id": "123456781234123412341234567890AB", "starts_at": 1700000000,
        "day": "2032-04-23", "doors": "10:20", "duration": 3600})),
    ("datetime types: all wrong", post("/events/", {
        "id": "nope", "starts_at": "2032-02-30T10:00:00Z", "day": "2032-13-01",
        "doors": "25:00", "duration": "forever"})),
    ("timedelta of more than a day echoed", post("/events/", {**EVENT, "duration": "P1DT2H"})),
    ("fractions of a second echoed", post("/events/", {
        **EVENT, "starts_at": "2032-04-23T10:20:30.5Z", "doors": "09:30:00.25"})),
    ("datetime with an offset echoed", post("/events/", {
        **EVENT, "starts_at": "2032-04-23T10:20:30+02:00"})),
    ("UUID, date and time parameters", get(
        "/events/12345678-1234-1234-1234-1234567890ab?on=2032-04-23&doors=09:30")),
    ("UUID, date and time parameters refused", get("/events/42?on=tomorrow&doors=noon")),
    ("date parameter missing", get("/events/12345678-1234-1234-1234-1234567890ab")),
    ("nested list, set, tuple", post("/shapes/", {
        "grid": [[1, 2], [3, 4, 5]], "labels": ["b", "a", "b"], "point": [1, 2.5]})),
    ("nested list, set, tuple refused", post("/shapes/", {
        "grid": [[1, "x"], 3], "labels": "ab", "point": [1, 2, 3]})),
    ("tuple too short, set of non-strings", post("/shapes/", {
        "grid": [], "labels": [1], "point": [1]})),
    ("floats", post("/prices/", {"amount": 19.99, "discount": 0.1})),
    ("float from an integer and from text", post("/prices/", {"amount": 20, "discount": "0.5"})),
    ("float constraints", post("/prices/", {"amount": 0, "discount": 1.5})),
    ("float: NaN against both bounds", post("/prices/", {"amount": 5, "discount": "nan"})),
]
