"""GitHub readers on real files: repositories written in tmp_path as folders and as archives made
with tarfile/zipfile (hostile members included), the shared repositories, and BigQuery export
lines good and bad."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import CORPUS, outcomes, tar_members

from llama_data.document import Document
from llama_data.errors import (
    DecompressionBomb,
    InvalidEncoding,
    MalformedRecord,
    TruncatedInput,
    UnsafeArchiveMember,
)
from llama_data.sources.github import (
    ArchiveLimits,
    BigQueryReader,
    RepositoryReader,
    document_id,
    file_url,
    repository_name,
    safe_path,
)

GITHUB = CORPUS / "github"
CODE = "def main():\n    print('hello')\n"


def corpus_mit() -> bytes:
    path = GITHUB / "mit_cc_net" / "LICENSE"
    if not path.exists():
        pytest.skip(f"real corpus samples not found at {GITHUB} (../shared beside the checkout)")
    return path.read_bytes()


def by_path(docs: list[Document]) -> dict[str, Document]:
    return {d.meta["path"]: d for d in docs}


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def tar_files(path: Path, files: dict[str, bytes], mode: str = "w:gz") -> Path:
    return tar_members(path, [(tarfile.TarInfo(name), data) for name, data in files.items()], mode)


def zip_files(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def repo_files() -> dict[str, bytes]:
    return {
        "LICENSE": corpus_mit(),
        "README.md": b"# myrepo\n\nA demo.\n",
        "src/main.py": CODE.encode(),
        "src/pkg/util.c": b"int one(void) { return 1; }\n",
        "assets/logo.bin": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "docs/latin1.txt": "caf\xe9\n".encode("latin-1"),
    }


def test_folder_and_archives_give_the_same_documents(tmp_path):
    files = repo_files()
    folder = write_folder(tmp_path / "myrepo", {**files, ".git/config": b"[core]\n"})
    top = "myrepo-1a2b3c4/"  # GitHub's owner-repo-sha folder, stripped
    archived = {top + name: data for name, data in files.items()}
    archived[top + ".git/HEAD"] = b"ref: refs/heads/main\n"
    (tmp_path / "a").mkdir()
    archives = [tar_files(tmp_path / "a" / "myrepo.tar.gz", archived),
                tar_files(tmp_path / "a" / "myrepo.tar.bz2", archived, "w:bz2"),
                tar_files(tmp_path / "a" / "myrepo.tar.xz", archived, "w:xz"),
                tar_files(tmp_path / "a" / "myrepo.tar", archived, "w"),
                zip_files(tmp_path / "a" / "myrepo.zip", archived)]
    docs, errors = outcomes(RepositoryReader(str(folder)))
    assert errors == []
    assert sorted(by_path(docs)) == sorted(files)  # .git skipped, nothing else
    for archive in archives:
        other, errors = outcomes(RepositoryReader(str(archive)))
        assert errors == []
        assert sorted(other, key=lambda d: d.id) == sorted(docs, key=lambda d: d.id), archive.name


def test_document_fields(tmp_path):
    docs, _ = outcomes(RepositoryReader(str(write_folder(tmp_path / "myrepo", repo_files()))))
    doc = by_path(docs)["src/main.py"]
    key = b"myrepo\nsrc/main.py"
    assert doc == Document(
        id="github/" + hashlib.sha1(key).hexdigest()[:20], text=CODE, source="github", url=None,
        meta={"repo": "myrepo", "path": "src/main.py", "licenses": ["MIT"],
              "license_file": "LICENSE", "size": len(CODE)})
    binary, latin1 = by_path(docs)["assets/logo.bin"], by_path(docs)["docs/latin1.txt"]
    assert (binary.text, binary.meta["undecodable"], binary.meta["size"]) == ("", "NUL bytes", 16)
    assert (latin1.text, latin1.meta["undecodable"]) == ("", "invalid UTF-8 at byte 3")
    assert "undecodable" not in doc.meta


def test_files_at_the_root_keep_their_folders(tmp_path):
    archive = tar_files(tmp_path / "r.tar.gz", {"setup.py": b"x = 1\n", "pkg/a.py": b"y = 2\n"})
    docs, _ = outcomes(RepositoryReader(str(archive)))
    assert sorted(by_path(docs)) == ["pkg/a.py", "setup.py"]


def test_single_top_folder_is_stripped_even_with_dot_prefixes(tmp_path):
    archive = tar_files(tmp_path / "r.tgz", {"./proj/a.py": b"a\n", "./proj/lib/b.py": b"b\n"})
    docs, _ = outcomes(RepositoryReader(str(archive)))
    assert sorted(by_path(docs)) == ["a.py", "lib/b.py"]
    assert {d.meta["repo"] for d in docs} == {"r"}


def test_repository_without_licence(tmp_path):
    folder = write_folder(tmp_path / "nolicence", {"main.py": CODE.encode(),
                                                  "README": b"Just some scripts.\n"})
    docs, errors = outcomes(RepositoryReader(str(folder)))
    assert errors == [] and len(docs) == 2
    assert all(d.meta["licenses"] == [] and d.meta["license_file"] is None for d in docs)


def test_readme_gives_the_licence_when_there_is_no_licence_file(tmp_path):
    readme = b"# tool\n\n## License\n\nLicensed under the Apache License, Version 2.0.\n"
    docs, _ = outcomes(RepositoryReader(str(tar_files(tmp_path / "tool.tar.gz", {
        "tool-main/README.md": readme, "tool-main/tool.py": CODE.encode()}))))
    assert {(d.meta["license_file"], tuple(d.meta["licenses"])) for d in docs} == {
        ("README.md", ("Apache-2.0",))}


def unsafe_positions(errors) -> list[str]:
    assert all(isinstance(e, UnsafeArchiveMember) for e in errors), errors
    return sorted(e.position for e in errors)


def test_unsafe_tar_members_are_refused_and_the_rest_read(tmp_path):
    def info(name, kind=tarfile.REGTYPE, link=""):
        member = tarfile.TarInfo(name)
        member.type, member.linkname = kind, link
        return member

    archive = tar_members(tmp_path / "evil.tar.gz", [
        (info("evil/a.py"), b"a = 1\n"),
        (info("evil/../../escape.py"), b"bad\n"),
        (info("/etc/cron.d/job"), b"bad\n"),
        (info("evil/link", tarfile.SYMTYPE, "/etc/passwd"), None),
        (info("evil/hard", tarfile.LNKTYPE, "evil/a.py"), None),
        (info("evil/fifo", tarfile.FIFOTYPE), None),
        (info("evil/dev", tarfile.CHRTYPE), None),
        (info("evil/b.py"), b"b = 2\n"),
    ])
    docs, errors = outcomes(RepositoryReader(str(archive)))
    assert unsafe_positions(errors) == sorted(["evil/../../escape.py", "/etc/cron.d/job",
                                               "evil/link", "evil/hard", "evil/fifo", "evil/dev"])
    # The top folder is that of the files read: refused members do not change it.
    assert sorted(by_path(docs)) == ["a.py", "b.py"]


def test_unsafe_zip_members_are_refused_and_the_rest_read(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("repo/ok.py", "ok = 1\n")
        archive.writestr("repo/..\\..\\win.py", "bad\n")
        archive.writestr("/abs.py", "bad\n")
        link = zipfile.ZipInfo("repo/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    docs, errors = outcomes(RepositoryReader(str(path)))
    assert unsafe_positions(errors) == sorted(["repo/..\\..\\win.py", "/abs.py", "repo/link"])
    assert sorted(by_path(docs)) == ["ok.py"]


def test_folder_links_out_of_the_repository_and_fifos_are_refused(tmp_path):
    outside = write_folder(tmp_path / "outside", {"secret.txt": b"secret\n"})
    folder = write_folder(tmp_path / "repo", {"a.py": b"a = 1\n"})
    (folder / "out.txt").symlink_to(outside / "secret.txt")
    (folder / "outdir").symlink_to(outside)
    (folder / "alias.py").symlink_to(folder / "a.py")  # inside: read as a.py only
    os.mkfifo(folder / "pipe")
    docs, errors = outcomes(RepositoryReader(str(folder)))
    assert unsafe_positions(errors) == ["out.txt", "outdir", "pipe"]
    assert sorted(by_path(docs)) == ["a.py"]


def test_zip_bomb_stops_at_the_expanded_size_cap(tmp_path):
    zeros = bytes(1 << 20)
    bomb = zip_files(tmp_path / "bomb.zip", {f"z{i}.bin": zeros for i in range(6)})
    assert bomb.stat().st_size < 64 << 10  # a few KB that expand to 6 MiB
    limits = ArchiveLimits(max_expanded_bytes=(5 << 20) // 2, max_file_bytes=2 << 20)
    out = list(RepositoryReader(str(bomb), limits))
    assert [type(x) for x in out] == [Document, Document, DecompressionBomb]
    assert out[-1].position == "after 2 members"


def test_tar_bomb_counts_the_bytes_decompressed(tmp_path):
    bomb = tar_files(tmp_path / "bomb.tar.gz", {"a.py": b"a = 1\n", "zeros": bytes(8 << 20),
                                                "b.py": b"b = 2\n"})
    limits = ArchiveLimits(max_expanded_bytes=1 << 20, max_file_bytes=16 << 20)
    assert [type(x) for x in RepositoryReader(str(bomb), limits)] == [Document, DecompressionBomb]
    # Over the file cap, the zeros are not read but still decompressed to reach the next member.
    limits = ArchiveLimits(max_expanded_bytes=1 << 20)
    out = list(RepositoryReader(str(bomb), limits))
    assert [type(x) for x in out] == [Document, Document, DecompressionBomb]
    assert out[1].meta["too_large"] and out[1].text == ""


def test_too_many_files_stop_the_archive(tmp_path):
    archive = tar_files(tmp_path / "many.tar", {f"f{i}.py": b"x\n" for i in range(5)}, "w")
    out = list(RepositoryReader(str(archive), ArchiveLimits(max_files=3)))
    assert [type(x) for x in out] == [Document] * 3 + [DecompressionBomb]
    assert "more than 3 files" in str(out[-1])


@pytest.mark.parametrize("kind", ["folder", "tar.gz", "zip"])
def test_file_over_the_size_cap_is_passed_on_unread(tmp_path, kind):
    files = {"small.py": b"x = 1\n", "big.json": b"[" + b"0," * 600 + b"0]"}
    if kind != "folder":
        files = {f"r-main/{name}": data for name, data in files.items()}
    path = {"folder": lambda: write_folder(tmp_path / "r", files),
            "tar.gz": lambda: tar_files(tmp_path / "r.tar.gz", files),
            "zip": lambda: zip_files(tmp_path / "r.zip", files)}[kind]()
    docs, errors = outcomes(RepositoryReader(str(path), ArchiveLimits(max_file_bytes=1000)))
    assert errors == []
    big = by_path(docs)["big.json"]
    assert (big.text, big.meta["too_large"], big.meta["size"]) == ("", True, 1203)
    assert "too_large" not in by_path(docs)["small.py"].meta


def test_truncated_tar_gz_keeps_the_files_before(tmp_path):
    files = {f"f{i}.txt": hashlib.sha256(str(i).encode()).hexdigest().encode() * 400
             for i in range(8)}
    whole = tar_files(tmp_path / "whole.tar.gz", files)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    out = list(RepositoryReader(str(cut)))
    assert isinstance(out[-1], TruncatedInput)
    docs = out[:-1]
    assert 1 <= len(docs) < 8 and all(isinstance(d, Document) for d in docs)
    assert all(d.text.encode() == files[d.meta["path"]] for d in docs)


def test_truncated_zip_is_reported(tmp_path):
    whole = zip_files(tmp_path / "whole.zip", {"a.py": b"a = 1\n" * 100})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[:-30])
    assert [type(x) for x in RepositoryReader(str(cut))] == [TruncatedInput]


@pytest.mark.parametrize(("folder", "spdx", "license_file"), [
    ("apache-2.0_arxiv-latex-cleaner", ["Apache-2.0"], "LICENSE"),
    ("mit_cc_net", ["MIT"], "LICENSE"),
    ("lgpl-2.1_gensim", ["LGPL-2.1-only"], "COPYING"),
])
def test_shared_repositories(folder, spdx, license_file):
    path = GITHUB / folder
    if not path.exists():
        pytest.skip(f"real corpus samples not found at {GITHUB} (../shared beside the checkout)")
    docs, errors = outcomes(RepositoryReader(str(path)))
    assert errors == []
    assert sorted(by_path(docs)) == sorted(p.name for p in path.iterdir())
    assert all(d.meta["licenses"] == spdx and d.meta["license_file"] == license_file for d in docs)


def test_repository_names_and_safe_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(write_folder(tmp_path / "proj", {"a.py": b"a\n"}))
    assert repository_name(".") == "proj"
    assert [repository_name(p) for p in ["/x/owner-repo-0a1b2c.tar.gz", "/x/repo.zip",
                                         "/x/repo.tgz", "/x/my.repo/", "/x/r.tar.xz"]] == [
        "owner-repo-0a1b2c", "repo", "repo", "my.repo", "r"]
    assert safe_path("./a//b/./c.py") == "a/b/c.py"
    assert [safe_path(p) for p in ["../a", "a/../../b", "/a", "C:/a", "\\a", ".", ""]] == [None] * 7


def test_ids_and_urls():
    assert document_id("o/r", "a.py") != document_id("o/r2", "a.py")
    assert document_id("o/r", "a.py").startswith("github/") and len(document_id("o/r", "a")) == 27
    assert file_url("octo-org/my.repo", "src/a b.py") == (
        "https://github.com/octo-org/my.repo/blob/HEAD/src/a%20b.py")
    assert file_url("myrepo", "a.py") is None


def bigquery_line(**record) -> bytes:
    return json.dumps(record).encode() + b"\n"


def test_bigquery_lines_good_and_bad(tmp_path):
    lines = [
        bigquery_line(repo_name="octo/tool", path="src/a.py", content=CODE, license="mit"),
        b"{not json\n",
        b'{"repo_name": "octo/tool", "path": "b.py", "content": "caf\xe9"}\n',
        bigquery_line(repo_name="octo/tool", path="c.py"),
        b"\n",
        bigquery_line(repo_name="octo/tool", path="d.py", content="x\u0000y", license="other"),
        bigquery_line(repo_name="octo/tool", path="e.py", content="e = 1\n",
                      licenses=["bsd-3-clause", "mit", "other"]),
        bigquery_line(repo_name="octo/tool", path="f.py", content="\ud800"),
    ]
    path = tmp_path / "export-000.json.gz"
    path.write_bytes(gzip.compress(b"".join(lines)))
    out = list(BigQueryReader(str(path)))
    assert [(type(x), getattr(x, "position", None)) for x in out] == [
        (Document, None), (MalformedRecord, "line 2"), (InvalidEncoding, "line 3"),
        (MalformedRecord, "line 4"), (Document, None), (Document, None),
        (InvalidEncoding, "line 8")]
    first, nul, listed = out[0], out[4], out[5]
    assert first.url == "https://github.com/octo/tool/blob/HEAD/src/a.py"
    assert first.text == CODE and first.id == document_id("octo/tool", "src/a.py")
    assert first.meta == {"repo": "octo/tool", "path": "src/a.py", "licenses": ["MIT"],
                          "license_file": "bigquery", "size": len(CODE)}
    assert (nul.text, nul.meta["undecodable"], nul.meta["licenses"], nul.meta["license_file"]) == (
        "", "NUL bytes", [], None)
    assert listed.meta["licenses"] == ["BSD-3-Clause", "MIT"]


def test_bigquery_truncated_gzip_keeps_the_lines_before(tmp_path):
    lines = [bigquery_line(repo_name="o/r", path=f"{i}.py",
                           content=hashlib.sha256(str(i).encode()).hexdigest() * 20)
             for i in range(200)]
    whole = gzip.compress(b"".join(lines))
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    out = list(BigQueryReader(str(path)))
    assert isinstance(out[-1], TruncatedInput)
    assert 1 <= len(out) - 1 < 200
    assert [d.meta["path"] for d in out[:-1]] == [f"{i}.py" for i in range(len(out) - 1)]


def test_an_xml_entity_bomb_in_a_repository_is_text_never_expanded(tmp_path):
    """Code is read as bytes, never parsed: a "billion laughs" file is a small text file."""
    laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
              + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                             else b"&lol;") * 10)
                         for i in range(1, 10))
              + b"]>\n<lolz>&lol9;</lolz>\n")
    path = tar_files(tmp_path / "r.tar.gz", {"r-main/bomb.xml": laughs})
    docs, errors = outcomes(RepositoryReader(str(path)))
    assert errors == []
    assert [d.text.encode() for d in docs] == [laughs] and len(laughs) < 1000
