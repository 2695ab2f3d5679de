"""LLaMA's Wikipedia-reference classifier: a linear fastText model of "pages cited as references in
Wikipedia" against random CommonCrawl pages; pages it finds unlike references are discarded.

Training examples (:func:`select_examples`): the positives are CommonCrawl pages whose URL is cited
inside a ``<ref>`` of the Wikipedia dumps (URLs compared after :func:`normalize_url`), at least
``min_chars`` long, each text once; the negatives are as many other pages drawn at random (seeded)
from the same perplexity buckets, so that the classifier learns "reference-like", not "head bucket".
Texts are CCNet-normalised (:func:`classifier_text`) both for training and for scoring.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import heapq
import json
import logging
import multiprocessing
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from llama_data import progress
from llama_data.document import Document
from llama_data.errors import LlamaDataError
from llama_data.filters import FilterResult
from llama_data.hashing import sha1_int
from llama_data.io import atomic_path
from llama_data.text.ccnet import normalize_text

log = logging.getLogger("llama_data.quality.reference")

REF_THRESHOLD = 0.25  # RedPajama's: pages scoring under it are dropped
MIN_CHARS = 1000
POSITIVE, NEGATIVE = "__label__wikiref", "__label__random"


class ClassifierNotFound(LlamaDataError):
    """A reference-classifier model file that is not there (or not such a model)."""


class NotEnoughExamples(LlamaDataError):
    """Too few cited pages (or random pages) to train the reference classifier on."""


def normalize_url(url: str) -> str:
    """The form in which a cited URL and a crawled URL are compared: scheme and host lower-cased,
    ``www.`` and default ports dropped, no fragment, no trailing slash; ``http`` and ``https`` equal."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    return urlunsplit(("http", host, parts.path.rstrip("/") or "/", parts.query, ""))


def classifier_text(text: str) -> str:
    """One line of CCNet-normalised words (fastText reads one example per line)."""
    return normalize_text(text)


class ReferenceClassifier:
    """``predict(texts) -> [probability of being reference-like]`` with a trained fastText model."""

    def __init__(self, path: str | Path):
        import fasttext

        self.path = Path(path)
        if not self.path.is_file():
            raise ClassifierNotFound(f"{self.path}: no such reference-classifier model (train "
                                     "one with `llama-data train-classifier`)")
        self.model = fasttext.load_model(str(self.path))
        if POSITIVE not in self.model.get_labels():
            raise ClassifierNotFound(f"{self.path}: not a reference classifier (labels "
                                     f"{self.model.get_labels()}, expected {POSITIVE})")

    def predict(self, texts: Sequence[str]) -> list[float]:
        labels, probs = self.model.predict([classifier_text(t) for t in texts], k=2)
        return [float(dict(zip(ls, ps)).get(POSITIVE, 0.0)) for ls, ps in zip(labels, probs)]


@dataclasses.dataclass
class ScoreReference:
    """Annotate ``meta["ref_score"]``: how much the page reads like a Wikipedia reference."""

    classifier: ReferenceClassifier
    name: str = "reference_classifier"

    def map(self, doc: Document) -> Document:
        score, = self.classifier.predict([doc.text])
        return doc.replace(meta={**doc.meta, "ref_score": round(score, 4)})


@dataclasses.dataclass(frozen=True)
class KeepReferences:
    """Keep pages whose ``ref_score`` reaches ``threshold``."""

    threshold: float = REF_THRESHOLD
    name: str = "reference_classifier"

    def filter(self, doc: Document) -> FilterResult:
        if doc.meta.get("ref_score", 0.0) < self.threshold:
            return False, "low_score"
        return True


@dataclasses.dataclass
class Examples:
    positives: list[str]
    negatives: list[str]
    stats: dict[str, int]


def _rank(seed: int, key: str) -> int:
    return sha1_int(f"{seed}:{key}")


def select_examples(cited: set[str], docs: Callable[[], Iterable[Document]], seed: int = 0,
                    min_chars: int = MIN_CHARS) -> Examples:
    """Positives and negatives from two passes over ``docs`` (a CommonCrawl release's shards).

    ``cited`` holds normalised URLs. A positive's bucket (``meta["bucket"]``, None when unbucketed)
    is matched by a negative's: per bucket, the pages with the smallest seeded hash of their id.
    """
    positives: dict[int, tuple[str, str | None]] = {}
    stats: Counter[str] = Counter(pages=0, cited_pages=0, cited_too_short=0)
    for doc in docs():
        stats["pages"] += 1
        if doc.url is None or normalize_url(doc.url) not in cited:
            continue
        stats["cited_pages"] += 1
        if len(doc.text) < min_chars:
            stats["cited_too_short"] += 1
            continue
        positives.setdefault(sha1_int(doc.text, 20),
                             (doc.text, doc.meta.get("bucket")))
    stats["cited_duplicates"] = stats["cited_pages"] - stats["cited_too_short"] - len(positives)
    wanted = Counter(bucket for _, bucket in positives.values())
    heaps: dict[str | None, list[tuple[int, str]]] = {bucket: [] for bucket in wanted}
    for doc in docs():
        bucket = doc.meta.get("bucket")
        heap = heaps.get(bucket)
        if heap is None:
            continue
        # a heap of negated ranks: its top is the largest rank kept, so the smallest ranks stay
        entry = (-_rank(seed, doc.id), doc.text)
        full = len(heap) >= wanted[bucket]
        if full and entry <= heap[0]:
            continue
        if sha1_int(doc.text, 20) in positives:  # only pages that would enter
            continue
        if full:
            heapq.heapreplace(heap, entry)
        else:
            heapq.heappush(heap, entry)
    negatives = [text for bucket in sorted(heaps, key=str) for _, text in sorted(heaps[bucket])]
    return Examples([text for text, _ in positives.values()], negatives,
                    {**stats, "positives": len(positives), "negatives": len(negatives)})


def roc_auc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """The probability that a random positive scores above a random negative (ties count half)."""
    scored = sorted([(s, 1) for s in positive_scores] + [(s, 0) for s in negative_scores])
    rank_sum, i = 0.0, 0
    while i < len(scored):  # average ranks over ties
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(label for _, label in scored[i:j])
        i = j
    n_pos, n_neg = len(positive_scores), len(negative_scores)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@dataclasses.dataclass(frozen=True)
class TrainingParams:
    """fastText supervised settings: a bag of words and bigrams, hashed into ``bucket`` rows."""

    epoch: int = 10
    lr: float = 0.2
    dim: int = 32
    word_ngrams: int = 2
    bucket: int = 2**20
    threads: int = 1  # one thread: the same examples always give the same model
    seed: int = 0
    holdout: float = 0.1


def _fit(train_file: str, model_path: str, params: TrainingParams) -> None:
    import fasttext

    model = fasttext.train_supervised(
        input=train_file, epoch=params.epoch, lr=params.lr, dim=params.dim,
        wordNgrams=params.word_ngrams, bucket=params.bucket, thread=params.threads,
        seed=params.seed, minCount=1, loss="softmax", verbose=0)
    model.save_model(model_path)


def train_reference_classifier(examples: Examples, output: str | Path,
                               params: TrainingParams = TrainingParams(),
                               min_examples: int = 10) -> dict:
    """Train on ``examples`` minus a held-out share, write the model to ``output`` (atomically)
    and a report beside it (``.json``: counts, parameters, held-out AUC); returns the report."""
    for what, texts in (("cited pages", examples.positives), ("random pages", examples.negatives)):
        if len(texts) < min_examples:
            raise NotEnoughExamples(
                f"only {len(texts)} {what} to train on (at least {min_examples} needed): give "
                "more Wikipedia dumps or more CommonCrawl pages")
    labelled = [(POSITIVE, t) for t in examples.positives] + [(NEGATIVE, t) for t in examples.negatives]
    labelled.sort(key=lambda lt: _rank(params.seed, lt[1]))
    held = int(len(labelled) * params.holdout)
    held_out, train = labelled[:held], labelled[held:]
    random.Random(params.seed).shuffle(train)  # fastText learns in file order
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llama-data-ref-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w", encoding="utf-8") as f:
            f.writelines(f"{label} {classifier_text(text)}\n" for label, text in train)
        log.info("reference: fastText on %d examples, %d epochs", len(train), params.epoch)
        with atomic_path(output) as tmp_model:
            # fastText (fasttext-numpy2 0.10.4) can diverge to NaN when it trains a second
            # model in one process on this kind of data: each training gets a fresh process.
            spawn = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
                pool.submit(_fit, train_file, str(tmp_model), params).result()
    report = {"examples": examples.stats, "train": len(train), "held_out": len(held_out),
              "params": dataclasses.asdict(params), "default_threshold": REF_THRESHOLD}
    if held_out:
        scores = ReferenceClassifier(output).predict([t for _, t in held_out])
        pos = [s for s, (label, _) in zip(scores, held_out) if label == POSITIVE]
        neg = [s for s, (label, _) in zip(scores, held_out) if label == NEGATIVE]
        if pos and neg:
            report["held_out_auc"] = round(roc_auc(pos, neg), 4)
        report["held_out_kept_at_threshold"] = {
            "cited": sum(s >= REF_THRESHOLD for s in pos), "cited_total": len(pos),
            "random": sum(s >= REF_THRESHOLD for s in neg), "random_total": len(neg)}
    with atomic_path(output.with_suffix(".json")) as tmp_report:
        tmp_report.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def train_from_release(dumps: Sequence[str], shards: Sequence[str], output: str | Path,
                       params: TrainingParams = TrainingParams(), min_chars: int = MIN_CHARS,
                       min_examples: int = 10) -> dict:
    """The whole recipe: URLs cited in the Wikipedia ``dumps``, matched to the pages of a
    CommonCrawl release's ``shards``; returns the report (``cited_urls`` added to its counts)."""
    from llama_data.shards import read_shard
    from llama_data.sources.wikipedia import cited_urls

    cited = {normalize_url(url)
             for dump in progress.bar(len(dumps), "reference: citations", "dump", iterable=dumps)
             for url in cited_urls([dump])}

    def pages() -> Iterator[Document]:  # a bar for each of select_examples' two passes
        for shard in progress.bar(len(shards), "reference: pages", "shard", iterable=shards):
            yield from read_shard(shard)

    examples = select_examples(cited, pages, params.seed, min_chars)
    examples.stats["cited_urls"] = len(cited)
    return train_reference_classifier(examples, output, params, min_examples)
