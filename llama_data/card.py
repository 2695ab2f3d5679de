"""``llama-data card R``: the release shown to a person, as ``R/CARD.md`` and ``R/card.html``.

The card is built once as sections of tables, figures and texts, then rendered twice: Markdown
(tables and texts; it points at the HTML for the figures) and one self-contained HTML page (inline
CSS, PNGs as ``data:`` URIs, no script, no network), so that it can be mailed or archived as it is.
Numbers come from the manifest, ``R/mixture.json`` and ``R/runs/*/metrics.jsonl``; distributions
(languages, lengths, perplexity, classifier scores, tokens per byte by language, examples) from
at most ``scan`` documents per source, read as a stream and reservoir-sampled with the seed.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from llama_data import manifest as manifest_lib
from llama_data import mixture, progress
from llama_data.config import setting
from llama_data.document import Document
from llama_data.io import atomic_path
from llama_data.manifest import Manifest, SourceEntry
from llama_data.shards import read_shard
from llama_data.units import format_size

CARD_MD, CARD_HTML = "CARD.md", "card.html"
SCAN = 100_000  # documents read per source at most
STATS = 20_000  # documents per source whose length, perplexity and score are plotted
TOKENIZED = 200  # documents per source encoded to measure tokens per byte by language
TOKENIZED_CHARS = 20_000  # of each such document
EXAMPLES = 10
EXAMPLE_CHARS = 1_000
UNKNOWN_LANG = "unknown"
DPI = 80


@dataclasses.dataclass(frozen=True)
class CardConfig:
    """``llama-data card``."""

    release: str = setting(help_text="release folder", flag="release", metavar="R")
    seed: int = setting(0, "seed of the sampled documents")
    scan: int = setting(SCAN, "documents read per source at most")


# The card's content, rendered to Markdown and to HTML by the same code paths.

@dataclasses.dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    name: str  # the HTML table's id, for readers (and tests) that look a table up


@dataclasses.dataclass(frozen=True)
class Figure:
    png: bytes
    alt: str


@dataclasses.dataclass(frozen=True)
class Example:
    title: str
    text: str


Block = Table | Figure | Example | str


@dataclasses.dataclass(frozen=True)
class Section:
    title: str
    blocks: Sequence[Block]


# Sampling.

class Reservoir:
    """Algorithm R: a uniform sample of ``size`` of a stream of unknown length."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng = size, rng
        self.items: list[Any] = []
        self.seen = 0

    def offer(self, item: Any) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        elif (j := self.rng.randrange(self.seen)) < self.size:
            self.items[j] = item


@dataclasses.dataclass(frozen=True)
class DocStats:
    """What the plots need of one document."""

    lang: str
    text_bytes: int
    perplexity: float | None
    ref_score: float | None


@dataclasses.dataclass(frozen=True)
class SourceSample:
    scanned: int
    languages: Counter[str]  # documents per language, of those scanned
    stats: list[DocStats]
    examples: list[Document]  # texts truncated to EXAMPLE_CHARS
    texts: list[tuple[str, str]]  # (lang, text) to measure the tokenizer on


def _lang(doc: Document) -> str:
    return doc.lang or UNKNOWN_LANG


def _documents(release: str, source: str, entry: SourceEntry, rng: random.Random
               ) -> Iterator[Document]:
    """The source's documents, shard by shard in a seeded order (a capped scan is not only the
    first shards)."""
    shards = list(entry.shards)
    rng.shuffle(shards)
    for shard in shards:
        yield from read_shard(entry.shard_path(release, source, shard))


def sample_source(release: str, source: str, entry: SourceEntry, seed: int,
                  scan: int = SCAN) -> SourceSample:
    """Stream up to ``scan`` documents of ``source``; memory holds the reservoirs, not the text."""
    def rng(purpose: str) -> random.Random:  # str seeds are hashed stably (not PYTHONHASHSEED)
        return random.Random(f"{seed}:{source}:{purpose}")

    languages: Counter[str] = Counter()
    stats, examples, texts = (Reservoir(STATS, rng("stats")), Reservoir(EXAMPLES, rng("examples")),
                              Reservoir(TOKENIZED, rng("tokens")))
    with progress.bar(min(scan, entry.documents), f"card: {source}", "doc") as shown:
        for doc in _documents(release, source, entry, rng("shards")):
            if languages.total() >= scan:
                break
            languages[_lang(doc)] += 1
            stats.offer(DocStats(_lang(doc), len(doc.text.encode("utf-8")),
                                 doc.meta.get("perplexity"), doc.meta.get("ref_score")))
            examples.offer(doc.replace(text=doc.text[:EXAMPLE_CHARS + 1]))
            texts.offer((_lang(doc), doc.text[:TOKENIZED_CHARS]))
            shown.update()
    return SourceSample(languages.total(), languages, stats.items, examples.items, texts.items)


# Figures.

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    _pyplot().close(fig)
    return buffer.getvalue()


def funnel_rows(entry: SourceEntry) -> list[tuple[str, int]]:
    """Every step's outcome as (label, records): kept, then each drop, unreadable and merge
    reason; they add up to ``read``."""
    f = entry.funnel
    rows = [("kept", f.kept)]
    for kind in manifest_lib.FUNNEL_KINDS:
        rows += [(f"{kind}: {reason}", n) for reason, n in sorted(getattr(f, kind).items())]
    return rows


def funnel_figure(sources: dict[str, SourceEntry]) -> Figure:
    plt = _pyplot()
    rows = {name: funnel_rows(entry) for name, entry in sources.items()}
    heights = [max(1.2, 0.32 * len(r) + 0.6) for r in rows.values()]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, sum(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (name, steps) in zip(axes[:, 0], rows.items()):
        labels, counts = zip(*steps)
        colors = ["tab:green" if label == "kept" else "tab:red" if label.startswith("dropped")
                  else "tab:gray" for label in labels]
        bars = ax.barh(range(len(steps)), counts, color=colors)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=2, fontsize=8)
        ax.set_yticks(range(len(steps)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{name}: {sources[name].funnel.read:,} records read", fontsize=9)
        ax.margins(x=0.15)
    return Figure(_png(fig), "funnel of every source: records kept and dropped, by reason")


def share_figure(shares: dict[str, tuple[float, float]], unit: str) -> Figure:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    names = list(shares)
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [shares[n][0] for n in names], 0.4, label=f"release ({unit})")
    ax.bar([i + 0.2 for i in x], [shares[n][1] for n in names], 0.4, label="Table 1")
    ax.set_xticks(list(x), names, fontsize=8)
    ax.set(ylabel="share", title="share per source against the LLaMA paper's Table 1")
    ax.legend()
    return Figure(_png(fig), "share per source against Table 1")


def language_figure(samples: dict[str, SourceSample], top: int = 20) -> Figure:
    plt = _pyplot()
    total = sum((s.languages for s in samples.values()), Counter())
    langs = [lang for lang, _ in total.most_common(top)]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.3 * len(langs) + 1)))
    left = [0] * len(langs)
    for name, sample in samples.items():
        counts = [sample.languages.get(lang, 0) for lang in langs]
        if any(counts):
            ax.barh(langs, counts, left=left, label=name)
            left = [a + b for a, b in zip(left, counts)]
    ax.invert_yaxis()
    ax.set(xlabel="documents (sampled)", title=f"languages (doc.lang), the {len(langs)} most "
                                                 "frequent")
    ax.legend(fontsize=7)
    return Figure(_png(fig), "language distribution")


def _log_bins(values: Iterable[float], count: int = 40) -> list[float]:
    low, high = min(values), max(values)
    low, high = max(low, 1), max(high, low + 1)
    step = (math.log10(high * 1.01) - math.log10(low)) / count
    return [10 ** (math.log10(low) + i * step) for i in range(count + 1)]


def length_figure(samples: dict[str, SourceSample]) -> Figure:
    plt = _pyplot()
    lengths = {n: [d.text_bytes for d in s.stats] for n, s in samples.items() if s.stats}
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bins = _log_bins([v for values in lengths.values() for v in values])
    for name, values in lengths.items():
        ax.hist([max(v, 1) for v in values], bins=bins, histtype="step", label=name, linewidth=1.5)
    ax.set_xscale("log")
    ax.set(xlabel="document length (UTF-8 bytes, log scale)", ylabel="documents (sampled)",
           title="document lengths")
    ax.legend(fontsize=7)
    return Figure(_png(fig), "document length distributions")


def perplexity_figure(source: str, by_lang: dict[str, list[float]],
                      cutoffs: dict[str, Sequence[float]]) -> Figure:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(by_lang), figsize=(4.5 * len(by_lang), 3.2), squeeze=False)
    for ax, (lang, values) in zip(axes[0], sorted(by_lang.items())):
        lang_cutoffs = list(cutoffs.get(lang, []))
        ax.hist(values, bins=_log_bins([*values, *lang_cutoffs], 30), color="tab:blue")
        for cutoff, name in zip(lang_cutoffs, ("head | middle", "middle | tail")):
            ax.axvline(cutoff, color="tab:red", linestyle="--")
            ax.annotate(f"{name}\n{cutoff:g}", (cutoff, 1), xycoords=("data", "axes fraction"),
                        xytext=(3, -22), textcoords="offset points", fontsize=7, color="tab:red")
        ax.set_xscale("log")
        ax.set(xlabel="perplexity (log scale)", ylabel="documents", title=f"{source}, {lang}")
    return Figure(_png(fig), f"{source}: perplexity per language with the bucket cut-offs")


def score_figure(source: str, scores: list[float], threshold: float | None) -> Figure:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(scores, bins=[i / 40 for i in range(41)], color="tab:purple")
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle="--", label=f"threshold {threshold:g}")
        ax.legend(fontsize=8)
    ax.set(xlim=(0, 1), xlabel="reference-classifier score (P(cited by Wikipedia))",
           ylabel="documents", title=f"{source}: reference-classifier scores")
    return Figure(_png(fig), f"{source}: reference-classifier scores with the threshold")


def validation_figure(run: str, records: list[dict[str, Any]]) -> Figure:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for source in sorted({s for r in records for s in r.get("val", {})}):
        points = [(r["tokens"], r["val"][source]["bpb"]) for r in records
                  if source in r.get("val", {})]
        ax.plot(*zip(*points), marker="o", markersize=3, label=source)
    ax.set(xlabel="training tokens", ylabel="validation bits per byte",
           title=f"run {run}: validation per source")
    ax.legend(fontsize=7)
    return Figure(_png(fig), f"run {run}: validation bits per byte per source")


# Sections.

def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(numerator: float, denominator: float, digits: int = 3) -> str:
    return f"{numerator / denominator:.{digits}f}" if denominator else "-"


def sources_section(sources: dict[str, SourceEntry]) -> Section:
    tokens = {n: e.tokens["tokens"] for n, e in sources.items() if e.tokens}
    by_tokens = len(tokens) == len(sources)
    amounts = tokens if by_tokens else {n: e.text_bytes for n, e in sources.items()}
    total = sum(amounts.values())
    table1 = {n: mixture.TABLE1[n].weight if n in mixture.TABLE1 else 0.0 for n in sources}
    rows = [[name, _n(e.documents), _n(e.text_bytes), format_size(e.text_bytes),
             _n(tokens.get(name)), f"{amounts[name] / total:.1%}" if total else "-",
             f"{table1[name]:.1%}" if name in mixture.TABLE1 else "-"]
            for name, e in sources.items()]
    rows.append(["total", _n(sum(e.documents for e in sources.values())),
                 _n(sum(e.text_bytes for e in sources.values())),
                 format_size(sum(e.text_bytes for e in sources.values())),
                 _n(sum(tokens.values())) if tokens else "-", "100.0%" if total else "-", "-"])
    unit = "tokens" if by_tokens else "text bytes"
    blocks: list[Block] = [
        Table(["source", "documents", "bytes", "size", "tokens", f"share ({unit})",
               "Table 1 share"], rows, "sources")]
    if total:
        blocks.append(share_figure({n: (amounts[n] / total, table1[n]) for n in sources}, unit))
    if not by_tokens:
        blocks.append("Shares are of text bytes: not every source has token counts yet "
                      "(llama-data tokenizer encode).")
    return Section("Sources", blocks)


def funnel_section(sources: dict[str, SourceEntry]) -> Section:
    rows = [[name, _n(e.funnel.read), label, _n(count)]
            for name, e in sources.items() for label, count in funnel_rows(e)]
    return Section("Funnel", [
        ("Every record read is kept, dropped by a step (the reason is `step:why`), unreadable, "
         "or merged into another record."),
        Table(["source", "read", "outcome", "records"], rows, "funnel"),
        funnel_figure(sources)])


def counters_section(sources: dict[str, SourceEntry]) -> Section:
    dedup = [[name, _n(e.counters["dedup/lines_seen"]), _n(e.counters.get("dedup/lines_removed",
                                                                           0)),
              f"{e.counters.get('dedup/lines_removed', 0) / e.counters['dedup/lines_seen']:.1%}"
              if e.counters["dedup/lines_seen"] else "-",
              _n(e.counters.get("dedup/chars_removed"))]
             for name, e in sources.items() if "dedup/lines_seen" in e.counters]
    other = [[name, counter, _n(value)] for name, e in sources.items()
             for counter, value in sorted(e.counters.items())]
    blocks: list[Block] = []
    if dedup:
        blocks.append(Table(["source", "lines seen", "lines removed", "removal rate",
                             "characters removed"], dedup, "line-dedup"))
    else:
        blocks.append("No source of this release removes repeated lines.")
    if other:
        blocks += ["All counters:", Table(["source", "counter", "value"], other, "counters")]
    return Section("Line deduplication", blocks)


def language_section(samples: dict[str, SourceSample]) -> Section:
    rows = [[name, lang, _n(count), _ratio(count * 100, s.scanned, 1) + "%"]
            for name, s in samples.items() for lang, count in s.languages.most_common()]
    blocks: list[Block] = [Table(["source", "language", "documents (sampled)", "share"], rows,
                                 "languages")]
    if any(s.scanned for s in samples.values()):
        blocks += [language_figure(samples), length_figure(samples)]
    return Section("Languages and lengths", blocks)


def quality_section(sources: dict[str, SourceEntry], samples: dict[str, SourceSample]
                    ) -> Section:
    blocks: list[Block] = []
    for name, sample in samples.items():
        by_lang: dict[str, list[float]] = {}
        for d in sample.stats:
            if d.perplexity is not None:
                by_lang.setdefault(d.lang, []).append(d.perplexity)
        config = sources[name].config
        if by_lang:
            blocks.append(perplexity_figure(name, by_lang, config.get("bucket_cutoffs") or {}))
            blocks.append(f"{name}: kept buckets "
                          f"{', '.join(config.get('perplexity', {}).get('keep_buckets', []))}; "
                          "cut-offs per language: "
                          + "; ".join(f"{lang} {', '.join(f'{c:g}' for c in cuts)}" for lang, cuts
                                      in sorted((config.get("bucket_cutoffs") or {}).items())))
        scores = [d.ref_score for d in sample.stats if d.ref_score is not None]
        if scores:
            threshold = (config.get("reference_classifier") or {}).get("threshold")
            blocks.append(score_figure(name, scores, threshold))
    if not blocks:
        blocks.append("No document of this release carries a perplexity or a classifier score.")
    else:
        blocks.append("Distributions of the documents kept (rejected ones are in a release "
                      "prepared with --keep-rejects).")
    return Section("Quality filters", blocks)


def tokenizer_section(release: str, manifest: Manifest, samples: dict[str, SourceSample]
                      ) -> Section:
    if not manifest.tokenizer:
        return Section("Tokenizer", ["No tokenizer yet (llama-data tokenizer train)."])
    from llama_data.tokenizer import model

    t = manifest.tokenizer
    blocks: list[Block] = [
        (f"`{t['path']}`: {t['vocab_size']:,} pieces, SentencePiece "
         f"{t['spec']['model_type']}, sha256 `{t['sha256'][:16]}`.")]
    blocks.append(Table(
        ["source", "tokens", "bytes", "tokens per byte"],
        [[name, _n(e.tokens["tokens"]), _n(e.text_bytes), _ratio(e.tokens["tokens"], e.text_bytes)]
         for name, e in manifest.sources.items() if e.tokens],
        "tokens-per-source"))
    processor = model.load(Path(release) / t["path"])
    per_lang: dict[tuple[str, str], list[int]] = {}
    for name, sample in samples.items():
        for lang, text in sample.texts:
            counts = per_lang.setdefault((name, lang), [0, 0])
            counts[0] += len(processor.encode(text)) + 2  # <s> and </s>, as the token shards
            counts[1] += len(text.encode("utf-8"))
    blocks.append(f"By language: up to {TOKENIZED} sampled documents per source, the first "
                  f"{TOKENIZED_CHARS:,} characters of each, with <s> and </s> as in the token "
                  "shards.")
    blocks.append(Table(
        ["source", "language", "tokens (sampled)", "bytes (sampled)", "tokens per byte"],
        [[name, lang, _n(tokens), _n(size), _ratio(tokens, size)]
         for (name, lang), (tokens, size) in sorted(per_lang.items())], "tokens-per-language"))
    return Section("Tokenizer", blocks)


def mixture_section(release: str) -> Section:
    if not (Path(release) / mixture.MIXTURE_FILE).exists():
        return Section("Mixture", ["No mixture plan yet (llama-data mix --release R)."])
    plan = mixture.load_plan(release)
    rows = [[s.source, f"{s.weight:.1%}", _n(s.target_tokens), _n(s.available_tokens),
             "-" if s.epochs is None else mixture.format_epochs(s.epochs)]
            for s in plan.sources]
    blocks: list[Block] = [f"{_n(plan.total_tokens)} training tokens.",
                           Table(["source", "weight", "target tokens", "available tokens",
                                  "epochs"], rows, "mixture")]
    blocks += [f"Warning: {w}" for w in plan.warnings]
    return Section("Mixture", blocks)


def validation_section(release: str) -> Section:
    from llama_data.training import metrics

    blocks: list[Block] = []
    for log in sorted(Path(release).glob(f"runs/*/{metrics.JSONL}")):
        records = metrics.read(log.parent)
        evaluated = [r for r in records if r.get("val")]
        if not evaluated:
            continue
        first, last = evaluated[0]["val"], evaluated[-1]["val"]
        blocks.append(Table(
            ["source", "first bits/byte", "last bits/byte"],
            [[s, f"{first[s]['bpb']:.3f}" if s in first else "-", f"{last[s]['bpb']:.3f}"]
             for s in sorted(last)], f"validation-{log.parent.name}"))
        blocks.append(validation_figure(log.parent.name, records))
    return Section("Validation", blocks or ["No training run with validation yet."])


def examples_section(samples: dict[str, SourceSample]) -> Section:
    blocks: list[Block] = []
    for name, sample in samples.items():
        for doc in sample.examples:
            text = doc.text if len(doc.text) <= EXAMPLE_CHARS else doc.text[:EXAMPLE_CHARS] + " […]"
            blocks.append(Example(f"{name} · {doc.id}" + (f" · {doc.lang}" if doc.lang else ""),
                                  text))
    return Section(f"Random documents ({EXAMPLES} per source)", blocks)


def build(release: str, seed: int = 0, scan: int = SCAN) -> list[Section]:
    manifest = manifest_lib.load(release)
    sources = dict(sorted(manifest.sources.items()))
    samples = {name: sample_source(release, name, entry, seed, scan)
               for name, entry in sources.items()}
    return [sources_section(sources), funnel_section(sources), counters_section(sources),
            language_section(samples), quality_section(sources, samples),
            tokenizer_section(release, manifest, samples), mixture_section(release),
            validation_section(release), examples_section(samples)]


# Rendering.

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def to_markdown(release: str, sections: Sequence[Section]) -> str:
    lines = [f"# Data card: {Path(release).name}", "",
             f"Figures: [{CARD_HTML}]({CARD_HTML}) (self-contained).", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(map(_md_cell, block.header)) + " |")
                lines.append("|" + "|".join("---" for _ in block.header) + "|")
                lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block.rows]
            elif isinstance(block, Figure):
                lines.append(f"*Figure in {CARD_HTML}: {block.alt}.*")
            elif isinstance(block, Example):
                fence = _fence(block.text)
                lines += [f"**{_md_cell(block.title)}**", "", f"{fence}text", block.text, fence]
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
td.num { text-align: right; }
th { background: #f0f0f0; }
img { max-width: 100%; display: block; margin: 0.5em 0 1em; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: 0.6em; border: 1px solid #ddd;
      font-size: 0.85em; }
details { margin: 0.3em 0; }
"""


_NUMBER = re.compile(r"[\d,.]+(%| [KMGT]?i?B)?")


def _html_cell(text: str) -> str:
    """A cell, numbers right-aligned."""
    numeric = ' class="num"' if _NUMBER.fullmatch(text) else ""
    return f"<td{numeric}>{html.escape(text)}</td>"


def _html_block(block: Block) -> str:
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
        body = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>"
                       for row in block.rows)
        return (f'<table id="{html.escape(block.name)}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{data}">'
    if isinstance(block, Example):
        return (f"<details><summary>{html.escape(block.title)}</summary>"
                f"<pre>{html.escape(block.text)}</pre></details>")
    return f"<p>{html.escape(block)}</p>"


def to_html(release: str, sections: Sequence[Section]) -> str:
    title = html.escape(f"Data card: {Path(release).name}")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{title}</title><style>{CSS}</style></head><body>", f"<h1>{title}</h1>"]
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts += [_html_block(block) for block in section.blocks]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_card(release: str, seed: int = 0, scan: int = SCAN) -> tuple[Path, Path]:
    """Write ``R/CARD.md`` and ``R/card.html``; returns their paths."""
    sections = build(release, seed, scan)
    paths = Path(release) / CARD_MD, Path(release) / CARD_HTML
    for path, text in zip(paths, (to_markdown(release, sections), to_html(release, sections))):
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return paths

