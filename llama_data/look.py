"""Looking at releases without training: what changed between two (``llama-data diff``), a few
documents of a source, kept or rejected (``llama-data sample``), and what ``inspect`` adds to the
manifest's tables (the recipe, the cards)."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterable
from typing import Any, TypeVar

import fsspec
import numpy as np
import pyarrow as pa

from llama_data import manifest as manifest_lib
from llama_data.config import setting
from llama_data.document import Document
from llama_data.errors import ReleaseError
from llama_data.hashing import sha1_int
from llama_data.hf_card import README
from llama_data.manifest import Manifest, SourceEntry
from llama_data.shards import SUFFIX, read_shard
from llama_data.units import format_size

T = TypeVar("T")
CARD = "CARD.md"
REJECTED_BY = "rejected_by"  # the meta key a kept reject carries (pipelines.common.route)


@dataclasses.dataclass(frozen=True)
class DiffConfig:
    """``llama-data diff``."""

    first: str = setting(help_text="the release compared from", flag="first", metavar="R1")
    second: str = setting(help_text="the release compared with it", flag="second", metavar="R2")
    json: bool = setting(False, "print the differences as JSON")


@dataclasses.dataclass(frozen=True)
class SampleConfig:
    """``llama-data sample``."""

    release: str = setting(help_text="release folder", flag="release", metavar="R")
    source: str = setting(help_text="the source to sample, e.g. wikipedia")
    n: int = setting(5, "documents to print", flag="-n")
    rejected: bool = setting(False, "sample the documents the steps dropped, with their reason "
                                    "(a source prepared with --keep-rejects)")
    reason: str | None = setting(None, "only rejected documents dropped for this reason, e.g. "
                                       "wikipedia:too_short (implies --rejected)")
    seed: int = setting(0, "sampling seed: the same seed, the same documents")
    chars: int = setting(300, "characters of each document's text shown")


# --- sample -------------------------------------------------------------------------------------

def source_entry(release: str, manifest: Manifest, source: str) -> SourceEntry:
    if source not in manifest.sources:
        have = ", ".join(sorted(manifest.sources)) or "none"
        raise ReleaseError(f"{release}: no source {source!r} (it has: {have})")
    return manifest.sources[source]


def reject_shards(release: str, entry: SourceEntry, source: str) -> list[str]:
    """The shards of ``source``'s kept rejects (``R/rejects/<its folder>``: not in the
    manifest, written beside the shards by a ``--keep-rejects`` run)."""
    folder = f"{release.rstrip('/')}/rejects/{entry.folder or source}"
    fs, path = fsspec.core.url_to_fs(folder)
    if not fs.isdir(path):
        raise ReleaseError(f"{release}: no rejects kept for {source}: rerun `llama-data prepare "
                           f"{source}` with --keep-rejects")
    return sorted(fs.unstrip_protocol(p) for p in fs.glob(f"{path}/*{SUFFIX}"))


def reservoir(items: Iterable[T], n: int, rng: random.Random) -> list[T]:
    """A uniform sample of ``n`` items of a stream of unknown length (Algorithm R), in one
    pass holding ``n`` items: the same ``rng`` state and stream, the same sample."""
    chosen: list[T] = []
    for index, item in enumerate(items):
        if index < n:
            chosen.append(item)
        elif (slot := rng.randrange(index + 1)) < n:
            chosen[slot] = item
    return chosen


def sample(release: str, source: str, n: int = 5, rejected: bool = False,
           reason: str | None = None, seed: int = 0) -> list[Document]:
    """``n`` documents of ``source`` drawn uniformly with ``seed`` from its shards, or from its
    kept rejects (``rejected``, or a ``reason`` to draw only those dropped for it)."""
    entry = source_entry(release, manifest_lib.load(release), source)
    if reason is None and not rejected:
        paths = [entry.shard_path(release, source, shard) for shard in entry.shards]
        return reservoir((d for p in paths for d in read_shard(p)), n, random.Random(seed))
    paths = reject_shards(release, entry, source)
    if reason is not None and reason not in entry.funnel.dropped:
        have = ", ".join(sorted(entry.funnel.dropped)) or "none"
        raise ReleaseError(f"{release}: no {source} document was dropped for {reason!r} "
                           f"(reasons: {have})")
    docs = (d for p in paths for d in read_shard(p)
            if reason is None or d.meta.get(REJECTED_BY) == reason)
    return reservoir(docs, n, random.Random(seed))


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def render_document(doc: Document, chars: int) -> str:
    """A document as a few lines: id, url, language, meta summary, the start of its text."""
    lang = f"{doc.lang} ({doc.lang_score:.2f})" if doc.lang_score is not None else doc.lang
    meta = "  ".join(f"{key}={_short(value)}" for key, value in sorted(doc.meta.items()))
    text = " ".join(doc.text.split())
    shown = text if len(text) <= chars else text[:chars] + "…"
    return "\n".join([f"id    {doc.id}", f"url   {doc.url or '-'}", f"lang  {lang or '-'}",
                      f"meta  {meta or '-'}", f"text  ({len(doc.text):,} chars) {shown}"])


def render_sample(docs: list[Document], chars: int) -> str:
    return "\n\n".join(f"[{i}/{len(docs)}]\n{render_document(d, chars)}"
                       for i, d in enumerate(docs, 1))


# --- diff ---------------------------------------------------------------------------------------

def recipe(release: str) -> dict[str, Any] | None:
    """The resolved recipe a ``release build`` wrote into the manifest, if any."""
    return manifest_lib.read(release, missing_ok=True).recipe


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"a.b": leaf}``, so that two configs compare key by key."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in value.items():
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def changed(first: Any, second: Any) -> dict[str, dict[str, Any]]:
    """The leaves of two nested dicts that differ (absent on one side: None there)."""
    a, b = flatten(first or {}), flatten(second or {})
    return {key: {"first": a.get(key), "second": b.get(key)}
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)}


def pair(first: int | None, second: int | None) -> dict[str, int | None]:
    delta = None if first is None or second is None else second - first
    return {"first": first, "second": second, "delta": delta}


def funnel_counts(entry: SourceEntry) -> dict[str, int]:
    """The funnel as flat counter names (``read``, ``kept``, ``dropped/<reason>``, ...)."""
    f = entry.funnel
    counts = {"read": f.read, "kept": f.kept}
    for kind in manifest_lib.FUNNEL_KINDS:
        counts.update({f"{kind}/{reason}": n for reason, n in getattr(f, kind).items()})
    return counts


def id_hashes(paths: Iterable[str]) -> np.ndarray:
    """The distinct 64-bit hashes of the documents' ids in ``paths``, read batch by batch: 8
    bytes a document in memory, not the ids (a chance collision among a billion ids: ~3%, and
    it moves the overlap by one document)."""
    hashes: list[int] = []
    for path in paths:
        with fsspec.open(path, "rb") as f:
            for batch in pa.ipc.open_stream(f):
                hashes += [sha1_int(i) for i in batch.column("id").to_pylist()]
    return np.unique(np.array(hashes, dtype=np.uint64))


def overlap(release1: str, e1: SourceEntry, release2: str, e2: SourceEntry,
            source: str) -> dict[str, float | int]:
    """Documents of a source in each release, in both, and that share of their union."""
    a = id_hashes(e1.shard_path(release1, source, s) for s in e1.shards)
    b = id_hashes(e2.shard_path(release2, source, s) for s in e2.shards)
    common = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - common
    return {"first": len(a), "second": len(b), "common": common,
            "share": common / union if union else 1.0}


def _tokens(entry: SourceEntry | None) -> int | None:
    return entry.tokens["tokens"] if entry is not None and entry.tokens else None


def diff_source(release1: str, e1: SourceEntry | None, release2: str, e2: SourceEntry | None,
                source: str) -> dict[str, Any]:
    """One source's differences; a side without the source reads None (and its config is not
    compared: all of it is new)."""
    def of(entry: SourceEntry | None, attribute: str) -> int | None:
        return None if entry is None else getattr(entry, attribute)

    f1 = funnel_counts(e1) if e1 else {}
    f2 = funnel_counts(e2) if e2 else {}
    return {
        "documents": pair(of(e1, "documents"), of(e2, "documents")),
        "text_bytes": pair(of(e1, "text_bytes"), of(e2, "text_bytes")),
        "tokens": pair(_tokens(e1), _tokens(e2)),
        "funnel": {name: pair(f1.get(name, 0 if e1 else None), f2.get(name, 0 if e2 else None))
                   for name in sorted(set(f1) | set(f2), key=_funnel_order)},
        "ids": overlap(release1, e1, release2, e2, source) if e1 and e2 else None,
        "config": changed(e1.config, e2.config) if e1 and e2 else {},
    }


def _funnel_order(name: str) -> tuple[int, str]:
    kinds = ("read", "kept", *manifest_lib.FUNNEL_KINDS)
    return kinds.index(name.partition("/")[0]), name


def diff(release1: str, release2: str) -> dict[str, Any]:
    """What differs between two releases, without training: per source documents, text bytes,
    tokens, funnel counts by reason, the share of document ids in common and the config; and
    the recipes' differences."""
    m1, m2 = manifest_lib.load(release1), manifest_lib.load(release2)
    sources = sorted(set(m1.sources) | set(m2.sources))
    return {"first": release1, "second": release2,
            "sources": {s: diff_source(release1, m1.sources.get(s), release2,
                                       m2.sources.get(s), s) for s in sources},
            "recipe": changed(recipe(release1), recipe(release2))}


def _value(value: int | None, size: bool = False) -> str:
    if value is None:
        return "-"
    return format_size(value) if size else f"{value:,}"


def _change(p: dict[str, int | None], size: bool = False) -> str:
    delta = p["delta"]
    shown = "" if delta is None else f" ({'+' if delta >= 0 else '-'}" \
        f"{_value(abs(delta), size)})"
    return f"{_value(p['first'], size)} -> {_value(p['second'], size)}{shown}"


def render_diff(result: dict[str, Any]) -> str:
    lines = [f"diff {result['first']} -> {result['second']}", ""]
    header = f"{'source':<16}{'documents':<26}{'text':<36}tokens"
    lines += [header, "-" * 100]
    for name, s in result["sources"].items():
        lines.append(f"{name:<16}{_change(s['documents']):<26}"
                     f"{_change(s['text_bytes'], size=True):<36}{_change(s['tokens'])}")
    for name, s in result["sources"].items():
        lines += ["", f"{name}: funnel"]
        lines += [f"  {row:<44}{_change(p)}" for row, p in s["funnel"].items()]
        ids = s["ids"]
        if ids:
            lines.append(f"  ids in common: {ids['common']:,} ({ids['share']:.1%} of the "
                         f"{ids['first'] + ids['second'] - ids['common']:,} in either)")
        lines += [f"  config {key}: {_short(c['first'], 60)} -> {_short(c['second'], 60)}"
                  for key, c in s["config"].items()]
    recipe_lines = [f"  {key}: {_short(c['first'], 60)} -> {_short(c['second'], 60)}"
                    for key, c in result["recipe"].items()]
    lines += ["", "recipe: " + ("differences" if recipe_lines else "no differences"),
              *recipe_lines]
    return "\n".join(lines)


# --- inspect ------------------------------------------------------------------------------------

def render_extras(release: str) -> str:
    """What ``inspect`` prints after the manifest's tables: the recipe and the cards (each
    section after a blank line; nothing when there is neither)."""
    root = release.rstrip("/")
    fs, base = fsspec.core.url_to_fs(root)
    found = recipe(release)
    sections = [["recipe:", *(f"  {key} = {json.dumps(value, ensure_ascii=False)}"
                              for key, value in flatten(found).items())]] if found else []
    cards = [(CARD, "data card"), (README, "dataset card (datasets.load_dataset)")]
    sections.append([f"{what}: {root}/{name}" for name, what in cards
                     if fs.exists(f"{base}/{name}")])
    return "".join("\n\n" + "\n".join(lines) for lines in sections if lines)
