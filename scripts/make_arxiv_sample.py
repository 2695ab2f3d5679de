"""Regenerate ``llama_data/samples/arxiv/arXiv_src_2601_001.tar``, the demo's ArXiv sample, byte
for byte: one of arXiv's bulk source archives (a plain tar of ``YYMM/<id>.gz`` and ``.pdf``
members) holding three invented submissions, every file written out below (our own papers, see the
sample's README):

- ``2601/2601.00001.gz``: a gzipped tar of a paper's files: ``main.tex`` (macros with and without
  arguments and with a default argument, a ``\\def``, comments, ``\\input{sections/intro}``,
  sections down to ``\\paragraph``, inline and display mathematics, an appendix,
  ``\\bibliography{refs}``), ``sections/intro.tex``, ``figures/plot.tex`` (a standalone figure with
  its own ``\\documentclass``: the main-file rule must still pick ``main.tex``) and ``refs.bib``;
- ``2601/2601.00002.gz``: a single gzipped ``.tex`` paper with a ``thebibliography``;
- ``2601/2601.00003.pdf``: a PDF-only submission (a minimal one-page PDF written by hand).

Members are sorted, mtime 0, no owner names, gzip with no name and mtime 0.

    .venv/bin/python scripts/make_arxiv_sample.py
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

OUTPUT = (Path(__file__).resolve().parent.parent / "llama_data" / "samples" / "arxiv"
          / "arXiv_src_2601_001.tar")

MAIN_TEX = r"""\documentclass[11pt]{article}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
% Notation used throughout; none of these names may survive cleaning.
\newcommand{\vocab}{\mathcal{V}}
\newcommand{\corpuslen}{N}
\newcommand{\freq}[2][c]{f_{#1}(#2)} % the frequency of #2 in corpus #1 (default: c)
\newcommand{\pieces}[1]{\operatorname{pieces}(#1)}
\renewcommand{\epsilon}{\varepsilon}
\def\merges{M}
\def\ratio#1#2{\frac{#1}{#2}}

\title{How Many Words Does a Tokenizer See?}
\author{Wren Halloway \and Piet Osterlund}
\date{January 2026}

\begin{document}
\maketitle

\begin{abstract}
We count the words of a corpus before and after subword tokenization and relate the two counts
by a simple ratio that is stable across vocabulary sizes.
\end{abstract}

\input{sections/intro}

\section{Counting pieces}
\label{sec:counting}
For a word $w$ let $\pieces{w}$ be the number of pieces the tokenizer splits it into, and let
$\freq{w}$ be its frequency in the corpus. % the corpus is named in Section 3
The corpus then holds
\begin{equation}
  T = \sum_{w \in \vocab} \freq{w} \, \pieces{w}
\end{equation}
pieces, against $\corpuslen = \sum_{w} \freq{w}$ words. A second corpus $d$ has its own counts
$\freq[d]{w}$, and the two fertilities compare as $\ratio{T}{\corpuslen}$ and
$\ratio{T_d}{N_d}$.

\subsection{Merges and fertility}
A byte-pair vocabulary grows by $\merges$ merges. Each merge joins the most frequent adjacent
pair, so fertility falls fastest for the first merges:
\[
  \ratio{T(\merges)}{\corpuslen} \approx 1 + \frac{\alpha}{\log \merges} + \epsilon .
\]

\paragraph{Ties.}
When two pairs are equally frequent, we merge the one whose first piece comes first in byte
order; any fixed rule gives the same fertility up to $\epsilon$.

\subsection{Measured ratios}
Table~\ref{tab:ratios} lists the ratio for four vocabulary sizes; it moves by less than a tenth
between 16,000 and 64,000 pieces.

\begin{table}[h]
\centering
\begin{tabular}{rr}
vocabulary & $\ratio{T}{\corpuslen}$ \\
8,000 & 1.41 \\
16,000 & 1.32 \\
32,000 & 1.27 \\
64,000 & 1.24 \\
\end{tabular}
\caption{Pieces per word against vocabulary size.}
\label{tab:ratios}
\end{table}

\section{Conclusion}
Counting words first is cheap, and with the ratio above it predicts the token count of a corpus
to within a few percent, which is what a training budget needs to know.

\appendix
\section{Deriving the ratio}
Summing $\pieces{w} - 1$ over the corpus counts the word boundaries a merge has not yet removed;
each merge removes $\freq{w}$ of them for the words it completes.

\bibliographystyle{plain}
\bibliography{refs}

\end{document}
"""

INTRO_TEX = r"""\section{Introduction}
\label{sec:intro}
Language models are trained on a budget of tokens, while corpora are described in words. %
This paper relates the two counts. Section~\ref{sec:counting} defines the ratio of pieces per
word, and shows that it changes slowly with the size of the vocabulary $\vocab$
\cite{halloway2025}.
"""

PLOT_TEX = r"""\documentclass[tikz]{standalone}
% A standalone figure: it compiles alone, so it has a \documentclass of its own.
\begin{document}
\begin{tikzpicture}
  \draw[->] (0,0) -- (4,0) node[right] {merges};
  \draw[->] (0,0) -- (0,3) node[above] {pieces per word};
  \draw (0.2,2.8) .. controls (1,1.2) .. (4,0.8);
\end{tikzpicture}
\end{document}
"""

REFS_BIB = r"""@article{halloway2025,
  author = {Wren Halloway},
  title = {Words, Pieces and Bytes},
  journal = {Journal of Invented Results},
  year = {2025}
}
"""

SINGLE_TEX = r"""\documentclass{article}
\newcommand{\shard}{\mathcal{S}}
\newcommand{\lines}[1]{L(#1)}
\begin{document}
\title{Deduplicating Lines Across Shards}
\author{Anouk Verhey}
\maketitle

\section{The problem}
A crawl split into shards $\shard_1, \dots, \shard_k$ repeats navigation lines in most of its
pages. We keep a line only the first time its hash is seen, which needs the set of hashes
$\bigcup_i \lines{\shard_i}$ in memory. % about 8 bytes a line

\section{Sharded hashing}
Partitioning the hashes by their first byte gives 256 independent sets, so each worker holds
\[ \frac{1}{256} \Bigl| \bigcup_i \lines{\shard_i} \Bigr| \]
hashes. The result is the same as with one set, because equal lines have equal hashes and so
meet in the same partition.

\begin{thebibliography}{1}
\bibitem{verhey2024} A.~Verhey, \emph{Counting lines}, Invented Proceedings, 2024.
\end{thebibliography}
\end{document}
"""


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, its cross-reference offsets computed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def tar_bytes(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    return raw.getvalue()


def main() -> None:
    paper = tar_bytes({"main.tex": MAIN_TEX.encode(), "sections/intro.tex": INTRO_TEX.encode(),
                       "figures/plot.tex": PLOT_TEX.encode(), "refs.bib": REFS_BIB.encode()})
    bulk = tar_bytes({
        "2601/2601.00001.gz": gzip.compress(paper, mtime=0),
        "2601/2601.00002.gz": gzip.compress(SINGLE_TEX.encode(), mtime=0),
        "2601/2601.00003.pdf": minimal_pdf("Submitted as PDF only: no LaTeX source."),
    })
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(bulk)
    print(f"{OUTPUT}: 3 submissions, {len(bulk)} bytes")


if __name__ == "__main__":
    main()
