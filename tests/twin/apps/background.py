"""Background tasks: work queued with `BackgroundTasks.add_task` runs after the response
is sent, and a later request sees what it did (an activity log kept in the app's state).
Tasks queued by a dependency and by the handler share one queue and run in the order
queued, sync and async alike; none runs when the request fails (a 422, or an HTTP error
raised after queuing). Settings, the log and the items are made at startup (`lifespan`).
Its hasten twin is `examples/twins/background.rs`."""

from contextlib import asynccontextmanager
from typing import Annotated, Optional

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field


class Settings(BaseModel):
    """What the app was started with."""
    app_name: str
    admin_email: str
    items_per_user: int


class Item(BaseModel):
    """An item in stock."""
    name: str = Field(min_length=1)
    quantity: int = Field(default=1, ge=1)


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield {
        "settings": Settings(app_name="background", admin_email="admin@example.com",
                             items_per_user=50),
        "log": ["startup"],
        "items": {},
    }


app = FastAPI(title="background", version="1.0.0", lifespan=lifespan)


def get_log(request: Request) -> list[str]:
    """The activity log."""
    return request.state.log


def get_items(request: Request) -> dict[str, Item]:
    """The items in stock."""
    return request.state.items


Log = Annotated[list[str], Depends(get_log)]
Items = Annotated[dict[str, Item], Depends(get_items)]


def write_log(log: list[str], message: str):
    """A sync task: one line to the log."""
    log.append(message)


async def record(log: list[str], event: str, *, detail: str = ""):
    """An async task, given keyword arguments."""
    log.append(f"{event}: {detail}" if detail else event)


def get_query(background_tasks: BackgroundTasks, log: Log, q: Optional[str] = None):
    """A dependency that queues a task of its own."""
    if q:
        background_tasks.add_task(write_log, log, f"found query: {q}")
    return q


def audit(request: Request, background_tasks: BackgroundTasks, log: Log):
    """Log every read of an item, after the response."""
    background_tasks.add_task(write_log, log, f"read {request.url.path}")


@app.post("/send-notification/{email}", status_code=202)
async def send_notification(
    email: str,
    background_tasks: BackgroundTasks,
    log: Log,
    q: Annotated[Optional[str], Depends(get_query)],
    priority: Annotated[int, Query(ge=1, le=5)] = 3,
):
    """Queue a notification; the answer does not wait for it."""
    background_tasks.add_task(write_log, log, f"notification to {email} (priority {priority})")
    return {"message": "Notification sent in the background"}


@app.get("/log")
async def read_log(log: Log) -> list[str]:
    """What the tasks did so far."""
    return log


@app.delete("/log", status_code=204)
async def clear_log(log: Log):
    """Empty the log."""
    log.clear()


@app.post("/items/", status_code=201)
async def create_item(item: Item, background_tasks: BackgroundTasks, log: Log,
                      items: Items) -> Item:
    """Store an item, and record it afterwards."""
    items[item.name] = item
    background_tasks.add_task(record, log, "created", detail=item.name)
    return item


@app.get("/items/{name}", dependencies=[Depends(audit)])
async def read_item(name: str, items: Items) -> Item:
    """An item; every read is audited, but not a failed one."""
    if name not in items:
        raise HTTPException(status_code=404, detail="Item not found")
    return items[name]


@app.post("/reports/", status_code=202)
async def start_report(background_tasks: BackgroundTasks, log: Log, items: Items):
    """Three tasks, sync and async, run one after the other in the order queued."""
    background_tasks.add_task(write_log, log, "report started")
    background_tasks.add_task(record, log, "report built", detail=f"{len(items)} items")
    background_tasks.add_task(write_log, log, "report done")
    return {"queued": 3}


@app.get("/settings")
async def read_settings(request: Request) -> Settings:
    """The settings made at startup."""
    return request.state.settings


def js(method, path, value):
    import json
    return (method, path, {"content-type": "application/json"}, json.dumps(value).encode())


def get(path):
    return ("GET", path, {}, None)


def read_log():
    """The log, read once the previous request's tasks have had time to run: they run
    after its response, on either server."""
    return ("GET", "/log", {}, None, 0.3)


CASES = [
    ("state made at startup", get("/settings")),
    ("the log starts with startup's line", read_log()),
    ("the answer does not wait for the task", ("POST", "/send-notification/a@example.com", {}, None)),
    ("the task ran after the response", read_log()),
    ("a dependency's task runs before the handler's",
     ("POST", "/send-notification/b@example.com?q=shoes&priority=5", {}, None)),
    ("both tasks ran, in order", read_log()),
    ("422: no task runs, not even the dependency's",
     ("POST", "/send-notification/c@example.com?q=hats&priority=9", {}, None)),
    ("422: wrong type", ("POST", "/send-notification/c@example.com?priority=high", {}, None)),
    ("nothing was logged by the failures", read_log()),
    ("wrong method", get("/send-notification/a@example.com")),
    ("clear the log: 204", ("DELETE", "/log", {}, None)),
    ("the log is empty", read_log()),
    ("an async task with keyword arguments", js("POST", "/items/", {"name": "hammer", "quantity": 2})),
    ("a default filled in", js("POST", "/items/", {"name": "saw"})),
    ("invalid body: no task", js("POST", "/items/", {"name": "", "quantity": 0})),
    ("missing body: no task", ("POST", "/items/", {"content-type": "application/json"}, b"")),
    ("an attached dependency's task", get("/items/hammer")),
    ("an HTTP error after queuing: the task does not run", get("/items/nail")),
    ("tasks in order", ("POST", "/reports/", {}, None)),
    ("everything the tasks did", read_log()),
]
