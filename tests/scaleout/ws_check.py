"""WebSocket rooms across instances: clients connected to different instances hear each
other, presence is the same from every instance, and (with --outage) the rooms work
again after the broker was stopped for a while, the clients having been told.

    ws_check.py ROOM HOST:PORT HOST:PORT ... [--outage "STOP CMD" "START CMD" SECONDS]

Every wait is bounded; exits 1 on the first failure.
"""
import contextlib
import json
import subprocess
import sys
import time
import urllib.request

from websockets.sync.client import connect

NAMES = ["ann", "bob", "cat", "dan", "eve"]


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def presence(hostport, room):
    with urllib.request.urlopen(f"http://{hostport}/presence/{room}", timeout=5) as r:
        return json.load(r)


class Missing(Exception):
    """Not everything wanted was heard in time."""


def hear(socket, want, seconds=10):
    """Read until every (from, text) in `want` was heard; return everything read."""
    heard, got = set(), []
    deadline = time.time() + seconds
    while not want <= heard:
        left = deadline - time.time()
        if left <= 0:
            raise Missing(f"heard {sorted(heard)}, wanted {sorted(want)} (all read: {got})")
        try:
            frame = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            continue
        got.append(frame)
        if "text" in frame:
            heard.add((frame["from"], frame["text"]))
    return got


def main():
    args = sys.argv[1:]
    outage = None
    if "--outage" in args:
        at = args.index("--outage")
        outage = (args[at + 1], args[at + 2], float(args[at + 3]))
        args = args[:at]
    room, hosts = args[0], args[1:]
    with contextlib.ExitStack() as stack:
        clients = [
            (name, hostport, stack.enter_context(connect(f"ws://{hostport}/ws/{room}?name={name}", open_timeout=5)))
            for name, hostport in zip(NAMES, hosts)
        ]
        check(room, hosts, clients, outage)


def check(room, hosts, clients, outage):
    names = sorted(name for name, _, _ in clients)

    deadline = time.time() + 10
    while True:
        seen = {hostport: presence(hostport, room) for hostport in hosts}
        if all(members == names for members in seen.values()):
            break
        if time.time() > deadline:
            fail(f"presence differs between instances: {seen}")
        time.sleep(0.1)
    print(f"presence, the same from each of {len(hosts)} instances: {names}")

    for name, _, socket in clients:
        socket.send(f"hello from {name}")
    want = {(name, f"hello from {name}") for name, _, _ in clients}
    for name, hostport, socket in clients:
        try:
            hear(socket, want)
        except Missing as e:
            fail(f"{name} on {hostport}: {e}")
    print(f"each of {len(clients)} clients, on different instances, heard all {len(want)} messages")

    if outage:
        stop, start, seconds = outage
        subprocess.run(stop, shell=True, check=True)
        print(f"broker stopped for {seconds:.0f} s")
        time.sleep(seconds)
        subprocess.run(start, shell=True, check=True)
        # Every client is told its room was interrupted.
        for name, _, socket in clients:
            deadline = time.time() + 5
            while True:
                left = deadline - time.time()
                if left <= 0:
                    fail(f"{name} was not told of the interruption")
                frame = json.loads(socket.recv(timeout=left))
                if frame.get("interrupted"):
                    break
        print("every client was told its room was interrupted")
        # The instances reconnect by themselves: a message sent now reaches everyone.
        first_name, _, first = clients[0]
        deadline = time.time() + 30
        attempt = 0
        while True:
            attempt += 1
            text = f"back #{attempt}"
            first.send(text)
            try:
                for name, _, socket in clients:
                    hear(socket, {(first_name, text)}, seconds=1)
                break
            except Missing as e:
                if time.time() > deadline:
                    fail(f"the room did not work again after the outage: {e}")
        print(f"after the outage the room works again on every instance ({attempt} tries)")
        # Presence comes back too (members renew it).
        deadline = time.time() + 15
        while True:
            try:
                seen = {hostport: presence(hostport, room) for hostport in hosts}
            except Exception:
                seen = {}
            if seen and all(members == names for members in seen.values()):
                break
            if time.time() > deadline:
                fail(f"presence did not recover after the outage: {seen}")
            time.sleep(0.2)
        print(f"presence recovered: {names}")



if __name__ == "__main__":
    main()
