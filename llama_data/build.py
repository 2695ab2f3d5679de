"""``llama-data release build|plan``: a recipe's stages, run in dependency order, each only when
its fingerprint changed.

A stage's fingerprint is the sha256 of its resolved settings, the sha256 of its input files and
the fingerprints of the stages it depends on; ``R/.build/<stage>.json`` records it once the stage
has finished. So a killed build resumes at the stage it was in, a changed option reruns that
stage and everything after it that depends on it, and a rebuild with nothing changed runs nothing.

Hashing a CommonCrawl dump on every plan would take minutes: a file whose size and modification
time (ns) are those recorded keeps its recorded sha256, and only a file whose size or time changed
is read again (as make and rsync decide; a change that keeps both is not seen).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_data import manifest as manifest_lib
from llama_data import progress
from llama_data.config import setting
from llama_data.hashing import sha256_file
from llama_data.io import atomic_path
from llama_data.recipe import TOKENS, Recipe, resolve

BUILD_DIR = ".build"


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    title: str
    config: Any  # its resolved settings (JSON values)
    inputs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    # whether what it wrote is still there (a release folder cleared by hand reruns it)
    present: Callable[[], bool] = lambda: True


@dataclasses.dataclass(frozen=True)
class Step:
    stage: Stage
    run: bool
    reason: str
    fingerprint: str
    record: dict[str, Any]


def stages(recipe: Recipe) -> list[Stage]:
    """The recipe's stages in the order they run."""
    resolved, release = resolve(recipe), recipe.release
    models = Path(release) / "models"

    def in_manifest(source: str) -> Callable[[], bool]:
        return lambda: source in manifest_lib.read(release, missing_ok=True).sources

    found: list[Stage] = []
    lm = [f"lm-{lang}" for lang in sorted(recipe.lm)]
    for name, source in sorted(recipe.sources.items(), key=lambda s: s[0] == "commoncrawl"):
        after = (*lm, *(["reference"] if recipe.reference else [])) if name == "commoncrawl" \
            else ()
        if name == "commoncrawl" and recipe.lm:
            found += _model_stages(recipe, resolved, models)
        found.append(Stage(name, f"{name}: {len(source.config.input)} input file(s) -> Arrow "
                                 "shards (Apache Beam)", resolved["sources"][name],
                           tuple(source.config.input), after, in_manifest(name)))
    if recipe.lm and "commoncrawl" not in recipe.sources:
        found += _model_stages(recipe, resolved, models)
    sources = tuple(sorted(recipe.sources))
    if recipe.tokenizer:
        found.append(Stage(
            "tokenizer", f"tokenizer: SentencePiece BPE with LLaMA's spec, "
                         f"{recipe.tokenizer.vocab_size:,} pieces (LLaMA has 32,000)",
            resolved["tokenizer"], after=sources,
            present=lambda: manifest_lib.read(release, missing_ok=True).tokenizer is not None))
        found.append(Stage("encode", "tokens: every shard encoded into uint16 token shards",
                           {}, after=("tokenizer", *sources)))
    if recipe.mixture:
        found.append(Stage("mix", f"mix: {recipe.mixture.tokens:,} training tokens, weights "
                                  f"{_weights_text(recipe.mixture.weights)}",
                           resolved["mixture"], after=("encode",),
                           present=lambda: (Path(release) / "mixture.json").exists()))
    if recipe.validation:
        found.append(Stage("validation", f"validation: a {resolved['validation']['preset']} "
                                         "LLaMA trained on the release's mixture",
                           resolved["validation"], after=("mix",),
                           present=lambda: (Path(release) / "runs" / recipe.validation.name
                                            / "metrics.jsonl").exists()))
    return found


def _weights_text(weights: Any) -> str:
    if weights == TOKENS:
        return "in proportion to each source's tokens"
    return "Table 1's" if weights == "table1" else json.dumps(weights)


def _model_stages(recipe: Recipe, resolved: Mapping[str, Any], models: Path) -> list[Stage]:
    found = []
    for lang, lm in sorted(recipe.lm.items()):
        how = "downloaded (CCNet's)" if lm.download else \
            f"trained on the release's {lang} Wikipedia (CCNet's recipe)"
        found.append(Stage(f"lm-{lang}", f"language model {lang}: SentencePiece + KenLM {lm.order}"
                                         f"-gram, {how}", resolved["models"]["lm"][lang],
                           after=() if lm.download else ("wikipedia",),
                           present=_files(models / "lm" / f"{lang}.arpa.bin")))
    if recipe.reference:
        ref = recipe.reference
        cc, wiki = recipe.sources["commoncrawl"].config, recipe.sources["wikipedia"].config
        found.append(Stage(
            "reference", "reference classifier: pages cited in the Wikipedia dumps' <ref> tags "
                         "against random pages of every perplexity bucket (fastText)",
            {"classifier": resolved["models"]["reference"],
             "commoncrawl": resolved["sources"]["commoncrawl"]},
            tuple(sorted({*cc.input, *wiki.input})), tuple(f"lm-{lang}" for lang in recipe.lm),
            _files(models / "ref" / f"{ref.lang}.bin")))
    return found


def _files(*paths: Path) -> Callable[[], bool]:
    return lambda: all(p.exists() for p in paths)


def record_path(release: str, stage: str) -> Path:
    return Path(release) / BUILD_DIR / f"{stage}.json"


def _read_record(release: str, stage: str) -> dict[str, Any] | None:
    try:
        return json.loads(record_path(release, stage).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _hashes(paths: Sequence[str], known: Mapping[str, Any]) -> dict[str, list]:
    """``{path: [size, mtime_ns, sha256]}``; a local file whose size and mtime match ``known``'s
    keeps its sha256 unread (the module's docstring); a remote one is named, not read."""
    out, unread = {}, []
    for path in paths:
        if "://" in path:
            out[path] = [None, None, path]
            continue
        stat = os.stat(path)
        was = known.get(path)
        if was and was[:2] == [stat.st_size, stat.st_mtime_ns]:
            out[path] = was
        else:
            unread.append((path, stat))
    with progress.bar(len(unread), "hashing inputs", "file", disable=not unread) as shown:
        for path, stat in unread:
            digest = _folder_digest(path) if os.path.isdir(path) else sha256_file(path)
            out[path] = [stat.st_size, stat.st_mtime_ns, digest]  # a folder: its listing's digest
            shown.update()
    return {path: out[path] for path in paths}


def _folder_digest(folder: str) -> str:
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(f"{os.path.relpath(path, folder)}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def _fingerprint(config: Any, inputs: Mapping[str, list], upstream: Mapping[str, str]) -> str:
    text = json.dumps({"config": config, "inputs": {p: h[2] for p, h in inputs.items()},
                       "upstream": dict(upstream)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan(recipe: Recipe, stage_list: Sequence[Stage] | None = None) -> list[Step]:
    """What a build would do and why: each stage run (new, config changed: keys, input changed:
    files, upstream changed or runs, output missing) or skipped (unchanged)."""
    steps: dict[str, Step] = {}
    for stage in stage_list if stage_list is not None else stages(recipe):
        record = _read_record(recipe.release, stage.name) or {}
        inputs = _hashes(stage.inputs, record.get("inputs", {}))
        upstream = {name: steps[name].fingerprint for name in stage.after if name in steps}
        fingerprint = _fingerprint(stage.config, inputs, upstream)
        reason = _reason(stage, record, inputs, upstream, fingerprint,
                         sorted(name for name in upstream if steps[name].run))
        steps[stage.name] = Step(stage, reason != "unchanged", reason, fingerprint,
                                 {"fingerprint": fingerprint, "config": stage.config,
                                  "inputs": inputs, "upstream": upstream})
    return list(steps.values())


def _reason(stage: Stage, record: Mapping[str, Any], inputs: Mapping[str, list],
            upstream: Mapping[str, str], fingerprint: str, upstream_runs: list[str]) -> str:
    if not record:
        return "new"
    if record.get("config") != stage.config:
        return "config changed: " + ", ".join(changed_keys(record.get("config"), stage.config))
    old = record.get("inputs", {})
    files = sorted(p for p in {*old, *inputs} if (old.get(p) or [None] * 3)[2]
                   != (inputs.get(p) or [None] * 3)[2])
    if files:
        more = f" and {len(files) - 3} more" if len(files) > 3 else ""
        return f"input changed: {', '.join(files[:3])}{more}"
    moved = sorted(n for n in upstream if record.get("upstream", {}).get(n) != upstream[n])
    if moved or record.get("fingerprint") != fingerprint:
        return f"upstream changed: {', '.join(moved) or 'dependencies'}"
    if upstream_runs:
        return f"upstream runs: {', '.join(upstream_runs)}"
    if not stage.present():
        return "output missing"
    return "unchanged"


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two resolved configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [key for name in sorted({*old, *new})
                for key in changed_keys(old.get(name), new.get(name), f"{prefix}{name}.")]
    return [prefix.rstrip(".") or "(whole)"] if old != new else []


def render_plan(steps: Sequence[Step]) -> str:
    width = max((len(s.stage.name) for s in steps), default=5)
    lines = [f"{'stage':<{width}}  {'action':<6}  reason"]
    lines += [f"{s.stage.name:<{width}}  {'run' if s.run else 'skip':<6}  {s.reason}"
              for s in steps]
    runs = sum(s.run for s in steps)
    lines.append(f"{runs} of {len(steps)} stage(s) to run")
    return "\n".join(lines)


def build(recipe: Recipe, beam_args: Sequence[str] = (), quiet: bool = False,
          only: Sequence[str] | None = None) -> list[Step]:
    """Run the stages the plan says must run, in order, recording each as it finishes; the
    resolved recipe goes into the manifest. ``only``: run just these stages (the rest as
    planned are left for a later build)."""
    from llama_data import stages as runners

    steps = plan(recipe)
    todo = [s for s in steps if s.run and (only is None or s.stage.name in only)]
    names = {s.stage.name for s in todo}
    print(render_plan(steps), file=sys.stderr)
    for number, step in enumerate(steps, 1):
        if step.stage.name not in names:
            continue
        if not quiet:
            print(f"\n== {number}/{len(steps)} {step.stage.title}", file=sys.stderr)
        runners.run(step.stage.name, recipe, beam_args, quiet)
        path = record_path(recipe.release, step.stage.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(step.record, indent=2, sort_keys=True) + "\n",
                           encoding="utf-8")
    resolved = resolve(recipe)
    if todo or manifest_lib.read(recipe.release, missing_ok=True).recipe != resolved:
        manifest_lib.update(recipe.release, lambda m: setattr(m, "recipe", resolved))
    if todo or not (Path(recipe.release) / "card.html").exists():
        from llama_data.card import write_card

        card = write_card(recipe.release)
        print(f"data card: {card[0]} and {card[1]}", file=sys.stderr)
    return todo


@dataclasses.dataclass(frozen=True)
class ReleaseConfig:
    """``llama-data release build|plan``."""

    recipe: str = setting(help_text="recipe file (TOML), or a shipped one: llama1, demo",
                          flag="recipe", metavar="RECIPE")
    output: str | None = setting(None, "release folder", metavar="R",
                                 default_text="the recipe's [release] output")
    quiet: bool = setting(False, "print only the plan and errors", flag="-q")


def recipe_file(name: str) -> Path:
    """A path, or the name of a recipe shipped in the package."""
    from llama_data.recipe import shipped

    return shipped(name) if not Path(name).exists() and shipped(name).exists() else Path(name)
