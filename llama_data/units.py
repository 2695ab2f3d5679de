"""Sizes in bytes, one convention everywhere: binary units. 1 KiB = 1,024 bytes, 1 MiB = 1,024 KiB,
and so on. Printed as KiB/MiB/GiB/TiB; read with or without the "i" ("256MB" = "256MiB" = 256 MiB),
since that is what a user typing "MB" on a command line about shard or sample sizes means."""

from __future__ import annotations

import re

_PREFIXES = "KMGT"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"256MB"``, ``"256MiB"``, ``"1.5G"``, ``"4096"`` -> bytes; raises ValueError."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 256MiB, 1.5GiB, 65536)")
    prefix = (match.group(2) or "").upper()
    scale = 1024 ** (_PREFIXES.index(prefix) + 1) if prefix else 1
    return int(float(match.group(1)) * scale)


def format_size(n: float) -> str:
    """``268435456`` -> ``"256.0 MiB"``, ``512`` -> ``"512 B"``: the largest unit that is at least
    1, with one decimal."""
    for power in range(len(_PREFIXES), 0, -1):
        if abs(n) >= 1024**power:
            return f"{n / 1024**power:.1f} {_PREFIXES[power - 1]}iB"
    return f"{int(n)} B"
