"""What each stage of a recipe build does: the library calls the commands make, with the
recipe's settings (the order and the skipping are :mod:`llama_data.build`'s)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from pathlib import Path

from llama_data import manifest as manifest_lib
from llama_data import mixture
from llama_data.recipe import TOKENS, Recipe, run_folder, train_config

POOL = "ref-pages"  # under R/models: CommonCrawl pages of every bucket, the classifier's examples


def run(stage: str, recipe: Recipe, beam_args: Sequence[str], quiet: bool) -> None:
    if stage.startswith("lm-"):
        _language_model(recipe, stage.removeprefix("lm-"))
    elif stage in recipe.sources:
        _source(recipe, stage, beam_args, quiet)
    else:
        {"reference": _reference, "tokenizer": _tokenizer, "encode": _encode, "mix": _mix,
         "validation": _validation}[stage](recipe, beam_args, quiet)


def models_dir(recipe: Recipe) -> Path:
    return Path(recipe.release) / "models"


def commoncrawl_config(recipe: Recipe):
    """The CommonCrawl source's settings with the recipe's models (unless it names its own)."""
    config = recipe.sources["commoncrawl"].config
    changes = {}
    if recipe.lm and config.lm_dir is None:
        changes["lm_dir"] = str(models_dir(recipe) / "lm")
    if recipe.reference and config.ref_model is None:
        changes["ref_model"] = str(models_dir(recipe) / "ref" / f"{recipe.reference.lang}.bin")
    return dataclasses.replace(config, **changes)


def _source(recipe: Recipe, name: str, beam_args: Sequence[str], quiet: bool) -> None:
    config = commoncrawl_config(recipe) if name == "commoncrawl" else recipe.sources[name].config
    importlib.import_module(f"llama_data.pipelines.{name}").run(config, beam_args)
    if not quiet:
        print(manifest_lib.render(recipe.release, manifest_lib.load(recipe.release)))


def _language_model(recipe: Recipe, lang: str) -> None:
    from llama_data import models
    from llama_data.quality.perplexity import train_language_model
    from llama_data.shards import read_shard

    lm, out = recipe.lm[lang], models_dir(recipe) / "lm"
    if lm.download:
        models.fetch("lm", lang, out)
        return
    entry = manifest_lib.load(recipe.release).sources["wikipedia"]
    texts = (doc.text for shard in entry.shards
             for doc in read_shard(entry.shard_path(recipe.release, "wikipedia", shard))
             if doc.lang == lang)
    train_language_model(texts, lang, out, lm.vocab_size, lm.order, lm.memory)


def _reference(recipe: Recipe, beam_args: Sequence[str], quiet: bool) -> None:
    from llama_data.pipelines import commoncrawl
    from llama_data.quality import reference

    ref = recipe.reference
    pool = models_dir(recipe) / POOL
    cc = dataclasses.replace(commoncrawl_config(recipe), output=str(pool), ref_model=None,
                             buckets=("head", "middle", "tail"))
    commoncrawl.run(cc, beam_args)
    params = reference.TrainingParams(**{f.name: getattr(ref, f.name)
                                         for f in dataclasses.fields(reference.TrainingParams)})
    report = reference.train_from_release(
        recipe.sources["wikipedia"].config.input,
        [str(p) for p in sorted((pool / "commoncrawl").glob("*.arrow"))],
        models_dir(recipe) / "ref" / f"{ref.lang}.bin", params, ref.min_chars, ref.min_examples)
    counts = report["examples"]
    if not quiet:
        print(f"{counts['cited_urls']} URLs cited, {counts['positives']} cited pages, "
              f"{counts['negatives']} random pages; held-out AUC "
              f"{report.get('held_out_auc', 'n/a')}")


def _tokenizer(recipe: Recipe, _beam_args: Sequence[str], _quiet: bool) -> None:
    from llama_data.tokenizer import train

    t = recipe.tokenizer
    train.train(recipe.release, _weights(recipe, t.weights), t.vocab_size, t.sample_size, t.seed,
                t.threads)


def _weights(recipe: Recipe, weights) -> dict[str, float]:
    if weights == TOKENS:
        tokens = {s: e.tokens["tokens"]
                  for s, e in manifest_lib.load(recipe.release).sources.items() if e.tokens}
        return {s: n / sum(tokens.values()) for s, n in tokens.items()}
    return mixture.load_weights(weights) if isinstance(weights, str) else dict(weights)


def _encode(recipe: Recipe, _beam_args: Sequence[str], _quiet: bool) -> None:
    from llama_data.tokenizer import encode

    encode.encode_release(recipe.release)


def _mix(recipe: Recipe, _beam_args: Sequence[str], quiet: bool) -> None:
    m = recipe.mixture
    plan = mixture.plan_for(m.tokens, _weights(recipe, m.weights), recipe.release, {},
                            max_epochs=m.max_epochs, renormalize=m.renormalize)
    if not quiet:
        print(mixture.render(plan))


def _validation(recipe: Recipe, _beam_args: Sequence[str], quiet: bool) -> None:
    from llama_data.training import metrics
    from llama_data.training.train import train

    train(train_config(recipe, mixture.load_plan(recipe.release).total_tokens))
    if quiet:
        return
    records = [r for r in metrics.read(Path(run_folder(recipe))) if r.get("val")]
    print("\nvalidation bits per byte, per source (lower is better)")
    print(f"{'source':<16}{'start':>10}{'end':>10}")
    for source in sorted(recipe.sources):
        if source not in records[0]["val"]:
            print(f"{source:<16}{'(too few documents to hold any out)':>20}")
            continue
        start, end = records[0]["val"][source]["bpb"], records[-1]["val"][source]["bpb"]
        print(f"{source:<16}{start:>10.3f}{end:>10.3f}")
