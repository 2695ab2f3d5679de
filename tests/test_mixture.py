from __future__ import annotations

import json

import pytest

from llama_data import mixture
from llama_data.errors import LlamaDataError
from llama_data.mixture import MixtureError, Plan, make_plan, parse_count

PAPER_EPOCHS = {"commoncrawl": 1.10, "c4": 1.06, "github": 0.64, "wikipedia": 2.45,
                "books": 2.23, "arxiv": 1.06, "stackexchange": 1.03}
TABLE1_WEIGHTS = mixture.load_weights("table1")


def paper_available(total: int = 1_400_000_000_000) -> dict[str, int]:
    """The tokens per source that Table 1's epochs imply at 1.4T."""
    return {s: round(total * w / PAPER_EPOCHS[s]) for s, w in TABLE1_WEIGHTS.items()}


@pytest.mark.parametrize("text, expected", [
    ("1.4T", 1_400_000_000_000), ("1.4t", 1_400_000_000_000), ("853M", 853_000_000),
    ("250k", 250_000), ("7B", 7_000_000_000), ("0.5K", 500), ("1000", 1000), ("1,000", 1000),
    ("12,345,678", 12_345_678), ("1_000_000", 1_000_000), (" 2 T ", 2_000_000_000_000),
])
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "T", "1.4X", "-5", "1.4TT", "1.5", "1.0001K", "1,5T",
                                  "1,00", "1e12", "abc"])
def test_parse_count_refuses(text):
    with pytest.raises(ValueError, match=repr(text).replace(".", r"\.")):
        parse_count(text)


@pytest.mark.parametrize("n, expected", [
    (1_400_000_000_000, "1.40T"), (853_000_000, "853M"), (999, "999"), (0, "0"), (5, "5"),
    (1000, "1.00K"), (12_345, "12.3K"), (999_999, "1.00M"), (63_000_000_000, "63.0B"),
])
def test_format_count(n, expected):
    assert mixture.format_count(n) == expected


def test_format_count_reads_back():
    for text in ("1.40T", "853M", "12.3K", "999"):
        assert mixture.format_count(parse_count(text)) == text


def test_format_bytes():
    assert mixture.format_bytes(3_300_000_000_000) == "3.30 TB"
    assert mixture.format_bytes(83_000_000_000) == "83.0 GB"
    assert mixture.format_bytes(512) == "512 B"


def test_table1_is_the_paper():
    assert mixture.SOURCES == tuple(PAPER_EPOCHS)
    assert sum(TABLE1_WEIGHTS.values()) == pytest.approx(1)
    assert mixture.TABLE1["commoncrawl"] == mixture.Table1Row(0.67, 1.10, 3_300_000_000_000)
    assert mixture.TABLE1["c4"].disk_bytes == 783_000_000_000
    assert {s: r.epochs for s, r in mixture.TABLE1.items()} == PAPER_EPOCHS
    assert issubclass(MixtureError, LlamaDataError)


def test_table1_plan_gives_the_paper_epochs():
    total = parse_count("1.4T")
    plan = make_plan(total, TABLE1_WEIGHTS, paper_available())
    assert [s.source for s in plan.sources] == list(mixture.SOURCES)
    assert {s.source: round(s.epochs, 2) for s in plan.sources} == PAPER_EPOCHS
    assert abs(plan.target_tokens - total) <= len(plan.sources)
    assert plan.sources[0].target_tokens == 938_000_000_000
    assert plan.missing == [] and plan.warnings == [] and not plan.renormalized


def test_plan_without_a_release():
    plan = make_plan(1_000_000, TABLE1_WEIGHTS, None)
    assert [s.target_tokens for s in plan.sources] == [670_000, 150_000, 45_000, 45_000, 45_000,
                                                       25_000, 20_000]
    assert all(s.available_tokens is None and s.epochs is None for s in plan.sources)
    assert plan.missing == []


def test_missing_sources_are_an_error_without_renormalize():
    available = paper_available()
    del available["github"]
    available["arxiv"] = 0
    with pytest.raises(MixtureError, match="github, arxiv") as e:
        make_plan(10**12, TABLE1_WEIGHTS, available)
    assert "--renormalize" in str(e.value) and "--available" in str(e.value)


def test_renormalize_drops_missing_and_keeps_proportions():
    available = paper_available()
    del available["github"]
    del available["books"]
    plan = make_plan(10**12, TABLE1_WEIGHTS, available, renormalize=True)
    assert plan.renormalized and plan.missing == ["github", "books"]
    weights = {s.source: s.weight for s in plan.sources}
    assert list(weights) == ["commoncrawl", "c4", "wikipedia", "arxiv", "stackexchange"]
    assert sum(weights.values()) == pytest.approx(1, abs=1e-12)
    assert weights["commoncrawl"] / weights["c4"] == pytest.approx(0.67 / 0.15)
    assert weights["wikipedia"] == pytest.approx(0.045 / 0.91)
    assert abs(plan.target_tokens - 10**12) <= len(plan.sources)


def test_renormalize_with_nothing_missing_changes_nothing():
    plan = make_plan(10**12, TABLE1_WEIGHTS, paper_available(), renormalize=True)
    assert not plan.renormalized
    assert [s.weight for s in plan.sources] == pytest.approx(list(TABLE1_WEIGHTS.values()))


def test_a_zero_weight_source_is_not_missing():
    weights = {"commoncrawl": 0.5, "c4": 0.5, "github": 0.0}
    plan = make_plan(100, weights, {"commoncrawl": 100, "c4": 25})
    assert plan.missing == []
    assert [(s.source, s.target_tokens, s.epochs) for s in plan.sources] == [
        ("commoncrawl", 50, 0.5), ("c4", 50, 2.0), ("github", 0, None)]


def test_too_many_epochs_warns():
    available = paper_available()
    available["wikipedia"] = 10_000_000_000
    plan = make_plan(parse_count("1.4T"), TABLE1_WEIGHTS, available, max_epochs=4.0)
    assert plan.warnings == [w for w in plan.warnings if w.startswith("wikipedia: 6.30 epochs")]
    assert len(plan.warnings) == 1
    assert make_plan(parse_count("1.4T"), TABLE1_WEIGHTS, available, max_epochs=7).warnings == []


@pytest.mark.parametrize("total", [0, -1])
def test_no_tokens_is_impossible(total):
    with pytest.raises(MixtureError, match="positive"):
        make_plan(total, TABLE1_WEIGHTS, None)


def test_every_source_missing_is_impossible():
    for renormalize in (False, True):
        with pytest.raises(MixtureError, match="any weighted source"):
            make_plan(10**12, TABLE1_WEIGHTS, {"commoncrawl": 0}, renormalize=renormalize)


def test_make_plan_checks_weights():
    with pytest.raises(MixtureError, match="sum to 0.9"):
        make_plan(100, {"commoncrawl": 0.9}, None)
    with pytest.raises(MixtureError, match="unknown source 'reddit'"):
        make_plan(100, {"reddit": 1.0}, None)


def test_load_weights_table1():
    assert TABLE1_WEIGHTS == {s: r.weight for s, r in mixture.TABLE1.items()}
    assert list(TABLE1_WEIGHTS) == list(mixture.SOURCES)


def test_load_weights_file(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"wikipedia": 0.25, "commoncrawl": 0.75, "c4": 0}))
    assert mixture.load_weights(str(path)) == {"commoncrawl": 0.75, "c4": 0.0, "wikipedia": 0.25}


@pytest.mark.parametrize("content, reason", [
    (None, "cannot read"),
    ("{not json", "cannot read"),
    (b"\xff\xfe{}", "cannot read"),
    ("[0.5, 0.5]", "JSON object"),
    ('{"commoncrawl": "0.5", "c4": 0.5}', "not a number"),
    ('{"commoncrawl": true}', "not a number"),
    ('{"commoncrawl": NaN}', "not a number"),
    ('{"commoncrawl": 1.5, "c4": -0.5}', "negative"),
    ('{"commoncrawl": 0.5, "reddit": 0.5}', "unknown source 'reddit' .*stackexchange"),
    ('{"commoncrawl": 0.5, "c4": 0.4}', "sum to 0.9,"),
    ("{}", "sum to 0,"),
])
def test_load_weights_bad_file(tmp_path, content, reason):
    path = tmp_path / "weights.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(MixtureError, match=reason) as e:
        mixture.load_weights(str(path))
    assert str(path) in str(e.value)


def test_load_weights_tolerates_rounding(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"commoncrawl": 0.3333333, "c4": 0.3333333, "github": 0.3333333}))
    assert len(mixture.load_weights(str(path))) == 3


def test_plan_json_round_trip():
    disk = {s: r.disk_bytes for s, r in mixture.TABLE1.items()}
    available = paper_available()
    del available["books"]
    plan = make_plan(parse_count("1.4T"), TABLE1_WEIGHTS, available, disk, renormalize=True,
                     max_epochs=2.0)
    data = json.loads(json.dumps(plan.to_json()))
    assert data["format"] == "llama-data-mixture" and data["format_version"] == 1
    assert sorted(data) == ["format", "format_version", "missing", "renormalized", "sources",
                            "total_tokens", "warnings"]
    assert Plan.from_json(data) == plan
    assert plan.warnings and plan.missing == ["books"]


def test_plan_from_json_refuses_other_files():
    with pytest.raises(MixtureError, match="not a llama-data mixture plan"):
        Plan.from_json({"format": "llama-data-manifest"})
    data = make_plan(100, TABLE1_WEIGHTS, None).to_json()
    del data["sources"]
    with pytest.raises(MixtureError, match="corrupt"):
        Plan.from_json(data)


def test_render():
    disk = {s: r.disk_bytes for s, r in mixture.TABLE1.items()}
    available = paper_available()
    available["books"] = 0
    available["wikipedia"] = 10_000_000_000
    plan = make_plan(parse_count("1.4T"), TABLE1_WEIGHTS, available, disk, renormalize=True)
    text = mixture.render(plan)
    for source in mixture.SOURCES:
        assert source in text
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert lines["commoncrawl"].split()[-3:] == ["1.15", "3.30", "TB"]
    assert lines["c4"].split()[1:4] == ["15.7%", "220B", "198B"]
    assert "83.0 GB" in lines["wikipedia"]
    assert lines["total"].split()[1:3] == ["100.0%", "1.40T"]
    assert "books" in lines["missing,"]
    assert lines["warning:"].startswith("warning: wikipedia: 6.60 epochs")


def test_render_without_a_release():
    text = mixture.render(make_plan(parse_count("1.4T"), TABLE1_WEIGHTS, None))
    assert "938B" in text and "1.40T" in text
    assert text.splitlines()[2].split()[3:] == ["-", "-", "-"]
