"""The leading licence/copyright header comment of a source file, removed by regular expressions.

LLaMA (§2.1) removes "boilerplate, such as headers" from GitHub files with regular expressions.
RedPajama v1's rule (togethercomputer/RedPajama-Data, ``data_prep/github/
github_clean_dedup_local.py`` ``clean_copyright_comments``, branch ``rp_v1`` at commit
45b37c2a1d1e, file from f54b86f259f7) cuts the first ``/* ... */`` anywhere in the file when it
says "copyright", and otherwise every leading line that starts with ``//``, ``#`` or ``--``,
whatever it says: shebangs, encoding declarations and comments that are code documentation go with
the licence, and a C comment in the middle of a file can go too. Here only the comment blocks at
the top that read as a licence are removed, per comment syntax of the file's language:

- a *preamble* is kept: a shebang on the first line, encoding declarations in the first two lines
  (PEP 263's ``coding[:=]``, which also matches Emacs and Vim modelines), and XML/DOCTYPE/PHP
  openers (``<?xml ...?>``, ``<!DOCTYPE ...>``, ``<?php``);
- then, skipping blank lines, each comment block (a run of line comments, or one block comment
  ending its line) that mentions copyright, a licence, an SPDX identifier, "all rights reserved",
  "permission is hereby granted", ... is removed, until the first block that does not (kept, as
  a comment that is not a licence is documentation) or the first line of code;
- a Python module docstring is a string, not a comment: it is never removed;
- the blank lines left at the top go too; everything after the header is unchanged, byte for byte.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re


@dataclasses.dataclass(frozen=True)
class CommentSyntax:
    """How a language writes comments: line prefixes and (opener, closer) block delimiters."""

    line: tuple[str, ...] = ()
    block: tuple[tuple[str, str], ...] = ()


HASH = CommentSyntax(line=("#",))
C_FAMILY = CommentSyntax(line=("//",), block=(("/*", "*/"),))
CSS = CommentSyntax(block=(("/*", "*/"),))
PHP = CommentSyntax(line=("//", "#"), block=(("/*", "*/"),))
SQL = CommentSyntax(line=("--",), block=(("/*", "*/"),))
# Lua's ``--[[ ... ]]`` and Haskell's ``{- ... -}``: known as blocks, so that the first line of
# one is never taken for a line comment (cutting it would leave the block open).
LUA = CommentSyntax(line=("--",), block=(("--[[", "]]"),))
HASKELL = CommentSyntax(line=("--",), block=(("{-", "-}"),))
DASH = CommentSyntax(line=("--",))
MARKUP = CommentSyntax(block=(("<!--", "-->"),))


def _by_extension(syntax: CommentSyntax, *extensions: str) -> dict[str, CommentSyntax]:
    return {f".{ext}": syntax for ext in extensions}


# Extensions are matched lower-cased (``.C`` and ``.H`` are C++).
SYNTAX_BY_EXTENSION = {
    **_by_extension(HASH, "py", "pyi", "pyx", "pxd", "sh", "bash", "zsh", "command", "rb", "r",
                    "pl", "pm", "perl", "yaml", "yml", "toml", "cmake", "mk", "dockerfile", "jl",
                    "ps1", "psd1", "psm1", "tcl", "nim", "cfg", "bzl"),
    **_by_extension(C_FAMILY, "c", "cc", "cpp", "cxx", "c++", "h", "hh", "hpp", "hxx", "h++",
                    "m", "mm", "java", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "rs",
                    "swift", "kt", "kts", "scala", "cs", "groovy", "gradle", "dart", "proto",
                    "scss", "less"),
    **_by_extension(CSS, "css"),
    **_by_extension(PHP, "php", "php3", "php4", "php5", "phps", "phpt"),
    **_by_extension(SQL, "sql"),
    **_by_extension(LUA, "lua"),
    **_by_extension(HASKELL, "hs"),
    **_by_extension(DASH, "ada", "adb", "ads", "elm"),
    **_by_extension(MARKUP, "html", "htm", "xhtml", "xml", "svg", "xsl", "xsd", "md",
                    "markdown", "vue", "svelte"),
}
SYNTAX_BY_NAME = {name: HASH for name in ("Makefile", "GNUmakefile", "makefile", "Dockerfile",
                                          "CMakeLists.txt", "Gemfile", "Rakefile", "BUILD",
                                          "WORKSPACE")}

LICENCE = re.compile(
    r"copyright|©|\(c\)\s*\d{4}|licen[cs]|spdx-license-identifier|all rights reserved"
    r"|permission is hereby granted|without warrant|redistribution and use"
    r"|is free software|public domain",
    re.IGNORECASE)
SHEBANG = "#!"
# PEP 263: in one of the first two lines, a comment matching this sets the source encoding.
ENCODING = re.compile(r"^[ \t\f]*\S+.*?coding[:=][ \t]*[-\w.]+")
OPENER = re.compile(r"^\s*(?:<\?xml\b.*\?>|<!DOCTYPE\b[^>]*>|<\?php)\s*$", re.IGNORECASE)


def comment_syntax(path: str) -> CommentSyntax | None:
    """The comment syntax of the file at ``path`` ('/'-separated), by its name or extension."""
    name = posixpath.basename(path)
    if name in SYNTAX_BY_NAME:
        return SYNTAX_BY_NAME[name]
    return SYNTAX_BY_EXTENSION.get(posixpath.splitext(name)[1].lower())


def _is_preamble(line: str, index: int, syntax: CommentSyntax) -> bool:
    if index == 0 and line.startswith(SHEBANG):
        return True
    if index < 2 and line.lstrip().startswith(syntax.line) and ENCODING.match(line):
        return True
    return bool(OPENER.match(line))


def _comment_block_end(lines: list[str], start: int, syntax: CommentSyntax) -> int | None:
    """The index after the comment block that opens at ``lines[start]``, or None when that line
    does not open one (code, a docstring) or opens a block comment that does not end its line."""
    first = lines[start].lstrip()
    for opener, closer in syntax.block:
        if first.startswith(opener):
            segment, end = first[len(opener):], start
            while (close := segment.find(closer)) < 0:
                end += 1
                if end == len(lines):
                    return None
                segment = lines[end]
            # code after the comment on its last line: not a header block to cut
            return None if segment[close + len(closer):].strip() else end + 1
    if not syntax.line or not first.startswith(syntax.line):
        return None
    end = start + 1
    while end < len(lines) and lines[end].lstrip().startswith(syntax.line):
        end += 1
    return end


def strip_license_header(text: str, path: str) -> str:
    """``text`` without its leading licence header comment (see the module docstring); unchanged
    when the file's comment syntax is unknown or its top comment is not a licence."""
    syntax = comment_syntax(path)
    if syntax is None:
        return text
    lines = text.split("\n")
    keep = 0
    while keep < len(lines) and _is_preamble(lines[keep], keep, syntax):
        keep += 1
    cut = scan = keep
    while True:
        while scan < len(lines) and not lines[scan].strip():
            scan += 1
        if scan == len(lines):
            break
        end = _comment_block_end(lines, scan, syntax)
        if end is None or not LICENCE.search("\n".join(lines[scan:end])):
            break
        cut = scan = end
    if cut == keep:
        return text
    while cut < len(lines) and not lines[cut].strip():
        cut += 1
    return "\n".join(lines[:keep] + lines[cut:])
