"""The mixture plan, against the LLaMA paper's Table 1 typed here from the paper and against
hand-worked plans."""

from __future__ import annotations

import json

import pytest

from llama_data import mixture
from llama_data.errors import LlamaDataError
from llama_data.mixture import MixtureError, Plan, make_plan, parse_count

# Touvron et al. 2023, "LLaMA: Open and Efficient Foundation Language Models", Table 1, as printed:
# source, sampling proportion, epochs (at 1.4T tokens), disk size.
PAPER_TABLE1 = [
    ("CommonCrawl", "67.0%", "1.10", "3.3 TB"),
    ("C4", "15.0%", "1.06", "783 GB"),
    ("Github", "4.5%", "0.64", "328 GB"),
    ("Wikipedia", "4.5%", "2.45", "83 GB"),
    ("Books", "4.5%", "2.23", "85 GB"),
    ("ArXiv", "2.5%", "1.06", "92 GB"),
    ("StackExchange", "2.0%", "1.03", "78 GB"),
]
UNITS = {"GB": 10**9, "TB": 10**12}
PAPER = {name.lower(): (float(share.rstrip("%")) / 100, float(epochs),
                        round(float(size.split()[0]) * UNITS[size.split()[1]]))
         for name, share, epochs, size in PAPER_TABLE1}
PAPER_WEIGHTS = {source: weight for source, (weight, _, _) in PAPER.items()}


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
    assert mixture.SOURCES == tuple(PAPER)  # the paper's order
    assert {s: (r.weight, r.epochs, r.disk_bytes) for s, r in mixture.TABLE1.items()} == PAPER
    assert mixture.load_weights("table1") == PAPER_WEIGHTS
    assert issubclass(MixtureError, LlamaDataError)


def test_a_hand_worked_plan():
    # 1,000 tokens at 50/30/20: targets 500, 300, 200; epochs 500/250, 300/600, 200/50
    weights = {"commoncrawl": 0.5, "c4": 0.3, "wikipedia": 0.2}
    plan = make_plan(1000, weights, {"commoncrawl": 250, "c4": 600, "wikipedia": 50},
                     max_epochs=3.0)
    assert [(s.source, s.target_tokens, s.available_tokens, s.epochs) for s in plan.sources] == [
        ("commoncrawl", 500, 250, 2.0), ("c4", 300, 600, 0.5), ("wikipedia", 200, 50, 4.0)]
    warning = "wikipedia: 4.00 epochs, more than --max-epochs 3 (its text would be repeated "
    assert plan.warnings == [warning + "that often)"]
    assert plan.missing == [] and not plan.renormalized and plan.target_tokens == 1000


def test_the_paper_total_splits_into_the_papers_shares():
    # 1.4T x 67% = 938B, x 15% = 210B, x 4.5% = 63B, x 2.5% = 35B, x 2% = 28B
    plan = make_plan(parse_count("1.4T"), PAPER_WEIGHTS, None)
    billions = [938, 210, 63, 63, 63, 35, 28]
    assert [s.target_tokens for s in plan.sources] == [b * 10**9 for b in billions]
    assert plan.target_tokens == 1_400_000_000_000


def test_plan_without_a_release():
    plan = make_plan(1_000_000, PAPER_WEIGHTS, None)
    assert [s.target_tokens for s in plan.sources] == [670_000, 150_000, 45_000, 45_000, 45_000,
                                                       25_000, 20_000]
    assert all(s.available_tokens is None and s.epochs is None for s in plan.sources)
    assert plan.missing == []


# Tokens a release could hold: round numbers, not derived from the paper's epochs.
AVAILABLE = {"commoncrawl": 800 * 10**9, "c4": 200 * 10**9, "github": 100 * 10**9,
             "wikipedia": 25 * 10**9, "books": 40 * 10**9, "arxiv": 30 * 10**9,
             "stackexchange": 20 * 10**9}


def test_missing_sources_are_an_error_without_renormalize():
    available = dict(AVAILABLE)
    del available["github"]
    available["arxiv"] = 0
    with pytest.raises(MixtureError, match="github, arxiv") as e:
        make_plan(10**12, PAPER_WEIGHTS, available)
    assert "--renormalize" in str(e.value) and "--available" in str(e.value)


def test_renormalize_drops_missing_and_keeps_proportions():
    available = dict(AVAILABLE)
    del available["github"]
    del available["books"]
    plan = make_plan(10**12, PAPER_WEIGHTS, available, renormalize=True)
    assert plan.renormalized and plan.missing == ["github", "books"]
    # 9% dropped: the others are scaled by 1/0.91, e.g. 67/91 of 1e12 = 736,263,736,263.7
    assert [(s.source, s.target_tokens) for s in plan.sources] == [
        ("commoncrawl", 736_263_736_264), ("c4", 164_835_164_835), ("wikipedia", 49_450_549_451),
        ("arxiv", 27_472_527_473), ("stackexchange", 21_978_021_978)]
    assert [s.weight for s in plan.sources] == pytest.approx([67 / 91, 15 / 91, 4.5 / 91,
                                                              2.5 / 91, 2 / 91], rel=1e-12)


def test_renormalize_with_nothing_missing_changes_nothing():
    plan = make_plan(10**12, PAPER_WEIGHTS, AVAILABLE, renormalize=True)
    assert not plan.renormalized and plan.missing == []
    assert [s.weight for s in plan.sources] == pytest.approx(list(PAPER_WEIGHTS.values()))


def test_a_zero_weight_source_is_not_missing():
    weights = {"commoncrawl": 0.5, "c4": 0.5, "github": 0.0}
    plan = make_plan(100, weights, {"commoncrawl": 100, "c4": 25})
    assert plan.missing == []
    assert [(s.source, s.target_tokens, s.epochs) for s in plan.sources] == [
        ("commoncrawl", 50, 0.5), ("c4", 50, 2.0), ("github", 0, None)]


def test_too_many_epochs_warns():
    # wikipedia: 4.5% of 1.4T = 63B tokens from 10B available = 6.30 epochs
    available = {**AVAILABLE, "wikipedia": 10 * 10**9}
    plan = make_plan(parse_count("1.4T"), PAPER_WEIGHTS, available, max_epochs=4.0)
    assert [w.split(",")[0] for w in plan.warnings] == ["wikipedia: 6.30 epochs"]
    assert make_plan(parse_count("1.4T"), PAPER_WEIGHTS, available, max_epochs=7).warnings == []


@pytest.mark.parametrize("total", [0, -1])
def test_no_tokens_is_impossible(total):
    with pytest.raises(MixtureError, match="positive"):
        make_plan(total, PAPER_WEIGHTS, None)


def test_every_source_missing_is_impossible():
    for renormalize in (False, True):
        with pytest.raises(MixtureError, match="any weighted source"):
            make_plan(10**12, PAPER_WEIGHTS, {"commoncrawl": 0}, renormalize=renormalize)


def test_make_plan_checks_weights():
    with pytest.raises(MixtureError, match="sum to 0.9"):
        make_plan(100, {"commoncrawl": 0.9}, None)
    with pytest.raises(MixtureError, match="unknown source 'reddit'"):
        make_plan(100, {"reddit": 1.0}, None)


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
    disk = {s: size for s, (_, _, size) in PAPER.items()}
    available = dict(AVAILABLE)
    del available["books"]
    plan = make_plan(parse_count("1.4T"), PAPER_WEIGHTS, available, disk, renormalize=True,
                     max_epochs=2.0)
    data = json.loads(json.dumps(plan.to_json()))
    assert data["format"] == "llama-data-mixture" and data["format_version"] == 1
    assert sorted(data) == ["disk_from_release", "format", "format_version", "missing",
                            "renormalized", "sources", "total_tokens", "warnings"]
    assert Plan.from_json(data) == plan
    assert plan.warnings and plan.missing == ["books"]


def test_plan_from_json_refuses_other_files():
    with pytest.raises(MixtureError, match="not a llama-data mixture plan"):
        Plan.from_json({"format": "llama-data-manifest"})
    data = make_plan(100, PAPER_WEIGHTS, None).to_json()
    del data["sources"]
    with pytest.raises(MixtureError, match="corrupt"):
        Plan.from_json(data)


def test_render():
    disk = {s: size for s, (_, _, size) in PAPER.items()}
    available = {**AVAILABLE, "books": 0, "wikipedia": 10 * 10**9}
    plan = make_plan(parse_count("1.4T"), PAPER_WEIGHTS, available, disk, renormalize=True)
    text = mixture.render(plan)
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert set(mixture.SOURCES) - {"books"} <= set(lines)
    # books (4.5%) dropped: shares / 0.955; commoncrawl 1.4T x 67/95.5 = 982B of 800B available
    assert lines["commoncrawl"].split() == ["commoncrawl", "70.2%", "982B", "800B", "1.23",
                                            "3.30", "TB"]
    assert lines["c4"].split()[1:5] == ["15.7%", "220B", "200B", "1.10"]
    # 66.0B from 10B: 6.60 epochs; 83 GB on disk
    assert lines["wikipedia"].split()[1:] == ["4.7%", "66.0B", "10.0B", "6.60", "83.0", "GB"]
    assert lines["total"].split()[1:3] == ["100.0%", "1.40T"]
    assert "books" in lines["missing,"]
    assert lines["warning:"].startswith("warning: wikipedia: 6.60 epochs")


def test_render_without_a_release():
    text = mixture.render(make_plan(parse_count("1.4T"), PAPER_WEIGHTS, None))
    assert "938B" in text and "1.40T" in text
    assert text.splitlines()[2].split()[3:] == ["-", "-", "-"]
