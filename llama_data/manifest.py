"""The release manifest: per source its shards (with sha256), the funnel, config and versions.

The funnel accounts for every input record: ``read = kept + dropped + unreadable + merged``, each
by reason; ``merged`` counts records folded into another record that goes on (a StackExchange
answer into its question's document).
A reader reads exactly the shards an entry lists (``SourceEntry.shard_path``); how a source's
entry and shards are swapped in together is :mod:`llama_data.release`'s protocol.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import importlib.metadata
import json
import os
import platform
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from llama_data import __version__
from llama_data.errors import EmptyResult, ErrorBudgetExceeded, ReleaseError
from llama_data.hf_card import write_dataset_card
from llama_data.io import atomic_path
from llama_data.shards import ShardInfo
from llama_data.units import format_size

MANIFEST = "manifest.json"
LOCK = ".lock"
FORMAT = "llama-data-manifest"
FORMAT_VERSION = 1
MAX_ERRORS_KEPT = 100
LIBRARIES = ("apache-beam", "pyarrow", "datasets", "fsspec", "lxml", "mwparserfromhell",
             "fasttext-numpy2", "kenlm", "sentencepiece", "datasketch", "torch", "numpy")


FUNNEL_KINDS = ("dropped", "unreadable", "merged")  # counted by reason


@dataclasses.dataclass
class Funnel:
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = dataclasses.field(default_factory=dict)
    unreadable: dict[str, int] = dataclasses.field(default_factory=dict)
    merged: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def accounted(self) -> int:
        return (self.kept + sum(self.dropped.values()) + sum(self.unreadable.values())
                + sum(self.merged.values()))

    def check(self) -> None:
        """Raise if a record went missing (or was counted twice) between reading and writing."""
        if self.accounted != self.read:
            raise ReleaseError(
                f"funnel does not balance: read {self.read} != kept {self.kept} + dropped "
                f"{sum(self.dropped.values())} + unreadable {sum(self.unreadable.values())} + "
                f"merged {sum(self.merged.values())}")

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Funnel:
        """From flat counter names: ``read``, ``kept``, ``dropped/<reason>``,
        ``unreadable/<reason>``, ``merged/<reason>``."""
        funnel = cls(read=counts.get("read", 0), kept=counts.get("kept", 0))
        for name, value in sorted(counts.items()):
            kind, _, reason = name.partition("/")
            if kind in FUNNEL_KINDS and value:
                getattr(funnel, kind)[reason] = value
        return funnel


def other_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """The counters that are not the funnel's (read, kept, dropped/..., unreadable/...)."""
    funnel = ("read", "kept")
    return {name: value for name, value in sorted(counts.items())
            if name not in funnel and name.partition("/")[0] not in FUNNEL_KINDS}


@dataclasses.dataclass
class SourceEntry:
    shards: list[ShardInfo]
    funnel: Funnel
    config: dict[str, Any]
    versions: dict[str, str]
    errors: list[dict[str, str | None]] = dataclasses.field(default_factory=list)
    # Set by `llama-data tokenizer encode`; a rerun of the source's pipeline drops it (stale).
    tokens: dict[str, Any] | None = None
    # Counts of the steps that are not about whole records (e.g. lines removed by dedup).
    counters: dict[str, int] = dataclasses.field(default_factory=dict)
    # The shards' folder relative to the release (default: the source's name) and the run that
    # wrote them (see llama_data.release).
    folder: str | None = None
    run: str | None = None

    def shard_path(self, release: str, source: str, shard: ShardInfo) -> str:
        return f"{release.rstrip('/')}/{self.folder or source}/{shard.name}"

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.shards)

    @property
    def text_bytes(self) -> int:
        return sum(s.text_bytes for s in self.shards)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "text_bytes": self.text_bytes,
            "shards": [dataclasses.asdict(s) for s in self.shards],
            "funnel": dataclasses.asdict(self.funnel),
            "errors": self.errors[:MAX_ERRORS_KEPT],
            "config": self.config,
            "versions": self.versions,
            "tokens": self.tokens,
            "counters": self.counters,
            "folder": self.folder,
            "run": self.run,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceEntry:
        return cls(
            shards=[ShardInfo(**s) for s in data["shards"]],
            funnel=Funnel(**data["funnel"]),
            config=data.get("config", {}),
            versions=data.get("versions", {}),
            errors=data.get("errors", []),
            tokens=data.get("tokens"),
            counters=data.get("counters", {}),
            folder=data.get("folder"),
            run=data.get("run"),
        )


@dataclasses.dataclass
class Manifest:
    sources: dict[str, SourceEntry] = dataclasses.field(default_factory=dict)
    # Set by `llama-data tokenizer train`: path (relative to the release), sha256, spec, sample.
    tokenizer: dict[str, Any] | None = None
    # Set by `llama-data release build`: the recipe with its defaults filled in.
    recipe: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "sources": {name: self.sources[name].to_json() for name in sorted(self.sources)},
            "tokenizer": self.tokenizer,
            "recipe": self.recipe,
        }


def versions() -> dict[str, str]:
    found = {"llama-data": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def manifest_path(release: str) -> str:
    return f"{release.rstrip('/')}/{MANIFEST}"


@contextlib.contextmanager
def locked(release: str) -> Iterator[None]:
    """Hold the release's writer lock (an flock on ``RELEASE/.lock``, dropped by the kernel when
    its holder exits or is killed). Object stores have none: one writer per release there."""
    fs, root = fsspec.core.url_to_fs(release)
    if not isinstance(fs, LocalFileSystem):
        yield
        return
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, LOCK), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def load(release: str, missing_ok: bool = False) -> Manifest:
    """The release's manifest, after settling any run that died while swapping a source in."""
    from llama_data.release import recover

    recover(release)
    return read(release, missing_ok)


def read(release: str, missing_ok: bool = False) -> Manifest:
    """The manifest as it is on disk (for writers that hold the lock)."""
    path = manifest_path(release)
    fs, fs_path = fsspec.core.url_to_fs(path)
    if not fs.exists(fs_path):
        if missing_ok:
            return Manifest()
        raise ReleaseError(f"{release}: no {MANIFEST} (is this a llama-data release folder?)")
    try:
        with fs.open(fs_path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") != FORMAT:
            raise ReleaseError(f"{path}: not a llama-data manifest (format {data.get('format')!r})")
        return Manifest({k: SourceEntry.from_json(v) for k, v in data["sources"].items()},
                        data.get("tokenizer"), data.get("recipe"))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ReleaseError(f"{path}: corrupt manifest ({e})") from e


def save(release: str, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically, keys sorted for stable bytes: a temp file renamed
    locally, one PUT (all or nothing) on an object store; then the dataset card that names the
    shards it lists (:mod:`llama_data.hf_card`)."""
    for entry in manifest.sources.values():
        entry.funnel.check()
    text = json.dumps(manifest.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    fs, fs_path = fsspec.core.url_to_fs(manifest_path(release))
    fs.makedirs(fs_path.rsplit("/", 1)[0], exist_ok=True)
    if isinstance(fs, LocalFileSystem):
        with atomic_path(fs_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    else:
        fs.pipe_file(fs_path, text.encode("utf-8"))
    write_dataset_card(release, manifest)


def update(release: str, change: Callable[[Manifest], None]) -> Manifest:
    """Read, change and save the manifest under the release's lock (no update lost to another
    writer of the same release)."""
    with locked(release):
        manifest = read(release, missing_ok=True)
        change(manifest)
        save(release, manifest)
    return manifest


def update_source(release: str, source: str, entry: SourceEntry) -> Manifest:
    """Put ``source``'s entry into the release's manifest, keeping the other sources'."""
    return update(release, lambda manifest: manifest.sources.__setitem__(source, entry))


def check_budget(source: str, funnel: Funnel, errors: list[dict[str, Any]],
                 max_error_rate: float, allow_empty: bool) -> None:
    """Raise if more than ``max_error_rate`` of the records read were unreadable or failed, or if
    records were read and none kept (unless ``allow_empty``); the message names the most frequent
    reason, an example of it, and the counts."""
    failed = sum(funnel.unreadable.values())
    if funnel.read and failed / funnel.read > max_error_rate:
        reason, count = Counter(funnel.unreadable).most_common(1)[0]
        example = next((e["message"] for e in errors if e["reason"] == reason), "no example kept")
        raise ErrorBudgetExceeded(
            f"{source}: {failed} of {funnel.read} records unreadable or failed "
            f"({failed / funnel.read:.1%}, above --max-error-rate {max_error_rate:g}); most "
            f"frequent: {reason} ({count}x), e.g. {' '.join(example.split())}; "
            "the release is unchanged")
    if funnel.read and not funnel.kept and not allow_empty:
        reasons = Counter({**funnel.dropped, **funnel.unreadable}).most_common(1)
        why = f"; most frequent: {reasons[0][0]} ({reasons[0][1]}x)" if reasons else ""
        raise EmptyResult(f"{source}: {funnel.read} records read and none kept{why}; the release "
                          "is unchanged (--allow-empty to record an empty source)")


def render(release: str, manifest: Manifest) -> str:
    """The manifest as the tables ``llama-data inspect`` prints."""
    lines = [f"release {release}", ""]
    header = f"{'source':<16}{'shards':>8}{'documents':>12}{'text':>12}{'tokens':>12}" \
             f"{'read':>10}{'kept':>10}{'dropped':>10}{'unreadable':>12}"
    lines += [header, "-" * len(header)]
    for name, e in sorted(manifest.sources.items()):
        f = e.funnel
        tokens = e.tokens["tokens"] if e.tokens else "-"
        lines.append(f"{name:<16}{len(e.shards):>8}{e.documents:>12}{format_size(e.text_bytes):>12}"
                     f"{tokens:>12}{f.read:>10}{f.kept:>10}{sum(f.dropped.values()):>10}"
                     f"{sum(f.unreadable.values()):>12}")
    if manifest.tokenizer:
        t = manifest.tokenizer
        lines += ["", (f"tokenizer {t['path']}: {t['vocab_size']} pieces, SentencePiece "
                      f"{t['spec']['model_type']}, sha256 {t['sha256'][:16]}…, trained on "
                      f"{format_size(t['sample']['bytes'])} (seed {t['sample']['seed']})")]
    for name, e in sorted(manifest.sources.items()):
        lines += ["", f"{name}: funnel"]
        rows = [("read", "", e.funnel.read), ("kept", "", e.funnel.kept)]
        rows += [("dropped", r, n) for r, n in sorted(e.funnel.dropped.items())]
        rows += [("unreadable", r, n) for r, n in sorted(e.funnel.unreadable.items())]
        rows += [("merged", r, n) for r, n in sorted(e.funnel.merged.items())]
        rows += [("counter", name, n) for name, n in e.counters.items()]
        lines += [f"  {kind:<12}{reason:<36}{n:>10}" for kind, reason, n in rows]
        lines += [f"  shard {s.name}  {s.documents} docs  {format_size(s.file_bytes)}  "
                  f"sha256 {s.sha256[:16]}…" for s in e.shards]
        if e.errors:
            lines.append(f"  errors ({len(e.errors)} kept):")
            lines += [f"    {err['message']}" for err in e.errors[:10]]
    return "\n".join(lines)
