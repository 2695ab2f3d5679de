"""The ``llama-data`` command."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from llama_data import __version__
from llama_data.errors import LlamaDataError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.I)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def byte_size(text: str) -> int:
    """``"256MB"``, ``"1.5G"``, ``"4096"`` -> bytes (binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 256MB, 1G, 65536)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def languages(text: str) -> list[str] | None:
    """``"en,de fr"`` -> ``["de", "en", "fr"]``; ``"all"`` -> None (any language)."""
    if text.strip().lower() == "all":
        return None
    return sorted({code for code in re.split(r"[,\s]+", text.strip()) if code})


def _source_parser(sources, name: str, help_: str, description: str, inputs: str):
    """A ``prepare SOURCE`` parser with the options every source shares."""
    from llama_data.shards import DEFAULT_SHARD_BYTES

    parser = sources.add_parser(name, help=help_,
                                description=description + " Extra --options go to Beam.")
    parser.add_argument("--input", action="append", required=True, metavar=inputs,
                        help="file, glob or fsspec URL (repeatable)")
    parser.add_argument("--output", required=True, metavar="RELEASE", help="release folder")
    parser.add_argument("--shard-size", type=byte_size, default=DEFAULT_SHARD_BYTES,
                        help="largest shard, in bytes of text (default 256MB)")
    parser.add_argument("--num-shards", type=int, default=None,
                        help="hash buckets of documents (default: from the input size)")
    parser.add_argument("--keep-rejects", action="store_true",
                        help="also write dropped documents, with their reason, to RELEASE/rejects/")
    return parser


def _add_prepare(commands) -> None:
    from llama_data.quality.langid import CCNET_THRESHOLD
    from llama_data.quality.reference import REF_THRESHOLD
    from llama_data.sources.wikipedia import PAPER_LANGUAGES

    prepare = commands.add_parser(
        "prepare", help="clean one source's raw dumps into Arrow shards (an Apache Beam pipeline)",
        description="Run one source's Beam pipeline. Unknown --options are Beam pipeline options "
                    "(e.g. --runner DataflowRunner --project P --region R --temp_location gs://B/tmp); "
                    "without --runner it runs locally on all cores.")
    sources = prepare.add_subparsers(dest="source", required=True, metavar="SOURCE")
    wiki = _source_parser(
        sources, "wikipedia", "MediaWiki XML dumps (*-pages-articles*.xml[.bz2|.gz])",
        "MediaWiki XML export dumps -> article text shards. Keeps namespace-0 articles, skips "
        "redirects, turns wikitext into plain text.", "DUMPS")
    wiki.add_argument("--languages", type=languages, default=list(PAPER_LANGUAGES),
                      help="languages to accept, comma-separated, or 'all' "
                           "(default: the paper's 20: %(default)s)")
    wiki.add_argument("--min-words", type=int, default=20,
                      help="drop articles with fewer words after cleaning (default %(default)s)")
    cc = _source_parser(
        sources, "commoncrawl", "CommonCrawl WET or WARC files (CCNet: line dedup, language ID)",
        "CommonCrawl WET files (or WARC with HTML, turned into main text) -> CCNet: lines that "
        "occur more than once in the job removed, fastText language ID. A *.paths.gz list (as "
        "CommonCrawl publishes) stands for the files it names.", "WET")
    cc.add_argument("--format", choices=["auto", "wet", "warc"], default="auto")
    cc.add_argument("--languages", type=languages, default=["en"],
                    help="languages to keep, comma-separated, or 'all' (default: en, as LLaMA)")
    cc.add_argument("--lang-threshold", type=float, default=CCNET_THRESHOLD,
                    help="lowest language score kept (default %(default)s, CCNet's)")
    cc.add_argument("--dedup-keep", choices=["none", "first"], default="none",
                    help="a repeated line: removed everywhere (none, CCNet's rule) or kept once "
                         "(first, the TFDS C4 way)")
    cc.add_argument("--dedup-scope", default="job", metavar="job|groups:N",
                    help="where a line counts as repeated: the whole job (default), or, as "
                         "CCNet, groups of N consecutive input files")
    cc.add_argument("--lid-model", default=None, metavar="PATH",
                    help="fastText language-ID model (default: lid.176.ftz)")
    cc.add_argument("--base-url", default="https://data.commoncrawl.org/",
                    help="prefix of the relative paths in a *.paths.gz list")
    cc.add_argument("--lm-dir", default=None, metavar="DIR",
                    help="folder of {lang}.sp.model + {lang}.arpa.bin (llama-data train-lm, or "
                         "CCNet's): score perplexity and keep --buckets")
    cc.add_argument("--cutoffs", default="auto", metavar="auto|ccnet|FILE",
                    help="perplexity cut-offs per language: the 30th/60th percentiles of this "
                         "job's perplexities (auto, the default), CCNet's published ones (ccnet, "
                         "with CCNet's models), or a JSON file {\"en\": [head, tail], ...}")
    cc.add_argument("--buckets", default="head,middle",
                    help="buckets to keep (default %(default)s)")
    cc.add_argument("--ref-model", default=None, metavar="PATH",
                    help="Wikipedia-reference classifier (llama-data train-classifier): score "
                         "ref_score and drop pages under --ref-threshold")
    cc.add_argument("--ref-threshold", type=float, default=REF_THRESHOLD,
                    help="lowest reference score kept (default %(default)s, RedPajama's)")


def _prepare(args, beam_args: Sequence[str]) -> int:
    from llama_data import manifest
    from llama_data.io import expand_inputs

    common = dict(beam_args=beam_args, max_bytes=args.shard_size, buckets=args.num_shards,
                  keep_rejects=args.keep_rejects)
    if args.source == "wikipedia":
        from llama_data.pipelines import wikipedia
        from llama_data.sources.wikipedia import read_dump_info

        inputs = expand_inputs(args.input)
        for path in inputs:  # refuse a wrong language before starting a long job
            read_dump_info(path, args.languages)
        wikipedia.run(inputs, args.output, languages=args.languages, min_words=args.min_words,
                      **common)
    else:
        from llama_data.pipelines import commoncrawl

        inputs = expand_inputs(args.input, list_base=args.base_url)
        if args.ref_model:  # refuse a missing or wrong model before starting a long job
            from llama_data.quality.reference import ReferenceClassifier

            ReferenceClassifier(args.ref_model)
        commoncrawl.run(inputs, args.output, languages=args.languages,
                        threshold=args.lang_threshold, dedup_keep=args.dedup_keep,
                        dedup_scope=args.dedup_scope,
                        fmt=args.format, model_path=args.lid_model,
                        perplexity=_perplexity(args),
                        reference=commoncrawl.Reference(args.ref_model, args.ref_threshold)
                        if args.ref_model else None, **common)
    print(manifest.render(args.output, manifest.load(args.output)))
    return 0


def _perplexity(args):
    """The CommonCrawl perplexity stage asked for on the command line, or None."""
    import json

    from llama_data.pipelines.commoncrawl import Perplexity
    from llama_data.quality.perplexity import CCNET_CUTOFFS

    if args.lm_dir is None:
        return None
    if args.cutoffs == "auto":
        cutoffs = None
    elif args.cutoffs == "ccnet":
        cutoffs = dict(CCNET_CUTOFFS)
    else:
        try:
            cutoffs = {k: tuple(v) for k, v in json.loads(open(args.cutoffs).read()).items()}
        except (OSError, ValueError, TypeError) as e:
            raise LlamaDataError(f"{args.cutoffs}: not a cut-offs file ({e})") from e
    return Perplexity(args.lm_dir, cutoffs, tuple(b for b in args.buckets.split(",") if b))


def _add_train_lm(commands) -> None:
    lm = commands.add_parser(
        "train-lm", help="train a language's SentencePiece + KenLM model (CCNet's perplexity)",
        description="Train {lang}.sp.model (SentencePiece unigram) and {lang}.arpa.bin (KenLM "
                    "5-gram) as CCNet's Makefile does, on a release's text shards of that "
                    "language (CCNet trained on Wikipedia).")
    lm.add_argument("--lang", required=True, help="language code, e.g. en")
    lm.add_argument("--input", required=True, metavar="SHARDS",
                    help="a release folder's source (R/wikipedia), or a glob of .arrow shards")
    lm.add_argument("--output", required=True, metavar="DIR", help="e.g. models/lm/en")
    lm.add_argument("--vocab-size", type=int, default=65536,
                    help="SentencePiece pieces (default %(default)s, fewer on small corpora)")
    lm.add_argument("--order", type=int, default=5, help="n-gram order (default %(default)s)")
    lm.add_argument("--memory", default="20%",
                    help="lmplz's sorting memory: a share of RAM or a size (default %(default)s)")


def _train_lm(args, _beam_args) -> int:
    from llama_data.quality.perplexity import train_language_model
    from llama_data.shards import read_shard

    texts = (doc.text for shard in _shards(args.input) for doc in read_shard(shard)
             if doc.lang == args.lang)
    out = train_language_model(texts, args.lang, args.output, args.vocab_size, args.order,
                               args.memory)
    print(f"{out / f'{args.lang}.sp.model'} and {out / f'{args.lang}.arpa.bin'} written")
    return 0


def _add_train_classifier(commands) -> None:
    from llama_data.quality.reference import MIN_CHARS, TrainingParams

    defaults = TrainingParams()
    ref = commands.add_parser(
        "train-classifier", help="train LLaMA's Wikipedia-reference classifier (fastText)",
        description="Train a linear fastText classifier of CommonCrawl pages cited as references "
                    "in Wikipedia (URLs inside <ref> tags of the dumps, matched to the release's "
                    "CommonCrawl pages) against as many random pages of the same perplexity "
                    "buckets. Writes MODEL and MODEL's .json report (counts, held-out AUC).")
    ref.add_argument("--wikipedia", action="append", required=True, metavar="DUMPS",
                     help="MediaWiki XML dump, glob or URL (repeatable): where the citations are")
    ref.add_argument("--commoncrawl", required=True, metavar="SHARDS",
                     help="a release's CommonCrawl shards (R/commoncrawl) or a glob of .arrow")
    ref.add_argument("--output", required=True, metavar="MODEL", help="e.g. models/ref/en.bin")
    ref.add_argument("--min-chars", type=int, default=MIN_CHARS,
                     help="shortest cited page used (default %(default)s)")
    ref.add_argument("--epoch", type=int, default=defaults.epoch, help="default %(default)s")
    ref.add_argument("--dim", type=int, default=defaults.dim, help="default %(default)s")
    ref.add_argument("--threads", type=int, default=defaults.threads,
                     help="fastText threads (default %(default)s: reproducible)")
    ref.add_argument("--seed", type=int, default=0, help="sampling and training seed")


def _train_classifier(args, _beam_args) -> int:
    import dataclasses

    from llama_data.io import expand_inputs
    from llama_data.quality import reference

    params = dataclasses.replace(reference.TrainingParams(), epoch=args.epoch, dim=args.dim,
                                 threads=args.threads, seed=args.seed)
    report = reference.train_from_release(expand_inputs(args.wikipedia), _shards(args.commoncrawl),
                                          args.output, params, args.min_chars)
    counts = report["examples"]
    print(f"{args.output} written: {counts['cited_urls']} URLs cited in <ref> tags, "
          f"{counts['positives']} cited pages, {counts['negatives']} random pages; held-out AUC "
          f"{report.get('held_out_auc', 'n/a')} (report: {Path(args.output).with_suffix('.json')})")
    return 0


def _shards(pattern: str) -> list[str]:
    """A release's source folder or a glob -> its .arrow shards."""
    from llama_data.io import expand_inputs

    return expand_inputs([f"{pattern.rstrip('/')}/*.arrow" if Path(pattern).is_dir() else pattern])


def _add_tokenizer(commands) -> None:
    tokenizer = commands.add_parser(
        "tokenizer", help="train the release's SentencePiece tokenizer; encode its shards")
    actions = tokenizer.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train", help="train a BPE tokenizer with LLaMA's spec on a weighted sample",
        description="Train R/tokenizer/tokenizer.model: SentencePiece BPE with the original LLaMA "
                    "tokenizer's trainer and normaliser spec (digits split, byte fallback), on a "
                    "seeded sample of the release's sources in proportion to the mixture weights.")
    train.add_argument("--release", required=True, metavar="R")
    train.add_argument("--vocab-size", type=int, default=32_000, help="pieces (default %(default)s)")
    train.add_argument("--sample-size", type=byte_size, default=100 * 10**6,
                       help="bytes of text to train on (default 100MB)")
    train.add_argument("--seed", type=int, default=0, help="sampling seed (default %(default)s)")
    train.add_argument("--weights", metavar="FILE|table1", default=None,
                       help="source weights (default: the release's mixture.json, else table1)")
    encode = actions.add_parser(
        "encode", help="encode every text shard into uint16 token shards (resumable)",
        description="Encode the release's text shards into tokens/<source>/*.tokens.npy with "
                    "<s> ... </s> around each document, in parallel, skipping shards already done.")
    encode.add_argument("--release", required=True, metavar="R")
    encode.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")


def _tokenizer(args, _beam_args) -> int:
    from llama_data import mixture
    from llama_data.tokenizer import encode, train

    if args.action == "encode":
        encode.encode_release(args.release, args.workers)
        return 0
    weights = mixture.load_weights(args.weights) if args.weights else mixture.release_weights(
        args.release)
    train.train(args.release, weights, args.vocab_size, args.sample_size, args.seed)
    return 0


def _add_mix(commands) -> None:
    mix = commands.add_parser(
        "mix", help="plan the mixture: tokens, share and epochs per source",
        description="Plan how many tokens each source contributes to a training run and how many "
                    "epochs of it that means (the LLaMA paper's Table 1 by default). Counts take "
                    "K, M, B, T suffixes.")
    mix.add_argument("--tokens", type=_count, required=True, help="training tokens, e.g. 1.4T")
    mix.add_argument("--release", metavar="R", default=None,
                     help="take available tokens from R's manifest and save R/mixture.json "
                          "(default: the newest release under the current folder, if any)")
    mix.add_argument("--available", action="append", default=[], metavar="SOURCE=N",
                     help="available tokens of a source, overriding the release (repeatable)")
    mix.add_argument("--weights", default="table1", metavar="FILE|table1",
                     help="JSON {source: weight} summing to 1, or table1 (default)")
    mix.add_argument("--renormalize", action="store_true",
                     help="drop sources the release lacks and rescale the others' weights")
    mix.add_argument("--max-epochs", type=float, default=4.0,
                     help="warn above this many epochs of a source (default %(default)s)")
    mix.add_argument("--json", action="store_true", help="print the plan as JSON")


def _count(text: str) -> int:
    from llama_data.mixture import parse_count

    try:
        return parse_count(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _mix(args, _beam_args) -> int:
    import json

    from llama_data import mixture

    overrides = {}
    for item in args.available:
        source, _, count = item.partition("=")
        if not count:
            raise mixture.MixtureError(f"--available {item!r}: expected SOURCE=N, e.g. wikipedia=24B")
        try:
            overrides[source.strip()] = mixture.parse_count(count)
        except ValueError as e:
            raise mixture.MixtureError(f"--available {item!r}: {e}") from e
    plan = mixture.plan_for(args.tokens, mixture.load_weights(args.weights), args.release,
                            overrides, max_epochs=args.max_epochs, renormalize=args.renormalize)
    print(json.dumps(plan.to_json(), indent=2) if args.json else mixture.render(plan))
    return 0


def _add_training(commands) -> None:
    train = commands.add_parser(
        "train", help="train a small LLaMA on the release's mixture (validates a release)",
        description="Train a LLaMA-architecture model on R's token shards, weighted by "
                    "R/mixture.json: AdamW (0.9, 0.95, weight decay 0.1), cosine to 10%%, clip 1.0. "
                    "Prints step, loss, tokens/s, MFU (GPU), ETA; evaluates validation loss and "
                    "bits per byte per source. Run it under torchrun for several processes (FSDP2).")
    train.add_argument("--release", required=True, metavar="R")
    train.add_argument("--preset", default="10M", help="model size (default %(default)s): "
                       "10M 60M 150M 400M 1.1B 7B 13B 33B 65B")
    train.add_argument("--tokens", type=_count, required=True, help="training tokens, e.g. 2B")
    train.add_argument("--output", metavar="RUN", default=None,
                       help="run folder (default: runs/<release>-<preset>)")
    train.add_argument("--seq-len", type=int, default=256, help="default %(default)s")
    train.add_argument("--batch-tokens", type=_count, default=None,
                       help="tokens per optimiser step (default: the preset's, at most 1/20 of "
                            "the run)")
    train.add_argument("--micro-batch", type=int, default=8,
                       help="sequences per forward pass per process (default %(default)s)")
    train.add_argument("--lr", type=float, default=None, help="peak learning rate (preset's)")
    train.add_argument("--warmup-steps", type=int, default=None,
                       help="default: the paper's 2,000, or 1/10 of a shorter run")
    train.add_argument("--eval-every", type=int, default=50, help="steps (default %(default)s)")
    train.add_argument("--checkpoint-every", type=int, default=100,
                       help="steps (default %(default)s)")
    train.add_argument("--no-doc-mask", action="store_true",
                       help="let attention cross document boundaries inside a sequence")
    train.add_argument("--activation-checkpointing", action="store_true",
                       help="recompute cheap activations, keep matmul outputs (saves memory)")
    train.add_argument("--compile", action="store_true", help="torch.compile the model")
    train.add_argument("--val-fraction", type=float, default=0.01,
                       help="share of each source's documents held out for validation "
                            "(default %(default)s)")
    train.add_argument("--resume", action="store_true", help="continue RUN from its checkpoint")
    train.add_argument("--seed", type=int, default=0)
    export = commands.add_parser(
        "export", help="export a run's model and tokenizer (Hugging Face format)")
    export.add_argument("run", metavar="RUN")
    export.add_argument("--format", choices=["hf"], default="hf")
    export.add_argument("--output", required=True, metavar="DIR")
    compare = commands.add_parser(
        "compare", help="per-source validation bits per byte of runs, side by side")
    compare.add_argument("runs", nargs="+", metavar="RUN")
    compare.add_argument("--plot", default="compare.png", metavar="PNG",
                         help="bar chart to write (default %(default)s)")


def _train(args, _beam_args) -> int:
    from llama_data.training.train import TrainConfig, train

    output = args.output or f"runs/{Path(args.release).name}-{args.preset}"
    train(TrainConfig(
        release=args.release, output=output, preset=args.preset, tokens=args.tokens,
        seq_len=args.seq_len, batch_tokens=args.batch_tokens, micro_batch=args.micro_batch,
        lr=args.lr, warmup_steps=args.warmup_steps, eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every, doc_mask=not args.no_doc_mask,
        activation_checkpointing=args.activation_checkpointing, compile=args.compile,
        val_fraction=args.val_fraction, seed=args.seed), resume=args.resume)
    print(f"run written to {output}: metrics.jsonl, metrics.csv, loss.png, checkpoint.pt")
    return 0


def _export(args, _beam_args) -> int:
    from llama_data.training.checkpoint import load_model
    from llama_data.training.export import export_hf

    model, config, tokenizer_model = load_model(Path(args.run))
    export_hf(model, config, tokenizer_model, args.output)
    print(f"Hugging Face model and tokenizer written to {args.output}")
    return 0


def _compare(args, _beam_args) -> int:
    from llama_data.training.metrics import compare

    print(compare([Path(r) for r in args.runs], Path(args.plot)))
    return 0


def _add_models(commands) -> None:
    from llama_data.models import CATALOG, HOST, MIRROR_ENV, render_catalog
    from llama_data.remote import RETRY

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
    download.add_argument("name", choices=list(CATALOG), metavar="NAME",
                          help=f"one of: {', '.join(CATALOG)}")
    download.add_argument("--lang", default=None, help="the language of an lm model, e.g. en")
    download.add_argument("--output", default=None, metavar="DIR",
                          help="folder for the files (default: models, or models/lm for lm)")
    download.add_argument("--mirror", default=None, metavar="URL",
                          help=f"a mirror of {HOST} with the same paths (default: "
                               f"${MIRROR_ENV}, else {HOST})")
    download.add_argument("--retries", type=int, default=RETRY.retries,
                          help="retries of a failed connection in a row (default %(default)s)")


def _models(args, _beam_args) -> int:
    from llama_data import models
    from llama_data.remote import Retry, human

    if args.action == "list":
        print(models.render_catalog())
        return 0
    if (args.name == "lm") != (args.lang is not None):
        raise LlamaDataError("--lang goes with lm, and lm needs it (e.g. --lang en)")
    files = models.fetch(args.name, args.lang, args.output, args.mirror,
                         Retry(retries=args.retries))
    checks = {"published": "sha256 matches the published value",
              "pinned": "sha256 matches the one pinned by its first download",
              "none": "sha256 not verified (none published), now pinned"}
    for file in files:
        state = "downloaded" if file.downloaded else "already there"
        print(f"{file.path}: {state}, {human(file.path.stat().st_size)}, {checks[file.check]}")
    option = models.CATALOG[args.name].option
    target = files[0].path if option == "--lid-model" else files[0].path.parent
    languages = f" --languages {args.lang}" if args.lang else ""
    print(f"use it: llama-data prepare commoncrawl {option} {target}{languages} ...")
    return 0


def _inspect(args, _beam_args) -> int:
    from llama_data import manifest

    print(manifest.render(args.release, manifest.load(args.release)))
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
    _add_models(commands)
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
            "tokenizer": _tokenizer, "mix": _mix, "train": _train, "export": _export, "compare": _compare, "inspect": _inspect, "demo": _demo,
            "models": _models}
ACCEPTS_BEAM_OPTIONS = {"prepare", "demo"}


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
