"""The licence header strip: hand-written files per comment syntax, and the real corpus files."""

from __future__ import annotations

import pytest
from conftest import CORPUS

from llama_data.text.code_header import strip_license_header

APACHE = """\
# Copyright 2018 The Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
"""


@pytest.mark.parametrize("path, text, expected", [
    # `#`: shebang and encoding declaration kept, header and the blank line after it go.
    ("bin/tool.py",
     ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n#\n# Copyright (C) 2010 A <a@b.c>\n"
     "# Licensed under the GNU LGPL v2.1\n\n\"\"\"Tool.\"\"\"\nimport os\n"),
     "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\"\"\"Tool.\"\"\"\nimport os\n"),
    # A docstring right after the header (no blank line) stays, whatever it says.
    ("m.py", APACHE + '"""Copyright notice parser: licensed, not removed."""\nx = 1\n',
     '"""Copyright notice parser: licensed, not removed."""\nx = 1\n'),
    # Vim's encoding modeline is an encoding declaration.
    ("m.py", "# vim: set fileencoding=latin-1 :\n# SPDX-License-Identifier: MIT\nx = 1\n",
     "# vim: set fileencoding=latin-1 :\nx = 1\n"),
    # The licence block goes, the next comment block (documentation) stays.
    ("lib/parse.rb", "# Copyright 2020 A\n# MIT License\n\n# Helpers for parsing\nrequire 'x'\n",
     "# Helpers for parsing\nrequire 'x'\n"),
    ("build/Makefile", "# Copyright 2020 A. All rights reserved.\n\nall:\n\tcc x.c\n",
     "all:\n\tcc x.c\n"),
    ("conf.yaml", "# Copyright 2020 A\r\n# Licensed MIT\r\n\r\nkey: 1\r\n", "key: 1\r\n"),
    # `//`
    ("src/main.go",
     ("// Copyright 2009 The Go Authors. All rights reserved.\n// Use of this source code is "
     "governed by a BSD-style\n// license that can be found in the LICENSE file.\n\n"
     "//go:build linux\n\npackage main\n"),
     "//go:build linux\n\npackage main\n"),
    ("cli.js", "#!/usr/bin/env node\n// (c) 2021 A, MIT license\n'use strict';\n",
     "#!/usr/bin/env node\n'use strict';\n"),
    # `/* */`, then a Javadoc that is not a licence.
    ("Foo.java",
     ("/*\n * Copyright (c) 2015 A\n *\n * Permission is hereby granted, free of charge, to any "
     "person\n */\n\n/** The Foo class. */\npublic class Foo {}\n"),
     "/** The Foo class. */\npublic class Foo {}\n"),
    # Several licence blocks in a row, in both C syntaxes.
    ("x.c", "// Copyright A\n\n/* Licensed under the MIT License */\n\nint x;\n", "int x;\n"),
    ("style.css", "/*! normalize.css v8.0.1 | MIT License */\nhtml { line-height: 1.15 }\n",
     "html { line-height: 1.15 }\n"),
    ("index.php", "<?php\n/**\n * @license MIT\n */\n\nnamespace Foo;\n", "<?php\nnamespace Foo;\n"),
    # `--`
    ("schema.sql", "-- Copyright 2020 A\n-- Licensed under the Apache License\nSELECT 1;\n",
     "SELECT 1;\n"),
    ("init.lua", "--[[\nCopyright (c) 2020 A\nMIT License\n]]\nlocal x = 1\n", "local x = 1\n"),
    ("Main.hs", "-- Copyright 2020 A\n-- License: BSD-3-Clause\n\nmodule Main where\n",
     "module Main where\n"),
    # `<!-- -->`: the XML declaration stays.
    ("pom.xml",
     ('<?xml version="1.0" encoding="UTF-8"?>\n<!--\n  Licensed to the Apache Software Foundation '
     "(ASF)\n-->\n<project/>\n"),
     '<?xml version="1.0" encoding="UTF-8"?>\n<project/>\n'),
    ("README.md", "<!-- SPDX-License-Identifier: MIT -->\n\n# Title\n", "# Title\n"),
    # A file that is all header becomes empty.
    ("m.py", APACHE, ""),
])
def test_header_removed(path, text, expected):
    assert strip_license_header(text, path) == expected


@pytest.mark.parametrize("path, text", [
    ("m.py", "# Helpers for parsing\nimport re\n"),  # a comment that is not a licence
    ("m.py", '"""Copyright 2020 A, licensed under MIT."""\nx = 1\n'),  # a docstring
    ("m.py", "import re\n# Copyright 2020 A\n"),  # not at the top
    ("x.c", "/* Copyright 2020 A */ int x;\n"),  # code on the comment's line
    ("x.c", "/* Copyright 2020 A\nint x;\n"),  # a comment that never ends
    ("init.lua", "--[[ Helpers ]]\n-- Copyright A\nlocal x = 1\n"),  # first block not a licence
    ("notes.txt", "# Copyright 2020 A\nhello\n"),  # no known comment syntax
    ("README.md", "# Copyright\n\nThe heading is Markdown, not a comment.\n"),
    ("Main.hs", "{- Copyright 2020 A\nmodule Main where\n"),  # unterminated {-
])
def test_kept_unchanged(path, text):
    assert strip_license_header(text, path) == text


def _first_code_line(lines: list[str]) -> str:
    """The first line that is neither blank nor a `#` comment: where the header must end."""
    return next(line for line in lines if line.strip() and not line.startswith("#"))


def test_corpus_headers(corpus_python):
    for path in corpus_python:
        text = path.read_text("utf-8")
        stripped = strip_license_header(text, path.name)
        lines, out = text.split("\n"), stripped.split("\n")
        kept = [line for line in lines[:2] if line.startswith("#!") or "coding" in line]
        assert out[:len(kept)] == kept, path  # shebang and encoding declaration stay
        body = "\n".join(out[len(kept):])
        assert body.split("\n")[0] == _first_code_line(lines), path  # docstring or code first
        assert text.endswith(body), path  # everything after the header is byte-identical
        assert "Licensed under" not in stripped and "Copyright" not in stripped, path
        removed = text[:len(text) - len(body)].split("\n")[len(kept):]
        assert all(not line.strip() or line.startswith("#") for line in removed), path


@pytest.fixture(scope="module")
def corpus_python():
    files = sorted(CORPUS.glob("github/*/*.py"))
    if not files:
        pytest.skip(f"real GitHub samples not found at {CORPUS / 'github'}")
    return files
