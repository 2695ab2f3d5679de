from __future__ import annotations

import collections

import pytest
from conftest import CORPUS
from test_stackexchange_reader import posts_xml, read, row

from llama_data.document import Document
from llama_data.filters import Rejected, run_steps
from llama_data.sources.stackexchange import (
    IsQuestion,
    RenderThread,
    answer_order,
    join_thread,
    thread_key,
)

QUESTION_HTML = ("<p>How do I compare &amp; sort?</p>\n<pre><code>if a &lt; b:\n    swap()\n"
                 "</code></pre>\n<ul><li>fast</li><li>stable</li></ul>\n"
                 "<blockquote><p>a quote</p></blockquote>")
# Answers in file order; by score as numbers the thread reads 20 (10, lower id), 22 (10), 21 (9),
# 23 (-1). Sorted as strings, highest first, "9" would come before "10" and "-1".
ANSWERS = [(21, 9), (22, 10), (23, -1), (20, 10)]


def thread_posts(tmp_path) -> list[Document]:
    rows = [row(10, Title="Sorting & you", Tags="|python|sort|", Score=5, AnswerCount=4,
                ContentLicense="CC BY-SA 4.0", Body=QUESTION_HTML)]
    rows += [row(i, 2, ParentId=10, Score=s, Body=f"<p>answer {i} &gt; score {s}</p>")
             for i, s in ANSWERS]
    rows += [row(30, 2, ParentId=99, Score=1), row(40, 5, Body="<p>tag wiki</p>")]
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_text(posts_xml(rows), "utf-8")
    docs, errors = read(path)
    assert errors == []
    return docs


def threads(posts: list[Document]) -> tuple[list[Document], int]:
    """What the pipeline's keyed grouping does, in memory, for a test."""
    groups = collections.defaultdict(list)
    for post in posts:
        groups[thread_key(post)].append(post)
    out, merged = [], 0
    for key in sorted(groups):
        docs, n = join_thread(groups[key])
        out += docs
        merged += n
    return out, merged


def test_thread_reads_question_then_answers_by_numeric_score(tmp_path):
    docs, merged = threads(thread_posts(tmp_path))
    assert merged == 4
    results = [run_steps(d, [IsQuestion(), RenderThread()]) for d in docs]
    kept = [r for r in results if not isinstance(r, Rejected)]
    assert sorted(r.reason for r in results if isinstance(r, Rejected)) == [
        "post:orphan_answer", "post:tag_wiki"]
    (thread,) = kept
    assert thread.text == (
        "Q: Sorting & you\n\n"
        "How do I compare & sort?\n\nif a < b:\n    swap()\n\n- fast\n- stable\n\n> a quote\n\n"
        "A: answer 20 > score 10\n\nA: answer 22 > score 10\n\nA: answer 21 > score 9\n\n"
        "A: answer 23 > score -1")
    assert thread.meta == {"site": "s.stackexchange.com", "question_id": 10, "score": 5,
                           "tags": ["python", "sort"], "license": "CC BY-SA 4.0",
                           "answer_count": 4}
    assert thread.id == "stackexchange/s.stackexchange.com/10"
    assert thread.url == "https://s.stackexchange.com/q/10"


def test_string_order_would_differ():
    answers = [{"post_id": i, "score": str(s)} for i, s in ANSWERS]
    by_number = [a["post_id"] for a in sorted(answers, key=answer_order)]
    by_string = [a["post_id"] for a in sorted(answers, key=lambda a: a["score"], reverse=True)]
    assert by_number == [20, 22, 21, 23]
    assert by_string[0] == 21 and by_number != by_string


def test_join_thread_keeps_raw_bodies_in_post_id_order(tmp_path):
    posts = thread_posts(tmp_path)
    question_and_answers = [p for p in posts if p.meta["post_id"] in (10, 20, 21, 22, 23)]
    (question,), merged = join_thread(reversed(question_and_answers))
    assert merged == 4
    assert [a["post_id"] for a in question.meta["answers"]] == [20, 21, 22, 23]
    assert question.meta["answers"][0] == {"post_id": 20, "score": 10,
                                           "body": "<p>answer 20 &gt; score 10</p>"}
    assert question.text == QUESTION_HTML


def test_join_thread_without_question_returns_orphans_unchanged(tmp_path):
    answers = [p for p in thread_posts(tmp_path) if p.meta["post_type"] == "answer"]
    docs, merged = join_thread(answers)
    assert docs == answers and merged == 0


def test_join_thread_passes_other_post_types_through(tmp_path):
    wiki = [p for p in thread_posts(tmp_path) if p.meta["post_type"] == "tag_wiki"]
    assert join_thread(wiki) == (wiki, 0)


@pytest.mark.parametrize("post_type, verdict", [
    ("question", True), ("answer", (False, "orphan_answer")),
    ("tag_wiki_excerpt", (False, "tag_wiki_excerpt")), ("type_99", (False, "type_99"))])
def test_is_question(post_type, verdict):
    doc = Document(id="x", text="", source="stackexchange", meta={"post_type": post_type})
    assert IsQuestion().filter(doc) == verdict


def test_question_without_answers_renders_title_and_body(tmp_path):
    question = next(p for p in thread_posts(tmp_path) if p.meta["post_id"] == 10)
    (joined,), merged = join_thread([question])
    rendered = RenderThread().map(joined)
    assert merged == 0 and rendered.meta["answer_count"] == 0
    assert rendered.text.startswith("Q: Sorting & you\n\nHow do I compare & sort?")
    assert "A:" not in rendered.text


def test_real_dumps_every_answer_merged_or_orphaned():
    files = sorted((CORPUS / "stackexchange").glob("*.Posts.xml"))
    if not files:
        pytest.skip(f"real corpus samples not found at {CORPUS / 'stackexchange'}")
    for path in files:
        posts, errors = read(path)
        assert errors == []
        by_type = collections.Counter(p.meta["post_type"] for p in posts)
        docs, merged = threads(posts)
        kept = [d for d in docs if IsQuestion().filter(d) is True]
        orphans = sum(d.meta["post_type"] == "answer" for d in docs)
        assert merged + orphans == by_type["answer"] and len(kept) == by_type["question"]
        rendered = [RenderThread().map(d) for d in kept]
        assert sum(r.meta["answer_count"] for r in rendered) == merged
        for doc in rendered:
            assert doc.text.startswith("Q: ") and "<p>" not in doc.text
            assert doc.text.count("\n\nA: ") >= doc.meta["answer_count"]
