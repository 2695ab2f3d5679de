"""The release root as a Hugging Face dataset folder: ``R/README.md``, a dataset card whose YAML
``configs`` name each source's shards, so that ``datasets.load_dataset("R", "<source>")`` (and
``"default"``: every source) reads the release with no code of ours.

The shards are Arrow IPC *stream* files ending in ``.arrow``: ``datasets`` picks its packaged
``arrow`` builder by that extension, and the builder opens a file as a stream first (then as the
IPC file format). Only the shards the manifest lists are named, so that a reader never sees a
killed run's leftovers, rejects or token shards. The card is rewritten whenever the manifest is
saved (:func:`llama_data.manifest.save`), the one place every change of a source goes through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from llama_data.io import atomic_open
from llama_data.units import format_size

if TYPE_CHECKING:
    from llama_data.manifest import Manifest

README = "README.md"
SPLIT = "train"
DEFAULT = "default"


def data_files(manifest: Manifest, source: str) -> list[str]:
    """``source``'s shards, relative to the release root, in the manifest's order."""
    entry = manifest.sources[source]
    return [entry.shard_path("", source, shard).lstrip("/") for shard in entry.shards]


def configs(manifest: Manifest) -> list[dict[str, Any]]:
    """One ``datasets`` config per source with shards, then ``default`` with all of them (a
    source with no shards gets none: ``datasets`` refuses a config without files)."""
    files = {name: data_files(manifest, name) for name in sorted(manifest.sources)}
    files = {name: paths for name, paths in files.items() if paths}
    found = [{"config_name": name, "data_files": [{"split": SPLIT, "path": paths}]}
             for name, paths in files.items()]
    if files:
        every = [path for paths in files.values() for path in paths]
        found.append({"config_name": DEFAULT, "default": True,
                      "data_files": [{"split": SPLIT, "path": every}]})
    return found


def dataset_card(manifest: Manifest) -> str:
    """The card's text: YAML front matter, then what the release holds."""
    front = yaml.safe_dump({"configs": configs(manifest)}, sort_keys=False, allow_unicode=True)
    rows = [f"| {name} | {e.documents:,} | {format_size(e.text_bytes)} | {len(e.shards)} |"
            for name, e in sorted(manifest.sources.items())]
    total = sum(e.documents for e in manifest.sources.values())
    about = ("Pretraining text prepared by llama-data as in the LLaMA paper: one config per "
             "source and `default` with all of them, each document a record of `id`, `text`, "
             "`source`, `url`, `lang`, `lang_score` and `meta` (JSON).")
    made = (f"{total:,} documents in all. How they were made (steps, drop reasons, recipe) is "
            "in `manifest.json`; the data card for people is [CARD.md](CARD.md).")
    return "\n".join([
        "---", front.rstrip("\n"), "---", "", "# llama-data release", "", about, "",
        "| source | documents | text | shards |", "|---|---:|---:|---:|", *rows, "", made, "",
        "```python", "import datasets", "",
        'ds = datasets.load_dataset("path/to/this/folder", "default", split="train")', "```", ""])


def write_dataset_card(release: str, manifest: Manifest | None = None) -> str:
    """Write ``release``/README.md from ``manifest`` (read from the release when None);
    returns its path."""
    if manifest is None:
        from llama_data.manifest import read

        manifest = read(release)
    path = f"{release.rstrip('/')}/{README}"
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(dataset_card(manifest))
    return path
