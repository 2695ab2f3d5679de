"""ArXiv end to end on Beam's real local runner: the shared papers as folders, a bulk archive
of three submissions (a paper's tar, a single .tex, a PDF), --drop-appendix, bad members."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

from conftest import CORPUS, IN_PROCESS, TWO_WORKERS, corpus_files

from llama_data.cli import main
from llama_data.manifest import load
from llama_data.pipelines import arxiv
from llama_data.pipelines.config import ArxivConfig
from llama_data.shards import read_shard

PAPERS = CORPUS / "arxiv"
PAPER = rb"""\documentclass{article}
\newcommand{\loss}[1]{\mathcal{L}(#1)}
\begin{document}
\title{Counting words} % the title
\maketitle
\section{Introduction}
We minimise $\loss{\theta}$ over the words.
\appendix
\section{Proofs}
Long proofs.
\bibliography{refs}
\end{document}
"""


def docs(release: Path) -> dict[str, object]:
    return {d.id: d for shard in sorted((release / "arxiv").glob("*.arrow"))
            for d in read_shard(str(shard))}


def member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def bulk_archive(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    """arXiv's bulk format: a tar of per-paper .gz (a gzipped tar, or a gzipped .tex) and PDFs."""
    paper = io.BytesIO()
    with tarfile.open(fileobj=paper, mode="w:gz") as tar:
        member(tar, "ms.tex", PAPER)
        member(tar, "fig.tex", b"\\documentclass{standalone}\\begin{document}x\\end{document}")
    with tarfile.open(path, "w") as tar:
        member(tar, "2601/2601.00001.gz", paper.getvalue())
        member(tar, "2601/2601.00002.gz", gzip.compress(PAPER.replace(b"Counting", b"Sorting")))
        member(tar, "2601/2601.00003.pdf", b"%PDF-1.4\n%%EOF\n")
        for name, data in (extra or {}).items():
            member(tar, name, data)
    return path


def test_a_bulk_archive_one_document_per_paper_cleaned(tmp_path):
    bulk = bulk_archive(tmp_path / "arXiv_src_2601_001.tar")
    entry = arxiv.run(ArxivConfig(input=[str(bulk)], output=str(tmp_path / "R")), TWO_WORKERS)
    assert (entry.funnel.read, entry.funnel.kept) == (3, 2)
    assert entry.funnel.dropped == {"arxiv:pdf_only": 1}
    papers = docs(tmp_path / "R")
    assert sorted(papers) == ["arxiv/2601.00001", "arxiv/2601.00002"]
    text = papers["arxiv/2601.00001"].text
    assert text.startswith("\\section{Introduction}")
    assert "\\mathcal{L}(\\theta)" in text and "\\loss" not in text
    assert "% the title" not in text and "\\bibliography" not in text
    assert "Long proofs." in text  # appendices are kept unless asked
    assert papers["arxiv/2601.00001"].url == "https://arxiv.org/abs/2601.00001"


def test_drop_appendix_and_a_bad_member_counted(tmp_path):
    bulk = bulk_archive(tmp_path / "arXiv_src_2601_002.tar",
                        {"2601/notes.txt": b"not a submission"})
    code = main(["prepare", "arxiv", "--input", str(bulk), "--output", str(tmp_path / "R"),
                 "--drop-appendix", "--max-error-rate", "0.5", *IN_PROCESS])
    assert code == 0
    entry = load(str(tmp_path / "R")).sources["arxiv"]
    assert entry.funnel.unreadable == {"malformed_record": 1}
    assert all("Long proofs." not in d.text for d in docs(tmp_path / "R").values())


def test_the_shared_papers_as_folders(tmp_path):
    corpus_files(PAPERS, "*/main.tex")
    folders = sorted(p for p in PAPERS.iterdir() if p.is_dir())
    entry = arxiv.run(ArxivConfig(input=[str(f) for f in folders], output=str(tmp_path / "R")),
                      IN_PROCESS)
    # the cleaner's test document has no section at all: nothing of it is a paper's body
    assert entry.funnel.dropped == {"arxiv:no_section": 1}
    [paper] = docs(tmp_path / "R").values()
    source = (PAPERS / "astropy-v2.0-paper" / "main.tex").read_text(encoding="utf-8")
    first = re.search(r"\\section\*?\{[^}]*\}", source).group()
    assert paper.text.startswith(first)
    assert not re.search(r"(?<!\\)%", paper.text)
    defined = set(re.findall(r"\\newcommand\*?\{?(\\[A-Za-z]+)", source))
    assert defined and not any(re.search(re.escape(m) + r"(?![A-Za-z])", paper.text)
                               for m in defined)
