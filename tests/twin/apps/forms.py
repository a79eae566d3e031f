"""Forms and uploads: form fields (`Form()`), a form model (`Annotated[Model, Form()]`),
file uploads (`UploadFile`, `list[UploadFile]`, `bytes = File()`), an optional file, a
file beside form fields, and their 422s (a missing field, a missing file). Its hasten
twin is `examples/twins/forms.rs`."""

from typing import Annotated, Optional
from urllib.parse import urlencode

from fastapi import FastAPI, File, Form, UploadFile
from pydantic import BaseModel

app = FastAPI(title="forms", version="1.0.0")


@app.post("/login/")
async def login(username: Annotated[str, Form()],
                password: Annotated[str, Form(min_length=3)]):
    """Log in with form fields."""
    return {"username": username, "password_length": len(password)}


class SignUp(BaseModel):
    """A sign-up form."""

    username: str
    age: int
    newsletter: bool = False
    referrer: Optional[str] = None


@app.post("/signup/")
async def sign_up(data: Annotated[SignUp, Form()]) -> SignUp:
    """Sign up with a form model."""
    return data


@app.post("/files/")
async def create_file(file: Annotated[bytes, File()]):
    """A file read whole, as bytes."""
    return {"file_size": len(file)}


@app.post("/uploadfile/")
async def create_upload_file(file: UploadFile):
    """One uploaded file."""
    content = await file.read()
    return {"filename": file.filename, "content_type": file.content_type,
            "size": len(content)}


@app.post("/uploadfiles/")
async def create_upload_files(files: list[UploadFile]):
    """Several files under one field name."""
    return {"filenames": [f.filename for f in files]}


@app.post("/avatar/")
async def set_avatar(file: Optional[UploadFile] = None):
    """An optional file: none sent is no avatar."""
    return {"avatar": file.filename if file else None}


@app.post("/documents/")
async def upload_document(file: UploadFile, title: Annotated[str, Form()],
                          note: Annotated[Optional[str], Form()] = None):
    """A file beside form fields."""
    content = await file.read()
    return {"title": title, "note": note, "filename": file.filename,
            "content": content.decode()}


BOUNDARY = "twinboundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(*parts):
    """A multipart body from `(name, value)` text fields and `(name, filename, type,
    content)` files, with the fixed boundary."""
    out = b""
    for part in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        if len(part) == 2:
            name, value = part
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode() + b"\r\n"
        else:
            name, filename, content_type, content = part
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n").encode()
            out += content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def send(path, *parts):
    return ("POST", path, MULTIPART, multipart(*parts))


def form(path, fields):
    return ("POST", path, {"content-type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode())


TXT = ("file", "notes.txt", "text/plain", b"hello, world")

CASES = [
    ("form fields, urlencoded", form("/login/", {"username": "ann", "password": "secret"})),
    ("form fields, multipart", send("/login/", ("username", "ann"), ("password", "secret"))),
    ("form fields: one missing, one too short", form("/login/", {"password": "ab"})),
    ("form fields: an empty value is a missing one",
     form("/login/", {"username": "", "password": "secret"})),
    ("form fields: nothing sent", ("POST", "/login/", {}, None)),
    ("form fields: JSON sent", ("POST", "/login/", {"content-type": "application/json"},
                                b'{"username": "ann", "password": "secret"}')),
    ("form model", form("/signup/", {"username": "ann", "age": "30", "newsletter": "yes"})),
    ("form model: defaults, multipart", send("/signup/", ("username", "bob"), ("age", "41"))),
    ("form model: bad number and bool, missing username",
     form("/signup/", {"age": "old", "newsletter": "maybe"})),
    ("form model: JSON sent", ("POST", "/signup/", {"content-type": "application/json"},
                               b'{"username": "ann", "age": 30}')),
    ("bytes file", send("/files/", TXT)),
    ("bytes file: missing", send("/files/", ("other", "x"))),
    ("upload file", send("/uploadfile/", TXT)),
    ("upload file: a text field under its name", send("/uploadfile/", ("file", "not a file"))),
    ("upload file: no file chosen (an empty filename)",
     send("/uploadfile/", ("file", "", "application/octet-stream", b""))),
    ("several files", send("/uploadfiles/", ("files", "a.txt", "text/plain", b"a"),
                           ("files", "b.bin", "application/octet-stream", b"\x00\x01"))),
    ("several files: none", send("/uploadfiles/", ("x", "y"))),
    ("optional file: given", send("/avatar/", ("file", "me.png", "image/png", b"\x89PNG"))),
    ("optional file: absent", send("/avatar/", ("x", "y"))),
    ("optional file: no file chosen (an empty filename)",
     send("/avatar/", ("file", "", "application/octet-stream", b""))),
    ("file and fields", send("/documents/", ("title", "Notes"), TXT, ("note", "draft"))),
    ("file and fields: an empty note is none",
     send("/documents/", ("title", "Notes"), TXT, ("note", ""))),
    ("file and fields: file and title missing", send("/documents/", ("note", "n"))),
    ("multipart without a boundary",
     ("POST", "/uploadfile/", {"content-type": "multipart/form-data"}, b"--x--\r\n")),
    ("wrong method", ("GET", "/uploadfile/", {}, None)),
]
