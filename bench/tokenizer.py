"""Tokenizer training, encoding and the mixture sampler, each against a baseline in the same run.

    .venv/bin/python bench/tokenizer.py

On the real text of ../shared/corpus (Wikipedia cleaned by llama-data, C4, Gutenberg books):
1. training a 32,000-piece BPE with LLaMA's spec: time and peak memory (a fresh process);
2. encoding MB/s per CPU-second, one core each: SentencePiece on whole documents (one call per
   document, the baseline), llama-data's line-split encoder (must give bit-identical ids), and
   Hugging Face `tokenizers` with the converted model (identical ids too), single-threaded;
3. `llama-data tokenizer encode` wall time with 1 and with all processes (scaling);
4. the mixture sampler's sequences/s against what a small model trains at on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import corpus_texts

ENCODE = textwrap.dedent("""
    import json, resource, sys, time
    kind, model_path, texts_path = sys.argv[1:4]
    texts = json.load(open(texts_path))
    if kind == "sentencepiece":
        from llama_data.tokenizer import model
        sp = model.load(model_path)
        run = lambda: [sp.encode(t) for t in texts]
    elif kind == "llama-data":
        from llama_data.tokenizer.encode import Encoder
        encoder = Encoder(model_path)
        run = lambda: encoder.encode(texts)
    else:
        from llama_data.tokenizer import hf
        tok = hf.to_hf(model_path)
        run = lambda: [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    start = resource.getrusage(resource.RUSAGE_SELF)  # one cold pass: no warm-up, empty caches
    ids = run()
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime
    print(json.dumps({"cpu": cpu, "ids": ids}))
""")

TRAIN = textwrap.dedent("""
    import json, resource, sys, time
    from llama_data.tokenizer import train
    start = time.perf_counter()
    train.train(sys.argv[1], {"wikipedia": 0.4, "c4": 0.4, "books": 0.2}, vocab_size=int(sys.argv[2]),
                sample_bytes=10**9)
    print(json.dumps({"wall": time.perf_counter() - start,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def make_release(folder: Path, texts: dict[str, list[str]], shards_per_source: int) -> None:
    from llama_data import manifest
    from llama_data.document import Document
    from llama_data.shards import write_shards

    for source, items in texts.items():
        docs = sorted((Document(id=f"{source}/{i:05d}", text=t, source=source)
                       for i, t in enumerate(items)), key=lambda d: d.id)
        shards = []
        for k in range(shards_per_source):
            shards += write_shards(docs[k::shards_per_source], str(folder / source), f"part-{k:05d}")
        manifest.update_source(str(folder), source, manifest.SourceEntry(
            shards, manifest.Funnel(read=len(docs), kept=len(docs)), {}, {}))


def python(*args: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    texts = corpus_texts()
    documents = [t for items in texts.values() for t in items]
    megabytes = sum(len(t.encode()) for t in documents) / 1e6
    print(f"text: {len(documents)} documents, {megabytes:.1f} MB "
          f"({', '.join(f'{s} {len(v)}' for s, v in texts.items())}); {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        release = work / "release"
        make_release(release, texts, shards_per_source=4)

        vocab = 32_000
        trained = python("-c", TRAIN, str(release), str(vocab))
        print("| tokenizer training | pieces | wall s | peak MB |\n|---|---|---|---|")
        print(f"| SentencePiece BPE, LLaMA spec, all {megabytes:.1f} MB | {vocab} | "
              f"{trained['wall']:.1f} | {trained['peak_mb']:.0f} |\n")

        model_path = str(release / "tokenizer" / "tokenizer.model")
        texts_path = work / "texts.json"
        texts_path.write_text(json.dumps(documents))
        one_thread = {"RAYON_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        results = {kind: python("-c", ENCODE, kind, model_path, str(texts_path), env=one_thread)
                   for kind in ("sentencepiece", "llama-data", "huggingface")}
        baseline = results["sentencepiece"]
        print("| encoding, one core | MB/cpu-s | vs SentencePiece whole documents | ids identical |")
        print("|---|---|---|---|")
        for kind, r in results.items():
            same = sum(a == b for a, b in zip(r["ids"], baseline["ids"]))
            print(f"| {kind} | {megabytes / r['cpu']:.2f} | {baseline['cpu'] / r['cpu']:.2f}x | "
                  f"{same}/{len(documents)} |")

        from llama_data import manifest
        from llama_data.tokenizer import encode

        scaling = work / "scaling"  # four copies, for start-up to weigh little
        make_release(scaling, {s: v * 4 for s, v in texts.items()}, shards_per_source=8)
        shutil.copytree(release / "tokenizer", scaling / "tokenizer")
        saved = manifest.load(str(scaling))
        saved.tokenizer = manifest.load(str(release)).tokenizer
        manifest.save(str(scaling), saved)
        print(f"\n| llama-data tokenizer encode, {4 * megabytes:.0f} MB in 24 shards | processes | "
              "wall s | speed-up |")
        print("|---|---|---|---|")
        walls = {}
        for workers in sorted({1, os.cpu_count() or 1}):
            shutil.rmtree(scaling / "tokens", ignore_errors=True)
            start = time.perf_counter()
            encode.encode_release(str(scaling), workers=workers)
            walls[workers] = time.perf_counter() - start
            print(f"| | {workers} | {walls[workers]:.2f} | {walls[1] / walls[workers]:.2f}x |")

        from llama_data import mixture
        from llama_data.training.data import MixtureSequences

        encode.encode_release(str(release))
        available = sum(e.tokens["tokens"] for e in manifest.load(str(release)).sources.values())
        mixture.plan_for(available, {"wikipedia": 0.4, "c4": 0.4, "books": 0.2}, str(release), {})
        print("\n| mixture sampler | seq_len | index build s | sequences/s | tokens/s |")
        print("|---|---|---|---|---|")
        for seq_len in (256, 2048):
            count = 20 * available // seq_len
            start = time.perf_counter()
            sequences = MixtureSequences(str(release), seq_len, count)
            built = time.perf_counter() - start
            start = time.perf_counter()
            n = len([sequences[k] for k in range(min(5000, len(sequences)))])
            rate = n / (time.perf_counter() - start)
            print(f"| | {seq_len} | {built:.2f} | {rate:,.0f} | {rate * seq_len:,.0f} |")
        print("\nA LLaMA-shaped 19.6M-parameter model trains at about 1.7k tokens/s on these 2 "
              "cores (../shared/reference/dependencies.md): the sampler is not the bottleneck.")


if __name__ == "__main__":
    main()
