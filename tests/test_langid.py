"""fastText language ID on real multilingual text (the UDHR translations of ../shared/corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_data.document import Document
from llama_data.filters import Rejected, run_steps
from llama_data.quality.langid import (
    IdentifyLanguage,
    KeepLanguages,
    LanguageIdentifier,
    ModelNotFound,
)

UDHR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "langid" / "udhr"
# ISO 639-2 / UN codes in the file names -> the ISO 639-1 codes lid.176 answers with
CODES = {"eng": "en", "bul": "bg", "cat": "ca", "cze": "cs", "dns": "da", "dut": "nl", "frn": "fr",
         "ger": "de", "hun": "hu", "ita": "it", "pl": "pl", "por": "pt", "rum": "ro", "rus": "ru",
         "slo": "sk", "spn": "es", "swe": "sv", "ukr": "uk"}


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier()


def test_the_udhr_translations_get_their_languages(identifier):
    files = sorted(UDHR.glob("human_rights_*.txt"))
    if not files:
        pytest.skip(f"real corpus samples not found at {UDHR} (../shared beside the checkout)")
    texts, expected = [], []
    for path in files:
        code = path.name.split("_")[3]
        lines = [line.split("\t", 1)[-1] for line in path.read_text(encoding="utf-8").splitlines()]
        texts.append("\n".join(lines[5:25]))
        expected.append(CODES[code])
    predicted = identifier.predict(texts)
    assert [lang for lang, _ in predicted] == expected
    assert all(score > 0.5 for _, score in predicted)


def test_documents_are_annotated_then_kept_or_dropped_with_a_reason(identifier):
    steps = [IdentifyLanguage(identifier), KeepLanguages(("en",))]
    english = Document("t/1", "The river flows through the valley towards the sea.", "t")
    german = Document("t/2", "Der Fluss fließt durch das Tal in Richtung Meer.", "t")
    noise = Document("t/3", "?? 12 !!", "t")
    kept = run_steps(english, steps)
    assert kept.lang == "en" and kept.lang_score > 0.5
    assert run_steps(german, steps).reason == "language:not_en"
    dropped = run_steps(noise, [IdentifyLanguage(identifier), KeepLanguages(None, threshold=0.9)])
    assert isinstance(dropped, Rejected) and dropped.reason == "language:low_score"


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFound, match="no such language-ID model"):
        LanguageIdentifier(tmp_path / "lid.176.bin")
