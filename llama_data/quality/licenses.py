"""A repository's licence, as SPDX ids, from its LICENSE/COPYING/README files (ScanCode's matcher)
or from GitHub's licence keys (the BigQuery ``github_repos.licenses`` table).

Why ScanCode (``scancode-toolkit``'s ``licensedcode``): it matches the full texts *and* the short
statements ("Licensed under the MIT License", "SPDX-License-Identifier: MIT", the Apache header) of
~2,500 licences with ~37,500 rules, and names them with ScanCode keys that its licence database maps
to SPDX ids. Its index loads once per process (4-6 s, ~1.4 GB). Then, measured on the shared
samples (median of 5, one core): a licence file that is a known text verbatim is a hash look-up,
2-4 ms (Apache-2.0 LICENSE, LGPL-2.1 COPYING); any other text goes through approximate matching,
~0.12-0.18 s even when short (the MIT LICENSE with its copyright line, a README's licence
paragraph, a README without one). A long source file takes seconds, which is why only the root
licence and README files are matched, never every file.

What counts as a licence (:data:`MIN_SCORE`): a match of one ScanCode rule whose score, the share of
the rule matched times the rule's relevance, is at least 80. A few words of a README that happen to
overlap a long rule score low and are ignored; a short rule matched whole ("released under the MIT
License") scores 100, as a licence statement should. Matches of licences ScanCode marks unknown (a
bare "see the LICENSE file", an unnamed "free software" notice) and licence *clues* are ignored.
A known limit: a README listing licence names in passing ("reports MIT, GPL counts") can still match
a short rule whole.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
import warnings
from collections.abc import Mapping

from license_expression import LicenseSymbol, get_spdx_licensing

MIN_SCORE = 80.0

# Root file names that carry a repository's licence: LICENSE*, LICENCE*, LICENSES*, COPYING* (any
# case, any extension: LICENSE.txt, LICENSE-MIT, COPYING.LESSER) and README* as the fallback. A
# name that only starts with the word ("LicenseManager.java") is not one.
LICENSE_FILE = re.compile(r"^(?:(?P<license>licen[cs]es?|copying)|readme)(?:[-._].*)?$",
                          re.IGNORECASE)

_scancode_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class RepoLicense:
    """The SPDX ids of a repository's licence and the file(s) they were read from (``None`` when
    no licence was recognised; several names, comma-separated, when several files named one)."""

    spdx: tuple[str, ...]
    file: str | None


@functools.cache
def _scancode():
    """ScanCode's licence cache (index, licence database, expression parser): loaded once per
    process, on first use, since it takes seconds and over a gigabyte. Its magic-number helper
    warns, when first imported, that it found the system libmagic (libmagic1) by its usual name:
    nothing to act on, so not shown."""
    with _scancode_lock, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="System libmagic found", category=UserWarning)
        from licensedcode.cache import get_cache

        return get_cache()


@functools.cache
def _spdx_licensing():
    """SPDX ids and their aliases (built from a JSON index, ~20 ms: once)."""
    return get_spdx_licensing()


def detect_licenses(text: str, approximate: bool = True) -> tuple[str, ...]:
    """The sorted distinct SPDX ids of the licences ``text`` states (:data:`MIN_SCORE`), () if
    none. An expression ("MIT OR Apache-2.0", "GPL-2.0-only WITH Classpath-exception-2.0") gives
    each of its ids; ScanCode-only licences give ScanCode's ``LicenseRef-scancode-*`` ids."""
    if not text.strip():
        return ()
    # Exact matching first (whole texts by hash, rules as exact sequences: ~1 ms on a licence
    # file), ScanCode's approximate matching (~150-300 ms) only when that finds nothing and
    # ``approximate``: a standard licence under its own title and copyright line is found exactly.
    return _matched(text, approximate=False) or (_matched(text, approximate=True)
                                                 if approximate else ())


def _matched(text: str, approximate: bool) -> tuple[str, ...]:
    cache = _scancode()
    ids = set()
    for match in cache.index.match(query_string=text, min_score=MIN_SCORE,
                                   approximate=approximate):
        if match.rule.is_license_clue:
            continue
        for key in cache.licensing.license_keys(match.rule.license_expression):
            licence = cache.db.get(key)
            if licence is not None and not licence.is_unknown:
                ids.add(licence.spdx_license_key)
    return tuple(sorted(ids))


def repository_license(files: Mapping[str, str]) -> RepoLicense:
    """The licence of a repository given ``{root file name: text}`` of its candidate files (names
    :data:`LICENSE_FILE` does not match are ignored): every LICENSE/LICENCE/COPYING file that names
    one (a dual-licensed LICENSE-MIT and LICENSE-APACHE give both); the READMEs only when those
    name none, since a README mentions licences for many reasons, and by exact matching only (a
    README's licence paragraph is one of ScanCode's notice rules, found exactly; its approximate
    matching would cost 100+ ms a repository without a licence, most of GitHub's)."""
    kinds = {name: m["license"] is not None for name in files if (m := LICENSE_FILE.match(name))}
    for licence_files in (True, False):
        found = {name: ids for name in sorted(n for n, kind in kinds.items() if kind == licence_files)
                 if (ids := detect_licenses(files[name], approximate=licence_files))}
        if found:
            return RepoLicense(tuple(sorted(set().union(*found.values()))), ", ".join(found))
    return RepoLicense((), None)


@functools.cache
def spdx_from_github_key(key: str) -> str | None:
    """The SPDX id of one of GitHub's licence keys (``github_repos.licenses.license``), None for
    one that is not a licence ("other") or unknown.

    GitHub's keys are its licence picker's lower-cased SPDX ids, from before SPDX 3.0 split the GNU
    licences: "gpl-2.0" is SPDX's deprecated "GPL-2.0", which SPDX defines as GPL-2.0-only. GitHub
    cannot tell "-only" from "-or-later" (both ship the same licence text; the choice is stated in
    file headers), so this is the licence text's id, not a judgement on later versions. The table is
    the ScanCode LicenseDB index shipped with ``license-expression``, which carries the deprecated
    ids as aliases. Cached: a BigQuery export asks for the same few keys on every line."""
    licensing = _spdx_licensing()
    if not key or licensing.validate(key).errors:
        return None
    symbol = licensing.parse(key)
    if not isinstance(symbol, LicenseSymbol) or symbol.is_exception:
        return None
    return symbol.key
