"""CCNet's normalisers, line hash and perplexity, held to what CCNet's own code computed.

tests/data/ccnet_golden.json was written by tests/data/make_ccnet_golden.py, which runs
facebookresearch/cc_net's ``text_normalizer``, ``dedup.str_hash`` and ``perplexity`` (the commit is
recorded in the file); nothing here re-types CCNet's rules.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import unicodedata
from pathlib import Path

import pytest

from llama_data.quality.perplexity import CCNET_CUTOFFS, LanguageModel
from llama_data.text import ccnet

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = json.loads((DATA / "ccnet_golden.json").read_text(encoding="utf-8"))
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_the_golden_values_come_from_a_known_cc_net_commit_and_this_unicode_database():
    assert len(GOLDEN["cc_net"]["commit"]) == 40
    # the normalisers depend on the Unicode database; Python 3.11 (setup.cfg) fixes its version
    assert unicodedata.unidata_version == GOLDEN["unidata_version"]


@pytest.mark.parametrize("case", GOLDEN["crafted"], ids=lambda c: repr(c["line"][:24]))
def test_crafted_lines_normalise_and_hash_as_cc_net(case):
    line = case["line"]
    assert ccnet.normalize_line(line) == case["normalize"]
    assert ccnet.normalize_for_dedup(line) == case["normalize_for_dedup"]
    assert ccnet.line_hash(line) == case["str_hash"]
    assert ccnet.normalize_text(line) == case["normalize_text"]


def corpus_line(path: Path, record: int, line: int, cache: dict) -> str:
    if path not in cache:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            if ".json" in path.name:
                cache[path] = [json.loads(row)["text"].split("\n") for row in f]
            else:
                cache[path] = [f.read().split("\n")]
    return cache[path][record][line]


def test_corpus_lines_normalise_and_hash_as_cc_net():
    if not CORPUS.exists():
        pytest.skip(f"real corpus samples not found at {CORPUS} (../shared beside the checkout)")
    cache: dict = {}
    for case in GOLDEN["corpus_lines"]:
        line = corpus_line(CORPUS / case["file"], case["record"], case["line"], cache)
        where = f"{case['file']} record {case['record']} line {case['line']}"
        assert digest(ccnet.normalize_line(line)) == case["sha256_normalize"], where
        assert digest(ccnet.normalize_for_dedup(line)) == case["sha256_normalize_for_dedup"], where
        assert digest(ccnet.normalize_text(line)) == case["sha256_normalize_text"], where
        assert ccnet.line_hash(line) == case["str_hash"], where


def test_every_code_point_normalises_as_cc_net():
    spec = GOLDEN["every_code_point"]
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    size, per_block = spec["line_chars"], spec["lines_per_block"]
    chunks = [everything[i:i + size] for i in range(0, len(everything), size)]
    assert len(spec["blocks"]) == -(-len(chunks) // per_block)
    for b, expected in enumerate(spec["blocks"]):
        block = chunks[b * per_block:(b + 1) * per_block]
        first = f"block {b}, from U+{ord(block[0][0]):04X}"
        assert digest("\n".join(map(ccnet.normalize_line, block))) == expected["normalize"], first
        assert digest("\n".join(map(ccnet.normalize_for_dedup, block))) == \
            expected["normalize_for_dedup"], first


@pytest.fixture(scope="module")
def small_model() -> LanguageModel:
    return LanguageModel(DATA / "ccnet_lm" / "xx.sp.model", DATA / "ccnet_lm" / "xx.arpa", "xx")


@pytest.mark.parametrize("case", GOLDEN["perplexity"]["texts"], ids=lambda c: repr(c["text"][:24]))
def test_perplexity_is_cc_nets_doclm(small_model, case):
    assert small_model.perplexity(case["text"]) == case["perplexity"]


def test_ccnets_published_cutoffs_are_the_ones_in_its_cutoff_csv():
    assert CCNET_CUTOFFS  # every language we ship cut-offs for, as CCNet's PerplexityBucket reads
    for lang, cutoffs in CCNET_CUTOFFS.items():
        assert list(cutoffs) == GOLDEN["cutoffs"][lang], lang
