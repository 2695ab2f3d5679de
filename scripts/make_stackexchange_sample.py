"""Regenerate ``llama_data/samples/stackexchange/textcraft.example/Posts.xml``, the demo's
StackExchange sample, byte for byte: every post is written out below (our own questions and
answers, see the sample's README), in the Internet Archive dump's format (``<posts><row .../>``,
HTML bodies as attributes, the newer dumps' ``|a|b|`` tags and ``ContentLicense``).

    .venv/bin/python scripts/make_stackexchange_sample.py
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

OUTPUT = (Path(__file__).resolve().parent.parent / "llama_data" / "samples" / "stackexchange"
          / "textcraft.example" / "Posts.xml")
LICENSE = "CC BY-SA 4.0"

# (id, type, parent, score, title, tags, body); type 1 question, 2 answer, 5 tag wiki.
POSTS = [
    (1, 1, None, 14, "How do I count the words of a file without reading it all into memory?",
     ["python", "memory"],
     ("<p>I have a 40&nbsp;GB log file and want the number of words in it. "
     "<code>len(open(path).read().split())</code> runs out of memory.</p>"
     "<p>What is the usual way to do this in Python?</p>")),
    (2, 2, 1, 9, None, None,
     ("<p>Read it line by line: a file object is an iterator of lines, and only one line is in "
     "memory at a time.</p>"
     "<pre><code>words = 0\nwith open(path, encoding=\"utf-8\") as f:\n    for line in f:\n"
     "        words += len(line.split())\n</code></pre>")),
    (3, 2, 1, 10, None, None,
     ("<p>Line by line is right, but a log may have one enormous line. Read fixed-size blocks "
     "and carry the last, unfinished word over to the next block:</p>"
     "<pre><code>def count_words(path, block=1 &lt;&lt; 20):\n    words, tail = 0, \"\"\n"
     "    with open(path, encoding=\"utf-8\") as f:\n"
     "        while chunk := f.read(block):\n            parts = (tail + chunk).split()\n"
     "            if chunk[-1].isspace():\n                words, tail = words + len(parts), \"\"\n"
     "            else:\n                words, tail = words + len(parts) - 1, parts[-1] if parts "
     "else \"\"\n    return words + (1 if tail else 0)\n</code></pre>"
     "<p>Memory stays at about one block &amp; one word.</p>")),
    (4, 2, 1, 10, None, None,
     ("<p>On Linux you do not need Python at all:</p><pre><code>wc -w big.log\n</code></pre>"
     "<blockquote><p>wc counts words as runs of non-space characters, the same rule as "
     "<code>str.split()</code>.</p></blockquote>")),
    (5, 2, 1, -1, None, None,
     "<p>Just buy more RAM.</p>"),
    (6, 1, None, 7, "Why does my regex match the <p> tags across lines?",
     ["regex", "html"],
     ("<p>I strip paragraphs with <code>re.sub(r\"&lt;p&gt;.*&lt;/p&gt;\", \"\", html)</code> "
     "and it removes everything between the first <code>&lt;p&gt;</code> and the last "
     "<code>&lt;/p&gt;</code>. Why?</p>")),
    (7, 2, 6, 11, None, None,
     ("<p>Two things are going on:</p>"
     "<ol><li><code>.*</code> is greedy: it takes as much as it can, up to the <em>last</em> "
     "closing tag.</li><li>You probably passed <code>re.DOTALL</code>, so <code>.</code> also "
     "matches newlines.</li></ol>"
     "<p>Use the lazy <code>.*?</code>, or better, an HTML parser:</p>"
     "<pre><code>from lxml import html\ntree = html.fromstring(page)\n"
     "for p in tree.iter(\"p\"):\n    p.drop_tree()\n</code></pre>")),
    (8, 2, 6, 2, None, None,
     ("<p>See the famous answer about parsing HTML with regular expressions. In short:</p>"
     "<ul><li>regexes cannot count nesting;</li><li>parsers can.</li></ul>")),
    (9, 1, None, 3, "Is there a standard name for splitting digits into single tokens?",
     ["tokenization", "numbers"],
     ("<p>Some tokenizers turn <code>2026</code> into <code>2 0 2 6</code>. Is there a name for "
     "this, and why would anyone want it?</p>")),
    (10, 2, 9, 5, None, None,
     ("<p>It is usually called <em>digit splitting</em>. It gives the model the same four pieces "
     "for every four-digit number, so arithmetic patterns are shared instead of memorised per "
     "number.</p>")),
    (11, 1, None, 0, "Which encoding does a file without a BOM have?", ["unicode"],
     "<p>My files have no byte order mark. How can I tell UTF-8 from Latin-1?</p>"),
    (12, 5, None, 0, None, None,
     ("<p>Use this tag for questions about splitting text into tokens: words, subwords or "
     "bytes.</p>")),
    # An answer whose question is not in the dump (deleted): nothing to join it to.
    (13, 2, 99, 4, None, None,
     "<p>Set <code>LC_ALL=C</code> before sorting so that the order is by bytes.</p>"),
]


def row(post_id: int, kind: int, parent: int | None, score: int, title: str | None,
        tags: list[str] | None, body: str) -> str:
    attrs = {"Id": post_id, "PostTypeId": kind}
    if parent is not None:
        attrs["ParentId"] = parent
    attrs |= {"CreationDate": f"2026-01-{post_id:02d}T09:30:00.000", "Score": score,
              "Body": body}
    if title is not None:
        answers = sum(1 for p in POSTS if p[2] == post_id)
        attrs |= {"Title": title, "Tags": "|" + "|".join(tags or []) + "|",
                  "AnswerCount": answers}
    attrs["ContentLicense"] = LICENSE
    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items()) + " />"


def main() -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<posts>",
             *(row(*post) for post in POSTS), "</posts>", ""]
    OUTPUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"{OUTPUT}: {len(POSTS)} posts")


if __name__ == "__main__":
    main()
