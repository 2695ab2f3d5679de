from __future__ import annotations

import json

import pytest

from llama_data import manifest
from llama_data.errors import ReleaseError
from llama_data.shards import ShardInfo


def entry(read=10, kept=6, dropped=None, unreadable=None) -> manifest.SourceEntry:
    funnel = manifest.Funnel(read=read, kept=kept, dropped=dropped or {"f:too_short": 3},
                             unreadable=unreadable or {"malformed_xml": 1})
    shards = [ShardInfo("part-00000-000.arrow", 6, 600, 300, "ab" * 32)]
    return manifest.SourceEntry(shards, funnel, {"min_words": 20}, manifest.versions())


def test_funnel_from_counter_names():
    funnel = manifest.Funnel.from_counts(
        {"read": 7, "kept": 4, "dropped/article:redirect": 2, "unreadable/invalid_encoding": 1,
         "dropped/min_words:empty": 0})
    assert funnel == manifest.Funnel(7, 4, {"article:redirect": 2}, {"invalid_encoding": 1})
    funnel.check()


def test_an_unbalanced_funnel_is_refused(tmp_path):
    with pytest.raises(ReleaseError, match="does not balance"):
        manifest.Funnel(read=10, kept=6, dropped={"x": 3}).check()
    with pytest.raises(ReleaseError):
        manifest.update_source(str(tmp_path), "wikipedia", entry(read=11))
    assert not (tmp_path / "manifest.json").exists()


def test_update_keeps_other_sources_and_round_trips(tmp_path):
    manifest.update_source(str(tmp_path), "wikipedia", entry())
    manifest.update_source(str(tmp_path), "c4", entry(read=20, kept=16))
    loaded = manifest.load(str(tmp_path))
    assert sorted(loaded.sources) == ["c4", "wikipedia"]
    assert loaded.sources["c4"].funnel.read == 20
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["sources"]["wikipedia"]["documents"] == 6
    assert data["sources"]["wikipedia"]["versions"]["pyarrow"]
    assert data["sources"]["wikipedia"]["shards"][0]["sha256"] == "ab" * 32
    assert not list(tmp_path.glob("*.tmp-*"))


def test_missing_and_corrupt_manifests_are_clear_errors(tmp_path):
    with pytest.raises(ReleaseError, match="no manifest.json"):
        manifest.load(str(tmp_path))
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ReleaseError, match="corrupt manifest"):
        manifest.load(str(tmp_path))
    (tmp_path / "manifest.json").write_text('{"format": "something-else"}')
    with pytest.raises(ReleaseError, match="not a llama-data manifest"):
        manifest.load(str(tmp_path))


def test_render_shows_the_funnel_by_reason(tmp_path):
    manifest.update_source(str(tmp_path), "wikipedia", entry())
    text = manifest.render(str(tmp_path), manifest.load(str(tmp_path)))
    assert "wikipedia" in text
    assert "f:too_short" in text and "malformed_xml" in text
    assert "part-00000-000.arrow" in text


def test_a_failed_save_leaves_the_previous_manifest_and_no_temporary_file(tmp_path):
    manifest.update_source(str(tmp_path), "wikipedia", entry())
    before = (tmp_path / "manifest.json").read_bytes()
    bad = entry()
    bad.config["not json"] = object()
    with pytest.raises(TypeError):
        manifest.update_source(str(tmp_path), "c4", bad)
    assert (tmp_path / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "README.md", "manifest.json"]
