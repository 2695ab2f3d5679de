"""C4's own language ID: ``langdetect`` (a port of Shuyo's language-detection), English at
probability >= 0.99, as TensorFlow Datasets builds C4 (``tensorflow_datasets/text/c4_utils.py``,
``is_language``, lines 86-113 at TFDS commit 0560e686: ``DetectorFactory.seed = 0`` on line 95,
``detect_langs(text)``, the top prediction kept when its language is the one asked for and its
probability reaches ``min_probability=0.99``; a text langdetect cannot read is dropped).

The option of record: exactly the reference's decision, but about 20 times slower than lid.176
(3.1 against 0.16 CPU seconds for the 1,000 pages, 2.2 MB, of the released C4 sample). It samples
character n-grams at random; seeded here, the same text always gets the same answer. lid.176 at
:data:`C4_LID_THRESHOLD` is the fast default, calibrated against it (``bench/c4_langid.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

C4_LANGDETECT_THRESHOLD = 0.99  # c4_utils.py line 86, is_language(min_probability=0.99)

# lid.176.ftz's threshold (top label en, score >= it) that best agrees with langdetect's en >= 0.99,
# on a 0.05 grid, measured by bench/c4_langid.py (README, "C4 language ID") on 1,133 real pages:
# the 1,000 released C4 pages of ../shared/corpus/c4, the 18 pages of ../shared/corpus/commoncrawl
# and the UDHR in 18 languages cut into 115 pages. Agreement 0.9938 (precision 1.0, recall 0.9930):
# any threshold up to 0.32 agrees as well (the lowest English score lid.176 gives a page
# langdetect calls English is 0.328), 0.30 is the strictest of them on the grid; CCNet's 0.5 agrees
# on 0.9868, 0.9 on 0.8703, 0.99 on 0.1403.
C4_LID_THRESHOLD = 0.30
C4_LID_AGREEMENT = 0.9938
C4_LID_PAGES = 1133

UNDETERMINED = "und"  # ISO 639-2 for a text langdetect finds no feature in (URLs, digits, empty)


class LangdetectIdentifier:
    """``predict(texts) -> [(lang, score)]`` with langdetect's top language, the interface of
    :class:`llama_data.quality.langid.LanguageIdentifier`, so :class:`IdentifyLanguage` takes
    either. A private, seeded ``DetectorFactory`` (the reference seeds the global one; a private
    one leaves other users of langdetect in the process alone, with the same answers)."""

    def __init__(self, seed: int | None = 0):
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        self.factory = DetectorFactory()
        self.factory.load_profile(PROFILES_DIRECTORY)
        self.factory.seed = seed

    def __reduce__(self):
        # The profiles are 44 MB pickled; a Beam worker reloads them from the package instead.
        return LangdetectIdentifier, (self.factory.seed,)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        return [self._top(text) for text in texts]

    def _top(self, text: str) -> tuple[str, float]:
        from langdetect.lang_detect_exception import LangDetectException

        detector = self.factory.create()
        detector.append(text)
        try:
            best = detector.get_probabilities()
        except LangDetectException:
            return UNDETERMINED, 0.0
        return (best[0].lang, float(best[0].prob)) if best else (UNDETERMINED, 0.0)


@dataclasses.dataclass(frozen=True)
class Agreement:
    """lid.176's decisions (English at ``threshold``) against langdetect's, page by page;
    langdetect's English pages are the positives."""

    threshold: float
    pages: int
    both: int  # English to both
    lid_only: int
    langdetect_only: int

    @property
    def agreement(self) -> float:
        return (self.pages - self.lid_only - self.langdetect_only) / self.pages

    @property
    def precision(self) -> float:
        return self.both / max(self.both + self.lid_only, 1)

    @property
    def recall(self) -> float:
        return self.both / max(self.both + self.langdetect_only, 1)


def is_english(lang: str, score: float, threshold: float) -> bool:
    """English as ``KeepLanguages(("en",), threshold)`` decides it from a top label and its score
    (for langdetect at 0.99, the reference's decision)."""
    return lang == "en" and score >= threshold


def agreement_at(reference: Sequence[bool], lid: Sequence[tuple[str, float]],
                 threshold: float) -> Agreement:
    decided = [is_english(lang, score, threshold) for lang, score in lid]
    return Agreement(threshold, len(decided),
                     sum(r and d for r, d in zip(reference, decided)),
                     sum(d and not r for r, d in zip(reference, decided)),
                     sum(r and not d for r, d in zip(reference, decided)))


def calibrate(reference: Sequence[bool], lid: Sequence[tuple[str, float]],
              grid: Sequence[float]) -> Agreement:
    """The threshold of ``grid`` that agrees best with langdetect (ties: the highest, the
    strictest against pages unlike the sample's)."""
    return max((agreement_at(reference, lid, t) for t in grid),
               key=lambda a: (a.agreement, a.threshold))
