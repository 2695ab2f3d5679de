"""Regenerate ``llama_data/samples/github/``, the demo's GitHub sample, byte for byte: two small
repositories written out below (our own code, see the sample's README), each as the tarball
GitHub serves (``<name>-main/`` as the one top folder), with sorted members, mtime 0 and gzip
with no name, so that the same script always writes the same bytes.

    .venv/bin/python scripts/make_github_sample.py
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "llama_data" / "samples" / "github"

MIT = """\
MIT License

Copyright (c) 2026 The llama-data authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

HASH_HEADER = """\
# Copyright (c) 2026 The llama-data authors
# Licensed under the MIT License; see the LICENSE file at the root of this repository.
# SPDX-License-Identifier: MIT
"""

WRAP_BODY = '''\
"""Greedy line wrapping for plain text, the way a careful typist would do it by hand."""


def wrap(text: str, width: int = 72) -> list[str]:
    """Break ``text`` into lines of at most ``width`` characters, never inside a word."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def justify(line: str, width: int) -> str:
    """Spread the spaces of ``line`` so that it fills ``width`` exactly."""
    words = line.split()
    if len(words) < 2:
        return line
    gaps = len(words) - 1
    spaces = width - sum(len(word) for word in words)
    wide, extra = divmod(spaces, gaps)
    out = ""
    for index, word in enumerate(words[:-1]):
        out += word + " " * (wide + (1 if index < extra else 0))
    return out + words[-1]
'''

COUNT_C = """\
/*
 * Copyright (c) 2026 The llama-data authors
 *
 * Use of this source code is governed by the MIT License that can be found in the
 * LICENSE file at the root of this repository.
 */

#include <stdio.h>
#include <ctype.h>

/* Count the words of standard input: a word is a run of letters, digits or apostrophes. */
int main(void) {
    long words = 0;
    int inside = 0;
    int c;
    while ((c = getchar()) != EOF) {
        int part = isalnum(c) || c == '\\'';
        if (part && !inside) {
            words++;
        }
        inside = part;
    }
    printf("%ld\\n", words);
    return 0;
}
"""

APP_JS = """\
// Copyright (c) 2026 The llama-data authors
// Licensed under the MIT License; see LICENSE in the root of this repository.

// Show how many words the text box holds, as the reader types.
function countWords(text) {
  const words = text.trim().split(/\\s+/);
  return words[0] === "" ? 0 : words.length;
}

function attachCounter(input, label) {
  input.addEventListener("input", () => {
    const count = countWords(input.value);
    label.textContent = count === 1 ? "1 word" : `${count} words`;
  });
}

module.exports = { countWords, attachCounter };
"""

APP_MIN_JS = ('function countWords(t){const w=t.trim().split(/\\s+/);return w[0]===""?0:w.length}'
              'function attachCounter(i,l){i.addEventListener("input",()=>{const c=countWords('
              'i.value);l.textContent=c===1?"1 word":`${c} words`})}' * 12
              + 'module.exports={countWords,attachCounter};\n')

SCHEMA_SQL = """\
-- Copyright (c) 2026 The llama-data authors
-- SPDX-License-Identifier: MIT

-- One row per text the service has wrapped, with when and how wide.
CREATE TABLE wrapped_texts (
    id INTEGER PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    body TEXT NOT NULL
);

CREATE INDEX wrapped_texts_received ON wrapped_texts (received_at);
"""

INDEX_HTML = """\
<!--
  Copyright (c) 2026 The llama-data authors
  Licensed under the MIT License; see LICENSE in the root of this repository.
-->
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Word counter</title>
  </head>
  <body>
    <label for="text">Type or paste some text:</label>
    <textarea id="text" rows="8" cols="60"></textarea>
    <p id="count">0 words</p>
    <script src="app.js"></script>
  </body>
</html>
"""

GENERATED_PY = """\
# -*- coding: utf-8 -*-
# Generated by the protocol buffer compiler.  DO NOT EDIT!
# source: message.proto
\"\"\"Generated protocol buffer code.\"\"\"
from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pool as _descriptor_pool
from google.protobuf import symbol_database as _symbol_database

_sym_db = _symbol_database.Default()
DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\\n\\rmessage.proto\\x12\\x04demo')
"""

README = """\
# tinytext

Small text utilities: greedy line wrapping and justification (`tinytext/wrap.py`), a word
counter for the command line (`src/count.c`) and one for the browser (`web/`).

    python -c "from tinytext.wrap import wrap; print(wrap('a few words to wrap', 8))"
"""

SCRIPT = f"""\
#!/usr/bin/env python3
# -*- coding: utf-8 -*-
{HASH_HEADER}\
\"\"\"Wrap standard input to the width given as the first argument (72 by default).\"\"\"

import sys

from tinytext.wrap import wrap

if __name__ == "__main__":
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 72
    for line in wrap(sys.stdin.read(), width):
        print(line)
"""

TINYTEXT = {
    "LICENSE": MIT,
    "README.md": README,
    "tinytext/__init__.py": HASH_HEADER + '"""Small text utilities."""\n\n__version__ = "1.0"\n',
    "tinytext/wrap.py": HASH_HEADER + "\n" + WRAP_BODY,
    # The same module vendored under another name, with another header: the same file once its
    # header is stripped, so exact dedup keeps one of the two.
    "vendor/wrap_copy.py": "# Vendored from tinytext 1.0 (MIT licence, (c) 2026 The llama-data "
                           "authors).\n\n" + WRAP_BODY,
    "bin/wrap-text": SCRIPT,
    "src/count.c": COUNT_C,
    "web/app.js": APP_JS,
    "web/app.min.js": APP_MIN_JS,
    "web/index.html": INDEX_HTML,
    "sql/schema.sql": SCHEMA_SQL,
    "proto/message_pb2.py": GENERATED_PY,
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
                       b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f"
                       b"\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82",
}

# A repository with no licence at all: publicly visible, but nobody may reuse it.
SCRATCH = {
    "README.md": "# scratch\n\nExperiments; nothing here is meant for reuse.\n",
    "notes.py": '"""Sketches for a line-breaking experiment."""\n\n\ndef halves(text):\n'
                '    middle = len(text) // 2\n    return text[:middle], text[middle:]\n',
}


def tarball(name: str, files: dict[str, str | bytes]) -> bytes:
    """The repository as GitHub's ``/tarball/main`` would give it: one top folder."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            content = files[path]
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{name}-main/{path}")
            info.size, info.mtime, info.mode = len(data), 0, 0o755 if path.startswith("bin/") \
                else 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, files in (("tinytext", TINYTEXT), ("scratch", SCRATCH)):
        path = OUTPUT / f"{name}-main.tar.gz"
        path.write_bytes(tarball(name, files))
        print(f"{path}: {len(files)} files")


if __name__ == "__main__":
    main()
