"""The mixture plan behind ``llama-data mix``: the tokens each source gives, in how many epochs.

The recipe is the LLaMA paper's Table 1 (sampling proportions for 1.4T tokens). Given the tokens a
release really holds per source, the plan says how often each source's text is repeated, so that a
too-small source shows up before training, not in the loss curve.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import fsspec

from llama_data import manifest as manifest_lib
from llama_data.errors import LlamaDataError
from llama_data.io import atomic_path
from llama_data.units import format_size

FORMAT = "llama-data-mixture"
FORMAT_VERSION = 1
WEIGHT_TOLERANCE = 1e-6


class MixtureError(LlamaDataError):
    """Weights or a plan that cannot be used; the message says why."""


@dataclasses.dataclass(frozen=True)
class Table1Row:
    """One source as the paper reports it: sampling proportion, epochs at 1.4T tokens, disk size."""

    weight: float
    epochs: float
    disk_bytes: int


TABLE1: Mapping[str, Table1Row] = MappingProxyType({
    "commoncrawl": Table1Row(0.67, 1.10, 3_300_000_000_000),
    "c4": Table1Row(0.15, 1.06, 783_000_000_000),
    "github": Table1Row(0.045, 0.64, 328_000_000_000),
    "wikipedia": Table1Row(0.045, 2.45, 83_000_000_000),
    "books": Table1Row(0.045, 2.23, 85_000_000_000),
    "arxiv": Table1Row(0.025, 1.06, 92_000_000_000),
    "stackexchange": Table1Row(0.02, 1.03, 78_000_000_000),
})
SOURCES: tuple[str, ...] = tuple(TABLE1)

_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_COUNT_UNITS = tuple((scale, suffix) for suffix, scale in _SUFFIXES.items())
_BYTE_UNITS = ((1, " B"), (10**3, " KB"), (10**6, " MB"), (10**9, " GB"), (10**12, " TB"))
# Commas only as thousands separators, so that a decimal comma ("1,5T") is refused, not read as 15T.
_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+(?:_\d+)*)(\.\d+)?\s*([kmbt]?)", re.IGNORECASE)


def parse_count(text: str) -> int:
    """``"1.4T"`` -> 1_400_000_000_000. Decimal suffixes K, M, B, T; exact (no float rounding)."""
    match = _COUNT.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a token count: {text!r} (expected e.g. 1.4T, 853M, 250K or 1,000)")
    whole, fraction, suffix = match.groups()
    value = Decimal(whole.replace(",", "").replace("_", "") + (fraction or ""))
    value *= _SUFFIXES[suffix.upper()]
    if value != value.to_integral_value():
        raise ValueError(f"not a whole number of tokens: {text!r}")
    return int(value)


def _three_digits(n: float, units: tuple[tuple[int, str], ...]) -> str:
    """3 significant digits, in the largest unit reached once rounded (999_999 -> 1.00M)."""
    rounded = float(f"{n:.3g}")
    scale, unit = next(((s, u) for s, u in reversed(units) if rounded >= s), units[0])
    value = rounded / scale
    decimals = 0 if scale == 1 else max(0, 3 - len(str(int(value))))
    return f"{value:.{decimals}f}{unit}"


def format_count(n: int) -> str:
    """1.4e12 -> ``"1.40T"``, 853_000_000 -> ``"853M"``, 999 -> ``"999"``; parse_count reads it."""
    return _three_digits(n, _COUNT_UNITS)


def format_bytes(n: int) -> str:
    """Decimal units as Table 1 uses them: 3.3e12 -> ``"3.30 TB"``, 83e9 -> ``"83.0 GB"``."""
    return _three_digits(n, _BYTE_UNITS)


def _checked(weights: Mapping[str, Any], where: str) -> dict[str, float]:
    """Known sources, finite non-negative numbers summing to 1; returned in SOURCES order."""
    for source, weight in weights.items():
        if source not in TABLE1:
            raise MixtureError(f"{where}: unknown source {source!r} (valid: {', '.join(SOURCES)})")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not math.isfinite(weight):
            raise MixtureError(f"{where}: weight of {source} is {weight!r}, not a number")
        if weight < 0:
            raise MixtureError(f"{where}: weight of {source} is negative ({weight})")
    total = math.fsum(weights.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise MixtureError(f"{where}: weights sum to {total:.9g}, not 1")
    return {s: float(weights[s]) for s in SOURCES if s in weights}


def load_weights(spec: str) -> dict[str, float]:
    """``"table1"`` for the paper's proportions, else a JSON file ``{"source": weight, ...}``."""
    if spec == "table1":
        return {source: row.weight for source, row in TABLE1.items()}
    try:
        with fsspec.open(spec, "r", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:  # ValueError: bad JSON or bad UTF-8
        raise MixtureError(f"{spec}: cannot read weights ({e})") from e
    if not isinstance(data, dict):
        raise MixtureError(f"{spec}: weights must be a JSON object {{\"source\": weight, ...}}")
    return _checked(data, spec)


@dataclasses.dataclass
class SourcePlan:
    """One source's share; ``available_tokens``/``epochs`` are None when no release is known."""

    source: str
    weight: float
    target_tokens: int
    available_tokens: int | None
    epochs: float | None
    disk_bytes: int | None


@dataclasses.dataclass
class Plan:
    total_tokens: int
    sources: list[SourcePlan]
    missing: list[str]
    warnings: list[str]
    renormalized: bool
    # Disk sizes of a release's text, in binary units as everywhere else; else Table 1's, printed
    # as the paper quotes them (decimal).
    disk_from_release: bool = False

    @property
    def target_tokens(self) -> int:
        """What the sources add up to: ``total_tokens`` give or take rounding."""
        return sum(s.target_tokens for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "total_tokens": self.total_tokens,
            "sources": [dataclasses.asdict(s) for s in self.sources],
            "missing": self.missing,
            "warnings": self.warnings,
            "renormalized": self.renormalized,
            "disk_from_release": self.disk_from_release,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        if data.get("format") != FORMAT:
            raise MixtureError(f"not a llama-data mixture plan (format {data.get('format')!r})")
        try:
            return cls(
                total_tokens=data["total_tokens"],
                sources=[SourcePlan(**s) for s in data["sources"]],
                missing=data["missing"],
                warnings=data["warnings"],
                renormalized=data["renormalized"],
                disk_from_release=data.get("disk_from_release", False),
            )
        except (KeyError, TypeError) as e:
            raise MixtureError(f"corrupt mixture plan ({e!r})") from e


def make_plan(total_tokens: int, weights: dict[str, float], available: Mapping[str, int] | None,
              disk_bytes: Mapping[str, int] | None = None, *, max_epochs: float = 4.0,
              renormalize: bool = False, disk_from_release: bool = False) -> Plan:
    """Split ``total_tokens`` by ``weights``; with each source's ``available`` tokens, the epochs.

    ``available=None`` plans without a release (no epochs). A weighted source with no tokens is an
    error unless ``renormalize``, which drops it and rescales the rest so the total stays reachable.
    """
    if total_tokens <= 0:
        raise MixtureError(f"total tokens must be positive, got {total_tokens}")
    weights = _checked(weights, "weights")
    missing = [] if available is None else \
        [s for s, w in weights.items() if w > 0 and available.get(s, 0) <= 0]
    if missing and len(missing) == sum(w > 0 for w in weights.values()):
        raise MixtureError(f"no tokens available for any weighted source ({', '.join(missing)})")
    if missing and not renormalize:
        raise MixtureError(
            f"no tokens available for {', '.join(missing)}: pass --renormalize to drop them and "
            f"rescale the other weights, or --available SOURCE=N to give their token counts")
    kept = {s: w for s, w in weights.items() if s not in missing}
    kept_sum = math.fsum(kept.values())
    sources, warnings = [], []
    for source, weight in kept.items():
        weight /= kept_sum
        target = round(total_tokens * weight)
        have = None if available is None else available.get(source)
        epochs = target / have if have else None
        if epochs is not None and epochs > max_epochs:
            warnings.append(f"{source}: {format_epochs(epochs)} epochs, more than --max-epochs "
                            f"{max_epochs:g} (its text would be repeated that often)")
        sources.append(SourcePlan(source, weight, target, have, epochs,
                                  None if disk_bytes is None else disk_bytes.get(source)))
    return Plan(total_tokens, sources, missing, warnings, renormalized=bool(missing),
                disk_from_release=disk_from_release)


# (header, minimum width): the widths of a table of ordinary figures; a longer cell widens its
# column, so that columns never run together.
_COLUMNS = (("source", 16), ("share", 8), ("target", 10), ("available", 11), ("epochs", 8),
            ("disk", 11))


def render(plan: Plan) -> str:
    """The plan as the table ``llama-data mix`` prints; ``-`` where a number is not known."""
    size_text = format_size if plan.disk_from_release else format_bytes

    def row(name: str, weight: float, target: int, have: int | None, epochs: float | None,
            size: int | None) -> list[str]:
        return [name, f"{weight:.1%}", format_count(target),
                "-" if have is None else format_count(have),
                "-" if epochs is None else format_epochs(epochs),
                "-" if size is None else size_text(size)]

    rows = [row(s.source, s.weight, s.target_tokens, s.available_tokens, s.epochs, s.disk_bytes)
            for s in plan.sources]
    available = [s.available_tokens for s in plan.sources]
    disk = [s.disk_bytes for s in plan.sources]
    have = None if None in available else sum(available)
    total = row("total", sum(s.weight for s in plan.sources), plan.target_tokens, have,
                plan.target_tokens / have if have else None, None if None in disk else sum(disk))
    header, *body = _aligned([[name for name, _ in _COLUMNS], *rows, total])
    rule = "-" * len(header)
    lines = [header, rule, *body[:-1], rule, body[-1]]
    if plan.missing:
        lines.append(f"missing, dropped and the other weights rescaled: {', '.join(plan.missing)}")
    lines += [f"warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def format_epochs(epochs: float) -> str:
    """Two decimals from 0.01 to 999.99 (``"1.10"``), else two significant digits in short
    scientific form (``"2.2e8"``, ``"1.5e-7"``): at most 8 characters, whatever the value."""
    if epochs == 0 or 0.01 <= epochs < 999.995:
        return f"{epochs:.2f}"
    mantissa, exponent = f"{epochs:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _aligned(rows: list[list[str]]) -> list[str]:
    """Rows of cells as text lines: the first column left-aligned, the others right-aligned, each
    at least as wide as ``_COLUMNS`` says and 2 characters wider than its longest cell."""
    widths = [max(minimum, *(len(r[i]) + 2 for r in rows))
              for i, (_, minimum) in enumerate(_COLUMNS)]
    return [cells[0].ljust(widths[0]) + "".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:]))
            for cells in rows]


MIXTURE_FILE = "mixture.json"


def newest_release(folder: str = ".") -> str | None:
    """The release under ``folder`` whose manifest was written last, if any."""
    manifests = sorted(Path(folder).glob(f"*/{manifest_lib.MANIFEST}"),
                       key=lambda p: p.stat().st_mtime)
    return str(manifests[-1].parent) if manifests else None


def plan_for(total_tokens: int, weights: dict[str, float], release: str | None,
             overrides: Mapping[str, int], *, max_epochs: float = 4.0,
             renormalize: bool = False) -> Plan:
    """The plan against a release's token counts (``--release``, else the newest one here, else
    none), with ``overrides`` taking precedence; saved as ``R/mixture.json`` when there is a release."""
    unknown = sorted(set(overrides) - set(TABLE1))
    if unknown:
        raise MixtureError(f"--available: unknown source {', '.join(unknown)} "
                           f"(valid: {', '.join(SOURCES)})")
    if release is None and (release := newest_release()):
        print(f"mix: using the newest release here, {release} (--release to choose)",
              file=sys.stderr)
    available: dict[str, int] | None = None
    disk = {source: row.disk_bytes for source, row in TABLE1.items()}
    if release:
        entries = manifest_lib.load(release).sources
        available = {s: e.tokens["tokens"] for s, e in entries.items() if e.tokens}
        disk = {s: e.text_bytes for s, e in entries.items()}
        if not available and not overrides:
            raise MixtureError(f"{release}: no token counts yet (run: llama-data tokenizer encode "
                               f"--release {release}), or give --available SOURCE=N")
    if overrides:
        available = {**(available or {}), **overrides}
    plan = make_plan(total_tokens, weights, available, disk, max_epochs=max_epochs,
                     renormalize=renormalize, disk_from_release=bool(release))
    if release:
        _save_json(Path(release) / MIXTURE_FILE, plan.to_json())
        print(f"mixture plan saved to {Path(release) / MIXTURE_FILE}", file=sys.stderr)
    return plan


def load_plan(release: str) -> Plan:
    path = Path(release) / MIXTURE_FILE
    try:
        return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as e:
        raise MixtureError(f"{path}: no mixture plan (run: llama-data mix --tokens N "
                           f"--release {release})") from e
    except (ValueError, MixtureError) as e:
        raise MixtureError(f"{path}: {e}") from e


def release_weights(release: str) -> dict[str, float]:
    """The weights of the release's mixture plan, or Table 1's when it has none yet."""
    if not (Path(release) / MIXTURE_FILE).exists():
        return load_weights("table1")
    return {s.source: s.weight for s in load_plan(release).sources}


def _save_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
