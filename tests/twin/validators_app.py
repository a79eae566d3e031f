"""The FastAPI twin of `examples/validators.rs`: the same models and rules, the pydantic
way (`model_validator`, `AfterValidator`). `live_validators.py` replays the same
requests against both.

Run it with `uvicorn validators_app:app`.
"""

from typing import Annotated, Optional

from fastapi import Cookie, Depends, FastAPI, Form, Header, Query
from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

app = FastAPI(title="Validators", version="1.0.0")


class SignUp(BaseModel):
    """A new account; the password is typed twice."""
    username: str
    password: str
    repeat: str

    @model_validator(mode="after")
    def passwords_match(self):
        if self.password != self.repeat:
            raise ValueError("passwords do not match")
        return self


class Range(BaseModel):
    """A range of numbers: `lo` must not exceed `hi`."""
    lo: int
    hi: int

    @model_validator(mode="after")
    def ordered(self):
        if self.lo > self.hi:
            raise PydanticCustomError("range_order", "lo ({lo}) must not exceed hi ({hi})",
                                      {"lo": self.lo, "hi": self.hi})
        return self


class Schedule(BaseModel):
    """Ranges inside a model: each is checked where it is."""
    main: Range
    extra: list[Range] = []


class Booking(BaseModel):
    """A booking: its rule reports at a field."""
    nights: int = Field(ge=0)
    guests: int = Field(ge=0)

    # A rule across fields that reports at one of them.
    @field_validator("guests")
    @classmethod
    def fits(cls, guests, info):
        if guests > 2 * max(info.data.get("nights", 0), 1):
            raise ValueError("too many guests for the stay")
        return guests


def even(n: int) -> int:
    if n % 2:
        raise ValueError("must be even")
    return n


def trimmed(s: str) -> str:
    return s.strip()


@app.post("/signup")
async def sign_up(account: SignUp) -> SignUp:
    """Sign up: the passwords must match."""
    return account


@app.post("/signup/form")
async def sign_up_form(account: Annotated[SignUp, Form()]) -> SignUp:
    """Sign up with a form."""
    return account


@app.post("/ranges")
async def ranges(range: Range, q: int) -> Range:
    """A range in the body, a number in the query: both errors in one 422."""
    return range


@app.get("/ranges/query")
async def range_query(range: Annotated[Range, Query()]) -> Range:
    """A range from the query string."""
    return range


@app.post("/schedules")
async def schedules(schedule: Schedule) -> Schedule:
    """Nested ranges."""
    return schedule


@app.post("/bookings")
async def bookings(booking: Booking) -> Booking:
    """A booking."""
    return booking


@app.post("/both")
async def both(account: SignUp, range: Range):
    """Two body parameters, each with its rule."""
    return {"account": account, "range": range}


@app.get("/even")
async def even_number(n: Annotated[int, AfterValidator(even)],
                      name: Annotated[Optional[str], AfterValidator(trimmed)] = None):
    """An even number, and a trimmed name."""
    return {"n": n, "name": name}


def paging(page: Annotated[int, Query(ge=1)], x_page_size: Annotated[Optional[int], Header()] = None):
    """Paging, as a dependency: its errors come before the operation's own."""
    return (page, x_page_size or 20)


@app.post("/ordered/{item_id}")
async def ordered(range: Range, session: Annotated[int, Cookie()], x_count: Annotated[int, Header()],
                  q: int, item_id: int, paging: Annotated[tuple, Depends(paging)]):
    """Errors from everywhere at once, listed as FastAPI lists them: the dependency's,
    then path, query, header and cookie parameters, then the body."""
    return {"range": range, "session": session, "count": x_count, "q": q, "item_id": item_id,
            "paging": paging}
