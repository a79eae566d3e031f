#!/usr/bin/env python3
"""A full disk must not turn into acknowledged writes that are lost.

usage: disk_full.py PATH/TO/examples/dependencies

Runs the dependencies example (its SQLite file in a fresh folder) with the size of any
file it writes capped at 48 KiB (`ulimit -f`, SIGXFSZ ignored: the writes fail with
EFBIG, as on a full disk), creates items until the database cannot grow, and checks
that every 201 the server sent is a row that is stored, and every row stored was
answered with a 201. Exit 1 otherwise. Bounded: 300 requests, 10 s each.
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


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "items.sqlite")
        port = free_port()
        env = dict(os.environ, HASTEN_DB=db, HASTEN_ADDR=f"127.0.0.1:{port}", RUST_LOG="off")
        server = subprocess.Popen(
            ["bash", "-c", 'trap "" XFSZ; ulimit -f 48; exec "$0"', binary],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/openapi.json", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            created, statuses = [], {}
            for i in range(300):
                body = json.dumps({"name": f"item-{i:03}-" + "x" * 200, "price": 1.0}).encode()
                req = urllib.request.Request(
                    f"{base}/items", data=body,
                    headers={"content-type": "application/json", "x-token": "alice-token"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status = r.status
                        if status == 201:
                            created.append(json.load(r)["id"])
                except urllib.error.HTTPError as e:
                    status = e.code
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            server.terminate()
            server.wait(timeout=10)
        stored = [row[0] for row in sqlite3.connect(db).execute("SELECT id FROM items ORDER BY id")]
    print(f"answers: {statuses}; rows stored: {len(stored)}")
    if sorted(created) != stored:
        sys.exit(f"FAIL: {len(created)} items acknowledged with 201, {len(stored)} stored "
                 f"(acknowledged ids {sorted(created)[:8]}..., stored {stored[:8]}...)")
    if len(stored) == 300:
        sys.exit("FAIL: the disk never filled up; the check proved nothing")
    print("ok   every 201 is a stored row, and every stored row got its 201")


if __name__ == "__main__":
    main()
