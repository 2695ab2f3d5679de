"""GitHub end to end on Beam's real local runner: the built-in sample and the shared real
repositories (licences by ScanCode, file filters, header strip, exact dedup), the BigQuery
export, bad archives, the CLI."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import CORPUS, IN_PROCESS, TWO_WORKERS

from llama_data import manifest, samples
from llama_data.cli import main
from llama_data.pipelines import github
from llama_data.pipelines.config import GitHubConfig
from llama_data.shards import read_shard

SHARED = CORPUS / "github"
MIT = SHARED / "mit_cc_net" / "LICENSE"


def kept(release: Path, folder: str = "github") -> dict[tuple[str, str], object]:
    return {(d.meta["repo"], d.meta["path"]): d
            for shard in sorted((release / folder).glob("*.arrow")) for d in read_shard(str(shard))}


def sample_config(release: Path, **changes) -> GitHubConfig:
    return GitHubConfig(input=[str(p) for p in samples.github_repositories()],
                        output=str(release), **changes)


def test_the_sample_licences_filters_header_strip_and_dedup(tmp_path):
    entry = github.run(sample_config(tmp_path / "R", keep_rejects=True), IN_PROCESS)
    docs = kept(tmp_path / "R")
    rejected = {key: d.meta["rejected_by"] for key, d in kept(tmp_path / "R", "rejects/github")
                .items()}
    assert entry.funnel.read == 15 and entry.funnel.unreadable == {}
    # the repository without a licence: every file dropped, with the reason
    assert {rejected[k] for k in rejected if k[0] == "scratch-main"} == {"license:none"}
    assert rejected[("tinytext-main", "proto/message_pb2.py")] == "code:generated"
    assert rejected[("tinytext-main", "web/app.min.js")] == "code:minified"
    assert rejected[("tinytext-main", "assets/logo.png")] == "code:not_text"
    # the vendored copy is the same file once its header is gone: exactly one of the two stays
    pair = {("tinytext-main", "tinytext/wrap.py"), ("tinytext-main", "vendor/wrap_copy.py")}
    assert len(pair & set(docs)) == 1
    assert [rejected[k] for k in pair - set(docs)] == ["exact_dedup:duplicate"]
    wrap = docs[next(iter(pair & set(docs)))]
    assert wrap.text.startswith('"""Greedy line wrapping')
    count = docs[("tinytext-main", "src/count.c")]
    assert count.text.startswith("#include <stdio.h>") and "Copyright" not in count.text
    assert count.meta["language"] == "C" and count.meta["licenses"] == ["MIT"]
    assert docs[("tinytext-main", "sql/schema.sql")].text.startswith("-- One row per text")
    assert entry.funnel.kept == len(docs)


def test_one_worker_or_two_the_same_shards(tmp_path):
    hashes = []
    for name, args in (("a", IN_PROCESS), ("b", TWO_WORKERS)):
        entry = github.run(sample_config(tmp_path / name), args)
        hashes.append([s.sha256 for s in entry.shards])
    assert hashes[0] == hashes[1]


@pytest.mark.skipif(not SHARED.exists(), reason=f"shared GitHub repositories not found at "
                                                 f"{SHARED} (../shared beside the checkout)")
def test_the_real_repositories_by_their_licence(tmp_path):
    config = GitHubConfig(input=[str(p) for p in sorted(SHARED.iterdir())],
                          output=str(tmp_path / "R"))
    github.run(config, IN_PROCESS)
    docs = kept(tmp_path / "R")
    assert {repo for repo, _ in docs} == {"apache-2.0_arxiv-latex-cleaner", "mit_cc_net"}
    licences = {d.meta["repo"]: d.meta["licenses"] for d in docs.values()}
    assert licences == {"apache-2.0_arxiv-latex-cleaner": ["Apache-2.0"],
                        "mit_cc_net": ["MIT"]}
    for (repo, path), doc in docs.items():
        original = (SHARED / repo / path).read_text(encoding="utf-8")
        assert "Licensed under" not in doc.text[:300] and "MIT license" not in doc.text[:300]
        lines = doc.text.splitlines(keepends=True)
        kept_lines = [line for line in lines if line.startswith("#")][:1]  # # coding=utf-8
        assert all(original.startswith(line) for line in kept_lines)
        assert original.endswith("".join(lines[len(kept_lines):]))  # only the header went
    # the LGPL repository is kept when its licence is allowed
    wider = dataclasses.replace(config, output=str(tmp_path / "W"),
                                licenses=("LGPL-2.1-only", "LGPL-2.1-or-later", "MIT"))
    github.run(wider, IN_PROCESS)
    assert ("lgpl-2.1_gensim", "wikicorpus.py") in kept(tmp_path / "W")


def bigquery_line(repo: str, path: str, content: str, license: str) -> bytes:
    return json.dumps({"repo_name": repo, "path": path, "content": content,
                       "license": license}).encode() + b"\n"


def test_the_bigquery_export_with_exact_duplicates_and_a_bad_line(tmp_path):
    code = "def area(width, height):\n    return width * height\n" * 3
    other = "def perimeter(width, height):\n    return 2 * (width + height)\n" * 3
    export = tmp_path / "github-00000.jsonl.gz"
    export.write_bytes(gzip.compress(b"".join([
        bigquery_line("ada/shapes", "geometry.py", code, "mit"),
        bigquery_line("bob/fork", "shapes/geometry.py", code, "apache-2.0"),  # the same file
        bigquery_line("cy/closed", "perimeter.py", other, "gpl-3.0"),
        b'{"repo_name": "broken", "path": \n',
        bigquery_line("dee/bsd", "perimeter.py", other, "bsd-3-clause"),
    ])))
    entry = github.run(GitHubConfig(input=[str(export)], output=str(tmp_path / "R"),
                                    max_error_rate=0.5), IN_PROCESS)
    assert entry.funnel.read == 5
    assert entry.funnel.unreadable == {"malformed_record": 1}
    assert entry.funnel.dropped == {"exact_dedup:duplicate": 1, "license:not_allowed": 1}
    docs = kept(tmp_path / "R")
    assert {d.meta["licenses"][0] for d in docs.values()} <= {"MIT", "Apache-2.0",
                                                              "BSD-3-Clause"}
    assert ("dee/bsd", "perimeter.py") in docs
    assert docs[("dee/bsd", "perimeter.py")].url == \
        "https://github.com/dee/bsd/blob/HEAD/perimeter.py"


def test_unsafe_members_and_a_bomb_are_counted_and_the_rest_is_read(tmp_path):
    good = "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in (("repo/LICENSE", MIT.read_bytes() if MIT.exists() else b""),
                           ("repo/ok.py", good.encode()), ("../escape.py", b"x = 1\n"),
                           ("/etc/evil.py", b"x = 2\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("repo/link.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    unsafe = tmp_path / "unsafe.tar"
    unsafe.write_bytes(raw.getvalue())
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.py", good)
        z.writestr("zeros.py", bytes(64 << 20))
    code = main(["prepare", "github", "--input", str(unsafe), str(bomb), "--output",
                 str(tmp_path / "R"), "--max-expanded-size", "8MiB", "--max-file-size", "128MiB",
                 "--max-error-rate", "0.9",
                 *IN_PROCESS])
    assert code == 0
    funnel = manifest.load(str(tmp_path / "R")).sources["github"].funnel
    assert funnel.unreadable == {"unsafe_archive_member": 3, "expanded_size_over_limit": 1}
    funnel.check()


def test_an_unknown_licence_id_is_refused_before_the_job(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["prepare", "github", "--input", str(tmp_path), "--output", str(tmp_path / "R"),
              "--licenses", "MIT,GPL-2.0"])
    assert exit_.value.code == 2
    assert "GPL-2.0-only" in capsys.readouterr().err
