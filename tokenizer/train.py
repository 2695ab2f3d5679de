"""Train the release's SentencePiece BPE tokenizer with LLaMA's spec on a weighted text sample.

The sample streams over the shards: each source gets a byte budget in proportion to its mixture
weight, and a document is taken when a seeded hash of its id falls under the source's rate
(budget / source bytes). So the sample is spread over the whole source, the same for the same seed,
and never more than one shard batch is in memory.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import sentencepiece as spm

from llama_data import manifest as manifest_lib
from llama_data import progress
from llama_data.config import setting
from llama_data.errors import ReleaseError
from llama_data.hashing import sha1_int, sha256_file
from llama_data.io import atomic_path
from llama_data.shards import read_shard
from llama_data.units import format_size, parse_size

from . import model

DEFAULT_SAMPLE_BYTES = 100 * 2**20
_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
# Trainer-spec fields that say where and how fast it ran, not what was learnt: cleared from the
# model file, so that the same sample gives the same bytes on any machine, with any core count.
_MACHINE_FIELDS = ("input", "model_prefix", "num_threads")


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    """``llama-data tokenizer train``."""

    release: str = setting(help_text="release folder", metavar="R")
    vocab_size: int = setting(model.LLAMA_VOCAB_SIZE, "pieces")
    sample_size: int = setting(DEFAULT_SAMPLE_BYTES, "bytes of text to train on (KiB, MiB, GiB; "
                               "MB means MiB)", type=parse_size,
                               default_text=format_size(DEFAULT_SAMPLE_BYTES))
    seed: int = setting(0, "sampling seed")
    weights: str | None = setting(None, "source weights", metavar="FILE|table1",
                                  default_text="the release's mixture.json, else table1")
    threads: int | None = setting(None, "SentencePiece training threads (the model is the same "
                                        "with any number)", default_text="all cores")


def _rate(seed: int, doc_id: str) -> float:
    return sha1_int(f"{seed}:{doc_id}") / 2**64


def _pieces(text: str, max_bytes: int) -> Iterator[str]:
    """Non-empty lines of ``text``, longer ones cut at spaces: SentencePiece skips any sentence
    over ``max_sentence_length`` bytes, and Wikipedia paragraphs often are."""
    for line in text.split("\n"):
        while len(line.encode("utf-8")) > max_bytes:
            cut = line.rfind(" ", 0, max_bytes // 4)  # characters are at most 4 bytes
            cut = cut if cut > 0 else max_bytes // 4
            yield line[:cut]
            line = line[cut:].lstrip(" ")
        if line.strip():
            yield line


def _budgets(release: str, manifest: manifest_lib.Manifest, weights: Mapping[str, float],
             sample_bytes: int) -> dict[str, float]:
    """The bytes to sample from each source: ``sample_bytes`` split by ``weights``, renormalised
    over the sources the release has text of."""
    present = {s: w for s, w in weights.items() if w > 0 and s in manifest.sources
               and manifest.sources[s].text_bytes > 0}
    if not present:
        raise ReleaseError(f"{release}: none of the mixture's sources ({', '.join(weights)}) has text")
    return {s: sample_bytes * w / sum(present.values()) for s, w in sorted(present.items())}


def sample_lines(release: str, weights: Mapping[str, float], sample_bytes: int, seed: int,
                 stats: dict[str, int]) -> Iterator[str]:
    """Lines of the release's documents, about ``sample_bytes`` in all, split between the sources
    as :func:`_budgets` says."""
    manifest = manifest_lib.load(release)
    max_line = model.LLAMA_TRAINER_SPEC["max_sentence_length"]
    for source, budget in _budgets(release, manifest, weights, sample_bytes).items():
        entry = manifest.sources[source]
        rate = min(1.0, budget / entry.text_bytes)
        taken = 0
        for shard in entry.shards:
            for doc in read_shard(entry.shard_path(release, source, shard)):
                if taken >= budget:
                    break
                if _rate(seed, doc.id) < rate:
                    for line in _pieces(doc.text, max_line):
                        taken += len(line.encode("utf-8")) + 1
                        yield line
        stats[source] = taken


def train(release: str, weights: Mapping[str, float], vocab_size: int = model.LLAMA_VOCAB_SIZE,
          sample_bytes: int = DEFAULT_SAMPLE_BYTES, seed: int = 0, threads: int | None = None) -> dict:
    """Train ``R/tokenizer/tokenizer.model``; record its sha256, spec and sample in the manifest."""
    out = Path(release) / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    sample_path = out / "sample.txt"
    per_source: dict[str, int] = {}
    lines = 0
    # About the budgets: a source sampled by chance ends a little under or over its own.
    manifest = manifest_lib.load(release)
    expected = sum(min(budget, manifest.sources[source].text_bytes) for source, budget
                   in _budgets(release, manifest, weights, sample_bytes).items())
    with open(sample_path, "wb") as f, progress.bar(
            round(expected), "tokenizer: sample", "B", unit_scale=True, unit_divisor=1024) as shown:
        for line in sample_lines(release, weights, sample_bytes, seed, per_source):
            shown.update(f.write(f"{line}\n".encode()))
            lines += 1
    size = sample_path.stat().st_size
    print(f"tokenizer: sample of {format_size(size)}, {lines} lines "
          f"({', '.join(f'{s} {format_size(b)}' for s, b in sorted(per_source.items()))}); "
          f"training {vocab_size} BPE pieces (SentencePiece, one call: no progress until it "
          "ends)", file=sys.stderr)
    spec = {**model.LLAMA_TRAINER_SPEC, "vocab_size": vocab_size}
    started = time.monotonic()
    try:
        spm.SentencePieceTrainer.train(
            input=str(sample_path), model_prefix=str(out / "tokenizer"), input_sentence_size=0,
            num_threads=threads or os.cpu_count() or 1, minloglevel=2, **spec)
    except RuntimeError as e:
        too_high = _TOO_HIGH.search(str(e))
        if too_high:
            raise model.TokenizerError(
                f"the sample ({format_size(size)} of text) supports at most {too_high.group(2)} "
                f"pieces, not {vocab_size}: pass --vocab-size {too_high.group(2)} or less, or "
                "train on more text (--sample-size, more sources)") from e
        raise model.TokenizerError(f"SentencePiece training failed: {e}") from e
    finally:
        sample_path.unlink(missing_ok=True)
    (out / "tokenizer.vocab").unlink(missing_ok=True)  # the model file holds the vocabulary
    _clear_machine_fields(out / "tokenizer.model")
    record = {
        "path": "tokenizer/tokenizer.model",
        "sha256": sha256_file(out / "tokenizer.model"),
        "vocab_size": vocab_size,
        "spec": spec,
        "sample": {"bytes": size, "lines": lines, "seed": seed, "per_source_bytes": per_source,
                   "weights": dict(sorted(weights.items()))},
    }
    manifest = manifest_lib.load(release)
    manifest.tokenizer = record
    manifest_lib.save(release, manifest)
    print(f"tokenizer: {out / 'tokenizer.model'} in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return record


def _clear_machine_fields(path: Path) -> None:
    proto = model.read_proto(path)
    for name in _MACHINE_FIELDS:
        proto.trainer_spec.ClearField(name)
    with atomic_path(path) as tmp:
        tmp.write_bytes(proto.SerializeToString())
