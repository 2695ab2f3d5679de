"""``llama-data demo``: every stage of a release on the built-in sample, in a few minutes."""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from llama_data import manifest, mixture, samples

DEMO_VOCAB = 2000  # the sample is ~100 KB of text: far too little for LLaMA's 32,000 pieces
STAGES = 13
# ~14 epochs of the sample's ~36k tokens, 20-30 s on two cores: validation bits per byte fall
# until about there, and rise again as the tiny model starts to memorise so small a sample.
DEMO_TRAIN_TOKENS = 500_000
# The demo's cited pages are shorter than real ones (LLaMA's positives have 1,000+ characters).
DEMO_MIN_CITED_CHARS = 500
# Some twenty examples: many more passes than the default's 10, and a small model.
DEMO_CLASSIFIER = {"epoch": 100, "lr": 0.5, "dim": 16, "bucket": 2**16}


def _stage(number: int, title: str) -> None:
    print(f"\n== {number}/{STAGES} {title}", file=sys.stderr)


def run_demo(output: str, beam_args: Sequence[str] = ()) -> None:
    from llama_data.pipelines import wikipedia
    from llama_data.pipelines.config import WikipediaConfig
    from llama_data.tokenizer import encode
    from llama_data.tokenizer import train as train_tokenizer
    from llama_data.training import metrics
    from llama_data.training.train import TrainConfig, train

    started = time.monotonic()
    dumps = [str(p) for p in samples.wikipedia_dumps()]
    _stage(1, f"wikipedia: {len(dumps)} sample dumps -> Arrow shards (Apache Beam)")
    wikipedia.run(WikipediaConfig(input=dumps, output=output), beam_args)
    print(manifest.render(output, manifest.load(output)))

    _commoncrawl(output, dumps, beam_args)
    _c4(output, beam_args)
    _code_and_questions(output, beam_args)
    _books_and_papers(output, beam_args)

    _stage(10, f"tokenizer: SentencePiece BPE with LLaMA's spec, {DEMO_VOCAB} pieces "
              f"(LLaMA has 32,000; the demo sample is too small for that)")
    train_tokenizer.train(output, mixture.load_weights("table1"), vocab_size=DEMO_VOCAB,
                sample_bytes=10 * 2**20)

    _stage(11, "tokens: every shard encoded into uint16 token shards")
    release = encode.encode_release(output)
    tokens = {source: e.tokens["tokens"] for source, e in release.sources.items()}
    available = sum(tokens.values())

    _stage(12, "mix: the demo's sources in proportion to their tokens (Table 1's 67% CommonCrawl "
              "would repeat the sample's few pages ~80 times), all repeated for the short run")
    plan = mixture.plan_for(DEMO_TRAIN_TOKENS, {s: n / available for s, n in tokens.items()},
                            output, {}, max_epochs=math.ceil(DEMO_TRAIN_TOKENS / available))
    print(mixture.render(plan))

    _stage(13, "train: a tiny LLaMA on the release's mixture (CPU, half a minute)")
    run = Path(output) / "runs" / "demo-tiny"
    train(TrainConfig(release=output, output=str(run), preset="tiny", tokens=plan.total_tokens,
                      seq_len=128,
                      micro_batch=8, batch_tokens=2048, eval_every=50, eval_sequences=16,
                      checkpoint_every=10_000, val_fraction=0.1))
    records = [r for r in metrics.read(run) if r.get("val")]
    print("\nvalidation bits per byte, per source (lower is better)")
    print(f"{'source':<16}{'start':>10}{'end':>10}")
    for source in sorted(tokens):
        if source not in records[0]["val"]:
            print(f"{source:<16}{'(too few documents to hold any out)':>20}")
            continue
        start, end = records[0]["val"][source]["bpb"], records[-1]["val"][source]["bpb"]
        print(f"{source:<16}{start:>10.3f}{end:>10.3f}")
    print(f"\ndemo release written to {output} in {time.monotonic() - started:.0f}s; "
          f"see it again with: llama-data inspect {output}")


def _commoncrawl(output: str, dumps: Sequence[str], beam_args: Sequence[str]) -> None:
    """CCNet and LLaMA's classifier on the sample WET file, with models trained here, as CCNet
    trained its language models on Wikipedia: stages 2 to 4."""
    from llama_data.pipelines import commoncrawl
    from llama_data.pipelines.config import CommonCrawlConfig
    from llama_data.quality import reference
    from llama_data.quality.perplexity import train_language_model
    from llama_data.shards import read_shard

    models = Path(output) / "models"
    wet = [str(samples.commoncrawl_sample())]
    _stage(2, "language model: SentencePiece + KenLM 5-gram on the demo's English Wikipedia "
              "(CCNet's recipe)")
    texts = [doc.text for shard in sorted((Path(output) / "wikipedia").glob("*.arrow"))
             for doc in read_shard(str(shard)) if doc.lang == "en"]
    train_language_model(texts, "en", models / "lm", vocab_size=1000, memory="64M")
    cc = CommonCrawlConfig(input=wet, output=output, lm_dir=str(models / "lm"))

    _stage(3, "reference classifier: pages cited in the Wikipedia sample's <ref> tags against "
              "random pages (fastText)")
    pool = models / "ref-pages"  # every bucket: the classifier's examples come from all of them
    commoncrawl.run(dataclasses.replace(cc, output=str(pool), buckets=("head", "middle", "tail")),
                    beam_args)
    report = reference.train_from_release(
        dumps, [str(p) for p in sorted((pool / "commoncrawl").glob("*.arrow"))],
        models / "ref" / "en.bin", reference.TrainingParams(**DEMO_CLASSIFIER),
        min_chars=DEMO_MIN_CITED_CHARS, min_examples=5)
    counts = report["examples"]
    print(f"{counts['cited_urls']} URLs cited, {counts['positives']} cited pages, "
          f"{counts['negatives']} random pages; held-out AUC {report.get('held_out_auc', 'n/a')}")

    _stage(4, "commoncrawl: line dedup, language ID (English), perplexity buckets (head + "
              "middle), reference classifier (Apache Beam)")
    commoncrawl.run(dataclasses.replace(cc, ref_model=str(models / "ref" / "en.bin")), beam_args)
    print(manifest.render(output, manifest.load(output)))


def _c4(output: str, beam_args: Sequence[str]) -> None:
    """LLaMA's steps on the released C4 (its own rules already applied): stage 5."""
    from llama_data.pipelines import c4
    from llama_data.pipelines.config import C4Config

    _stage(5, "c4: the released format's sample, exact document dedup and language ID "
              "(English) (Apache Beam)")
    c4.run(C4Config(input=[str(samples.c4_sample())], output=output), beam_args)
    print(manifest.render(output, manifest.load(output)))


def _code_and_questions(output: str, beam_args: Sequence[str]) -> None:
    """LLaMA's GitHub and StackExchange steps on their samples: stages 6 and 7."""
    from llama_data.pipelines import github, stackexchange
    from llama_data.pipelines.config import GitHubConfig, StackExchangeConfig

    repositories = [str(p) for p in samples.github_repositories()]
    _stage(6, f"github: {len(repositories)} repository tarballs, licences (ScanCode), file "
              "filters, licence headers stripped, exact file dedup (Apache Beam)")
    github.run(GitHubConfig(input=repositories, output=output), beam_args)
    print(manifest.render(output, manifest.load(output)))

    _stage(7, "stackexchange: a site's Posts.xml, questions joined with their answers by "
              "score, HTML to text (Apache Beam)")
    stackexchange.run(StackExchangeConfig(input=[str(samples.stackexchange_posts())],
                                          output=output), beam_args)
    print(manifest.render(output, manifest.load(output)))


def _books_and_papers(output: str, beam_args: Sequence[str]) -> None:
    """LLaMA's Books and ArXiv steps on their samples: stages 8 and 9."""
    from llama_data.pipelines import arxiv, books
    from llama_data.pipelines.config import ArxivConfig, BooksConfig

    _stage(8, "books: Project Gutenberg files (an older edition of one planted) and a Books3 "
              "tarball, boilerplate removed, books inside another at >= 90% containment "
              "dropped (MinHash LSH, verified exactly) (Apache Beam)")
    books.run(BooksConfig(input=[str(p) for p in samples.books_sample()], output=output),
              beam_args)
    print(manifest.render(output, manifest.load(output)))
    for cluster in manifest.load(output).sources["books"].config["near_dup"]["clusters"]:
        print(f"near-duplicate cluster: kept {cluster['kept']}")
        for first, second, share in cluster["pairs"]:
            print(f"  {first} ~ {second}: containment {share}")

    _stage(9, "arxiv: a bulk source archive, one document per paper, \\input inlined, comments "
              "removed, user macros expanded, preamble and bibliography cut (Apache Beam)")
    arxiv.run(ArxivConfig(input=[str(samples.arxiv_sample())], output=output), beam_args)
    print(manifest.render(output, manifest.load(output)))
