"""CCNet normalisation and line hashes (properties; CCNet's own values are in
test_ccnet_golden.py), and the job-wide line dedup on Beam's real local runner."""

from __future__ import annotations

import json
import sys

import apache_beam as beam
import pytest
from apache_beam.internal.cloudpickle import cloudpickle
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from llama_data.document import Document
from llama_data.pipelines.dedup import DeduplicateLines
from llama_data.text import ccnet

# Beam's worker processes cannot import this test module: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

IN_PROCESS = ["--runner=FnApiRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--runner=FnApiRunner", "--direct_num_workers=2",
               "--direct_running_mode=multi_processing"]
SOURCE = "dedup_test"


# --- normalisation ---------------------------------------------------------------------------

def test_strip_accents_drops_every_combining_mark_and_nothing_else():
    import unicodedata

    # every code point, decomposed, in chunks: the regular expressions built from the Unicode
    # database must agree with the per-character definition (category Mn), astral planes included
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    for start in range(0, len(everything), 4096):
        chunk = everything[start:start + 4096]
        nfd = unicodedata.normalize("NFD", chunk)
        assert ccnet.strip_accents(chunk) == "".join(
            c for c in nfd if unicodedata.category(c) != "Mn"), hex(ord(chunk[0]))


def test_normalize_text_is_normalize_line_over_a_whole_text():
    text = "Café 12\n  Naïve\tword «x»\n\nSECOND line ٣\x00"
    assert ccnet.normalize_text(text) == 'cafe 00   naive word "x"  second line 0'
    # the same words as line by line, where no control character sits inside a line
    plain = text.replace("\t", " ").replace("\x00", "")
    lines = [ccnet.normalize_line(line) for line in plain.split("\n")]
    assert ccnet.normalize_text(plain).split() == " ".join(lines).split()
    assert ccnet.normalize_text("ASCII\tonly 42\r\n") == "ascii only 00"


def test_line_hash_sees_through_case_digits_and_spacing_at_the_ends():
    assert ccnet.line_hash("Copyright 2021 ACME") == ccnet.line_hash("  copyright 1999 acme ")
    assert ccnet.line_hash("cafe") != ccnet.line_hash("café")


def test_hashed_lines_leave_out_lines_with_nothing_to_hash():
    hashed = ccnet.hashed_lines("One\n\nTwo 2\n  \n…\none\n")
    assert [i for i, _ in hashed] == [0, 2, 5]  # blank, whitespace-only, "…"-only lines left out
    assert hashed[0][1] == hashed[2][1] == ccnet.line_hash("ONE") != hashed[1][1]


def test_remove_lines_keeps_the_order_of_the_rest():
    assert ccnet.remove_lines("a\nb\nc\nd", {1, 3}) == "a\nc"
    assert ccnet.remove_lines("a\nb\n", {0}) == "b\n"
    assert ccnet.remove_lines("a\nb", set()) == "a\nb"
    assert ccnet.remove_lines("a", {0}) == ""


# --- the Beam transform ------------------------------------------------------------------------

def word(n: int) -> str:
    """A word per number, with no digit in it (digits normalise to 0 and would collide)."""
    letters = ""
    n += 26
    while n:
        n, r = divmod(n, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[r] + letters
    return letters


COOKIE = "We use cookies to improve your experience."
RIGHTS = "All rights reserved 2021."
RIGHTS_VARIANT = "  ALL RIGHTS RESERVED 1999. "  # the same line once normalised
SHARED = "Subscribe to our newsletter!"  # in exactly two documents
REPEAT = "Back to top"  # twice in one document only
N_DOCS = 40


def corpus() -> tuple[list[Document], dict[str, list[tuple[str, bool]]]]:
    """Documents with planted duplicates, and per id its lines as (line, is_duplicate)."""
    planted = {
        3: [(1, COOKIE), (2, RIGHTS)],
        17: [(0, RIGHTS), (4, COOKIE)],
        22: [(3, RIGHTS_VARIANT)],
        31: [(2, SHARED)],
        36: [(0, SHARED)],
        9: [(1, REPEAT), (3, REPEAT)],
    }
    docs, lines_of = [], {}
    for i in range(N_DOCS):
        lines = [(f"unique {word(i)} line {word(j)} of the text.", False) for j in range(4)]
        lines.insert(2, ("", False))  # a blank line in every document: never a duplicate
        for position, line in planted.get(i, []):
            lines.insert(position, (line, True))
        lines_of[f"cc/{i:03d}"] = lines
    # one document of nothing but duplicated lines (and a blank one): emptied by dedup
    lines_of["cc/900"] = [(COOKIE, True), ("", False), (RIGHTS, True)]
    for doc_id, lines in lines_of.items():
        docs.append(Document(id=doc_id, text="\n".join(line for line, _ in lines), source=SOURCE,
                             url=f"https://example.com/{doc_id}", meta={"origin": doc_id}))
    return docs, lines_of


def run_dedup(tmp_path, docs: list[Document], keep: str, args: list[str]):
    out = tmp_path / "out"
    pipeline = beam.Pipeline(options=PipelineOptions(args))
    (pipeline
     | beam.Create(docs, reshuffle=False)
     | "Spread" >> beam.Reshuffle()
     | DeduplicateLines(SOURCE, keep)
     | beam.Map(lambda d: json.dumps(d.to_row(), sort_keys=True))
     | beam.io.WriteToText(str(out)))
    result = pipeline.run()
    result.wait_until_finish()
    written = [Document.from_row(json.loads(line))
               for path in sorted(tmp_path.glob("out*")) for line in path.read_text().splitlines()]
    counters = {}
    query = result.metrics().query(MetricsFilter().with_namespace(f"llama_data.{SOURCE}"))
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        counters[counter.key.metric.name] = counters.get(counter.key.metric.name, 0) + value
    return {d.id: d for d in written}, counters


def expected_counters(docs, expected_text) -> dict[str, int]:
    removed = {d.id: len(d.text.split("\n")) - len(expected_text[d.id].split("\n"))
               if d.text != expected_text[d.id] else 0 for d in docs}
    return {
        "dedup/lines_seen": sum(len(d.text.split("\n")) for d in docs),
        "dedup/lines_removed": sum(removed.values()),
        "dedup/chars_removed": sum(len(d.text) - len(expected_text[d.id]) for d in docs),
        "dedup/documents_emptied": sum(1 for d in docs
                                       if removed[d.id] and not expected_text[d.id].strip()),
    }


def test_keep_none_removes_every_copy_across_documents_and_workers(tmp_path):
    docs, lines_of = corpus()
    out, counters = run_dedup(tmp_path, docs, "none", TWO_WORKERS)

    expected = {i: "\n".join(line for line, dup in lines if not dup)
                for i, lines in lines_of.items()}
    assert sorted(out) == sorted(expected)
    for doc_id, doc in out.items():
        assert doc.text == expected[doc_id], doc_id
        removed = sum(dup for _, dup in lines_of[doc_id])
        assert doc.meta["dedup_lines_removed"] == removed
        assert doc.meta["origin"] == doc_id and doc.url.endswith(doc_id)
    assert out["cc/900"].text == ""  # emptied, still passed on
    assert out["cc/017"].text.split("\n")[1] == f"unique {word(17)} line {word(1)} of the text."

    assert counters == expected_counters(docs, expected)
    assert counters["dedup/lines_removed"] == 11 and counters["dedup/documents_emptied"] == 1


def test_keep_first_keeps_one_copy_in_the_smallest_id(tmp_path):
    docs, lines_of = corpus()
    out, counters = run_dedup(tmp_path, docs, "first", IN_PROCESS)

    kept_first = {COOKIE: "cc/003", RIGHTS: "cc/003", SHARED: "cc/031"}
    expected = {}
    for doc_id, lines in lines_of.items():
        kept, seen_repeat = [], False
        for line, dup in lines:
            if dup and line == REPEAT:
                if not seen_repeat:
                    kept.append(line)
                seen_repeat = True
            elif not dup or kept_first.get(line) == doc_id:
                kept.append(line)
        expected[doc_id] = "\n".join(kept)
    for doc_id, doc in out.items():
        assert doc.text == expected[doc_id], doc_id
    for line in (COOKIE, RIGHTS, SHARED, REPEAT):
        holders = [(d.id, d.text.split("\n").count(line)) for d in out.values()
                   if line in d.text.split("\n")]
        assert len(holders) == 1 and holders[0][1] == 1, line
    assert out["cc/003"].meta["dedup_lines_removed"] == 0
    assert out["cc/900"].text == "" and out["cc/900"].meta["dedup_lines_removed"] == 2
    assert counters == expected_counters(docs, expected)
    assert counters["dedup/lines_removed"] == 11 - 4


def test_unknown_keep_is_refused():
    with pytest.raises(ValueError, match="keep"):
        DeduplicateLines(SOURCE, "last")
