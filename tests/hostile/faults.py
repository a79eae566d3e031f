#!/usr/bin/env python3
"""Faults under the dependencies example (a real SQLite file), on its release build.

usage: faults.py PATH/TO/examples/dependencies

1. A full disk must not turn into acknowledged writes that are lost. The example runs
   with the size of any file it writes capped at 48 KiB (`ulimit -f`, SIGXFSZ ignored:
   writes fail with EFBIG, as on a full disk); items are created until the database
   cannot grow; every 201 must be a stored row, and every stored row must have had
   its 201.
2. A locked database is a clear 500, not a hang or a half-written row: another
   process holds SQLite's write lock; a request gets 500 `Database error` once the
   busy timeout passes, nothing is stored, and once the lock is gone the next request
   succeeds.

Exit 1 on any failure. Bounded: every request has a 10-20 s timeout.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, db, limit_kib=None):
    port = free_port()
    env = dict(os.environ, HASTEN_DB=db, HASTEN_ADDR=f"127.0.0.1:{port}", RUST_LOG="off")
    limit = f"ulimit -f {limit_kib}; " if limit_kib else ""
    server = subprocess.Popen(["bash", "-c", f'trap "" XFSZ; {limit}exec "$0"', binary],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, base


def create(base, name, timeout=10):
    """POST one item: (status, body)."""
    body = json.dumps({"name": name, "price": 1.0}).encode()
    req = urllib.request.Request(f"{base}/items", data=body,
                                 headers={"content-type": "application/json", "x-token": "alice-token"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def stored_ids(db):
    return [row[0] for row in sqlite3.connect(db).execute("SELECT id FROM items ORDER BY id")]


def full_disk(binary):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "items.sqlite")
        server, base = start(binary, db, limit_kib=48)
        try:
            created, statuses = [], {}
            for i in range(300):
                status, body = create(base, f"item-{i:03}-" + "x" * 200)
                if status == 201:
                    created.append(body["id"])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            server.terminate()
            server.wait(timeout=10)
        stored = stored_ids(db)
    print(f"full disk: answers {statuses}; rows stored: {len(stored)}")
    if sorted(created) != stored:
        sys.exit(f"FAIL: {len(created)} items acknowledged with 201, {len(stored)} stored "
                 f"(acknowledged ids {sorted(created)[:8]}..., stored {stored[:8]}...)")
    if len(stored) == 300:
        sys.exit("FAIL: the disk never filled up; the check proved nothing")
    print("ok   full disk: every 201 is a stored row, and every stored row got its 201")


def locked_database(binary):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "items.sqlite")
        server, base = start(binary, db)
        try:
            status, _ = create(base, "before the lock")
            if status != 201:
                sys.exit(f"FAIL: locked database: the first item got {status}")
            holder = sqlite3.connect(db, timeout=1, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held by another process
            status, body = create(base, "while locked", timeout=20)
            if (status, body) != (500, {"detail": "Database error"}):
                sys.exit(f"FAIL: locked database: {status} {body}, wanted 500 Database error")
            holder.execute("ROLLBACK")
            holder.close()
            status, _ = create(base, "after the lock")
            if status != 201:
                sys.exit(f"FAIL: locked database: after the lock, {status}")
        finally:
            server.terminate()
            server.wait(timeout=10)
        names = [r[0] for r in sqlite3.connect(db).execute("SELECT name FROM items ORDER BY id")]
    if names != ["before the lock", "after the lock"]:
        sys.exit(f"FAIL: locked database: stored {names}")
    print("ok   locked database: 500 after the busy timeout, nothing stored, served again after")


def main():
    binary = os.path.abspath(sys.argv[1])
    full_disk(binary)
    locked_database(binary)


if __name__ == "__main__":
    main()
