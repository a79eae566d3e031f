"""The benchmark endpoints in FastAPI (run on uvicorn with uvloop and httptools)."""

import asyncio
import time
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Path, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

app = FastAPI()
HELLO = "Hello, World!"


class Order(BaseModel):
    item: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=1000)
    price: float = Field(gt=0)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    tags: list[str] = Field(max_length=5)
    note: str | None = Field(default=None, max_length=200)


async def client(x_client: Annotated[str, Header()]) -> str:
    return x_client


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return HELLO


@app.get("/json")
async def json_():
    return {"message": HELLO}


@app.post("/typed/{id}")
async def typed(
    id: Annotated[int, Path(ge=1)],
    limit: Annotated[int, Query(ge=1, le=100)],
    q: Annotated[str, Query(min_length=1, max_length=20)],
    order: Order,
    client: Annotated[str, Depends(client)],
):
    return {
        "id": id,
        "client": client,
        "limit": limit,
        "q": q,
        "total": order.price * order.quantity,
        "item": order.item,
    }


@app.get("/io", response_class=PlainTextResponse)
async def io():
    await asyncio.sleep(0.05)
    return "done"


@app.get("/sync", response_class=PlainTextResponse)
def sync():
    time.sleep(0.05)
    return "done"


@app.websocket("/ws")
async def ws(socket: WebSocket):
    await socket.accept()
    try:
        while True:
            message = await socket.receive()
            if message.get("text") is not None:
                await socket.send_text(message["text"])
            elif message.get("bytes") is not None:
                await socket.send_bytes(message["bytes"])
            else:
                break
    except WebSocketDisconnect:
        pass
