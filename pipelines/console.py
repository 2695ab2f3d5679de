"""Keep a local Beam run readable: harness chatter goes to a log file; the read's progress and our
own messages to the terminal.

Beam's local multi-process workers log at INFO to the inherited stderr (dozens of lines per worker)
and ignore the logging options of the pipeline. During a run, file descriptor 2 is pointed at a log
file; a thread follows that file, turns the workers' ``progress:`` lines (:func:`report`) into one
bar for the job and echoes llama-data's other lines to the terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import IO

from tqdm import tqdm

from llama_data import progress

MARKER = "llama_data.pipelines:"
_REPORT = re.compile(r"^progress: (reading|read) (.+): (\d+) records(?:, at byte (\d+))?$")


def report(path: str, records: int, position: int | None, done: bool) -> str:
    """A worker's progress line: readable in the log, parsed back by the driver."""
    at = "" if position is None else f", at byte {position}"
    return f"progress: {'read' if done else 'reading'} {path}: {records} records{at}"


class ReadProgress:
    """A job's read as one bar over its inputs' bytes, records in the postfix. A file read to its
    end counts exactly its size (the bar ends at 100%); one being read, the raw byte its worker
    reached. Reports are cumulative per file, so a retried bundle never counts a file twice."""

    def __init__(self, job: str, sizes: dict[str, int | None], stream: IO[str]):
        self._sizes = sizes
        self._bytes: dict[str, int] = {}
        self._records: dict[str, int] = {}
        total = None if None in sizes.values() else sum(sizes.values())
        self.bar = progress.bar(total, f"{job}: read", "B", stream=stream, unit_scale=True,
                                unit_divisor=1024)

    def update(self, message: str) -> bool:
        """Take a worker's report; False when ``message`` is not one."""
        found = _REPORT.match(message)
        if found is None:
            return False
        state, path, records, position = found.groups()
        size = self._sizes.get(path)
        reached = int(position or 0) if size is None else min(int(position or 0), size)
        if state == "read" and size is not None:
            reached = size
        self._bytes[path] = max(self._bytes.get(path, 0), reached)
        self._records[path] = max(self._records.get(path, 0), int(records))
        self.bar.set_postfix_str(f"{sum(self._records.values())} records", refresh=False)
        self.bar.update(sum(self._bytes.values()) - self.bar.n)
        return True


def _follow(path: str, terminal: IO[str], reads: ReadProgress, stop: threading.Event) -> None:
    with open(path, encoding="utf-8", errors="replace") as log:
        pending = ""
        while True:
            finished = stop.is_set()  # looked at first: all written before it will still be read
            pending += log.readline()
            if pending.endswith("\n") or finished and pending:
                if MARKER in pending:
                    message = pending.split(MARKER, 1)[1].strip()
                    if not reads.update(message):
                        tqdm.write(f"  {message}", file=terminal)
                pending = ""
            elif finished:
                return
            else:
                stop.wait(0.2)


@contextlib.contextmanager
def beam_output_to(log_path: str, job: str, sizes: dict[str, int | None]) -> Iterator[None]:
    """Send everything written to stderr (by this process and its workers) to ``log_path``, and
    show the read of ``job``'s inputs (``sizes``: bytes of each, None if unknown) as it goes."""
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    terminal = open(terminal_fd, "w", encoding="utf-8", errors="replace",  # noqa: SIM115
                    closefd=False)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    stop = threading.Event()
    reads = ReadProgress(job, sizes, terminal)
    follower = threading.Thread(target=_follow, args=(log_path, terminal, reads, stop),
                                daemon=True)
    os.dup2(log_fd, 2)
    follower.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        stop.set()
        follower.join(timeout=5)
        reads.bar.close()
        terminal.close()
        os.dup2(terminal_fd, 2)
        os.close(terminal_fd)
        os.close(log_fd)
