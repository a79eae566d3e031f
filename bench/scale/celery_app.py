"""The Celery side of bench/scale/run.py: a no-op task on a Redis broker that appends
`sent_us done_us` to JOB_LOG, as hasten's and arq's jobs do. Defaults kept (prefork
pool, one process per core, prefetch of 4); results ignored, as a fire-and-forget job
has none."""

import os
import time

from celery import Celery

app = Celery("bench", broker=os.environ["BROKER"])
app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True,
                worker_hijack_root_logger=False)
_fd = None


@app.task(name="noop")
def noop(sent_us):
    global _fd
    if _fd is None:
        _fd = os.open(os.environ["JOB_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(_fd, f"{sent_us} {time.time_ns() // 1000}\n".encode())
