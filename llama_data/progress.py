"""Progress of long work, with rate and ETA (tqdm): a live bar on a terminal; where stderr is a file
or a pipe (a CI log, ``2> build.log``), a plain line every ``PLAIN_INTERVAL`` seconds instead of
carriage-return redraws; nothing under ``-q``.

Whether to show it follows the ``llama_data`` logger (the CLI sets it to INFO, ``-q`` to WARNING), so
library calls and tests stay silent unless a caller asks for progress.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from tqdm import tqdm

PLAIN_INTERVAL = 30.0  # seconds between plain progress lines


class _Lines:
    """tqdm redraws its bar with '\\r'; where that is not a terminal, each redraw is one line."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def shown() -> bool:
    return logging.getLogger("llama_data").isEnabledFor(logging.INFO)


def bar(total: float | None = None, desc: str = "", unit: str = "it", *,
        stream: IO[str] | None = None, disable: bool = False, **options: Any) -> tqdm:
    """A progress bar to update with ``.update(n)`` (a context manager; ``unit_scale=True`` for
    bytes or tokens). ``stream`` defaults to stderr; ``disable``: none for this job whatever the
    level (nothing to do)."""
    stream = stream or sys.stderr
    terminal = stream.isatty()
    return tqdm(total=total, desc=desc, unit=unit, disable=disable or not shown(),
                file=stream if terminal else _Lines(stream), dynamic_ncols=terminal,
                mininterval=0.1 if terminal else PLAIN_INTERVAL, ascii=not terminal, **options)
