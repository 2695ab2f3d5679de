from __future__ import annotations

import re

import pytest
from conftest import CORPUS
from lxml import etree

from llama_data.text.html import html_to_text


def test_paragraphs_are_separated_by_a_blank_line_and_white_space_collapses():
    assert html_to_text("<p>One\n  two</p>\n\n<p>three</p>") == "One two\n\nthree"


def test_code_block_is_verbatim_with_entities_decoded():
    html = ("<p>Try:</p>\n<pre><code>def f(x):\n    if x &lt; 1 &amp;&amp; y:\n"
            "        return '&gt;'\n</code></pre>\n<p>done</p>")
    assert html_to_text(html) == ("Try:\n\ndef f(x):\n    if x < 1 && y:\n        return '>'"
                                  "\n\ndone")


def test_inline_code_links_and_emphasis_keep_their_text():
    html = ('<p>Use <code>a&lt;b</code> as <a href="https://x.org">the docs</a> say, '
            "<em>really</em> <strong>now</strong>.</p>")
    assert html_to_text(html) == "Use a<b as the docs say, really now."


def test_lists_one_item_a_line_nested_indented():
    html = ("<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>"
            '<ol start="3"><li>third</li><li><p>fourth</p><p>more</p></li></ol>')
    assert html_to_text(html) == "- one\n- two\n  - nested\n\n3. third\n4. fourth\n   more"


def test_blockquote_lines_are_prefixed():
    html = "<blockquote><p>quoted</p><p>second <br>line</p></blockquote><p>after</p>"
    assert html_to_text(html) == "> quoted\n>\n> second\n> line\n\nafter"


def test_br_is_a_newline_images_and_scripts_are_dropped():
    html = ('<p>a<br/>b <img src="x.png" alt="enter image description here"></p>'
            "<script>alert(1)</script><style>p{}</style><p>c</p>")
    assert html_to_text(html) == "a\nb\n\nc"


def test_entities_decoded_and_table_rows_one_line_each():
    html = ("<p>caf&eacute; &#233; &#x263A; &nbsp;&lt;tag&gt;</p>"
            "<table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table>")
    assert html_to_text(html) == "café é ☺ \xa0<tag>\n\nk | v\n1 | 2"


@pytest.mark.parametrize("html", ["", "   ", "<p></p>", "<img src=x>"])
def test_empty_content_is_empty_text(html):
    assert html_to_text(html) == ""


def test_bare_text_and_control_characters():
    assert html_to_text("plain &amp; simple\x00\x07 text") == "plain & simple text"


def test_real_bodies_leave_no_tag_and_no_entity():
    files = sorted((CORPUS / "stackexchange").glob("*.Posts.xml"))
    if not files:
        pytest.skip(f"real corpus samples not found at {CORPUS / 'stackexchange'}")
    bodies = [el.get("Body") or "" for path in files
              for _, el in etree.iterparse(str(path), tag="row")]
    assert len(bodies) > 2000
    code_blocks = 0
    for body in bodies:
        text = html_to_text(body)
        assert not re.search(r"</?(?:p|a|code|pre|li|ul|ol|blockquote|strong|em|br|img)\b", text)
        assert not re.search(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", text), body[:200]
        code_blocks += "<pre" in body
    assert code_blocks > 0
