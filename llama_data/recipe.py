"""A release recipe: one TOML file that declares a whole release, read into typed settings.

The options of a source are exactly the fields of its ``prepare`` settings
(:mod:`llama_data.pipelines.config`), so a recipe and the command line cannot drift apart. Every
problem of a recipe (an unknown key, a value of the wrong type, an input that matches no file) is
found before anything runs, and reported as ``FILE:LINE: KEY: what is wrong``; all of them at
once, so that a recipe full of placeholders (the shipped ``llama1``) lists every input to point at
a dump. tomllib gives no line numbers: a key's line is found in the text (:func:`key_line`).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_data import mixture, samples
from llama_data.cli import PREPARE
from llama_data.errors import LlamaDataError, NoInputFiles
from llama_data.io import expand_inputs
from llama_data.quality.perplexity import LM_ORDER, LM_VOCAB_SIZE, LMPLZ_MEMORY
from llama_data.quality.reference import MIN_CHARS, TrainingParams
from llama_data.remote import is_http
from llama_data.tokenizer.model import LLAMA_VOCAB_SIZE
from llama_data.tokenizer.train import DEFAULT_SAMPLE_BYTES
from llama_data.training.config import TrainConfig
from llama_data.units import parse_size

RECIPES_DIR = Path(__file__).parent / "recipes"
# Placeholders an input pattern may hold, expanded when the recipe is read (and kept as written
# in the resolved recipe, so that its fingerprint does not depend on where the package lies).
PLACEHOLDERS = {"{samples}": str(samples.SAMPLES_DIR)}
# Set by the build, never by a recipe: where a source's shards go, and the models it trains.
_BUILD_FIELDS = {"output", "input"}


class RecipeError(LlamaDataError):
    """One or more problems of a recipe, each ``FILE:LINE: KEY: message``."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("recipe has " + (f"{len(problems)} problems:\n  " if len(problems) > 1
                                          else "a problem: ") + "\n  ".join(problems))


@dataclasses.dataclass(frozen=True)
class SourceRecipe:
    """A source: its input patterns as written, the files they match, its ``prepare`` settings."""

    name: str
    patterns: tuple[str, ...]
    config: Any  # the source's config dataclass; input = the matched files, output = the release


@dataclasses.dataclass(frozen=True)
class LanguageModelRecipe:
    """``[models.lm.<lang>]``: CCNet's SentencePiece + KenLM model, trained on the release's
    Wikipedia text of that language, or downloaded (CCNet's published one)."""

    download: bool = False
    vocab_size: int = LM_VOCAB_SIZE
    order: int = LM_ORDER
    memory: str = LMPLZ_MEMORY


@dataclasses.dataclass(frozen=True)
class ReferenceRecipe(TrainingParams):
    """``[models.reference]``: LLaMA's Wikipedia-reference classifier, trained on pages cited in
    the Wikipedia source's dumps against random CommonCrawl pages of every perplexity bucket."""

    lang: str = "en"
    min_chars: int = MIN_CHARS
    min_examples: int = 10


@dataclasses.dataclass(frozen=True)
class TokenizerRecipe:
    """``[tokenizer]``: ``llama-data tokenizer train``."""

    vocab_size: int = LLAMA_VOCAB_SIZE
    sample_size: int = dataclasses.field(default=DEFAULT_SAMPLE_BYTES,
                                         metadata={"argparse": {"type": parse_size}})
    seed: int = 0
    weights: str | Mapping[str, float] = "table1"
    threads: int | None = None


TOKENS = "tokens"  # mixture weights in proportion to each source's tokens (the demo's)


@dataclasses.dataclass(frozen=True)
class MixtureRecipe:
    """``[mixture]``: ``llama-data mix``. ``weights``: "table1", "tokens" (each source in
    proportion to its tokens), or a table {source = weight}."""

    tokens: int = dataclasses.field(default=0, metadata={"argparse": {"type": mixture.parse_count}})
    weights: str | Mapping[str, float] = "table1"
    max_epochs: float = 4.0
    renormalize: bool = False


@dataclasses.dataclass(frozen=True)
class ValidationRecipe:
    """``[validation]``: a ``llama-data train`` run into ``R/runs/<name>``; ``settings`` are
    :class:`TrainConfig` fields (``tokens`` by default the mixture's)."""

    name: str
    settings: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Recipe:
    path: str
    release: str
    sources: Mapping[str, SourceRecipe]
    lm: Mapping[str, LanguageModelRecipe]
    reference: ReferenceRecipe | None
    tokenizer: TokenizerRecipe | None
    mixture: MixtureRecipe | None
    validation: ValidationRecipe | None


def key_line(text: str, key: Sequence[str]) -> int:
    """The line of ``key`` (a path of names, e.g. ``("sources", "c4", "min_words")``) in a TOML
    text: the line that assigns it, else the header of its nearest table; 1 when none."""
    best, best_depth = 1, 0
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip() if not line.lstrip().startswith(("'", '"')) \
            else line.strip()
        header = re.fullmatch(r"\[\[?\s*(.+?)\s*\]\]?", stripped)
        if header:
            table = _names(header.group(1))
            found = table
        elif (assign := re.match(r"([A-Za-z0-9_\-.\"' ]+?)\s*=", stripped)):
            found = table + _names(assign.group(1))
        else:
            continue
        depth = len(found) if list(key[:len(found)]) == found else 0
        if depth == len(key):
            return number
        if depth > best_depth:
            best, best_depth = number, depth
    return best


def _names(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', dotted)]


class _Reader:
    """Collects a recipe's problems with their lines, so that all are reported at once."""

    def __init__(self, path: str, text: str):
        self.path, self.text, self.problems = path, text, []

    def problem(self, key: Sequence[str], message: str) -> None:
        self.problems.append(f"{self.path}:{key_line(self.text, key)}: {'.'.join(key)}: {message}")

    def table(self, data: Any, key: Sequence[str]) -> dict[str, Any]:
        if isinstance(data, dict):
            return data
        self.problem(key, f"expected a table, got {_kind(data)}")
        return {}

    def known(self, data: Mapping[str, Any], key: Sequence[str], allowed: Sequence[str]) -> None:
        for name in data:
            if name not in allowed:
                self.problem([*key, name], f"unknown key (known: {', '.join(sorted(allowed))})")

    def settings(self, cls: type, data: Mapping[str, Any], key: Sequence[str],
                 skip: set[str] = frozenset()) -> dict[str, Any]:
        """``data``'s values checked and converted against ``cls``'s fields (a field's
        ``argparse`` ``type``, e.g. parse_size, applies to a string), unknown keys reported."""
        fields = {_key(f): f for f in dataclasses.fields(cls) if f.init and f.name not in skip}
        self.known(data, key, list(fields))
        hints = typing.get_type_hints(cls)
        values = {}
        for name, raw in data.items():
            if name not in fields:
                continue
            field = fields[name]
            try:
                parse = field.metadata.get("argparse", {}).get("type")
                value = parse(raw) if parse and isinstance(raw, str) \
                    else _convert(hints[field.name], raw)
                choices = field.metadata.get("argparse", {}).get("choices")
                if choices and value not in choices:
                    raise ValueError(f"{value!r} is not one of {', '.join(map(str, choices))}")
            except (TypeError, ValueError) as e:
                self.problem([*key, name], str(e))
                continue
            values[field.name] = value
        return values


def _key(field: dataclasses.Field) -> str:
    """A setting's key in a recipe: its option's name (``format`` for ``fmt``'s ``--format``)."""
    flag = field.metadata.get("flag")
    return flag.removeprefix("--").replace("-", "_") if flag and flag.startswith("--") \
        else field.name


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _convert(hint: Any, value: Any) -> Any:
    """A TOML value as a field of type ``hint`` wants it; TypeError when it cannot be."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [o for o in typing.get_args(hint) if o is not type(None)]
        for option in options:
            try:
                return _convert(option, value)
            except TypeError:
                continue
        raise TypeError(f"expected {' or '.join(_name(o) for o in options)}, got {_kind(value)}")
    if origin in (tuple, list, collections.abc.Sequence):
        if not isinstance(value, list):
            raise TypeError(f"expected an array, got {_kind(value)}")
        item = typing.get_args(hint)[0] if typing.get_args(hint) else str
        return tuple(_convert(item, v) for v in value)
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            raise TypeError(f"expected a table, got {_kind(value)}")
        return dict(value)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (bool, int, str) and type(value) is hint:
        return value
    if hint is Any:
        return value
    raise TypeError(f"expected {_name(hint)}, got {_kind(value)} {value!r}")


def _name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (tuple, list, collections.abc.Sequence):
        return "an array"
    if origin in (dict, collections.abc.Mapping):
        return "a table"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint))


def expand(pattern: str, base: Path) -> str:
    """An input pattern as written -> one to glob: placeholders filled in, a relative path taken
    from the recipe's folder."""
    for placeholder, value in PLACEHOLDERS.items():
        pattern = pattern.replace(placeholder, value)
    if "://" in pattern or is_http(pattern) or Path(pattern).is_absolute():
        return pattern
    return str(base / pattern)


def load(path: str | Path, output: str | None = None) -> Recipe:
    """Read and check the recipe at ``path`` (``output`` overrides its ``[release] output``);
    RecipeError lists every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as e:
        raise RecipeError([f"{path}: cannot read ({e.strerror or e})"]) from e
    except tomllib.TOMLDecodeError as e:
        raise RecipeError([f"{path}: not valid TOML ({e})"]) from e
    read = _Reader(str(path), text)
    read.known(data, [], ["release", "sources", "models", "tokenizer", "mixture", "validation"])
    release = read.table(data.get("release", {}), ["release"])
    read.known(release, ["release"], ["output"])
    output = output or release.get("output")
    if not isinstance(output, str) or not output:
        read.problem(["release", "output"], "the release folder is needed (or --output)")
        output = ""
    sources = {name: _source(read, name, read.table(table, ["sources", name]), output, path.parent)
               for name, table in read.table(data.get("sources", {}), ["sources"]).items()}
    sources = {name: s for name, s in sources.items() if s is not None}
    models = read.table(data.get("models", {}), ["models"])
    read.known(models, ["models"], ["lm", "reference"])
    lm = {lang: LanguageModelRecipe(**read.settings(
        LanguageModelRecipe, read.table(table, ["models", "lm", lang]), ["models", "lm", lang]))
          for lang, table in read.table(models.get("lm", {}), ["models", "lm"]).items()}
    reference = _section(read, models, ReferenceRecipe, ["models", "reference"])
    if reference and not {"wikipedia", "commoncrawl"} <= set(sources):
        read.problem(["models", "reference"], "needs a wikipedia source (its citations) and a "
                                              "commoncrawl source (its pages)")
    if reference and reference.lang not in lm:
        read.problem(["models", "reference"], f"needs [models.lm.{reference.lang}] (the "
                                              "classifier's pages are bucketed by perplexity)")
    if any(not m.download for m in lm.values()) and "wikipedia" not in sources:
        read.problem(["models", "lm"], "a model trained here needs a wikipedia source "
                                       "(or download = true)")
    recipe = Recipe(str(path), output, sources, lm, reference,
                    _section(read, data, TokenizerRecipe, ["tokenizer"]),
                    _section(read, data, MixtureRecipe, ["mixture"]),
                    _validation(read, data))
    _check_order(read, recipe)
    if read.problems:
        raise RecipeError(read.problems)
    return recipe


def _section(read: _Reader, data: Mapping[str, Any], cls: type, key: list[str]) -> Any:
    if key[-1] not in data:
        return None
    values = read.settings(cls, read.table(data[key[-1]], key), key)
    weights = values.get("weights")
    if isinstance(weights, dict):
        try:
            values["weights"] = mixture._checked(weights, "weights")
        except mixture.MixtureError as e:
            read.problem([*key, "weights"], str(e).removeprefix("weights: "))
    elif isinstance(weights, str) and weights not in ("table1", TOKENS):
        read.problem([*key, "weights"], f"expected \"table1\", \"{TOKENS}\" or a table "
                                        "{source = weight}")
    return cls(**values)


def _validation(read: _Reader, data: Mapping[str, Any]) -> ValidationRecipe | None:
    if "validation" not in data:
        return None
    table = dict(read.table(data["validation"], ["validation"]))
    name = table.pop("name", None)
    if name is not None and not isinstance(name, str):
        read.problem(["validation", "name"], f"expected a string, got {_kind(name)}")
        name = None
    settings = read.settings(TrainConfig, table, ["validation"], skip={"release", "output"})
    return ValidationRecipe(name or f"validation-{settings.get('preset', 'default')}", settings)


def _source(read: _Reader, name: str, table: Mapping[str, Any], output: str,
            base: Path) -> SourceRecipe | None:
    key = ["sources", name]
    if name not in PREPARE:
        read.problem(key, f"unknown source (known: {', '.join(PREPARE)})")
        return None
    cls = PREPARE[name].config
    patterns = table.get("input")
    if not isinstance(patterns, list) or not patterns \
            or not all(isinstance(p, str) for p in patterns):
        read.problem([*key, "input"], "expected a non-empty array of paths or globs")
        patterns = []
    values = read.settings(cls, {k: v for k, v in table.items() if k != "input"}, key,
                           skip={"output"})
    files = []
    for pattern in patterns:
        try:
            files += expand_inputs([expand(pattern, base)], folders=name == "github")
        except NoInputFiles:
            read.problem([*key, "input"], f"no file matches {pattern!r}"
                         + (f" ({expand(pattern, base)})" if expand(pattern, base) != pattern
                            else ""))
    try:
        config = cls(input=sorted(set(files)), output=output, **values)
    except (TypeError, ValueError) as e:
        read.problem(key, str(e))
        return None
    return SourceRecipe(name, tuple(patterns), config)


def _check_order(read: _Reader, recipe: Recipe) -> None:
    """Sections that need an earlier one."""
    if recipe.mixture and not recipe.tokenizer:
        read.problem(["mixture"], "needs [tokenizer] (the mixture counts tokens)")
    if recipe.mixture and recipe.mixture.tokens <= 0:
        read.problem(["mixture", "tokens"], "the training tokens are needed, e.g. \"1.4T\"")
    if recipe.validation and not recipe.mixture:
        read.problem(["validation"], "needs [mixture] (the run trains on it)")
    if (recipe.tokenizer or recipe.lm) and not recipe.sources:
        read.problem(["sources"], "no source")


def resolve(recipe: Recipe) -> dict[str, Any]:
    """The recipe with every default filled in, as plain JSON values: what the manifest stores
    and what the build fingerprints, section by section."""
    sources = {}
    for name, source in sorted(recipe.sources.items()):
        config = _plain(dataclasses.asdict(source.config))
        del config["output"]
        sources[name] = {**config, "input": list(source.patterns)}
    return {
        "recipe": recipe.path,
        "release": recipe.release,
        "sources": sources,
        "models": {"lm": {lang: _plain(dataclasses.asdict(m)) for lang, m in recipe.lm.items()},
                   "reference": _plain(dataclasses.asdict(recipe.reference))
                   if recipe.reference else None},
        "tokenizer": _plain(dataclasses.asdict(recipe.tokenizer)) if recipe.tokenizer else None,
        "mixture": _plain(dataclasses.asdict(recipe.mixture)) if recipe.mixture else None,
        "validation": _plain({"name": recipe.validation.name, **_train_settings(recipe)})
        if recipe.validation else None,
    }


def _train_settings(recipe: Recipe) -> dict[str, Any]:
    """The validation run's TrainConfig fields, defaults filled in (tokens: the mixture's)."""
    settings = {"tokens": recipe.mixture.tokens, **recipe.validation.settings}
    defaults = TrainConfig(release="", output="", **settings)
    return {k: v for k, v in dataclasses.asdict(defaults).items() if k not in ("release", "output")}


def train_config(recipe: Recipe, tokens: int | None = None) -> TrainConfig:
    """The validation run's settings (``tokens``: the mixture plan's, when the recipe gives none)."""
    settings = dict(recipe.validation.settings)
    if tokens is not None and "tokens" not in settings:
        settings["tokens"] = tokens
    return TrainConfig(release=recipe.release, output=run_folder(recipe), **settings)


def run_folder(recipe: Recipe) -> str:
    return str(Path(recipe.release) / "runs" / recipe.validation.name)


def _plain(value: Any) -> Any:
    """Tuples to lists, mappings to dicts: JSON's values, compared the same after a round trip."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def shipped(name: str) -> Path:
    """A recipe shipped in the package: ``llama1`` or ``demo``."""
    return RECIPES_DIR / f"{name}.toml"
