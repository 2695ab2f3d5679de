from __future__ import annotations

import pytest

from llama_data.text.wikitext import WikitextCleaner, is_redirect, strip_nested

clean = WikitextCleaner(("File", "Image", "Datei", "Bild"), ("Category", "Kategorie")).clean


@pytest.mark.parametrize("wikitext, expected", [
    ("'''Bold''' and ''italic''", "Bold and italic"),
    ("see [[Target page|the anchor]] and [[plain]]s", "see the anchor and plains"),
    ("[[Target#Section|shown]] [[#Local]]", "shown Local"),
    ("x{{Infobox river | name = {{lang|de|Rhein}} | map = [[File:R.png]] }}y", "xy"),
    ("before<ref name=\"a\">{{cite book|title=T}}</ref> after<ref name=\"a\" />.", "before after."),
    ("keep <!-- a hidden\nmulti-line comment --> this", "keep this"),
    ("a [[File:X.jpg|thumb|A caption with [[a link]]]] b", "a b"),
    ("a [[Datei:X.jpg|mini|Bild]] [[Bild:Y.png]] b", "a b"),
    ("text\n[[Category:Rivers]]\n[[Kategorie:Flüsse]]", "text"),
    ("text [[de:Rhein]] [[fr:Rhin]] [[zh-yue:萊茵河]]", "text"),
    ("see [[:Category:Rivers]]", "see Category:Rivers"),
    ("a\n{| class=\"wikitable\"\n|-\n! h1 !! h2\n|-\n| c1 || {{tpl}}\n|}\nb", "a\n\nb"),
    ("== History ==\nText.\n=== Early [[years]] ===\nMore.", "History\n\nText.\n\nEarly years\n\nMore."),
    ("a<br />b <small>small</small> <span style=\"x\">span</span>", "a\nb small span"),
    ("[https://example.org Example site] and [https://example.org/x]", "Example site and"),
    ("x&nbsp;y &ndash; &#65;&#x42;", "x y – AB"),
    ("__NOTOC__\nText", "Text"),
    ("a <math>x^2</math> b <gallery>\nA.jpg|c\n</gallery> c", "a b c"),
    ("a <nowiki>[[not a link]]</nowiki> b <nowiki>'</nowiki>s", "a b 's"),
    ("* one\n* two\n# three", "one\ntwo\nthree"),
    ("word ({{lang|grc|x}}; {{IPA|y}}) more", "word more"),
    ("Dnipro (Greek: Borysthenes, {{lang|grc|x}}) flows", "Dnipro (Greek: Borysthenes) flows"),
    ("name ({{IPA|x}}, born 1900) and", "name (born 1900) and"),
    # a table indented by a definition list, as MediaWiki accepts it (":" before "{|")
    ("a\n: {| style=\"width:50%\"\n|-\n| c1 || c2\n|}\nb", "a\n\nb"),
    ("a\n:: \t{|\n| c1\n  |}\nb", "a\n\nb"),
    ("a {| b |} c", "a {| b |} c"),  # not at a line start: text
    ("x: {| y\nz", "x: {| y\nz"),  # not after an indent alone: text
    # a link target broken across lines: its label, or its title
    ("see [[Target\n|the label]] and [[Other\npage]] too", "see the label and Other page too"),
    ("a [[File:X.jpg\n|thumb|caption]] [[Category:Y\n]] b", "a b"),
])
def test_markup_becomes_plain_text(wikitext, expected):
    assert clean(wikitext) == expected


def test_unclosed_template_is_dropped_to_the_end():
    assert strip_nested("keep {{unclosed | [[x]]") == "keep "
    assert strip_nested("a {{b {{c}} d}} e }} f") == "a  e }} f"


def test_redirects_in_any_language():
    assert is_redirect("#REDIRECT [[Target]]")
    assert is_redirect("#WEITERLEITUNG [[Ziel]]")
    assert is_redirect("  #перенаправление [[Цель]]")
    assert not is_redirect("# a numbered list item")


# An article written for this test: a definition-list table and links broken across lines, as met
# in a real dump; the expected text is worked out by hand from what a reader sees on the page.
ARTICLE = """'''Riverton''' is a town.<ref>{{cite web|url=http://x.org}}</ref>

== Climate ==
The climate is mild.
: {| class="wikitable" style="text-align:center; width:60%"
|+ Monthly means
|-
! Month !! Jan !! Feb
|-
| High || 5 || 7
|-
| Low || {{convert|-2|C}} || −1
|}
Snow falls in [[Winter
|the cold months]], mostly on the [[Riverton
Hills]].
[[Category:Towns
]]"""

ARTICLE_TEXT = """Riverton is a town.

Climate

The climate is mild.

Snow falls in the cold months, mostly on the Riverton Hills."""


def test_indented_table_and_broken_links_in_an_article():
    assert clean(ARTICLE) == ARTICLE_TEXT
