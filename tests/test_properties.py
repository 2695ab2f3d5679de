"""Properties that hold for any input (hypothesis): the readers never raise on arbitrary or damaged
bytes, the normalisers and the wikitext cleaner never raise and keep their invariants, and a real
Beam run accounts for every record it reads."""

from __future__ import annotations

import bz2
import gzip
import sys
import tempfile
import unicodedata
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.internal.cloudpickle import cloudpickle
from apache_beam.options.pipeline_options import PipelineOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llama_data import manifest
from llama_data import release as release_lib
from llama_data.document import Document
from llama_data.errors import InputError
from llama_data.pipelines import common, wikipedia
from llama_data.pipelines import commoncrawl as commoncrawl_pipeline
from llama_data.sources.commoncrawl import WarcReader
from llama_data.sources.wikipedia import DumpReader
from llama_data.text import ccnet
from llama_data.text.wikitext import WikitextCleaner

cloudpickle.register_pickle_by_value(sys.modules[__name__])

SAMPLES = Path(__file__).resolve().parents[1] / "llama_data" / "samples"
WIKI_SAMPLE = (SAMPLES / "wikipedia" / "enwiki-sample-pages-articles.xml").read_bytes()[:20_000]
WET_SAMPLE = (SAMPLES / "commoncrawl" / "CC-DEMO-sample.warc.wet").read_bytes()[:20_000]
# No deadline (timing must not decide a test) and a fixed seed (CI reruns the same examples).
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PIPELINE = settings(PROPERTY, max_examples=4)


@st.composite
def damaged(draw, valid: bytes) -> bytes:
    """``valid`` cut short, with bytes overwritten and random bytes put in."""
    data = bytearray(valid[:draw(st.integers(0, len(valid)))])
    for _ in range(draw(st.integers(0, 4))):
        if data and draw(st.booleans()):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        else:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


def compressed(data: bytes, suffix: str) -> bytes:
    return {"": data, ".gz": gzip.compress(data, mtime=0), ".bz2": bz2.compress(data)}[suffix]


@st.composite
def input_file(draw, valid: bytes) -> tuple[str, bytes]:
    """(suffix, file bytes): random or damaged content, plain or compressed, and sometimes the
    compressed stream itself damaged."""
    suffix = draw(st.sampled_from(["", ".gz", ".bz2"]))
    content = draw(st.one_of(st.binary(max_size=2048), damaged(valid)))
    data = compressed(content, suffix)
    if suffix and draw(st.booleans()):
        data = draw(damaged(data))
    return suffix, data


def write_input(folder: Path, name: str, suffix: str, data: bytes) -> str:
    path = folder / f"{name}{suffix}"
    path.write_bytes(data)
    return str(path)


def read_all(reader, path: str) -> list:
    items = list(reader(path))
    for item in items:
        assert isinstance(item, (Document, InputError)), type(item)
        if isinstance(item, InputError):
            assert item.path == path and str(item)
    return items


# --- readers ---------------------------------------------------------------------------------

@PROPERTY
@given(input_file(WIKI_SAMPLE))
def test_the_wikipedia_reader_never_raises(file):
    with tempfile.TemporaryDirectory() as tmp:
        read_all(DumpReader, write_input(Path(tmp), "enwiki-pages-articles.xml", *file))


@PROPERTY
@given(input_file(WET_SAMPLE), st.sampled_from(["auto", "wet", "warc"]))
def test_the_commoncrawl_reader_never_raises(file, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_input(Path(tmp), "CC-TEST.warc.wet", *file)
        read_all(lambda p: WarcReader(p, fmt=fmt), path)


# --- normalisers and the wikitext cleaner ----------------------------------------------------

@PROPERTY
@given(st.text(max_size=200))
def test_normalize_line_leaves_no_control_mark_digit_or_mapped_punctuation(line):
    out = ccnet.normalize_line(line)
    assert not set(out) & set(ccnet.NON_PRINTING_CHARS)
    assert not set(out) & set(ccnet.UNICODE_PUNCT)
    assert all(unicodedata.category(c) != "Mn" for c in out)
    assert all(c == "0" for c in out if c.isdecimal())
    assert "\n" not in ccnet.normalize_text(line)


@PROPERTY
@given(st.text(max_size=200), st.sampled_from([" ", "\t", "  \t", "\x0b"]),
       st.integers(0, 9))
def test_line_hash_ignores_the_ends_case_and_which_digit(line, space, digit):
    assert ccnet.line_hash(line) == ccnet.line_hash(space + line + space)
    ascii_upper = "".join(c.upper() if c.isascii() else c for c in line)
    assert ccnet.line_hash(line) == ccnet.line_hash(ascii_upper)
    other_digits = "".join(str(digit) if c in "0123456789" else c for c in line)
    assert ccnet.line_hash(line) == ccnet.line_hash(other_digits)
    assert 0 <= ccnet.line_hash(line) < 2**64


MARKUP = ["[[", "]]", "{{", "}}", "{|", "|}", "|-", "||", "|", "!", "'''", "''", "<ref>",
          "</ref>", "<ref name=a />", "<!--", "-->", "==", "\n", "\n*", "\n#", ":", ";",
          "File:", "Category:", "&amp;", "&nbsp;", "<br />", "<math>", "</math>", "<nowiki>",
          "</nowiki>", "[http://example.org", "]", "__NOTOC__", " ", "word", "Wörter"]
clean = WikitextCleaner(("File", "Image"), ("Category",)).clean


@PROPERTY
@given(st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=8)), max_size=60))
def test_the_wikitext_cleaner_never_raises(pieces):
    text = "".join(pieces)
    out = clean(text)
    assert isinstance(out, str) and out == clean(text)


@PROPERTY
@given(st.lists(st.text(st.characters(categories=["L"]), min_size=1, max_size=12),
                min_size=1, max_size=30))
def test_plain_words_pass_the_wikitext_cleaner_unchanged(words):
    text = " ".join(words)
    assert clean(text) == text


# --- the funnel of a real Beam run -----------------------------------------------------------

IN_PROCESS = ["--runner=FnApiRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"]


def funnel_of(spec: common.SourceSpec, path: str, release: Path) -> manifest.Funnel:
    """Build the source's real graph around one input file, run it, read the counters."""
    pipeline = beam.Pipeline(options=PipelineOptions(IN_PROCESS))
    with release_lib.stage(str(release), spec.name) as staged:  # never committed: no budget
        common.build(pipeline, spec, [path], staged, buckets=1, max_bytes=1 << 20,
                     keep_rejects=False)
        result = pipeline.run()
        result.wait_until_finish()
    return manifest.Funnel.from_counts(common._counts(result, spec.name))


def assert_balanced(funnel: manifest.Funnel) -> None:
    assert funnel.read == funnel.kept + sum(funnel.dropped.values()) \
        + sum(funnel.unreadable.values()), funnel


@pytest.mark.slow
@PIPELINE
@given(input_file(WIKI_SAMPLE))
def test_the_wikipedia_funnel_balances_on_any_input(file):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_input(Path(tmp), "enwiki-pages-articles.xml", *file)
        assert_balanced(funnel_of(wikipedia.spec(min_words=5), path, Path(tmp) / "release"))


@pytest.mark.slow
@PIPELINE
@given(input_file(WET_SAMPLE))
def test_the_commoncrawl_funnel_balances_on_any_input(file):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_input(Path(tmp), "CC-TEST.warc.wet", *file)
        spec = commoncrawl_pipeline.spec(languages=None)
        assert_balanced(funnel_of(spec, path, Path(tmp) / "release"))
