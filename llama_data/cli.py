"""The ``llama-data`` command."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence

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


def _add_prepare(commands) -> None:
    from llama_data.shards import DEFAULT_SHARD_BYTES
    from llama_data.sources.wikipedia import PAPER_LANGUAGES

    prepare = commands.add_parser(
        "prepare", help="clean one source's raw dumps into Arrow shards (an Apache Beam pipeline)",
        description="Run one source's Beam pipeline. Unknown --options are Beam pipeline options "
                    "(e.g. --runner DataflowRunner --project P --region R --temp_location gs://B/tmp); "
                    "without --runner it runs locally on all cores.")
    sources = prepare.add_subparsers(dest="source", required=True, metavar="SOURCE")
    wiki = sources.add_parser(
        "wikipedia", help="MediaWiki XML dumps (*-pages-articles*.xml[.bz2|.gz])",
        description="MediaWiki XML export dumps -> article text shards. Keeps namespace-0 articles, "
                    "skips redirects, turns wikitext into plain text. Extra --options go to Beam.")
    wiki.add_argument("--input", action="append", required=True, metavar="DUMPS",
                      help="dump file, glob or fsspec URL (repeatable)")
    wiki.add_argument("--output", required=True, metavar="RELEASE", help="release folder")
    wiki.add_argument("--languages", type=languages, default=list(PAPER_LANGUAGES),
                      help="languages to accept, comma-separated, or 'all' "
                           "(default: the paper's 20: %(default)s)")
    wiki.add_argument("--min-words", type=int, default=20,
                      help="drop articles with fewer words after cleaning (default %(default)s)")
    wiki.add_argument("--shard-size", type=byte_size, default=DEFAULT_SHARD_BYTES,
                      help="largest shard, in bytes of text (default 256MB)")
    wiki.add_argument("--num-shards", type=int, default=None,
                      help="hash buckets of documents (default: from the input size)")
    wiki.add_argument("--keep-rejects", action="store_true",
                      help="also write dropped documents, with their reason, to RELEASE/rejects/")


def _prepare(args, beam_args: Sequence[str]) -> int:
    from llama_data import manifest
    from llama_data.io import expand_inputs
    from llama_data.pipelines import wikipedia
    from llama_data.sources.wikipedia import read_dump_info

    inputs = expand_inputs(args.input)
    for path in inputs:  # refuse a wrong language before starting a long job
        read_dump_info(path, args.languages)
    wikipedia.run(inputs, args.output, languages=args.languages, min_words=args.min_words,
                  beam_args=beam_args, max_bytes=args.shard_size, buckets=args.num_shards,
                  keep_rejects=args.keep_rejects)
    print(manifest.render(args.output, manifest.load(args.output)))
    return 0


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
    _add_tokenizer(commands)
    _add_mix(commands)
    inspect = commands.add_parser("inspect", help="print a release's manifest as tables")
    inspect.add_argument("release", metavar="RELEASE")
    demo = commands.add_parser("demo", help="run every stage on the built-in sample")
    demo.add_argument("--output", default="demo-release", metavar="DIR",
                      help="release folder to write (default: %(default)s)")
    return main


def _quiet_beam_import(record: logging.LogRecord) -> bool:
    """Beam warns at import that Google Cloud's optional client libraries are absent."""
    return not record.getMessage().startswith("apitools not found")


HANDLERS = {"prepare": _prepare, "tokenizer": _tokenizer, "mix": _mix, "inspect": _inspect,
            "demo": _demo}
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
