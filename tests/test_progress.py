"""Progress lines: rate and ETA; plain lines off a terminal; silent under -q (the logger's level)."""

import io
import logging
import re

from llama_data import progress


def test_off_a_terminal_each_update_is_a_plain_line_with_rate_and_eta(log_level, monkeypatch):
    log_level(logging.INFO)
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0)
    out = io.StringIO()
    with progress.bar(total=4, desc="encode", unit="doc", stream=out) as shown:
        for _ in range(4):
            shown.update(1)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) >= 2 and all(line.startswith("encode:") for line in lines)
    assert "4/4" in lines[-1]
    # tqdm's [elapsed<remaining, rate] stats: an ETA and a rate in the unit given
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, *[\d.?]+ *doc/s\]", lines[-1]), lines[-1]


def test_quiet_prints_nothing(log_level):
    log_level(logging.WARNING)
    out = io.StringIO()
    with progress.bar(total=3, desc="encode", stream=out) as shown:
        shown.update(3)
    assert out.getvalue() == ""


def test_bytes_are_shown_with_binary_units(log_level, monkeypatch):
    log_level(logging.INFO)
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0)
    out = io.StringIO()
    with progress.bar(total=3 * 2**20, desc="read", unit="B", unit_scale=True, unit_divisor=1024,
                      stream=out) as shown:
        shown.update(3 * 2**20)
    assert "3.00M/3.00M" in out.getvalue()
