"""Enqueue no-op jobs into Celery or arq, as bench/scale/run.py asks: a burst (COUNT at
once, from 8 concurrent enqueuers, as hasten's bench does) or paced (COUNT at RATE a
second). Prints one JSON line: enqueue time, and seconds until the log holds COUNT
lines.

usage: enqueue.py celery|arq burst|paced COUNT RATE
"""

import asyncio
import json
import os
import sys
import threading
import time


def now_us():
    return time.time_ns() // 1000


def wait_done(count, started):
    deadline = time.monotonic() + 300
    while True:
        try:
            with open(os.environ["JOB_LOG"], "rb") as f:
                if f.read().count(b"\n") >= count:
                    return time.monotonic() - started
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the jobs did not all run")
        time.sleep(0.002)


def celery(mode, count, rate):
    sys.path.insert(0, os.path.dirname(__file__))
    from celery_app import noop
    started = time.monotonic()
    if mode == "burst":
        def enqueuer(n):
            for _ in range(n):
                noop.delay(now_us())
        threads = [threading.Thread(target=enqueuer, args=(count // 8 + (i < count % 8),))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        every = 1.0 / rate
        for i in range(count):
            delay = started + i * every - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            noop.delay(now_us())
    return time.monotonic() - started, started


async def arq(mode, count, rate):
    sys.path.insert(0, os.path.dirname(__file__))
    from arq import create_pool
    from arq_app import redis_settings
    pool = await create_pool(redis_settings())
    started = time.monotonic()
    if mode == "burst":
        async def enqueuer(n):
            for _ in range(n):
                await pool.enqueue_job("noop", now_us())
        await asyncio.gather(*(enqueuer(count // 8 + (i < count % 8)) for i in range(8)))
    else:
        every = 1.0 / rate
        for i in range(count):
            delay = started + i * every - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await pool.enqueue_job("noop", now_us())
    enqueued = time.monotonic() - started
    await pool.aclose()
    return enqueued, started


def main():
    system, mode, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if system == "celery":
        enqueued, started = celery(mode, count, rate)
    else:
        enqueued, started = asyncio.run(arq(mode, count, rate))
    total = wait_done(count, started)
    print(json.dumps({"enqueue_s": enqueued, "total_s": total}))


if __name__ == "__main__":
    main()
