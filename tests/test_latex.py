"""LaTeX cleaning: comments, every macro definition form (hand-worked expansions), the caps that
stop recursive macros, the cuts at the first section and the bibliography, and the two shared
papers (the astropy paper read with its \\input files)."""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS, corpus_files

from llama_data.filters import Rejected, run_steps
from llama_data.quality.arxiv import arxiv_steps
from llama_data.sources.arxiv import PaperReader
from llama_data.text.latex import (
    SECTIONING,
    ExpansionLimits,
    clean_paper,
    comment_start,
    expand_macros,
    remove_comments,
)

ARXIV = CORPUS / "arxiv"


# --- comments -------------------------------------------------------------------------------

def test_comments_go_to_the_end_of_the_line_escaped_percent_stays():
    tex = "a % note\nb \\% of c\nd \\\\% after a line break\n"
    assert remove_comments(tex) == "a \nb \\% of c\nd \\\\\n"


def test_a_line_that_was_only_a_comment_disappears():
    assert remove_comments("one\n% gone\n   % gone too\ntwo\n%last") == "one\ntwo\n"


def test_verbatim_and_verb_content_is_kept():
    tex = ("\\begin{verbatim}\n50% % of it\n\\end{verbatim} % comment\n"
           "\\begin{lstlisting}\n% a code comment\n\\end{lstlisting}\n\\verb|%x| y % z\n")
    assert remove_comments(tex) == ("\\begin{verbatim}\n50% % of it\n\\end{verbatim} \n"
                                    "\\begin{lstlisting}\n% a code comment\n\\end{lstlisting}\n"
                                    "\\verb|%x| y \n")


def test_a_commented_begin_verbatim_starts_nothing():
    assert remove_comments("% \\begin{verbatim}\nx % y\n") == "x \n"


# --- macros: each definition form ------------------------------------------------------------

def expanded(tex: str, **limits: int) -> str:
    return expand_macros(tex, ExpansionLimits(**limits))[0]


@pytest.mark.parametrize("tex, want", [
    # no arguments, braced name and bare name, starred
    (r"\newcommand{\R}{\mathbb{R}}$x\in\R$", r"$x\in\mathbb{R}$"),
    (r"\newcommand\R{\mathbb{R}}$\R^n$", r"$\mathbb{R}^n$"),
    (r"\newcommand*{\R}{\mathbb{R}}$\R$", r"$\mathbb{R}$"),
    # the space after a control word stays (it is the source's, not the macro's)
    (r"\newcommand{\ap}{Astropy\xspace}\ap is", r"Astropy\xspace is"),
    # arguments in braces, and single tokens without braces as TeX takes them
    (r"\newcommand{\pair}[2]{(#1, #2)}\pair{a}{b}", "(a, b)"),
    (r"\newcommand{\pair}[2]{(#1, #2)}\pair ab \pair\alpha{\beta}", r"(a, b) (\alpha, \beta)"),
    (r"\newcommand{\pair}[2]{(#1, #2)}\pair{x{y}}{}", "(x{y}, )"),
    # an optional first argument with its default
    (r"\newcommand{\norm}[2][2]{\|#2\|_{#1}}\norm{v} \norm[\infty]{w}",
     r"\|v\|_{2} \|w\|_{\infty}"),
    # \def with undelimited parameters, \gdef
    (r"\def\swap#1#2{#2#1}\swap{a}{b}\swap12", "ba21"),
    (r"\gdef\hi{hello}\hi.", "hello."),
    # \renewcommand replaces, \providecommand does not (but defines a new one)
    (r"\newcommand{\x}{1}\x\renewcommand{\x}{2}\x\providecommand{\x}{3}\x\providecommand{\y}{4}\y",
     "1224"),
    # nested: a macro whose body uses another, defined later but before the use
    (r"\newcommand{\outer}[1]{<\inner{#1}>}\newcommand{\inner}[1]{[#1]}\outer{z}", "<[z]>"),
    # a body that ends in a macro taking the arguments that follow the use (TeX's input stack)
    (r"\newcommand{\wrap}[1]{(#1)}\newcommand{\w}{\wrap}\w{k}", "(k)"),
    # a definition applies only from where it stands
    (r"\x \newcommand{\x}{X}\x", r"\x X"),
    # ## in a body is one #; an argument after a control word is not glued to it
    (r"\newcommand{\mk}{\def\y##1{##1!}}\mk\y{a}", "a!"),
    (r"\newcommand{\bf}[1]{\textbf#1}\bf{ab}", r"\textbf ab"),
    # \\ is a line break: "\\R" is not a use of \R
    (r"\newcommand{\R}{X}a\\R \\\R", r"a\\R \\X"),
])
def test_macro_forms(tex, want):
    assert expanded(tex) == want


def test_delimited_def_is_left_as_written_and_counted():
    tex = r"\def\until#1.{(#1)}\until a. \until b."
    text, stats = expand_macros(tex)
    assert text == tex
    assert (stats.expanded, stats.unexpanded, stats.stopped_reason) == (0, 2, None)


def test_a_use_missing_its_arguments_is_left_and_counted():
    text, stats = expand_macros(r"\newcommand{\p}[2]{#1#2}\p{a}")
    assert text == r"\p{a}"
    assert stats.unexpanded == 1 and stats.expanded == 0


@pytest.mark.parametrize("tex", [
    r"\def\a{\a}\a end",
    r"\def\a{x\a}\a end",
    r"\def\a{\b}\def\b{\a}\a end",
    r"\newcommand{\a}[1]{\a{#1}}\a{1} end",
])
def test_recursive_macros_stop_at_the_depth_cap(tex):
    text, stats = expand_macros(tex, ExpansionLimits(max_depth=20))
    assert stats.stopped_reason == "max_depth"
    assert text.endswith(" end")
    assert 20 <= stats.expanded <= 22


def test_doubling_macro_costs_the_depth_cap_not_two_to_the_n():
    text, stats = expand_macros(r"\def\a{\a\a}\a", ExpansionLimits(max_depth=30))
    assert stats.stopped_reason == "max_depth"
    assert stats.expanded <= 31 and len(text) < 200


def test_expansions_per_document_are_capped():
    tex = r"\newcommand{\x}{y}" + r"\x" * 100
    text, stats = expand_macros(tex, ExpansionLimits(max_expansions=10))
    assert stats.expanded == 10 and stats.stopped_reason == "max_expansions"
    assert text == "y" * 10 + r"\x" * 90


def test_output_size_is_capped():
    tex = r"\def\b{" + "b" * 1000 + "}" + r"\def\a{\b\b\b\b\b\b\b\b}" + r"\a" * 2000
    text, stats = expand_macros(tex, ExpansionLimits(max_growth=1))
    assert stats.stopped_reason == "max_size"
    # stopped at 1 MiB past the input, plus what it had pushed and the rest of the input
    assert len(text) < 3 * len(tex) + (1 << 20)
    assert len(text) > (1 << 20)


def test_sectioning_redefinitions_are_not_applied():
    text, _ = expand_macros(r"\renewcommand\section{\@startsection{section}{1}}\section{A}")
    assert text == r"\section{A}"


# --- clean_paper ------------------------------------------------------------------------------

PAPER = r"""\documentclass{article}
\newcommand{\method}{FastThing}
\title{On \method}
\begin{document}
\maketitle
\begin{abstract}An abstract.\end{abstract}
%s{Intro}
We study \method{} with $\int_0^1 f(x)\,dx$ %% a comment
and $x\%%$.
\section{Results}
Results.
\appendix
\section{Proofs}
Proof.
\bibliographystyle{plain}
%s
\end{document}
after the end
"""


@pytest.mark.parametrize("command", [f"\\{s}" for s in SECTIONING] + ["\\section*"])
def test_every_sectioning_command_starts_the_text(command):
    text = clean_paper(PAPER % (command, r"\bibliography{refs}")).text
    assert text.splitlines()[0] == command + "{Intro}"


@pytest.mark.parametrize("bibliography", [
    r"\bibliography{refs}", r"\printbibliography",
    "\\begin{thebibliography}{9}\n\\bibitem{a} A.\n\\end{thebibliography}"])
def test_the_bibliography_and_what_follows_go(bibliography):
    text = clean_paper(PAPER % (r"\section", bibliography)).text
    assert text == ("\\section{Intro}\nWe study FastThing{} with $\\int_0^1 f(x)\\,dx$ \n"
                    "and $x\\%$.\n\\section{Results}\nResults.\n\\appendix\n"
                    "\\section{Proofs}\nProof.\n")


def test_drop_appendix_cuts_at_appendix():
    text = clean_paper(PAPER % (r"\section", r"\bibliography{refs}"), drop_appendix=True).text
    assert text.endswith("\\section{Results}\nResults.\n")
    assert "Proof" not in text


def test_a_paper_without_a_section_is_empty():
    result = clean_paper("\\begin{document}\nJust text.\n\\end{document}\n")
    assert result.text == ""


def test_a_section_after_end_document_does_not_count():
    assert clean_paper("\\begin{document}x\\end{document}\n\\section{Late}\n").text == ""


# --- the shared papers ------------------------------------------------------------------------

DEFINITION = re.compile(r"\\(?:(?:re)?newcommand|providecommand)\*?\s*\{?\s*(\\[A-Za-z@]+)"
                        r"|\\[gex]?def\s*(\\[A-Za-z@]+)")


def defined_names(folder) -> set[str]:
    return {a or b for path in corpus_files(folder, "*.tex")
            for a, b in DEFINITION.findall(path.read_text())}


def no_comment_left(text: str) -> bool:
    return all(comment_start(line) is None for line in text.splitlines())


def test_astropy_paper():
    folder = ARXIV / "astropy-v2.0-paper"
    names = defined_names(folder)
    assert len(names) >= 35  # main.tex's and author.tex's
    [doc] = list(PaperReader(str(folder)))
    cleaned = run_steps(doc, arxiv_steps())
    assert not isinstance(cleaned, Rejected)
    text = cleaned.text
    assert no_comment_left(text)
    used = {n for n in names if re.search(re.escape(n) + r"(?![A-Za-z@])", doc.text.split(
        "\\begin{document}", 1)[1])}
    assert used, "the paper uses its macros in the body"
    survivors = {n for n in names if re.search(re.escape(n) + r"(?![A-Za-z@])", text)}
    assert survivors == set()
    source_lines = (folder / "main.tex").read_text().splitlines()
    first = next(line for line in source_lines if line.startswith("\\section{"))
    assert text.splitlines()[0] == first
    assert not re.search(r"\\bibliography|thebibliography|\\printbibliography", text)
    # every section before the bibliography is kept; the appendix placed after it is not
    bib = next(i for i, line in enumerate(source_lines) if line.startswith("\\bibliography{"))
    sections = [line.split("}")[0] for line in source_lines if line.startswith("\\section{")]
    before = [line.split("}")[0] for line in source_lines[:bib] if line.startswith("\\section{")]
    assert [s for s in sections if s in text] == before and len(before) < len(sections)
    assert cleaned.meta["macros_expanded"] > 100
    assert cleaned.meta["macros_unexpanded"] == 0 and cleaned.meta["expansion_stopped"] is None


def test_arxiv_latex_cleaner_test_paper():
    folder = ARXIV / "arxiv-latex-cleaner-test"
    [path] = corpus_files(folder, "main.tex")
    raw = path.read_text()
    uncommented = remove_comments(raw)
    assert no_comment_left(uncommented)
    assert "This is a percent \\%." in uncommented
    assert "Whole line comment" not in uncommented and "im_not_included" not in uncommented
    text, stats = expand_macros(uncommented)
    assert defined_names(folder) == {"\\red"} and "\\red" not in text
    assert "hello test {\\color{red} hello\ntest {\\color{red} hello}}" in text
    assert stats.expanded == 2
    # it has no section at all: cleaned to nothing, and the steps drop it as such
    [doc] = list(PaperReader(str(folder)))
    dropped = run_steps(doc, arxiv_steps())
    assert isinstance(dropped, Rejected) and dropped.reason == "arxiv:no_section"
