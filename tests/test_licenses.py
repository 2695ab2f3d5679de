"""Licence detection with ScanCode's real index on the shared repositories' licence files and on
hand-written READMEs; GitHub's licence keys to SPDX ids."""

from __future__ import annotations

import pytest
from conftest import CORPUS

from llama_data.quality.licenses import (
    LICENSE_FILE,
    RepoLicense,
    detect_licenses,
    repository_license,
    spdx_from_github_key,
)

GITHUB = CORPUS / "github"

README_WITH_LICENCE = """# fastgrep

A small grep written for a course.

## Usage

    fastgrep PATTERN FILE...

## License

This project is licensed under the MIT License - see the LICENSE file for details.
"""

README_MENTIONING_LICENCE = """# licence-audit

Reads the license field of every package in a lock file and prints a table, so that you can
check which license each dependency declares before a release.
"""

NO_LICENCE = "def add(a, b):\n    return a + b\n\n\nprint(add(2, 3))\n"


def corpus_text(folder: str, name: str) -> str:
    path = GITHUB / folder / name
    if not path.exists():
        pytest.skip(f"real corpus samples not found at {GITHUB} (../shared beside the checkout)")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("folder", "name", "spdx"), [
    ("apache-2.0_arxiv-latex-cleaner", "LICENSE", ("Apache-2.0",)),
    ("mit_cc_net", "LICENSE", ("MIT",)),
    ("lgpl-2.1_gensim", "COPYING", ("LGPL-2.1-only",)),
])
def test_licence_files_of_real_repositories(folder, name, spdx):
    text = corpus_text(folder, name)
    assert detect_licenses(text) == spdx
    assert repository_license({name: text}) == RepoLicense(spdx, name)


def test_readme_licence_paragraph_names_the_licence():
    assert detect_licenses(README_WITH_LICENCE) == ("MIT",)


def test_readme_that_only_mentions_licences_names_none():
    assert detect_licenses(README_MENTIONING_LICENCE) == ()


@pytest.mark.parametrize("text", [NO_LICENCE, "", "   \n", "See the LICENSE file.\n"])
def test_no_licence(text):
    assert detect_licenses(text) == ()


def test_dual_licence_statement_gives_every_id_sorted():
    text = "SPDX-License-Identifier: MIT OR Apache-2.0\n"
    assert detect_licenses(text) == ("Apache-2.0", "MIT")


def test_licence_file_wins_over_readme():
    apache = corpus_text("apache-2.0_arxiv-latex-cleaner", "LICENSE")
    files = {"README.md": README_WITH_LICENCE, "LICENSE": apache}
    assert repository_license(files) == RepoLicense(("Apache-2.0",), "LICENSE")


def test_readme_is_the_fallback_when_licence_files_name_nothing():
    files = {"LICENSE": "Copyright 2024 Jane Doe. All rights reserved.\n",
             "README.md": README_WITH_LICENCE}
    assert repository_license(files) == RepoLicense(("MIT",), "README.md")


def test_every_licence_file_that_names_one_counts():
    mit = corpus_text("mit_cc_net", "LICENSE")
    apache = corpus_text("apache-2.0_arxiv-latex-cleaner", "LICENSE")
    files = {"LICENSE-MIT": mit, "LICENSE-APACHE": apache, "COPYING": "Nothing here.\n"}
    assert repository_license(files) == RepoLicense(("Apache-2.0", "MIT"),
                                                    "LICENSE-APACHE, LICENSE-MIT")


def test_files_that_are_not_candidates_are_ignored():
    files = {"setup.py": "# SPDX-License-Identifier: MIT\n", "README.md": README_MENTIONING_LICENCE}
    assert repository_license(files) == RepoLicense((), None)
    assert repository_license({}) == RepoLicense((), None)


@pytest.mark.parametrize("name", ["LICENSE", "license.md", "LICENCE.txt", "LICENSE-MIT",
                                  "LICENSES", "COPYING", "COPYING.LESSER", "Copying.txt"])
def test_licence_file_names(name):
    match = LICENSE_FILE.match(name)
    assert match and match["license"]


@pytest.mark.parametrize("name", ["README", "README.md", "readme.rst", "ReadMe.txt"])
def test_readme_names(name):
    match = LICENSE_FILE.match(name)
    assert match and match["license"] is None


@pytest.mark.parametrize("name", ["LicenseManager.java", "READMEFIRST", "setup.py", "docs_LICENSE",
                                  "NOTICE"])
def test_other_names(name):
    assert LICENSE_FILE.match(name) is None


# GitHub's keys (choosealicense.com) and the SPDX ids their licence texts carry; the GNU ones are
# the "-only" ids SPDX gives the deprecated bare ids GitHub still uses.
GITHUB_KEYS = {
    "mit": "MIT", "apache-2.0": "Apache-2.0", "bsd-3-clause": "BSD-3-Clause",
    "bsd-2-clause": "BSD-2-Clause", "gpl-2.0": "GPL-2.0-only", "gpl-3.0": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only", "lgpl-3.0": "LGPL-3.0-only", "agpl-3.0": "AGPL-3.0-only",
    "mpl-2.0": "MPL-2.0", "unlicense": "Unlicense", "cc0-1.0": "CC0-1.0", "epl-1.0": "EPL-1.0",
    "isc": "ISC", "artistic-2.0": "Artistic-2.0",
}


@pytest.mark.parametrize(("key", "spdx"), GITHUB_KEYS.items())
def test_github_keys(key, spdx):
    assert spdx_from_github_key(key) == spdx


@pytest.mark.parametrize("key", ["other", "", "no-such-licence", "mit OR gpl-2.0",
                                 "classpath-exception-2.0"])
def test_github_keys_that_are_not_one_licence(key):
    assert spdx_from_github_key(key) is None

