"""The ``llama-data`` command."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from llama_data import __version__
from llama_data.config import add_dataclass_arguments, from_args, setting
from llama_data.errors import LlamaDataError
from llama_data.mixture import parse_count
from llama_data.models import CATALOG, HOST, MIRROR_ENV
from llama_data.pipelines.config import (
    ArxivConfig,
    BooksConfig,
    C4Config,
    CommonCrawlConfig,
    GitHubConfig,
    StackExchangeConfig,
    WikipediaConfig,
)
from llama_data.quality.perplexity import LM_ORDER, LM_VOCAB_SIZE, LMPLZ_MEMORY
from llama_data.quality.reference import MIN_CHARS, TrainingParams
from llama_data.remote import RETRY

# The settings of the commands whose work is a library function with plain arguments; the
# pipelines', the tokenizer's and the trainer's live beside them (pipelines/config.py,
# tokenizer/train.py, training/config.py).


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig:
    """``llama-data train-lm``."""

    lang: str = setting(help_text="language code, e.g. en")
    input: str = setting(help_text="a release folder's source (R/wikipedia), or a glob of .arrow "
                                   "shards", metavar="SHARDS")
    output: str = setting(help_text="e.g. models/lm/en", metavar="DIR")
    vocab_size: int = setting(LM_VOCAB_SIZE, "SentencePiece pieces (fewer on small corpora)")
    order: int = setting(LM_ORDER, "n-gram order")
    memory: str = setting(LMPLZ_MEMORY, "lmplz's sorting memory: a share of RAM or a size")


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """``llama-data train-classifier``."""

    wikipedia: Sequence[str] = setting(
        help_text="MediaWiki XML dumps, globs or URLs (several, repeatable): where the citations "
                  "are", metavar="DUMPS", nargs="+", action="extend")
    commoncrawl: str = setting(help_text="a release's CommonCrawl shards (R/commoncrawl) or a glob "
                                         "of .arrow", metavar="SHARDS")
    output: str = setting(help_text="e.g. models/ref/en.bin", metavar="MODEL")
    min_chars: int = setting(MIN_CHARS, "shortest cited page used")
    epoch: int = setting(TrainingParams.epoch, "fastText epochs")
    dim: int = setting(TrainingParams.dim, "fastText vector size")
    threads: int = setting(TrainingParams.threads, "fastText threads (1: reproducible)")
    seed: int = setting(TrainingParams.seed, "sampling and training seed")


@dataclasses.dataclass(frozen=True)
class EncodeConfig:
    """``llama-data tokenizer encode``."""

    release: str = setting(help_text="release folder", metavar="R")
    workers: int | None = setting(None, "processes", default_text="all cores")


@dataclasses.dataclass(frozen=True)
class MixConfig:
    """``llama-data mix``."""

    tokens: int = setting(help_text="training tokens, e.g. 1.4T", type=parse_count)
    release: str | None = setting(None, "take available tokens from R's manifest and save "
                                        "R/mixture.json", metavar="R",
                                  default_text="the newest release under the current folder, "
                                               "if any")
    available: Sequence[str] = setting([], "available tokens of a source, overriding the release "
                                           "(repeatable)", metavar="SOURCE=N", action="append",
                                       default_text="none")
    weights: str = setting("table1", "JSON {source: weight} summing to 1, or table1",
                           metavar="FILE|table1")
    renormalize: bool = setting(False, "drop sources the release lacks and rescale the others' "
                                       "weights")
    max_epochs: float = setting(4.0, "warn above this many epochs of a source")
    json: bool = setting(False, "print the plan as JSON")


@dataclasses.dataclass(frozen=True)
class DownloadConfig:
    """``llama-data models download``."""

    name: str = setting(help_text=f"one of: {', '.join(CATALOG)}", flag="name",
                        choices=list(CATALOG), metavar="NAME")
    lang: str | None = setting(None, "the language of an lm model, e.g. en")
    output: str | None = setting(None, "folder for the files", metavar="DIR",
                                 default_text="models, or models/lm for lm")
    mirror: str | None = setting(None, f"a mirror of {HOST} with the same paths", metavar="URL",
                                 default_text=f"${MIRROR_ENV}, else {HOST}")
    retries: int = setting(RETRY.retries, "retries of a failed connection in a row")


@dataclasses.dataclass(frozen=True)
class SourceCommand:
    """``llama-data prepare SOURCE``: its settings, its one-line help, what its job does."""

    config: type
    help: str
    description: str


PREPARE = {
    "wikipedia": SourceCommand(
        WikipediaConfig, help="MediaWiki XML dumps (*-pages-articles*.xml[.bz2|.gz])",
        description="MediaWiki XML export dumps -> article text shards. Keeps namespace-0 "
                    "articles, skips redirects, turns wikitext into plain text."),
    "commoncrawl": SourceCommand(
        CommonCrawlConfig, help="CommonCrawl WET or WARC files (CCNet: line dedup, language ID)",
        description="CommonCrawl WET files (or WARC with HTML, turned into main text) -> CCNet: "
                    "lines that occur more than once in the job removed, fastText language ID. "
                    "A *.paths.gz list (as CommonCrawl publishes) stands for the files it names."),
    "c4": SourceCommand(
        C4Config, help="released C4 JSON lines (exact dedup, language ID), or C4 rebuilt from "
                       "CommonCrawl WET files (--from commoncrawl)",
        description="Released C4 (en, realnewslike, en.noblocklist) JSON lines -> LLaMA's steps: "
                    "exact document dedup over the job (one copy kept), fastText language ID. "
                    "With --from commoncrawl: WET/WARC pages -> C4's rules (TFDS c4_utils), one "
                    "copy of each repeated cleaned line in the job, bad words, language ID."),
    "github": SourceCommand(
        GitHubConfig, help="GitHub repositories (folders, tarballs, zips) or the BigQuery "
                           "github_repos export (licences, file filters, exact file dedup)",
        description="Repositories (folders, .tar[.gz|.bz2|.xz], .zip; the licence from "
                    "LICENSE/COPYING/README by ScanCode's matcher) or the BigQuery github_repos "
                    "export as JSON lines -> LLaMA's GitHub steps: Apache, BSD and MIT licences "
                    "only, RedPajama's file filters (extension list, line length, alphanumeric "
                    "share, alphabetic characters per token), binary, generated and minified "
                    "files dropped, the licence header stripped, one copy of each exact file."),
    "books": SourceCommand(
        BooksConfig, help="Project Gutenberg books and Books3-style collections (book-level "
                          "near-duplicate removal)",
        description="Project Gutenberg plain-text books (header and footer boilerplate removed) "
                    "and Books3-style collections (tarballs or folders of .txt, or The Pile's "
                    "JSON lines) -> whole books; a book whose 5-word shingles are at least "
                    "--overlap (90%) inside a longer one is removed (MinHash LSH candidates, "
                    "verified exactly), and the clusters are listed in the manifest."),
    "arxiv": SourceCommand(
        ArxivConfig, help="arXiv LaTeX sources: bulk arXiv_src_*.tar archives or paper folders",
        description="arXiv's bulk source archives (a tar of per-paper .gz files) or paper "
                    "folders and archives -> one document per paper: its main file with its "
                    "inputs inlined, comments removed, user macros expanded, everything before "
                    "the first section and from the bibliography on removed, the maths kept as "
                    "LaTeX."),
    "stackexchange": SourceCommand(
        StackExchangeConfig, help="StackExchange dump: per-site .7z archives or Posts.xml "
                                  "(questions with their answers by score)",
        description="The Internet Archive's StackExchange dump (per-site .7z archives, read as "
                    "a stream, or extracted Posts.xml) -> one document per question: title, "
                    "question, then its answers sorted by score (highest first), HTML turned "
                    "into text. The 28 largest sites of the inputs unless --sites says which."),
}


def _add_prepare(commands) -> None:
    prepare = commands.add_parser(
        "prepare", help="clean one source's raw dumps into Arrow shards (an Apache Beam pipeline)",
        description="Run one source's Beam pipeline. Unknown --options are Beam pipeline options "
                    "(e.g. --runner DataflowRunner --project P --region R --temp_location gs://B/tmp); "
                    "without --runner it runs locally on all cores.")
    sources = prepare.add_subparsers(dest="source", required=True, metavar="SOURCE")
    for name, command in PREPARE.items():
        parser = sources.add_parser(name, help=command.help,
                                    description=f"{command.description} Extra --options go to Beam.")
        add_dataclass_arguments(parser, command.config)


def _prepare(args, beam_args: Sequence[str]) -> int:
    import importlib

    from llama_data import manifest
    from llama_data.io import expand_inputs

    config = from_args(PREPARE[args.source].config, args)
    pipeline = importlib.import_module(f"llama_data.pipelines.{args.source}")
    if args.source == "wikipedia":
        from llama_data.sources.wikipedia import read_dump_info

        inputs = expand_inputs(config.input)
        for path in inputs:  # refuse a wrong language before starting a long job
            read_dump_info(path, config.languages)
        pipeline.run(config, beam_args, inputs)
    else:
        pipeline.run(config, beam_args)
    print(manifest.render(config.output, manifest.load(config.output)))
    return 0


def _add_train_lm(commands) -> None:
    lm = commands.add_parser(
        "train-lm", help="train a language's SentencePiece + KenLM model (CCNet's perplexity)",
        description="Train {lang}.sp.model (SentencePiece unigram) and {lang}.arpa.bin (KenLM "
                    "5-gram) as CCNet's Makefile does, on a release's text shards of that "
                    "language (CCNet trained on Wikipedia).")
    add_dataclass_arguments(lm, LanguageModelConfig)


def _train_lm(args, _beam_args) -> int:
    from llama_data.quality.perplexity import train_language_model
    from llama_data.shards import read_shard

    config = from_args(LanguageModelConfig, args)
    texts = (doc.text for shard in _shards(config.input) for doc in read_shard(shard)
             if doc.lang == config.lang)
    out = train_language_model(texts, config.lang, config.output, config.vocab_size,
                               config.order, config.memory)
    print(f"{out / f'{config.lang}.sp.model'} and {out / f'{config.lang}.arpa.bin'} written")
    return 0


def _add_train_classifier(commands) -> None:
    ref = commands.add_parser(
        "train-classifier", help="train LLaMA's Wikipedia-reference classifier (fastText)",
        description="Train a linear fastText classifier of CommonCrawl pages cited as references "
                    "in Wikipedia (URLs inside <ref> tags of the dumps, matched to the release's "
                    "CommonCrawl pages) against as many random pages of the same perplexity "
                    "buckets. Writes MODEL and MODEL's .json report (counts, held-out AUC).")
    add_dataclass_arguments(ref, ClassifierConfig)


def _train_classifier(args, _beam_args) -> int:
    from llama_data.io import expand_inputs
    from llama_data.quality import reference

    config = from_args(ClassifierConfig, args)
    params = TrainingParams(epoch=config.epoch, dim=config.dim, threads=config.threads,
                            seed=config.seed)
    report = reference.train_from_release(expand_inputs(config.wikipedia),
                                          _shards(config.commoncrawl), config.output, params,
                                          config.min_chars)
    counts = report["examples"]
    print(f"{config.output} written: {counts['cited_urls']} URLs cited in <ref> tags, "
          f"{counts['positives']} cited pages, {counts['negatives']} random pages; held-out AUC "
          f"{report.get('held_out_auc', 'n/a')} (report: {Path(config.output).with_suffix('.json')})")
    return 0


def _shards(pattern: str) -> list[str]:
    """A release's source folder or a glob -> its .arrow shards."""
    from llama_data.io import expand_inputs

    return expand_inputs([f"{pattern.rstrip('/')}/*.arrow" if Path(pattern).is_dir() else pattern])


def _add_tokenizer(commands) -> None:
    from llama_data.tokenizer.train import TokenizerConfig

    tokenizer = commands.add_parser(
        "tokenizer", help="train the release's SentencePiece tokenizer; encode its shards")
    actions = tokenizer.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train", help="train a BPE tokenizer with LLaMA's spec on a weighted sample",
        description="Train R/tokenizer/tokenizer.model: SentencePiece BPE with the original LLaMA "
                    "tokenizer's trainer and normaliser spec (digits split, byte fallback), on a "
                    "seeded sample of the release's sources in proportion to the mixture weights.")
    add_dataclass_arguments(train, TokenizerConfig)
    encode = actions.add_parser(
        "encode", help="encode every text shard into uint16 token shards (resumable)",
        description="Encode the release's text shards into tokens/<source>/*.tokens.npy with "
                    "<s> ... </s> around each document, in parallel, skipping shards already done.")
    add_dataclass_arguments(encode, EncodeConfig)


def _tokenizer(args, _beam_args) -> int:
    from llama_data import mixture
    from llama_data.tokenizer import encode, train

    if args.action == "encode":
        config = from_args(EncodeConfig, args)
        encode.encode_release(config.release, config.workers)
        return 0
    config = from_args(train.TokenizerConfig, args)
    weights = mixture.load_weights(config.weights) if config.weights else \
        mixture.release_weights(config.release)
    train.train(config.release, weights, config.vocab_size, config.sample_size, config.seed,
                config.threads)
    return 0


def _add_mix(commands) -> None:
    mix = commands.add_parser(
        "mix", help="plan the mixture: tokens, share and epochs per source",
        description="Plan how many tokens each source contributes to a training run and how many "
                    "epochs of it that means (the LLaMA paper's Table 1 by default). Counts take "
                    "K, M, B, T suffixes.")
    add_dataclass_arguments(mix, MixConfig)


def _mix(args, _beam_args) -> int:
    import json

    from llama_data import mixture

    config = from_args(MixConfig, args)
    overrides = {}
    for item in config.available:
        source, _, count = item.partition("=")
        if not count:
            raise mixture.MixtureError(f"--available {item!r}: expected SOURCE=N, e.g. wikipedia=24B")
        try:
            overrides[source.strip()] = mixture.parse_count(count)
        except ValueError as e:
            raise mixture.MixtureError(f"--available {item!r}: {e}") from e
    plan = mixture.plan_for(config.tokens, mixture.load_weights(config.weights), config.release,
                            overrides, max_epochs=config.max_epochs,
                            renormalize=config.renormalize)
    print(json.dumps(plan.to_json(), indent=2) if config.json else mixture.render(plan))
    return 0


def _add_training(commands) -> None:
    from llama_data.training.config import GenerateConfig, TrainConfig

    train = commands.add_parser(
        "train", help="train a small LLaMA on the release's mixture (validates a release)",
        description="Train a LLaMA-architecture model on R's token shards, weighted by "
                    "R/mixture.json: AdamW (0.9, 0.95, weight decay 0.1), cosine to 10%, clip 1.0. "
                    "Prints step, loss, tokens/s, MFU (known GPUs), ETA; evaluates validation loss and "
                    "bits per byte per source. Run it under torchrun for several processes (FSDP2).")
    add_dataclass_arguments(train, TrainConfig)
    train.add_argument("--resume", action="store_true", help="continue RUN from its checkpoint")
    export = commands.add_parser(
        "export", help="export a run's model and tokenizer (Hugging Face format)")
    export.add_argument("run", metavar="RUN")
    export.add_argument("--format", choices=["hf"], default="hf")
    export.add_argument("--output", required=True, metavar="DIR")
    add_dataclass_arguments(commands.add_parser(
        "generate", help="continue a prompt with a run's model (greedy or top-p, KV cache)",
        description="Load RUN's model and tokenizer and print TEXT with its continuation: the "
                    "likeliest token at each step (temperature 0) or a sample from the likeliest "
                    "tokens whose probabilities sum to P; it stops at </s>."), GenerateConfig)
    compare = commands.add_parser(
        "compare", help="per-source validation bits per byte of runs, side by side")
    compare.add_argument("runs", nargs="+", metavar="RUN")
    compare.add_argument("--plot", default="compare.png", metavar="PNG",
                         help="bar chart to write (default: %(default)s)")


def _train(args, _beam_args) -> int:
    from llama_data.training.config import TrainConfig
    from llama_data.training.train import train

    config = from_args(TrainConfig, args)
    train(config, resume=args.resume)
    print(f"run written to {config.output}: metrics.jsonl, metrics.csv, loss.png, checkpoints/")
    return 0


def _export(args, _beam_args) -> int:
    from llama_data.training.checkpoint import load_model
    from llama_data.training.export import export_hf

    model, config, tokenizer_model = load_model(Path(args.run))
    export_hf(model, config, tokenizer_model, args.output)
    print(f"Hugging Face model and tokenizer written to {args.output}")
    return 0


def _generate(args, _beam_args) -> int:
    from llama_data.tokenizer import model as sp_model
    from llama_data.training.checkpoint import load_model
    from llama_data.training.config import GenerateConfig
    from llama_data.training.generate import generate

    config = from_args(GenerateConfig, args)
    model, _, tokenizer_model = load_model(Path(config.run))
    tokenizer = sp_model.load(tokenizer_model)
    prompt = [tokenizer.bos_id(), *tokenizer.encode(config.prompt)]
    new = generate(model, prompt, config.max_new_tokens, tokenizer.eos_id(), config.temperature,
                   config.top_p, config.seed)
    print(tokenizer.decode(prompt[1:] + new))
    return 0


def _compare(args, _beam_args) -> int:
    from llama_data.training.metrics import compare

    print(compare([Path(r) for r in args.runs], Path(args.plot)))
    return 0


def _add_ablate(commands) -> None:
    from llama_data.training.config import AblateConfig

    add_dataclass_arguments(commands.add_parser(
        "ablate", help="train the same model on each release; compare them on one held-out set",
        description="For each release and seed, train the same model on the release's mixture "
                    "(runs already done are reused), then score every run in bits per byte per "
                    "source on the union of the releases' validation documents, each release "
                    "through its own tokenizer. Prints the table; writes a plot and JSON."),
        AblateConfig)


def _ablate(args, _beam_args) -> int:
    from llama_data.training.ablate import ablate, render
    from llama_data.training.config import AblateConfig

    print(render(ablate(from_args(AblateConfig, args))))
    return 0


def _add_models(commands) -> None:
    from llama_data.models import render_catalog

    models = commands.add_parser(
        "models", help="download the published models (fastText lid.176, CCNet's perplexity "
                       "models), checked by sha256")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="what can be downloaded: files, sizes, checks, where from")
    download = actions.add_parser(
        "download", help="download a model, verified by sha256, resuming an interrupted download",
        description="Download a model into DIR. Each file is checked against its published sha256, "
                    "else against the one its first download pinned in FILE.sha256 (with a "
                    "warning that it could not be verified). An interrupted download resumes "
                    "from FILE.partial; dropped connections are retried.",
        epilog=render_catalog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_arguments(download, DownloadConfig)


def _models(args, _beam_args) -> int:
    from llama_data import models
    from llama_data.remote import Retry
    from llama_data.units import format_size

    if args.action == "list":
        print(models.render_catalog())
        return 0
    config = from_args(DownloadConfig, args)
    if (config.name == "lm") != (config.lang is not None):
        raise LlamaDataError("--lang goes with lm, and lm needs it (e.g. --lang en)")
    files = models.fetch(config.name, config.lang, config.output, config.mirror,
                         Retry(retries=config.retries))
    checks = {"published": "sha256 matches the published value",
              "pinned": "sha256 matches the one pinned by its first download",
              "none": "sha256 not verified (none published), now pinned"}
    for file in files:
        state = "downloaded" if file.downloaded else "already there"
        print(f"{file.path}: {state}, {format_size(file.path.stat().st_size)}, "
              f"{checks[file.check]}")
    option = models.CATALOG[config.name].option
    target = files[0].path if option == "--lid-model" else files[0].path.parent
    languages = f" --languages {config.lang}" if config.lang else ""
    print(f"use it: llama-data prepare commoncrawl {option} {target}{languages} ...")
    return 0


def _add_release(commands) -> None:
    from llama_data.build import ReleaseConfig

    actions = commands.add_parser(
        "release", help="build a whole release from a recipe (TOML), resuming and skipping "
                        "what has not changed").add_subparsers(dest="action", required=True)
    add_dataclass_arguments(actions.add_parser("build", help="run the stages that must run"),
                            ReleaseConfig)
    add_dataclass_arguments(actions.add_parser("plan", help="what would run and why"),
                            ReleaseConfig)


def _release(args, beam_args) -> int:
    from llama_data import build, recipe

    config = from_args(build.ReleaseConfig, args, quiet=args.quiet)
    loaded = recipe.load(build.recipe_file(config.recipe), config.output)
    if args.action == "plan":
        print(build.render_plan(build.plan(loaded)))
    else:
        build.build(loaded, beam_args, config.quiet)
    return 0


def _add_card(commands) -> None:
    from llama_data.card import CardConfig

    add_dataclass_arguments(commands.add_parser(
        "card", help="write the release's data card: R/CARD.md and a self-contained R/card.html"),
        CardConfig)


def _card(args, _beam_args) -> int:
    from llama_data.card import CardConfig, write_card

    config = from_args(CardConfig, args)
    print(*write_card(config.release, config.seed, config.scan), sep="\n")
    return 0


def _inspect(args, _beam_args) -> int:
    from llama_data import look, manifest

    print(manifest.render(args.release, manifest.load(args.release))
          + look.render_extras(args.release))
    return 0


def _add_look(commands) -> None:
    from llama_data.look import DiffConfig, SampleConfig

    add_dataclass_arguments(commands.add_parser(
        "diff", help="compare two releases: documents, tokens, funnel and config per source, "
                     "ids in common, recipe"), DiffConfig)
    add_dataclass_arguments(commands.add_parser(
        "sample", help="print a few documents of a source (seeded), or of its rejects"),
        SampleConfig)


def _diff(args, _beam_args) -> int:
    import json

    from llama_data import look

    config = from_args(look.DiffConfig, args)
    result = look.diff(config.first, config.second)
    print(json.dumps(result, indent=2, ensure_ascii=False) if config.json
          else look.render_diff(result))
    return 0


def _sample(args, _beam_args) -> int:
    from llama_data import look

    c = from_args(look.SampleConfig, args)
    docs = look.sample(c.release, c.source, c.n, c.rejected, c.reason, c.seed)
    print(look.render_sample(docs, c.chars) if docs else f"{c.source}: no documents")
    return 0


def _demo(args, beam_args) -> int:
    from llama_data.demo import run_demo

    run_demo(args.output, beam_args)
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="llama-data",
        description="LLaMA-style pretraining data from the raw public dumps: Beam pipelines -> "
                    "Arrow shards + manifest -> tokenizer -> mixture -> a small model.")
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    main.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_prepare(commands)
    _add_train_lm(commands)
    _add_train_classifier(commands)
    _add_tokenizer(commands)
    _add_mix(commands)
    _add_training(commands)
    _add_ablate(commands)
    _add_models(commands)
    _add_release(commands)
    _add_card(commands)
    _add_look(commands)
    inspect = commands.add_parser("inspect", help="print a release's manifest as tables")
    inspect.add_argument("release", metavar="RELEASE")
    demo = commands.add_parser("demo", help="run every stage on the built-in sample")
    demo.add_argument("--output", default="demo-release", metavar="DIR",
                      help="release folder to write (default: %(default)s)")
    return main


def _quiet_beam_import(record: logging.LogRecord) -> bool:
    """Beam warns at import that Google Cloud's optional client libraries are absent."""
    return not record.getMessage().startswith("apitools not found")


HANDLERS = {"prepare": _prepare, "train-lm": _train_lm, "train-classifier": _train_classifier,
            "tokenizer": _tokenizer, "mix": _mix, "train": _train, "export": _export,
            "generate": _generate, "compare": _compare, "ablate": _ablate, "inspect": _inspect,
            "demo": _demo, "models": _models, "release": _release, "card": _card, "diff": _diff,
            "sample": _sample}
ACCEPTS_BEAM_OPTIONS = {"prepare", "demo", "release"}


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args, extra = cli.parse_known_args(argv)
    if extra and (args.command not in ACCEPTS_BEAM_OPTIONS or not extra[0].startswith("--")):
        cli.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:%(name)s:%(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_beam_import)
    logging.getLogger("llama_data").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return HANDLERS[args.command](args, extra)
    except LlamaDataError as e:
        print(f"llama-data: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llama-data: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
