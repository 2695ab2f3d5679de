"""The table ``llama-data mix`` prints stays a table for any figures: tiny and huge token counts,
epochs from 1e-21 to 1e20. Each table is parsed back by the header's column positions; every cell
must sit in its column, apart from its neighbours, and read back as the plan's number."""

from __future__ import annotations

import re

import pytest

from llama_data import mixture
from llama_data.cli import main
from llama_data.mixture import Plan, make_plan, parse_count

WEIGHTS = mixture.load_weights("table1")
HEADERS = ("source", "share", "target", "available", "epochs", "disk")
DEFAULT_WIDTH = 16 + 8 + 10 + 11 + 8 + 11  # the widths of a table of ordinary figures
_BYTES = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def cells(line: str, header: str) -> list[str]:
    """A row's cells by the header's column ends (numbers are right-aligned under their
    header); each cell must begin with a space, else it runs into the column before it."""
    name = line.split(" ", 1)[0]
    ends = [header.index(h) + len(h) for h in HEADERS[1:]]
    starts = [len(name), *ends[:-1]]
    row = [name] + [line[a:b] for a, b in zip(starts, ends)]
    assert all(c.startswith(" ") and c.strip() and "  " not in c.strip() for c in row[1:]), line
    assert line[ends[-1]:] == "", line
    return [c.strip() for c in row]


def close(shown: float, exact: float, relative: float, absolute: float = 0.0) -> bool:
    return abs(shown - exact) <= max(absolute, relative * abs(exact))


def check_table(plan: Plan) -> list[list[str]]:
    """The rows of ``plan``'s table, after checking its layout and that every figure reads back
    within the precision of its format (3 significant digits for counts and bytes, 2 decimals or
    2 significant digits for epochs)."""
    lines = mixture.render(plan).splitlines()
    n = len(plan.sources)
    header, rule, body, rule_again, total = lines[0], lines[1], lines[2:2 + n], *lines[2 + n:4 + n]
    assert header.split() == list(HEADERS)
    assert rule == rule_again == "-" * len(header)
    assert all(len(line) == len(header) for line in [*body, total])
    assert cells(total, header)[0] == "total"
    rows = [cells(line, header) for line in body]
    for source, row in zip(plan.sources, rows):
        name, share, target, available, epochs, disk = row
        assert name == source.source
        assert close(float(share.rstrip("%")) / 100, source.weight, 0, 0.0005)
        assert close(parse_count(target), source.target_tokens, 0.005)
        if source.available_tokens is None:
            assert (available, epochs) == ("-", "-")
        else:
            assert close(parse_count(available), source.available_tokens, 0.005)
            assert close(float(epochs), source.epochs, 0.05, 0.005)
        number, unit = disk.split()
        assert close(float(number) * _BYTES[unit], source.disk_bytes, 0.005)
    return rows


def test_ordinary_and_extreme_figures_keep_the_default_layout():
    available = {"commoncrawl": 1, "c4": 10**14, "github": 7, "wikipedia": 63 * 10**9,
                 "books": 3, "arxiv": 999_999, "stackexchange": 10**14 - 1}
    disk = {"commoncrawl": 0, "c4": 1, "github": 999, "wikipedia": 10**14, "books": 5 * 10**11,
            "arxiv": 12_345, "stackexchange": 78 * 10**9}
    plan = make_plan(parse_count("1.4T"), WEIGHTS, available, disk)
    rows = check_table(plan)
    assert len(mixture.render(plan).splitlines()[0]) == DEFAULT_WIDTH
    by_source = {row[0]: row for row in rows}
    # worked by hand: 67% of 1.4T = 9.38e11 tokens over 1 token; 15% of 1.4T over 1e14
    assert by_source["commoncrawl"][4] == "9.4e11"
    assert by_source["c4"][4] == "2.1e-3"
    assert by_source["wikipedia"][4] == "1.00"  # 4.5% of 1.4T = 63B over 63B


def test_the_reported_case_a_tiny_release_planned_for_1_4t():
    """The demo release holds a few thousand tokens: 4.5% of 1.4T over 281 tokens = 2.24e8
    epochs, which once printed as ``281224199288.26``, run into its neighbours."""
    available = {"commoncrawl": 5860, "c4": 5000, "github": 3000, "wikipedia": 281,
                 "arxiv": 4000, "stackexchange": 1}
    plan = make_plan(parse_count("1.4T"), WEIGHTS, available, renormalize=True,
                     disk_bytes={s: 10**6 for s in mixture.SOURCES})
    rows = {row[0]: row for row in check_table(plan)}
    assert rows["wikipedia"][3:5] == ["281", "2.3e8"]  # 4.5/95.5 of 1.4T = 6.597e10, / 281
    assert "books" not in rows
    assert any(w.startswith("wikipedia: 2.3e8 epochs") for w in plan.warnings)


@pytest.mark.parametrize("total, available, disk", [
    (1, 10**21, 0),                          # one token planned, 1e21 available
    (10**21, 1, 10**20),                     # 1e21 tokens planned over 1 token each
    (10**24, 10**24, 10**22),                # counts past every unit: the columns widen
])
def test_columns_widen_instead_of_running_together(total, available, disk):
    plan = make_plan(total, WEIGHTS, dict.fromkeys(mixture.SOURCES, available),
                     dict.fromkeys(mixture.SOURCES, disk))
    check_table(plan)


def test_the_cli_prints_a_parseable_table(capsys):
    argv = ["mix", "--tokens", "1.4T"]
    for source, tokens in (("commoncrawl", "5.86K"), ("c4", "1"), ("github", "3T"),
                           ("wikipedia", "281"), ("books", "900"), ("arxiv", "4000"),
                           ("stackexchange", "1")):
        argv += ["--available", f"{source}={tokens}"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0]
    rows = [cells(line, header) for line in lines[2:9]]
    assert [r[0] for r in rows] == list(mixture.SOURCES)
    assert re.fullmatch(r"\d\.\de\d+", rows[1][4])  # c4: 2.1e11 epochs


def test_a_release_s_text_size_is_in_binary_units_the_paper_s_as_printed():
    available = dict.fromkeys(mixture.SOURCES, 10**9)
    paper = make_plan(parse_count("1.4T"), WEIGHTS, available, {"commoncrawl": 3_300_000_000_000})
    release = make_plan(parse_count("1.4T"), WEIGHTS, available,
                        {**dict.fromkeys(mixture.SOURCES, 3 * 2**30), "commoncrawl": 16_384},
                        disk_from_release=True)
    assert mixture.render(paper).splitlines()[2].endswith(" 3.30 TB")  # Table 1's "3.3 TB"
    assert mixture.render(release).splitlines()[2].endswith(" 16.0 KiB")  # 16 x 1,024 bytes
    check_table(release)
    assert Plan.from_json(release.to_json()).disk_from_release
