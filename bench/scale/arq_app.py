"""The arq side of bench/scale/run.py: a no-op job on Redis that appends
`sent_us done_us` to JOB_LOG, as hasten's and Celery's jobs do. arq's defaults kept
(max_jobs 10, poll_delay 0.5 s), but for the results, which a fire-and-forget job does
not keep."""

import os
import time
from urllib.parse import urlparse

from arq.connections import RedisSettings

_fd = None


async def noop(ctx, sent_us):
    global _fd
    if _fd is None:
        _fd = os.open(os.environ["JOB_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(_fd, f"{sent_us} {time.time_ns() // 1000}\n".encode())


def redis_settings():
    url = urlparse(os.environ["BROKER"])
    return RedisSettings(host=url.hostname, port=url.port, database=int(url.path.strip("/") or 0))


class WorkerSettings:
    functions = [noop]
    redis_settings = redis_settings()
    keep_result = 0
