"""CCNet's quality signal: the perplexity of a document under a SentencePiece + KenLM n-gram model
trained on a clean reference corpus (Wikipedia in CCNet), and its head / middle / tail buckets.

Reimplements facebookresearch/cc_net (MIT licence): ``perplexity.py`` (``DocLM``, ``pp``,
``PerplexityBucket``) and the language-model rules of its ``Makefile``. A model is two files per
language, with CCNet's names, so that CCNet's published models load unchanged::

    {lang}.sp.model   SentencePiece unigram model
    {lang}.arpa.bin   KenLM binary model

CCNet publishes its models as ``http://dl.fbaipublicfiles.com/cc_net/lm/{lang}.sp.model``
and ``.../{lang}.arpa.bin``; a text ``{lang}.arpa`` loads too, more slowly.
:func:`train_language_model` builds such a pair from texts with KenLM's ``lmplz`` and
``build_binary`` (see :func:`llama_data.models.kenlm_tool`).

How a document is scored (:meth:`LanguageModel.perplexity`), per line of the text:

1. normalise it with CCNet's normaliser (:func:`llama_data.text.ccnet.normalize_line`);
2. encode it with SentencePiece into pieces, joined by spaces;
3. ``log_score = kenlm.score(pieces, bos=True, eos=True)`` (log10, the end of sentence included),
   ``length = len(pieces) + 1`` (the ``</s>`` token);

then ``perplexity = 10 ** (-sum(log_score) / sum(length))``, rounded to one decimal.

Two deliberate differences from CCNet's code, both about lines:

* Lines that are empty after normalisation are skipped. CCNet's ``DocLM`` would score an empty
  line as ``P(</s> | <s>)``, which makes a document's perplexity depend on its paragraph spacing.
* CCNet's ``mine`` pipeline normalises the *whole* document before SentencePiece, and its
  normaliser deletes newlines (they are control characters), so in CCNet each document is scored
  as one long line with its lines glued together. Here each line is its own sentence, as
  ``DocLM`` is written and as the models were trained (one line per sentence). Perplexities
  are therefore close to but not the same as CCNet's, which matters for CCNet's published cut-offs
  (:data:`CCNET_CUTOFFS`): compute cut-offs on your own scores when you can (``prepare`` does).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path

from llama_data import progress
from llama_data.document import Document
from llama_data.errors import LlamaDataError
from llama_data.filters import FilterResult
from llama_data.io import atomic_path
from llama_data.models import kenlm_tool
from llama_data.text.ccnet import normalize_line

log = logging.getLogger("llama_data.quality.perplexity")

# The perplexity of a text with nothing to score (empty, or only whitespace/control characters):
# such a document has no evidence of being well-formed text, so it goes to the tail bucket, like
# the worst real documents. Finite (unlike ``inf``) so that ``meta`` stays standard JSON. Real
# documents stay far below it: even a text of only unknown pieces scores around 10**7.
EMPTY_TEXT_PERPLEXITY = 1e9

# CCNet's published cut-offs: cc_net/data/cutoff.csv gives, per language, the perplexity
# percentiles 0..100 of its documents under its Wikipedia-trained models; the 30th and 60th are
# the head/middle and middle/tail boundaries. English: 340 and 520. They belong to CCNet's own
# ``en.sp.model``/``en.arpa.bin`` (and its whole-document scoring, see the module docstring):
# use them with those models only.
CCNET_CUTOFFS: dict[str, tuple[float, float]] = {"en": (340.0, 520.0)}

_VOCAB_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\).*?<=\s*(\d+)", re.DOTALL)


class LanguageModelNotFound(LlamaDataError):
    """A SentencePiece or KenLM model file that is not there."""


class LanguageModelTrainingError(LlamaDataError):
    """Training a language model failed (SentencePiece, lmplz or build_binary)."""


class LanguageModel:
    """One language's SentencePiece tokenizer and KenLM n-gram model, loaded once.

    Picklable: a pickled model holds its file paths and is loaded again where it is unpickled
    (a loaded KenLM model cannot be pickled itself).
    """

    def __init__(self, sp_path: str | Path, lm_path: str | Path, lang: str | None = None):
        import kenlm
        import sentencepiece

        self.sp_path, self.lm_path, self.lang = Path(sp_path), Path(lm_path), lang
        for path, what in ((self.sp_path, "SentencePiece model"), (self.lm_path, "KenLM model")):
            if not path.is_file():
                raise LanguageModelNotFound(f"{path}: no such {what}")
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(self.sp_path))
        self.lm = kenlm.Model(str(self.lm_path))

    @classmethod
    def load(cls, folder: str | Path, lang: str) -> LanguageModel:
        """``{lang}.sp.model`` and ``{lang}.arpa.bin`` (or ``{lang}.arpa``) from ``folder``."""
        folder = Path(folder)
        sp_path = folder / f"{lang}.sp.model"
        if not sp_path.is_file():
            raise LanguageModelNotFound(
                f"{sp_path}: no such SentencePiece model for language {lang!r} (train one with "
                f"train_language_model, or download CCNet's {lang}.sp.model)")
        lm_path = folder / f"{lang}.arpa.bin"
        if not lm_path.is_file() and (folder / f"{lang}.arpa").is_file():
            lm_path = folder / f"{lang}.arpa"
        if not lm_path.is_file():
            raise LanguageModelNotFound(
                f"{lm_path}: no such KenLM model for language {lang!r} (nor {lang}.arpa; train "
                f"one with train_language_model, or download CCNet's {lang}.arpa.bin)")
        return cls(sp_path, lm_path, lang)

    def __reduce__(self):
        return LanguageModel, (str(self.sp_path), str(self.lm_path), self.lang)

    def __repr__(self) -> str:
        return (f"LanguageModel(lang={self.lang!r}, sp={str(self.sp_path)!r}, "
                f"lm={str(self.lm_path)!r})")

    def pieces(self, line: str) -> list[str]:
        """The SentencePiece pieces of one already normalised line."""
        return self.sp.encode(line, out_type=str)

    def line_scores(self, text: str) -> list[tuple[float, int]]:
        """``(log10 score, length)`` of each line that is not empty after normalisation."""
        scores = []
        for line in text.split("\n"):
            line = normalize_line(line)
            if not line:
                continue
            tokenized = " ".join(self.pieces(line))
            scores.append((self.lm.score(tokenized, bos=True, eos=True),
                           len(tokenized.split()) + 1))
        return scores

    def perplexity(self, text: str) -> float:
        """CCNet's document perplexity, rounded to one decimal (lower: more like the training
        text); :data:`EMPTY_TEXT_PERPLEXITY` for a text with no line to score."""
        scores = self.line_scores(text)
        if not scores:
            return EMPTY_TEXT_PERPLEXITY
        log_score = sum(s for s, _ in scores)
        length = sum(n for _, n in scores)
        return round(10.0 ** (-log_score / length), 1)


def _normalized_lines(texts: Iterable[str]) -> Iterable[str]:
    for text in texts:
        for line in text.split("\n"):
            line = normalize_line(line)
            if line:
                yield line


def _train_sentencepiece(text_file: Path, prefix: Path, vocab_size: int) -> Path:
    """CCNet's ``spm_train`` call; on a sample too small for ``vocab_size`` pieces, trains again
    with the most it supports (CCNet's Makefile retries with a fixed 40000)."""
    import sentencepiece

    for _attempt in range(3):
        try:
            # minloglevel, not a logstream: the latter needs a real stderr file descriptor
            sentencepiece.SentencePieceTrainer.train(
                input=str(text_file), model_prefix=str(prefix), model_type="unigram",
                vocab_size=vocab_size, character_coverage=0.9995, hard_vocab_limit=True,
                minloglevel=2)
            return Path(f"{prefix}.model")
        except RuntimeError as error:
            too_high = _VOCAB_TOO_HIGH.search(str(error))
            if too_high is None or int(too_high.group(2)) >= vocab_size:
                raise LanguageModelTrainingError(
                    f"SentencePiece training failed: {error}") from error
            supported = int(too_high.group(2))
            log.warning("SentencePiece: a vocabulary of %d is too large for this sample; "
                        "training with %d pieces, the most it supports", vocab_size, supported)
            vocab_size = supported
    raise LanguageModelTrainingError(f"SentencePiece training failed for vocabulary {vocab_size}")


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_tool(name: str, args: list[str], stdin=None, stdout=None) -> None:
    tool = kenlm_tool(name)
    result = subprocess.run([str(tool), *args], check=False, stdin=stdin,
                            stdout=stdout if stdout is not None else subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", errors="replace")
        raise LanguageModelTrainingError(
            f"KenLM's {name} failed (exit status {result.returncode}):\n{_tail(stderr)}")


def _install(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` atomically (a sibling temporary file, then a rename)."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


# CCNet's Makefile: a 65,536-piece SentencePiece model and a 5-gram; lmplz sorts in 20% of RAM.
LM_VOCAB_SIZE, LM_ORDER, LMPLZ_MEMORY = 65536, 5, "20%"


def train_language_model(texts: Iterable[str], lang: str, out: str | Path,
                         vocab_size: int = LM_VOCAB_SIZE, order: int = LM_ORDER,
                         memory: str = LMPLZ_MEMORY) -> Path:
    """Train ``{lang}.sp.model`` and ``{lang}.arpa.bin`` into ``out`` from ``texts``, as CCNet's
    Makefile does: a SentencePiece unigram model (``character_coverage=0.9995``) on the
    normalised lines, then ``lmplz -o {order} --discount_fallback`` on those lines tokenised with
    it, then ``build_binary``. Intermediate files (text, tokenised text, ARPA) stay in a temporary
    folder. ``memory`` is lmplz's ``-S`` (its sorting memory: a share of RAM or a size such as
    "1G"; lmplz allocates all of it at start, so a small one is faster on small inputs).
    Returns ``out``.
    """
    if not 1 <= order <= 6:
        raise ValueError(f"order {order}: the kenlm Python module queries orders 1 to 6")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"llama-data-lm-{lang}-") as tmp:
        tmp = Path(tmp)
        text_file = tmp / f"{lang}.txt"
        with text_file.open("w", encoding="utf-8") as f, progress.bar(
                desc=f"lm {lang}: text", unit="doc", iterable=texts) as documents:
            n_lines = 0
            for line in _normalized_lines(documents):
                f.write(line + "\n")
                n_lines += 1
        if n_lines == 0:
            raise LanguageModelTrainingError(f"no text to train a {lang!r} language model on")

        # The external trainers below are one call each, with no progress of their own to show.
        log.info("lm %s: SentencePiece on %d lines", lang, n_lines)
        sp_model = _train_sentencepiece(text_file, tmp / f"{lang}.sp", vocab_size)
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_model))
        pieces_file = tmp / f"{lang}.sp.txt"
        with text_file.open(encoding="utf-8") as src, \
                pieces_file.open("w", encoding="utf-8") as dst, \
                progress.bar(n_lines, f"lm {lang}: pieces", "line") as shown:
            for line in src:
                dst.write(" ".join(sp.encode(line.rstrip("\n"), out_type=str)) + "\n")
                shown.update()

        arpa = tmp / f"{lang}.arpa"
        log.info("lm %s: KenLM lmplz, order %d", lang, order)
        with pieces_file.open("rb") as src, arpa.open("wb") as dst:
            _run_tool("lmplz", ["-o", str(order), "--discount_fallback", "-S", memory,
                                "-T", str(tmp)], stdin=src, stdout=dst)
        binary = tmp / f"{lang}.arpa.bin"
        log.info("lm %s: KenLM build_binary", lang)
        _run_tool("build_binary", [str(arpa), str(binary)])

        _install(sp_model, out / f"{lang}.sp.model")
        _install(binary, out / f"{lang}.arpa.bin")
    log.info("trained the %s language model (%d lines, %d pieces, order %d) into %s",
             lang, n_lines, sp.get_piece_size(), order, out)
    return out


@dataclasses.dataclass
class ScorePerplexity:
    """Annotate ``meta["perplexity"]`` of documents whose ``lang`` has a model; others pass
    unchanged (``meta.get("perplexity")`` is None)."""

    models: dict[str, LanguageModel]
    name: str = "perplexity"

    @classmethod
    def load(cls, folder: str | Path, langs: Iterable[str]) -> ScorePerplexity:
        return cls({lang: LanguageModel.load(folder, lang) for lang in langs})

    def map(self, doc: Document) -> Document:
        model = self.models.get(doc.lang) if doc.lang is not None else None
        if model is None:
            return doc
        return doc.replace(meta={**doc.meta, "perplexity": model.perplexity(doc.text)})


@dataclasses.dataclass
class Bucket:
    """Annotate ``meta["bucket"]``: "head" (perplexity under the language's first cut-off),
    "middle" (under the second) or "tail"; None without a perplexity or cut-offs for the
    language. Cut-offs belong to the model that scored the documents (see :data:`CCNET_CUTOFFS`).
    """

    cutoffs: dict[str, tuple[float, float]]
    name: str = "perplexity_bucket"

    def bucket_of(self, doc: Document) -> str | None:
        perplexity = doc.meta.get("perplexity")
        cutoffs = self.cutoffs.get(doc.lang) if doc.lang is not None else None
        if perplexity is None or cutoffs is None:
            return None
        head, tail = cutoffs
        if perplexity < head:
            return "head"
        if perplexity < tail:
            return "middle"
        return "tail"

    def map(self, doc: Document) -> Document:
        return doc.replace(meta={**doc.meta, "bucket": self.bucket_of(doc)})


@dataclasses.dataclass(frozen=True)
class KeepBuckets:
    """Keep documents whose ``meta["bucket"]`` is in ``buckets``; drop others as
    ``bucket_<bucket>``, and unbucketed ones as ``no_bucket`` unless ``keep_unscored``."""

    buckets: Collection[str] = ("head", "middle")
    keep_unscored: bool = False
    name: str = "perplexity_bucket"

    def filter(self, doc: Document) -> FilterResult:
        bucket = doc.meta.get("bucket")
        if bucket is None:
            return True if self.keep_unscored else (False, "no_bucket")
        if bucket in self.buckets:
            return True
        return False, f"bucket_{bucket}"
