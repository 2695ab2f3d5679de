"""ArXiv readers on real files written in tmp_path: a bulk archive in arXiv's format (a tar of
per-paper .gz files: a gzipped tar, a gzipped single .tex, a PDF), paper folders and archives,
the main-file rule, \\input inlining, hostile members, bombs, Latin-1, and the shared paper."""

from __future__ import annotations

import gzip
import io
import tarfile

from conftest import CORPUS, corpus_files, outcomes, tar_members

from llama_data.errors import DecompressionBomb, TruncatedInput, UnsafeArchiveMember
from llama_data.filters import Rejected, run_steps
from llama_data.quality.arxiv import arxiv_steps
from llama_data.sources.archives import ArchiveLimits
from llama_data.sources.arxiv import BulkReader, PaperReader, main_file, paper_id, read_arxiv

MAIN = (b"\\documentclass{article}\n\\newcommand{\\k}{K}\n\\begin{document}\n"
        b"\\section{Intro}\nText about \\k.\n\\input{sections/method}\n% \\input{notes}\n"
        b"\\end{document}\n")
METHOD = b"\\subsection{Method}\nWe do it.\n"
FIGURE = (b"\\documentclass{standalone}\n\\begin{document}\n\\begin{tikzpicture}"
          + b"\\draw (0,0) -- (1,1);" * 50 + b"\\end{tikzpicture}\n\\end{document}\n")


def tar_bytes(files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def paper_files() -> dict[str, bytes]:
    return {"ms.tex": MAIN, "sections/method.tex": METHOD, "fig.tex": FIGURE,
            "fig.png": b"\x89PNG\r\n"}


def test_bulk_archive_gives_one_record_per_paper(tmp_path):
    bulk = tmp_path / "arXiv_src_1801_001.tar"
    single = b"\\documentclass{article}\\begin{document}\\section{Only}One file.\\end{document}"
    with tarfile.open(bulk, "w") as tar:  # arXiv's bulk tars are not compressed
        for name, data in [("1801/1801.00001.gz", tar_bytes(paper_files())),
                           ("1801/1801.00002.gz", gzip.compress(single)),
                           ("1801/1801.00003.pdf", b"%PDF-1.4\n%...")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    docs, errors = outcomes(read_arxiv(str(bulk)))
    assert errors == []
    assert [d.id for d in docs] == ["arxiv/1801.00001", "arxiv/1801.00002", "arxiv/1801.00003"]
    tar_paper, tex_paper, pdf_paper = docs
    assert tar_paper.url == "https://arxiv.org/abs/1801.00001"
    assert tar_paper.meta == {"paper_id": "1801.00001", "main_file": "ms.tex", "files": 4,
                              "missing_inputs": [], "encoding": "utf-8", "pdf_only": False}
    # the input inlined where it stood, the commented one left alone; raw LaTeX
    assert tar_paper.text == MAIN.decode().replace("\\input{sections/method}\n",
                                                   METHOD.decode() + "\n")
    assert tex_paper.text == single.decode()
    assert tex_paper.meta["main_file"] == "1801.00002.tex" and tex_paper.meta["files"] == 1
    assert pdf_paper.text == "" and pdf_paper.meta["pdf_only"] is True
    stepped = [run_steps(d, arxiv_steps()) for d in docs]
    assert [o.reason if isinstance(o, Rejected) else o.text.splitlines()[0]
            for o in stepped] == ["\\section{Intro}", "\\section{Only}One file.",
                                   "arxiv:pdf_only"]
    assert "\\subsection{Method}" in stepped[0].text and "\\k" not in stepped[0].text


def test_folder_and_archives_of_a_paper_agree(tmp_path):
    files = paper_files()
    folder = tmp_path / "1801.00001"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (tmp_path / "a").mkdir()
    archive = tmp_path / "a" / "1801.00001.tar.gz"
    archive.write_bytes(tar_bytes(files))
    plain = tmp_path / "1801.00001.tar"
    plain.write_bytes(tar_bytes(files, "w"))
    outs = [outcomes(PaperReader(str(p))) for p in (folder, archive, plain)]
    assert all(errors == [] for _, errors in outs)
    assert len({(d.id, d.text, str(d.meta)) for docs, _ in outs for d in docs}) == 1


def test_old_style_ids():
    assert paper_id("0001/astro-ph0001001.gz") == ("astro-ph/0001001", True)
    assert paper_id("math.AG0601001.gz") == ("math.AG/0601001", True)
    assert paper_id("2101.12345v2.tar.gz") == ("2101.12345v2", True)
    assert paper_id("astropy-v2.0-paper") == ("astropy-v2.0-paper", False)


def test_main_file_rule():
    fig = FIGURE.decode()
    main = "\\documentclass{article}\\begin{document}\\section{A}\\input{b}\\end{document}"
    # a standalone figure (larger, but no section) loses to the paper
    assert main_file({"fig.tex": fig * 5, "paper.tex": main}) == "paper.tex"
    # both complete: more \input references win over size
    other = main.replace("\\input{b}", "x" * 1000)
    assert main_file({"a.tex": other, "z.tex": main}) == "z.tex"
    # then the largest, then main.tex before other names
    assert main_file({"a.tex": main + "y", "main.tex": main}) == "a.tex"
    assert main_file({"a.tex": main, "main.tex": main}) == "main.tex"
    # a commented \documentclass does not make a main file; without any, all .tex files compete
    assert main_file({"notes.tex": "%\\documentclass{x}\n" + "n" * 99, "b.tex": "text"}) \
        == "notes.tex"
    assert main_file({"fig.png": "x"}) is None


def test_inputs_forms_missing_refused_and_cycles(tmp_path):
    main = (b"\\documentclass{article}\\begin{document}\\section{A}\n\\input intro\n"
            b"\\include{chap}\n\\input{gone}\n\\input{../secret}\n\\input{/etc/passwd}\n"
            b"\\input{loop}\n\\end{document}\n")
    files = {"main.tex": main, "intro.tex": b"INTRO", "chap.tex": b"CHAP\\input{deep/x}",
             "deep/x.tex": b"NESTED", "loop.tex": b"L\\input{loop2}", "loop2.tex": b"\\input{loop}"}
    folder = tmp_path / "p"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (tmp_path / "secret.tex").write_bytes(b"SECRET")
    [doc] = list(PaperReader(str(folder)))
    assert "INTRO\n" in doc.text and "CHAP" in doc.text and "NESTED" in doc.text
    assert "SECRET" not in doc.text
    assert doc.meta["missing_inputs"] == ["gone", "../secret", "/etc/passwd", "loop"]
    assert doc.text.count("L\\input{loop}") == 1  # loop -> loop2 -> loop stops


def test_unsafe_members_are_refused_and_the_paper_read(tmp_path):
    link = tarfile.TarInfo("evil.tex")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("hard.tex")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../outside.tex"
    main = (b"\\documentclass{article}\\begin{document}\\section{A}\\input{evil}\\input{up}"
            b"\\end{document}")
    archive = tar_members(tmp_path / "paper.tar.gz", [
        (tarfile.TarInfo("main.tex"), main), (tarfile.TarInfo("../up.tex"), b"UP"),
        (tarfile.TarInfo("/abs.tex"), b"ABS"), (link, None), (hard, None)])
    docs, errors = outcomes(PaperReader(str(archive)))
    assert [type(e) for e in errors] == [UnsafeArchiveMember] * 4
    assert [e.position for e in errors] == ["../up.tex", "/abs.tex", "evil.tex", "hard.tex"]
    [doc] = docs
    assert doc.meta["missing_inputs"] == ["evil", "up"] and doc.meta["files"] == 1
    assert "UP" not in doc.text.replace("\\input{up}", "")


def test_a_bomb_stops_its_paper_and_the_bulk_archive_reads_on(tmp_path):
    bomb = tar_bytes({"main.tex": MAIN, "zeros.pdf": b"\0" * (8 << 20)})
    many = tar_bytes({f"f{i}.tex": b"x" for i in range(50)})
    assert len(bomb) < 64 << 10
    bulk = tmp_path / "arXiv_src_1801_002.tar"
    with tarfile.open(bulk, "w") as tar:
        for name, data in [("1801/1801.00001.gz", bomb), ("1801/1801.00002.gz", many),
                           ("1801/1801.00003.gz", gzip.compress(MAIN)),
                           ("1801/1801.00004.gz", gzip.compress(MAIN)[:40])]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    limits = ArchiveLimits(max_files=20, max_expanded_bytes=1 << 20, max_file_bytes=1 << 20)
    docs, errors = outcomes(BulkReader(str(bulk), limits))
    assert [type(e) for e in errors] == [DecompressionBomb, DecompressionBomb, TruncatedInput]
    assert "1801/1801.00001.gz" in errors[0].path and "bytes" in str(errors[0])
    assert "more than 20 files" in str(errors[1])
    assert [d.id for d in docs] == ["arxiv/1801.00003"]


def test_latin1_tex_is_decoded_with_the_fallback(tmp_path):
    tex = "\\documentclass{article}\\begin{document}\\section{Caf\xe9}Na\xefve.\\end{document}"
    path = tmp_path / "1801.00005.gz"
    path.write_bytes(gzip.compress(tex.encode("latin-1")))
    [doc] = list(read_arxiv(str(path)))
    assert doc.meta["encoding"] == "latin-1"
    assert doc.text == tex
    utf8 = tmp_path / "1801.00006.gz"
    utf8.write_bytes(gzip.compress(tex.encode("utf-8")))
    [doc] = list(read_arxiv(str(utf8)))
    assert doc.meta["encoding"] == "utf-8" and doc.text == tex


def test_shared_astropy_paper_folder():
    folder = CORPUS / "arxiv" / "astropy-v2.0-paper"
    corpus_files(folder, "main.tex")
    [doc] = list(PaperReader(str(folder)))
    assert doc.id == "arxiv/astropy-v2.0-paper" and doc.url is None
    assert doc.meta == {"paper_id": "astropy-v2.0-paper", "main_file": "main.tex", "files": 5,
                        "missing_inputs": [], "encoding": "utf-8", "pdf_only": False}
    author = (folder / "author.tex").read_text()
    assert author.strip() in doc.text and "\\input{author.tex}" not in doc.text
