"""Writes tests/data/ccnet_golden.json and tests/data/ccnet_lm/: what CCNet's own code computes, for
tests/test_ccnet_golden.py to hold llama_data.text.ccnet and llama_data.quality.perplexity to.

Not part of the test run. Needs a checkout of facebookresearch/cc_net and the few packages its
modules import (numpy, pandas, psutil, requests, typing_extensions; kenlm, sentencepiece), e.g.:

    pip install --target /tmp/ccnet-deps psutil pandas requests typing_extensions
    PYTHONPATH=/tmp/ccnet-deps .venv/bin/python tests/data/make_ccnet_golden.py /tmp/cc_net

Values from CCNet's code (nothing of llama_data is imported here):

* ``text_normalizer.normalize`` and ``normalize_for_dedup`` and ``dedup.str_hash``, on lines of the
  shared corpus samples (stored as sha256 of the output, keyed by file, record and line, so that no
  corpus text enters the repository), on strings written for this project (stored in full) and on
  every code point (sha256 per block);
* ``perplexity.SentencePiece`` + ``perplexity.DocLM`` on texts written for this project, under a
  small SentencePiece + KenLM model trained here on generated sentences (``ccnet_lm/``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS_FILES = {  # file -> how to cut it into lines: (record, line) pairs
    "c4/c4-sample.00000-of-00001.json.gz": "jsonl",
    "commoncrawl/whirlwind.warc.wet.gz": "text",
    **{f"langid/udhr/human_rights_{code}_64kb.txt": "text"
       for code in ("03_eng_cc", "un_bul_eu", "un_rus_sd", "un_ukr_r90", "un_ger_robu",
                    "un_frn_grd", "un_cze_msed", "un_hun_dii", "un_rum_xip", "un_pl_km")},
}
LINES_PER_FILE = {"jsonl": 300, "text": 25}

# Written for this project: each hits a rule of the normalisers.
CRAFTED = [
    "", " \t ", "Hello WORLD", "  Leading and trailing  ", "two  inner   spaces",
    "Call 555-1234 in 2023", "０２３ fullwidth, ٣ arabic-indic, ४ devanagari, 𝟗 mathematical",
    "Café Déjà Vu, naïve Ørsted, Ångström, façade", "ÉCOLE ÇA İstanbul ß ẞ ǅ",
    "«Bonjour»，ça va？", "a—b…c–d’e", "“quoted” „low” 「corner」 《double》 〈angle〉 【lent】",
    "１ fullwidth one is in the map", "％ ： ； （x） ～ ． ━ ► ´ ∶",
    "a\tb\x00c\x7fd\x9fe\x85f", "zero\u200bwidth\u200dzwj\u00a0nbsp\u2028ls\u3000ideo",
    "\u1ffd oxia", "e\u0301 combining acute, a\u0308 diaeresis, n\u0303", "Hangul 한국어 텍스트",
    "ﬁ ligature ﬀ ½ ² ℌ", "Ελληνικά ΆΈΉ ά", "Русский Ёё Йй", "עברית עִם נִקּוּד", "العربية مع التشكيل َ ُ",
    "emoji 👍🏽 🇫🇷 👨\u200d👩\u200d👧", "astral marks 𝅘𝅥𝅮 \U0001d167\U0001d168", "Ⅻ roman ⅻ",
    "Copyright © 2021 ACME — All Rights Reserved.", "  ALL RIGHTS RESERVED 1999. ",
    "——…", "!!!", "\x1c\x1d\x1e\x1f", "tab\tinside\tline",
]

# Documents written for this project, scored under the model of ccnet_lm/.
PERPLEXITY_TEXTS = [
    "the small cat sat on the red mat .",
    "The Small Cat sat on the red mat.",
    "the red mat sat on the small cat",
    "cat mat the on sat small red the",
    "a green dog runs to the old house .\nthe old house is near 12 trees .",
    "a green dog runs to the old house .\n\n\n  the old house is near 12 trees .  \n",
    "Café near the house — “quite” old…",
    "zebra xylophone quantum wombat",
    "the dog\tran\x00 to the café in 1999 .",
    "Ünïcödé ÀÉÎ 한국어 and the cat",
]


def load(checkout: Path):
    sys.path.insert(0, str(checkout))
    from cc_net import dedup, perplexity, text_normalizer

    return text_normalizer, dedup, perplexity


def commit_of(checkout: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def sha256(text: str) -> str:
    """The first 64 bits of the SHA-256 of ``text``, in hex: enough to tell outputs apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def corpus_lines(corpus: Path, name: str, kind: str):
    """(record, line, text) for the first lines of a corpus file, as the test reads them."""
    path = corpus / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        if kind == "jsonl":
            for record, row in enumerate(f):
                for line_no, line in enumerate(json.loads(row)["text"].split("\n")):
                    yield record, line_no, line
        else:
            for line_no, line in enumerate(f.read().split("\n")):
                yield 0, line_no, line


def normalisation_goldens(tn, dd, corpus: Path) -> dict:
    def entry(line: str) -> dict:
        dedup = tn.normalize_for_dedup(line)
        whole = tn.normalize(tn.NON_PRINTING_CHARS_RE.sub(" ", line)).strip()
        return {"normalize": tn.normalize(line), "normalize_for_dedup": dedup,
                "str_hash": dd.str_hash(dedup), "normalize_text": whole}

    crafted = [{"line": line, **entry(line)} for line in CRAFTED]
    lines = []
    for name, kind in CORPUS_FILES.items():
        for n, (record, line_no, line) in enumerate(corpus_lines(corpus, name, kind)):
            if n == LINES_PER_FILE[kind]:
                break
            values = entry(line)
            lines.append({"file": name, "record": record, "line": line_no,
                          "str_hash": values.pop("str_hash"),
                          **{f"sha256_{k}": sha256(v) for k, v in values.items()}})
    # every code point (surrogates excluded) in 300-character lines, one digest per 64 lines
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    chunks = [everything[i:i + 300] for i in range(0, len(everything), 300)]
    blocks = []
    for start in range(0, len(chunks), 64):
        block = chunks[start:start + 64]
        blocks.append({
            "normalize": sha256("\n".join(tn.normalize(c) for c in block)),
            "normalize_for_dedup": sha256("\n".join(tn.normalize_for_dedup(c) for c in block)),
        })
    return {"crafted": crafted, "corpus_lines": lines,
            "every_code_point": {"line_chars": 300, "lines_per_block": 64, "blocks": blocks}}


def training_sentences(n: int = 3000, seed: int = 0) -> list[str]:
    """Generated English-like sentences: a vocabulary small enough for a model of a few KB."""
    rng = random.Random(seed)
    adjectives = ["small", "red", "green", "old", "big", "quiet", "blue", "new"]
    nouns = ["cat", "mat", "dog", "house", "tree", "road", "café", "garden", "river", "child"]
    verbs = ["sat", "runs", "walks", "is", "looks", "stands", "sleeps", "waits"]
    preps = ["on", "to", "near", "under", "by", "behind", "in"]
    out = []
    for _ in range(n):
        words = ["the" if rng.random() < 0.7 else "a", rng.choice(adjectives), rng.choice(nouns),
                 rng.choice(verbs), rng.choice(preps), "the", rng.choice(adjectives),
                 rng.choice(nouns)]
        if rng.random() < 0.2:
            words += ["in", str(rng.randint(1900, 2030))]
        out.append(" ".join(words) + rng.choice([" .", ".", " !", ""]))
    return out


def train_model(tn, out: Path, kenlm_bin: Path) -> None:
    """CCNet's Makefile recipe, small: spm_train (unigram) on normalised lines, lmplz on pieces."""
    import sentencepiece

    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "xx.txt"
        text.write_text("\n".join(tn.normalize(s) for s in training_sentences()) + "\n",
                        encoding="utf-8")
        sentencepiece.SentencePieceTrainer.train(
            input=str(text), model_prefix=str(out / "xx.sp"), model_type="unigram",
            vocab_size=60, character_coverage=0.9995, minloglevel=2, num_threads=1,
            # no NFKC table in the model file (200 KB); CCNet's and ours read the same model
            normalization_rule_name="identity")
        (out / "xx.sp.vocab").unlink()
        sp = sentencepiece.SentencePieceProcessor(model_file=str(out / "xx.sp.model"))
        pieces = "".join(" ".join(sp.encode_as_pieces(line)) + "\n"
                         for line in text.read_text(encoding="utf-8").splitlines())
        arpa = subprocess.run([str(kenlm_bin / "lmplz"), "-o", "3", "--discount_fallback",
                               "-S", "64M", "-T", tmp], input=pieces.encode(), check=True,
                              capture_output=True).stdout
        (out / "xx.arpa").write_bytes(arpa)


def perplexity_goldens(tn, pp, lm_dir: Path) -> list[dict]:
    """CCNet's DocLM over the lines that are not empty once normalised (llama-data's documented
    difference), each encoded by CCNet's SentencePiece transformer; and, for one-line texts,
    CCNet's whole ``mine`` chain (normalise + encode the document, then DocLM)."""
    models = {"xx": lm_dir / "xx.arpa"}
    sp = pp.SentencePiece(lm_dir / "xx.sp.model", field="raw", normalize=True)
    doclm = pp.DocLM(models, field="tokenized", normalize=False)
    out = []
    with sp, doclm:
        for text in PERPLEXITY_TEXTS:
            lines = [sp({"raw": line})["tokenized"] for line in text.split("\n")
                     if tn.normalize(line)]
            per_line = doclm({"language": "xx", "tokenized": "\n".join(lines)})["perplexity"]
            entry = {"text": text, "perplexity": per_line}
            if "\n" not in text:
                whole = doclm(sp({"raw": text, "language": "xx"}))["perplexity"]
                assert whole == per_line, (text, whole, per_line)
            out.append(entry)
    return out


def cutoff_goldens(pp, checkout: Path) -> dict:
    """The head/middle and middle/tail perplexities of CCNet's models, as PerplexityBucket reads
    them from its cc_net/data/cutoff.csv (the 30th and 60th percentiles)."""
    bucket = pp.PerplexityBucket(checkout / "cc_net" / "data" / "cutoff.csv")
    bucket._prepare()
    return {lang: [float(head), float(tail)] for lang, (head, tail) in bucket.cutoffs.items()}


def dump(value, indent: str = "") -> str:
    """JSON with one line per list item: readable diffs, a small file."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}" + ("" if indent else "\n")
    if isinstance(value, list) and value:
        items = [f"{inner}{json.dumps(v, ensure_ascii=True)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cc_net", type=Path, help="a checkout of facebookresearch/cc_net")
    parser.add_argument("--corpus", type=Path, default=HERE.parents[2] / "shared" / "corpus")
    parser.add_argument("--kenlm-bin", type=Path, default=Path(sys.executable).parent,
                        help="folder holding KenLM's lmplz")
    args = parser.parse_args()
    tn, dd, pp = load(args.cc_net)
    lm_dir = HERE / "ccnet_lm"
    train_model(tn, lm_dir, args.kenlm_bin)
    golden = {
        "cc_net": {"repository": "https://github.com/facebookresearch/cc_net",
                   "commit": commit_of(args.cc_net)},
        "made_by": "tests/data/make_ccnet_golden.py",
        "python": sys.version.split()[0],
        "unidata_version": unicodedata.unidata_version,
        **normalisation_goldens(tn, dd, args.corpus),
        "cutoffs": cutoff_goldens(pp, args.cc_net),
        "perplexity": {"model": "ccnet_lm/xx.sp.model + ccnet_lm/xx.arpa",
                       "texts": perplexity_goldens(tn, pp, lm_dir)},
    }
    path = HERE / "ccnet_golden.json"
    path.write_text(dump(golden), encoding="utf-8")
    print(f"wrote {path} and {lm_dir}")


if __name__ == "__main__":
    main()
