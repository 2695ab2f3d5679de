from __future__ import annotations

import dataclasses

from llama_data.document import Document
from llama_data.filters import Filter, Mapper, MinWords, Rejected, run_steps


@dataclasses.dataclass(frozen=True)
class Upper:
    name: str = "upper"

    def map(self, doc: Document) -> Document:
        return doc.replace(text=doc.text.upper())


@dataclasses.dataclass(frozen=True)
class NoX:
    name: str = "no_x"

    def filter(self, doc: Document):
        return (False, "has_x") if "X" in doc.text else True


def doc(text: str) -> Document:
    return Document(id="t/1", text=text, source="t")


def test_steps_run_in_order_and_the_first_drop_wins_with_a_qualified_reason():
    assert isinstance(Upper(), Mapper) and isinstance(NoX(), Filter)
    assert run_steps(doc("abc"), [Upper(), NoX()]) == doc("ABC")
    rejected = run_steps(doc("xyz"), [Upper(), NoX(), MinWords(1)])
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "no_x:has_x"
    assert rejected.doc.text == "XYZ"
    assert run_steps(doc("xyz"), [NoX(), Upper()]) == doc("XYZ")  # filter before the mapper


def test_min_words_names_empty_and_short_documents():
    assert MinWords(3).filter(doc("  \n ")) == (False, "empty")
    assert MinWords(3).filter(doc("two words")) == (False, "too_short")
    assert MinWords(3).filter(doc("three words here")) is True
