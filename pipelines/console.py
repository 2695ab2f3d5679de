"""Keep a local Beam run readable: harness chatter goes to a log file, our progress to the terminal.

Beam's local multi-process workers log at INFO to the inherited stderr (dozens of lines per worker)
and ignore the logging options of the pipeline. During a run, file descriptor 2 is pointed at a log
file; a thread follows that file and echoes only llama-data's own progress lines to the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

MARKER = "llama_data.pipelines:"


def _echo_progress(path: str, terminal: int, stop: threading.Event) -> None:
    with open(path, encoding="utf-8", errors="replace") as log:
        while True:
            line = log.readline()
            if not line:
                if stop.is_set():
                    return
                stop.wait(0.2)
                continue
            if MARKER in line:
                message = line.split(MARKER, 1)[1].strip()
                os.write(terminal, f"  {message}\n".encode())


@contextlib.contextmanager
def beam_output_to(log_path: str) -> Iterator[None]:
    """Send everything written to stderr (by this process and its workers) to ``log_path``."""
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    sys.stderr.flush()
    terminal = os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    stop = threading.Event()
    follower = threading.Thread(target=_echo_progress, args=(log_path, terminal, stop), daemon=True)
    os.dup2(log_fd, 2)
    follower.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        stop.set()
        follower.join(timeout=5)
        os.dup2(terminal, 2)
        os.close(terminal)
        os.close(log_fd)
